"""Benchmark: ``generate`` for a big organization, through the portal's throttling.

    python bench/org_scale.py [--accounts 5000] [--roles 3] [--tps 20] [--latency 0.05]

Runs on this machine against the bundled emulator, in a temporary HOME: an
organization of ``--accounts`` accounts with ``--roles`` roles each (no state
file: ``EmulatorConfig(accounts=...)``), ListAccounts and ListAccountRoles each
limited to ``--tps`` calls a second (a token bucket per operation, answering
``TooManyRequestsException`` past it, as the portal does), every call taking
``--latency`` seconds. After one login, ``boto-sso-oidc generate`` runs twice
as a child process:

1. from nothing: it lists every account and role at the service's pace and
   writes one profile per role. Reported: wall time against the quota bound
   (the calls each operation needed divided by its TPS: no client can finish
   sooner), calls made, throttles met (answered 429) and waited out, exit
   code and profile count, lines printed, the child's peak memory;
2. again: it answers from the directory cache (no portal call).

This is a benchmark, not a test: it prints figures and never fails on a number.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import botocore.configloader

from boto_sso_oidc_provider.emulator import emulator_environment, run_emulator

SESSION = "org"
CONFIG = f"""\
[sso-session {SESSION}]
sso_start_url = https://org.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
"""
LISTING = ("ListAccounts", "ListAccountRoles")
PAGE = 100  # what the listing asks each page to hold (the model's maximum)


def run(command: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    began = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            timeout=3600)
    return time.perf_counter() - began, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--roles", type=int, default=3)
    parser.add_argument("--tps", type=float, default=20.0,
                        help="emulator limit on ListAccounts and on ListAccountRoles (default 20)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per call (default 0.05)")
    args = parser.parse_args(argv)

    cli = [sys.executable, "-m", "boto_sso_oidc_provider"]
    with tempfile.TemporaryDirectory(prefix="bench-org-") as home, run_emulator(
            auto_approve=True, interval=0, accounts=args.accounts, roles_per_account=args.roles,
            rate_limits=dict.fromkeys(LISTING, args.tps), latency=args.latency) as emulator:
        aws = Path(home) / ".aws"
        aws.mkdir(mode=0o700)
        config = aws / "config"
        config.write_text(CONFIG)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_SSO_OIDC_"))}
        env.update(emulator_environment(home, emulator.url), BOTO_SSO_OIDC_OPEN_BROWSER="false")
        _, login = run([*cli, "login", "--sso-session", SESSION], env)
        if login.returncode != 0:
            print(f"login failed: {login.stderr}", file=sys.stderr)
            return 1
        generate = [*cli, "generate", "--sso-session", SESSION, "--region", "eu-west-1"]

        before = emulator.calls()
        first_time, first = run(generate, env)
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        middle = emulator.calls()
        second_time, second = run(generate, env)
        after = emulator.calls()
        profiles = [name for name in botocore.configloader.raw_config_parse(str(config))
                    if name.startswith("profile ")]

    def delta(a: dict[str, dict[str, int]], b: dict[str, dict[str, int]], kind: str, op: str) -> int:
        return b[kind][op] - a[kind][op]

    calls = {op: delta(before, middle, "operations", op) for op in LISTING}
    throttled = {op: delta(before, middle, "throttled", op) for op in LISTING}
    answered = {op: calls[op] - throttled[op] for op in LISTING}
    bound = sum(answered[op] / args.tps for op in LISTING)
    second_calls = sum(delta(middle, after, "operations", op) for op in LISTING)
    lines = len((first.stdout + first.stderr).splitlines())

    print(f"Organization: {args.accounts} accounts x {args.roles} roles; emulator limit {args.tps:g} TPS "
          f"on each of {' and '.join(LISTING)}, {args.latency * 1000:g} ms per call.")
    print(f"First generate: exit {first.returncode}, {len(profiles)} profiles written, "
          f"{first_time:.1f} s wall.")
    print(f"  Calls answered: {answered['ListAccounts']} ListAccounts (pages of {PAGE}) + "
          f"{answered['ListAccountRoles']} ListAccountRoles; quota bound (calls / TPS) {bound:.1f} s; "
          f"wall / bound = {first_time / bound:.3f} (target: at most 1.15).")
    print(f"  Throttles met (answered 429) and waited out: {throttled['ListAccounts']} ListAccounts, "
          f"{throttled['ListAccountRoles']} ListAccountRoles.")
    print(f"  Output: {lines} lines (stdout {len(first.stdout.splitlines())}, stderr "
          f"{len(first.stderr.splitlines())}):")
    for line in (first.stdout + first.stderr).splitlines():
        print(f"    {line[:160]}")
    print(f"  Peak memory of the generate process: {peak_kib / 1024:.1f} MiB (max RSS).")
    print(f"Second generate: exit {second.returncode}, {second_time:.2f} s wall, {second_calls} portal "
          f"calls (from the directory cache): {second.stderr.strip().splitlines()[-1][:160]}")
    return 0 if first.returncode == 0 and second.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
