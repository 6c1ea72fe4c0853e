"""The pages a person uses, driven as a browser would: GET the page, submit its form."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from emulator_helpers import Clients, RawResponse, raw

from boto_sso_oidc_provider.emulator import EmulatorHandle

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, tuple[str, str]] = field(default_factory=dict)
    """button text -> (name, value)"""


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._button: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(attributes.get("method", "get").upper(), attributes["action"]))
        elif tag == "input" and self.forms and attributes.get("type") == "hidden":
            self.forms[-1].fields[attributes["name"]] = attributes["value"]
        elif tag == "button":
            self._button = (attributes.get("name", ""), attributes.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self._button is not None and self.forms and data.strip():
            self.forms[-1].buttons[data.strip()] = self._button
            self._button = None


def forms(page: RawResponse) -> list[Form]:
    parser = _Forms()
    parser.feed(page.body.decode())
    return parser.forms


def submit(url: str, page: RawResponse, button: str) -> RawResponse:
    """Press the button labelled ``button`` on ``page``: POST its form as a browser would."""
    for form in forms(page):
        if button in form.buttons:
            fields = dict(form.fields)
            name, value = form.buttons[button]
            if name:
                fields[name] = value
            assert form.method == "POST"
            return raw(url, "POST", form.action, urlencode(fields), FORM)
    raise AssertionError(f"no {button!r} button on the page")


def test_device_page_approve_through_the_form(clients: Clients, emulator: EmulatorHandle) -> None:
    registration = clients.register(clientName="my-cli")
    device = clients.start(registration)
    page = raw(emulator.url, "GET", urlsplit(device["verificationUriComplete"]).path + "?" +
               urlsplit(device["verificationUriComplete"]).query)
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    text = page.body.decode()
    assert device["userCode"] in text and "my-cli" in text and "jane.doe" in text

    result = submit(emulator.url, page, "Allow access")
    assert result.status == 200 and "Request approved" in result.body.decode()
    assert clients.poll(registration, device)["accessToken"]
    # The page now says the code is used.
    again = raw(emulator.url, "GET", f"/device?user_code={device['userCode']}")
    assert again.status == 409 and "already approved" in again.body.decode()


def test_device_page_deny_through_the_form(clients: Clients, emulator: EmulatorHandle) -> None:
    registration = clients.register()
    device = clients.start(registration)
    page = raw(emulator.url, "GET", f"/device?user_code={device['userCode']}")
    result = submit(emulator.url, page, "Deny")
    assert "Request denied" in result.body.decode()
    with pytest.raises(clients.oidc.exceptions.AccessDeniedException):
        clients.poll(registration, device)


def test_device_page_asks_for_the_code_and_accepts_any_spelling(
        clients: Clients, emulator: EmulatorHandle) -> None:
    device = clients.start(clients.register())
    entry = raw(emulator.url, "GET", "/device")
    (form,) = forms(entry)
    assert (form.method, form.action) == ("GET", "/device")
    typed = device["userCode"].lower().replace("-", " ")
    page = raw(emulator.url, "GET", "/device?" + urlencode({"user_code": typed}))
    assert page.status == 200 and device["userCode"] in page.body.decode()


def test_device_page_unknown_and_expired_codes(clients: Clients, emulator: EmulatorHandle) -> None:
    unknown = raw(emulator.url, "GET", "/device?user_code=BBBB-BBBB")
    assert unknown.status == 404 and "not valid" in unknown.body.decode()
    device = clients.start(clients.register())
    page = raw(emulator.url, "GET", f"/device?user_code={device['userCode']}")
    emulator.expire("device_codes")
    late = submit(emulator.url, page, "Allow access")
    assert late.status == 409 and "expired" in late.body.decode()


def test_pages_escape_what_they_show(clients: Clients, emulator: EmulatorHandle) -> None:
    device = clients.start(clients.register(clientName="<script>alert(1)</script>"))
    page = raw(emulator.url, "GET", f"/device?user_code={device['userCode']}").body.decode()
    assert "<script>" not in page and "&lt;script&gt;" in page


def _authorize_query(registration: dict[str, Any], **overrides: str) -> str:
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "response_type": "code", "client_id": registration["clientId"],
        "redirect_uri": "http://localhost:8400/cb", "state": "xyz",
        "code_challenge": challenge.rstrip(b"=").decode(), "code_challenge_method": "S256",
        "scopes": "sso:account:access",
    }
    params.update(overrides)
    return "/authorize?" + urlencode(params)


def _registration(clients: Clients) -> dict[str, Any]:
    return clients.register(grantTypes=["authorization_code", "refresh_token"],
                            redirectUris=["http://localhost/cb"])


def test_authorize_consent_then_redirect_with_code(clients: Clients,
                                                   emulator: EmulatorHandle) -> None:
    registration = _registration(clients)
    page = raw(emulator.url, "GET", _authorize_query(registration))
    assert page.status == 200 and "Allow access?" in page.body.decode()
    response = submit(emulator.url, page, "Allow access")
    assert response.status == 302
    location = urlsplit(response.headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("http", "localhost:8400", "/cb")
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"] and query["code"][0]
    token = clients.oidc.create_token(
        clientId=registration["clientId"], clientSecret=registration["clientSecret"],
        grantType="authorization_code", code=query["code"][0],
        redirectUri="http://localhost:8400/cb", codeVerifier="v" * 50)
    assert token["accessToken"]


def test_authorize_deny_redirects_with_access_denied(clients: Clients,
                                                     emulator: EmulatorHandle) -> None:
    page = raw(emulator.url, "GET", _authorize_query(_registration(clients)))
    response = submit(emulator.url, page, "Deny")
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert response.status == 302
    assert query["error"] == ["access_denied"] and query["state"] == ["xyz"]
    assert "code" not in query


@pytest.mark.parametrize(("overrides", "error"), [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"scopes": "sso:account:access everything"}, "invalid_scope"),
])
def test_authorize_errors_go_back_to_the_client(clients: Clients, emulator: EmulatorHandle,
                                                overrides: dict[str, str], error: str) -> None:
    response = raw(emulator.url, "GET", _authorize_query(_registration(clients), **overrides))
    assert response.status == 302
    assert parse_qs(urlsplit(response.headers["location"]).query)["error"] == [error]


@pytest.mark.parametrize("overrides", [
    {"client_id": "unknown"},
    {"redirect_uri": "https://evil.example.com/cb"},
    {"redirect_uri": "http://127.0.0.1:8400/other"},  # loopback, but not registered
])
def test_authorize_never_redirects_to_an_unverified_uri(
        clients: Clients, emulator: EmulatorHandle, overrides: dict[str, str]) -> None:
    response = raw(emulator.url, "GET", _authorize_query(_registration(clients), **overrides))
    assert response.status == 400 and "location" not in response.headers
    assert "Cannot authorize" in response.body.decode()


@pytest.mark.sso_emulator(auto_approve=True)
def test_authorize_with_auto_approve_redirects_at_once(clients: Clients,
                                                       emulator: EmulatorHandle) -> None:
    response = raw(emulator.url, "GET", _authorize_query(_registration(clients)))
    assert response.status == 302 and "code=" in response.headers["location"]


def test_index_lists_pending_codes(clients: Clients, emulator: EmulatorHandle) -> None:
    device = clients.start(clients.register())
    page = raw(emulator.url, "GET", "/").body.decode()
    assert f"/device?user_code={device['userCode']}" in page and emulator.url in page


@pytest.mark.parametrize("method", ["HEAD", "GET"])
@pytest.mark.sso_emulator(portal_url="https://d-1234567890.portal.eu-west-1.app.aws/")
def test_vanity_start_url_redirects_to_the_portal(emulator: EmulatorHandle, method: str) -> None:
    response = raw(emulator.url, method, "/start")
    assert response.status == 302 and response.body == b""
    assert response.headers["location"] == "https://d-1234567890.portal.eu-west-1.app.aws/"


@pytest.mark.sso_emulator(auto_approve=True)
def test_a_device_flow_client_is_refused_at_authorize(clients: Clients,
                                                      emulator: EmulatorHandle) -> None:
    """The service refuses a client registered for one grant when it uses the other."""
    device_client = clients.register()  # no grantTypes: device code and refresh token
    response = raw(emulator.url, "GET", _authorize_query(device_client))
    assert response.status == 302
    assert parse_qs(urlsplit(response.headers["location"]).query)["error"] == ["unauthorized_client"]


@pytest.mark.sso_emulator(auto_approve=True, authorization_code_ttl=60)
def test_authorization_codes_are_single_use_and_expire(clients: Clients,
                                                       emulator: EmulatorHandle) -> None:
    registration = _registration(clients)

    def code() -> str:
        location = raw(emulator.url, "GET", _authorize_query(registration)).headers["location"]
        return parse_qs(urlsplit(location).query)["code"][0]

    def redeem(value: str) -> Any:
        return clients.oidc.create_token(
            clientId=registration["clientId"], clientSecret=registration["clientSecret"],
            grantType="authorization_code", code=value, redirectUri="http://localhost:8400/cb",
            codeVerifier="v" * 50)

    first = code()
    assert redeem(first)["accessToken"]
    with pytest.raises(clients.oidc.exceptions.InvalidGrantException):
        redeem(first)  # replayed
    late = code()
    assert emulator.expire("authorization_codes") == 2  # the spent one and this one
    with pytest.raises(clients.oidc.exceptions.InvalidGrantException):
        redeem(late)
    wrong_redirect = code()
    with pytest.raises(clients.oidc.exceptions.InvalidGrantException):
        clients.oidc.create_token(
            clientId=registration["clientId"], clientSecret=registration["clientSecret"],
            grantType="authorization_code", code=wrong_redirect,
            redirectUri="http://localhost:8401/cb", codeVerifier="v" * 50)
