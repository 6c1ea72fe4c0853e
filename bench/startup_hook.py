"""Benchmark: what the startup hook costs every Python process of the environment.

    python bench/startup_hook.py [--runs 200]

Two fresh venvs (no pip, nothing else installed) from the same interpreter:
one empty, one with this project's wheel installed (``--no-deps``: the hook
needs nothing else at start). ``python -c pass`` runs in each, interleaved
(one run of one, then one of the other, so that drifts in machine load hit
both alike), after 5 untimed warm-up runs; the medians of the wall time and of
the CPU time (user + system, from ``wait4``: less disturbed by other load on the
machine) and their differences are reported. Then ``python -X importtime -c pass`` in the second venv shows
what the hook imports (it must import nothing of botocore) with each module's
own import time. A benchmark, not a test: it prints and never fails on a number.
The goal is a difference below 1 ms.
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

REPO = Path(__file__).resolve().parent.parent
SOURCES = ["boto_sso_oidc_provider", "_boto_sso_oidc_provider_startup.py", "pyproject.toml", "setup.py",
           "setup.cfg", "README.md", "LICENSE"]


def _venv(path: Path) -> str:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return str(path / "bin" / "python")


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "-q", *args], check=True,
                   stdin=subprocess.DEVNULL)


def _run(python: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one ``python -c pass``."""
    began = time.perf_counter()
    child = subprocess.Popen([python, "-c", "pass"], env={"PATH": "/usr/bin:/bin"})
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    assert child.returncode == 0
    return wall, usage.ru_utime + usage.ru_stime


def _imported(python: str) -> list[tuple[str, int]]:
    """(module, own microseconds) of every import made at start that is not the empty venv's."""
    result = subprocess.run([python, "-X", "importtime", "-c", "pass"], check=True,
                            capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    rows = []
    for line in result.stderr.splitlines()[1:]:
        own, _, name = line.removeprefix("import time:").split("|")
        rows.append((name.strip(), int(own)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="timed runs of each (default 200)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-hook-") as tmp:
        work = Path(tmp)
        sources = work / "sources"
        sources.mkdir()
        for name in SOURCES:
            source = REPO / name
            if source.is_dir():
                shutil.copytree(source, sources / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, sources / name)
        _pip("wheel", "--no-deps", "-w", str(work / "wheels"), str(sources))
        without = _venv(work / "without")
        with_hook = _venv(work / "with")
        _pip("--python", with_hook, "install", "--no-deps", "--no-index", "--find-links",
             str(work / "wheels"), "boto-sso-oidc-provider")

        for _ in range(5):
            _run(without), _run(with_hook)
        times: dict[str, list[tuple[float, float]]] = {without: [], with_hook: []}
        for _ in range(args.runs):
            for python in (without, with_hook):
                times[python].append(_run(python))
        baseline = {name for name, _ in _imported(without)}
        added = [(name, own) for name, own in _imported(with_hook) if name not in baseline]
        # The hook's own share, less exposed to scheduling noise than whole-process times:
        # the import time of what it adds, as -X importtime measures it inside each process.
        own_times = [sum(own for name, own in _imported(with_hook) if name not in baseline)
                     for _ in range(min(args.runs, 50))]

    def median(python: str, which: int) -> float:
        return statistics.median(t[which] for t in times[python]) * 1000

    print(f"Python {sys.version.split()[0]}, {args.runs} interleaved runs of `python -c pass` each")
    print("| venv | wall median ms | CPU (user+sys) median ms |\n|---|--:|--:|")
    print(f"| empty | {median(without, 0):.2f} | {median(without, 1):.2f} |")
    print(f"| with the wheel (startup hook) | {median(with_hook, 0):.2f} | {median(with_hook, 1):.2f} |")
    print(f"Difference of the medians: wall {median(with_hook, 0) - median(without, 0):+.2f} ms, "
          f"CPU {median(with_hook, 1) - median(without, 1):+.2f} ms (goal: below 1 ms)")
    print(f"Import time of what the hook adds, inside the process (-X importtime, median of "
          f"{len(own_times)} runs): {statistics.median(own_times) / 1000:.3f} ms")
    print("Imported at start by the hook (-X importtime, own microseconds, one run):")
    for name, own in added:
        print(f"  {name:40} {own:6d} us")
    botocore = [name for name, _ in added if name.split(".")[0] in ("botocore", "boto3")]
    print(f"botocore or boto3 imported at start: {'YES: ' + ', '.join(botocore) if botocore else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
