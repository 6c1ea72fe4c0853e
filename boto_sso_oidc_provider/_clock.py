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
    """Format as the AWS CLI v2 writes cache timestamps: ``YYYY-MM-DDTHH:MM:SSZ``.

    Years below 1000 keep their four digits (``strftime("%Y")`` drops them on glibc).
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=_UTC)
    value = value.astimezone(_UTC)
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}Z")


def parse_timestamp(text: str) -> _dt.datetime:
    """Parse a cache timestamp into an aware UTC datetime.

    Accepts what the AWS CLI v2, botocore and the other SDKs write: ``Z``,
    ``UTC`` (older AWS CLI and botocore releases) or a numeric offset, with or
    without fractional seconds. A naive value is taken as UTC. Raises
    :class:`ValueError` (or :class:`TypeError` for a non-string) on anything
    else, a moment that falls outside the years 1-9999 in UTC included.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected a timestamp string, got {type(text).__name__}")
    value = text.strip()
    if len(value) > 64:
        raise ValueError("not a timestamp: too long")
    if value.upper().endswith("UTC"):
        value = value[:-3].rstrip() + "+00:00"
    elif value.endswith(("Z", "z")):
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
    try:
        return parsed.astimezone(_UTC)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is in the year 10000 in UTC
        raise ValueError("timestamp outside the years 1-9999 in UTC") from None


def after(clock: Clock, seconds: float) -> _dt.datetime:
    """``clock() + seconds``, clamped to the last representable moment (a server's absurd
    ``expiresIn`` must not crash the caller)."""
    now = clock()
    try:
        return now + _dt.timedelta(seconds=seconds)
    except OverflowError:
        return _dt.datetime.max.replace(tzinfo=_UTC) if seconds > 0 else _dt.datetime.min.replace(
            tzinfo=_UTC)

