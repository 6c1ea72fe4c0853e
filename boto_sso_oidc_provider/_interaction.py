"""Talking to the person: can anyone answer a login, and what they are told.

Everything here writes to stderr (or the terminal), never stdout: stdout
belongs to the program's output (``credential-process`` JSON, above all).
"""

from __future__ import annotations

import os
import sys
import webbrowser
from collections.abc import Mapping
from typing import IO
from urllib.parse import urlparse

from .config import AutoLogin

__all__ = ["person_can_answer", "login_allowed", "LoginPrompt", "open_browser"]


def _terminal_reachable() -> bool:
    """True if this process has a controlling terminal a person could be looking at."""
    for stream in (sys.stdin, sys.stderr):
        try:
            if stream is not None and stream.isatty():
                return True
        except (ValueError, OSError):  # closed or detached streams
            continue
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def person_can_answer(environ: Mapping[str, str] | None = None) -> bool:
    """A login prompt could be answered here: a terminal is reachable and ``CI`` is not set."""
    environ = os.environ if environ is None else environ
    if environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        return False
    return _terminal_reachable()


def login_allowed(auto_login: AutoLogin, environ: Mapping[str, str] | None = None) -> bool:
    """May resolving credentials start a login? ``true``/``false`` decide; ``auto`` asks
    :func:`person_can_answer`."""
    if auto_login == "true":
        return True
    if auto_login == "false":
        return False
    return person_can_answer(environ)


def _has_display(environ: Mapping[str, str]) -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def open_browser(url: str, environ: Mapping[str, str] | None = None) -> bool:
    """Open ``url`` in a browser if it is http(s) and there is a display; True if one opened."""
    environ = os.environ if environ is None else environ
    if urlparse(url).scheme not in ("http", "https") or not _has_display(environ):
        return False
    try:
        return bool(webbrowser.open(url, new=2))
    except webbrowser.Error:
        return False


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
        try:
            return self.stream.isatty()
        except (ValueError, OSError, AttributeError):
            return False

    def show(self, what: str, verification_uri_complete: str, user_code: str) -> None:
        """Tell the person where to go and which code to confirm; try a browser."""
        opened = self._browser and open_browser(verification_uri_complete)
        first = (
            "A browser window should open. If it does not, open this URL"
            if opened else "To sign in, open this URL in a browser"
        )
        self.stream.write(
            f"\nLogging in to {what}.\n{first}:\n\n    {verification_uri_complete}\n\n"
            f"and check that it shows the code: {user_code}\n\n"
        )
        self.stream.flush()

    def waiting(self, elapsed: float, remaining: float) -> None:
        """Progress while polling; only at a terminal, on one rewritten line."""
        if not self._is_tty():
            return
        self._progress_shown = True
        self.stream.write(
            f"\rWaiting for approval... {int(elapsed)}s (code expires in {int(max(0, remaining))}s) "
        )
        self.stream.flush()

    def done(self, message: str) -> None:
        if self._progress_shown:
            self.stream.write("\r\033[K")
        self.stream.write(message + "\n")
        self.stream.flush()
