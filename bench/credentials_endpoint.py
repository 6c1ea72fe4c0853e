"""Benchmark: latency and throughput of ``boto-sso-oidc serve``: the container-credentials endpoint,
the instance-metadata (``--imds``) endpoint beside it, and the container endpoint under slowloris.

    python bench/credentials_endpoint.py [--requests 1000] [--seconds 5] [--clients 4] [--connections 50]
                                         [--slow 200]

Everything runs on this machine against the bundled emulator, in a temporary
HOME (your ~/.aws is not touched): one login, then ``boto-sso-oidc serve``
in its own process, and clients in other processes (so that the clients'
interpreter does not share the server's):

* latency: ``--requests`` sequential requests from one client, each on a new
  connection as the SDKs make them (``Connection: close``), timed from
  connect to the last byte; median, 90th and 99th percentile;
* botocore: the same through botocore's own ``ContainerMetadataFetcher`` (what
  boto3 calls on every refresh), median;
* throughput: ``--clients`` processes, each keeping ``--connections`` /
  ``--clients`` requests in flight (threads), for ``--seconds``; requests
  answered per second, and that every one was a 200.

The same three figures for ``serve --imds`` (a GET with a session token; botocore's
``InstanceMetadataFetcher.retrieve_iam_role_credentials``, which makes a token PUT
and two GETs). Then ``--slow`` connections that send a request head one header line
a second and never finish it (slowloris, no token) are held open against the
container endpoint while the latency run is repeated.

The emulator's GetRoleCredentials counter shows that the whole run made one
call per endpoint. This is a benchmark, not a test: it prints figures and never fails on a number.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import platform
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from boto_sso_oidc_provider.emulator import emulator_environment, run_emulator, sso_config

PROFILE = "dev"


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or model
    return (f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


IMDS_CREDENTIALS = "/latest/meta-data/iam/security-credentials/"


def headers_for(token: str) -> dict[str, str]:
    """The container endpoint's Authorization header, or (``imds:`` prefix) IMDS's token header."""
    if token.startswith("imds:"):
        return {"X-aws-ec2-metadata-token": token[5:]}
    return {"Authorization": token}


def request(url: str, token: str) -> int:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request("GET", parts.path, headers=headers_for(token))
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def latency(url: str, token: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        began = time.perf_counter()
        status = request(url, token)
        times.append(time.perf_counter() - began)
        assert status == 200, status
    return times


def botocore_latency(url: str, token: str, n: int) -> list[float]:
    from botocore.utils import ContainerMetadataFetcher

    fetcher = ContainerMetadataFetcher()
    times = []
    for _ in range(n):
        began = time.perf_counter()
        fetcher.retrieve_full_uri(url, headers={"Authorization": token})
        times.append(time.perf_counter() - began)
    return times


def _load_worker(url: str, token: str, threads: int, start_at: float, stop_at: float,
                 results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    counts = {"ok": 0, "other": 0}
    lock = threading.Lock()

    def loop() -> None:
        while time.time() < start_at:
            time.sleep(0.001)
        ok = other = 0
        while time.time() < stop_at:
            if request(url, token) == 200:
                ok += 1
            else:
                other += 1
        with lock:
            counts["ok"] += ok
            counts["other"] += other

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put(counts)


def throughput(url: str, token: str, clients: int, connections: int, seconds: float) -> tuple[int, int]:
    results: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    start_at = time.time() + 1.0
    stop_at = start_at + seconds
    per_client = max(1, connections // clients)
    processes = [multiprocessing.Process(target=_load_worker,
                                         args=(url, token, per_client, start_at, stop_at, results))
                 for _ in range(clients)]
    for process in processes:
        process.start()
    totals = [results.get(timeout=seconds + 60) for _ in processes]
    for process in processes:
        process.join()
    return sum(t["ok"] for t in totals), sum(t["other"] for t in totals)


def imds_token(base: str) -> str:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request("PUT", "/latest/api/token",
                           headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
        return "imds:" + connection.getresponse().read().decode()
    finally:
        connection.close()


def botocore_imds_latency(base: str, n: int) -> list[float]:
    from botocore.utils import InstanceMetadataFetcher

    fetcher = InstanceMetadataFetcher(config={"ec2_metadata_service_endpoint": base})
    times = []
    for _ in range(n):
        began = time.perf_counter()
        assert fetcher.retrieve_iam_role_credentials(), "no credentials"
        times.append(time.perf_counter() - began)
    return times


class Slowloris:
    """``n`` connections sending one header line a second, reopened when the server closes one."""

    def __init__(self, url: str, n: int) -> None:
        parts = urlsplit(url)
        self.address = (parts.hostname or "", parts.port or 80)
        self.path = parts.path.encode()
        self.n = n
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def open(self, selector: Any) -> None:
        sock = socket.create_connection(self.address)
        sock.sendall(b"GET " + self.path + b" HTTP/1.1\r\nHost: x\r\n")
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)

    def run(self) -> None:
        selector = selectors.DefaultSelector()
        for _ in range(self.n):
            self.open(selector)
        self.ready.set()
        next_line = time.monotonic() + 1
        while not self.stop.is_set():
            for key, _ in selector.select(timeout=0.05):
                try:
                    chunk = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    selector.unregister(key.fileobj)
                    key.fileobj.close()
                    self.open(selector)
            if time.monotonic() >= next_line:
                next_line += 1
                for key in list(selector.get_map().values()):
                    try:
                        key.fileobj.send(b"X-Slow: one line a second\r\n")
                    except OSError:
                        pass
        for key in list(selector.get_map().values()):
            key.fileobj.close()


def start_serve(cli: list[str], env: dict[str, str],
                *args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    server = subprocess.Popen([*cli, "serve", "--profile", PROFILE, "--format", "dotenv", *args], env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    assert server.stdout is not None
    lines = 1 if "--imds" in args else 2
    return server, dict(server.stdout.readline().strip().split("=", 1) for _ in range(lines))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def report(what: str, times: list[float], args: argparse.Namespace) -> None:
    times = sorted(times)

    def pct(p: float) -> float:
        return times[min(len(times) - 1, int(p * len(times)))]

    print(f"{what}: latency, one client, {args.requests} sequential requests (new connection each): "
          f"median {ms(statistics.median(times))}, p90 {ms(pct(0.90))}, p99 {ms(pct(0.99))}, "
          f"max {ms(times[-1])}")


def report_throughput(counts: tuple[int, int], args: argparse.Namespace) -> None:
    ok, other = counts
    print(f"  throughput, {args.clients} client processes, {args.connections} requests in flight, "
          f"{args.seconds:g} s: {ok / args.seconds:.0f} requests/s ({ok} answered 200, {other} other)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="sequential requests timed (1000)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the throughput run (5)")
    parser.add_argument("--clients", type=int, default=4, help="client processes for throughput (4)")
    parser.add_argument("--connections", type=int, default=50,
                        help="requests in flight at once, over all client processes (50)")
    parser.add_argument("--slow", type=int, default=200,
                        help="slowloris connections held open during the last latency run (200)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-") as home, \
            run_emulator(auto_approve=True, interval=0) as emulator:
        (Path(home) / ".aws").mkdir(mode=0o700)
        (Path(home) / ".aws" / "config").write_text(sso_config(profile=PROFILE))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_SSO_OIDC_"))}
        env.update(emulator_environment(home, emulator.url), BOTO_SSO_OIDC_OPEN_BROWSER="false",
                   BOTO_SSO_OIDC_AUTO_LOGIN="true")
        cli = [sys.executable, "-m", "boto_sso_oidc_provider"]
        login = subprocess.run([*cli, "login", "--profile", PROFILE], env=env, capture_output=True,
                               text=True, stdin=subprocess.DEVNULL, timeout=120)
        if login.returncode != 0:
            print(f"login failed: {login.stderr}", file=sys.stderr)
            return 1
        print(f"Machine: {machine()}")
        server, variables = start_serve(cli, env)
        try:
            url = variables["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
            token = variables["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
            latency(url, token, 50)  # warm-up
            report("Container endpoint", latency(url, token, args.requests), args)
            print("  botocore ContainerMetadataFetcher.retrieve_full_uri: median "
                  f"{ms(statistics.median(botocore_latency(url, token, min(200, args.requests))))}")
            report_throughput(throughput(url, token, args.clients, args.connections, args.seconds), args)
            calls = emulator.calls()["operations"]["GetRoleCredentials"]
            slow = Slowloris(url, args.slow)
            slow.thread.start()
            slow.ready.wait(60)
            time.sleep(2)  # every slow connection has sent a header line or two
            report(f"Container endpoint with {args.slow} slowloris connections held open",
                   latency(url, token, args.requests), args)
            slow.stop.set()
            slow.thread.join(30)
        finally:
            server.terminate()
            server.communicate(timeout=30)
        server, variables = start_serve(cli, env, "--imds")
        try:
            base = variables["AWS_EC2_METADATA_SERVICE_ENDPOINT"]
            url, token = base.rstrip("/") + IMDS_CREDENTIALS + PROFILE, imds_token(base)
            latency(url, token, 50)  # warm-up
            report("IMDS endpoint (GET with a session token)", latency(url, token, args.requests), args)
            print("  botocore InstanceMetadataFetcher.retrieve_iam_role_credentials (PUT + 2 GETs): median "
                  f"{ms(statistics.median(botocore_imds_latency(base, min(200, args.requests))))}")
            report_throughput(throughput(url, token, args.clients, args.connections, args.seconds), args)
            imds_calls = emulator.calls()["operations"]["GetRoleCredentials"] - calls
        finally:
            server.terminate()
            server.communicate(timeout=30)
    print(f"GetRoleCredentials calls during the whole run: {calls} (container endpoint), "
          f"{imds_calls} (IMDS endpoint)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
