"""Windows CPython under wine, driven from Linux through a pseudo-terminal: wine makes it a Windows
console, so these are a person typing answers at a Windows prompt and pressing Ctrl-C (a console
control event, not a POSIX signal). The emulator runs on this side; wine's processes reach it on
127.0.0.1. Run by .ci/windows/run (step 2), which sets BOTO_SSO_OIDC_TEST_WINDOWS_ROOT to the
folder .ci/windows/setup made; skipped without it."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import botocore.configloader
import pytest

from boto_sso_oidc_provider.emulator._fixture import START_URL

from .conftest import subprocess_env, token_file
from .pty_helpers import Pty

ROOT = os.environ.get("BOTO_SSO_OIDC_TEST_WINDOWS_ROOT", "")
pytestmark = [
    pytest.mark.posix_only("drives wine from Linux"),
    pytest.mark.skipif(not ROOT, reason="needs Windows CPython under wine: run .ci/windows/run"),
]

PYTHON = r"C:\Program Files\Python313\python.exe"
EXE = r"C:\Program Files\Python313\Scripts\boto-sso-oidc.exe"

# wine gives every Windows process its own USERPROFILE (C:\users\<user>) whatever the Linux side
# says: a Windows parent sets the test's home, then runs the command in the same console. Ctrl-C
# reaches both; the parent only waits for its child and exits with the child's code.
_IN_HOME = ("import os, signal, subprocess, sys; signal.signal(signal.SIGINT, lambda *_: None); "
            "os.environ['USERPROFILE'] = os.environ['HOME'] = sys.argv[1]; "
            "sys.exit(subprocess.call(sys.argv[2:]))")


def winpath(path: Path) -> str:
    return "Z:" + str(path).replace("/", "\\")


class WinePty(Pty):
    """A Pty whose output is the text a Windows console shows: wine draws it with cursor moves
    (a space is ``ESC[1C``), which are turned back into text here."""

    def _read(self, wait: float) -> bool:
        before = len(self.output)
        alive = super()._read(wait)
        fresh = self.output[before:]
        fresh = re.sub(r"\x1b\[(\d*)C", lambda m: " " * int(m.group(1) or 1), fresh)
        fresh = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07", "", fresh)
        self.output = self.output[:before] + fresh.replace("\r", "")
        return alive

    def send(self, line: str) -> None:
        # wine's console switches the terminal to raw mode around each read: typed too early, the
        # Enter key reaches it as a line feed, which a Windows console read does not end on.
        time.sleep(0.5)
        super().send(line)


def _windows(emulator, home: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run ``boto-sso-oidc.exe ARGS`` on Windows in
    ``home``, against ``emulator``."""
    env = subprocess_env(emulator, BOTO_SSO_OIDC_OPEN_BROWSER="false")
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        env[name] = winpath(Path(env[name]))
    env.setdefault("WINEDEBUG", "-all")
    return ["wine", PYTHON, "-c", _IN_HOME, winpath(home), EXE, *args], env


@pytest.fixture
def empty_home(sso_emulator):
    (sso_emulator.home / ".aws" / "config").unlink()
    return sso_emulator


@pytest.mark.timeout(600)
def test_configure_with_answers_typed_at_the_windows_console(empty_home):
    """configure's prompts on a Windows console: typed answers, a login by device code, the
    pickers; then the config it wrote works, with a credential_process line botocore splits."""
    emulator = empty_home
    argv, env = _windows(emulator, emulator.home, "configure", "--use-device-code")
    term = WinePty(argv, env, timeout=180)
    try:
        term.expect(r"SSO start URL .*: ")
        term.send(START_URL)
        term.expect(r"SSO region \[us-east-1\]: ")
        term.send("")
        term.expect(r"SSO session name \[emulator\]: ")
        term.send("corp")
        term.expect(r"/device\?user_code=")
        term.expect(r"Number, or text to filter \(1-2\): ")
        term.send("prod")
        term.expect(r"Roles in 222222222222")
        term.expect(r"\(1-2\): ")
        term.send("2")
        term.expect(r"Profile name \[ReadOnlyAccess-222222222222\]: ")
        term.send("work")
        term.expect(r"Default region for the profile \[us-east-1\]: ")
        term.send("eu-west-1")
        term.expect(r"Default output format .*: ")
        term.send("json")
        term.expect(r"Turn the plugin on for sso-session corp[\s\S]*\[Y/n\]:")  # wrapped at 80 columns
        term.send("y")
        term.expect(r"Also write \[profile work-cli\][\s\S]*\[y/N\]:")
        term.send("y")
        term.expect(r"Wrote \[sso-session corp\], \[profile work\] and \[profile work-cli\]")
        assert term.wait() == 0, term.output
    finally:
        term.close()
    parsed = botocore.configloader.load_config(str(emulator.config_file))
    assert parsed["profiles"]["work"]["sso_account_id"] == "222222222222"
    assert parsed["sso_sessions"]["corp"]["boto_sso_oidc_enabled"] == "true"
    line = parsed["profiles"]["work-cli"]["credential_process"]
    from botocore.compat import compat_shell_split

    assert compat_shell_split(line, "win32") == [EXE, "credential-process", "--profile", "work"]


@pytest.mark.timeout(300)
@pytest.mark.sso_emulator(auto_approve=False)
def test_ctrl_c_at_the_windows_console_during_a_login_exits_130_and_keeps_the_cache(sso_emulator):
    """Ctrl-C while login waits for the person: a console control event; the command ends with
    exit code 130 and one line, and nothing is written."""
    argv, env = _windows(sso_emulator, sso_emulator.home, "login", "--use-device-code")
    term = WinePty(argv, env, timeout=180)
    try:
        term.expect(r"check that it shows the code")
        os.write(term.master, b"\x03")
        term.expect(r"was cancelled")
        assert term.wait() == 130, term.output
    finally:
        term.close()
    assert not token_file(sso_emulator.home, "emulator").exists()


@pytest.mark.timeout(300)
def test_exec_and_its_child_both_stop_on_ctrl_c_at_the_windows_console(sso_emulator, tmp_path):
    """exec on Windows: Ctrl-C reaches the command by itself (one console); exec waits for it
    and exits with its code, here a Python child's KeyboardInterrupt exit (130)."""
    from .cli_helpers import login

    login()
    child = ("import sys, time\ntry:\n    print('child ready', flush=True)\n    time.sleep(120)\n"
             "except KeyboardInterrupt:\n    print('child stopped', flush=True)\n    sys.exit(130)\n")
    argv, env = _windows(sso_emulator, sso_emulator.home, "exec", "--profile", "dev", "--", PYTHON,
                         "-c", child)
    term = WinePty(argv, env, timeout=180)
    try:
        term.expect(r"child ready")
        os.write(term.master, b"\x03")
        term.expect(r"child stopped")
        assert term.wait() == 130, term.output
    finally:
        term.close()


def test_wine_runs_the_installed_package():
    """The package on the Windows side is the installed one (site-packages under C:\\Program Files),
    not this checkout's source."""
    result = subprocess.run(["wine", PYTHON, "-c", "import boto_sso_oidc_provider as p; print(p.__file__)"],
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(r"C:\Program Files\Python313\Lib\site-packages"), result.stdout
