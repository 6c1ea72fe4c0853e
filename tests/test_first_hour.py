"""A newcomer's first hour: every failure names its cause and the next command.

An empty HOME points to ``configure``; an endpoint nothing answers at is named with the
variable that set it, by ``login`` and ``list`` as by the other commands, at once (no
backing off for minutes). ``configure`` itself, then the AWS CLI through both profiles it
writes, is in ``test_cli_configure.py`` (``test_the_first_hour_*``).
"""

from __future__ import annotations

import shutil
import socket
import time

import pytest

from .cli_helpers import one_line, run_cli


@pytest.fixture
def empty_home(sso_emulator):
    shutil.rmtree(sso_emulator.home / ".aws")
    return sso_emulator


@pytest.mark.parametrize("command", [["login"], ["list"], ["status"], ["status", "--json"],
                                     ["credential-process", "--profile", "dev"]])
def test_an_empty_home_points_to_configure(command, empty_home):
    result = run_cli(empty_home, *command, AWS_PROFILE="")
    assert result.returncode == 1, result.stdout + result.stderr
    line = one_line(result.stderr)
    assert "boto-sso-oidc configure" in line
    assert str(empty_home.config_file) in line
    if command == ["status", "--json"]:
        assert result.stdout.split() == ['{', '"sso_sessions":', '[],', '"profiles":', '[]', '}']


def _closed_port_url() -> str:
    """A loopback URL where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("command, variable, shown", [
    (["login", "--force", "--profile", "dev"], "AWS_ENDPOINT_URL_SSO_OIDC", "Could not connect to {url}/"),
    (["list", "--profile", "dev"], "AWS_ENDPOINT_URL_SSO", "could not be reached: "
     "EndpointConnectionError reaching {url}"),
    (["credential-process", "--profile", "dev"], "AWS_ENDPOINT_URL_SSO",
     "EndpointConnectionError reaching {url}"),
])
def test_an_unreachable_endpoint_is_named_with_its_source(command, variable, shown, sso_emulator):
    assert run_cli(sso_emulator, "login", "--profile", "dev").returncode == 0  # a token cached
    url = _closed_port_url()
    began = time.monotonic()
    result = run_cli(sso_emulator, *command, **{variable: url})
    elapsed = time.monotonic() - began
    assert result.returncode == 1, result.stderr
    line = one_line(result.stderr)
    assert shown.format(url=url) in line
    assert f"(set by {variable})" in line
    assert "Check that this endpoint is the right one and reachable from here" in line
    print(f"{command[0]}: failed in {elapsed:.1f} s")
