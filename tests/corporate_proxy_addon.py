"""A mitmproxy addon that makes mitmproxy a company's TLS-inspecting proxy in front of the emulator.

Loaded by ``mitmdump -s`` (see ``corporate_network.py``). Requests for the routed host names (the
real AWS ones: ``oidc.us-east-1.amazonaws.com``, ``portal.sso.us-east-1.amazonaws.com``, ...) go to
the emulator over plain HTTP, with their ``Host`` header kept, so the emulator's SigV4 check sees
the host the client signed; the client meanwhile sees a certificate for that host signed by the
proxy's CA, as behind Zscaler or Netskope. Every other host is answered 502 by the proxy itself:
nothing ever leaves this machine.

Options (``--set name=value``): ``port_file`` (where the listening port is written once it
listens) and ``network_file``, a JSON file read at every request, so one proxy serves test after
test: ``emulator`` (``host:port``), ``routed_hosts`` (a list), ``log_file`` (one JSON line per
request: the CONNECT target, or the host and path asked for and whether it was routed) and
``refuse`` (an HTTP status the proxy answers every CONNECT with, e.g. 407; 0 or absent: none).
"""

from __future__ import annotations

import json
import os
from typing import Any

from mitmproxy import ctx, http


def _network() -> dict[str, Any]:
    path = ctx.options.network_file
    if not path or not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as file:
        network: dict[str, Any] = json.load(file)
    return network


def _log(network: dict[str, Any], **record: Any) -> None:
    if network.get("log_file"):
        with open(network["log_file"], "a", encoding="utf-8") as file:
            file.write(json.dumps(record) + "\n")


class RouteToEmulator:
    def load(self, loader: Any) -> None:
        loader.add_option("port_file", str, "", "file the listening port is written to")
        loader.add_option("network_file", str, "", "JSON: emulator, routed_hosts, log_file, refuse")

    def running(self) -> None:
        port = ctx.master.addons.get("proxyserver").listen_addrs()[0][1]
        path = ctx.options.port_file
        if path:
            with open(f"{path}.tmp", "w", encoding="utf-8") as file:
                file.write(str(port))
            os.replace(f"{path}.tmp", path)

    def http_connect(self, flow: http.HTTPFlow) -> None:
        network = _network()
        _log(network, connect=f"{flow.request.host}:{flow.request.port}")
        if network.get("refuse"):
            flow.response = http.Response.make(
                int(network["refuse"]), b"Refused by the company proxy\n",
                {"Content-Type": "text/plain", "Proxy-Authenticate": 'Basic realm="corp"'})

    def request(self, flow: http.HTTPFlow) -> None:
        network = _network()
        host = flow.request.pretty_host
        routed = host in set(network.get("routed_hosts", ())) and bool(network.get("emulator"))
        _log(network, host=host, scheme=flow.request.scheme, method=flow.request.method,
             path=flow.request.path.split("?")[0], routed=routed)
        if not routed:
            flow.response = http.Response.make(502, f"{host} is not on this test network\n".encode(),
                                               {"Content-Type": "text/plain"})
            return
        host_header = flow.request.host_header
        emulator_host, _, emulator_port = str(network["emulator"]).rpartition(":")
        flow.request.scheme = "http"
        flow.request.host = emulator_host
        flow.request.port = int(emulator_port)
        flow.request.host_header = host_header


addons = [RouteToEmulator()]
