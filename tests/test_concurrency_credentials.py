"""Single flight of role credentials across real processes and threads."""

from __future__ import annotations

import botocore.session
import pytest

import boto_sso_oidc_provider as sso
from boto_sso_oidc_provider import SSOOIDCCredentialProvider
from boto_sso_oidc_provider.options import Options
from boto_sso_oidc_provider.sessions import role_credentials_manager

from .conftest import age_token, read_json, subprocess_env, token_file
from .credentials_helpers import MovableClock, in_threads, race

ARN_PREFIX = "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_"

_RACER = """
import boto3, boto_sso_oidc_provider as p
p.install()
sts = boto3.client('sts')  # credentials are resolved lazily: nothing called yet
wait_for_go()
print(sts.get_caller_identity()['Arn'])
"""


@pytest.mark.slow
def test_24_processes_with_an_expired_token_and_no_role_credentials(sso_emulator, tmp_path):
    sso.login("dev")
    age_token(token_file(sso_emulator.home, "emulator"))
    manager = role_credentials_manager("dev")
    assert not manager.entry.path.exists()
    # Slow both calls down so that the others really find the locks taken.
    sso_emulator.fault("CreateToken", delay=0.3, grant_type="refresh_token")
    sso_emulator.fault("GetRoleCredentials", delay=0.3)
    before = sso_emulator.calls()
    workdir = tmp_path / "race"
    workdir.mkdir()

    results = race(_RACER, 24, subprocess_env(sso_emulator, BOTO_SSO_OIDC_AUTO_LOGIN="false"),
                   workdir)

    assert [r.returncode for r in results] == [0] * 24, [r.stderr for r in results if r.returncode]
    assert all(r.stdout.startswith(ARN_PREFIX) for r in results)
    after = sso_emulator.calls()
    assert after["grants"]["refresh_token"] - before["grants"]["refresh_token"] == 1
    ops = {k: after["operations"][k] - before["operations"][k] for k in after["operations"]}
    assert ops["GetRoleCredentials"] == 1
    assert ops["GetCallerIdentity"] == 24
    assert ops["StartDeviceAuthorization"] == 0
    assert manager.cached() is not None and manager.cached().seconds_left() > 3000  # type: ignore[union-attr]
    assert read_json(token_file(sso_emulator.home, "emulator"))["expiresAt"] > "2001"


_CLOCK = MovableClock()


@pytest.mark.sso_emulator(clock=_CLOCK, access_token_ttl=8 * 3600)
@pytest.mark.parametrize("minutes_left", [5, 12])  # botocore's mandatory, then advisory window
def test_32_threads_on_expiring_credentials_refresh_once(sso_emulator, minutes_left):
    _CLOCK.reset()
    core = botocore.session.Session(profile="dev")
    options = Options(clock=_CLOCK, allow_login=True)
    credentials = SSOOIDCCredentialProvider("dev", core, options=options).load()
    first = credentials.get_frozen_credentials()
    _CLOCK.advance(3600 - minutes_left * 60)
    sso_emulator.fault("GetRoleCredentials", delay=0.2)
    before = sso_emulator.calls()
    keys, errors = in_threads(32, lambda: credentials.get_frozen_credentials().access_key)

    assert errors == [] and len(keys) == 32
    after = sso_emulator.calls()
    assert after["operations"]["GetRoleCredentials"] - before["operations"]["GetRoleCredentials"] == 1
    assert after["grants"] == before["grants"]  # the token was still good
    new = credentials.get_frozen_credentials().access_key
    assert new != first.access_key
    if minutes_left < 10:
        assert set(keys) == {new}  # mandatory: every thread waits for the new credentials
    else:
        assert set(keys) <= {first.access_key, new}  # advisory: the others go on meanwhile
