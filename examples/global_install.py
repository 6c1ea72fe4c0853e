"""Globally: every boto3/botocore session created afterwards, boto3's default one included.

    AWS_PROFILE=dev AWS_CONFIG_FILE=examples/profile_settings.ini python examples/global_install.py
    AWS_CONFIG_FILE=examples/role_chaining.ini python examples/global_install.py prod-deploy

Unchanged code that calls ``boto3.client(...)`` keeps working; SSO profiles gain
automatic login and share one set of role credentials between processes.
``uninstall()`` stops sessions created later from being changed.
"""

from __future__ import annotations

import os
import sys

import boto3

import boto_sso_oidc_provider


def main() -> int:
    if len(sys.argv) > 1:
        os.environ["AWS_PROFILE"] = sys.argv[1]
    boto_sso_oidc_provider.install()  # uses botocore.register_initializer
    try:
        print(boto3.client("sts").get_caller_identity()["Arn"])
    except boto_sso_oidc_provider.SSOProviderError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        boto_sso_oidc_provider.uninstall()
    return 0


if __name__ == "__main__":
    sys.exit(main())
