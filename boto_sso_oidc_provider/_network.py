"""Foundation: the network the person configured, for every call this package makes.

A company laptop reaches AWS through a proxy (``HTTPS_PROXY``, ``NO_PROXY``) that often
inspects TLS: the certificate a client is shown is signed by the company's own root, which
the operating system trusts and botocore's bundle does not. The AWS CLI's answer is a CA
bundle (``ca_bundle`` in the profile, ``AWS_CA_BUNDLE``); botocore adds ``proxies`` and
``proxies_config`` (``proxy_ca_bundle``, ``proxy_client_cert``,
``proxy_use_forwarding_for_https``) to a client's config. :class:`Network` is all of that for
one profile, plus this package's opt-in to the operating system's trust store
(``boto_sso_oidc_truststore``, the ``truststore`` extra); every call of the package goes
through it: the botocore clients (:func:`install`), the start-URL resolution and the
federation endpoint (:func:`fetch`). The loopback callback of the browser login and the
package's own servers are never proxied (they do not use this module).

Failures say what they are, once: a certificate that does not verify is
:class:`~.exceptions.TLSVerificationError`, naming the host, the issuer the client was shown
(found by :func:`presented_certificate`, a second handshake that verifies nothing) and the
fixes; a proxy that refuses or cannot be reached is :class:`~.exceptions.ProxyConnectError`,
naming the proxy and the variable it came from. Neither passes by trying again.

:func:`presented_certificate` is also a probe for diagnostics ("which issuer does this host
show from here, through the configured proxy?"). Standard library and botocore only.
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Network", "ProxyRoute", "PresentedCertificate", "ProbeError", "Answer", "from_environment",
           "truststore_setting",
           "proxy_route", "presented_certificate", "install", "fetch", "certificate_error",
           "TRUSTSTORE_EXTRA"]

TRUSTSTORE_EXTRA = "truststore"
"""The optional extra that brings the ``truststore`` library."""

PROBE_TIMEOUT = 5.0
"""Seconds the issuer probe waits for each step (connect, the proxy's answer, the handshake)."""

_MAX_PROXY_ANSWER = 64 * 1024


@dataclass(frozen=True)
class Network:
    """How one profile reaches AWS: the CA bundle (and where it was set), the OS trust store
    opt-in, and botocore's proxy settings from the session's client config.

    ``ca_bundle`` None means botocore's own bundle (certifi's), or the operating system's
    store with ``truststore``. ``proxies`` None means the environment's (``HTTPS_PROXY``,
    ``HTTP_PROXY``, ``NO_PROXY``; the system's on macOS and Windows), as botocore does.
    """

    ca_bundle: str | None = None
    ca_bundle_source: str | None = None
    """Where ``ca_bundle`` came from, for messages: ``AWS_CA_BUNDLE`` or ``ca_bundle in profile "dev"``."""
    truststore: bool = False
    truststore_source: str | None = None
    """Where the trust-store setting came from, for messages."""
    proxies: Mapping[str, str] | None = None
    """A client config's ``proxies`` (scheme -> proxy URL); None: the environment's."""
    proxies_config: Mapping[str, Any] | None = None
    """A client config's ``proxies_config`` (``proxy_ca_bundle``, ``proxy_client_cert``,
    ``proxy_use_forwarding_for_https``)."""
    client_cert: str | tuple[str, str] | None = None

    @property
    def verify(self) -> bool | str:
        """botocore's ``verify``: the CA bundle's path, or True (its default trust)."""
        return self.ca_bundle or True

    def trusted(self) -> str:
        """What certificates are checked against, for messages."""
        if self.ca_bundle:
            where = f" ({self.ca_bundle_source})" if self.ca_bundle_source else ""
            store = " and the operating system's trust store" if self.truststore else ""
            return f"the CA bundle {self.ca_bundle}{where}{store}"
        if self.truststore:
            source = self.truststore_source or "boto_sso_oidc_truststore"
            return f"the operating system's trust store ({source})"
        return "botocore's default CA bundle (certifi's, not the operating system's)"


def from_environment(environ: Mapping[str, str] | None = None) -> Network:
    """The network when no profile is known: ``AWS_CA_BUNDLE``, ``BOTO_SSO_OIDC_TRUSTSTORE`` and
    the proxy variables only."""
    environ = os.environ if environ is None else environ
    truststore, source = truststore_setting(None, {}, None, environ)
    bundle = environ.get("AWS_CA_BUNDLE") or None
    return Network(ca_bundle=bundle, ca_bundle_source="AWS_CA_BUNDLE" if bundle else None,
                   truststore=truststore, truststore_source=source)


def truststore_setting(session: Any, scoped: Mapping[str, Any], profile: str | None,
                        environ: Mapping[str, str]) -> tuple[bool, str | None]:
    """``boto_sso_oidc_truststore`` and where it was set: the variable, else the profile's key
    (``scoped``, a botocore session's scoped config), else its sso-session's (``session``)."""
    from .config import _settings

    sections: list[tuple[str, Mapping[str, Any]]] = [(f'Profile "{profile}"', scoped)]
    sso_session = scoped.get("sso_session")
    if session is not None and isinstance(sso_session, str):
        sessions = session.full_config.get("sso_sessions", {})
        sections.append((f'sso-session "{sso_session}"', sessions.get(sso_session) or {}))
    try:
        for index, (where, values) in enumerate(sections):
            key, raw = _settings.source(values, "truststore", environ if index == 0 else {})
            if raw is not None:
                shown = key if key.isupper() else f"{key} in {where[0].lower()}{where[1:]}"
                return bool(_settings.parse("truststore", key, raw)), shown
    except _settings.SettingError as error:
        from .exceptions import SSOConfigError

        where = "The environment" if error.key.isupper() else sections[index][0]
        raise SSOConfigError(error.message(where), key=error.key) from None
    return False, None


@dataclass(frozen=True)
class ProxyRoute:
    """The proxy a URL is reached through, and the setting it came from."""

    url: str
    """The proxy's URL as botocore uses it (``http://`` added when no scheme was given)."""
    source: str
    """``HTTPS_PROXY``, ``https_proxy``, ``the client config's proxies``, ``the system's proxy settings``."""

    @property
    def shown(self) -> str:
        """The URL without its user name and password."""
        parts = urlsplit(self.url)
        netloc = parts.hostname or ""
        if ":" in netloc:
            netloc = f"[{netloc}]"
        if parts.port:
            netloc += f":{parts.port}"
        return f"{parts.scheme}://{netloc}"

    def describe(self) -> str:
        """``the proxy http://proxy:3128 (from HTTPS_PROXY)``."""
        return f"the proxy {self.shown} (from {self.source})"


def proxy_route(url: str, network: Network | None = None,
                environ: Mapping[str, str] | None = None) -> ProxyRoute | None:
    """The proxy botocore would use for ``url``, or None (no proxy, or ``NO_PROXY`` matches).

    ``environ`` defaults to this process's environment, which is what botocore (through
    :func:`urllib.request.getproxies`) reads; a mapping given here is read instead.
    """
    from botocore.httpsession import ProxyConfiguration

    scheme = urlsplit(url).scheme
    if network is not None and network.proxies is not None:
        proxies, source = dict(network.proxies), "the client config's proxies"
    else:
        proxies, source = _environ_proxies(url, environ), ""
    found = ProxyConfiguration(proxies=proxies).proxy_url_for(url)
    if not found:
        return None
    if not source:
        environ = os.environ if environ is None else environ
        names = (f"{scheme}_proxy", f"{scheme.upper()}_PROXY")
        source = next((name for name in names if environ.get(name, "").strip() == proxies.get(scheme)),
                      "the system's proxy settings")
    return ProxyRoute(found, source)


def _environ_proxies(url: str, environ: Mapping[str, str] | None) -> dict[str, str]:
    """botocore's ``get_environ_proxies(url)``, for ``environ`` when one is given."""
    if environ is None:
        from botocore.utils import get_environ_proxies

        return dict(get_environ_proxies(url))
    import urllib.request

    proxies: dict[str, str] = {}  # as urllib's getproxies_environment: lower case wins
    for name, value in environ.items():
        if value and name.lower().endswith("_proxy"):
            proxies[name.lower()[:-6]] = value
    for name, value in environ.items():
        if name.endswith("_proxy"):
            if value:
                proxies[name[:-6]] = value
            else:
                proxies.pop(name[:-6], None)
    if urllib.request.proxy_bypass_environment(urlsplit(url).netloc, proxies):  # type: ignore[attr-defined]
        return {}
    proxies.pop("no", None)
    return proxies


@dataclass(frozen=True)
class PresentedCertificate:
    """The certificate a host showed, as the client saw it (nothing was verified)."""

    host: str
    port: int
    issuer: str
    """The issuer's common name (else its organization): ``Zscaler Intermediate Root CA``."""
    issuer_details: str
    """The issuer's name in full: ``CN=..., O=..., C=...``."""
    subject: str
    """The certificate's own common name (else its subject in full)."""
    proxy: ProxyRoute | None
    """The proxy the probe went through, if any."""

    @property
    def self_issued(self) -> bool:
        return self.subject == self.issuer


class ProbeError(OSError):
    """The probe could not see a certificate: the proxy or the host could not be reached, the
    proxy refused the tunnel, or the handshake failed. ``str()`` is one line for a person;
    ``proxy`` is set when the proxy is at fault."""

    def __init__(self, message: str, *, proxy: ProxyRoute | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.proxy = proxy

    def __str__(self) -> str:
        return self.message


def presented_certificate(url: str, *, network: Network | None = None,
                          environ: Mapping[str, str] | None = None,
                          timeout: float = PROBE_TIMEOUT) -> PresentedCertificate:
    """The certificate ``url``'s host (``https://host[:port]``, or a bare host name) shows a
    client here, through the proxy the configured network uses for it.

    The handshake verifies nothing, and nothing is sent after it: this only reads who issued
    the certificate (behind TLS inspection, the company's root; else a public CA such as
    Amazon's). Raises :class:`ProbeError` with a one-line message.
    """
    parts = urlsplit(url if "://" in url else f"https://{url}")
    host = parts.hostname or ""
    if not host:
        raise ProbeError(f"{url} names no host")
    port = parts.port or 443
    route = proxy_route(f"https://{_netloc(host, port)}/", network, environ)
    connection = _connect(host, port, route, network, timeout)
    try:
        der = _unverified_handshake(connection, host, timeout)
    finally:
        connection.close()
    issuer, issuer_details, subject = _names(der)
    return PresentedCertificate(host, port, issuer, issuer_details, subject, route)


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _connect(host: str, port: int, route: ProxyRoute | None, network: Network | None,
             timeout: float) -> socket.socket:
    """A TCP connection to ``host:port``, or a tunnel to it through ``route``'s proxy."""
    if route is None:
        try:
            return socket.create_connection((host, port), timeout=timeout)
        except OSError as error:
            raise ProbeError(f"cannot reach {host}:{port}: {_reason(error)}") from None
    from botocore.httpsession import ProxyConfiguration

    proxy = urlsplit(route.url)
    proxy_port = proxy.port or (443 if proxy.scheme == "https" else 80)
    try:
        raw = socket.create_connection((proxy.hostname or "", proxy_port), timeout=timeout)
    except OSError as error:
        raise ProbeError(f"cannot reach {route.describe()}: {_reason(error)}", proxy=route) from None
    connection: socket.socket = raw
    try:
        if proxy.scheme == "https":  # TLS to the proxy itself, trusted as botocore would
            settings = (network.proxies_config if network else None) or {}
            context = ssl.create_default_context(cafile=settings.get("proxy_ca_bundle"))
            connection = context.wrap_socket(raw, server_hostname=proxy.hostname)
        headers = ProxyConfiguration().proxy_headers_for(route.url)
        request = (f"CONNECT {_netloc(host, port)} HTTP/1.1\r\nHost: {_netloc(host, port)}\r\n"
                   + "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n")
        connection.sendall(request.encode("latin-1"))
        answer = b""
        while b"\r\n\r\n" not in answer and len(answer) < _MAX_PROXY_ANSWER:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
    except OSError as error:
        connection.close()
        raise ProbeError(f"{route.describe()} failed: {_reason(error)}", proxy=route) from None
    status_line = answer.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    fields = status_line.split(" ", 2)
    if len(fields) < 2 or not fields[1].isdigit() or not 200 <= int(fields[1]) < 300:
        connection.close()
        what = " ".join(fields[1:]) if len(fields) >= 2 else "no answer"
        raise ProbeError(f"{route.describe()} refused to connect to {_netloc(host, port)} "
                         f"(HTTP {what[:100]})", proxy=route)
    return connection


def _unverified_handshake(connection: socket.socket, host: str, timeout: float) -> bytes:
    """The DER certificate ``host`` shows on ``connection`` (a TLS handshake, nothing verified)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    connection.settimeout(timeout)
    try:
        if isinstance(connection, ssl.SSLSocket):  # TLS inside the proxy's TLS
            der = _handshake_in_tls(context, connection, host)
        else:
            with context.wrap_socket(connection, server_hostname=host,
                                     do_handshake_on_connect=True) as tls:
                der = tls.getpeercert(binary_form=True)
    except (OSError, ValueError) as error:
        raise ProbeError(f"the TLS handshake with {host} failed: {_reason(error)}") from None
    if not der:
        raise ProbeError(f"{host} showed no certificate")
    return der


def _handshake_in_tls(context: ssl.SSLContext, outer: ssl.SSLSocket, host: str) -> bytes | None:
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    inner = context.wrap_bio(incoming, outgoing, server_hostname=host)
    while True:
        try:
            inner.do_handshake()
            break
        except ssl.SSLWantReadError:
            if outgoing.pending:
                outer.sendall(outgoing.read())
            data = outer.recv(65536)
            if not data:
                raise ConnectionResetError("the connection closed during the handshake") from None
            incoming.write(data)
    if outgoing.pending:
        outer.sendall(outgoing.read())
    return inner.getpeercert(binary_form=True)


# --- botocore's HTTP session, on this network, with failures that say what to do ---

def _truststore_context() -> ssl.SSLContext:
    """An SSL context that verifies against the operating system's trust store."""
    try:
        import truststore
    except ImportError:
        from .exceptions import SSOConfigError

        raise SSOConfigError(
            "boto_sso_oidc_truststore is on, but the truststore library is not installed: pip "
            f"install 'boto-sso-oidc-provider[{TRUSTSTORE_EXTRA}]', or turn the setting off.",
            key="boto_sso_oidc_truststore") from None
    context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return context


def _session_class() -> Any:
    """:class:`botocore.httpsession.URLLib3Session` with this network's trust and errors."""
    global _SESSION_CLASS
    if _SESSION_CLASS is not None:
        return _SESSION_CLASS
    import botocore.exceptions
    from botocore.httpsession import URLLib3Session

    class NetworkSession(URLLib3Session):
        def __init__(self, network: Network, **kwargs: Any) -> None:
            self._network = network
            super().__init__(**kwargs)

        def _get_ssl_context(self) -> Any:
            if self._network.truststore:
                return _truststore_context()
            return super()._get_ssl_context()

        def _setup_ssl_cert(self, conn: Any, url: str, verify: Any) -> None:
            super()._setup_ssl_cert(conn, url, verify)
            if self._network.truststore and verify is True:
                conn.ca_certs = None  # the OS store alone, not botocore's bundle besides

        def send(self, request: Any) -> Any:
            try:
                return super().send(request)
            except botocore.exceptions.SSLError as error:
                failure = certificate_error(request.url, self._network, error)
                if failure is None:
                    raise
                raise failure from None
            except botocore.exceptions.ProxyConnectionError as error:
                raise proxy_error(request.url, self._network, error) from None

    _SESSION_CLASS = NetworkSession
    return NetworkSession


_SESSION_CLASS: Any = None


def _http_session(network: Network, url: str, *, connect_timeout: float, read_timeout: float,
                  max_pool_connections: int = 10, proxies: Mapping[str, str] | None = None,
                  proxies_config: Mapping[str, Any] | None = None,
                  client_cert: str | tuple[str, str] | None = None,
                  socket_options: Any = None) -> Any:
    if proxies is None:
        proxies = _environ_proxies(url, None)
    return _session_class()(
        network, verify=network.verify, proxies=dict(proxies), timeout=(connect_timeout, read_timeout),
        max_pool_connections=max_pool_connections, socket_options=socket_options,
        client_cert=client_cert if client_cert is not None else network.client_cert,
        proxies_config=dict(proxies_config) if proxies_config else None)


def install(client: Any, network: Network) -> None:
    """Make ``client`` (a botocore client) send through ``network``: its CA bundle or the OS trust
    store, its proxies (the client config's, else the environment's for the client's endpoint, as
    botocore chooses), and its errors (:class:`~.exceptions.TLSVerificationError`,
    :class:`~.exceptions.ProxyConnectError`, which botocore does not retry).

    botocore has no public way to give a client its HTTP session: the endpoint's is replaced,
    keeping every setting botocore gave it (timeouts, pool size, socket options).
    """
    endpoint: Any = getattr(client, "_endpoint", None)
    old = getattr(endpoint, "http_session", None)
    if endpoint is None or old is None:
        if network.truststore:
            raise RuntimeError("this botocore has no endpoint HTTP session to verify through the "
                               "operating system's trust store")
        return
    config = client.meta.config
    endpoint.http_session = _http_session(
        network, client.meta.endpoint_url, connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout, max_pool_connections=config.max_pool_connections,
        proxies=config.proxies or network.proxies, proxies_config=config.proxies_config or
        network.proxies_config, client_cert=config.client_cert,
        socket_options=getattr(old, "_socket_options", None))
    old.close()


@dataclass(frozen=True)
class Answer:
    """What :func:`fetch` got: the status, the headers (lower-case names) and the body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


def fetch(url: str, *, network: Network, method: str = "GET",
          headers: Mapping[str, str] | None = None, timeout: float = 10.0) -> Answer:
    """One HTTP request on ``network``, redirects not followed (a plain HTTPS call that is no AWS
    service API: the start URL's redirect, the federation endpoint).

    Raises :class:`~.exceptions.TLSVerificationError` and
    :class:`~.exceptions.ProxyConnectError`; botocore's ``EndpointConnectionError`` and timeouts
    otherwise.
    """
    from botocore.awsrequest import AWSRequest

    session = _http_session(network, url, connect_timeout=timeout, read_timeout=timeout,
                            max_pool_connections=1, proxies=network.proxies,
                            proxies_config=network.proxies_config)
    try:
        request = AWSRequest(method=method, url=url, headers=dict(headers or {})).prepare()
        response = session.send(request)
        return Answer(response.status_code,
                      {name.lower(): value for name, value in response.headers.items()},
                      response.content)
    finally:
        session.close()


def _verify_message(error: BaseException) -> str | None:
    """The certificate check's own words, found anywhere in ``error``'s chain, else None."""
    seen: set[int] = set()
    pending: list[Any] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return str(current.verify_message or current.reason or "certificate verify failed")
        if isinstance(current, BaseException):
            pending.extend([current.__cause__, current.__context__, *current.args])
            kwargs = getattr(current, "kwargs", None)
            if isinstance(kwargs, dict):
                pending.append(kwargs.get("error"))
    text = str(error)
    return "certificate verify failed" if "CERTIFICATE_VERIFY_FAILED" in text else None


def certificate_error(url: str, network: Network, error: BaseException,
                      environ: Mapping[str, str] | None = None) -> Any:
    """The :class:`~.exceptions.TLSVerificationError` for ``error`` (a TLS failure calling
    ``url``), or None when it is no certificate check (a handshake that broke off)."""
    from .exceptions import TLSVerificationError

    reason = _verify_message(error)
    if reason is None:
        return None
    host = urlsplit(url).hostname or url
    try:
        shown = presented_certificate(url, network=network, environ=environ)
        issuer: str | None = shown.issuer
        seen = f'it is issued by "{shown.issuer}"'
        if shown.proxy is not None:
            seen += f" as shown through {shown.proxy.describe()}"
    except ProbeError as probe:
        issuer, seen = None, f"its issuer could not be read ({probe})"
    if network.truststore:
        fix = ("If your company inspects TLS, its root certificate must be in the operating "
               "system's trust store, or given with ca_bundle = /path/to/root.pem in the profile "
               "or AWS_CA_BUNDLE=/path/to/root.pem.")
    else:
        fix = ("If your company inspects TLS (a proxy such as Zscaler or Netskope), trust its root "
               "certificate: ca_bundle = /path/to/root.pem in the profile, "
               "AWS_CA_BUNDLE=/path/to/root.pem, or boto_sso_oidc_truststore = true "
               "(BOTO_SSO_OIDC_TRUSTSTORE=true) to use the operating system's trust store.")
    message = (f"The TLS certificate of {host} is not trusted ({reason}): {seen}; it was checked "
               f"against {network.trusted()}. {fix}")
    return TLSVerificationError(message, url=url, host=host, issuer=issuer)


def proxy_error(url: str, network: Network, error: BaseException,
                environ: Mapping[str, str] | None = None) -> Any:
    """The :class:`~.exceptions.ProxyConnectError` for botocore's ``ProxyConnectionError``
    calling ``url``."""
    from .exceptions import ProxyConnectError

    route = proxy_route(url, network, environ) or ProxyRoute(
        str(getattr(error, "kwargs", {}).get("proxy_url", "the proxy")), "the configuration")
    target = urlsplit(url)
    where = _netloc(target.hostname or "", target.port or (443 if target.scheme == "https" else 80))
    text = " ".join(str(getattr(error, "kwargs", {}).get("error", error)).split())
    tunnel = text.partition("Tunnel connection failed: ")[2]
    untrusted = _verify_message(error)
    if untrusted is not None:  # TLS to the proxy itself (an https:// proxy)
        message = (f"The TLS certificate of {route.describe()} is not trusted ({untrusted}). Trust "
                   "its root with proxy_ca_bundle in the client config's proxies_config (else the "
                   f"CA bundle is used for it too), or check {route.source}.")
    elif tunnel:
        status = tunnel.split("'")[0].split('"')[0].strip().rstrip(".")
        message = (f"{route.describe()[0].upper()}{route.describe()[1:]} refused to connect to "
                   f"{where} (HTTP {status}). Check {route.source}: the proxy may want a user name "
                   "and password in it (http://user:password@host:port), or the host may not be "
                   "allowed through it.")
    else:
        cause = _os_reason(error) or "it did not answer"
        message = (f"Cannot reach {route.describe()} to connect to {where}: {cause}. Check "
                   f"{route.source}, and NO_PROXY for hosts that must not go through it.")
    return ProxyConnectError(message, url=url, proxy=route.shown, source=route.source)


def _os_reason(error: BaseException) -> str | None:
    """The operating system's words (``Connection refused``) found in ``error``'s chain."""
    seen: set[int] = set()
    pending: list[Any] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return str(current.strerror)
        if isinstance(current, BaseException):
            pending.extend([current.__cause__, current.__context__, *current.args])
            kwargs = getattr(current, "kwargs", None)
            if isinstance(kwargs, dict):
                pending.append(kwargs.get("error"))
    return None


def _reason(error: BaseException) -> str:
    if isinstance(error, ssl.SSLError):
        return error.reason or str(error)
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


# --- the issuer's and subject's names, read from the DER certificate (standard library only) ---

_ATTRIBUTES = {b"\x55\x04\x03": "CN", b"\x55\x04\x0a": "O", b"\x55\x04\x0b": "OU",
               b"\x55\x04\x06": "C", b"\x55\x04\x07": "L", b"\x55\x04\x08": "ST"}
_STRINGS = {0x0C: "utf-8", 0x13: "latin-1", 0x16: "latin-1", 0x14: "latin-1", 0x1E: "utf-16-be",
            0x1C: "utf-32-be"}


def _element(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at ``offset``."""
    tag, length = data[offset], data[offset + 1]
    offset += 2
    if length & 0x80:
        size = length & 0x7F
        length = int.from_bytes(data[offset:offset + size], "big")
        offset += size
    if offset + length > len(data):
        raise ValueError("truncated DER")
    return tag, offset, offset + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    found = []
    while start < end:
        element = _element(data, start)
        found.append(element)
        start = element[2]
    return found


def _name(data: bytes, start: int, end: int) -> list[tuple[str, str]]:
    """An X.509 Name's attributes we know, in order."""
    attributes = []
    for _set_tag, set_start, set_end in _children(data, start, end):
        for _seq_tag, seq_start, seq_end in _children(data, set_start, set_end):
            (_oid_tag, oid_start, oid_end), (value_tag, value_start, value_end) = \
                _children(data, seq_start, seq_end)[:2]
            label = _ATTRIBUTES.get(data[oid_start:oid_end])
            if label is not None:
                raw = data[value_start:value_end]
                attributes.append((label, raw.decode(_STRINGS.get(value_tag, "latin-1"), "replace")))
    return attributes


def _short(attributes: list[tuple[str, str]]) -> str:
    for wanted in ("CN", "O", "OU"):
        for label, value in attributes:
            if label == wanted and value.strip():
                return value.strip()
    return _full(attributes) or "an unnamed issuer"


def _full(attributes: list[tuple[str, str]]) -> str:
    return ", ".join(f"{label}={value}" for label, value in attributes)


def _names(der: bytes) -> tuple[str, str, str]:
    """(issuer's short name, issuer in full, subject's short name) of a DER certificate."""
    try:
        _tag, cert_start, cert_end = _element(der, 0)
        _tag, tbs_start, tbs_end = _children(der, cert_start, cert_end)[0]
        fields = _children(der, tbs_start, tbs_end)
        if fields[0][0] == 0xA0:  # [0] EXPLICIT version
            fields = fields[1:]
        # serialNumber, signature, issuer, validity, subject
        issuer = _name(der, fields[2][1], fields[2][2])
        subject = _name(der, fields[4][1], fields[4][2])
    except (IndexError, ValueError):
        raise ProbeError("the certificate shown could not be read") from None
    return _short(issuer), _full(issuer), _short(subject)
