"""Stopping while an endpoint request renews the token loses no session (issue 20 item 3), and
``exec``'s command does not outlive ``exec`` (item 10).

``serve`` gets SIGTERM, and ``exec``'s command ends, at random moments while a request thread's
token refresh is in flight (CreateToken delayed 3 s in the emulator; each moment is measured from
the emulator receiving that CreateToken, never from a sleep alone). Both run with
``--request-timeout 0.5``: a shutdown that waited only for the requests' own deadline (as before,
``request_timeout + 1``) would exit while the service has rotated the refresh token and the cache
still holds the old one. A session is lost when the next caller, without login, cannot get
credentials.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .cli_helpers import CLI, login, role_cache_files
from .conftest import REPO, age_token, subprocess_env, token_file
from .endpoint_helpers import get, sdk_env, serve

_MOMENTS = 25  # per command: 50 moments in all
_DELAY = 3.0


def _refreshes(emulator) -> int:
    return int(emulator.calls()["grants"].get("refresh_token", 0))


def _due(emulator) -> None:
    """The next renewal needs a token refresh: the access token expired, no role credentials."""
    age_token(token_file(emulator.home, emulator.sso_session))
    for path in role_cache_files(emulator.home):
        path.unlink()


def _wait_for_refresh(emulator, before: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while _refreshes(emulator) == before:  # the emulator has received the CreateToken
        assert proc.poll() is None and time.monotonic() < deadline, "no refresh started"
        time.sleep(0.005)


def _session_kept() -> bool:
    from boto_sso_oidc_provider.exceptions import SSOLoginRequiredError
    from boto_sso_oidc_provider.sessions import role_credentials_manager

    try:
        role_credentials_manager("dev", allow_login=False).get()
    except SSOLoginRequiredError:
        return False
    return True


@pytest.fixture
def delayed_refresh(sso_emulator):
    login()
    sso_emulator.fault("CreateToken", delay=_DELAY, count=100000, grant_type="refresh_token")
    return sso_emulator


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sigterm_to_serve_during_a_request_threads_refresh_loses_no_session(delayed_refresh, capsys):
    emulator = delayed_refresh
    rng = random.Random(143)
    codes, lost, waited = [], 0, []
    for _ in range(_MOMENTS):
        with serve(emulator, "--request-timeout", "0.5") as served:
            _due(emulator)
            before = _refreshes(emulator)
            threading.Thread(target=_ignore_errors, args=(get, served.url, served.token),
                             daemon=True).start()
            _wait_for_refresh(emulator, before, served.proc)
            time.sleep(rng.uniform(0.0, _DELAY - 0.2))  # a moment while CreateToken is in flight
            signalled = time.monotonic()
            codes.append(served.stop(signal.SIGTERM))
            waited.append(time.monotonic() - signalled)
            assert "Traceback" not in served.stderr
        lost += not _session_kept()
    assert codes == [0] * _MOMENTS  # serve's documented exit code for SIGTERM
    assert lost == 0
    with capsys.disabled():
        print(f"\nserve: SIGTERM at {_MOMENTS} moments of a request thread's refresh: 0 sessions lost; "
              f"stop took {min(waited):.2f}-{max(waited):.2f} s")


COMMAND = """
import os, sys, threading, time, urllib.request
work = sys.argv[1]
open(os.path.join(work, "ready"), "w").close()
while not os.path.exists(os.path.join(work, "request")):
    time.sleep(0.005)
def fetch():
    token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
    request = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
                                     headers={"Authorization": token})
    try:
        urllib.request.urlopen(request, timeout=30).read()
    except Exception:
        pass
threading.Thread(target=fetch, daemon=True).start()
while not os.path.exists(os.path.join(work, "exit")):
    time.sleep(0.005)
os._exit(7)
"""


def _wait_for(path: Path, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate(timeout=30)
        time.sleep(0.005)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_execs_command_ending_during_a_request_threads_refresh_loses_no_session(
        delayed_refresh, tmp_path, capsys):
    emulator = delayed_refresh
    rng = random.Random(7)
    codes, lost = [], 0
    for index in range(_MOMENTS):
        work = tmp_path / f"run-{index}"
        work.mkdir()
        proc = subprocess.Popen([*CLI, "exec", "--profile", "dev", "--request-timeout", "0.5", "--",
                                 sys.executable, "-c", COMMAND, str(work)],
                                env=subprocess_env(emulator), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, cwd=REPO)
        try:
            _wait_for(work / "ready", proc)
            _due(emulator)
            before = _refreshes(emulator)
            (work / "request").touch()
            _wait_for_refresh(emulator, before, proc)
            time.sleep(rng.uniform(0.0, _DELAY - 0.2))
            (work / "exit").touch()
            _, stderr = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        codes.append(proc.returncode)
        assert "Traceback" not in stderr
        lost += not _session_kept()
    assert codes == [7] * _MOMENTS  # the command's own exit code
    assert lost == 0
    with capsys.disabled():
        print(f"\nexec: command ended at {_MOMENTS} moments of a request thread's refresh: 0 sessions lost")


EXEC_CHILD = """
import os, sys, time
open(sys.argv[1], "w").write(str(os.getpid()))
while True:
    time.sleep(0.1)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_execs_command_dies_with_exec_even_after_sigkill(sso_emulator, tmp_path):
    login()
    pid_file = tmp_path / "pid"
    proc = subprocess.Popen([*CLI, "exec", "--profile", "dev", "--", sys.executable, "-c", EXEC_CHILD,
                             str(pid_file)], env=sdk_env(sso_emulator, {}), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            cwd=REPO)
    try:
        _wait_for(pid_file, proc)
        while not pid_file.read_text():
            time.sleep(0.005)
        child = int(pid_file.read_text())
        proc.kill()  # SIGKILL: exec can do nothing about it; the kernel signals the command
        proc.wait(30)
        deadline = time.monotonic() + 30
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not _alive(child), "the command outlived exec"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False
    finally:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def _ignore_errors(call, *args):
    try:
        call(*args)
    except OSError:
        pass  # the server stopped before answering


