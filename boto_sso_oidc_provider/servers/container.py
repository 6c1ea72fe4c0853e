"""Step 6 of the flow: role credentials over HTTP, as a container-credentials endpoint.

Every AWS SDK can take refreshing credentials from an HTTP endpoint: it reads
``AWS_CONTAINER_CREDENTIALS_FULL_URI``, sends a ``GET`` with the value of
``AWS_CONTAINER_AUTHORIZATION_TOKEN`` as its ``Authorization`` header, and
refreshes from the same URL before the credentials expire (botocore's
``ContainerProvider``, the JavaScript SDK's ``fromHttp``, the Go, Java and
Rust SDKs' container providers). :class:`CredentialsEndpoint` is such an
endpoint for one profile's role credentials; ``boto-sso-oidc serve`` and
``boto-sso-oidc exec`` run it.

The protocol, as the SDKs expect it (the ECS container-credentials format)::

    GET <path>  Authorization: <token>
    200 {"AccessKeyId": ..., "SecretAccessKey": ..., "Token": ...,
         "Expiration": "2026-11-23T12:00:00Z", "AccountId": ...}

Errors are JSON ``{"Code": ..., "Message": ...}``: 401 without an
``Authorization`` header, 403 with a wrong one (both before anything else
is looked at, so a client without the token learns nothing, not even which
paths exist), 400 malformed, 404 any other path, 405 any method but GET, 413
a request with a body, 431 a request head over ``max_request_bytes``, 408 a
request not complete within ``request_timeout``, 424 when credentials need
something only a person can do (``SSOLoginRequired``: the message names the
login command; ``RoleCredentialsError``, ``SSOConfigError``), 503 when the
SSO portal cannot be reached or every connection slot is busy, 500 for
anything unexpected (logged, never a traceback to the client). 4xx, so
that the JavaScript SDK passes ``Code`` and ``Message`` on; botocore shows
the whole body of any error.

Which URLs the SDKs accept over plain http: botocore any loopback address,
``localhost``, 169.254.170.2, 169.254.170.23 and fd00:ec2::23; the JS SDK's
``fromHttp`` 127.0.0.0/8, ``[::1]``, ``localhost`` and the same link-local
hosts (its older ``fromContainerMetadata`` only ``localhost`` and
127.0.0.1). So the endpoint listens on 127.0.0.1 unless told otherwise.

Freshness: credentials are served only with more than ``refresh_margin``
seconds left (default 15 minutes, botocore's advisory refresh window and
more than the JS SDK's 5): older ones are renewed through the
``get_credentials`` callable first (for the CLI, the locked, shared
role-credential cache of :class:`~boto_sso_oidc_provider.role_credentials.RoleCredentialsManager`).
If renewing returns the same credentials again (the portal is unreachable
and the old ones are all there is), the answer is 503, not credentials about to
expire. One renewal serves every request waiting for it (single-flight), its
failure too; a request that would wait past its ``request_timeout`` gets 503
``RenewalInProgress`` (the renewal goes on and serves the retry; the SDKs
retry, botocore after its own 2-second timeout, the JS SDK after 1). When
role credentials live shorter than the margin (only the emulator issues
such), each renewal's fresh credentials are served.

Hardening: one request per connection (``Connection: close``), a head of at
most ``max_request_bytes``, the whole request within ``request_timeout``
seconds, at most ``max_connections`` at a time (more get 503), no request
bodies, the token compared in constant time, and nothing secret in the log
(only method, path, status and the client's address; never headers).
"""

from __future__ import annotations

import hmac
import http.client
import io
import json
import logging
import secrets
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._clock import Clock, format_timestamp, utc_now
from .._layout import EXPIRY_WINDOW

if TYPE_CHECKING:  # pragma: no cover
    from ..role_credentials import RoleCredentials

__all__ = ["CredentialsEndpoint", "DEFAULT_PATH", "DEFAULT_REFRESH_MARGIN", "FULL_URI_VARIABLE",
           "TOKEN_VARIABLE", "new_token"]

logger = logging.getLogger(__name__)

FULL_URI_VARIABLE = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
TOKEN_VARIABLE = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
DEFAULT_PATH = "/role-credentials"
DEFAULT_REFRESH_MARGIN = float(EXPIRY_WINDOW)
"""botocore refreshes credentials 15 minutes before they expire (advisory; 10 mandatory), the
JavaScript SDK 5 minutes before: credentials served with more left are not fetched again at once.
The same window as the role-credential cache's, so a renewal never just re-reads the old entry."""

_STATUS_TEXT = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
                404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
                413: "Content Too Large", 424: "Failed Dependency",
                431: "Request Header Fields Too Large", 500: "Internal Server Error",
                503: "Service Unavailable"}


def new_token() -> str:
    """A fresh random bearer token (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


class _Refused(Exception):
    """An answer other than credentials: ``status`` and the JSON error ``code``/``message``."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


class _SingleFlight:
    """The credentials to serve: kept in memory while fresh, renewed by one caller at a time.

    Callers that waited while another renewed take that renewal's outcome
    (credentials or error) instead of renewing again.
    """

    def __init__(self, get_credentials: Callable[[], RoleCredentials], margin: float,
                 clock: Clock) -> None:
        self._get = get_credentials
        self._margin = margin
        self._clock = clock
        self._lock = threading.Lock()
        self._current: RoleCredentials | None = None
        self._error: _Refused | None = None
        self._generation = 0
        self.renewals = 0
        self._logged: str | None = None  # the failure last logged; None while renewals succeed

    def _fresh(self, credentials: RoleCredentials | None) -> bool:
        return credentials is not None and credentials.seconds_left(self._clock) > self._margin

    def get(self, deadline: float) -> RoleCredentials:
        """Fresh credentials, renewing them if needed; waits for another renewal until ``deadline``
        (``time.monotonic()``), then refuses with 503 (the renewal goes on for the next request)."""
        generation = self._generation
        current = self._current
        if self._fresh(current):
            assert current is not None
            return current
        if not self._lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise _Refused(503, "RenewalInProgress",
                           "The role credentials are being renewed; try again in a moment.",
                           {"Retry-After": "1"})
        try:
            if self._generation != generation:  # a renewal finished while we waited: share it
                if self._error is not None:
                    raise self._error
                current = self._current
                if current is not None and current.seconds_left(self._clock) > 0:
                    return current
            return self._renew()
        finally:
            self._lock.release()

    def _renew(self) -> RoleCredentials:
        previous = self._current
        self.renewals += 1
        try:
            try:
                renewed = self._get()
            except Exception as error:  # every failure becomes an answer for the client
                raise _refusal(error) from None
            if not self._fresh(renewed) and previous is not None \
                    and renewed.access_key_id == previous.access_key_id:
                raise _Refused(503, "ServiceUnavailable",
                               "Could not renew the role credentials (the SSO portal cannot be reached) "
                               "and the current ones expire within the SDKs' refresh margin. Try again "
                               "later.", {"Retry-After": "5"})
        except _Refused as refusal:
            self._error = refusal
            self._generation += 1
            if refusal.message != self._logged:  # once per outage (and reason), not once per request
                self._logged = refusal.message
                logger.warning("%s", refusal.message)
            raise
        self._error = None
        self._current = renewed
        self._generation += 1
        if self._logged is not None:
            self._logged = None
            logger.warning("Serving role credentials again.")
        logger.info("Serving role credentials %s, valid until %s", renewed.access_key_id,
                    format_timestamp(renewed.expiration))
        return renewed


def _refusal(error: Exception) -> _Refused:
    """The answer for an exception raised while getting credentials."""
    from .. import exceptions
    from .._redaction import redact

    message = " ".join(redact(str(getattr(error, "message", None) or error)).split())
    if isinstance(error, exceptions.SSOLoginRequiredError):
        return _Refused(424, "SSOLoginRequired", message)
    if isinstance(error, (exceptions.RoleCredentialsError, exceptions.SSOConfigError,
                          exceptions.SSOLoginError)):
        return _Refused(424, type(error).__name__, message)
    if isinstance(error, exceptions.SSOProviderError):  # the portal unreachable, a lock held too long
        return _Refused(503, "ServiceUnavailable", message, {"Retry-After": "5"})
    logger.error("Unexpected %s while getting role credentials: %s", type(error).__name__, message)
    return _Refused(500, "InternalError",
                    f"The credentials endpoint failed ({type(error).__name__}); see its log.")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # many SDK clients may arrive at once (socketserver's default is 5)

    def __init__(self, address: tuple[str, int], endpoint: CredentialsEndpoint) -> None:
        self.endpoint = endpoint
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.endpoint._slots.acquire(blocking=False):
            self.endpoint._answer_busy(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.endpoint._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.endpoint._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("Connection from %s failed", client_address, exc_info=True)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.server.endpoint._handle_connection(self.request, self.client_address)


class CredentialsEndpoint:
    """A container-credentials endpoint serving what ``get_credentials`` returns.

    ``get_credentials`` returns :class:`RoleCredentials` (renewing them if
    needed) or raises; it is called only when the credentials in memory have
    no more than ``refresh_margin`` seconds left, by one thread at a time.
    Binding happens in the constructor (``port`` 0 picks a free port), so
    :attr:`url` is known before serving; raises :class:`OSError` when the
    address cannot be bound. ``token`` defaults to a new random one.
    """

    def __init__(
        self,
        get_credentials: Callable[[], RoleCredentials],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = DEFAULT_PATH,
        token: str | None = None,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        clock: Clock = utc_now,
        request_timeout: float = 5.0,
        max_request_bytes: int = 8192,
        max_connections: int = 100,
    ) -> None:
        if not path.startswith("/"):
            raise ValueError("path must start with '/'")
        self.token = token or new_token()
        if "\r" in self.token or "\n" in self.token or not self.token.isascii():
            raise ValueError("the token must be ASCII text on one line")
        self._token = self.token.encode("ascii")
        self.path = path
        self.request_timeout = request_timeout
        self.max_request_bytes = max_request_bytes
        self._source = _SingleFlight(get_credentials, refresh_margin, clock)
        self._slots = threading.BoundedSemaphore(max_connections)
        self._max_connections = max_connections
        self._counts: dict[int, int] = {}
        self._counts_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._server = (_Server6 if ":" in host else _Server)((host, port), self)
        self.host = host
        self.port: int = self._server.server_address[1]
        url_host = "127.0.0.1" if host in ("", "0.0.0.0") else "[::1]" if host == "::" else \
            f"[{host}]" if ":" in host else host
        self.url = f"http://{url_host}:{self.port}{path}"

    def __repr__(self) -> str:  # never the token
        return f"CredentialsEndpoint({self.url!r})"

    def environment(self) -> dict[str, str]:
        """The two variables that point an SDK at this endpoint."""
        return {FULL_URI_VARIABLE: self.url, TOKEN_VARIABLE: self.token}

    def counts(self) -> dict[int, int]:
        """How many answers were given, by HTTP status."""
        with self._counts_lock:
            return dict(self._counts)

    @property
    def renewals(self) -> int:
        """How many times ``get_credentials`` was called."""
        return self._source.renewals

    # -- running ---------------------------------------------------------------------------------

    def start(self) -> CredentialsEndpoint:
        """Serve in a background (daemon) thread until :meth:`shutdown`; returns self."""
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,),
                                        name=f"credentials-endpoint-{self.port}", daemon=True)
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop accepting, wait (at most ``request_timeout``) for requests in progress, release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        deadline = time.monotonic() + self.request_timeout + 1
        taken = 0
        while taken < self._max_connections and time.monotonic() < deadline:
            if self._slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
                taken += 1
        for _ in range(taken):
            self._slots.release()

    def __enter__(self) -> CredentialsEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # -- one connection, one request ---------------------------------------------------------------

    def _handle_connection(self, sock: socket.socket, client: Any) -> None:
        deadline = time.monotonic() + self.request_timeout
        method = path = "-"
        try:
            head = self._read_head(sock, deadline)
            if head is None:  # the client connected and left without a request
                return
            method, path, headers = self._parse(head)
            status, body, extra = self._answer(method, path, headers, deadline)
        except _Refused as refusal:
            status, body, extra = refusal.status, _error_body(refusal), refusal.headers
        except Exception:  # the last line of defence: never a traceback to the client
            logger.exception("The credentials endpoint failed on a request")
            status, body, extra = 500, _error_body(_Refused(500, "InternalError", "see the log")), {}
        with self._counts_lock:
            self._counts[status] = self._counts.get(status, 0) + 1
        logger.debug("%s %s %s -> %d", _address(client), method, path, status)
        self._send(sock, status, body, extra, deadline)

    def _read_head(self, sock: socket.socket, deadline: float) -> bytes | None:
        buffer = b""
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                end = buffer.find(b"\n\n")
            if end >= 0:
                return buffer[:end]
            if len(buffer) > self.max_request_bytes:
                raise _Refused(431, "RequestTooLarge",
                               f"The request head is larger than {self.max_request_bytes} bytes.")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Refused(408, "RequestTimeout",
                               f"The request was not complete within {self.request_timeout:g} seconds.")
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                continue  # the deadline check above answers
            except OSError:
                return None
            if not chunk:
                if buffer:
                    raise _Refused(400, "MalformedRequest", "The request ended before its head did.")
                return None
            buffer += chunk
            if len(buffer) > self.max_request_bytes and buffer.find(b"\n\n") < 0 \
                    and buffer.find(b"\r\n\r\n") < 0:
                raise _Refused(431, "RequestTooLarge",
                               f"The request head is larger than {self.max_request_bytes} bytes.")

    def _parse(self, head: bytes) -> tuple[str, str, http.client.HTTPMessage]:
        line, _, rest = head.partition(b"\n")
        parts = line.rstrip(b"\r").split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1.") or not parts[0].isalpha():
            raise _Refused(400, "MalformedRequest", "The request line is not an HTTP/1.x request line.")
        try:
            method = parts[0].decode("ascii")
            target = parts[1].decode("ascii")
            headers = http.client.parse_headers(io.BytesIO(rest + b"\r\n\r\n"))
        except (UnicodeDecodeError, http.client.HTTPException):
            raise _Refused(400, "MalformedRequest", "The request head cannot be parsed.") from None
        if headers.defects:
            raise _Refused(400, "MalformedRequest", "The request headers are malformed.")
        return method, target.partition("?")[0], headers

    def _answer(self, method: str, path: str, headers: http.client.HTTPMessage,
                deadline: float) -> tuple[int, bytes, Mapping[str, str]]:
        self._authorize(headers)
        if path != self.path:
            raise _Refused(404, "NotFound", f"There is nothing at {path[:100]}.")
        if method != "GET":
            raise _Refused(405, "MethodNotAllowed", "Only GET is served.", {"Allow": "GET"})
        length = headers.get("Content-Length", "0").strip()
        if headers.get("Transfer-Encoding") is not None or length not in ("", "0"):
            raise _Refused(413, "RequestTooLarge", "Requests to this endpoint have no body.")
        credentials = self._source.get(deadline)
        body: dict[str, Any] = {
            "AccessKeyId": credentials.access_key_id,
            "SecretAccessKey": credentials.secret_access_key,
            "Token": credentials.session_token,
            "Expiration": format_timestamp(credentials.expiration),
        }
        if credentials.account_id:
            body["AccountId"] = credentials.account_id
        return 200, json.dumps(body).encode(), {}

    def _authorize(self, headers: http.client.HTTPMessage) -> None:
        values = [value for value in headers.get_all("Authorization") or [] if value.strip()]
        if not values:
            raise _Refused(401, "MissingAuthorization",
                           "Send the token as the Authorization header (the SDKs do, from "
                           f"{TOKEN_VARIABLE}).")
        if len(values) > 1:
            raise _Refused(400, "MalformedRequest", "More than one Authorization header.")
        presented = values[0].strip().encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(presented, self._token):
            raise _Refused(403, "InvalidAuthorization",
                           "The Authorization header is not this endpoint's token.")

    def _send(self, sock: socket.socket, status: int, body: bytes, extra: Mapping[str, str],
              deadline: float) -> None:
        head = [f"HTTP/1.1 {status} {_STATUS_TEXT.get(status, 'Error')}",
                "Content-Type: application/json", f"Content-Length: {len(body)}",
                "Cache-Control: no-store", "Connection: close",
                *(f"{name}: {value}" for name, value in extra.items())]
        try:
            sock.settimeout(max(1.0, deadline - time.monotonic()))
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body)
            sock.shutdown(socket.SHUT_WR)
            if status != 200:
                _linger(sock)
        except OSError:
            pass  # the client went away; nothing left to tell it

    def _answer_busy(self, sock: socket.socket) -> None:
        with self._counts_lock:
            self._counts[503] = self._counts.get(503, 0) + 1
        body = _error_body(_Refused(503, "Busy", "Too many connections at once; try again."))
        self._send(sock, 503, body, {"Retry-After": "1"}, time.monotonic() + 1)


def _linger(sock: socket.socket, seconds: float = 1.0, limit: int = 1 << 20) -> None:
    """Read and drop what the client still sends (a body we refused), briefly: closing with unread
    data makes the kernel reset the connection, and the client might lose our answer."""
    deadline = time.monotonic() + seconds
    received = 0
    while received < limit:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        sock.settimeout(remaining)
        chunk = sock.recv(65536)
        if not chunk:
            return
        received += len(chunk)


def _error_body(refusal: _Refused) -> bytes:
    return json.dumps({"Code": refusal.code, "Message": refusal.message}).encode()


def _address(client: Any) -> str:
    try:
        return f"{client[0]}:{client[1]}"
    except (TypeError, IndexError):
        return str(client)
