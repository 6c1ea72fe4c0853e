"""The pages a person uses: device verification and the authorization consent.

``/device`` (the ``verificationUri``) asks for the user code, or with
``?user_code=`` (the ``verificationUriComplete``) shows it with Allow and
Deny buttons, which are real form POSTs to ``/device/approve`` and
``/device/deny``. ``/authorize`` shows a consent form that POSTs back to
``/authorize``, then redirects (302) to the client's loopback redirect URI
with ``code`` and ``state`` (or ``error=access_denied``); with auto-approve
it redirects at once. ``/start`` stands for a start URL on a custom (vanity)
domain: a GET or HEAD answers 302 with the AWS-owned start URL
(``portal_url``) in ``Location``, as the access portal does. ``/`` is an index
of what the emulator serves.

Every value shown is HTML-escaped; forms carry no secrets but the user code
and the client's own authorization parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from ._http import Request, Response, Route, html_response, redirect
from ._oidc import (
    AuthorizeError,
    AuthorizeRedirect,
    authorization_redirect,
    parse_authorization_request,
)
from ._state import DeviceAuthorization, EmulatorState

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#16191f}
h1{font-size:1.4rem} .code{font:600 2rem monospace;letter-spacing:.2rem;margin:1rem 0}
button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem;cursor:pointer}
.allow{background:#ff9900;border:1px solid #ec7211} .muted{color:#5f6b7a}
form{display:inline} input[type=text]{font:1.2rem monospace;padding:.4rem;width:12rem}
"""


class PageErrors:
    """Errors of the pages are pages too (plain HTML, no service shape)."""

    invalid_request = "Bad request"
    internal_error = "Something went wrong"

    def error(self, name: str, message: str, status: int | None = None,
              request_id: str = "") -> Response:
        return _page(name, f"<p>{escape(message)}</p>", status or 400)

    def fault_errors(self) -> Mapping[str, int]:
        return {}


ERRORS = PageErrors()


def _page(title: str, body: str, status: int = 200) -> Response:
    return html_response(status, (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)} - IAM Identity Center emulator</title>"
        f"<style>{_STYLE}</style></head><body>\n<h1>{escape(title)}</h1>\n{body}\n"
        "<p class=\"muted\">IAM Identity Center emulator (boto-sso-oidc-provider)</p>"
        "</body></html>\n"
    ))


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'


def _single(values: Mapping[str, list[str]]) -> dict[str, str]:
    return {name: items[0] for name, items in values.items() if items}


def index(state: EmulatorState, request: Request) -> Response:
    pending = "".join(
        f'<li><a href="/device?user_code={escape(code)}">{escape(code)}</a></li>'
        for code in state.pending_user_codes()
    ) or "<li class=\"muted\">none</li>"
    user = state.directory.user
    return _page("IAM Identity Center emulator", (
        f"<p>Signed in as <b>{escape(user.user_name)}</b> ({escape(user.email)}).</p>"
        f"<p>Point AWS SDKs here with <code>AWS_ENDPOINT_URL={escape(request.base_url)}</code>."
        "</p><p><a href=\"/device\">Enter a device code</a></p>"
        f"<p>A vanity start URL: <code>{escape(request.base_url)}/start</code> redirects to "
        f"<code>{escape(state.config.portal_url)}</code>.</p>"
        f"<h2>Waiting for approval</h2><ul>{pending}</ul>"
    ))


def _ask_for_code(message: str = "", status: int = 200) -> Response:
    notice = f"<p><b>{escape(message)}</b></p>" if message else ""
    return _page("Authorize request", (
        f"{notice}<p>Enter the code shown by the application.</p>"
        '<form method="get" action="/device"><input type="text" name="user_code" '
        'placeholder="ABCD-EFGH" autofocus> <button type="submit">Next</button></form>'
    ), status)


def _status_message(state: EmulatorState, authorization: DeviceAuthorization) -> str | None:
    """Why a device authorization can no longer be decided, or ``None`` if it can."""
    if authorization.status == "pending" and not state.alive(authorization.expires_at):
        return "This code has expired. Start the sign-in again."
    return {
        "approved": "This request was already approved.",
        "redeemed": "This request was already approved.",
        "denied": "This request was denied.",
    }.get(authorization.status)


def device(state: EmulatorState, request: Request) -> Response:
    user_code = request.param("user_code")
    if not user_code:
        return _ask_for_code()
    with state.lock:
        authorization = state.device_authorization_for(user_code)
        if authorization is None:
            return _ask_for_code("That code is not valid. Check it and try again.", 404)
        message = _status_message(state, authorization)
        code, client = authorization.user_code, state.registrations.get(authorization.client_id)
    if message:
        return _page("Authorize request", f"<p>{escape(message)}</p>", 409)
    client_name = client.client_name if client else "an application"
    user = state.directory.user
    form = _hidden("user_code", code)
    return _page("Authorize request", (
        f"<p><b>{escape(client_name)}</b> wants to access your AWS accounts as "
        f"<b>{escape(user.user_name)}</b>.</p><p>Check that the application shows this code:</p>"
        f'<div class="code">{escape(code)}</div>'
        f'<form method="post" action="/device/approve">{form}'
        '<button class="allow" type="submit">Allow access</button></form>'
        f'<form method="post" action="/device/deny">{form}'
        '<button type="submit">Deny</button></form>'
    ))


def _decide(state: EmulatorState, request: Request, approve: bool) -> Response:
    user_code = _single(request.form()).get("user_code", "")
    with state.lock:
        authorization = state.device_authorization_for(user_code) if user_code else None
        if authorization is None:
            return _ask_for_code("That code is not valid. Check it and try again.", 404)
        message = _status_message(state, authorization)
        if message is None:
            state.decide(user_code, approve)
    if message:
        return _page("Authorize request", f"<p>{escape(message)}</p>", 409)
    if approve:
        return _page("Request approved",
                     "<p>You can close this window and return to the application.</p>")
    return _page("Request denied", "<p>The application was not given access.</p>")


def device_approve(state: EmulatorState, request: Request) -> Response:
    return _decide(state, request, approve=True)


def device_deny(state: EmulatorState, request: Request) -> Response:
    return _decide(state, request, approve=False)


def _authorization(state: EmulatorState, params: Mapping[str, str], decision: str | None) \
        -> Response:
    try:
        authorization = parse_authorization_request(state, params)
    except AuthorizeError as error:
        return _page("Cannot authorize", f"<p>{escape(str(error))}</p>", 400)
    except AuthorizeRedirect as refusal:
        return redirect(refusal.location)
    if decision is None and state.config.auto_approve:
        decision = "approve"
    if decision is not None:
        return redirect(authorization_redirect(state, authorization, decision == "approve"))
    form = "".join(_hidden(name, value) for name, value in params.items() if name != "decision")
    scopes = ", ".join(authorization.scopes) or "none"
    return _page("Allow access?", (
        f"<p><b>{escape(authorization.registration.client_name)}</b> wants to access your AWS "
        f"accounts as <b>{escape(state.directory.user.user_name)}</b>.</p>"
        f"<p class=\"muted\">Scopes: {escape(scopes)}</p>"
        f'<form method="post" action="/authorize">{form}'
        '<button class="allow" type="submit" name="decision" value="approve">Allow access</button>'
        '<button type="submit" name="decision" value="deny">Deny</button></form>'
    ))


def vanity_start(state: EmulatorState, request: Request) -> Response:
    """A vanity start URL: the portal redirects to its AWS-owned address (never followed here)."""
    return redirect(state.config.portal_url)


def authorize(state: EmulatorState, request: Request) -> Response:
    return _authorization(state, _single(request.query), None)


def authorize_decision(state: EmulatorState, request: Request) -> Response:
    params = _single(request.form())
    return _authorization(state, params, params.get("decision") or "deny")


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/device"): Route(device, ERRORS),
    ("POST", "/device/approve"): Route(device_approve, ERRORS),
    ("POST", "/device/deny"): Route(device_deny, ERRORS),
    ("GET", "/authorize"): Route(authorize, ERRORS),
    ("POST", "/authorize"): Route(authorize_decision, ERRORS),
    **{(method, path): Route(vanity_start, ERRORS)
       for method in ("GET", "HEAD") for path in ("/start", "/start/")},
}
