"""Chained roles (``role_arn`` + ``source_profile``, ending at an SSO profile) in every command.

Every test runs the real command as a child process against the emulator,
whose STS verifies each AssumeRole's SigV4 signature against the credentials
it issued: a hop signed with anything but its source's credentials fails.
The assumed-role cache is the AWS CLI's (``~/.aws/cli/cache``, botocore's
``AssumeRoleCredentialFetcher`` key), checked against botocore's own key
function and shared with the AWS CLI v1 in both directions.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import botocore.credentials
import pytest

from boto_sso_oidc_provider._clock import format_timestamp, parse_timestamp, utc_now
from boto_sso_oidc_provider.caches import _layout
from boto_sso_oidc_provider.config._resolved import resolve
from boto_sso_oidc_provider.config.reader import AWSConfig
from boto_sso_oidc_provider.credentials import _warm
from boto_sso_oidc_provider.credentials.console import ConsoleSigninError, signin_url
from boto_sso_oidc_provider.exceptions import SSOConfigError

from .cli_helpers import CLI, login, one_line, run_aws, run_cli
from .conftest import REPO, assert_owner_only, read_json, subprocess_env
from .credentials_helpers import race
from .endpoint_helpers import get, sdk_env, serve

# dev (SSO, account 111111111111) -> hop1 (a role in 222222222222) -> hop2 (a role in 111111111111)
CHAIN = """
[profile hop1]
role_arn = arn:aws:iam::222222222222:role/Deployer
source_profile = dev
role_session_name = hop1-session
region = us-east-1

[profile hop2]
role_arn = arn:aws:iam::111111111111:role/team/Auditor
source_profile = hop1
role_session_name = hop2-session
external_id = ext-4711
duration_seconds = 3600
region = us-east-1
"""

HOP2_ARN = "arn:aws:sts::111111111111:assumed-role/Auditor/hop2-session"

BOTO3_IDENTITY = """
import json, boto3
session = boto3.Session()
print(json.dumps({"method": session.get_credentials().method,
                  "arn": session.client("sts").get_caller_identity()["Arn"]}))
"""


@pytest.fixture
def chain(sso_emulator):
    sso_emulator.write_config(CHAIN, append=True)
    login()
    return sso_emulator


def _ops(emulator: Any) -> dict[str, int]:
    return emulator.calls()["operations"]  # type: ignore[no-any-return]


def _calls(emulator: Any) -> tuple[int, int]:
    """(GetRoleCredentials, AssumeRole) so far."""
    ops = _ops(emulator)
    return ops.get("GetRoleCredentials", 0), ops.get("AssumeRole", 0)


def _botocore_key(role_arn: str, **extra_args: Any) -> str:
    """The cache key botocore itself computes (the oracle for ours)."""
    fetcher = botocore.credentials.AssumeRoleCredentialFetcher(
        client_creator=None, source_credentials=None, role_arn=role_arn, extra_args=extra_args)
    return fetcher._cache_key  # type: ignore[no-any-return]


HOP1_KEY = _botocore_key("arn:aws:iam::222222222222:role/Deployer", RoleSessionName="hop1-session")
HOP2_KEY = _botocore_key("arn:aws:iam::111111111111:role/team/Auditor", RoleSessionName="hop2-session",
                         ExternalId="ext-4711", DurationSeconds=3600)


def _entry(emulator: Any, key: str) -> Path:
    return Path(emulator.home) / ".aws" / "cli" / "cache" / f"{key}.json"


def _identity(credentials: dict[str, str]) -> str:
    client = boto3.client("sts", region_name="us-east-1", aws_access_key_id=credentials["AccessKeyId"],
                          aws_secret_access_key=credentials["SecretAccessKey"],
                          aws_session_token=credentials["SessionToken"])
    return str(client.get_caller_identity()["Arn"])


def _process(emulator: Any, profile: str = "hop2") -> dict[str, Any]:
    result = run_cli(emulator, "credential-process", "--profile", profile)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    output: dict[str, Any] = json.loads(result.stdout)
    return output


# -- the cache key and place ------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [
    {},
    {"RoleSessionName": "s"},
    {"RoleSessionName": "s", "ExternalId": "e", "SerialNumber": "arn:aws:iam::1:mfa/x",
     "DurationSeconds": 900},
    {"ExternalId": "", "DurationSeconds": 3600},
    {"RoleSessionName": "ünï/cödé:x"},
])
def test_the_assume_role_cache_key_is_botocores(extra):
    arn = "arn:aws:iam::123456789012:role/path/Name"
    ours = _layout.assume_role_cache_key(
        arn, role_session_name=extra.get("RoleSessionName"), external_id=extra.get("ExternalId"),
        mfa_serial=extra.get("SerialNumber"), duration_seconds=extra.get("DurationSeconds"))
    assert ours == _botocore_key(arn, **extra)


def test_an_empty_session_name_is_left_out_of_the_key_as_botocore_does():
    arn = "arn:aws:iam::123456789012:role/Name"
    assert _layout.assume_role_cache_key(arn, role_session_name="") == \
        _botocore_key(arn, RoleSessionName="") == _botocore_key(arn)


# -- credential-process ---------------------------------------------------------------------------------


def test_credential_process_assumes_both_hops_and_caches_them_as_the_aws_cli_does(chain):
    output = _process(chain)
    assert output["Version"] == 1 and output["AccountId"] == "111111111111"
    assert _calls(chain) == (1, 2)  # the SSO role once, then each hop, each signed by the one below
    assert _identity(output) == HOP2_ARN
    for key, account in ((HOP1_KEY, "222222222222"), (HOP2_KEY, "111111111111")):
        path = _entry(chain, key)
        assert_owner_only(path)
        cached = read_json(path)
        assert cached["Credentials"]["AccountId"] == account
        assert "ProviderType" not in cached  # the AssumeRole response, as botocore caches it
        assert cached["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{account}:assumed-role/")
    assert read_json(_entry(chain, HOP2_KEY))["Credentials"]["AccessKeyId"] == output["AccessKeyId"]
    # hop1 alone answers from its entry (no new call)
    assert _identity(_process(chain, "hop1")).endswith(":assumed-role/Deployer/hop1-session")
    assert _calls(chain) == (1, 2)


def test_a_second_run_is_the_warm_path_no_assume_role_and_no_botocore(chain):
    first = _process(chain)
    assert _calls(chain) == (1, 2)
    result = subprocess.run([sys.executable, "-X", "importtime", *CLI[1:], "credential-process",
                             "--profile", "hop2"], env=subprocess_env(chain), capture_output=True,
                            text=True, stdin=subprocess.DEVNULL, start_new_session=True, timeout=60,
                            cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == first
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert "boto_sso_oidc_provider.credentials._warm" in imported  # the measurement works
    assert {name for name in imported if name.split(".")[0] in ("botocore", "boto3", "filelock")} == set()
    assert "boto_sso_oidc_provider.credentials.chained" not in imported
    assert _calls(chain) == (1, 2)


def test_the_warm_reader_finds_the_entry_the_full_path_wrote(chain):
    _process(chain)
    assert _chain_file("hop2") == str(_entry(chain, HOP2_KEY))
    assert _warm.cached_process_output("hop2")["AccessKeyId"] == \
        read_json(_entry(chain, HOP2_KEY))["Credentials"]["AccessKeyId"]


def test_expired_chained_credentials_are_renewed_through_the_chain(chain):
    first = _process(chain)
    assert _calls(chain) == (1, 2)
    chain.expire("role_credentials")  # STS and the portal no longer accept any of them
    soon = format_timestamp(utc_now() + dt.timedelta(minutes=5))
    for path in Path(chain.home, ".aws", "cli", "cache").glob("*.json"):
        data = read_json(path)
        data["Credentials"]["Expiration"] = soon
        path.write_text(json.dumps(data))
    renewed = _process(chain)
    assert renewed["AccessKeyId"] != first["AccessKeyId"]
    assert parse_timestamp(renewed["Expiration"]) > utc_now() + dt.timedelta(minutes=50)
    assert _calls(chain) == (2, 4)  # every hop renewed, bottom up
    assert _identity(renewed) == HOP2_ARN


# -- the AWS CLI v1 shares the cache ---------------------------------------------------------------------


def test_the_aws_cli_v1_uses_the_chained_credentials_we_cached(chain):
    pytest.importorskip("awscli")
    output = _process(chain)
    assert _calls(chain) == (1, 2)
    result = run_aws(chain, "sts", "get-caller-identity", "--profile", "hop2", "--output", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Arn"] == HOP2_ARN
    assert _calls(chain) == (1, 2)  # 0 AssumeRole, 0 GetRoleCredentials from the AWS CLI
    assert _ops(chain)["GetCallerIdentity"] == 1
    assert read_json(_entry(chain, HOP2_KEY))["Credentials"]["AccessKeyId"] == output["AccessKeyId"]


def test_we_use_the_chained_credentials_the_aws_cli_v1_cached(chain):
    pytest.importorskip("awscli")
    result = run_aws(chain, "sts", "get-caller-identity", "--profile", "hop2", "--output", "json")
    assert result.returncode == 0, result.stderr
    assert _calls(chain)[1] == 2
    written = read_json(_entry(chain, HOP2_KEY))  # the AWS CLI's own file, at our key
    output = _process(chain)
    assert output["AccessKeyId"] == written["Credentials"]["AccessKeyId"]
    assert _calls(chain)[1] == 2


# -- export, exec, serve, console ----------------------------------------------------------------------


def test_export_prints_the_chained_credentials(chain):
    result = run_cli(chain, "export", "--profile", "hop2", "--format", "json")
    assert result.returncode == 0, result.stderr
    variables = json.loads(result.stdout)
    assert variables["AWS_REGION"] == "us-east-1"
    assert _identity({"AccessKeyId": variables["AWS_ACCESS_KEY_ID"],
                      "SecretAccessKey": variables["AWS_SECRET_ACCESS_KEY"],
                      "SessionToken": variables["AWS_SESSION_TOKEN"]}) == HOP2_ARN
    assert _calls(chain) == (1, 2)
    again = json.loads(run_cli(chain, "export", "--profile", "hop2", "--format", "json").stdout)
    assert again == variables and _calls(chain) == (1, 2)


@pytest.mark.parametrize("mode", [(), ("--env",)], ids=["endpoint", "env"])
def test_exec_gives_the_command_the_chained_role(chain, mode):
    result = subprocess.run([*CLI, "exec", "--profile", "hop2", *mode, "--", sys.executable, "-c",
                             textwrap.dedent(BOTO3_IDENTITY)], env=subprocess_env(chain),
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["arn"] == HOP2_ARN
    assert seen["method"] == ("env" if mode else "container-role")
    assert _calls(chain) == (1, 2)


def test_serve_serves_the_chained_role_and_renews_it_from_its_source(chain):
    with serve(chain, profile="hop2") as served:
        status, body = get(served.url, served.token)
        assert status == 200 and body["AccountId"] == "111111111111"
        result = subprocess.run([sys.executable, "-c", textwrap.dedent(BOTO3_IDENTITY)],
                                env=sdk_env(chain, served.variables), capture_output=True, text=True,
                                timeout=120, stdin=subprocess.DEVNULL, cwd=REPO)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"method": "container-role", "arn": HOP2_ARN}
        assert _calls(chain) == (1, 2)
        assert served.stop() == 0
    # The cached chained credentials near their end: the next server renews them (hop2 only:
    # hop1's are still fresh).
    path = _entry(chain, HOP2_KEY)
    data = read_json(path)
    data["Credentials"]["Expiration"] = format_timestamp(utc_now() + dt.timedelta(minutes=5))
    path.write_text(json.dumps(data))
    with serve(chain, profile="hop2") as served:
        status, renewed = get(served.url, served.token)
        assert status == 200 and renewed["AccessKeyId"] != body["AccessKeyId"]
        assert _calls(chain) == (1, 3)
        assert served.stop() == 0
    assert _identity({**renewed, "SessionToken": renewed["Token"]}) == HOP2_ARN  # the container shape
    assert read_json(path)["Credentials"]["AccessKeyId"] == renewed["AccessKeyId"]


def test_serve_imds_serves_the_chained_role_to_plain_boto3(chain, tmp_path):
    empty = tmp_path / "empty-config"
    empty.write_text("")
    with serve(chain, "--imds", profile="hop2") as served:
        env = subprocess_env(chain, AWS_EC2_METADATA_SERVICE_ENDPOINT=served.url,
                             AWS_CONFIG_FILE=str(empty), AWS_SHARED_CREDENTIALS_FILE=str(empty))
        env.pop("AWS_PROFILE", None)
        env.pop("AWS_EC2_METADATA_DISABLED")  # the fixture turns instance metadata off
        result = subprocess.run([sys.executable, "-c", textwrap.dedent(BOTO3_IDENTITY)], env=env,
                                capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                                cwd=REPO)
        assert served.stop() == 0
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"method": "iam-role", "arn": HOP2_ARN}
    assert _calls(chain) == (1, 2)


def test_console_signs_in_with_the_chained_role_for_its_one_hour(chain):
    result = run_cli(chain, "console", "--profile", "hop2", "--url", "--destination", "s3")
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    token = parse_qs(urlparse(url).query)["SigninToken"][0]
    with chain.state.lock:
        signin = chain.state.signin_tokens[token]
    assert signin.session_duration == 3600  # a chained role's console session
    assert chain.state.credentials[signin.access_key_id].arn == HOP2_ARN
    assert _calls(chain) == (1, 2) and _ops(chain)["GetSigninToken"] == 1


def test_console_refuses_a_session_duration_for_a_chained_role(chain):
    result = run_cli(chain, "console", "--profile", "hop2", "--url", "--session-duration", "7200")
    assert result.returncode == 1 and result.stdout == ""
    line = one_line(result.stderr)
    assert 'profile "hop2"' in line and "role chaining" in line and "1 hour" in line
    assert _calls(chain) == (0, 0)  # refused before anything was fetched


def test_the_federation_endpoint_refuses_a_session_duration_for_chained_credentials(chain):
    output = _process(chain)
    with pytest.raises(ConsoleSigninError, match="Invalid credentials parameter"):
        signin_url(output, destination="https://console.aws.amazon.com/", session_duration=3600,
                   endpoint=f"{chain.url}/federation")


# -- what is refused -----------------------------------------------------------------------------------


CYCLE = """
[profile a]
role_arn = arn:aws:iam::222222222222:role/A
source_profile = b

[profile b]
role_arn = arn:aws:iam::222222222222:role/B
source_profile = a
"""


@pytest.mark.parametrize("command", [("credential-process",), ("export",), ("console", "--url")])
def test_a_cycle_is_refused_naming_it(sso_emulator, command):
    sso_emulator.write_config(CYCLE, append=True)
    result = run_cli(sso_emulator, *command, "--profile", "a")
    assert result.returncode == 1 and result.stdout == ""
    assert "profile a -> b -> a" in one_line(result.stderr)
    assert _calls(sso_emulator) == (0, 0)


def test_serve_and_exec_refuse_a_cycle_too(sso_emulator):
    sso_emulator.write_config(CYCLE, append=True)
    for args in (("serve", "--profile", "b"), ("exec", "--profile", "b", "--", "true")):
        result = run_cli(sso_emulator, *args)
        assert result.returncode == 1, result.stderr
        assert "profile b -> a -> b" in one_line(result.stderr)


@pytest.mark.parametrize(("extra", "named"), [
    ("duration_seconds = 7200\n", "duration_seconds = 7200"),
    ("mfa_serial = arn:aws:iam::111111111111:mfa/me\n", "mfa_serial"),
    ("credential_source = Environment\n", "credential_source"),
])
def test_unsupported_settings_are_one_line_naming_them(sso_emulator, extra, named):
    sso_emulator.write_config("[profile odd]\nrole_arn = arn:aws:iam::222222222222:role/R\n"
                              "source_profile = dev\n" + extra, append=True)
    result = run_cli(sso_emulator, "credential-process", "--profile", "odd")
    assert result.returncode == 1 and result.stdout == ""
    line = one_line(result.stderr)
    assert 'Profile "odd"' in line and named in line


def test_a_chain_that_does_not_end_at_an_sso_profile_is_refused(sso_emulator):
    sso_emulator.write_config("[profile static]\naws_access_key_id = AKIAX\naws_secret_access_key = y\n"
                              "[profile odd]\nrole_arn = arn:aws:iam::222222222222:role/R\n"
                              "source_profile = static\n", append=True)
    with pytest.raises(SSOConfigError, match=r"\(profile odd -> static\), which has no IAM Identity"):
        AWSConfig.load().credentials_profile("odd")


def test_sts_refusing_the_role_is_one_line_naming_the_role_and_profile(chain):
    chain.write_config("[profile elsewhere]\nrole_arn = arn:aws:iam::999999999999:role/R\n"
                       "source_profile = dev\n", append=True)
    result = run_cli(chain, "credential-process", "--profile", "elsewhere")
    assert result.returncode == 1 and result.stdout == ""
    line = one_line(result.stderr)
    assert 'Profile "elsewhere"' in line and "arn:aws:iam::999999999999:role/R" in line
    assert "AccessDenied" in line


def _chain_file(profile: str) -> str | None:
    """The assumed-role cache file the warm path reads for ``profile``, if a role chain."""
    resolution = resolve(profile)
    return _warm.cache_file(resolution) if resolution and resolution.kind == "role-chain" else None


def test_the_warm_reader_leaves_every_doubtful_chain_to_the_full_path(sso_emulator, monkeypatch):
    sso_emulator.write_config(CHAIN + CYCLE + "[profile nosrc]\nrole_arn = arn:aws:iam::2:role/R\n"
                              "[profile long]\nrole_arn = arn:aws:iam::2:role/R\nsource_profile = dev\n"
                              "duration_seconds = 7200\n", append=True)
    assert _chain_file("hop2") is not None
    for profile in ("a", "b", "nosrc", "long", "dev", "undefined"):
        assert _chain_file(profile) is None, profile
    # a role key for a lower hop in the credentials file changes the source credentials, not the
    # entry botocore reads for hop2 (keyed by hop2's own AssumeRole arguments): the same file
    before = _chain_file("hop2")
    Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).write_text("[hop1]\nrole_arn = arn:aws:iam::2:role/X\n")
    assert _chain_file("hop2") == before
    # one for hop2 itself changes its key
    Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).write_text("[hop2]\nexternal_id = x\n")
    assert _chain_file("hop2") not in (None, before)


# -- many processes, hostile files, login and logout through a chain --------------------------------


RACER = """
import json
from boto_sso_oidc_provider.cli._credentials import process_output
wait_for_go()
print(json.dumps(process_output("hop2")))
"""


def test_processes_racing_on_a_cold_chain_make_one_call_per_hop(chain, tmp_path):
    results = race(RACER, 8, subprocess_env(chain), tmp_path)
    assert all(result.returncode == 0 for result in results), [r.stderr for r in results]
    keys = {json.loads(result.stdout)["AccessKeyId"] for result in results}
    assert len(keys) == 1
    assert _calls(chain) == (1, 2)  # GetRoleCredentials once, AssumeRole once per hop


def test_a_corrupt_chained_entry_is_a_warning_and_a_fresh_start(chain):
    _process(chain)
    path = _entry(chain, HOP2_KEY)
    path.write_text('{"Credentials": ')
    result = run_cli(chain, "credential-process", "--profile", "hop2")
    assert result.returncode == 0, result.stderr
    assert "Ignoring the assumed-role credentials" in result.stderr and str(path) in result.stderr
    assert json.loads(result.stdout)["AccessKeyId"] == read_json(path)["Credentials"]["AccessKeyId"]
    assert_owner_only(path)
    assert _calls(chain) == (1, 3)  # hop2 again; hop1 came from its entry


def test_logout_removes_the_chained_entries_and_login_works_through_the_chain(chain):
    _process(chain)
    assert _entry(chain, HOP1_KEY).exists() and _entry(chain, HOP2_KEY).exists()
    result = run_cli(chain, "logout", "--profile", "hop2")  # the session the chain ends at
    assert result.returncode == 0, result.stderr
    assert not _entry(chain, HOP1_KEY).exists() and not _entry(chain, HOP2_KEY).exists()
    failed = run_cli(chain, "credential-process", "--profile", "hop2")
    assert failed.returncode == 1 and "boto-sso-oidc login --profile dev" in one_line(failed.stderr)
    assert run_cli(chain, "login", "--profile", "hop2").returncode == 0
    assert _identity(_process(chain)) == HOP2_ARN


def test_status_of_a_chained_profile_reports_the_session_and_profile_it_ends_at(chain):
    result = run_cli(chain, "status", "--profile", "hop2", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [item["sso_session"] for item in report["sso_sessions"]] == ["emulator"]
    assert report["sso_sessions"][0]["login_command"] == "boto-sso-oidc login --profile hop2"
    assert [item["profile"] for item in report["profiles"]] == ["dev"]


def test_source_credentials_sts_no_longer_accepts_are_one_line_naming_the_fix(chain):
    _process(chain)
    _entry(chain, HOP2_KEY).unlink()
    hop1 = _entry(chain, HOP1_KEY)
    data = read_json(hop1)
    data["Credentials"]["AccessKeyId"] = "ASIA" + "Z" * 16  # a key STS never issued
    hop1.write_text(json.dumps(data))
    result = run_cli(chain, "credential-process", "--profile", "hop2")
    assert result.returncode == 1 and result.stdout == ""
    line = one_line(result.stderr)
    assert 'cached credentials of profile "hop1" (InvalidClientTokenId' in line
    assert "boto-sso-oidc logout --profile hop2" in line
