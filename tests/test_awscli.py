"""The AWS CLI (the ``awscli`` package) with ``credential_process = boto-sso-oidc credential-process``.

The AWS CLI runs the helper as a child with stdout and stderr captured, exactly
as it would on a user's machine; the helper must be on PATH, as installed.
"""

from __future__ import annotations

import json
import time

import pytest

from .cli_helpers import login, run_aws

pytest.importorskip("awscli")

HELPER_PROFILE = """
[profile dev-cli]
credential_process = boto-sso-oidc credential-process --profile dev
region = us-east-1
"""


def test_aws_sts_get_caller_identity(sso_emulator):
    sso_emulator.write_config(HELPER_PROFILE, append=True)
    login()
    result = run_aws(sso_emulator, "sts", "get-caller-identity", "--profile", "dev-cli", "--output", "json")
    assert result.returncode == 0, result.stderr
    identity = json.loads(result.stdout)
    assert identity["Account"] == "111111111111"
    assert "AWSReservedSSO_AdministratorAccess" in identity["Arn"]
    calls = sso_emulator.calls()["operations"]
    assert calls["GetCallerIdentity"] == 1 and calls["GetRoleCredentials"] == 1
    # a second command is served from the cache
    assert run_aws(sso_emulator, "sts", "get-caller-identity", "--profile", "dev-cli").returncode == 0
    assert sso_emulator.calls()["operations"]["GetRoleCredentials"] == 1


def test_no_login_possible_fails_with_the_helpers_reason(sso_emulator):
    sso_emulator.write_config(HELPER_PROFILE, append=True)
    began = time.monotonic()
    result = run_aws(sso_emulator, "sts", "get-caller-identity", "--profile", "dev-cli", timeout=60)
    assert time.monotonic() - began < 45  # no hang waiting for a person
    assert result.returncode != 0
    assert result.stdout == ""
    assert "boto-sso-oidc credential-process: " in result.stderr
    assert "Run: boto-sso-oidc login --profile dev" in result.stderr
    assert sso_emulator.calls()["operations"]["GetCallerIdentity"] == 0
