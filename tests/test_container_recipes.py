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
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .cli_helpers import CLI, login, run_cli
from .conftest import REPO, subprocess_env
from .endpoint_helpers import FULL_URI, TOKEN, javascript_sdk
from .netns_helpers import FORWARDER, namespaces, needs_namespaces

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
        # The endpoint's variables (1 with --imds, else 2), then the profile's region (2).
        lines = [proc.stdout.readline() for _ in range((1 if "--imds" in args else 2) + 2)]
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
    with namespaces("host", "app") as (host, app):
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
    with namespaces("pod") as (pod,), _serve_in(pod, emulator) as variables:
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


# -- instance metadata: Docker Desktop, devcontainers, Podman, WSL2 ---------------------------------

IMDS_FETCH = """
import os
from botocore.utils import InstanceMetadataFetcher
endpoint = os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"]  # botocore's own IMDS fetcher, 2 attempts
found = InstanceMetadataFetcher(num_attempts=2, config={"ec2_metadata_service_endpoint": endpoint})
print(found.retrieve_iam_role_credentials().get("access_key", "no credentials"))
"""
JS_IMDS_FETCH = """
const { fromInstanceMetadata } = require("@aws-sdk/credential-providers");
fromInstanceMetadata({ maxRetries: 1 })().then((c) => console.log(c.accessKeyId),
                                              (e) => console.log("no credentials", e.name));
"""


def _imds_fetch_in(namespace: str, emulator, endpoint: str, *, node: bool = False) -> str:
    env = subprocess_env(emulator, AWS_EC2_METADATA_SERVICE_ENDPOINT=endpoint)
    env.pop("AWS_PROFILE")
    env.pop("AWS_EC2_METADATA_DISABLED")
    if node:
        env["NODE_PATH"] = str(javascript_sdk())
        command = ["node", "-e", JS_IMDS_FETCH]
    else:
        command = [sys.executable, "-c", IMDS_FETCH]
    result = subprocess.run(["ip", "netns", "exec", namespace, *command], env=env, capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=REPO)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@contextlib.contextmanager
def _host_name(namespace: str, name: str, address: str) -> Iterator[None]:
    """``name`` resolves to ``address`` inside ``namespace`` (``ip netns exec`` bind-mounts
    /etc/netns/NAMESPACE/hosts over /etc/hosts), as Docker Desktop and Podman give containers
    host.docker.internal and host.containers.internal."""
    directory = Path("/etc/netns") / namespace
    directory.mkdir(parents=True)
    try:
        (directory / "hosts").write_text(f"127.0.0.1 localhost\n{address} {name}\n")
        yield
    finally:
        shutil.rmtree(directory)


def _bridge(host: str, app: str, subnet: str, suffix: str) -> tuple[str, str]:
    """A veth pair as a container bridge: the host at .1, the app at .2, routing through the host."""
    host_address, app_address = f"{subnet}.1", f"{subnet}.2"
    _ip(host, "link", "add", f"bso-h{suffix}", "type", "veth", "peer", "name", f"bso-a{suffix}", "netns", app)
    _ip(host, "addr", "add", f"{host_address}/24", "dev", f"bso-h{suffix}")
    _ip(host, "link", "set", f"bso-h{suffix}", "up")
    _ip(app, "addr", "add", f"{app_address}/24", "dev", f"bso-a{suffix}")
    _ip(app, "link", "set", f"bso-a{suffix}", "up")
    _ip(app, "route", "add", "default", "via", host_address)
    return host_address, app_address


@needs_namespaces
def test_docker_desktop_and_devcontainers_reach_serve_imds_as_host_docker_internal(warm_cache):
    """The host listens on its bridge address for the app's network only (--allow); the app names it
    host.docker.internal. A third network, routed to the host too, is refused."""
    emulator, key = warm_cache
    with namespaces("host", "app", "other") as (host, app, other):
        gateway, _ = _bridge(host, app, "172.31.0", "0")
        _bridge(host, other, "172.31.1", "1")
        with _host_name(app, "host.docker.internal", gateway), \
                _serve_in(host, emulator, "--imds", "--host", "0.0.0.0", "--allow", "172.31.0.0/24",
                          "--url-host", "host.docker.internal") as variables:
            endpoint = variables["AWS_EC2_METADATA_SERVICE_ENDPOINT"]
            assert endpoint == f"http://host.docker.internal:{PORT}/"
            assert _imds_fetch_in(app, emulator, endpoint) == key
            if shutil.which("node"):
                assert _imds_fetch_in(app, emulator, endpoint, node=True) == key
            # WSL2 (NAT) reaches the Windows host at its default gateway: the same, by address.
            assert _imds_fetch_in(app, emulator, f"http://{gateway}:{PORT}/") == key
            # Outside the allowed network: 403 before the request is read, no credentials.
            assert _imds_fetch_in(other, emulator, f"http://172.31.1.1:{PORT}/") == "no credentials"


@needs_namespaces
def test_podman_and_wsl2_host_loopback_forwarding_reach_serve_imds_on_loopback(warm_cache):
    """Rootless Podman (pasta, slirp4netns), Docker Desktop's proxies and WSL2's localhost forwarding
    hand a container's connections to the host's loopback: serve stays on 127.0.0.1 (no --allow
    needed), told the name the container uses (--url-host: any other name in Host is refused);
    a forwarder on the host's bridge address stands in for theirs."""
    emulator, key = warm_cache
    with namespaces("host", "app") as (host, app):
        gateway, _ = _bridge(host, app, "172.31.2", "2")
        with _host_name(app, "host.containers.internal", gateway), \
                _serve_in(host, emulator, "--imds", "--url-host", "host.containers.internal") as variables:
            served = variables["AWS_EC2_METADATA_SERVICE_ENDPOINT"]
            assert served == f"http://host.containers.internal:{PORT}/"
            forwarder = subprocess.Popen(["ip", "netns", "exec", host, sys.executable, "-c", FORWARDER,
                                          gateway, "9912", "127.0.0.1", PORT],
                                         stdout=subprocess.PIPE, text=True)
            try:
                assert forwarder.stdout is not None and forwarder.stdout.readline().strip() == "ready"
                endpoint = "http://host.containers.internal:9912/"
                assert _imds_fetch_in(app, emulator, endpoint) == key
                if shutil.which("node"):
                    assert _imds_fetch_in(app, emulator, endpoint, node=True) == key
                # Without the forwarder the app cannot reach the host's loopback at all.
                assert _imds_fetch_in(app, emulator, f"http://{gateway}:{PORT}/") == "no credentials"
            finally:
                forwarder.kill()
                forwarder.wait()
