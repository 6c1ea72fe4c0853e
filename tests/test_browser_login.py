"""The browser login (authorization code + PKCE) and the choice of flow, end to end.

``boto-sso-oidc login`` runs as a real child process against the emulator; its
browser is ``tests/fake_browser.py`` reached through ``BROWSER`` (the real
headless browser drives the same login in ``test_real_browser.py``).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import re
import signal
import socket
import subprocess
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from boto_sso_oidc_provider.caches.token import TokenManager
from boto_sso_oidc_provider.config.reader import AWSConfig
from boto_sso_oidc_provider.exceptions import AuthorizationTimeoutError
from boto_sso_oidc_provider.logins import _interaction
from boto_sso_oidc_provider.logins._loopback_callback import READ_TIMEOUT
from boto_sso_oidc_provider.options import Options

from .browser_helpers import (
    browser_env,
    browser_log,
    cache_snapshot,
    read_json,
    registration_file,
    wait_for_browser,
)
from .cli_helpers import CLI, run_cli, secrets_of
from .conftest import REPO, age_token, subprocess_env, token_file

AUTHORIZE_PARAMS = {"response_type", "client_id", "redirect_uri", "state", "code_challenge_method",
                    "scopes", "code_challenge"}


def _grants(emulator) -> dict[str, int]:
    return emulator.calls()["grants"]


def _browser_login(emulator, *args: str, mode: str = "allow", **env: str):
    return run_cli(emulator, "login", "--profile", "dev", *args,
                   **browser_env(emulator.home, mode, **env))


def _last_line(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]


def _port_closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


# -- the flow chosen --------------------------------------------------------------------------


def test_browser_flow_is_the_default_where_a_browser_can_be_opened(sso_emulator):
    result = _browser_login(sso_emulator)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert _grants(sso_emulator)["authorization_code"] == 1
    assert _grants(sso_emulator)["urn:ietf:params:oauth:grant-type:device_code"] == 0
    url, page = browser_log(sso_emulator.home)
    assert page == "PAGE 200 You are logged in - boto-sso-oidc"
    # The URL is printed too, and carries only what the protocol requires.
    assert f"    {url}" in result.stderr.splitlines()
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == sso_emulator.url  # the resolved endpoint
    query = parse_qs(parts.query)
    assert set(query) == AUTHORIZE_PARAMS
    assert query["code_challenge_method"] == ["S256"] and query["response_type"] == ["code"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/oauth/callback", query["redirect_uri"][0])
    # The registration entry is the AWS CLI v2's browser entry; the token keeps its client.
    registration = read_json(registration_file(sso_emulator.home))
    assert registration["grantTypes"] == ["authorization_code", "refresh_token"]
    assert registration["clientId"] == query["client_id"][0]
    token = read_json(token_file(sso_emulator.home, "emulator"))
    assert token["clientId"] == registration["clientId"] and token["refreshToken"]
    with sso_emulator.state.lock:
        client = sso_emulator.state.registrations[registration["clientId"]]
        assert client.redirect_uris == ("http://127.0.0.1/oauth/callback",)
        assert client.issuer_url == "https://emulator.awsapps.com/start"


def test_device_flow_where_no_browser_can_be_opened(sso_emulator):
    """No display, no BROWSER (an SSH session): the device flow, with its URL and code."""
    result = run_cli(sso_emulator, "login", "--profile", "dev", BOTO_SSO_OIDC_OPEN_BROWSER="true")
    assert result.returncode == 0, result.stderr
    assert "/device?user_code=" in result.stderr and "/authorize?" not in result.stderr
    assert _grants(sso_emulator)["urn:ietf:params:oauth:grant-type:device_code"] >= 1
    assert _grants(sso_emulator)["authorization_code"] == 0


@pytest.mark.parametrize("how", ["flag", "environment", "config"])
def test_the_device_flow_when_asked(sso_emulator, how):
    args, env = [], {"BOTO_SSO_OIDC_OPEN_BROWSER": "false"}
    if how == "flag":
        args = ["--use-device-code"]
    elif how == "environment":
        env["BOTO_SSO_OIDC_USE_DEVICE_CODE"] = "true"
    else:
        sso_emulator.write_config(sso_emulator.config_file.read_text().replace(
            "[sso-session emulator]\n", "[sso-session emulator]\nboto_sso_oidc_use_device_code = true\n"))
    result = _browser_login(sso_emulator, *args, **env)
    assert result.returncode == 0, result.stderr
    assert "/device?user_code=" in result.stderr
    assert _grants(sso_emulator)["authorization_code"] == 0
    assert "grantTypes" not in read_json(registration_file(sso_emulator.home))


def test_no_browser_prints_the_url_only(sso_emulator):
    """--no-browser keeps the browser flow but opens nothing: the person opens the URL."""
    env = subprocess_env(sso_emulator, **browser_env(sso_emulator.home))
    proc = subprocess.Popen([*CLI, "login", "--profile", "dev", "--no-browser"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO)
    try:
        assert proc.stderr is not None
        shown = []
        for line in iter(proc.stderr.readline, ""):
            shown.append(line)
            if "/authorize?" in line:
                break
        url = shown[-1].strip()
        assert "To sign in, open this URL in a browser" in "".join(shown)
        time.sleep(0.5)
        assert browser_log(sso_emulator.home) == []  # BROWSER was not run
        subprocess.run([*browser_env(sso_emulator.home)["BROWSER"].split(), url], env=env,
                       timeout=60, check=True)  # the person opens it
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr


# -- opening the browser ----------------------------------------------------------------------


def test_browser_is_used_without_a_display(monkeypatch, capfd):
    """BROWSER=/bin/echo with no DISPLAY: used (its output goes to stderr, never stdout)."""
    monkeypatch.setattr(_interaction, "_is_wsl", lambda environ: False)
    monkeypatch.setattr(_interaction.sys, "platform", "linux")
    url = "http://127.0.0.1:1/authorize?client_id=c"
    environ = {"BROWSER": "/bin/echo", "PATH": "/usr/bin:/bin"}
    assert _interaction.browser_available(environ)
    assert not _interaction.browser_available({"PATH": "/usr/bin:/bin"})
    assert _interaction.open_browser(url, environ) is True
    captured = capfd.readouterr()
    assert captured.err.splitlines() == [url] and captured.out == ""
    # %s marks where the URL goes; a failing command is reported as not opened.
    assert _interaction.open_browser(url, {"BROWSER": "/bin/echo before %s after"})
    assert capfd.readouterr().err.splitlines() == [f"before {url} after"]
    assert _interaction.open_browser(url, {"BROWSER": "/bin/false"}) is False


def test_wsl_opens_the_windows_browser(monkeypatch, tmp_path):
    monkeypatch.setattr(_interaction.sys, "platform", "linux")
    opened = tmp_path / "opened"
    wslview = tmp_path / "wslview"
    wslview.write_text(f"#!/bin/sh\necho \"$1\" > {opened}\n")
    wslview.chmod(0o755)
    environ = {"WSL_DISTRO_NAME": "Ubuntu", "PATH": f"{tmp_path}:/usr/bin:/bin"}
    assert _interaction.browser_available(environ)
    assert _interaction.open_browser("https://example.awsapps.com/x", environ)
    assert opened.read_text().strip() == "https://example.awsapps.com/x"


# -- failures: one line, caches byte-identical, listener closed -------------------------------


@pytest.fixture
def logged_in(sso_emulator):
    """A completed browser login, so the caches hold a token and a browser registration; the
    access token then expired (a valid one would need no new login)."""
    assert _browser_login(sso_emulator).returncode == 0
    (sso_emulator.home / "browser.log").unlink()
    age_token(token_file(sso_emulator.home, "emulator"))
    return sso_emulator


@pytest.mark.sso_emulator(auto_approve=False)
@pytest.mark.parametrize(("mode", "words"), [
    ("deny", "was denied in the browser"),
    ("error", "refused by SSO OIDC (server_error: ?]0;owned??[2J?[31mred second line?1m)"),
    ("replay", "refused the authorization code"),
])
def test_pkce_failures(logged_in, mode, words):
    before = cache_snapshot(logged_in.home)
    result = _browser_login(logged_in, mode=mode)
    assert result.returncode == 1, result.stderr
    line = _last_line(result.stderr)
    assert line.startswith("boto-sso-oidc login: ") and words in line, result.stderr
    assert not set(result.stderr) & {"\x1b", "\x07", "\x9b"}  # no escape code reaches the terminal
    assert cache_snapshot(logged_in.home) == before
    assert browser_log(logged_in.home)[-1] == "PAGE 200 Login failed - boto-sso-oidc"
    for secret in secrets_of(logged_in.home):
        assert secret not in result.stderr


def test_a_failed_browser_login_leaves_the_device_registration_in_place(sso_emulator):
    """The browser flow registers a new client (the cached one is for the device flow), but
    a failed login caches neither it nor a token: both files stay as they were."""
    assert run_cli(sso_emulator, "login", "--profile", "dev").returncode == 0  # device flow
    age_token(token_file(sso_emulator.home, "emulator"))  # a valid token would need no login
    before = cache_snapshot(sso_emulator.home)
    registrations = sso_emulator.calls()["operations"]["RegisterClient"]
    result = _browser_login(sso_emulator, mode="error")
    assert result.returncode == 1 and "refused by SSO OIDC" in _last_line(result.stderr)
    assert sso_emulator.calls()["operations"]["RegisterClient"] == registrations + 1
    assert cache_snapshot(sso_emulator.home) == before



def _status(port: int, target: str) -> int:
    """The status the listener answers ``GET target`` with (a real HTTP request)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=READ_TIMEOUT / 2)
    try:
        connection.request("GET", target)
        return connection.getresponse().status
    finally:
        connection.close()


def test_only_this_logins_redirect_ends_it_and_idle_connections_do_not_hold_it_up(sso_emulator,
                                                                                   tmp_path):
    """During a real login (its browser holding back its redirect), 20 connections that never
    send a byte, one that stops half-way through its request line and a stray request of every
    kind: each stray is answered while the silent ones are open, none ends the login, and the
    browser's own redirect then logs in at once."""
    go = tmp_path / "go"
    env = subprocess_env(sso_emulator, **browser_env(sso_emulator.home, "hold", FAKE_BROWSER_GO=str(go)))
    proc = subprocess.Popen([*CLI, "login", "--profile", "dev"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=REPO)
    silent: list[socket.socket] = []
    try:
        query = parse_qs(urlsplit(wait_for_browser(sso_emulator.home)).query)
        port, state = urlsplit(query["redirect_uri"][0]).port or 0, query["state"][0]
        silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
        silent[0].sendall(f"GET /oauth/callback?state={state}".encode())
        strays = {
            "/oauth/callback?code=x": 400,
            "/oauth/callback?code=x&state=another-login": 400,
            "/oauth/callback?error=access_denied": 400,
            "/oauth/callback?error=access_denied&state=another-login": 400,
            f"/oauth/callback?code=x&state={state}&state=another-login": 400,
            f"/oauth/callback?code=x&code=y&state={state}": 400,
            f"//oauth/callback?code=x&state={state}": 404,
            f"/oauth/callback/?code=x&state={state}": 404,
            f"/?code=x&state={state}": 404,
        }
        assert {target: _status(port, target) for target in strays} == strays
        assert proc.poll() is None  # still waiting for its own redirect
        go.touch()
        released = time.monotonic()
        _, stderr = proc.communicate(timeout=60)
        took = time.monotonic() - released
    finally:
        proc.kill()
        for connection in silent:
            connection.close()
    assert proc.returncode == 0, stderr
    assert browser_log(sso_emulator.home)[-1] == "PAGE 200 You are logged in - boto-sso-oidc"
    assert took < READ_TIMEOUT, took  # not after the silent connections' deadlines


@pytest.mark.sso_emulator(auto_approve=False)
def test_ctrl_c_ends_the_browser_login_at_once(logged_in):
    before = cache_snapshot(logged_in.home)
    env = subprocess_env(logged_in, **browser_env(logged_in.home, "ignore"))
    proc = subprocess.Popen([*CLI, "login", "--profile", "dev"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=REPO)
    try:
        url = wait_for_browser(logged_in.home)
        port = int(urlsplit(parse_qs(urlsplit(url).query)["redirect_uri"][0]).port or 0)
        assert not _port_closed(port)  # bound before the browser opened
        interrupted = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
        took = time.monotonic() - interrupted
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "cancelled" in _last_line(stderr) and _last_line(stderr).startswith("boto-sso-oidc login:")
    assert took < 10  # at once, not after the 10-minute wait
    assert cache_snapshot(logged_in.home) == before
    assert _port_closed(port)


@pytest.mark.sso_emulator(auto_approve=False)
def test_a_login_nobody_completes_times_out(logged_in, monkeypatch):
    for name, value in browser_env(logged_in.home, "ignore").items():
        monkeypatch.setenv(name, value)
    before = cache_snapshot(logged_in.home)
    stream = io.StringIO()
    manager = TokenManager(AWSConfig.load().sso_of_profile("dev"), options=Options(
        login_timeout=1.0, prompt=_interaction.LoginPrompt(stream, browser=True)))
    with pytest.raises(AuthorizationTimeoutError) as error:
        manager.login()
    assert "not completed in the browser within 1s" in str(error.value)
    assert cache_snapshot(logged_in.home) == before
    url = wait_for_browser(logged_in.home)
    assert url in stream.getvalue()
    assert _port_closed(int(urlsplit(parse_qs(urlsplit(url).query)["redirect_uri"][0]).port or 0))


def test_a_redirect_port_in_use(logged_in):
    before = cache_snapshot(logged_in.home)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _browser_login(logged_in, "--redirect-port", str(port))
    assert result.returncode == 1
    line = _last_line(result.stderr)
    assert line.startswith("boto-sso-oidc login: ") and f"port {port}" in line
    assert "--redirect-port" in line
    assert cache_snapshot(logged_in.home) == before
    assert browser_log(logged_in.home) == []  # the browser is never sent anywhere


def test_a_fixed_redirect_port(sso_emulator):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _browser_login(sso_emulator, "--redirect-port", str(port))
    assert result.returncode == 0, result.stderr
    url = browser_log(sso_emulator.home)[0]
    assert parse_qs(urlsplit(url).query)["redirect_uri"] == [f"http://127.0.0.1:{port}/oauth/callback"]


# -- no secret anywhere -----------------------------------------------------------------------


def _verifier_candidates(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z0-9._~-]{43,128}", text))


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def test_no_secret_in_debug_logs_the_url_or_errors(sso_emulator):
    result = _browser_login(sso_emulator, "--debug")
    assert result.returncode == 0, result.stderr
    assert "DEBUG" in result.stderr  # botocore's wire logging was on
    secrets = secrets_of(sso_emulator.home)
    with sso_emulator.state.lock:
        codes = [code for code in sso_emulator.state.authorization_codes.values()]
    assert len(secrets) >= 3 and len(codes) == 1
    for secret in [*secrets, codes[0].code]:
        assert secret not in result.stderr
    # The verifier only ever went to CreateToken: nothing printed hashes to the challenge.
    assert all(_challenge(word) != codes[0].code_challenge
               for word in _verifier_candidates(result.stderr))
    # Failures too: an error redirect and a replayed code, each with --debug.
    for mode in ("error", "replay"):
        age_token(token_file(sso_emulator.home, "emulator"))  # a valid token needs no login
        failed = _browser_login(sso_emulator, "--debug", mode=mode)
        assert failed.returncode == 1
        for secret in secrets_of(sso_emulator.home):
            assert secret not in failed.stderr
        with sso_emulator.state.lock:
            for code in sso_emulator.state.authorization_codes.values():
                assert code.code not in failed.stderr


# -- vanity start URLs ------------------------------------------------------------------------


# Every partition's AWS-owned start URL hosts (the AWS CLI 2.36.x patterns) and the issuer
# hosts: (where the vanity URL redirects, the region the login then uses).
PORTALS = {
    "commercial app.aws": ("https://d-1234567890.portal.eu-west-1.app.aws/start", "eu-west-1"),
    "commercial issuer": ("https://identitycenter.amazonaws.com/ssoins-7223ab2c8d1e9f04", "us-east-1"),
    "GovCloud issuer": ("https://identitycenter.us-gov.amazonaws.com/ssoins-7223ab2c8d1e9f04",
                        "us-east-1"),
    "GovCloud portal": ("https://d-1234567890.us-gov-west-1.portal.amazonaws.com/start",
                        "us-gov-west-1"),
    "China portal": ("https://d-1234567890.cn-north-1.portal.amazonaws.com.cn/start", "cn-north-1"),
    "China app": ("https://ssoins-1234.portal.cn-northwest-1.app.amazonwebservices.com.cn/start",
                  "cn-northwest-1"),
    "EUSC portal": ("https://d-1234567890.eusc-de-east-1.portal.amazonaws.eu/start",
                    "eusc-de-east-1"),
    "EUSC api": ("https://ssoins-1234.portal.eusc-de-east-1.api.amazonwebservices.eu/start",
                 "eusc-de-east-1"),
}


@pytest.mark.parametrize("portal, region", [
    pytest.param(portal, region, id=name, marks=pytest.mark.sso_emulator(portal_url=portal))
    for name, (portal, region) in PORTALS.items()])
def test_vanity_start_url_resolves_through_the_redirect(sso_emulator, portal, region):
    vanity = f"{sso_emulator.url}/start"
    sso_emulator.write_config(sso_emulator.config_file.read_text().replace(
        "https://emulator.awsapps.com/start", vanity))
    result = _browser_login(sso_emulator, "--debug")
    assert result.returncode == 0, result.stderr
    assert f"Start URL {vanity} resolves to {portal} (region {region})" in result.stderr
    assert (f"region {region}, but sso_region is us-east-1" in result.stderr) is (region != "us-east-1")
    with sso_emulator.state.lock:
        (client,) = sso_emulator.state.registrations.values()
    assert client.issuer_url == portal
    # The cache keys stay the CLI's: the session name, and the configured start URL.
    assert token_file(sso_emulator.home, "emulator").exists()
    assert registration_file(sso_emulator.home, start_url=vanity).exists()


@pytest.mark.sso_emulator(portal_url="https://login.example.com/start")
def test_vanity_start_url_that_leads_elsewhere_is_a_config_error(sso_emulator):
    vanity = f"{sso_emulator.url}/start"
    sso_emulator.write_config(sso_emulator.config_file.read_text().replace(
        "https://emulator.awsapps.com/start", vanity))
    result = _browser_login(sso_emulator)
    assert result.returncode == 1
    line = _last_line(result.stderr)
    assert vanity in line and "https://login.example.com/start" in line
    assert "not an IAM Identity Center start URL" in line
