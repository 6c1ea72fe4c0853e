"""Soak: the signal, concurrency and crash-injection proofs, many times in a row, while another
process keeps every core busy.

    python bench/under_load.py [--runs 20] [--workers 2] [FILE ...]

One busy-loop process per core (``os.cpu_count()``, not niced: they compete with the tests
for every core) runs for the whole soak; meanwhile the test files (default: the signal,
crash-injection and concurrency files) run ``--runs`` times in a row with
``pytest -n WORKERS``, each run a fresh pytest. Printed: every run's outcome and wall time,
then the count of runs that passed, the total and the slowest; the log of a failed run is
kept. Exits 1 if a run failed, so the soak stops nobody by accident: it is run by hand (its
figures go into the closing notes), not by CI.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FILES = ["tests/test_signals.py", "tests/test_token_concurrency.py",
         "tests/test_concurrency_credentials.py", "tests/test_swarm.py"]


def _spin() -> None:  # pragma: no cover - a busy loop, killed at the end
    while True:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="pytest -n (default: 2)")
    parser.add_argument("files", nargs="*", default=FILES)
    args = parser.parse_args()
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(os.cpu_count() or 1)]
    for spinner in spinners:
        spinner.start()
    print(f"{len(spinners)} busy-loop processes (one per core); {args.runs} runs of "
          f"{' '.join(args.files)} with pytest -n {args.workers}", flush=True)
    logs = Path(tempfile.mkdtemp(prefix="under-load-"))
    times: list[float] = []
    failed: list[int] = []
    started = time.monotonic()
    try:
        for run in range(1, args.runs + 1):
            log = logs / f"run-{run}.log"
            begin = time.monotonic()
            with log.open("w") as out:
                code = subprocess.call(
                    [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n",
                     str(args.workers), *args.files], cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
            elapsed = time.monotonic() - begin
            times.append(elapsed)
            summary = log.read_text().strip().splitlines()[-1] if log.stat().st_size else ""
            print(f"run {run:2d}: exit {code}, {elapsed:6.1f} s  {summary}", flush=True)
            if code != 0:
                failed.append(run)
            else:
                log.unlink()
    finally:
        for spinner in spinners:
            spinner.terminate()
    total = time.monotonic() - started
    print(f"{args.runs - len(failed)} of {args.runs} runs passed under load; total {total / 60:.1f} min, "
          f"median {sorted(times)[len(times) // 2]:.1f} s, slowest {max(times):.1f} s per run"
          + (f"; failed runs {failed}, logs in {logs}" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
