"""The service's newer answers, against the emulator: RegisterClient's SlowDownException is retried
with backoff, and the KMS reasons of an instance with a customer managed key are named."""

from __future__ import annotations

import botocore.exceptions
import pytest

import boto_sso_oidc_provider as sso
from boto_sso_oidc_provider.options import Options

from .conftest import age_token, token_file


def _ops(emulator) -> dict[str, int]:
    return emulator.calls()["operations"]


def test_register_client_slow_down_is_retried_with_a_doubling_wait(sso_emulator):
    sso_emulator.fault("RegisterClient", "SlowDownException", count=2)
    waits: list[float] = []

    token = sso.login("dev", options=Options(sleep=waits.append))

    assert token.access_token
    assert _ops(sso_emulator)["RegisterClient"] == 3
    assert waits[:2] == [0.5, 1.0]  # then the device flow's own polling waits


def test_register_client_slow_down_gives_up_after_three_retries(sso_emulator):
    sso_emulator.fault("RegisterClient", "SlowDownException", count=4)
    waits: list[float] = []

    with pytest.raises(botocore.exceptions.ClientError) as caught:
        sso.login("dev", options=Options(sleep=waits.append))

    assert caught.value.response["Error"]["Code"] == "SlowDownException"
    assert _ops(sso_emulator)["RegisterClient"] == 4 and waits == [0.5, 1.0, 2.0]
    assert _ops(sso_emulator)["StartDeviceAuthorization"] == 0


KMS = [
    ("AccessDeniedException", "KMS_AccessDeniedException", "the key policy does not let"),
    ("InvalidRequestException", "KMS_DisabledException", "the key is disabled"),
    ("InvalidRequestException", "KMS_NotFoundException", "the key was not found"),
    ("InvalidRequestException", "KMS_InvalidStateException", "not in a usable state"),
    ("InvalidRequestException", "KMS_InvalidKeyUsageException", "not a symmetric encryption key"),
]


@pytest.mark.parametrize("error, reason, what", KMS, ids=[reason for _, reason, _ in KMS])
def test_a_refresh_refused_for_the_kms_key_names_the_reason_and_keeps_the_token(sso_emulator, error,
                                                                               reason, what):
    sso.login("dev")
    path = token_file(sso_emulator.home, "emulator")
    cached = age_token(path)
    sso_emulator.fault("CreateToken", error, reason=reason, grant_type="refresh_token")

    with pytest.raises(sso.SSOProviderError) as caught:
        sso.load_token("dev", allow_login=False)

    message = str(caught.value)
    assert f"{error} ({reason})" in message and what in message, message
    assert "customer managed KMS key" in message and "administrator" in message
    assert "emulator" in message  # the sso-session
    # The refresh token is not to blame: it stays for the next try.
    assert token_file(sso_emulator.home, "emulator").read_text().count(cached["refreshToken"]) == 1


def test_a_login_refused_for_the_kms_key_is_not_reported_as_denied_in_the_browser(sso_emulator):
    sso_emulator.fault("CreateToken", "AccessDeniedException", reason="KMS_AccessDeniedException",
                       grant_type="urn:ietf:params:oauth:grant-type:device_code")

    with pytest.raises(sso.SSOLoginError) as caught:
        sso.login("dev")

    assert not isinstance(caught.value, sso.DeviceAuthorizationDeniedError)
    message = str(caught.value)
    assert "AccessDeniedException (KMS_AccessDeniedException)" in message
    assert "emulator" in message and "logging in again will not help" in message


def test_start_device_authorization_refused_for_the_kms_key_names_the_reason(sso_emulator):
    sso_emulator.fault("StartDeviceAuthorization", "InvalidRequestException",
                       reason="KMS_DisabledException")

    with pytest.raises(sso.SSOLoginError, match=r"InvalidRequestException \(KMS_DisabledException\)"):
        sso.login("dev")


@pytest.mark.parametrize("operation, error, reason", [
    ("CreateToken", "InvalidGrantException", "KMS_DisabledException"),  # no reason for this error
    ("GetRoleCredentials", "InvalidRequestException", "KMS_DisabledException"),  # not SSO OIDC
    ("CreateToken", "AccessDeniedException", "KMS_DisabledException"),  # not this error's reason
])
def test_the_emulator_takes_a_kms_reason_only_where_the_model_has_it(sso_emulator, operation, error,
                                                                      reason):
    with pytest.raises(Exception, match="reason is for SSO OIDC errors only"):
        sso_emulator.fault(operation, error, reason=reason)
