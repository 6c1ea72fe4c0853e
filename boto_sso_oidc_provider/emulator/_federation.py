"""The AWS sign-in federation endpoint (``signin.aws.amazon.com/federation``).

Two actions, as the IAM User Guide's "custom identity broker" describes them:

``GET /federation?Action=getSigninToken&Session=<JSON>[&SessionDuration=S]``
    ``Session`` is a JSON object of temporary credentials (``sessionId``,
    ``sessionKey``, ``sessionToken``). The emulator accepts only credentials
    it issued (GetRoleCredentials or AssumeRole), unexpired, with the secret
    and session token issued with that access key id; ``SessionDuration``
    (the console session, 900 to 43200 seconds) is optional, and refused for
    credentials of a role assumed by role chaining (every AssumeRole's here),
    whose console session lasts one hour, as AWS does. The answer is
    ``{"SigninToken": "..."}``, a token valid for 15 minutes.
``GET /federation?Action=login&SigninToken=T&Destination=URL[&Issuer=I]``
    Redirects (302) to ``Destination`` when the sign-in token is one the
    emulator issued, unexpired, and its credentials are still valid; else an
    error page.

Refusals are HTTP 400 with a short plain-text reason (the real endpoint
answers failures with a bare 400 too; callers check the status).
"""

from __future__ import annotations

import datetime
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlparse

from ._http import Request, Response, Route, ServiceError, redirect
from ._state import EmulatorState

SIGNIN_TOKEN_TTL = 15 * 60
"""How long a sign-in token may be used to sign in (15 minutes, as documented)."""
MIN_SESSION_DURATION = 900
MAX_SESSION_DURATION = 43200
CHAINED_SESSION_DURATION = 3600
"""The console session of role-chained credentials, which may not ask for a SessionDuration."""
OPERATIONS = ("GetSigninToken", "ConsoleLogin")


@dataclass
class SigninToken:
    """A sign-in token handed out by getSigninToken."""

    token: str = field(repr=False)
    access_key_id: str
    session_duration: int
    expires_at: datetime.datetime


class FederationErrors:
    """The federation endpoint's refusals: a status and a line of text."""

    invalid_request = "Bad Request"
    internal_error = "Internal Server Error"

    def error(self, name: str, message: str, status: int | None = None,
              request_id: str = "") -> Response:
        return Response(status or 400, f"{name}: {message}\n".encode(),
                        {"Content-Type": "text/plain; charset=utf-8"})

    def fault_errors(self) -> Mapping[str, int]:
        return {"Bad Request": 400, "Internal Server Error": 500, "Service Unavailable": 503}


ERRORS = FederationErrors()


def _refuse(message: str, status: int = 400) -> ServiceError:
    return ServiceError(ERRORS.error("Bad Request" if status == 400 else "Error", message, status))


def operation_of(request: Request) -> str | None:
    action = (request.param("Action") or "").lower()
    return {"getsignintoken": "GetSigninToken", "login": "ConsoleLogin"}.get(action)


def _get_signin_token(state: EmulatorState, request: Request) -> Response:
    raw_session = request.param("Session")
    if not raw_session:
        raise _refuse("Session is required: a JSON object with sessionId, sessionKey and sessionToken")
    try:
        session = json.loads(raw_session)
    except ValueError:
        raise _refuse("Session is not valid JSON") from None
    if not isinstance(session, dict) or not all(
            isinstance(session.get(key), str) for key in ("sessionId", "sessionKey", "sessionToken")):
        raise _refuse("Session must hold sessionId, sessionKey and sessionToken strings")
    duration_text = request.param("SessionDuration")
    duration = MAX_SESSION_DURATION
    if duration_text is not None:
        try:
            duration = int(duration_text)
        except ValueError:
            duration = -1
        if not MIN_SESSION_DURATION <= duration <= MAX_SESSION_DURATION:
            raise _refuse(f"SessionDuration must be between {MIN_SESSION_DURATION} and "
                          f"{MAX_SESSION_DURATION} seconds")
    with state.lock:
        issued = state.credentials.get(session["sessionId"])
        valid = (
            issued is not None
            and hmac.compare_digest(session["sessionKey"].encode(), issued.secret_access_key.encode())
            and hmac.compare_digest(session["sessionToken"].encode(), issued.session_token.encode())
        )
        if not valid or issued is None:
            raise _refuse("The credentials in Session are not valid", 400)
        if not state.alive(issued.expires_at):
            raise _refuse("The credentials in Session have expired", 400)
        if issued.chained:
            if duration_text is not None:  # AWS answers this "Invalid credentials parameter"
                raise _refuse("Invalid credentials parameter: SessionDuration cannot be given for "
                              "credentials of a role assumed by role chaining", 400)
            duration = CHAINED_SESSION_DURATION
        token = SigninToken(
            token=secrets.token_urlsafe(96), access_key_id=issued.access_key_id,
            session_duration=duration, expires_at=state.expiry(SIGNIN_TOKEN_TTL),
        )
        state.signin_tokens[token.token] = token
    body = json.dumps({"SigninToken": token.token}).encode()
    return Response(200, body, {"Content-Type": "application/json", "Cache-Control": "no-store"})


def _login(state: EmulatorState, request: Request) -> Response:
    destination = request.param("Destination") or ""
    if urlparse(destination).scheme not in ("http", "https"):
        raise _refuse("Destination must be an https:// URL of the console")
    supplied = request.param("SigninToken") or ""
    with state.lock:
        token = next((record for key, record in state.signin_tokens.items()
                      if hmac.compare_digest(key.encode(), supplied.encode())), None)
        if token is None:
            raise _refuse("The sign-in token is not valid")
        issued = state.credentials.get(token.access_key_id)
        if not state.alive(token.expires_at):
            raise _refuse("The sign-in token has expired: get a new one")
        if issued is None or not state.alive(issued.expires_at):
            raise _refuse("The credentials behind the sign-in token have expired")
    return redirect(destination)


def handle(state: EmulatorState, request: Request) -> Response:
    operation = operation_of(request)
    if operation == "GetSigninToken":
        return _get_signin_token(state, request)
    if operation == "ConsoleLogin":
        return _login(state, request)
    raise _refuse("Action must be getSigninToken or login")


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/federation"): Route(handle, ERRORS, operation_of),
}
