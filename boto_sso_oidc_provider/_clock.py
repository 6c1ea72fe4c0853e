"""The one place time comes from, and the cache files' timestamp formats.

Everything that asks "what time is it?" takes a :data:`Clock` so tests move
time instead of sleeping. Timestamps on disk use the AWS CLI v2's format:
UTC, ISO 8601, second precision, with a ``Z`` (``2026-11-21T07:18:03Z``).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

Clock = Callable[[], _dt.datetime]
"""A zero-argument callable returning an aware UTC :class:`datetime.datetime`."""

_UTC = _dt.timezone.utc


def utc_now() -> _dt.datetime:
    """The real clock: now, as an aware UTC datetime."""
    return _dt.datetime.now(_UTC)


def format_timestamp(value: _dt.datetime) -> str:
    """Format as the AWS CLI v2 writes cache timestamps: ``YYYY-MM-DDTHH:MM:SSZ``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_UTC)
    return value.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> _dt.datetime:
    """Parse a cache timestamp into an aware UTC datetime.

    Accepts what the AWS CLI v2, botocore and the other SDKs write: ``Z`` or a
    numeric offset, with or without fractional seconds. A naive value is taken
    as UTC. Raises :class:`ValueError` (or :class:`TypeError` for a non-string)
    on anything else.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected a timestamp string, got {type(text).__name__}")
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    # Python 3.10's fromisoformat accepts only 0, 3 or 6 fractional digits.
    if "." in value:
        head, _, tail = value.partition(".")
        digits = ""
        while tail and tail[0].isdigit():
            digits, tail = digits + tail[0], tail[1:]
        value = f"{head}.{(digits + '000000')[:6]}{tail}"
    parsed = _dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_UTC)
    return parsed.astimezone(_UTC)

