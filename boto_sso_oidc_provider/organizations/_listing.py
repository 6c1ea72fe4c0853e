"""Step 5, for a whole organization: every account and its roles, at the service's pace.

The SSO portal allows about 20 calls a second (IAM Identity Center's published
quota; see :mod:`boto_sso_oidc_provider.emulator._throttle` for the sources) and
answers more with ``TooManyRequestsException`` (HTTP 429). An organization of
5,000 accounts needs 5,000 ListAccountRoles calls, so a listing takes minutes
and meets throttling as a matter of course. This engine makes one listing of
ListAccounts (every page) and ListAccountRoles (every page of every account):

- **one rate limiter** (:class:`RateLimiter`, a token bucket) shared by every
  worker of the listing, starting at :attr:`Pace.rate` calls a second;
- **adaptive**: a throttle halves the rate (at most once per
  :attr:`Pace.cooldown`) and halves the calls allowed in flight; each success
  wins a little of both back, up to :attr:`Pace.rate` and :attr:`Pace.concurrency`;
- **retries** of every throttle (``TooManyRequestsException``,
  ``SlowDownException``...), 5xx and network failure, with exponential backoff
  and full jitter, through the limiter again;
- **one deadline** (:attr:`Pace.deadline`) for the whole listing: when it
  passes, :class:`ListingError` is raised at once, even if a call hangs (the
  workers are daemon threads, abandoned).

A failure that will not pass by waiting (a 4xx other than throttling, the
deadline) raises :class:`ListingError` saying how far the listing got; a
refused token raises :class:`~.._clients.ServiceRefused` for the caller's
renew-once loop. Nothing here caches, locks or writes: that is
:mod:`boto_sso_oidc_provider.organizations.directory`'s.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._clients import UNAUTHORIZED, ServiceRefused, TransientServiceError, call

__all__ = ["Pace", "ListingProgress", "ListingError", "Listing", "RateLimiter", "list_organization",
           "list_accounts", "list_account_roles"]

_PAGE = 100  # the portal model's maximum maxResults


@dataclass(frozen=True)
class Pace:
    """How fast a listing may go, and for how long.

    ``rate``: calls a second at most (the portal's published 20 TPS);
    ``concurrency``: calls in flight at most; ``deadline``: seconds for the
    whole listing; ``cooldown``: seconds between two rate cuts; backoff of a
    retried call: full jitter over ``base_backoff * 2**attempt``, at most
    ``max_backoff``.
    """

    rate: float = 20.0
    concurrency: int = 8
    deadline: float = 1800.0
    min_rate: float | None = None
    """The rate throttles never push it below (None: an eighth of ``rate``)."""
    cooldown: float = 1.0
    # Short: the shared limiter does the slowing down (its rate halves on a throttle); the backoff
    # only spreads the retries out, so a run of throttles does not cost minutes of sleep.
    base_backoff: float = 0.1
    max_backoff: float = 2.0


@dataclass(frozen=True)
class ListingProgress:
    """A moment of a listing, for a progress line."""

    accounts_total: int | None
    """Accounts to list roles of (None while ListAccounts is still paging)."""
    accounts_done: int
    roles: int
    calls: int
    throttles: int
    elapsed: float
    rate: float
    """The limiter's current calls a second."""

    @property
    def seconds_left(self) -> float | None:
        """Estimated seconds to the end, at the current rate (None until the total is known)."""
        if self.accounts_total is None:
            return None
        return max(0.0, (self.accounts_total - self.accounts_done) / max(self.rate, 0.1))


@dataclass
class Listing:
    """The result: every account (``account_id``, ``account_name``, ``email``, ``roles``) sorted by
    id, and what it took."""

    accounts: list[dict[str, Any]]
    calls: int
    throttles: int
    retries: int
    seconds: float
    waited: float = 0.0
    """Seconds the workers spent backing off after throttles and failures."""


class ListingError(Exception):
    """A listing that could not finish: ``message`` says why, how far it got and what to do."""

    def __init__(self, message: str, *, accounts_done: int, accounts_total: int | None) -> None:
        super().__init__(message)
        self.accounts_done = accounts_done
        self.accounts_total = accounts_total


class _Deadline(Exception):
    pass


class RateLimiter:
    """A token bucket shared by every worker: at most ``rate`` calls a second, no burst.

    :meth:`throttled` halves the rate (once per ``cooldown``), :meth:`succeeded`
    raises it back by a twentieth of the ceiling. Thread-safe.
    """

    def __init__(self, pace: Pace, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._pace = pace
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.rate = pace.rate
        self._next = clock()  # when the next call may go
        self._last_cut = float("-inf")

    def acquire(self, deadline: float) -> None:
        """Wait for this call's turn; raises :class:`_Deadline` if it would come after ``deadline``."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            if slot > deadline:
                raise _Deadline()
            self._next = slot + 1.0 / self.rate
        if slot > now:
            self._sleep(slot - now)

    def throttled(self) -> None:
        with self._lock:
            now = self._clock()
            if now - self._last_cut >= self._pace.cooldown:
                self._last_cut = now
                floor = self._pace.min_rate or self._pace.rate / 8
                self.rate = max(floor, self.rate / 2)
                self._next = max(self._next, now + 1.0 / self.rate)

    def succeeded(self) -> None:
        with self._lock:
            self.rate = min(self._pace.rate, self.rate + self._pace.rate / 20)


class _Window:
    """Calls allowed in flight: halved on a throttle, +1 after as many successes as the window."""

    def __init__(self, limit: int) -> None:
        self._ceiling = max(1, limit)
        self.limit = self._ceiling
        self._in_flight = 0
        self._successes = 0
        self._condition = threading.Condition()

    def enter(self, deadline: float, clock: Callable[[], float]) -> None:
        with self._condition:
            while self._in_flight >= self.limit:
                left = deadline - clock()
                if left <= 0:
                    raise _Deadline()
                self._condition.wait(min(left, 0.5))
            self._in_flight += 1

    def leave(self, *, throttled: bool) -> None:
        with self._condition:
            self._in_flight -= 1
            if throttled:
                self.limit = max(1, self.limit // 2)
                self._successes = 0
            else:
                self._successes += 1
                if self._successes >= self.limit and self.limit < self._ceiling:
                    self.limit += 1
                    self._successes = 0
            self._condition.notify_all()


@dataclass
class _Run:
    """One listing's shared state (every field behind ``lock``)."""

    pace: Pace
    deadline: float
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    progress: Callable[[ListingProgress], None] | None
    started: float
    limiter: RateLimiter
    window: _Window
    lock: threading.Lock = field(default_factory=threading.Lock)
    calls: int = 0
    throttles: int = 0
    retries: int = 0
    waited: float = 0.0
    accounts_total: int | None = None
    accounts_done: int = 0
    roles: int = 0
    failure: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def report(self) -> None:
        if self.progress is None:
            return
        with self.lock:
            snapshot = ListingProgress(self.accounts_total, self.accounts_done, self.roles,
                                       self.calls, self.throttles, self.clock() - self.started,
                                       self.limiter.rate)
        self.progress(snapshot)

    def fail(self, error: BaseException) -> None:
        with self.lock:
            if self.failure is None:
                self.failure = error
        self.done.set()

    def page(self, operation: Callable[..., Any], **params: Any) -> dict[str, Any]:
        """One page, as many times as it takes: limiter, window, backoff, deadline."""
        attempt = 0
        while True:
            if self.failure is not None:
                raise _Deadline()  # another worker failed: stop quietly
            self.limiter.acquire(self.deadline)
            self.window.enter(self.deadline, self.clock)
            throttled = False
            try:
                with self.lock:
                    self.calls += 1
                result: dict[str, Any] = call(operation, refusals=(UNAUTHORIZED, "ResourceNotFoundException"),
                                              **params)
                self.limiter.succeeded()
                return result
            except TransientServiceError as error:
                if not error.retryable:
                    raise
                throttled = error.throttled
                if throttled:
                    self.limiter.throttled()
                with self.lock:
                    self.throttles += throttled
                    self.retries += 1
            finally:
                self.window.leave(throttled=throttled)
            backoff = random.uniform(0, min(self.pace.max_backoff, self.pace.base_backoff * 2 ** attempt))
            attempt = min(attempt + 1, 16)
            if self.clock() + backoff > self.deadline:
                raise _Deadline()
            with self.lock:
                self.waited += backoff
            self.sleep(backoff)


def _paged(run: _Run, operation: Callable[..., Any], key: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = run.page(operation, maxResults=_PAGE, **params, **({"nextToken": token} if token else {}))
        items.extend(page.get(key, []))
        token = page.get("nextToken")
        if not token:
            return items


def list_organization(client: Any, access_token: str, *, pace: Pace = Pace(),
                      wanted: Callable[[Mapping[str, Any]], bool] | None = None,
                      progress: Callable[[ListingProgress], None] | None = None,
                      clock: Callable[[], float] = time.monotonic,
                      sleep: Callable[[float], None] = time.sleep,
                      deadline_at: float | None = None) -> Listing:
    """Every account (or those ``wanted`` says yes to, given the ListAccounts record) and its roles.

    ``deadline_at`` (a ``clock`` time) ends the listing earlier than
    ``pace.deadline`` from now, when part of the deadline went elsewhere (a lock
    wait). ``client`` is an ``sso`` botocore client (best made with the
    :data:`~.._clients.BULK` profile). ``progress`` is called from the
    workers after each account. Raises :class:`ListingError` (deadline,
    or a failure that will not pass) and :class:`~.._clients.ServiceRefused`
    (``UnauthorizedException``: the token was refused).
    """
    started = clock()
    deadline = started + pace.deadline if deadline_at is None else min(deadline_at, started + pace.deadline)
    run = _Run(pace=pace, deadline=deadline, clock=clock, sleep=sleep,
               progress=progress, started=started, limiter=RateLimiter(pace, clock=clock, sleep=sleep),
               window=_Window(pace.concurrency))
    work: queue.Queue[dict[str, Any] | None] = queue.Queue()
    results: dict[str, list[str]] = {}
    accounts: list[dict[str, Any]] = []

    def list_accounts() -> None:
        try:
            found = _paged(run, client.list_accounts, "accountList", accessToken=access_token)
            chosen = [account for account in found if wanted is None or wanted(account)]
            accounts.extend(chosen)
            with run.lock:
                run.accounts_total = len(chosen)
            for account in chosen:
                work.put(account)
            if not chosen:
                run.done.set()
        except BaseException as error:  # noqa: BLE001 - handed to the waiting caller
            run.fail(error)
        finally:
            for _ in range(pace.concurrency):
                work.put(None)

    def list_roles() -> None:
        try:
            while (account := work.get()) is not None:
                account_id = str(account["accountId"])
                try:
                    listed = _paged(run, client.list_account_roles, "roleList",
                                    accessToken=access_token, accountId=account_id)
                except ServiceRefused as refused:
                    if refused.code == UNAUTHORIZED:
                        raise
                    listed = []  # the account left the organization after ListAccounts
                roles = sorted({str(role["roleName"]) for role in listed})
                with run.lock:
                    results[account_id] = roles
                    run.accounts_done += 1
                    run.roles += len(roles)
                    finished = run.accounts_total is not None and run.accounts_done >= run.accounts_total
                run.report()
                if finished:
                    run.done.set()
        except BaseException as error:  # noqa: BLE001 - handed to the waiting caller
            run.fail(error)

    # Daemon threads, not an executor: at the deadline a hung call is abandoned, not joined.
    threads = [threading.Thread(target=list_accounts, name="sso-list-accounts", daemon=True)]
    threads += [threading.Thread(target=list_roles, name=f"sso-list-roles-{n}", daemon=True)
                for n in range(pace.concurrency)]
    for thread in threads:
        thread.start()
    run.done.wait(max(0.0, run.deadline - clock()))
    with run.lock:
        failure, done, total = run.failure, run.accounts_done, run.accounts_total
    if failure is None and not run.done.is_set():
        failure = _Deadline()
    if failure is not None:
        run.failure = run.failure or failure  # stops the workers
        raise _explain(failure, done, total, pace) from None
    return Listing(
        accounts=sorted(({"account_id": str(account["accountId"]),
                          "account_name": str(account.get("accountName", "") or ""),
                          "email": str(account.get("emailAddress", "") or ""),
                          "roles": results.get(str(account["accountId"]), [])}
                         for account in accounts), key=lambda account: account["account_id"]),
        calls=run.calls, throttles=run.throttles, retries=run.retries,
        seconds=clock() - started, waited=run.waited)


def _explain(failure: BaseException, done: int, total: int | None, pace: Pace) -> BaseException:
    """The error to raise for ``failure``: a :class:`ListingError` saying how far, or as it is."""
    if isinstance(failure, ServiceRefused):
        return failure
    where = (f"{done} of {total} accounts had their roles listed" if total is not None
             else "ListAccounts had not returned every page")
    if isinstance(failure, _Deadline):
        return ListingError(f"the listing did not finish within {pace.deadline:g} s ({where}); "
                            "nothing was written. Run it again (throttling is waited out, and a "
                            "slow portal may need a longer --timeout)",
                            accounts_done=done, accounts_total=total)
    if isinstance(failure, TransientServiceError):
        failed = "could not be reached:" if failure.unreachable else "answered"
        return ListingError(f"the portal {failed} {failure.reason} ({where}); nothing was written. "
                            f"{failure.advice.rstrip('.')}", accounts_done=done, accounts_total=total)
    return failure


def _one_worker(pace: Pace, clock: Callable[[], float], sleep: Callable[[float], None],
                progress: Callable[[ListingProgress], None] | None) -> _Run:
    started = clock()
    return _Run(pace=pace, deadline=started + pace.deadline, clock=clock, sleep=sleep,
                progress=progress, started=started, limiter=RateLimiter(pace, clock=clock, sleep=sleep),
                window=_Window(1))


def list_accounts(client: Any, access_token: str, *, pace: Pace = Pace(),
                  progress: Callable[[ListingProgress], None] | None = None,
                  clock: Callable[[], float] = time.monotonic,
                  sleep: Callable[[float], None] = time.sleep) -> list[dict[str, str]]:
    """Every account of ListAccounts (every page, one after the other: each page needs the
    last one's token), at the pace, throttles waited out; no role is listed. Each account:
    ``account_id``, ``account_name``, ``email``; sorted by id. ``progress`` is called after each
    page (``accounts_done``: accounts so far). Raises as :func:`list_organization`."""
    run = _one_worker(pace, clock, sleep, progress)
    found: list[dict[str, Any]] = []
    token: str | None = None
    try:
        while True:
            page = run.page(client.list_accounts, maxResults=_PAGE, accessToken=access_token,
                            **({"nextToken": token} if token else {}))
            found.extend(page.get("accountList", []))
            with run.lock:
                run.accounts_done = len(found)
            run.report()
            token = page.get("nextToken")
            if not token:
                break
    except (_Deadline, TransientServiceError) as error:
        raise _explain(error, 0, None, pace) from None
    return sorted(({"account_id": str(account["accountId"]),
                    "account_name": str(account.get("accountName", "") or ""),
                    "email": str(account.get("emailAddress", "") or "")} for account in found),
                  key=lambda account: account["account_id"])


def list_account_roles(client: Any, access_token: str, account_id: str, *, pace: Pace = Pace(),
                       clock: Callable[[], float] = time.monotonic,
                       sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """The role names of one account (every page of ListAccountRoles), sorted. An account the
    user has no access to is :class:`~.._clients.ServiceRefused` (``ResourceNotFoundException``
    or ``UnauthorizedException``, the token); otherwise raises as :func:`list_organization`."""
    run = _one_worker(pace, clock, sleep, None)
    try:
        listed = _paged(run, client.list_account_roles, "roleList", accessToken=access_token,
                        accountId=account_id)
    except (_Deadline, TransientServiceError) as error:
        raise _explain(error, 0, 1, pace) from None
    return sorted({str(role["roleName"]) for role in listed})
