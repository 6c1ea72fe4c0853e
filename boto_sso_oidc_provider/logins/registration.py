"""Step 2 of the flow: an OIDC client registration (SSO OIDC RegisterClient).

A registration (client id and secret) lasts about 90 days. It is cached in
``~/.aws/sso/cache`` under exactly the key
(:func:`~._layout.registration_cache_key`) and format the AWS CLI v2 (2.36)
uses, one entry for both login flows, so the two tools share it in any order::

    {"clientId": ..., "clientSecret": ..., "expiresAt": "2027-02-19T07:18:03Z",
     "scopes": [...],            # only when configured
     "grantTypes": ["authorization_code", "refresh_token"]}   # browser flow only

An entry is reused while it is :data:`~..caches._freshness.Freshness.FRESH` (more than 15
minutes before ``expiresAt``) **and** only by the flow it fits, exactly as the CLI decides: the browser flow
reuses only entries whose ``grantTypes`` contain ``authorization_code``, the
device flow only entries whose ``grantTypes`` do not (no ``grantTypes``: a
device entry). Otherwise a new client is registered and the entry
overwritten. So alternating flows re-register each time; the token cache
keeps the client that issued its refresh token, which is what a refresh
needs. Callers hold the sso-session's token lock while registering, so
concurrent logins of this package register once.
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._clock import Clock, format_timestamp, parse_timestamp, utc_now
from ..caches._entry import CacheEntry
from ..caches._freshness import Freshness, freshness
from ..caches._layout import sso_cache_dir
from ..config.reader import SSOSessionConfig

__all__ = ["Registration", "get_registration", "store_registration"]

logger = logging.getLogger(__name__)

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_TOKEN_GRANT = "refresh_token"
AUTHORIZATION_CODE_GRANT = "authorization_code"
BROWSER_GRANT_TYPES = (AUTHORIZATION_CODE_GRANT, REFRESH_TOKEN_GRANT)
"""What the browser flow registers (and caches as ``grantTypes``), as the AWS CLI v2 does."""
REDIRECT_URI = "http://127.0.0.1/oauth/callback"
"""The redirect URI the browser flow registers; any port is allowed at /authorize (RFC 8252)."""
DEFAULT_BROWSER_SCOPES = ("sso:account:access",)
# RegisterClient may answer SlowDownException (a throttle botocore's retry modes do not know by
# that name): wait and try again, doubling the wait, this many times.
SLOW_DOWN_RETRIES = 3
SLOW_DOWN_FIRST_WAIT = 0.5
"""The scopes the browser flow registers when ``sso_registration_scopes`` is not set."""


@dataclass(frozen=True, repr=False)
class Registration:
    """A registered public OIDC client. Its repr never shows the secret."""

    client_id: str
    client_secret: str
    expires_at: _dt.datetime
    scopes: tuple[str, ...] | None = None
    grant_types: tuple[str, ...] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __repr__(self) -> str:
        return f"Registration(client_id={self.client_id!r}, expires_at={self.expires_at.isoformat()})"

    def usable(self, clock: Clock = utc_now) -> bool:
        """True while outside the expiry window."""
        return freshness(self.expires_at.timestamp(), clock().timestamp()) is Freshness.FRESH

    @property
    def for_browser(self) -> bool:
        """Registered for the browser flow (the AWS CLI v2's test: ``grantTypes`` has
        ``authorization_code``); otherwise a device-flow registration."""
        return AUTHORIZATION_CODE_GRANT in (self.grant_types or ())

    def to_cache(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.extra)
        data.update(
            clientId=self.client_id,
            clientSecret=self.client_secret,
            expiresAt=format_timestamp(self.expires_at),
        )
        if self.scopes is not None:
            data["scopes"] = list(self.scopes)
        if self.grant_types is not None:
            data["grantTypes"] = list(self.grant_types)
        else:
            data.pop("grantTypes", None)
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
            grants = data.get("grantTypes")
            grants_tuple = tuple(str(g) for g in grants) if isinstance(grants, list) else None
        except (KeyError, TypeError, ValueError):
            return None
        extra = {k: v for k, v in data.items() if k not in _KNOWN_KEYS}
        return cls(client_id, secret, expires_at, scopes_tuple, grants_tuple, extra)


_KNOWN_KEYS = frozenset({"clientId", "clientSecret", "expiresAt", "scopes", "grantTypes"})


def _entry(sso: SSOSessionConfig) -> CacheEntry:
    return CacheEntry(
        Path(sso_cache_dir()) / f"{sso.registration_cache_key}.json",
        describe=f"client registration of {sso.display_name}",
    )


def register_client(oidc_client: Any, sso: SSOSessionConfig, *,
                    browser: bool = False, issuer_url: str | None = None,
                    sleep: Callable[[float], None] = time.sleep) -> Registration:
    """Call RegisterClient: a public client.

    A ``SlowDownException`` is retried :data:`SLOW_DOWN_RETRIES` times with a
    doubling wait (0.5, 1, 2 s); the last one is raised (a botocore ``ClientError``).

    Device flow: for an sso-session also the device-code and refresh-token
    grants and the configured scopes (legacy profiles get neither, as in the
    CLI). Browser flow (``browser``): the ``authorization_code`` and
    ``refresh_token`` grants, the loopback redirect URI, ``issuer_url`` (the
    resolved start URL) and the configured scopes or ``sso:account:access``.
    """
    kwargs: dict[str, Any] = {
        "clientName": f"boto-sso-oidc-{sso.name or 'legacy'}",
        "clientType": "public",
    }
    if browser:
        kwargs.update(grantTypes=list(BROWSER_GRANT_TYPES), redirectUris=[REDIRECT_URI],
                      issuerUrl=issuer_url or sso.start_url,
                      scopes=list(sso.registration_scopes or DEFAULT_BROWSER_SCOPES))
    else:
        if sso.registration_scopes:
            kwargs["scopes"] = list(sso.registration_scopes)
        if not sso.is_legacy:
            kwargs["grantTypes"] = [DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT]
    response = _slowed_down(lambda: oidc_client.register_client(**kwargs), sleep, sso)
    from .. import _redaction

    _redaction.remember(response["clientSecret"])
    expires_at = _dt.datetime.fromtimestamp(response["clientSecretExpiresAt"], _dt.timezone.utc)
    logger.info("Registered OIDC client for %s (%s flow), valid until %s", sso.display_name,
                "browser" if browser else "device", expires_at)
    return Registration(
        client_id=response["clientId"],
        client_secret=response["clientSecret"],
        expires_at=expires_at,
        scopes=sso.registration_scopes,
        grant_types=BROWSER_GRANT_TYPES if browser else None,
    )


def _slowed_down(register: Callable[[], Any], sleep: Callable[[float], None],
                  sso: SSOSessionConfig) -> Any:
    import botocore.exceptions

    from .._clients import error_code

    wait = SLOW_DOWN_FIRST_WAIT
    for _ in range(SLOW_DOWN_RETRIES):
        try:
            return register()
        except botocore.exceptions.ClientError as error:
            if error_code(error)[0] != "SlowDownException":
                raise
        logger.info("RegisterClient for %s answered SlowDownException; trying again in %.1fs",
                    sso.display_name, wait)
        sleep(wait)
        wait *= 2
    return register()


def get_registration(
    oidc_client: Any,
    sso: SSOSessionConfig,
    *,
    clock: Clock = utc_now,
    force_new: bool = False,
    browser: bool = False,
    issuer_url: str | None = None,
    store: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> Registration:
    """The cached registration while usable and fit for the flow, else a new one (cached
    before it is returned, unless not ``store``: then :func:`store_registration` caches it
    once the login worked, so a failed login leaves the cache as it was). See the module
    docstring for which entry fits which flow.

    Call with the session's token lock held. ``force_new`` skips the cache (the
    service rejected the cached client). ``browser`` asks for a browser-flow
    client, registered with ``issuer_url``.
    """
    entry = _entry(sso)
    if not force_new:
        data = entry.read()
        cached = Registration.from_cache(data) if data is not None else None
        if cached is not None and cached.usable(clock) and cached.for_browser == browser:
            from .. import _redaction

            _redaction.remember(cached.client_secret)
            return cached
    registration = register_client(oidc_client, sso, browser=browser, issuer_url=issuer_url,
                                   sleep=sleep)
    if store:
        entry.write(registration.to_cache())
    return registration


def store_registration(sso: SSOSessionConfig, registration: Registration) -> None:
    """Cache ``registration`` unless that entry already holds it (no needless rewrite)."""
    entry = _entry(sso)
    data = entry.read()
    cached = Registration.from_cache(data) if data is not None else None
    if cached is None or cached.client_id != registration.client_id:
        entry.write(registration.to_cache())
