"""A plain boto3 program: it does not import boto_sso_oidc_provider, and needs no change.

    AWS_CONFIG_FILE=examples/config_enabled.ini python examples/plain_boto3.py team-dev

With the package installed in the environment, the profile's sso-session says
``boto_sso_oidc_enabled = true``, so this program's credentials come through the
plugin: automatic login, the shared locked caches. Without the setting (or with
``BOTO_SSO_OIDC_ENABLED=false``) it gets botocore's own SSO provider.
"""

from __future__ import annotations

import sys

import boto3


def main() -> int:
    session = boto3.Session(profile_name=sys.argv[1] if len(sys.argv) > 1 else None)
    print(session.client("sts").get_caller_identity()["Arn"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
