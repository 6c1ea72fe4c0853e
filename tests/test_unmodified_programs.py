"""No code change: programs that never import this package use it when the AWS config says so.

Every program here is a plain boto3, botocore, aiobotocore, aioboto3 or s3fs
script run as a real process; the package reaches it only through the startup
hook installed in this venv. What tells the plugin from botocore's own SSO
provider: there is no cached token and ``BOTO_SSO_OIDC_AUTO_LOGIN=true``, so the
plugin logs in (the emulator approves) while botocore fails with its own
``SSOTokenLoadError`` and calls nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from boto_sso_oidc_provider.emulator import sso_config

from .cli_helpers import login
from .conftest import age_token, requires, token_file
from .credentials_helpers import race
from .programs import ENABLED, PROGRAM_MODULES, PROGRAMS, program_env, requires_hook, run_program

pytestmark = requires_hook

ARN_PREFIX = "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_"

ON_PROFILE = sso_config().replace("sso_role_name =", ENABLED + "sso_role_name =")
ON_SSO_SESSION = sso_config().replace("sso_registration_scopes =", ENABLED + "sso_registration_scopes =")
ABSENT = sso_config()


def _forget_everything(home: Path) -> None:
    for cache in (home / ".aws" / "sso", home / ".aws" / "cli"):
        shutil.rmtree(cache, ignore_errors=True)


def _through_the_plugin(emulator, result: subprocess.CompletedProcess[str]) -> bool:
    """True if the program logged in through the plugin; False if it failed as botocore does."""
    logins = emulator.calls()["operations"]["StartDeviceAuthorization"]
    if result.returncode == 0:
        assert result.stdout.startswith(ARN_PREFIX) and result.stdout.count("\n") == 1, result
        assert logins == 1 and "Logging in to" in result.stderr
        return True
    assert "SSOTokenLoadError" in result.stderr and "Token for emulator does not exist" \
        in result.stderr, result.stderr
    assert logins == 0 and result.stdout == ""
    return False


# case -> (config, BOTO_SSO_OIDC_ENABLED or None, does the plugin serve the profile?)
CASES = {
    "setting on the profile": (ON_PROFILE, None, True),
    "setting on the sso-session": (ON_SSO_SESSION, None, True),
    "no setting": (ABSENT, None, False),
    "switched off by BOTO_SSO_OIDC_ENABLED=false": (ON_SSO_SESSION, "false", False),
}
# Every case for plain boto3; for the others (slower to start) one way on and one way off,
# each case covered twice over the four programs.
PROGRAM_CASES = {
    "boto3": list(CASES),
    "botocore": ["setting on the sso-session", "switched off by BOTO_SSO_OIDC_ENABLED=false"],
    "aiobotocore": ["setting on the profile", "no setting"],
    "aioboto3": ["setting on the sso-session", "switched off by BOTO_SSO_OIDC_ENABLED=false"],
}


@pytest.mark.parametrize("program", [pytest.param(name, marks=requires(*PROGRAM_MODULES[name]))
                                     for name in PROGRAMS])
def test_the_config_setting_decides_and_the_environment_can_switch_it_off(sso_emulator, program):
    for case in PROGRAM_CASES[program]:
        config, switch, expected = CASES[case]
        sso_emulator.reset()
        _forget_everything(sso_emulator.home)
        sso_emulator.write_config(config)
        extra = {"BOTO_SSO_OIDC_ENABLED": switch} if switch else {}
        result = run_program(PROGRAMS[program], program_env(
            sso_emulator, BOTO_SSO_OIDC_AUTO_LOGIN="true", **extra))
        assert _through_the_plugin(sso_emulator, result) is expected, (program, case)


def test_boto_sso_oidc_enabled_true_in_the_environment_turns_it_on_for_every_profile(sso_emulator):
    result = run_program(PROGRAMS["boto3"], program_env(
        sso_emulator, BOTO_SSO_OIDC_AUTO_LOGIN="true", BOTO_SSO_OIDC_ENABLED="true"))
    assert _through_the_plugin(sso_emulator, result)


@requires("aiobotocore")
def test_a_warm_second_process_shares_the_role_credential_cache_and_calls_only_sts(sso_emulator):
    sso_emulator.write_config(ON_SSO_SESSION)
    env = program_env(sso_emulator, BOTO_SSO_OIDC_AUTO_LOGIN="true")
    first = run_program(PROGRAMS["aiobotocore"], env)
    assert first.returncode == 0, first.stderr
    before = sso_emulator.calls()["operations"]

    second = run_program(PROGRAMS["boto3"], env)

    assert second.stdout == first.stdout and second.stderr == ""
    after = sso_emulator.calls()["operations"]
    assert {k: v for k, v in after.items() if k != "GetCallerIdentity"} == \
        {k: v for k, v in before.items() if k != "GetCallerIdentity"}
    assert after["GetCallerIdentity"] == before["GetCallerIdentity"] + 1


@pytest.mark.slow
def test_24_plain_boto3_processes_on_an_expired_token_make_one_refresh_and_one_call(sso_emulator,
                                                                                    tmp_path):
    sso_emulator.write_config(ON_SSO_SESSION)
    login()
    age_token(token_file(sso_emulator.home, sso_emulator.sso_session))
    before = sso_emulator.calls()
    code = textwrap.dedent("""
        import boto3
        session = boto3.Session()
        wait_for_go()
        print(session.client("sts").get_caller_identity()["Arn"])
    """)

    results = race(code, 24, program_env(sso_emulator), tmp_path)

    assert [r.returncode for r in results] == [0] * 24, [r.stderr for r in results if r.returncode]
    assert all(r.stdout.startswith(ARN_PREFIX) for r in results)
    after = sso_emulator.calls()
    assert after["grants"].get("refresh_token", 0) - before["grants"].get("refresh_token", 0) == 1
    assert after["operations"]["GetRoleCredentials"] == 1
    assert after["operations"]["StartDeviceAuthorization"] == before["operations"][
        "StartDeviceAuthorization"]
    assert after["operations"]["GetCallerIdentity"] == 24


# -- s3fs, a real aiobotocore consumer, against moto's S3 ------------------------------------------

MOTO = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print("http://%s:%d" % server.get_host_and_port(), flush=True)
sys.stdin.read()
server.stop()
"""


@pytest.fixture
def moto_s3():
    """moto's server mode in its own process (S3 only is used); its URL."""
    proc = subprocess.Popen([sys.executable, "-c", MOTO], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
@requires("s3fs", "moto")
def test_s3fs_reads_an_object_through_an_activated_profile(sso_emulator, moto_s3):
    import boto3

    s3 = boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1",
                      aws_access_key_id="setup", aws_secret_access_key="setup")
    s3.create_bucket(Bucket="reports")
    s3.put_object(Bucket="reports", Key="q3.json", Body=json.dumps({"revenue": 42}).encode())
    sso_emulator.write_config(ON_SSO_SESSION)
    program = """
        import json, s3fs
        fs = s3fs.S3FileSystem()
        print(json.loads(fs.cat("reports/q3.json"))["revenue"])
    """
    result = run_program(program, program_env(sso_emulator, BOTO_SSO_OIDC_AUTO_LOGIN="true",
                                              AWS_ENDPOINT_URL_S3=moto_s3))

    assert result.returncode == 0, result.stderr
    assert result.stdout == "42\n"
    ops = sso_emulator.calls()["operations"]
    assert (ops["StartDeviceAuthorization"], ops["GetRoleCredentials"]) == (1, 1)
