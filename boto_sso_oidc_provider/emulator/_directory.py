"""The emulated identity store: who signs in, and which accounts and roles they have.

IAM Identity Center calls these a user, AWS accounts and permission sets
assigned to the user in each account. The emulator has one user, who is the
person approving every login. A directory is immutable; an emulator's state
can swap it for another (an organization that changes between two listings),
and tokens and credentials live in :mod:`._state`. :meth:`Directory.synthetic`
makes an organization of any size without a state file.

The ``--state FILE`` JSON schema (every key optional; a missing key keeps the
default shown)::

    {
      "user": {"userName": "jane.doe", "email": "jane.doe@example.com"},
      "accounts": [
        {"accountId": "111111111111", "accountName": "Development",
         "emailAddress": "aws-dev@example.com",
         "roles": ["AdministratorAccess", "ReadOnlyAccess"]},
        {"accountId": "222222222222", "accountName": "Production",
         "emailAddress": "aws-prod@example.com",
         "roles": ["AdministratorAccess", "ReadOnlyAccess"]}
      ]
    }

``accountId`` is 12 digits; ``accountName`` and ``emailAddress`` default to
derived values; ``roles`` defaults to the two roles above. Account ids must be
unique.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_ROLES: tuple[str, ...] = ("AdministratorAccess", "ReadOnlyAccess")
SYNTHETIC_ROLES: tuple[str, ...] = ("AdministratorAccess", "ReadOnlyAccess", "Billing")
"""The first roles of every account of :meth:`Directory.synthetic`."""

_ACCOUNT_ID = re.compile(r"^\d{12}$")
# IAM role names: letters, digits and +=,.@_- up to 64 characters.
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")


class DirectoryError(ValueError):
    """A directory (``--state`` file or mapping) does not follow the documented schema."""


@dataclass(frozen=True)
class User:
    """The person who signs in."""

    user_name: str = "jane.doe"
    email: str = "jane.doe@example.com"


@dataclass(frozen=True)
class Account:
    """An AWS account and the roles (permission sets) the user has in it."""

    account_id: str
    account_name: str
    email_address: str
    roles: tuple[str, ...] = DEFAULT_ROLES


def _default_accounts() -> tuple[Account, ...]:
    return (
        Account("111111111111", "Development", "aws-dev@example.com"),
        Account("222222222222", "Production", "aws-prod@example.com"),
    )


@dataclass(frozen=True)
class Directory:
    """The user and their account assignments; immutable."""

    user: User = field(default_factory=User)
    accounts: tuple[Account, ...] = field(default_factory=_default_accounts)

    def __post_init__(self) -> None:
        ids = [account.account_id for account in self.accounts]
        if len(ids) != len(set(ids)):
            raise DirectoryError("account ids must be unique")

    @functools.cached_property
    def _by_id(self) -> dict[str, Account]:
        return {account.account_id: account for account in self.accounts}

    def account(self, account_id: str) -> Account | None:
        """The account with this id, or ``None`` when the user has no such account."""
        return self._by_id.get(account_id)

    @classmethod
    def synthetic(cls, accounts: int, roles_per_account: int = 3, *, user: User | None = None) \
            -> Directory:
        """An organization of ``accounts`` accounts with ``roles_per_account`` roles each.

        Deterministic: account ``i`` (from 1) has id ``100000000000 + i``, name
        ``Account 00001`` and the roles :data:`SYNTHETIC_ROLES` (then ``Role4``,
        ``Role5`` ...) in that order. Raises :class:`DirectoryError` for a count
        below 0 (accounts) or 1 (roles), or more accounts than 12-digit ids allow.
        """
        if accounts < 0 or roles_per_account < 1 or accounts > 899_999_999_999:
            raise DirectoryError("a synthetic organization needs 0 or more accounts and 1 or "
                                 "more roles per account")
        roles = tuple((*SYNTHETIC_ROLES, *(f"Role{n}" for n in range(
            len(SYNTHETIC_ROLES) + 1, roles_per_account + 1)))[:roles_per_account])
        return cls(user=user or User(), accounts=tuple(
            Account(str(100_000_000_000 + index), f"Account {index:05d}",
                    f"aws-{index:05d}@example.com", roles)
            for index in range(1, accounts + 1)))

    def has_role(self, account_id: str, role_name: str) -> bool:
        """Whether the user is assigned ``role_name`` in ``account_id``."""
        account = self.account(account_id)
        return account is not None and role_name in account.roles

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Directory:
        """Build a directory from the documented JSON shape.

        Raises :class:`DirectoryError` naming the first key that is wrong.
        """
        if not isinstance(data, Mapping):
            raise DirectoryError("the state must be a JSON object")
        user = User()
        if "user" in data:
            raw_user = _mapping(data["user"], "user")
            user = User(
                user_name=_text(raw_user.get("userName", user.user_name), "user.userName"),
                email=_text(raw_user.get("email", user.email), "user.email"),
            )
        accounts = _default_accounts()
        if "accounts" in data:
            raw_accounts = data["accounts"]
            if not isinstance(raw_accounts, list):
                raise DirectoryError("accounts must be a list")
            accounts = tuple(_account(raw, index) for index, raw in enumerate(raw_accounts))
        return cls(user=user, accounts=accounts)

    @classmethod
    def from_file(cls, path: str | Path) -> Directory:
        """Load a ``--state`` JSON file.

        Raises :class:`DirectoryError` if it cannot be read, is not JSON, or
        does not follow the schema.
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise DirectoryError(f"cannot read {path}: {error.strerror}") from None
        try:
            data = json.loads(text)
        except ValueError as error:
            raise DirectoryError(f"{path} is not valid JSON: {error}") from None
        return cls.from_dict(data)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DirectoryError(f"{where} must be an object")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise DirectoryError(f"{where} must be a non-empty string")
    return value


def _account(raw: Any, index: int) -> Account:
    where = f"accounts[{index}]"
    data = _mapping(raw, where)
    account_id = data.get("accountId")
    if not isinstance(account_id, str) or not _ACCOUNT_ID.match(account_id):
        raise DirectoryError(f"{where}.accountId must be a string of 12 digits")
    roles = data.get("roles", list(DEFAULT_ROLES))
    if not isinstance(roles, list) or not all(
        isinstance(role, str) and _ROLE_NAME.match(role) for role in roles
    ):
        raise DirectoryError(f"{where}.roles must be a list of IAM role names")
    return Account(
        account_id=account_id,
        account_name=_text(data.get("accountName", f"Account {account_id}"),
                           f"{where}.accountName"),
        email_address=_text(data.get("emailAddress", f"aws-{account_id}@example.com"),
                            f"{where}.emailAddress"),
        roles=tuple(dict.fromkeys(roles)),  # unique, order kept
    )
