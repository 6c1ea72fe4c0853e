"""Single flight and crash safety of the token cache, with real processes and threads."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import boto_sso_oidc_provider as sso
from boto_sso_oidc_provider.caches.token import SSOToken

from .conftest import age_token, read_json, subprocess_env, token_file
from .credentials_helpers import in_threads, race

_RACER = """
import boto_sso_oidc_provider as p
from boto_sso_oidc_provider.caches import token  # import everything before the start line
import botocore.session, botocore.client
wait_for_go()
print(p.load_token("dev", allow_login=False).access_token)
"""


@pytest.mark.slow
def test_24_processes_with_an_expired_token_refresh_once(sso_emulator, tmp_path):
    sso.login("dev")
    path = token_file(sso_emulator.home, "emulator")
    age_token(path)
    # Make the refresh take a while, so the others really find the lock taken.
    sso_emulator.fault("CreateToken", delay=0.3, count=1)
    workdir = tmp_path / "race"
    workdir.mkdir()

    results = race(_RACER, 24, subprocess_env(sso_emulator), workdir)

    assert [r.returncode for r in results] == [0] * 24, [r.stderr for r in results if r.returncode]
    tokens = {r.stdout.strip() for r in results}
    assert len(tokens) == 1
    assert sso_emulator.calls()["grants"].get("refresh_token", 0) == 1
    cached = read_json(path)
    assert cached["accessToken"] == tokens.pop()
    assert SSOToken.from_cache(cached) is not None


def test_32_threads_with_an_expired_token_refresh_once(sso_emulator):
    sso.login("dev")
    age_token(token_file(sso_emulator.home, "emulator"))
    sso_emulator.fault("CreateToken", delay=0.2, count=1)
    results, errors = in_threads(32, lambda: sso.load_token("dev", allow_login=False).access_token)

    assert errors == []
    assert len(results) == 32 and len(set(results)) == 1
    assert sso_emulator.calls()["grants"].get("refresh_token", 0) == 1


@pytest.mark.sso_emulator(auto_approve=False)
def test_n_processes_needing_a_login_show_one_device_authorization(sso_emulator, tmp_path):
    env = subprocess_env(sso_emulator, BOTO_SSO_OIDC_AUTO_LOGIN="true")
    code = "import boto_sso_oidc_provider as p; print(p.load_token('dev').access_token)"
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, start_new_session=True) for _ in range(6)]
    deadline = time.monotonic() + 60
    while not sso_emulator.pending():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)  # give the others every chance to (wrongly) start their own
    (code_,) = sso_emulator.pending()
    sso_emulator.approve(code_)
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, outs
    assert len({out for out, _ in outs}) == 1
    assert sso_emulator.calls()["operations"]["StartDeviceAuthorization"] == 1
    prompts = [err for _, err in outs if code_ in err]
    assert len(prompts) == 1  # exactly one person-facing prompt


_KILLED = """
import boto_sso_oidc_provider as p
p.load_token("dev", allow_login=True)
"""


@pytest.mark.slow
def test_sigkill_during_refresh_never_corrupts_the_cache_or_leaves_a_stuck_lock(sso_emulator):
    sso.login("dev")
    path = token_file(sso_emulator.home, "emulator")
    env = subprocess_env(sso_emulator, BOTO_SSO_OIDC_AUTO_LOGIN="true")
    rng = random.Random(8628)
    killed = 0
    for _ in range(12):
        age_token(path)
        sso_emulator.fault("CreateToken", delay=rng.uniform(0.0, 0.2), count=1)
        procs = [subprocess.Popen([sys.executable, "-c", _KILLED], env=env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True) for _ in range(3)]
        time.sleep(rng.uniform(0.3, 0.9))  # imports take ~0.3 s; then they refresh
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            proc.wait()
        data = json.loads(path.read_text())  # never half a file
        assert SSOToken.from_cache(data) is not None
        # The lock is free again: a short bounded wait is enough, and the session goes on
        # (through a refresh, or a login where a killed process took the rotated token with it).
        token = sso.load_token("dev", allow_login=True, lock_timeout=5)
        assert token.seconds_left() > 900
    assert killed > 0


def test_debug_logging_never_shows_a_secret(sso_emulator):
    code = textwrap.dedent("""
        import json, logging, sys
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
        import boto_sso_oidc_provider as p
        from boto_sso_oidc_provider.sessions import token_manager
        first = p.login("dev")
        manager = token_manager("dev", allow_login=False)
        data = manager.entry.read(); data["expiresAt"] = "2000-01-01T00:00:00Z"; manager.entry.write(data)
        second = p.load_token("dev", allow_login=False)
        import boto3
        sso = boto3.client("sso", region_name="us-east-1")
        creds = sso.get_role_credentials(roleName="AdministratorAccess", accountId="111111111111",
                                         accessToken=second.access_token)["roleCredentials"]
        try:
            p.load_token("nosuch", allow_login=False)
        except Exception as error:
            print(error, file=sys.stderr)
        print(json.dumps([first.access_token, first.refresh_token, first.client_secret,
                          second.access_token, second.refresh_token,
                          creds["secretAccessKey"], creds["sessionToken"]]))
    """)
    env = subprocess_env(sso_emulator)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    secrets = json.loads(result.stdout.strip().splitlines()[-1])
    log = result.stderr
    assert "Response body" in log and "Making request for" in log  # botocore really logged at DEBUG
    assert len(log) > 5000
    for secret in secrets:
        assert secret and secret not in log
