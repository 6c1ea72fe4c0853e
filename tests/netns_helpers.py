"""Network namespaces for the tests that need more than one machine: several hosts, each with its
own loopback, joined by veth links (``ip netns``, root only), and a TCP forwarder to run in one.
Used by the container recipes and the port-forwarded login."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator

import pytest

__all__ = ["FORWARDER", "can_make_namespaces", "needs_namespaces", "namespaces"]


def can_make_namespaces() -> bool:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return False
    name = f"bsotest{secrets.token_hex(3)}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode == 0
    if made:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return made


needs_namespaces = pytest.mark.skipif(not can_make_namespaces(),
                                      reason="needs root and iproute2 to make network namespaces")


@contextlib.contextmanager
def namespaces(*names: str) -> Iterator[list[str]]:
    """New namespaces (``bso<name><random>``), each with its loopback up; deleted at the end."""
    made = [f"bso{name}{secrets.token_hex(3)}" for name in names]
    try:
        for name in made:
            subprocess.run(["ip", "netns", "add", name], check=True)
            subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield made
    finally:
        for name in made:
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


FORWARDER = """
import socket, sys, threading
listen_host, listen_port, target_host, target_port = sys.argv[1:5]
server = socket.create_server((listen_host, int(listen_port)))
print("ready", flush=True)
def pipe(a, b):
    try:
        while data := a.recv(65536):
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
while True:
    client, _ = server.accept()
    upstream = socket.create_connection((target_host, int(target_port)))
    threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
    threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
"""
"""A TCP forwarder: ``python -c FORWARDER LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT``
prints ``ready`` once it listens (an ``ssh -L``, Docker Desktop's or WSL2's forwarding)."""
