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

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
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


@pytest.mark.slow
@pytest.mark.timeout(600)  # a pip install from the index: minutes on a loaded machine
def test_the_demo_command_from_a_clean_clone(tmp_path: Path) -> None:
    """The README's first command, verbatim, in a copy of the tracked files (a clean clone)."""
    command = next(b.text.strip() for b in blocks_of(REPO / "README.md")
                   if b.language == "sh" and "demo" in b.text)
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True)
    if files.returncode != 0:
        pytest.skip("not a git checkout (an unpacked sdist): no clean clone to copy")
    clone = tmp_path / "clone"
    for name in files.stdout.splitlines():
        if (REPO / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, clone / name)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "BOTO_SSO_OIDC_", "VIRTUAL_ENV", "PYTHON"))}
    env.update(home_env(Path(tempfile.mkdtemp(dir=tmp_path))))
    python_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != python_dir)
    result = subprocess.run(["sh", "-c", command], cwd=clone, env=env, capture_output=True,
                            text=True, timeout=600, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "arn:aws:sts::" in result.stdout + result.stderr
    assert not (Path(env["HOME"]) / ".aws").exists(), "the demo wrote into ~/.aws"
