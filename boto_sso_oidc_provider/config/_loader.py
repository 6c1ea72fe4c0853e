"""Step 1 of the flow, without botocore: botocore's config loader, replicated on the bytes read.

botocore finds the shared config and credentials files through ``AWS_CONFIG_FILE`` and
``AWS_SHARED_CREDENTIALS_FILE``, picks the profile with ``AWS_DEFAULT_PROFILE`` before
``AWS_PROFILE``, opens each file in text mode with the locale's encoding and universal
newlines, parses it with :class:`configparser.RawConfigParser` (``botocore.configloader.
raw_config_parse``), maps ``[profile NAME]``, ``[sso-session NAME]`` and ``[default]`` sections
through :func:`shlex.split` (``build_profile_map``), and merges each section of the credentials
file over the profile of the same name (``Session.full_config``).

This module does the same, step for step and with the same libraries, from bytes its caller
read: the warm path parses the config without importing botocore, and a memo of what it found
can be keyed by those very bytes (:mod:`._resolved`). ``tests/config/`` checks it against
botocore's own loader on generated files, whose grammar covers what the functions here decide:
line ends, encodings, headers, continuations, comments, ``[DEFAULT]``, quoting and duplicates.

Standard library only; :mod:`configparser` and :mod:`shlex` are imported only to parse.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping
    from typing import Any

__all__ = ["ConfigParseError", "config_file", "credentials_file", "default_profile", "file_encoding",
           "decode", "raw_config_parse", "build_profile_map", "full_config", "section_names"]


class ConfigParseError(ValueError):
    """A file botocore could not parse either (``botocore.exceptions.ConfigParseError``)."""


def _path(environ: Mapping[str, str], variable: str, default: str) -> str:
    # botocore's EnvironmentProvider takes a variable that is set, even to "": AWS_CONFIG_FILE=""
    # names no file, and botocore then reads no config at all.
    path = environ[variable] if variable in environ else default
    return os.path.expanduser(os.path.expandvars(path))


def config_file(environ: Mapping[str, str] | None = None) -> str:
    """The AWS config file botocore reads: ``AWS_CONFIG_FILE`` if set (even empty), else
    ``~/.aws/config``."""
    return _path(os.environ if environ is None else environ, "AWS_CONFIG_FILE",
                 os.path.join("~", ".aws", "config"))


def credentials_file(environ: Mapping[str, str] | None = None) -> str:
    """The shared credentials file: ``AWS_SHARED_CREDENTIALS_FILE`` if set, else
    ``~/.aws/credentials``."""
    return _path(os.environ if environ is None else environ, "AWS_SHARED_CREDENTIALS_FILE",
                 os.path.join("~", ".aws", "credentials"))


def default_profile(environ: Mapping[str, str] | None = None) -> str:
    """The profile botocore uses when none is named: ``AWS_DEFAULT_PROFILE`` if set, else
    ``AWS_PROFILE`` if set, else ``default`` (botocore's ``profile`` config variable; a variable
    set to "" names the profile "", which then does not exist)."""
    environ = os.environ if environ is None else environ
    for variable in ("AWS_DEFAULT_PROFILE", "AWS_PROFILE"):
        if variable in environ:
            return environ[variable]
    return "default"


def file_encoding() -> str:
    """The encoding ``open()`` gives a text file here, as botocore opens the config: the locale's
    (UTF-8 in UTF-8 mode; often cp1252 on Windows)."""
    import locale

    return locale.getpreferredencoding(False)


def decode(data: bytes, encoding: str | None = None) -> str:
    """``data`` as botocore's text-mode ``open()`` reads it: decoded strictly with the file
    encoding, then universal newlines (``\\r\\n`` and a lone ``\\r`` become ``\\n``). Raises
    :class:`ConfigParseError` where botocore's read raises :class:`UnicodeDecodeError`."""
    if not data.isascii():  # ASCII reads the same in every encoding a locale can have
        try:
            text = data.decode(encoding or file_encoding())
        except (UnicodeDecodeError, LookupError) as error:
            raise ConfigParseError(str(error)) from None
    else:
        text = data.decode("ascii")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def raw_config_parse(text: str, parse_subsections: bool = True) -> dict[str, dict[str, Any]]:
    """``botocore.configloader.raw_config_parse`` of a file whose text is ``text``: every section
    (``[DEFAULT]`` keys in each), values with their continuation lines, and indented blocks
    after an empty value parsed as one level of ``key = value`` pairs. Raises
    :class:`ConfigParseError`."""
    import configparser

    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text)
    except configparser.Error as error:
        raise ConfigParseError(str(error)) from None
    config: dict[str, dict[str, Any]] = {}
    for section in parser.sections():
        config[section] = {}
        for option in parser.options(section):
            value: Any = parser.get(section, option)
            if parse_subsections and value.startswith("\n"):
                value = _parse_nested(value)
            config[section][option] = value
    return config


def _parse_nested(value: str) -> dict[str, str]:
    """``botocore.configloader._parse_nested``: the lines of an indented block as pairs."""
    parsed = {}
    for line in value.splitlines():
        line = line.strip()
        if not line:
            continue
        key, sign, rest = line.partition("=")
        if not sign:
            raise ConfigParseError(f"not enough values to unpack in the nested block line {line!r}")
        parsed[key.strip()] = rest.strip()
    return parsed


_SHLEX_SPECIAL = frozenset("'\"\\")
_SHLEX_SPACE = " \t\r\n"


def _section_name(key: str) -> str | None:
    """``botocore.configloader._parse_section``: the second of exactly two shlex words."""
    if _SHLEX_SPECIAL.isdisjoint(key):
        # Without quotes or backslashes, shlex.split (POSIX mode, whitespace_split) splits at
        # runs of its four whitespace characters and nothing else: the same words, ~50x faster.
        parts = [part for part in key.translate(_SPLIT).split(" ") if part]
    else:
        import shlex

        try:
            parts = shlex.split(key)
        except ValueError:
            return None
    return parts[1] if len(parts) == 2 else None


_SPLIT = str.maketrans({char: " " for char in _SHLEX_SPACE})


def build_profile_map(parsed: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``botocore.configloader.build_profile_map``: sections whose name starts with ``profile``,
    ``sso-session`` or ``services`` filed under their second shlex word (a later section of the
    same name replaces an earlier one), ``[default]`` a profile too, the rest as they are."""
    profiles: dict[str, Any] = {}
    sso_sessions: dict[str, Any] = {}
    services: dict[str, Any] = {}
    final: dict[str, Any] = {}
    for key, values in parsed.items():
        values = dict(values)
        if key.startswith(("profile", "sso-session", "services")):
            name = _section_name(key)
            if name is not None:
                target = (profiles if key.startswith("profile")
                          else sso_sessions if key.startswith("sso-session") else services)
                target[name] = values
        elif key == "default":
            profiles[key] = values
        else:
            final[key] = values
    final["profiles"] = profiles
    final["sso_sessions"] = sso_sessions
    final["services"] = services
    return final


def section_names(kind: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """The profiles' (``kind`` "profile") or sso-sessions' names, as botocore maps them, sorted;
    none when the files cannot be read or parsed (shell completion)."""
    from .._files import read_small_file

    try:
        config = read_small_file(config_file(environ), 16 << 20)
    except OSError:
        return []
    try:
        credentials: bytes | None = read_small_file(credentials_file(environ), 16 << 20)
    except OSError:
        credentials = None
    try:
        loaded = full_config(config, credentials)
    except ConfigParseError:
        return []
    return sorted(loaded["profiles"] if kind == "profile" else loaded.get("sso_sessions", {}))


def full_config(config: bytes | None, credentials: bytes | None, *,
                encoding: str | None = None) -> dict[str, Any]:
    """``botocore.session.Session.full_config`` of a config file holding ``config`` and a
    credentials file holding ``credentials`` (None: the file is not there): the config's
    profile map, with each credentials section's keys merged over the profile of that name
    (its ``[profile x]`` is a profile named "profile x" there). Raises :class:`ConfigParseError`."""
    loaded: dict[str, Any] = ({"profiles": {}} if config is None
                              else build_profile_map(raw_config_parse(decode(config, encoding))))
    if credentials is not None:
        for profile, values in raw_config_parse(decode(credentials, encoding)).items():
            if profile not in loaded["profiles"]:
                loaded["profiles"][profile] = values
            else:
                loaded["profiles"][profile].update(values)
    return loaded
