"""How the managers behave, and what they are given: one frozen, typed options object.

:class:`~.caches.token.TokenManager` and :class:`~.credentials.role_credentials.RoleCredentialsManager`
take an :class:`Options`; the public functions of :mod:`.sessions` and the
providers build one from their keyword arguments. Fields left at None defer
to the AWS config (this package's ``boto_sso_oidc_*`` keys and environment variables,
see :mod:`.config.reader`). Everything a test would otherwise patch is here: the
clock, sleeping, the login prompt, the environment and the botocore clients.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._clients import ClientFactory
from ._clock import Clock, utc_now

if TYPE_CHECKING:  # pragma: no cover
    from .logins._interaction import LoginPrompt

__all__ = ["Options"]


@dataclass(frozen=True)
class Options:
    """Options of the token and role-credential managers (all optional).

    ``allow_login``: may a login start when a token cannot be refreshed? None:
    as ``boto_sso_oidc_auto_login`` and :func:`~.logins._interaction.login_allowed` decide.
    ``open_browser`` and ``lock_timeout``: None means the config's value.
    ``client_factory`` makes the ``sso-oidc`` and ``sso`` clients (``(service,
    region) -> client``); None: :class:`~._clients.SessionClients` on the
    session the manager serves (a new botocore session when there is none).
    ``use_device_code``: None means the config's ``boto_sso_oidc_use_device_code``;
    ``redirect_port`` fixes the browser login's loopback port (and chooses that
    flow; None: the config's ``boto_sso_oidc_redirect_port``); ``remote``: True logs in
    by pasting the address the browser ended on (``login --remote``), False never, None
    where a remote shell is detected (:func:`~._interaction.remote_shell`);
    ``login_timeout``: seconds the browser login waits (default 600).
    """

    allow_login: bool | None = None
    open_browser: bool | None = None
    lock_timeout: float | None = None
    prompt: LoginPrompt | None = None
    clock: Clock = utc_now
    sleep: Callable[[float], None] = time.sleep
    environ: Mapping[str, str] | None = None
    client_factory: ClientFactory | None = None
    use_device_code: bool | None = None
    redirect_port: int | None = None
    login_timeout: float | None = None
    remote: bool | None = None

    def __repr__(self) -> str:
        return (f"Options(allow_login={self.allow_login!r}, open_browser={self.open_browser!r}, "
                f"lock_timeout={self.lock_timeout!r}, use_device_code={self.use_device_code!r})")

    def clients(self, profile_name: str | None = None) -> ClientFactory:
        """``client_factory``, or the default one: clients on a new session of ``profile_name``
        (None: the default profile), which take that profile's settings (``ca_bundle`` ...)."""
        if self.client_factory is not None:
            return self.client_factory
        from ._clients import SessionClients

        return SessionClients(profile_name=profile_name)

