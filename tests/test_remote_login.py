"""Logging in from a remote shell: the pasted redirect (``login --remote``) at a real pseudo-terminal,
the automatic choice of it (SSH without a forwarded display, a container), a fixed callback port
set in the config and one that is taken, and the Windows browser from WSL."""

from __future__ import annotations

import os
import re
import socket
import stat
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest

from boto_sso_oidc_provider.logins import _interaction

from .browser_helpers import browser_env, browser_log
from .cli_helpers import CLI, run_cli
from .conftest import REPO, read_json, subprocess_env, token_file
from .pty_helpers import Pty

SSH = {"SSH_CONNECTION": "192.0.2.10 50000 192.0.2.20 22", "SSH_TTY": "/dev/pts/3"}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _where_the_browser_ends(authorize_url: str) -> str:
    """What a person's browser shows in its address bar after Allow (the emulator auto-approves):
    the redirect to the loopback URI, which it cannot load."""
    opener = urllib.request.build_opener(_NoRedirects, urllib.request.ProxyHandler({}))
    try:
        opener.open(authorize_url, timeout=30)
    except urllib.error.HTTPError as error:
        with error:
            assert error.code == 302
            return str(error.headers["Location"])
    raise AssertionError("the authorize page did not redirect")


def _terminal(emulator, *args: str, **env: str) -> Pty:
    return Pty([*CLI, "login", "--profile", "dev", *args], subprocess_env(emulator, **env), cwd=REPO)


def _authorize_url(term: Pty) -> str:
    found = term.expect(r"Open this URL in a browser on any machine:\n\n    (\S+)\n")
    term.expect(r"Address \(not shown\): ")
    return found.group(1)


def _with_state(location: str, state: str) -> str:
    parts = urlsplit(location)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = state
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def test_the_remote_login_completes_with_the_pasted_address_never_echoed(sso_emulator):
    term = _terminal(sso_emulator, "--remote")
    try:
        url = _authorize_url(term)
        redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/oauth/callback", redirect_uri)
        port = urlsplit(redirect_uri).port
        with socket.socket() as probe:  # nothing listens there: the browser's load fails
            assert probe.connect_ex(("127.0.0.1", port or 0)) != 0
        location = _where_the_browser_ends(url)
        code = parse_qs(urlsplit(location).query)["code"][0]
        term.send(location)
        term.expect(r'Logged in to sso-session "emulator"\.')
        assert term.wait() == 0
    finally:
        term.close()
    assert code not in term.output and location not in term.output  # not echoed, never printed
    assert sso_emulator.calls()["grants"]["authorization_code"] == 1
    token = read_json(token_file(sso_emulator.home, "emulator"))
    assert token["refreshToken"] and token["clientId"]


def test_a_pasted_address_with_a_wrong_state_is_refused(sso_emulator):
    term = _terminal(sso_emulator, "--remote")
    try:
        location = _where_the_browser_ends(_authorize_url(term))
        forged = _with_state(location, "0f8a2b4c-0000-4000-8000-000000000000")
        term.send(forged)
        term.expect(r"That address is not this login's \(its state differs: an older tab, or another "
                    r"login\): it was refused\. Paste the address again, or press Ctrl-C\.")
        assert sso_emulator.calls()["grants"]["authorization_code"] == 0  # nothing redeemed
        term.expect(r"Address \(not shown\): ")
        term.send(location)
        assert term.wait() == 0
    finally:
        term.close()
    assert sso_emulator.calls()["grants"]["authorization_code"] == 1
    code = parse_qs(urlsplit(location).query)["code"][0]
    assert code not in term.output


def test_three_wrong_addresses_end_the_login_in_one_line(sso_emulator):
    term = _terminal(sso_emulator, "--remote")
    try:
        _authorize_url(term)
        for _ in range(3):
            term.send("http://127.0.0.1:1/oauth/callback?code=abc&state=wrong")
        assert term.wait() == 1
    finally:
        term.close()
    assert "boto-sso-oidc login: None of the 3 addresses pasted was this login's redirect." in term.output
    assert not token_file(sso_emulator.home, "emulator").exists()


@pytest.mark.parametrize("where", [SSH, {"container": "podman"}], ids=["ssh", "container"])
def test_a_remote_shell_at_a_terminal_chooses_the_remote_login(sso_emulator, where):
    term = _terminal(sso_emulator, BOTO_SSO_OIDC_REMOTE_LOGIN="auto", **where)
    try:
        location = _where_the_browser_ends(_authorize_url(term))
        term.send(location)
        assert term.wait() == 0
    finally:
        term.close()
    assert sso_emulator.calls()["grants"]["authorization_code"] == 1


def test_the_automatic_choice_is_overridable(sso_emulator):
    # boto_sso_oidc_remote_login = false: the device flow, as before
    term = _terminal(sso_emulator, BOTO_SSO_OIDC_REMOTE_LOGIN="false", **SSH)
    try:
        term.expect(r"To sign in, open this URL in a browser:")
        assert term.wait() == 0
    finally:
        term.close()
    # a forwarded display: the browser flow on this machine
    result = run_cli(sso_emulator, "login", "--profile", "dev", "--force", BOTO_SSO_OIDC_REMOTE_LOGIN="auto",
                     **SSH, **browser_env(sso_emulator.home, "allow"))
    assert result.returncode == 0, result.stderr
    assert browser_log(sso_emulator.home)[-1] == "PAGE 200 You are logged in - boto-sso-oidc"
    # without a terminal to paste into: the device flow, which needs none
    result = run_cli(sso_emulator, "login", "--profile", "dev", "--force", BOTO_SSO_OIDC_REMOTE_LOGIN="auto",
                     **SSH)
    assert result.returncode == 0, result.stderr
    assert "To sign in, open this URL in a browser:" in result.stderr
    calls = sso_emulator.calls()
    assert (calls["grants"]["authorization_code"], calls["operations"]["StartDeviceAuthorization"]) == (1, 2)


def test_a_fixed_port_from_the_config_and_a_taken_one(sso_emulator):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sso_emulator.write_config(sso_emulator.config_file.read_text().replace(
        "[sso-session emulator]\n", f"[sso-session emulator]\nboto_sso_oidc_redirect_port = {port}\n"))
    # A fixed port chooses the browser flow even without a browser here (the port is forwarded):
    # the URL is printed, the listener is bound before, and the browser (elsewhere) comes back.
    env = browser_env(sso_emulator.home, "allow")
    result = run_cli(sso_emulator, "login", "--profile", "dev", **env)
    assert result.returncode == 0, result.stderr
    url = browser_log(sso_emulator.home)[0]
    assert parse_qs(urlsplit(url).query)["redirect_uri"] == [f"http://127.0.0.1:{port}/oauth/callback"]
    # A taken port (set by the variable this time, which wins over the config): one line naming it.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        other = taken.getsockname()[1]
        result = run_cli(sso_emulator, "login", "--profile", "dev", "--force",
                         BOTO_SSO_OIDC_REDIRECT_PORT=str(other), **env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f'boto-sso-oidc login: The login to sso-session "emulator" cannot listen for the browser on '
        f"127.0.0.1 port {other} (BOTO_SSO_OIDC_REDIRECT_PORT): Address already in use. Stop the "
        "program using it, or choose another port with BOTO_SSO_OIDC_REDIRECT_PORT.")
    assert len(browser_log(sso_emulator.home)) == 2  # the browser was not sent anywhere again


def test_a_bad_redirect_port_setting_is_one_line(sso_emulator):
    result = run_cli(sso_emulator, "login", "--profile", "dev", BOTO_SSO_OIDC_REDIRECT_PORT="70000")
    assert result.returncode == 1
    assert result.stderr.strip() == ("boto-sso-oidc login: The environment: BOTO_SSO_OIDC_REDIRECT_PORT "
                                     "must be a port number from 1 to 65535, not '70000'.")


# -- WSL: the Windows browser ------------------------------------------------------------------

URL = ("https://oidc.us-east-1.amazonaws.com/authorize?response_type=code&client_id=abc&"
       "redirect_uri=http%3A%2F%2F127.0.0.1%3A4711%2Foauth%2Fcallback&state=s&scopes=a%20b")


def _fake(bin_dir: Path, name: str, log: Path, exit_code: int = 0) -> None:
    script = bin_dir / name
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "{name}" "$@" >> "{log}"\nexit {exit_code}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def windows_side(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "opened.log"
    environ = {"PATH": f"{bin_dir}:/usr/bin:/bin", "WSL_DISTRO_NAME": "Ubuntu",
               "WSL_INTEROP": "/run/WSL/1_interop"}
    return bin_dir, log, environ


def test_wsl_opens_the_windows_browser_with_wslview_first(windows_side):
    bin_dir, log, environ = windows_side
    for name in ("wslview", "cmd.exe", "explorer.exe"):
        _fake(bin_dir, name, log)
    assert _interaction.open_browser(URL, environ) is True
    assert log.read_text().splitlines() == ["wslview", URL]


def test_wsl_without_wslview_uses_cmd_start_with_the_url_escaped(windows_side):
    bin_dir, log, environ = windows_side
    _fake(bin_dir, "cmd.exe", log)
    _fake(bin_dir, "explorer.exe", log)
    assert _interaction.open_browser(URL, environ) is True
    escaped = URL.replace("&", "^&")
    assert log.read_text().splitlines() == ["cmd.exe", "/c", "start", '""', escaped]


def test_wsl_falls_back_to_explorer_whose_exit_code_lies(windows_side):
    bin_dir, log, environ = windows_side
    _fake(bin_dir, "explorer.exe", log, exit_code=1)  # explorer.exe exits 1 after opening a URL
    assert _interaction.open_browser(URL, environ) is True
    assert log.read_text().splitlines() == ["explorer.exe", URL]


def test_wsl_without_any_windows_command_opens_nothing(windows_side):
    _, log, environ = windows_side
    assert _interaction.open_browser(URL, environ) is False
    assert not log.exists()


def test_in_wsl_the_login_opens_the_windows_browser_and_prints_the_url_alone_on_its_line(
        sso_emulator, windows_side):
    """The login in WSL opens the browser through wslview (here a stand-in that logs and then acts
    as the browser), and prints the URL on a line of its own: no trailing period or colon for a
    terminal's link detection to take into the link."""
    import sys

    bin_dir, log, _ = windows_side
    script = bin_dir / "wslview"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" wslview "$1" >> "{log}"\n'
                      f'exec "{sys.executable}" "{REPO / "tests" / "fake_browser.py"}" "$1"\n')
    script.chmod(0o755)
    result = run_cli(sso_emulator, "login", "--profile", "dev", BOTO_SSO_OIDC_OPEN_BROWSER="true",
                     PATH=f"{bin_dir}:{os.environ['PATH']}", WSL_DISTRO_NAME="Ubuntu",
                     FAKE_BROWSER_LOG=str(log.with_suffix(".pages")))
    assert result.returncode == 0, result.stderr
    opened = log.read_text().splitlines()
    assert opened[0] == "wslview" and opened[1].startswith(f"{sso_emulator.url}/authorize?")
    lines = result.stderr.splitlines()
    assert f"    {opened[1]}" in lines  # the same URL, alone on its line
    assert lines[lines.index(f"    {opened[1]}") + 1] == ""
    assert sso_emulator.calls()["grants"]["authorization_code"] == 1
