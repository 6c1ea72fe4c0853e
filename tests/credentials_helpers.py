"""Helpers shared by the role-credential, provider and installation tests."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from boto_sso_oidc_provider._clock import utc_now

T = TypeVar("T")


class MovableClock:
    """A clock the emulator and the code under test share, so a test moves time instead of sleeping."""

    def __init__(self) -> None:
        self._offset = dt.timedelta()
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return utc_now() + self._offset

    def reset(self) -> None:
        with self._lock:
            self._offset = dt.timedelta()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += dt.timedelta(seconds=seconds)


def race(code: str | Sequence[str], n: int, env: dict[str, str], workdir: Path,
         timeout: float = 120) -> list[subprocess.CompletedProcess[str]]:
    """Start ``n`` interpreters running ``code`` and release them together.

    ``code`` is one program for all, or one per interpreter (``n`` of them). Each must call
    ``wait_for_go()`` (defined for it, taking no argument) once it has imported and prepared
    everything, right before the racing part.
    """
    prelude = (
        "import os, sys, time\n"
        "def wait_for_go():\n"
        "    open(os.path.join(sys.argv[1], 'ready-%d' % os.getpid()), 'w').close()\n"
        "    go = os.path.join(sys.argv[1], 'go')\n"
        "    while not os.path.exists(go):\n"
        "        time.sleep(0.002)\n"
    )
    codes = [code] * n if isinstance(code, str) else list(code)
    assert len(codes) == n, "one program per interpreter"
    procs = [subprocess.Popen([sys.executable, "-c", prelude + program, str(workdir)], env=env,
                              text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, start_new_session=True)
             for program in codes]
    try:
        deadline = time.monotonic() + timeout
        while len(list(workdir.glob("ready-*"))) < n:
            failed = [p for p in procs if p.poll() is not None]
            assert not failed, [p.communicate() for p in failed]
            assert time.monotonic() < deadline, "the racers did not get ready"
            time.sleep(0.02)
        (workdir / "go").touch()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def in_threads(n: int, call: Callable[[], T], timeout: float = 60) -> tuple[list[T], list[BaseException]]:
    """Run ``call`` in ``n`` threads released together; returns the results and the errors raised."""
    barrier = threading.Barrier(n)
    results: list[T] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(10)
            results.append(call())
        except BaseException as error:  # collected for the test to assert on
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results, errors
