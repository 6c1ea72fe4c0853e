"""How an emulator behaves: lifetimes, polling interval, paging, throttling, who is in the directory."""

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
    max_page_size: int = 100
    """The most items a page holds whatever max_result asks (the model's maximum, 100, by
    default; smaller makes a client that asks for 100 follow several pages)."""
    start_urls: tuple[str, ...] = ()
    """Start URLs StartDeviceAuthorization accepts; empty accepts any."""
    portal_url: str = "https://d-9067c4e4a1.awsapps.com/start"
    """The AWS-owned start URL that ``/start`` (a vanity start URL) redirects to."""
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    directory: Directory = field(default_factory=Directory)
    accounts: int | None = None
    """Serve a synthetic organization of this many accounts instead of ``directory``
    (:meth:`~._directory.Directory.synthetic`): no state file needed for a big one."""
    roles_per_account: int = 3
    """Roles of each synthetic account (with ``accounts``)."""
    rate_limits: Mapping[str, float] = field(default_factory=dict)
    """Calls per second per operation (a token bucket each, one second of burst); a call over
    the limit is answered ``TooManyRequestsException`` (429). Empty: no throttling. See
    :data:`~._throttle.PORTAL_RATE_LIMITS` for IAM Identity Center's own."""
    latency: float = 0.0
    """Seconds every service call (not the pages or the control plane) takes before its answer."""
    max_body_bytes: int = MiB
    tls_certfile: str | None = None
    """Serve HTTPS with this PEM certificate (chain) and :attr:`tls_keyfile`; plain HTTP if None."""
    tls_keyfile: str | None = None
    verbose: bool = False
    """Log every request to stderr (through :mod:`logging`)."""
    clock: Clock = utc_now

    def __post_init__(self) -> None:
        if isinstance(self.directory, Mapping):
            object.__setattr__(self, "directory", Directory.from_dict(self.directory))
        if self.accounts is not None:
            object.__setattr__(self, "directory", Directory.synthetic(
                self.accounts, self.roles_per_account, user=self.directory.user))
        object.__setattr__(self, "rate_limits", dict(self.rate_limits))
        for operation, rate in self.rate_limits.items():
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0:
                raise ValueError(f"the rate limit of {operation} must be a positive number of "
                                 "calls per second")
        for name in ("start_urls", "scopes"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(value))
        for name in ("access_token_ttl", "refresh_token_ttl", "role_credentials_ttl",
                     "device_code_ttl", "authorization_code_ttl", "registration_ttl",
                     "interval", "latency"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.page_size < 1 or self.max_page_size < 1:
            raise ValueError("page_size and max_page_size must be at least 1")
        if self.max_body_bytes < 1:
            raise ValueError("max_body_bytes must be at least 1")

    def replace(self, **changes: Any) -> EmulatorConfig:
        """A copy with ``changes`` applied (unknown names raise :class:`TypeError`)."""
        return dataclasses.replace(self, **changes)
