"""Foundation: what differs between POSIX (Linux, macOS) and Windows, answered in one place.

Each function answers one question the rest of the package asks: where the home is that the AWS
CLI and botocore use, how to open a file without following a link, how to replace a file that
another process may be reading, how to make a file or directory its owner's alone, which
signals ask a process to stop and how to stop a child, where the person's terminal is, and how
a command line is split. No other module names a POSIX-only or Windows-only attribute
(``signal.SIGHUP``, ``os.O_NOFOLLOW``, ``os.getuid``...).

Standard library only and cheap to import (the warm path imports it): ``ctypes``, ``time`` and
``subprocess`` are imported inside the few functions that need them, on the platform that does.

What Windows gets, and what it cannot:

* **Home.** Python's ``expanduser`` (so botocore and the AWS CLI) reads ``USERPROFILE`` on
  Windows and never ``HOME``: isolating a home means setting ``USERPROFILE`` there.
* **Links.** ``os.open`` has no ``O_NOFOLLOW`` on Windows: the path is looked at (``lstat``)
  before and after the open, and the opened file must be the one that was looked at.
* **Replacing.** Windows refuses to rename over a file another process holds open (as
  Python's ``open`` and most programs open files); :func:`replace` waits for the reader to
  close it, up to :data:`REPLACE_PATIENCE` seconds, and never gives up a write earlier.
* **Owner only.** POSIX modes mean little on Windows (``chmod`` only sets the read-only
  flag). Directories this package creates, and the cache files it writes, get a protected ACL
  instead: full control for the user, SYSTEM and Administrators only (what OpenSSH for
  Windows demands of private keys), a directory's inherited by what is created in it. wine
  maps ACLs to Unix modes, so under wine only their effect on the mode can be seen.
* **Stopping.** Windows has no SIGTERM, SIGHUP or SIGQUIT from outside a process: Ctrl-C and
  Ctrl-Break are console events that reach every process of the console (Python raises them
  as SIGINT and SIGBREAK), and ``taskkill /F`` is ``TerminateProcess``, as uncatchable as
  SIGKILL.
"""

from __future__ import annotations

import errno
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    import subprocess
    from collections.abc import Callable, Mapping
    from typing import IO, Any

__all__ = [
    "WINDOWS", "HOME_VARIABLE", "home_environment",
    "NONBLOCK", "open_no_follow", "keep_mode", "sync_file", "replace", "REPLACE_PATIENCE",
    "make_private_dir", "restrict_to_owner", "owner_only_acl", "sharing_problem", "lock_held",
    "termination_signals", "forwarded_signals", "terminal_sent", "signal_main_thread",
    "start_bound_child", "stop_child",
    "is_terminal", "erase_line", "open_terminal", "has_terminal", "has_display",
    "split_command_line", "join_command_line", "console_script_name", "console_script_dirs",
]

WINDOWS = sys.platform == "win32"


# -- the home the AWS CLI and botocore use --------------------------------------------------------

HOME_VARIABLE = "USERPROFILE" if WINDOWS else "HOME"
"""The variable that decides ``~`` for Python's ``expanduser``, so for botocore and the AWS CLI."""


def home_environment(home: str | os.PathLike[str]) -> dict[str, str]:
    """The variables that make ``home`` the home of botocore, the AWS CLI and this package: ``HOME``,
    and on Windows ``USERPROFILE`` too (the one ``expanduser`` reads there)."""
    return {"HOME": str(home), "USERPROFILE": str(home)} if WINDOWS else {"HOME": str(home)}


# -- opening without following links --------------------------------------------------------------

def _is_link(info: os.stat_result) -> bool:
    import stat

    # A Windows junction is a directory link lstat does not call a link.
    return stat.S_ISLNK(info.st_mode) or getattr(info, "st_reparse_tag", 0) == getattr(
        stat, "IO_REPARSE_TAG_MOUNT_POINT", -1)


def open_no_follow(path: str | os.PathLike[str], flags: int, mode: int = 0o600) -> int:
    """``os.open(path, flags, mode)``, refusing a symbolic link at ``path`` (OSError ``ELOOP``).

    POSIX: ``O_NOFOLLOW`` (and ``O_CLOEXEC``). Windows has no such flag: the path is looked at
    before and after the open, and the opened file must be the one seen there. A link raises
    ``ELOOP``; a file replaced by another between the look and the open raises
    :class:`FileNotFoundError` (the file that was looked at is gone), as an open of a path
    that vanished does.
    """
    if sys.platform != "win32":
        return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        before: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        before = None
    if before is not None and _is_link(before):
        raise OSError(errno.ELOOP, "is a symbolic link", str(path))
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOINHERIT", 0), mode)
    try:
        opened = os.fstat(fd)
        now = os.lstat(path)
        if _is_link(now):
            raise OSError(errno.ELOOP, "was replaced by a symbolic link while being opened", str(path))
        seen = [(now.st_dev, now.st_ino)] + ([(before.st_dev, before.st_ino)] if before else [])
        if any(identity != (opened.st_dev, opened.st_ino) for identity in seen):
            raise FileNotFoundError(errno.ENOENT, "was replaced while being opened", str(path))
    except BaseException:
        os.close(fd)
        raise
    return fd


NONBLOCK = getattr(os, "O_NONBLOCK", 0)
"""``os.open`` flag: opening a FIFO with no writer returns at once (POSIX; Windows has no FIFOs
in the file system, and no flag)."""


def keep_mode(fd: int, mode: int) -> None:
    """Give the open file ``fd`` the POSIX ``mode`` of the file it will replace (an edited config
    keeps its mode). Windows: nothing (the mode is only a read-only flag there; the new file
    has its folder's ACL, as the old one had)."""
    if sys.platform != "win32":
        os.fchmod(fd, mode)


def sync_file(path: str | os.PathLike[str]) -> None:
    """Make the content of the closed file ``path`` durable (``fsync``); Windows needs a handle
    opened for writing to flush one. Raises :class:`OSError`."""
    fd = os.open(path, (os.O_RDWR | getattr(os, "O_BINARY", 0)) if WINDOWS else os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- replacing a file another process may be reading ----------------------------------------------

REPLACE_PATIENCE = 10.0
"""Seconds :func:`replace` keeps trying while Windows says another process holds the target open
(a reader holds a cache file for milliseconds; an editor's lock is what this outlasts)."""

# ERROR_ACCESS_DENIED (what MoveFileEx answers for a target open without FILE_SHARE_DELETE),
# ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION; and ERROR_INTERNAL_ERROR, which wine answers
# for some of the same conflicts.
_SHARING_ERRORS = frozenset({5, 32, 33, 1359})


def replace(source: str | os.PathLike[str], target: str | os.PathLike[str], *,
            patience: float = REPLACE_PATIENCE, sleep: Callable[[float], None] | None = None) -> None:
    """Put ``source`` in place of ``target`` atomically (``os.replace``): a reader opens the old
    file or the new one, never a mix.

    On Windows, while another process holds ``target`` open, the rename is refused with a
    sharing error: it is tried again, with short pauses, for up to ``patience`` seconds, and the
    last error is raised only then (``source`` is left as it is, for the caller to remove).
    """
    if sys.platform != "win32":
        os.replace(source, target)
        return
    import time

    sleep = time.sleep if sleep is None else sleep
    deadline = time.monotonic() + patience
    pause = 0.001
    while True:
        try:
            os.replace(source, target)
            return
        except OSError as error:
            if getattr(error, "winerror", None) not in _SHARING_ERRORS or time.monotonic() >= deadline:
                raise
        sleep(pause)
        pause = min(pause * 2, 0.05)


# -- owner-only files and directories -------------------------------------------------------------

def make_private_dir(path: str | os.PathLike[str]) -> None:
    """Create the directory ``path`` (its parent must exist) for its owner alone.

    POSIX: mode 0700 whatever the umask. Windows: a protected ACL (no inherited entry) giving
    full control to this user, SYSTEM and Administrators only, inherited by what is created
    inside; if the ACL cannot be set the directory keeps its parent's (a user profile's
    already excludes other users). Raises :class:`FileExistsError` and other :class:`OSError`
    as ``os.mkdir`` does.
    """
    os.mkdir(path, 0o700)
    if sys.platform == "win32":
        try:
            _set_owner_only_acl(str(path), inherit=True)
        except OSError:
            pass
        return
    try:  # mkdir's mode is filtered by the umask
        os.chmod(path, 0o700)
    except OSError:
        pass


def restrict_to_owner(path: str | os.PathLike[str]) -> None:
    """Make the existing file ``path`` readable and writable by its owner only: mode 0600 on POSIX;
    on Windows the protected ACL of :func:`make_private_dir` (the user, SYSTEM, Administrators).
    Raises :class:`OSError`."""
    if sys.platform == "win32":
        _set_owner_only_acl(str(path), inherit=False)
    else:
        os.chmod(path, 0o600)


def sharing_problem(info: os.stat_result, *, directory: bool = False) -> str | None:
    """What opens a file (or ``directory``) that should be the user's alone to others, from its
    ``stat``: another owner, or a mode that lets others read a file or write a directory; None if
    nothing. POSIX only: on Windows the mode says nothing and this answers None (this package sets
    ACLs on what it creates, and does not check others')."""
    if sys.platform == "win32":
        return None
    if info.st_uid != os.getuid():
        return f"belongs to another user (uid {info.st_uid})"
    if info.st_mode & (0o022 if directory else 0o077):
        return f"can be {'written' if directory else 'read'} by other users (mode {info.st_mode & 0o777:o})"
    return None


def lock_held(path: str | os.PathLike[str]) -> bool | None:
    """Whether a process holds the ``flock`` of the lock file ``path`` now (POSIX; it is taken
    and let go at once when free); None when that cannot be told (Windows, where filelock removes
    its lock files itself, or a file that cannot be opened)."""
    if sys.platform == "win32":
        return None
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _owner_only_sddl(user_sid: str, inherit: bool) -> str:
    # D:P: a protected DACL (nothing inherited from above); OICI: inherited by the files and
    # folders created inside a directory; FA: full access.
    flags = "OICI" if inherit else ""
    return "D:P" + "".join(f"(A;{flags};FA;;;{sid})" for sid in (user_sid, "SY", "BA"))


def _win32() -> tuple[Any, Any]:
    """advapi32 and kernel32 with the prototypes used here (64-bit handles need them)."""
    import ctypes
    from ctypes import wintypes

    advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    pointer, handle, dword, out = ctypes.c_void_p, wintypes.HANDLE, wintypes.DWORD, ctypes.POINTER
    prototypes: list[tuple[Any, list[Any], Any]] = [
        (kernel32.GetCurrentProcess, [], handle),
        (kernel32.CloseHandle, [handle], wintypes.BOOL),
        (kernel32.LocalFree, [pointer], pointer),
        (advapi32.OpenProcessToken, [handle, dword, out(handle)], wintypes.BOOL),
        (advapi32.GetTokenInformation, [handle, ctypes.c_int, pointer, dword, out(dword)], wintypes.BOOL),
        (advapi32.ConvertSidToStringSidW, [pointer, out(wintypes.LPWSTR)], wintypes.BOOL),
        (advapi32.ConvertStringSecurityDescriptorToSecurityDescriptorW,
         [wintypes.LPCWSTR, dword, out(pointer), out(dword)], wintypes.BOOL),
        (advapi32.ConvertSecurityDescriptorToStringSecurityDescriptorW,
         [pointer, dword, dword, out(wintypes.LPWSTR), out(dword)], wintypes.BOOL),
        (advapi32.GetSecurityDescriptorDacl,
         [pointer, out(wintypes.BOOL), out(pointer), out(wintypes.BOOL)], wintypes.BOOL),
        (advapi32.SetNamedSecurityInfoW,
         [wintypes.LPWSTR, ctypes.c_int, dword, pointer, pointer, pointer, pointer], dword),
        (advapi32.GetNamedSecurityInfoW,
         [wintypes.LPWSTR, ctypes.c_int, dword, pointer, pointer, out(pointer), pointer, out(pointer)],
         dword),
    ]
    for function, argtypes, restype in prototypes:
        function.argtypes, function.restype = argtypes, restype
    return advapi32, kernel32


def _check(ok: object) -> None:
    if not ok:
        import ctypes

        raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined,unused-ignore]


def _current_user_sid() -> str:
    """This process's user, as an SDDL SID string (``S-1-5-21-...``)."""
    import ctypes
    from ctypes import wintypes

    advapi32, kernel32 = _win32()
    token = wintypes.HANDLE()
    token_query = 0x0008
    _check(advapi32.OpenProcessToken(kernel32.GetCurrentProcess(), token_query, ctypes.byref(token)))
    try:
        size = wintypes.DWORD(0)
        advapi32.GetTokenInformation(token, 1, None, 0, ctypes.byref(size))  # 1: TokenUser
        buffer = ctypes.create_string_buffer(size.value)
        _check(advapi32.GetTokenInformation(token, 1, buffer, size, ctypes.byref(size)))
        sid = ctypes.cast(buffer, ctypes.POINTER(ctypes.c_void_p))[0]  # TOKEN_USER.User.Sid
        text = wintypes.LPWSTR()
        _check(advapi32.ConvertSidToStringSidW(sid, ctypes.byref(text)))
        try:
            return str(text.value)
        finally:
            kernel32.LocalFree(ctypes.cast(text, ctypes.c_void_p))
    finally:
        kernel32.CloseHandle(token)


_SE_FILE_OBJECT = 1
_DACL_SECURITY_INFORMATION = 0x00000004
_PROTECTED_DACL_SECURITY_INFORMATION = 0x80000000


def _set_owner_only_acl(path: str, inherit: bool) -> None:
    import ctypes
    from ctypes import wintypes

    advapi32, kernel32 = _win32()
    descriptor = ctypes.c_void_p()
    _check(advapi32.ConvertStringSecurityDescriptorToSecurityDescriptorW(
        _owner_only_sddl(_current_user_sid(), inherit), 1, ctypes.byref(descriptor), None))
    try:
        present, defaulted, dacl = wintypes.BOOL(), wintypes.BOOL(), ctypes.c_void_p()
        _check(advapi32.GetSecurityDescriptorDacl(descriptor, ctypes.byref(present), ctypes.byref(dacl),
                                                  ctypes.byref(defaulted)))
        result = advapi32.SetNamedSecurityInfoW(
            path, _SE_FILE_OBJECT, _DACL_SECURITY_INFORMATION | _PROTECTED_DACL_SECURITY_INFORMATION,
            None, None, dacl, None)
        if result:
            raise ctypes.WinError(result)  # type: ignore[attr-defined,unused-ignore]
    finally:
        kernel32.LocalFree(descriptor)


def owner_only_acl(path: str | os.PathLike[str]) -> str | None:
    """The DACL of ``path`` in SDDL (Windows), to check what :func:`make_private_dir` did;
    None on POSIX, where the mode says it."""
    if sys.platform != "win32":
        return None
    import ctypes
    from ctypes import wintypes

    advapi32, kernel32 = _win32()
    descriptor, dacl = ctypes.c_void_p(), ctypes.c_void_p()
    result = advapi32.GetNamedSecurityInfoW(str(path), _SE_FILE_OBJECT, _DACL_SECURITY_INFORMATION,
                                            None, None, ctypes.byref(dacl), None, ctypes.byref(descriptor))
    if result:
        raise ctypes.WinError(result)  # type: ignore[attr-defined,unused-ignore]
    try:
        text = wintypes.LPWSTR()
        _check(advapi32.ConvertSecurityDescriptorToStringSecurityDescriptorW(
            descriptor, 1, _DACL_SECURITY_INFORMATION, ctypes.byref(text), None))
        try:
            return str(text.value)
        finally:
            kernel32.LocalFree(ctypes.cast(text, ctypes.c_void_p))
    finally:
        kernel32.LocalFree(descriptor)


# -- stop signals and children --------------------------------------------------------------------

def _signals(names: tuple[str, ...]) -> tuple[int, ...]:
    try:  # the builtin module: `signal` would import enum, which the warm path never needs
        import _signal as signal_module
    except ImportError:  # pragma: no cover - other interpreters
        import signal as signal_module
    return tuple(int(getattr(signal_module, name)) for name in names)


def termination_signals() -> tuple[int, ...]:
    """The signals that ask this process to stop cleanly, Ctrl-C's SIGINT aside: SIGTERM, and on
    Windows SIGBREAK too (Ctrl-Break, the console's other stop key). The CLI exits 143 on them."""
    return _signals(("SIGTERM", "SIGBREAK") if WINDOWS else ("SIGTERM",))


def forwarded_signals() -> tuple[int, ...]:
    """The signals ``exec`` catches to pass on to its child. POSIX: SIGTERM, SIGHUP, SIGUSR1,
    SIGUSR2, SIGINT and SIGQUIT. Windows: SIGINT and SIGBREAK, the console's Ctrl-C and
    Ctrl-Break, which the console gives every process attached to it, the child's included
    (:func:`terminal_sent`): ``exec`` catches them so as to outlive its child, not to resend."""
    return _signals(("SIGINT", "SIGBREAK") if WINDOWS else (
        "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGINT", "SIGQUIT"))


def terminal_sent(signum: int) -> bool:
    """Did the terminal send ``signum`` to every process in it, a child in the foreground included
    (so that passing it on would deliver it twice)? POSIX: SIGINT or SIGQUIT while this process
    is in the terminal's foreground process group. Windows: Ctrl-C and Ctrl-Break always (a
    console event reaches every process attached to the console)."""
    if sys.platform == "win32":
        return signum in _signals(("SIGINT", "SIGBREAK"))
    if signum not in _signals(("SIGINT", "SIGQUIT")):
        return False
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def signal_main_thread(signum: int) -> None:
    """Deliver ``signum`` again so that its handler runs in the main thread, from any thread:
    ``pthread_kill`` to the main thread on POSIX (it also ends a blocking wait there);
    ``raise_signal`` on Windows (the C handler only notes it; Python runs the handler in the
    main thread). Raises :class:`OSError` or :class:`ValueError` as those do."""
    import signal
    import threading

    if sys.platform == "win32":
        signal.raise_signal(signum)
    else:
        signal.pthread_kill(threading.main_thread().ident or 0, signum)


def start_bound_child(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start ``command`` (its standard streams are this process's) so that it does not outlive
    this process, however this one ends.

    Linux: its parent-death signal is SIGTERM (``prctl(PR_SET_PDEATHSIG)``), so it gets
    SIGTERM even when this process is SIGKILLed. Windows: it runs in a job object that kills
    its processes when the job's last handle closes, which is when this process ends, even by
    ``taskkill /F``. Elsewhere (macOS): nothing. Raises :class:`OSError` as ``Popen`` does.
    """
    import subprocess as _subprocess

    process = _subprocess.Popen(command, env=env, preexec_fn=_parent_death_signal())
    if sys.platform == "win32":
        _kill_with_this_process(process)
    return process


_PR_SET_PDEATHSIG = 1


def _parent_death_signal() -> Callable[[], None] | None:
    # The C function is looked up before the fork: the child only makes system calls (nothing
    # that could wait for a lock another thread of this process held).
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    sigterm = _signals(("SIGTERM",))[0]
    parent = os.getpid()

    def in_child() -> None:
        prctl(_PR_SET_PDEATHSIG, sigterm, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os.kill(os.getpid(), sigterm)

    return in_child


def stop_child(process: subprocess.Popen[bytes] | subprocess.Popen[str], grace: float) -> int:
    """Ask ``process`` to stop, wait up to ``grace`` seconds, then end it; its exit status.

    POSIX: SIGTERM, then SIGKILL. Windows: no request can be sent to a console program from
    outside its console group, so ``TerminateProcess`` at once (what ``taskkill /F`` does).
    """
    import subprocess as _subprocess

    if process.poll() is not None:
        return int(process.returncode)
    if sys.platform != "win32":
        process.terminate()
        try:
            return int(process.wait(grace))
        except _subprocess.TimeoutExpired:
            pass
    process.kill()
    return int(process.wait())


def _kill_with_this_process(process: subprocess.Popen[bytes]) -> None:
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    kernel32.CreateJobObjectW.argtypes = [ctypes.c_void_p, wintypes.LPCWSTR]
    kernel32.CreateJobObjectW.restype = wintypes.HANDLE
    kernel32.SetInformationJobObject.argtypes = [wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p,
                                                 wintypes.DWORD]
    kernel32.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]
    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        return

    class _Basic(ctypes.Structure):
        _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64), ("PerJobUserTimeLimit", ctypes.c_int64),
                    ("LimitFlags", wintypes.DWORD), ("MinimumWorkingSetSize", ctypes.c_size_t),
                    ("MaximumWorkingSetSize", ctypes.c_size_t), ("ActiveProcessLimit", wintypes.DWORD),
                    ("Affinity", ctypes.c_size_t), ("PriorityClass", wintypes.DWORD),
                    ("SchedulingClass", wintypes.DWORD)]

    class _Extended(ctypes.Structure):
        _fields_ = [("BasicLimitInformation", _Basic), ("IoInfo", ctypes.c_uint64 * 6),
                    ("ProcessMemoryLimit", ctypes.c_size_t), ("JobMemoryLimit", ctypes.c_size_t),
                    ("PeakProcessMemoryUsed", ctypes.c_size_t), ("PeakJobMemoryUsed", ctypes.c_size_t)]

    info = _Extended()
    info.BasicLimitInformation.LimitFlags = 0x2000  # JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    extended_limit_information = 9
    kernel32.SetInformationJobObject(job, extended_limit_information, ctypes.byref(info),
                                     ctypes.sizeof(info))
    # The job handle is never closed: it closes when this process ends, which ends the child.
    kernel32.AssignProcessToJobObject(job, int(process._handle))  # type: ignore[attr-defined]


# -- the person's terminal ------------------------------------------------------------------------

def is_terminal(stream: object) -> bool:
    """Whether ``stream`` is a terminal a person types in or reads: ``isatty()``, and on Windows,
    where ``isatty`` is true for any character device (the ``NUL`` of ``subprocess.DEVNULL`` and
    ``< NUL`` included), a console handle behind its file descriptor too (a stream without one
    is taken at its word). False for a closed or detached stream, or None."""
    try:
        if stream is None or not stream.isatty():  # type: ignore[attr-defined]
            return False
    except (AttributeError, ValueError, OSError):
        return False
    if sys.platform != "win32":
        return True
    import ctypes
    import msvcrt
    from ctypes import wintypes

    try:
        handle = msvcrt.get_osfhandle(stream.fileno())  # type: ignore[attr-defined,unused-ignore]
    except (AttributeError, ValueError, OSError):
        return True  # no descriptor (an IDE's console, a test's stand-in): its own answer
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    kernel32.GetConsoleMode.argtypes = [wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD)]
    mode = wintypes.DWORD()
    return bool(kernel32.GetConsoleMode(handle, ctypes.byref(mode)))


_ERASE_LINE = "\r\x1b[K"
_BLANK_LINE = "\r" + " " * 79 + "\r"
_erase_by_handle: dict[int, str] = {}


def erase_line(stream: object) -> str:
    """What takes a terminal's cursor back to the start of its line and blanks the line, for the
    lines that rewrite themselves (a login's countdown, a listing's progress).

    ``"\\r\\x1b[K"`` on POSIX, and on a Windows console that reads VT sequences: this turns
    them on for the stream's console, once (``ENABLE_VIRTUAL_TERMINAL_PROCESSING``, Windows 10
    and later; the console otherwise prints the escape as ``<-[K``). Where it cannot (an older
    console, or a stream that is no console), a carriage return, 79 blanks and another carriage
    return: what an 80-column line held is gone either way."""
    if sys.platform != "win32":
        return _ERASE_LINE
    import ctypes
    import msvcrt
    from ctypes import wintypes

    try:
        handle = msvcrt.get_osfhandle(stream.fileno())  # type: ignore[attr-defined,unused-ignore]
    except (AttributeError, ValueError, OSError):
        return _BLANK_LINE
    if handle not in _erase_by_handle:
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
        kernel32.GetConsoleMode.argtypes = [wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD)]
        kernel32.SetConsoleMode.argtypes = [wintypes.HANDLE, wintypes.DWORD]
        mode = wintypes.DWORD()
        virtual_terminal = 0x0004  # ENABLE_VIRTUAL_TERMINAL_PROCESSING
        reads_sequences = bool(kernel32.GetConsoleMode(handle, ctypes.byref(mode))) and (
            bool(mode.value & virtual_terminal)
            or bool(kernel32.SetConsoleMode(handle, mode.value | virtual_terminal)))
        _erase_by_handle[handle] = _ERASE_LINE if reads_sequences else _BLANK_LINE
    return _erase_by_handle[handle]


def open_terminal() -> tuple[IO[str], IO[str]] | None:
    """The person's terminal when the standard streams are not it: a stream to read answers from
    and one to write questions to (the caller closes both). ``/dev/tty`` on POSIX, the console
    (``CONIN$``, ``CONOUT$``) on Windows; None if there is none (a service, a pipe, CI)."""
    if sys.platform == "win32":
        try:
            reader = open("CONIN$", encoding="utf-8")  # noqa: SIM115 - the caller closes both
        except OSError:
            return None
        try:
            writer = open("CONOUT$", "w", encoding="utf-8")  # noqa: SIM115
        except OSError:
            reader.close()
            return None
        return reader, writer
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return None
    # A terminal is not seekable: one stream to read and one (a duplicate fd) to write.
    return os.fdopen(fd, "r", encoding="utf-8"), os.fdopen(os.dup(fd), "w", encoding="utf-8")


def has_terminal() -> bool:
    """Whether this process can reach a terminal a person could be looking at, though its standard
    streams are redirected: a controlling terminal (POSIX) or a console (Windows)."""
    if sys.platform == "win32":
        streams = open_terminal()
        if streams is None:
            return False
        for stream in streams:
            stream.close()
        return True
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def has_display(environ: Mapping[str, str]) -> bool:
    """Whether a browser opened by this process would appear in front of the person. Linux and the
    BSDs: a ``DISPLAY`` or ``WAYLAND_DISPLAY``. macOS and Windows always have a screen, but it is
    not the person's when they came in over SSH (``SSH_CONNECTION``, ``SSH_CLIENT`` or ``SSH_TTY``
    set, as OpenSSH sets them on both)."""
    if sys.platform in ("darwin", "win32"):
        return not any(environ.get(name) for name in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"))
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


# -- command lines --------------------------------------------------------------------------------

def split_command_line(line: str, *, windows: bool = WINDOWS) -> list[str]:
    """``line`` split into arguments as botocore's ``compat_shell_split`` splits ``credential_process``
    here (or on Windows, with ``windows``): POSIX shell rules (``shlex``), or the Windows C
    runtime's (only space and tab separate, only double quotes quote, backslashes are literal
    except in a run that ends at a double quote). Raises :class:`ValueError` on an open quote."""
    if not windows:
        import shlex

        return shlex.split(line)
    arguments: list[str] = []
    current: list[str] = []
    quoted = started = False
    backslashes = 0
    for char in line:
        if char == "\\":
            backslashes += 1
            continue
        if char == '"':
            current.append("\\" * (backslashes // 2))
            if backslashes % 2:
                current.append('"')
            else:
                quoted, started = not quoted, True
            backslashes = 0
            continue
        current.append("\\" * backslashes)
        backslashes = 0
        if char in " \t" and not quoted:
            if started or "".join(current):
                arguments.append("".join(current))
            current, started = [], False
            continue
        current.append(char)
    if quoted:
        raise ValueError(f"No closing quotation in string: {line}")
    current.append("\\" * backslashes)
    if started or "".join(current):
        arguments.append("".join(current))
    return arguments


def join_command_line(argv: list[str] | tuple[str, ...], *, windows: bool = WINDOWS) -> str:
    """``argv`` as one line that botocore's ``compat_shell_split`` splits back into ``argv`` on
    this platform (or on Windows, with ``windows``): shell quoting on POSIX,
    ``subprocess.list2cmdline`` (the C runtime's rules) on Windows."""
    if windows:
        import subprocess as _subprocess

        return _subprocess.list2cmdline(list(argv))
    import shlex

    return shlex.join(argv)


def console_script_name(name: str) -> str:
    """The file name of the console script ``name`` as installers write it here
    (``name.exe`` on Windows)."""
    return f"{name}.exe" if WINDOWS else name


def console_script_dirs() -> list[str]:
    """Where installers put console scripts for this interpreter: beside it (a POSIX install
    or a Windows venv's ``Scripts``), and on Windows its ``Scripts`` folder."""
    here = os.path.dirname(sys.executable)
    return [here, os.path.join(here, "Scripts")] if WINDOWS else [here]
