"""Step 3 (browser): the loopback redirect listener of the browser login (RFC 8252 section 7.3).

:class:`LoopbackCallback` binds ``127.0.0.1`` (a random port, or a fixed one
for people whose browser runs elsewhere and who forward that port) in its
constructor, so the port is known and listening **before** the browser is
sent to the authorize URL. The browser comes back to
``http://127.0.0.1:<port>/oauth/callback?code=...&state=...`` (or
``error=...``); the listener hands that to the waiting login and holds the
browser's request until the login says how it ended, so the page the person
sees tells the truth ("You are logged in" only once the token is cached).

Only the loopback interface is bound (the AWS CLI binds every interface; the
redirect URI names 127.0.0.1, so nothing else is needed). The page shows no
code, token or state.

Any local program can connect to that port, and browsers open connections
they never use (preconnects), so only this login's own redirect ends the
wait: a ``GET`` whose request target's path is exactly ``/oauth/callback``
(not ``//oauth/callback``, not ``/oauth/callback/``) with exactly one
``state``, equal to :attr:`LoopbackCallback.state` (compared in constant
time), and at most one of each other parameter. Everything else (a wrong or
missing ``state``, an ``error=`` without the right ``state``, another path)
gets a 400 or 404 and the wait goes on. Each connection has its own thread
(at most :data:`MAX_CONNECTIONS` at a time; more are closed at once) and its
own read deadline (:data:`READ_TIMEOUT` seconds per read), so idle or slow
connections never hold up the browser's.
"""

from __future__ import annotations

import hmac
import threading
import time
import uuid
from dataclasses import dataclass
from html import escape
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["CALLBACK_PATH", "MAX_CONNECTIONS", "READ_TIMEOUT", "CallbackResult", "LoopbackCallback"]

CALLBACK_PATH = "/oauth/callback"

MAX_CONNECTIONS = 64
"""Connections served at the same time; more are closed as they come."""

READ_TIMEOUT = 10.0
"""Seconds a connection may stay silent before it is closed."""

_PARAMETERS = ("code", "state", "error", "error_description")

# How long the browser's request is held for the login's verdict (the token exchange).
_VERDICT_WAIT = 60.0


@dataclass(frozen=True, repr=False)
class CallbackResult:
    """What the browser brought back. ``code`` is a secret and never shown."""

    code: str | None
    state: str | None
    error: str | None
    error_description: str | None

    def __repr__(self) -> str:
        return f"CallbackResult(error={self.error!r}, has_code={self.code is not None})"


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;color:#16191f}
h1{font-size:1.5rem} .ok{color:#037f0c} .failed{color:#d91515} .muted{color:#5f6b7a}
"""


def callback_page(ok: bool, message: str) -> bytes:
    """This package's own landing page: did the login work, and the tab may be closed."""
    title = "You are logged in" if ok else "Login failed"
    mark = "ok" if ok else "failed"
    # A failure's message already says what to do next.
    hint = "You can close this tab and return to the terminal." if ok else "You can close this tab."
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)} - boto-sso-oidc</title><style>{_STYLE}</style></head><body>\n"
        f"<h1 class=\"{mark}\">{escape(title)}</h1>\n<p>{escape(message)}</p>\n"
        f"<p>{escape(hint)}</p>\n<p class=\"muted\">boto-sso-oidc-provider</p>\n</body></html>\n"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = READ_TIMEOUT

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        # The raw request target: http.server turns a leading "//" into "/" in self.path.
        target = self.requestline.split(" ")[1] if self.requestline.count(" ") >= 2 else ""
        parts = urlsplit(target)
        if not target.startswith("/") or target.startswith("//") or parts.path != CALLBACK_PATH:
            self._send(404, b"Not found", "text/plain; charset=utf-8")
            return
        try:
            query = parse_qs(parts.query, keep_blank_values=True, max_num_fields=len(_PARAMETERS) * 2)
        except ValueError:
            query = {}
        values = {name: query[name][0] for name in _PARAMETERS if len(query.get(name, [])) == 1}
        single = all(len(query.get(name, [])) <= 1 for name in _PARAMETERS)
        if not single or not self.server.owner._is_this_login(values.get("state")):
            self._send(400, b"This is not the redirect of the login in progress; that login goes on.",
                       "text/plain; charset=utf-8")
            return
        result = CallbackResult(values.get("code"), values.get("state"), values.get("error"),
                                values.get("error_description"))
        ok, message = self.server.owner._deliver(result)
        self._send(200, callback_page(ok, message), "text/html; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the browser went away
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        # The request line carries the authorization code: never log it.
        pass


class _Server(ThreadingMixIn, HTTPServer):
    allow_reuse_address = False  # a fixed port another program holds must fail, not be shared
    daemon_threads = True  # a browser still waiting for its page never keeps the process alive
    block_on_close = False

    def __init__(self, port: int, owner: LoopbackCallback) -> None:
        self.owner = owner
        self._active = 0
        self._active_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._active_lock:
            if self._active >= MAX_CONNECTIONS:
                self.shutdown_request(request)
                return
            self._active += 1
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread: it will not count itself out
            self._done()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._done()

    def _done(self) -> None:
        with self._active_lock:
            self._active -= 1

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a broken browser connection is not the login's failure


class LoopbackCallback:
    """A listener on ``127.0.0.1:port`` (0: any free port), bound now, serving in a thread.

    Raises :class:`OSError` when the port cannot be bound. Use as a context
    manager, or call :meth:`close`: the port is released either way.
    """

    def __init__(self, port: int = 0) -> None:
        self.state: str = str(uuid.uuid4())
        """The ``state`` of this login's authorize request: only a redirect carrying it counts."""
        self._result: CallbackResult | None = None
        self._arrived = threading.Event()
        self._verdict: tuple[bool, str] | None = None
        self._decided = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(port, self)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"sso-login-callback-{self.port}", daemon=True)
        self._thread.start()

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{CALLBACK_PATH}"

    def __enter__(self) -> LoopbackCallback:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _is_this_login(self, state: str | None) -> bool:
        return state is not None and hmac.compare_digest(state.encode(), self.state.encode())

    def _deliver(self, result: CallbackResult) -> tuple[bool, str]:
        """Called on a connection's thread for each redirect of this login: the first one counts."""
        with self._lock:
            first = self._result is None
            if first:
                self._result = result
                self._arrived.set()
        if not first:
            return False, "This login has already finished."
        if not self._decided.wait(_VERDICT_WAIT):
            return False, "The login did not finish in time."
        assert self._verdict is not None
        return self._verdict

    def wait(self, timeout: float) -> CallbackResult | None:
        """The first callback, or None after ``timeout`` seconds. Ctrl-C interrupts at once."""
        # Short slices keep the main thread responsive to signals everywhere.
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            if self._arrived.wait(min(0.25, remaining)):
                return self._result
        return None

    def finish(self, ok: bool, message: str) -> None:
        """Tell the waiting browser how the login ended (shown on its page)."""
        with self._lock:
            if self._verdict is None:
                self._verdict = (ok, message)
        self._decided.set()

    def close(self) -> None:
        """Answer a browser still waiting, stop listening and release the port."""
        self.finish(False, "The login was cancelled.")
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()
