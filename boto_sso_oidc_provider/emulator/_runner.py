"""Running an emulator in a background thread of this process."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from ._client import EmulatorControl
from ._config import EmulatorConfig
from ._server import EmulatorServer


class EmulatorHandle(EmulatorControl):
    """A running in-process emulator: its URL, its control methods and its state.

    ``str(handle)`` and ``handle.url`` are the base URL to use as
    ``AWS_ENDPOINT_URL``. ``handle.state`` is the live
    :class:`~._state.EmulatorState` for tests that need to look inside; hold
    ``handle.state.lock`` while reading its records.
    """

    def __init__(self, server: EmulatorServer) -> None:
        super().__init__(server.url, cafile=server.config.tls_certfile)
        self.server = server
        self.state = server.state
        self.config = server.config


@contextlib.contextmanager
def run_emulator(config: EmulatorConfig | None = None, /, **overrides: Any) \
        -> Iterator[EmulatorHandle]:
    """Serve an emulator on a free loopback port (by default) while the block runs.

    ``overrides`` are :class:`EmulatorConfig` fields, applied over ``config``.
    The server stops and its port is released when the block exits, and kept-alive
    client connections are closed. Raises :class:`TypeError` for an unknown
    field and :class:`OSError` when the address cannot be bound.
    """
    config = (config or EmulatorConfig()).replace(**overrides)
    server = EmulatorServer(config)
    thread = threading.Thread(target=server.serve_forever, name=f"sso-emulator-{server.port}",
                              daemon=True)
    thread.start()
    try:
        yield EmulatorHandle(server)
    finally:
        server.shutdown()
        thread.join()
        server.close()
