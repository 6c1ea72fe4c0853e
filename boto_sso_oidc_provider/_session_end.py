"""When an sso-session's login on this machine began, and so when the session ends at the latest.

IAM Identity Center never says when a session ends: a token's ``expiresAt`` is
the access token's hour, and a refresh token works until the session is over,
then fails. The session lasts the duration the organization set (Identity
Center's default is 8 hours; administrators choose 15 minutes to 90 days),
counted from the person's sign-in. So this package keeps, beside the token,
the *login record* (``<token key>.login-record``, 0600, no secret)::

    {"sessionBeganAt": "2026-12-02T04:00:00Z",   # this login began (or the session it joined)
     "loginAt": "2026-12-02T04:00:00Z",          # this machine's last login
     "tokenExpiresAt": "2026-12-02T05:00:00Z"}   # the token this package wrote last

``tokenExpiresAt`` ties the record to one token: each write of the token cache
gives it a new ``expiresAt`` (a value, not a secret). A refresh by this package
carries the record to the new token; a token written since by another tool (the
AWS CLI, botocore) does not match, and then the end is unknown: that tool may
have logged in anew. Even a matching record gives an upper bound, not the end:
a login inside a session still live in the browser (the portal) joins that
session and inherits its end; only SSO Logout first (``login --force``) starts
a fresh one. The duration is ``boto_sso_oidc_session_duration`` (seconds; 0
turns estimates and warnings off).

Standard library only, and no :mod:`datetime`: the warm path of
``credential-process`` reads the record (canonical UTC timestamps compare as text).
"""

from __future__ import annotations

import json
import os
import time

from ._layout import TIMESTAMP_FORMAT, cache_timestamp, login_record_file, sso_cache_dir, timestamp_shaped

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

__all__ = ["DEFAULT_SESSION_DURATION", "SESSION_WARNING", "read_record", "session_began",
           "login_record", "carried_record", "ends_by", "ending_notice"]

DEFAULT_SESSION_DURATION = 8 * 3600.0
"""Seconds: IAM Identity Center's default session duration (``boto_sso_oidc_session_duration``)."""

SESSION_WARNING = 10 * 60.0
"""Seconds: commands warn on stderr when the session ends, at the latest, within this."""



def read_record(token_cache_key: str) -> dict[str, str] | None:
    """The login record of the sso-session with this token key, or None (absent or not ours)."""
    from ._files import read_small_file

    try:
        data = json.loads(read_small_file(login_record_file(token_cache_key)))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not all(
            isinstance(data.get(key), str) for key in ("sessionBeganAt", "tokenExpiresAt")):
        return None
    if not timestamp_shaped(data["sessionBeganAt"]):
        return None  # compared as text below: only the canonical form compares right
    return data


def session_began(token_cache_key: str, record: dict[str, str] | None = None) -> str | None:
    """When the session of the token now cached began, if the login record still describes
    that token (else None: no record, or another tool wrote the token since)."""
    record = read_record(token_cache_key) if record is None else record
    if record is None:
        return None
    from ._files import read_small_file

    try:
        token = json.loads(read_small_file(os.path.join(sso_cache_dir(), f"{token_cache_key}.json")))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(token, dict) or token.get("expiresAt") != record["tokenExpiresAt"]:
        return None
    return record["sessionBeganAt"]


def login_record(*, began: str, login_at: str, token_expires_at: str) -> dict[str, str]:
    """The record a login writes (``began``: its own start, or that of the session it joined)."""
    return {"sessionBeganAt": began, "loginAt": login_at, "tokenExpiresAt": token_expires_at}


def carried_record(record: dict[str, str], token_expires_at: str) -> dict[str, str]:
    """``record`` carried to the token a refresh wrote."""
    return {**record, "tokenExpiresAt": token_expires_at}


def ends_by(began: str, duration: float) -> str | None:
    """The latest end of a session that began at ``began`` (None if ``duration`` is 0 or ``began``
    is not a cache timestamp)."""
    if duration <= 0:
        return None
    import calendar  # not at import: the warm path needs it only to word a warning

    try:
        start = calendar.timegm(time.strptime(began, TIMESTAMP_FORMAT))
    except (ValueError, OverflowError):
        return None
    return cache_timestamp(start + duration)


def ending_notice(token_cache_key: str, *, duration: float, where: str, login_command: str,
                  now: float | None = None, record: dict[str, Any] | None = None) -> str | None:
    """A one-line warning when the session ends, at the latest, within :data:`SESSION_WARNING`
    (and has not ended by that bound already); None otherwise, or when the end is unknown."""
    if duration <= 0:
        return None
    began = session_began(token_cache_key, record)
    if began is None:
        return None
    now = time.time() if now is None else now
    # began + duration in (now, now + SESSION_WARNING], compared as text (no parse on the warm path)
    if not cache_timestamp(now - duration) < began <= cache_timestamp(now + SESSION_WARNING - duration):
        return None
    end = ends_by(began, duration)
    if end is None:
        return None
    return (f"The SSO session of {where} ends by {_words(end)} at the latest (its login began "
            f"{_words(began)}; boto_sso_oidc_session_duration = {duration:g} s). To go on past it, "
            f"start a new session: {login_command} --force")


def _words(timestamp: str) -> str:
    return timestamp.replace("T", " ").replace("Z", " UTC")
