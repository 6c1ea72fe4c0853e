"""The public ``sso_emulator`` fixture: private HOME, real AWS config, clean environment."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import boto3
import botocore.session
import pytest
from emulator_helpers import Clients

from boto_sso_oidc_provider._platform import home_environment
from boto_sso_oidc_provider.emulator import SSOEmulator

LEAKY = {
    "AWS_ACCESS_KEY_ID": "AKIALEAKEDLEAKEDLEAK",
    "AWS_SECRET_ACCESS_KEY": "leaked",
    "AWS_SESSION_TOKEN": "leaked",
    "AWS_DEFAULT_PROFILE": "prod",
    "AWS_ENDPOINT_URL_STS": "https://sts.amazonaws.com",
    "AWS_ENDPOINT_URL_SSO": "https://portal.sso.us-east-1.amazonaws.com",
    "AWS_CA_BUNDLE": "/nonexistent",
    "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/x",
}


@pytest.fixture
def leaky_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine running the tests has AWS settings of its own."""
    for name, value in LEAKY.items():
        monkeypatch.setenv(name, value)
    yield


def test_fixture_gives_a_private_home_and_config(leaky_environment: None,
                                                 sso_emulator: SSOEmulator) -> None:
    emulator = sso_emulator
    home: Path = emulator.home
    assert os.environ["HOME"] == str(home) and Path.home() == home  # USERPROFILE's on Windows
    assert emulator.config_file == home / ".aws" / "config"
    for directory in (home, home / ".aws"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(emulator.config_file.stat().st_mode) == 0o600

    expected_env = {
        **home_environment(home),
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "AWS_ENDPOINT_URL": emulator.url,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PROFILE": "dev",
        "BOTO_SSO_OIDC_FEDERATION_ENDPOINT": f"{emulator.url}/federation",
    }
    assert emulator.env == expected_env
    aws_env = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "BOTO_SSO_OIDC_FED"))}
    assert aws_env == {k: v for k, v in expected_env.items() if k not in ("HOME", "USERPROFILE")}


def test_fixture_config_is_read_by_botocore(sso_emulator: SSOEmulator) -> None:
    emulator = sso_emulator
    config = botocore.session.get_session().full_config
    assert config["profiles"]["dev"] == {
        "sso_session": "emulator", "sso_account_id": "111111111111",
        "sso_role_name": "AdministratorAccess", "region": "us-east-1",
    }
    assert config["sso_sessions"]["emulator"] == {
        "sso_start_url": "https://emulator.awsapps.com/start", "sso_region": "us-east-1",
        "sso_registration_scopes": "sso:account:access",
    }
    assert (emulator.profile, emulator.sso_session, emulator.start_url, emulator.region) == \
        ("dev", "emulator", "https://emulator.awsapps.com/start", "us-east-1")


def test_fixture_endpoint_reaches_the_emulator_through_the_environment(
        sso_emulator: SSOEmulator) -> None:
    # No endpoint_url: boto3 takes AWS_ENDPOINT_URL from the environment.
    oidc = boto3.client("sso-oidc", config=botocore.config.Config(
        signature_version=botocore.UNSIGNED))
    registration = oidc.register_client(clientName="env", clientType="public")
    assert registration["clientId"]
    assert sso_emulator.calls()["operations"]["RegisterClient"] == 1


def test_fixture_auto_approves_by_default(sso_emulator: SSOEmulator) -> None:
    clients = Clients(sso_emulator)
    registration = clients.register()
    device = clients.start(registration)
    with pytest.raises(clients.oidc.exceptions.AuthorizationPendingException):
        clients.poll(registration, device)
    assert clients.poll(registration, device)["accessToken"]  # interval 0: no waiting


@pytest.mark.sso_emulator(auto_approve=False, page_size=1)
def test_marker_configures_the_fixture(sso_emulator: SSOEmulator) -> None:
    config = sso_emulator.config
    assert (config.auto_approve, config.page_size, config.interval) == (False, 1, 0)
    clients = Clients(sso_emulator)
    device = clients.start(clients.register())
    assert sso_emulator.pending() == [device["userCode"]]


def test_write_config_replaces_or_appends(sso_emulator: SSOEmulator) -> None:
    emulator = sso_emulator
    emulator.write_config("[profile ro]\nsso_session = emulator\n", append=True)
    profiles = botocore.session.get_session().full_config["profiles"]
    assert set(profiles) >= {"dev", "ro"}
    emulator.write_config("[profile only]\nregion = eu-west-1\n")
    assert set(botocore.session.get_session().full_config["profiles"]) == {"only"}
