"""The startup hook in real installations: a wheel in a fresh venv, ``--user``, editable; and
``pip uninstall`` leaving nothing behind.

One wheel is built per test session (shared by the xdist workers through a
file lock); the installs use ``--no-index --find-links`` on it, ``--no-deps``,
and pip's ``--python`` so that the fresh environments need no pip of their
own. boto3, botocore and their dependencies come from this venv: a directory
of links to their packages (not this venv's site-packages, where pip would
find this project already installed) on a ``.pth`` path line.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import botocore
import pytest
from filelock import FileLock

from _boto_sso_oidc_provider_startup import PTH_LINE, PTH_NAME

from .cli_helpers import run_cli
from .conftest import REPO
from .programs import ENABLED, PROGRAMS, program_env, run_program

pytestmark = pytest.mark.slow

SITE_PACKAGES = Path(botocore.__file__).resolve().parent.parent  # this venv's
DEPENDENCIES = ["boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py",
                "filelock"]
SOURCES = ["boto_sso_oidc_provider", "_boto_sso_oidc_provider_startup.py", "pyproject.toml", "setup.py",
           "setup.cfg", "README.md", "LICENSE"]
ARN_PREFIX = "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_"


def _pip(python: str, *args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "pip", "--python", python, *args, "-q"],
                            capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr


def _copy_sources(target: Path) -> Path:
    """The project's files, without build or egg-info droppings, so builds never touch the checkout."""
    target.mkdir()
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    return target


def _session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of this test session, the same for every xdist worker."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def dependencies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of links to boto3, botocore and their dependencies in this venv."""
    shared = _session_dir(tmp_path_factory)
    directory = shared / "dependencies"
    with FileLock(str(shared / "dependencies.lock")):
        if not directory.is_dir():
            building = shared / "dependencies.partial"
            building.mkdir()
            for name in DEPENDENCIES:
                (building / name).symlink_to(SITE_PACKAGES / name)
            building.rename(directory)
    return directory


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding this project's wheel, built once for all workers."""
    shared = _session_dir(tmp_path_factory)
    directory = shared / "wheelhouse"
    with FileLock(str(shared / "wheelhouse.lock")):
        if not list(directory.glob("*.whl")):
            sources = _copy_sources(shared / "wheel-sources")
            directory.mkdir()
            result = subprocess.run(
                [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(directory),
                 str(sources)], capture_output=True, text=True, timeout=300,
                stdin=subprocess.DEVNULL)
            assert result.returncode == 0, result.stdout + result.stderr
    return directory


def _fresh_venv(path: Path) -> tuple[str, Path]:
    """A venv without pip; its interpreter and its site-packages (with this venv's deps on the path)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True,
                   timeout=120)
    python = str(path / "bin" / "python")
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    return python, Path(purelib)


def _with_deps(site_dir: Path, dependencies: Path) -> None:
    site_dir.mkdir(parents=True, exist_ok=True)
    (site_dir / "_test_deps.pth").write_text(f"{dependencies}\n")


def _ours(site_dir: Path) -> list[str]:
    return sorted(p.name for p in site_dir.iterdir()
                  if p.name.startswith(("boto_sso_oidc_provider", "_boto_sso_oidc_provider",
                                        "__editable__.boto_sso_oidc", "__editable___boto_sso_oidc")))


def _logs_in_through_the_plugin(emulator, python: str, env: dict[str, str]) -> bool:
    for cache in ("sso", "cli"):
        shutil.rmtree(emulator.home / ".aws" / cache, ignore_errors=True)
    emulator.reset()
    result = run_program(PROGRAMS["boto3"], env, python=python)
    assert "Error processing line" not in result.stderr, result.stderr
    if result.returncode == 0:
        assert result.stdout.startswith(ARN_PREFIX)
        assert emulator.calls()["operations"]["StartDeviceAuthorization"] == 1
        return True
    assert "SSOTokenLoadError" in result.stderr, result.stderr
    return False


@pytest.fixture
def activated_config(sso_emulator) -> Iterator[dict[str, str]]:
    sso_emulator.write_config(sso_config_enabled())
    yield program_env(sso_emulator, BOTO_SSO_OIDC_AUTO_LOGIN="true")


def sso_config_enabled() -> str:
    from boto_sso_oidc_provider.emulator import sso_config

    return sso_config().replace("sso_registration_scopes =", ENABLED + "sso_registration_scopes =")


def _check_install_and_uninstall(emulator, env: dict[str, str], python: str, site_dir: Path,
                                 uninstall_python: str) -> None:
    hook = site_dir / PTH_NAME
    assert hook.read_text() == PTH_LINE
    assert _logs_in_through_the_plugin(emulator, python, env)

    _pip(uninstall_python, "uninstall", "-y", "boto-sso-oidc-provider")

    assert _ours(site_dir) == []
    assert not _logs_in_through_the_plugin(emulator, python, env)


def test_a_wheel_in_a_fresh_venv(sso_emulator, activated_config, wheelhouse, dependencies,
                                 tmp_path):
    python, site_dir = _fresh_venv(tmp_path / "venv")
    _with_deps(site_dir, dependencies)
    assert not _logs_in_through_the_plugin(sso_emulator, python, activated_config)

    _pip(python, "install", "--no-deps", "--no-index", "--find-links", str(wheelhouse),
         "boto-sso-oidc-provider")

    _check_install_and_uninstall(sso_emulator, activated_config, python, site_dir, python)


def test_a_user_install(sso_emulator, activated_config, wheelhouse, dependencies, tmp_path):
    base = getattr(sys, "_base_executable", sys.executable)
    env = {**activated_config, "PYTHONUSERBASE": str(tmp_path / "userbase")}
    user_site = Path(subprocess.run([base, "-c", "import site; print(site.getusersitepackages())"],
                                    env=env, capture_output=True, text=True, check=True).stdout.strip())
    _with_deps(user_site, dependencies)

    result = subprocess.run([sys.executable, "-m", "pip", "--python", base, "install", "--user",
                             "--no-deps", "--no-index", "--find-links", str(wheelhouse),
                             "boto-sso-oidc-provider", "-q"], env=env, capture_output=True,
                            text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr

    hook = user_site / PTH_NAME
    assert hook.read_text() == PTH_LINE
    assert _logs_in_through_the_plugin(sso_emulator, base, env)
    result = subprocess.run([sys.executable, "-m", "pip", "--python", base, "uninstall", "-y",
                             "boto-sso-oidc-provider", "-q"], env=env, capture_output=True,
                            text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert _ours(user_site) == []
    assert not _logs_in_through_the_plugin(sso_emulator, base, env)


def test_an_editable_install(sso_emulator, activated_config, dependencies, tmp_path):
    python, site_dir = _fresh_venv(tmp_path / "venv")
    _with_deps(site_dir, dependencies)
    sources = _copy_sources(tmp_path / "checkout")

    _pip(python, "install", "--no-deps", "-e", str(sources))

    assert [name for name in _ours(site_dir) if name.endswith(".pth")][-1] == PTH_NAME
    _check_install_and_uninstall(sso_emulator, activated_config, python, site_dir, python)


def test_this_venv_has_the_hook_where_site_processes_it():
    """The venv running these tests was installed with pip install -e: its hook is in place."""
    found = [Path(d) / PTH_NAME for d in site.getsitepackages() if (Path(d) / PTH_NAME).is_file()]
    if not found and not os.environ.get("CI"):
        pytest.skip("re-run pip install -e '.[test]' to get the startup hook in this venv")
    assert [p.read_text() for p in found] == [PTH_LINE]
    assert str(found[0].parent) == sysconfig.get_path("purelib")


# Two sessions, two clients: a broken install warns once, and neither call notices it.
TWO_SESSIONS = """
    import boto3
    print(boto3.client("sts").get_caller_identity()["Arn"])
    print(boto3.Session().client("sts").get_caller_identity()["Arn"])
"""


def _wheel_in_a_fresh_venv(tmp_path: Path, wheelhouse: Path, dependencies: Path) -> tuple[str, Path]:
    """This project's wheel installed in a fresh venv: its interpreter and site-packages."""
    python, site_dir = _fresh_venv(tmp_path / "venv")
    _with_deps(site_dir, dependencies)
    _pip(python, "install", "--no-deps", "--no-index", "--find-links", str(wheelhouse),
         "boto-sso-oidc-provider")
    return python, site_dir


def _break(site_dir: Path, how: str) -> None:
    package = site_dir / "boto_sso_oidc_provider"
    if how == "package folder deleted":
        shutil.rmtree(package)
    else:
        module = package / how.removeprefix("syntax error in ")
        module.write_text(module.read_text() + "\ndef broken(:\n")


@pytest.mark.parametrize("how", ["package folder deleted", "syntax error in providers/installation.py",
                                 "syntax error in config/reader.py"])
def test_a_broken_install_never_breaks_a_program_whose_profiles_do_not_use_the_plugin(
        sso_emulator, wheelhouse, dependencies, tmp_path, how):
    """botocore's own SSO provider serves the profile (the token is in the shared cache), the
    broken plugin says so once per process, and the session is as botocore made it."""
    python, site_dir = _wheel_in_a_fresh_venv(tmp_path, wheelhouse, dependencies)
    _break(site_dir, how)
    assert run_cli(sso_emulator, "login").returncode == 0  # this checkout's CLI, not the broken one

    result = run_program(TWO_SESSIONS, program_env(sso_emulator), python=python)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [result.stdout.splitlines()[0]] * 2
    assert result.stdout.startswith(ARN_PREFIX)
    assert result.stderr.count("RuntimeWarning: boto-sso-oidc-provider is installed but cannot be "
                               "used") == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_a_pth_file_left_behind_without_its_module_prints_nothing(wheelhouse, dependencies, tmp_path,
                                                                 sso_emulator):
    python, site_dir = _wheel_in_a_fresh_venv(tmp_path, wheelhouse, dependencies)
    shutil.rmtree(site_dir / "boto_sso_oidc_provider")
    (site_dir / "_boto_sso_oidc_provider_startup.py").unlink()
    assert (site_dir / PTH_NAME).read_text() == PTH_LINE

    started = subprocess.run([python, "-c", "pass"], capture_output=True, text=True, timeout=60)
    assert (started.returncode, started.stdout, started.stderr) == (0, "", "")

    assert run_cli(sso_emulator, "login").returncode == 0
    result = run_program(TWO_SESSIONS, program_env(sso_emulator), python=python)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
