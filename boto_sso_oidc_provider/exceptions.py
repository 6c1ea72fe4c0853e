"""Typed errors, all in one place.

Every error a user can cause names the profile or sso-session involved and
says what to do. None of them ever carries a token, refresh token, client
secret or secret access key in its text.

Errors about configuration and credentials subclass botocore's own
:class:`botocore.exceptions.BotoCoreError` family where one fits, so code that
already catches botocore's credential errors keeps working. botocore is only
imported lazily elsewhere in this package, but this module must be importable
without it being slow: the base classes are resolved at import time only
because any code raising these already has botocore loaded. The warm path of
``credential-process`` never imports this module.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, CredentialRetrievalError, InvalidConfigError

__all__ = [
    "SSOProviderError",
    "SSOConfigError",
    "SSOLoginRequiredError",
    "SSOLoginError",
    "DeviceAuthorizationDeniedError",
    "DeviceAuthorizationExpiredError",
    "LoginCancelledError",
    "AuthorizationDeniedError",
    "AuthorizationTimeoutError",
    "AuthorizationCodeError",
    "CallbackPortError",
    "CacheLockTimeoutError",
    "CacheDirectoryError",
    "RoleCredentialsError",
    "NetworkError",
    "TLSVerificationError",
    "ProxyConnectError",
]


class SSOProviderError(BotoCoreError):
    """Base class of every error raised by boto-sso-oidc-provider."""

    fmt = "{message}"

    def __init__(self, message: str, **kwargs: object) -> None:
        super().__init__(message=message, **kwargs)
        self.message = message


class SSOConfigError(SSOProviderError, InvalidConfigError):
    """The AWS config is missing, incomplete or contradictory for a profile or sso-session.

    The message names the profile or sso-session and the key to fix.
    """

    fmt = "{message}"

    def __init__(self, message: str, *, profile: str | None = None,
                 sso_session: str | None = None, key: str | None = None) -> None:
        super().__init__(message, error_msg=message)
        self.profile = profile
        self.sso_session = sso_session
        self.key = key


class SSOLoginRequiredError(SSOProviderError):
    """A valid token is needed, the SSO session has ended, and no login may happen here.

    Raised instead of hanging when nobody can answer a login prompt (no
    terminal, ``CI=true``, or automatic login disabled). ``command`` is the exact
    command that fixes it, for example ``boto-sso-oidc login --profile dev``.
    """

    def __init__(self, message: str, *, command: str) -> None:
        super().__init__(message)
        self.command = command


class SSOLoginError(SSOProviderError):
    """A login (device or browser flow) did not end with a token."""


class DeviceAuthorizationDeniedError(SSOLoginError):
    """The person denied the device authorization request (AccessDeniedException)."""


class DeviceAuthorizationExpiredError(SSOLoginError):
    """The device code expired before the request was approved."""


LoginCancelledError = KeyboardInterrupt
"""Ctrl-C (SIGINT) during a login is :class:`KeyboardInterrupt` itself, as every Ctrl-C in Python,
carrying a message that says which login was cancelled (the cache is left as it was). So no
``except Exception:`` retry loop swallows it, and a script that does not catch it ends as Ctrl-C
ends it (exit 130 in a shell: CPython does so for ``KeyboardInterrupt`` itself, not for a
subclass). This name is kept for code that catches it by it."""


class AuthorizationDeniedError(SSOLoginError):
    """The person denied the browser login on the consent page (``error=access_denied``)."""


class AuthorizationTimeoutError(SSOLoginError):
    """The browser did not come back to the loopback listener in time."""


class AuthorizationCodeError(SSOLoginError):
    """The browser login came back wrong: a state that does not match, an error from
    ``/authorize``, or an authorization code CreateToken refused (expired or replayed)."""


class CallbackPortError(SSOLoginError):
    """The loopback listener of the browser login could not bind its port (``port``; 0: any)."""

    def __init__(self, message: str, *, port: int) -> None:
        super().__init__(message)
        self.port = port


class CacheLockTimeoutError(SSOProviderError):
    """Another process held the cache lock for longer than the configured wait."""

    def __init__(self, message: str, *, lock_path: str) -> None:
        super().__init__(message)
        self.lock_path = lock_path


class CacheDirectoryError(SSOProviderError):
    """A cache directory (``path``) cannot be created: ``HOME`` is ``/dev/null``, a file is in
    the way, or a parent is read-only. The message names the directory and what to do."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class RoleCredentialsError(SSOProviderError, CredentialRetrievalError):
    """SSO GetRoleCredentials failed for a reason the user must fix (unknown account or role).

    Also a botocore :class:`CredentialRetrievalError`, which code catching
    botocore's credential errors already handles.
    """

    fmt = "{message}"

    def __init__(self, message: str, **kwargs: object) -> None:
        kwargs.setdefault("provider", "sso-oidc")
        kwargs.setdefault("error_msg", message)
        super().__init__(message, **kwargs)


class NetworkError(SSOProviderError):
    """The network between here and AWS stopped a call before any service answered, for a reason
    that trying again will not change (a certificate, a proxy). ``url`` is the call's."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class TLSVerificationError(NetworkError):
    """The certificate ``host`` showed is not trusted here: usually a company proxy inspecting
    TLS with its own root (``issuer``, as the client was shown it; None if it could not be read).
    The message names the host, the issuer, what was trusted and the fixes: ``ca_bundle`` in the
    profile, ``AWS_CA_BUNDLE``, or ``boto_sso_oidc_truststore``."""

    def __init__(self, message: str, *, url: str, host: str, issuer: str | None) -> None:
        super().__init__(message, url=url)
        self.host = host
        self.issuer = issuer


class ProxyConnectError(NetworkError):
    """The proxy (``proxy``, without credentials) refused the connection or could not be
    reached; ``source`` is the setting it came from (``HTTPS_PROXY``, ...)."""

    def __init__(self, message: str, *, url: str, proxy: str, source: str) -> None:
        super().__init__(message, url=url)
        self.proxy = proxy
        self.source = source
