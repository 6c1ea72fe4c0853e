"""Real kubectl against the fake EKS cluster endpoint, tokens verified by the emulator's authenticator.

The exec plugin here is the AWS CLI v1's ``aws eks get-token`` on the emulator's SSO profile, as
``aws eks update-kubeconfig`` writes it: the reference the package's own ``eks-token`` is held to.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .cli_helpers import console_script, login, role_cache_files
from .conftest import age_token, requires, subprocess_env, token_file
from .kube_helpers import CLUSTER, kube_api, kubeconfig, kubectl_path, requires_kubectl, run_kubectl

__all__ = ["kube_api"]  # the fixture, used by name

pytestmark = [requires_kubectl()]

API_VERSIONS = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]


def aws_cli_config(api: Any, tmp_path: Path, api_version: str) -> Path:
    config = tmp_path / "kubeconfig"
    config.write_text(kubeconfig(
        api, api.certificate, command=sys.executable,
        args=["-m", "awscli", "--region", "us-east-1", "eks", "get-token", "--cluster-name", CLUSTER,
              "--output", "json"],
        api_version=api_version, env={"AWS_PROFILE": "dev"}))
    return config


@requires("awscli")
@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_kubectl_with_the_aws_cli_exec_plugin(sso_emulator: Any, kube_api: Any, tmp_path: Path,
                                              api_version: str) -> None:
    login()
    config = aws_cli_config(kube_api, tmp_path, api_version)
    version = run_kubectl(sso_emulator, config, "get", "--raw", "/version")
    assert version.returncode == 0, version.stderr
    assert json.loads(version.stdout)["gitVersion"] == "v1.33.0-eks-emulator"
    pods = run_kubectl(sso_emulator, config, "get", "pods", "-o", "name")
    assert pods.returncode == 0, pods.stderr
    assert pods.stdout.split() == ["pod/api-7d4b9c6f5-x2x9k", "pod/worker-5f6d8b7c9-k8s2p"]
    assert kube_api.users and all(user is not None and "AWSReservedSSO_AdministratorAccess" in user
                                  for user in kube_api.users)
    assert sso_emulator.calls()["operations"]["TokenReview"] == len(kube_api.users)


def test_kubectl_is_refused_without_a_valid_token(sso_emulator: Any, kube_api: Any, tmp_path: Path) -> None:
    login()
    config = tmp_path / "kubeconfig"
    config.write_text(kubeconfig(kube_api, kube_api.certificate, command=sys.executable,
                                 args=["-c", "import json; print(json.dumps({'kind': 'ExecCredential', "
                                       "'apiVersion': 'client.authentication.k8s.io/v1beta1', "
                                       "'status': {'token': 'k8s-aws-v1.aHR0cHM6Ly9leGFtcGxlLmNvbS8'}}))"]))
    result = run_kubectl(sso_emulator, config, "get", "--raw", "/version")
    assert result.returncode != 0
    assert "Unauthorized" in result.stderr or "must be logged in" in result.stderr, result.stderr
    assert kube_api.users and set(kube_api.users) == {None}


def eks_token_config(api: Any, tmp_path: Path, api_version: str) -> Path:
    """The stanza the docs give for writing by hand: the installed console script, AWS_PROFILE."""
    script = console_script()
    if script is None:
        pytest.skip("the boto-sso-oidc console script is not installed (pip install -e .)")
    config = tmp_path / "kubeconfig"
    config.write_text(kubeconfig(api, api.certificate, command=str(script),
                                 args=["--region", "us-east-1", "eks-token", "--cluster-name", CLUSTER],
                                 api_version=api_version, env={"AWS_PROFILE": "dev"}))
    return config


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_kubectl_with_eks_token(sso_emulator: Any, kube_api: Any, tmp_path: Path, api_version: str) -> None:
    login()
    config = eks_token_config(kube_api, tmp_path, api_version)
    version = run_kubectl(sso_emulator, config, "get", "--raw", "/version")
    assert version.returncode == 0, version.stderr
    assert json.loads(version.stdout)["gitVersion"] == "v1.33.0-eks-emulator"
    pods = run_kubectl(sso_emulator, config, "get", "pods", "-o", "name")
    assert pods.returncode == 0, pods.stderr
    assert pods.stdout.split() == ["pod/api-7d4b9c6f5-x2x9k", "pod/worker-5f6d8b7c9-k8s2p"]
    namespaces = run_kubectl(sso_emulator, config, "get", "namespaces")
    assert namespaces.returncode == 0 and "kube-system" in namespaces.stdout, namespaces.stderr
    assert kube_api.users and all(user is not None and "AWSReservedSSO_AdministratorAccess" in user
                                  for user in kube_api.users)
    calls = sso_emulator.calls()["operations"]
    assert calls["TokenReview"] == len(kube_api.users) and calls["GetRoleCredentials"] == 1


def test_24_kubectl_at_once_on_an_expired_sso_token(sso_emulator: Any, kube_api: Any, tmp_path: Path) -> None:
    """One refresh, one GetRoleCredentials, 24 answers: the exec plugins wait for each other."""
    login()
    age_token(token_file(sso_emulator.home, "emulator"))
    assert role_cache_files(sso_emulator.home) == []
    config = eks_token_config(kube_api, tmp_path, API_VERSIONS[0])
    kubectl = kubectl_path()
    assert kubectl is not None
    env = subprocess_env(sso_emulator)
    env.pop("AWS_PROFILE", None)
    processes = [subprocess.Popen([str(kubectl), "--kubeconfig", str(config), "--request-timeout", "120s",
                                   "get", "--raw", "/version"], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                                  start_new_session=True) for _ in range(24)]
    results = [(process.wait(timeout=240), *process.communicate()) for process in processes]
    assert [code for code, _, _ in results] == [0] * 24, [err for _, _, err in results if err]
    assert all(json.loads(out)["gitVersion"] == "v1.33.0-eks-emulator" for _, out, _ in results)
    calls = sso_emulator.calls()
    assert calls["grants"]["refresh_token"] == 1
    assert calls["operations"]["GetRoleCredentials"] == 1
    assert len([user for user in kube_api.users if user is not None]) == 24


@requires("yaml")
def test_the_documented_stanza_as_written(sso_emulator: Any, kube_api: Any, tmp_path: Path) -> None:
    """docs/cli.md's kubeconfig user, as written (``command: boto-sso-oidc`` found on PATH)."""
    import base64
    import os
    import re

    import yaml

    from .conftest import REPO

    page = (REPO / "docs" / "cli.md").read_text()
    [block] = re.findall(r"```yaml\n(.*?)```", page, re.DOTALL)
    user = yaml.safe_load(block)["users"][0]
    assert user["user"]["exec"]["args"][-1] == CLUSTER
    login()
    config = tmp_path / "kubeconfig"
    config.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "users": [user],
        "clusters": [{"name": CLUSTER, "cluster": {"server": kube_api.url, "certificate-authority-data":
                                                   base64.b64encode(kube_api.certificate.read_bytes()).decode()}}],
        "contexts": [{"name": CLUSTER, "context": {"cluster": CLUSTER, "user": user["name"]}}],
        "current-context": CLUSTER}))
    script = console_script()
    assert script is not None
    result = run_kubectl(sso_emulator, config, "get", "--raw", "/version",
                         PATH=f"{script.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    assert result.returncode == 0, result.stderr
    assert kube_api.users and all(kube_api.users)
