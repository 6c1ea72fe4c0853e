"""GetRoleCredentials behind the locked role-credential cache, against the emulator."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import boto3
import botocore
import botocore.session
import pytest
from botocore.config import Config
from botocore.credentials import SSOCredentialFetcher, SSOProvider
from botocore.exceptions import CredentialRetrievalError
from botocore.tokens import SSOTokenProvider
from botocore.utils import JSONFileCache

import boto_sso_oidc_provider as sso
from boto_sso_oidc_provider.config.reader import AWSConfig, SSOSessionConfig
from boto_sso_oidc_provider.credentials.role_credentials import RoleCredentials, role_cache_key
from boto_sso_oidc_provider.sessions import forget_role_credentials, role_credentials_manager

from .conftest import assert_owner_only, read_json, token_file

_LOGIN = {"allow_login": True}


def _role_file(home: Path, sso_config: SSOSessionConfig, account: str, role: str) -> Path:
    return home / ".aws" / "cli" / "cache" / f"{role_cache_key(sso_config, account, role)}.json"


def _in_minutes(minutes: float) -> str:
    moment = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _set_expiration(path: Path, value: str) -> None:
    data = read_json(path)
    data["Credentials"]["Expiration"] = value
    path.write_text(json.dumps(data))


def _ops(emulator: object) -> dict[str, int]:
    return emulator.calls()["operations"]  # type: ignore[attr-defined, no-any-return]


# -- the cache key and format ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["emulator", None])
def test_cache_key_is_botocores(name):
    config = SSOSessionConfig(name=name, start_url="https://x.awsapps.com/start", region="us-east-1")
    fetcher = SSOCredentialFetcher(
        start_url=config.start_url, sso_region="us-east-1", role_name="Admin",
        account_id="123456789012", client_creator=None, sso_session_name=name,
    )
    assert role_cache_key(config, "123456789012", "Admin") == fetcher._create_cache_key()
    other = role_cache_key(config, "123456789012", "ReadOnly")
    assert other != fetcher._create_cache_key()


def test_credentials_are_fetched_once_and_cached_in_botocores_format(sso_emulator):
    manager = role_credentials_manager("dev", **_LOGIN)
    first = manager.get()
    assert _ops(sso_emulator)["GetRoleCredentials"] == 1

    path = manager.entry.path
    assert path == _role_file(sso_emulator.home, manager.profile.sso, "111111111111",
                              "AdministratorAccess")
    data = read_json(path)
    assert data == {"ProviderType": "sso", "Credentials": {
        "AccessKeyId": first.access_key_id, "SecretAccessKey": first.secret_access_key,
        "SessionToken": first.session_token, "AccountId": "111111111111",
        "Expiration": first.expiration.strftime("%Y-%m-%dT%H:%M:%SZ")}}
    assert data["Credentials"]["Expiration"].endswith("Z")
    assert_owner_only(path)
    assert_owner_only(path.parent)
    assert 3500 < first.seconds_left() <= 3600

    before = sso_emulator.calls()
    again = role_credentials_manager("dev", allow_login=False).get()  # a new manager: from disk
    assert again == first
    assert sso_emulator.calls() == before


def test_credentials_close_to_expiry_are_renewed(sso_emulator):
    manager = role_credentials_manager("dev", **_LOGIN)
    first = manager.get()
    _set_expiration(manager.entry.path, _in_minutes(14))  # inside botocore's 15-minute window
    renewed = manager.get()
    assert _ops(sso_emulator)["GetRoleCredentials"] == 2
    assert renewed.access_key_id != first.access_key_id
    assert read_json(manager.entry.path)["Credentials"]["AccessKeyId"] == renewed.access_key_id


def test_the_credentials_work_at_sts(sso_emulator):
    creds = role_credentials_manager("dev", **_LOGIN).get()
    sts = boto3.client("sts", aws_access_key_id=creds.access_key_id,
                       aws_secret_access_key=creds.secret_access_key,
                       aws_session_token=creds.session_token)
    arn = sts.get_caller_identity()["Arn"]
    assert arn.startswith("arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_")


def _botocore_sso_provider(home: Path) -> SSOProvider:
    """botocore's own SSO provider with the AWS CLI's file caches (what `aws` does)."""
    session = botocore.session.Session(profile="dev")
    token_cache = JSONFileCache(str(home / ".aws" / "sso" / "cache"))
    return SSOProvider(
        load_config=lambda: session.full_config, client_creator=session.create_client,
        profile_name="dev", cache=JSONFileCache(str(home / ".aws" / "cli" / "cache")),
        token_cache=token_cache,
        token_provider=SSOTokenProvider(session, cache=token_cache, profile_name="dev"),
    )


def test_the_aws_cli_uses_what_we_cached(sso_emulator):
    ours = role_credentials_manager("dev", **_LOGIN).get()
    before = sso_emulator.calls()
    theirs = _botocore_sso_provider(sso_emulator.home).load().get_frozen_credentials()
    assert sso_emulator.calls() == before
    assert (theirs.access_key, theirs.secret_key, theirs.token) == (
        ours.access_key_id, ours.secret_access_key, ours.session_token)


def test_we_use_what_the_aws_cli_cached(sso_emulator):
    sso.login("dev")
    theirs = _botocore_sso_provider(sso_emulator.home).load().get_frozen_credentials()
    assert _ops(sso_emulator)["GetRoleCredentials"] == 1
    before = sso_emulator.calls()
    ours = role_credentials_manager("dev", allow_login=False).get()
    assert sso_emulator.calls() == before
    assert ours.access_key_id == theirs.access_key
    # botocore writes AccountId into its cache entry since its credentials carry an account ID
    # (not yet in the floor, 1.34.103); what it wrote is what we read.
    import inspect

    import botocore.credentials

    has_account = "account_id" in inspect.signature(botocore.credentials.Credentials).parameters
    written = read_json(role_credentials_manager("dev").entry.path)["Credentials"].get("AccountId")
    assert written == ("111111111111" if has_account else None) and ours.account_id == written


def test_legacy_profiles_are_keyed_by_start_url(sso_emulator):
    sso_emulator.write_config(
        "[profile old]\nsso_start_url = https://emulator.awsapps.com/start\nsso_region = us-east-1\n"
        "sso_account_id = 222222222222\nsso_role_name = ReadOnlyAccess\n", append=True)
    manager = role_credentials_manager("old", **_LOGIN)
    creds = manager.get()
    assert manager.profile.sso.is_legacy
    assert creds.account_id == "222222222222"
    assert manager.entry.path == _role_file(sso_emulator.home, manager.profile.sso,
                                            "222222222222", "ReadOnlyAccess")
    assert manager.entry.path.exists()


def test_corrupt_cache_file_is_a_warning_and_replaced(sso_emulator, caplog):
    manager = role_credentials_manager("dev", **_LOGIN)
    manager.entry.path.parent.mkdir(parents=True, exist_ok=True)
    manager.entry.path.write_text('{"ProviderType": "sso", "Credentials": {"AccessKeyId": 3')
    with caplog.at_level(logging.WARNING):
        creds = manager.get()
    assert "Ignoring" in caplog.text and str(manager.entry.path) in caplog.text
    assert RoleCredentials.from_cache(read_json(manager.entry.path)) == creds


@pytest.mark.parametrize("content", [
    {}, {"Credentials": {}}, {"Credentials": {"AccessKeyId": "A", "SecretAccessKey": "B",
                                              "SessionToken": "C", "Expiration": "soon"}},
    {"Credentials": {"AccessKeyId": 1, "SecretAccessKey": "B", "SessionToken": "C",
                     "Expiration": "2030-01-01T00:00:00Z"}},
])
def test_unusable_cache_content_is_none(content):
    assert RoleCredentials.from_cache(content) is None


def test_repr_and_process_output_never_leak_and_follow_the_spec():
    creds = RoleCredentials("ASIAEXAMPLE", "secret-access-key-value", "session-token-value",
                            dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), "111111111111")
    assert "secret-access-key-value" not in repr(creds) and "session-token-value" not in repr(creds)
    assert "secret-access-key-value" not in str(creds)
    assert creds.to_process_output() == {
        "Version": 1, "AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "secret-access-key-value",
        "SessionToken": "session-token-value", "Expiration": "2030-01-02T03:04:05Z",
        "AccountId": "111111111111"}
    assert RoleCredentials.from_cache(creds.to_cache()) == creds


def test_debug_logging_never_shows_the_secret_key(sso_emulator, caplog):
    with caplog.at_level(logging.DEBUG):
        creds = role_credentials_manager("dev", **_LOGIN).get()
    assert "GetRoleCredentials" in caplog.text or "get_role_credentials" in caplog.text.lower()
    assert creds.secret_access_key not in caplog.text
    assert creds.session_token not in caplog.text


# -- revoked tokens --------------------------------------------------------------------------


def _portal_logout(access_token: str) -> None:
    """Sign out "elsewhere": the portal's Logout, leaving our cached token in place."""
    client = boto3.client("sso", region_name="us-east-1",
                          config=Config(signature_version=botocore.UNSIGNED))
    client.logout(accessToken=access_token)


def test_expired_access_token_at_the_portal_is_refreshed_once(sso_emulator):
    sso.login("dev")
    sso_emulator.expire("access_tokens")  # our cached copy still looks valid
    before = sso_emulator.calls()
    creds = role_credentials_manager("dev", allow_login=False).get()
    after = sso_emulator.calls()
    assert after["operations"]["GetRoleCredentials"] == before["operations"]["GetRoleCredentials"] + 2
    assert after["grants"]["refresh_token"] == before["grants"]["refresh_token"] + 1
    assert after["operations"]["StartDeviceAuthorization"] == before["operations"]["StartDeviceAuthorization"]
    assert creds.seconds_left() > 3000


def test_logged_out_elsewhere_logs_in_again_once_when_allowed(sso_emulator):
    token = sso.login("dev")
    _portal_logout(token.access_token)
    before = _ops(sso_emulator)
    creds = role_credentials_manager("dev", **_LOGIN).get()
    after = _ops(sso_emulator)
    assert after["StartDeviceAuthorization"] == before["StartDeviceAuthorization"] + 1
    assert after["GetRoleCredentials"] == before["GetRoleCredentials"] + 2
    assert read_json(token_file(sso_emulator.home, "emulator"))["accessToken"] != token.access_token
    assert creds.account_id == "111111111111"


def test_logged_out_elsewhere_without_login_is_a_typed_error(sso_emulator):
    token = sso.login("dev")
    _portal_logout(token.access_token)
    before = _ops(sso_emulator)
    with pytest.raises(sso.SSOLoginRequiredError) as caught:
        role_credentials_manager("dev", allow_login=False).get()
    assert caught.value.command == "boto-sso-oidc login --profile dev"
    assert token.access_token not in str(caught.value)
    after = _ops(sso_emulator)
    assert after["GetRoleCredentials"] == before["GetRoleCredentials"] + 1
    assert after["StartDeviceAuthorization"] == before["StartDeviceAuthorization"]


def test_a_portal_that_keeps_refusing_is_not_retried_forever(sso_emulator):
    sso.login("dev")
    sso_emulator.fault("GetRoleCredentials", error="UnauthorizedException", count=50)
    before = sso_emulator.calls()
    with pytest.raises(sso.RoleCredentialsError, match="just renewed") as caught:
        role_credentials_manager("dev", **_LOGIN).get()
    after = sso_emulator.calls()
    assert after["operations"]["GetRoleCredentials"] == before["operations"]["GetRoleCredentials"] + 2
    assert after["grants"]["refresh_token"] == before["grants"]["refresh_token"] + 1
    assert "boto-sso-oidc login --profile dev" in str(caught.value)


# -- mistakes and outages --------------------------------------------------------------------


@pytest.mark.parametrize("account, role", [("333333333333", "AdministratorAccess"),
                                           ("111111111111", "NoSuchRole")])
def test_unknown_account_or_role_is_a_typed_error_naming_them(sso_emulator, account, role):
    sso_emulator.write_config(
        f"[profile wrong]\nsso_session = emulator\nsso_account_id = {account}\n"
        f"sso_role_name = {role}\n", append=True)
    with pytest.raises(sso.RoleCredentialsError) as caught:
        role_credentials_manager("wrong", **_LOGIN).get()
    message = str(caught.value)
    assert 'Profile "wrong"' in message and account in message and role in message
    assert "boto-sso-oidc list --profile wrong" in message
    assert isinstance(caught.value, CredentialRetrievalError)  # botocore's family


def test_outage_keeps_still_valid_cached_credentials(sso_emulator, caplog):
    manager = role_credentials_manager("dev", **_LOGIN)
    first = manager.get()
    _set_expiration(manager.entry.path, _in_minutes(5))
    sso_emulator.fault("GetRoleCredentials", error="TooManyRequestsException", count=5)
    with caplog.at_level(logging.WARNING):
        kept = role_credentials_manager("dev", allow_login=False).get()
    assert kept.access_key_id == first.access_key_id
    assert "using the cached ones" in caplog.text


def test_outage_with_expired_credentials_is_a_typed_error(sso_emulator):
    manager = role_credentials_manager("dev", **_LOGIN)
    manager.get()
    _set_expiration(manager.entry.path, "2000-01-01T00:00:00Z")
    sso_emulator.fault("GetRoleCredentials", error="TooManyRequestsException", count=5)
    with pytest.raises(sso.SSOProviderError, match='profile "dev".*Try again later'):
        role_credentials_manager("dev", allow_login=False).get()


def test_profile_without_a_role_is_a_config_error(sso_emulator):
    sso_emulator.write_config("[profile half]\nsso_session = emulator\nsso_account_id = 1\n",
                              append=True)
    with pytest.raises(sso.SSOConfigError) as caught:
        role_credentials_manager("half")
    assert caught.value.key == "sso_role_name" and 'Profile "half"' in str(caught.value)


def test_the_current_profile_is_the_default(sso_emulator, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "dev")
    assert role_credentials_manager().profile.profile == "dev"


# -- forgetting ------------------------------------------------------------------------------


def test_forget_removes_every_role_of_the_session_and_nothing_else(sso_emulator):
    sso_emulator.write_config(
        "[profile prod]\nsso_session = emulator\nsso_account_id = 222222222222\n"
        "sso_role_name = ReadOnlyAccess\n"
        "[profile other]\nsso_session = elsewhere\nsso_account_id = 111111111111\n"
        "sso_role_name = AdministratorAccess\n"
        "[sso-session elsewhere]\nsso_start_url = https://emulator.awsapps.com/start\n"
        "sso_region = us-east-1\n", append=True)
    dev = role_credentials_manager("dev", **_LOGIN)
    dev.get()
    role_credentials_manager("prod", **_LOGIN).get()
    other = role_credentials_manager("other", **_LOGIN)
    other.get()
    extra = _role_file(sso_emulator.home, dev.profile.sso, "222222222222", "AdministratorAccess")
    extra.write_text(dev.entry.path.read_text())

    config = AWSConfig.load()
    removed = forget_role_credentials(dev.profile.sso, config, [("222222222222", "AdministratorAccess")])

    assert removed == 3
    assert not dev.entry.path.exists() and not extra.exists()
    assert other.entry.path.exists()
    assert forget_role_credentials(dev.profile.sso, config) == 0


def test_logout_removes_the_role_credentials(sso_emulator):
    manager = role_credentials_manager("dev", **_LOGIN)
    manager.get()
    sso.logout("dev")
    assert not manager.entry.path.exists()
