"""When the SSO session began and ends at the latest, and the warning before it ends (issue 17,
item 4).

The service never says when an Identity Center session ends, so this package records, beside
the token, when this machine's login began (the *login record*, see ``_session_end``); ``status``
shows it and the end it implies by ``boto_sso_oidc_session_duration`` (default 8 h, Identity
Center's default), and commands warn on stderr when that end is minutes away. Real CLI processes
against the emulator; the AWS CLI v2's refresh is botocore's own token provider.
"""

from __future__ import annotations

import datetime as _dt
import json

from boto_sso_oidc_provider._clock import format_timestamp, parse_timestamp

from .aws_cli_v2 import AwsCliV2
from .cli_helpers import login, run_cli, secrets_of
from .conftest import age_token, assert_owner_only, read_json, token_file


def _record_file(home):
    return token_file(home, "emulator").with_suffix(".login-record")


def _session(emulator, **env):
    result = run_cli(emulator, "status", "--profile", "dev", "--json", **env)
    assert result.returncode == 0, result.stderr
    [session] = json.loads(result.stdout)["sso_sessions"]
    return session


def _now():
    return _dt.datetime.now(_dt.timezone.utc)


def _age_record(home, seconds):
    """The record as if this machine's login had begun ``seconds`` earlier (same token)."""
    path = _record_file(home)
    record = read_json(path)
    began = parse_timestamp(record["sessionBeganAt"]) - _dt.timedelta(seconds=seconds)
    path.write_text(json.dumps({**record, "sessionBeganAt": format_timestamp(began)}))
    return format_timestamp(began)


def _expire_token(home):
    """The access token expired, as if its hour had passed: the record still describes it."""
    aged = age_token(token_file(home, "emulator"))
    path = _record_file(home)
    path.write_text(json.dumps({**read_json(path), "tokenExpiresAt": aged["expiresAt"]}))


def test_status_shows_when_this_machines_login_began_and_the_session_ends_at_the_latest(sso_emulator):
    before = _now().replace(microsecond=0)
    login()
    after = _now()
    record = _record_file(sso_emulator.home)
    assert_owner_only(record)
    saved = read_json(record)
    assert set(saved) == {"sessionBeganAt", "loginAt", "tokenExpiresAt"}  # no secret in it
    for secret in secrets_of(sso_emulator.home):
        assert secret not in record.read_text()

    session = _session(sso_emulator)
    began = parse_timestamp(session["session_began_at"])
    assert before <= began <= after
    assert session["session_duration"] == 8 * 3600
    assert parse_timestamp(session["session_ends_by"]) == began + _dt.timedelta(hours=8)
    text = run_cli(sso_emulator, "status", "--profile", "dev")
    assert "  SSO session: began " in text.stdout and "(this machine's login)" in text.stdout
    assert "at the latest (boto_sso_oidc_session_duration 8h 0m;" in text.stdout

    shorter = _session(sso_emulator, BOTO_SSO_OIDC_SESSION_DURATION="3600")
    assert parse_timestamp(shorter["session_ends_by"]) == began + _dt.timedelta(hours=1)
    off = _session(sso_emulator, BOTO_SSO_OIDC_SESSION_DURATION="0")
    assert off["session_ends_by"] is None and off["session_began_at"] == session["session_began_at"]
    assert "its end is not estimated" in run_cli(
        sso_emulator, "status", "--profile", "dev", BOTO_SSO_OIDC_SESSION_DURATION="0").stdout


def test_a_refresh_here_keeps_the_sessions_start_and_a_token_another_tool_wrote_makes_it_unknown(
        sso_emulator):
    login()
    began = _session(sso_emulator)["session_began_at"]
    _expire_token(sso_emulator.home)
    refreshes = sso_emulator.calls()["grants"].get("refresh_token", 0)
    assert run_cli(sso_emulator, "credential-process", "--profile", "dev").returncode == 0
    assert sso_emulator.calls()["grants"]["refresh_token"] == refreshes + 1
    assert _session(sso_emulator)["session_began_at"] == began  # the same session, its new token

    # The AWS CLI v2 (botocore's own token provider) refreshes next: it may as well have logged in.
    _expire_token(sso_emulator.home)
    AwsCliV2(sso_emulator.home, "emulator", sso_emulator.start_url, sso_emulator.region,
             ["sso:account:access"]).refresh("dev")
    assert sso_emulator.calls()["grants"]["refresh_token"] == refreshes + 2
    session = _session(sso_emulator)
    assert (session["session_began_at"], session["session_ends_by"]) == (None, None)
    assert "SSO session: start unknown" in run_cli(sso_emulator, "status", "--profile", "dev").stdout


def test_a_login_inside_a_live_session_keeps_its_start_and_login_force_starts_anew(sso_emulator):
    login()
    earlier = _age_record(sso_emulator.home, 3 * 3600)  # began 3 h ago, still live by 8 h
    login()  # an explicit login without Logout joins that session: it ends when that one ends
    assert _session(sso_emulator)["session_began_at"] == earlier
    assert read_json(_record_file(sso_emulator.home))["loginAt"] > earlier

    result = run_cli(sso_emulator, "login", "--profile", "dev", "--force", "--no-browser")
    assert result.returncode == 0, result.stderr
    fresh = parse_timestamp(_session(sso_emulator)["session_began_at"])
    assert fresh > parse_timestamp(earlier) + _dt.timedelta(hours=2)

    # A session whose latest end has passed is over: the next login's record starts anew.
    _age_record(sso_emulator.home, 9 * 3600)
    login()
    assert parse_timestamp(_session(sso_emulator)["session_began_at"]) >= fresh


def test_logout_removes_the_record(sso_emulator):
    login()
    assert _record_file(sso_emulator.home).exists()
    assert run_cli(sso_emulator, "logout", "--profile", "dev").returncode == 0
    assert not _record_file(sso_emulator.home).exists()


def _ending_soon(home):
    """Make the session end, at the latest, 5 minutes from now (began 8 h less 5 min ago)."""
    return _age_record(home, 8 * 3600 - 300)


def test_credential_process_warns_on_stderr_minutes_before_the_end_and_keeps_stdout_json(sso_emulator):
    login()
    assert run_cli(sso_emulator, "credential-process", "--profile", "dev").returncode == 0
    quiet = run_cli(sso_emulator, "credential-process", "--profile", "dev")
    assert quiet.returncode == 0 and quiet.stderr == ""  # hours left: no warning

    _ending_soon(sso_emulator.home)
    for role_cache in ("warm", "full"):
        if role_cache == "full":  # no role credentials cached: the full path answers
            for path in (sso_emulator.home / ".aws" / "cli" / "cache").glob("*.json"):
                path.unlink()
        result = run_cli(sso_emulator, "credential-process", "--profile", "dev")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["Version"] == 1  # stdout: the JSON and nothing else
        [line] = result.stderr.splitlines()
        assert line.startswith('boto-sso-oidc: warning: The SSO session of sso-session "emulator" '
                               "ends by "), (role_cache, line)
        assert line.endswith("start a new session: boto-sso-oidc login --profile dev --force")
        for secret in secrets_of(sso_emulator.home):
            assert secret not in result.stderr

    # The same moment under another duration setting: hours away, or not estimated at all.
    for duration in ("86400", "0"):
        result = run_cli(sso_emulator, "credential-process", "--profile", "dev",
                         BOTO_SSO_OIDC_SESSION_DURATION=duration)
        assert (result.returncode, result.stderr) == (0, ""), duration


def test_export_and_list_warn_too_and_an_ended_session_is_not_announced_as_ending(sso_emulator):
    login()
    _ending_soon(sso_emulator.home)
    for args in (("export", "--profile", "dev"), ("list", "--profile", "dev")):
        result = run_cli(sso_emulator, *args)
        assert result.returncode == 0, result.stderr
        assert "warning: The SSO session of sso-session \"emulator\" ends by" in result.stderr, args
        assert "warning" not in result.stdout
    _age_record(sso_emulator.home, 600)  # its latest end is now 5 minutes past
    result = run_cli(sso_emulator, "credential-process", "--profile", "dev")
    assert (result.returncode, result.stderr) == (0, "")
