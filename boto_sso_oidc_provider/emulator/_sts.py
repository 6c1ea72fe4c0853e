"""STS (``sts.amazonaws.com``): GetCallerIdentity and AssumeRole.

The query protocol: ``POST /`` with a form body (or ``GET /?Action=...``),
``Version=2011-06-15``, XML responses in the STS namespace. Every request
must be signed (SigV4, see :mod:`._sigv4`) with credentials the emulator
issued: SSO role credentials from GetRoleCredentials or AssumeRole's.

Errors, in the order they are checked, as STS answers them:
``MissingAction``/``InvalidAction`` (400), ``MissingAuthenticationToken``
(403) without a signature, ``IncompleteSignature`` (400) for a malformed
one, ``InvalidClientTokenId`` (403) for an unknown access key or a session
token that is missing or not the one issued with it, ``ExpiredToken`` (400)
once the credentials have expired, ``SignatureDoesNotMatch`` (403), then
AssumeRole's ``ValidationError`` (400) and ``AccessDenied`` (403, an account
not in the directory).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from xml.sax.saxutils import escape

from .._clock import format_timestamp
from ._http import Request, Response, Route, ServiceError
from ._identity import assumed_role
from ._sigv4 import SignatureFormatError, parse_signature, verify
from ._state import EmulatorState, IssuedCredentials

VERSION = "2011-06-15"
NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"

_ERRORS: dict[str, int] = {
    "AccessDenied": 403,
    "ExpiredToken": 400,
    "ExpiredTokenException": 400,
    "IncompleteSignature": 400,
    "InternalFailure": 500,
    "InvalidAction": 400,
    "InvalidClientTokenId": 403,
    "InvalidParameterValue": 400,
    "MalformedInput": 400,
    "MalformedPolicyDocument": 400,
    "MissingAction": 400,
    "MissingAuthenticationToken": 403,
    "PackedPolicyTooLarge": 400,
    "RegionDisabledException": 403,
    "RequestEntityTooLarge": 413,
    "ServiceUnavailable": 503,
    "SignatureDoesNotMatch": 403,
    "Throttling": 400,
    "ValidationError": 400,
}

_ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?([\w+=,.@-]{1,64})$")
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
# Role chaining (assuming a role with role credentials, which is all the
# emulator issues) is limited to one hour, as in AWS.
_CHAINED_MAX_SECONDS = 3600


class StsErrors:
    """The STS XML error shape."""

    invalid_request = "MalformedInput"
    internal_error = "InternalFailure"

    def error(self, name: str, message: str, status: int | None = None,
              request_id: str = "") -> Response:
        status = status or _ERRORS.get(name, 400)
        kind = "Receiver" if status >= 500 else "Sender"
        body = (
            f'<ErrorResponse xmlns="{NAMESPACE}">'
            f"<Error><Type>{kind}</Type><Code>{escape(name)}</Code>"
            f"<Message>{escape(message)}</Message></Error>"
            f"<RequestId>{escape(request_id)}</RequestId></ErrorResponse>\n"
        )
        return Response(status, body.encode(), {"Content-Type": "text/xml"})

    def fault_errors(self) -> Mapping[str, int]:
        return dict(_ERRORS)


ERRORS = StsErrors()
OPERATIONS = ("GetCallerIdentity", "AssumeRole")


def _refuse(request: Request, name: str, message: str) -> ServiceError:
    return ServiceError(ERRORS.error(name, message, request_id=request.request_id))


def _params(request: Request) -> dict[str, str]:
    """Query string and form body parameters, the body winning (first value of each)."""
    params = {name: values[0] for name, values in request.query.items() if values}
    if request.method == "POST":
        params.update({name: values[0] for name, values in request.form().items() if values})
    return params


def is_sts_request(request: Request) -> bool:
    """Whether a request to ``/`` is an STS call (rather than a visit to the index page)."""
    return request.method == "POST" or request.param("Action") is not None


def operation_of(request: Request) -> str | None:
    """The STS operation a request calls, when it is one the emulator implements."""
    action = _params(request).get("Action")
    return action if action in OPERATIONS else None


def _caller(state: EmulatorState, request: Request) -> IssuedCredentials:
    """The issued credentials that signed the request; raises the STS auth errors."""
    try:
        signature = parse_signature(request)
    except SignatureFormatError as error:
        raise _refuse(request, "IncompleteSignature", str(error)) from None
    if signature is None:
        raise _refuse(request, "MissingAuthenticationToken", "Request is missing Authentication Token")
    with state.lock:
        credentials = state.credentials.get(signature.access_key_id)
        expired = credentials is not None and not state.alive(credentials.expires_at)
    if credentials is None or not hmac.compare_digest(
        (signature.security_token or "").encode(), credentials.session_token.encode()
    ):
        raise _refuse(request, "InvalidClientTokenId",
                      "The security token included in the request is invalid.")
    if expired:
        raise _refuse(request, "ExpiredToken", "The security token included in the request is expired")
    if signature.service != "sts":
        raise _refuse(request, "SignatureDoesNotMatch",
                      "Credential should be scoped to correct service: 'sts'. ")
    if not verify(request, signature, credentials.secret_access_key):
        raise _refuse(request, "SignatureDoesNotMatch",
                      "The request signature we calculated does not match the signature you "
                      "provided. Check your AWS Secret Access Key and signing method. Consult "
                      "the service documentation for details.")
    return credentials


def authenticated_caller(state: EmulatorState, request: Request) -> IssuedCredentials:
    """The issued credentials that signed ``request`` (a GetCallerIdentity the EKS authenticator
    sends, see :mod:`._eks`); raises :class:`ServiceError` with STS's auth errors."""
    return _caller(state, request)


def _xml_response(request: Request, action: str, result: str) -> Response:
    body = (
        f'<{action}Response xmlns="{NAMESPACE}">\n'
        f"  <{action}Result>\n{result}  </{action}Result>\n"
        f"  <ResponseMetadata>\n    <RequestId>{request.request_id}</RequestId>\n"
        f"  </ResponseMetadata>\n</{action}Response>\n"
    )
    return Response(200, body.encode(), {"Content-Type": "text/xml"})


def _element(name: str, value: str, indent: int = 4) -> str:
    return f"{' ' * indent}<{name}>{escape(value)}</{name}>\n"


def _get_caller_identity(
    state: EmulatorState, request: Request, params: Mapping[str, str]
) -> Response:
    caller = _caller(state, request)
    return _xml_response(request, "GetCallerIdentity", (
        _element("Arn", caller.arn) + _element("UserId", caller.user_id)
        + _element("Account", caller.account_id)
    ))


def _assume_role(state: EmulatorState, request: Request, params: Mapping[str, str]) -> Response:
    caller = _caller(state, request)
    role_arn = params.get("RoleArn", "")
    session_name = params.get("RoleSessionName", "")
    if not role_arn or not session_name:
        missing = "roleArn" if not role_arn else "roleSessionName"
        raise _refuse(request, "ValidationError", f"1 validation error detected: Value null at "
                      f"'{missing}' failed to satisfy constraint: Member must not be null")
    match = _ROLE_ARN.match(role_arn)
    if match is None:
        raise _refuse(request, "ValidationError", f"{role_arn} is invalid")
    if not _SESSION_NAME.match(session_name):
        raise _refuse(request, "ValidationError", "1 validation error detected: Value at "
                      "'roleSessionName' failed to satisfy constraint: Member must satisfy "
                      r"regular expression pattern: [\w+=,.@-]* and length 2 to 64")
    try:
        duration = int(params.get("DurationSeconds", "3600"))
    except ValueError:
        duration = -1
    if not 900 <= duration <= 43200:
        raise _refuse(request, "ValidationError", "1 validation error detected: Value at "
                      "'durationSeconds' failed to satisfy constraint: Member must have value "
                      "between 900 and 43200")
    if duration > _CHAINED_MAX_SECONDS:
        raise _refuse(request, "ValidationError", "The requested DurationSeconds exceeds the "
                      "1 hour session limit for roles assumed by role chaining.")
    account_id, role_name = match.groups()
    if state.directory.account(account_id) is None:
        raise _refuse(request, "AccessDenied", f"User: {caller.arn} is not authorized to "
                      f"perform: sts:AssumeRole on resource: {role_arn}")
    identity = assumed_role(account_id, role_name, session_name)
    issued = state.issue_credentials(
        account_id=account_id, arn=identity.arn, user_id=identity.user_id, ttl=duration,
        chained=True,  # the emulator's callers are always role credentials
    )
    source_identity = params.get("SourceIdentity")
    result = (
        (_element("SourceIdentity", source_identity) if source_identity else "")
        + "    <AssumedRoleUser>\n"
        + _element("AssumedRoleId", identity.user_id, 6) + _element("Arn", identity.arn, 6)
        + "    </AssumedRoleUser>\n    <Credentials>\n"
        + _element("AccessKeyId", issued.access_key_id, 6)
        + _element("SecretAccessKey", issued.secret_access_key, 6)
        + _element("SessionToken", issued.session_token, 6)
        + _element("Expiration", format_timestamp(issued.expires_at), 6)
        + "    </Credentials>\n"
    )
    return _xml_response(request, "AssumeRole", result)


_ACTIONS = {"GetCallerIdentity": _get_caller_identity, "AssumeRole": _assume_role}


def handle(state: EmulatorState, request: Request) -> Response:
    """Answer one STS call (any action the query protocol may name)."""
    params = _params(request)
    action = params.get("Action")
    if not action:
        raise _refuse(request, "MissingAction", "Missing Action")
    version = params.get("Version", VERSION)
    if action not in _ACTIONS or version != VERSION:
        raise _refuse(request, "InvalidAction",
                      f"Could not find operation {action} for version {version}")
    return _ACTIONS[action](state, request, params)


ROUTE = Route(handle, ERRORS, operation_of)
