"""Keep secrets out of log output, botocore's DEBUG logging included.

botocore at DEBUG logs request parameters, response bodies and signed
headers: for the SSO OIDC and portal APIs that means client secrets, device
codes, access and refresh tokens and role credentials. While this package is
in use, a log-record factory rewrites records from botocore, urllib3, boto3
and this package before any handler sees them, replacing the values of
secret-bearing fields (JSON keys, XML elements, HTTP headers) and any secret
this process has handled with ``<redacted>``.

The factory only does work for records that are actually created (loggers
enabled at that level), so it costs nothing when logging is off. It is
installed once, chains to whatever factory was there, and can be removed.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["install", "uninstall", "remember", "redact"]

REDACTED = "<redacted>"

_SECRET_FIELDS = (
    "accessToken", "refreshToken", "clientSecret", "deviceCode", "idToken", "codeVerifier",
    "code_verifier", "access_token", "refresh_token", "client_secret", "device_code",
    "id_token", "secretAccessKey", "sessionToken", "SecretAccessKey", "SessionToken",
    "aws_secret_access_key", "aws_session_token",
)
_SECRET_HEADERS = ("x-amz-sso_bearer_token", "x-amz-security-token", "authorization")

_FIELDS = "|".join(re.escape(name) for name in _SECRET_FIELDS)
_HEADERS = "|".join(re.escape(name) for name in _SECRET_HEADERS)
_PATTERNS = (
    # JSON, possibly escaped inside a repr of bytes: "key": "value" / \"key\": \"value\"
    re.compile(r'(\\*["\'](?:' + _FIELDS + r')\\*["\']\s*:\s*\\*["\'])((?:[^"\'\\]|\\(?!["\']))*)'),
    # XML elements: <SecretAccessKey>value</SecretAccessKey>
    re.compile(r"(<(?:" + _FIELDS + r")>)([^<]*)"),
    # Headers in dict reprs: 'x-amz-security-token': 'value'  /  b'value'
    re.compile(r"(['\"](?:" + _HEADERS + r")['\"]\s*:\s*b?['\"])([^'\"]*)", re.IGNORECASE),
    # Canonical-request lines and raw headers: x-amz-security-token:value
    re.compile(r"(^|\n)((?:" + _HEADERS + r"):\s*)([^\n]*)", re.IGNORECASE),
    # Query strings and form bodies: key=value
    re.compile(r"((?:^|[?&\s'\"])(?:" + _FIELDS + r")=)([^&\s'\"]*)"),
)

_WATCHED = ("botocore", "boto3", "urllib3", "boto_sso_oidc_provider", "s3transfer", "awscli")

_known_secrets: set[str] = set()
_lock = threading.Lock()
_previous_factory: Callable[..., logging.LogRecord] | None = None


def remember(*secrets: str | None) -> None:
    """Also redact these exact values wherever they appear (tokens this process handles)."""
    with _lock:
        _known_secrets.update(s for s in secrets if s and len(s) >= 8)


def redact(text: str) -> str:
    """``text`` with every secret value replaced by ``<redacted>``."""
    for index, pattern in enumerate(_PATTERNS):
        if index == 3:
            text = pattern.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
        else:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    if _known_secrets:
        for secret in sorted(_known_secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, REDACTED)
    return text


def _factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    assert _previous_factory is not None
    record = _previous_factory(*args, **kwargs)
    if record.name.startswith(_WATCHED):
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logging's problem to report
            return record
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    return record


def install() -> None:
    """Start redacting (idempotent)."""
    global _previous_factory
    with _lock:
        if _previous_factory is not None:
            return
        _previous_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_factory)


def uninstall() -> None:
    """Stop redacting, if this module's factory is still the current one."""
    global _previous_factory
    with _lock:
        if _previous_factory is not None and logging.getLogRecordFactory() is _factory:
            logging.setLogRecordFactory(_previous_factory)
            _previous_factory = None
