"""SSO OIDC (``oidc.<region>.amazonaws.com``): RegisterClient, StartDeviceAuthorization, CreateToken.

restJson1 without signatures. Errors are shaped as the service shapes them:
the modeled HTTP status, ``x-amzn-errortype: <Name>Exception`` and a body
``{"error": "<OAuth code>", "error_description": "..."}``, which botocore
raises as ``client.exceptions.<Name>Exception``.

Grants: the device code grant (RFC 8628), ``refresh_token`` (refresh tokens
rotate: each use returns a new one and the used one is refused afterwards)
and ``authorization_code`` with PKCE S256 (RFC 7636), whose code comes from
``/authorize`` (see :mod:`._pages`). The checks run in the order the
service's errors suggest: missing field, grant type, client, client's
grants, scope, then the grant itself.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from ._http import (
    Request,
    Response,
    Route,
    ServiceError,
    json_body,
    json_response,
    rest_json_error,
)
from ._state import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_DEVICE_CODE,
    GRANT_REFRESH_TOKEN,
    GRANT_TYPES,
    AccessToken,
    EmulatorState,
    RefreshToken,
    Registration,
    SsoSession,
)

# name -> (HTTP status, OAuth error code), from the service model.
_ERRORS: dict[str, tuple[int, str]] = {
    "AccessDeniedException": (400, "access_denied"),
    "AuthorizationPendingException": (400, "authorization_pending"),
    "ExpiredTokenException": (400, "expired_token"),
    "InternalServerException": (500, "server_error"),
    "InvalidClientException": (401, "invalid_client"),
    "InvalidClientMetadataException": (400, "invalid_client_metadata"),
    "InvalidGrantException": (400, "invalid_grant"),
    "InvalidRedirectUriException": (400, "invalid_redirect_uri"),
    "InvalidRequestException": (400, "invalid_request"),
    "InvalidScopeException": (400, "invalid_scope"),
    "SlowDownException": (400, "slow_down"),
    "UnauthorizedClientException": (400, "unauthorized_client"),
    "UnsupportedGrantTypeException": (400, "unsupported_grant_type"),
}

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class OidcErrors:
    """The SSO OIDC error shape."""

    invalid_request = "InvalidRequestException"
    internal_error = "InternalServerException"

    def error(self, name: str, message: str, status: int | None = None,
              request_id: str = "", reason: str | None = None) -> Response:
        modeled_status, code = _ERRORS.get(name, (400, "invalid_request"))
        payload = {"error": code, "error_description": message}
        if reason is not None:
            payload["reason"] = reason
        return rest_json_error(status or modeled_status, name, payload)

    def fault_errors(self) -> Mapping[str, int]:
        return {name: status for name, (status, _) in _ERRORS.items()}


ERRORS = OidcErrors()

# The ``reason`` an error may carry (the 2025 model): an instance encrypted with a customer
# managed KMS key that IAM Identity Center cannot use.
REASONS: dict[str, frozenset[str]] = {
    "AccessDeniedException": frozenset({"KMS_AccessDeniedException"}),
    "InvalidRequestException": frozenset({"KMS_NotFoundException", "KMS_InvalidKeyUsageException",
                                          "KMS_InvalidStateException", "KMS_DisabledException"}),
}


def oidc_error(name: str, message: str) -> ServiceError:
    """A refusal with the SSO OIDC error ``name`` (e.g. ``InvalidGrantException``)."""
    return ServiceError(ERRORS.error(name, message))


def _invalid_request(message: str) -> ServiceError:
    return oidc_error("InvalidRequestException", message)


def _optional(body: Mapping[str, Any], name: str) -> str | None:
    """A string field, or ``None`` when absent; raises InvalidRequestException otherwise."""
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise _invalid_request(f"{name} must be a string")
    return value


def _required(body: Mapping[str, Any], name: str) -> str:
    """A non-empty string field; raises InvalidRequestException when missing or empty."""
    value = _optional(body, name)
    if not value:
        raise _invalid_request(f"{name} is required")
    return value


def _strings(body: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = body.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid_request(f"{name} must be a list of strings")
    return tuple(dict.fromkeys(value))


def check_scopes(state: EmulatorState, scopes: tuple[str, ...]) -> None:
    """Raises InvalidScopeException for a scope outside the configured allowed set."""
    unknown = [scope for scope in scopes if scope not in state.config.scopes]
    if unknown:
        raise oidc_error("InvalidScopeException", f"Invalid scope: {' '.join(unknown)}")


def is_loopback_redirect(uri: str) -> bool:
    """Whether ``uri`` is an ``http`` URI on the loopback interface (RFC 8252 section 7.3)."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS and not parts.fragment


def redirect_registered(registration: Registration, uri: str) -> bool:
    """Whether ``uri`` is one the client registered, any port allowed (RFC 8252 section 7.3).

    A client that registered no redirect URIs may use any loopback one.
    """
    if not is_loopback_redirect(uri):
        return False
    if not registration.redirect_uris:
        return True
    wanted = urlsplit(uri)
    return any(
        (given.scheme, given.hostname, given.path or "/") ==
        (wanted.scheme, wanted.hostname, wanted.path or "/")
        for given in map(urlsplit, registration.redirect_uris)
    )


def authenticate(state: EmulatorState, client_id: str, client_secret: str) -> Registration:
    """The live registration with these credentials.

    Raises InvalidClientException for an unknown client, a wrong secret or an
    expired registration.
    """
    with state.lock:
        registration = state.registrations.get(client_id)
        if registration is None or not hmac.compare_digest(
            registration.client_secret.encode(), client_secret.encode()
        ):
            raise oidc_error("InvalidClientException", "Invalid client credentials")
        if not state.alive(registration.expires_at):
            raise oidc_error("InvalidClientException", "Client registration has expired")
        return registration


def _epoch(moment: _dt.datetime) -> int:
    return int(moment.timestamp())


# -- RegisterClient -----------------------------------------------------------

def register_client(state: EmulatorState, request: Request) -> Response:
    body = json_body(request, _invalid_request)
    client_name = _required(body, "clientName")
    client_type = _required(body, "clientType")
    scopes = _strings(body, "scopes")
    grant_types = _strings(body, "grantTypes")
    redirect_uris = _strings(body, "redirectUris")
    issuer_url = _optional(body, "issuerUrl")
    if client_type != "public":
        raise oidc_error("InvalidClientMetadataException",
                         f"Invalid client type: {client_type}; only public is supported")
    check_scopes(state, scopes)
    unsupported = [grant for grant in grant_types if grant not in GRANT_TYPES]
    if unsupported:
        raise oidc_error("UnsupportedGrantTypeException",
                         f"Unsupported grant type: {', '.join(unsupported)}")
    bad_uris = [uri for uri in redirect_uris if not is_loopback_redirect(uri)]
    if bad_uris:
        raise oidc_error("InvalidRedirectUriException",
                         "Redirect URIs must be http URIs on 127.0.0.1, localhost or [::1]")
    if GRANT_AUTHORIZATION_CODE in grant_types and not redirect_uris:
        raise oidc_error("InvalidRedirectUriException",
                         "The authorization_code grant needs redirectUris")
    registration = state.register_client(
        client_name=client_name, client_type=client_type, scopes=scopes,
        grant_types=grant_types, redirect_uris=redirect_uris, issuer_url=issuer_url,
    )
    return json_response(200, {
        "clientId": registration.client_id,
        "clientSecret": registration.client_secret,
        "clientIdIssuedAt": _epoch(registration.issued_at),
        "clientSecretExpiresAt": _epoch(registration.expires_at),
    })


# -- StartDeviceAuthorization ---------------------------------------------------

def _same_url(left: str, right: str) -> bool:
    return left.rstrip("/#") == right.rstrip("/#")


def start_device_authorization(state: EmulatorState, request: Request) -> Response:
    body = json_body(request, _invalid_request)
    client_id = _required(body, "clientId")
    client_secret = _required(body, "clientSecret")
    start_url = _required(body, "startUrl")
    registration = authenticate(state, client_id, client_secret)
    if not registration.allows(GRANT_DEVICE_CODE):
        raise oidc_error("UnauthorizedClientException",
                         "The client is not registered for the device code grant")
    allowed = state.config.start_urls
    if allowed and not any(_same_url(start_url, url) for url in allowed):
        raise _invalid_request(f"Invalid start URL: {start_url}")
    authorization = state.start_device_authorization(registration, start_url)
    verification_uri = f"{request.base_url}/device"
    return json_response(200, {
        "deviceCode": authorization.device_code,
        "userCode": authorization.user_code,
        "verificationUri": verification_uri,
        "verificationUriComplete":
            f"{verification_uri}?{urlencode({'user_code': authorization.user_code})}",
        "expiresIn": int(state.config.device_code_ttl),
        "interval": authorization.interval,
    })


# -- CreateToken ----------------------------------------------------------------

def grant_type_of(request: Request) -> str | None:
    """CreateToken's ``grantType``, best effort (for counting and fault filters)."""
    try:
        value = json.loads(request.body).get("grantType")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class _Grant:
    """What a successful grant yields: the session and when its refresh token expires."""

    session: SsoSession
    refresh_expires_at: _dt.datetime


def create_token(state: EmulatorState, request: Request) -> Response:
    body = json_body(request, _invalid_request)
    client_id = _required(body, "clientId")
    client_secret = _required(body, "clientSecret")
    grant_type = _required(body, "grantType")
    if grant_type not in GRANT_TYPES:
        raise oidc_error("UnsupportedGrantTypeException", f"Unsupported grant type: {grant_type}")
    with state.lock:  # one step from the checks to the tokens: no double redemption
        registration = authenticate(state, client_id, client_secret)
        if not registration.allows(grant_type):
            raise oidc_error("UnauthorizedClientException",
                             f"The client is not registered for the {grant_type} grant")
        scope = _strings(body, "scope")
        check_scopes(state, scope)
        if grant_type == GRANT_DEVICE_CODE:
            grant = _device_code_grant(state, registration, body)
        elif grant_type == GRANT_REFRESH_TOKEN:
            grant = _refresh_token_grant(state, registration, body)
        else:
            grant = _authorization_code_grant(state, registration, body)
        access, refresh = state.issue_tokens(grant.session, registration, grant.refresh_expires_at)
        return _token_response(state, request, registration, grant.session, access, refresh)


def _device_code_grant(
    state: EmulatorState, registration: Registration, body: Mapping[str, Any]
) -> _Grant:
    device_code = _required(body, "deviceCode")
    authorization = state.device_authorizations.get(device_code)
    if authorization is None or authorization.client_id != registration.client_id:
        raise oidc_error("InvalidGrantException", "Invalid device code provided")
    if authorization.status == "redeemed":
        raise oidc_error("InvalidGrantException", "Device code has already been used")
    if not state.alive(authorization.expires_at):
        raise oidc_error("ExpiredTokenException", "Device code has expired")
    if authorization.status == "denied":
        raise oidc_error("AccessDeniedException", "The user denied the authorization request")
    now = state.now()
    last_poll = authorization.last_poll_at
    authorization.last_poll_at = now
    authorization.polls += 1
    if last_poll is not None and (now - last_poll).total_seconds() < authorization.interval:
        raise oidc_error("SlowDownException",
                         f"Poll at most every {authorization.interval} seconds")
    if authorization.status == "pending":
        if state.config.auto_approve and authorization.polls == 1:
            # Approve only now, so every automatic login still sees a pending poll.
            authorization.status = "approved"
        raise oidc_error("AuthorizationPendingException", "Authorization is still pending")
    authorization.status = "redeemed"
    session = state.start_session(registration, authorization.start_url, authorization.scopes)
    return _Grant(session, session.expires_at)


def _refresh_token_grant(
    state: EmulatorState, registration: Registration, body: Mapping[str, Any]
) -> _Grant:
    token = _required(body, "refreshToken")
    refresh: RefreshToken | None = state.refresh_tokens.get(token)
    if refresh is None or refresh.client_id != registration.client_id:
        raise oidc_error("InvalidGrantException", "Invalid refresh token provided")
    if refresh.used:
        raise oidc_error("InvalidGrantException", "Refresh token has already been used")
    session = state.sessions.get(refresh.session_id)
    if session is None or session.ended:
        raise oidc_error("InvalidGrantException", "The session of this refresh token has ended")
    if not state.alive(refresh.expires_at):
        raise oidc_error("InvalidGrantException", "Refresh token has expired")
    refresh.used = True
    return _Grant(session, refresh.expires_at)


def pkce_challenge(code_verifier: str) -> str:
    """The S256 ``code_challenge`` of a verifier: unpadded base64url of its SHA-256."""
    digest = hashlib.sha256(code_verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _authorization_code_grant(
    state: EmulatorState, registration: Registration, body: Mapping[str, Any]
) -> _Grant:
    code_text = _required(body, "code")
    verifier = _required(body, "codeVerifier")
    redirect_uri = _optional(body, "redirectUri")
    code = state.authorization_codes.get(code_text)
    if code is None or code.client_id != registration.client_id:
        raise oidc_error("InvalidGrantException", "Invalid authorization code provided")
    if code.used or not state.alive(code.expires_at):
        raise oidc_error("InvalidGrantException", "Authorization code is expired or used")
    if redirect_uri != code.redirect_uri:
        raise oidc_error("InvalidGrantException",
                         "redirectUri does not match the one given to /authorize")
    # Spent even on a wrong verifier: a code is good for one attempt (RFC 6749 4.1.2).
    code.used = True
    if not hmac.compare_digest(pkce_challenge(verifier).encode(), code.code_challenge.encode()):
        raise oidc_error("InvalidGrantException", "PKCE code verifier does not match")
    session = state.start_session(registration, registration.issuer_url, code.scopes)
    return _Grant(session, session.expires_at)


def _b64url_json(value: Mapping[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _id_token(
    state: EmulatorState, request: Request, registration: Registration, access: AccessToken
) -> str:
    # Unsigned (alg "none"): the emulator has no keys to publish, and no AWS SDK
    # verifies or reads the idToken.
    user = state.directory.user
    claims = {
        "iss": request.base_url, "sub": user.user_name, "aud": registration.client_id,
        "email": user.email, "preferred_username": user.user_name,
        "iat": _epoch(state.now()), "exp": _epoch(access.expires_at),
    }
    return f"{_b64url_json({'alg': 'none', 'typ': 'JWT'})}.{_b64url_json(claims)}."


def _token_response(
    state: EmulatorState, request: Request, registration: Registration, session: SsoSession,
    access: AccessToken, refresh: RefreshToken | None,
) -> Response:
    payload: dict[str, Any] = {
        "accessToken": access.token,
        "tokenType": "Bearer",
        "expiresIn": max(0, int((access.expires_at - state.now()).total_seconds())),
    }
    if refresh is not None:
        payload["refreshToken"] = refresh.token
    if "openid" in session.scopes:
        payload["idToken"] = _id_token(state, request, registration, access)
    return json_response(200, payload)


# -- /authorize (the pages in ._pages render it) -------------------------------

class AuthorizeError(Exception):
    """An authorization request that cannot be sent back to the client (bad client or
    redirect URI): RFC 6749 section 4.1.2.1 says to tell the person instead."""


class AuthorizeRedirect(Exception):
    """An authorization request answered by redirecting back to the client."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


@dataclass(frozen=True)
class AuthorizationRequest:
    """A valid ``/authorize`` request, waiting for the person's consent."""

    registration: Registration
    redirect_uri: str
    state: str | None
    code_challenge: str
    scopes: tuple[str, ...]


def _with_query(uri: str, params: Mapping[str, str | None]) -> str:
    query = urlencode({name: value for name, value in params.items() if value is not None})
    return f"{uri}{'&' if urlsplit(uri).query else '?'}{query}"


def parse_authorization_request(
    state: EmulatorState, params: Mapping[str, str]
) -> AuthorizationRequest:
    """Check an authorization request (query of ``GET /authorize`` or its consent form).

    Raises :class:`AuthorizeError` for an unknown or expired client or a
    redirect URI that is not a registered loopback one, and
    :class:`AuthorizeRedirect` (carrying the OAuth ``error``) for anything
    else wrong.
    """
    with state.lock:
        registration = state.registrations.get(params.get("client_id", ""))
        if registration is None or not state.alive(registration.expires_at):
            raise AuthorizeError("Unknown or expired client_id")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_registered(registration, redirect_uri):
        raise AuthorizeError("redirect_uri must be a loopback URI the client registered")
    client_state = params.get("state")

    def refuse(error: str, description: str) -> AuthorizeRedirect:
        return AuthorizeRedirect(_with_query(redirect_uri, {
            "error": error, "error_description": description, "state": client_state}))

    if params.get("response_type") != "code":
        raise refuse("unsupported_response_type", "response_type must be code")
    if not registration.allows(GRANT_AUTHORIZATION_CODE):
        raise refuse("unauthorized_client", "The client is not registered for this grant")
    if not params.get("code_challenge") or params.get("code_challenge_method") != "S256":
        raise refuse("invalid_request", "PKCE with code_challenge_method S256 is required")
    raw_scopes = params.get("scopes", params.get("scope", ""))
    scopes = tuple(dict.fromkeys(raw_scopes.replace(",", " ").split()))
    if any(scope not in state.config.scopes for scope in scopes):
        raise refuse("invalid_scope", "Invalid scope")
    return AuthorizationRequest(
        registration=registration, redirect_uri=redirect_uri, state=client_state,
        code_challenge=params["code_challenge"], scopes=scopes or registration.scopes,
    )


def authorization_redirect(
    state: EmulatorState, request: AuthorizationRequest, approve: bool
) -> str:
    """Where to send the person once they decided: the client's redirect URI with a
    ``code`` (approved) or ``error=access_denied``, and the client's ``state``."""
    if not approve:
        return _with_query(request.redirect_uri, {
            "error": "access_denied", "error_description": "The user denied the request",
            "state": request.state})
    code = state.issue_authorization_code(
        request.registration, request.redirect_uri, request.code_challenge, request.scopes)
    return _with_query(request.redirect_uri, {"code": code.code, "state": request.state})


ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/client/register"): Route(register_client, ERRORS, "RegisterClient"),
    ("POST", "/device_authorization"):
        Route(start_device_authorization, ERRORS, "StartDeviceAuthorization"),
    ("POST", "/token"): Route(create_token, ERRORS, "CreateToken", grant_type_of),
}
