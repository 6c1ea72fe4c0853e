"""The request and response records every emulated service works with.

The server turns HTTP into a :class:`Request`, a service turns that into a
:class:`Response`. A service that refuses a request raises
:class:`ServiceError` carrying the response in its own error shape, so the
server never has to know what the services' errors look like.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, Protocol
from urllib.parse import parse_qs

from ._state import EmulatorState


@dataclass(frozen=True)
class Request:
    """One HTTP request, fully read."""

    method: str
    target: str
    """The request target as sent: path and query string, still percent-encoded."""
    path: str
    query: Mapping[str, list[str]]
    headers: Message
    body: bytes
    base_url: str
    """``http://host:port`` the client used to reach the emulator."""
    request_id: str = ""
    """The id the server answers in ``x-amzn-RequestId`` (and STS in its XML)."""

    def param(self, name: str) -> str | None:
        """The first value of query parameter ``name``, or ``None``."""
        values = self.query.get(name)
        return values[0] if values else None

    def form(self) -> dict[str, list[str]]:
        """The body as ``application/x-www-form-urlencoded`` (non-UTF-8 bytes replaced)."""
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


class ServiceError(Exception):
    """A refusal, already shaped as the service that refuses answers."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


class ErrorShape(Protocol):
    """How one service words its errors (used for faults and the server's own refusals)."""

    invalid_request: str
    """The error name for a request the server cannot read (body too large, bad framing)."""
    internal_error: str
    """The error name for a failure of the emulator itself."""

    def error(self, name: str, message: str, status: int | None = None,
              request_id: str = "") -> Response:
        """The response for error ``name``; ``status`` overrides the modeled one."""

    def fault_errors(self) -> Mapping[str, int]:
        """The error names a fault may inject, with their HTTP status."""


Handler = Callable[[EmulatorState, Request], Response]


@dataclass(frozen=True)
class Route:
    """What the server runs for one method and path."""

    handler: Handler
    shape: ErrorShape
    operation: str | Callable[[Request], str | None] | None = None
    """The counted (and fault-injectable) operation, or what reads it from the
    request; ``None`` for pages and the control plane."""
    qualifier: Callable[[Request], str | None] | None = None
    """Reads the detail that faults may filter on and calls are counted by (a grant type)."""


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, {"Content-Type": "application/json", **(headers or {})})


def html_response(status: int, html: str) -> Response:
    return Response(status, html.encode(), {"Content-Type": "text/html; charset=utf-8"})


def redirect(location: str) -> Response:
    return Response(302, b"", {"Location": location, "Cache-Control": "no-store"})


def json_body(request: Request, on_error: Callable[[str], ServiceError]) -> dict[str, Any]:
    """The body as a JSON object (an empty body is ``{}``).

    Raises ``on_error(message)`` for anything that is not a JSON object.
    """
    if not request.body.strip():
        return {}
    try:
        payload = json.loads(request.body)
    except ValueError:
        raise on_error("The request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise on_error("The request body must be a JSON object")
    return payload


def rest_json_error(status: int, name: str, payload: Mapping[str, Any]) -> Response:
    """An error as restJson1 services send it: the type in ``x-amzn-errortype``."""
    return json_response(status, payload, {"x-amzn-errortype": name})
