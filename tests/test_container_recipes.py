"""What the README's container recipes claim, checked with real network namespaces and real SDKs.

A container is a process in its own network namespace. These tests build
such namespaces (root and iproute2 needed; skipped otherwise; nothing is
changed outside them): a "host" and an "app" joined by a veth pair, the app
routing through the host as a container on a Docker bridge does, and a
single namespace shared by a sidecar and its app. ``serve`` runs in one,
botocore and the JS SDK in the other. The role-credential cache is filled
first, so ``serve`` needs no network of its own. Which URLs the SDKs refuse
over plain http needs no namespace at all.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

from .cli_helpers import CLI, login, run_cli
from .conftest import REPO, subprocess_env
from .endpoint_helpers import FULL_URI, TOKEN, javascript_sdk

PORT = "9911"
BOTOCORE_FETCH = """
import os, sys
from botocore.credentials import ContainerProvider
from botocore.utils import ContainerMetadataFetcher
for url in sys.argv[1:] or [os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]]:
    os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = url
    try:  # botocore's own fetcher, without the sleeps between its retries
        fetcher = ContainerMetadataFetcher(sleep=lambda seconds: None)
        print(ContainerProvider(fetcher=fetcher).load().get_frozen_credentials().access_key)
    except Exception as error:
        print(type(error).__name__, error)
"""
JS_FETCH = """
const { fromHttp } = require("@aws-sdk/credential-provider-http");
(async () => {
  for (const url of process.argv.slice(1).length ? process.argv.slice(1)
                                                  : [process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI]) {
    try {  // fromHttp checks the URL as it is created, the rest when called
      console.log((await fromHttp({ awsContainerCredentialsFullUri: url, maxRetries: 0 })()).accessKeyId);
    } catch (error) {
      console.log(error.name, String(error.message).split("\\n")[0]);
    }
  }
})();
"""


def _can_make_namespaces() -> bool:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return False
    name = f"bsotest{secrets.token_hex(3)}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode == 0
    if made:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return made


needs_namespaces = pytest.mark.skipif(not _can_make_namespaces(),
                                      reason="needs root and iproute2 to make network namespaces")


@contextlib.contextmanager
def _namespaces(*names: str) -> Iterator[list[str]]:
    made = [f"bso{name}{secrets.token_hex(3)}" for name in names]
    try:
        for name in made:
            subprocess.run(["ip", "netns", "add", name], check=True)
            subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield made
    finally:
        for name in made:
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


def _ip(namespace: str, *args: str) -> None:
    subprocess.run(["ip", "-n", namespace, *args], check=True)


@contextlib.contextmanager
def _serve_in(namespace: str, emulator, *args: str) -> Iterator[dict[str, str]]:
    proc = subprocess.Popen(["ip", "netns", "exec", namespace, *CLI, "serve", "--profile", "dev",
                             "--format", "dotenv", "--port", PORT, *args],
                            env=subprocess_env(emulator), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(2)]
        assert all(lines), proc.communicate(timeout=30)
        yield dict(line.strip().split("=", 1) for line in lines)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def _fetch_in(namespace: str, emulator, variables: dict[str, str], *, node: bool = False) -> str:
    env = subprocess_env(emulator, **variables)
    env.pop("AWS_PROFILE")
    if node:
        env["NODE_PATH"] = str(javascript_sdk())
        command = ["node", "-e", JS_FETCH]
    else:
        command = [sys.executable, "-c", BOTOCORE_FETCH]
    result = subprocess.run(["ip", "netns", "exec", namespace, *command], env=env, capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=REPO)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def warm_cache(sso_emulator) -> tuple[object, str]:
    login()
    result = run_cli(sso_emulator, "credential-process", "--profile", "dev")
    return sso_emulator, json.loads(result.stdout)["AccessKeyId"]


@needs_namespaces
def test_a_container_on_a_bridge_reaches_serve_on_169_254_170_2_of_the_host(warm_cache):
    emulator, key = warm_cache
    with _namespaces("host", "app") as (host, app):
        _ip(host, "link", "add", "bso-h", "type", "veth", "peer", "name", "bso-a", "netns", app)
        _ip(host, "addr", "add", "172.31.0.1/24", "dev", "bso-h")
        _ip(host, "link", "set", "bso-h", "up")
        _ip(app, "addr", "add", "172.31.0.2/24", "dev", "bso-a")
        _ip(app, "link", "set", "bso-a", "up")
        _ip(app, "route", "add", "default", "via", "172.31.0.1")  # as a container's, via the bridge
        _ip(host, "addr", "add", "169.254.170.2/32", "dev", "lo")  # the README's `ip addr add`
        with _serve_in(host, emulator, "--host", "169.254.170.2") as variables:
            assert variables[FULL_URI] == f"http://169.254.170.2:{PORT}/role-credentials"
            assert _fetch_in(app, emulator, variables) == key
            if shutil.which("node"):
                assert _fetch_in(app, emulator, variables, node=True) == key
            # What does not work: the app's 127.0.0.1 is its own, not the host's.
            loopback = {**variables, FULL_URI: f"http://127.0.0.1:{PORT}/role-credentials"}
            assert _fetch_in(app, emulator, loopback).startswith("CredentialRetrievalError")
            # ... and the host's ordinary address on the bridge is refused by the SDK itself.
            bridge = {**variables, FULL_URI: f"http://172.31.0.1:{PORT}/role-credentials"}
            assert "Unsupported host '172.31.0.1'" in _fetch_in(app, emulator, bridge)


@needs_namespaces
def test_a_sidecar_sharing_the_app_network_namespace_serves_on_loopback(warm_cache):
    emulator, key = warm_cache
    with _namespaces("pod") as (pod,), _serve_in(pod, emulator) as variables:
        assert variables[FULL_URI].startswith("http://127.0.0.1:")
        assert _fetch_in(pod, emulator, variables) == key
        if shutil.which("node"):
            assert _fetch_in(pod, emulator, variables, node=True) == key


REFUSED = ["http://172.17.0.1:9911/role-credentials", "http://host.docker.internal:9911/role-credentials",
           "http://creds:9911/role-credentials", "http://192.168.1.20:9911/role-credentials"]


def test_the_sdks_refuse_other_hosts_over_plain_http(sso_emulator):
    """The Docker bridge's gateway, host.docker.internal, a compose service name, a LAN address."""
    env = subprocess_env(sso_emulator, **{FULL_URI: REFUSED[0], TOKEN: "token"})
    env.pop("AWS_PROFILE")
    botocore = subprocess.run([sys.executable, "-c", BOTOCORE_FETCH, *REFUSED], env=env, capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=REPO)
    lines = botocore.stdout.splitlines()
    assert len(lines) == len(REFUSED)
    assert all(line.startswith("ValueError Unsupported host") for line in lines)
    if shutil.which("node"):
        env["NODE_PATH"] = str(javascript_sdk())
        node = subprocess.run(["node", "-e", JS_FETCH, *REFUSED], env=env, capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL, cwd=REPO)
        lines = node.stdout.splitlines()
        assert len(lines) == len(REFUSED) and all("URL not accepted" in line for line in lines), node.stderr
