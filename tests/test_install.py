"""The three ways to turn the provider on, each in real Python processes against the emulator."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import REPO, run_python, subprocess_env

EXAMPLES = REPO / "examples"

ARN_PREFIX = "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_"

# What a user writes; AWS_PROFILE=dev comes from the environment.
WAYS = {
    "install()": """
        import boto3, boto_sso_oidc_provider as p
        p.install()
        print(boto3.client('sts').get_caller_identity()['Arn'])
    """,
    "install(session)": """
        import boto3, boto_sso_oidc_provider as p
        session = boto3.Session()
        p.install(session)
        print(session.client('sts').get_caller_identity()['Arn'])
    """,
    "session()": """
        import boto_sso_oidc_provider as p
        print(p.session(profile_name='dev').client('sts').get_caller_identity()['Arn'])
    """,
}


def _without_sts(calls: dict[str, dict[str, int]]) -> dict[str, object]:
    ops = {k: v for k, v in calls["operations"].items() if k != "GetCallerIdentity"}
    return {"operations": ops, "grants": calls["grants"]}


@pytest.mark.parametrize("way", list(WAYS))
def test_cold_process_logs_in_then_a_warm_one_calls_only_sts(sso_emulator, way):
    env = subprocess_env(sso_emulator, BOTO_SSO_OIDC_AUTO_LOGIN="true")

    cold = run_python(WAYS[way], env)

    assert cold.stdout.strip().startswith(ARN_PREFIX)
    assert cold.stdout.count("\n") == 1  # stdout is the program's own: the prompt went to stderr
    assert "Logging in to" in cold.stderr
    ops = sso_emulator.calls()["operations"]
    assert (ops["StartDeviceAuthorization"], ops["GetRoleCredentials"], ops["GetCallerIdentity"]) \
        == (1, 1, 1)
    before = sso_emulator.calls()

    warm = run_python(WAYS[way], env)

    assert warm.stdout == cold.stdout
    after = sso_emulator.calls()
    assert _without_sts(after) == _without_sts(before)  # no OIDC, no portal call at all
    assert after["operations"]["GetCallerIdentity"] == 2
    assert warm.stderr == ""


def test_without_a_terminal_or_permission_the_error_says_what_to_run(sso_emulator):
    result = run_python(WAYS["install()"], subprocess_env(sso_emulator), check=False)
    assert result.returncode != 0
    assert "SSOLoginRequiredError" in result.stderr
    assert "boto-sso-oidc login --profile dev" in result.stderr
    assert sso_emulator.calls()["operations"]["StartDeviceAuthorization"] == 0


def _example(name: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLES / name), *args], env=env, text=True,
                          capture_output=True, stdin=subprocess.DEVNULL, start_new_session=True,
                          timeout=60)


@pytest.mark.slow
def test_the_examples_run_as_documented(sso_emulator):
    env = subprocess_env(sso_emulator, AWS_CONFIG_FILE=str(EXAMPLES / "profile_settings.ini"))
    env.pop("AWS_PROFILE")

    refused = _example("boto3_session.py", "prod-readonly", env=env)  # boto_sso_oidc_auto_login = false
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert "boto-sso-oidc login --profile prod-readonly" in refused.stderr

    dev = _example("boto3_session.py", "dev", env=env)  # boto_sso_oidc_auto_login = true
    assert dev.returncode == 0 and dev.stdout.count(ARN_PREFIX) == 2, dev.stderr
    readonly = _example("boto3_session.py", "prod-readonly", env=env)  # same sso-session
    assert readonly.returncode == 0, readonly.stderr
    assert readonly.stdout.startswith("arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_ReadOnlyAccess_")
    assert _example("global_install.py", "dev", env=env).stdout.startswith(ARN_PREFIX)

    env["AWS_CONFIG_FILE"] = str(EXAMPLES / "role_chaining.ini")
    chained = _example("global_install.py", "prod-deploy", env=env)
    assert chained.stdout.strip() == "arn:aws:sts::222222222222:assumed-role/Deployer/deploy", \
        chained.stderr

    ops = sso_emulator.calls()["operations"]
    assert (ops["StartDeviceAuthorization"], ops["GetRoleCredentials"], ops["AssumeRole"]) == (1, 2, 1)
