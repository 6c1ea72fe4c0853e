"""``boto_sso_oidc_enabled``: which sessions the startup hook's initializer changes, in this process.

The startup hook registers the initializer when botocore.session is imported;
here ``activate()`` does it at once (botocore is already imported), which is
what the hook does in every interpreter of a venv where the package is installed.
"""

from __future__ import annotations

import boto3
import botocore.session
import pytest
from botocore.credentials import SSOProvider

import _boto_sso_oidc_provider_startup as _startup
import boto_sso_oidc_provider as sso
from boto_sso_oidc_provider import SSOConfigError, SSOOIDCCredentialProvider
from boto_sso_oidc_provider.emulator import sso_config

from .programs import ENABLED

ARN_PREFIX = "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_"

CHAINED = """
[profile chained]
role_arn = arn:aws:iam::222222222222:role/ReadOnlyAccess
source_profile = dev
role_session_name = chained-test
"""


@pytest.fixture(autouse=True)
def _hook_active() -> None:
    _startup.activate()


def _sso_slot(session: botocore.session.Session, profile: str = "dev") -> object:
    providers = session.get_component("credential_provider").providers
    assert [p.METHOD for p in providers].count("sso") + \
        [p.METHOD for p in providers].count("sso-oidc") == 1
    return next(p for p in providers if p.METHOD in ("sso", "sso-oidc"))


def test_a_profile_without_the_setting_keeps_botocores_own_chain(sso_emulator):
    session = botocore.session.Session()
    assert type(_sso_slot(session)) is SSOProvider


@pytest.mark.parametrize("where", ["profile", "sso-session"])
def test_the_setting_on_the_profile_or_its_sso_session_turns_the_plugin_on(sso_emulator, where,
                                                                             monkeypatch):
    monkeypatch.setenv("BOTO_SSO_OIDC_AUTO_LOGIN", "true")
    anchor = "sso_role_name =" if where == "profile" else "sso_registration_scopes ="
    sso_emulator.write_config(sso_config().replace(anchor, ENABLED + anchor))

    session = boto3.Session(profile_name="dev")

    assert type(_sso_slot(session._session)) is SSOOIDCCredentialProvider
    assert session.client("sts").get_caller_identity()["Arn"].startswith(ARN_PREFIX)
    assert sso_emulator.calls()["operations"]["StartDeviceAuthorization"] == 1


def test_the_environment_turns_it_on_or_off_whatever_the_config_says(sso_emulator, monkeypatch):
    monkeypatch.setenv("BOTO_SSO_OIDC_ENABLED", "true")
    assert type(_sso_slot(botocore.session.Session())) is SSOOIDCCredentialProvider

    sso_emulator.write_config(sso_config() + ENABLED)  # on the profile
    monkeypatch.setenv("BOTO_SSO_OIDC_ENABLED", "false")
    assert type(_sso_slot(botocore.session.Session())) is SSOProvider


def test_false_on_the_profile_is_off(sso_emulator):
    sso_emulator.write_config(sso_config() + "boto_sso_oidc_enabled = false\n")
    assert type(_sso_slot(botocore.session.Session())) is SSOProvider


def test_a_source_profile_with_the_setting_gets_the_plugin_in_role_chaining(sso_emulator, monkeypatch):
    monkeypatch.setenv("BOTO_SSO_OIDC_AUTO_LOGIN", "true")
    sso_emulator.write_config(sso_config().replace("sso_registration_scopes =",
                                                   ENABLED + "sso_registration_scopes =") + CHAINED)

    arn = boto3.Session(profile_name="chained").client("sts").get_caller_identity()["Arn"]

    assert arn == "arn:aws:sts::222222222222:assumed-role/ReadOnlyAccess/chained-test"
    ops = sso_emulator.calls()["operations"]
    assert (ops["StartDeviceAuthorization"], ops["GetRoleCredentials"], ops["AssumeRole"]) == (1, 1, 1)


def test_a_value_that_is_not_a_boolean_is_a_config_error_naming_the_profile_and_key(sso_emulator):
    sso_emulator.write_config(sso_config() + "boto_sso_oidc_enabled = sometimes\n")

    with pytest.raises(SSOConfigError) as raised:
        botocore.session.Session().get_credentials()

    assert raised.value.key == "boto_sso_oidc_enabled"
    assert 'Profile "dev"' in str(raised.value) and "'sometimes'" in str(raised.value)


def test_install_turns_it_on_for_a_session_the_config_does_not_enable(sso_emulator):
    session = botocore.session.Session()
    sso.install(session)
    assert type(_sso_slot(session)) is SSOOIDCCredentialProvider


# -- the keys under the package's prefix, and their old names -----------------------------------


def _settings(**session_keys: str):
    from boto_sso_oidc_provider.config.reader import AWSConfig

    session = {"sso_start_url": "https://x.awsapps.com/start", "sso_region": "us-east-1",
               **session_keys}
    return AWSConfig({"sso_sessions": {"s": session}}, environ={}).sso_session("s").settings


@pytest.mark.parametrize("prefix", ["boto_sso_oidc_", "sso_"])
def test_the_settings_under_the_prefix_and_their_old_aliases(prefix):
    settings = _settings(**{f"{prefix}auto_login": "false", f"{prefix}open_browser": "false",
                            f"{prefix}lock_timeout": "30"})
    assert (settings.auto_login, settings.open_browser, settings.lock_timeout) == ("false", False, 30.0)


def test_a_key_and_its_old_alias_must_agree():
    assert _settings(boto_sso_oidc_lock_timeout="30", sso_lock_timeout="30").lock_timeout == 30.0
    with pytest.raises(SSOConfigError, match="keep only boto_sso_oidc_lock_timeout") as raised:
        _settings(boto_sso_oidc_lock_timeout="30", sso_lock_timeout="60")
    assert raised.value.key == "boto_sso_oidc_lock_timeout"


def test_errors_name_the_key_as_written():
    with pytest.raises(SSOConfigError, match="boto_sso_oidc_open_browser must be true or false"):
        _settings(boto_sso_oidc_open_browser="maybe")


def test_the_startup_hook_reads_the_same_environment_variable():
    from boto_sso_oidc_provider.config.reader import ENV_ENABLED

    assert _startup.ENV_ENABLED == ENV_ENABLED
    assert _startup.switched_off({ENV_ENABLED: "False"}) and not _startup.switched_off({})
