"""The control plane under ``/_emulator/``: JSON, no authentication, for tests and demos.

==========================  ===================================================
``POST /_emulator/approve`` ``{"userCode": "ABCD-EFGH"}``: approve a pending login
``POST /_emulator/deny``    ``{"userCode": "ABCD-EFGH"}``: deny it
``GET /_emulator/pending``  ``{"userCodes": [...]}``: logins awaiting a decision
``GET /_emulator/calls``    ``{"operations": {name: n}, "grants": {type: n}}``
``POST /_emulator/faults``  ``{"operation", "error"?, "delay"?, "hold"?, "count"?, "grantType"?}``
``GET /_emulator/faults``   ``{"faults": [...]}``: what is still queued
``GET /_emulator/held``     ``{"held": n}``: requests a ``hold`` fault keeps waiting now
``POST /_emulator/release`` ``{}``: let every held request go on (``{"released": n}``)
``POST /_emulator/expire``  ``{"what": "access_tokens" | ...}``: expire a kind now
``POST /_emulator/reset``   forget tokens, registrations, faults and counters
==========================  ===================================================

Errors are ``{"error": "<code>", "message": "..."}`` with 400, 404 (unknown
user code) or 409 (the login can no longer be decided). POSTs must be
``Content-Type: application/json`` (415 otherwise) and, from a browser, come
from the emulator's own origin (403 otherwise): a web page elsewhere cannot
approve a login or inject faults.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from . import _eks, _federation, _oidc, _portal, _sts
from ._http import (
    ErrorShape,
    Request,
    Response,
    Route,
    ServiceError,
    json_body,
    json_response,
)
from ._state import EXPIRABLE, OPERATIONS, EmulatorState, Fault

PREFIX = "/_emulator"
_MAX_DELAY = 60.0  # seconds: a fault must not hold a server thread for long

# operation -> the error shape (and so the error names) a fault may inject for it
_SHAPES: dict[str, ErrorShape] = {
    **{route.operation: route.shape for route in (*_oidc.ROUTES.values(), *_portal.ROUTES.values())
       if isinstance(route.operation, str)},
    **{operation: _sts.ERRORS for operation in _sts.OPERATIONS},
    **{operation: _federation.ERRORS for operation in _federation.OPERATIONS},
    **{operation: _eks.ERRORS for operation in _eks.OPERATIONS},
}
assert set(_SHAPES) == set(OPERATIONS)


class ControlErrors:
    """The control plane's own JSON errors."""

    invalid_request = "InvalidRequest"
    internal_error = "InternalError"

    def error(self, name: str, message: str, status: int | None = None,
              request_id: str = "") -> Response:
        return json_response(status or 400, {"error": name, "message": message})

    def fault_errors(self) -> Mapping[str, int]:
        return {}


ERRORS = ControlErrors()


def _refuse(message: str, status: int = 400, name: str = "InvalidRequest") -> ServiceError:
    return ServiceError(ERRORS.error(name, message, status))


def _body(request: Request) -> dict[str, Any]:
    # JSON only: a browser can send text/plain or a form anywhere without asking first (no CORS
    # preflight), application/json it cannot; so a page elsewhere cannot drive the emulator.
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if request.method == "POST" and content_type != "application/json":
        raise _refuse("The control plane takes Content-Type: application/json only", 415,
                      "UnsupportedMediaType")
    return json_body(request, _refuse)


def _decide(state: EmulatorState, request: Request, approve: bool) -> Response:
    user_code = _body(request).get("userCode")
    if not isinstance(user_code, str) or not user_code:
        raise _refuse("userCode is required")
    authorization = state.decide(user_code, approve)
    if authorization is None:
        raise _refuse(f"No device authorization has user code {user_code}", 404, "NotFound")
    wanted = "approved" if approve else "denied"
    if authorization.status != wanted:
        detail = ("expired" if authorization.status == "pending" else authorization.status)
        raise _refuse(f"The device authorization is {detail}", 409, "Conflict")
    return json_response(200, {"userCode": authorization.user_code, "status": wanted})


def approve(state: EmulatorState, request: Request) -> Response:
    return _decide(state, request, approve=True)


def deny(state: EmulatorState, request: Request) -> Response:
    return _decide(state, request, approve=False)


def pending(state: EmulatorState, request: Request) -> Response:
    return json_response(200, {"userCodes": state.pending_user_codes()})


def calls(state: EmulatorState, request: Request) -> Response:
    return json_response(200, state.calls())


def _fault_json(fault: Fault) -> dict[str, Any]:
    return {"operation": fault.operation, "error": fault.error, "delay": fault.delay,
            "count": fault.count, "grantType": fault.grant_type, "reason": fault.reason,
            "hold": fault.hold}


def parse_fault(payload: Mapping[str, Any]) -> Fault:
    """A :class:`Fault` from its JSON form; raises :class:`ValueError` saying what is wrong."""
    operation = payload.get("operation")
    if operation not in _SHAPES:
        raise ValueError(f"operation must be one of {', '.join(OPERATIONS)}")
    error, delay = payload.get("error"), payload.get("delay")
    count, grant_type = payload.get("count", 1), payload.get("grantType")
    hold = payload.get("hold", False)
    if not isinstance(hold, bool):
        raise ValueError("hold must be true or false")
    allowed = _SHAPES[operation].fault_errors()
    if error is not None and error not in allowed:
        raise ValueError(f"error for {operation} must be one of {', '.join(sorted(allowed))}")
    if delay is not None and (
        isinstance(delay, bool) or not isinstance(delay, (int, float))
        or not math.isfinite(delay) or not 0 <= delay <= _MAX_DELAY
    ):
        raise ValueError(f"delay must be a number of seconds from 0 to {_MAX_DELAY:g}")
    if error is None and not delay and not hold:
        raise ValueError("a fault needs an error, a delay or a hold")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError("count must be a positive integer")
    if grant_type is not None and (operation != "CreateToken" or not isinstance(grant_type, str)):
        raise ValueError("grantType filters CreateToken faults only, and is a string")
    reason = payload.get("reason")
    if reason is not None and (_SHAPES[operation] is not _oidc.ERRORS
                               or reason not in _oidc.REASONS.get(str(error), ())):
        raise ValueError("reason is for SSO OIDC errors only: "
                         + "; ".join(f"{name}: {', '.join(sorted(reasons))}"
                                     for name, reasons in _oidc.REASONS.items()))
    return Fault(operation, error, float(delay) if delay else None, count, grant_type, reason,
                 hold)


def add_fault(state: EmulatorState, request: Request) -> Response:
    try:
        fault = parse_fault(_body(request))
    except ValueError as error:
        raise _refuse(str(error)) from None
    state.add_fault(fault)
    return json_response(200, {"queued": _fault_json(fault)})


def list_faults(state: EmulatorState, request: Request) -> Response:
    with state.lock:
        return json_response(200, {"faults": [_fault_json(fault) for fault in state.faults]})


def held(state: EmulatorState, request: Request) -> Response:
    return json_response(200, {"held": state.held()})


def release(state: EmulatorState, request: Request) -> Response:
    _body(request)
    return json_response(200, {"released": state.release()})


def expire(state: EmulatorState, request: Request) -> Response:
    what = _body(request).get("what")
    try:
        changed = state.expire(what if isinstance(what, str) else "")
    except ValueError:
        raise _refuse(f"what must be one of {', '.join(EXPIRABLE)}") from None
    return json_response(200, {"what": what, "expired": changed})


def reset(state: EmulatorState, request: Request) -> Response:
    _body(request)
    state.reset()
    return json_response(200, {})


ROUTES: dict[tuple[str, str], Route] = {
    ("POST", f"{PREFIX}/approve"): Route(approve, ERRORS),
    ("POST", f"{PREFIX}/deny"): Route(deny, ERRORS),
    ("GET", f"{PREFIX}/pending"): Route(pending, ERRORS),
    ("GET", f"{PREFIX}/calls"): Route(calls, ERRORS),
    ("POST", f"{PREFIX}/faults"): Route(add_fault, ERRORS),
    ("GET", f"{PREFIX}/faults"): Route(list_faults, ERRORS),
    ("GET", f"{PREFIX}/held"): Route(held, ERRORS),
    ("POST", f"{PREFIX}/release"): Route(release, ERRORS),
    ("POST", f"{PREFIX}/expire"): Route(expire, ERRORS),
    ("POST", f"{PREFIX}/reset"): Route(reset, ERRORS),
}
