"""``boto-sso-oidc login`` and the commands' shared behaviour: help, usage errors, exit codes."""

from __future__ import annotations

import subprocess
import time

import pytest

from .cli_helpers import CLI, SECOND_SESSION, one_line, run_cli
from .conftest import REPO, age_token, read_json, subprocess_env, token_file

COMMANDS = ["login", "logout", "status", "list", "export", "credential-process", "demo"]


def test_login_runs_the_device_flow_without_a_terminal(sso_emulator):
    """An explicit login is always allowed: the URL and code go to stderr, one summary line last."""
    result = run_cli(sso_emulator, "login", "--profile", "dev")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "/device?user_code=" in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('sso-session "emulator" (https://emulator.awsapps.com/start): '
                           "the access token expires ")
    assert "refreshed automatically" in last
    token = read_json(token_file(sso_emulator.home, "emulator"))
    assert token["accessToken"] not in result.stderr
    assert token["refreshToken"] not in result.stderr


def test_login_by_sso_session_name(sso_emulator):
    sso_emulator.write_config(SECOND_SESSION, append=True)
    result = run_cli(sso_emulator, "login", "--sso-session", "other")
    assert result.returncode == 0, result.stderr
    assert token_file(sso_emulator.home, "other").exists()
    assert not token_file(sso_emulator.home, "emulator").exists()


def test_login_uses_aws_profile_by_default(sso_emulator):
    result = run_cli(sso_emulator, "login")  # the fixture sets AWS_PROFILE=dev
    assert result.returncode == 0, result.stderr
    assert token_file(sso_emulator.home, "emulator").exists()


@pytest.mark.sso_emulator(auto_approve=False)
def test_denied_login_is_one_line_and_exit_1(sso_emulator):
    proc = subprocess.Popen([*CLI, "login", "--profile", "dev"], env=subprocess_env(sso_emulator),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO)
    try:
        deadline = time.monotonic() + 30
        while not sso_emulator.pending():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        sso_emulator.deny(sso_emulator.pending()[0])
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert stdout == ""
    assert stderr.strip().splitlines()[-1].startswith("boto-sso-oidc login: ")
    assert "denied" in stderr.strip().splitlines()[-1].lower()
    assert not token_file(sso_emulator.home, "emulator").exists()


def test_login_config_error_names_the_profile(sso_emulator):
    result = run_cli(sso_emulator, "login", "--profile", "missing")
    assert result.returncode == 1
    assert 'Profile "missing" is not defined' in one_line(result.stderr)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_exit_codes(command):
    result = subprocess.run([*CLI, command, "--help"], capture_output=True, text=True, timeout=30,
                            cwd=REPO)
    assert result.returncode == 0
    assert "Exit codes:" in result.stdout


@pytest.mark.parametrize("args", [
    ["login", "--profile", "a", "--sso-session", "b"],
    ["logout", "--all", "--profile", "a"],
    ["export", "--format", "yaml"],
    ["list", "--bogus"],
    ["nonsense"],
    [],
])
def test_usage_errors_exit_2(args):
    result = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=30, cwd=REPO)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "usage:" in result.stderr


def test_login_on_a_valid_session_makes_no_call_and_says_until_when(sso_emulator):
    assert run_cli(sso_emulator, "login", "--profile", "dev").returncode == 0
    before = sso_emulator.calls()
    result = run_cli(sso_emulator, "login", "--profile", "dev")
    assert result.returncode == 0, result.stderr
    assert sso_emulator.calls() == before  # not one request
    line = one_line(result.stderr)
    assert "already logged in; the access token is valid until " in line
    assert "`--force` starts a new session" in line


def test_login_within_the_refresh_window_logs_in_as_before(sso_emulator):
    """Ten minutes left is inside the 15-minute refresh window: not "already logged in"."""
    from datetime import datetime, timedelta, timezone

    assert run_cli(sso_emulator, "login", "--profile", "dev").returncode == 0
    soon = datetime.now(timezone.utc) + timedelta(minutes=10)
    age_token(token_file(sso_emulator.home, "emulator"), expires_at=soon.strftime("%Y-%m-%dT%H:%M:%SZ"))
    before = sso_emulator.calls()["operations"]["StartDeviceAuthorization"]
    result = run_cli(sso_emulator, "login", "--profile", "dev")
    assert result.returncode == 0, result.stderr
    assert "already logged in" not in result.stderr
    assert sso_emulator.calls()["operations"]["StartDeviceAuthorization"] - before == 1


def test_login_force_signs_out_of_the_old_session_and_starts_a_new_one(sso_emulator):
    import botocore.session

    assert run_cli(sso_emulator, "login", "--profile", "dev").returncode == 0
    old = read_json(token_file(sso_emulator.home, "emulator"))
    before = sso_emulator.calls()
    result = run_cli(sso_emulator, "login", "--profile", "dev", "--force")
    assert result.returncode == 0, result.stderr
    after = sso_emulator.calls()
    assert after["operations"]["Logout"] - before["operations"]["Logout"] == 1, (result.stderr, before, after)
    assert after["operations"]["StartDeviceAuthorization"] - \
        before["operations"]["StartDeviceAuthorization"] == 1  # one new authorization
    new = read_json(token_file(sso_emulator.home, "emulator"))
    assert new["refreshToken"] != old["refreshToken"]
    oidc = botocore.session.Session().create_client("sso-oidc", region_name="us-east-1")
    with pytest.raises(oidc.exceptions.InvalidGrantException):  # the old session is over
        oidc.create_token(clientId=old["clientId"], clientSecret=old["clientSecret"],
                          grantType="refresh_token", refreshToken=old["refreshToken"])
