"""Step 4 of the flow: the locked cache: one JSON file per entry, shared with the AWS CLI v2 and botocore.

Writes are atomic (a temporary file in the same directory, flushed and
fsynced, then ``os.replace``), so a reader never sees half a file, even if the
writer is killed; readers therefore need no lock. Files are created 0600 in
directories 0700 (on Windows: owner-only ACLs, and a rename that Windows refuses
while another process reads the file is tried again until it is done; see
:mod:`.._platform`).

Deciding *and* writing is serialized by a lock file beside each entry
(``<entry>.json.lock``, an ``flock`` through :mod:`filelock`), plus a
per-process :class:`threading.Lock` so threads queue cheaply. The kernel drops
an ``flock`` when its holder dies, so a killed process never leaves a stuck
lock. Callers re-read the entry after acquiring the lock: someone else may
already have done the work. On POSIX the holder removes the lock file before
it lets go, so no empty ``*.lock`` file is left beside the caches; a taker
that locked a file removed meanwhile sees that the path names another file
(or none) and takes the lock again.

A corrupt, truncated or wrongly typed file is logged as a warning and treated
as absent: the next write replaces it.
"""

from __future__ import annotations

import contextlib
import errno
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

from .._files import ensure_private_dir
from .._platform import WINDOWS, replace, restrict_to_owner
from ._layout import DEFAULT_LOCK_TIMEOUT

_WARNED: set[tuple[str, object, str]] = set()
"""The unusable cache files this process has warned about: (path, its version, why)."""
_WARNED_LOCK = threading.Lock()

__all__ = ["CacheEntry", "PreparedWrite", "bounded_timeout"]

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


# A prepared write lives at most as long as a login (a device code lasts 10 minutes): a temporary
# file this old was left by a process that was killed.
_STALE_AFTER = 3600.0


def _remove_stale_temporaries(directory: Path) -> None:
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        for item in entries:
            if not (item.name.startswith(".tmp-") and item.name.endswith(".json")):
                continue
            with contextlib.suppress(OSError):
                if now - item.stat(follow_symlinks=False).st_mtime > _STALE_AFTER:
                    os.unlink(item.path)


def bounded_timeout(seconds: float) -> float:
    """A lock wait the threading and filelock APIs accept: NaN and negatives are 0, ``inf``
    and anything beyond :data:`threading.TIMEOUT_MAX` (about 292 years) is that maximum."""
    if seconds != seconds or seconds < 0:  # NaN
        return 0.0
    return min(float(seconds), threading.TIMEOUT_MAX)


class CacheEntry:
    """One JSON cache file and its lock.

    ``describe`` names the entry in warnings (never its content).
    """

    def __init__(self, path: Path, *, describe: str, lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
                 max_bytes: int | None = None) -> None:
        self.max_bytes = max_bytes
        """Files larger are unusable (None: :data:`~.._files.MAX_CACHE_BYTES`)."""
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.describe = describe
        self.lock_timeout = bounded_timeout(lock_timeout)

    def __repr__(self) -> str:
        return f"CacheEntry({str(self.path)!r})"

    # -- reading -------------------------------------------------------------------------------

    def read(self) -> dict[str, Any] | None:
        """The entry's JSON object, or None if absent or unusable (with a warning for the latter).

        Never blocks and never reads without bound: a FIFO, a device, a directory or a file
        over :data:`~boto_sso_oidc_provider._files.MAX_CACHE_BYTES` is unusable.
        """
        from .._files import MAX_CACHE_BYTES, NotARegularFileError, read_small_file

        try:
            data = json.loads(read_small_file(self.path, self.max_bytes or MAX_CACHE_BYTES))
        except (FileNotFoundError, NotADirectoryError):  # no such file: a parent is not even a directory
            return None
        except (OSError, ValueError, RecursionError) as error:
            if isinstance(error, NotARegularFileError):
                reason = error.strerror or "is not a regular file"
            elif isinstance(error, OSError):
                reason = "unreadable"
            else:  # ValueError covers bad UTF-8 too; RecursionError is JSON nested absurdly deep
                reason = "not valid JSON"
            self._ignoring(f"it {reason if reason.startswith('is ') else f'is {reason}'}")
            return None
        if not isinstance(data, dict):
            self._ignoring(f"it holds a {type(data).__name__}, not a JSON object")
            return None
        return data

    def _ignoring(self, why: str) -> None:
        """Warn that this file is ignored, once per process for one version of the file: the
        same command reads an entry several times (before its lock, under it), and one warning
        is all a person needs."""
        from .._files import file_identity

        try:
            version: object = file_identity(os.stat(self.path))
        except OSError:
            version = None
        key = (str(self.path), version, why)
        with _WARNED_LOCK:
            if key in _WARNED:
                return
            _WARNED.add(key)
        logger.warning("Ignoring the %s cache file %s: %s; it will be replaced.", self.describe,
                       self.path, why)

    def load(self, parse: Callable[[dict[str, Any]], _T | None], what: str) -> _T | None:
        """The entry parsed by ``parse``, or None; content ``parse`` rejects is a warning.

        ``what`` says what the file should hold ("an SSO token"), for the warning.
        """
        data = self.read()
        if data is None:
            return None
        parsed = parse(data)
        if parsed is None:
            self._ignoring(f"it does not hold {what}")
        return parsed

    # -- writing -------------------------------------------------------------------------------

    def write(self, data: dict[str, Any]) -> None:
        """Replace the entry atomically with ``data`` (mode 0600)."""
        with self.prepared_write() as pending:
            pending.commit(data)

    def prepared_write(self) -> PreparedWrite:
        """Get ready to replace the entry: directory made, temporary file created and space reserved.

        For writes that follow a call that cannot be repeated (a refresh rotates the
        refresh token): whatever makes the write impossible (a read-only or full disk,
        ``ulimit -f``, the entry's path being a directory) is raised here as
        :class:`OSError`, *before* the call. Use as a context manager; the temporary
        file is removed if :meth:`PreparedWrite.commit` is never called.
        """
        if os.path.isdir(self.path) and not os.path.islink(self.path):
            from .._files import NotARegularFileError

            raise NotARegularFileError(errno.EISDIR, "is a directory, not a file", str(self.path))
        ensure_private_dir(self.path.parent)
        _remove_stale_temporaries(self.path.parent)
        return PreparedWrite(self)

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

        timeout = self.lock_timeout if timeout is None else bounded_timeout(timeout)
        deadline = time.monotonic() + timeout
        thread_lock = _process_lock(str(self.lock_path))
        if not self._acquire_thread_lock(thread_lock, timeout):
            raise self._timeout_error(timeout)
        try:
            ensure_private_dir(self.path.parent)
            noticed = False
            while True:
                file_lock = filelock.FileLock(str(self.lock_path), mode=0o600, thread_local=False)
                wait = max(0.0, deadline - time.monotonic())
                try:
                    file_lock.acquire(timeout=wait if noticed else min(_WAIT_NOTICE_AFTER, wait))
                except filelock.Timeout:
                    if noticed:
                        raise self._timeout_error(timeout) from None
                    noticed = True
                    self._notice_waiting()
                    continue
                if _holds_the_lock_file(file_lock, self.lock_path):
                    break
                # The file was removed by the previous holder after this process opened it: the
                # lock is on a file nobody else will ever look at. Take the lock file anew.
                file_lock.release()
            try:
                yield
            finally:
                _remove_lock_file(file_lock, self.lock_path)
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
        from .._platform import erase_line, is_terminal

        if is_terminal(sys.stderr):
            # On a line of its own: the terminal may be showing another process's live line (a
            # login's countdown, rewritten in place), which this clears first rather than
            # writing into the middle of it; that line goes on below.
            print(f"{erase_line(sys.stderr)}Waiting for another process to finish with the "
                  f"{self.describe}...", file=sys.stderr, flush=True)

    def _timeout_error(self, timeout: float) -> Exception:
        from ..exceptions import CacheLockTimeoutError

        return CacheLockTimeoutError(
            f"Gave up after {timeout:g}s waiting for the lock on the {self.describe} cache "
            f"({self.lock_path}): another process is still using it. Try again, or raise "
            "boto_sso_oidc_lock_timeout.",
            lock_path=str(self.lock_path),
        )


def _lock_fd(file_lock: Any) -> int | None:
    """The descriptor a held :class:`filelock.FileLock` locks (filelock 3.12 to 4.x keep it in
    ``_context.lock_file_fd``), or None where it has none to show (a soft lock, another layout)."""
    fd = getattr(getattr(file_lock, "_context", None), "lock_file_fd", None)
    return fd if isinstance(fd, int) else None


def _holds_the_lock_file(file_lock: Any, lock_path: Path) -> bool:
    """Whether the lock just taken is on the file ``lock_path`` names now (POSIX: the holder before
    removes it, see :func:`_remove_lock_file`; a process that had opened it before then holds a
    lock on a file no one else can open, and must take the new one)."""
    from .._platform import WINDOWS

    fd = _lock_fd(file_lock)
    if WINDOWS or fd is None:
        return True
    try:
        return os.path.samestat(os.fstat(fd), os.stat(lock_path))
    except FileNotFoundError:
        return False
    except OSError:
        return True


def _remove_lock_file(file_lock: Any, lock_path: Path) -> None:
    """Remove the lock file while it is still held (POSIX), so no empty ``*.lock`` file is left
    beside the caches and the config. Safe because every taker checks, once it holds the lock,
    that it holds the file the path names (:func:`_holds_the_lock_file`; recent filelock versions
    check it too). Windows: filelock removes it itself when it releases."""
    from .._platform import WINDOWS

    fd = _lock_fd(file_lock)
    if WINDOWS or fd is None:
        return
    with contextlib.suppress(OSError):
        if os.path.samestat(os.fstat(fd), os.stat(lock_path)):
            os.unlink(lock_path)


class PreparedWrite:
    """A replacement of one cache entry, made ready before the data exists (see
    :meth:`CacheEntry.prepared_write`)."""

    # Reserved in the temporary file up front (JSON allows the trailing spaces): no cache
    # file comes near it, so the commit needs no new disk space.
    RESERVE = 16384

    def __init__(self, entry: CacheEntry) -> None:
        self.entry = entry
        # mkstemp creates the file 0600 (owner only), whatever the umask; on Windows the mode means
        # nothing and the file gets an owner-only ACL.
        fd, self._tmp = tempfile.mkstemp(dir=entry.path.parent, prefix=".tmp-", suffix=".json")
        self._handle: Any = None
        try:
            self._handle = os.fdopen(fd, "r+b")
            if WINDOWS:
                restrict_to_owner(self._tmp)
            # flush() makes the write() calls now: a file-size limit, a full disk or quota fails
            # here. (No fsync: the commit's fsync makes the file durable.)
            self._handle.write(b" " * self.RESERVE)
            self._handle.flush()
        except BaseException:
            self.discard()
            raise

    def __enter__(self) -> PreparedWrite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    def commit(self, data: dict[str, Any]) -> None:
        """Write ``data`` and atomically put it in place of the entry. Raises :class:`OSError`."""
        if self._handle is None:
            raise ValueError("this prepared write was already committed or discarded")
        text = json.dumps(data).encode("utf-8")
        try:
            handle = self._handle
            handle.seek(0)
            handle.write(text)
            handle.truncate(len(text))
            handle.flush()
            os.fsync(handle.fileno())
            self._handle = None
            handle.close()
            replace(self._tmp, self.entry.path)  # on Windows, waits for readers to close it
        except BaseException:
            self.discard()
            raise
        self._tmp = ""
        self.entry._fsync_dir()

    def discard(self) -> None:
        """Remove the temporary file (nothing happens after a commit)."""
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()
            self._handle = None
        if self._tmp:
            with contextlib.suppress(OSError):
                os.unlink(self._tmp)
            self._tmp = ""
