"""How an emulator behaves: lifetimes, polling interval, paging, who is in the directory."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._clock import Clock, utc_now
from ._directory import Directory

DEFAULT_SCOPES: tuple[str, ...] = (
    "sso:account:access",
    "openid",
    "profile",
    "email",
    "offline_access",
)
"""Scopes the emulator grants. Anything else is ``InvalidScopeException``.

``sso:account:access`` is what the AWS CLI and botocore ask for; the OpenID
Connect scopes are accepted so that OIDC-style clients work too.
"""

MiB = 1024 * 1024


@dataclass(frozen=True)
class EmulatorConfig:
    """Every setting of an emulator; the defaults mirror IAM Identity Center's.

    Durations are in seconds. ``directory`` may be given as a
    :class:`~._directory.Directory` or as a mapping in the ``--state`` JSON
    shape. Raises :class:`ValueError` for a negative duration or page size
    below 1.
    """

    host: str = "127.0.0.1"
    port: int = 0
    auto_approve: bool = False
    """Approve each device authorization right after its first poll was answered
    ``AuthorizationPendingException``, and each ``/authorize`` at once."""
    access_token_ttl: float = 3600
    refresh_token_ttl: float = 8 * 3600
    """The SSO session's lifetime, which every refresh token of the session shares."""
    role_credentials_ttl: float = 3600
    device_code_ttl: float = 600
    authorization_code_ttl: float = 600
    interval: int = 1
    """Seconds a client must wait between CreateToken polls; 0 disables SlowDown."""
    registration_ttl: float = 90 * 24 * 3600
    page_size: int = 20
    """ListAccounts/ListAccountRoles page size when the request has no max_result."""
    start_urls: tuple[str, ...] = ()
    """Start URLs StartDeviceAuthorization accepts; empty accepts any."""
    portal_url: str = "https://d-9067c4e4a1.awsapps.com/start"
    """The AWS-owned start URL that ``/start`` (a vanity start URL) redirects to."""
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    directory: Directory = field(default_factory=Directory)
    max_body_bytes: int = MiB
    verbose: bool = False
    """Log every request to stderr (through :mod:`logging`)."""
    clock: Clock = utc_now

    def __post_init__(self) -> None:
        if isinstance(self.directory, Mapping):
            object.__setattr__(self, "directory", Directory.from_dict(self.directory))
        for name in ("start_urls", "scopes"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(value))
        for name in ("access_token_ttl", "refresh_token_ttl", "role_credentials_ttl",
                     "device_code_ttl", "authorization_code_ttl", "registration_ttl",
                     "interval"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.page_size < 1:
            raise ValueError("page_size must be at least 1")
        if self.max_body_bytes < 1:
            raise ValueError("max_body_bytes must be at least 1")

    def replace(self, **changes: Any) -> EmulatorConfig:
        """A copy with ``changes`` applied (unknown names raise :class:`TypeError`)."""
        return dataclasses.replace(self, **changes)
