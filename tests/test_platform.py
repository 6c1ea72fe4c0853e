"""The platform module's answers, proved on the platform the tests run on (Linux natively, Windows
CPython under wine through .ci/windows/run): the home, links, replacing a file another process
reads, owner-only files, stop signals, command lines."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
import time

import pytest
from botocore.compat import compat_shell_split
from hypothesis import given, settings
from hypothesis import strategies as st

from boto_sso_oidc_provider import _platform

from .conftest import WINDOWS, assert_owner_only


def test_a_home_set_by_home_environment_is_the_one_botocore_reads(tmp_path):
    home = tmp_path / "some home"
    env = {**os.environ, **_platform.home_environment(home)}
    code = ("import botocore.session; from botocore.utils import JSONFileCache; "
            "print(JSONFileCache.CACHE_DIR)")  # botocore's ~/.aws/boto/cache, expanded
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == str(home / ".aws" / "boto" / "cache")


def test_the_home_variable_is_the_one_expanduser_reads(tmp_path, monkeypatch):
    monkeypatch.setenv(_platform.HOME_VARIABLE, str(tmp_path))
    assert os.path.expanduser("~") == str(tmp_path)


# -- links ----------------------------------------------------------------------------------------

def test_open_no_follow_opens_a_regular_file(tmp_path):
    path = tmp_path / "config"
    path.write_bytes(b"[default]\n")
    fd = _platform.open_no_follow(path, os.O_RDONLY)
    try:
        assert os.read(fd, 100) == b"[default]\n"
    finally:
        os.close(fd)


@pytest.mark.posix_only("creating a symbolic link on Windows takes a privilege (and wine shows Linux "
                        "links as the files they point to)")
def test_open_no_follow_refuses_a_symbolic_link(tmp_path):
    target = tmp_path / "target"
    target.write_text("x")
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(OSError) as raised:
        _platform.open_no_follow(link, os.O_RDONLY)
    assert raised.value.errno == errno.ELOOP


@pytest.mark.windows_only("the look-open-look check is Windows' stand-in for O_NOFOLLOW")
def test_open_no_follow_refuses_a_file_swapped_between_the_look_and_the_open(tmp_path, monkeypatch):
    path = tmp_path / "config"
    path.write_text("mine")
    other = tmp_path / "other"
    other.write_text("swapped in")
    real_open = os.open

    def open_after_a_swap(name, flags, mode=0o777):  # another program renames over it, just then
        os.replace(other, path)
        return real_open(name, flags, mode)

    monkeypatch.setattr(os, "open", open_after_a_swap)
    fd = None
    with pytest.raises(FileNotFoundError):
        fd = _platform.open_no_follow(path, os.O_RDONLY)
    assert fd is None


# -- replacing a file another process reads --------------------------------------------------------

_READER = textwrap.dedent("""
    import sys, time
    with open(sys.argv[1], "rb") as held:
        open(sys.argv[2], "w").close()
        time.sleep(float(sys.argv[3]))
    open(sys.argv[2] + ".closed", "w").close()
""")


def _reader_holding(target, tmp_path, seconds: float) -> tuple[subprocess.Popen[bytes], str]:
    ready = str(tmp_path / "ready")
    reader = subprocess.Popen([sys.executable, "-c", _READER, str(target), ready, str(seconds)])
    deadline = time.monotonic() + 60
    while not os.path.exists(ready):
        assert reader.poll() is None and time.monotonic() < deadline, "the reader did not start"
        time.sleep(0.01)
    return reader, ready


def test_replace_waits_for_a_reader_of_the_target_and_never_loses_the_write(tmp_path):
    target = tmp_path / "token.json"
    target.write_text("old")
    source = tmp_path / ".tmp-new.json"
    source.write_text("new")
    reader, ready = _reader_holding(target, tmp_path, 0.5)
    try:
        _platform.replace(source, target)
        if WINDOWS:  # refused while the reader held it open: done only once it closed
            assert os.path.exists(ready + ".closed")
        assert target.read_text() == "new" and not source.exists()
    finally:
        reader.wait(60)


@pytest.mark.windows_only("only Windows refuses to rename over a file another process has open")
def test_replace_gives_up_after_its_patience_and_keeps_the_new_file(tmp_path):
    target = tmp_path / "token.json"
    target.write_text("old")
    source = tmp_path / ".tmp-new.json"
    source.write_text("new")
    reader, _ = _reader_holding(target, tmp_path, 5)
    try:
        began = time.monotonic()
        with pytest.raises(PermissionError):
            _platform.replace(source, target, patience=0.3)
        assert time.monotonic() - began >= 0.3
        assert target.read_text() == "old" and source.read_text() == "new"
    finally:
        reader.wait(60)


# -- owner-only files ----------------------------------------------------------------------------

def test_make_private_dir_is_for_its_owner_only_whatever_the_umask(tmp_path):
    previous = os.umask(0)
    try:
        _platform.make_private_dir(tmp_path / "cache")
    finally:
        os.umask(previous)
    assert_owner_only(tmp_path / "cache")


def test_restrict_to_owner_makes_a_file_its_owners_alone(tmp_path):
    path = tmp_path / "token.json"
    previous = os.umask(0)
    try:
        path.write_text("{}")
    finally:
        os.umask(previous)
    _platform.restrict_to_owner(path)
    assert_owner_only(path)


# -- lines that rewrite themselves -----------------------------------------------------------------

@pytest.mark.posix_only("a POSIX pseudo-terminal")
def test_erase_line_on_a_posix_terminal_is_the_vt_sequence():
    import pty

    parent, child = pty.openpty()
    try:
        with open(child, "w", closefd=False) as terminal:
            assert _platform.erase_line(terminal) == "\r\x1b[K"
    finally:
        os.close(parent)
        os.close(child)


@pytest.mark.windows_only("Windows' consoles, which print VT sequences only once asked to")
def test_erase_line_where_no_console_reads_vt_sequences_blanks_an_80_column_line(tmp_path):
    with open(tmp_path / "not-a-console", "w") as stream:
        erase = _platform.erase_line(stream)
    assert erase == "\r" + " " * 79 + "\r"
    assert _platform.erase_line(object()) == erase  # no descriptor at all


@pytest.mark.windows_only("Windows' consoles, which print VT sequences only once asked to")
def test_erase_line_turns_vt_sequences_on_for_a_console_that_can_read_them():
    import ctypes
    from ctypes import wintypes

    try:
        console = open("CONOUT$", "w")  # noqa: SIM115 - closed below
    except OSError:
        pytest.skip("no console attached to this process")
    try:
        import msvcrt

        handle = msvcrt.get_osfhandle(console.fileno())
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        kernel32.GetConsoleMode.argtypes = [wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD)]
        kernel32.SetConsoleMode.argtypes = [wintypes.HANDLE, wintypes.DWORD]
        mode = wintypes.DWORD()
        assert kernel32.GetConsoleMode(handle, ctypes.byref(mode))
        kernel32.SetConsoleMode(handle, mode.value & ~0x0004)  # as a fresh console starts
        _platform._erase_by_handle.clear()
        erase = _platform.erase_line(console)
        assert kernel32.GetConsoleMode(handle, ctypes.byref(mode))
        # Either the console now reads VT sequences and the erase is one, or it refused the
        # mode and the erase is the blanks: never a VT sequence the console would print.
        assert (erase == "\r\x1b[K") == bool(mode.value & 0x0004), (erase, mode.value)
    finally:
        console.close()


# -- stopping ------------------------------------------------------------------------------------

def test_the_stop_signals_exist_here():
    import signal

    known = {int(value) for name, value in vars(signal).items() if name.startswith("SIG") and
             not name.startswith("SIG_")}
    for signals in (_platform.termination_signals(), _platform.forwarded_signals()):
        assert signals and set(signals) <= known
    assert _platform.terminal_sent(int(signal.SIGINT)) is WINDOWS or not WINDOWS


def test_stop_child_ends_a_child_and_says_how(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    began = time.monotonic()
    code = _platform.stop_child(child, grace=5)
    assert time.monotonic() - began < 30
    # SIGTERM's default action (POSIX); TerminateProcess's exit code, as taskkill /F sets it (Windows).
    assert code == (1 if WINDOWS else -15)


# -- command lines -------------------------------------------------------------------------------

_ARGUMENT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ARGUMENT, min_size=1, max_size=5), st.booleans())
def test_a_joined_command_line_is_split_back_by_botocore(argv, windows):
    line = _platform.join_command_line(argv, windows=windows)
    assert compat_shell_split(line, "win32" if windows else "linux") == argv


_LINE = st.text(st.sampled_from('ab \t"\\\'x'), max_size=16)


@settings(max_examples=500, deadline=None)
@given(_LINE)
def test_the_windows_split_is_botocores(line):
    try:
        expected = compat_shell_split(line, "win32")
    except ValueError:
        with pytest.raises(ValueError):
            _platform.split_command_line(line, windows=True)
        return
    assert _platform.split_command_line(line, windows=True) == expected


@pytest.mark.parametrize("argv", [
    [r"C:\Program Files\Python313\Scripts\boto-sso-oidc.exe", "credential-process", "--profile", "dev"],
    [r"C:\Users\Jane Doe\venv\Scripts\python.exe", "-m", "boto_sso_oidc_provider", "credential-process"],
    [r"\\server\share\tools\boto-sso-oidc.exe", "--profile", 'say "hi"', "trailing\\"],
])
def test_windows_paths_with_spaces_and_backslashes_survive_botocores_windows_split(argv):
    line = _platform.join_command_line(argv, windows=True)
    assert compat_shell_split(line, "win32") == argv
    if WINDOWS:
        assert _platform.split_command_line(line) == argv
