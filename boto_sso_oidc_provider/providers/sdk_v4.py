"""Step 6 for the AWS SDK for Python v4 (smithy-python): an SSO provider for its credential chain.

Clients of the v4 SDK (``aws-sdk-sts`` and the other ``aws-sdk-*`` packages)
build their credential chain from the entry-point group
``smithy_aws_core.identity.chain_providers``; this package registers
:class:`SSOOIDCChainProvider` there (the ``sdk-v4`` extra brings the SDK,
Python >= 3.12), so an unmodified program gets the role credentials of an SSO
profile (``sso_session`` or a legacy ``sso_start_url``, with
``sso_account_id`` and ``sso_role_name``) from the same token and role caches,
locks and single flight as boto3, the AWS CLI v2 and ``credential-process``.

Ordering: the provider claims no standard slot. It stands
``Before(ProfileSsoSession)`` under its own name, and adds a terminal resolver
for an SSO profile. smithy refuses to configure a chain where two providers
claim the same slot or share a name (``IdentityChainConfigurationError``); an
SSO provider that AWS ships later will claim ``Standard(ProfileSsoSession)``
under the slot's canonical name, so both can be installed together: this one
comes first and, being terminal for SSO profiles, the other is then not set up.
Uninstalling this package, ``BOTO_SSO_OIDC_ENABLED=false`` or
``boto_sso_oidc_enabled = false`` on the profile hands SSO profiles to the rest
of the chain (AWS's provider, once there is one). Without either, SSO profiles
are served: the v4 SDK has no SSO provider of its own to keep by default.

Nothing that waits runs on the event loop: reading the config through botocore,
the cache lock (another process may be refreshing or logging in), the refresh
and GetRoleCredentials all run in a worker thread (``asyncio.to_thread``).
``setup`` only looks at the config smithy has already parsed. The resolver
keeps the credentials in memory while more than the expiry window is left.

Limits: the manager reads the config through botocore, so the files are the
ones ``AWS_CONFIG_FILE`` names (or ``~/.aws/config``), not a ``config_file_path``
passed to the SDK's config resolution; the SSO clients are botocore's, following
``AWS_ENDPOINT_URL`` and the profile's settings, not the SDK's HTTP client.

This module imports smithy-python only through the names it is given
(``setup``'s arguments) and ``smithy_aws_core`` when a resolver is made.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..config.reader import ENABLED_KEY, ENV_ENABLED, switched_off

if TYPE_CHECKING:  # pragma: no cover
    from ..credentials.role_credentials import RoleCredentials, RoleCredentialsManager

__all__ = ["SSOOIDCChainProvider", "SSOOIDCIdentityResolver"]

# Profile keys that make a profile an SSO role profile (see config.AWSConfig.profile_kind).
_ROLE_KEYS = ("sso_account_id", "sso_role_name")


class SSOOIDCIdentityResolver:
    """A smithy ``IdentityResolver`` of ``AWSCredentialsIdentity`` for one SSO profile.

    ``get_identity`` raises smithy's ``SmithyIdentityError`` carrying this
    package's one-line message (login needed, no such role, portal unreachable ...).
    """

    def __init__(self, profile_name: str) -> None:
        self.profile_name = profile_name
        self._manager: RoleCredentialsManager | None = None
        self._credentials: RoleCredentials | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"SSOOIDCIdentityResolver(profile_name={self.profile_name!r})"

    async def get_identity(self, *, properties: Mapping[str, Any]) -> Any:
        """The profile's role credentials, from memory, the shared cache or the portal."""
        async with self._lock:  # one refresh per resolver; the cache's lock does the rest
            if not self._fresh(self._credentials):
                self._credentials = await asyncio.to_thread(self._get)
            credentials = self._credentials
        assert credentials is not None
        from smithy_aws_core.identity import AWSCredentialsIdentity

        return AWSCredentialsIdentity(
            access_key_id=credentials.access_key_id,
            secret_access_key=credentials.secret_access_key,
            session_token=credentials.session_token,
            expiration=credentials.expiration,
            account_id=credentials.account_id,
        )

    async def invalidate(self) -> None:
        """Forget the credentials held in memory; the next call reads the shared cache again."""
        self._credentials = None

    def _fresh(self, credentials: RoleCredentials | None) -> bool:
        if credentials is None or self._manager is None:
            return False
        from ..caches._freshness import Freshness

        return credentials.freshness(self._manager.clock, self._manager.expiry_window) is Freshness.FRESH

    def _get(self) -> RoleCredentials:
        """In a worker thread: the manager (made on first use: it reads the config), then its credentials."""
        from smithy_core.exceptions import SmithyIdentityError

        from ..exceptions import SSOProviderError
        from ..sessions import role_credentials_manager

        try:
            if self._manager is None:
                self._manager = role_credentials_manager(self.profile_name)
            return self._manager.get()
        except SSOProviderError as error:
            raise SmithyIdentityError(str(error)) from error


class SSOOIDCChainProvider:
    """The ``smithy_aws_core.identity.chain_providers`` entry point: SSO profiles, before AWS's slot."""

    @property
    def name(self) -> str:
        """The provider's name in the chain (never the standard slot's, see the module docstring)."""
        return "BotoSsoOidc"

    @property
    def ordering(self) -> Any:
        """``Before(ProfileSsoSession)``: claims no slot, so a later AWS SSO provider can coexist."""
        from smithy_aws_core.identity.chain import Before, StandardProvider

        return Before(slot=StandardProvider.PROFILE_SSO_SESSION)

    async def setup(self, identity_type: type[Any], setup: Any) -> None:
        """Add a terminal :class:`SSOOIDCIdentityResolver` when the chain's profile is an SSO role profile.

        Looks only at the config smithy parsed (no I/O); a profile that is not
        complete is reported when credentials are asked for, naming what to fix.
        """
        from smithy_aws_core.identity import AWSCredentialsIdentity

        if identity_type is not AWSCredentialsIdentity:
            return
        config_file, profile_name = setup.config_file, setup.profile_name
        if config_file is None or profile_name is None:
            return
        if not any(config_file.get(profile_name, key) for key in _ROLE_KEYS):
            return
        if switched_off(os.environ.get(ENV_ENABLED)) or switched_off(
                config_file.get(profile_name, ENABLED_KEY)):
            return  # handed to the rest of the chain (an SSO provider of AWS's, if installed)
        setup.add_terminal_resolver(SSOOIDCIdentityResolver(profile_name))
