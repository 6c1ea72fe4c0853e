"""``boto-sso-oidc eks-token``: aws eks get-token's output, from the warm path, held to the AWS CLI v1's.

The AWS CLI runs as itself (``python -m awscli``); "same frozen time" means both processes see
the same second as now (botocore's and the AWS CLI's clock functions, and ``time.time`` for the
warm path, are pinned by a two-line wrapper): then the two tokens must be the same string.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from .cli_helpers import login, one_line, role_cache_files, run_cli
from .conftest import REPO, requires, subprocess_env

CLUSTER = "dev-cluster"
V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"

# Runs the AWS CLI or this package's CLI with the clock pinned to FROZEN (seconds since the epoch).
_FROZEN_RUNNER = textwrap.dedent("""
    import datetime, os, sys, time
    frozen = float(os.environ["FROZEN"])
    stamp = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=int(frozen))
    time.time = lambda: frozen
    import botocore.auth
    botocore.auth.get_current_datetime = lambda *a, **k: stamp
    if sys.argv[1] == "aws":
        import awscli.customizations.eks.get_token as get_token
        get_token.get_current_datetime = lambda *a, **k: stamp
        from awscli.clidriver import main
        sys.argv[1:2] = []
        sys.exit(main())
    from boto_sso_oidc_provider.cli import main
    sys.exit(main(sys.argv[2:]))
""")


# The AWS CLI v1 calls GetRoleCredentials itself on every run and keeps nothing: to sign with the
# same credentials, it reads them from the same cache through this package's credential_process.
HELPER_PROFILE = """
[profile dev-cli]
credential_process = boto-sso-oidc credential-process --profile dev
region = us-east-1
"""


def frozen_run(emulator: Any, tool: str, *args: str, frozen: float, **extra_env: str) \
        -> subprocess.CompletedProcess[str]:
    env = subprocess_env(emulator, FROZEN=str(frozen), **extra_env)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run([sys.executable, "-c", _FROZEN_RUNNER, tool, *args], env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, cwd=REPO)


def url_of(token: str) -> str:
    assert token.startswith("k8s-aws-v1.")
    payload = token[len("k8s-aws-v1."):]
    assert "=" not in payload
    return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()


def review(emulator: Any, token: str, cluster: str = CLUSTER) -> dict[str, Any]:
    import urllib.request

    request = urllib.request.Request(
        f"{emulator.url}/authenticate?clusterID={cluster}", method="POST",
        data=json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                         "spec": {"token": token}}).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return dict(json.loads(response.read())["status"])
    except urllib.error.HTTPError as error:
        return dict(json.loads(error.read())["status"])


def eks_token(emulator: Any, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    return run_cli(emulator, "eks-token", "--cluster-name", CLUSTER, *args, **extra_env)


def exec_credential(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def cache_entries(home: Path) -> list[Path]:
    return sorted((home / ".aws" / "cli" / "cache").glob("*.eks-token"))


@requires("awscli")
def test_the_same_token_as_aws_eks_get_token_at_the_same_second(sso_emulator: Any) -> None:
    sso_emulator.write_config(HELPER_PROFILE, append=True)
    login()
    frozen = float(int(time.time()))
    args = ["eks", "get-token", "--cluster-name", CLUSTER, "--profile", "dev-cli", "--region", "us-east-1"]
    theirs = frozen_run(sso_emulator, "aws", *args, frozen=frozen)
    assert theirs.returncode == 0, theirs.stderr
    for _ in range(2):  # the full path (botocore) first, then the warm path (_sigv4, from the cache)
        ours = frozen_run(sso_emulator, "ours", "--region", "us-east-1", "eks-token",
                          "--cluster-name", CLUSTER, "--profile", "dev", frozen=frozen)
        assert ours.returncode == 0, ours.stderr
        assert ours.stdout == theirs.stdout  # byte for byte: indent, key order, the blank line
    url = urllib.parse.urlsplit(url_of(json.loads(ours.stdout)["status"]["token"]))
    query = dict(urllib.parse.parse_qsl(url.query))
    assert (url.scheme, url.netloc, url.path) == ("http", urllib.parse.urlsplit(sso_emulator.url).netloc, "/")
    assert query["X-Amz-Expires"] == "60" and query["X-Amz-SignedHeaders"] == "host;x-k8s-aws-id"
    assert query["X-Amz-Date"] == time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(frozen))
    assert json.loads(ours.stdout)["status"]["expirationTimestamp"] == \
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(frozen + 14 * 60))
    assert review(sso_emulator, json.loads(ours.stdout)["status"]["token"])["authenticated"] is True


@requires("awscli")
@pytest.mark.parametrize("region, host", [("us-east-1", "sts.us-east-1.amazonaws.com"),
                                          ("eu-west-1", "sts.eu-west-1.amazonaws.com"),
                                          ("cn-north-1", "sts.cn-north-1.amazonaws.com.cn")])
def test_the_regional_sts_endpoint_the_aws_cli_uses(sso_emulator: Any, region: str, host: str) -> None:
    """Without an endpoint override (the portal and OIDC still on the emulator), both sign for the
    same STS host; the emulator's authenticator verifies either."""
    sso_emulator.write_config(HELPER_PROFILE, append=True)
    login()
    frozen = float(int(time.time()))
    env = {"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_SSO": sso_emulator.url,
           "AWS_ENDPOINT_URL_SSO_OIDC": sso_emulator.url}
    theirs = frozen_run(sso_emulator, "aws", "eks", "get-token", "--cluster-name", CLUSTER,
                        "--profile", "dev-cli", "--region", region, frozen=frozen, **env)
    ours = [frozen_run(sso_emulator, "ours", "eks-token", "--cluster-name", CLUSTER, "--profile", "dev",
                       "--region", region, frozen=frozen, **env) for _ in range(2)]
    assert theirs.returncode == 0, theirs.stderr
    assert [result.stdout for result in ours] == [theirs.stdout] * 2, [result.stderr for result in ours]
    token = json.loads(theirs.stdout)["status"]["token"]
    assert urllib.parse.urlsplit(url_of(token)).netloc == host
    assert review(sso_emulator, token)["authenticated"] is True


@requires("awscli")
@pytest.mark.parametrize("exec_info", [None, json.dumps({"apiVersion": V1}),
                                       json.dumps({"apiVersion": V1BETA1}),
                                       '{"apiVersion": "client.authentication.k8s.io/v1alpha1"}',
                                       '{"apiVersion": "client.authentication.k8s.io/v2"}', "not json",
                                       '["a list"]'])
def test_the_api_version_and_notes_of_the_aws_cli(sso_emulator: Any, exec_info: str | None) -> None:
    login()
    env = {} if exec_info is None else {"KUBERNETES_EXEC_INFO": exec_info}
    theirs = frozen_run(sso_emulator, "aws", "eks", "get-token", "--cluster-name", CLUSTER,
                        "--profile", "dev", frozen=time.time(), **env)
    ours = eks_token(sso_emulator, "--profile", "dev", **env)
    if exec_info == '["a list"]':  # the AWS CLI fails with a traceback here; a list asks for nothing
        assert theirs.returncode != 0
        assert exec_credential(ours)["apiVersion"] == V1BETA1
        return
    assert exec_credential(ours)["apiVersion"] == exec_credential(theirs)["apiVersion"]
    assert ours.stderr == theirs.stderr


def test_warm_answers_come_from_the_cache_without_botocore(sso_emulator: Any) -> None:
    login()
    first = exec_credential(eks_token(sso_emulator, "--profile", "dev"))  # fills the role cache
    calls = sso_emulator.calls()["operations"]
    code = ("import sys; from boto_sso_oidc_provider.cli import main; code = main(['eks-token', "
            f"'--cluster-name', '{CLUSTER}', '--profile', 'dev']); "
            "print(sorted(m for m in ('botocore', 'boto3', 'hashlib') if m in sys.modules), "
            "file=sys.stderr); sys.exit(code)")
    warm = subprocess.run([sys.executable, "-c", code], env=subprocess_env(sso_emulator), capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert warm.returncode == 0 and warm.stderr.strip() == "[]", warm.stderr
    assert json.loads(warm.stdout) == first  # the same token, reused
    assert sso_emulator.calls()["operations"] == calls
    [entry] = cache_entries(sso_emulator.home)
    assert entry.stat().st_mode & 0o777 == 0o600
    data = json.loads(entry.read_text())
    assert set(data) == {"token", "expirationTimestamp", "cluster", "roleArn", "endpoint", "signingRegion",
                         "accessKeyId", "sourceAccessKeyId"}
    [role_file] = role_cache_files(sso_emulator.home)
    secret = json.loads(role_file.read_text())["Credentials"]["SecretAccessKey"]
    assert secret not in entry.read_text()


def test_a_token_near_its_end_is_signed_anew_on_the_warm_path(sso_emulator: Any) -> None:
    login()
    first = exec_credential(eks_token(sso_emulator, "--profile", "dev"))
    [entry] = cache_entries(sso_emulator.home)
    data = json.loads(entry.read_text())
    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 4 * 60))  # < 5 minutes left
    entry.write_text(json.dumps({**data, "expirationTimestamp": soon}))
    calls = sso_emulator.calls()["operations"]
    time.sleep(1.1)  # a new second: a new X-Amz-Date
    second = exec_credential(eks_token(sso_emulator, "--profile", "dev"))
    assert second["status"]["token"] != first["status"]["token"]
    assert second["status"]["expirationTimestamp"] > first["status"]["expirationTimestamp"]
    assert sso_emulator.calls()["operations"] == calls  # no call: the cached credentials signed it
    assert review(sso_emulator, second["status"]["token"])["authenticated"] is True
    assert json.loads(entry.read_text())["token"] == second["status"]["token"]


def test_a_token_signed_with_other_credentials_is_not_reused(sso_emulator: Any) -> None:
    login()
    first = exec_credential(eks_token(sso_emulator, "--profile", "dev"))
    for path in role_cache_files(sso_emulator.home):
        path.unlink()  # as logout, or new credentials from another tool
    second = exec_credential(eks_token(sso_emulator, "--profile", "dev"))
    assert sso_emulator.calls()["operations"]["GetRoleCredentials"] == 2
    assert second["status"]["token"] != first["status"]["token"]
    assert review(sso_emulator, second["status"]["token"])["authenticated"] is True


def test_role_arn_assumes_the_role_once_and_reuses_its_token(sso_emulator: Any) -> None:
    login()
    role = "arn:aws:iam::222222222222:role/Deployer"
    first = exec_credential(eks_token(sso_emulator, "--profile", "dev", "--role-arn", role))
    again = exec_credential(eks_token(sso_emulator, "--profile", "dev", "--role", role))
    assert again == first
    assert sso_emulator.calls()["operations"]["AssumeRole"] == 1
    user = review(sso_emulator, first["status"]["token"])["user"]
    assert user["username"] == "arn:aws:sts::222222222222:assumed-role/Deployer/EKSGetTokenAuth"
    plain = exec_credential(eks_token(sso_emulator, "--profile", "dev"))  # another cache entry
    assert "AWSReservedSSO" in review(sso_emulator, plain["status"]["token"])["user"]["username"]


def test_without_a_login_one_line_naming_the_login_command(sso_emulator: Any) -> None:
    result = eks_token(sso_emulator, "--profile", "dev")
    assert result.returncode == 1 and result.stdout == ""
    line = one_line(result.stderr)
    assert line.startswith("boto-sso-oidc eks-token: ") and "boto-sso-oidc login --profile dev" in line


def test_usage_errors(sso_emulator: Any) -> None:
    neither = run_cli(sso_emulator, "eks-token", "--profile", "dev")
    assert neither.returncode == 2 and neither.stdout == ""
    assert neither.stderr.strip() == "Either parameter --cluster-name or --cluster-id must be specified."
    both = run_cli(sso_emulator, "eks-token", "--cluster-name", "a", "--cluster-id", "b")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    unknown = run_cli(sso_emulator, "eks-token", "--cluster-name", "a", "--output", "jsn")
    assert unknown.returncode == 2 and "invalid choice: 'jsn'" in unknown.stderr
    # the AWS CLI's formats for people: accepted by the parser, refused in one line
    for output in ("table", "yaml", "yaml-stream"):
        refused = run_cli(sso_emulator, "eks-token", "--cluster-name", "a", "--output", output)
        assert refused.returncode == 2 and refused.stdout == ""
        assert one_line(refused.stderr) == (f"boto-sso-oidc eks-token: --output {output}: eks-token prints "
                                            f"json (what kubectl reads) or text; for {output}, run aws eks "
                                            "get-token")


@requires("awscli")
@pytest.mark.parametrize("output", ["json", "text"])
def test_output_json_and_text_as_the_aws_cli_prints_them(sso_emulator: Any, output: str) -> None:
    sso_emulator.write_config(HELPER_PROFILE, append=True)
    login()
    frozen = float(int(time.time()))
    theirs = frozen_run(sso_emulator, "aws", "eks", "get-token", "--cluster-name", CLUSTER, "--profile",
                        "dev-cli", "--output", output, frozen=frozen)
    assert theirs.returncode == 0, theirs.stderr
    for _ in range(2):  # the full path, then the warm path
        ours = frozen_run(sso_emulator, "ours", "eks-token", "--cluster-name", CLUSTER, "--profile", "dev",
                          "--output", output, frozen=frozen)
        assert ours.returncode == 0, ours.stderr
        assert ours.stdout == theirs.stdout
    if output == "text":
        assert theirs.stdout.startswith(f"{V1BETA1}\tExecCredential\nSTATUS\t")


# -- credentials from the environment, as the AWS CLI's chain takes them ----------------------------

def _environment_credentials(emulator: Any) -> dict[str, str]:
    """Credentials of another identity (Deployer, assumed with the SSO role's) as variables."""
    import boto3

    from boto_sso_oidc_provider.sessions import role_credentials_manager

    role = role_credentials_manager("dev").get()
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id=role.access_key_id,
                       aws_secret_access_key=role.secret_access_key, aws_session_token=role.session_token)
    assumed = sts.assume_role(RoleArn="arn:aws:iam::222222222222:role/Deployer",
                              RoleSessionName="from-env")["Credentials"]
    return {"AWS_ACCESS_KEY_ID": assumed["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": assumed["SecretAccessKey"],
            "AWS_SESSION_TOKEN": assumed["SessionToken"]}


@requires("awscli")
def test_environment_credentials_sign_when_the_aws_cli_would_use_them(sso_emulator: Any) -> None:
    """``AWS_PROFILE`` names the profile (as ``aws eks update-kubeconfig`` writes it) and
    ``AWS_ACCESS_KEY_ID`` is set: the AWS CLI's chain signs with the environment's credentials,
    and so does eks-token, byte for byte, caching nothing and calling nothing."""
    login()
    env = {"AWS_PROFILE": "dev", **_environment_credentials(sso_emulator)}
    frozen = float(int(time.time()))
    theirs = frozen_run(sso_emulator, "aws", "eks", "get-token", "--cluster-name", CLUSTER, frozen=frozen,
                        **env)
    assert theirs.returncode == 0, theirs.stderr
    calls = sso_emulator.calls()["operations"]
    for _ in range(2):
        ours = frozen_run(sso_emulator, "ours", "eks-token", "--cluster-name", CLUSTER, frozen=frozen, **env)
        assert ours.returncode == 0, ours.stderr
        assert ours.stdout == theirs.stdout
    assert sso_emulator.calls()["operations"] == calls
    assert cache_entries(sso_emulator.home) == []
    user = review(sso_emulator, json.loads(ours.stdout)["status"]["token"])["user"]
    assert user["username"] == "arn:aws:sts::222222222222:assumed-role/Deployer/from-env"


@requires("awscli")
def test_an_explicit_profile_takes_the_environment_out_of_the_chain(sso_emulator: Any) -> None:
    login()
    env = _environment_credentials(sso_emulator)
    theirs = frozen_run(sso_emulator, "aws", "eks", "get-token", "--cluster-name", CLUSTER,
                        "--profile", "dev", frozen=time.time(), **env)
    ours = eks_token(sso_emulator, "--profile", "dev", **env)
    for result in (theirs, ours):
        user = review(sso_emulator, exec_credential(result)["status"]["token"])["user"]
        assert "assumed-role/AWSReservedSSO_" in user["username"], user


@requires("awscli")
def test_partial_environment_credentials_fail_as_in_the_aws_cli(sso_emulator: Any) -> None:
    login()
    theirs = frozen_run(sso_emulator, "aws", "eks", "get-token", "--cluster-name", CLUSTER,
                        frozen=time.time(), AWS_PROFILE="dev", AWS_ACCESS_KEY_ID="AKIAONLYTHEID")
    ours = eks_token(sso_emulator, AWS_PROFILE="dev", AWS_ACCESS_KEY_ID="AKIAONLYTHEID")
    message = "Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY"
    assert theirs.returncode != 0 and message in theirs.stderr
    assert ours.returncode == 1 and ours.stdout == ""
    assert one_line(ours.stderr) == f"boto-sso-oidc eks-token: {message}"
