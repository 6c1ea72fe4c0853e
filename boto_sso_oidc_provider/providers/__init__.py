"""Step 6 of the flow: the ways into the SDKs.

    provider       botocore's credential and token providers
    aio            the same for aiobotocore sessions (aioboto3, s3fs), off the event loop
    sdk_v4         the AWS SDK for Python v4's credential chain (an entry point)
    installation   putting them into sessions: by code, or by the config's
                   ``boto_sso_oidc_enabled`` through the startup hook

``boto_sso_oidc_provider.aio`` and ``boto_sso_oidc_provider.sdk_v4`` stay the public
import paths (re-exports of the modules here).
"""
