"""The public import path of the AWS SDK for Python v4's SSO provider (``docs/python.md``, and the
entry point in ``pyproject.toml``); it lives in :mod:`boto_sso_oidc_provider.providers.sdk_v4`."""

from .providers.sdk_v4 import SSOOIDCChainProvider, SSOOIDCIdentityResolver

__all__ = ["SSOOIDCChainProvider", "SSOOIDCIdentityResolver"]
