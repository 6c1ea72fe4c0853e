"""Step 7 of the flow: the HTTP front both credential servers share: a reading loop that never blocks.

A credentials server answers small ``GET``/``PUT`` requests from SDKs on the
same machine or container network; anything else that reaches its port may be
hostile and holds no token. So the front is built for that:

* **One reading loop** (a thread with a selector) accepts every connection and
  reads request heads, all sockets non-blocking. A connection costs a file
  descriptor and a buffer until its head is complete, never a thread or a
  request slot: 200 clients sending one header line a second (slowloris) delay
  nobody. Slots (``max_connections`` handler threads) are taken only by
  complete, well-formed heads; a complete head that finds every slot taken
  waits in the loop (costing nothing) until one frees, and gets 503 only when
  its deadline passes first or more than ``max_pending`` are waiting.
* **Short deadlines**: no first byte within ``first_byte_timeout`` (at most
  1 s): closed; no complete head within ``request_timeout``: 408. At most
  ``max_pending`` connections may be incomplete at once; beyond that the
  oldest is closed, so a new client is always read.
* **Nothing lingers in the loop**: its own answers (400, 403, 408, 431 and the
  over-the-cap 503) are under 1 KB, sent without blocking into a new socket's
  empty buffer; the connection is then drained (what the client still sends
  read and dropped, so closing does not reset our answer away) by the same
  selector, event by event, for at most 1 s.
* **Strict parsing**: the head, request line and blank line included, is at
  most ``max_head_bytes`` (8 KiB by default), really; lines end in CRLF (a bare
  LF is tolerated as RFC 9112 allows; a bare CR is refused); the request line
  is ``METHOD SP origin-form-target SP HTTP/1.0|HTTP/1.1`` exactly; header
  names are tokens, no folded lines, no control characters in values.
* **Escaped logs**: anything from the client that reaches the log (the
  method and path, only in ``--debug``) has control characters and non-ASCII
  escaped (``\\x1b``), and is cut at 200 characters. Headers are never logged.
* **An allow-list of client networks** (``allow``): other addresses get 403
  before a byte of their request is read.
* **Only its own names** (no DNS rebinding): a request whose ``Host`` is not an IP
  address, ``localhost``, the bound address or one of ``names`` (``--url-host``) gets 421
  before the application sees it, as does one a web browser sends (an ``Origin`` or
  ``Sec-Fetch-*`` header: SDKs send neither). A page on a name that an attacker made resolve
  to 127.0.0.1 reaches the port, but never a credential. Each refusal is logged (a warning
  naming the ``Host``, escaped) and counted.

The application (:class:`Application`) sees a parsed :class:`Request` with its
deadline and returns a :class:`Response` or raises :class:`Refusal`; it
renders refusals in its own protocol's format (JSON for the container
endpoint, text for instance metadata). One request per connection
(``Connection: close``).
"""

from __future__ import annotations

import collections
import contextlib
import errno
import ipaddress
import logging
import math
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Application", "HTTPFront", "Headers", "Network", "Refusal", "Request", "Response",
           "check_timeout", "parse_networks", "printable"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

STATUS_TEXT = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
               404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
               411: "Length Required", 413: "Content Too Large", 421: "Misdirected Request",
               424: "Failed Dependency",
               431: "Request Header Fields Too Large", 500: "Internal Server Error",
               503: "Service Unavailable"}

_TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_METHOD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TARGET = frozenset(range(0x21, 0x7F))
_VALUE = frozenset({0x09, *range(0x20, 0x7F), *range(0x80, 0x100)})
_DRAIN_SECONDS = 1.0
_DRAIN_LIMIT = 1 << 20
_MAX_TIMEOUT = 3600.0


def check_timeout(seconds: float, what: str = "the request timeout") -> float:
    """``seconds`` if it is a finite number greater than 0 and at most an hour; else ValueError."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or math.isnan(seconds) \
            or not 0 < seconds <= _MAX_TIMEOUT:
        raise ValueError(f"{what} must be a number of seconds greater than 0 and at most "
                         f"{_MAX_TIMEOUT:g}, not {seconds!r}")
    return float(seconds)


def parse_networks(values: Iterable[str]) -> list[Network]:
    """``172.17.0.0/16``, ``10.0.0.5``, ``fd00::/8`` as networks; ValueError names a bad one."""
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or network (e.g. 172.17.0.0/16)") from None
    return networks


def printable(text: str, limit: int = 200) -> str:
    """``text`` safe for a log line: control characters and non-ASCII escaped, at most ``limit``."""
    escaped = "".join(ch if " " <= ch <= "~" and ch != "\\" else
                      "\\\\" if ch == "\\" else ch.encode("unicode_escape").decode("ascii")
                      for ch in text[:limit])
    return escaped + ("..." if len(text) > limit else "")


class Headers:
    """A request's headers: names case-insensitive, each name's values in order."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name.lower(), []).append(value)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name``, or ``default``."""
        values = self._values.get(name.lower())
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        return list(self._values.get(name.lower(), ()))

    def names(self) -> list[str]:
        """The header names present, lower case."""
        return list(self._values)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def __repr__(self) -> str:  # names only: values may be tokens
        return f"Headers({sorted(self._values)!r})"


@dataclass(frozen=True, repr=False)
class Request:
    """One parsed request head. ``deadline`` is on ``time.monotonic()``'s clock."""

    method: str
    path: str
    query: str
    version: str
    headers: Headers
    client: str
    deadline: float

    @property
    def has_body(self) -> bool:
        """Does the client announce a body (any ``Transfer-Encoding``, or a non-zero length)?"""
        length = (self.headers.get("Content-Length") or "0").strip()
        return "Transfer-Encoding" in self.headers or length not in ("", "0")

    def __repr__(self) -> str:
        return f"Request({self.method} {printable(self.path)!s} from {self.client})"


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


class Refusal(Exception):
    """An answer other than the one asked for: ``status`` and a short ``code``/``message``."""

    def __init__(self, status: int, code: str, message: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


class Application(Protocol):
    def handle(self, request: Request) -> Response:
        """The answer to ``request``; may raise :class:`Refusal`; called in a handler thread."""

    def render(self, refusal: Refusal) -> Response:
        """``refusal`` in this protocol's error format (cheap: the reading loop calls it)."""


class _Connection:
    __slots__ = ("sock", "client", "buffer", "accepted", "first_byte_deadline", "head_deadline",
                 "outgoing", "drain_deadline", "drained", "state")

    def __init__(self, sock: socket.socket, client: str, now: float, front: HTTPFront) -> None:
        self.sock = sock
        self.client = client
        self.buffer = bytearray()
        self.accepted = now
        self.first_byte_deadline = now + front.first_byte_timeout
        self.head_deadline = now + front.request_timeout
        self.outgoing = b""
        self.drain_deadline = 0.0
        self.drained = 0
        self.state = "reading"  # then "writing" (our answer), "draining", or handed to a handler


class HTTPFront:
    """Serves ``application`` over HTTP/1.x on ``host``:``port`` (0: a free port), bound at once.

    Raises :class:`OSError` when the address cannot be bound and
    :class:`ValueError` for an invalid timeout. :meth:`start` serves in
    background threads; :meth:`shutdown` stops and waits for handlers.
    """

    def __init__(
        self,
        application: Application,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        request_timeout: float = 5.0,
        first_byte_timeout: float = 1.0,
        max_head_bytes: int = 8192,
        max_connections: int = 100,
        max_pending: int = 1000,
        allow: Sequence[Network] | None = None,
        names: Iterable[str] = (),
        logger: logging.Logger | None = None,
        name: str = "http",
    ) -> None:
        self.application = application
        # The Host names this server answers to, lower case: IP addresses are always accepted.
        self.names = frozenset({"localhost", host.strip("[]").lower(),
                                *(extra.strip("[]").lower() for extra in names)})
        self.request_timeout = check_timeout(request_timeout)
        self.first_byte_timeout = min(check_timeout(first_byte_timeout, "the first-byte timeout"),
                                      self.request_timeout)
        self.max_head_bytes = max_head_bytes
        self.max_pending = max_pending
        self.allow = list(allow) if allow is not None else None
        self.logger = logger or logging.getLogger(__name__)
        self._name = name
        self._slots = threading.BoundedSemaphore(max_connections)
        self._handlers: set[threading.Thread] = set()
        self._handlers_lock = threading.Lock()
        self._counts: dict[int, int] = {}
        self._counts_lock = threading.Lock()
        self._returned: list[socket.socket] = []  # sockets handlers give back for draining
        self._waiting: collections.deque[tuple[_Connection, Request, bool]] = collections.deque()
        self._returned_lock = threading.Lock()
        self._stopping = threading.Event()
        # The reading loop's own state, touched by its thread only.
        self._selector = selectors.DefaultSelector()
        self._connections: dict[socket.socket, _Connection] = {}
        self._thread: threading.Thread | None = None
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind((host, port))
            self._listener.listen(512)
            self._listener.setblocking(False)
        except BaseException:
            self._listener.close()
            raise
        self.host = host
        self.port: int = self._listener.getsockname()[1]
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)

    # -- public --------------------------------------------------------------------------------

    def counts(self) -> dict[int, int]:
        """How many answers were given, by HTTP status (the loop's own answers included)."""
        with self._counts_lock:
            return dict(self._counts)

    def start(self) -> HTTPFront:
        self._thread = threading.Thread(target=self._loop, name=f"{self._name}-{self.port}", daemon=True)
        self._thread.start()
        return self

    def shutdown(self, grace: float | None = None, settle: Callable[[], object] | None = None) -> None:
        """Stop accepting and close what is not yet a request; then call ``settle`` (an
        application's wait for work that must finish, such as a renewal), wait up to ``grace``
        seconds (default ``request_timeout + 1``) for handlers in progress, and release the port."""
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        else:
            self._close_all()
        if settle is not None:
            settle()
        deadline = time.monotonic() + (self.request_timeout + 1 if grace is None else grace)
        with self._handlers_lock:
            handlers = list(self._handlers)
        for thread in handlers:
            thread.join(max(0.0, deadline - time.monotonic()))
        for sock in (self._wake_reader, self._wake_writer):
            sock.close()

    # -- the reading loop ------------------------------------------------------------------------

    def _loop(self) -> None:
        selector = self._selector
        selector.register(self._listener, selectors.EVENT_READ, None)
        selector.register(self._wake_reader, selectors.EVENT_READ, None)
        connections = self._connections
        next_sweep = 0.0
        try:
            while not self._stopping.is_set():
                for key, events in selector.select(timeout=0.05):
                    sock = key.fileobj
                    if sock is self._listener:
                        self._accept()
                    elif sock is self._wake_reader:
                        with contextlib.suppress(OSError):
                            self._wake_reader.recv(4096)
                        self._take_returned()
                        self._dispatch()
                    else:
                        assert isinstance(sock, socket.socket)
                        connection = connections.get(sock)
                        if connection is not None:
                            self._on_event(connection, events)
                now = time.monotonic()
                if now >= next_sweep:
                    next_sweep = now + 0.05
                    self._sweep(now)
        except Exception:  # pragma: no cover - a bug here must not pass silently
            self.logger.exception("The HTTP front's reading loop failed")
        finally:
            self._close_all()
            selector.close()

    def _accept(self) -> None:
        for _ in range(64):  # a burst at a time, then the other sockets get their turn
            try:
                sock, address = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:  # out of descriptors, a connection reset before accept
                if error.errno in (errno.EMFILE, errno.ENFILE):
                    self._evict_oldest()
                return
            sock.setblocking(False)
            client = _address(address)
            connection = _Connection(sock, client, time.monotonic(), self)
            self._connections[sock] = connection
            self._selector.register(sock, selectors.EVENT_READ, None)
            if self.allow is not None and not _allowed(address[0], self.allow):
                self.logger.debug("%s refused: not in the allowed client networks", client)
                self._answer(connection, Refusal(
                    403, "Forbidden", "This address is not among the allowed client networks."))
                continue
            reading = sum(1 for other in self._connections.values() if other.state == "reading")
            if reading > self.max_pending:
                self._evict_oldest()

    def _evict_oldest(self) -> None:
        oldest = min((c for c in self._connections.values() if c.state in ("reading", "draining")),
                     key=lambda c: c.accepted, default=None)
        if oldest is not None:
            self._close(oldest)

    def _on_event(self, connection: _Connection, events: int) -> None:
        if connection.state == "writing":
            self._flush(connection)
            return
        try:
            chunk = connection.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(connection)
            return
        if connection.state == "draining":
            connection.drained += len(chunk)
            if not chunk or connection.drained > _DRAIN_LIMIT:
                self._close(connection)
            return
        if not chunk:  # the client closed its side before finishing a head
            if connection.buffer:
                self._answer(connection,
                             Refusal(400, "MalformedRequest", "The request ended before its head did."))
            else:
                self._close(connection)
            return
        start = max(0, len(connection.buffer) - 3)
        connection.buffer += chunk
        end = _head_end(connection.buffer, start)
        if end < 0:
            if len(connection.buffer) > self.max_head_bytes:
                self._answer(connection, self._too_large())
            return
        if end > self.max_head_bytes:
            self._answer(connection, self._too_large())
            return
        try:
            request = _parse(bytes(connection.buffer[:end]), connection.client,
                             connection.accepted + self.request_timeout)
        except Refusal as refusal:
            self._answer(connection, refusal)
            return
        self._selector.unregister(connection.sock)
        connection.state = "waiting"
        self._waiting.append((connection, request, len(connection.buffer) > end))
        if len(self._waiting) > self.max_pending:
            waited, _, _ = self._waiting.popleft()
            self._answer(waited, self._busy(), registered=False)
        self._dispatch()

    def _dispatch(self) -> None:
        """Hand waiting requests to handler threads while slots are free, oldest first."""
        while self._waiting and self._slots.acquire(blocking=False):
            connection, request, leftover = self._waiting.popleft()
            del self._connections[connection.sock]
            connection.state = "handled"
            thread = threading.Thread(target=self._handle, args=(connection.sock, request, leftover),
                                      name=f"{self._name}-request", daemon=True)
            with self._handlers_lock:
                self._handlers.add(thread)
            try:
                thread.start()
            except BaseException:
                with self._handlers_lock:
                    self._handlers.discard(thread)
                self._slots.release()
                connection.sock.close()
                raise

    def _busy(self) -> Refusal:
        return Refusal(503, "Busy", "Too many requests at once; try again.", {"Retry-After": "1"})

    def _too_large(self) -> Refusal:
        return Refusal(431, "RequestTooLarge",
                       f"The request head is larger than {self.max_head_bytes} bytes.")

    def _sweep(self, now: float) -> None:
        for connection in list(self._connections.values()):
            if connection.state == "reading":
                if not connection.buffer and now >= connection.first_byte_deadline:
                    self._close(connection)  # nothing said: nothing to answer
                elif now >= connection.head_deadline:
                    self._answer(connection, Refusal(
                        408, "RequestTimeout",
                        f"The request was not complete within {self.request_timeout:g} seconds."))
            elif connection.state in ("writing", "draining") and now >= connection.drain_deadline:
                self._close(connection)
        if any(request.deadline <= now for _, request, _ in self._waiting):  # waited too long for a slot
            expired = [waiting for waiting in self._waiting if waiting[1].deadline <= now]
            self._waiting = collections.deque(w for w in self._waiting if w[1].deadline > now)
            for waited, _, _ in expired:
                self._answer(waited, self._busy(), registered=False)

    def _answer(self, connection: _Connection, refusal: Refusal, *, registered: bool = True) -> None:
        """Send the loop's own answer without blocking, then drain the connection."""
        if not registered:
            self._selector.register(connection.sock, selectors.EVENT_READ, None)
        response = self.application.render(refusal)
        self._count(response.status)
        self.logger.debug("%s - - -> %d %s", connection.client, response.status, refusal.code)
        connection.outgoing = _serialize(response)
        connection.buffer = bytearray()
        connection.drain_deadline = time.monotonic() + _DRAIN_SECONDS
        connection.state = "writing"
        self._flush(connection)

    def _flush(self, connection: _Connection) -> None:
        try:
            sent = connection.sock.send(connection.outgoing)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._close(connection)
            return
        connection.outgoing = connection.outgoing[sent:]
        if connection.outgoing:
            self._selector.modify(connection.sock, selectors.EVENT_WRITE, None)
            return
        with contextlib.suppress(OSError):
            connection.sock.shutdown(socket.SHUT_WR)
        connection.state = "draining"
        self._selector.modify(connection.sock, selectors.EVENT_READ, None)

    def _take_returned(self) -> None:
        with self._returned_lock:
            returned, self._returned = self._returned, []
        now = time.monotonic()
        for sock in returned:
            connection = _Connection(sock, "-", now, self)
            connection.state = "draining"
            connection.drain_deadline = now + _DRAIN_SECONDS
            try:
                sock.setblocking(False)
                self._selector.register(sock, selectors.EVENT_READ, None)
            except (OSError, ValueError):
                sock.close()
                continue
            self._connections[sock] = connection

    def _close(self, connection: _Connection) -> None:
        self._connections.pop(connection.sock, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(connection.sock)
        connection.sock.close()

    def _close_all(self) -> None:
        for connection in self._connections.values():
            connection.sock.close()
        self._connections.clear()
        with self._returned_lock:
            for sock in self._returned:
                sock.close()
            self._returned = []
        self._listener.close()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"x")

    def _count(self, status: int) -> None:
        with self._counts_lock:
            self._counts[status] = self._counts.get(status, 0) + 1

    # -- one complete request, in its handler thread ------------------------------------------------

    def _misdirected(self, request: Request) -> Refusal | None:
        """A 421 for a request to another name than this server's, or from a web browser."""
        hosts = request.headers.get_all("Host")
        if len(hosts) != 1 or not _own_host(hosts[0], self.names):
            shown = printable(hosts[0] if len(hosts) == 1 else f"{len(hosts)} Host headers", 100)
            self.logger.warning("Refused a request from %s for Host %s: not a name of this %s endpoint "
                                "(a web page on a rebound name, or a proxy); give it --url-host if it "
                                "is yours.", request.client, shown, self._name)
            return Refusal(421, "MisdirectedRequest",
                           "This endpoint answers only to its own address, localhost and --url-host.")
        if "Origin" in request.headers or any(name.lower().startswith("sec-fetch-")
                                              for name in request.headers.names()):
            self.logger.warning("Refused a request from %s sent by a web browser (Origin or Sec-Fetch "
                                "headers) to the %s endpoint.", request.client, self._name)
            return Refusal(421, "MisdirectedRequest", "Web browsers get no credentials here.")
        return None

    def _handle(self, sock: socket.socket, request: Request, leftover: bool) -> None:
        try:
            try:
                misdirected = self._misdirected(request)
                if misdirected is not None:
                    raise misdirected
                response = self.application.handle(request)
            except Refusal as refusal:
                response = self.application.render(refusal)
            except Exception:  # the last line of defence: never a traceback to the client
                self.logger.exception("The %s endpoint failed on a request", self._name)
                response = self.application.render(Refusal(500, "InternalError", "See the server's log."))
            self._count(response.status)
            self.logger.debug("%s %s %s -> %d", request.client, request.method, printable(request.path),
                              response.status)
            drain = leftover or request.has_body
            try:
                sock.settimeout(max(1.0, request.deadline - time.monotonic()))
                sock.sendall(_serialize(response))
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                drain = False  # the client went away; nothing left to tell it
            if drain and not self._stopping.is_set():
                with self._returned_lock:
                    self._returned.append(sock)
                self._wake()
                sock = None  # type: ignore[assignment]
        finally:
            if sock is not None:
                sock.close()
            self._slots.release()
            with self._handlers_lock:
                self._handlers.discard(threading.current_thread())
            self._wake()  # a slot is free: the loop hands it to a waiting request


def _head_end(buffer: bytearray, start: int) -> int:
    """The index just past the blank line ending the head (CRLF CRLF or a tolerated LF LF), or -1."""
    crlf = buffer.find(b"\r\n\r\n", start)
    lf = buffer.find(b"\n\n", start)
    ends = [index + length for index, length in ((crlf, 4), (lf, 2)) if index >= 0]
    return min(ends) if ends else -1


def _parse(head: bytes, client: str, deadline: float) -> Request:
    """A :class:`Request` from a complete head (blank line included), or :class:`Refusal` 400."""
    lines = head.split(b"\n")
    lines = [line[:-1] if line.endswith(b"\r") else line for line in lines][:-2]
    if not lines or any(b"\r" in line for line in lines):
        raise _malformed("A bare CR in the request head.")
    parts = lines[0].split(b" ")
    if len(parts) != 3:
        raise _malformed("The request line is not METHOD TARGET HTTP/1.x.")
    method, target, version = parts
    if not method or not set(method) <= _METHOD:
        raise _malformed("The request method is not a method.")
    if version not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise _malformed("Only HTTP/1.0 and HTTP/1.1 are served.")
    if not target.startswith(b"/") or not set(target) <= _TARGET:
        raise _malformed("The request target is not a path.")
    pairs: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or not set(name) <= _TCHAR:  # also refuses folded lines
            raise _malformed("A header line is not NAME: VALUE.")
        value = value.strip(b" \t")
        if not set(value) <= _VALUE:
            raise _malformed("A header value holds a control character.")
        pairs.append((name.decode("ascii"), value.decode("latin-1")))
    path, _, query = target.decode("ascii").partition("?")
    return Request(method.decode("ascii"), path, query, version.decode("ascii"), Headers(pairs),
                   client, deadline)


def _malformed(message: str) -> Refusal:
    return Refusal(400, "MalformedRequest", message)


def _serialize(response: Response) -> bytes:
    head = [f"HTTP/1.1 {response.status} {STATUS_TEXT.get(response.status, 'Error')}",
            f"Content-Type: {response.content_type}", f"Content-Length: {len(response.body)}",
            "Cache-Control: no-store", "Connection: close",
            *(f"{name}: {value}" for name, value in response.headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + response.body


def _own_host(value: str, names: frozenset[str]) -> bool:
    """Whether a ``Host`` header names this server: an IP address (no name an attacker's DNS
    could point here), or one of ``names``; any port."""
    host = value.strip().lower()
    if host.startswith("["):  # [IPv6]:port
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host.rstrip(".") in names
    return True


def _allowed(host: str, networks: Sequence[Network]) -> bool:
    try:
        address = ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == network.version and address in network for network in networks)


def _address(address: object) -> str:
    try:
        host, port = address[0], address[1]  # type: ignore[index]
    except (TypeError, IndexError):
        return printable(str(address))
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
