"""Step 2 of the flow: an OIDC client registration (SSO OIDC RegisterClient).

A registration (client id and secret) lasts about 90 days. It is cached in
``~/.aws/sso/cache`` under exactly the key
(:func:`~._layout.registration_cache_key`) and format the AWS CLI v2 uses for
its device-code registrations, so the two reuse each other's registration::

    {"clientId": ..., "clientSecret": ..., "expiresAt": "2027-02-19T07:18:03Z",
     "scopes": [...]}            # scopes only when configured

It is reused until :data:`~._layout.EXPIRY_WINDOW` before ``expiresAt``. Callers hold the
sso-session's token lock while registering, so concurrent logins register once.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._clock import Clock, format_timestamp, parse_timestamp, utc_now
from ._layout import EXPIRY_WINDOW, sso_cache_dir
from .cache import CacheEntry
from .config import SSOSessionConfig

__all__ = ["Registration", "get_registration"]

logger = logging.getLogger(__name__)

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_TOKEN_GRANT = "refresh_token"


@dataclass(frozen=True, repr=False)
class Registration:
    """A registered public OIDC client. Its repr never shows the secret."""

    client_id: str
    client_secret: str
    expires_at: _dt.datetime
    scopes: tuple[str, ...] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __repr__(self) -> str:
        return f"Registration(client_id={self.client_id!r}, expires_at={self.expires_at.isoformat()})"

    def usable(self, clock: Clock = utc_now) -> bool:
        """True while outside the expiry window."""
        return (self.expires_at - clock()).total_seconds() > EXPIRY_WINDOW

    def to_cache(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.extra)
        data.update(
            clientId=self.client_id,
            clientSecret=self.client_secret,
            expiresAt=format_timestamp(self.expires_at),
        )
        if self.scopes is not None:
            data["scopes"] = list(self.scopes)
        return data

    @classmethod
    def from_cache(cls, data: Mapping[str, Any]) -> Registration | None:
        """Parse a cached registration; None (not an exception) if it is unusable."""
        try:
            client_id, secret = data["clientId"], data["clientSecret"]
            if not isinstance(client_id, str) or not isinstance(secret, str):
                return None
            expires_at = parse_timestamp(data["expiresAt"])
            scopes = data.get("scopes")
            scopes_tuple = tuple(str(s) for s in scopes) if isinstance(scopes, list) else None
        except (KeyError, TypeError, ValueError):
            return None
        extra = {k: v for k, v in data.items() if k not in _KNOWN_KEYS}
        return cls(client_id, secret, expires_at, scopes_tuple, extra)


_KNOWN_KEYS = frozenset({"clientId", "clientSecret", "expiresAt", "scopes"})


def _entry(sso: SSOSessionConfig) -> CacheEntry:
    return CacheEntry(
        Path(sso_cache_dir()) / f"{sso.registration_cache_key}.json",
        describe=f"client registration of {sso.display_name}",
    )


def register_client(oidc_client: Any, sso: SSOSessionConfig) -> Registration:
    """Call RegisterClient: a public client; for an sso-session also the device-code and
    refresh-token grants and the configured scopes (legacy profiles get neither, as in the CLI)."""
    kwargs: dict[str, Any] = {
        "clientName": f"boto-sso-oidc-{sso.name or 'legacy'}",
        "clientType": "public",
    }
    if sso.registration_scopes:
        kwargs["scopes"] = list(sso.registration_scopes)
    if not sso.is_legacy:
        kwargs["grantTypes"] = [DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT]
    response = oidc_client.register_client(**kwargs)
    from . import _redaction

    _redaction.remember(response["clientSecret"])
    expires_at = _dt.datetime.fromtimestamp(response["clientSecretExpiresAt"], _dt.timezone.utc)
    logger.info("Registered OIDC client for %s, valid until %s", sso.display_name, expires_at)
    return Registration(
        client_id=response["clientId"],
        client_secret=response["clientSecret"],
        expires_at=expires_at,
        scopes=sso.registration_scopes,
    )


def get_registration(
    oidc_client: Any,
    sso: SSOSessionConfig,
    *,
    clock: Clock = utc_now,
    force_new: bool = False,
) -> Registration:
    """The cached registration while usable, else a new one (cached before it is returned).

    Call with the session's token lock held. ``force_new`` skips the cache (the
    service rejected the cached client).
    """
    entry = _entry(sso)
    if not force_new:
        data = entry.read()
        cached = Registration.from_cache(data) if data is not None else None
        if cached is not None and cached.usable(clock):
            from . import _redaction

            _redaction.remember(cached.client_secret)
            return cached
    registration = register_client(oidc_client, sso)
    entry.write(registration.to_cache())
    return registration
