"""The container-credentials endpoint under load and at its edges, in this process, over real HTTP.

The endpoint renews through a real :class:`RoleCredentialsManager` against the
emulator (or, for the freshness rules, a source whose answers the test
chooses while a movable clock stands in for time passing).
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time

import pytest

from boto_sso_oidc_provider.credentials.role_credentials import RoleCredentials
from boto_sso_oidc_provider.servers.container import CredentialsEndpoint
from boto_sso_oidc_provider.sessions import role_credentials_manager

from .cli_helpers import login
from .credentials_helpers import MovableClock, in_threads
from .endpoint_helpers import answer, get


def _role_credentials_calls(emulator) -> int:
    return int(emulator.calls()["operations"].get("GetRoleCredentials", 0))


def test_200_concurrent_requests_from_50_clients_make_one_get_role_credentials(sso_emulator):
    login()
    sso_emulator.fault("GetRoleCredentials", delay=1.0)  # every request arrives while it is renewing
    manager = role_credentials_manager("dev", allow_login=False)
    with CredentialsEndpoint(manager.get) as endpoint:
        def client() -> list[tuple[int, str]]:  # one client: 4 requests, each on a new connection
            return [(status, body.get("AccessKeyId", "")) for status, body in
                    (get(endpoint.url, endpoint.token) for _ in range(4))]

        results, errors = in_threads(50, client)
    assert errors == []
    answers = [answer for result in results for answer in result]
    assert len(answers) == 200 and {status for status, _ in answers} == {200}
    assert len({key for _, key in answers}) == 1
    assert _role_credentials_calls(sso_emulator) == 1 and endpoint.renewals == 1
    assert endpoint.counts() == {200: 200}


def test_concurrent_requests_share_one_failed_renewal(sso_emulator):
    login()
    sso_emulator.fault("GetRoleCredentials", error="ResourceNotFoundException", delay=1.0)
    manager = role_credentials_manager("dev", allow_login=False)
    clock = MovableClock()  # the back-off's time: it passes only when the test says so
    with CredentialsEndpoint(manager.get, clock=clock) as endpoint:
        results, errors = in_threads(50, lambda: get(endpoint.url, endpoint.token))
        backed_off = answer(endpoint.url, endpoint.token)  # within the back-off: no new call
        calls_while_backed_off = _role_credentials_calls(sso_emulator)
        clock.advance(int(backed_off[2]["retry-after"]))
        after = get(endpoint.url, endpoint.token)  # the fault is used up: served again
    assert errors == [] and len(results) == 50
    assert {status for status, _ in results} == {424}
    assert {body["Code"] for _, body in results} == {"RoleCredentialsError"}
    assert (backed_off[0], backed_off[1]["Code"]) == (424, "RoleCredentialsError")
    assert calls_while_backed_off == 1
    assert after[0] == 200
    assert _role_credentials_calls(sso_emulator) == 2 and endpoint.renewals == 2


def _credentials(key: str, expiration: dt.datetime) -> RoleCredentials:
    return RoleCredentials(key, "secret-" + key, "token-" + key, expiration.replace(microsecond=0),
                           "111111111111")


def test_never_serves_credentials_within_the_refresh_margin():
    clock = MovableClock()
    start = clock()
    answers = [_credentials("AKIAFIRST", start + dt.timedelta(hours=1))]

    def source() -> RoleCredentials:
        return answers[-1]

    with CredentialsEndpoint(source, clock=clock) as endpoint:
        assert get(endpoint.url, endpoint.token)[1]["AccessKeyId"] == "AKIAFIRST"
        clock.advance(40 * 60)  # 20 minutes left: still outside the 15-minute margin, no renewal
        assert get(endpoint.url, endpoint.token)[1]["AccessKeyId"] == "AKIAFIRST"
        assert endpoint.renewals == 1
        clock.advance(10 * 60)  # 10 minutes left, and the source has nothing newer (portal down)
        status, body, headers = answer(endpoint.url, endpoint.token)
        assert (status, body["Code"]) == (503, "ServiceUnavailable")
        answers.append(_credentials("AKIASECOND", clock() + dt.timedelta(hours=1)))
        assert get(endpoint.url, endpoint.token)[0] == 503  # backed off: the source is not asked
        assert endpoint.renewals == 2
        clock.advance(int(headers["retry-after"]))
        assert get(endpoint.url, endpoint.token)[1]["AccessKeyId"] == "AKIASECOND"
        assert endpoint.renewals == 3


def test_the_first_request_never_serves_credentials_within_the_refresh_margin():
    """Issue 20 item 8: the 15-minute rule holds before any credentials were served, too."""
    clock = MovableClock()
    stale = _credentials("AKIASTALE", clock() + dt.timedelta(seconds=478))  # what a throttled portal leaves

    with CredentialsEndpoint(lambda: stale, peek=lambda: stale, clock=clock) as endpoint:
        status, body = get(endpoint.url, endpoint.token)
    assert (status, body["Code"]) == (503, "ServiceUnavailable") and "AccessKeyId" not in body


def test_failing_renewals_back_off_instead_of_calling_for_every_request():
    clock = MovableClock()
    calls: list[float] = []

    def failing() -> RoleCredentials:
        from boto_sso_oidc_provider.exceptions import SSOProviderError

        calls.append(0)
        raise SSOProviderError("the portal is throttling")

    with CredentialsEndpoint(failing, clock=clock) as endpoint:
        waits = []
        for _ in range(6):
            statuses = {get(endpoint.url, endpoint.token)[0] for _ in range(20)}
            assert statuses == {503}
            _, _, headers = answer(endpoint.url, endpoint.token)
            waits.append(int(headers["retry-after"]))
            clock.advance(waits[-1])
    assert len(calls) == 6  # one call per back-off period, not 126
    assert waits == [1, 2, 4, 8, 16, 30]


def test_credentials_shorter_lived_than_the_margin_are_renewed_for_every_request():
    clock = MovableClock()
    issued = iter(range(1000))

    def source() -> RoleCredentials:
        return _credentials(f"AKIA{next(issued)}", clock() + dt.timedelta(seconds=60))

    with CredentialsEndpoint(source, clock=clock) as endpoint:
        keys = [get(endpoint.url, endpoint.token)[1]["AccessKeyId"] for _ in range(3)]
    assert keys == ["AKIA0", "AKIA1", "AKIA2"] and endpoint.renewals == 3


def test_idle_connections_take_no_slot_and_requests_beyond_the_slots_wait_then_get_503():
    release = threading.Event()
    started: list[int] = []

    def slow_source() -> RoleCredentials:
        started.append(1)
        release.wait(30)
        return _credentials("AKIA", dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))

    source = lambda: _credentials("AKIA", dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))  # noqa: E731
    with CredentialsEndpoint(source, max_connections=2, request_timeout=1) as endpoint:
        idle = [socket.create_connection(("127.0.0.1", endpoint.port)) for _ in range(20)]
        try:  # twenty connections that never send a byte: no slot taken
            assert get(endpoint.url, endpoint.token)[0] == 200
        finally:
            for sock in idle:
                sock.close()
    # Two slots held by requests renewing (two other paths of the same endpoint): a third
    # complete request waits for a slot until its deadline, then gets 503 Busy; then service resumes.
    with CredentialsEndpoint(source, max_connections=2, request_timeout=1,
                             routes={"/slow-1": (slow_source, None), "/slow-2": (slow_source, None)}) \
            as endpoint:
        holders = [threading.Thread(target=get, args=(endpoint.url_of(path), endpoint.token))
                   for path in ("/slow-1", "/slow-2")]
        for holder in holders:
            holder.start()
        while len(started) < 2:
            time.sleep(0.01)
        status, body = get(endpoint.url, endpoint.token)
        release.set()
        for holder in holders:
            holder.join(30)
        resumed = get(endpoint.url, endpoint.token)[0]
    assert (status, body["Code"]) == (503, "Busy") and resumed == 200


def test_the_token_stays_out_of_repr_and_the_url_is_loopback():
    endpoint = CredentialsEndpoint(lambda: _credentials("AKIA", dt.datetime.now(dt.timezone.utc)))
    try:
        assert endpoint.token not in repr(endpoint)
        assert endpoint.url.startswith("http://127.0.0.1:")
        assert set(endpoint.environment()) == {"AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                               "AWS_CONTAINER_AUTHORIZATION_TOKEN"}
        assert len(endpoint.token) >= 40 and endpoint.token != CredentialsEndpoint(
            lambda: _credentials("x", dt.datetime.now(dt.timezone.utc))).token
    finally:
        endpoint.shutdown()
    with pytest.raises(ValueError):
        CredentialsEndpoint(lambda: _credentials("x", dt.datetime.now(dt.timezone.utc)), token="a\nb")


def test_shutdown_waits_for_a_request_in_progress():
    release = threading.Event()

    def slow_source() -> RoleCredentials:
        release.wait(10)
        return _credentials("AKIASLOW", dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))

    endpoint = CredentialsEndpoint(slow_source).start()
    answers: list[tuple[int, dict]] = []
    client = threading.Thread(target=lambda: answers.append(get(endpoint.url, endpoint.token)))
    client.start()
    while endpoint.renewals == 0:
        threading.Event().wait(0.01)
    stopper = threading.Thread(target=endpoint.shutdown)
    stopper.start()
    threading.Event().wait(0.3)
    release.set()
    stopper.join(10)
    client.join(10)
    assert answers and answers[0][0] == 200


@pytest.mark.slow
def test_the_benchmark_script_runs():
    """bench/ prints its figures (the numbers are the benchmark's business, not a test's)."""
    import os
    import subprocess
    import sys

    from .conftest import REPO

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run([sys.executable, str(REPO / "bench" / "credentials_endpoint.py"),
                             "--requests", "20", "--seconds", "1", "--clients", "2", "--connections", "4",
                             "--slow", "20"],
                            env=env, capture_output=True, text=True, timeout=300,
                            stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Machine: ")
    assert result.stdout.count("0 other)") == 2
    assert "IMDS endpoint (GET with a session token)" in result.stdout
    assert "GetRoleCredentials calls during the whole run: 1 (container endpoint), 0 (IMDS endpoint)" \
        in result.stdout


def test_a_request_waits_for_a_slow_renewal_only_until_its_deadline():
    release = threading.Event()

    def slow_source() -> RoleCredentials:
        release.wait(30)
        return _credentials("AKIASLOW", dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))

    with CredentialsEndpoint(slow_source, request_timeout=0.5) as endpoint:
        first: list[tuple[int, dict]] = []
        renewing = threading.Thread(target=lambda: first.append(get(endpoint.url, endpoint.token)))
        renewing.start()
        while endpoint.renewals == 0:
            time.sleep(0.01)
        waited = get(endpoint.url, endpoint.token)  # gives up after 0.5 s: the renewal is still going
        release.set()
        renewing.join(30)
        after = get(endpoint.url, endpoint.token)
    assert (waited[0], waited[1]["Code"]) == (503, "RenewalInProgress")
    assert first[0][0] == after[0] == 200 and endpoint.renewals == 1
