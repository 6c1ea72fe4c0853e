"""Build the sdist and wheel, run `twine check`, and check that the sdist can run the test suite.

The sdist must carry every tracked file under tests/, examples/, bench/ and docs/ (conftest.py,
the helpers, the emulator tests, the examples and documentation pages the tests run), plus
LICENSE, README.md and setup.cfg (pytest's configuration). The wheel must carry the package,
py.typed and the startup hook's .pth, and no tests.
Usage: python .ci/check_dist.py   (from the repository root, with build and twine installed)
"""

from __future__ import annotations

import glob
import subprocess
import sys
import tarfile
import tempfile
import zipfile


def main() -> int:
    out = tempfile.mkdtemp(prefix="dist-")
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", out, "."],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    artifacts = sorted(glob.glob(f"{out}/*"))
    subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *artifacts], check=True)
    sdist = next(path for path in artifacts if path.endswith(".tar.gz"))
    wheel = next(path for path in artifacts if path.endswith(".whl"))
    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    tracked = subprocess.run(["git", "ls-files", "tests", "examples", "bench", "docs"], check=True,
                             capture_output=True, text=True).stdout.split()
    wanted = {*tracked, "LICENSE", "README.md", "setup.cfg", "pyproject.toml"}
    missing = sorted(wanted - members)
    with zipfile.ZipFile(wheel) as archive:
        wheel_names = archive.namelist()
    problems = [f"sdist lacks {name}" for name in missing]
    if "boto_sso_oidc_provider/py.typed" not in wheel_names:
        problems.append("wheel lacks py.typed")
    if "boto_sso_oidc_provider-startup.pth" not in wheel_names:  # the startup hook, at the root
        problems.append("wheel lacks boto_sso_oidc_provider-startup.pth")
    problems += [f"wheel carries {name}" for name in wheel_names if name.startswith("tests/")]
    for problem in problems:
        print(f"check_dist: {problem}", file=sys.stderr)
    if not problems:
        print(f"check_dist: {len(members)} files in the sdist, {len(wheel_names)} in the wheel; "
              "twine check passed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
