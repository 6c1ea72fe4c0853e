"""The EKS authenticator: a Kubernetes TokenReview webhook that checks ``k8s-aws-v1.`` tokens.

An EKS cluster's API server hands each bearer token to aws-iam-authenticator
(``POST /authenticate`` with a ``TokenReview``), which checks the token the way
``pkg/token/token.go`` of kubernetes-sigs/aws-iam-authenticator does and then
calls STS GetCallerIdentity with it. The emulator does the same, answering
GetCallerIdentity itself (the SigV4 query signature checked against the
credentials it issued, as its STS does). A token is:

``k8s-aws-v1.`` + the unpadded base64url of a presigned STS GetCallerIdentity
URL: ``https`` to an STS host (``sts.amazonaws.com``, ``sts.<region>.amazonaws.com``
and the other partitions', FIPS and dual-stack ones; or the emulator's own URL,
which stands for STS here), path ``/``, only the query parameters the
authenticator allows (no duplicates, one value each), ``Action=GetCallerIdentity``,
``x-k8s-aws-id`` among ``X-Amz-SignedHeaders``, ``X-Amz-Expires`` from 0 to 60 (the
strictest authenticators, 0.3.0 and older; the current one allows 900; the AWS
CLI and this package sign for 60), and ``X-Amz-Date`` no more than 15 minutes
ago (a presigned STS URL's life whatever ``X-Amz-Expires`` says) nor more than
15 minutes ahead (STS's clock skew). GetCallerIdentity is then sent with
``x-k8s-aws-id: <the cluster>``: a token signed for another cluster does not verify.

``POST /authenticate?clusterID=<name>``: the body is a ``TokenReview``
(``authentication.k8s.io/v1`` or ``v1beta1``); the answer is the same kind, 200
with ``status.authenticated`` true and the user (``username`` the caller's ARN,
``uid`` and ``extra`` as the authenticator gives them), or 403 with
``authenticated`` false (429 when STS throttled). Unlike the authenticator, the
refusal's ``status.error`` says why, for tests to show. Each review is counted as
``TokenReview`` and each GetCallerIdentity it makes as ``GetCallerIdentity``.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
from collections.abc import Mapping
from email.message import Message
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ._http import Request, Response, Route, ServiceError, json_body
from ._state import EmulatorState
from ._sts import authenticated_caller

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
MAX_TOKEN_BYTES = 4096
MAX_EXPIRES = 60
PRESIGNED_URL_LIFETIME = datetime.timedelta(minutes=15)
CLOCK_SKEW = datetime.timedelta(minutes=15)
OPERATIONS = ("TokenReview",)
_API_VERSIONS = ("authentication.k8s.io/v1", "authentication.k8s.io/v1beta1")
_ALLOWED_PARAMETERS = frozenset({
    "action", "version", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires",
    "x-amz-security-token", "x-amz-signature", "x-amz-signedheaders",
})
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
# Partition DNS suffixes: aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc.
_SUFFIXES = ("amazonaws.com", "amazonaws.com.cn", "c2s.ic.gov", "sc2s.sgov.gov", "cloud.adc-e.uk",
             "csp.hci.ic.gov", "amazonaws.eu")
_DUALSTACK_SUFFIXES = ("api.aws", "api.amazonwebservices.com.cn")
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}"
_STS_HOST = re.compile(
    rf"sts(?:-fips)?\.({_REGION})\.(?:{'|'.join(map(re.escape, _SUFFIXES + _DUALSTACK_SUFFIXES))})")


class TokenReviewErrors:
    """Refusals as the authenticator answers them: a ``TokenReview`` not authenticated."""

    invalid_request = "BadRequest"
    internal_error = "InternalError"
    _STATUS = {"BadRequest": 400, "Forbidden": 403, "Throttling": 429, "InternalError": 500}

    def error(self, name: str, message: str, status: int | None = None,
              request_id: str = "") -> Response:
        return _review(status or self._STATUS.get(name, 403), "authentication.k8s.io/v1beta1",
                       {"authenticated": False, "error": message})

    def fault_errors(self) -> Mapping[str, int]:
        return dict(self._STATUS)


ERRORS = TokenReviewErrors()


class TokenRefused(Exception):
    """The token is not one the authenticator accepts; the message says why."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


def _review(status: int, api_version: str, review_status: Mapping[str, Any]) -> Response:
    return Response(status, json.dumps({
        "apiVersion": api_version, "kind": "TokenReview", "metadata": {"creationTimestamp": None},
        "spec": {}, "status": dict(review_status),
    }).encode(), {"Content-Type": "application/json; charset=UTF-8"})


def decode_token(token: str) -> str:
    """The presigned URL inside a ``k8s-aws-v1.`` token; raises :class:`TokenRefused`."""
    if len(token.encode("utf-8", "surrogatepass")) > MAX_TOKEN_BYTES:
        raise TokenRefused("input token was not properly formatted: token is too large")
    if not token.startswith(TOKEN_PREFIX):
        raise TokenRefused(f'input token was not properly formatted: token is missing expected '
                           f'"{TOKEN_PREFIX}" prefix')
    payload = token[len(TOKEN_PREFIX):]
    # Go's base64.RawURLEncoding: the URL alphabet, no padding, nothing else.
    if not _BASE64URL.fullmatch(payload) or len(payload) % 4 == 1:
        raise TokenRefused("input token was not properly formatted: illegal base64 data")
    try:
        return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise TokenRefused("input token was not properly formatted: illegal base64 data") from None


def sts_region(host: str) -> str | None:
    """The region an STS host serves (``us-east-1`` for the global ``sts.amazonaws.com``), or
    None when ``host`` is not an STS host."""
    if host == "sts.amazonaws.com":
        return "us-east-1"
    match = _STS_HOST.fullmatch(host)
    return match.group(1) if match else None


def _parameters(query: str) -> dict[str, str]:
    """The query's parameters by lower-cased name; refuses what the authenticator refuses."""
    pairs = parse_qsl(query, keep_blank_values=True)
    seen: dict[str, str] = {}
    for name, value in pairs:
        lower = name.lower()
        if lower in seen:
            raise TokenRefused(f'input token was not properly formatted: duplicate query parameter '
                               f'found: "{name}"')
        if lower not in _ALLOWED_PARAMETERS:
            raise TokenRefused(f'input token was not properly formatted: non-whitelisted query '
                               f'parameter "{name}"')
        seen[lower] = value
    return seen


def verify_token(state: EmulatorState, token: str, cluster_id: str, own_url: str) -> dict[str, str]:
    """Check ``token`` for ``cluster_id`` as the authenticator does, then GetCallerIdentity;
    the caller's identity (``arn``, ``account``, ``user_id``, ``access_key_id``, ``host``).
    Raises :class:`TokenRefused` with the authenticator's reason."""
    url = decode_token(token)
    parts = urlsplit(url)
    own = urlsplit(own_url)
    if (parts.scheme, parts.netloc) == (own.scheme, own.netloc):
        region = None  # the emulator's own URL: its STS, any region
    else:
        if parts.scheme != "https":
            raise TokenRefused(f'input token was not properly formatted: unexpected scheme '
                               f'"{parts.scheme}" in pre-signed URL')
        region = sts_region(parts.netloc)
        if region is None:
            raise TokenRefused(f'input token was not properly formatted: unexpected hostname '
                               f'"{parts.netloc}" in pre-signed URL')
    if parts.path != "/":
        raise TokenRefused("input token was not properly formatted: unexpected path in pre-signed URL")
    params = _parameters(parts.query)
    if params.get("action") != "GetCallerIdentity":
        raise TokenRefused("input token was not properly formatted: unexpected action parameter "
                           "in pre-signed URL")
    if CLUSTER_ID_HEADER not in params.get("x-amz-signedheaders", "").lower().split(";"):
        raise TokenRefused(f"input token was not properly formatted: client did not sign the "
                           f"{CLUSTER_ID_HEADER} header in the pre-signed URL")
    expires_text = params.get("x-amz-expires", "")
    if not expires_text.isascii() or not expires_text.isdigit() or int(expires_text) > MAX_EXPIRES:
        raise TokenRefused(f"input token was not properly formatted: invalid X-Amz-Expires "
                           f"parameter in pre-signed URL: {expires_text}")
    date_text = params.get("x-amz-date", "")
    try:
        signed_at = datetime.datetime.strptime(date_text, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        raise TokenRefused("input token was not properly formatted: X-Amz-Date parameter must be "
                           "present in pre-signed URL") from None
    now = state.now()
    if now > signed_at + PRESIGNED_URL_LIFETIME:
        raise TokenRefused(f"input token was not properly formatted: X-Amz-Date parameter is "
                           f"expired (15 minute expiration) {signed_at}")
    if signed_at > now + CLOCK_SKEW:
        raise TokenRefused("sts getCallerIdentity failed: error from AWS (expected 200, got 403): "
                           "SignatureDoesNotMatch: Signature not yet current")
    scope = params.get("x-amz-credential", "").split("/")
    if region is not None and len(scope) == 5 and scope[2] != region:
        raise TokenRefused(f"sts getCallerIdentity failed: error from AWS (expected 200, got 403): "
                           f"SignatureDoesNotMatch: Credential should be scoped to a valid region, "
                           f"not '{scope[2]}'")
    headers = Message()
    headers["Host"] = parts.netloc
    headers[CLUSTER_ID_HEADER] = cluster_id
    headers["Accept"] = "application/json"
    request = Request(method="GET", target=f"/?{parts.query}", path="/",
                      query={name: [value] for name, value in parse_qsl(parts.query, keep_blank_values=True)},
                      headers=headers, body=b"", base_url=f"{parts.scheme}://{parts.netloc}")
    state.count("GetCallerIdentity")
    try:
        caller = authenticated_caller(state, request)
    except ServiceError as error:
        body = error.response.body.decode("utf-8", "replace")
        code = re.search(r"<Code>([^<]*)</Code>", body)
        status = 429 if code and code.group(1) == "Throttling" else 403
        raise TokenRefused(f"sts getCallerIdentity failed: error from AWS (expected 200, got "
                           f"{error.response.status}): {code.group(1) if code else body}",
                           status) from None
    return {"arn": caller.arn, "account": caller.account_id, "user_id": caller.user_id,
            "access_key_id": caller.access_key_id, "host": parts.netloc}


def _canonical_arn(arn: str) -> str:
    """The authenticator's canonical ARN: an assumed role's session ARN as its IAM role's."""
    match = re.fullmatch(r"arn:([^:]+):sts::(\d+):assumed-role/(.+)/[^/]+", arn)
    return f"arn:{match.group(1)}:iam::{match.group(2)}:role/{match.group(3)}" if match else arn


def authenticate(state: EmulatorState, request: Request) -> Response:
    """``POST /authenticate?clusterID=NAME`` with a TokenReview: the authenticator's answer."""
    review = json_body(request, lambda message: ServiceError(ERRORS.error("BadRequest", message)))
    api_version = review.get("apiVersion")
    api_version = api_version if api_version in _API_VERSIONS else _API_VERSIONS[1]
    spec = review.get("spec")
    token = spec.get("token") if isinstance(spec, dict) else None
    cluster_id = request.param("clusterID")
    if review.get("kind") != "TokenReview" or not isinstance(token, str):
        return _review(400, api_version, {"authenticated": False,
                                          "error": "expected a request body to be a TokenReview"})
    if not cluster_id:
        return _review(400, api_version, {"authenticated": False,
                                          "error": "the clusterID query parameter names the cluster"})
    try:
        identity = verify_token(state, token, cluster_id, request.base_url)
    except TokenRefused as refused:
        return _review(refused.status, api_version, {"authenticated": False, "error": str(refused)})
    user_id, _, session_name = identity["user_id"].partition(":")
    return _review(200, api_version, {"authenticated": True, "user": {
        "username": identity["arn"],
        "uid": f"aws-iam-authenticator:{identity['account']}:{user_id}",
        "groups": [],
        "extra": {
            "arn": [identity["arn"]], "canonicalArn": [_canonical_arn(identity["arn"])],
            "sessionName": [session_name], "accessKeyId": [identity["access_key_id"]],
            "principalId": [user_id], "sigs.k8s.io/aws-iam-authenticator/principalId": [user_id],
        },
    }})


ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/authenticate"): Route(authenticate, ERRORS, "TokenReview"),
}
