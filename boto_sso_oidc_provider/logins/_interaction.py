"""Step 3 of the flow: talking to the person: can anyone answer a login, and what they are told.

Everything here writes to stderr (or the terminal), never stdout: stdout
belongs to the program's output (``credential-process`` JSON, above all).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import IO
from urllib.parse import urlparse

from ..config.reader import AutoLogin

__all__ = ["person_can_answer", "terminal_reachable", "login_allowed", "LoginPrompt", "open_browser",
           "browser_available", "remote_shell", "read_hidden_line", "sanitize"]


def _terminal_reachable() -> bool:
    """True if this process has a terminal a person could be looking at (a controlling terminal;
    on Windows a console)."""
    from .._platform import has_terminal, is_terminal

    return is_terminal(sys.stdin) or is_terminal(sys.stderr) or has_terminal()


def terminal_reachable() -> bool:
    """True if this process has a terminal a person could be looking at (stdin or stderr is one,
    or a controlling terminal can be opened)."""
    return _terminal_reachable()


def _in_ci(environ: Mapping[str, str]) -> bool:
    return environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def person_can_answer(environ: Mapping[str, str] | None = None) -> bool:
    """A prompt could be answered here: a terminal is reachable and ``CI`` is not set."""
    environ = os.environ if environ is None else environ
    return not _in_ci(environ) and _terminal_reachable()


def login_allowed(auto_login: AutoLogin, environ: Mapping[str, str] | None = None, *,
                  browser_opens: bool = False) -> bool:
    """May resolving credentials start a login? ``true``/``false`` decide; ``auto`` means "a
    person can answer": never with ``CI`` set; a reachable terminal, or ``browser_opens`` (the
    login would open a browser on this machine: :func:`browser_available` and opening allowed),
    so an IDE, a notebook or an agent without a terminal still gets the one login it can have."""
    if auto_login == "true":
        return True
    if auto_login == "false":
        return False
    environ = os.environ if environ is None else environ
    return not _in_ci(environ) and (browser_opens or _terminal_reachable())


def _is_wsl(environ: Mapping[str, str]) -> bool:
    if environ.get("WSL_DISTRO_NAME") or environ.get("WSL_INTEROP"):
        return True
    try:
        with open("/proc/sys/kernel/osrelease", encoding="ascii", errors="replace") as file:
            return "microsoft" in file.read().lower()
    except OSError:
        return False


def _has_display(environ: Mapping[str, str]) -> bool:
    from .._platform import has_display

    return has_display(environ)


def _in_container(environ: Mapping[str, str]) -> bool:
    """Docker (``/.dockerenv``), Podman (``/run/.containerenv``) or a runtime that says so."""
    if environ.get("container") or environ.get("REMOTE_CONTAINERS") or environ.get("CODESPACES"):
        return True
    return any(os.path.exists(path) for path in ("/.dockerenv", "/run/.containerenv"))


def remote_shell(environ: Mapping[str, str] | None = None) -> str | None:
    """Why the person's browser is not on this machine, when it is plainly so: ``"an SSH
    session"`` or ``"a container"`` with no browser to open here (:func:`browser_available`:
    no forwarded display, no ``BROWSER``); else None. WSL is no remote shell: the Windows
    browser is this machine's."""
    environ = os.environ if environ is None else environ
    if browser_available(environ):
        return None
    if environ.get("SSH_CONNECTION") or environ.get("SSH_CLIENT") or environ.get("SSH_TTY"):
        return "an SSH session"
    if _in_container(environ):
        return "a container"
    return None


def browser_available(environ: Mapping[str, str] | None = None) -> bool:
    """Could a browser be opened on this machine? ``BROWSER`` set, a display (macOS and
    Windows have one, except to a person who came in over SSH), or WSL (the Windows browser).
    Not in a bare SSH session."""
    environ = os.environ if environ is None else environ
    return bool(environ.get("BROWSER", "").strip()) or _has_display(environ) or _is_wsl(environ)


def _run_browser_command(argv: list[str], environ: Mapping[str, str]) -> bool:
    """Start one browser command; True unless it cannot start or fails at once.

    Its output goes to stderr, never stdout (which may carry credential-process
    JSON). It is not waited for beyond a moment: a text browser may run until
    the person quits it, while the login goes on.
    """
    import subprocess

    try:
        process = subprocess.Popen(argv, stdout=sys.stderr.fileno() if _has_fileno(sys.stderr)
                                   else subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, env=dict(environ), close_fds=True)
    except (OSError, ValueError):
        return False
    try:
        return process.wait(timeout=1.0) == 0
    except subprocess.TimeoutExpired:
        import threading

        threading.Thread(target=process.wait, daemon=True).start()  # reap it when it ends
        return True


def _has_fileno(stream: object) -> bool:
    try:
        stream.fileno()  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False
    return True


def _browser_commands(url: str, environ: Mapping[str, str]) -> list[list[str]]:
    """``BROWSER`` entries (``os.pathsep``-separated; ``%s`` is the URL, else it is appended),
    each split as a command line of this platform (Windows: double quotes, backslashes kept)."""
    from .._platform import split_command_line

    commands = []
    for entry in environ.get("BROWSER", "").split(os.pathsep):
        try:
            argv = split_command_line(entry)
        except ValueError:
            continue
        if argv:
            commands.append([arg.replace("%s", url) for arg in argv] if "%s" in entry
                            else [*argv, url])
    return commands


def open_browser(url: str, environ: Mapping[str, str] | None = None, *, local_file: bool = False) -> bool:
    """Open ``url`` (http or https only; with ``local_file``, a ``file:`` URL this package
    wrote) in a browser; True if one was started.

    ``BROWSER`` comes first and is honoured without a display (the usual WSL and
    remote set-ups); then, in WSL, the Windows browser (:func:`_open_in_windows`);
    then a display's default browser (:mod:`webbrowser`; macOS ``open``).
    """
    environ = os.environ if environ is None else environ
    if urlparse(url).scheme not in (("file",) if local_file else ("http", "https")):
        return False
    for argv in _browser_commands(url, environ):
        if _run_browser_command(argv, environ):
            return True
    if environ.get("BROWSER", "").strip():
        return False  # the person chose their browser; do not open another
    if _is_wsl(environ):
        return _open_in_windows(url, environ)
    if not _has_display(environ):
        return False
    import webbrowser

    try:
        return bool(webbrowser.open(url, new=2))
    except webbrowser.Error:
        return False


_CMD_SPECIAL = "^&|<>()"


def _open_in_windows(url: str, environ: Mapping[str, str]) -> bool:
    """WSL: the default browser of Windows, through ``wslview`` (wslu), else ``cmd.exe /c start``
    (its metacharacters escaped: an unescaped ``&`` would cut the URL at its first parameter),
    else ``explorer.exe`` (which exits 1 even when it opened the URL, so it counts as started)."""
    import shutil

    path = environ.get("PATH")
    if shutil.which("wslview", path=path) and _run_browser_command(["wslview", url], environ):
        return True
    if shutil.which("cmd.exe", path=path):
        escaped = "".join(f"^{char}" if char in _CMD_SPECIAL else char for char in url)
        if _run_browser_command(["cmd.exe", "/c", "start", '""', escaped], environ):
            return True
    if shutil.which("explorer.exe", path=path):
        _run_browser_command(["explorer.exe", url], environ)
        return True
    return False


def read_hidden_line(prompt: str, timeout: float, stream: IO[str] | None = None) -> str | None:
    """A line typed (or pasted) at the controlling terminal, not echoed: ``prompt`` goes to
    ``stream`` (stderr by default). None after ``timeout`` seconds, and None at once when there is
    no terminal (nobody to ask). Ctrl-C raises :class:`KeyboardInterrupt`; the terminal's echo is
    restored in every case."""
    stream = stream if stream is not None else sys.stderr
    if sys.platform == "win32":  # the console, through getpass (no time limit there)
        import getpass

        stream.write(prompt)
        stream.flush()
        try:
            return getpass.getpass("")
        except EOFError:
            return None
    import select
    import termios
    import time

    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        stream.write(prompt + "(no terminal to read from)\n")
        stream.flush()
        return None
    try:
        saved = termios.tcgetattr(fd)
        quiet = termios.tcgetattr(fd)
        quiet[3] &= ~(termios.ECHO | termios.ECHONL)
        # Echo off before the prompt shows: what is pasted as soon as it does is not echoed either.
        termios.tcsetattr(fd, termios.TCSANOW, quiet)
        try:
            stream.write(prompt)
            stream.flush()
            deadline = time.monotonic() + timeout
            line = b""
            while not line.endswith((b"\n", b"\r")):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                ready, _, _ = select.select([fd], [], [], min(remaining, 0.25))
                if ready:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        break
                    line += chunk
        finally:
            termios.tcsetattr(fd, termios.TCSANOW, saved)
            stream.write("\n")
            stream.flush()
    finally:
        os.close(fd)
    return line.decode("utf-8", "replace").strip()


def sanitize(text: str, limit: int = 8192) -> str:
    """``text`` safe to print to a terminal: control characters (ESC, CR, BEL, ...) and other
    non-printable ones become ``?``; at most ``limit`` characters."""
    cleaned = "".join(char if char.isprintable() else "?" for char in str(text)[:limit])
    return cleaned + ("..." if len(text) > limit else "")


class LoginPrompt:
    """What the person sees during a device-flow login, on ``stream`` (stderr by default)."""

    def __init__(self, stream: IO[str] | None = None, *, browser: bool = True) -> None:
        self._stream = stream
        self._browser = browser
        self._progress_shown = False

    @property
    def stream(self) -> IO[str]:
        return self._stream if self._stream is not None else sys.stderr

    def _is_tty(self) -> bool:
        from .._platform import is_terminal

        return is_terminal(self.stream)

    def show(self, what: str, verification_uri_complete: str, user_code: str) -> None:
        """Tell the person where to go and which code to confirm; try a browser.

        The URL and code come from the network: only printable text is shown (a terminal
        escape sequence could retitle the window, clear the screen or fake instructions).
        """
        self._open_and_print(what, verification_uri_complete, "in a browser",
                             f"and check that it shows the code: {sanitize(user_code)}\n\n")

    def show_remote_authorization(self, what: str, authorize_url: str, redirect_uri: str) -> None:
        """The remote login: the authorize URL for a browser anywhere, and what to paste back."""
        self.stream.write(
            f"\nLogging in to {what}.\nOpen this URL in a browser on any machine:\n\n"
            f"    {sanitize(authorize_url)}\n\n"
            f"and allow access. The browser then goes to {sanitize(redirect_uri)}, which it cannot "
            "reach from there: copy the whole address from its address bar and paste it here.\n")
        self.stream.flush()

    def read_redirect(self, timeout: float) -> str | None:
        """The address the person pastes (not echoed: it carries the authorization code)."""
        return read_hidden_line("Address (not shown): ", timeout, self.stream)

    def show_authorization(self, what: str, authorize_url: str) -> None:
        """The browser login: open the authorize URL if allowed, and always print it."""
        self._open_and_print(what, authorize_url, "in a browser on this machine",
                             "and allow access. Waiting for the browser...\n")

    def _open_and_print(self, what: str, url: str, where: str, then: str) -> None:
        url = sanitize(url)
        opened = self._browser and open_browser(url)
        first = ("A browser window should open. If it does not, open this URL" if opened
                 else f"To sign in, open this URL {where}")
        self.stream.write(f"\nLogging in to {what}.\n{first}:\n\n    {url}\n\n{then}")
        self.stream.flush()

    def waiting(self, elapsed: float, remaining: float) -> None:
        """Progress while polling; only at a terminal, on one rewritten line."""
        if not self._is_tty():
            return
        from .._platform import erase_line

        self._progress_shown = True
        self.stream.write(
            f"{erase_line(self.stream)}Waiting for approval... {int(elapsed)}s "
            f"(code expires in {int(max(0, remaining))}s) "
        )
        self.stream.flush()

    def done(self, message: str) -> None:
        if self._progress_shown:
            from .._platform import erase_line

            self.stream.write(erase_line(self.stream))
        self.stream.write(message + "\n")
        self.stream.flush()
