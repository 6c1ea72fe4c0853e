"""AWS identities the emulator hands out: role ids and assumed-role ARNs.

They are derived deterministically from the account and role, as in AWS,
where the same role always has the same unique id and the same
``AWSReservedSSO_<permission set>_<suffix>`` name.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    """What GetCallerIdentity answers for a set of credentials."""

    account: str
    arn: str
    user_id: str
    """``<role unique id>:<session name>``."""


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\0".join(parts).encode()).digest()


def role_id(account_id: str, role_name: str) -> str:
    """The role's unique id: ``AROA`` and 17 upper-case letters and digits, as in IAM."""
    encoded = base64.b32encode(_digest("role-id", account_id, role_name)).decode()
    return "AROA" + encoded[:17]


def sso_role_name(account_id: str, permission_set: str) -> str:
    """The IAM role Identity Center creates for a permission set in an account."""
    suffix = _digest("sso-role", account_id, permission_set).hex()[:16]
    return f"AWSReservedSSO_{permission_set}_{suffix}"


def assumed_role(account_id: str, role_name: str, session_name: str) -> Identity:
    """The identity of a session of ``role_name`` named ``session_name``."""
    return Identity(
        account=account_id,
        arn=f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}",
        user_id=f"{role_id(account_id, role_name)}:{session_name}",
    )


def sso_identity(account_id: str, permission_set: str, user_name: str) -> Identity:
    """The identity behind SSO role credentials: the reserved role, the user as session."""
    return assumed_role(account_id, sso_role_name(account_id, permission_set), user_name)
