"""``boto-sso-oidc generate``: every account and role as a profile, in a managed block, idempotent."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import botocore.configloader
import pytest

from boto_sso_oidc_provider.emulator import emulator_environment
from boto_sso_oidc_provider.organizations.generate import Assignment, normalise_profile_name, profile_names

from .cli_helpers import one_line, run_aws, run_cli
from .conftest import WINDOWS

ROLES = ["AdministratorAccess", "ReadOnlyAccess", "Billing"]
ACCOUNTS = [("111111111111", "Development"), ("222222222222", "Production"),
            ("333333333333", "Data & Analytics (EU) [ü]")]

USER_TEXT = """\
# My own settings: generate must never touch these lines.
[default]
region = eu-west-1   ; not a comment to botocore
  output=json

; the session the profiles come from
[sso-session corp]
sso_start_url = https://emulator.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
"""

AFTER_BLOCK = "\n# Written by hand after the block.\n[profile mine]\nregion = ap-south-1\n"


def write_state(path: Path, drop: tuple[str, str] | None = None) -> None:
    path.write_text(json.dumps({"accounts": [
        {"accountId": account_id, "accountName": name,
         "roles": [role for role in ROLES if (account_id, role) != drop]}
        for account_id, name in ACCOUNTS]}))


@contextlib.contextmanager
def state_emulator(state: Path) -> Iterator[str]:
    """``boto-sso-oidc emulator --state FILE`` as a process; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "boto_sso_oidc_provider", "emulator", "--auto-approve", "--interval", "0",
         "--state", str(state)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(20)
        assert process.stdout is not None
        process.stdout.close()


def profiles(config: Path) -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = botocore.configloader.load_config(str(config))["profiles"]
    return result


@pytest.mark.slow
def test_generate_every_account_and_role(tmp_path):
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True, mode=0o700)
    config = home / ".aws" / "config"
    config.write_text(USER_TEXT, newline="")  # these bytes, on every platform
    state = tmp_path / "state.json"
    write_state(state)
    with state_emulator(state) as url:
        me = SimpleNamespace(env={**emulator_environment(home, url), "AWS_PROFILE": "default"})
        assert run_cli(me, "login", "--sso-session", "corp").returncode == 0
        result = run_cli(me, "generate", "--sso-session", "corp", "--set", "output=json",
                         "--region", "eu-central-1")
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""
        assert "Wrote 9 profiles" in result.stderr
        text = config.read_text()
        assert text.startswith(USER_TEXT)  # byte for byte
        generated = {name: values for name, values in profiles(config).items() if name != "default"}
        assert sorted(generated) == sorted(
            f"{name}.{role}" for name in ("Development", "Production", "Data-Analytics-EU-u")
            for role in ROLES)
        assert generated["Data-Analytics-EU-u.Billing"] == {
            "sso_session": "corp", "sso_account_id": "333333333333", "sso_role_name": "Billing",
            "region": "eu-central-1", "output": "json"}
        # A generated profile works.
        exported = run_cli(me, "export", "--profile", "Production.ReadOnlyAccess", "--format", "process")
        assert exported.returncode == 0, exported.stderr

        # Hand-written text after the block, then a second run: a no-op, byte for byte, not even written.
        with config.open("a", newline="") as handle:  # these bytes, on every platform
            handle.write(AFTER_BLOCK)
        before, mtime = config.read_bytes(), config.stat().st_mtime_ns
        again = run_cli(me, "generate", "--sso-session", "corp", "--set", "output=json",
                        "--region", "eu-central-1")
        assert again.returncode == 0, again.stderr
        assert "Nothing to change" in again.stderr
        assert config.read_bytes() == before and config.stat().st_mtime_ns == mtime

    # The role disappears from the directory: its profile goes, nothing else changes.
    write_state(state, drop=("222222222222", "Billing"))
    with state_emulator(state) as url:
        me = SimpleNamespace(env={**emulator_environment(home, url), "AWS_PROFILE": "default"})
        # Within the directory cache's TTL, with the token it was listed with, nothing changes
        # until --refresh lists again.
        cached = run_cli(me, "generate", "--sso-session", "corp", "--set", "output=json",
                         "--region", "eu-central-1", "--dry-run")
        assert cached.returncode == 0 and cached.stdout == "", cached.stderr
        assert "From the directory cache" in cached.stderr
        # A new emulator knows no token: the cached one looks valid, so only --force logs in; the
        # new login (perhaps as someone else) lists again, without --refresh.
        assert run_cli(me, "login", "--force", "--sso-session", "corp").returncode == 0
        dry = run_cli(me, "generate", "--sso-session", "corp", "--set", "output=json",
                      "--region", "eu-central-1", "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert "From the directory cache" not in dry.stderr
        assert "-[profile Production.Billing]" in dry.stdout
        assert config.read_bytes() == before
        result = run_cli(me, "generate", "--sso-session", "corp", "--set", "output=json",
                         "--region", "eu-central-1", "--verbose")
        assert result.returncode == 0, result.stderr
        assert "0 added, 1 removed, 8 unchanged" in result.stderr
        assert "  removed Production.Billing" in result.stderr.splitlines()
    after = config.read_text()
    assert "Production.Billing" not in profiles(config)
    assert len(profiles(config)) == 10  # default, mine and eight generated
    assert after.startswith(USER_TEXT) and after.endswith(AFTER_BLOCK)
    assert before.decode().replace(
        "\n[profile Production.Billing]\nsso_session = corp\nsso_account_id = 222222222222\n"
        "sso_role_name = Billing\nregion = eu-central-1\noutput = json\n", "") == after


def test_generate_by_profile_and_with_a_template(sso_emulator):
    """--profile P takes P's sso-session; names follow --template; a name used outside the block
    is never taken over."""
    sso_emulator.write_config("[profile Production.AdministratorAccess]\nregion = x\n", append=True)
    result = run_cli(sso_emulator, "generate", "--profile", "dev", "--template",
                     "{sso_session}-{account_id}-{role_name}")
    # No login yet and no terminal: the one line says how to log in.
    assert result.returncode == 1
    assert "boto-sso-oidc login" in one_line(result.stderr)
    assert run_cli(sso_emulator, "login").returncode == 0
    result = run_cli(sso_emulator, "generate", "--profile", "dev", "--template",
                     "{sso_session}-{account_id}-{role_name}")
    assert result.returncode == 0, result.stderr
    assert "emulator-111111111111-ReadOnlyAccess" in profiles(sso_emulator.config_file)
    result = run_cli(sso_emulator, "generate", "--profile", "dev")
    assert result.returncode == 0, result.stderr
    names = profiles(sso_emulator.config_file)
    assert "emulator-111111111111-ReadOnlyAccess" not in names  # the block was rewritten
    assert names["Production.AdministratorAccess"] == {"region": "x"}
    assert names["Production.AdministratorAccess-222222222222"]["sso_role_name"] == "AdministratorAccess"


def test_generate_credential_process_profiles_serve_the_aws_cli_v1(sso_emulator):
    """--credential-process: beside each profile, [profile NAME-cli] whose credential_process line
    botocore splits, on this platform, into this installation's boto-sso-oidc (by absolute path:
    on Windows the .exe under C:\\Program Files, a path with a space) and NAME; the AWS CLI v1
    signs with it."""
    from botocore.compat import compat_shell_split

    assert run_cli(sso_emulator, "login").returncode == 0
    result = run_cli(sso_emulator, "generate", "--sso-session", "emulator", "--region", "eu-west-1",
                     "--set", "output=json", "--credential-process")
    assert result.returncode == 0, result.stderr
    names = profiles(sso_emulator.config_file)
    cli = names["Production.ReadOnlyAccess-cli"]
    assert set(cli) == {"credential_process", "region", "output"}
    assert (cli["region"], cli["output"]) == ("eu-west-1", "json")
    argv = compat_shell_split(cli["credential_process"])
    assert argv[1:] == ["credential-process", "--profile", "Production.ReadOnlyAccess"]
    assert Path(argv[0]).is_absolute() and Path(argv[0]).is_file()
    if WINDOWS:  # the Windows job installs the package as Windows' installer would
        assert argv[0].endswith(r"\Scripts\boto-sso-oidc.exe") and " " in argv[0], argv[0]
    assert len([name for name in names if name.endswith("-cli")]) == 4
    aws = run_aws(sso_emulator, "sts", "get-caller-identity", "--profile", "Production.ReadOnlyAccess-cli")
    assert aws.returncode == 0, aws.stderr
    arn = json.loads(aws.stdout)["Arn"]
    assert arn.startswith("arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_ReadOnlyAccess_"), arn


def test_bad_template_and_keys_are_usage_errors(sso_emulator):
    result = run_cli(sso_emulator, "generate", "--template", "{account}")
    assert result.returncode == 1
    assert "{account_name}" in one_line(result.stderr)
    result = run_cli(sso_emulator, "generate", "--set", "sso_role_name=x")
    assert result.returncode == 2


def test_names_are_normalised_and_collisions_resolved_deterministically():
    assert normalise_profile_name("Data & Analytics (EU) [ü]") == "Data-Analytics-EU-u"
    assert normalise_profile_name("Prod.Admin") == "Prod.Admin"
    items = [Assignment("222222222222", "Admin", "Team"), Assignment("111111111111", "Admin", "Team"),
             Assignment("333333333333", "Admin", "Other"), Assignment("444444444444", "Admin", "###")]
    names = profile_names(items)
    assert names == {
        items[0]: "Team.Admin-222222222222", items[1]: "Team.Admin-111111111111",
        items[2]: "Other.Admin", items[3]: "444444444444.Admin",  # nothing valid left: the id
    }
    assert profile_names(list(reversed(items))) == names  # order does not matter
    assert profile_names(items, taken={"Other.Admin"})[items[2]] == "Other.Admin-333333333333"


@pytest.mark.parametrize("template", ["{account_name:>9999999999}", "{account_name:.{account_id}}",
                                      "{account_name:>{role_name}}", "{account_name:d}"])
def test_a_template_that_would_ask_for_huge_or_impossible_names_is_refused(sso_emulator, template):
    """A width from the template or from the data (a nested field) is bounded before any name is made."""
    result = run_cli(sso_emulator, "generate", "--template", template)
    assert result.returncode == 1
    assert template in one_line(result.stderr)
    assert "BEGIN boto-sso-oidc" not in sso_emulator.config_file.read_text()


def test_a_bounded_format_spec_is_applied():
    item = Assignment("111111111111", "Admin", "Development")
    assert profile_names([item], template="{account_name:.3}-{role_name:_<7}") == {item: "Dev-Admin__"}
