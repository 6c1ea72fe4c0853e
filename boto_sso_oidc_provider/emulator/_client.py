"""A client of the control plane, for an emulator in this process or any other."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any


class EmulatorControlError(RuntimeError):
    """The control plane refused a request (``status`` and ``code`` say why)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.status = status
        self.code = code


class EmulatorControl:
    """Drive an emulator through its ``/_emulator/`` control plane.

    ``str(control)`` is the emulator's base URL. Every method makes one HTTP
    call; a refusal raises :class:`EmulatorControlError`, an emulator that
    cannot be reached raises :class:`urllib.error.URLError`.
    """

    def __init__(self, url: str, timeout: float = 10.0, *, cafile: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
        if cafile:  # an HTTPS emulator: trust its certificate itself (a leaf will do)
            tls = ssl.create_default_context(cafile=cafile)
            tls.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
            handlers.append(urllib.request.HTTPSHandler(context=tls))
        # Never through a proxy (HTTP_PROXY set for the code under test must not take the
        # control plane along), and not urlopen's process-wide opener, which keeps the proxy
        # variables of its first use for ever.
        self._opener = urllib.request.build_opener(*handlers)

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def _call(self, method: str, name: str, payload: dict[str, Any] | None = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.url}/_emulator/{name}", data=data, method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            with error:
                try:
                    body = json.loads(error.read())
                except ValueError:
                    body = {}
            raise EmulatorControlError(
                error.code, str(body.get("error", "Error")), str(body.get("message", error.reason))
            ) from None

    def approve(self, user_code: str) -> None:
        """Approve the pending device authorization with this user code."""
        self._call("POST", "approve", {"userCode": user_code})

    def deny(self, user_code: str) -> None:
        """Deny the pending device authorization with this user code."""
        self._call("POST", "deny", {"userCode": user_code})

    def pending(self) -> list[str]:
        """User codes of device authorizations waiting for a decision."""
        return list(self._call("GET", "pending")["userCodes"])

    def calls(self) -> dict[str, dict[str, int]]:
        """Requests received: ``{"operations": {name: n}, "grants": {grant type: n}}``."""
        return dict(self._call("GET", "calls"))

    def fault(
        self,
        operation: str,
        error: str | None = None,
        count: int = 1,
        delay: float | None = None,
        grant_type: str | None = None,
        reason: str | None = None,
        hold: bool = False,
    ) -> None:
        """Make the next ``count`` calls of ``operation`` fail with ``error`` and/or wait
        ``delay`` seconds first; with ``hold``, wait until :meth:`release` first.
        ``grant_type`` limits a CreateToken fault to one grant;
        ``reason`` is the SSO OIDC error's ``reason`` (``KMS_DisabledException`` ...)."""
        payload: dict[str, Any] = {"operation": operation, "count": count}
        if hold:
            payload["hold"] = True
        for key, value in (("error", error), ("delay", delay), ("grantType", grant_type),
                           ("reason", reason)):
            if value is not None:
                payload[key] = value
        self._call("POST", "faults", payload)

    def held(self) -> int:
        """How many requests a ``hold`` fault keeps waiting now."""
        return int(self._call("GET", "held")["held"])

    def release(self) -> int:
        """Let every held request go on; returns how many were held."""
        return int(self._call("POST", "release", {})["released"])

    def expire(self, what: str) -> int:
        """Expire every record of a kind now (``access_tokens``, ``refresh_tokens``,
        ``role_credentials``, ``registrations``, ``device_codes``,
        ``authorization_codes``); returns how many changed."""
        return int(self._call("POST", "expire", {"what": what})["expired"])

    def reset(self) -> None:
        """Forget every token, registration, fault and counter."""
        self._call("POST", "reset", {})
