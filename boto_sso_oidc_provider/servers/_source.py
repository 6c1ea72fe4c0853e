"""Step 7 of the flow: what both servers serve: fresh credentials, renewed once for all, backed off.

:class:`ServedCredentials` stands between the HTTP requests and a source of
credentials (``get``: for the CLI the locked, shared cache of a
:class:`~boto_sso_oidc_provider.credentials.role_credentials.RoleCredentialsManager`;
``peek``: what that cache holds now, without renewing). Its rules:

* **Fresh only.** Credentials are served with more than ``margin`` seconds
  left (15 minutes: botocore's advisory refresh window, more than the JS
  SDK's 5), from the first request on. Older ones are renewed first; a
  renewal that hands back the same credentials (the portal unreachable or
  throttling, the old ones all there is) is a 503, not credentials about to
  expire. Credentials that live shorter than the margin (only the emulator
  issues such) are served when newly issued.
* **Single flight.** One renewal at a time; requests that waited for it take
  its outcome, failure included. A request that would wait past its deadline
  gets 503 ``RenewalInProgress`` (the renewal goes on for the retry).
* **Back-off.** After a failed renewal, requests get the same refusal, with
  ``Retry-After``, without calling the source again: 1 s, doubling for each
  failure in a row, at most 30 s while the portal cannot be reached (503) and
  2 s when a person must act (424: the next request after
  ``boto-sso-oidc login`` is served within 2 s).
* **What the cache says wins.** Credentials kept in memory are served only
  while ``peek`` still shows them: after ``boto-sso-oidc logout`` (or
  ``aws sso logout``) removed them, the next request renews, which then needs
  a login (424); when another process renewed them, the newer ones are served.
* **Shutdown waits for a renewal.** :meth:`wait_idle` returns once no renewal
  is in progress, so a stopping server never abandons a token refresh between
  the service rotating the refresh token and the cache write.

Time comes from the injected clock (``datetime``), so tests move it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from .._clients import CALL_BOUND
from .._clock import Clock, format_timestamp, utc_now
from ..caches._freshness import Freshness
from ._http import HTTPFront, Refusal, Response

if TYPE_CHECKING:  # pragma: no cover
    import datetime as dt

    from ..credentials.role_credentials import RoleCredentials

__all__ = ["RENEWAL_BOUND", "Endpoint", "ServedCredentials", "refusal_for", "wait_for_renewals"]

logger = logging.getLogger(__name__)

RENEWAL_BOUND = 2 * CALL_BOUND
"""The longest a stopping server waits for a renewal in progress: a token refresh, then
GetRoleCredentials, each at most :data:`~boto_sso_oidc_provider._clients.CALL_BOUND` (about 56 s
against endpoints that never answer; a second or less against ones that do)."""

_E = TypeVar("_E", bound="Endpoint")

_BACKOFF_FIRST = 1.0
_BACKOFF_MAX = {503: 30.0, 424: 2.0}
_BACKOFF_OTHER = 5.0


class ServedCredentials:
    """The credentials one path serves: see the module docstring for the rules."""

    def __init__(self, get: Callable[[], RoleCredentials], *, margin: float, clock: Clock = utc_now,
                 peek: Callable[[], RoleCredentials | None] | None = None, name: str = "") -> None:
        self._get = get
        self._peek = peek
        self._margin = margin
        self._clock = clock
        self.name = name
        self._lock = threading.Lock()
        self._current: RoleCredentials | None = None
        self._error: Refusal | None = None
        self._retry_at: dt.datetime | None = None
        self._failures = 0
        self._generation = 0
        self.renewals = 0
        self._logged: str | None = None  # the failure last logged; None while renewals succeed
        self._closed = False

    def _fresh(self, credentials: RoleCredentials | None) -> bool:
        return credentials is not None and credentials.freshness(self._clock, self._margin) is Freshness.FRESH

    def _held(self, credentials: RoleCredentials) -> bool:
        """Does the source still hold ``credentials`` (not logged out, not renewed elsewhere)?"""
        if self._peek is None:
            return True
        try:
            cached = self._peek()
        except Exception:  # an unreadable cache is a reason to renew, not to fail
            return False
        return cached is not None and cached.access_key_id == credentials.access_key_id

    def _backed_off(self) -> Refusal | None:
        """The last failure, with the seconds left to wait, while its back-off lasts."""
        if self._error is None or self._retry_at is None:
            return None
        left = (self._retry_at - self._clock()).total_seconds()
        if left <= 0:
            return None
        refusal = self._error
        return Refusal(refusal.status, refusal.code, refusal.message,
                       {**refusal.headers, "Retry-After": str(max(1, math.ceil(left)))})

    def get(self, deadline: float) -> RoleCredentials:
        """Fresh credentials, renewing them if needed; raises :class:`Refusal`.

        Waits for another request's renewal until ``deadline`` (``time.monotonic()``).
        """
        generation = self._generation
        current = self._current
        if self._fresh(current) and self._held(current):  # type: ignore[arg-type]
            assert current is not None
            return current
        backed_off = self._backed_off()
        if backed_off is not None:
            raise backed_off
        if not self._lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise Refusal(503, "RenewalInProgress",
                          "The role credentials are being renewed; try again in a moment.",
                          {"Retry-After": "1"})
        try:
            if self._closed:
                raise Refusal(503, "ShuttingDown", "The server is stopping.", {"Retry-After": "1"})
            if self._generation != generation:  # a renewal finished while we waited: share it
                if self._error is not None:
                    raise self._backed_off() or self._error
                current = self._current
                if current is not None and current.freshness(self._clock).usable:
                    return current
            return self._renew()
        finally:
            self._lock.release()

    def wait_idle(self, timeout: float) -> bool:
        """Start no more renewals; wait until none is in progress (at most ``timeout`` s). False if
        one still is."""
        self._closed = True
        if not self._lock.acquire(timeout=max(0.0, timeout)):
            return False
        self._lock.release()
        return True

    def _renew(self) -> RoleCredentials:
        before = self._current
        if before is None and self._peek is not None:
            try:
                before = self._peek()
            except Exception:
                before = None
        self.renewals += 1
        try:
            try:
                renewed = self._get()
            except Exception as error:  # every failure becomes an answer for the client
                raise refusal_for(error) from None
            if not self._fresh(renewed) and before is not None \
                    and renewed.access_key_id == before.access_key_id:
                raise Refusal(503, "ServiceUnavailable",
                              "Could not renew the role credentials (the SSO portal "
                              "cannot be reached) and the current ones expire within the SDKs' refresh "
                              "margin. Try again later.")
        except Refusal as refusal:
            self._failed(refusal)
            raise self._backed_off() or refusal from None
        self._error = None
        self._retry_at = None
        self._failures = 0
        self._current = renewed
        self._generation += 1
        if self._logged is not None:
            self._logged = None
            logger.warning("%s", self._naming("Serving role credentials again."))
        logger.info("%s", self._naming(f"Serving role credentials {renewed.access_key_id}, valid until "
                                       f"{format_timestamp(renewed.expiration)}"))
        return renewed

    def _failed(self, refusal: Refusal) -> None:
        import datetime as dt

        self._failures += 1
        longest = _BACKOFF_MAX.get(refusal.status, _BACKOFF_OTHER)
        wait = min(longest, _BACKOFF_FIRST * 2 ** min(self._failures - 1, 16))
        self._error = refusal
        self._retry_at = self._clock() + dt.timedelta(seconds=wait)
        self._current = None
        self._generation += 1
        if refusal.message != self._logged:  # once per outage (and reason), not once per request
            self._logged = refusal.message
            logger.warning("%s", self._naming(refusal.message))

    def _naming(self, message: str) -> str:
        """``message``, naming the profile when several are served (and it does not name it)."""
        if not self.name or f'"{self.name}"' in message:
            return message
        return f'profile "{self.name}": {message[:1].lower()}{message[1:]}'



def refusal_for(error: Exception) -> Refusal:
    """The answer for an exception raised while getting credentials."""
    from .. import exceptions
    from .._redaction import redact

    message = " ".join(redact(str(getattr(error, "message", None) or error)).split())
    if isinstance(error, exceptions.SSOLoginRequiredError):
        return Refusal(424, "SSOLoginRequired", message)
    if isinstance(error, (exceptions.RoleCredentialsError, exceptions.SSOConfigError,
                          exceptions.SSOLoginError)):
        return Refusal(424, type(error).__name__, message)
    if isinstance(error, exceptions.SSOProviderError):  # the portal unreachable, a lock held too long
        return Refusal(503, "ServiceUnavailable", message)
    logger.error("Unexpected %s while getting role credentials: %s", type(error).__name__, message)
    return Refusal(500, "InternalError",
                   f"The credentials endpoint failed ({type(error).__name__}); see its log.")


def wait_for_renewals(served: Iterable[ServedCredentials], bound: float = RENEWAL_BOUND) -> bool:
    """Wait until none of ``served`` is renewing, at most ``bound`` seconds in all; False if one still is."""
    deadline = time.monotonic() + bound
    idle = all([route.wait_idle(deadline - time.monotonic()) for route in served])
    if not idle:
        logger.warning("Stopped while a renewal of role credentials was still in progress after %d s.",
                       bound)
    return idle


class Endpoint:
    """What both servers share: an HTTP front serving some :class:`ServedCredentials`, started and
    stopped the same way, refusals as JSON ``{"Code", "Message"}`` (what the SDKs pass on)."""

    _front: HTTPFront

    def _served(self) -> Iterable[ServedCredentials]:
        raise NotImplementedError

    def counts(self) -> dict[int, int]:
        """How many answers were given, by HTTP status."""
        return self._front.counts()

    @property
    def renewals(self) -> int:
        """How many times the sources were called for credentials."""
        return sum(served.renewals for served in self._served())

    def start(self: _E) -> _E:
        """Serve in background (daemon) threads until :meth:`shutdown`; returns self."""
        self._front.start()
        return self

    def shutdown(self) -> None:
        """Stop accepting, let a renewal in progress finish and write its cache (at most
        :data:`RENEWAL_BOUND` s), wait (at most ``request_timeout + 1``) for other requests in
        progress, and release the port."""
        self._front.shutdown(settle=lambda: wait_for_renewals(self._served()))

    def __enter__(self: _E) -> _E:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def render(self, refusal: Refusal) -> Response:
        import json

        body = json.dumps({"Code": refusal.code, "Message": refusal.message}).encode()
        return Response(refusal.status, body, "application/json", refusal.headers)
