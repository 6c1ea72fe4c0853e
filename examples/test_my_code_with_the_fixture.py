"""Test your own boto3 code against a local IAM Identity Center: no AWS account needed.

Installing boto-sso-oidc-provider registers a pytest plugin with the
``sso_emulator`` fixture: a running emulator (SSO OIDC, the SSO portal and
STS with real SigV4 checks), a private HOME whose ~/.aws/config has the SSO
profile ``dev`` (account 111111111111, role AdministratorAccess), and
``AWS_ENDPOINT_URL`` pointing at the emulator. Run with ``pytest``.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import boto_sso_oidc_provider


def who_am_i(session) -> str:
    """The code under test: any function that takes a boto3 session."""
    return session.client("sts").get_caller_identity()["Arn"]


def test_my_code_with_sso_credentials(sso_emulator):
    boto_sso_oidc_provider.login(profile_name=sso_emulator.profile)  # the emulator approves at once
    session = boto_sso_oidc_provider.session(profile_name=sso_emulator.profile)
    arn = who_am_i(session)
    assert arn.startswith(f"arn:aws:sts::{sso_emulator.account_id}:assumed-role/")


def test_logged_out_code_gets_a_clear_error(sso_emulator, monkeypatch):
    monkeypatch.setenv("BOTO_SSO_OIDC_AUTO_LOGIN", "false")  # even when pytest runs at a terminal
    session = boto_sso_oidc_provider.session(profile_name=sso_emulator.profile)
    with pytest.raises(boto_sso_oidc_provider.SSOLoginRequiredError) as caught:
        who_am_i(session)  # no login here, and nobody to answer one
    assert "boto-sso-oidc login --profile dev" in str(caught.value)


@pytest.mark.sso_emulator(access_token_ttl=1800)  # the marker takes EmulatorConfig fields
def test_a_tool_that_uses_credential_process(sso_emulator):
    """Programs that are not boto3 get the same credentials through the helper."""
    boto_sso_oidc_provider.login(profile_name="dev")
    result = subprocess.run(
        [sys.executable, "-m", "boto_sso_oidc_provider", "credential-process", "--profile", "dev"],
        capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL,
    )
    assert '"Version": 1' in result.stdout
