"""Step 5 of the flow: SSO GetRoleCredentials behind a locked cache shared with the AWS CLI v2.

Role credentials live where the AWS CLI v2 keeps them,
``~/.aws/cli/cache/<key>.json``, under exactly botocore's
``SSOCredentialFetcher`` key (:func:`role_cache_key`) and in its format::

    {"ProviderType": "sso",
     "Credentials": {"AccessKeyId": ..., "SecretAccessKey": ..., "SessionToken": ...,
                     "Expiration": "2026-11-21T08:18:03Z", "AccountId": ...}}

so the AWS CLI v2 uses what this module caches and the other way round.

:meth:`RoleCredentialsManager.get` is single-flight across threads and
processes, like :meth:`TokenManager.get`: credentials with more than the
expiry window left come from a plain read; otherwise the entry's lock is
taken, the file read again, and only then is GetRoleCredentials called and
the result written. N processes without valid credentials make one call.

Lock order is always role-credential lock, then token lock (inside
:meth:`TokenManager.get`); nothing takes them the other way round, so the two
never deadlock.

Limits: credentials are cached per (sso-session or start URL, account, role),
not per profile, as botocore does; a login started while the lock is held
makes other processes wait for it up to ``boto_sso_oidc_lock_timeout``.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from .._clients import UNAUTHORIZED, ServiceRefused, TransientServiceError, call, renew_once
from .._clock import Clock, format_timestamp, parse_timestamp, utc_now
from .._interrupts import deliver_dropped_signal, signals_unwrapped
from ..caches._entry import CacheEntry
from ..caches._freshness import REFRESH_WINDOW, Freshness, freshness
from ..caches._layout import role_cache_dir
from ..caches._layout import role_cache_key as _role_cache_key
from ..caches.token import TokenManager
from ..config.reader import SSOProfileConfig, SSOSessionConfig
from ..options import Options

__all__ = ["RoleCredentials", "LockedCredentials", "RoleCredentialsManager", "role_cache_key",
           "role_credentials_entry", "delete_role_credentials"]

logger = logging.getLogger(__name__)

_Prepared = TypeVar("_Prepared")

# Portal errors the user must fix in the configuration; anything not listed
# here and not UnauthorizedException is treated as transient.
_NOT_ASSIGNED = frozenset({"ResourceNotFoundException", "ForbiddenException",
                           "AccessDeniedException", "InvalidRequestException"})


def role_cache_key(sso: SSOSessionConfig, account_id: str, role_name: str) -> str:
    """botocore ``SSOCredentialFetcher._create_cache_key``, exactly: the file stem in ~/.aws/cli/cache."""
    return _role_cache_key(account_id, role_name, sso_session=sso.name, start_url=sso.start_url)


def role_credentials_entry(sso: SSOSessionConfig, account_id: str, role_name: str,
                           lock_timeout: float | None = None) -> CacheEntry:
    """The cache entry of one role's credentials."""
    return CacheEntry(
        Path(role_cache_dir()) / f"{role_cache_key(sso, account_id, role_name)}.json",
        describe=f"role credentials of {role_name} in account {account_id}",
        lock_timeout=sso.settings.lock_timeout if lock_timeout is None else lock_timeout,
    )


@dataclass(frozen=True, repr=False)
class RoleCredentials:
    """Temporary AWS credentials of one role. Its repr never shows the secret key or session token."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: _dt.datetime
    """Aware UTC, whole seconds (what the cache file can hold)."""
    account_id: str | None = None

    def __repr__(self) -> str:
        return (f"RoleCredentials(access_key_id={self.access_key_id!r}, "
                f"account_id={self.account_id!r}, expiration={format_timestamp(self.expiration)!r})")

    def seconds_left(self, clock: Clock = utc_now) -> float:
        return (self.expiration - clock()).total_seconds()

    def freshness(self, clock: Clock = utc_now, window: float = REFRESH_WINDOW) -> Freshness:
        """FRESH, STALE (inside the refresh window) or EXPIRED (see :mod:`..caches._freshness`)."""
        return freshness(self.expiration.timestamp(), clock().timestamp(), window)

    def to_cache(self) -> dict[str, Any]:
        """botocore's / the AWS CLI v2's cache file content."""
        credentials: dict[str, Any] = {
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "SessionToken": self.session_token,
            "Expiration": format_timestamp(self.expiration),
        }
        if self.account_id is not None:
            credentials["AccountId"] = self.account_id
        return {"ProviderType": "sso", "Credentials": credentials}

    @classmethod
    def from_cache(cls, data: Mapping[str, Any]) -> RoleCredentials | None:
        """Parse a cache file's content; None if it lacks a field or has one mistyped."""
        try:
            body = data["Credentials"]
            key, secret, session_token = (body[k] for k in ("AccessKeyId", "SecretAccessKey",
                                                            "SessionToken"))
            account_id = body.get("AccountId")
            if not all(isinstance(v, str) and v for v in (key, secret, session_token)):
                return None
            if account_id is not None and not isinstance(account_id, str):
                return None
            expiration = parse_timestamp(body["Expiration"])
        except (KeyError, TypeError, ValueError):
            return None
        return cls._made(key, secret, session_token, expiration.replace(microsecond=0), account_id)

    @classmethod
    def from_response(cls, response: Mapping[str, Any], account_id: str) -> RoleCredentials:
        """From a GetRoleCredentials response (``expiration`` in epoch milliseconds)."""
        body = response["roleCredentials"]
        expiration = _dt.datetime.fromtimestamp(body["expiration"] / 1000.0, _dt.timezone.utc)
        return cls._made(body["accessKeyId"], body["secretAccessKey"], body["sessionToken"],
                         expiration.replace(microsecond=0), account_id)

    @classmethod
    def from_assume_role(cls, response: Mapping[str, Any]) -> RoleCredentials:
        """From an STS AssumeRole response as botocore parses it (``Expiration`` a datetime); the
        account id comes from the assumed role's ARN, as botocore adds it."""
        body = response["Credentials"]
        expiration = body["Expiration"]
        if not isinstance(expiration, _dt.datetime):
            expiration = parse_timestamp(str(expiration))
        arn = str(response.get("AssumedRoleUser", {}).get("Arn", ""))
        parts = arn.split(":")
        account_id = parts[4] if len(parts) > 5 and parts[0] == "arn" and parts[4] else None
        return cls._made(body["AccessKeyId"], body["SecretAccessKey"], body["SessionToken"],
                         expiration.astimezone(_dt.timezone.utc).replace(microsecond=0), account_id)

    @classmethod
    def _made(cls, access_key_id: str, secret_access_key: str, session_token: str,
              expiration: _dt.datetime, account_id: str | None) -> RoleCredentials:
        from .. import _redaction

        _redaction.remember(secret_access_key, session_token)
        return cls(access_key_id, secret_access_key, session_token, expiration, account_id)

    def to_process_output(self) -> dict[str, Any]:
        """The ``credential_process`` JSON (Version 1) the AWS CLI and SDKs read."""
        output: dict[str, Any] = {
            "Version": 1,
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "SessionToken": self.session_token,
            "Expiration": format_timestamp(self.expiration),
        }
        if self.account_id is not None:
            output["AccountId"] = self.account_id
        return output

    def to_botocore_metadata(self) -> dict[str, Any]:
        """What botocore's ``RefreshableCredentials`` expects back from ``refresh_using``."""
        return {
            "access_key": self.access_key_id,
            "secret_key": self.secret_access_key,
            "token": self.session_token,
            "expiry_time": format_timestamp(self.expiration),
            "account_id": self.account_id,
        }


class LockedCredentials(Generic[_Prepared]):
    """Credentials behind one locked cache entry, renewed single-flight: the rule both managers
    (:class:`RoleCredentialsManager` and the chained roles') share.

    :meth:`get` answers from a plain read while the entry holds credentials with more than
    ``expiry_window`` left. Otherwise :meth:`_prepare` runs first, with no lock held (a chained
    role gets its source's credentials there, so no lock is held while another is taken), then
    the entry's lock is taken, the file read again, and only then :meth:`_renew` is called and
    its result written. A renewal that fails transiently falls back to cached credentials that
    are still valid (with a warning), else raises :meth:`_unreachable`'s error; a write that
    fails is a warning (the credentials are used in this process only).
    """

    entry: CacheEntry
    expiry_window: float
    _clock: Clock

    @property
    def profile_name(self) -> str:
        raise NotImplementedError

    @property
    def clock(self) -> Clock:
        return self._clock

    def cached(self) -> RoleCredentials | None:
        """The cached credentials as they are now, valid or not (no lock, no network)."""
        return self.entry.load(RoleCredentials.from_cache, "usable credentials")

    def _fresh(self, credentials: RoleCredentials | None) -> bool:
        return (credentials is not None
                and credentials.freshness(self._clock, self.expiry_window) is Freshness.FRESH)

    def _prepare(self) -> _Prepared:
        """What the renewal needs, got before the lock is taken."""
        raise NotImplementedError

    def _renew(self, prepared: _Prepared) -> tuple[RoleCredentials, dict[str, Any]]:
        """New credentials and the cache file content for them; raises
        :class:`~.._clients.TransientServiceError` for a failure worth trying again later."""
        raise NotImplementedError

    def _unreachable(self, error: TransientServiceError) -> Exception:
        """The error for a renewal that failed transiently with no valid cached credentials left."""
        raise NotImplementedError

    @signals_unwrapped
    def get(self) -> RoleCredentials:
        """Credentials with more than the expiry window left, renewed if needed (see the class)."""
        credentials = self._get()
        deliver_dropped_signal()  # one that landed in a finalizer is raised here, not lost
        return credentials

    def _get(self) -> RoleCredentials:
        credentials = self.cached()
        if self._fresh(credentials):
            assert credentials is not None
            return credentials
        prepared = self._prepare()
        with self.entry.locked():
            credentials = self.cached()
            if self._fresh(credentials):
                assert credentials is not None
                logger.debug("Another process already renewed the %s", self.entry.describe)
                return credentials
            try:
                renewed, content = self._renew(prepared)
            except TransientServiceError as error:
                if credentials is not None and credentials.freshness(self._clock).usable:
                    logger.warning("Could not renew the %s of profile %r (%s); using the cached "
                                   "ones, valid for %d more seconds.", self.entry.describe,
                                   self.profile_name, error.reason,
                                   credentials.seconds_left(self._clock))
                    return credentials
                raise self._unreachable(error) from None
            try:
                self.entry.write(content)
            except OSError as error:  # nothing is lost (a new call gets new ones): use them
                logger.warning("Could not cache the %s (%s: %s); using them in this process only.",
                               self.entry.describe, self.entry.path,
                               error.strerror or type(error).__name__)
            else:
                logger.info("Got new %s for profile %r", self.entry.describe, self.profile_name)
            return renewed


class RoleCredentialsManager(LockedCredentials[None]):
    """The role credentials of one SSO profile, behind their lock.

    ``token_manager`` defaults to a :class:`TokenManager` for the profile's
    sso-session with the same ``options`` (see :class:`~..options.Options`).

    :meth:`get` obtains a token through the token layer (refresh or login as
    the profile allows); if the portal refuses the token (revoked, logged out
    elsewhere), the token is renewed once and the call retried once. It
    raises :class:`RoleCredentialsError` for an account or role the portal
    does not give this user, :class:`SSOLoginRequiredError` when a login is
    needed but not allowed here, the token layer's login errors,
    :class:`CacheLockTimeoutError`, and :class:`SSOProviderError` when the
    portal cannot be reached and no valid cached credentials are left.
    """

    def __init__(self, profile: SSOProfileConfig, *, options: Options | None = None,
                 token_manager: TokenManager | None = None) -> None:
        from .. import _redaction

        _redaction.install()  # this process now handles these credentials
        self.profile = profile
        self.options = options = options or Options()
        self.token_manager = token_manager or TokenManager(profile.sso, options=options,
                                                           profile=profile.profile)
        self._clients = options.clients(profile.profile)
        self.expiry_window = REFRESH_WINDOW
        self._clock = options.clock
        self.entry = role_credentials_entry(profile.sso, profile.account_id, profile.role_name,
                                            options.lock_timeout)

    def __repr__(self) -> str:
        return (f"RoleCredentialsManager(profile={self.profile.profile!r}, "
                f"account_id={self.profile.account_id!r}, role_name={self.profile.role_name!r})")

    @property
    def profile_name(self) -> str:
        return self.profile.profile

    def _prepare(self) -> None:
        return None

    def _renew(self, prepared: None) -> tuple[RoleCredentials, dict[str, Any]]:
        renewed = self._fetch()
        return renewed, renewed.to_cache()

    def _unreachable(self, error: TransientServiceError) -> Exception:
        from ..exceptions import SSOProviderError

        return SSOProviderError(
            f'Could not get role credentials for profile "{self.profile.profile}" '
            f"({self.profile.sso.display_name}) from the SSO portal: {error.reason}. {error.advice}")

    def _fetch(self) -> RoleCredentials:
        def token(rejected: str | None) -> str:
            if rejected is not None:
                logger.info("The SSO portal refused the token of %s; renewing it once",
                            self.profile.sso.display_name)
            return self.token_manager.get(rejected_access_token=rejected).access_token

        return renew_once(token, self._get_role_credentials, gave_up=lambda: self._error(
            "the SSO portal refused a token that was just renewed",
            f"Log in again with: {self.token_manager.login_command}",
        ))

    def _get_role_credentials(self, access_token: str) -> RoleCredentials:
        client = self._clients("sso", self.profile.sso.region)
        try:
            response = call(client.get_role_credentials, refusals=_NOT_ASSIGNED | {UNAUTHORIZED},
                            roleName=self.profile.role_name, accountId=self.profile.account_id,
                            accessToken=access_token)
        except ServiceRefused as refused:
            if refused.code == UNAUTHORIZED:
                raise
            raise self._error(
                f"the SSO portal gives you no role {self.profile.role_name!r} in account "
                f"{self.profile.account_id} ({refused.code})",
                "Check sso_account_id and sso_role_name; "
                f"`boto-sso-oidc list --profile {self.profile.profile}` shows the accounts "
                "and roles you can use",
            ) from None
        return RoleCredentials.from_response(response, self.profile.account_id)

    # -- plumbing ------------------------------------------------------------------------------

    def _error(self, what: str, todo: str) -> Exception:
        from ..exceptions import RoleCredentialsError

        return RoleCredentialsError(
            f'Profile "{self.profile.profile}": {what}. {todo}.',
        )


def delete_role_credentials(sso: SSOSessionConfig, pairs: Iterable[tuple[str, str]]) -> int:
    """Delete the cached credentials of these ``(account_id, role_name)`` pairs of ``sso``.

    Returns how many files were removed. Takes no lock: an unlink is atomic,
    and waiting here for a login in another process would make logging out hang.
    """
    return sum(role_credentials_entry(sso, account, role).delete() for account, role in sorted(set(pairs)))
