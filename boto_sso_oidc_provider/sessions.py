"""The public operations on an SSO session, above the token and role-credential managers.

``login``, ``load_token`` and ``logout`` (re-exported from the package root)
and the manager factories the command line and the providers use. Each
operation reads the AWS config once, through :class:`~.config.reader.AWSConfig`, and
passes what it learned down; neither manager imports the other's module, and
this module imports both.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from typing import Any

from ._interrupts import signals_unwrapped
from .caches.token import SSOToken, TokenManager
from .config.reader import AWSConfig, SSOSessionConfig
from .credentials.role_credentials import RoleCredentialsManager, delete_role_credentials
from .options import Options

__all__ = ["login", "load_token", "logout", "end_session", "forget_role_credentials",
           "token_manager", "role_credentials_manager", "options_for"]

logger = logging.getLogger(__name__)


def options_for(options: Options | None = None, *, session: Any = None,
                allow_login: bool | None = None, open_browser: bool | None = None,
                lock_timeout: float | None = None) -> Options:
    """``options`` (default: all defaults) with the given values set.

    Without a ``client_factory`` in ``options``, clients are made on ``session``
    (a boto3 or botocore session), following its endpoint settings.
    """
    from ._clients import SessionClients

    options = options or Options()
    changes: dict[str, Any] = {}
    if session is not None and options.client_factory is None:
        changes["client_factory"] = SessionClients(session)
    for name, value in (("allow_login", allow_login), ("open_browser", open_browser),
                        ("lock_timeout", lock_timeout)):
        if value is not None:
            changes[name] = value
    return dataclasses.replace(options, **changes)


def _config(session: Any, profile_name: str | None) -> tuple[AWSConfig, Any]:
    """The config, and the session to make clients on: the caller's, else the one the config
    was read through (so that making a client does not read the config file again)."""
    from ._clients import botocore_session
    from ._interrupts import keep_dropped_signals

    keep_dropped_signals()  # from the first step on, a signal must not vanish in a finalizer

    # A new session is the profile's, so its clients take that profile's settings (ca_bundle,
    # endpoint_url ...) as botocore's own SSO clients do.
    config = AWSConfig.load(botocore_session(session, profile_name))
    return config, session if session is not None else config.botocore_session


@signals_unwrapped
def token_manager(
    profile_name: str | None = None,
    sso_session: str | None = None,
    *,
    session: Any = None,
    options: Options | None = None,
    allow_login: bool | None = None,
    open_browser: bool | None = None,
    lock_timeout: float | None = None,
) -> TokenManager:
    """A :class:`TokenManager` for a profile or sso-session (default: the default profile's).

    Raises :class:`SSOConfigError` naming the profile or sso-session and the key to fix.
    """
    config, session = _config(session, profile_name)
    profile = profile_name if profile_name is not None or sso_session is not None \
        else config.default_profile()
    sso = config.resolve(profile, sso_session)
    return TokenManager(sso, profile=profile, options=options_for(
        options, session=session, allow_login=allow_login, open_browser=open_browser,
        lock_timeout=lock_timeout))


@signals_unwrapped
def role_credentials_manager(
    profile_name: str | None = None,
    *,
    session: Any = None,
    options: Options | None = None,
    allow_login: bool | None = None,
    open_browser: bool | None = None,
    lock_timeout: float | None = None,
) -> RoleCredentialsManager:
    """A :class:`RoleCredentialsManager` for a profile (default: ``AWS_PROFILE`` or ``default``).

    Raises :class:`SSOConfigError` naming the profile and key when the profile
    is not a complete SSO profile.
    """
    config, session = _config(session, profile_name)
    profile = config.role_profile(profile_name or config.default_profile())
    return RoleCredentialsManager(profile, options=options_for(
        options, session=session, allow_login=allow_login, open_browser=open_browser,
        lock_timeout=lock_timeout))


@signals_unwrapped
def load_token(
    profile_name: str | None = None,
    sso_session: str | None = None,
    *,
    session: Any = None,
    allow_login: bool | None = None,
    lock_timeout: float | None = None,
    options: Options | None = None,
) -> SSOToken:
    """A valid SSO token for a profile or sso-session, refreshing or logging in as allowed.

    With neither name, the current profile (``AWS_PROFILE`` or ``default``).
    Raises :class:`SSOConfigError`, :class:`SSOLoginRequiredError` (login
    needed but not allowed here) or a :class:`SSOLoginError`.
    """
    return token_manager(profile_name, sso_session, session=session, options=options,
                         allow_login=allow_login, lock_timeout=lock_timeout).get()


@signals_unwrapped
def login(
    profile_name: str | None = None,
    sso_session: str | None = None,
    *,
    session: Any = None,
    open_browser: bool | None = None,
    options: Options | None = None,
) -> SSOToken:
    """Log in and cache the token (always prompts, whatever is cached)."""
    return token_manager(profile_name, sso_session, session=session, options=options,
                         open_browser=open_browser).login()


def forget_role_credentials(sso: SSOSessionConfig, config: AWSConfig,
                            pairs: Iterable[tuple[str, str]] = ()) -> int:
    """Delete the cached role credentials of every profile of ``config`` that uses ``sso``, of
    the extra ``(account_id, role_name)`` pairs given, and the assumed-role credentials of every
    role chain that ends at ``sso``. Returns how many files were removed."""
    from .credentials.chained import delete_assumed_role_credentials

    return (delete_role_credentials(sso, [*config.role_profiles_of(sso), *pairs])
            + delete_assumed_role_credentials(config.role_chains_of(sso)))


def end_session(sso: SSOSessionConfig, config: AWSConfig, *, options: Options | None = None) -> bool:
    """Sign out of ``sso`` and delete its cached token, the role credentials of its profiles and
    its account directory.

    Returns True if a token was cached.
    """
    from .organizations.directory import forget_directory

    removed = TokenManager(sso, options=options).logout()
    forget_role_credentials(sso, config)
    forget_directory(sso)  # the accounts it listed may not be its next login's
    return removed


@signals_unwrapped
def logout(
    profile_name: str | None = None,
    sso_session: str | None = None,
    *,
    session: Any = None,
    options: Options | None = None,
) -> bool:
    """Sign out of the SSO session and delete its cached token and role credentials.

    Returns True if a token was cached.
    """
    config, session = _config(session, profile_name)
    sso = config.resolve(profile_name, sso_session)
    return end_session(sso, config, options=options_for(options, session=session))
