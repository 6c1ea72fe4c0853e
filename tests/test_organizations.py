"""Big organizations: ``list`` and ``generate`` through the portal's throttling, a hung call, kills,
concurrent runs, an organization that changes, the directory cache, filters, regions, output size.

Small synthetic organizations (``@pytest.mark.sso_emulator(accounts=N)``) and high rates keep these
quick; the big numbers are bench/org_scale.py's.
"""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import botocore.configloader
import pytest

from boto_sso_oidc_provider.emulator import Directory

from .cli_helpers import CLI, login, one_line, run_cli, secrets_of
from .conftest import REPO, assert_owner_only, home_env, subprocess_env

FAST = ("--rate", "400")
"""The tests' emulators answer at once: let the listing go fast (the default is the portal's 20)."""


def generated(config: Path) -> dict[str, dict[str, str]]:
    """The generated profiles of the config (those of sso-session emulator other than dev)."""
    profiles: dict[str, dict[str, str]] = botocore.configloader.load_config(str(config))["profiles"]
    return {name: values for name, values in profiles.items() if name != "dev"}


def expected_names(directory: Directory) -> set[str]:
    return {f"Account-{account.account_name.split()[-1]}.{role}"
            for account in directory.accounts for role in account.roles}


def directory_files(home: Path) -> list[Path]:
    return sorted((home / ".aws" / "boto-sso-oidc" / "directory").glob("*.json"))


def summary(stderr: str) -> dict[str, int]:
    """The figures of generate's listing line."""
    found = re.search(r"(\d+) calls, (\d+) throttles waited out", stderr)
    assert found, stderr
    return {"calls": int(found.group(1)), "throttles": int(found.group(2))}


# -- throttling -----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.sso_emulator(accounts=120, rate_limits={"ListAccountRoles": 150.0})
def test_bursts_of_100_throttles_at_random_never_fail_generate(sso_emulator):
    """Three bursts of 100 TooManyRequestsException on ListAccountRoles (and 10 on ListAccounts,
    which one caller pages through) at random moments, on top of the emulator's own 150 TPS token
    bucket: generate succeeds, every profile is written, and the throttles it reports are exactly
    those the emulator answered."""
    seed = random.randrange(1 << 30)
    chance = random.Random(seed)
    login()
    sso_emulator.fault("ListAccounts", error="TooManyRequestsException", count=10)
    process = subprocess.Popen([*CLI, "generate", "--sso-session", "emulator", *FAST],
                               env=subprocess_env(sso_emulator), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL, cwd=REPO)

    def bursts() -> None:
        for _ in range(3):
            time.sleep(chance.uniform(0.0, 0.8))
            sso_emulator.fault("ListAccountRoles", error="TooManyRequestsException", count=100)

    injector = threading.Thread(target=bursts)
    injector.start()
    stdout, stderr = process.communicate(timeout=300)
    injector.join()
    assert process.returncode == 0, (seed, stderr)
    with sso_emulator.state.lock:
        left = sum(fault.count for fault in sso_emulator.state.faults)
    calls = sso_emulator.calls()
    # Every call beyond the 2 pages of ListAccounts and the 120 of ListAccountRoles was a 429.
    answered_429 = calls["operations"]["ListAccounts"] - 2 + calls["operations"]["ListAccountRoles"] - 120
    assert summary(stderr)["throttles"] == answered_429, (seed, left, calls, stderr)
    assert answered_429 == 310 - left + calls["throttled"]["ListAccountRoles"], (seed, left, calls)
    assert answered_429 >= 110, (seed, left)  # the ListAccounts burst and the first burst at least
    assert set(generated(sso_emulator.config_file)) == expected_names(sso_emulator.state.directory)
    assert stdout == "" and len(stderr.splitlines()) <= 5


@pytest.mark.sso_emulator(accounts=3)
def test_a_failure_that_will_not_pass_writes_nothing_and_says_how_far(sso_emulator):
    login()
    before = sso_emulator.config_file.read_bytes()
    sso_emulator.fault("ListAccountRoles", error="InvalidRequestException", count=5)
    result = run_cli(sso_emulator, "generate", "--sso-session", "emulator", *FAST)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "InvalidRequestException (HTTP 400)" in line and "of 3 accounts" in line, line
    assert "nothing was written" in line
    assert sso_emulator.config_file.read_bytes() == before
    assert directory_files(sso_emulator.home) == []


@pytest.mark.sso_emulator(accounts=4)
def test_a_hung_call_the_deadline_holds_and_the_lock_is_released(sso_emulator):
    """ListAccountRoles hangs for 60 s; generate --timeout 2 gives up on time (the bound is generous:
    the point is that it does not wait for the hung call), writes nothing, and the next run, with
    the directory lock free, succeeds at once."""
    login()
    before = sso_emulator.config_file.read_bytes()
    sso_emulator.fault("ListAccountRoles", delay=60, count=1)
    began = time.monotonic()
    result = run_cli(sso_emulator, "generate", "--sso-session", "emulator", "--timeout", "2", *FAST)
    elapsed = time.monotonic() - began
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "did not finish within 2 s" in line and "nothing was written" in line, line
    assert "of 4 accounts had their roles listed" in line
    assert elapsed < 20, elapsed  # the hung call alone would take 60 s
    assert sso_emulator.config_file.read_bytes() == before
    # The lock is free: a run that may wait at most 5 s for it (its whole deadline) gets through.
    again = run_cli(sso_emulator, "generate", "--sso-session", "emulator", "--timeout", "5", *FAST)
    assert again.returncode == 0, again.stderr
    assert len(generated(sso_emulator.config_file)) == 12


# -- kills and concurrent runs -------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.sso_emulator(accounts=600)
def test_sigkill_in_the_middle_of_generate_leaves_the_old_config_or_the_whole_new_block(sso_emulator,
                                                                                        tmp_path):
    """SIGKILL at random moments of generate runs (each rewriting a 1,800-profile block into a
    1,500-profile one): after each, the config is byte for byte the one before, or the complete
    new text; never half a block. The directory cache stays valid JSON throughout."""
    login()
    old = Directory.synthetic(500)
    env = subprocess_env(sso_emulator)
    first = run_cli(sso_emulator, "generate", "--sso-session", "emulator", *FAST)
    assert first.returncode == 0, first.stderr
    before = sso_emulator.config_file.read_bytes()
    sso_emulator.state.set_directory(old)
    # What the complete run writes, learnt in a copy of HOME.
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(sso_emulator.home, copy, symlinks=True)
    copy_env = {**env, **home_env(copy), "AWS_CONFIG_FILE": str(copy / ".aws" / "config")}
    began = time.monotonic()
    complete = subprocess.run([*CLI, "generate", "--sso-session", "emulator", "--refresh", *FAST],
                              env=copy_env, capture_output=True, text=True, cwd=REPO, timeout=120)
    duration = time.monotonic() - began
    assert complete.returncode == 0, complete.stderr
    after = (copy / ".aws" / "config").read_bytes()
    assert after != before
    outcomes = {"before": 0, "after": 0}
    chance = random.Random()
    for _ in range(6):
        if sso_emulator.config_file.read_bytes() == after:
            break
        process = subprocess.Popen([*CLI, "generate", "--sso-session", "emulator", "--refresh", *FAST],
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   stdin=subprocess.DEVNULL, cwd=REPO)
        time.sleep(chance.uniform(0.3, duration))
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        text = sso_emulator.config_file.read_bytes()
        assert text in (before, after), "a torn config"
        outcomes["before" if text == before else "after"] += 1
        for path in directory_files(sso_emulator.home):
            json.loads(path.read_text())
    print(f"kills: {outcomes}")


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.sso_emulator(accounts=40, latency=0.01)
def test_four_generate_runs_at_once_agree_and_list_once(sso_emulator):
    login()
    env = subprocess_env(sso_emulator)
    processes = [subprocess.Popen([*CLI, "generate", "--sso-session", "emulator", *FAST], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  stdin=subprocess.DEVNULL, cwd=REPO) for _ in range(4)]
    results = [(process.wait(120), process.stderr.read() if process.stderr else "") for process in processes]
    for process in processes:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        process.stderr.close()
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    # One listing for the four: the others waited for its lock and read its cache.
    calls = sso_emulator.calls()["operations"]
    assert calls["ListAccounts"] == 1 and calls["ListAccountRoles"] == 40
    assert sum("From the directory cache" in stderr for _, stderr in results) == 3
    assert sum("Wrote 120 profiles" in stderr for _, stderr in results) == 1
    text = sso_emulator.config_file.read_text()
    assert text.count("# BEGIN boto-sso-oidc generate --sso-session emulator") == 1
    assert set(generated(sso_emulator.config_file)) == expected_names(sso_emulator.state.directory)


# -- an organization that changes, the cache ------------------------------------------------------


@pytest.mark.sso_emulator(accounts=10)
def test_an_organization_that_changes_between_runs(sso_emulator):
    login()
    first = run_cli(sso_emulator, "generate", "--sso-session", "emulator", *FAST)
    assert first.returncode == 0, first.stderr
    assert "Wrote 30 profiles" in first.stderr and "30 added, 0 removed, 0 unchanged" in first.stderr
    # Account 00003 leaves, account 00011 joins.
    changed = Directory.synthetic(11)
    kept = tuple(account for account in changed.accounts if account.account_name != "Account 00003")
    sso_emulator.state.set_directory(Directory(accounts=kept))
    cached = run_cli(sso_emulator, "generate", "--sso-session", "emulator", *FAST)
    assert "Nothing to change" in cached.stderr and "From the directory cache" in cached.stderr
    result = run_cli(sso_emulator, "generate", "--sso-session", "emulator", "--refresh", "--verbose", *FAST)
    assert result.returncode == 0, result.stderr
    assert "3 added, 3 removed, 27 unchanged" in result.stderr
    lines = result.stderr.splitlines()
    for role in ("AdministratorAccess", "ReadOnlyAccess", "Billing"):
        assert f"  removed Account-00003.{role}" in lines
        assert f"  added Account-00011.{role}" in lines
    assert set(generated(sso_emulator.config_file)) == expected_names(sso_emulator.state.directory)


@pytest.mark.sso_emulator(accounts=5)
def test_the_directory_cache_is_private_holds_no_secret_and_saves_every_call(sso_emulator):
    login()
    listed = run_cli(sso_emulator, "list", "--sso-session", "emulator", "--json", *FAST)
    assert listed.returncode == 0, listed.stderr
    calls = dict(sso_emulator.calls()["operations"])
    [path] = directory_files(sso_emulator.home)
    assert_owner_only(path)
    assert_owner_only(path.parent)
    content = path.read_text()
    for secret in secrets_of(sso_emulator.home):
        assert secret not in content
    again = run_cli(sso_emulator, "list", "--sso-session", "emulator", "--json")
    assert json.loads(again.stdout)["accounts"] == json.loads(listed.stdout)["accounts"]
    assert sso_emulator.calls()["operations"] == calls  # no portal call at all
    # A corrupt cache is a warning and a fresh listing.
    path.write_text("{not json")
    fresh = run_cli(sso_emulator, "list", "--sso-session", "emulator", "--json", *FAST)
    assert fresh.returncode == 0, fresh.stderr
    assert "Ignoring the account directory" in fresh.stderr
    assert sso_emulator.calls()["operations"]["ListAccounts"] == calls["ListAccounts"] + 1
    json.loads(path.read_text())


# -- filters, regions, output ---------------------------------------------------------------------


@pytest.mark.sso_emulator(accounts=12)
def test_filters_and_one_profile_per_region(sso_emulator):
    login()
    result = run_cli(sso_emulator, "generate", "--sso-session", "emulator", "--account", "Account 0000[12]",
                     "--account", "100000000010", "--role", "*Only*", "--region", "eu-west-1",
                     "--region", "us-east-2", *FAST)
    assert result.returncode == 0, result.stderr
    profiles = generated(sso_emulator.config_file)
    assert sorted(profiles) == sorted(f"Account-{n}.ReadOnlyAccess.{region}"
                                      for n in ("00001", "00002", "00010")
                                      for region in ("eu-west-1", "us-east-2"))
    assert profiles["Account-00010.ReadOnlyAccess.us-east-2"] == {
        "sso_session": "emulator", "sso_account_id": "100000000010", "sso_role_name": "ReadOnlyAccess",
        "region": "us-east-2"}
    # Only the chosen accounts' roles were listed.
    assert sso_emulator.calls()["operations"]["ListAccountRoles"] == 3
    listed = run_cli(sso_emulator, "list", "--sso-session", "emulator", "--role", "Bill*", *FAST)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("    Billing") == 12 and "ReadOnlyAccess" not in listed.stdout
    template = run_cli(sso_emulator, "generate", "--sso-session", "emulator", "--template",
                       "{region}-{account_id}-{role_name}", "--region", "eu-west-1", "--dry-run", *FAST)
    assert template.returncode == 0, template.stderr
    assert "+[profile eu-west-1-100000000001-Billing]" in template.stdout


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.sso_emulator(accounts=2000)
def test_generate_of_6000_profiles_prints_at_most_5_lines(sso_emulator):
    login()
    result = run_cli(sso_emulator, "generate", "--sso-session", "emulator", "--rate", "2000", timeout=300)
    assert result.returncode == 0, result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    assert len(lines) <= 5, lines
    assert "6000 added, 0 removed, 0 unchanged" in result.stderr
    assert len(generated(sso_emulator.config_file)) == 6000
    verbose = run_cli(sso_emulator, "generate", "--sso-session", "emulator", "--refresh", "--verbose",
                      "--set", "output=json", timeout=300)
    assert verbose.returncode == 0, verbose.stderr
    assert "0 added, 0 removed, 6000 unchanged" in verbose.stderr
    assert len(verbose.stderr.splitlines()) <= 5  # nothing added or removed: no name to show


@pytest.mark.sso_emulator(accounts=30, latency=0.02)
def test_progress_on_a_terminal_only(sso_emulator):
    from .pty_helpers import Pty

    login()
    plain = run_cli(sso_emulator, "list", "--sso-session", "emulator", "--rate", "100")
    assert plain.returncode == 0 and "Listing:" not in plain.stderr
    terminal = Pty([*CLI, "list", "--sso-session", "emulator", "--refresh", "--rate", "100"],
                   subprocess_env(sso_emulator), cwd=REPO)
    terminal.expect(r"Listing: \d+/30 accounts, \d+ roles, \d+ throttles waited")
    terminal.expect(r"100000000030  Account 00030")
    assert terminal.wait() == 0
