"""Step 5 of the flow: chained roles, and the one way to get the credentials of any profile.

A profile with ``role_arn`` and ``source_profile`` assumes its role (STS
AssumeRole, through a botocore client signed with the source profile's
credentials); the source may itself be such a profile, any number of hops
down, ending at an SSO profile (:class:`~.role_credentials.RoleCredentialsManager`).
:func:`profile_credentials` builds the right :class:`ProfileCredentials` for
a profile; every command gets its credentials through it.

Assumed-role credentials live where and as the AWS CLI keeps them:
``~/.aws/cli/cache/<key>.json``, under exactly botocore's
``AssumeRoleCredentialFetcher`` key (:func:`~..caches._layout.assume_role_cache_key`)
and in its format (the AssumeRole response: ``Credentials`` with
``Expiration`` and ``AccountId``, and ``AssumedRoleUser``), so the AWS CLI (v1
and v2) and botocore with the CLI's cache use what this module cached, and
the other way round.

:meth:`AssumedRoleCredentialsManager.get` is single-flight by the same rule
as the SSO role's (:class:`~.role_credentials.LockedCredentials`): fresh
credentials come from a plain read; otherwise the source's credentials are
got first (through their own manager and lock), then this entry's lock is
taken, the file read again, and only then is AssumeRole called. No lock is
held while another is taken, so chains that share entries never deadlock.

Limits: the key does not depend on the source profile (as in botocore): two
profiles with the same ``role_arn`` and arguments share one entry. ``mfa_serial``
and ``credential_source`` are refused (see
:meth:`~..config.reader.AWSConfig.credentials_profile`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from .._clients import ServiceRefused, TransientServiceError, botocore_session, call, create_client
from ..caches._entry import CacheEntry
from ..caches._freshness import REFRESH_WINDOW
from ..caches._layout import role_cache_dir
from ..config.reader import AssumeRoleProfileConfig, AWSConfig, ProfileCredentialsConfig
from ..options import Options
from .role_credentials import LockedCredentials, RoleCredentials, RoleCredentialsManager

__all__ = ["ProfileCredentials", "AssumedRoleCredentialsManager", "assumed_role_entry",
           "delete_assumed_role_credentials", "profile_credentials", "credentials_manager"]

# STS answers the user must act on (a role that does not trust the source, a bad ARN...);
# anything else is treated as transient.
_REFUSED = frozenset({"AccessDenied", "ValidationError", "ExpiredToken", "InvalidClientTokenId",
                      "RegionDisabledException", "MalformedPolicyDocument", "PackedPolicyTooLarge",
                      "InvalidParameterValue"})


class ProfileCredentials(Protocol):
    """The credentials of one profile, renewed as needed (an SSO role or a role chain)."""

    @property
    def profile_name(self) -> str: ...

    def get(self) -> RoleCredentials:
        """Credentials with more than the expiry window left; raises the package's typed errors."""
        ...

    def cached(self) -> RoleCredentials | None:
        """What the profile's cache entry holds now, valid or not (no lock, no network)."""
        ...


def assumed_role_entry(profile: AssumeRoleProfileConfig, lock_timeout: float) -> CacheEntry:
    """The cache entry of a role profile's assumed-role credentials."""
    return CacheEntry(Path(role_cache_dir()) / f"{profile.cache_key}.json",
                      describe=f"assumed-role credentials of {profile.role_arn}",
                      lock_timeout=lock_timeout)


class AssumedRoleCredentialsManager(LockedCredentials[RoleCredentials]):
    """The credentials of one ``role_arn`` profile: AssumeRole with its ``source``'s credentials,
    behind the AWS CLI's assume-role cache entry and its lock.

    ``session`` (a boto3 or botocore session) makes the STS client; by default a botocore
    session for ``sts_profile`` (the chain's first profile, as botocore makes every hop's
    client on the session of the profile asked for), so its region and endpoint settings apply.

    :meth:`get` gets the source's credentials from the source's own manager (renewing
    through the chain, down to the SSO token, as that allows). It raises
    :class:`RoleCredentialsError` when STS refuses the role (it does not trust the source, an
    unknown account, a bad ARN), the source's errors, :class:`CacheLockTimeoutError`, and
    :class:`SSOProviderError` when STS cannot be reached and no valid cached credentials are left.
    """

    def __init__(self, profile: AssumeRoleProfileConfig, source: ProfileCredentials, *,
                 options: Options | None = None, session: Any = None,
                 sts_profile: str | None = None) -> None:
        from .. import _redaction

        _redaction.install()
        self.profile = profile
        self.source = source
        self.options = options = options or Options()
        self._session = session
        self._sts_profile = sts_profile or profile.profile
        self._clock = options.clock
        self.expiry_window = REFRESH_WINDOW
        lock_timeout = options.lock_timeout
        if lock_timeout is None:
            lock_timeout = profile.sso_profile.sso.settings.lock_timeout
        self.entry = assumed_role_entry(profile, lock_timeout)

    def __repr__(self) -> str:
        return (f"AssumedRoleCredentialsManager(profile={self.profile.profile!r}, "
                f"role_arn={self.profile.role_arn!r})")

    @property
    def profile_name(self) -> str:
        return self.profile.profile

    def _prepare(self) -> RoleCredentials:
        return self.source.get()  # before our lock: no lock is ever held while taking another

    def _renew(self, prepared: RoleCredentials) -> tuple[RoleCredentials, dict[str, Any]]:
        response = self._assume_role(prepared)
        renewed = RoleCredentials.from_assume_role(response)
        return renewed, _cache_content(renewed, response)

    def _unreachable(self, error: TransientServiceError) -> Exception:
        from ..exceptions import SSOProviderError

        return SSOProviderError(
            f'Could not assume role {self.profile.role_arn} for profile "{self.profile.profile}" '
            f"(STS AssumeRole): {error.reason}. {error.advice}")

    def _sts_session(self) -> Any:
        if self._session is None:  # made once, on the first AssumeRole (it reads the config file)
            self._session = botocore_session(None, self._sts_profile)
        return self._session

    def _assume_role(self, source: RoleCredentials) -> dict[str, Any]:
        profile = self.profile
        session = self._sts_session()
        # botocore: the region of the session of the profile asked for, for every hop
        region = session.get_config_variable("region") or "us-east-1"
        client = create_client("sts", region, session, credentials=(
            source.access_key_id, source.secret_access_key, source.session_token))
        params: dict[str, Any] = {"RoleArn": profile.role_arn,
                                  # botocore's name when the profile sets none
                                  "RoleSessionName": profile.role_session_name
                                  or f"botocore-session-{int(time.time())}"}
        if profile.external_id is not None:
            params["ExternalId"] = profile.external_id
        if profile.duration_seconds is not None:
            params["DurationSeconds"] = profile.duration_seconds
        try:
            response: dict[str, Any] = call(client.assume_role, refusals=_REFUSED, **params)
        except ServiceRefused as refused:
            from ..exceptions import RoleCredentialsError

            chain = " -> ".join(profile.chain)
            if refused.code in ("ExpiredToken", "InvalidClientTokenId"):
                raise RoleCredentialsError(
                    f'Profile "{profile.profile}": STS did not accept the cached credentials of '
                    f'profile "{profile.source.profile}" ({refused.code}; profile {chain}): they were '
                    f"revoked or replaced. Run boto-sso-oidc logout --profile {profile.profile}, "
                    "then try again.") from None
            raise RoleCredentialsError(
                f'Profile "{profile.profile}": STS refused to assume role {profile.role_arn} with the '
                f'credentials of profile "{profile.source.profile}" ({refused.code}; profile {chain}). '
                "Check role_arn, and that the role trusts the source profile's role.",
            ) from None
        return response


def _cache_content(credentials: RoleCredentials, response: dict[str, Any]) -> dict[str, Any]:
    """What botocore's AssumeRoleCredentialFetcher caches: the AssumeRole response, ``AccountId``
    added to its ``Credentials`` (timestamps as text)."""
    content: dict[str, Any] = {"Credentials": credentials.to_cache()["Credentials"]}
    user = response.get("AssumedRoleUser")
    if isinstance(user, dict):
        content["AssumedRoleUser"] = {key: str(value) for key, value in user.items()}
    return content


def delete_assumed_role_credentials(chains: Iterable[AssumeRoleProfileConfig]) -> int:
    """Delete the cached credentials of every hop of these role chains; how many files were removed.

    Takes no lock (an unlink is atomic), like :func:`~.role_credentials.delete_role_credentials`.
    """
    paths: set[Path] = set()
    for chain in chains:
        hop: ProfileCredentialsConfig = chain
        while isinstance(hop, AssumeRoleProfileConfig):
            paths.add(assumed_role_entry(hop, 0.0).path)
            hop = hop.source
    return sum(CacheEntry(path, describe="assumed-role credentials").delete() for path in sorted(paths))


def credentials_manager(profile: ProfileCredentialsConfig, *, options: Options | None = None,
                        session: Any = None, sts_profile: str | None = None) -> ProfileCredentials:
    """The :class:`ProfileCredentials` of a resolved profile: its SSO role, or its role chain
    (``sts_profile``: whose session makes the STS clients; default the chain's first profile).
    Without a client factory in ``options``, every hop's SSO clients are made on ``session``, else
    on the session of the profile asked for, as botocore's own providers are (its ``ca_bundle``)."""
    options = options or Options()
    if options.client_factory is None:
        from .._clients import SessionClients

        factory = SessionClients(session) if session is not None \
            else SessionClients(profile_name=sts_profile or profile.profile)
        options = dataclasses.replace(options, client_factory=factory)
    if isinstance(profile, AssumeRoleProfileConfig):
        sts_profile = sts_profile or profile.profile
        source = credentials_manager(profile.source, options=options, session=session,
                                     sts_profile=sts_profile)
        return AssumedRoleCredentialsManager(profile, source, options=options, session=session,
                                             sts_profile=sts_profile)
    return RoleCredentialsManager(profile, options=options)


def profile_credentials(config: AWSConfig, profile: str, *, options: Options | None = None,
                        session: Any = None) -> ProfileCredentials:
    """The credentials of ``profile``: an SSO role profile, or a ``role_arn`` chain ending at one.

    Raises :class:`SSOConfigError` naming the profile and key (a cycle, an unsupported hop,
    an incomplete SSO profile).
    """
    return credentials_manager(config.credentials_profile(profile), options=options, session=session)
