"""Step 4 of the flow: when an sso-session's login here began, so when the session ends at the latest.

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

from ._freshness import SESSION_END_NOTICE, Freshness, epoch_of_timestamp, freshness
from ._layout import cache_timestamp, login_record_file, sso_cache_dir

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

__all__ = ["read_record", "session_began",
           "login_record", "carried_record", "ends_by", "ending_notice"]


def read_record(token_cache_key: str) -> dict[str, str] | None:
    """The login record of the sso-session with this token key, or None (absent or not ours)."""
    from .._files import read_small_file

    try:
        data = json.loads(read_small_file(login_record_file(token_cache_key)))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not all(
            isinstance(data.get(key), str) for key in ("sessionBeganAt", "tokenExpiresAt")):
        return None
    if epoch_of_timestamp(data["sessionBeganAt"]) is None:
        return None
    return data


def session_began(token_cache_key: str, record: dict[str, str] | None = None) -> str | None:
    """When the session of the token now cached began, if the login record still describes
    that token (else None: no record, or another tool wrote the token since)."""
    record = read_record(token_cache_key) if record is None else record
    if record is None:
        return None
    from .._files import read_small_file

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
    start = epoch_of_timestamp(began)
    if duration <= 0 or start is None:
        return None
    return cache_timestamp(start + duration)


def ending_notice(token_cache_key: str, *, duration: float, where: str, login_command: str,
                  now: float | None = None, record: dict[str, Any] | None = None) -> str | None:
    """A one-line warning when the session ends, at the latest, within
    :data:`~._freshness.SESSION_END_NOTICE` (and has not ended by that bound already); None
    otherwise, or when the end is unknown."""
    if duration <= 0:
        return None
    began = session_began(token_cache_key, record)
    start = None if began is None else epoch_of_timestamp(began)
    if began is None or start is None:
        return None
    now = time.time() if now is None else now
    if freshness(start + duration, now, SESSION_END_NOTICE) is not Freshness.STALE:
        return None
    return (f"The SSO session of {where} ends by {_words(cache_timestamp(start + duration))} at the "
            f"latest (its login began {_words(began)}; boto_sso_oidc_session_duration = "
            f"{duration:g} s). To go on past it, start a new session: {login_command} --force")


def _words(timestamp: str) -> str:
    return timestamp.replace("T", " ").replace("Z", " UTC")
