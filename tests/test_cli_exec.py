"""``boto-sso-oidc exec``: the command's SDKs use the endpoint; exit codes, signals and streams pass through.

Every test runs the real command as a child process against the emulator;
the commands it runs are real programs (Python with plain boto3, Node with
the JS SDK, a shell).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from boto_sso_oidc_provider._clock import parse_timestamp, utc_now

from .cli_helpers import CLI, SECOND_SESSION, login, run_cli
from .conftest import REPO, subprocess_env
from .endpoint_helpers import JS_CLIENT, javascript_sdk

PY = sys.executable


@pytest.fixture
def logged_in(sso_emulator):
    login()
    return sso_emulator


def _exec(emulator, *command: str, args: tuple[str, ...] = (), timeout: float = 120,
          input: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "exec", "--profile", "dev", *args, "--", *command],
                          env=subprocess_env(emulator, **env), capture_output=True, text=True,
                          timeout=timeout, input=input, start_new_session=True, cwd=REPO,
                          stdin=None if input is not None else subprocess.DEVNULL)


def test_plain_boto3_in_the_command_uses_the_endpoint_and_calls_sts(logged_in):
    code = textwrap.dedent("""
        import json, os, sys, boto3
        session = boto3.Session()
        credentials = session.get_credentials()
        arn = session.client("sts").get_caller_identity()["Arn"]
        print(json.dumps({"method": credentials.method, "arn": arn,
                          "env": sorted(k for k in os.environ if k.startswith(("AWS_", "BOTO_SSO_OIDC"))),
                          "plugin": "boto_sso_oidc_provider.providers.provider" in sys.modules}))
    """)
    result = _exec(logged_in, PY, "-c", code, AWS_ACCESS_KEY_ID="AKIAOLD", AWS_SECRET_ACCESS_KEY="old")
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["method"] == "container-role" and seen["plugin"] is False
    assert logged_in.role_name in seen["arn"]
    assert "AWS_PROFILE" not in seen["env"] and "AWS_ACCESS_KEY_ID" not in seen["env"]
    assert {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "BOTO_SSO_OIDC_EXEC_PROFILE"} <= set(seen["env"])
    assert result.stderr == ""


def test_javascript_sdk_in_the_command_uses_the_endpoint(logged_in):
    modules = javascript_sdk()
    result = _exec(logged_in, "node", "-e", JS_CLIENT, NODE_PATH=str(modules))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["fromHttp"] == seen["defaultChain"] and logged_in.role_name in seen["arn"]


@pytest.mark.sso_emulator(role_credentials_ttl=2)
def test_a_command_running_past_the_credentials_lifetime_keeps_working(logged_in):
    """Role credentials live 2 seconds; one boto3 client calls STS for 7 seconds: its SDK re-fetches
    from the endpoint and gets renewed credentials (STS refuses expired ones)."""
    code = textwrap.dedent("""
        import json, time, boto3
        from botocore.utils import parse_timestamp
        session = boto3.Session()
        sts = session.client("sts")
        calls, started = [], time.time()
        while time.time() - started < 7:
            arn = sts.get_caller_identity()["Arn"]
            frozen = session.get_credentials().get_frozen_credentials()
            expiry = session.get_credentials()._expiry_time.timestamp()
            calls.append({"at": time.time(), "key": frozen.access_key, "expires": expiry, "arn": arn})
            time.sleep(0.7)
        print(json.dumps(calls))
    """)
    result = _exec(logged_in, PY, "-c", code)
    assert result.returncode == 0, result.stderr
    calls = json.loads(result.stdout)
    assert calls[-1]["at"] > calls[0]["expires"]  # it ran past the first credentials' end
    assert len({call["key"] for call in calls}) >= 2  # and kept getting renewed ones (about 8 here;
    assert all(logged_in.role_name in call["arn"] for call in calls)  # 2 on a very busy machine)
    assert logged_in.calls()["operations"]["GetRoleCredentials"] >= 2


def test_env_mode_gives_plain_keys(logged_in):
    code = ("import json, os, boto3; print(json.dumps({'method': boto3.Session().get_credentials().method, "
            "'env': sorted(k for k in os.environ if k.startswith('AWS_'))}))")
    result = _exec(logged_in, PY, "-c", code, args=("--env",))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["method"] == "env"
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
            "AWS_CREDENTIAL_EXPIRATION"} <= set(seen["env"])
    assert not any(name.startswith("AWS_CONTAINER") for name in seen["env"])


@pytest.mark.parametrize("args", [(), ("--env",)])
def test_exit_code_stdin_and_stdout_pass_through(logged_in, args):
    result = _exec(logged_in, "sh", "-c", "cat; echo to-stderr >&2; exit 7", args=args, input="hello\n")
    assert (result.returncode, result.stdout, result.stderr) == (7, "hello\n", "to-stderr\n")


def test_a_command_killed_by_a_signal_gives_128_plus_its_number(logged_in):
    result = _exec(logged_in, "sh", "-c", "kill -KILL $$")
    assert result.returncode == 128 + signal.SIGKILL


def test_command_not_found_and_not_executable(logged_in, tmp_path):
    assert _exec(logged_in, "no-such-command-anywhere").returncode == 127
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\n")
    assert _exec(logged_in, str(script)).returncode == 126


_TRAP = textwrap.dedent("""
    import os, signal, sys, time
    received = []
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: received.append(signum))
    open(sys.argv[1], "w").close()  # ready
    deadline = time.time() + 60
    while not received and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(1)  # a second delivery of the same signal would arrive within this second
    sys.exit(100 + 10 * len(received) + (received[0] if received else 0))
""")


def _wait_for(path: Path, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the command did not start"
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signals_sent_to_exec_reach_the_command_once(logged_in, tmp_path, sig):
    ready = tmp_path / "ready"
    proc = subprocess.Popen([*CLI, "exec", "--profile", "dev", "--", PY, "-c", _TRAP, str(ready)],
                            env=subprocess_env(logged_in), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, cwd=REPO)
    _wait_for(ready, proc)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 110 + sig, stderr  # the command's own code: one signal, this one


def test_ctrl_c_at_a_terminal_reaches_the_command_once(logged_in, tmp_path):
    """Ctrl-C goes to the terminal's whole foreground group (exec and the command): exec must not
    pass on a second one."""
    ready = tmp_path / "ready"
    master, slave = os.openpty()
    slave_name = os.ttyname(slave)

    def take_terminal() -> None:  # in the child after setsid(): the first terminal opened is ours
        os.close(os.open(slave_name, os.O_RDWR))

    proc = subprocess.Popen([*CLI, "exec", "--profile", "dev", "--", PY, "-c", _TRAP, str(ready)],
                            env=subprocess_env(logged_in), stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True, preexec_fn=take_terminal, cwd=REPO)
    os.close(slave)
    try:
        _wait_for(ready, proc)
        os.write(master, b"\x03")  # Ctrl-C
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    os.read(master, 4096)
                except OSError:
                    break
        proc.wait(timeout=10)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 110 + signal.SIGINT


def test_nested_exec_into_the_same_profile_is_refused(logged_in):
    logged_in.write_config(SECOND_SESSION, append=True)
    inner_same = [*CLI, "exec", "--profile", "dev", "--", "true"]
    result = _exec(logged_in, *inner_same)
    assert result.returncode == 1
    assert "already running inside boto-sso-oidc exec" in result.stderr and '"dev"' in result.stderr


def test_nested_exec_into_another_profile_is_allowed(logged_in):
    logged_in.write_config(SECOND_SESSION, append=True)
    from boto_sso_oidc_provider.sessions import login as token_login

    token_login("ops")
    code = "import boto3; print(boto3.client('sts').get_caller_identity()['Account'])"
    result = _exec(logged_in, *CLI, "exec", "--profile", "ops", "--", PY, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "222222222222"


def test_a_default_profile_with_its_own_credentials_is_refused(logged_in):
    logged_in.credentials_file.write_text("[default]\naws_access_key_id = AKIAOTHER\n"
                                          "aws_secret_access_key = other\n")
    result = _exec(logged_in, "true")
    assert result.returncode == 1
    assert 'profile "default"' in result.stderr and "--env" in result.stderr
    assert _exec(logged_in, "true", args=("--env",)).returncode == 0  # env keys come first: fine


def test_no_command_is_a_usage_error(logged_in):
    result = run_cli(logged_in, "exec", "--profile", "dev")
    assert result.returncode == 2 and "after --" in result.stderr


def test_no_credentials_is_one_line_and_the_command_does_not_run(logged_in, tmp_path):
    marker = tmp_path / "ran"
    result = _exec(logged_in, "touch", str(marker), args=(), BOTO_SSO_OIDC_AUTO_LOGIN="false",
                   AWS_CONFIG_FILE=str(tmp_path / "missing"))
    assert result.returncode == 1 and not marker.exists()
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("region_args, expected",
                         [((), "us-east-1"), (("--region", "eu-west-2"), "eu-west-2")])
def test_the_profile_region_or_the_global_region_option_is_given_to_the_command(logged_in, region_args,
                                                                                 expected):
    env = subprocess_env(logged_in, AWS_DEFAULT_REGION="ap-south-1")  # set, so only --region overrides it
    if not region_args:
        env.pop("AWS_DEFAULT_REGION")
    code = "import os; print(os.environ.get('AWS_REGION'), os.environ.get('AWS_DEFAULT_REGION'))"
    result = subprocess.run([*CLI, *region_args, "exec", "--profile", "dev", "--", PY, "-c", code], env=env,
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=REPO)
    assert result.stdout.split() == [expected, expected], result.stderr


def test_served_credentials_outlast_the_sdks_refresh_margin(logged_in):
    code = ("import json, os, urllib.request; r = urllib.request.Request("
            "os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI'], headers={'Authorization': "
            "os.environ['AWS_CONTAINER_AUTHORIZATION_TOKEN']}); "
            "print(json.load(urllib.request.urlopen(r))['Expiration'])")
    result = _exec(logged_in, PY, "-c", code)
    assert result.returncode == 0, result.stderr
    assert (parse_timestamp(result.stdout.strip()) - utc_now()).total_seconds() > 15 * 60
