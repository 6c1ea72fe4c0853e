"""The HTTP server: one base URL for SSO OIDC, the SSO portal, STS, the pages and the control plane.

Requests are routed by method and path (STS and the index page share ``/``:
a POST, or a GET with ``Action``, is STS). Before a service sees a request
the server counts it, applies any queued fault, and bounds its body
(``max_body_bytes``; more is refused with HTTP 413 in the service's error
shape without reading it). Whatever goes wrong, the client gets an answer
in the service's error shape; tracebacks go to the log, never to the client.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import _control, _eks, _federation, _oidc, _pages, _portal, _sts
from ._config import EmulatorConfig
from ._http import Request, Response, Route, ServiceError, rest_json_error
from ._state import EmulatorState
from ._throttle import THROTTLE_ERROR

logger = logging.getLogger("boto_sso_oidc_provider.emulator")

ROUTES: dict[tuple[str, str], Route] = {
    **_oidc.ROUTES,
    **_portal.ROUTES,
    **_pages.ROUTES,
    **_control.ROUTES,
    **_federation.ROUTES,
    **_eks.ROUTES,
    ("POST", "/"): _sts.ROUTE,
}


def _root(state: EmulatorState, request: Request) -> Response:
    if _sts.is_sts_request(request):
        return _sts.handle(state, request)
    return _pages.index(state, request)


def _root_operation(request: Request) -> str | None:
    return _sts.operation_of(request) if _sts.is_sts_request(request) else None


ROUTES[("GET", "/")] = Route(_root, _sts.ERRORS, _root_operation)


class _UnknownOperation:
    """The error shape for a path no service has: restJson's UnknownOperationException."""

    invalid_request = "UnknownOperationException"
    internal_error = "InternalServerException"

    def error(self, name: str, message: str, status: int | None = None,
              request_id: str = "") -> Response:
        return rest_json_error(status or 404, name, {"message": message})

    def fault_errors(self) -> dict[str, int]:
        return {}


def _unknown_operation(state: EmulatorState, request: Request) -> Response:
    return _UnknownOperation().error(
        "UnknownOperationException", "The requested operation is not recognized by the service")


_UNKNOWN = Route(_unknown_operation, _UnknownOperation())


_LINGER_SECONDS = 2.0
_LINGER_BYTES = 64 * 1024 * 1024


class _BodyError(Exception):
    """The body cannot be read: too large (413) or badly framed (400)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _normalize_path(path: str) -> str:
    # An endpoint URL with a trailing slash makes some clients send "//token".
    while "//" in path:
        path = path.replace("//", "/")
    return path or "/"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    server_version = "boto-sso-oidc-emulator"
    timeout = 30  # a client that stops sending cannot hold a thread for ever
    # Headers and body go out in separate writes; without this, Nagle and delayed
    # ACKs add ~40 ms to every kept-alive request.
    disable_nagle_algorithm = True
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header from the emulator's clock, as the services send theirs (a client
        comparing it with its own clock sees the skew an emulator with a moved clock has)."""
        if timestamp is None:
            timestamp = self.server.state.now().timestamp()
        return super().date_time_string(timestamp)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def _handle(self) -> None:
        request_id = str(uuid.uuid4())
        try:
            response = self._respond(request_id)
        except Exception:  # the last line of defence: never a traceback to the client
            logger.exception("emulator failed on %s %s", self.command, self.path)
            response = _UnknownOperation().error(
                "InternalServerException", "The emulator failed; see its log", 500)
            self.close_connection = True
        self._send(response, request_id)
        if self._linger:
            self._drain()

    _linger = False

    def _drain(self) -> None:
        """Lingering close: keep reading (and dropping) what the client still sends, for a
        little while, so it gets to read our refusal instead of a broken pipe or reset."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(_LINGER_SECONDS)
            deadline = time.monotonic() + _LINGER_SECONDS
            received = 0
            while time.monotonic() < deadline and received < _LINGER_BYTES:
                chunk = self.connection.recv(65536)
                if not chunk:
                    break
                received += len(chunk)
        except OSError:
            pass

    def _respond(self, request_id: str) -> Response:
        state = self.server.state
        target = self.path if self.path.startswith("/") else "/"
        raw_path, _, query = target.partition("?")
        path = _normalize_path(raw_path)
        route = ROUTES.get((self.command, path), _UNKNOWN)
        body_error: _BodyError | None = None
        try:
            body = self._read_body(state.config.max_body_bytes)
        except _BodyError as error:
            body, body_error = b"", error
            self.close_connection = True  # the unread rest of the body must not be parsed
            self._linger = True
        base_url = _base_url(self.headers.get("Host"), self.server.server_address[1], self.server.url)
        request = Request(
            method=self.command, target=target, path=path,
            query=parse_qs(query, keep_blank_values=True), headers=self.headers, body=body,
            base_url=base_url, request_id=request_id,
        )
        if self.command == "POST" and not _same_origin(self.headers, base_url, self.server.url):
            # A web page elsewhere must not approve logins or inject faults through a browser.
            return route.shape.error(route.shape.invalid_request,
                                     "Cross-origin requests are refused", 403, request_id)
        operation = route.operation(request) if callable(route.operation) else route.operation
        detail = route.qualifier(request) if route.qualifier and operation else None
        if operation is not None:
            state.count(operation, detail)
        if body_error is not None:
            return route.shape.error(route.shape.invalid_request, str(body_error),
                                     body_error.status, request_id)
        if operation is not None:
            if state.config.latency:
                time.sleep(state.config.latency)
            if not state.admit(operation):
                return route.shape.error(THROTTLE_ERROR, "Rate exceeded", request_id=request_id)
            fault = state.take_fault(operation, detail)
            if fault is not None:
                if fault.hold:
                    state.hold()
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.reason:  # an SSO OIDC error (parse_fault checked)
                    return _oidc.ERRORS.error(str(fault.error), f"Injected fault: {fault.error}",
                                              request_id=request_id, reason=fault.reason)
                if fault.error:
                    return route.shape.error(fault.error, f"Injected fault: {fault.error}",
                                             request_id=request_id)
        try:
            return route.handler(state, request)
        except ServiceError as error:
            return error.response
        except Exception:
            logger.exception("emulator failed on %s %s", self.command, self.path)
            self.close_connection = True
            return route.shape.error(route.shape.internal_error,
                                     "The emulator failed; see its log", 500, request_id)

    def _read_body(self, limit: int) -> bytes:
        """The request body, at most ``limit`` bytes; raises :class:`_BodyError`."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(limit)
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            raise _BodyError(400, "Content-Length is not a number") from None
        if length < 0:
            raise _BodyError(400, "Content-Length is negative")
        if length > limit:
            raise _BodyError(413, f"The request body is larger than {limit} bytes")
        body = self.rfile.read(length)
        if len(body) != length:
            raise _BodyError(400, "The request body ended early")
        return body

    def _read_chunked(self, limit: int) -> bytes:
        body = bytearray()
        while True:
            size_line = self.rfile.readline(1024)
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BodyError(400, "Malformed chunked body") from None
            if size == 0:
                break
            if len(body) + size > limit:
                raise _BodyError(413, f"The request body is larger than {limit} bytes")
            body += self.rfile.read(size)
            self.rfile.readline(8)  # the CRLF after the chunk
        while self.rfile.readline(8192).strip():  # trailers, unused
            pass
        return bytes(body)

    def _send(self, response: Response, request_id: str) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("x-amzn-RequestId", request_id)
            self.send_header("Content-Length", str(len(response.body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except OSError:  # the client went away; nothing left to tell it
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        if self.server.state.config.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 resets connections when many clients arrive at once
    # (the concurrency proofs start dozens of processes together).
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: EmulatorState) -> None:
        self.state = state
        self.url = ""
        self.tls: ssl.SSLContext | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[Any, Any]:
        connection, address = super().get_request()
        if self.tls is not None:  # the handshake happens in the handler's thread, on first read
            connection = self.tls.wrap_socket(connection, server_side=True,
                                              do_handshake_on_connect=False)
        return connection, address

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on every kept-alive client, so a stopped emulator answers nobody."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection from %s failed", client_address, exc_info=True)


class _Server6(_Server):
    address_family = socket.AF_INET6


def _base_url(host_header: str | None, port: int, default: str) -> str:
    """``http://<Host>`` when the Host header names this server by an IP literal or localhost and
    its port (so links work however a client reached us); the server's own URL otherwise, so a
    forged Host (DNS rebinding, a proxy) never ends up in a verification URL."""
    if not host_header:
        return default
    scheme = urlsplit(default).scheme or "http"
    parts = urlsplit(f"{scheme}://{host_header}")
    try:
        given_port = parts.port
    except ValueError:
        return default
    name = parts.hostname or ""
    if given_port != port or parts.username or parts.password or parts.path:
        return default
    if name != "localhost":
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return default
    return f"{scheme}://{host_header}"


def _same_origin(headers: Any, base_url: str, own_url: str) -> bool:
    """No ``Origin`` (SDKs, curl) or this server's own; and not a browser's cross-site fetch."""
    if headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        return False
    origin = headers.get("Origin")
    return origin is None or origin.rstrip("/") in (base_url, own_url)


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class EmulatorServer:
    """A bound (not yet serving) emulator: ``serve_forever`` in a thread, then ``close``.

    Binding happens in the constructor, so :attr:`url` (with the real port
    when ``port`` is 0) is known before serving starts. Raises
    :class:`OSError` when the address cannot be bound, :class:`ssl.SSLError` (an
    :class:`OSError` too) or :class:`FileNotFoundError` when the TLS certificate or key cannot
    be loaded.
    """

    def __init__(self, config: EmulatorConfig | None = None,
                 state: EmulatorState | None = None) -> None:
        self.state = state or EmulatorState(config)
        self.config = self.state.config
        host = self.config.host
        tls: ssl.SSLContext | None = None
        if self.config.tls_certfile:  # before binding: an unusable certificate leaves no socket
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(self.config.tls_certfile, self.config.tls_keyfile)
        server_class = _Server6 if ":" in host else _Server
        self._server = server_class((host, self.config.port), self.state)
        self._server.tls = tls
        self.port: int = self._server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://{_url_host(host)}:{self.port}"
        self._server.url = self.url

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown` is called from another thread."""
        # Short: shutdown() waits up to one poll interval, and tests start many servers.
        self._server.serve_forever(poll_interval=0.05)

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` (call from another thread) and hang up on clients."""
        self._server.shutdown()
        self._server.close_connections()

    def close(self) -> None:
        """Release the listening socket."""
        self._server.server_close()
