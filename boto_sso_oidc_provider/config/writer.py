"""Step 1 of the flow, written: safe edits of the AWS config file: the one place this package writes it.

:mod:`.reader` reads the config (through botocore); this module changes it,
line by line, so that everything it was not asked to change stays exactly as
it was, byte for byte: comments, blank lines, ordering, quoting, keys it does
not know. Two edits exist:

* :meth:`ConfigEdit.set_section`: create a ``[profile NAME]`` or
  ``[sso-session NAME]`` section, or set keys in an existing one in place
  (other keys and comments stay; a key that differs raises
  :class:`ConfigConflictError` unless overwriting was asked for).
* :meth:`ConfigEdit.replace_block`: the sections between a
  ``# BEGIN boto-sso-oidc generate ...`` and its ``# END`` comment (a managed
  block, created at the end of the file the first time).

:func:`edit_config` applies them safely: under a lock (``<config>.lock``,
shared with every other writer of this package), on a fresh read, to a
temporary file in the same directory that botocore's own loader must parse
to exactly the expected result (every section outside the edit unchanged),
fsynced and then renamed over the config (atomic), keeping the file's
permissions (a new file is 0600 in a 0700 directory). A config botocore
cannot parse is never written over, nor is a symbolic link written through.
Nothing is written when nothing would change.

Other programs do not take that lock: the AWS CLI (v1 and v2, ``aws configure
set``, ``aws configure sso``) rewrites the config in place, truncating it and
then writing it. So:

* the file is read once, as bytes, between two ``fstat`` calls that must agree
  (size, mtime, inode), and botocore parses exactly those bytes (a private copy
  of them), never the path a second time;
* a read that finds the file empty, or smaller than this edit's previous read,
  may have caught another writer between its truncation and its write: it is
  used only once the file has stayed so for :data:`SETTLE` seconds; one that
  stays smaller than the previous read is refused (nothing written);
* just before the rename the file is read again and must hold the same bytes as
  the same file (device, inode, size, mtime_ns): otherwise another program
  changed it, and the edit is redone on a fresh read (for up to
  :data:`RETRY_FOR` seconds, then :class:`ConfigWriteError`);
* the version the rename replaced is kept beside the config, as
  ``<config>.boto-sso-oidc.bak`` (:func:`backup_path`; same permissions; one
  version, replaced by the next write);
* temporary files (``.<config name>-XXXXXXXX.tmp``) a killed writer left are
  removed by the next write, under the lock.

What remains without a lock shared with those programs: a write of theirs that
lands between the last ``lstat`` and the rename (microseconds) is lost, and the
AWS CLI itself undoes an edit of ours that lands between its own read and its
write. The first is as small as a ``stat`` plus a ``rename`` can make it.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import functools
import itertools
import logging
import os
import re
import shlex
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._files import SETTLE
from .._files import file_identity as _identity
from .._platform import NONBLOCK, keep_mode, open_no_follow, replace, sync_file
from ..exceptions import SSOProviderError

__all__ = [
    "BACKUP_SUFFIX",
    "ConfigChange",
    "ConfigConflictError",
    "ConfigEdit",
    "ConfigWriteError",
    "SectionSpec",
    "backup_path",
    "block_markers",
    "config_file_path",
    "edit_config",
    "valid_section_name",
]

logger = logging.getLogger(__name__)

DEFAULT_LOCK_TIMEOUT = 60.0

BACKUP_SUFFIX = ".boto-sso-oidc.bak"
"""Beside the config (``~/.aws/config.boto-sso-oidc.bak``): the version the last write replaced."""


RETRY_FOR = 30.0
"""Seconds an edit is redone while other programs keep changing the file, before giving up."""

_POLL = 0.05

# configparser's own patterns (RawConfigParser.SECTCRE, OPTCRE): the scan below must see
# sections and options exactly where botocore's parser does.
_SECTCRE = re.compile(r"\[(?P<header>.+)\]")
_OPTCRE = re.compile(r"(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$")
# Lines as Python's universal newlines (which configparser reads with) split them.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_KEY = re.compile(r"^[a-z0-9_]+$")
_NAME = re.compile(r"^[A-Za-z0-9_.@+=,:/-]+$")

_BEGIN = "# BEGIN boto-sso-oidc generate"
_END = "# END boto-sso-oidc generate"


class ConfigWriteError(SSOProviderError):
    """The AWS config cannot be written safely; the file was left unchanged.

    The message names the file and says what to do.
    """

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class ConfigConflictError(SSOProviderError):
    """A section to write already exists with other values; nothing was written."""

    def __init__(self, message: str, *, path: str, section: str,
                 differences: Mapping[str, tuple[str, str]]) -> None:
        super().__init__(message)
        self.path = path
        self.section = section
        self.differences = dict(differences)
        """key -> (value in the file, value asked for)."""


@dataclass(frozen=True)
class SectionSpec:
    """A section to write: ``kind`` is ``profile`` or ``sso-session``; ``values`` in order."""

    kind: str
    name: str
    values: tuple[tuple[str, str], ...]

    @property
    def header(self) -> str:
        return "default" if (self.kind, self.name) == ("profile", "default") else f"{self.kind} {self.name}"

    def render(self, newline: str = "\n") -> str:
        lines = [f"[{self.header}]"] + [f"{key} = {value}" for key, value in self.values]
        return newline.join(lines) + newline


def valid_section_name(name: str) -> bool:
    """Whether ``name`` can be a profile or sso-session name written unquoted in a section header."""
    return bool(_NAME.match(name))


def block_markers(block: str) -> tuple[str, str]:
    """The BEGIN and END comment lines of managed block ``block`` (an sso-session name)."""
    return f"{_BEGIN} --sso-session {block}", f"{_END} --sso-session {block}"


def config_file_path() -> Path:
    """The AWS config file botocore reads: ``AWS_CONFIG_FILE``, else ``~/.aws/config``."""
    import botocore.session

    configured = botocore.session.Session().get_config_variable("config_file")
    return Path(os.path.expanduser(os.path.expandvars(str(configured))))


# -- the scan: where botocore's parser sees sections and options -----------------------------


@dataclass
class _Option:
    name: str
    start: int
    end: int  # exclusive, after continuation lines


@dataclass
class _Section:
    header: str
    start: int  # the header line
    end: int = 0  # exclusive: the next header (or the end of the file)
    body_end: int = 0  # exclusive: after the last option line (or the header)
    options: list[_Option] = field(default_factory=list)

    @property
    def logical(self) -> tuple[str, str] | None:
        return _logical(self.header)


@functools.lru_cache(maxsize=65536)  # an edit asks for every header's several times
def _logical(header: str) -> tuple[str, str] | None:
    """(kind, name) as botocore's ``build_profile_map`` reads a header, or None."""
    if header == "default":
        return ("profile", "default")
    for kind in ("profile", "sso-session"):
        if header.startswith(kind):
            # ASCII without quotes, backslashes or the separators str.split adds: same split.
            if not header.isascii() or any(char in header for char in "\"'\\\x0b\x0c\x1c\x1d\x1e\x1f"):
                try:
                    parts = shlex.split(header)
                except ValueError:
                    return None
            else:  # shlex.split's answer, 100x cheaper
                parts = header.split()
            return (kind, parts[1]) if len(parts) == 2 else None
    return None


def _scan(lines: Sequence[str]) -> list[_Section]:
    """The sections of the file as RawConfigParser reads it (same rules, same patterns).

    One pass, a few string operations a line: the patterns configparser uses are applied only
    where they can decide something (a header's ``[``), and an option's name is the text
    before its first ``=`` or ``:``, which is what ``OPTCRE``'s lazy match takes.
    """
    sections: list[_Section] = []
    current: _Section | None = None
    option: _Option | None = None
    indent_level = 0
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue  # blank lines and comments never change configparser's state
        indent = len(line) - len(line.lstrip())  # NONSPACECRE's first match, on a line with one
        if option is not None and indent > indent_level:
            option.end = index + 1  # a continuation line of the option's value
            assert current is not None
            current.body_end = index + 1
            continue
        indent_level = indent
        header = _SECTCRE.match(stripped) if stripped[0] == "[" else None
        if header:
            if current is not None:
                current.end = index
            current = _Section(header.group("header"), index, body_end=index + 1)
            sections.append(current)
            option = None
        elif current is not None:
            equals, colon = stripped.find("="), stripped.find(":")
            cut = colon if equals < 0 or 0 <= colon < equals else equals  # the first of the two
            name = (stripped[:cut] if cut >= 0 else stripped).rstrip().lower()
            option = _Option(name, index, index + 1)
            current.options.append(option)
            current.body_end = index + 1
    if current is not None:
        current.end = len(lines)
    return sections


# -- the edit ---------------------------------------------------------------------------------


class ConfigEdit:
    """The config's text being edited; each method raises before changing anything."""

    def __init__(self, text: str, path: Path) -> None:
        self.path = path
        self._lines: list[str] = _LINE.findall(text)
        self.newline = "\r\n" if self._lines and self._lines[0].endswith("\r\n") else "\n"
        self.touched: set[str] = set()
        """Raw headers of sections this edit created, changed or removed."""
        self.expected: dict[str, dict[str, str] | None] = {}
        """Raw header -> the values botocore must read there afterwards (None: gone)."""
        self.updated: dict[str, dict[str, str]] = {}
        """Raw header of an existing section -> the keys set in it (the others must stay)."""
        # The scan and the managed blocks of the text as it is, made once per version of the
        # text (every query of an edit reads them; a change of the text forgets them).
        self._scanned: list[_Section] | None = None
        self._spans: dict[str, tuple[int, int]] | None = None

    def _changed(self) -> None:
        """The text changed: the scan and the blocks are made again when next asked for."""
        self._scanned = None
        self._spans = None

    @property
    def text(self) -> str:
        return "".join(self._lines)

    # -- queries -------------------------------------------------------------------------

    def _sections(self) -> list[_Section]:
        if self._scanned is None:
            self._scanned = _scan(self._lines)
        return self._scanned

    def _find(self, kind: str, name: str) -> list[_Section]:
        return [section for section in self._sections() if section.logical == (kind, name)]

    def names(self, kind: str, *, outside_block: str | None = None) -> set[str]:
        """The names of every ``kind`` section (optionally: outside managed block ``block``)."""
        span = self._block_span(outside_block) if outside_block is not None else None
        found = set()
        for section in self._sections():
            logical = section.logical
            if logical is None or logical[0] != kind:
                continue
            if span is not None and span[0] <= section.start < span[1]:
                continue
            found.add(logical[1])
        return found

    def section_values(self, kind: str, name: str) -> dict[str, str] | None:
        """The section's own ``key = value`` lines as botocore reads them (None: no such section)."""
        sections = self._find(kind, name)
        if not sections:
            return None
        section = sections[-1]
        return {option.name: self._value(option) for option in section.options}

    def _value(self, option: _Option) -> str:
        matched = _OPTCRE.match(self._lines[option.start].strip())
        first = matched.group("value").strip() if matched else ""
        rest = [line.strip() for line in self._lines[option.start + 1:option.end] if line.strip()]
        return "\n".join([first, *rest]) if rest else first

    def _where(self, section: _Section) -> str:
        return f"{self.path} line {section.start + 1}"

    def _error(self, message: str) -> ConfigWriteError:
        return ConfigWriteError(message, path=str(self.path))

    # -- set_section ---------------------------------------------------------------------

    def set_section(self, kind: str, name: str, values: Mapping[str, str], *,
                    overwrite: bool = False) -> None:
        """Make ``[kind name]`` hold ``values`` (other keys of an existing section stay).

        An existing key with another value raises :class:`ConfigConflictError`
        unless ``overwrite``. Raises :class:`ConfigWriteError` for a name or
        value that cannot be written, a section defined twice, or one inside a
        managed block.
        """
        _check_values(values, self.path)
        if not valid_section_name(name):
            raise self._error(f"Cannot write [{kind} {name}] to {self.path}: a name may hold only "
                              "letters, digits and _.@+=,:/- ; choose another name.")
        found = self._find(kind, name)
        label = f"[{SectionSpec(kind, name, ()).header}]"
        if len(found) > 1:
            lines = " and ".join(str(section.start + 1) for section in found)
            raise self._error(f"{self.path} defines {label} more than once (lines {lines}): "
                              "merge them into one section, then run again.")
        if not found:
            spec = SectionSpec(kind, name, tuple(values.items()))
            self._append(spec.render(self.newline))
            self.touched.add(spec.header)
            self.expected[spec.header] = dict(values)
            return
        section = found[0]
        for block, span in self._block_spans().items():
            if span[0] <= section.start < span[1]:
                raise self._error(
                    f"{label} in {self.path} is generated by `boto-sso-oidc generate --sso-session "
                    f"{block}` (inside its managed block): choose another name.")
        current = {option.name: self._value(option) for option in section.options}
        differences = {key: (current[key], value) for key, value in values.items()
                       if key in current and current[key] != value}
        if differences and not overwrite:
            listed = ", ".join(f"{key} = {old} (would be {new})"
                               for key, (old, new) in differences.items())
            raise ConfigConflictError(
                f"{label} already exists in {self.path} with {listed}: nothing was written; "
                "choose another name, or confirm overwriting those keys.",
                path=str(self.path), section=label, differences=differences)
        by_name = {option.name: option for option in section.options}
        replacements: list[tuple[int, int, list[str]]] = []
        added: list[str] = []
        # Indentation decides what configparser reads as a continuation line: a changed
        # line keeps its own; an added one takes that of the line after it (at most the
        # previous option's, or that line would already be a continuation).
        added_indent = self._indent_of_next(section.body_end)
        for key, value in values.items():
            if key in by_name:
                if current[key] != value:
                    option = by_name[key]
                    original = self._lines[option.start]
                    indent = original[:len(original) - len(original.lstrip())]
                    replacements.append((option.start, option.end,
                                         [f"{indent}{key} = {value}{self.newline}"]))
            else:
                added.append(f"{added_indent}{key} = {value}{self.newline}")
        if added:
            at = section.body_end
            if not self._lines[at - 1].endswith(("\n", "\r")):
                self._lines[at - 1] += self.newline
            replacements.append((at, at, added))
        for start, end, new in sorted(replacements, reverse=True):
            self._lines[start:end] = new
        self._changed()
        self.touched.add(section.header)
        created = self.expected.get(section.header)
        if created is not None:  # made by this very edit: it must now hold these values too
            self.expected[section.header] = {**created, **values}
        else:
            self.updated[section.header] = {**self.updated.get(section.header, {}), **values}

    def _indent_of_next(self, index: int) -> str:
        """The indentation of the first line from ``index`` on that is not blank or a comment."""
        for line in self._lines[index:]:
            stripped = line.strip()
            if stripped and not stripped.startswith(("#", ";")):
                return line[:len(line) - len(line.lstrip())]
        return ""

    def _append(self, text: str) -> None:
        """Add ``text`` at the end, after one blank line."""
        if self._lines and not self._lines[-1].endswith(("\n", "\r")):
            self._lines[-1] += self.newline
        if self._lines and self._lines[-1].strip():
            self._lines.append(self.newline)
        self._lines.extend(str(line) for line in _LINE.findall(text))
        self._changed()

    # -- managed blocks ------------------------------------------------------------------

    def _block_spans(self) -> dict[str, tuple[int, int]]:
        """Every managed block: name -> (BEGIN line, END line + 1). Raises on a broken one."""
        if self._spans is None:
            self._spans = self._find_block_spans()
        return self._spans

    def _find_block_spans(self) -> dict[str, tuple[int, int]]:
        spans: dict[str, tuple[int, int]] = {}
        open_block: tuple[str, int] | None = None
        for index, line in enumerate(self._lines):
            if "boto-sso-oidc generate" not in line:
                continue  # not a marker line: most lines, skipped at the cost of one search
            stripped = line.strip()
            for marker, opening in ((_BEGIN, True), (_END, False)):
                if not stripped.startswith(marker + " --sso-session "):
                    continue
                block = stripped[len(marker + " --sso-session "):].strip()
                if opening:
                    if open_block is not None:
                        raise self._error(f"{self.path} line {index + 1}: a managed block begins "
                                          f"inside the block of line {open_block[1] + 1}: remove one "
                                          "of the two BEGIN lines, then run again.")
                    if block in spans:
                        raise self._error(f"{self.path} has two managed blocks for sso-session "
                                          f"{block} (lines {spans[block][0] + 1} and {index + 1}): "
                                          "remove one, then run again.")
                    open_block = (block, index)
                else:
                    if open_block is None or open_block[0] != block:
                        raise self._error(f"{self.path} line {index + 1}: an END line without its "
                                          "BEGIN line: remove it, then run again.")
                    spans[block] = (open_block[1], index + 1)
                    open_block = None
        if open_block is not None:
            raise self._error(f"{self.path} line {open_block[1] + 1}: the managed block of sso-session "
                              f"{open_block[0]} has no END line: remove the block (or add "
                              f"'{block_markers(open_block[0])[1]}' after it), then run again.")
        return spans

    def _block_span(self, block: str) -> tuple[int, int] | None:
        return self._block_spans().get(block)

    def block_sections(self, block: str) -> list[tuple[str, str]]:
        """The (kind, name) of every section inside managed block ``block`` (empty: no block)."""
        span = self._block_span(block)
        if span is None:
            return []
        return [logical for section in self._sections()
                if span[0] <= section.start < span[1] and (logical := section.logical) is not None]

    def replace_block(self, block: str, sections: Iterable[SectionSpec], *, preamble: str = "") -> None:
        """Make managed block ``block`` hold exactly ``sections`` (created at the end if absent).

        An emptied block keeps its BEGIN and END lines, so the text around it stays as it was.

        ``preamble`` is comment text written after the BEGIN line. Raises
        :class:`ConfigWriteError` if the block is broken, or if text after it
        would be read as part of its last section.
        """
        specs = list(sections)
        for spec in specs:
            _check_values(dict(spec.values), self.path)
            if not valid_section_name(spec.name):
                raise self._error(f"Cannot write [{spec.header}] to {self.path}: not a valid name.")
        begin, end = block_markers(block)
        span = self._block_span(block)
        # Headers at column 0, options as indented as the line after the block: so
        # that line is not read as a continuation of the block's last option.
        indent = self._indent_of_next(span[1]) if span is not None else ""
        body = [begin]
        body.extend(f"# {line}" if line else "#" for line in preamble.splitlines())
        for spec in specs:
            body.append("")
            body.append(f"[{spec.header}]")
            body.extend(f"{indent}{key} = {value}" for key, value in spec.values)
        body.append(end)
        new_lines = [line + self.newline for line in body]
        old_sections = self._sections()
        if span is None:
            if not specs:
                return
            self._append("".join(new_lines))
        else:
            start, stop = span
            following = next((section for section in old_sections if section.start >= stop), None)
            limit = following.start if following else len(self._lines)
            for index in range(stop, limit):
                stripped = self._lines[index].strip()
                if stripped and not stripped.startswith(("#", ";")):
                    raise self._error(
                        f"{self.path} line {index + 1} is outside every section (right after the "
                        f"managed block of sso-session {block}, so botocore reads it as part of the "
                        "block's last profile): move it into a section, then run again.")
            for section in old_sections:
                if start <= section.start < stop:
                    self.touched.add(section.header)
                    self.expected.setdefault(section.header, None)
            if not self._lines[stop - 1].endswith(("\n", "\r")):
                new_lines[-1] = new_lines[-1].rstrip("\r\n")
            self._lines[start:stop] = new_lines
            self._changed()
        for spec in specs:
            self.touched.add(spec.header)
            self.expected[spec.header] = dict(spec.values)


def _check_values(values: Mapping[str, str], path: Path) -> None:
    for key, value in values.items():
        if not _KEY.match(key):
            raise ConfigWriteError(f"Cannot write key {key!r} to {path}: keys are lower-case letters, "
                                   "digits and _.", path=str(path))
        if value != value.strip() or "\n" in value or "\r" in value or not value:
            raise ConfigWriteError(f"Cannot write {key} = {value!r} to {path}: a value must be one "
                                   "non-empty line without surrounding spaces.", path=str(path))


# -- applying an edit safely -------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigChange:
    """What :func:`edit_config` did (or, with ``dry_run``, would do)."""

    path: Path
    before: str
    after: str
    written: bool
    backup: Path | None = None
    """Where the replaced version was kept (None: nothing was written, or there was no file)."""

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        """A unified diff of the change ('' when there is none)."""
        name = str(self.path)
        return "".join(difflib.unified_diff(
            self.before.splitlines(keepends=True), self.after.splitlines(keepends=True),
            fromfile=name, tofile=f"{name} (new)"))


def _parse(path: Path) -> dict[str, Any]:
    """botocore's own parse of ``path`` (raw: section header -> values)."""
    import botocore.configloader

    parsed: dict[str, Any] = botocore.configloader.raw_config_parse(str(path))
    return parsed


# -- looks: what one read of the config saw ---------------------------------------------------


class _Changed(Exception):
    """The config changed under a read or between the read and the rename: look again."""


@dataclass(frozen=True)
class _Look:
    """The config as one read saw it: its bytes, their text, and the file's identity."""

    data: bytes
    text: str
    identity: tuple[int, int, int, int] | None
    """(device, inode, size, mtime_ns) of the file read; None: there was no file."""
    mtime: float = 0.0
    mode: int = 0o600




def _look(path: Path) -> _Look:
    """One read of the config, stable from its first byte to its last (else :class:`_Changed`).

    Raises :class:`ConfigWriteError` when it is not a file that may be written over.
    """
    try:
        info = path.lstat()
    except FileNotFoundError:
        return _Look(b"", "", None)
    if stat.S_ISLNK(info.st_mode):
        target = os.path.realpath(path)
        raise ConfigWriteError(
            f"{path} is a symbolic link (to {target}); boto-sso-oidc never writes through one. "
            f"Run again with AWS_CONFIG_FILE={target} to edit the file it points to.", path=str(path))
    if not stat.S_ISREG(info.st_mode):
        raise ConfigWriteError(f"{path} is not a regular file: point AWS_CONFIG_FILE at the AWS config "
                               "file.", path=str(path))
    try:
        fd = open_no_follow(path, os.O_RDONLY | NONBLOCK)
    except (FileNotFoundError, IsADirectoryError) as error:  # replaced since the lstat
        raise _Changed(f"replaced while being opened ({error.strerror})") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _Changed("replaced by a symbolic link while being opened") from None
        raise ConfigWriteError(f"{path} cannot be read ({error.strerror}): check its permissions.",
                               path=str(path)) from None
    try:
        before = os.fstat(fd)
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        after = os.fstat(fd)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if not stat.S_ISREG(after.st_mode):
        raise _Changed("replaced by something that is not a regular file")
    if _identity(before) != _identity(after) or len(data) != after.st_size:
        raise _Changed("written to while being read")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigWriteError(f"{path} cannot be parsed ({error}), so it was not changed: fix its "
                               "syntax, then run again.", path=str(path)) from None
    return _Look(data, text, _identity(after), after.st_mtime_ns / 1e9, stat.S_IMODE(after.st_mode))


def _settled_look(path: Path, previous: _Look | None, deadline: float) -> _Look:
    """A look that is not another writer's truncated file.

    The AWS CLI rewrites the config in place (truncate, then write): between the two the file
    is empty, or shorter than it was. A look that is empty, or smaller than ``previous`` (this
    edit's last look), is used only once the file has stayed so for :data:`SETTLE` seconds; a
    first look that stays empty is an empty file; one that stays smaller than ``previous`` is
    refused (:class:`ConfigWriteError`): it is never written over.
    """
    waiting_since: tuple[tuple[int, int, int, int] | None, float] | None = None
    while True:
        try:
            look = _look(path)
        except _Changed as changed:
            _pause(path, deadline, str(changed))
            continue
        shrank = previous is not None and len(look.data) < len(previous.data)
        if look.identity is None or (look.data and not shrank):
            return look
        now = time.monotonic()
        if waiting_since is None or waiting_since[0] != look.identity:
            waiting_since = (look.identity, now)
        if time.time() - look.mtime >= SETTLE or now - waiting_since[1] >= SETTLE:
            if not shrank:
                return look
            assert previous is not None
            raise ConfigWriteError(
                f"{path} shrank from {len(previous.data)} to {len(look.data)} bytes while it was "
                "being edited, and stayed so (another program changed it): nothing was written. "
                "Check it, then run again.", path=str(path))
        _pause(path, deadline, "empty" if not look.data else "smaller than a moment ago")


def _pause(path: Path, deadline: float, why: str) -> None:
    """Wait a moment before the next look; :class:`ConfigWriteError` once ``deadline`` is past."""
    _check_deadline(path, deadline, why)
    logger.debug("%s: %s; looking again", path, why)
    time.sleep(_POLL)


def _check_deadline(path: Path, deadline: float, why: str) -> None:
    if time.monotonic() >= deadline:
        raise ConfigWriteError(
            f"{path} kept changing while boto-sso-oidc was editing it for {RETRY_FOR:g} s (another "
            f"program is writing it; last: {why}): nothing was written. Run again once it is done.",
            path=str(path))


def _copy(path: Path, look: _Look) -> tuple[Path | None, dict[str, Any]]:
    """A private copy of the bytes ``look`` read (in the config's directory: the backup to be)
    and botocore's parse of exactly those bytes; (None, {}) for an absent file."""
    if look.identity is None:
        return None, {}
    import botocore.exceptions

    # Synced only if it becomes the backup, after the rename: not in the read-to-rename window.
    copy = _write_temporary(path, look.data, look.mode, sync=False)
    try:
        return copy, _parse(copy)
    except botocore.exceptions.ConfigParseError as error:
        os.unlink(copy)
        reason = str(getattr(error, "kwargs", {}).get("error", error)).replace(str(copy), str(path))
        raise ConfigWriteError(
            f"{path} cannot be parsed ({' '.join(reason.split())}), so it was not changed: "
            "fix its syntax, then run again.", path=str(path)) from None
    except BaseException:
        os.unlink(copy)
        raise


def _temporary_pattern(path: Path) -> re.Pattern[str]:
    """The names of this writer's temporary files for ``path`` (``tempfile.mkstemp``'s 8 characters)."""
    return re.compile(rf"\.{re.escape(path.name)}-[a-z0-9_]{{8}}\.tmp")


def _write_temporary(path: Path, data: bytes, mode: int, *, sync: bool = True) -> Path:
    """``data`` in a new temporary file beside ``path``, with ``mode`` (fsynced with ``sync``)."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            keep_mode(handle.fileno(), mode)
            if sync:
                os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return Path(name)


def _remove_stale_temporaries(path: Path, before: float) -> None:
    """Remove the temporary files an earlier writer of ``path`` left when it was killed.

    Called under the config's lock, so no live writer of this package is writing one; only
    names of :func:`_temporary_pattern` (never another file's) and only files older than
    ``before`` (when the lock was taken) are removed.
    """
    pattern = _temporary_pattern(path)
    with contextlib.suppress(OSError), os.scandir(path.parent) as entries:
        for entry in entries:
            if not pattern.fullmatch(entry.name):
                continue
            with contextlib.suppress(OSError):
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) and info.st_mtime < before:
                    os.unlink(entry.path)
                    logger.debug("Removed %s, left by an interrupted write of %s", entry.path, path)


def backup_path(path: Path) -> Path:
    """Where :func:`edit_config` keeps the version of ``path`` its last write replaced."""
    return path.with_name(path.name + BACKUP_SUFFIX)


# -- applying an edit safely -------------------------------------------------------------------


def _verify(old: Mapping[str, Any], candidate: Path, edit: ConfigEdit) -> None:
    """botocore must read ``candidate`` as it read the old file (``old``) outside the edit,
    and the edited sections as asked; raises :class:`ConfigWriteError` otherwise."""
    import botocore.exceptions

    try:
        after = _parse(candidate)
    except botocore.exceptions.ConfigParseError as error:
        raise edit._error(f"The edit of {edit.path} would not parse ({error}); it was not written. "
                          "This is a bug: please report it.") from None
    untouched_old = {header: values for header, values in old.items() if header not in edit.touched}
    untouched_new = {header: values for header, values in after.items() if header not in edit.touched}
    wrong = [header for header, values in edit.expected.items() if after.get(header) != values]
    wrong += [header for header, values in edit.updated.items()
              if after.get(header) != {**old.get(header, {}), **values}]
    if untouched_old != untouched_new or wrong:
        changed = _differing(untouched_old, untouched_new) + [f"[{header}]" for header in wrong]
        raise edit._error(f"The edit of {edit.path} would also change {', '.join(changed)}; "
                          "it was not written. This is a bug: please report it.")


def _differing(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return [f"[{header}]" for header in sorted(set(old) | set(new)) if old.get(header) != new.get(header)]


def edit_config(change: Callable[[ConfigEdit], None], *, path: Path | None = None,
                dry_run: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> ConfigChange:
    """Apply ``change`` to the AWS config, safely (see the module docstring).

    ``change`` gets a :class:`ConfigEdit` of the file as it is now (read under
    the lock) and edits it; it is called again, on a fresh read, when another
    program changed the file before the edit could be renamed over it. Its
    exceptions propagate with nothing written. With ``dry_run`` nothing is
    written. Raises :class:`ConfigWriteError` (naming the file and what to
    do), :class:`ConfigConflictError` and
    :class:`~..exceptions.CacheLockTimeoutError`.
    """
    from ..caches._entry import CacheEntry

    path = config_file_path() if path is None else Path(path)
    lock = CacheEntry(path, describe="AWS config file", lock_timeout=lock_timeout)
    with lock.locked():
        if not dry_run:
            _remove_stale_temporaries(path, time.time())
        deadline = time.monotonic() + RETRY_FOR
        previous: _Look | None = None
        unparsable: tuple[int, int, int, int] | None = None
        for attempt in itertools.count(1):
            look = _settled_look(path, previous, deadline)
            try:
                edit = ConfigEdit(look.text, path)
                change(edit)
                after = edit.text
                if after == look.text:  # nothing to write: botocore need not even parse it
                    return ConfigChange(path, look.text, after, written=False)
                copy, parsed = _copy(path, look)
            except ConfigWriteError:  # the edit or botocore's parse refused the file as it is
                if look.identity == unparsable or time.time() - look.mtime >= SETTLE:
                    raise
                # Changed a moment ago: perhaps another writer's half-written file; one more look.
                unparsable = look.identity
                _pause(path, deadline, "unusable a moment after a change")
                continue
            try:
                if dry_run:
                    return ConfigChange(path, look.text, after, written=False)
                try:
                    _commit(path, look, after, parsed, edit, copy)
                except _Changed as changed:
                    _check_deadline(path, deadline, str(changed))
                    logger.debug("%s changed while it was being edited (%s): redoing the edit "
                                 "(attempt %d)", path, changed, attempt + 1)
                    previous = look
                    continue
                return ConfigChange(path, look.text, after, written=True,
                                    backup=backup_path(path) if copy is not None else None)
            finally:
                if copy is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(copy)
    raise AssertionError("unreachable")  # pragma: no cover


def _commit(path: Path, look: _Look, after: str, parsed: Mapping[str, Any], edit: ConfigEdit,
            copy: Path | None) -> None:
    """Write ``after`` beside ``path``, check botocore's reading of it, check that ``path`` is
    still what ``look`` read, rename it over ``path`` and keep ``copy`` (the replaced bytes) as
    the backup. Raises :class:`_Changed` (nothing written) when another program changed it."""
    temporary = _write_temporary(path, after.encode("utf-8"), look.mode)
    try:
        _verify(parsed, temporary, edit)
        _unchanged_since(path, look)
        replace(temporary, path)  # on Windows, waits for a reader of the config to close it
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    if copy is not None:
        try:
            sync_file(copy)
            replace(copy, backup_path(path))
        except OSError as error:
            logger.warning("%s was written, but its previous version could not be kept as %s (%s)",
                           path, backup_path(path), error.strerror)
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _unchanged_since(path: Path, look: _Look) -> None:
    """Raise :class:`_Changed` unless ``path`` holds exactly what ``look`` read, as the same file.

    The bytes are compared first (a rewrite of the same size within one tick of the file
    system's clock keeps the identity), then the identity alone, with the smallest gap before
    the rename this process can make: one ``lstat``.
    """
    current = _look(path)
    if current.identity != look.identity or current.data != look.data:
        raise _Changed("changed by another program")
    try:
        info: tuple[int, int, int, int] | None = _identity(os.lstat(path))
    except FileNotFoundError:
        info = None
    if info != look.identity:
        raise _Changed("changed by another program")
