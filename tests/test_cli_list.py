"""``boto-sso-oidc list``: every page of ListAccounts and ListAccountRoles."""

from __future__ import annotations

import json

import pytest

from .cli_helpers import login, one_line, run_cli, secrets_of

EXPECTED = [
    ("111111111111", ["AdministratorAccess", "ReadOnlyAccess"]),
    ("222222222222", ["AdministratorAccess", "ReadOnlyAccess"]),
]


@pytest.mark.sso_emulator(page_size=1, max_page_size=1)
def test_lists_every_page(sso_emulator):
    login()
    result = run_cli(sso_emulator, "list", "--profile", "dev", "--json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert listing["sso_session"] == "emulator"
    assert [(a["account_id"], a["roles"]) for a in listing["accounts"]] == EXPECTED
    assert listing["accounts"][0]["account_name"] == "Development"
    calls = sso_emulator.calls()["operations"]
    # one account or role per page: several pages of each listing were fetched
    assert calls["ListAccounts"] >= 2
    assert calls["ListAccountRoles"] >= 4


def test_text_output_and_no_secret(sso_emulator):
    login()
    result = run_cli(sso_emulator, "list", "--sso-session", "emulator")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("111111111111  Development")
    assert lines[1:3] == ["    AdministratorAccess", "    ReadOnlyAccess"]
    assert lines[3].startswith("222222222222  Production")
    for secret in secrets_of(sso_emulator.home):
        assert secret not in result.stdout + result.stderr


def test_expired_token_is_refreshed_first(sso_emulator):
    login()
    from .conftest import age_token, token_file

    age_token(token_file(sso_emulator.home, "emulator"))
    result = run_cli(sso_emulator, "list", "--json")
    assert result.returncode == 0, result.stderr
    assert sso_emulator.calls()["grants"]["refresh_token"] == 1


def test_a_revoked_token_is_renewed_once(sso_emulator):
    login()
    sso_emulator.expire("access_tokens")  # the cache still thinks it is valid
    result = run_cli(sso_emulator, "list", "--json")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["accounts"]) == 2
    assert sso_emulator.calls()["grants"]["refresh_token"] == 1


def test_not_logged_in_fails_at_once(sso_emulator):
    result = run_cli(sso_emulator, "list", "--profile", "dev", timeout=30)
    assert result.returncode == 1 and result.stdout == ""
    assert "boto-sso-oidc login --profile dev" in one_line(result.stderr)
