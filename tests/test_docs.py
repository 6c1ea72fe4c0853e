"""Every command of the README and of docs/ runs as written, against the emulator, in a temporary HOME.

Each page's fenced blocks, in order: ``sh``/``bash`` and ``console`` (its ``$`` lines) run in
bash with ``set -e``, ``zsh`` and ``fish`` in those shells, ``python`` in this interpreter (under
pytest when the block defines tests); each must exit 0 without a traceback. ``ini`` blocks are
the configuration the page tells its reader to have: each must parse with botocore's own
loader as it reads (no inline comment glued to a value), and together, over the config of
configuration.md, they are the page's ``~/.aws/config``. The reader has the package installed
(its ``bin`` first on PATH, as in an activated venv), logged in once to profile ``dev``, lets
the plugin log in when it has to (``BOTO_SSO_OIDC_AUTO_LOGIN=true``; logins take the device
flow, which the emulator approves) and has a browser (``tests/fake_browser.py`` in its "ignore"
mode: it records each URL, and every one must be on 127.0.0.1); ``AWS_DEFAULT_REGION`` is not
set. A block that cannot run as written here is preceded by
``<!-- not run: REASON -->`` (REASON names what covers it), and every other block is run.
Relative links must point at files that exist, and their anchors at headings of the page.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from .browser_helpers import browser_env, browser_log
from .cli_helpers import console_script
from .conftest import REPO, home_env, subprocess_env

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "examples" / "README.md"]
SHELLS = {"sh": "bash", "bash": "bash", "console": "bash", "zsh": "zsh", "fish": "fish"}
LANGUAGES = {*SHELLS, "python", "ini", "yaml", "powershell", "bat"}  # the last two: not run
FENCE = re.compile(r"^(?P<indent> *)```(?P<language>[\w-]*)\s*$")
NOT_RUN = re.compile(r"^\s*<!--\s*not run:\s*(?P<reason>\S.*?)\s*-->\s*$")
LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    language: str
    text: str
    not_run: str | None  # the reason given in the comment before the block

    def __str__(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line} ({self.language})"


def blocks_of(page: Path) -> list[Block]:
    """The fenced blocks of ``page``, each with the ``not run`` reason written before it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent = opening["indent"]
        end = next(i for i in range(index + 1, len(lines)) if lines[i].strip() == "```")
        text = "\n".join(line[len(indent):] for line in lines[index + 1:end]) + "\n"
        before = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marked = NOT_RUN.match(before)
        found.append(Block(page, index + 1, opening["language"], text,
                           marked["reason"] if marked else None))
        index = end + 1
    return found


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors of ``page`` (lower case, punctuation dropped, spaces to dashes)."""
    anchors: set[str] = set()
    fenced = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
        heading = re.match(r"^#{1,6} (.*)$", line)
        if heading and not fenced:
            anchors.add(re.sub(r"[^\w\- ]", "", heading[1].strip().lower()).replace(" ", "-"))
    return anchors


def _sections(text: str) -> dict[str, dict[str, str]]:
    parser = configparser.RawConfigParser()  # what botocore's raw_config_parse uses
    parser.read_string(text)
    return {name: dict(parser.items(name)) for name in parser.sections()}


def page_config(page: Path) -> str:
    """The page's ``~/.aws/config``: configuration.md's config, then the page's own ini blocks
    (a section the page shows again replaces the earlier one)."""
    base = next(b for b in blocks_of(REPO / "docs" / "configuration.md") if b.language == "ini")
    sections = _sections(base.text)
    for block in blocks_of(page):
        if block.language == "ini" and block.not_run is None:
            for name, keys in _sections(block.text).items():
                sections[name] = keys
    return "".join(f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()) + "\n"
                   for name, keys in sections.items())


ALL_BLOCKS = [block for page in PAGES for block in blocks_of(page)]


def test_every_block_has_a_known_language_and_every_reason_says_why():
    assert len(ALL_BLOCKS) > 20, [str(b) for b in ALL_BLOCKS]
    for block in ALL_BLOCKS:
        assert block.language in LANGUAGES, f"{block}: add the language to this test"
        if block.not_run is not None:
            assert len(block.not_run.split()) >= 3, f"{block}: say why and what covers it"


@pytest.mark.parametrize("block", [b for b in ALL_BLOCKS if b.language == "ini"], ids=str)
def test_every_config_block_reads_as_written(block, tmp_path):
    """botocore reads the block (its loader, on a file) and no value carries a comment: botocore
    keeps ``; text`` and ``# text`` after a value as part of it."""
    from botocore.configloader import raw_config_parse

    path = tmp_path / "config"
    path.write_text(block.text)
    parsed = raw_config_parse(str(path))
    assert parsed, block
    for section, keys in parsed.items():
        for key, value in keys.items():
            assert not re.search(r"\s[;#]", value), f"{block}: [{section}] {key} = {value!r}"


def test_links_point_at_files_and_headings_that_exist():
    checked = 0
    for page in PAGES:
        for match in LINK.finditer(page.read_text(encoding="utf-8")):
            target = match["target"]
            assert "github.com/boto-sso-oidc-provider" not in target, f"{page}: {target}"
            if re.match(r"^[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            assert resolved.exists(), f"{page.relative_to(REPO)}: {target}"
            if anchor:
                assert anchor in _anchors(resolved), f"{page.relative_to(REPO)}: {target}"
            checked += 1
    assert checked > 20


def test_the_readme_test_command_is_the_one_ci_runs():
    """.ci/run ends with the README's test command, byte for byte."""
    ci_command = (REPO / ".ci" / "run").read_text().rstrip("\n").splitlines()[-1]
    readme = [b.text.strip() for b in blocks_of(REPO / "README.md") if b.language == "sh"]
    assert ci_command in readme


def _run_block(block: Block, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    if block.language in SHELLS:
        text = block.text
        if block.language == "console":
            text = "\n".join(line[2:] for line in text.splitlines() if line.startswith("$ "))
        shell = SHELLS[block.language]
        if shutil.which(shell, path=env["PATH"]) is None:
            pytest.skip(f"{shell} is not installed (.ci/run installs it)")
        argv = [shell, "-c", text] if shell == "fish" else [shell, "-e", "-c", text]
    elif "\ndef test_" in "\n" + block.text:
        test_file = cwd / f"test_block_{block.line}.py"
        test_file.write_text(block.text)
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)]
    else:
        argv = [sys.executable, "-c", block.text]
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, start_new_session=True)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPO)))
def test_every_block_of_the_page_runs(page: Path, sso_emulator: Any, tmp_path: Path) -> None:
    script = console_script()
    if script is None:
        pytest.skip("the boto-sso-oidc console script is not installed (pip install -e .)")
    sso_emulator.write_config(page_config(page))
    env = subprocess_env(sso_emulator, BOTO_SSO_OIDC_AUTO_LOGIN="true",
                         BOTO_SSO_OIDC_USE_DEVICE_CODE="true",
                         **browser_env(sso_emulator.home, "ignore"))
    for name in ("AWS_DEFAULT_REGION", "AWS_PROFILE"):
        env.pop(name)
    env["PATH"] = f"{script.parent}{os.pathsep}{env.get('PATH', '')}"
    login = subprocess.run([str(script), "login", "--profile", "dev"], env=env,
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert login.returncode == 0, login.stderr
    # The blocks run from a copy of the repository's examples and bench, as in a clean clone.
    for name in ("examples", "bench"):
        shutil.copytree(REPO / name, tmp_path / name)
    ran = 0
    for block in blocks_of(page):
        if block.language in ("ini", "yaml") or block.not_run is not None:
            continue
        result = _run_block(block, env, tmp_path)
        output = result.stdout + result.stderr
        assert result.returncode == 0 and "Traceback" not in output, f"{block}:\n{output}"
        ran += 1
    runnable = [b for b in blocks_of(page) if b.language not in ("ini", "yaml")]
    assert ran == sum(b.not_run is None for b in runnable)
    # Only the emulator's pages, and the console's sign-in page written in the home's own folder.
    console_pages = (Path(sso_emulator.home) / ".aws" / "boto-sso-oidc" / "console").as_uri() + "/"
    opened = browser_log(sso_emulator.home)
    assert all(urlsplit(url).hostname == "127.0.0.1" or url.startswith(console_pages)
               for url in opened), opened


def _clean_clone(tmp_path: Path) -> Path:
    """A copy of the tracked files (a clean clone), or a skip outside a git checkout."""
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True)
    if files.returncode != 0:
        pytest.skip("not a git checkout (an unpacked sdist): no clean clone to copy")
    clone = tmp_path / "clone"
    for name in files.stdout.splitlines():
        if (REPO / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, clone / name)
    return clone


def _new_users_environment(tmp_path: Path) -> dict[str, str]:
    """A shell of a new machine: no AWS or package variables, no venv, a fresh HOME. pip's own
    download cache is the runner's (what is downloaded changes nothing of what is installed)."""
    cache = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"], capture_output=True,
                           text=True).stdout.strip()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "BOTO_SSO_OIDC_", "VIRTUAL_ENV", "PYTHON"))}
    env.update(home_env(Path(tempfile.mkdtemp(dir=tmp_path))))
    if cache:
        env["PIP_CACHE_DIR"] = cache
    python_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != python_dir)
    return env


def _sh(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=1200, stdin=subprocess.DEVNULL, start_new_session=True)


def _readme_commands() -> tuple[str, str]:
    """The README's two set-up commands: the demo's and the tests'."""
    commands = [b.text.strip() for b in blocks_of(REPO / "README.md") if b.language == "sh"]
    demo = next(command for command in commands if command.endswith(" demo"))
    tests = next(command for command in commands if "pytest" in command)
    return demo, tests


def test_the_demo_and_the_tests_have_environments_of_their_own():
    """The README's demo command and test command use two different environments, so the test
    extras (their pinned boto3 and botocore, the AWS CLI v1) never land in the demo's."""
    demo, tests = _readme_commands()
    demo_venv = demo.split("python3 -m venv ", 1)[1].split()[0]
    tests_venv = tests.split("python3 -m venv ", 1)[1].split()[0]
    assert demo_venv != tests_venv, (demo, tests)
    assert f"{tests_venv}/" not in demo and f"{demo_venv}/" not in tests


def test_the_readme_says_how_to_install_for_real_use_and_where_it_is_published():
    """An "Install for real use" section: pipx for the command line, the package in every
    environment whose boto3 should use it, notebooks and IDEs; honest that it is not on PyPI
    (no command installs it by its bare name, as if it were published)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "## Install for real use" in text
    section = text.split("## Install for real use", 1)[1].split("\n## ", 1)[0]
    for said in ("not published on PyPI", "pipx install", "every environment whose boto3",
                 "notebook", "IDE", "doctor"):
        assert said in section, said
    for page in PAGES:
        for line in page.read_text(encoding="utf-8").splitlines():
            assert not re.search(r"pip install +'?boto-sso-oidc-provider\b", line), f"{page}: {line}"


@pytest.mark.slow
@pytest.mark.timeout(1500)  # pip installs from the index: minutes on a loaded machine
def test_the_new_users_path_from_a_clean_clone(tmp_path: Path) -> None:
    """The README's set-up as a new user follows it, in a copy of the tracked files (a clean
    clone): the demo command verbatim, then the test command's set-up verbatim (everything but
    its pytest run, which .ci/run runs verbatim on a clean clone), then the package installed for
    real use into a project's environment. The demo's environment is left as the demo made it
    (the same packages and versions, no AWS CLI), and the demo still runs there."""
    demo, tests = _readme_commands()
    setup, _, pytest_run = tests.rpartition(" && ")
    assert pytest_run == ".venv/bin/python -m pytest -n 2", tests
    clone = _clean_clone(tmp_path)
    env = _new_users_environment(tmp_path)

    first = _sh(demo, clone, env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "arn:aws:sts::" in first.stdout + first.stderr
    demo_venv = clone / demo.split("python3 -m venv ", 1)[1].split()[0]
    freeze = [str(demo_venv / "bin" / "python"), "-m", "pip", "freeze", "--all"]
    packages = subprocess.run(freeze, capture_output=True, text=True, env=env).stdout

    tests_setup = _sh(setup, clone, env)
    assert tests_setup.returncode == 0, tests_setup.stdout[-3000:] + tests_setup.stderr[-3000:]
    assert (clone / ".venv" / "bin" / "aws").exists()  # the test extras' AWS CLI v1, in .venv
    assert subprocess.run(freeze, capture_output=True, text=True, env=env).stdout == packages
    assert not (demo_venv / "bin" / "aws").exists()
    again = _sh(f"{demo_venv}/bin/boto-sso-oidc demo", clone, env)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]

    # "Install for real use": the package from the clone into a project's own environment; its
    # interpreter then has the startup hook (what doctor reports).
    project = tmp_path / "project"
    real = _sh(f"python3 -m venv {project} && {project}/bin/pip install -q {clone}", tmp_path, env)
    assert real.returncode == 0, real.stdout[-3000:] + real.stderr[-3000:]
    doctor = subprocess.run([str(project / "bin" / "python"), "-m", "boto_sso_oidc_provider", "doctor",
                             "--json"], capture_output=True, text=True, env=env, timeout=300)
    hook = [f for f in json.loads(doctor.stdout)["findings"] if f["check"] == "hook"]
    assert hook and "the startup hook is installed" in hook[0]["message"], doctor.stdout
    assert not (Path(env["HOME"]) / ".aws").exists(), "the demo wrote into ~/.aws"
