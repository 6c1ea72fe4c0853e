"""Checking AWS Signature Version 4 by signing again with botocore's own signer.

The signature a client sent is recomputed from the request as received:
method, path, query string, body, and exactly the headers the client named
in ``SignedHeaders`` (so headers botocore would add or drop cannot make a
valid request fail), at the time in ``X-Amz-Date``, for the region and
service of the credential scope. Both header (``Authorization``) and query
(presigned URL) signatures are understood.

Not checked, on purpose: the request time against the clock (AWS refuses
requests more than 15 minutes off) and presigned URL expiry, because tests
move the emulator's clock while clients sign with the real one.

botocore is imported on first use, not with this module, so starting the
emulator (and loading its pytest plugin) stays cheap.
"""

from __future__ import annotations

import functools
import hmac
import re
from dataclasses import dataclass
from typing import Any

from ._http import Request

ALGORITHM = "AWS4-HMAC-SHA256"
_SCOPE = re.compile(r"^([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request$")
_AUTH_FIELD = re.compile(r"(\w+)=([^,\s]*)")


class SignatureFormatError(ValueError):
    """The request carries a signature, but not a well-formed SigV4 one."""


@dataclass(frozen=True)
class Signature:
    """A SigV4 signature as the client presented it."""

    access_key_id: str
    date: str
    region: str
    service: str
    timestamp: str
    """``X-Amz-Date``: ``YYYYMMDDTHHMMSSZ``."""
    signed_headers: tuple[str, ...]
    signature: str
    security_token: str | None
    in_query: bool


def parse_signature(request: Request) -> Signature | None:
    """The request's SigV4 signature; ``None`` when it has none at all.

    Raises :class:`SignatureFormatError` when one is present but incomplete
    or malformed, or its scope's date is not the date of ``X-Amz-Date``.
    """
    authorization = request.headers.get("Authorization")
    if authorization is not None:
        algorithm, _, rest = authorization.strip().partition(" ")
        if algorithm != ALGORITHM:
            raise SignatureFormatError(f"Unsupported AWS 'algorithm': '{algorithm}'")
        fields = dict(_AUTH_FIELD.findall(rest))
        timestamp = request.headers.get("X-Amz-Date")
        token = request.headers.get("X-Amz-Security-Token")
        in_query = False
    elif request.param("X-Amz-Signature") is not None or request.param("X-Amz-Credential"):
        if request.param("X-Amz-Algorithm") != ALGORITHM:
            raise SignatureFormatError("X-Amz-Algorithm must be AWS4-HMAC-SHA256")
        fields = {
            "Credential": request.param("X-Amz-Credential") or "",
            "SignedHeaders": request.param("X-Amz-SignedHeaders") or "",
            "Signature": request.param("X-Amz-Signature") or "",
        }
        timestamp = request.param("X-Amz-Date")
        token = request.param("X-Amz-Security-Token")
        in_query = True
    else:
        return None
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not fields.get(name)]
    if missing:
        raise SignatureFormatError(
            f"Authorization header requires {', '.join(missing)} parameter(s)")
    scope = _SCOPE.match(fields["Credential"])
    if scope is None:
        raise SignatureFormatError("Credential must be <key>/<date>/<region>/<service>/aws4_request")
    if not timestamp or not re.fullmatch(r"\d{8}T\d{6}Z", timestamp):
        raise SignatureFormatError("The request needs an X-Amz-Date of the form YYYYMMDDTHHMMSSZ")
    access_key_id, date, region, service = scope.groups()
    if date != timestamp[:8]:
        raise SignatureFormatError(
            f"Date in Credential scope does not match YYYYMMDD from X-Amz-Date: {timestamp}")
    return Signature(
        access_key_id=access_key_id, date=date, region=region, service=service,
        timestamp=timestamp,
        signed_headers=tuple(name.strip().lower() for name in fields["SignedHeaders"].split(";")),
        signature=fields["Signature"], security_token=token, in_query=in_query,
    )


@functools.lru_cache(maxsize=1)
def _verifier_class() -> Any:
    from botocore.auth import SigV4Auth

    class _Verifier(SigV4Auth):
        """botocore's signer, told to sign exactly the headers the client signed."""

        def headers_to_sign(self, request: Any) -> Any:
            return request.context["signed_headers"]

    return _Verifier


def _unsigned_target(request: Request, signature: Signature) -> str:
    if not signature.in_query:
        return request.target
    # A presigned URL's canonical query string is everything but the signature.
    path, _, query = request.target.partition("?")
    kept = [pair for pair in query.split("&") if not pair.startswith("X-Amz-Signature=")]
    return f"{path}?{'&'.join(kept)}" if kept else path


def verify(request: Request, signature: Signature, secret_access_key: str) -> bool:
    """Whether ``signature`` is the one ``secret_access_key`` makes for this request."""
    from botocore.awsrequest import AWSRequest, HTTPHeaders
    from botocore.credentials import Credentials

    signed_headers = HTTPHeaders()
    for name in signature.signed_headers:
        for value in request.headers.get_all(name) or [""]:
            signed_headers[name] = value
    aws_request = AWSRequest(
        method=request.method,
        url=f"{request.base_url}{_unsigned_target(request, signature)}",
        headers=dict(signed_headers.items()),
        data=request.body,
    )
    aws_request.context["timestamp"] = signature.timestamp
    aws_request.context["signed_headers"] = signed_headers
    signer = _verifier_class()(
        Credentials(signature.access_key_id, secret_access_key, signature.security_token),
        signature.service, signature.region,
    )
    canonical_request = signer.canonical_request(aws_request)
    string_to_sign = signer.string_to_sign(aws_request, canonical_request)
    expected = signer.signature(string_to_sign, aws_request)
    return hmac.compare_digest(expected.encode(), signature.signature.encode())
