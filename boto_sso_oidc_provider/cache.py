"""The locked cache: one JSON file per entry, shared with the AWS CLI v2 and botocore.

Writes are atomic (a temporary file in the same directory, flushed and
fsynced, then ``os.replace``), so a reader never sees half a file, even if the
writer is killed; readers therefore need no lock. Files are created 0600 in
directories 0700.

Deciding *and* writing is serialized by a lock file beside each entry
(``<entry>.json.lock``, an ``flock`` through :mod:`filelock`), plus a
per-process :class:`threading.Lock` so threads queue cheaply. The kernel drops
an ``flock`` when its holder dies, so a killed process never leaves a stuck
lock. Callers re-read the entry after acquiring the lock: someone else may
already have done the work.

A corrupt, truncated or wrongly typed file is logged as a warning and treated
as absent: the next write replaces it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from ._layout import DEFAULT_LOCK_TIMEOUT

__all__ = ["CacheEntry"]

_T = TypeVar("_T")

logger = logging.getLogger(__name__)

_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()

# Tell a person at a terminal why nothing is happening after this long.
_WAIT_NOTICE_AFTER = 1.0


def _process_lock(path: str) -> threading.Lock:
    with _process_locks_guard:
        lock = _process_locks.get(path)
        if lock is None:
            lock = _process_locks[path] = threading.Lock()
        return lock


def _ensure_private_dir(directory: Path) -> None:
    """Create ``directory`` (and parents) 0700; tighten it if we created it looser."""
    if directory.is_dir():
        return
    # makedirs' mode is filtered by the umask, so chmod what it makes.
    os.makedirs(directory, mode=0o700, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(directory, 0o700)


class CacheEntry:
    """One JSON cache file and its lock.

    ``describe`` names the entry in warnings (never its content).
    """

    def __init__(self, path: Path, *, describe: str, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.describe = describe
        self.lock_timeout = lock_timeout

    def __repr__(self) -> str:
        return f"CacheEntry({str(self.path)!r})"

    # -- reading -------------------------------------------------------------------------------

    def read(self) -> dict[str, Any] | None:
        """The entry's JSON object, or None if absent or unusable (with a warning for the latter)."""
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            reason = "unreadable" if isinstance(error, OSError) else "not valid JSON"
            logger.warning(
                "Ignoring the %s cache file %s: it is %s; it will be replaced.",
                self.describe, self.path, reason,
            )
            return None
        if not isinstance(data, dict):
            logger.warning(
                "Ignoring the %s cache file %s: it holds a %s, not a JSON object; "
                "it will be replaced.", self.describe, self.path, type(data).__name__,
            )
            return None
        return data

    def load(self, parse: Callable[[dict[str, Any]], _T | None], what: str) -> _T | None:
        """The entry parsed by ``parse``, or None; content ``parse`` rejects is a warning.

        ``what`` says what the file should hold ("an SSO token"), for the warning.
        """
        data = self.read()
        if data is None:
            return None
        parsed = parse(data)
        if parsed is None:
            logger.warning("Ignoring the %s cache file %s: it does not hold %s; it will be replaced.",
                           self.describe, self.path, what)
        return parsed

    # -- writing -------------------------------------------------------------------------------

    def write(self, data: dict[str, Any]) -> None:
        """Replace the entry atomically with ``data`` (mode 0600)."""
        _ensure_private_dir(self.path.parent)
        text = json.dumps(data)
        # mkstemp creates the file 0600 (owner only), whatever the umask.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._fsync_dir()

    def _fsync_dir(self) -> None:
        # Makes the rename itself durable; not possible everywhere, never fatal.
        with contextlib.suppress(OSError, AttributeError):
            fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def delete(self) -> bool:
        """Remove the entry; True if there was one."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            return False
        return True

    # -- locking -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the entry's lock (threads of this process and other processes alike).

        Waits at most ``timeout`` seconds (default: the entry's ``lock_timeout``),
        then raises :class:`~boto_sso_oidc_provider.exceptions.CacheLockTimeoutError`.
        """
        import filelock

        timeout = self.lock_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        thread_lock = _process_lock(str(self.lock_path))
        if not self._acquire_thread_lock(thread_lock, timeout):
            raise self._timeout_error(timeout)
        try:
            _ensure_private_dir(self.path.parent)
            file_lock = filelock.FileLock(str(self.lock_path), mode=0o600, thread_local=False)
            try:
                file_lock.acquire(timeout=min(_WAIT_NOTICE_AFTER, max(0.0, timeout)))
            except filelock.Timeout:
                self._notice_waiting()
                try:
                    file_lock.acquire(timeout=max(0.0, deadline - time.monotonic()))
                except filelock.Timeout:
                    raise self._timeout_error(timeout) from None
            try:
                yield
            finally:
                file_lock.release()
        finally:
            thread_lock.release()

    def _acquire_thread_lock(self, lock: threading.Lock, timeout: float) -> bool:
        if lock.acquire(timeout=min(_WAIT_NOTICE_AFTER, timeout)):
            return True
        self._notice_waiting()
        return lock.acquire(timeout=max(0.0, timeout - _WAIT_NOTICE_AFTER))

    def _notice_waiting(self) -> None:
        logger.info("Waiting for the lock on the %s cache (%s)", self.describe, self.lock_path)
        if sys.stderr is not None and sys.stderr.isatty():
            print(
                f"Waiting for another process to finish with the {self.describe}...",
                file=sys.stderr,
            )

    def _timeout_error(self, timeout: float) -> Exception:
        from .exceptions import CacheLockTimeoutError

        return CacheLockTimeoutError(
            f"Gave up after {timeout:g}s waiting for the lock on the {self.describe} cache "
            f"({self.lock_path}): another process is still using it. Try again, or raise "
            "boto_sso_oidc_lock_timeout.",
            lock_path=str(self.lock_path),
        )
