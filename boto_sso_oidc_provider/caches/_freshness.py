"""Step 4 of the flow: when something cached with an expiry is used as is, renewed first, or gone.

Said once for everything this package caches with an expiry: the SSO access
token, role credentials, chained (assumed-role) credentials, the client
registration, what the servers hand out and EKS tokens. google-auth's
``TokenState`` is the model: three states and one threshold per kind::

    FRESH     more than its window left: used as is, from a plain read, no lock, no call
    STALE     still valid, but inside its window: renewed first (under the entry's lock);
              used as is only when the renewal fails and it has not expired
    EXPIRED   past its expiry: renewed, or a person must log in

:func:`freshness` is the one function that decides it, on epoch seconds, so the
managers (``datetime``), ``status`` and the warm path (text timestamps, no
``datetime`` import: :func:`epoch_of_timestamp`) reach the same answer on the
same moments. The windows are defined here and nowhere else.

Standard library only and cheap to import: the warm path of ``credential-process`` imports it.
"""

from __future__ import annotations

__all__ = ["Freshness", "freshness", "epoch_of_timestamp", "REFRESH_WINDOW", "IMDS_REFRESH_WINDOW",
           "SESSION_END_NOTICE", "CONSOLE_SIGNIN_LIFETIME", "EKS_TOKEN_LIFETIME", "EKS_TOKEN_WINDOW"]


class Freshness:
    """How usable a cached thing with an expiry is, now (see the module docstring): one of
    :attr:`FRESH`, :attr:`STALE` and :attr:`EXPIRED`, compared with ``is``. (A plain class, not
    an :class:`enum.Enum`: making an enum costs the warm path's start-up a third of a
    millisecond.)"""

    __slots__ = ("name", "usable")

    FRESH: Freshness
    STALE: Freshness
    EXPIRED: Freshness

    def __init__(self, name: str, usable: bool) -> None:
        self.name = name
        self.usable = usable  # still valid: FRESH, or STALE (which a failed renewal may hand out)

    def __repr__(self) -> str:
        return f"Freshness.{self.name}"

    @classmethod
    def states(cls) -> tuple[Freshness, Freshness, Freshness]:
        return cls.FRESH, cls.STALE, cls.EXPIRED


Freshness.FRESH = Freshness("FRESH", True)
Freshness.STALE = Freshness("STALE", True)
Freshness.EXPIRED = Freshness("EXPIRED", False)


REFRESH_WINDOW = 15 * 60.0
"""Seconds. A token, role credentials, chained credentials or a client registration with this
little left is renewed before use: botocore's advisory refresh window and the AWS CLI v2's
registration margin are both 15 minutes, so every tool agrees on when a cached entry is stale.
The container-credentials endpoint serves credentials with more left (the JavaScript SDK refreshes
5 minutes before the expiry, botocore 15, advisory, and 10, mandatory: none fetches them again at
once), the same window as the role-credential cache's, so a renewal never just re-reads the old
entry."""

IMDS_REFRESH_WINDOW = 21 * 60.0
"""Seconds. The instance-metadata endpoint serves credentials with more than 21 minutes left.
botocore's IMDS fetcher treats credentials expiring within 10 minutes plus a random 2 to 10 as an
outage and extends them ("static stability"): with more than 20 minutes left it never does, and
refreshes 15 minutes before the real expiry, as with any other credentials."""

SESSION_END_NOTICE = 10 * 60.0
"""Seconds. Within this of the SSO session's end at the latest, commands warn on stderr."""

EKS_TOKEN_LIFETIME = 14 * 60.0
"""Seconds from signing an EKS token to the ``expirationTimestamp`` kubectl is told: the AWS CLI's
14 minutes (``aws eks get-token``; STS accepts a presigned GetCallerIdentity URL for 15 minutes
after its ``X-Amz-Date``, whatever its ``X-Amz-Expires``), after which client-go asks again."""

EKS_TOKEN_WINDOW = 5 * 60.0
"""Seconds. A cached EKS token with this little left before its ``expirationTimestamp`` is signed
anew: every token ``eks-token`` hands out has at least 5 of its 14 minutes left (client-go keeps
it that long in a long-lived process such as ``kubectl logs -f``), and one token answers the
kubectl calls of its first 9 minutes. It never outlives the role credentials it was signed with:
the warm path reuses it only while those are FRESH (more than :data:`REFRESH_WINDOW` left, more
than a token's whole lifetime)."""


CONSOLE_SIGNIN_LIFETIME = 15 * 60.0
"""Seconds a console sign-in token (the federation endpoint's) signs in: ``console``'s page for
the browser is deleted once it is EXPIRED."""


def freshness(expires_at: float, now: float, window: float = REFRESH_WINDOW) -> Freshness:
    """The state of something expiring at ``expires_at`` (epoch seconds) at ``now``, with ``window``.

    FRESH when more than ``window`` seconds are left, STALE when some time is left, EXPIRED
    at or past the moment itself.
    """
    left = expires_at - now
    if left > window:
        return Freshness.FRESH
    if left > 0:
        return Freshness.STALE
    return Freshness.EXPIRED


_CUMULATIVE_DAYS = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DIGITS = str.maketrans("123456789", "000000000")
_SHAPE = "0000-00-00T00:00:00Z"


def epoch_of_timestamp(text: object) -> float | None:
    """Epoch seconds of a canonical cache timestamp (``YYYY-MM-DDTHH:MM:SSZ``: what botocore, the
    AWS CLI v2 and this package write), or None if ``text`` is not one or names no real moment
    (``2099-02-30T00:00:00Z``). Without :mod:`datetime`: the warm path's start-up."""
    if not isinstance(text, str) or text.translate(_DIGITS) != _SHAPE:
        return None
    year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
    hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if (year < 1 or not 1 <= month <= 12 or day < 1
            or day > _MONTH_DAYS[month - 1] + (month == 2 and leap)
            or hour > 23 or minute > 59 or second > 59):
        return None
    leap_before = (year - 1) // 4 - (year - 1) // 100 + (year - 1) // 400  # leap years before it
    days = (year - 1) * 365 + leap_before + _CUMULATIVE_DAYS[month - 1] + (month > 2 and leap) + day - 1
    days -= 719162  # 0001-01-01 to 1970-01-01
    return float(days * 86400 + hour * 3600 + minute * 60 + second)
