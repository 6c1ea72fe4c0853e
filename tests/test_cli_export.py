"""``boto-sso-oidc export``: every format, and the exported keys really work."""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest

from boto_sso_oidc_provider.cli._export import FORMATS

from .cli_helpers import CLI, login, one_line, run_cli
from .conftest import REPO, subprocess_env

VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
             "AWS_CREDENTIAL_EXPIRATION")


def _process(emulator) -> dict:
    result = run_cli(emulator, "credential-process", "--profile", "dev")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _expected(process: dict, region: str | None = "us-east-1") -> dict:
    """The exported variables; the fixture's profile has ``region = us-east-1``."""
    variables = dict(zip(VARIABLES, (process["AccessKeyId"], process["SecretAccessKey"],
                                     process["SessionToken"], process["Expiration"]), strict=True))
    if region:
        variables.update(AWS_REGION=region, AWS_DEFAULT_REGION=region)
    return variables


@pytest.fixture
def logged_in(sso_emulator):
    login()
    return sso_emulator


@pytest.mark.posix_only("evaluates the output in a POSIX shell")
def test_env_format_evaluates_in_a_shell(logged_in):
    script = (f'eval "$({" ".join(CLI)} export --profile dev)" && '
              + " && ".join(f'printf "%s\\n" "${name}"' for name in VARIABLES))
    result = subprocess.run(["sh", "-c", script], env=subprocess_env(logged_in), capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert dict(zip(VARIABLES, result.stdout.splitlines(), strict=True)) == \
        _expected(_process(logged_in), region=None)


def test_dotenv_and_json_and_process(logged_in):
    expected_process = _process(logged_in)
    outputs = {fmt: run_cli(logged_in, "export", "--profile", "dev", "--format", fmt) for fmt in FORMATS}
    assert all(result.returncode == 0 and result.stderr == "" for result in outputs.values())
    dotenv = dict(line.split("=", 1) for line in outputs["dotenv"].stdout.splitlines())
    assert dotenv == _expected(expected_process)
    assert outputs["env-no-export"].stdout == outputs["dotenv"].stdout
    expected = _expected(expected_process)
    assert outputs["powershell"].stdout.splitlines() == [f'$Env:{k}="{v}"' for k, v in expected.items()]
    assert outputs["windows-cmd"].stdout.splitlines() == [f"set {k}={v}" for k, v in expected.items()]
    assert outputs["fish"].stdout.splitlines() == [f"set -gx {k} '{v}'" for k, v in expected.items()]
    assert json.loads(outputs["json"].stdout) == _expected(expected_process)
    assert json.loads(outputs["process"].stdout) == expected_process
    assert logged_in.calls()["operations"]["GetRoleCredentials"] == 1  # all from one cache entry


def test_exported_keys_call_sts(logged_in):
    result = run_cli(logged_in, "export", "--format", "json")  # AWS_PROFILE=dev from the fixture
    assert result.returncode == 0, result.stderr
    variables = json.loads(result.stdout)
    client = boto3.Session(
        aws_access_key_id=variables["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=variables["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=variables["AWS_SESSION_TOKEN"], region_name="us-east-1",
    ).client("sts")
    assert client.get_caller_identity()["Account"] == "111111111111"


def test_not_logged_in(sso_emulator):
    result = run_cli(sso_emulator, "export", "--profile", "dev")
    assert result.returncode == 1 and result.stdout == ""
    assert "boto-sso-oidc login --profile dev" in one_line(result.stderr)


def test_warm_export_never_imports_botocore(logged_in):
    _process(logged_in)  # fills the role cache
    code = ("import sys\nfrom boto_sso_oidc_provider.cli import main\n"
            "code = main(['export', '--profile', 'dev', '--format', 'dotenv'])\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('botocore', 'boto3'))\n"
            "print('LOADED', loaded, file=sys.stderr)\nsys.exit(code)\n")
    result = subprocess.run([sys.executable, "-c", code], env=subprocess_env(logged_in),
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "AWS_SESSION_TOKEN=" in result.stdout
    assert result.stderr.strip() == "LOADED []"


def test_region_from_the_command_line_and_none_without_one(logged_in):
    logged_in.write_config("\n[profile noregion]\nsso_session = emulator\nsso_account_id = 111111111111\n"
                           "sso_role_name = AdministratorAccess\n", append=True)
    result = run_cli(logged_in, "export", "--profile", "noregion", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "AWS_REGION" not in json.loads(result.stdout)
    result = run_cli(logged_in, "--region", "eu-west-3", "export", "--profile", "noregion",
                     "--format", "json")
    assert json.loads(result.stdout)["AWS_REGION"] == "eu-west-3"
