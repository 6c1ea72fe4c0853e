"""Step 6 of the flow: botocore providers backed by the locked token and role-credential caches.

:class:`SSOOIDCCredentialProvider` is a botocore ``CredentialProvider``: for a
profile that asks for SSO role credentials (``sso_account_id`` /
``sso_role_name``, with ``sso_session`` or a legacy ``sso_start_url``) it
returns botocore ``DeferredRefreshableCredentials``, which call
:meth:`RoleCredentialsManager.get` on first use and again inside botocore's
advisory (15 min) and mandatory (10 min) refresh windows. For any other
profile ``load()`` returns None and the chain goes on, as botocore's own
``sso`` provider does.

:class:`SSOOIDCTokenProvider` is a botocore token provider for bearer-token
services (CodeCatalyst and the like): for a profile with ``sso_session`` it
returns a ``DeferredRefreshableToken`` backed by :class:`TokenManager`.

Neither provider does any network I/O in ``load()``/``load_token()``; a
configuration mistake is raised there (:class:`SSOConfigError`, a botocore
``InvalidConfigError``), everything else on first use. See :mod:`.installation`
for putting them into sessions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.credentials import CredentialProvider, DeferredRefreshableCredentials

from ..options import Options

if TYPE_CHECKING:  # pragma: no cover
    from ..caches.token import TokenManager
    from ..credentials.role_credentials import RoleCredentialsManager

__all__ = ["SSOOIDCCredentialProvider", "SSOOIDCTokenProvider"]


def _options(options: Options | None, core: Any) -> Options:
    # The clients follow the session's endpoint settings unless the caller chose a factory.
    import dataclasses

    from .._clients import SessionClients

    options = options or Options()
    if options.client_factory is not None:
        return options
    return dataclasses.replace(options, client_factory=SessionClients(core))


class SSOOIDCCredentialProvider(CredentialProvider):
    """SSO role credentials with automatic login and the shared, locked caches.

    ``session`` is the botocore (or boto3) session whose config and endpoint
    settings are used (a new botocore session if None); ``profile_name``
    defaults to that session's profile, resolved at load time (boto3.Session
    sets it on its botocore session after our initializer ran). ``options``
    go to :class:`~..credentials.role_credentials.RoleCredentialsManager`.
    """

    METHOD = "sso-oidc"
    # botocore asks providers it does not ship to prefix their canonical name with "custom".
    CANONICAL_NAME = "custom-sso-oidc"

    def __init__(self, profile_name: str | None = None, session: Any = None, *,
                 options: Options | None = None) -> None:
        from .. import _redaction
        from .._clients import botocore_session

        _redaction.install()  # the credentials this provider hands out never reach a log
        core = botocore_session(session, profile_name)
        super().__init__(session=core)
        self._profile_name = profile_name
        self._options = _options(options, core)

    def __repr__(self) -> str:
        return f"SSOOIDCCredentialProvider(profile_name={self._profile_name!r})"

    def load(self) -> DeferredRefreshableCredentials | None:
        """Credentials for an SSO profile (fetched on first use), or None for any other profile.

        Raises :class:`SSOConfigError` when the profile asks for SSO but its
        configuration is incomplete or contradictory.
        """
        manager = self._manager()
        if manager is None:
            return None
        on_profile, on_provider = sso_feature_ids(manager)
        register_user_agent_features(on_profile, on_provider)

        def refresh() -> dict[str, Any]:
            register_user_agent_features(on_profile)  # botocore's SSOCredentialFetcher does the same
            return manager.get().to_botocore_metadata()

        return DeferredRefreshableCredentials(
            refresh_using=refresh, method=self.METHOD, time_fetcher=self._options.clock
        )

    def _manager(self) -> RoleCredentialsManager | None:
        """The role-credential manager of the profile, or None if it does not ask for SSO role
        credentials (reads the config; no other I/O)."""
        from ..config.reader import AWSConfig
        from ..credentials.role_credentials import RoleCredentialsManager

        config = AWSConfig.load(self.session)
        profile = self._profile_name or config.default_profile()
        if config.profile_kind(profile) != "sso-role":
            return None
        return RoleCredentialsManager(config.role_profile(profile), options=self._options)


def sso_feature_ids(manager: RoleCredentialsManager) -> tuple[str, str]:
    """The user-agent feature IDs botocore's ``SSOProvider`` registers for this profile (since
    1.40.37): the profile's and the provider's, ``_LEGACY`` ones for a profile without sso_session."""
    suffix = "_LEGACY" if manager.profile.sso.is_legacy else ""
    return f"CREDENTIALS_PROFILE_SSO{suffix}", f"CREDENTIALS_SSO{suffix}"


def register_user_agent_features(*feature_ids: str) -> None:
    """Add ``feature_ids`` to the user agent of the current botocore call, as botocore's own SSO
    provider does; nothing on a botocore older than 1.40.37, which has no feature IDs."""
    try:
        from botocore.useragent import register_feature_ids
    except ImportError:
        return
    register_feature_ids(feature_ids)


class SSOOIDCTokenProvider:
    """botocore's ``sso`` token provider, with automatic login and the locked token cache.

    Only profiles with ``sso_session`` get a token (legacy profiles have no
    refreshable token, as in botocore); ``load_token()`` returns None for the
    rest. ``options`` go to :class:`~..caches.token.TokenManager`.
    """

    METHOD = "sso"

    def __init__(self, session: Any = None, *, profile_name: str | None = None,
                 options: Options | None = None) -> None:
        from .. import _redaction
        from .._clients import botocore_session

        _redaction.install()  # the tokens this provider hands out never reach a log
        self._session = botocore_session(session, profile_name)
        self._profile_name = profile_name
        self._options = _options(options, self._session)

    def __repr__(self) -> str:
        return f"SSOOIDCTokenProvider(profile_name={self._profile_name!r})"

    def load_token(self, **kwargs: Any) -> Any:
        """A botocore ``DeferredRefreshableToken``, or None if the profile has no ``sso_session``.

        Raises :class:`SSOConfigError` for an incomplete or contradictory
        configuration; login and refresh errors come on first use.
        """
        from botocore.tokens import DeferredRefreshableToken, FrozenAuthToken

        manager = self._manager()
        if manager is None:
            return None

        def refresh() -> FrozenAuthToken:
            token = manager.get()
            return FrozenAuthToken(token.access_token, expiration=token.expires_at)

        return DeferredRefreshableToken(self.METHOD, refresh, time_fetcher=self._options.clock)

    def _manager(self) -> TokenManager | None:
        """The token manager of the profile's sso-session, or None if it has no ``sso_session``."""
        from ..caches.token import TokenManager
        from ..config.reader import AWSConfig

        config = AWSConfig.load(self._session)
        profile = self._profile_name or config.default_profile()
        if config.profile_value(profile, "sso_session") is None:
            return None
        return TokenManager(config.sso_of_profile(profile), options=self._options, profile=profile)
