"""The HTTP front both servers share (issue 20 items 6 and 9): slow clients, strict heads, escaped logs.

``serve`` runs as a real child process against the emulator; the slow clients are raw sockets held
open by a thread of this process; botocore's container provider runs in its own interpreter.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import statistics
import threading
import time
from collections.abc import Iterator

import pytest

from .cli_helpers import login, run_cli
from .conftest import run_python
from .endpoint_helpers import get, raw, sdk_env, serve, status_of


@pytest.fixture
def logged_in(sso_emulator):
    login()
    return sso_emulator


class _Slowloris:
    """``n`` connections that send a request head one header line a second and never finish it.

    A connection the server closes (408 at its deadline) is opened again at once, so ``n`` stay
    open all the time; :attr:`answers` counts what the server sent them.
    """

    def __init__(self, host: str, port: int, n: int) -> None:
        self.host, self.port, self.n = host, port, n
        self.stop = threading.Event()
        self.opened = 0
        self.answers: dict[int, int] = {}
        self.ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _open(self, selector: selectors.BaseSelector) -> None:
        sock = socket.create_connection((self.host, self.port))
        sock.sendall(b"GET /role-credentials HTTP/1.1\r\nHost: x\r\n")
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, bytearray())
        self.opened += 1

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        for _ in range(self.n):
            self._open(selector)
        self.ready.set()
        next_line = time.monotonic() + 1
        while not self.stop.is_set():
            for key, _ in selector.select(timeout=0.05):
                sock = key.fileobj
                try:
                    chunk = sock.recv(65536)  # type: ignore[union-attr]
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    chunk = b""
                key.data.extend(chunk)
                if not chunk:
                    if key.data.startswith(b"HTTP/1.1 "):
                        status = int(key.data.split()[1])
                        self.answers[status] = self.answers.get(status, 0) + 1
                    selector.unregister(sock)
                    sock.close()  # type: ignore[union-attr]
                    self._open(selector)
            if time.monotonic() >= next_line:
                next_line += 1
                for key in list(selector.get_map().values()):
                    with contextlib.suppress(OSError):
                        key.fileobj.send(b"X-Slow: one line a second\r\n")  # type: ignore[union-attr]
        for key in list(selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]

    def __enter__(self) -> _Slowloris:
        self._thread.start()
        assert self.ready.wait(30)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._thread.join(30)


BOTOCORE_50 = """
import os
from botocore.credentials import ContainerProvider
from botocore.utils import ContainerMetadataFetcher
got = 0
for _ in range(50):
    try:  # a new provider each time: every load is a request to the endpoint (1 s timeout, 3 attempts)
        credentials = ContainerProvider(fetcher=ContainerMetadataFetcher()).load()
        got += bool(credentials.get_frozen_credentials().access_key)
    except Exception as error:
        print(type(error).__name__, error)
print("loaded", got)
"""


@contextlib.contextmanager
def _held(served, n: int) -> Iterator[_Slowloris]:
    with _Slowloris(served.host, served.port, n) as slow:
        time.sleep(1.5)  # the slow clients have sent a line or two: they look like requests in progress
        yield slow


def test_200_slow_unauthenticated_connections_delay_no_legitimate_client(logged_in):
    with serve(logged_in) as served:
        with _held(served, 200) as slow:
            timings, statuses = [], []
            for _ in range(100):
                start = time.perf_counter()
                status, body = get(served.url, served.token)
                timings.append((time.perf_counter() - start) * 1000)
                statuses.append(status)
            botocore = run_python(BOTOCORE_50, sdk_env(logged_in, served.variables), timeout=300)
            still_open = slow.opened
        served.stop()
    assert statuses == [200] * 100
    assert botocore.stdout.strip().splitlines()[-1] == "loaded 50", botocore.stdout
    assert still_open >= 200 and set(slow.answers) <= {408}
    print(f"\nlegitimate client during 200 slow connections: median {statistics.median(timings):.2f} ms, "
          f"max {max(timings):.2f} ms over 100 requests; botocore 50/50; "
          f"slow connections opened {still_open}, answered {slow.answers}")


def test_the_head_limit_is_exact_and_strict_parsing_refuses_what_is_not_http(logged_in):
    with serve(logged_in, "--debug") as served:
        auth = f"Authorization: {served.token}\r\nHost: 127.0.0.1\r\n".encode()
        line = b"GET " + served.path.encode() + b" HTTP/1.1\r\n"

        def padded(total: int) -> bytes:  # a complete head of exactly ``total`` bytes
            base = line + auth + b"X-Pad: \r\n\r\n"
            return base.replace(b"X-Pad: ", b"X-Pad: " + b"a" * (total - len(base)))

        cases = {
            "exactly 8192 bytes": (padded(8192), 200),
            "8193 bytes": (padded(8193), 431),
            "12 KB in small chunks": (line + auth + b"X: y\r\n" * 2000 + b"\r\n", 431),
            "bare CR splitting a header": (line + b"X: a\rAuthorization: " + served.token.encode()
                                           + b"\r\n\r\n", 400),
            "HTTP/1.1junk": (b"GET " + served.path.encode() + b" HTTP/1.1junk\r\n" + auth + b"\r\n", 400),
            "HTTP/2.0": (b"GET " + served.path.encode() + b" HTTP/2.0\r\n" + auth + b"\r\n", 400),
            "folded header": (line + auth + b"X: a\r\n  folded\r\n\r\n", 400),
            "NUL in a value": (line + auth + b"X: a\x00b\r\n\r\n", 400),
            "space before colon": (line + b"Authorization : " + served.token.encode() + b"\r\n\r\n", 400),
            "absolute-form target": (b"GET http://x" + served.path.encode() + b" HTTP/1.1\r\n" + auth
                                     + b"\r\n", 400),
            "lower-case method": (b"get " + served.path.encode() + b" HTTP/1.1\r\n" + auth + b"\r\n", 400),
            "LF only (tolerated)": (line.replace(b"\r\n", b"\n") + auth.replace(b"\r\n", b"\n") + b"\n", 200),
        }
        statuses = {name: status_of(raw(served.host, served.port, payload))
                    for name, (payload, _) in cases.items()}
        still = get(served.url, served.token)[0]
        assert served.stop() == 0
    assert statuses == {name: status for name, (_, status) in cases.items()}
    assert still == 200
    assert "Traceback" not in served.stderr


def test_clients_cannot_write_control_characters_into_the_debug_log(logged_in):
    hostile = [b"GET /\x1b[31mred\x1b[0m HTTP/1.1\r\n\r\n", b"GET /a\rb HTTP/1.1\r\n\r\n",
               b"GET /a\x00b HTTP/1.1\r\n\r\n", b"\x1b]0;title\x07 / HTTP/1.1\r\n\r\n",
               b"GET /%1b%5b31m HTTP/1.1\r\nHost: localhost\r\n\r\n",
               "GET /\u00e9\u202e HTTP/1.1\r\n\r\n".encode()]
    with serve(logged_in, "--debug") as served:
        statuses = [status_of(raw(served.host, served.port, payload)) for payload in hostile]
        assert served.stop() == 0
    assert statuses == [400, 400, 400, 400, 401, 400]
    assert not any(ch in served.stderr for ch in ("\x1b", "\x00", "\r", "\x07", "\u202e"))
    assert "/%1b%5b31m" in served.stderr  # logged as sent: percent-escapes are harmless text


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-1", "1e9", "five"])
def test_a_request_timeout_that_is_not_a_positive_number_of_seconds_is_refused(sso_emulator, value):
    for command in ("serve", "exec"):
        args = [command, "--profile", "dev", f"--request-timeout={value}"]
        result = run_cli(sso_emulator, *args, *(["--", "true"] if command == "exec" else []))
        assert result.returncode == 2, result.stderr
        error = result.stderr.strip().splitlines()[-1]
        assert error.startswith(f"boto-sso-oidc {command}: error: argument --request-timeout: "), error
        assert "greater than 0" in error and "Traceback" not in result.stderr


# -- DNS rebinding: only the server's own names get an answer --------------------------------------


def _imds_requests(port: int, host: str, origin: str | None) -> tuple[int, int]:
    """A page's IMDSv2 dance through ``Host: host``: the token PUT, then the credentials GET."""
    extra = f"Origin: {origin}\r\n" if origin else ""
    put = (f"PUT /latest/api/token HTTP/1.1\r\nHost: {host}\r\n{extra}"
           "X-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n").encode()
    answer = raw("127.0.0.1", port, put)
    token = answer.partition(b"\r\n\r\n")[2].decode()
    get_ = (f"GET /latest/meta-data/iam/security-credentials/dev HTTP/1.1\r\nHost: {host}\r\n{extra}"
            f"X-aws-ec2-metadata-token: {token or 'none'}\r\n\r\n").encode()
    return status_of(answer), status_of(raw("127.0.0.1", port, get_))


@pytest.mark.parametrize("foreign", [("attacker.example:{port}", "http://attacker.example:{port}"),
                                     ("127.0.0.1.attacker.example", None),
                                     ("localhost.attacker.example:{port}", None),
                                     ("127.0.0.1:{port}", "http://attacker.example:{port}")])
def test_a_rebound_name_or_a_browser_gets_no_credentials_from_either_server(logged_in, foreign):
    """After DNS rebinding, a web page's requests reach the port with its own name as Host (and
    its Origin): both servers refuse them, 421, before a credential is read, and log each as
    refused; the same requests with the server's own Host get credentials."""
    with serve(logged_in, "--imds", "--debug") as imds, serve(logged_in, "--debug") as container:
        host, origin = (text.format(port=imds.port) if text else None for text in foreign)
        assert _imds_requests(imds.port, host, origin) == (421, 421)
        assert _imds_requests(imds.port, f"127.0.0.1:{imds.port}", None) == (200, 200)
        assert _imds_requests(imds.port, f"localhost:{imds.port}", None) == (200, 200)

        host, origin = (text.format(port=container.port) if text else None for text in foreign)
        request = (f"GET {container.path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {container.token}\r\n"
                   + (f"Origin: {origin}\r\n" if origin else "") + "\r\n").encode()
        refused = raw("127.0.0.1", container.port, request)
        own = request.replace(f"Host: {host}".encode(), f"Host: 127.0.0.1:{container.port}".encode())
        if origin:
            own = own.replace(f"Origin: {origin}\r\n".encode(), b"")
        served = raw("127.0.0.1", container.port, own)
        assert imds.stop() == 0 and container.stop() == 0
    assert status_of(refused) == 421 and b"AccessKeyId" not in refused
    assert status_of(served) == 200 and b"AccessKeyId" in served
    for stderr in (imds.stderr, container.stderr):
        assert stderr.count("Refused a request from 127.0.0.1") >= 1, stderr


def test_url_host_is_a_name_of_the_server(logged_in):
    with serve(logged_in, "--imds", "--url-host", "host.containers.internal") as served:
        assert served.url.startswith("http://host.containers.internal:")
        named = _imds_requests(served.port, f"host.containers.internal:{served.port}", None)
        other = _imds_requests(served.port, f"host.docker.internal:{served.port}", None)
        assert served.stop() == 0
    assert named == (200, 200) and other == (421, 421)
