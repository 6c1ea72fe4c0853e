"""Helpers for the credentials-endpoint tests: ``serve`` as a child process, raw HTTP, the JS SDK."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from .cli_helpers import CLI
from .conftest import REPO, subprocess_env

FULL_URI = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
TOKEN = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
IMDS_ENDPOINT = "AWS_EC2_METADATA_SERVICE_ENDPOINT"


class Served:
    """A running ``boto-sso-oidc serve`` child: its variables, and its stderr once stopped."""

    def __init__(self, proc: subprocess.Popen[str], variables: dict[str, str]) -> None:
        self.proc = proc
        self.variables = variables
        self.url = variables.get(FULL_URI) or variables.get(IMDS_ENDPOINT, "")
        self.token = variables.get(TOKEN, "")
        parts = urlsplit(self.url)
        self.host, self.port, self.path = parts.hostname or "", parts.port or 80, parts.path
        self.stderr = ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        _, self.stderr = self.proc.communicate(timeout=timeout)
        return self.proc.returncode


@contextlib.contextmanager
def serve(emulator: Any, *args: str, lines: int | None = None, profile: str = "dev",
          **extra_env: str) -> Iterator[Served]:
    """``boto-sso-oidc serve --profile PROFILE --format dotenv ARGS`` until the block ends (SIGTERM).

    ``lines``: how many lines of variables it prints (default 1 with ``--imds``, else 2, and the
    two of the region: every profile of these tests has one)."""
    count = lines if lines is not None else (1 if "--imds" in args else 2) + 2
    env = subprocess_env(emulator, **extra_env)
    proc = subprocess.Popen([*CLI, "serve", "--profile", profile, "--format", "dotenv", *args], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, cwd=REPO)
    try:
        assert proc.stdout is not None
        printed = [proc.stdout.readline() for _ in range(count)]
        if not all(printed):
            proc.wait(30)
            raise AssertionError(f"serve did not start ({proc.returncode}): {proc.stderr.read()}")  # type: ignore[union-attr]
        served = Served(proc, dict(line.strip().split("=", 1) for line in printed
                                   if not line.startswith("#")))
        yield served
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)


def sdk_env(emulator: Any, variables: dict[str, str]) -> dict[str, str]:
    """A child's environment as ``exec`` or a user would set it: the endpoint, no profile."""
    env = subprocess_env(emulator, **variables)
    env.pop("AWS_PROFILE", None)
    return env


def get(url: str, token: str | None, *, method: str = "GET", path: str | None = None,
        timeout: float = 30) -> tuple[int, dict[str, Any]]:
    """One request with ``token`` as the Authorization header (none if None): (status, JSON body)."""
    status, body, _ = answer(url, token, method=method, path=path, timeout=timeout)
    return status, body


def answer(url: str, token: str | None, *, method: str = "GET", path: str | None = None,
           timeout: float = 30) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Like :func:`get`, with the response's headers (names lower-cased)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request(method, path or parts.path, headers={"Authorization": token} if token else {})
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, json.loads(response.read() or b"{}"), headers
    finally:
        connection.close()


def raw(host: str, port: int, payload: bytes, *, timeout: float = 30) -> bytes:
    """Send ``payload`` as is and return everything the server answers before it closes."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        with contextlib.suppress(OSError):  # the server may answer (and close) before we finish
            sock.sendall(payload)
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
        return received


def status_of(answer: bytes) -> int:
    line = answer.split(b"\r\n", 1)[0]
    assert line.startswith(b"HTTP/1.1 "), answer[:200]
    return int(line.split()[1])


# -- the AWS SDK for JavaScript v3 ------------------------------------------------------------------

JS_PACKAGES = ("@aws-sdk/client-sts@3", "@aws-sdk/credential-providers@3",
               "@aws-sdk/credential-provider-http@3")


JS_CACHE = REPO / ".pytest_cache" / "aws-sdk-js-v3"
"""Where npm installs the JS SDK for the tests, once per checkout (git ignores it)."""


def javascript_sdk(cache_dir: Path = JS_CACHE) -> Path:
    """``node_modules`` with the JS SDK v3's STS client and container providers, installed from npm
    into ``cache_dir`` once (a file lock keeps parallel test workers from installing twice)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js and npm are not installed: the AWS SDK for JavaScript cannot be tried")
    from filelock import FileLock

    cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    modules = cache_dir / "node_modules"
    with FileLock(str(cache_dir / ".install.lock"), timeout=600):
        if not (modules / "@aws-sdk" / "credential-provider-http").is_dir() \
                or not (modules / "@aws-sdk" / "client-sts").is_dir():
            result = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix",
                 str(cache_dir), *JS_PACKAGES],
                capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
                env={**os.environ, "npm_config_update_notifier": "false"},
            )
            assert result.returncode == 0, f"npm install failed:\n{result.stderr}"
    return modules


JS_CLIENT = r"""
const { fromHttp } = require("@aws-sdk/credential-provider-http");
const { fromContainerMetadata } = require("@aws-sdk/credential-providers");
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");
(async () => {
  const viaHttp = await fromHttp({})();
  const viaContainerMetadata = await fromContainerMetadata()();
  // The default chain, as any program's client has it: no credentials passed.
  const sts = new STSClient({ region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION,
                              endpoint: process.env.AWS_ENDPOINT_URL });
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  const used = await sts.config.credentials();
  console.log(JSON.stringify({ fromHttp: viaHttp.accessKeyId, expiration: viaHttp.expiration,
                               fromContainerMetadata: viaContainerMetadata.accessKeyId,
                               defaultChain: used.accessKeyId, arn: identity.Arn }));
})().catch((error) => {
  console.error(String(error), error.Code || "", error.Message || "");
  process.exit(1);
});
"""
