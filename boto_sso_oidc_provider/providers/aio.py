"""Step 6, asynchronously: the providers for aiobotocore sessions (aioboto3, s3fs and the like).

aiobotocore awaits what botocore calls: ``await provider.load()``, and
credentials and tokens whose refresh is a coroutine
(``AioDeferredRefreshableCredentials``, ``AioDeferredRefreshableToken``).
botocore's own objects there fail (``TypeError: object
DeferredRefreshableCredentials can't be used in 'await' expression``), so an
aiobotocore session gets these instead, whichever way the plugin is active
(see :mod:`.installation`, which picks them by session type).

They wrap the same managers and caches as the synchronous providers: role
credentials and tokens are shared, file-locked, with every other thread and
process. Everything that may wait runs in a worker thread
(``asyncio.to_thread``), never on the event loop: the cache lock (another
process may be logging in), the refresh, GetRoleCredentials, and a login.
Only the config is read on the loop, as aiobotocore's own providers do.

The config is read from the aiobotocore session itself. The managers'
(synchronous) botocore clients are made on a plain botocore session with the
same settings (its instance variables: profile, config file, region ...),
created only when a client is needed; aiobotocore clients are never used.

This module imports aiobotocore only when a provider is used.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING, Any

from ..options import Options
from .provider import (
    SSOOIDCCredentialProvider,
    SSOOIDCTokenProvider,
    register_user_agent_features,
    sso_feature_ids,
)

if TYPE_CHECKING:  # pragma: no cover
    import botocore.session

    from ..caches.token import TokenManager
    from ..credentials.role_credentials import RoleCredentialsManager

__all__ = ["AioSSOOIDCCredentialProvider", "AioSSOOIDCTokenProvider", "sync_twin"]


def sync_twin(session: Any) -> botocore.session.Session:
    """A plain botocore session with the instance variables (profile, files, region ...) of ``session``."""
    import botocore.session

    twin = botocore.session.Session()
    for name, value in session.instance_variables().items():
        twin.set_config_variable(name, value)
    return twin


class _TwinClients:
    """The managers' client factory for an aiobotocore session: synchronous clients on its
    :func:`sync_twin`, made (with the twin) on first use, so a warm cache makes neither."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._clients: Any = None

    def __repr__(self) -> str:
        return f"_TwinClients({type(self._session).__name__})"

    def __call__(self, service: str, region: str) -> Any:
        if self._clients is None:
            from .._clients import SessionClients

            self._clients = SessionClients(sync_twin(self._session))
        return self._clients(service, region)


def _aio_options(options: Options | None, session: Any) -> Options:
    from .._clients import botocore_session

    options = options or Options()
    if options.client_factory is not None:
        return options
    return dataclasses.replace(options, client_factory=_TwinClients(botocore_session(session)))


class AioSSOOIDCCredentialProvider(SSOOIDCCredentialProvider):
    """:class:`SSOOIDCCredentialProvider` for an aiobotocore (or aioboto3) ``session``:
    ``await load()`` gives ``AioDeferredRefreshableCredentials``, refreshed in a worker thread."""

    def __init__(self, profile_name: str | None = None, session: Any = None, *,
                 options: Options | None = None) -> None:
        super().__init__(profile_name, session, options=_aio_options(options, session))

    async def load(self) -> Any:
        """Credentials for an SSO profile (fetched on first use, off the event loop), or None.

        Raises :class:`SSOConfigError` as the synchronous provider does.
        """
        from aiobotocore.credentials import AioDeferredRefreshableCredentials

        manager = self._manager()
        if manager is None:
            return None
        on_profile, on_provider = sso_feature_ids(manager)
        register_user_agent_features(on_profile, on_provider)

        async def refresh() -> dict[str, Any]:
            register_user_agent_features(on_profile)  # here: the worker thread has no botocore context
            return await asyncio.to_thread(_role_credentials_metadata, manager)

        return AioDeferredRefreshableCredentials(
            refresh_using=refresh, method=self.METHOD, time_fetcher=self._options.clock
        )


def _role_credentials_metadata(manager: RoleCredentialsManager) -> dict[str, Any]:
    return manager.get().to_botocore_metadata()


class AioSSOOIDCTokenProvider(SSOOIDCTokenProvider):
    """:class:`SSOOIDCTokenProvider` for an aiobotocore ``session``: an
    ``AioDeferredRefreshableToken`` refreshed in a worker thread."""

    def __init__(self, session: Any = None, *, profile_name: str | None = None,
                 options: Options | None = None) -> None:
        super().__init__(session, profile_name=profile_name,
                         options=_aio_options(options, session))

    def load_token(self, **kwargs: Any) -> Any:
        """A token for the profile's sso-session (obtained on first use, off the event loop), or None."""
        from aiobotocore.tokens import AioDeferredRefreshableToken

        manager = self._manager()
        if manager is None:
            return None

        async def refresh() -> Any:
            return await asyncio.to_thread(_frozen_token, manager)

        return AioDeferredRefreshableToken(self.METHOD, refresh, time_fetcher=self._options.clock)


def _frozen_token(manager: TokenManager) -> Any:
    from botocore.tokens import FrozenAuthToken

    token = manager.get()
    return FrozenAuthToken(token.access_token, expiration=token.expires_at)
