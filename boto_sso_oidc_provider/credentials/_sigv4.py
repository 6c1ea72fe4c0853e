"""Step 5 of the flow: role credentials signed into a URL (SigV4 query signing), standard library only.

A presigned URL ("query authentication") carries its signature in the query
string: ``X-Amz-Algorithm``, ``X-Amz-Credential``, ``X-Amz-Date``,
``X-Amz-Expires``, ``X-Amz-SignedHeaders``, ``X-Amz-Security-Token`` and
``X-Amz-Signature``. :func:`presigned_url` builds exactly the URL botocore's
``SigV4QueryAuth`` builds for a request without a body (the operation's
parameters first, in the order given, then the authentication parameters in
botocore's order), so that a URL made here and one made by
``client.generate_presigned_url`` at the same second with the same credentials
are the same string: ``tests/test_sigv4.py`` holds it to botocore's own
presigner on random inputs.

It signs what it is given and decides nothing: which endpoint, region and
service to sign for is the caller's business.
This module is imported on the warm path, so it stays cheap: no
:mod:`hashlib`/:mod:`hmac` (OpenSSL's import costs milliseconds) when the
interpreter's own SHA-256 is there, no :mod:`urllib`, no :mod:`datetime`.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

__all__ = ["ALGORITHM", "presigned_url", "sigv4_timestamp"]

ALGORITHM = "AWS4-HMAC-SHA256"
_EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
# Headers botocore never signs (auth.SIGNED_HEADERS_BLACKLIST).
_UNSIGNED_HEADERS = ("expect", "transfer-encoding", "user-agent", "x-amzn-trace-id")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 3986's unreserved characters: what botocore's percent_encode leaves as it is.
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
_UNRESERVED_AND_SLASH = _UNRESERVED | {ord("/")}


def _sha256_constructor() -> Callable[..., Any]:
    """The interpreter's built-in SHA-256 (``_sha2`` from 3.12, ``_sha256`` before), which needs
    no OpenSSL; :func:`hashlib.sha256` where neither exists. Same digests either way."""
    try:
        from _sha2 import sha256  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found, no-redef, unused-ignore]
        except ImportError:  # pragma: no cover - an interpreter built without it
            from hashlib import sha256  # type: ignore[assignment, unused-ignore]
    return sha256  # type: ignore[no-any-return, unused-ignore]


_sha256 = _sha256_constructor()
_BLOCK = 64
_INNER_PAD = bytes(byte ^ 0x36 for byte in range(256))
_OUTER_PAD = bytes(byte ^ 0x5C for byte in range(256))


def _hmac(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 (RFC 2104), as :func:`hmac.digest` computes it."""
    if len(key) > _BLOCK:
        key = _sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = _sha256(key.translate(_INNER_PAD))
    inner.update(message)
    outer = _sha256(key.translate(_OUTER_PAD))
    outer.update(inner.digest())
    return outer.digest()  # type: ignore[no-any-return]


def _quote(text: str, safe: frozenset[int] = _UNRESERVED) -> str:
    """botocore's ``percent_encode``: UTF-8, every byte outside ``safe`` as ``%XX``."""
    data = text.encode("utf-8")
    if all(byte in safe for byte in data):
        return text
    return "".join(chr(byte) if byte in safe else f"%{byte:02X}" for byte in data)


def _encode_pairs(pairs: Sequence[tuple[str, str]]) -> str:
    return "&".join(f"{_quote(key)}={_quote(value)}" for key, value in pairs)


def sigv4_timestamp(moment: float) -> str:
    """``X-Amz-Date`` of the UTC second ``moment`` (seconds since the epoch): ``YYYYMMDDTHHMMSSZ``."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(moment))


def _split_url(url: str) -> tuple[str, str, str, str]:
    """``scheme://netloc/path`` -> scheme, netloc, path, the ``host`` header botocore signs.

    The host is botocore's ``_host_from_url``: lower case, without user information, with the
    port unless it is the scheme's default. Refuses (ValueError) a query or fragment (the
    operation's parameters are given apart) and anything but http and https.
    """
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in _DEFAULT_PORTS:
        raise ValueError("the endpoint must be an http:// or https:// URL")
    if "?" in rest or "#" in rest:
        raise ValueError("the endpoint must not have a query or fragment")
    slash = rest.find("/")
    netloc, path = (rest, "") if slash == -1 else (rest[:slash], rest[slash:])
    hostport = netloc.rpartition("@")[2]
    if hostport.startswith("["):
        close = hostport.find("]")
        if close == -1:
            raise ValueError("the endpoint's IPv6 address has no closing bracket")
        host, port_text = hostport[:close + 1].lower(), hostport[close + 1:]
        if port_text and not port_text.startswith(":"):
            raise ValueError("the endpoint's port is not a number")
        port_text = port_text[1:]
    else:
        host, _, port_text = hostport.partition(":")
        host = host.lower()
    if not host or host == "[]":
        raise ValueError("the endpoint has no host")
    if port_text:
        if not port_text.isascii() or not port_text.isdigit() or int(port_text) > 65535:
            raise ValueError("the endpoint's port is not a number from 0 to 65535")
        if int(port_text) != _DEFAULT_PORTS[scheme]:
            host = f"{host}:{int(port_text)}"
    return scheme, netloc, path, host


def _canonical_path(path: str) -> str:
    """botocore's ``_normalize_url_path``: dot segments and empty segments removed, then quoted
    (``/`` and ``~`` kept)."""
    if not path:
        return "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if segment and segment != ".":
            if segment == "..":
                if segments:
                    segments.pop()
            else:
                segments.append(segment)
    normalized = ("/" if path[0] == "/" else "") + "/".join(segments) \
        + ("/" if path[-1] == "/" and segments else "")
    return _quote(normalized, _UNRESERVED_AND_SLASH)


def _signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(f"AWS4{secret_access_key}".encode(), date.encode())
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part.encode())
    return key


def presigned_url(url: str, params: Sequence[tuple[str, str]], *, access_key_id: str,
                  secret_access_key: str, session_token: str | None, region: str, service: str,
                  expires: int, moment: float, headers: Mapping[str, str] | None = None,
                  method: str = "GET") -> str:
    """``url`` (``scheme://host[:port][/path]``, no query) with ``params`` and a SigV4 query
    signature, as botocore's ``SigV4QueryAuth`` presigns a request without a body.

    ``headers`` are signed too (their names lower-cased; ``Host`` comes from ``url``; the
    ones botocore never signs, such as ``User-Agent``, are left out as it leaves them out),
    so whoever sends the URL must send them with the same values. ``moment`` is the signing
    time in seconds since the epoch (its UTC second is used), ``expires`` the seconds the
    signature is valid for. Raises ValueError for a URL it cannot sign.
    """
    scheme, netloc, path, host = _split_url(url)
    signed: dict[str, list[str]] = {}
    for name, value in (headers or {}).items():
        lower = name.lower()
        if lower not in _UNSIGNED_HEADERS:
            signed.setdefault(lower, []).append(value)
    signed.setdefault("host", [host])
    names = sorted(signed)
    canonical_headers = "".join(
        f"{name}:{','.join(' '.join(value.split()) for value in signed[name])}\n" for name in names)
    signed_headers = ";".join(sorted(name.strip() for name in signed))

    timestamp = sigv4_timestamp(moment)
    date = timestamp[:8]
    scope = f"{date}/{region}/{service}/aws4_request"
    auth: list[tuple[str, str]] = [
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{access_key_id}/{scope}"),
        ("X-Amz-Date", timestamp),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", signed_headers),
    ]
    if session_token is not None:
        auth.append(("X-Amz-Security-Token", session_token))
    # botocore puts the operation's parameters into a dict first: a repeated name keeps its
    # last value, in the place of its first.
    operation = dict(params)
    query = (f"{_encode_pairs(list(operation.items()))}&" if operation else "") + _encode_pairs(auth)
    canonical_query = "&".join(f"{key}={value}" for key, value in
                               sorted(pair.partition("=")[::2] for pair in query.split("&")))
    canonical_request = "\n".join((method.upper(), _canonical_path(path), canonical_query,
                                   canonical_headers, signed_headers, _EMPTY_SHA256))
    string_to_sign = "\n".join((ALGORITHM, timestamp, scope,
                                _sha256(canonical_request.encode("utf-8")).hexdigest()))
    signature = _hmac(_signing_key(secret_access_key, date, region, service),
                      string_to_sign.encode("utf-8")).hex()
    return f"{scheme}://{netloc}{path}?{query}&X-Amz-Signature={signature}"
