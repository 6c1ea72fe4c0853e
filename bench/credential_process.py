"""Benchmark: the warm ``credential-process`` against ``python -c pass`` and other helpers.

    python bench/credential_process.py [--runs 40] [--aws-sso-util PATH] [--aws PATH]

Everything runs on this machine in one go, against the bundled emulator, in a
temporary HOME (your ~/.aws is not touched). After one login and one call
that fills the role-credential cache, each command is run ``--runs`` times
(after two untimed warm-up runs, interleaved round-robin so that drifts in
machine load hit every command alike) and the median wall time is reported,
process start-up included, as the AWS CLI experiences it. Commands:

* ``python -c pass``: the floor, the interpreter's own start-up;
* ``boto-sso-oidc credential-process --profile dev``: the installed console
  script (the warm path: no boto3, no botocore);
* the same for ``hop2``, a two-hop role chain ending at ``dev`` (its warm
  path reads the AWS CLI's assume-role cache entry);
* ``aws-sso-util credential-process --profile dev`` if found (PATH or
  ``--aws-sso-util``), warmed the same way;
* ``aws configure export-credentials --profile dev`` if the AWS CLI found has
  that command (v2; the v1 on PyPI has not);
* the same warm ``credential-process`` with a big AWS config: the same
  profiles plus 6,000 generated ones (2,000 accounts x 3 roles, as
  ``generate`` writes them, about 36,000 lines; ``--big-profiles`` changes the
  count), so the cost of unrelated profiles shows beside the small config's;
* with ``--before CHECKOUT`` (another revision, e.g. ``git worktree add /tmp/before <commit>``):
  that revision's warm ``credential-process`` beside this checkout's, each installed (not
  editable) in a venv of its own, for the small config, the big one and the role chain,
  interleaved with everything else, and the ratio of the medians ("within 5% of before");
* for reference, plain boto3 in a fresh interpreter
  (``import boto3; Session(profile_name=...).get_credentials()``): it reads
  the cached token but keeps role credentials in memory only, so it calls
  GetRoleCredentials (on the loopback emulator) every run.

Each command's output is checked once before timing, and the emulator's
GetRoleCredentials and AssumeRole counters prove ``boto-sso-oidc`` is served from the cache.
aws-sso-util runs on a legacy profile of the same role (it does not read
``[sso-session]`` sections). This is a benchmark, not a test: it prints a table
and never fails on a number.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from boto_sso_oidc_provider.emulator import emulator_environment, run_emulator, sso_config

PROFILE = "dev"
CONFIG = sso_config(profile=PROFILE, sso_session="bench",
                    start_url="https://bench.awsapps.com/start") + """
# The same role through a legacy profile: aws-sso-util does not read [sso-session] sections.
[profile dev-legacy]
sso_start_url = https://bench.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = AdministratorAccess
region = us-east-1

# A two-hop role chain ending at dev: warm, it is one cache file too.
[profile hop1]
role_arn = arn:aws:iam::222222222222:role/Deployer
source_profile = dev
role_session_name = bench-hop1
region = us-east-1

[profile hop2]
role_arn = arn:aws:iam::111111111111:role/Auditor
source_profile = hop1
role_session_name = bench-hop2
region = us-east-1
"""


@dataclass
class Candidate:
    label: str
    command: list[str]
    check: str | None = None
    """A string the first run's stdout must contain (None: only the exit code counts)."""
    times: list[float] | None = None
    note: str = ""
    env: dict[str, str] | None = None
    """Variables over the shared environment (the big config's AWS_CONFIG_FILE)."""


def big_config(profiles: int) -> str:
    """:data:`CONFIG` plus ``profiles`` generated profiles (three roles per account) of the same
    sso-session, rendered as ``generate`` writes them."""
    from boto_sso_oidc_provider.organizations.generate import Assignment, generated_sections

    roles = ("AdministratorAccess", "ReadOnlyAccess", "Billing")
    items = [Assignment(str(100_000_000_000 + n // 3), roles[n % 3], f"Account {n // 3:05d}")
             for n in range(profiles)]
    sections = generated_sections(items, sso_session="bench", extra={"region": "us-east-1"})
    return CONFIG + "\n" + "\n".join(section.render() for section in sections)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or model
    return (f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()} ({sys.executable})")


def console_script(name: str) -> str | None:
    """The script installed beside this interpreter, else on PATH."""
    beside = Path(sys.executable).with_name(name)
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def installed_helper(source: Path, where: Path) -> str:
    """``boto-sso-oidc`` of ``source`` (a checkout) installed, not editable, in a new venv at
    ``where`` whose other packages (botocore for the full path, the emulator's) are this
    interpreter's: a path after the venv's own, so the checkout's package is the one imported."""
    import sysconfig

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "zz_bench_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    str(source)], check=True)
    return str(where / "bin" / "boto-sso-oidc")


def run_once(command: list[str], env: dict[str, str], extra: dict[str, str] | None = None) \
        -> tuple[float, subprocess.CompletedProcess[str]]:
    if extra:
        env = {**env, **extra}
    began = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=120)
    return time.perf_counter() - began, result


def prepare(candidate: Candidate, env: dict[str, str]) -> bool:
    """Run twice untimed (fills caches); keep the candidate only if it worked and printed ``check``."""
    for _ in range(2):
        _, result = run_once(candidate.command, env, candidate.env)
        if result.returncode != 0 or (candidate.check and candidate.check not in result.stdout):
            reason = (result.stderr.strip().splitlines() or ["no output"])[-1][:100]
            candidate.note = f"skipped: failed here ({reason})"
            return False
    return True


def measure(candidates: list[Candidate], env: dict[str, str], runs: int) -> None:
    for candidate in candidates:
        candidate.times = []
    for _ in range(runs):
        for candidate in candidates:
            elapsed, result = run_once(candidate.command, env, candidate.env)
            assert result.returncode == 0, (candidate.label, result.stderr)
            assert candidate.times is not None
            candidate.times.append(elapsed)


def print_report(usable: list[Candidate], skipped: list[Candidate], runs: int) -> None:
    """The machine, the runs and the table of wall times, with why each skipped one was."""
    print(f"Machine: {machine()}")
    print(f"Runs: {runs} per command, interleaved, after 2 warm-up runs; wall time of the whole "
          "process, start-up included.")
    print(table(usable, skipped))
    for candidate in skipped:
        print(f"  {candidate.label}: {candidate.note}")


def table(candidates: list[Candidate], skipped: list[Candidate]) -> str:
    floor = statistics.median(candidates[0].times or [1.0])
    width = max(len(c.label) for c in candidates + skipped)
    lines = [f"| {'command'.ljust(width)} | median ms | min ms | vs python -c pass |",
             f"|{'-' * (width + 2)}|----------:|-------:|------------------:|"]
    for candidate in candidates:
        times = candidate.times or [0.0]
        median = statistics.median(times)
        lines.append(f"| {candidate.label.ljust(width)} | {median * 1000:9.1f} | "
                     f"{min(times) * 1000:6.1f} | {median / floor:16.2f}x |")
    for candidate in skipped:
        lines.append(f"| {candidate.label.ljust(width)} | {'-':>9} | {'-':>6} | {'-':>17} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="timed runs per command (default 40)")
    parser.add_argument("--aws-sso-util", help="path of aws-sso-util (default: look on PATH)")
    parser.add_argument("--aws", help="path of the AWS CLI (default: look on PATH)")
    parser.add_argument("--big-profiles", type=int, default=6000,
                        help="generated profiles in the big config (default 6000)")
    parser.add_argument("--before", type=Path,
                        help="a checkout of another revision: its warm credential-process beside this one's")
    args = parser.parse_args(argv)

    helper = console_script("boto-sso-oidc")
    if helper is None:
        print("boto-sso-oidc is not installed: pip install -e . first", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-") as home, \
            run_emulator(auto_approve=True, interval=0) as emulator:
        (Path(home) / ".aws").mkdir(mode=0o700)
        config = Path(home) / ".aws" / "config"
        config.write_text(CONFIG)
        big = Path(home) / ".aws" / "config-big"
        big.write_text(big_config(args.big_profiles))
        big_lines = big.read_text().count("\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_SSO_OIDC_"))}
        env.update(emulator_environment(home, emulator.url), BOTO_SSO_OIDC_OPEN_BROWSER="false",
                   AWS_DEFAULT_REGION="us-east-1")
        for profile in (PROFILE, "dev-legacy"):
            login = subprocess.run([helper, "login", "--profile", profile], env=env,
                                   capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
            if login.returncode != 0:
                print(f"login failed: {login.stderr}", file=sys.stderr)
                return 1

        candidates = [
            Candidate("python -c pass", [sys.executable, "-c", "pass"]),
            Candidate(f"boto-sso-oidc credential-process --profile {PROFILE}",
                      [helper, "credential-process", "--profile", PROFILE], check='"Version"'),
            Candidate(f"  the same, {args.big_profiles} more profiles ({big_lines} lines)",
                      [helper, "credential-process", "--profile", PROFILE], check='"Version"',
                      env={"AWS_CONFIG_FILE": str(big)}),
            Candidate("boto-sso-oidc credential-process --profile hop2 (a two-hop role chain)",
                      [helper, "credential-process", "--profile", "hop2"], check='"Version"'),
            Candidate("boto3 alone: Session(profile).get_credentials()",
                      [sys.executable, "-c", "import boto3; c = boto3.Session(profile_name="
                       f"'{PROFILE}').get_credentials().get_frozen_credentials(); print(c.access_key)"],
                      check="ASIA"),
        ]
        revisions: dict[str, list[Candidate]] = {}
        if args.before is not None:
            for name, source in (("before", args.before), ("after", Path(__file__).resolve().parent.parent)):
                script = installed_helper(source, Path(home) / f"venv-{name}")
                candidates += revisions.setdefault(name, [
                    Candidate(f"{name}: credential-process --profile {PROFILE}",
                              [script, "credential-process", "--profile", PROFILE], check='"Version"'),
                    Candidate(f"{name}: the same, {args.big_profiles} more profiles",
                              [script, "credential-process", "--profile", PROFILE], check='"Version"',
                              env={"AWS_CONFIG_FILE": str(big)}),
                    Candidate(f"{name}: credential-process --profile hop2",
                              [script, "credential-process", "--profile", "hop2"], check='"Version"'),
                ])
        sso_util = args.aws_sso_util or shutil.which("aws-sso-util")
        util = Candidate("aws-sso-util credential-process --profile dev-legacy",
                         [sso_util or "aws-sso-util", "credential-process", "--profile", "dev-legacy"],
                         check='"Version"')
        if not sso_util:
            util.note = "skipped: aws-sso-util not installed (pip install aws-sso-util)"
        aws = args.aws or shutil.which("aws")
        export = Candidate(f"aws configure export-credentials --profile {PROFILE}",
                           [aws or "aws", "configure", "export-credentials", "--profile", PROFILE,
                            "--format", "process"], check='"Version"')
        if aws is None:
            export.note = "skipped: the AWS CLI is not installed"
        else:
            version = subprocess.run([aws, "--version"], capture_output=True, text=True, env=env)
            text = (version.stdout + version.stderr).strip()
            if text.startswith("aws-cli/1."):
                export.note = f"skipped: {text.split()[0]} has no export-credentials (AWS CLI v2 only)"
        everything = [*candidates, util, export]
        usable = [c for c in everything if not c.note and prepare(c, env)]
        skipped = [c for c in everything if c not in usable]
        # Proof that ours answers from the cache: the emulator sees no call while it runs.
        before = emulator.calls()["operations"]
        for _ in range(3):
            run_once(candidates[1].command, env)
            run_once(candidates[3].command, env)  # the role chain
        after = emulator.calls()["operations"]
        warm = after["GetRoleCredentials"] == before["GetRoleCredentials"]
        warm_chain = after["AssumeRole"] == before["AssumeRole"]
        measure(usable, env, args.runs)

    print_report(usable, skipped, args.runs)
    ours = next((c for c in usable if c.label.startswith("boto-sso-oidc")), None)
    if ours is not None and ours.times:
        ratio = statistics.median(ours.times) / statistics.median(usable[0].times or [1.0])
        print(f"Warm credential-process / python -c pass = {ratio:.2f}x (target: at most 3x); "
              f"served from the cache (no GetRoleCredentials call): {'yes' if warm else 'NO'}. "
              f"The role chain too (no AssumeRole call): {'yes' if warm_chain else 'NO'}.")
        bigger = next((c for c in usable if c.env), None)
        if bigger is not None and bigger.times:
            growth = statistics.median(bigger.times) / statistics.median(ours.times)
            print(f"Big config / small config (warm credential-process medians) = {growth:.2f}x "
                  "(target: at most 1.3x).")
    for old, new in zip(revisions.get("before", []), revisions.get("after", []), strict=True):
        if old.times and new.times:
            ratio = statistics.median(new.times) / statistics.median(old.times)
            print(f"after / before ({new.label.removeprefix('after: ')}): {ratio:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
