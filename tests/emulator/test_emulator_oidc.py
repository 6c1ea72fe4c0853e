"""SSO OIDC against botocore's own client: device flow, refresh rotation, PKCE, every error."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from emulator_helpers import DEVICE_GRANT, START_URL, Clients, raw

from boto_sso_oidc_provider.emulator import EmulatorHandle, run_emulator

OIDC_ERRORS = [
    "AccessDeniedException",
    "AuthorizationPendingException",
    "ExpiredTokenException",
    "InternalServerException",
    "InvalidClientException",
    "InvalidGrantException",
    "InvalidRequestException",
    "InvalidScopeException",
    "SlowDownException",
    "UnauthorizedClientException",
    "UnsupportedGrantTypeException",
]


def _error(excinfo: pytest.ExceptionInfo[Any]) -> dict[str, Any]:
    response = excinfo.value.response
    body = response["Error"]
    return {"code": body["Code"], "status": response["ResponseMetadata"]["HTTPStatusCode"],
            "error": response.get("error"), "description": response.get("error_description")}


def test_register_client_returns_credentials_and_epoch_times(clients: Clients) -> None:
    registration = clients.register()
    assert registration["clientId"] and registration["clientSecret"]
    issued, expires = registration["clientIdIssuedAt"], registration["clientSecretExpiresAt"]
    assert expires - issued == 90 * 24 * 3600
    assert abs(issued - dt.datetime.now(dt.timezone.utc).timestamp()) < 60


def test_device_flow_pending_then_approved_then_token(clients: Clients,
                                                      emulator: EmulatorHandle) -> None:
    registration = clients.register()
    device = clients.start(registration)
    assert re.fullmatch(r"[B-Z]{4}-[B-Z]{4}", device["userCode"])
    assert device["verificationUri"] == f"{emulator.url}/device"
    assert device["verificationUriComplete"] == \
        f"{emulator.url}/device?user_code={device['userCode']}"
    assert (device["expiresIn"], device["interval"]) == (600, 0)

    with pytest.raises(clients.oidc.exceptions.AuthorizationPendingException) as pending:
        clients.poll(registration, device)
    assert _error(pending)["error"] == "authorization_pending"
    assert emulator.pending() == [device["userCode"]]

    emulator.approve(device["userCode"])
    assert emulator.pending() == []
    token = clients.poll(registration, device)
    assert token["tokenType"] == "Bearer"
    assert 3590 <= token["expiresIn"] <= 3600
    assert token["accessToken"] != token["refreshToken"]
    accounts = clients.sso.list_accounts(accessToken=token["accessToken"])["accountList"]
    assert [a["accountId"] for a in accounts] == ["111111111111", "222222222222"]

    # A device code is good for one token.
    with pytest.raises(clients.oidc.exceptions.InvalidGrantException):
        clients.poll(registration, device)
    assert emulator.calls()["grants"][DEVICE_GRANT] == 3


def test_deny_gives_access_denied(clients: Clients, emulator: EmulatorHandle) -> None:
    registration = clients.register()
    device = clients.start(registration)
    emulator.deny(device["userCode"])
    with pytest.raises(clients.oidc.exceptions.AccessDeniedException) as denied:
        clients.poll(registration, device)
    assert _error(denied) == {"code": "AccessDeniedException", "status": 400,
                              "error": "access_denied", "description": denied.value.response[
                                  "error_description"]}


def test_device_code_expiry_gives_expired_token(clients: Clients, emulator: EmulatorHandle) -> None:
    registration = clients.register()
    device = clients.start(registration)
    assert emulator.expire("device_codes") == 1
    assert emulator.pending() == []
    with pytest.raises(clients.oidc.exceptions.ExpiredTokenException) as expired:
        clients.poll(registration, device)
    assert _error(expired)["error"] == "expired_token"


@pytest.mark.sso_emulator(interval=5)
def test_polling_faster_than_interval_gives_slow_down(clients: Clients) -> None:
    registration = clients.register()
    device = clients.start(registration)
    assert device["interval"] == 5
    with pytest.raises(clients.oidc.exceptions.AuthorizationPendingException):
        clients.poll(registration, device)
    with pytest.raises(clients.oidc.exceptions.SlowDownException) as slow:
        clients.poll(registration, device)
    assert _error(slow)["error"] == "slow_down"


def test_slow_down_follows_the_injectable_clock() -> None:
    now = [dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)]
    with run_emulator(interval=5, clock=lambda: now[0]) as emulator:
        clients = Clients(emulator)
        registration = clients.register()
        device = clients.start(registration)
        with pytest.raises(clients.oidc.exceptions.AuthorizationPendingException):
            clients.poll(registration, device)
        now[0] += dt.timedelta(seconds=4)
        with pytest.raises(clients.oidc.exceptions.SlowDownException):
            clients.poll(registration, device)
        now[0] += dt.timedelta(seconds=5)
        emulator.approve(device["userCode"])
        token = clients.poll(registration, device)
        assert token["expiresIn"] == 3600
        # Time moves past the access token's lifetime: the portal refuses it.
        now[0] += dt.timedelta(seconds=3600)
        with pytest.raises(clients.sso.exceptions.UnauthorizedException):
            clients.sso.list_accounts(accessToken=token["accessToken"])


@pytest.mark.sso_emulator(auto_approve=True)
def test_auto_approve_still_answers_one_pending_poll(clients: Clients,
                                                     emulator: EmulatorHandle) -> None:
    registration = clients.register()
    device = clients.start(registration)
    assert emulator.pending() == [device["userCode"]]
    with pytest.raises(clients.oidc.exceptions.AuthorizationPendingException):
        clients.poll(registration, device)
    assert emulator.pending() == []
    assert clients.poll(registration, device)["accessToken"]


def test_refresh_rotates_and_rejects_the_used_token(clients: Clients,
                                                    emulator: EmulatorHandle) -> None:
    login = clients.login()
    registration = {"clientId": login.client_id, "clientSecret": login.client_secret}
    assert login.refresh_token
    refreshed = clients.refresh(registration, login.refresh_token)
    assert refreshed["refreshToken"] not in (None, login.refresh_token)
    assert refreshed["accessToken"] != login.access_token
    # Both access tokens belong to the same, still open, session.
    for token in (login.access_token, refreshed["accessToken"]):
        assert clients.sso.list_accounts(accessToken=token)["accountList"]

    with pytest.raises(clients.oidc.exceptions.InvalidGrantException) as reused:
        clients.refresh(registration, login.refresh_token)
    assert _error(reused)["error"] == "invalid_grant"
    again = clients.refresh(registration, refreshed["refreshToken"])
    assert again["accessToken"]
    assert emulator.calls()["grants"]["refresh_token"] == 3

    # The rotated tokens keep the session's expiry; when it passes, refresh ends.
    with emulator.state.lock:
        expiries = {t.expires_at for t in emulator.state.refresh_tokens.values()}
    assert len(expiries) == 1
    emulator.expire("refresh_tokens")
    with pytest.raises(clients.oidc.exceptions.InvalidGrantException):
        clients.refresh(registration, again["refreshToken"])


def test_refresh_token_only_for_clients_registered_with_scopes_or_the_grant(
        clients: Clients) -> None:
    legacy = clients.login(scopes=[])
    assert legacy.refresh_token is None
    with_grant = clients.login(scopes=[], grantTypes=[DEVICE_GRANT, "refresh_token"])
    assert with_grant.refresh_token


def test_openid_scope_adds_an_id_token(clients: Clients) -> None:
    login = clients.login(scopes=["sso:account:access", "openid"])
    header, payload, signature = login.response["idToken"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == "jane.doe" and claims["aud"] == login.client_id
    assert "idToken" not in clients.login().response


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def _authorize(emulator: EmulatorHandle, registration: dict[str, Any], challenge: str,
               redirect_uri: str, state: str = "st-123") -> dict[str, list[str]]:
    """GET /authorize on an auto-approving emulator; the 302's query."""
    query = urlencode({
        "response_type": "code", "client_id": registration["clientId"],
        "redirect_uri": redirect_uri, "state": state, "code_challenge": challenge,
        "code_challenge_method": "S256", "scopes": "sso:account:access",
    })
    response = raw(emulator.url, "GET", f"/authorize?{query}")
    assert response.status == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    return parse_qs(location.query)


@pytest.mark.sso_emulator(auto_approve=True)
def test_authorization_code_with_pkce(clients: Clients, emulator: EmulatorHandle) -> None:
    registration = clients.register(grantTypes=["authorization_code", "refresh_token"],
                                    redirectUris=["http://127.0.0.1/oauth/callback"],
                                    issuerUrl=START_URL)
    verifier, challenge = _pkce()
    # Loopback redirect URIs may use any port (RFC 8252 section 7.3).
    redirect_uri = "http://127.0.0.1:49152/oauth/callback"
    query = _authorize(emulator, registration, challenge, redirect_uri)
    assert query["state"] == ["st-123"]
    token = clients.oidc.create_token(
        clientId=registration["clientId"], clientSecret=registration["clientSecret"],
        grantType="authorization_code", code=query["code"][0], redirectUri=redirect_uri,
        codeVerifier=verifier)
    assert token["accessToken"] and token["refreshToken"]
    assert clients.sso.list_accounts(accessToken=token["accessToken"])["accountList"]
    assert emulator.calls()["grants"]["authorization_code"] == 1


@pytest.mark.sso_emulator(auto_approve=True)
def test_authorization_code_with_wrong_verifier_is_invalid_grant(
        clients: Clients, emulator: EmulatorHandle) -> None:
    registration = clients.register(grantTypes=["authorization_code"],
                                    redirectUris=["http://127.0.0.1/oauth/callback"])
    verifier, challenge = _pkce()
    redirect_uri = "http://127.0.0.1:50000/oauth/callback"
    code = _authorize(emulator, registration, challenge, redirect_uri)["code"][0]
    with pytest.raises(clients.oidc.exceptions.InvalidGrantException) as wrong:
        clients.oidc.create_token(
            clientId=registration["clientId"], clientSecret=registration["clientSecret"],
            grantType="authorization_code", code=code, redirectUri=redirect_uri,
            codeVerifier=verifier + "x")
    assert "PKCE" in _error(wrong)["description"]
    # The code was spent on the failed attempt.
    with pytest.raises(clients.oidc.exceptions.InvalidGrantException):
        clients.oidc.create_token(
            clientId=registration["clientId"], clientSecret=registration["clientSecret"],
            grantType="authorization_code", code=code, redirectUri=redirect_uri,
            codeVerifier=verifier)


# -- every error type from a real condition ------------------------------------

def _invalid_client_unknown(clients: Clients) -> None:
    clients.start({"clientId": "nobody", "clientSecret": "nothing"})


def _invalid_client_wrong_secret(clients: Clients) -> None:
    registration = clients.register()
    clients.start({**registration, "clientSecret": registration["clientSecret"] + "x"})


def _invalid_client_expired(clients: Clients) -> None:
    registration = clients.register()
    clients.emulator.expire("registrations")
    clients.start(registration)


def _invalid_request_start_url(clients: Clients) -> None:
    clients.start(clients.register(), start_url="https://other.awsapps.com/start")


def _invalid_request_no_device_code(clients: Clients) -> None:
    registration = clients.register()
    clients.oidc.create_token(clientId=registration["clientId"],
                              clientSecret=registration["clientSecret"], grantType=DEVICE_GRANT)


def _invalid_client_metadata(clients: Clients) -> None:
    clients.register(clientType="confidential")


def _invalid_redirect_uri(clients: Clients) -> None:
    clients.register(grantTypes=["authorization_code"], redirectUris=["https://example.com/cb"])


def _invalid_scope_register(clients: Clients) -> None:
    clients.register(scopes=["sso:account:access", "s3:everything"])


def _invalid_scope_token(clients: Clients) -> None:
    login = clients.login()
    clients.oidc.create_token(clientId=login.client_id, clientSecret=login.client_secret,
                              grantType="refresh_token", refreshToken=login.refresh_token,
                              scope=["admin:all"])


def _unsupported_grant(clients: Clients) -> None:
    registration = clients.register()
    clients.oidc.create_token(clientId=registration["clientId"],
                              clientSecret=registration["clientSecret"], grantType="password")


def _unauthorized_client_start(clients: Clients) -> None:
    clients.start(clients.register(grantTypes=["authorization_code"],
                                   redirectUris=["http://127.0.0.1/cb"]))


def _unauthorized_client_token(clients: Clients) -> None:
    registration = clients.register(grantTypes=["authorization_code"],
                                    redirectUris=["http://127.0.0.1/cb"])
    clients.oidc.create_token(clientId=registration["clientId"],
                              clientSecret=registration["clientSecret"],
                              grantType=DEVICE_GRANT, deviceCode="whatever")


def _invalid_grant_device_code(clients: Clients) -> None:
    registration = clients.register()
    clients.poll(registration, {"deviceCode": "not-a-device-code"})


def _invalid_grant_refresh_token(clients: Clients) -> None:
    registration = clients.register()
    clients.refresh(registration, "aor-not-issued")


CONDITIONS = [
    (_invalid_client_unknown, "InvalidClientException", 401, "invalid_client"),
    (_invalid_client_wrong_secret, "InvalidClientException", 401, "invalid_client"),
    (_invalid_client_expired, "InvalidClientException", 401, "invalid_client"),
    (_invalid_request_start_url, "InvalidRequestException", 400, "invalid_request"),
    (_invalid_request_no_device_code, "InvalidRequestException", 400, "invalid_request"),
    (_invalid_client_metadata, "InvalidClientMetadataException", 400, "invalid_client_metadata"),
    (_invalid_redirect_uri, "InvalidRedirectUriException", 400, "invalid_redirect_uri"),
    (_invalid_scope_register, "InvalidScopeException", 400, "invalid_scope"),
    (_invalid_scope_token, "InvalidScopeException", 400, "invalid_scope"),
    (_unsupported_grant, "UnsupportedGrantTypeException", 400, "unsupported_grant_type"),
    (_unauthorized_client_start, "UnauthorizedClientException", 400, "unauthorized_client"),
    (_unauthorized_client_token, "UnauthorizedClientException", 400, "unauthorized_client"),
    (_invalid_grant_device_code, "InvalidGrantException", 400, "invalid_grant"),
    (_invalid_grant_refresh_token, "InvalidGrantException", 400, "invalid_grant"),
]


@pytest.mark.sso_emulator(start_urls=[START_URL])
@pytest.mark.parametrize(("cause", "name", "status", "code"), CONDITIONS,
                         ids=[cause.__name__.strip("_") for cause, *_ in CONDITIONS])
def test_error_from_a_real_condition(clients: Clients, cause: Any, name: str, status: int,
                                     code: str) -> None:
    with pytest.raises(getattr(clients.oidc.exceptions, name)) as excinfo:
        cause(clients)
    error = _error(excinfo)
    assert (error["code"], error["status"], error["error"]) == (name, status, code)
    assert error["description"]


@pytest.mark.parametrize("name", OIDC_ERRORS)
def test_every_error_through_fault_injection(clients: Clients, emulator: EmulatorHandle,
                                             name: str) -> None:
    login = clients.login()
    registration = {"clientId": login.client_id, "clientSecret": login.client_secret}
    emulator.fault("CreateToken", error=name, grant_type="refresh_token")
    with pytest.raises(getattr(clients.oidc.exceptions, name)) as excinfo:
        clients.refresh(registration, login.refresh_token)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == \
        (500 if name == "InternalServerException" else 401 if name == "InvalidClientException"
         else 400)
    # One call only, and the refresh token was not spent by the fault.
    assert clients.refresh(registration, login.refresh_token)["accessToken"]


def test_grant_type_filter_leaves_other_grants_alone(clients: Clients,
                                                     emulator: EmulatorHandle) -> None:
    emulator.fault("CreateToken", error="SlowDownException", grant_type="refresh_token", count=2)
    login = clients.login()  # device code grant: unaffected
    registration = {"clientId": login.client_id, "clientSecret": login.client_secret}
    for _ in range(2):
        with pytest.raises(clients.oidc.exceptions.SlowDownException):
            clients.refresh(registration, login.refresh_token)
    assert clients.refresh(registration, login.refresh_token)["refreshToken"]
