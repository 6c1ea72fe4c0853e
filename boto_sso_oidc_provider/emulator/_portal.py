"""The SSO portal (``portal.sso.<region>.amazonaws.com``): role credentials and assignments.

restJson1, authorized by the access token in ``x-amz-sso_bearer_token``.
Errors: ``UnauthorizedException`` (401) for an unknown, expired or logged-out
token, ``ResourceNotFoundException`` (404) for an account or role the user is
not assigned, ``InvalidRequestException`` (400) for a malformed request, and
``TooManyRequestsException`` (429) only through fault injection. Bodies are
``{"message": "..."}`` with ``x-amzn-errortype``.

Pages hold ``max_result`` items, or the configured page size without it, and
never more than the configured ``max_page_size``; the
``nextToken`` is opaque and only good for the listing it came from.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

from ._http import Request, Response, Route, ServiceError, json_response, rest_json_error
from ._identity import sso_identity
from ._state import EmulatorState, SsoSession

_ERRORS: dict[str, int] = {
    "InvalidRequestException": 400,
    "UnauthorizedException": 401,
    "ResourceNotFoundException": 404,
    "TooManyRequestsException": 429,
}

_BEARER_HEADER = "x-amz-sso_bearer_token"
_MAX_RESULTS = 100  # the model's MaxResultType maximum


class PortalErrors:
    """The SSO portal error shape."""

    invalid_request = "InvalidRequestException"
    # Not modeled for the portal; botocore raises a plain ClientError with this code.
    internal_error = "InternalServerException"

    def error(self, name: str, message: str, status: int | None = None,
              request_id: str = "") -> Response:
        return rest_json_error(status or _ERRORS.get(name, 400), name, {"message": message})

    def fault_errors(self) -> Mapping[str, int]:
        return dict(_ERRORS)


ERRORS = PortalErrors()


def _refuse(name: str, message: str) -> ServiceError:
    return ServiceError(ERRORS.error(name, message))


def _session(state: EmulatorState, request: Request) -> SsoSession:
    """The session of the request's bearer token; raises UnauthorizedException."""
    session = state.session_of(request.headers.get(_BEARER_HEADER) or "")
    if session is None:
        raise _refuse("UnauthorizedException", "Session token not found or invalid")
    return session


def _required(request: Request, name: str) -> str:
    value = request.param(name)
    if not value:
        raise _refuse("InvalidRequestException", f"{name} is required")
    return value


def _page(request: Request, items: Sequence[Any], listing: str, page_size: int,
          max_page_size: int = _MAX_RESULTS) -> tuple[Sequence[Any], str | None]:
    """The page of ``items`` the request asks for (at most ``max_page_size``), and the token of
    the next one."""
    limit = page_size
    raw_limit = request.param("max_result")
    if raw_limit is not None:
        try:
            limit = int(raw_limit)
        except ValueError:
            limit = 0
        if not 1 <= limit <= _MAX_RESULTS:
            raise _refuse("InvalidRequestException",
                          f"max_result must be an integer from 1 to {_MAX_RESULTS}")
    start = 0
    token = request.param("next_token")
    if token:
        start = _decode_token(token, listing)
        if start > len(items):
            raise _refuse("InvalidRequestException", "Invalid next_token")
    end = start + min(limit, max_page_size)
    next_token = _encode_token(listing, end) if end < len(items) else None
    return items[start:end], next_token


def _encode_token(listing: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{listing}\n{offset}".encode()).decode()


def _decode_token(token: str, listing: str) -> int:
    try:
        name, _, offset = base64.urlsafe_b64decode(token.encode()).decode().partition("\n")
        if name != listing:
            raise ValueError(name)
        return int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise _refuse("InvalidRequestException", "Invalid next_token") from None


def _paged(payload_key: str, items: list[dict[str, str]], next_token: str | None) -> Response:
    payload: dict[str, Any] = {payload_key: items}
    if next_token is not None:
        payload["nextToken"] = next_token
    return json_response(200, payload)


def list_accounts(state: EmulatorState, request: Request) -> Response:
    _session(state, request)
    accounts, next_token = _page(request, state.directory.accounts, "accounts",
                                 state.config.page_size, state.config.max_page_size)
    return _paged("accountList", [
        {"accountId": account.account_id, "accountName": account.account_name,
         "emailAddress": account.email_address}
        for account in accounts
    ], next_token)


def list_account_roles(state: EmulatorState, request: Request) -> Response:
    _session(state, request)
    account_id = _required(request, "account_id")
    account = state.directory.account(account_id)
    if account is None:
        raise _refuse("ResourceNotFoundException", "No access")
    roles, next_token = _page(request, account.roles, f"roles:{account_id}",
                              state.config.page_size, state.config.max_page_size)
    return _paged("roleList", [
        {"roleName": role, "accountId": account_id} for role in roles
    ], next_token)


def get_role_credentials(state: EmulatorState, request: Request) -> Response:
    _session(state, request)
    role_name = _required(request, "role_name")
    account_id = _required(request, "account_id")
    if not state.directory.has_role(account_id, role_name):
        raise _refuse("ResourceNotFoundException", "No access")
    identity = sso_identity(account_id, role_name, state.directory.user.user_name)
    credentials = state.issue_credentials(
        account_id=account_id, arn=identity.arn, user_id=identity.user_id,
        ttl=state.config.role_credentials_ttl,
    )
    return json_response(200, {"roleCredentials": {
        "accessKeyId": credentials.access_key_id,
        "secretAccessKey": credentials.secret_access_key,
        "sessionToken": credentials.session_token,
        "expiration": int(credentials.expires_at.timestamp() * 1000),
    }})


def logout(state: EmulatorState, request: Request) -> Response:
    state.end_session(_session(state, request))
    return Response(200, b"", {"Content-Type": "application/json"})


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/federation/credentials"): Route(get_role_credentials, ERRORS, "GetRoleCredentials"),
    ("GET", "/assignment/accounts"): Route(list_accounts, ERRORS, "ListAccounts"),
    ("GET", "/assignment/roles"): Route(list_account_roles, ERRORS, "ListAccountRoles"),
    ("POST", "/logout"): Route(logout, ERRORS, "Logout"),
}
