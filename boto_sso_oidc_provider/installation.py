"""Step 7 of the flow: putting the providers into boto3 and botocore sessions.

Three ways, all ending in :func:`_install_into`:

* ``install(session)``: one boto3 or botocore session.
* ``install()``: every botocore session created afterwards (boto3's default
  session included), through botocore's public ``register_initializer`` hook;
  ``uninstall()`` undoes it. If boto3's default session already exists, it
  gets the providers too.
* ``session(profile_name=..., region_name=...)``: a new ``boto3.Session`` with
  them installed.

What changes in a session: its ``credential_provider`` component (botocore's
default chain, built by botocore itself) gets :class:`SSOOIDCCredentialProvider`
in the exact place of botocore's ``sso`` provider, so precedence is unchanged:
explicit keys, environment variables, assume-role and web identity still come
first. The assume-role provider's source-profile chain gets the same swap, so
``role_arn`` + ``source_profile = <an SSO profile>`` logs in and shares the
caches too. Its ``token_provider`` component gets :class:`SSOOIDCTokenProvider`
in place of botocore's ``sso`` token provider.

Limits: both components are replaced lazily, so install before the session
creates its first client; a session that has already loaded credentials keeps
them. ``uninstall()`` only stops sessions created later from being changed.
"""

from __future__ import annotations

import logging
import sys
import threading
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import boto3
    import botocore.session

__all__ = ["install", "uninstall", "session"]

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_installed: weakref.WeakSet[botocore.session.Session] = weakref.WeakSet()
_globally = False


def install(session: Any = None) -> None:
    """Use this package's providers in ``session`` (a boto3 or botocore session), or everywhere.

    With a session: that session only. Without: every session created from
    now on, until :func:`uninstall`. Idempotent. Raises :class:`TypeError`
    for something that is not a boto3 or botocore session.
    """
    if session is None:
        _install_globally()
        return
    from ._clients import botocore_session

    _install_into(botocore_session(session))


def uninstall() -> None:
    """Undo ``install()`` (no argument): sessions created from now on are botocore's own again.

    Sessions that already have the providers keep them. Idempotent.
    """
    global _globally
    import botocore

    with _lock:
        if not _globally:
            return
        _globally = False
        try:
            botocore.unregister_initializer(_install_into)
        except ValueError:  # someone else removed it; nothing left to undo
            pass


def session(profile_name: str | None = None, region_name: str | None = None,
            **kwargs: Any) -> boto3.Session:
    """A new ``boto3.Session`` (same arguments) with this package's providers installed."""
    import boto3

    new = boto3.Session(profile_name=profile_name, region_name=region_name, **kwargs)
    install(new)
    return new


def _install_globally() -> None:
    global _globally
    import botocore

    with _lock:
        if not _globally:
            botocore.register_initializer(_install_into)
            _globally = True
    # A default session made before install() would otherwise miss out. Only
    # look if boto3 is already imported: importing it here would cost for nothing.
    boto3 = sys.modules.get("boto3")
    default = getattr(boto3, "DEFAULT_SESSION", None) if boto3 is not None else None
    if default is not None:
        install(default)


def _install_into(core: botocore.session.Session) -> None:
    """Register lazy factories for the two components (cheap: runs for every new session)."""
    with _lock:
        if core in _installed:
            return
        _installed.add(core)
    # The factories hold the session; botocore's own factories (bound methods) do the same.
    core.lazy_register_component("credential_provider", lambda: _credential_resolver(core))
    core.lazy_register_component("token_provider", lambda: _token_resolver(core))


def _credential_resolver(core: botocore.session.Session) -> Any:
    """botocore's default chain, built by botocore, with our provider in the ``sso`` slot."""
    from botocore.credentials import create_credential_resolver
    from botocore.exceptions import UnknownCredentialError

    from .provider import SSOOIDCCredentialProvider

    # botocore builds its chain with the region of the last client created, so
    # that assume-role's STS client uses it; that is only readable as a private
    # attribute. Missing (a future botocore) means botocore's default region.
    region = getattr(core, "_last_client_region_used", None)
    resolver = create_credential_resolver(core, region_name=region)
    from .config import default_profile_name

    profile = default_profile_name(core)
    try:
        resolver.insert_before("sso", SSOOIDCCredentialProvider(profile, core))
        resolver.remove("sso")
    except UnknownCredentialError:
        logger.warning("botocore's credential chain has no 'sso' provider; "
                       "boto-sso-oidc-provider is not used for this session.")
        return resolver
    try:
        assume_role = resolver.get_provider("assume-role")
    except UnknownCredentialError:
        return resolver
    # AssumeRoleProvider builds the chain of a source_profile from its
    # ProfileProviderBuilder, kept in a private attribute with no setter. We
    # wrap it (only its public providers() is called) and change nothing else;
    # if a future botocore renames it, role chaining just uses botocore's SSO.
    builder = getattr(assume_role, "_profile_provider_builder", None)
    if builder is not None and hasattr(builder, "providers"):
        assume_role._profile_provider_builder = _SourceProfileProviders(builder, core)
    return resolver


class _SourceProfileProviders:
    """A ProfileProviderBuilder whose ``sso`` provider is ours (for assume-role source profiles)."""

    def __init__(self, builder: Any, core: botocore.session.Session) -> None:
        self._builder = builder
        self._core = core

    def providers(self, profile_name: str, disable_env_vars: bool = False) -> list[Any]:
        from .provider import SSOOIDCCredentialProvider

        return [
            SSOOIDCCredentialProvider(profile_name, self._core) if p.METHOD == "sso" else p
            for p in self._builder.providers(profile_name=profile_name,
                                             disable_env_vars=disable_env_vars)
        ]


def _token_resolver(core: botocore.session.Session) -> Any:
    """botocore's token chain with our provider in place of its ``sso`` one."""
    from botocore.tokens import create_token_resolver

    from .provider import SSOOIDCTokenProvider

    chain = create_token_resolver(core)
    # TokenProviderChain has no public way to change its providers (unlike
    # CredentialResolver); swap inside its list, and leave botocore's chain
    # as it is if that list is not there.
    providers = getattr(chain, "_providers", None)
    if isinstance(providers, list):
        providers[:] = [SSOOIDCTokenProvider(core) if getattr(p, "METHOD", None) == "sso" else p
                        for p in providers]
    else:
        logger.warning("botocore's token chain changed shape; its own SSO token provider stays.")
    return chain
