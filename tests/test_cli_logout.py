"""``boto-sso-oidc logout``: SSO Logout, and only that session's caches are removed."""

from __future__ import annotations

import json

from .cli_helpers import SECOND_SESSION, login, one_line, role_cache_files, run_cli
from .conftest import token_file

LEGACY = """
[profile legacy]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-east-1
sso_account_id = 222222222222
sso_role_name = AdministratorAccess
"""


def _two_sessions_with_credentials(emulator) -> None:
    emulator.write_config(SECOND_SESSION, append=True)
    login("dev")
    login("ops")
    for profile in ("dev", "ops"):
        assert run_cli(emulator, "credential-process", "--profile", profile).returncode == 0
    assert len(role_cache_files(emulator.home)) == 2


def _credentials_of(emulator, profile: str) -> dict:
    result = run_cli(emulator, "credential-process", "--profile", profile)
    return {"code": result.returncode, "stderr": result.stderr}


def test_logout_leaves_other_sessions_alone(sso_emulator):
    _two_sessions_with_credentials(sso_emulator)
    other_token = token_file(sso_emulator.home, "other")
    other_before = other_token.read_text()
    [kept] = [p for p in role_cache_files(sso_emulator.home)
              if json.loads(p.read_text())["Credentials"]["AccountId"] == "222222222222"]
    kept_before = kept.read_text()

    result = run_cli(sso_emulator, "logout", "--sso-session", "emulator")
    assert result.returncode == 0, result.stderr
    assert one_line(result.stderr) == 'Logged out of sso-session "emulator".'
    assert sso_emulator.calls()["operations"]["Logout"] == 1
    assert not token_file(sso_emulator.home, "emulator").exists()
    assert role_cache_files(sso_emulator.home) == [kept]
    assert kept.read_text() == kept_before and other_token.read_text() == other_before
    # dev now needs a login; ops still works from its cache
    assert _credentials_of(sso_emulator, "dev")["code"] == 1
    assert _credentials_of(sso_emulator, "ops")["code"] == 0


def test_logout_by_profile(sso_emulator):
    _two_sessions_with_credentials(sso_emulator)
    result = run_cli(sso_emulator, "logout", "--profile", "ops")
    assert result.returncode == 0, result.stderr
    assert not token_file(sso_emulator.home, "other").exists()
    assert token_file(sso_emulator.home, "emulator").exists()
    assert len(role_cache_files(sso_emulator.home)) == 1


def test_the_session_ends_at_the_service(sso_emulator):
    """After Logout the old refresh token is refused: a copy of the cache cannot come back."""
    login()
    path = token_file(sso_emulator.home, "emulator")
    saved = path.read_text()
    assert run_cli(sso_emulator, "logout").returncode == 0
    path.write_text(saved)
    result = run_cli(sso_emulator, "list", "--profile", "dev")
    assert result.returncode == 1
    assert "boto-sso-oidc login --profile dev" in one_line(result.stderr)


def test_logout_all_includes_legacy_start_urls(sso_emulator):
    _two_sessions_with_credentials(sso_emulator)
    sso_emulator.write_config(LEGACY, append=True)
    login("legacy")
    assert run_cli(sso_emulator, "credential-process", "--profile", "legacy").returncode == 0
    legacy_token = token_file(sso_emulator.home, "https://legacy.awsapps.com/start")
    assert legacy_token.exists()

    result = run_cli(sso_emulator, "logout", "--all")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        'Logged out of sso-session "emulator".',
        'Logged out of sso-session "other".',
        'Logged out of SSO start URL "https://legacy.awsapps.com/start".',
    ]
    assert not legacy_token.exists()
    assert not token_file(sso_emulator.home, "emulator").exists()
    assert role_cache_files(sso_emulator.home) == []
    assert sso_emulator.calls()["operations"]["Logout"] == 3


def test_logout_when_not_logged_in(sso_emulator):
    result = run_cli(sso_emulator, "logout", "--profile", "dev")
    assert result.returncode == 0
    assert "was not logged in" in one_line(result.stderr)
    assert sso_emulator.calls()["operations"]["Logout"] == 0


def test_logout_all_goes_on_past_a_broken_session(sso_emulator):
    login()
    sso_emulator.write_config("\n[sso-session broken]\nsso_start_url = https://b.awsapps.com/start\n",
                              append=True)
    result = run_cli(sso_emulator, "logout", "--all")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("boto-sso-oidc logout: ") and "sso_region" in lines[0]
    assert lines[1] == 'Logged out of sso-session "emulator".'
    assert not token_file(sso_emulator.home, "emulator").exists()
