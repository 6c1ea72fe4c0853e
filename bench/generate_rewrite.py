"""Benchmark: ``generate`` run again on a big config, from the directory cache.

    python bench/generate_rewrite.py [--accounts 5000] [--roles 3] [--runs 3] [--before CHECKOUT]

Runs on this machine against the bundled emulator, in a temporary HOME. An
organization of ``--accounts`` accounts with ``--roles`` roles each (15,000
profiles by default) is listed once and written by a first ``generate``; the
directory cache then holds it, so every later run makes no portal call and the
time is the config's: reading it (botocore's parse, for the sso-session), the
edit of the managed block, and the write. Two second runs are timed, each
``--runs`` times:

* **unchanged**: the same command again (nothing to change: nothing is written);
* **rewritten**: another ``--region`` (then back, untimed), so every one of the profiles
  changes and the whole block is rewritten, checked and renamed into place.

With ``--before CHECKOUT`` (another revision, e.g. ``git worktree add /tmp/before <commit>``),
that revision's ``generate`` runs beside this checkout's on the same files, each installed
(not editable) in a venv of its own, interleaved run by run, and the ratios of the medians
are printed. It prints the machine, a table of medians (and the fastest run), the config's
size, and the portal calls the timed runs made (0: all from the cache). A benchmark, not a
test: nothing fails on a number.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from credential_process import installed_helper, machine
from org_scale import CONFIG, SESSION, run

from boto_sso_oidc_provider.emulator import emulator_environment, run_emulator

PORTAL = ("ListAccounts", "ListAccountRoles")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--roles", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each kind (default 3)")
    parser.add_argument("--before", type=Path,
                        help="a checkout of another revision: its generate beside this one's")
    args = parser.parse_args(argv)

    here = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as home, run_emulator(
            auto_approve=True, interval=0, accounts=args.accounts, roles_per_account=args.roles) as emulator:
        aws = Path(home) / ".aws"
        aws.mkdir(mode=0o700)
        config = aws / "config"
        config.write_text(CONFIG)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_SSO_OIDC_"))}
        env.update(emulator_environment(home, emulator.url), BOTO_SSO_OIDC_OPEN_BROWSER="false")
        revisions = {"after": [sys.executable, "-m", "boto_sso_oidc_provider"]}
        if args.before is not None:
            revisions = {"before": [installed_helper(args.before, Path(home) / "venv-before")],
                         "after": [installed_helper(here, Path(home) / "venv-after")]}
        cli = revisions["after"]
        _, login = run([*cli, "login", "--sso-session", SESSION], env)
        if login.returncode != 0:
            print(f"login failed: {login.stderr}", file=sys.stderr)
            return 1
        generate = [*cli, "generate", "--sso-session", SESSION]
        _, first = run([*generate, "--region", "eu-west-1", "--rate", "1000"], env)
        if first.returncode != 0:
            print(f"the first generate failed: {first.stderr}", file=sys.stderr)
            return 1
        lines, size = len(config.read_text().splitlines()), config.stat().st_size
        before_calls = emulator.calls()["operations"]
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.runs):
            for name, command in revisions.items():
                unchanged, result = run([*command, "generate", "--sso-session", SESSION, "--region",
                                         "eu-west-1"], env)
                if result.returncode != 0 or "Nothing to change" not in result.stderr:
                    print(f"{name}: unexpected: {result.stderr[-500:]}", file=sys.stderr)
                    return 1
                times.setdefault((name, "unchanged"), []).append(unchanged)
                rewritten, result = run([*command, "generate", "--sso-session", SESSION, "--region",
                                         "us-east-2"], env)
                if result.returncode != 0 or "Wrote" not in result.stderr:
                    print(f"{name}: unexpected: {result.stderr[-500:]}", file=sys.stderr)
                    return 1
                times.setdefault((name, "rewritten"), []).append(rewritten)
                # Back to eu-west-1 for the next "unchanged" run (not timed).
                run([*command, "generate", "--sso-session", SESSION, "--region", "eu-west-1"], env)
        after_calls = emulator.calls()["operations"]

    calls = sum(after_calls[op] - before_calls[op] for op in PORTAL)
    print(f"Machine: {machine()}")
    print(f"Config: {args.accounts * args.roles:,} generated profiles ({args.accounts:,} accounts x "
          f"{args.roles} roles), {lines:,} lines, {size / 1e6:.1f} MB; {args.runs} runs of each, "
          f"interleaved; wall time of the whole process; portal calls of the timed runs: {calls} "
          "(all from the directory cache)")
    print("| generate run again | revision | median s | fastest s |")
    print("|---|---|---:|---:|")
    for kind in ("unchanged", "rewritten"):
        for name in revisions:
            values = times[(name, kind)]
            print(f"| {kind} | {name} | {statistics.median(values):.2f} | {min(values):.2f} |")
    if "before" in revisions:
        for kind in ("unchanged", "rewritten"):
            ratio = statistics.median(times[("before", kind)]) / statistics.median(times[("after", kind)])
            print(f"{kind}: before / after = {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
