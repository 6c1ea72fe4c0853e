"""Windows' own rules, on Windows CPython (run by .ci/windows/run, under wine): the package as a new
user gets it from pip (the ``boto-sso-oidc.exe`` launcher under ``C:\\Program Files``), 16 processes
on an expired token, ``taskkill /F`` in the middle of refreshes and of ``generate``, and the
streams Windows calls terminals. Skipped elsewhere (the same behaviour is proved on Linux by the
rest of the suite, with POSIX signals in place of ``taskkill``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from boto_sso_oidc_provider.caches.token import SSOToken
from boto_sso_oidc_provider.emulator import sso_config

from .cli_helpers import console_script, login, role_cache_files
from .conftest import REPO, age_token, home_env, read_json, subprocess_env, token_file
from .credentials_helpers import race

pytestmark = pytest.mark.windows_only("taskkill, the .exe launcher and Windows' terminals")


def _exe() -> Path:
    script = console_script()
    assert script is not None and script.suffix == ".exe", "boto-sso-oidc.exe is not installed"
    return script


def _run(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(_exe()), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, cwd=REPO)


def _taskkill(*pids: int) -> int:
    """``taskkill /F``: TerminateProcess, which nothing in the process can catch; how many of
    ``pids`` it says it terminated (its exit code for them is 1 on Windows, 0 under wine)."""
    argv = ["taskkill", "/F"] + [arg for pid in pids for arg in ("/PID", str(pid))]
    said = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL).stdout
    lines = [line for line in said.splitlines() if "terminated" in line]
    return sum(any(f"PID {pid} " in line for line in lines) for pid in pids)


def test_stdin_from_nul_is_not_a_terminal():
    """Windows' isatty is true for NUL (subprocess.DEVNULL, ``< NUL``): a credential_process
    started so must not think a person is there to log in."""
    from boto_sso_oidc_provider._platform import is_terminal

    with open(os.devnull) as nul:
        assert nul.isatty()  # Windows' own answer, which is why is_terminal looks further
        assert not is_terminal(nul)


# -- every command, as a new user runs them ---------------------------------------------------

def test_every_command_of_a_new_user(sso_emulator, tmp_path):
    """--help, --version, demo (the user's own home untouched), login with the device code,
    credential-process, export, status, list, generate, logout, and boto3 with
    boto_sso_oidc_enabled = true and no code change (the startup hook's .pth), each run from
    the installed boto-sso-oidc.exe."""
    env = subprocess_env(sso_emulator)
    exe = _exe()
    assert " " in str(exe), exe  # installed as Windows' installer would: under C:\Program Files
    for flag, expected in (("--help", "credential-process"), ("--version", "boto-sso-oidc ")):
        result = _run(env, flag)
        assert result.returncode == 0 and expected in result.stdout, result.stderr

    # demo, with a user home of its own: nothing may appear in it
    user_home = tmp_path / "user"
    user_home.mkdir()
    demo_env = {k: v for k, v in env.items() if not k.startswith("AWS_")}
    demo_env.update(home_env(user_home))
    demo = _run(demo_env, "demo", timeout=300)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "refresh_token grants 0 -> 1" in demo.stdout
    assert list(user_home.iterdir()) == [], "the demo wrote into the user's %USERPROFILE%"

    result = _run(env, "login", "--use-device-code")
    assert result.returncode == 0, result.stderr
    assert "/device?user_code=" in result.stderr
    assert SSOToken.from_cache(read_json(token_file(sso_emulator.home, "emulator"))) is not None

    result = _run(env, "credential-process", "--profile", "dev")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Version"] == 1

    result = _run(env, "export", "--profile", "dev", "--format", "powershell")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('$Env:AWS_ACCESS_KEY_ID="ASIA')

    result = _run(env, "status")
    assert result.returncode == 0 and "logged in" in result.stdout, result.stdout + result.stderr

    result = _run(env, "list")
    assert result.returncode == 0 and "222222222222" in result.stdout, result.stderr

    result = _run(env, "generate", "--sso-session", "emulator", "--region", "eu-west-1")
    assert result.returncode == 0, result.stderr
    assert "[profile Production.ReadOnlyAccess]" in sso_emulator.config_file.read_text()

    # boto3, no code change: the profile says boto_sso_oidc_enabled = true
    sso_emulator.write_config("[profile hooked]\nsso_session = emulator\nsso_account_id = "
                              "222222222222\nsso_role_name = ReadOnlyAccess\nregion = us-east-1\n"
                              "boto_sso_oidc_enabled = true\n", append=True)
    code = ("import boto3; "
            "print(boto3.Session(profile_name='hooked').client('sts').get_caller_identity()['Arn'])")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                            timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_ReadOnlyAccess_")

    result = _run(env, "logout")
    assert result.returncode == 0, result.stderr
    assert not token_file(sso_emulator.home, "emulator").exists()
    assert role_cache_files(sso_emulator.home) == []


# -- 16 processes on an expired token ----------------------------------------------------------

def test_16_windows_processes_on_an_expired_token_refresh_once(sso_emulator, tmp_path):
    """16 credential-process runs at once (each the .exe, as the AWS CLI starts it), on an expired
    token and no role credentials: 16 answers, 1 refresh, 1 GetRoleCredentials."""
    login()
    age_token(token_file(sso_emulator.home, "emulator"))
    assert role_cache_files(sso_emulator.home) == []
    sso_emulator.fault("CreateToken", delay=0.5, grant_type="refresh_token")
    sso_emulator.fault("GetRoleCredentials", delay=0.5)
    before = sso_emulator.calls()
    racer = ("import subprocess, sys\nwait_for_go()\n"
             f"sys.exit(subprocess.call([{str(_exe())!r}, 'credential-process', '--profile', 'dev']))\n")
    workdir = tmp_path / "race"
    workdir.mkdir()
    results = race(racer, 16, subprocess_env(sso_emulator, BOTO_SSO_OIDC_AUTO_LOGIN="false"), workdir,
                   timeout=300)
    assert [r.returncode for r in results] == [0] * 16, [r.stderr for r in results if r.returncode]
    keys = {json.loads(r.stdout)["AccessKeyId"] for r in results}
    after = sso_emulator.calls()
    refreshes = after["grants"]["refresh_token"] - before["grants"].get("refresh_token", 0)
    role_calls = after["operations"]["GetRoleCredentials"] - before["operations"].get("GetRoleCredentials", 0)
    print(f"16 processes: {len(results)} answers, {refreshes} refresh, {role_calls} GetRoleCredentials")
    assert (len(keys), refreshes, role_calls) == (1, 1, 1)


# -- taskkill /F in the middle of refreshes ------------------------------------------------------

_SESSIONS = 10


def _sessions_config(sessions: int) -> str:
    return "\n".join(sso_config(profile=f"p{n}", sso_session=f"s{n}",
                                start_url=f"https://s{n}.awsapps.com/start") for n in range(sessions))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_taskkill_during_refreshes_leaves_no_unusable_cache(sso_emulator):
    """100 ``taskkill /F``, each while the process's refresh request is at the server (the
    emulator holds it until the kills are done): every token file is still a whole token (the
    one before), no lock stays taken, and the next credentials come without a person."""
    from boto_sso_oidc_provider import load_token

    sso_emulator.write_config(_sessions_config(_SESSIONS))
    for n in range(_SESSIONS):
        load_token(f"p{n}", allow_login=True)
    env = subprocess_env(sso_emulator, BOTO_SSO_OIDC_AUTO_LOGIN="false")
    del env["AWS_PROFILE"]  # the config has p0...p9 only
    kills = unusable = 0
    for _ in range(100 // _SESSIONS):
        for n in range(_SESSIONS):
            age_token(token_file(sso_emulator.home, f"s{n}"))
        sso_emulator.fault("CreateToken", grant_type="refresh_token", hold=True, count=_SESSIONS)
        # The interpreter itself (not the .exe launcher, its parent): the process taskkill ends
        # is the one holding the lock and the refresh.
        processes = [subprocess.Popen([sys.executable, "-m", "boto_sso_oidc_provider", "credential-process",
                                       "--profile", f"p{n}"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                      stdin=subprocess.DEVNULL) for n in range(_SESSIONS)]
        deadline = time.monotonic() + 300
        while sso_emulator.held() < _SESSIONS:
            ended = [p.communicate()[1] for p in processes if p.poll() is not None]
            assert not ended, f"ended before their refresh reached the server: {ended}"
            assert time.monotonic() < deadline, "the refreshes did not all reach the server"
            time.sleep(0.05)
        kills += _taskkill(*(p.pid for p in processes))
        for process in processes:
            process.wait(60)
        for process in processes:
            assert process.stderr is not None
            process.stderr.close()
        sso_emulator.release()
        for n in range(_SESSIONS):
            data = read_json(token_file(sso_emulator.home, f"s{n}"))  # never half a file
            unusable += SSOToken.from_cache(data) is None
            # The lock is free (a killed holder's lock is the system's to drop), and the session
            # goes on: a refresh, or a login where the server rotated the refresh token that the
            # killed process took with it.
            assert load_token(f"p{n}", allow_login=True, lock_timeout=5).seconds_left() > 900
        for path in role_cache_files(sso_emulator.home):
            json.loads(path.read_text())
    print(f"taskkill /F during refreshes: {kills} kills, {unusable} unusable caches")
    assert (kills, unusable) == (100, 0)


# -- taskkill /F in the middle of generate -------------------------------------------------------

@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.sso_emulator(accounts=150)
def test_taskkill_in_the_middle_of_generate_leaves_the_old_config_or_the_new_one(sso_emulator, tmp_path):
    """``taskkill /F`` at random moments of generate runs, each rewriting a 450-profile block into a
    360-profile one: after each, the config is the one before or the complete new one, byte for
    byte, and the directory cache is whole JSON."""
    import random

    from boto_sso_oidc_provider.emulator import Directory

    from .test_organizations import FAST, directory_files

    login()
    env = subprocess_env(sso_emulator)
    first = _run(env, "generate", "--sso-session", "emulator", *FAST, timeout=300)
    assert first.returncode == 0, first.stderr
    before = sso_emulator.config_file.read_bytes()
    sso_emulator.state.set_directory(Directory.synthetic(120))
    copy = tmp_path / "copy"
    for path in sso_emulator.home.rglob("*"):  # (shutil's copy calls CopyFile2, which wine lacks)
        target = copy / path.relative_to(sso_emulator.home)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    copy_env = {**env, **home_env(copy), "AWS_CONFIG_FILE": str(copy / ".aws" / "config")}
    began = time.monotonic()
    complete = _run(copy_env, "generate", "--sso-session", "emulator", "--refresh", *FAST, timeout=300)
    duration = time.monotonic() - began
    assert complete.returncode == 0, complete.stderr
    after = (copy / ".aws" / "config").read_bytes()
    assert after != before
    outcomes = {"before": 0, "after": 0}
    chance = random.Random(26)
    kills = 0
    while kills < 10:
        if sso_emulator.config_file.read_bytes() == after:
            sso_emulator.config_file.write_bytes(before)  # start again from the old config
        process = subprocess.Popen([sys.executable, "-m", "boto_sso_oidc_provider", "generate",
                                    "--sso-session", "emulator", "--refresh", *FAST], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   stdin=subprocess.DEVNULL, cwd=REPO)
        time.sleep(chance.uniform(0.2, duration))
        if process.poll() is None:
            kills += _taskkill(process.pid)
        process.wait(60)
        text = sso_emulator.config_file.read_bytes()
        assert text in (before, after), "a torn config"
        outcomes["before" if text == before else "after"] += 1
        for path in directory_files(sso_emulator.home):
            json.loads(path.read_text())
    print(f"taskkill /F during generate: {kills} kills, outcomes {outcomes}")

