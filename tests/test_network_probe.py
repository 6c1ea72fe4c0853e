"""The issuer probe (``_network.presented_certificate``): which certificate a host shows from here,
through the configured proxy; and which proxy a URL goes through, named by its variable."""

from __future__ import annotations

import socket

import pytest

from boto_sso_oidc_provider._network import (
    Network,
    ProbeError,
    presented_certificate,
    proxy_route,
)
from boto_sso_oidc_provider.emulator import run_emulator

from .corporate_network import OIDC_HOST, ROOT_CA_NAME, CorporateNetwork

pytest_plugins = ["tests.corporate_network"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_through_the_proxy_the_host_shows_the_companys_root(corporate_network: CorporateNetwork):
    shown = presented_certificate(f"https://{OIDC_HOST}/client/register")
    assert (shown.host, shown.port, shown.issuer) == (OIDC_HOST, 443, ROOT_CA_NAME)
    assert shown.issuer_details == f"CN={ROOT_CA_NAME}"
    assert shown.subject == OIDC_HOST  # mitmproxy made a certificate for the name asked for
    assert shown.proxy is not None and shown.proxy.source == "HTTPS_PROXY"
    assert shown.proxy.shown == corporate_network.proxy.url
    # the probe went through the proxy and stopped after the handshake: no request was made
    assert corporate_network.requests() == [{"connect": f"{OIDC_HOST}:443"}]


def test_a_bare_host_name_and_the_lower_case_variable(corporate_network, monkeypatch):
    monkeypatch.delenv("HTTPS_PROXY")
    monkeypatch.setenv("https_proxy", corporate_network.proxy.url)
    shown = presented_certificate(OIDC_HOST)
    assert shown.issuer == ROOT_CA_NAME
    assert shown.proxy is not None and shown.proxy.source == "https_proxy"


def test_without_a_proxy_the_host_itself_answers(tmp_path, monkeypatch):
    pytest.importorskip("cryptography")
    from boto_sso_oidc_provider.emulator._tls import make_throwaway_ca

    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    files = make_throwaway_ca(tmp_path, ["127.0.0.1"], ca_name="Direct Test CA")
    with run_emulator(tls_certfile=str(files.certificate), tls_keyfile=str(files.key)) as emulator:
        shown = presented_certificate(emulator.url)
    assert (shown.issuer, shown.subject, shown.proxy) == ("Direct Test CA", "127.0.0.1", None)
    assert not shown.self_issued


def test_no_proxy_is_honoured():
    environ = {"HTTPS_PROXY": "http://proxy.corp.example:3128", "NO_PROXY": ".amazonaws.com"}
    assert proxy_route(f"https://{OIDC_HOST}/", environ=environ) is None
    route = proxy_route("https://signin.aws.amazon.com/federation", environ=environ)
    assert route is not None and route.describe() == ("the proxy http://proxy.corp.example:3128 "
                                                     "(from HTTPS_PROXY)")


def test_the_proxys_password_is_never_shown():
    route = proxy_route(f"https://{OIDC_HOST}/", environ={"https_proxy": "http://me:s3cret@proxy:8080"})
    assert route is not None
    assert route.shown == "http://proxy:8080" and "s3cret" not in route.describe()
    assert route.source == "https_proxy"


def test_the_client_configs_proxies_win_over_the_environment():
    network = Network(proxies={"https": "proxy.corp.example:8443"})
    route = proxy_route(f"https://{OIDC_HOST}/", network, environ={"HTTPS_PROXY": "http://other:1"})
    assert route is not None
    assert route.describe() == "the proxy http://proxy.corp.example:8443 (from the client config's proxies)"


def test_a_refusing_proxy_is_named_with_its_variable(corporate_network):
    corporate_network.refuse(407)
    with pytest.raises(ProbeError) as caught:
        presented_certificate(OIDC_HOST)
    assert str(caught.value) == (
        f"the proxy {corporate_network.proxy.url} (from HTTPS_PROXY) refused to connect to "
        f"{OIDC_HOST}:443 (HTTP 407 Proxy Authentication Required)")
    assert caught.value.proxy is not None


def test_an_unreachable_proxy_is_named_with_its_variable(monkeypatch):
    port = _closed_port()
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("https_proxy", raising=False)
    with pytest.raises(ProbeError) as caught:
        presented_certificate(OIDC_HOST)
    assert str(caught.value) == (f"cannot reach the proxy http://127.0.0.1:{port} (from HTTPS_PROXY): "
                                 "Connection refused")
