"""``boto-sso-oidc list``: the accounts and roles an SSO session may use.

Calls SSO ListAccounts and ListAccountRoles through botocore's paginators
(every page), the roles of several accounts in parallel. Uses the session's
token, refreshing it or logging in as ``token.TokenManager.get`` allows; a
token the service rejects is renewed once.

Exit codes: 0 listed; 1 failure (login needed, config, service; one line on
stderr); 2 usage.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ._common import EXIT_OK, add_debug, add_json, add_profile_or_session, print_json, report, setup_logging

if TYPE_CHECKING:  # pragma: no cover
    from ..token import TokenManager

_PARALLEL = 8
"""ListAccountRoles calls in flight at once (one per account)."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Exit codes: 0 listed, 1 failure (reason on stderr), 2 bad usage."
    add_profile_or_session(parser)
    add_json(parser)
    add_debug(parser)


def _paginate(client: Any, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**params):
        items.extend(page.get(key, []))
    return items


def list_accounts(client: Any, access_token: str) -> list[dict[str, Any]]:
    """Every account with its role names, sorted by account id; all pages of both APIs."""
    from concurrent.futures import ThreadPoolExecutor

    accounts = sorted(_paginate(client, "list_accounts", "accountList", accessToken=access_token),
                      key=lambda account: str(account.get("accountId", "")))

    def roles(account: dict[str, Any]) -> list[str]:
        listed = _paginate(client, "list_account_roles", "roleList",
                           accessToken=access_token, accountId=account["accountId"])
        return sorted(str(role["roleName"]) for role in listed)

    with ThreadPoolExecutor(max_workers=max(1, min(_PARALLEL, len(accounts)))) as pool:
        role_lists = list(pool.map(roles, accounts))
    return [
        {"account_id": account["accountId"], "account_name": account.get("accountName", ""),
         "email": account.get("emailAddress", ""), "roles": role_list}
        for account, role_list in zip(accounts, role_lists, strict=True)
    ]


def _fetch(profile: str | None, sso_session: str | None) -> tuple[Any, list[dict[str, Any]]]:
    from ..sessions import token_manager

    manager = token_manager(profile, sso_session)
    return manager.sso, accounts_of(manager)


def accounts_of(manager: TokenManager) -> list[dict[str, Any]]:
    """Every account and its roles for a :class:`~boto_sso_oidc_provider.token.TokenManager`'s
    session, renewing (or logging in, as the manager allows) once if the token is refused."""
    from .._clients import UNAUTHORIZED, TransientServiceError, call, renew_once
    from ..exceptions import SSOProviderError

    client = manager.options.clients()("sso", manager.sso.region)

    def token(rejected: str | None) -> str:
        # Revoked or logged out elsewhere: renew (or log in, if allowed) once.
        return manager.get(rejected_access_token=rejected).access_token

    def listed(access_token: str) -> list[dict[str, Any]]:
        return call(list_accounts, refusals=(UNAUTHORIZED,), client=client, access_token=access_token)

    try:
        accounts = renew_once(token, listed, gave_up=lambda: SSOProviderError(
            f"The SSO portal refused a token of {manager.sso.display_name} that was just renewed. "
            f"Log in again with: {manager.login_command}"))
    except TransientServiceError as error:
        raise SSOProviderError(f"Could not list the accounts of {manager.sso.display_name}: "
                               f"{error.reason}. {error.advice}") from None
    return accounts


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
        sso, accounts = _fetch(args.profile, args.sso_session)
    except Exception as error:  # one line for a person, never a traceback
        return report("list", error, debug=args.debug, profile=args.profile)
    if args.json:
        print_json({"sso_session": sso.name, "start_url": sso.start_url, "accounts": accounts})
    elif accounts:
        print(_text(accounts))
    else:
        print(f"{sso.display_name} gives access to no account.")
    return EXIT_OK
