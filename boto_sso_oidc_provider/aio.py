"""The public import path of the aiobotocore providers (``docs/python.md``); they live in
:mod:`boto_sso_oidc_provider.providers.aio`."""

from .providers.aio import AioSSOOIDCCredentialProvider, AioSSOOIDCTokenProvider

__all__ = ["AioSSOOIDCCredentialProvider", "AioSSOOIDCTokenProvider"]
