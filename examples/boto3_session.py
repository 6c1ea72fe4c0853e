"""Per session: give one boto3 session automatic login and the shared, locked caches.

    AWS_CONFIG_FILE=examples/profile_settings.ini python examples/boto3_session.py dev

Only the sessions handed to ``install`` (or made by ``session``) change; every
other session in the program stays plain boto3. Precedence is botocore's:
explicit keys and everything botocore tries before SSO still win.
"""

from __future__ import annotations

import sys

import boto3

import boto_sso_oidc_provider


def main(profile: str | None) -> int:
    try:
        # 1. An existing session (boto3 or botocore), before it creates its first client.
        session = boto3.Session(profile_name=profile)
        boto_sso_oidc_provider.install(session)
        print(session.client("sts").get_caller_identity()["Arn"])

        # 2. The same, ready-made.
        ready = boto_sso_oidc_provider.session(profile_name=profile, region_name="us-east-1")
        print(ready.client("sts").get_caller_identity()["Arn"])
    except boto_sso_oidc_provider.SSOProviderError as error:
        # Every error this package raises says what to do; no traceback for people.
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
