"""The browser login's redirect, pasted by the person (``login --remote``), instead of a listener.

For a terminal whose machine the browser cannot reach (SSH, a container, a cloud shell): the
authorize URL names a loopback redirect URI (``http://127.0.0.1:<port>/oauth/callback``, the
port fixed or chosen at random) where nothing listens; the browser, on any machine, ends on that
address after the person allows access, fails to load it, and the person copies it from the
address bar into the terminal. :class:`PastedRedirect` has the listener's interface
(``state``, ``redirect_uri``, ``wait``, ``finish``, ``close``), so the flow is the same:
only an address carrying this login's ``state`` (compared in constant time) is taken; another
is refused, saying so, and the person may paste again (:data:`ATTEMPTS` in all). The address
carries the authorization code: it is read without echo and never printed (PKCE makes the
code worthless to anyone without this process's verifier all the same).
"""

from __future__ import annotations

import hmac
import socket
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ._loopback_callback import CALLBACK_PATH, CallbackResult

__all__ = ["PastedRedirect", "ATTEMPTS"]

ATTEMPTS = 3
"""Addresses the person may paste before the login gives up."""

_PARAMETERS = ("code", "state", "error", "error_description")


def _free_port() -> int:
    """A port free on this machine now (nothing will listen there: the browser's request fails,
    as it must, and the address bar keeps the code for the person to copy)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PastedRedirect:
    """Waits for the person to paste the redirect of this login (see the module docstring)."""

    def __init__(self, prompt: Any, port: int | None = None) -> None:
        self.state: str = str(uuid.uuid4())
        self.port = port or _free_port()
        self._prompt = prompt

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{CALLBACK_PATH}"

    def __enter__(self) -> PastedRedirect:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait(self, timeout: float) -> CallbackResult | None:
        """The pasted redirect of this login; None when nothing came within ``timeout`` seconds
        or no terminal can be read. Raises :class:`~..exceptions.AuthorizationCodeError` after
        :data:`ATTEMPTS` addresses that are not this login's."""
        from ..exceptions import AuthorizationCodeError

        deadline = time.monotonic() + timeout
        for _attempt in range(ATTEMPTS):
            text = self._prompt.read_redirect(max(0.0, deadline - time.monotonic()))
            if text is None:
                return None
            result, problem = self._read(text)
            if result is not None:
                return result
            self._prompt.stream.write(f"{problem} Paste the address again, or press Ctrl-C.\n")
            self._prompt.stream.flush()
        raise AuthorizationCodeError(
            f"None of the {ATTEMPTS} addresses pasted was this login's redirect. Run the login again "
            "and paste the address the browser shows after you allow access.")

    def _read(self, text: str) -> tuple[CallbackResult | None, str]:
        """The redirect in ``text``, or None and why it was refused (never quoting it)."""
        parts = urlsplit(text.strip())
        if parts.path and parts.path.rstrip("/") != CALLBACK_PATH or not parts.query:
            return None, (f"That is not the address of the redirect (http://127.0.0.1:{self.port}"
                          f"{CALLBACK_PATH}?code=...&state=...).")
        query = parse_qs(parts.query, keep_blank_values=True)
        values = {name: query[name][0] for name in _PARAMETERS if len(query.get(name, [])) == 1}
        state = values.get("state")
        if state is None or not hmac.compare_digest(state.encode(), self.state.encode()):
            return None, ("That address is not this login's (its state differs: an older tab, or "
                          "another login): it was refused.")
        return CallbackResult(values.get("code"), state, values.get("error"),
                              values.get("error_description")), ""

    def finish(self, ok: bool, message: str) -> None:
        """Nothing to tell: the browser's page already failed to load."""

    def close(self) -> None:
        """Nothing to release."""
