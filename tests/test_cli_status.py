"""``boto-sso-oidc status``: from the caches alone, no network, never a secret."""

from __future__ import annotations

import json

from .cli_helpers import SECOND_SESSION, login, one_line, run_cli, secrets_of
from .conftest import age_token, token_file


def _status(emulator, *args):
    return run_cli(emulator, "status", *args)


def test_not_logged_in(sso_emulator):
    result = _status(sso_emulator, "--profile", "dev", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["sso_sessions"][0]["state"] == "logged-out"
    assert report["profiles"][0]["role_credentials_expire_at"] is None
    assert one_line(result.stderr) == ('boto-sso-oidc status: profile "dev" needs a login: '
                                       "boto-sso-oidc login --profile dev")


def test_logged_in_with_role_credentials_and_no_secret_shown(sso_emulator):
    login()
    assert run_cli(sso_emulator, "credential-process", "--profile", "dev").returncode == 0
    calls = sso_emulator.calls()
    text = _status(sso_emulator, "--profile", "dev")
    as_json = _status(sso_emulator, "--profile", "dev", "--json")
    assert sso_emulator.calls() == calls  # no network
    assert text.returncode == as_json.returncode == 0
    report = json.loads(as_json.stdout)
    [session] = report["sso_sessions"]
    assert session["sso_session"] == "emulator" and session["state"] == "logged-in"
    assert session["refreshable"] is True
    assert session["access_token_expires_at"].endswith("Z")
    assert session["registration_expires_at"].endswith("Z")
    [profile] = report["profiles"]
    assert (profile["account_id"], profile["role_name"]) == ("111111111111", "AdministratorAccess")
    assert profile["role_credentials_valid"] is True
    assert "logged in: the access token expires" in text.stdout
    assert "role credentials: cached, expire" in text.stdout
    secrets = secrets_of(sso_emulator.home)
    assert len(secrets) >= 5
    for secret in secrets:
        assert secret not in text.stdout + text.stderr + as_json.stdout + as_json.stderr


def test_expired_but_refreshable(sso_emulator):
    login()
    age_token(token_file(sso_emulator.home, "emulator"))
    result = _status(sso_emulator, "--profile", "dev")
    assert result.returncode == 0
    assert "is refreshed on next use" in result.stdout


def test_expired_and_not_refreshable_needs_a_login(sso_emulator):
    login()
    path = token_file(sso_emulator.home, "emulator")
    data = age_token(path)
    del data["refreshToken"]
    path.write_text(json.dumps(data))
    result = _status(sso_emulator, "--profile", "dev", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["sso_sessions"][0]["state"] == "login-needed"


def test_without_a_profile_every_session_and_profile(sso_emulator):
    sso_emulator.write_config(SECOND_SESSION, append=True)
    login("ops")
    result = run_cli(sso_emulator, "status", "--json", AWS_PROFILE="")  # no profile named
    assert result.returncode == 0
    report = json.loads(result.stdout)
    states = {s["sso_session"]: s["state"] for s in report["sso_sessions"]}
    assert states == {"emulator": "logged-out", "other": "logged-in"}
    assert sorted(p["profile"] for p in report["profiles"]) == ["dev", "ops"]


def test_bad_config_is_one_line(sso_emulator):
    sso_emulator.write_config("[profile dev]\nsso_session = missing\nsso_account_id = 1\n"
                              "sso_role_name = R\n")
    result = _status(sso_emulator, "--profile", "dev")
    assert result.returncode == 1
    assert 'sso-session "missing"' in one_line(result.stderr)


def test_status_check_is_quiet_and_says_by_its_exit_code_whether_a_person_is_needed(sso_emulator):
    from boto_sso_oidc_provider import login

    from .cli_helpers import run_cli
    from .conftest import age_token, token_file

    no_token = run_cli(sso_emulator, "status", "--check", "--profile", "dev")
    assert (no_token.returncode, no_token.stdout, no_token.stderr) == (1, "", "")
    login("dev")
    valid = run_cli(sso_emulator, "status", "--check", "--profile", "dev")
    assert (valid.returncode, valid.stdout, valid.stderr) == (0, "", "")
    age_token(token_file(sso_emulator.home, "emulator"))  # expired, refreshable: no person needed
    for path in (sso_emulator.home / ".aws" / "cli" / "cache").glob("*.json"):
        path.unlink()
    refreshable = run_cli(sso_emulator, "status", "--check")
    assert (refreshable.returncode, refreshable.stdout, refreshable.stderr) == (0, "", "")
    sso_emulator.expire("refresh_tokens")  # the session ended at the service
    age_token(token_file(sso_emulator.home, "emulator"))
    for path in (sso_emulator.home / ".aws" / "cli" / "cache").glob("*.json"):
        path.unlink()
    ended = run_cli(sso_emulator, "status", "--check")
    assert (ended.returncode, ended.stdout, ended.stderr) == (1, "", "")


def test_status_of_every_profile_makes_no_botocore_session_per_profile(sso_emulator):
    """status reads caches: a config of 60 profiles costs no botocore session per profile (it made
    two each, about 8 ms apiece: 10 s for the 600 profiles of a generated organization)."""
    from boto_sso_oidc_provider.emulator import Directory

    from .conftest import run_python, subprocess_env

    sso_emulator.state.set_directory(Directory.synthetic(20, 3))
    login()
    assert run_cli(sso_emulator, "generate", "--sso-session", "emulator").returncode == 0
    counted = run_python("""
        import sys
        import botocore.session
        made = []
        original = botocore.session.Session.__init__
        def counting(self, *args, **kwargs):
            made.append(1)
            original(self, *args, **kwargs)
        botocore.session.Session.__init__ = counting
        from boto_sso_oidc_provider.cli import main
        code = main(["status", "--all"])
        print(f"sessions={len(made)} code={code}", file=sys.stderr)
    """, subprocess_env(sso_emulator), check=False)
    assert counted.stdout.count('\nprofile "') == 61, counted.stdout
    summary = counted.stderr.strip().splitlines()[-1]
    assert summary.endswith("code=0"), counted.stderr
    assert int(summary.split()[0].removeprefix("sessions=")) <= 2, summary
