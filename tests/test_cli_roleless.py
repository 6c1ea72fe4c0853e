"""A profile that names only its sso-session (as ``aws configure sso`` can write) works for login and list."""

from __future__ import annotations

import json

from .cli_helpers import one_line, run_cli
from .conftest import token_file

ROLELESS = "\n[profile base]\nsso_session = emulator\nregion = eu-west-1\n"


def test_login_and_list_accept_a_profile_without_a_role(sso_emulator):
    sso_emulator.write_config(ROLELESS, append=True)
    result = run_cli(sso_emulator, "login", "--profile", "base")
    assert result.returncode == 0, result.stderr
    assert token_file(sso_emulator.home, "emulator").exists()
    result = run_cli(sso_emulator, "list", "--profile", "base", "--json")
    assert result.returncode == 0, result.stderr
    accounts = json.loads(result.stdout)["accounts"]
    assert [account["account_id"] for account in accounts] == ["111111111111", "222222222222"]


def test_credentials_for_a_profile_without_a_role_say_what_to_do(sso_emulator):
    sso_emulator.write_config(ROLELESS, append=True)
    assert run_cli(sso_emulator, "login", "--profile", "base").returncode == 0
    result = run_cli(sso_emulator, "export", "--profile", "base")
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert 'Profile "base"' in line
    assert "boto-sso-oidc list --profile base" in line or "boto-sso-oidc generate" in line
