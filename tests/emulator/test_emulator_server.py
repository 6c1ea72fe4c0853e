"""The server as a whole: bad requests, concurrency, faults, counters, the control plane."""

from __future__ import annotations

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from emulator_helpers import DEVICE_GRANT, Clients, address, client, raw

from boto_sso_oidc_provider.emulator import (
    OPERATIONS,
    EmulatorConfig,
    EmulatorControl,
    EmulatorControlError,
    EmulatorHandle,
    _server,
    run_emulator,
)

JSON = {"Content-Type": "application/json"}


def _no_traceback(body: bytes) -> None:
    assert b"Traceback" not in body and b'File "' not in body


@pytest.mark.parametrize("path", ["/client/register", "/device_authorization", "/token"])
def test_bad_json_is_invalid_request(emulator: EmulatorHandle, path: str) -> None:
    response = raw(emulator.url, "POST", path, b"{not json", JSON)
    assert response.status == 400
    assert response.headers["x-amzn-errortype"] == "InvalidRequestException"
    assert response.json()["error"] == "invalid_request"
    _no_traceback(response.body)


def test_json_that_is_not_an_object_is_invalid_request(emulator: EmulatorHandle) -> None:
    response = raw(emulator.url, "POST", "/token", b'["clientId"]', JSON)
    assert (response.status, response.json()["error"]) == (400, "invalid_request")


def test_huge_body_is_refused_unread_in_the_service_shape(emulator: EmulatorHandle) -> None:
    limit = emulator.config.max_body_bytes
    response = raw(emulator.url, "POST", "/token", b"x" * (limit + 1), JSON)
    assert response.status == 413
    assert response.headers["x-amzn-errortype"] == "InvalidRequestException"
    assert response.headers["connection"] == "close"
    assert response.json()["error"] == "invalid_request"
    sts = raw(emulator.url, "POST", "/", b"A" * (limit + 1),
              {"Content-Type": "application/x-www-form-urlencoded"})
    assert sts.status == 413 and b"<Code>MalformedInput</Code>" in sts.body
    # Refused requests are counted too.
    assert emulator.calls()["operations"]["CreateToken"] == 1


def test_huge_chunked_body_is_refused(emulator: EmulatorHandle) -> None:
    with socket.create_connection(address(emulator.url), timeout=10) as sock:
        chunk = b"x" * 65536
        head = (b"POST /client/register HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                b"Content-Type: application/json\r\n\r\n")
        sock.sendall(head)
        try:
            for _ in range(20):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass  # the server may hang up before we finish: that is the point
        reply = sock.recv(65536)
    assert reply.startswith(b"HTTP/1.1 413")
    assert b"x-amzn-errortype: InvalidRequestException" in reply


def test_small_chunked_body_is_read(emulator: EmulatorHandle) -> None:
    body = json.dumps({"clientName": "chunky", "clientType": "public"}).encode()
    with socket.create_connection(address(emulator.url), timeout=10) as sock:
        sock.sendall(b"POST /client/register HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200")
    assert b'"clientId"' in reply


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/nowhere"), ("POST", "/client/registerx"), ("DELETE", "/token"), ("GET", "/token"),
])
def test_unknown_operation(emulator: EmulatorHandle, method: str, path: str) -> None:
    response = raw(emulator.url, method, path)
    assert response.status == 404
    assert response.headers["x-amzn-errortype"] == "UnknownOperationException"
    assert response.json() == {"message": "The requested operation is not recognized by the service"}


def test_bad_content_length_is_refused(emulator: EmulatorHandle) -> None:
    with socket.create_connection(address(emulator.url), timeout=10) as sock:
        sock.sendall(b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
        reply = sock.recv(65536)
    assert reply.startswith(b"HTTP/1.1 400")
    assert b"InvalidRequestException" in reply


def test_a_bug_in_a_handler_is_a_service_error_without_traceback(
        emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(state: Any, request: Any) -> Any:
        raise RuntimeError("secret internals")

    route = _server.ROUTES[("POST", "/client/register")]
    monkeypatch.setitem(_server.ROUTES, ("POST", "/client/register"),
                        type(route)(broken, route.shape, route.operation))
    oidc = client(emulator.url, "sso-oidc")
    with pytest.raises(oidc.exceptions.InternalServerException) as failed:
        oidc.register_client(clientName="x", clientType="public")
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "secret internals" not in str(failed.value.response)


def test_fifty_concurrent_requests_are_all_answered_and_counted(clients: Clients,
                                                                emulator: EmulatorHandle) -> None:
    login = clients.login()
    before = emulator.calls()["operations"]

    def one(index: int) -> tuple[str, str]:
        account_id = ("111111111111", "222222222222")[index % 2]
        if index % 3 == 0:
            roles = clients.sso.list_account_roles(accessToken=login.access_token,
                                                   accountId=account_id)["roleList"]
            return "roles", roles[0]["accountId"]
        credentials = clients.role_credentials(login.access_token, account_id)
        return "credentials", clients.sts(credentials).get_caller_identity()["Account"]

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50)))
    assert [account for _, account in results] == \
        [("111111111111", "222222222222")[i % 2] for i in range(50)]
    after = emulator.calls()["operations"]
    role_calls = sum(1 for kind, _ in results if kind == "roles")
    assert after["ListAccountRoles"] - before["ListAccountRoles"] == role_calls == 17
    assert after["GetRoleCredentials"] - before["GetRoleCredentials"] == 33
    assert after["GetCallerIdentity"] - before["GetCallerIdentity"] == 33
    with emulator.state.lock:
        assert len(emulator.state.credentials) == 33  # every key unique


def test_counters_count_failed_calls_and_every_operation(clients: Clients,
                                                         emulator: EmulatorHandle) -> None:
    assert emulator.calls() == {
        "operations": dict.fromkeys(OPERATIONS, 0),
        "grants": {DEVICE_GRANT: 0, "refresh_token": 0, "authorization_code": 0},
        "throttled": dict.fromkeys(OPERATIONS, 0),
    }
    with pytest.raises(clients.oidc.exceptions.InvalidClientException):
        clients.start({"clientId": "x", "clientSecret": "y"})
    with pytest.raises(clients.sso.exceptions.UnauthorizedException):
        clients.sso.logout(accessToken="nope")
    with pytest.raises(clients.oidc.exceptions.UnsupportedGrantTypeException):
        clients.oidc.create_token(clientId="x", clientSecret="y", grantType="password")
    calls = emulator.calls()
    assert calls["operations"]["StartDeviceAuthorization"] == 1
    assert calls["operations"]["Logout"] == 1
    assert calls["operations"]["CreateToken"] == 1
    assert calls["grants"]["password"] == 1


def test_delay_fault(clients: Clients, emulator: EmulatorHandle) -> None:
    emulator.fault("ListAccounts", delay=0.3)
    token = clients.login().access_token
    started = time.monotonic()
    assert clients.sso.list_accounts(accessToken=token)["accountList"]
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    clients.sso.list_accounts(accessToken=token)
    assert time.monotonic() - started < 0.3


def test_delay_and_error_together(clients: Clients, emulator: EmulatorHandle) -> None:
    emulator.fault("RegisterClient", error="InternalServerException", delay=0.2)
    started = time.monotonic()
    with pytest.raises(clients.oidc.exceptions.InternalServerException):
        clients.register()
    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize(("payload", "fragment"), [
    ({"operation": "Nope", "error": "X"}, "operation must be one of"),
    ({"operation": "CreateToken", "error": "TooManyRequestsException"}, "error for CreateToken"),
    ({"operation": "ListAccounts", "error": "SlowDownException"}, "error for ListAccounts"),
    ({"operation": "ListAccounts"}, "needs an error, a delay"),
    ({"operation": "ListAccounts", "delay": 600}, "delay must be"),
    ({"operation": "ListAccounts", "delay": 1, "count": 0}, "count must be"),
    ({"operation": "ListAccounts", "delay": 1, "grantType": "x"}, "grantType"),
])
def test_bad_fault_requests_are_refused(emulator: EmulatorHandle, payload: dict[str, Any],
                                        fragment: str) -> None:
    response = raw(emulator.url, "POST", "/_emulator/faults", json.dumps(payload), JSON)
    assert response.status == 400
    assert fragment in response.json()["message"]


def test_control_plane_client_errors(emulator: EmulatorHandle) -> None:
    with pytest.raises(EmulatorControlError) as unknown:
        emulator.approve("BCDF-GHJK")
    assert (unknown.value.status, unknown.value.code) == (404, "NotFound")
    with pytest.raises(EmulatorControlError) as bad:
        emulator.expire("everything")
    assert bad.value.status == 400
    response = raw(emulator.url, "POST", "/_emulator/approve", b"{", JSON)
    assert response.status == 400 and response.json()["error"] == "InvalidRequest"


def test_approve_after_deny_or_expiry_is_a_conflict(clients: Clients,
                                                    emulator: EmulatorHandle) -> None:
    registration = clients.register()
    denied, expired = clients.start(registration), clients.start(registration)
    emulator.deny(denied["userCode"])
    with pytest.raises(EmulatorControlError) as conflict:
        emulator.approve(denied["userCode"])
    assert conflict.value.status == 409
    emulator.expire("device_codes")
    with pytest.raises(EmulatorControlError) as late:
        emulator.approve(expired["userCode"].lower().replace("-", ""))  # any spelling
    assert late.value.status == 409 and "expired" in str(late.value)


def test_reset_forgets_tokens_faults_and_counters(clients: Clients,
                                                  emulator: EmulatorHandle) -> None:
    login = clients.login()
    emulator.fault("ListAccounts", error="TooManyRequestsException", count=5)
    emulator.reset()
    assert emulator.calls()["operations"]["CreateToken"] == 0
    assert raw(emulator.url, "GET", "/_emulator/faults").json() == {"faults": []}
    with pytest.raises(clients.sso.exceptions.UnauthorizedException):
        clients.sso.list_accounts(accessToken=login.access_token)
    with pytest.raises(clients.oidc.exceptions.InvalidClientException):
        clients.start({"clientId": login.client_id, "clientSecret": login.client_secret})


def test_control_client_works_against_any_emulator_url(emulator: EmulatorHandle) -> None:
    control = EmulatorControl(emulator.url + "/")
    assert str(control) == str(emulator) == emulator.url
    assert control.pending() == []
    assert control.calls()["operations"]["Logout"] == 0


def test_run_emulator_releases_its_port_and_hangs_up() -> None:
    with run_emulator(EmulatorConfig(page_size=3), interval=0) as emulator:
        assert (emulator.config.page_size, emulator.config.interval) == (3, 0)
        oidc = client(emulator.url, "sso-oidc")
        oidc.register_client(clientName="x", clientType="public")  # a kept-alive connection
        port = emulator.server.port
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    with pytest.raises(Exception):  # noqa: B017 - any connection error will do
        oidc.register_client(clientName="x", clientType="public")


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        emulator_context = run_emulator(host="::1")
        emulator = emulator_context.__enter__()
    except OSError:
        pytest.skip("cannot bind [::1]")
    try:
        assert emulator.url.startswith("http://[::1]:")
        assert emulator.pending() == []
    finally:
        emulator_context.__exit__(None, None, None)
