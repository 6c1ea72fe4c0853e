"""This package's own settings, read one way everywhere: the warm path of ``credential-process``
and ``export`` refuses what boto3, ``login`` and ``status`` refuse, with the same line naming the
section the bad key is in; the profile's ``boto_sso_oidc_enabled`` wins over its sso-session's;
a misspelled key is a warning naming the setting it misspells."""

from __future__ import annotations

import json

import pytest

from boto_sso_oidc_provider.config import _settings
from boto_sso_oidc_provider.emulator import sso_config

from .cli_helpers import one_line, role_cache_files, run_aws, run_cli
from .conftest import run_python, subprocess_env

STS_CALL = """
import boto3
for _ in range({times}):
    print(boto3.Session(profile_name={profile!r}).client("sts").get_caller_identity()["Account"])
"""


def _with_line(config: str, section: str, line: str) -> str:
    """``config`` with ``line`` added as the first key of ``[section]``."""
    header = f"[{section}]\n"
    assert header in config
    return config.replace(header, f"{header}{line}\n", 1)


def _enabled(config: str) -> str:
    return _with_line(config, "sso-session emulator", "boto_sso_oidc_enabled = true")


def _boto3(emulator, profile: str = "dev", times: int = 1):
    """A plain boto3 program (no import of this package: the startup hook and the config decide)."""
    return run_python(STS_CALL.format(profile=profile, times=times), subprocess_env(emulator),
                      check=False)


BAD = {
    "auto_login on the profile": (
        "profile dev", "boto_sso_oidc_auto_login = flase",
        "Profile \"dev\": boto_sso_oidc_auto_login must be auto, true or false, not 'flase': did you "
        "mean false?"),
    "enabled on the sso-session": (
        "sso-session emulator", "boto_sso_oidc_enabled = ture",
        "sso-session \"emulator\" (used by profile \"dev\"): boto_sso_oidc_enabled must be true or "
        "false (yes/no, on/off and 1/0 are read too), not 'ture': did you mean true?"),
    "lock_timeout on the profile": (
        "profile dev", "boto_sso_oidc_lock_timeout = ten",
        "Profile \"dev\": boto_sso_oidc_lock_timeout must be a number of seconds or a duration such "
        "as 10m, not 'ten'."),
    "old name on the sso-session": (
        "sso-session emulator", "sso_lock_timeout = -5",
        "sso-session \"emulator\" (used by profile \"dev\"): sso_lock_timeout must be a number of "
        "seconds or a duration such as 10m, not '-5'."),
    "session_duration beyond Identity Center's longest": (
        "sso-session emulator", "boto_sso_oidc_session_duration = 1e12",
        "sso-session \"emulator\" (used by profile \"dev\"): boto_sso_oidc_session_duration must be a "
        "number of seconds or a duration such as 8h or 12h 30m, from 0 to 90 days (the longest "
        "session IAM Identity Center allows), not '1e12'."),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_value_is_refused_by_every_path_with_warm_caches(case, sso_emulator):
    """Role credentials cached (the warm path could answer): credential-process, export, boto3,
    login and status all refuse the value with the same line, naming the section it is in."""
    section, line, message = BAD[case]
    good = _enabled(sso_config())
    sso_emulator.write_config(good)
    assert run_cli(sso_emulator, "login", "--profile", "dev").returncode == 0
    warm = run_cli(sso_emulator, "credential-process", "--profile", "dev")
    assert warm.returncode == 0, warm.stderr
    assert len(role_cache_files(sso_emulator.home)) == 1
    bad = _with_line(good, section, line)
    if "enabled" in line:
        bad = bad.replace("boto_sso_oidc_enabled = true\n", "")
    sso_emulator.write_config(bad)
    for command in (["credential-process", "--profile", "dev"], ["export", "--profile", "dev"],
                    ["login", "--profile", "dev"], ["status", "--profile", "dev"]):
        result = run_cli(sso_emulator, *command)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert result.stdout == ""
        assert message in one_line(result.stderr), command
    program = _boto3(sso_emulator)
    assert program.returncode != 0 and message in program.stderr, program.stderr


def test_the_settings_parse_as_the_documentation_says():
    assert _settings.parse("auto_login", "k", " AUTO ") == "auto"
    assert _settings.parse("auto_login", "k", "yes") == "true"
    assert _settings.parse("open_browser", "k", "Off") is False
    assert _settings.parse("lock_timeout", "k", "2.5") == 2.5
    assert _settings.parse("session_duration", "k", "7776000") == 90 * 86400
    for setting, raw in (("lock_timeout", "nan"), ("lock_timeout", "-1"), ("enabled", "ture"),
                         ("use_device_code", ""), ("session_duration", "7776001"),
                         ("session_duration", "nan")):
        with pytest.raises(_settings.SettingError):
            _settings.parse(setting, "k", raw)


def test_the_profiles_enabled_wins_over_its_sso_sessions(sso_emulator):
    """``true`` on the sso-session, ``false`` on profile dev: dev gets botocore's own SSO provider
    (no InvalidConfigError about the key differing), ops (same session) gets the plugin."""
    config = _with_line(_enabled(sso_config()), "profile dev", "boto_sso_oidc_enabled = false")
    config += "\n" + sso_config(profile="ops", account_id="222222222222",
                                role_name="ReadOnlyAccess").split("\n\n", 1)[1]
    sso_emulator.write_config(config)
    assert run_cli(sso_emulator, "login", "--profile", "dev").returncode == 0
    dev = _boto3(sso_emulator, "dev")
    assert dev.returncode == 0, dev.stderr
    assert dev.stdout.strip() == "111111111111"
    assert role_cache_files(sso_emulator.home) == []  # botocore keeps them in memory only
    ops = _boto3(sso_emulator, "ops")
    assert ops.returncode == 0, ops.stderr
    assert ops.stdout.strip() == "222222222222"
    assert len(role_cache_files(sso_emulator.home)) == 1  # the plugin's shared cache
    # The AWS CLI of this environment (its botocore gets the startup hook) agrees.
    cli = run_aws(sso_emulator, "sts", "get-caller-identity", "--profile", "dev", "--output", "json")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["Account"] == "111111111111"


MISSPELLED_CONFIG = _with_line(sso_config(), "sso-session emulator", "boto_sso_oidc_enable = true")
MISSPELLED = ("sso-session \"emulator\" has boto_sso_oidc_enable, which is not a setting of "
              "boto-sso-oidc-provider and is ignored: did you mean boto_sso_oidc_enabled?")


def test_a_misspelled_setting_is_a_warning_naming_the_setting(sso_emulator):
    """``boto_sso_oidc_enable = true``: a plain boto3 program warns once (two sessions), and
    botocore's own SSO is used, as the warning says."""
    sso_emulator.write_config(MISSPELLED_CONFIG)
    assert run_cli(sso_emulator, "login", "--profile", "dev").returncode == 0
    program = _boto3(sso_emulator, times=2)
    assert program.returncode == 0, program.stderr
    assert program.stdout.split() == ["111111111111", "111111111111"]
    assert program.stderr.count(MISSPELLED) == 1, program.stderr
    assert role_cache_files(sso_emulator.home) == []  # botocore's own provider served it


def test_credential_process_warns_about_a_misspelled_setting_and_still_answers(sso_emulator):
    sso_emulator.write_config(MISSPELLED_CONFIG)
    assert run_cli(sso_emulator, "login", "--profile", "dev").returncode == 0
    for _ in range(2):  # the second run has warm caches: still the warning (from the full path)
        result = run_cli(sso_emulator, "credential-process", "--profile", "dev")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["Version"] == 1
        assert MISSPELLED in result.stderr


@pytest.mark.parametrize("key, wanted, message", [
    ("sso_acount_id", "sso_account_id",
     'Profile "dev" is missing sso_account_id: it has sso_acount_id: rename it to sso_account_id '
     "in [profile dev]."),
    ("sso_sesion", "sso_session",
     'Profile "dev" has no IAM Identity Center settings: it has sso_sesion: rename it to '
     "sso_session in [profile dev]."),
])
def test_a_misspelled_aws_key_is_named(key, wanted, message, sso_emulator):
    sso_emulator.write_config(sso_config().replace(f"{wanted} =", f"{key} ="))
    # (login needs no account: a profile naming only its sso-session is enough there)
    commands = [["credential-process", "--profile", "dev"], ["export", "--profile", "dev"]]
    if wanted == "sso_session":
        commands.append(["login", "--profile", "dev"])
    for command in commands:
        result = run_cli(sso_emulator, *command)
        assert result.returncode == 1
        assert message in one_line(result.stderr), command
