"""``boto-sso-oidc configure``: from an empty HOME to a working profile, at a terminal and by flags."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import botocore.configloader
import pytest

import boto_sso_oidc_provider as sso

from .cli_helpers import CLI, console_script, one_line, run_aws, run_cli
from .conftest import REPO, subprocess_env
from .pty_helpers import Pty

START_URL = "https://emulator.awsapps.com/start"


@pytest.fixture
def empty_home(sso_emulator, monkeypatch):
    """The fixture's emulator, with no ~/.aws at all and no AWS_DEFAULT_REGION (a new machine:
    every region comes from the profiles configure writes)."""
    shutil.rmtree(sso_emulator.home / ".aws")
    sso_emulator.env.pop("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    return sso_emulator


def works(emulator, profile: str, account: str) -> None:
    """``aws sts get-caller-identity`` through the AWS CLI v1 (natively, and with credential_process
    through PROFILE-cli) and through boto3 with the plugin, all as ``account``."""
    for name in (profile, f"{profile}-cli"):
        result = run_aws(emulator, "sts", "get-caller-identity", "--profile", name, "--output", "json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["Account"] == account
    session = sso.session(profile_name=profile)
    assert session.client("sts").get_caller_identity()["Account"] == account


def test_configure_at_a_terminal(empty_home):
    """Prompts, a login, a numbered account picker filtered by typing, a role by number."""
    term = Pty([*CLI, "configure"], subprocess_env(empty_home), cwd=REPO)
    try:
        term.expect(r"SSO start URL .*: ")
        term.send("not a url")
        term.expect(r"must be an https:// URL")
        term.send(START_URL)
        term.expect(r"SSO region \[us-east-1\]: ")
        term.send("")
        term.expect(r"SSO session name \[emulator\]: ")
        term.send("corp")
        term.expect(r"/device\?user_code=")  # the login
        term.expect(r"Accounts:\n\s+1\) 111111111111  Development.*\n\s+2\) 222222222222  Production")
        term.expect(r"Number, or text to filter \(1-2\): ")
        term.send("prod")  # typing filters: one match is taken at once
        term.expect(r"-> 222222222222  Production")
        term.expect(r"Roles in 222222222222 \(Production\):\n\s+1\) AdministratorAccess\n"
                    r"\s+2\) ReadOnlyAccess")
        term.expect(r"\(1-2\): ")
        term.send("7")
        term.expect(r"7 is not in the list")
        term.send("2")
        term.expect(r"Profile name \[ReadOnlyAccess-222222222222\]: ")
        term.send("work")
        term.expect(r"Default region for the profile \[us-east-1\]: ")
        term.send("eu-west-1")
        term.expect(r"Default output format .*: ")
        term.send("jsn")
        term.expect(r"knows no output format 'jsn': use one of json, yaml, yaml-stream, text, table")
        term.send("json")
        term.expect(r"Turn the plugin on for sso-session corp \(boto_sso_oidc_enabled = true.*\[Y/n\]: ")
        term.send("")  # yes
        term.expect(r"Also write \[profile work-cli\] .*\[y/N\]: ")
        term.send("y")
        term.expect(r"Wrote \[sso-session corp\], \[profile work\] and \[profile work-cli\]")
        assert term.wait() == 0, term.output
    finally:
        term.close()
    config = empty_home.home / ".aws" / "config"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    parsed = botocore.configloader.load_config(str(config))
    assert parsed["sso_sessions"]["corp"] == {"sso_start_url": START_URL, "sso_region": "us-east-1",
                                              "sso_registration_scopes": "sso:account:access",
                                              "boto_sso_oidc_enabled": "true"}
    assert parsed["profiles"]["work"] == {"sso_session": "corp", "sso_account_id": "222222222222",
                                          "sso_role_name": "ReadOnlyAccess", "region": "eu-west-1",
                                          "output": "json"}
    assert parsed["profiles"]["work-cli"] == {
        "credential_process": f"{console_script()} credential-process --profile work",
        "region": "eu-west-1", "output": "json"}
    works(empty_home, "work", "222222222222")


FLAGS = ["configure", "--sso-session", "corp", "--sso-start-url", START_URL, "--sso-region", "us-east-1",
         "--account-id", "111111111111", "--role-name", "AdministratorAccess", "--profile", "dev2",
         "--region", "eu-west-1", "--credential-process"]


def test_configure_with_flags_only_and_no_terminal(empty_home):
    result = run_cli(empty_home, *FLAGS)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    works(empty_home, "dev2", "111111111111")
    # Once more: nothing to change, the same bytes.
    config = empty_home.home / ".aws" / "config"
    before = config.read_bytes()
    again = run_cli(empty_home, *FLAGS)
    assert again.returncode == 0, again.stderr
    assert "Already there" in again.stderr and config.read_bytes() == before


def _first_hour(emulator, script: Path) -> tuple[dict[str, str], subprocess.CompletedProcess[str]]:
    """``SCRIPT configure FLAGS`` from a shell whose PATH lacks the venv's bin, without
    AWS_DEFAULT_REGION (the environment of a new machine)."""
    env = subprocess_env(emulator)
    env.pop("AWS_PROFILE", None)
    assert "AWS_DEFAULT_REGION" not in env
    venv_bin = Path(sys.executable).parent
    env["PATH"] = os.pathsep.join(entry for entry in env.get("PATH", "").split(os.pathsep)
                                  if entry and Path(entry).resolve() != venv_bin.resolve())
    assert shutil.which("boto-sso-oidc", path=env["PATH"]) is None
    result = subprocess.run([str(script), *FLAGS], env=env, capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL, start_new_session=True)
    return env, result


def _aws_cli_accounts(env: dict[str, str], *profiles: str) -> list[str]:
    """The account ``aws sts get-caller-identity`` (the AWS CLI v1) returns for each profile."""
    accounts = []
    for profile in profiles:
        result = subprocess.run([sys.executable, "-m", "awscli", "sts", "get-caller-identity",
                                 "--profile", profile], env=env, capture_output=True, text=True,
                                timeout=60, stdin=subprocess.DEVNULL, start_new_session=True)
        assert result.returncode == 0, f"{profile}: {result.stderr}"
        accounts.append(json.loads(result.stdout)["Account"])
    return accounts


def test_the_first_hour_without_a_region_or_the_venv_on_path(empty_home):
    """configure by flags, then the AWS CLI through both profiles it wrote, on a machine with no
    AWS_DEFAULT_REGION and the venv's bin not on PATH: [profile NAME-cli] runs the helper by the
    absolute path of the executable that wrote it, and carries the profile's region."""
    script = console_script()
    if script is None:
        pytest.skip("the boto-sso-oidc console script is not installed (pip install -e .)")
    env, configure = _first_hour(empty_home, script)
    assert configure.returncode == 0, configure.stderr
    profiles = botocore.configloader.load_config(str(empty_home.config_file))["profiles"]
    assert profiles["dev2-cli"] == {
        "credential_process": f"{script} credential-process --profile dev2", "region": "eu-west-1"}
    assert _aws_cli_accounts(env, "dev2", "dev2-cli") == ["111111111111", "111111111111"]


def test_a_helper_path_with_spaces_is_quoted_for_the_aws_cli(empty_home, tmp_path):
    """The executable's directory has a space: the line is quoted as botocore splits it."""
    script = console_script()
    if script is None:
        pytest.skip("the boto-sso-oidc console script is not installed (pip install -e .)")
    spaced = tmp_path / "My Tools" / "boto-sso-oidc"
    spaced.parent.mkdir()
    spaced.symlink_to(script)
    env, configure = _first_hour(empty_home, spaced)
    assert configure.returncode == 0, configure.stderr
    line = botocore.configloader.load_config(str(empty_home.config_file))["profiles"]["dev2-cli"][
        "credential_process"]
    assert line == f"'{spaced}' credential-process --profile dev2"
    assert _aws_cli_accounts(env, "dev2-cli") == ["111111111111"]


def test_an_output_the_aws_cli_refuses_is_refused(empty_home):
    result = run_cli(empty_home, *FLAGS, "--output", "jsn")
    assert result.returncode == 2
    assert ("--output: The AWS CLI knows no output format 'jsn': use one of json, yaml, "
            "yaml-stream, text, table.") in result.stderr
    assert not empty_home.config_file.exists()
    assert empty_home.calls()["operations"]["StartDeviceAuthorization"] == 0


def test_without_a_terminal_a_missing_answer_fails_at_once_naming_the_flags(empty_home):
    began = time.monotonic()
    result = run_cli(empty_home, "configure", "--sso-start-url", START_URL)
    assert time.monotonic() - began < 30
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "no terminal to ask for the SSO region (--sso-region)" in line
    assert "boto-sso-oidc configure --sso-session NAME --sso-start-url URL" in line
    assert not (empty_home.home / ".aws" / "config").exists()
    assert empty_home.calls()["operations"]["StartDeviceAuthorization"] == 0


def test_never_clobbers_without_asking(sso_emulator):
    """The fixture's config has [profile dev] on account 111111111111: pointing dev elsewhere
    needs --overwrite, and is refused before any login."""
    before = sso_emulator.config_file.read_bytes()
    args = ["configure", "--sso-session", "emulator", "--sso-start-url", START_URL,
            "--sso-region", "us-east-1", "--account-id", "222222222222", "--role-name", "ReadOnlyAccess",
            "--profile", "dev"]
    result = run_cli(sso_emulator, *args)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "[profile dev]" in line and str(sso_emulator.config_file) in line and "--overwrite" in line
    assert sso_emulator.config_file.read_bytes() == before
    assert sso_emulator.calls()["operations"]["StartDeviceAuthorization"] == 0
    dry = run_cli(sso_emulator, *args, "--overwrite", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "+sso_account_id = 222222222222" in dry.stdout
    assert sso_emulator.config_file.read_bytes() == before
    result = run_cli(sso_emulator, *args, "--overwrite")
    assert result.returncode == 0, result.stderr
    profile = botocore.configloader.load_config(str(sso_emulator.config_file))["profiles"]["dev"]
    assert profile["sso_account_id"] == "222222222222" and profile["region"] == "us-east-1"  # kept


def test_an_unknown_account_names_the_accounts(empty_home):
    flags = [*FLAGS]
    flags[flags.index("111111111111")] = "999999999999"
    result = run_cli(empty_home, *flags)
    assert result.returncode == 1
    line = result.stderr.strip().splitlines()[-1]  # after the login's own lines
    assert "--account-id 999999999999" in line
    assert "its accounts are 111111111111 (Development) and 222222222222 (Production)" in line
    assert not (empty_home.home / ".aws" / "config").exists()




def test_a_vanity_start_url_is_resolved_as_login_resolves_it(empty_home):
    """The emulator's /start answers as a custom domain does (a redirect to the AWS-owned portal
    URL); configure logs in through it and writes the URL as given, as the AWS CLI does."""
    vanity = f"{empty_home.url}/start"
    flags = [*FLAGS]
    flags[flags.index(START_URL)] = vanity
    result = run_cli(empty_home, *flags)
    assert result.returncode == 0, result.stderr
    parsed = botocore.configloader.load_config(str(empty_home.home / ".aws" / "config"))
    assert parsed["sso_sessions"]["corp"]["sso_start_url"] == vanity
    with empty_home.state.lock:  # the login itself went to the AWS-owned portal URL
        started = [record.start_url for record in empty_home.state.device_authorizations.values()]
    assert started == [empty_home.config.portal_url]


def test_at_a_terminal_an_existing_section_is_changed_only_when_confirmed(sso_emulator):
    """The question comes before any login; 'n' leaves the file as it was."""
    before = sso_emulator.config_file.read_bytes()
    term = Pty([*CLI, "configure", "--sso-session", "emulator", "--sso-start-url",
                "https://other.example/start", "--sso-region", "us-east-1"],
               subprocess_env(sso_emulator), cwd=REPO)
    try:
        term.expect(r"\[sso-session emulator\] already exists in .*config:\n\s+sso_start_url = "
                    r"https://emulator.awsapps.com/start  ->  https://other.example/start")
        term.expect(r"Overwrite these keys\? \[y/N\]: ")
        term.send("n")
        term.expect(r"was left as it is: nothing was written")
        assert term.wait() == 1
    finally:
        term.close()
    assert sso_emulator.config_file.read_bytes() == before
    assert sso_emulator.calls()["operations"]["StartDeviceAuthorization"] == 0


def test_ctrl_c_at_a_picker_exits_130_and_writes_nothing(empty_home):
    term = Pty([*CLI, "configure", "--sso-session", "corp", "--sso-start-url", START_URL,
                "--sso-region", "us-east-1"], subprocess_env(empty_home), cwd=REPO)
    try:
        term.expect(r"Number, or text to filter \(1-2\): ")
        os.write(term.master, b"\x03")
        assert term.wait() == 130
    finally:
        term.close()
    # On a line of its own, not after the prompt (friction 11 of issue 28).
    assert "\nboto-sso-oidc configure: cancelled: nothing was written.\n" in term.output
    assert not (empty_home.home / ".aws" / "config").exists()
