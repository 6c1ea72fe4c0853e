"""A company network on one machine: a real TLS-inspecting proxy (mitmproxy) before the emulator.

``intercepting_proxy`` (one per test session and worker) runs ``mitmdump`` with the addon in
``corporate_proxy_addon.py`` and a root CA made for it, named like a company's
(:data:`ROOT_CA_NAME`); ``corporate_network`` (per test) points it at the test's emulator and
puts the test in a laptop's place: no endpoint overrides, ``HTTPS_PROXY``/``HTTP_PROXY`` set to
the proxy and ``NO_PROXY`` to the loopback names, so the package's calls go to the real AWS host
names (:data:`AWS_HOSTS`, and the vanity start URL's :data:`VANITY_HOST`) through the proxy,
which shows certificates of its own CA and hands the requests to the emulator. Nothing trusts
that CA unless a test says so (``ca_bundle``, ``AWS_CA_BUNDLE``, ``SSL_CERT_FILE``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from boto_sso_oidc_provider.emulator import SSOEmulator

ROOT_CA_NAME = "Example Corp TLS Inspection Root CA"
"""The common name of the proxy's root: what a person behind Zscaler sees as "Zscaler Root CA"."""
VANITY_HOST = "sso.corp.example"
VANITY_START_URL = f"https://{VANITY_HOST}/start"
"""A company's vanity start URL (``.example`` is reserved: it can never be a real host)."""
OIDC_HOST = "oidc.us-east-1.amazonaws.com"
PORTAL_HOST = "portal.sso.us-east-1.amazonaws.com"
STS_HOST = "sts.us-east-1.amazonaws.com"
SIGNIN_HOST = "signin.aws.amazon.com"
AWS_HOSTS = (OIDC_HOST, PORTAL_HOST, STS_HOST, SIGNIN_HOST)
LOOPBACK = "127.0.0.1,localhost,::1"
ADDON = Path(__file__).with_name("corporate_proxy_addon.py")
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSO_OIDC", "AWS_ENDPOINT_URL_SSO",
                      "AWS_ENDPOINT_URL_STS", "BOTO_SSO_OIDC_FEDERATION_ENDPOINT")
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy",
                   "ALL_PROXY", "all_proxy")


@dataclass
class InterceptingProxy:
    """A running mitmdump: its URL, its root CA's certificate and the file that steers it."""

    url: str
    ca: Path
    network_file: Path
    process: subprocess.Popen[bytes]

    def steer(self, **network: Any) -> None:
        """Where the proxy sends what (see ``corporate_proxy_addon.py``), from the next request."""
        temporary = self.network_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(network))
        os.replace(temporary, self.network_file)


def _mitmdump(confdir: Path, port_file: Path, network_file: Path, log: Path) \
        -> subprocess.Popen[bytes]:
    env = {name: value for name, value in os.environ.items() if name not in PROXY_VARIABLES}
    command = [sys.executable, "-c", "from mitmproxy.tools.main import mitmdump; mitmdump()",
               "--listen-host", "127.0.0.1", "--listen-port", "0", "--quiet",
               "--set", f"confdir={confdir}",
               # No real host is there: never connect upstream before the addon has routed the
               # request, and make the client's certificate from the name it asked for.
               "--set", "connection_strategy=lazy", "--set", "upstream_cert=false",
               "--set", "http2=false",
               "-s", str(ADDON), "--set", f"port_file={port_file}",
               "--set", f"network_file={network_file}"]
    with open(log, "wb") as output:
        return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def intercepting_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InterceptingProxy]:
    """mitmproxy as a company's TLS-inspecting proxy, with a root CA named like a company's."""
    pytest.importorskip("mitmproxy", reason="mitmproxy is not installed (pip install -e '.[test]')")
    pytest.importorskip("cryptography", reason="cryptography is not installed")
    from boto_sso_oidc_provider.emulator._tls import make_throwaway_ca

    where = tmp_path_factory.mktemp("corporate-proxy")
    confdir = where / "confdir"
    confdir.mkdir(mode=0o700)
    files = make_throwaway_ca(where, ["proxy.invalid"], ca_name=ROOT_CA_NAME, keep_ca_key=True)
    assert files.ca_key is not None
    # mitmproxy's CA file: the key, then the certificate.
    (confdir / "mitmproxy-ca.pem").write_bytes(files.ca_key.read_bytes() + files.ca.read_bytes())
    port_file, network_file = where / "port", where / "network.json"
    process = _mitmdump(confdir, port_file, network_file, where / "mitmdump.log")
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("mitmdump did not start:\n"
                                   + (where / "mitmdump.log").read_text(errors="replace"))
            time.sleep(0.05)
        yield InterceptingProxy(f"http://127.0.0.1:{port_file.read_text()}", files.ca,
                                network_file, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class CorporateNetwork:
    """The test's emulator behind the proxy, and a laptop's environment to reach it."""

    proxy: InterceptingProxy
    emulator: SSOEmulator
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    """What the fixture set in this process's environment, ready for a child's."""

    @property
    def ca(self) -> Path:
        """The proxy's root CA certificate: what a company puts in its laptops' trust stores."""
        return self.proxy.ca

    def requests(self) -> list[dict[str, Any]]:
        """What reached the proxy so far, in order (CONNECTs and requests)."""
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def hosts(self) -> set[str]:
        """The host names whose requests the proxy handed to the emulator."""
        return {entry["host"] for entry in self.requests() if entry.get("routed")}

    def refuse(self, status: int) -> None:
        """From now on, answer every CONNECT with ``status`` (407: authentication required)."""
        self.proxy.steer(**self._network(), refuse=status)

    def _network(self) -> dict[str, Any]:
        return {"emulator": f"127.0.0.1:{self.emulator.server.port}",
                "routed_hosts": [*AWS_HOSTS, VANITY_HOST], "log_file": str(self.log)}


@pytest.fixture
def corporate_network(sso_emulator: SSOEmulator, intercepting_proxy: InterceptingProxy,
                      monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CorporateNetwork:
    """``sso_emulator`` reached only through the intercepting proxy under the real AWS host names."""
    network = CorporateNetwork(intercepting_proxy, sso_emulator, tmp_path / "proxy-requests.jsonl")
    intercepting_proxy.steer(**network._network())
    for name in (*ENDPOINT_VARIABLES, *PROXY_VARIABLES, "SSL_CERT_FILE", "SSL_CERT_DIR",
                 "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
        sso_emulator.env.pop(name, None)
    network.env = {"HTTPS_PROXY": intercepting_proxy.url, "HTTP_PROXY": intercepting_proxy.url,
                   "NO_PROXY": LOOPBACK}
    for name, value in network.env.items():
        monkeypatch.setenv(name, value)
    sso_emulator.env.update(network.env)
    return network
