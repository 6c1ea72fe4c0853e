"""``boto-sso-oidc credential-process`` as the AWS CLI runs it: a child process, stdout parsed.

Every test runs the real command in a fresh interpreter against the emulator,
with no terminal unless it gives one (a pseudo-terminal) on purpose.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import select
import subprocess
import sys
import time

import pytest

from boto_sso_oidc_provider._clock import format_timestamp, parse_timestamp, utc_now

from .cli_helpers import CLI, login, one_line, role_cache_files, run_cli
from .conftest import REPO, read_json, subprocess_env


def _credentials(emulator, **env):
    result = run_cli(emulator, "credential-process", "--profile", "dev", **env)
    assert result.returncode == 0, result.stderr
    return result


def _get_role_credentials_calls(emulator) -> int:
    return emulator.calls()["operations"]["GetRoleCredentials"]


def test_prints_version_1_json_and_nothing_else_on_stdout(sso_emulator):
    login()
    result = _credentials(sso_emulator)
    assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1
    output = json.loads(result.stdout)
    assert output["Version"] == 1
    assert output["AccessKeyId"].startswith("ASIA")
    assert output["SecretAccessKey"] and output["SessionToken"]
    assert parse_timestamp(output["Expiration"]) > utc_now() + dt.timedelta(minutes=50)
    assert output["AccountId"] == "111111111111"
    assert result.stderr == ""
    assert _get_role_credentials_calls(sso_emulator) == 1


def test_second_run_answers_from_the_cache(sso_emulator):
    login()
    first = json.loads(_credentials(sso_emulator).stdout)
    second = json.loads(_credentials(sso_emulator).stdout)
    assert second == first
    assert _get_role_credentials_calls(sso_emulator) == 1


def test_credentials_near_expiry_are_renewed(sso_emulator):
    login()
    _credentials(sso_emulator)
    [cache] = role_cache_files(sso_emulator.home)
    data = read_json(cache)
    soon = format_timestamp(utc_now() + dt.timedelta(minutes=10))  # inside the 15 min window
    data["Credentials"]["Expiration"] = soon
    cache.write_text(json.dumps(data))
    output = json.loads(_credentials(sso_emulator).stdout)
    assert output["Expiration"] != soon
    assert parse_timestamp(output["Expiration"]) > utc_now() + dt.timedelta(minutes=50)
    assert _get_role_credentials_calls(sso_emulator) == 2


def test_corrupt_cache_is_replaced_with_a_warning_on_stderr_only(sso_emulator):
    login()
    _credentials(sso_emulator)
    [cache] = role_cache_files(sso_emulator.home)
    cache.write_text('{"Credentials": ')
    result = _credentials(sso_emulator)
    assert json.loads(result.stdout)["Version"] == 1
    assert "not valid JSON" in result.stderr
    assert read_json(cache)["Credentials"]["AccessKeyId"] == json.loads(result.stdout)["AccessKeyId"]


def test_expired_token_is_refreshed_without_a_person(sso_emulator):
    login()
    from .conftest import age_token, token_file

    age_token(token_file(sso_emulator.home, "emulator"))
    result = _credentials(sso_emulator)
    assert json.loads(result.stdout)["Version"] == 1
    assert sso_emulator.calls()["grants"].get("refresh_token") == 1


def test_no_login_possible_fails_at_once_naming_the_login_command(sso_emulator):
    began = time.monotonic()
    result = run_cli(sso_emulator, "credential-process", "--profile", "dev", timeout=30)
    assert time.monotonic() - began < 20  # never waits for a person who is not there
    assert result.returncode == 1
    assert result.stdout == ""
    line = one_line(result.stderr)
    assert line.startswith("boto-sso-oidc credential-process: ")
    assert "boto-sso-oidc login --profile dev" in line
    assert '"dev"' in line
    assert sso_emulator.calls()["operations"]["StartDeviceAuthorization"] == 0


def test_ci_never_logs_in_even_with_a_terminal(sso_emulator):
    result = run_cli(sso_emulator, "credential-process", "--profile", "dev", CI="true")
    assert result.returncode == 1
    assert "boto-sso-oidc login --profile dev" in one_line(result.stderr)


def _run_on_a_terminal(env: dict[str, str], args: list[str], timeout: float = 60) \
        -> tuple[int, str, str, str]:
    """Run in a new session whose controlling terminal is a pseudo-terminal (a person's shell),
    with stdout and stderr captured as the AWS CLI captures them. Returns (code, stdout, stderr,
    what the terminal showed)."""
    master, slave = os.openpty()
    slave_name = os.ttyname(slave)

    def take_terminal() -> None:  # runs in the child after setsid(): the first tty opened is ours
        os.close(os.open(slave_name, os.O_RDWR))

    proc = subprocess.Popen([*CLI, *args], env=env, stdin=slave, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=take_terminal, cwd=REPO)
    os.close(slave)
    shown = b""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                shown += os.read(master, 4096)
            except OSError:
                break
    stdout, stderr = proc.communicate(timeout=max(1, deadline - time.monotonic()))
    os.close(master)
    return proc.returncode, stdout.decode(), stderr.decode(), shown.decode(errors="replace")


@pytest.mark.posix_only("a pty as the controlling terminal (tests/test_wine.py: a Windows console)")
def test_login_prompt_goes_to_the_terminal_and_json_to_stdout(sso_emulator):
    code, stdout, stderr, shown = _run_on_a_terminal(
        subprocess_env(sso_emulator), ["credential-process", "--profile", "dev"])
    assert code == 0, stderr
    assert json.loads(stdout)["Version"] == 1
    # botocore's runner captures stderr: the person must see the prompt on the terminal itself.
    assert "/device?user_code=" in shown and "check that it shows the code" in shown
    assert "user_code" not in stdout
    assert sso_emulator.calls()["operations"]["StartDeviceAuthorization"] == 1


@pytest.mark.posix_only("a pty as the controlling terminal (tests/test_wine.py: a Windows console)")
def test_sso_auto_login_false_refuses_even_at_a_terminal(sso_emulator):
    sso_emulator.write_config(sso_emulator.config_file.read_text().replace(
        "sso_region = us-east-1\n", "sso_region = us-east-1\nsso_auto_login = false\n", 1))
    code, stdout, stderr, shown = _run_on_a_terminal(
        subprocess_env(sso_emulator), ["credential-process", "--profile", "dev"])
    assert code == 1 and stdout == ""
    assert "boto-sso-oidc login --profile dev" in one_line(stderr)
    assert "user_code" not in shown


def test_unknown_profile_is_one_line_naming_it(sso_emulator):
    result = run_cli(sso_emulator, "credential-process", "--profile", "nope")
    assert result.returncode == 1 and result.stdout == ""
    line = one_line(result.stderr)
    assert 'Profile "nope" is not defined' in line


@pytest.mark.parametrize("args", [["--profile=dev"], ["--profile", "dev", "--debug"],
                                  ["--debug", "--profile", "dev"]])
def test_every_spelling_gives_the_same_answer(sso_emulator, args):
    """The argparse-free fast form and argparse's own parsing agree."""
    login()
    plain = _credentials(sso_emulator)
    other = run_cli(sso_emulator, "credential-process", *args)
    assert other.returncode == 0, other.stderr
    assert json.loads(other.stdout) == json.loads(plain.stdout)


@pytest.mark.parametrize("args", [[], ["--profile"], ["--profile", "dev", "extra"]])
def test_profile_is_required(sso_emulator, args):
    result = run_cli(sso_emulator, "credential-process", *args)
    assert result.returncode == 2
    assert "--profile" in result.stderr or "unrecognized" in result.stderr
    assert result.stdout == ""


def test_own_credential_process_is_never_run(sso_emulator):
    """An SSO profile whose credential_process calls the helper for itself: SSO settings win."""
    login()
    sso_emulator.write_config(sso_emulator.config_file.read_text().replace(
        "[profile dev]\n", "[profile dev]\ncredential_process = boto-sso-oidc credential-process "
                           "--profile dev\n"))
    result = run_cli(sso_emulator, "credential-process", "--profile", "dev", timeout=30)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Version"] == 1


def test_a_profile_pointing_back_at_itself_is_a_clear_error(sso_emulator):
    sso_emulator.write_config("[profile loop]\ncredential_process = boto-sso-oidc "
                              "credential-process --profile loop\n", append=True)
    result = run_cli(sso_emulator, "credential-process", "--profile", "loop", timeout=30)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "would loop" in line and '"loop"' in line


def test_a_cycle_through_other_programs_is_refused(sso_emulator):
    """The chain variable, as a parent helper run for "dev" -> "ops" would leave it."""
    login()
    result = run_cli(sso_emulator, "credential-process", "--profile", "dev",
                     BOTO_SSO_OIDC_CREDENTIAL_CHAIN=json.dumps(["dev", "ops"]))
    assert result.returncode == 1 and result.stdout == ""
    line = one_line(result.stderr)
    assert 'credential_process cycle: profile "dev" -> "ops" -> "dev"' in line


def _imports(emulator) -> set[str]:
    """Run credential-process under ``-X importtime``; the modules it imported."""
    result = subprocess.run([sys.executable, "-X", "importtime", *CLI[1:], "credential-process",
                             "--profile", "dev"], env=subprocess_env(emulator), capture_output=True,
                            text=True, stdin=subprocess.DEVNULL, start_new_session=True, timeout=60,
                            cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Version"] == 1
    return {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
            if line.startswith("import time:")}


def test_warm_path_never_imports_botocore(sso_emulator):
    login()
    _credentials(sso_emulator)  # fills the role cache
    imported = _imports(sso_emulator)
    assert "boto_sso_oidc_provider.credentials._warm" in imported  # the measurement works
    heavy = {name for name in imported
             if name.split(".")[0] in ("botocore", "boto3", "urllib3", "filelock", "dateutil")
             or name in ("boto_sso_oidc_provider.caches.token", "boto_sso_oidc_provider.exceptions",
                         "logging", "dataclasses", "argparse")}
    assert heavy == set()
    assert _get_role_credentials_calls(sso_emulator) == 1


def test_cold_path_does_import_botocore(sso_emulator):
    """The counterpart: the measurement above can fail."""
    login()
    imported = _imports(sso_emulator)
    assert {"botocore", "boto_sso_oidc_provider.credentials.role_credentials"} <= imported


@pytest.mark.sso_emulator(role_credentials_ttl=600)
def test_short_lived_credentials_are_served_but_never_from_cache(sso_emulator):
    """Credentials that live less than the window: correct output every time, fetched each time."""
    login()
    first = json.loads(_credentials(sso_emulator).stdout)
    second = json.loads(_credentials(sso_emulator).stdout)
    assert first["Version"] == second["Version"] == 1
    assert _get_role_credentials_calls(sso_emulator) == 2


@pytest.mark.slow
def test_the_benchmark_script_runs():
    """bench/ prints its table (the numbers are the benchmark's business, not a test's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run([sys.executable, str(REPO / "bench" / "credential_process.py"),
                             "--runs", "1"], env=env, capture_output=True, text=True, timeout=300,
                            stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO)
    if result.returncode == 1 and "not installed" in result.stderr:
        pytest.skip(result.stderr.strip())
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Machine: ")
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| command") and any("boto-sso-oidc credential-process" in r for r in rows)
    assert "served from the cache (no GetRoleCredentials call): yes." in result.stdout
