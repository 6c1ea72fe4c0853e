"""Shared test helpers. The emulator fixture ``sso_emulator`` comes from the package's pytest plugin."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent

# A shell without job control starts background commands with SIGINT ignored, and an ignored
# signal stays ignored across exec: every process the tests start would then never see the
# Ctrl-C a signal test sends it (Python installs KeyboardInterrupt only where SIGINT is not
# ignored). Catching it here gives children the default disposition again.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _no_browser_and_no_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never open a browser; CI is decided per test, not by the machine running them.

    No display and no ``BROWSER`` either, so a login takes the device flow unless a
    test asks for the browser flow (through ``BROWSER``)."""
    monkeypatch.setenv("BOTO_SSO_OIDC_OPEN_BROWSER", "false")
    # This machine may be a container or an SSH session: where a test wants the remote login
    # chosen automatically, it says so (BOTO_SSO_OIDC_REMOTE_LOGIN=auto and the variables).
    monkeypatch.setenv("BOTO_SSO_OIDC_REMOTE_LOGIN", "false")
    for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY", "WSL_DISTRO_NAME", "WSL_INTEROP",
                 "BOTO_SSO_OIDC_USE_DEVICE_CODE", "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY",
                 "container", "REMOTE_CONTAINERS", "CODESPACES", "BOTO_SSO_OIDC_REDIRECT_PORT",
                 "BOTO_SSO_OIDC_TRUSTSTORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("BOTO_SSO_OIDC_AUTO_LOGIN", raising=False)
    monkeypatch.delenv("BOTO_SSO_OIDC_LOCK_TIMEOUT", raising=False)
    monkeypatch.delenv("BOTO_SSO_OIDC_ENABLED", raising=False)


@pytest.fixture
def auto_login(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolving credentials may log in (the fixture's emulator approves at once)."""
    monkeypatch.setenv("BOTO_SSO_OIDC_AUTO_LOGIN", "true")


@pytest.fixture
def global_install() -> Any:
    """install() for one test, always undone."""
    import boto_sso_oidc_provider as sso

    sso.install()
    yield
    sso.uninstall()


def requires(*modules: str) -> pytest.MarkDecorator:
    """Skip, saying which, when one of ``modules`` (an optional test extra) is not installed."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    return pytest.mark.skipif(bool(missing), reason=f"{', '.join(missing)} not installed (an "
                              "optional test dependency: pip install -e '.[test]')")


def token_file(home: Path, name: str) -> Path:
    """Where the AWS CLI v2 keeps the token of sso-session ``name`` (or legacy start URL)."""
    return home / ".aws" / "sso" / "cache" / f"{hashlib.sha1(name.encode()).hexdigest()}.json"


def read_json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    assert isinstance(data, dict)
    return data


def age_token(path: Path, *, expires_at: str = "2000-01-01T00:00:00Z") -> dict[str, Any]:
    """Move a cached token's expiry (into the past by default); returns the new content."""
    data = read_json(path)
    data["expiresAt"] = expires_at
    path.write_text(json.dumps(data))
    return data


def subprocess_env(emulator: Any, **extra: str) -> dict[str, str]:
    """The environment a child process needs to see the test's HOME, config and emulator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(emulator.env)
    env["BOTO_SSO_OIDC_OPEN_BROWSER"] = "false"
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def run_python(code: str, env: dict[str, str], timeout: float = 60,
               check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (no terminal: stdin is /dev/null, new session)."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"child failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result
