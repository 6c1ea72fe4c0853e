"""The emulator's control plane cannot be driven by a web page elsewhere, and forged Host headers
never reach a verification URL (issue 10, item 16)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from emulator_helpers import Clients, raw

from boto_sso_oidc_provider.emulator import EmulatorHandle

JSON_HEADERS = {"Content-Type": "application/json"}
_FAULT = json.dumps({"operation": "CreateToken", "error": "InternalServerException"})


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_control_posts_must_be_json(emulator: EmulatorHandle, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    for path, body in (("/_emulator/faults", _FAULT), ("/_emulator/reset", "{}")):
        response = raw(emulator.url, "POST", path, body, headers)
        assert response.status == 415, (path, response)
    assert raw(emulator.url, "GET", "/_emulator/faults").json() == {"faults": []}


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Origin": "null"},
                                     {"Sec-Fetch-Site": "cross-site"}])
def test_cross_origin_posts_are_refused(emulator: EmulatorHandle, headers: dict[str, str]) -> None:
    response = raw(emulator.url, "POST", "/_emulator/faults", _FAULT, {**JSON_HEADERS, **headers})
    assert response.status == 403
    assert raw(emulator.url, "GET", "/_emulator/faults").json() == {"faults": []}
    # The same request from the emulator's own origin (its pages) is fine.
    own = raw(emulator.url, "POST", "/_emulator/faults", _FAULT, {**JSON_HEADERS, "Origin": emulator.url})
    assert own.status == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1:1", "a@127.0.0.1",
                                  "127.0.0.1.nip.io"])
def test_a_forged_host_never_reaches_the_verification_url(emulator: EmulatorHandle, clients: Clients,
                                                          host: str) -> None:
    registration = clients.register()
    body = json.dumps({"clientId": registration["clientId"],
                       "clientSecret": registration["clientSecret"],
                       "startUrl": "https://emulator.awsapps.com/start"})
    response = raw(emulator.url, "POST", "/device_authorization", body, {**JSON_HEADERS, "Host": host})
    assert response.status == 200, response
    uri = response.json()["verificationUriComplete"]
    assert uri.startswith(emulator.url + "/device") and "evil" not in uri


def test_localhost_and_the_ip_are_reflected(emulator: EmulatorHandle, clients: Clients) -> None:
    registration = clients.register()
    port = emulator.url.rsplit(":", 1)[1]
    body = json.dumps({"clientId": registration["clientId"],
                       "clientSecret": registration["clientSecret"],
                       "startUrl": "https://emulator.awsapps.com/start"})
    response = raw(emulator.url, "POST", "/device_authorization", body,
                   {**JSON_HEADERS, "Host": f"localhost:{port}"})
    assert response.json()["verificationUri"] == f"http://localhost:{port}/device"


def test_listening_on_every_interface_warns_and_names_the_urls() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "boto_sso_oidc_provider", "emulator", "--host",
                             "0.0.0.0", "--port", "0"], text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        url = proc.stdout.readline().strip()
        warning = proc.stderr.readline()
    finally:
        proc.terminate()
        proc.wait(10)
    assert url.startswith("http://127.0.0.1:")
    assert "WARNING" in warning and "every interface" in warning and url in warning
    assert "no authentication" in warning
