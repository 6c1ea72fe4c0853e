"""Every file in examples/ runs, against the emulator, and shows what its comments promise."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .cli_helpers import run_aws, run_cli
from .conftest import REPO

EXAMPLES = REPO / "examples"
ARN = "arn:aws:sts::{account}:assumed-role/AWSReservedSSO_{role}_"

# example file -> the test below that runs it
COVERED = {
    "run_examples.py": "test_run_examples",
    "boto3_session.py": "test_run_examples",
    "global_install.py": "test_run_examples",
    "profile_settings.ini": "test_run_examples",
    "role_chaining.ini": "test_run_examples",
    "config_enabled.ini": "test_run_examples",
    "plain_boto3.py": "test_run_examples",
    "credential_process.ini": "test_credential_process_config_with_the_aws_cli",
    "test_my_code_with_the_fixture.py": "test_the_fixture_example_passes",
    "onboarding.sh": "test_the_onboarding_script_from_an_empty_home",
}


def test_every_example_is_run_here():
    files = {path.name for path in EXAMPLES.iterdir()
             if path.is_file() and path.suffix in (".py", ".ini", ".sh", ".toml", ".json")}
    assert files == set(COVERED), "add the new example to COVERED and run it in a test here"


@pytest.mark.slow
def test_run_examples():
    """The other examples' own runner: its emulator, its temporary HOME, every documented run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run([sys.executable, str(EXAMPLES / "run_examples.py")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True, timeout=180)
    assert result.returncode == 0, result.stdout
    runs = result.stdout.split("\n$ ")[1:]
    assert len(runs) == 6, result.stdout
    refused, dev, readonly, global_dev, chained, plain = runs
    assert "boto3_session.py prod-readonly" in refused
    assert "boto-sso-oidc login --profile prod-readonly" in refused and "Traceback" not in refused
    dev_arn = ARN.format(account="111111111111", role="AdministratorAccess")
    assert dev.count(dev_arn) == 2
    assert ARN.format(account="222222222222", role="ReadOnlyAccess") in readonly
    assert "/device?user_code=" not in readonly  # same sso-session: no second login
    assert "global_install.py dev" in global_dev and dev_arn in global_dev
    assert "arn:aws:sts::222222222222:assumed-role/Deployer/deploy" in chained
    # No import of the package in plain_boto3.py: the startup hook and the config's setting
    # log in to sso-session my-team (botocore's own provider would fail: no token cached).
    assert "Logging in to sso-session \"my-team\"" in plain and dev_arn in plain
    assert "Emulator calls:" in plain


def test_credential_process_config_with_the_aws_cli(sso_emulator):
    """examples/credential_process.ini as the AWS config: one login, then the AWS CLI's profiles
    (with no AWS_DEFAULT_REGION: the -cli profiles carry their region)."""
    sso_emulator.env.pop("AWS_DEFAULT_REGION")
    sso_emulator.write_config((EXAMPLES / "credential_process.ini").read_text())
    login = run_cli(sso_emulator, "login", "--profile", "dev")
    assert login.returncode == 0, login.stderr
    for profile, account, role in (("dev-cli", "111111111111", "AdministratorAccess"),
                                   ("prod-readonly-cli", "222222222222", "ReadOnlyAccess")):
        result = run_aws(sso_emulator, "sts", "get-caller-identity", "--profile", profile,
                         "--output", "json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["Arn"].startswith(ARN.format(account=account, role=role))
    assert sso_emulator.calls()["operations"]["StartDeviceAuthorization"] == 1


@pytest.mark.slow
def test_the_fixture_example_passes():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(EXAMPLES / "test_my_code_with_the_fixture.py"),
         "-q", "-p", "no:cacheprovider"],
        env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, start_new_session=True,
        timeout=180, cwd=REPO,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


@pytest.mark.slow
def test_the_onboarding_script_from_an_empty_home(sso_emulator):
    """examples/onboarding.sh as written: configure and generate by flags, then the AWS CLI v1 and
    the console with the profiles they wrote, with no ~/.aws to start from."""
    import shutil

    from .cli_helpers import console_script
    from .conftest import subprocess_env

    script = console_script()
    if script is None:
        pytest.skip("the boto-sso-oidc console script is not installed (pip install -e .)")
    shutil.rmtree(sso_emulator.home / ".aws")
    env = subprocess_env(sso_emulator)
    env.pop("AWS_PROFILE")
    env.pop("AWS_DEFAULT_REGION")  # a new machine: the regions come from the profiles written
    env["PATH"] = f"{script.parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(["sh", str(EXAMPLES / "onboarding.sh")], env=env, capture_output=True,
                            text=True, stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO,
                            timeout=180)
    assert result.returncode == 0, result.stderr
    dev_arn, prod_arn, url = result.stdout.splitlines()
    assert dev_arn.startswith(ARN.format(account="111111111111", role="AdministratorAccess"))
    assert prod_arn.startswith(ARN.format(account="222222222222", role="ReadOnlyAccess"))
    assert url.startswith(f"{sso_emulator.url}/federation?Action=login")
    assert "Wrote 4 profiles" in result.stderr
    assert sso_emulator.calls()["operations"]["StartDeviceAuthorization"] == 1
