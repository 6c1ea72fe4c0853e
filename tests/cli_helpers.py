"""Helpers for the command-line tests: run ``boto-sso-oidc`` as a real child process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from boto_sso_oidc_provider.emulator import sso_config

from .conftest import REPO, subprocess_env

CLI = [sys.executable, "-m", "boto_sso_oidc_provider"]

SECOND_SESSION = "\n" + sso_config(profile="ops", sso_session="other",
                                   start_url="https://other.awsapps.com/start",
                                   account_id="222222222222", role_name="ReadOnlyAccess")
"""A second sso-session and a profile using it, to append to the fixture's config."""


def console_script() -> Path | None:
    """The installed ``boto-sso-oidc`` script of this interpreter (``boto-sso-oidc.exe`` in its
    ``Scripts`` folder on Windows), if any."""
    from boto_sso_oidc_provider._platform import console_script_dirs, console_script_name

    for folder in console_script_dirs():
        script = Path(folder) / console_script_name("boto-sso-oidc")
        if script.is_file():
            return script
    found = shutil.which("boto-sso-oidc")
    return Path(found) if found else None


def run_cli(emulator: Any, *args: str, timeout: float = 60, **extra_env: str) \
        -> subprocess.CompletedProcess[str]:
    """``boto-sso-oidc ARGS`` in a fresh interpreter with no terminal (new session, stdin /dev/null)."""
    return subprocess.run(
        [*CLI, *args], env=subprocess_env(emulator, **extra_env), capture_output=True, text=True,
        timeout=timeout, stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO,
    )


def run_aws(emulator: Any, *args: str, timeout: float = 60, **extra_env: str) \
        -> subprocess.CompletedProcess[str]:
    """The AWS CLI (``python -m awscli``) with the installed ``boto-sso-oidc`` script on PATH,
    as a user's shell would run it; ``AWS_PROFILE`` is unset so ``--profile`` decides."""
    import importlib.util

    import pytest

    if importlib.util.find_spec("awscli") is None:
        pytest.skip("the AWS CLI v1 (awscli) is not installed (pip install -e '.[test]')")
    script = console_script()
    if script is None:
        pytest.skip("the boto-sso-oidc console script is not installed (pip install -e .)")
    env = subprocess_env(emulator, **extra_env)
    env["PATH"] = f"{script.parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("AWS_PROFILE", None)
    return subprocess.run([sys.executable, "-m", "awscli", *args], env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          start_new_session=True, cwd=REPO)


def one_line(stderr: str) -> str:
    """The single line of a failure; asserts there is exactly one."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def login(profile: str = "dev") -> None:
    """Log ``profile``'s session in, in this process (the fixture's emulator approves at once)."""
    from boto_sso_oidc_provider.sessions import login as token_login

    token_login(profile)


def role_cache_files(home: Path) -> list[Path]:
    directory = home / ".aws" / "cli" / "cache"
    return sorted(directory.glob("*.json")) if directory.is_dir() else []


def secrets_of(home: Path) -> list[str]:
    """Every token, secret and key cached under ``home`` (to check none is ever printed)."""
    found: list[str] = []
    for path in (home / ".aws").rglob("*.json"):
        data = json.loads(path.read_text())
        credentials = data.get("Credentials", {})
        for key in ("accessToken", "refreshToken", "clientSecret"):
            if isinstance(data.get(key), str):
                found.append(data[key])
        for key in ("SecretAccessKey", "SessionToken"):
            if isinstance(credentials.get(key), str):
                found.append(credentials[key])
    return found
