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

from collections.abc import Callable, Mapping
from typing import Any

from botocore.credentials import CredentialProvider, DeferredRefreshableCredentials

__all__ = ["SSOOIDCCredentialProvider", "SSOOIDCTokenProvider"]


def _profile_name(session: Any, profile_name: str | None) -> str:
    # Resolved at load time, not construction: boto3.Session sets the profile
    # on its botocore session after the session (and our initializer) ran.
    if profile_name:
        return profile_name
    return str(session.get_config_variable("profile") or "default")


class SSOOIDCCredentialProvider(CredentialProvider):
    """SSO role credentials with automatic login and the shared, locked caches.

    ``session`` is the botocore (or boto3) session whose config and endpoint
    settings are used (a new botocore session if None); ``profile_name``
    defaults to that session's profile. ``load_config`` returns the parsed
    config (default: the session's ``full_config``). ``options`` go to
    :class:`RoleCredentialsManager` (``clock``, ``expiry_window``,
    ``allow_login``, ``open_browser``, ``lock_timeout``, ...).
    """

    METHOD = "sso-oidc"
    # botocore asks providers it does not ship to prefix their canonical name with "custom".
    CANONICAL_NAME = "custom-sso-oidc"

    def __init__(
        self,
        profile_name: str | None = None,
        session: Any = None,
        *,
        load_config: Callable[[], Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> None:
        from ._clients import botocore_session

        core = botocore_session(session, profile_name)
        super().__init__(session=core)
        self._profile_name = profile_name
        self._load_config = load_config
        self._options = options

    def __repr__(self) -> str:
        return f"SSOOIDCCredentialProvider(profile_name={self._profile_name!r})"

    def load(self) -> DeferredRefreshableCredentials | None:
        """Credentials for an SSO profile (fetched on first use), or None for any other profile.

        Raises :class:`SSOConfigError` when the profile asks for SSO but its
        configuration is incomplete or contradictory.
        """
        from .config import load_full_config, profile_uses_sso, resolve_profile
        from .role_credentials import RoleCredentialsManager

        profile = _profile_name(self.session, self._profile_name)
        full_config = self._load_config() if self._load_config else load_full_config(self.session)
        if not profile_uses_sso(profile, full_config):
            return None
        resolved = resolve_profile(profile, full_config)
        manager = RoleCredentialsManager(resolved, session=self.session, **self._options)  # type: ignore[arg-type]

        def refresh() -> dict[str, Any]:
            return manager.get().to_botocore_metadata()

        return DeferredRefreshableCredentials(
            refresh_using=refresh, method=self.METHOD, time_fetcher=manager.clock
        )


class SSOOIDCTokenProvider:
    """botocore's ``sso`` token provider, with automatic login and the locked token cache.

    Only profiles with ``sso_session`` get a token (legacy profiles have no
    refreshable token, as in botocore); ``load_token()`` returns None for the
    rest. ``options`` go to :class:`TokenManager`.
    """

    METHOD = "sso"

    def __init__(self, session: Any = None, *, profile_name: str | None = None,
                 **options: Any) -> None:
        from ._clients import botocore_session

        self._session = botocore_session(session, profile_name)
        self._profile_name = profile_name
        self._options = options

    def __repr__(self) -> str:
        return f"SSOOIDCTokenProvider(profile_name={self._profile_name!r})"

    def load_token(self, **kwargs: Any) -> Any:
        """A botocore ``DeferredRefreshableToken``, or None if the profile has no ``sso_session``.

        Raises :class:`SSOConfigError` for an incomplete or contradictory
        configuration; login and refresh errors come on first use.
        """
        from botocore.tokens import DeferredRefreshableToken, FrozenAuthToken

        from .config import SSOProfileConfig, load_full_config, resolve_profile
        from .token import TokenManager

        profile = _profile_name(self._session, self._profile_name)
        full_config = load_full_config(self._session)
        if "sso_session" not in full_config.get("profiles", {}).get(profile, {}):
            return None
        resolved = resolve_profile(profile, full_config, require_role=False)
        sso = resolved.sso if isinstance(resolved, SSOProfileConfig) else resolved
        manager = TokenManager(sso, session=self._session, **self._options)
        clock = self._options.get("clock")

        def refresh() -> FrozenAuthToken:
            token = manager.get()
            return FrozenAuthToken(token.access_token, expiration=token.expires_at)

        if clock is None:
            return DeferredRefreshableToken(self.METHOD, refresh)
        return DeferredRefreshableToken(self.METHOD, refresh, time_fetcher=clock)
