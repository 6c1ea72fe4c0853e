"""``boto-sso-oidc emulator`` as a process, and the AWS CLI against the emulator."""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from emulator_helpers import Clients

from boto_sso_oidc_provider._platform import home_environment
from boto_sso_oidc_provider.emulator import EmulatorControl, EmulatorHandle


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "boto_sso_oidc_provider", "emulator", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _first_line(process: subprocess.Popen[str], timeout: float = 20) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            process.kill()
            raise AssertionError("the emulator printed no URL in time")
    return process.stdout.readline().rstrip("\n")


@pytest.fixture
def cli_emulator(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({
        "user": {"userName": "sam", "email": "sam@example.com"},
        "accounts": [{"accountId": "333333333333", "accountName": "Sandbox",
                      "roles": ["Dev"]},
                     {"accountId": "444444444444"}],
    }))
    process = _start("--port", "0", "--interval", "0", "--auto-approve", "--state", str(state),
                     "--page-size", "1")
    try:
        yield process, _first_line(process)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        for stream in (process.stdout, process.stderr):
            assert stream is not None
            stream.close()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_cli_prints_url_serves_and_stops_cleanly(
        cli_emulator: tuple[subprocess.Popen[str], str], stop: signal.Signals) -> None:
    process, url = cli_emulator
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
    clients = Clients(EmulatorControl(url))
    token = clients.login().access_token  # auto-approved, after one pending poll
    accounts = clients.sso.get_paginator("list_accounts").paginate(
        accessToken=token).build_full_result()["accountList"]
    assert accounts == [
        {"accountId": "333333333333", "accountName": "Sandbox",
         "emailAddress": "aws-333333333333@example.com"},
        {"accountId": "444444444444", "accountName": "Account 444444444444",
         "emailAddress": "aws-444444444444@example.com"},
    ]
    credentials = clients.role_credentials(token, "333333333333", "Dev")
    arn = clients.sts(credentials).get_caller_identity()["Arn"]
    assert arn.startswith("arn:aws:sts::333333333333:assumed-role/AWSReservedSSO_Dev_")
    assert arn.endswith("/sam")

    process.send_signal(stop)
    assert process.wait(10) == 0
    assert process.stdout is not None and process.stdout.read() == ""  # the URL only
    assert process.stderr is not None and process.stderr.read() == ""  # quiet without --verbose


def test_cli_verbose_logs_requests_to_stderr() -> None:
    process = _start("--verbose")
    try:
        url = _first_line(process)
        EmulatorControl(url).pending()
        process.terminate()
        assert process.wait(10) == 0
        assert process.stderr is not None
        log = process.stderr.read()
        assert "GET /_emulator/pending" in log
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "boto_sso_oidc_provider", "emulator", *args],
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)


def test_cli_bad_state_file_fails_with_one_line(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"accounts": [{"accountId": "12"}]}')
    result = _run("--state", str(state))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "boto-sso-oidc emulator: accounts[0].accountId must be a string of 12 digits"]
    missing = _run("--state", str(tmp_path / "nope.json"))
    assert missing.returncode == 1 and "cannot read" in missing.stderr


def test_cli_port_in_use_fails(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = _run("--port", str(taken.getsockname()[1]))
    assert result.returncode == 1 and "cannot listen" in result.stderr


def test_cli_bad_usage_exits_2() -> None:
    assert _run("--page-size", "0").returncode == 2
    assert _run("--interval", "-1").returncode == 2


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_aws_cli_works_against_the_emulator(clients: Clients, emulator: EmulatorHandle,
                                            tmp_path: Path) -> None:
    credentials = clients.role_credentials(clients.login().access_token)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        **home_environment(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_ENDPOINT_URL": emulator.url, "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": credentials["accessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["secretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["sessionToken"],
    })
    # --endpoint-url too: AWS CLI v1 releases before 1.29 ignore AWS_ENDPOINT_URL.
    result = subprocess.run(
        ["aws", "sts", "get-caller-identity", "--endpoint-url", emulator.url, "--output", "json"],
        env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    identity = json.loads(result.stdout)
    assert identity["Account"] == "111111111111"
    assert identity["Arn"].endswith("/jane.doe")

    token = clients.login().access_token
    result = subprocess.run(
        ["aws", "sso", "list-account-roles", "--access-token", token, "--account-id",
         "222222222222", "--endpoint-url", emulator.url, "--output", "json"],
        env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert [r["roleName"] for r in json.loads(result.stdout)["roleList"]] == \
        ["AdministratorAccess", "ReadOnlyAccess"]


def test_help_documents_pages_and_control_plane() -> None:
    result = subprocess.run([sys.executable, "-m", "boto_sso_oidc_provider", "emulator", "--help"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    for documented in ("/device", "/authorize", "/start", "--portal-url", "/_emulator/approve",
                       "/_emulator/faults", "/_emulator/expire", "authorization_codes",
                       "Exit codes:"):
        assert documented in result.stdout, documented
    # Every page, control-plane path and the federation endpoint is there (the service APIs
    # are listed by operation name).
    from boto_sso_oidc_provider.emulator import _control, _federation, _pages

    for _method, path in (*_pages.ROUTES, *_control.ROUTES, *_federation.ROUTES):
        assert f" {path.rstrip('/') or '/'}" in result.stdout, path
