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
WINDOWS = sys.platform == "win32"

# A shell without job control starts background commands with SIGINT ignored, and an ignored
# signal stays ignored across exec: every process the tests start would then never see the
# Ctrl-C a signal test sends it (Python installs KeyboardInterrupt only where SIGINT is not
# ignored). Catching it here gives children the default disposition again.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "posix_only(reason): needs what Windows has not (fork, a pty, POSIX signals or "
        "modes, symlinks); skipped on Windows, with the reason")
    config.addinivalue_line(
        "markers", "windows_only(reason): a proof of Windows' own rules, run on Windows CPython "
        "(.ci/windows/run); skipped elsewhere")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for name, skipped in (("posix_only", WINDOWS), ("windows_only", not WINDOWS)):
            marker = item.get_closest_marker(name)
            if marker is None:
                continue
            if len(marker.args) != 1 or not str(marker.args[0]).strip():
                raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.{name} takes the reason")
            if skipped:
                where = "POSIX" if name == "posix_only" else "Windows"
                item.add_marker(pytest.mark.skip(reason=f"{where} only: {marker.args[0]}"))


# -- owner-only files, on each platform's terms -------------------------------------------------

# SDDL names of everyone who is not the user, SYSTEM or Administrators.
_OTHERS = ("WD", "BU", "AU", "IU", "AN", "BG")


def assert_owner_only(path: Path) -> None:
    """``path`` is its owner's alone: mode 0600 (0700 for a directory) on POSIX; on Windows an
    ACL with an entry for the user and none for anyone else but SYSTEM and Administrators."""
    import stat

    if WINDOWS:
        from boto_sso_oidc_provider._platform import owner_only_acl

        acl = owner_only_acl(path) or ""
        trustees = [ace.split(";")[-1] for ace in acl[acl.find("(") + 1:].rstrip(")").split(")(")]
        assert not set(trustees) & set(_OTHERS), f"{path}: {acl}"
        assert any(trustee.startswith("S-1-5-21-") for trustee in trustees), f"{path}: {acl}"
    else:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode == (0o700 if os.path.isdir(path) else 0o600), f"{path}: {oct(mode)}"


# -- no test writes outside its temporary home ------------------------------------------------

def _aws_home_snapshot() -> dict[str, tuple[int, int]]:
    """Every file under the ~/.aws of the user running the tests (the home the AWS CLI and
    botocore read on this platform: USERPROFILE on Windows, HOME elsewhere), with its size and
    modification time."""
    root = Path(os.path.expanduser("~")) / ".aws"
    found: dict[str, tuple[int, int]] = {}
    for directory, _, files in os.walk(root):
        found[directory] = (0, 0)
        for name in files:
            path = os.path.join(directory, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            found[path] = (info.st_size, info.st_mtime_ns)
    return found


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_AWS_HOME] = _aws_home_snapshot()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller checks once
        return
    before = session.config.stash.get(_AWS_HOME, None)
    if before is None:
        return
    after = _aws_home_snapshot()
    changed = sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))
    if changed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = ("tests wrote outside their temporary home, into the ~/.aws of the user running "
                   "them: " + ", ".join(changed))
        if reporter is not None:
            reporter.write_line(message, red=True)
        else:
            print(message, file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_AWS_HOME = pytest.StashKey[dict[str, tuple[int, int]]]()


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
    for name in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"):
        monkeypatch.delenv(name, raising=False)
    if WINDOWS:  # Windows always has a screen: as a person come in over SSH, the tests have none
        monkeypatch.setenv("SSH_CONNECTION", "127.0.0.1 50000 127.0.0.1 22")
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


def set_home(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Make ``home`` this process's home as botocore and the AWS CLI find it on this platform
    (``HOME``; on Windows ``USERPROFILE`` too)."""
    from boto_sso_oidc_provider._platform import home_environment

    for name, value in home_environment(home).items():
        monkeypatch.setenv(name, value)


def home_env(home: Path) -> dict[str, str]:
    """The variables that make ``home`` a child process's home on this platform."""
    from boto_sso_oidc_provider._platform import home_environment

    return home_environment(home)


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
