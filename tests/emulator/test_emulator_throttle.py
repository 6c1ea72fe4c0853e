"""The portal's throttling (a token bucket per operation) and synthetic organizations."""

from __future__ import annotations

import subprocess
import sys

import pytest
from emulator_helpers import Clients, client

from boto_sso_oidc_provider.emulator import PORTAL_RATE_LIMITS, Directory, EmulatorConfig, EmulatorHandle
from boto_sso_oidc_provider.emulator._throttle import TokenBucket


def test_a_token_bucket_gives_its_burst_then_its_rate():
    now = [0.0]
    bucket = TokenBucket(10.0, clock=lambda: now[0])
    assert [bucket.take() for _ in range(11)] == [True] * 10 + [False]  # one second of burst
    now[0] += 0.25  # 2.5 tokens
    assert [bucket.take() for _ in range(3)] == [True, True, False]
    now[0] += 100
    assert sum(bucket.take() for _ in range(20)) == 10  # never more than the burst saved up


@pytest.mark.sso_emulator(accounts=3, rate_limits={"ListAccountRoles": 5.0})
def test_calls_over_the_limit_are_answered_too_many_requests(clients: Clients, emulator: EmulatorHandle):
    token = clients.login().access_token
    sso = client(emulator.url, "sso", config=botocore_one_attempt())
    answers = []
    for _ in range(12):
        try:
            sso.list_account_roles(accessToken=token, accountId="100000000001")
            answers.append("ok")
        except sso.exceptions.TooManyRequestsException as error:
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 429
            answers.append("429")
    assert answers[:5] == ["ok"] * 5 and "429" in answers
    calls = emulator.calls()
    assert calls["throttled"]["ListAccountRoles"] == answers.count("429")
    assert calls["operations"]["ListAccountRoles"] == 12
    assert sso.list_accounts(accessToken=token)["accountList"]  # other operations are not limited


def botocore_one_attempt():
    import botocore
    from botocore.config import Config

    return Config(signature_version=botocore.UNSIGNED, retries={"total_max_attempts": 1})


def test_a_synthetic_organization_needs_no_state_file():
    config = EmulatorConfig(accounts=250, roles_per_account=5)
    accounts = config.directory.accounts
    assert len(accounts) == 250 and accounts[0].account_id == "100000000001"
    assert accounts[-1].account_name == "Account 00250"
    assert accounts[0].roles == ("AdministratorAccess", "ReadOnlyAccess", "Billing", "Role4", "Role5")
    assert config.directory.account("100000000250") is accounts[-1]
    assert Directory.synthetic(0).accounts == ()


@pytest.mark.parametrize("bad", [{"rate_limits": {"ListAccounts": 0}},
                                 {"rate_limits": {"ListAccounts": -1}}, {"latency": -1}])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        EmulatorConfig(**bad)


def test_the_command_line_throttles_and_serves_a_synthetic_organization():
    from boto_sso_oidc_provider.cli._emulator import _rate_limits

    assert _rate_limits([("portal", None)]) == dict(PORTAL_RATE_LIMITS)
    assert _rate_limits([("ListAccounts", None), ("ListAccountRoles", 7.5)]) == {
        "ListAccounts": 20.0, "ListAccountRoles": 7.5}
    with pytest.raises(ValueError, match="needs =TPS"):
        _rate_limits([("Logout", None)])
    refused = subprocess.run([sys.executable, "-m", "boto_sso_oidc_provider", "emulator",
                              "--rate-limit", "CreateToken=5"], capture_output=True, text=True,
                             timeout=60, stdin=subprocess.DEVNULL)
    assert refused.returncode == 1 and "cannot rate-limit CreateToken" in refused.stderr
    usage = subprocess.run([sys.executable, "-m", "boto_sso_oidc_provider", "emulator",
                            "--rate-limit", "ListAccounts=fast"], capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
    assert usage.returncode == 2
