"""``boto-sso-oidc list``: the accounts and roles an SSO session may use.

Asks :func:`boto_sso_oidc_provider.organizations.directory.organization`: the directory
cache when it is younger than its TTL (no portal call), otherwise a listing
of ListAccounts and ListAccountRoles (every page) at the service's pace,
through its throttling (see :mod:`boto_sso_oidc_provider.organizations._listing`), with the
session's token, refreshing it or logging in as ``token.TokenManager.get``
allows; a token the service rejects is renewed once. ``--refresh`` lists
again; ``--account`` (ids, or globs on names) and ``--role`` (globs) filter.
While it lists, a progress line goes to stderr when stderr is a terminal
(nothing otherwise); an answer from the cache says so on stderr, with its age.

Exit codes: 0 listed; 1 failure (login needed, config, service, deadline; one
line on stderr); 2 usage.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from typing import TYPE_CHECKING, Any

from ._common import (
    EXIT_OK,
    ProgressLine,
    add_debug,
    add_json,
    add_profile_or_session,
    duration,
    print_json,
    report,
    setup_logging,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..caches.token import TokenManager
    from ..organizations._listing import ListingProgress
    from ..organizations.directory import Organization


def _positive(text: str) -> float:
    value = float(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def add_listing_options(parser: argparse.ArgumentParser) -> None:
    """``--refresh``, ``--account``, ``--role``, ``--rate``, ``--timeout``: shared by ``list`` and
    ``generate``."""
    from ..organizations._listing import Pace

    group = parser.add_argument_group("listing")
    group.add_argument("--refresh", action="store_true",
                       help="list the accounts and roles again even if the directory cache is fresh")
    group.add_argument("--account", action="append", default=[], metavar="ID_OR_GLOB", dest="accounts",
                       help="only this account: an account id or a glob on account names, such as "
                            "'prod-*' (repeatable)")
    group.add_argument("--role", action="append", default=[], metavar="GLOB", dest="roles",
                       help="only roles matching this glob, such as '*ReadOnly*' (repeatable)")
    group.add_argument("--rate", type=_positive, default=Pace.rate, metavar="TPS",
                       help=f"portal calls a second at most (default: {Pace.rate:g}, IAM Identity "
                            "Center's published quota; raise it if AWS raised yours)")
    group.add_argument("--timeout", type=_positive, default=Pace.deadline, metavar="S",
                       help=f"seconds for the whole listing, throttling included (default: "
                            f"{Pace.deadline:g})")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Exit codes: 0 listed, 1 failure (reason on stderr), 2 bad usage."
    add_profile_or_session(parser)
    add_listing_options(parser)
    add_json(parser)
    add_debug(parser)


def _describe(moment: ListingProgress) -> str:
    total = "?" if moment.accounts_total is None else str(moment.accounts_total)
    left = moment.seconds_left
    return (f"Listing: {moment.accounts_done}/{total} accounts, {moment.roles} roles, "
            f"{moment.throttles} throttles waited"
            + (f", about {duration(left)} left" if left is not None else ""))


def fetch(args: argparse.Namespace, manager: TokenManager | None = None) -> tuple[Any, Organization]:
    """The sso-session of ``--profile``/``--sso-session`` and its accounts, filtered as asked."""
    from ..organizations._listing import Pace
    from ..organizations.directory import AccountFilter, organization
    from ..sessions import token_manager

    manager = manager or token_manager(args.profile, args.sso_session)
    progress = ProgressLine(_describe)
    try:
        found = organization(manager, refresh=args.refresh,
                             pace=Pace(rate=args.rate, deadline=args.timeout),
                             accounts_wanted=AccountFilter(tuple(args.accounts)), progress=progress)
    finally:
        progress.clear()
    from ._common import warn_if_session_ends

    warn_if_session_ends(manager.sso, args.profile)
    if args.roles:
        kept = []
        for account in found.accounts:
            roles = [role for role in account["roles"]
                     if any(fnmatch.fnmatchcase(role, pattern) for pattern in args.roles)]
            if roles:
                kept.append({**account, "roles": roles})
        found.accounts = kept
    return manager.sso, found


def accounts_of(manager: TokenManager) -> list[dict[str, Any]]:
    """Every account and its roles for a :class:`~boto_sso_oidc_provider.caches.token.TokenManager`'s
    session, listed now (``configure``: a person choosing wants today's assignments; the
    directory cache is refreshed on the way), renewing (or logging in, as the manager allows)
    once if the token is refused."""
    from ..organizations.directory import organization

    return organization(manager, refresh=True).accounts


def listing_summary(found: Organization) -> str:
    """One line: how the accounts were found (listed now, with figures, or from the cache, and
    how old it is)."""
    if found.listing is None:
        from .._clock import parse_timestamp, utc_now

        age = duration((utc_now() - parse_timestamp(found.listed_at)).total_seconds())
        return (f"From the directory cache of {found.listed_at} ({age} old, {found.cache_path}); "
                "--refresh lists again.")
    listing = found.listing
    return (f"Listed {len(found.accounts)} accounts in {listing.seconds:.1f} s: {listing.calls} calls, "
            f"{listing.throttles} throttles waited out ({listing.retries} retries).")


def _text(accounts: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for account in accounts:
        email = f"  <{account['email']}>" if account["email"] else ""
        lines.append(f"{account['account_id']}  {account['account_name']}{email}")
        lines.extend(f"    {role}" for role in account["roles"])
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    setup_logging(args.debug)
    try:
        sso, found = fetch(args)
    except Exception as error:  # one line for a person, never a traceback
        return report("list", error, debug=args.debug, profile=args.profile)
    accounts = found.accounts
    if found.from_cache:  # never without a word: the accounts may have changed since
        print(listing_summary(found), file=sys.stderr)
    if args.json:
        print_json({"sso_session": sso.name, "start_url": sso.start_url, "listed_at": found.listed_at,
                    "accounts": accounts})
    elif accounts:
        print(_text(accounts))
    else:
        print(f"{sso.display_name} gives access to no account"
              + (" matching --account/--role." if args.accounts or args.roles else "."))
    return EXIT_OK
