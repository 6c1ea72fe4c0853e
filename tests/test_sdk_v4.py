"""The AWS SDK for Python v4 (``aws-sdk-sts``, smithy-python) gets SSO role credentials from this package.

Every program is an unmodified ``aws-sdk-sts`` script run as a real process:
the package reaches it only through its entry point in
``smithy_aws_core.identity.chain_providers``. The emulator's STS answers the
SDK's query protocol and verifies its SigV4 signature, so the printed ARN
proves the credentials are the SSO role's. Needs Python >= 3.12 with the
``sdk-v4`` extra and ``aws-sdk-sts`` (noxfile.py's ``sdk_v4`` session).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import boto_sso_oidc_provider as sso
from boto_sso_oidc_provider.emulator import sso_config

from .conftest import age_token, token_file
from .credentials_helpers import race
from .programs import ENABLED, program_env, requires_hook, run_program

pytest.importorskip("aws_sdk_sts", reason="the AWS SDK for Python v4 (aws-sdk-sts, Python >= 3.12) "
                    "is not installed: run `nox -s sdk_v4`")

ARN_PREFIX = "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_"

V4_PROGRAM = """
    import asyncio
    from aws_sdk_sts.client import AsyncSTSClient
    from aws_sdk_sts.models import GetCallerIdentityInput

    async def main():
        output = await AsyncSTSClient().get_caller_identity(GetCallerIdentityInput())
        print(output.arn)

    asyncio.run(main())
"""

LEGACY = """\
[profile dev]
sso_start_url = https://emulator.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = AdministratorAccess
region = us-east-1
"""


def _v4_env(emulator, **extra: str) -> dict[str, str]:
    return program_env(emulator, AWS_PROFILE="dev", **extra)


@pytest.mark.parametrize("config", [sso_config(), LEGACY], ids=["sso-session", "legacy"])
def test_an_unmodified_aws_sdk_sts_program_gets_the_sso_role_from_the_emulators_sts(sso_emulator,
                                                                                    config):
    sso_emulator.write_config(config)
    sso.login("dev")
    before = sso_emulator.calls()["operations"]

    result = run_program(V4_PROGRAM, _v4_env(sso_emulator))

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(ARN_PREFIX) and result.stdout.count("\n") == 1, result.stdout
    after = sso_emulator.calls()["operations"]
    assert after["GetRoleCredentials"] - before.get("GetRoleCredentials", 0) == 1
    assert after["GetCallerIdentity"] == 1


def test_a_second_program_uses_the_role_credentials_boto3_cached(sso_emulator):
    sso.login("dev")
    sso.SSOOIDCCredentialProvider("dev").load().get_frozen_credentials()  # cache them, as boto3 would
    before = sso_emulator.calls()["operations"]["GetRoleCredentials"]

    result = run_program(V4_PROGRAM, _v4_env(sso_emulator))

    assert result.returncode == 0 and result.stdout.startswith(ARN_PREFIX), result.stderr
    assert sso_emulator.calls()["operations"]["GetRoleCredentials"] == before


def test_without_a_login_the_error_names_the_profile_and_the_command(sso_emulator):
    result = run_program(V4_PROGRAM, _v4_env(sso_emulator))

    assert result.returncode != 0 and result.stdout == ""
    assert "IdentityChainError" in result.stderr and "BotoSsoOidc:" in result.stderr
    assert "dev" in result.stderr and "boto-sso-oidc login" in result.stderr, result.stderr
    assert sso_emulator.calls()["operations"]["StartDeviceAuthorization"] == 0


def test_a_profile_without_sso_is_left_to_the_rest_of_the_chain(sso_emulator):
    sso_emulator.write_config("[profile dev]\nregion = us-east-1\n")

    result = run_program(V4_PROGRAM, _v4_env(sso_emulator))

    assert result.returncode != 0
    assert "No credential providers were configured" in result.stderr, result.stderr


_AWS_SSO_PROVIDER = '''
from smithy_aws_core.identity.chain import Standard, StandardProvider

class ProfileSsoSessionProvider:
    """What an SSO provider shipped by AWS would declare: the standard slot, under its name."""
    name = StandardProvider.PROFILE_SSO_SESSION.canonical_name
    ordering = Standard(slot=StandardProvider.PROFILE_SSO_SESSION)

    async def setup(self, identity_type, setup):
        print("aws-credentials-sso set up", flush=True)
'''


def _install_aws_sso_provider(root: Path) -> str:
    """A distribution on a path entry that registers an SSO provider as AWS would ship it."""
    (root / "fake_aws_credentials_sso.py").write_text(_AWS_SSO_PROVIDER)
    info = root / "aws_credentials_sso-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: aws-credentials-sso\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(
        "[smithy_aws_core.identity.chain_providers]\n"
        "ProfileSsoSession = fake_aws_credentials_sso:ProfileSsoSessionProvider\n")
    return str(root)


def test_an_sso_provider_shipped_by_aws_later_does_not_break_the_chain(sso_emulator, tmp_path):
    sso.login("dev")
    env = _v4_env(sso_emulator, PYTHONPATH=_install_aws_sso_provider(tmp_path))

    served = run_program(V4_PROGRAM, env)
    handed_over = run_program(V4_PROGRAM, {**env, "BOTO_SSO_OIDC_ENABLED": "false"})

    # Both installed: the chain configures, this package serves SSO profiles (its resolver is
    # terminal, so the other one is not even set up).
    assert served.returncode == 0 and served.stdout.startswith(ARN_PREFIX), served.stderr
    assert "aws-credentials-sso set up" not in served.stdout
    # Switched off: the profile goes to AWS's provider (which, being a stand-in, adds nothing).
    assert handed_over.stdout.startswith("aws-credentials-sso set up\n"), handed_over
    assert "No credential providers were configured" in handed_over.stderr


_V4_RACER = """
import asyncio
from aws_sdk_sts.client import AsyncSTSClient
from aws_sdk_sts.models import GetCallerIdentityInput
import boto_sso_oidc_provider.providers.sdk_v4  # load before the start
import boto_sso_oidc_provider.credentials.role_credentials

async def main():
    wait_for_go()
    print((await AsyncSTSClient().get_caller_identity(GetCallerIdentityInput())).arn)

asyncio.run(main())
"""

_BOTO3_RACER = """
import boto3
session = boto3.Session()
wait_for_go()
print(session.client("sts").get_caller_identity()["Arn"])
"""


def _race_on_an_expired_token(emulator, tmp_path: Path, racers: list[str]) -> None:
    """Every racer at once on an expired token (the boto3 ones through the startup hook)."""
    emulator.write_config(sso_config().replace("sso_registration_scopes =",
                                               ENABLED + "sso_registration_scopes ="))
    sso.login("dev")
    age_token(token_file(emulator.home, emulator.sso_session))
    emulator.fault("CreateToken", delay=0.3, count=1)  # the others really find the lock taken
    before = emulator.calls()

    finished = race(racers, len(racers), _v4_env(emulator), tmp_path)

    assert [r.returncode for r in finished] == [0] * len(racers), \
        [r.stderr for r in finished if r.returncode]
    assert all(r.stdout.startswith(ARN_PREFIX) for r in finished)
    after = emulator.calls()
    assert after["grants"].get("refresh_token", 0) - before["grants"].get("refresh_token", 0) == 1
    assert after["operations"]["GetRoleCredentials"] - before["operations"].get(
        "GetRoleCredentials", 0) == 1
    assert after["operations"]["GetCallerIdentity"] == len(racers)


@pytest.mark.slow
def test_24_sdk_v4_processes_on_an_expired_token_make_one_refresh(sso_emulator, tmp_path):
    _race_on_an_expired_token(sso_emulator, tmp_path, [_V4_RACER] * 24)


@pytest.mark.slow
@requires_hook
def test_12_sdk_v4_and_12_boto3_processes_on_the_same_caches_make_one_refresh(sso_emulator, tmp_path):
    _race_on_an_expired_token(sso_emulator, tmp_path, [_V4_RACER, _BOTO3_RACER] * 12)
