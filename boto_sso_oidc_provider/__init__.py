"""IAM Identity Center (AWS SSO) profiles that just work in boto3 and everywhere else.

The public API is small and lives here; everything is imported lazily, so
``import boto_sso_oidc_provider`` costs almost nothing and imports neither
boto3 nor botocore until a function that needs them is called.

Data flows through the folders in this order (``docs/design.md``)::

    config         the AWS shared config: profiles and sso-sessions, read and written
    logins         client registration (SSO OIDC RegisterClient, cached like the AWS CLI
                   v2), the RFC 8628 device authorization grant and the RFC 7636
                   authorization code grant with PKCE
    caches         the locked caches shared with the AWS CLI v2 and their freshness; the
                   token: load, refresh, log in, sign out
    credentials    role credentials: SSO GetRoleCredentials, role chains, the warm path
    organizations  every account and role of an sso-session (``list``, ``generate``)
    sessions       the public operations above them: login, load_token, logout
    providers      botocore, aiobotocore and SDK v4 providers, and their installation
    servers        role credentials over HTTP (container-credentials and IMDS endpoints)
    cli            the ``boto-sso-oidc`` command line
    emulator       a local IAM Identity Center for demos and tests
"""

# No "from __future__ import annotations" and no "import importlib" here: the startup hook
# imports this module in every interpreter, where neither is loaded yet (about 1 ms together).

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (3 ms of every CLI start)

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "login": "sessions",
    "load_token": "sessions",
    "logout": "sessions",
    "Options": "options",
    "SSOToken": "caches.token",
    "install": "providers.installation",
    "uninstall": "providers.installation",
    "session": "providers.installation",
    "SSOOIDCCredentialProvider": "providers.provider",
    "SSOOIDCTokenProvider": "providers.provider",
    "AioSSOOIDCCredentialProvider": "providers.aio",
    "AioSSOOIDCTokenProvider": "providers.aio",
    "SSOProviderError": "exceptions",
    "SSOConfigError": "exceptions",
    "SSOLoginRequiredError": "exceptions",
    "SSOLoginError": "exceptions",
    "DeviceAuthorizationDeniedError": "exceptions",
    "DeviceAuthorizationExpiredError": "exceptions",
    "LoginCancelledError": "exceptions",
    "AuthorizationDeniedError": "exceptions",
    "AuthorizationTimeoutError": "exceptions",
    "AuthorizationCodeError": "exceptions",
    "CallbackPortError": "exceptions",
    "CacheLockTimeoutError": "exceptions",
    "CacheDirectoryError": "exceptions",
    "RoleCredentialsError": "exceptions",
    "NetworkError": "exceptions",
    "TLSVerificationError": "exceptions",
    "ProxyConnectError": "exceptions",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from .caches.token import SSOToken
    from .exceptions import (
        AuthorizationCodeError,
        AuthorizationDeniedError,
        AuthorizationTimeoutError,
        CacheDirectoryError,
        CacheLockTimeoutError,
        CallbackPortError,
        DeviceAuthorizationDeniedError,
        DeviceAuthorizationExpiredError,
        LoginCancelledError,
        NetworkError,
        ProxyConnectError,
        RoleCredentialsError,
        SSOConfigError,
        SSOLoginError,
        SSOLoginRequiredError,
        SSOProviderError,
        TLSVerificationError,
    )
    from .options import Options
    from .providers.aio import AioSSOOIDCCredentialProvider, AioSSOOIDCTokenProvider
    from .providers.installation import install, session, uninstall
    from .providers.provider import SSOOIDCCredentialProvider, SSOOIDCTokenProvider
    from .sessions import load_token, login, logout


def __getattr__(name: str) -> "Any":
    from importlib import import_module

    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module_name}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
