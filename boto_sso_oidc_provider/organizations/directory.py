"""Step 5, for a whole organization: the accounts and roles of an sso-session, cached.

``list`` and ``generate`` ask :func:`organization`. Within :data:`DIRECTORY_TTL`
of the last complete listing it answers from the directory cache and makes no
portal call (it does not even need a token); otherwise it takes the session's
token (refreshing or logging in as the :class:`~..caches.token.TokenManager` allows),
lists through :mod:`._listing` (one shared rate limiter, retries, one
deadline) and replaces the cache.

The cache, ``~/.aws/boto-sso-oidc/directory/<key>.json`` (see :mod:`..caches._layout`),
holds account ids, names, e-mail addresses and role names, never a token. It is bound to the
access token it was listed with (a SHA-256 of it): once that token is replaced (a refresh, a
login, perhaps as someone else) the next run lists again, and logging out deletes it, so it
never shows accounts its reader may no longer have. It
is written atomically, 0600 in a 0700 directory, and the listing happens under
its lock: runs that start together wait for the first one's listing and then
read it, so they agree, and the portal sees one listing, not four. The lock
wait counts against the same deadline as the listing; a run that fails (or is
killed) releases the lock and leaves the previous cache as it was. An
unreadable or foreign file is a warning and a fresh listing.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .._clients import BULK, UNAUTHORIZED, ServiceRefused, SessionClients
from .._clock import format_timestamp, parse_timestamp
from ..caches._entry import CacheEntry
from ..caches._layout import directory_cache_dir, directory_cache_key
from ..exceptions import SSOProviderError
from ._listing import (
    Listing,
    ListingError,
    ListingProgress,
    Pace,
    list_account_roles,
    list_accounts,
    list_organization,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..caches.token import TokenManager
    from ..config.reader import SSOSessionConfig

__all__ = ["DIRECTORY_TTL", "AccountFilter", "Organization", "organization", "directory_entry",
           "forget_directory", "accounts", "account_roles"]

DIRECTORY_TTL = 3600.0
"""Seconds a complete listing is reused: accounts and roles change rarely (``--refresh`` forces
a new listing at once)."""

_MAX_BYTES = 64 << 20  # about 400,000 accounts with three roles each
_VERSION = 1


@dataclass(frozen=True)
class AccountFilter:
    """Which accounts to keep: ``patterns`` are account ids or globs on account names
    (``fnmatch``, case-sensitive as names are); empty keeps every account."""

    patterns: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, account_id: str, account_name: str) -> bool:
        return not self.patterns or any(
            pattern == account_id or fnmatch.fnmatchcase(account_name, pattern)
            for pattern in self.patterns)


_DEFAULT_PACE = Pace()
_T = TypeVar("_T")
_EVERY_ACCOUNT = AccountFilter()


@dataclass
class Organization:
    """Accounts (``account_id``, ``account_name``, ``email``, ``roles``) sorted by id, when they
    were listed, and whether this run listed them (``listing`` has the figures) or read the cache."""

    accounts: list[dict[str, Any]]
    listed_at: str
    from_cache: bool
    listing: Listing | None = None
    cache_path: Path | None = None


def directory_entry(manager: TokenManager, *, lock_timeout: float = Pace.deadline) -> CacheEntry:
    """The directory cache entry of ``manager``'s sso-session."""
    sso = manager.sso
    return CacheEntry(Path(directory_cache_dir()) / f"{directory_cache_key(sso.name, sso.start_url)}.json",
                      describe=f"account directory of {sso.display_name}", lock_timeout=lock_timeout,
                      max_bytes=_MAX_BYTES)


def forget_directory(sso: SSOSessionConfig) -> bool:
    """Delete the directory cache of ``sso`` (a logout). True if there was one."""
    path = Path(directory_cache_dir()) / f"{directory_cache_key(sso.name, sso.start_url)}.json"
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _token_digest(manager: TokenManager) -> str | None:
    """The SHA-256 of the access token cached now (None without one): what a listing is bound to."""
    import hashlib

    token = manager.cached()
    return None if token is None else hashlib.sha256(token.access_token.encode("utf-8")).hexdigest()


def _encode(manager: TokenManager, accounts: Sequence[Mapping[str, Any]], listed_at: str) -> dict[str, Any]:
    return {"version": _VERSION, "ssoSession": manager.sso.name, "startUrl": manager.sso.start_url,
            "listedAt": listed_at, "listedWith": _token_digest(manager),
            "accounts": [[a["account_id"], a["account_name"], a["email"], list(a["roles"])]
                         for a in accounts]}


def _decode(manager: TokenManager, data: Mapping[str, Any]) \
        -> tuple[str, list[dict[str, Any]], str | None] | None:
    """``(listed_at, accounts, listed_with)`` of a cache file of this session, or None if it is
    not one (``listed_with``: the digest of the token it was listed with, None if unknown)."""
    if (data.get("version") != _VERSION or data.get("ssoSession") != manager.sso.name
            or data.get("startUrl") != manager.sso.start_url):
        return None
    listed_at, raw = data.get("listedAt"), data.get("accounts")
    if not isinstance(listed_at, str) or not isinstance(raw, list):
        return None
    accounts = []
    for item in raw:
        if not (isinstance(item, list) and len(item) == 4 and all(isinstance(v, str) for v in item[:3])
                and isinstance(item[3], list) and all(isinstance(r, str) for r in item[3])):
            return None
        accounts.append({"account_id": item[0], "account_name": item[1], "email": item[2],
                         "roles": list(item[3])})
    try:
        parse_timestamp(listed_at)
    except ValueError:
        return None
    listed_with = data.get("listedWith")
    return listed_at, accounts, listed_with if isinstance(listed_with, str) else None


def _fresh(manager: TokenManager, entry: CacheEntry, ttl: float, *, after: str | None = None) \
        -> tuple[str, list[dict[str, Any]]] | None:
    """The cached listing if it is younger than ``ttl`` (and, with ``after``, made after it)."""
    decoded = entry.load(lambda data: _decode(manager, data), "an account directory")
    if decoded is None:
        return None
    if decoded[2] is None or decoded[2] != _token_digest(manager):
        return None  # listed with another token (another login, a refresh): list again
    listed_at = parse_timestamp(decoded[0])
    age = (manager.options.clock() - listed_at).total_seconds()
    if not 0 <= age < ttl:
        return None
    if after is not None and listed_at <= parse_timestamp(after):
        return None
    return decoded[0], decoded[1]


def _filtered(accounts: list[dict[str, Any]], accounts_wanted: AccountFilter) -> list[dict[str, Any]]:
    return [a for a in accounts if accounts_wanted.matches(a["account_id"], a["account_name"])]


def organization(manager: TokenManager, *, refresh: bool = False, ttl: float = DIRECTORY_TTL,
                 pace: Pace = _DEFAULT_PACE, accounts_wanted: AccountFilter = _EVERY_ACCOUNT,
                 progress: Callable[[ListingProgress], None] | None = None) -> Organization:
    """The accounts and roles ``manager``'s session may use (see the module docstring).

    ``refresh`` skips the cache (but not a listing another run finished while
    this one waited for the lock). With ``accounts_wanted``, only those
    accounts' roles are listed and the cache is read but not written (it holds
    complete listings only). Raises :class:`~..exceptions.SSOProviderError`
    saying how far the listing got and what to do, the token manager's login
    errors, and :class:`~..exceptions.CacheLockTimeoutError`.
    """
    started = time.monotonic()
    entry = directory_entry(manager, lock_timeout=pace.deadline)
    if not refresh:
        cached = _fresh(manager, entry, ttl)
        if cached is not None:
            return Organization(_filtered(cached[1], accounts_wanted), cached[0], True, cache_path=entry.path)
    began = format_timestamp(manager.options.clock())
    with entry.locked():
        # Another run may have listed while this one waited: theirs is as new as ours would be.
        cached = _fresh(manager, entry, ttl, after=began if refresh else None)
        if cached is not None:
            return Organization(_filtered(cached[1], accounts_wanted), cached[0], True, cache_path=entry.path)
        listing = _list(manager, pace, started + pace.deadline, accounts_wanted, progress)
        listed_at = format_timestamp(manager.options.clock())
        if not accounts_wanted:
            entry.write(_encode(manager, listing.accounts, listed_at))
    return Organization(listing.accounts, listed_at, False, listing, entry.path)


def _list(manager: TokenManager, pace: Pace, deadline_at: float, accounts_wanted: AccountFilter,
          progress: Callable[[ListingProgress], None] | None) -> Listing:
    wanted = None
    if accounts_wanted:
        def wanted(account: Mapping[str, Any]) -> bool:
            return accounts_wanted.matches(str(account.get("accountId", "")),
                                           str(account.get("accountName", "") or ""))

    return _with_token(manager, lambda client, access_token: list_organization(
        client, access_token, pace=pace, wanted=wanted, progress=progress, deadline_at=deadline_at))


def accounts(manager: TokenManager, *, pace: Pace = _DEFAULT_PACE,
             progress: Callable[[ListingProgress], None] | None = None) -> list[dict[str, str]]:
    """The accounts (``account_id``, ``account_name``, ``email``) ``manager``'s session may use,
    listed now (every page of ListAccounts, no role), not cached: what a person choosing one
    sees. Raises as :func:`organization`."""
    return _with_token(manager, lambda client, access_token: list_accounts(
        client, access_token, pace=pace, progress=progress))


def account_roles(manager: TokenManager, account_id: str, *, pace: Pace = _DEFAULT_PACE) -> list[str] | None:
    """The roles of one account, listed now; None when the portal knows no such account for
    this user. Raises as :func:`organization`."""
    try:
        return _with_token(manager, lambda client, access_token: list_account_roles(
            client, access_token, account_id, pace=pace))
    except ServiceRefused as refused:
        if refused.code == UNAUTHORIZED:  # pragma: no cover - _with_token renews it
            raise
        return None


def _with_token(manager: TokenManager, listed: Callable[[Any, str], _T]) -> _T:
    """``listed(client, access_token)`` with the session's token, renewed (or a login, as the
    manager allows) once if the portal refuses it; the engine's failures as one sentence."""
    from .._clients import renew_once

    # The session's own clients, waiting as a bulk listing must (one attempt per botocore call:
    # the engine retries, and must see every throttle); a factory handed in is used as it is.
    factory = manager.options.clients()
    if isinstance(factory, SessionClients):
        factory = factory.with_profile(BULK)
    client = factory("sso", manager.sso.region)

    def token(rejected: str | None) -> str:
        # Revoked or logged out elsewhere: renew (or log in, if allowed) once.
        return manager.get(rejected_access_token=rejected).access_token

    try:
        return renew_once(token, lambda access_token: listed(client, access_token),
                          gave_up=lambda: SSOProviderError(
            f"The SSO portal refused a token of {manager.sso.display_name} that was just renewed. "
            f"Log in again with: {manager.login_command}"))
    except ListingError as error:
        raise SSOProviderError(f"Could not list the accounts of {manager.sso.display_name}: "
                               f"{error}.") from None
    except ServiceRefused as error:
        if error.code in (UNAUTHORIZED, "ResourceNotFoundException"):
            raise
        raise SSOProviderError(f"Could not list the accounts of {manager.sso.display_name}: the "
                               f"portal answered {error.code} (HTTP {error.status}). Run again with "
                               "--debug and check the start URL and sso_region.") from None
