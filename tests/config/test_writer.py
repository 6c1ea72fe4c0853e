"""The config writer: every write keeps botocore's reading of everything it was not asked to change."""

from __future__ import annotations

import itertools
import logging
import os
import re
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.configloader
import botocore.exceptions
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boto_sso_oidc_provider.config.writer import (
    RETRY_FOR,
    ConfigConflictError,
    ConfigEdit,
    ConfigWriteError,
    SectionSpec,
    backup_path,
    block_markers,
    edit_config,
)

from ..conftest import REPO, WINDOWS
from ..credentials_helpers import race


def raw(path: Path) -> dict[str, Any]:
    """botocore's own parse, section header -> values."""
    parsed: dict[str, Any] = botocore.configloader.raw_config_parse(str(path))
    return parsed


def logical(header: str) -> tuple[str, str] | None:
    """What botocore's build_profile_map makes of a header: (kind, name)."""
    profile_map = botocore.configloader.build_profile_map({header: {}})
    for kind, key in (("profile", "profiles"), ("sso-session", "sso_sessions")):
        if profile_map[key]:
            return (kind, next(iter(profile_map[key])))
    return None


# -- generated config files --------------------------------------------------------------------

NAMES = ["dev", "prod", "default", "my team", "ops"]
KEYS = ["region", "output", "sso_session", "x_unknown_key", "credential_process", "cli_pager"]
VALUES = st.text(alphabet="abcdefxyz0123-_:/.= #", min_size=1, max_size=12).map(str.strip).filter(bool)

comment = st.sampled_from(["# a comment", "; another", "   # indented comment", "#", "",
                           "   ", "# [profile dev] in a comment", "\t; tab comment"])


@st.composite
def option_lines(draw: st.DrawFn, key: str) -> list[str]:
    value = draw(VALUES)
    form = draw(st.sampled_from(["{k} = {v}", "{k}={v}", "{k}\t=  {v}  ", "{k}: {v}", "  {k} = {v}",
                                 "{k} =\n    addressing_style = {v}\n    signature_version = s3v4"]))
    lines = form.format(k=key, v=value).split("\n")
    if draw(st.booleans()):
        lines.append(draw(comment))
    return lines


@st.composite
def section_text(draw: st.DrawFn, header: str) -> list[str]:
    lines = [draw(st.sampled_from(["[{h}]", "[{h}]   ", "  [{h}]"])).format(h=header)]
    for key in draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=4)):
        lines.extend(draw(option_lines(key)))
    lines.extend(draw(st.lists(comment, max_size=2)))
    return lines


def header_for(kind: str, name: str, quoted: bool) -> str:
    if kind == "profile" and name == "default" and not quoted:
        return "default"
    if " " in name or quoted:
        return f'{kind} "{name}"'
    return f"{kind} {name}"


headers = st.lists(
    st.builds(header_for, st.sampled_from(["profile", "sso-session"]), st.sampled_from(NAMES), st.booleans())
    | st.sampled_from(["services my-services", "preview", "plugins"]),
    unique_by=lambda header: logical(header) or header, max_size=6,
)


@st.composite
def config_files(draw: st.DrawFn) -> str:
    lines = draw(st.lists(comment, max_size=3))
    for header in draw(headers):
        lines.extend(draw(section_text(header)))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines)
    return text + newline if draw(st.booleans()) or not text else text


writable_values = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(["us-east-1", "json", "x"]),
                                  min_size=1, max_size=3)


def _write(directory: str, text: str) -> Path:
    path = Path(directory) / "config"
    path.write_text(text, encoding="utf-8", newline="")
    return path


def parses(path: Path, edit: Any) -> bool:
    """Whether botocore parses ``path``; if not, ``edit`` must be refused with the file unchanged
    (an edit that would change nothing writes nothing, and need not even parse the file)."""
    try:
        raw(path)
    except botocore.exceptions.ConfigParseError:
        text = path.read_bytes()
        try:
            result = edit_config(edit, path=path)
        except ConfigWriteError as error:
            assert "cannot be parsed" in str(error)
        else:
            assert not result.written and result.after == result.before
        assert path.read_bytes() == text
        return False
    return True


# -- the property ------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=config_files(), kind=st.sampled_from(["profile", "sso-session"]),
       name=st.sampled_from(["dev", "prod", "default", "ops", "new-one"]), values=writable_values)
def test_set_section_changes_only_that_section(text, kind, name, values):
    with tempfile.TemporaryDirectory() as directory:
        path = _write(directory, text)

        def change_it(edit: ConfigEdit) -> None:
            edit.set_section(kind, name, values, overwrite=True)

        if not parses(path, change_it):
            return
        before = raw(path)
        change = edit_config(change_it, path=path)
        after = raw(path)
        target = [header for header in after if logical(header) == (kind, name)]
        assert len(target) == 1
        outside_before = {h: v for h, v in before.items() if logical(h) != (kind, name)}
        outside_after = {h: v for h, v in after.items() if logical(h) != (kind, name)}
        assert outside_after == outside_before
        assert after[target[0]] == {**before.get(target[0], {}), **values}
        # Byte for byte: the old text is still there, around the section.
        assert change.after.startswith(text[:text.find(f"[{target[0]}]")] if target[0] in before else text)
        # Again: nothing to do, nothing written.
        mtime = path.stat().st_mtime_ns
        again = edit_config(lambda edit: edit.set_section(kind, name, values), path=path)
        assert not again.changed and not again.written
        assert path.stat().st_mtime_ns == mtime


block_profiles = st.lists(
    st.builds(lambda name, region: SectionSpec("profile", name, (("sso_session", "corp"), ("region", region)))
              , st.sampled_from(["gen-a", "gen-b", "gen-c", "gen-d"]), st.sampled_from(["us-east-1", "x"])),
    unique_by=lambda spec: spec.name, max_size=3)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=config_files(), first=block_profiles, second=block_profiles)
def test_managed_block_changes_only_its_sections(text, first, second):
    with tempfile.TemporaryDirectory() as directory:
        path = _write(directory, text)
        if not parses(path, lambda edit: edit.replace_block("corp", first)):
            return
        before = raw(path)
        generated = {spec.header for spec in first + second}
        edit_config(lambda edit: edit.replace_block("corp", first, preamble="Managed."), path=path)
        middle = raw(path)
        assert {h: v for h, v in middle.items() if h not in generated} == before
        assert {spec.header: dict(spec.values) for spec in first} == \
            {h: v for h, v in middle.items() if h in generated}
        edit_config(lambda edit: edit.replace_block("corp", second), path=path)
        after = raw(path)
        assert {h: v for h, v in after.items() if h not in generated} == before
        assert {spec.header: dict(spec.values) for spec in second} == \
            {h: v for h, v in after.items() if h in generated}
        text_after = path.read_bytes().decode() if path.exists() else ""
        if first or second:  # the old text, then the block
            assert text_after.startswith(text.rstrip("\r\n"))
            assert text_after.rstrip().endswith("# END boto-sso-oidc generate --sso-session corp")
        else:
            assert text_after == text
        # Once more with the same sections: byte for byte the same, nothing written.
        again = edit_config(lambda edit: edit.replace_block("corp", second), path=path)
        assert not again.written and again.after == text_after


# -- safety -------------------------------------------------------------------------------------


SAMPLE = ("# mine\n[profile dev]\nregion = eu-west-1 # not a comment to botocore\n\n"
          "[profile prod]\nregion = x\n")


def test_a_config_botocore_cannot_parse_is_never_written_over(tmp_path):
    path = tmp_path / "config"
    broken = "region = eu-west-1\n[profile dev]\n"  # a key before any section
    path.write_text(broken)
    with pytest.raises(ConfigWriteError) as caught:
        edit_config(lambda edit: edit.set_section("profile", "new", {"region": "x"}), path=path)
    assert str(path) in str(caught.value) and "fix its syntax" in str(caught.value)
    assert path.read_text() == broken
    assert [p.name for p in tmp_path.iterdir()] == ["config"]


def test_duplicate_sections_are_refused_naming_the_lines(tmp_path):
    path = tmp_path / "config"
    text = '[profile dev]\nregion = a\n[profile "dev"]\noutput = json\n'
    path.write_text(text)
    with pytest.raises(ConfigWriteError, match=r"lines 1 and 3"):
        edit_config(lambda edit: edit.set_section("profile", "dev", {"region": "x"}), path=path)
    assert path.read_text() == text


def test_an_existing_section_is_not_clobbered_without_asking(tmp_path):
    path = tmp_path / "config"
    path.write_text(SAMPLE)
    with pytest.raises(ConfigConflictError) as caught:
        edit_config(lambda edit: edit.set_section("profile", "prod", {"region": "y"}), path=path)
    assert caught.value.differences == {"region": ("x", "y")}
    assert str(path) in str(caught.value) and "[profile prod]" in str(caught.value)
    assert path.read_text() == SAMPLE


@pytest.mark.posix_only("POSIX modes: on Windows the config keeps its folder's ACL, as the AWS CLI's does")
def test_permissions_are_kept_and_a_new_file_is_private(tmp_path):
    path = tmp_path / "config"
    path.write_text(SAMPLE)
    path.chmod(0o640)
    edit_config(lambda edit: edit.set_section("profile", "new", {"region": "x"}), path=path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    fresh = tmp_path / "home" / ".aws" / "config"
    edit_config(lambda edit: edit.set_section("profile", "new", {"region": "x"}), path=fresh)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700
    assert fresh.read_text() == "[profile new]\nregion = x\n"


@pytest.mark.posix_only("a symbolic link on Windows takes a privilege (wine shows Linux links as files)")
def test_never_writes_through_a_symlink(tmp_path):
    target = tmp_path / "dotfiles-config"
    target.write_text(SAMPLE)
    link = tmp_path / "config"
    link.symlink_to(target)
    with pytest.raises(ConfigWriteError) as caught:
        edit_config(lambda edit: edit.set_section("profile", "new", {"region": "x"}), path=link)
    assert f"AWS_CONFIG_FILE={target}" in str(caught.value)
    assert link.is_symlink() and target.read_text() == SAMPLE


def test_dry_run_writes_nothing_and_shows_the_diff(tmp_path):
    path = tmp_path / "config"
    path.write_text(SAMPLE)
    change = edit_config(lambda edit: edit.set_section("profile", "dev", {"output": "json"}),
                         path=path, dry_run=True)
    assert change.changed and not change.written
    assert "+output = json" in change.diff()
    assert path.read_text() == SAMPLE


def test_a_key_after_the_managed_block_outside_any_section_is_refused(tmp_path):
    path = tmp_path / "config"
    edit_config(lambda edit: edit.replace_block("corp", [SectionSpec("profile", "a", (("region", "x"),))]),
                path=path)
    with path.open("a") as handle:
        handle.write("output = json\n")  # botocore reads it as part of [profile a]
    text = path.read_text()
    with pytest.raises(ConfigWriteError, match=r"line \d+ is outside every section"):
        edit_config(lambda edit: edit.replace_block("corp", []), path=path)
    assert path.read_text() == text


def test_a_section_inside_a_managed_block_is_not_set_by_hand(tmp_path):
    path = tmp_path / "config"
    edit_config(lambda edit: edit.replace_block("corp", [SectionSpec("profile", "a", (("region", "x"),))]),
                path=path)
    with pytest.raises(ConfigWriteError, match="generate --sso-session corp"):
        edit_config(lambda edit: edit.set_section("profile", "a", {"region": "y"}, overwrite=True), path=path)


def test_values_that_cannot_be_written_are_refused(tmp_path):
    edit = ConfigEdit("", tmp_path / "config")
    for name, values in (("ok", {"region": "a\nb"}), ("ok", {"Bad Key": "x"}), ('a"b', {"region": "x"})):
        with pytest.raises(ConfigWriteError, match=re.escape(str(tmp_path))):
            edit.set_section("profile", name, values)


def test_concurrent_writers_lose_nothing(tmp_path):
    """Eight processes each add their own profile at the same moment: all eight are there."""
    path = tmp_path / "config"
    path.write_text(SAMPLE)
    code = (
        "from pathlib import Path\n"
        "from boto_sso_oidc_provider.config.writer import edit_config\n"
        "wait_for_go()\n"
        f"edit_config(lambda e: e.set_section('profile', 'p%d' % os.getpid(), {{'region': 'x'}}), "
        f"path=Path({str(path)!r}))\n"
    )
    results = race(code, 8, dict(os.environ), tmp_path)
    assert all(result.returncode == 0 for result in results), [r.stderr for r in results]
    profiles = botocore.configloader.load_config(str(path))["profiles"]
    assert len([name for name in profiles if name.startswith("p")]) == 9  # eight and prod
    assert path.read_text().startswith(SAMPLE)


# -- other programs writing the config meanwhile ----------------------------------------------

def _in_place(path: Path, text: str) -> None:
    """Rewrite ``path`` as the AWS CLI does: truncate, then write (no rename, no lock)."""
    with open(path, "w", newline="") as handle:  # these bytes, on every platform
        handle.write(text)


class _Looked(logging.Handler):
    """Set when edit_config says it looks again at a file it will not use as it is."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.event = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "looking again" in record.getMessage():
            self.event.set()


@pytest.fixture
def looked() -> Iterator[_Looked]:
    handler, logger = _Looked(), logging.getLogger("boto_sso_oidc_provider.config.writer")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def _add(name: str) -> Any:
    return lambda edit: edit.set_section("profile", name, {"region": "x"})


def test_an_edit_another_program_made_after_the_read_is_kept_and_the_edit_redone(tmp_path):
    path = _write(str(tmp_path), SAMPLE)
    calls = []

    def change(edit: ConfigEdit) -> None:
        calls.append(edit.text)
        if len(calls) == 1:  # the AWS CLI writes between this read and the rename
            _in_place(path, SAMPLE + "cli_pager =\n")
        edit.set_section("profile", "new", {"region": "x"})

    result = edit_config(change, path=path)

    assert calls == [SAMPLE, SAMPLE + "cli_pager =\n"]
    assert raw(path)["profile prod"] == {"region": "x", "cli_pager": ""}
    assert raw(path)["profile new"] == {"region": "x"}
    assert result.before == SAMPLE + "cli_pager =\n"
    assert result.backup is not None and result.backup.read_text() == SAMPLE + "cli_pager =\n"


def test_a_rewrite_of_the_same_size_and_mtime_is_still_seen(tmp_path):
    """Two writes within one tick of the file system's clock keep (size, mtime): the bytes differ."""
    path = _write(str(tmp_path), SAMPLE)
    info = path.stat()
    calls = []

    def change(edit: ConfigEdit) -> None:
        calls.append(edit.text)
        if len(calls) == 1:
            _in_place(path, SAMPLE.replace("region = x", "region = y"))
            os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
        edit.set_section("profile", "new", {"region": "x"})

    edit_config(change, path=path)
    assert len(calls) == 2 and raw(path)["profile prod"] == {"region": "y"}


def test_a_file_read_while_another_program_has_it_truncated_is_not_used(tmp_path, looked):
    """The AWS CLI has truncated the config and not yet written it: the edit waits for the
    content (it never writes the block over an emptied file)."""
    path = _write(str(tmp_path), SAMPLE)
    _in_place(path, "")  # truncated just now: the CLI's write is to come
    refill = threading.Thread(target=lambda: looked.event.wait(30) and _in_place(path, SAMPLE))
    refill.start()
    edit_config(_add("new"), path=path)
    refill.join()
    assert looked.event.is_set()
    assert path.read_text().startswith(SAMPLE) and raw(path)["profile new"] == {"region": "x"}


def test_a_file_emptied_since_the_last_read_is_waited_for_then_redone(tmp_path, looked):
    path = _write(str(tmp_path), SAMPLE)
    calls = []

    def change(edit: ConfigEdit) -> None:
        calls.append(edit.text)
        if len(calls) == 1:  # the CLI truncates: its write comes once the edit is waiting
            _in_place(path, "")
            threading.Thread(target=lambda: looked.event.wait(30) and _in_place(
                path, SAMPLE + "[profile cli]\nregion = y\n")).start()
        edit.set_section("profile", "new", {"region": "x"})

    edit_config(change, path=path)
    assert calls == [SAMPLE, SAMPLE + "[profile cli]\nregion = y\n"]
    assert raw(path)["profile cli"] == {"region": "y"} and raw(path)["profile new"] == {"region": "x"}


def test_a_file_that_shrank_since_the_last_read_and_stays_so_is_never_written_over(tmp_path):
    path = _write(str(tmp_path), SAMPLE)
    cut = SAMPLE[:SAMPLE.index("[profile prod]")]  # a cut at a line boundary parses

    def change(edit: ConfigEdit) -> None:
        if edit.text == SAMPLE:
            _in_place(path, cut)
        edit.set_section("profile", "new", {"region": "x"})

    with pytest.raises(ConfigWriteError,
                       match=re.escape(f"{path} shrank from {len(SAMPLE)} to {len(cut)} bytes")):
        edit_config(change, path=path)
    assert path.read_text() == cut  # as the other program left it
    assert not backup_path(path).exists()


def test_the_previous_version_is_kept_as_the_backup(tmp_path):
    path = _write(str(tmp_path), SAMPLE)
    path.chmod(0o640)
    first = edit_config(_add("one"), path=path)
    assert first.backup == backup_path(path) == tmp_path / "config.boto-sso-oidc.bak"
    assert first.backup.read_text() == SAMPLE
    if not WINDOWS:  # POSIX modes: the backup keeps the config's
        assert stat.S_IMODE(first.backup.stat().st_mode) == 0o640
    second = edit_config(_add("two"), path=path)
    assert backup_path(path).read_text() == second.before == first.after
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config", "config.boto-sso-oidc.bak"]


def test_temporary_files_a_killed_writer_left_are_removed_by_the_next_write(tmp_path):
    """A writer SIGKILLed while it holds its copy of the config leaves it; the next write
    removes it, and only files of its own name pattern (never another config's)."""
    path = _write(str(tmp_path), SAMPLE)
    code = (  # killed while it checks its edit: its copy of the config and the new text exist
        "import sys, time\n"
        "from pathlib import Path\n"
        "from boto_sso_oidc_provider.config import writer\n"
        "def verify(*args):\n"
        "    print('checking', flush=True)\n"
        "    time.sleep(60)\n"
        "writer._verify = verify\n"
        "writer.edit_config(lambda edit: edit.set_section('profile', 'killed', {'region': 'x'}),\n"
        f"                   path=Path({str(path)!r}))\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    assert child.stdout is not None and child.stdout.readline() == "checking\n"
    child.kill()
    child.wait()
    child.stdout.close()
    left = sorted((tmp_path / p.name).read_text() for p in tmp_path.glob(".config-*.tmp"))
    assert len(left) == 2 and left[0] == SAMPLE and "[profile killed]" in left[1]
    others = [".config2-abcdefgh.tmp", ".config-abc.tmp", "config-abcdefgh.tmp"]
    for name in others:
        (tmp_path / name).write_text("not ours")

    edit_config(_add("new"), path=path)

    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == sorted(others)


# The AWS CLI v1's own writer (what `aws configure set` runs), in bursts of 1 to 3 edits and
# pauses of 0.5 to 2.5 s (a script running `aws configure set` now and then; one `generate`
# edit of this config takes about a second here, so a writer that never pauses that long
# makes every attempt start again, and `generate` gives up, writing nothing, after
# RETRY_FOR seconds). Each edit adds a key of its own to a random user profile, so every
# edit can be looked for afterwards. One line per edit on stdout: "<profile> <n>".
AWS_CLI_WRITER = """
import random, sys, time
from awscli.customizations.configure.writer import ConfigFileWriter

path, seconds, profiles = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
writer, rng, n = ConfigFileWriter(), random.Random(20), 0
print("started", flush=True)
end = time.monotonic() + seconds
while time.monotonic() < end:
    for _ in range(rng.randint(1, 3)):
        n += 1
        profile = f"user{rng.randrange(profiles)}"
        writer.update_config({"__section__": f"profile {profile}", f"x_edit_{n}": f"v{n}"}, path)
        print(profile, n, flush=True)
    time.sleep(rng.uniform(0.5, 2.5))
"""
USER_PROFILES = 2000
RACE_SECONDS = 60


def _user_profiles(count: int) -> str:
    return "".join(f"\n[profile user{i}]\nregion = us-east-1\noutput = json\n# my note {i}\n"
                   for i in range(count))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_aws_cli_writing_beside_generate_for_60_s_loses_no_line_and_no_edit(sso_emulator):
    """The AWS CLI v1's ConfigFileWriter rewrites the config in place (truncate, write) in a
    loop while the real `generate` rewrites its block, again and again, for 60 s on a
    2,000-profile config: every user line and every CLI edit is there at the end, and every
    `generate` succeeded, on the file as it was (redoing its edit when the CLI changed it)."""
    from boto_sso_oidc_provider.emulator._fixture import SSO_SESSION

    from ..cli_helpers import run_cli

    config = sso_emulator.config_file
    original = config.read_text() + _user_profiles(USER_PROFILES)
    config.write_text(original)
    assert len(original.splitlines()) > 4 * USER_PROFILES
    assert run_cli(sso_emulator, "login").returncode == 0

    writer = subprocess.Popen([sys.executable, "-c", AWS_CLI_WRITER, str(config), str(RACE_SECONDS),
                               str(USER_PROFILES)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdout.readline() == "started\n"
    runs = []
    regions = itertools.cycle(["eu-west-1", "us-east-2"])
    while writer.poll() is None:
        runs.append(run_cli(sso_emulator, "generate", "--sso-session", SSO_SESSION, "--region",
                            next(regions), "--debug", timeout=120))
    edits = [line.split() for line in writer.stdout.read().splitlines()]
    assert writer.wait() == 0
    last = run_cli(sso_emulator, "generate", "--sso-session", SSO_SESSION, "--region", "ap-south-1")

    text = config.read_text()
    begin, end = block_markers(SSO_SESSION)
    outside = text[:text.index(begin)].rstrip("\n") + text[text.index(end) + len(end) + 1:]
    without_edits = re.sub(r"^x_edit_\d+ = v\d+\n", "", outside, flags=re.M)
    lost_lines = [line for line in original.splitlines() if line not in without_edits.splitlines()]
    profiles = botocore.configloader.load_config(str(config))["profiles"]
    lost_edits = [(profile, n) for profile, n in edits
                  if profiles[profile].get(f"x_edit_{n}") != f"v{n}"]
    redone = [run for run in runs if "redoing the edit" in run.stderr]
    # A run that never found the file still for one whole edit (about a second here; more on a
    # loaded machine) gives up after RETRY_FOR seconds, having written nothing: retried too.
    gave_up = [run for run in runs if run.returncode == 1 and "kept changing while" in run.stderr
               and "redoing the edit" in run.stderr]
    figures = (f"{len(edits)} CLI edits, {len(runs)} generate runs ({len(redone)} redid their edit, "
               f"{sum(run.stderr.count('redoing the edit') for run in runs)} redos in all, "
               f"{len(gave_up)} gave up after redoing for {RETRY_FOR:g} s, "
               f"{sum(run.stderr.count('looking again') for run in runs)} unsettled reads looked "
               f"at again), {len(lost_lines)} user lines lost, {len(lost_edits)} CLI edits lost")
    print(figures)
    failed = [run for run in runs if run.returncode != 0 and run not in gave_up]
    assert not failed and last.returncode == 0, [run.stderr[-500:] for run in failed + [last]]
    assert lost_lines == [] and lost_edits == [], figures
    assert without_edits == original.rstrip("\n"), figures  # byte for byte, outside the block
    assert redone, f"the CLI never wrote during a generate: the race was not exercised ({figures})"
    assert len(gave_up) < len(runs), figures  # some runs applied their edit with the CLI writing
    assert all(profiles[name]["region"] == "ap-south-1" for name in
               [name for kind, name in ConfigEdit(text, config).block_sections(SSO_SESSION)])


# -- the reader's side of the race: a config caught mid-write ---------------------------------

_GOOD = "[profile dev]\nregion = eu-west-1\n"
_CUT = "[profile dev\n"  # the AWS CLI's in-place rewrite, caught between its truncation and its end


class _Time:
    """config's clock: the first wait after a failed parse is when the other writer finishes."""

    def __init__(self, finish):
        self.monotonic, self.time, self.waits, self._finish = __import__("time").monotonic, None, 0, finish

    def sleep(self, seconds):
        self.waits += 1
        if self.waits == 1 and self._finish:
            self._finish()


def test_a_config_caught_mid_write_by_another_tool_is_read_again_once_complete(tmp_path, monkeypatch):
    import boto_sso_oidc_provider.config.reader as config_module

    path = tmp_path / "config"
    path.write_text(_CUT)  # just changed: still settling
    clock = _Time(lambda: path.write_text(_GOOD))
    monkeypatch.setattr(config_module, "time", clock)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    config = config_module.AWSConfig.load()
    assert config.profile_names() == ["dev"] and clock.waits == 1


def test_a_config_that_stays_unparsable_is_one_line_at_once(tmp_path, monkeypatch):
    import boto_sso_oidc_provider.config.reader as config_module
    from boto_sso_oidc_provider.exceptions import SSOConfigError

    path = tmp_path / "config"
    path.write_text(_CUT)
    old = __import__("time").time() - 10
    os.utime(path, (old, old))  # settled long ago: a real syntax error, not a write in progress
    clock = _Time(None)
    monkeypatch.setattr(config_module, "time", clock)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    with pytest.raises(SSOConfigError, match="cannot be parsed.*Fix its syntax"):
        config_module.AWSConfig.load()
    assert clock.waits == 0
