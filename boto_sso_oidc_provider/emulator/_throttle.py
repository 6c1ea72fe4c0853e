"""The service's throttling: a token bucket per operation, as the SSO portal enforces its quotas.

IAM Identity Center throttles the portal API (``portal.sso.<region>.amazonaws.com``)
and answers a call over the limit with ``TooManyRequestsException`` (HTTP 429),
which the portal's model lists for ListAccounts, ListAccountRoles and
GetRoleCredentials. AWS's published figure is "a throttle limit of 20
transactions per second" (the IAM Identity Center quotas page,
https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html, as cited
by the Leapp maintainers in Noovolari/leapp#297; aws-sso-util#112 and
elva-labs/awsesh#10 report the same 20 TPS from the field). AWS does not
publish the burst: each bucket here holds one second's worth of calls.
:data:`PORTAL_RATE_LIMITS` holds those defaults; an emulator throttles nothing
unless it is given rate limits (``--rate-limit OPERATION[=TPS]``), so tests
that do not ask for throttling never meet it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

PORTAL_RATE_LIMITS: Mapping[str, float] = {
    "ListAccounts": 20.0,
    "ListAccountRoles": 20.0,
    "GetRoleCredentials": 20.0,
}
"""Transactions per second per operation: IAM Identity Center's published 20 TPS (see above)."""

RATE_LIMITED_OPERATIONS: tuple[str, ...] = ("ListAccounts", "ListAccountRoles", "GetRoleCredentials",
                                            "Logout")
"""The portal's operations, which may be given a rate limit (their model has the 429 error)."""

THROTTLE_ERROR = "TooManyRequestsException"
"""What a throttled portal call is answered with (HTTP 429)."""


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; one token per call.

    Thread-safe. ``take`` never waits: a call without a token is throttled.
    """

    def __init__(self, rate: float, burst: float | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not rate > 0:
            raise ValueError("a rate limit must be a positive number of calls per second")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, rate))
        self._clock = clock
        self._tokens = self.burst
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Use one token if there is one; False means the call is over the limit."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


class Throttle:
    """The token buckets of the operations that have a rate limit; others pass freely."""

    def __init__(self, rate_limits: Mapping[str, float], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets = {operation: TokenBucket(rate, clock=clock)
                         for operation, rate in rate_limits.items()}

    def allows(self, operation: str) -> bool:
        """Whether a call of ``operation`` arriving now is within its limit."""
        bucket = self._buckets.get(operation)
        return bucket is None or bucket.take()
