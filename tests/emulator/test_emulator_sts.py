"""STS against botocore's client: SigV4 checked for real, AssumeRole, the auth errors."""

from __future__ import annotations

import hashlib
import re
import urllib.request
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulator_helpers import UNSIGNED, Clients, client, raw

from boto_sso_oidc_provider.emulator import EmulatorHandle


def _code(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = error.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def credentials(clients: Clients) -> dict[str, Any]:
    return clients.role_credentials(clients.login().access_token, "222222222222",
                                    "AdministratorAccess")


def test_get_caller_identity_of_sso_role_credentials(clients: Clients,
                                                     credentials: dict[str, Any]) -> None:
    identity = clients.sts(credentials).get_caller_identity()
    suffix = hashlib.sha256(b"sso-role\x00222222222222\x00AdministratorAccess").hexdigest()[:16]
    assert identity["Account"] == "222222222222"
    assert identity["Arn"] == ("arn:aws:sts::222222222222:assumed-role/"
                               f"AWSReservedSSO_AdministratorAccess_{suffix}/jane.doe")
    assert re.fullmatch(r"AROA[A-Z2-7]{17}:jane\.doe", identity["UserId"])


def test_signature_checked_in_any_region(clients: Clients, credentials: dict[str, Any]) -> None:
    for region in ("eu-west-1", "ap-southeast-2"):
        assert clients.sts(credentials, region=region).get_caller_identity()["Account"]


def test_assume_role_then_get_caller_identity(clients: Clients, credentials: dict[str, Any]) \
        -> None:
    assumed = clients.sts(credentials).assume_role(
        RoleArn="arn:aws:iam::111111111111:role/deploy/Deployer", RoleSessionName="ci-run",
        DurationSeconds=900)
    user = assumed["AssumedRoleUser"]
    assert user["Arn"] == "arn:aws:sts::111111111111:assumed-role/Deployer/ci-run"
    assert re.fullmatch(r"AROA[A-Z2-7]{17}:ci-run", user["AssumedRoleId"])
    new = assumed["Credentials"]
    assert new["AccessKeyId"] != credentials["accessKeyId"]
    remaining = (new["Expiration"] - datetime.now(timezone.utc)).total_seconds()
    assert 890 < remaining <= 900
    identity = clients.sts(new).get_caller_identity()
    assert (identity["Arn"], identity["UserId"], identity["Account"]) == \
        (user["Arn"], user["AssumedRoleId"], "111111111111")


def test_assume_role_in_an_unknown_account_is_access_denied(
        clients: Clients, credentials: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as denied:
        clients.sts(credentials).assume_role(RoleArn="arn:aws:iam::999999999999:role/Admin",
                                             RoleSessionName="x1")
    assert _code(denied) == ("AccessDenied", 403)
    assert "sts:AssumeRole" in denied.value.response["Error"]["Message"]


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"RoleArn": "arn:aws:iam::111111111111:user/Admin"}, "invalid"),
    ({"DurationSeconds": 7200}, "role chaining"),
])
def test_assume_role_validation(clients: Clients, credentials: dict[str, Any],
                                kwargs: dict[str, Any], fragment: str) -> None:
    arguments = {"RoleArn": "arn:aws:iam::111111111111:role/Admin", "RoleSessionName": "s1",
                 **kwargs}
    with pytest.raises(ClientError) as invalid:
        clients.sts(credentials).assume_role(**arguments)
    assert _code(invalid) == ("ValidationError", 400)
    assert fragment in invalid.value.response["Error"]["Message"]


def test_wrong_secret_is_signature_does_not_match(clients: Clients,
                                                  credentials: dict[str, Any]) -> None:
    sts = clients.sts(credentials, aws_secret_access_key="x" * 40)
    with pytest.raises(ClientError) as bad:
        sts.get_caller_identity()
    assert _code(bad) == ("SignatureDoesNotMatch", 403)


def test_body_changed_after_signing_is_signature_does_not_match(
        clients: Clients, credentials: dict[str, Any]) -> None:
    sts = clients.sts(credentials)

    def tamper(request: Any, **_: Any) -> None:
        request.body = request.body.replace("s1", "s2")  # same length: Content-Length holds

    sts.meta.events.register_last("before-send.sts.AssumeRole", tamper)
    with pytest.raises(ClientError) as bad:
        sts.assume_role(RoleArn="arn:aws:iam::111111111111:role/Admin", RoleSessionName="s1")
    assert _code(bad) == ("SignatureDoesNotMatch", 403)


@pytest.mark.parametrize("overrides", [
    {"aws_access_key_id": "ASIAUNKNOWNUNKNOWN12"},
    {"aws_session_token": "not-the-issued-token"},
    {"aws_session_token": None},
], ids=["unknown-key", "wrong-session-token", "no-session-token"])
def test_unknown_key_or_session_token_is_invalid_client_token_id(
        clients: Clients, credentials: dict[str, Any], overrides: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as bad:
        clients.sts(credentials, **overrides).get_caller_identity()
    assert _code(bad) == ("InvalidClientTokenId", 403)


def test_expired_credentials_are_expired_token(clients: Clients, emulator: EmulatorHandle,
                                               credentials: dict[str, Any]) -> None:
    sts = clients.sts(credentials)
    assert sts.get_caller_identity()
    emulator.expire("role_credentials")
    with pytest.raises(ClientError) as expired:
        sts.get_caller_identity()
    assert _code(expired) == ("ExpiredToken", 400)


def test_unsigned_request_is_missing_authentication_token(emulator: EmulatorHandle) -> None:
    sts = client(emulator.url, "sts", config=UNSIGNED)
    with pytest.raises(ClientError) as missing:
        sts.get_caller_identity()
    assert _code(missing) == ("MissingAuthenticationToken", 403)


def test_malformed_authorization_is_incomplete_signature(emulator: EmulatorHandle) -> None:
    response = raw(emulator.url, "POST", "/", "Action=GetCallerIdentity&Version=2011-06-15",
                   {"Authorization": "AWS4-HMAC-SHA256 Credential=AKID",
                    "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 400
    assert b"<Code>IncompleteSignature</Code>" in response.body
    assert b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">' in response.body


def test_presigned_get_caller_identity(clients: Clients, credentials: dict[str, Any]) -> None:
    """What ``aws eks get-token`` does: a presigned GetCallerIdentity URL, fetched with GET."""
    url = clients.sts(credentials).generate_presigned_url("get_caller_identity", ExpiresIn=60,
                                                          HttpMethod="GET")
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read().decode()
    assert "<Account>222222222222</Account>" in body
    with pytest.raises(urllib.error.HTTPError) as forged:
        urllib.request.urlopen(url.replace("X-Amz-Expires=60", "X-Amz-Expires=61"), timeout=10)
    assert forged.value.code == 403


def test_unknown_action_is_invalid_action(emulator: EmulatorHandle,
                                          credentials: dict[str, Any]) -> None:
    response = raw(emulator.url, "POST", "/", "Action=GetSessionToken&Version=2011-06-15",
                   {"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 400 and b"<Code>InvalidAction</Code>" in response.body


@pytest.mark.parametrize(("error", "status"), [("Throttling", 400), ("InternalFailure", 500),
                                               ("ExpiredTokenException", 400)])
def test_sts_faults(clients: Clients, emulator: EmulatorHandle, credentials: dict[str, Any],
                    error: str, status: int) -> None:
    emulator.fault("GetCallerIdentity", error=error)
    sts = clients.sts(credentials)
    with pytest.raises(ClientError) as failed:
        sts.get_caller_identity()
    assert _code(failed) == (error, status)
    assert sts.get_caller_identity()["Account"] == "222222222222"
