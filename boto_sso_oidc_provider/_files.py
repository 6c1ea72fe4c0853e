"""Reading a small file someone else may have replaced with something hostile, and making the
private directories the caches live in.

Cache and config paths are shared with other tools and sit in the user's
home: one of them may be a FIFO (an ``open`` that never returns), a symlink
to ``/dev/zero`` (a read that never ends), a directory, or simply huge.
:func:`read_small_file` opens without blocking, refuses anything that is not
a regular file and reads at most a bound, so every one of those is a plain
:class:`OSError` the caller already treats as "unusable", never a hang.

Standard library only, cheap to import: the warm path uses it.
"""

from __future__ import annotations

import errno
import os
import stat

__all__ = ["MAX_CACHE_BYTES", "SETTLE", "NotARegularFileError", "ensure_private_dir", "file_identity",
           "read_small_file", "settling"]

MAX_CACHE_BYTES = 1 << 20
"""No cache file this package or the AWS CLI writes comes near 1 MiB; a bigger one is not ours."""

# O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting forever.
# O_NOCTTY: opening a terminal device never makes it our controlling terminal.
# Both are POSIX-only; elsewhere getattr gives 0 (no such files to worry about there).
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_BINARY", 0))


SETTLE = 1.0
"""Seconds a file another program changed may still be mid-write: the AWS CLI rewrites
``~/.aws/config`` in place (truncate, then write), so a read within this time of the file's last
change may see it empty, shrunken or cut off."""


def file_identity(info: os.stat_result) -> tuple[int, int, int, int]:
    """What tells one version of a file from another: device, inode, size, modification time."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def settling(path: str | os.PathLike[str]) -> bool:
    """Whether the file at ``path`` changed less than :data:`SETTLE` seconds ago."""
    import time

    try:
        return time.time() - os.stat(path).st_mtime < SETTLE
    except OSError:
        return False


class NotARegularFileError(OSError):
    """The path exists but is a directory, FIFO, device or socket, or is larger than allowed."""


def read_small_file(path: str | os.PathLike[str], limit: int = MAX_CACHE_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, if it holds at most ``limit`` bytes.

    Symlinks to regular files are followed (the AWS CLI's and dotfile managers'
    layouts use them); the check is made on the opened file, so nothing can be
    swapped in between. Raises :class:`FileNotFoundError` if there is nothing
    there, :class:`NotARegularFileError` for a directory, FIFO, device, socket
    or a file over ``limit``, and other :class:`OSError` as ``open`` does.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except IsADirectoryError:
        raise NotARegularFileError(errno.EISDIR, "is a directory, not a file", str(path)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFileError(errno.EINVAL, "is not a regular file", str(path))
        if info.st_size > limit:
            raise NotARegularFileError(errno.EFBIG, f"is larger than {limit} bytes", str(path))
        chunks = []
        size = 0
        while True:
            # The whole file in one read when its size is known (a big AWS config: one copy).
            chunk = os.read(fd, min(max(65536, info.st_size + 1 - size), limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew while we read
                raise NotARegularFileError(errno.EFBIG, f"is larger than {limit} bytes", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)


def ensure_private_dir(directory: str | os.PathLike[str]) -> None:
    """Create ``directory`` and every missing parent for the user alone (0700 whatever the umask;
    on Windows a protected ACL: see :func:`._platform.make_private_dir`); warn (once) if an
    existing one can be written by others or belongs to someone else.

    Raises :class:`~boto_sso_oidc_provider.exceptions.CacheDirectoryError` (one line naming
    the directory and what to do) when it cannot be created, e.g. under ``HOME=/dev/null``.
    """
    directory = os.path.normpath(os.fspath(directory))
    if os.path.isdir(directory):
        _check_private(directory)
        return
    missing = []
    current = directory
    while not os.path.exists(current) and os.path.dirname(current) != current:
        missing.append(current)
        current = os.path.dirname(current)
    from ._platform import HOME_VARIABLE, make_private_dir

    for path in reversed(missing):
        try:
            make_private_dir(path)
        except FileExistsError:
            continue
        except OSError as error:
            from .exceptions import CacheDirectoryError

            home = os.environ.get(HOME_VARIABLE, "")
            raise CacheDirectoryError(
                f"The cache directory {directory} cannot be created ({path}: {error.strerror}). "
                f"Set {HOME_VARIABLE} to a directory this user can write ({HOME_VARIABLE} is "
                f"{home!r}; the AWS CLI and botocore keep their caches in ~/.aws), or fix what is "
                "in the way.", path=directory) from None
    _check_private(directory)


_checked_dirs: set[str] = set()


def _check_private(directory: str) -> None:
    """Warn loudly, once per process, about a cache directory others could write to (POSIX: on
    Windows, :func:`._platform.sharing_problem` has no answer)."""
    from ._platform import sharing_problem

    if directory in _checked_dirs:
        return
    _checked_dirs.add(directory)
    try:
        problem = sharing_problem(os.stat(directory), directory=True)
    except OSError:
        return
    if problem:
        import logging  # not at import: the warm path reads files through this module

        logging.getLogger(__name__).warning(
            "The cache directory %s %s: they could replace your SSO tokens and credentials. "
            "Fix it with: chmod 700 %s", directory, problem, directory)
