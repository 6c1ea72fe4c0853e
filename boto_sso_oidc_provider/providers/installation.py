"""Step 6 of the flow: putting the providers into boto3, botocore and aiobotocore sessions.

Four ways, all ending in :func:`_install_into`:

* the AWS config: ``boto_sso_oidc_enabled = true`` on a profile or its
  sso-session (or ``BOTO_SSO_OIDC_ENABLED=true`` for the whole process), with
  no code at all: the startup hook (the top-level ``_boto_sso_oidc_provider_startup``) calls
  :func:`install_from_config` for every new botocore session, and only the
  profiles that ask for it get the providers; ``BOTO_SSO_OIDC_ENABLED=false``
  switches this way off;
* ``install(session)``: one boto3, botocore, aioboto3 or aiobotocore session;
* ``install()``: every botocore session created afterwards (boto3's default
  session included), through botocore's public ``register_initializer`` hook;
  ``uninstall()`` undoes it. If boto3's default session already exists, it
  gets the providers too;
* ``session(profile_name=..., region_name=...)``: a new ``boto3.Session`` with
  them installed.

What changes in a session: its ``credential_provider`` component (the chain
built by the session's own factory, botocore's or aiobotocore's) gets
:class:`SSOOIDCCredentialProvider` in the exact place of botocore's ``sso``
provider, so precedence is unchanged: explicit keys, environment variables,
assume-role and web identity still come first. The assume-role provider's
source-profile chain gets the same swap, so ``role_arn`` + ``source_profile =
<an SSO profile>`` logs in and shares the caches too. Its ``token_provider``
component gets :class:`SSOOIDCTokenProvider` in place of botocore's ``sso``
token provider. An aiobotocore session (aioboto3's, s3fs's) gets the async
providers of :mod:`.aio` instead, which never block its event loop. A session
of any other type (a botocore ``Session`` subclass that loads credentials its
own way) is left exactly as botocore made it, with a debug log line.

Activated by the config only, a session whose profile does not ask for the
plugin keeps the chain its own factory builds, untouched.

Limits: both components are replaced lazily, so install before the session
creates its first client; a session that has already loaded credentials keeps
them. ``uninstall()`` only stops sessions created later from being changed.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    import boto3
    import botocore.session

__all__ = ["install", "uninstall", "session", "install_from_config"]

logger = logging.getLogger(__name__)

_Kind = Literal["sync", "aio"]
_Mode = Literal["config", "always"]

_lock = threading.Lock()
# How each session got the providers: "always" (install) wins over "config" (the startup hook).
_modes: weakref.WeakKeyDictionary[botocore.session.Session, _Mode] = weakref.WeakKeyDictionary()
_on_broken: weakref.WeakKeyDictionary[botocore.session.Session, Callable[[BaseException], None]] = \
    weakref.WeakKeyDictionary()
_globally = False


def install(session: Any = None) -> None:
    """Use this package's providers in ``session`` (a boto3, botocore, aioboto3 or aiobotocore
    session), or everywhere.

    With a session: that session only. Without: every session created from
    now on, until :func:`uninstall`. Idempotent. Raises :class:`TypeError`
    for something that is not a session of the botocore family.

    Also starts redacting secrets from botocore's, urllib3's and this package's
    log records, process-wide (:mod:`.._redaction`): from here on this package
    handles credentials in this process, so its promise holds here too.
    """
    from .. import _redaction

    _redaction.install()
    if session is None:
        _install_globally()
        return
    from .._clients import botocore_session

    _install_into(botocore_session(session), always=True)


def install_from_config(session: Any, *, on_broken: Callable[[BaseException], None]) -> None:
    """Give ``session`` the providers for the profiles whose config asks for them
    (``boto_sso_oidc_enabled = true``, or ``BOTO_SSO_OIDC_ENABLED=true``).

    The startup hook calls this for every new botocore session. Cheap: nothing
    is read until the session builds its credential or token chain. ``on_broken`` is told
    when the install turns out broken then (a module gone or unparsable): the session keeps
    its own chain. The hook passes its one warning, so this module never imports the hook.
    """
    _install_into(session, always=False)
    _on_broken[session] = on_broken


def uninstall() -> None:
    """Undo ``install()`` (no argument): sessions created from now on are botocore's own again.

    Sessions that already have the providers keep them; the AWS config's
    setting still applies. Idempotent.
    """
    global _globally
    import botocore

    with _lock:
        if not _globally:
            return
        _globally = False
        try:
            botocore.unregister_initializer(_install_always)
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
            botocore.register_initializer(_install_always)
            _globally = True
    # A default session made before install() would otherwise miss out. Only
    # look if boto3 is already imported: importing it here would cost for nothing.
    boto3 = sys.modules.get("boto3")
    default = getattr(boto3, "DEFAULT_SESSION", None) if boto3 is not None else None
    if default is not None:
        install(default)


def _install_always(core: botocore.session.Session) -> None:
    _install_into(core, always=True)


def _session_kind(core: Any) -> _Kind | None:
    """How ``core`` loads credentials: botocore's way, aiobotocore's, or a way we do not know."""
    import botocore.session

    get_credentials = getattr(type(core), "get_credentials", None)
    if get_credentials is botocore.session.Session.get_credentials:
        return "sync"
    aio = sys.modules.get("aiobotocore.session")  # imported if core is one of its sessions
    aio_session = getattr(aio, "AioSession", None)
    if aio_session is not None and get_credentials is getattr(aio_session, "get_credentials", None):
        return "aio"
    return None


def _install_into(core: botocore.session.Session, *, always: bool) -> None:
    """Register lazy factories for the two components (cheap: runs for every new session)."""
    kind = _session_kind(core)
    if kind is None:
        logger.debug("boto-sso-oidc-provider does not know sessions of type %s.%s; "
                     "left as botocore made it.", type(core).__module__, type(core).__qualname__)
        return
    with _lock:
        previous = _modes.get(core)
        _modes[core] = "always" if always or previous == "always" else "config"
        if previous is not None:
            return
    # The factories hold the session; botocore's own factories (bound methods) do the same.
    core.lazy_register_component("credential_provider", lambda: _credential_resolver(core, kind))
    core.lazy_register_component("token_provider", lambda: _token_resolver(core, kind))


# -- which profiles: everything when installed by code, those that ask for it otherwise ---------

def _profile_gate(core: botocore.session.Session) -> Callable[[str], bool] | None:
    """Which profiles get our providers in this session: a predicate, or None for none at all."""
    if _modes.get(core) == "always":
        return lambda profile: True
    try:
        from ..config.reader import AWSConfig
        from ..exceptions import SSOConfigError
    except (ImportError, SyntaxError) as error:
        # A broken install (a module gone or unparsable) must not break a program whose
        # profiles never use the plugin: the session's own chain, and the hook's one warning.
        report = _on_broken.get(core)
        if report is not None:
            report(error)
        return None
    try:
        config = AWSConfig.load(core)  # botocore has read the file already: no I/O
    except SSOConfigError:
        return None  # unparsable: botocore's own chain reports it, as it would without us
    from ..config.reader import default_profile_name

    config.warn_unknown_settings(default_profile_name(core))  # a misspelled boto_sso_oidc_enabled
    if not config.mentions_plugin():
        return None  # nothing in the config mentions us: the session's own chain, untouched
    return config.plugin_enabled


# -- the chains ----------------------------------------------------------------------------------

def _own_credential_resolver(core: botocore.session.Session, kind: _Kind) -> Any:
    """The chain the session's own factory builds (botocore's or aiobotocore's)."""
    factory = getattr(core, "_create_credential_resolver", None)
    if callable(factory):
        return factory()
    # A botocore without the factory method: its public function, with the region of
    # the last client created (what botocore passes; only readable as a private attribute).
    region = getattr(core, "_last_client_region_used", None)
    if kind == "aio":
        from aiobotocore.credentials import create_credential_resolver as create_aio

        return create_aio(core, region_name=region)
    from botocore.credentials import create_credential_resolver

    return create_credential_resolver(core, region_name=region)


def _credential_resolver(core: botocore.session.Session, kind: _Kind) -> Any:
    """The session's own chain, with our provider in the ``sso`` slot for the profiles it is for."""
    from botocore.exceptions import UnknownCredentialError

    resolver = _own_credential_resolver(core, kind)
    gate = _profile_gate(core)
    if gate is None:
        return resolver
    make = _provider_factory(core, kind)
    from ..config.reader import default_profile_name

    profile = default_profile_name(core)
    if gate(profile):
        try:
            resolver.insert_before("sso", make(profile))
            resolver.remove("sso")
        except UnknownCredentialError:
            logger.warning("botocore's credential chain has no 'sso' provider; "
                           "boto-sso-oidc-provider is not used for this session.")
            return resolver
    else:
        with contextlib.suppress(UnknownCredentialError):
            _hide_own_keys(resolver.get_provider("sso"))
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
        assume_role._profile_provider_builder = _SourceProfileProviders(builder, make, gate)
    return resolver


def _provider_factory(core: botocore.session.Session, kind: _Kind) -> Callable[[str], Any]:
    """profile name -> our credential provider for that profile, of the session's kind."""
    if kind == "sync":
        from .provider import SSOOIDCCredentialProvider

        return lambda profile: SSOOIDCCredentialProvider(profile, core)
    from .aio import AioSSOOIDCCredentialProvider

    return lambda profile: AioSSOOIDCCredentialProvider(profile, core)


class _SourceProfileProviders:
    """A ProfileProviderBuilder whose ``sso`` provider is ours (for assume-role source profiles)."""

    def __init__(self, builder: Any, make: Callable[[str], Any], gate: Callable[[str], bool]) -> None:
        self._builder = builder
        self._make = make
        self._gate = gate

    def providers(self, profile_name: str, disable_env_vars: bool = False) -> list[Any]:
        providers: list[Any] = self._builder.providers(profile_name=profile_name,
                                                       disable_env_vars=disable_env_vars)
        if not self._gate(profile_name):
            for provider in providers:
                _hide_own_keys(provider)
            return providers
        return [self._make(profile_name) if p.METHOD == "sso" else p for p in providers]


def _hide_own_keys(provider: Any) -> None:
    """Let botocore's own ``sso`` provider (for a profile the plugin is not enabled for) read the
    config without this package's keys.

    It compares every key of a profile with its sso-session's and refuses the profile when one
    differs, ours included: ``boto_sso_oidc_enabled = false`` on a profile of an sso-session
    with ``true`` (the profile's value wins) would raise InvalidConfigError. botocore never
    reads our keys, so hiding them changes nothing else. The loader is a private attribute:
    without it (another botocore), the provider is left as it is.
    """
    load = getattr(provider, "_load_config", None)
    name = getattr(provider, "_profile_name", None)
    if getattr(provider, "METHOD", None) != "sso" or not callable(load) or not isinstance(name, str):
        return
    from ..config._settings import is_own_key

    def without_own_keys() -> Any:
        config = load()
        profiles, sessions = config.get("profiles", {}), config.get("sso_sessions", {})
        values = profiles.get(name, {})
        session_name = values.get("sso_session")
        session = sessions.get(session_name) if isinstance(session_name, str) else None
        if not any(is_own_key(key) for key in (*values, *(session or ()))):
            return config
        visible = dict(config)
        visible["profiles"] = {**profiles, name: _without_own(values)}
        if session is not None:
            visible["sso_sessions"] = {**sessions, session_name: _without_own(session)}
        return visible

    provider._load_config = without_own_keys


def _without_own(values: Any) -> dict[str, Any]:
    from ..config._settings import is_own_key

    return {key: value for key, value in values.items() if not is_own_key(key)}


def _token_resolver(core: botocore.session.Session, kind: _Kind) -> Any:
    """The session's own token chain, with our provider in place of its ``sso`` one when enabled."""
    factory = getattr(core, "_create_token_resolver", None)
    if callable(factory):
        chain = factory()
    elif kind == "aio":
        from aiobotocore.tokens import create_token_resolver as create_aio

        chain = create_aio(core)
    else:
        from botocore.tokens import create_token_resolver

        chain = create_token_resolver(core)
    gate = _profile_gate(core)
    if gate is None:
        return chain
    from ..config.reader import default_profile_name

    if not gate(default_profile_name(core)):
        return chain
    if kind == "sync":
        from .provider import SSOOIDCTokenProvider

        ours: Any = SSOOIDCTokenProvider(core)
    else:
        from .aio import AioSSOOIDCTokenProvider

        ours = AioSSOOIDCTokenProvider(core)
    _replace_sso_token_provider(chain, ours)
    return chain


def _replace_sso_token_provider(chain: Any, ours: Any) -> None:
    """Put ``ours`` in the place of the chain's ``sso`` token provider.

    botocore >= 1.43.37: ``TokenProviderChain.insert_after`` and ``remove``
    (ours has the same METHOD, so it goes after botocore's, and ``remove``
    takes the first one, botocore's). Older chains have no public way to
    change their providers: swap inside ``_providers``; if that list is not
    there either, botocore's chain stays as it is, with a warning.
    """
    if callable(getattr(chain, "insert_after", None)) and callable(getattr(chain, "remove", None)):
        from botocore.exceptions import UnknownTokenProviderError

        try:
            chain.insert_after("sso", ours)
        except UnknownTokenProviderError:
            logger.warning("botocore's token chain has no sso provider; leaving it as it is.")
            return
        chain.remove("sso")
        return
    providers = getattr(chain, "_providers", None)
    if isinstance(providers, list):
        providers[:] = [ours if getattr(p, "METHOD", None) == "sso" else p for p in providers]
    else:
        logger.warning("botocore's token chain changed shape; its own SSO token provider stays.")
