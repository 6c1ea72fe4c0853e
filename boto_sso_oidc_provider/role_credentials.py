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
makes other processes wait for it up to ``sso_lock_timeout``.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._clients import TransientServiceError, error_code
from ._clock import Clock, format_timestamp, parse_timestamp, utc_now
from ._warm import sso_role_cache_key
from .cache import CacheEntry, role_credentials_cache_dir
from .config import SSOProfileConfig, SSOSessionConfig
from .token import DEFAULT_REFRESH_WINDOW, TokenManager

__all__ = ["RoleCredentials", "RoleCredentialsManager", "role_cache_key",
           "role_credentials_manager", "forget_role_credentials", "DEFAULT_EXPIRY_WINDOW"]

logger = logging.getLogger(__name__)

DEFAULT_EXPIRY_WINDOW = DEFAULT_REFRESH_WINDOW
"""Cached credentials with less than this many seconds left are renewed (botocore: 15 minutes,
the same as its advisory refresh window, so a refresh never just re-reads the old file)."""

# Portal errors the user must fix in the configuration; anything not listed
# here and not UnauthorizedException is treated as transient.
_NOT_ASSIGNED = frozenset({"ResourceNotFoundException", "ForbiddenException",
                           "AccessDeniedException", "InvalidRequestException"})


def role_cache_key(sso: SSOSessionConfig, account_id: str, role_name: str) -> str:
    """botocore ``SSOCredentialFetcher._create_cache_key``, exactly: the file stem in ~/.aws/cli/cache.

    One implementation serves both paths: the warm path's, which needs only the standard library.
    """
    return sso_role_cache_key(account_id, role_name, sso_session=sso.name, start_url=sso.start_url)


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
    def _made(cls, access_key_id: str, secret_access_key: str, session_token: str,
              expiration: _dt.datetime, account_id: str | None) -> RoleCredentials:
        from . import _redaction

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


class RoleCredentialsManager:
    """The role credentials of one SSO profile, behind their lock.

    ``token_manager`` defaults to a :class:`TokenManager` for the profile's
    sso-session built with ``session``, ``clock`` and ``token_options``
    (``allow_login``, ``open_browser``, ``lock_timeout``, ``prompt``, ...).
    ``session`` is a boto3 or botocore session whose endpoint settings the
    ``sso`` client follows.
    """

    def __init__(
        self,
        profile: SSOProfileConfig,
        *,
        token_manager: TokenManager | None = None,
        session: Any = None,
        clock: Clock = utc_now,
        expiry_window: float = DEFAULT_EXPIRY_WINDOW,
        **token_options: Any,
    ) -> None:
        self.profile = profile
        self.token_manager = token_manager or TokenManager(
            profile.sso, session=session, clock=clock, **token_options
        )
        self.expiry_window = expiry_window
        self._session = session
        self._clock = clock
        self._sso_client: Any = None
        lock_timeout = token_options.get("lock_timeout")
        self.entry = CacheEntry(
            role_credentials_cache_dir()
            / f"{role_cache_key(profile.sso, profile.account_id, profile.role_name)}.json",
            describe=f"role credentials of {profile.role_name} in account {profile.account_id}",
            lock_timeout=profile.sso.settings.lock_timeout if lock_timeout is None else lock_timeout,
        )

    def __repr__(self) -> str:
        return (f"RoleCredentialsManager(profile={self.profile.profile!r}, "
                f"account_id={self.profile.account_id!r}, role_name={self.profile.role_name!r})")

    @property
    def clock(self) -> Clock:
        return self._clock

    # -- reading -------------------------------------------------------------------------------

    def cached(self) -> RoleCredentials | None:
        """The cached credentials as they are now, valid or not (no lock, no network)."""
        return self.entry.load(RoleCredentials.from_cache, "usable credentials")

    def _fresh(self, credentials: RoleCredentials | None) -> bool:
        return credentials is not None and credentials.seconds_left(self._clock) > self.expiry_window

    # -- the single-flight entry point ---------------------------------------------------------

    def get(self) -> RoleCredentials:
        """Credentials with more than the expiry window left, calling GetRoleCredentials if needed.

        A token is obtained through the token layer (refresh or login as the
        profile allows). If the portal refuses the token (revoked, logged out
        elsewhere), the token is renewed once and the call retried once.

        Raises :class:`RoleCredentialsError` for an account or role the portal
        does not give this user, :class:`SSOLoginRequiredError` when a login is
        needed but not allowed here, the token layer's login errors,
        :class:`CacheLockTimeoutError`, and :class:`SSOProviderError` when the
        portal cannot be reached and no valid cached credentials are left.
        """
        credentials = self.cached()
        if self._fresh(credentials):
            assert credentials is not None
            return credentials
        with self.entry.locked():
            credentials = self.cached()
            if self._fresh(credentials):
                assert credentials is not None
                logger.debug("Another process already renewed the %s", self.entry.describe)
                return credentials
            try:
                renewed = self._fetch()
            except TransientServiceError as error:
                if credentials is not None and credentials.seconds_left(self._clock) > 0:
                    logger.warning("Could not renew the %s of profile %r (%s); using the cached "
                                   "ones, valid for %d more seconds.", self.entry.describe,
                                   self.profile.profile, error.reason,
                                   credentials.seconds_left(self._clock))
                    return credentials
                from .exceptions import SSOProviderError

                raise SSOProviderError(
                    f'Could not get role credentials for profile "{self.profile.profile}" from '
                    f"the SSO portal: {error.reason}. Try again later."
                ) from None
            self.entry.write(renewed.to_cache())
            logger.info("Got new %s for profile %r", self.entry.describe, self.profile.profile)
            return renewed

    def _fetch(self) -> RoleCredentials:
        token = self.token_manager.get()
        try:
            return self._get_role_credentials(token.access_token)
        except _Unauthorized:
            logger.info("The SSO portal refused the token of %s; renewing it once",
                        self.profile.sso.display_name)
        token = self.token_manager.get(rejected_access_token=token.access_token)
        try:
            return self._get_role_credentials(token.access_token)
        except _Unauthorized:
            raise self._error(
                "the SSO portal refused a token that was just renewed",
                f"Log in again with: {self.profile.sso.login_command}",
            ) from None

    def _get_role_credentials(self, access_token: str) -> RoleCredentials:
        import botocore.exceptions

        client = self._sso()
        try:
            response = client.get_role_credentials(
                roleName=self.profile.role_name,
                accountId=self.profile.account_id,
                accessToken=access_token,
            )
        except botocore.exceptions.ClientError as error:
            code, status = error_code(error)
            if code == "UnauthorizedException":
                raise _Unauthorized() from None
            if code in _NOT_ASSIGNED and status < 500:
                raise self._error(
                    f"the SSO portal gives you no role {self.profile.role_name!r} in account "
                    f"{self.profile.account_id} ({code})",
                    "Check sso_account_id and sso_role_name; "
                    f"`boto-sso-oidc list --profile {self.profile.profile}` shows the accounts "
                    "and roles you can use",
                ) from None
            raise TransientServiceError(f"{code or 'error'} (HTTP {status})") from None
        except (botocore.exceptions.BotoCoreError, OSError) as error:
            raise TransientServiceError(type(error).__name__) from None
        return RoleCredentials.from_response(response, self.profile.account_id)

    # -- plumbing ------------------------------------------------------------------------------

    def _error(self, what: str, todo: str) -> Exception:
        from .exceptions import RoleCredentialsError

        return RoleCredentialsError(
            f'Profile "{self.profile.profile}": {what}. {todo}.',
        )

    def _sso(self) -> Any:
        if self._sso_client is None:
            from ._clients import create_client

            self._sso_client = create_client("sso", self.profile.sso.region, self._session)
        return self._sso_client


class _Unauthorized(Exception):
    pass


def role_credentials_manager(
    profile_name: str | None = None, *, session: Any = None, **options: Any
) -> RoleCredentialsManager:
    """A :class:`RoleCredentialsManager` for a profile (default: ``AWS_PROFILE`` or ``default``).

    The config is read through botocore's loader (``session``'s, if given).
    Raises :class:`SSOConfigError` naming the profile and key when the profile
    is not a complete SSO profile.
    """
    from ._clients import botocore_session
    from .config import _default_profile_name, load_full_config, resolve_profile

    core = botocore_session(session, profile_name) if session is not None else None
    full_config = load_full_config(core)
    profile = resolve_profile(profile_name or _default_profile_name(core), full_config)
    assert isinstance(profile, SSOProfileConfig)  # require_role=True guarantees it
    return RoleCredentialsManager(profile, session=session, **options)


def _uses_session(values: Mapping[str, Any], sso: SSOSessionConfig) -> bool:
    if sso.name is not None:
        return values.get("sso_session") == sso.name
    return "sso_session" not in values and values.get("sso_start_url") == sso.start_url


def forget_role_credentials(sso: SSOSessionConfig, pairs: Iterable[tuple[str, str]] = ()) -> int:
    """Delete the cached role credentials of an sso-session (or legacy start URL).

    Covers every profile of the AWS config that uses ``sso`` plus the extra
    ``(account_id, role_name)`` pairs given. Returns how many files were
    removed. Takes no lock: an unlink is atomic, and waiting here for a login
    in another process would make logging out hang.
    """
    from .config import load_full_config
    from .exceptions import SSOConfigError

    wanted = {(str(account), str(role)) for account, role in pairs}
    try:
        profiles = load_full_config().get("profiles", {})
    except SSOConfigError as error:  # still forget what we were told to
        logger.warning("Could not read the AWS config to find role credentials to remove: %s", error)
        profiles = {}
    for values in profiles.values():
        account, role = values.get("sso_account_id"), values.get("sso_role_name")
        if account and role and _uses_session(values, sso):
            wanted.add((str(account), str(role)))
    directory = role_credentials_cache_dir()
    removed = 0
    for account, role in sorted(wanted):
        entry = CacheEntry(directory / f"{role_cache_key(sso, account, role)}.json",
                           describe=f"role credentials of {role} in account {account}")
        removed += entry.delete()
    return removed
