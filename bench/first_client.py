"""Benchmark: the first client of a new process, plugin active (by the config) vs botocore's own.

    python bench/first_client.py [--runs 20] [--round-trip 0.15]

Against the bundled emulator, in a temporary HOME, with every service call
delayed by ``--round-trip`` seconds (EmulatorControl delay faults: a realistic
round trip to AWS instead of the loopback's fraction of a millisecond). One
login fills the token cache, shared by both; one run fills the plugin's
role-credential cache. Then a fresh interpreter runs an unmodified program,
``boto3.client("sts").get_caller_identity()``, alternately for:

* ``plugin``: profile ``dev``, whose sso-session has ``boto_sso_oidc_enabled = true``:
  the role credentials come from the shared file cache, no call;
* ``botocore``: profile ``dev-plain``, the same sso-session and role without the
  setting: botocore's own provider, which keeps role credentials in memory only,
  calls GetRoleCredentials in every new process.

Reported per variant, medians over ``--runs``: the program's own time from
``boto3.client`` to the answer (its first client: credential resolution plus
the STS call, measured inside the process), and the wall time of the whole
process; plus the emulator's GetRoleCredentials count during the timed runs.
A benchmark, not a test: it prints and never fails on a number.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from boto_sso_oidc_provider.emulator import OPERATIONS, emulator_environment, run_emulator, sso_config

PROGRAM = """
import time
import boto3
began = time.perf_counter()
arn = boto3.client("sts").get_caller_identity()["Arn"]
print(f"{time.perf_counter() - began:.6f} {arn}")
"""

CONFIG = sso_config(profile="dev", sso_session="bench").replace(
    "sso_registration_scopes =", "boto_sso_oidc_enabled = true\nsso_registration_scopes =") + """
[sso-session bench-plain]
sso_start_url = https://emulator.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile dev-plain]
sso_session = bench-plain
sso_account_id = 111111111111
sso_role_name = AdministratorAccess
region = us-east-1
"""


def _run(env: dict[str, str], profile: str) -> tuple[float, float]:
    began = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PROGRAM], env={**env, "AWS_PROFILE": profile},
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    wall = time.perf_counter() - began
    if result.returncode != 0 or ":assumed-role/" not in result.stdout:
        raise SystemExit(f"{profile} failed: {result.stderr}")
    return float(result.stdout.split()[0]), wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs per variant (default 20)")
    parser.add_argument("--round-trip", type=float, default=0.15,
                        help="delay added to every service call, seconds (default 0.15)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-") as home, \
            run_emulator(auto_approve=True, interval=0) as emulator:
        (Path(home) / ".aws").mkdir(mode=0o700)
        (Path(home) / ".aws" / "config").write_text(CONFIG)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_SSO_OIDC_"))}
        env.update(emulator_environment(home, emulator.url), BOTO_SSO_OIDC_OPEN_BROWSER="false",
                   AWS_DEFAULT_REGION="us-east-1")
        for profile in ("dev", "dev-plain"):
            login = subprocess.run([sys.executable, "-m", "boto_sso_oidc_provider", "login",
                                    "--profile", profile], env=env, capture_output=True, text=True,
                                   stdin=subprocess.DEVNULL, timeout=120)
            if login.returncode != 0:
                raise SystemExit(f"login failed: {login.stderr}")
        _run(env, "dev")  # fills the plugin's role-credential cache
        for operation in OPERATIONS:
            emulator.fault(operation, delay=args.round_trip, count=1_000_000)
        for _ in range(2):  # untimed warm-up (the OS's file cache, .pyc files)
            _run(env, "dev"), _run(env, "dev-plain")
        before = emulator.calls()["operations"]["GetRoleCredentials"]
        times: dict[str, list[tuple[float, float]]] = {"plugin": [], "botocore": []}
        calls = {"plugin": 0, "botocore": 0}
        for _ in range(args.runs):
            for variant, profile in (("plugin", "dev"), ("botocore", "dev-plain")):
                count = emulator.calls()["operations"]["GetRoleCredentials"]
                times[variant].append(_run(env, profile))
                calls[variant] += emulator.calls()["operations"]["GetRoleCredentials"] - count
        assert emulator.calls()["operations"]["GetRoleCredentials"] - before == sum(calls.values())

    print(f"Python {sys.version.split()[0]}, {args.runs} interleaved runs per variant, "
          f"{args.round_trip * 1000:.0f} ms added to every service call")
    print("| first client, warm caches | in-process median ms | process median ms | "
          "GetRoleCredentials calls |\n|---|--:|--:|--:|")
    for variant in ("plugin", "botocore"):
        inner = statistics.median(t for t, _ in times[variant]) * 1000
        wall = statistics.median(w for _, w in times[variant]) * 1000
        label = ("plugin active (boto_sso_oidc_enabled)" if variant == "plugin"
                 else "botocore's own SSO provider")
        print(f"| {label} | {inner:.1f} | {wall:.1f} | {calls[variant]} |")
    gain = (statistics.median(t for t, _ in times["botocore"])
            - statistics.median(t for t, _ in times["plugin"])) * 1000
    print(f"The plugin's first client is {gain:.1f} ms faster (one round trip is "
          f"{args.round_trip * 1000:.0f} ms).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
