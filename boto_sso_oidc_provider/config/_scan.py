"""Step 1 of the flow, fast: the few sections of the AWS config one profile needs, or "not sure".

The warm path (``credential-process``, ``export``, ``console``; see
:mod:`~boto_sso_oidc_provider.credentials._warm`) must answer in a few milliseconds, without
botocore. This module reads what it needs of the AWS config (and the shared credentials
file) with :mod:`configparser`, as botocore's loader does, and says what botocore would make
of one profile: a plain SSO role (:class:`WarmProfile`) or a role chain ending at one
(:class:`WarmChain`). Whenever it cannot be sure it reads the profile as botocore does, it
answers None, and the caller takes the full path (:class:`~.reader.AWSConfig`, botocore's own
parse), which has the error messages. ``tests/config/`` proves the two agree.

Standard library only and cheap to import: it runs at every ``credential-process`` start.
"""

from __future__ import annotations

import os

from ..caches._layout import CHAINED_ROLE_SECONDS

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # pragma: no cover
    import configparser
    from collections.abc import Mapping

__all__ = ["WarmProfile", "WarmChain", "config_file", "credentials_file", "default_profile",
           "section_names", "profile_values", "read_profile", "resolve"]

_MAX_CONFIG_BYTES = 16 << 20


class WarmProfile:
    """The parts of an SSO profile that name its role-credential cache entry."""

    __slots__ = ("profile", "account_id", "role_name", "sso_session", "start_url", "settings")

    def __init__(self, profile: str, account_id: str, role_name: str, *,
                 sso_session: str | None, start_url: str | None,
                 settings: Mapping[str, str] | None = None) -> None:
        self.profile = profile
        self.account_id = account_id
        self.role_name = role_name
        self.sso_session = sso_session
        self.start_url = start_url
        # the profile's keys over its sso-session's: where this package's settings are read
        self.settings: Mapping[str, str] = settings or {}

    def __repr__(self) -> str:
        return (f"WarmProfile(profile={self.profile!r}, account_id={self.account_id!r}, "
                f"role_name={self.role_name!r}, sso_session={self.sso_session!r}, "
                f"start_url={self.start_url!r})")


class WarmChain:
    """A role chain (``role_arn`` + ``source_profile`` hops) ending at a plain SSO role profile:
    the first hop's AssumeRole arguments (they name its cache entry) and the SSO role below."""

    __slots__ = ("profile", "role_arn", "role_session_name", "external_id", "duration_seconds", "source")

    def __init__(self, profile: str, role_arn: str, *, role_session_name: str | None,
                 external_id: str | None, duration_seconds: int | None, source: WarmProfile) -> None:
        self.profile = profile
        self.role_arn = role_arn
        self.role_session_name = role_session_name
        self.external_id = external_id
        self.duration_seconds = duration_seconds
        self.source = source

    def __repr__(self) -> str:
        return (f"WarmChain(profile={self.profile!r}, role_arn={self.role_arn!r}, "
                f"role_session_name={self.role_session_name!r}, external_id={self.external_id!r}, "
                f"duration_seconds={self.duration_seconds!r}, source={self.source!r})")


def config_file(environ: Mapping[str, str] | None = None) -> str:
    """The AWS config file botocore would read: ``AWS_CONFIG_FILE`` or ``~/.aws/config``."""
    environ = os.environ if environ is None else environ
    path = environ.get("AWS_CONFIG_FILE") or os.path.join("~", ".aws", "config")
    return os.path.expanduser(os.path.expandvars(path))


def credentials_file(environ: Mapping[str, str] | None = None) -> str:
    """The shared credentials file: ``AWS_SHARED_CREDENTIALS_FILE`` or ``~/.aws/credentials``."""
    environ = os.environ if environ is None else environ
    path = environ.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.join("~", ".aws", "credentials")
    return os.path.expanduser(os.path.expandvars(path))


def default_profile(environ: Mapping[str, str] | None = None) -> str:
    """The profile botocore uses when none is named: ``AWS_PROFILE``, ``AWS_DEFAULT_PROFILE``, ``default``."""
    environ = os.environ if environ is None else environ
    return environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE") or "default"


def _section_name(section: str, prefix: str) -> str | None:
    """``NAME`` of a ``[prefix NAME]`` section, split as botocore does (``shlex``)."""
    if not section.startswith(prefix):
        return None
    if any(char in section for char in "\"'\\"):
        import shlex  # only quoted names need shlex's rules

        try:
            parts = shlex.split(section)
        except ValueError:
            return None
    else:
        parts = section.split()
    # botocore files "[profilex y]" under "y" too: it tests startswith, not the word.
    return parts[1] if len(parts) == 2 else None


def _parse(path: str) -> configparser.RawConfigParser | None:
    import configparser

    from .._files import read_small_file

    parser = configparser.RawConfigParser()
    try:
        # Bounded and non-blocking: a FIFO or /dev/zero here sends us to the full path, not into a hang.
        parser.read_string(read_small_file(path, _MAX_CONFIG_BYTES).decode("utf-8"), path)
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    return parser


class _Unusual(Exception):
    """The config file is not plain enough for the scan: parse all of it instead."""


def _scan_sections(path: str, profile: str) \
        -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]] | None:
    """Like :func:`_load_sections`, but only the sections ``profile`` needs: its own, those of
    its role chain's ``source_profile`` hops and the sso-sessions they name, found by their
    header lines and each parsed alone by configparser.

    The rest of the file costs a few byte searches, not a parse: the cost hardly grows with
    the number of unrelated profiles. Falls back to :func:`_load_sections` for anything whose
    meaning depends on configparser's rules across sections: a carriage return, an indented
    ``[`` line holding the name (a continuation, or a header configparser would still see;
    one inside the section is caught by its own parse), a ``[DEFAULT]`` section
    (its keys go into every section), two sections botocore maps to the same profile or
    sso-session, a section whose lines do not parse alone. For every file botocore can
    parse, the answer is the full parse's; lines botocore would refuse in sections the
    profile does not use are not looked at (whoever runs the helper, such as the AWS CLI,
    has parsed the file itself and would have stopped at them).
    """
    from .._files import read_small_file

    try:
        data = read_small_file(path, _MAX_CONFIG_BYTES)
    except OSError:
        return None
    try:
        if b"\r" in data or b"[DEFAULT]" in data:
            raise _Unusual()
        profiles: dict[str, dict[str, str]] = {}
        name: str | None = profile
        while name and name not in profiles:  # the profile, then its role chain's sources
            found = _section(data, "profile", name)
            if not found:
                break
            profiles.update(found)
            values = found[name]
            name = values.get("source_profile") if "role_arn" in values else None
        sessions: dict[str, dict[str, str]] = {}
        for values in list(profiles.values()):
            session_name = values.get("sso_session")
            if session_name and session_name not in sessions:
                sessions.update(_section(data, "sso-session", session_name))
        return profiles, sessions
    except (_Unusual, UnicodeError):
        return _load_sections(path)


def _section(data: bytes, kind: str, name: str) -> dict[str, dict[str, str]]:
    """``{name: values}`` of the one ``[kind name]`` section of ``data`` (``[default]`` too for
    the default profile), parsed by configparser on its own lines; empty if there is none."""
    import configparser

    found: list[int] = []
    for start in _lines_with(data, kind, name):
        end = data.find(b"\n", start)
        line = data[start:len(data) if end == -1 else end].decode("utf-8").rstrip()
        header = line[1:line.rfind("]")]
        if header and (_section_name(header, kind) == name
                       or (kind == "profile" and header == "default" == name)):
            found.append(start)
    if not found:
        return {}
    if len(found) > 1:
        raise _Unusual()  # which one wins is botocore's rule, not ours
    start = found[0]
    following = data.find(b"\n[", start)
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(data[start:len(data) if following == -1 else following + 1].decode("utf-8"))
    except configparser.Error:
        raise _Unusual() from None
    if len(parser.sections()) != 1:
        raise _Unusual()
    return {name: dict(parser.items(parser.sections()[0]))}


def _lines_with(data: bytes, kind: str, name: str) -> list[int]:
    """The starts of the lines that begin with ``[`` and may be the header of ``[kind name]``.

    Such a header holds the name (an sso-session's: ``[sso-session``, which is rarer, since
    every profile using the session holds its name too), so only the lines holding that are
    looked at.
    """
    needle = b"[sso-session" if kind == "sso-session" else name.encode("utf-8")
    starts: list[int] = []
    position = data.find(needle)
    while position != -1:
        start = data.rfind(b"\n", 0, position) + 1
        if data.startswith(b"[", start):
            starts.append(start)
        elif data[start:position + 1].lstrip(b" \t").startswith(b"["):
            # Indented: a continuation line, or a header configparser would still see.
            raise _Unusual()
        following_line = data.find(b"\n", position)
        position = -1 if following_line == -1 else data.find(needle, following_line)
    return starts


def _load_sections(path: str) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]] | None:
    """Profiles and sso-sessions of the config file, as botocore maps them; None if unreadable."""
    parser = _parse(path)
    if parser is None:
        return None
    profiles: dict[str, dict[str, str]] = {}
    sessions: dict[str, dict[str, str]] = {}
    for section in parser.sections():
        values = dict(parser.items(section))
        if section.startswith("profile"):
            name = _section_name(section, "profile")
            if name is not None:
                profiles[name] = values
        elif section.startswith("sso-session"):
            name = _section_name(section, "sso-session")
            if name is not None:
                sessions[name] = values
        elif section == "default":
            profiles["default"] = values
    return profiles, sessions


# Keys that make botocore give a profile other credentials than its SSO role's (the assume-role
# and web-identity providers come before the SSO one), or, in the credentials file, a different chain.
_ROLE_KEYS = ("role_arn", "source_profile", "credential_source", "web_identity_token_file")
_NOT_SSO_KEYS = ("role_arn", "web_identity_token_file")


def _credentials_file_has_sso_keys(*profiles: str) -> bool:
    """botocore merges the credentials file's ``[profile]`` over the config's: SSO or role keys
    there would change the answer, so they send us to the full path (absent file: fast ``False``)."""
    path = credentials_file()
    if not os.path.exists(path):
        return False
    parser = _parse(path)
    if parser is None:
        return True
    return any(parser.has_section(profile) and any(key.startswith("sso_") or key in _ROLE_KEYS
                                                   for key in parser.options(profile))
               for profile in profiles)


def section_names(kind: str, path: str | None = None) -> list[str]:
    """The names of the profiles (``kind`` "profile") or sso-sessions ("sso-session") in the
    config file, as botocore maps them, sorted; none if it cannot be read."""
    loaded = _load_sections(config_file() if path is None else path)
    if loaded is None:
        return []
    profiles, sessions = loaded
    return sorted(profiles if kind == "profile" else sessions)


def profile_values(profile: str, path: str | None = None) -> dict[str, str] | None:
    """The keys of ``profile`` in the config file (only its section is parsed); None if the
    file cannot be read or has no such profile."""
    loaded = _scan_sections(config_file() if path is None else path, profile)
    return None if loaded is None else loaded[0].get(profile)


def read_profile(profile: str, path: str | None = None) -> WarmProfile | None:
    """The SSO role settings of ``profile`` from the config file, or None if not plainly there.

    None covers every case the full path should judge: a missing or
    unparseable file, an unknown profile, missing keys, a profile whose SSO
    keys disagree with its sso-session, a value of this package's settings the
    full path refuses, SSO keys in the credentials file, a ``role_arn`` profile
    (see :func:`resolve`).
    """
    loaded = _scan_sections(config_file() if path is None else path, profile)
    if loaded is None or _credentials_file_has_sso_keys(profile):
        return None
    profiles, sessions = loaded
    return _sso_role(profile, profiles, sessions)


def resolve(profile: str, path: str | None = None) -> WarmProfile | WarmChain | None:
    """What botocore would make of ``profile``: a plain SSO role, a role chain ending at one, or
    None when the scan cannot be sure (the full path then judges). The config file is read
    once, and only the sections the profile needs are parsed."""
    loaded = _scan_sections(config_file() if path is None else path, profile)
    if loaded is None:
        return None
    profiles, sessions = loaded
    if "role_arn" in profiles.get(profile, {}):
        return _chain(profile, profiles, sessions)
    role = _sso_role(profile, profiles, sessions)
    return None if role is None or _credentials_file_has_sso_keys(profile) else role


def _sso_role(profile: str, profiles: Mapping[str, Mapping[str, str]],
              sessions: Mapping[str, Mapping[str, str]]) -> WarmProfile | None:
    """``profile`` as a plain SSO role profile of these sections, or None."""
    values = profiles.get(profile)
    if values is None or any(key in values for key in _NOT_SSO_KEYS):
        return None
    account_id, role_name = values.get("sso_account_id"), values.get("sso_role_name")
    if not account_id or not role_name:
        return None
    session_name = values.get("sso_session")
    if session_name:
        session = sessions.get(session_name)
        if session is None or not session.get("sso_start_url") or not session.get("sso_region"):
            return None
        if any(key in values and values[key] != session[key] for key in ("sso_start_url", "sso_region")):
            return None
        if not _settings_usable(values, session):
            return None
        return WarmProfile(profile, account_id, role_name, sso_session=session_name, start_url=None,
                           settings={**session, **values})
    start_url = values.get("sso_start_url")
    if not start_url or not values.get("sso_region") or not _settings_usable(values):
        return None
    return WarmProfile(profile, account_id, role_name, sso_session=None, start_url=start_url,
                       settings=values)


# -- this package's own settings ------------------------------------------------------------------

def _settings_usable(*sections: Mapping[str, str]) -> bool:
    """Whether this package's keys in these sections (the profile's, its sso-session's) and its
    ``BOTO_SSO_OIDC_*`` variables all have values the full path accepts: the same parsing
    (:mod:`._settings`), so a value boto3, ``login`` and ``status`` refuse is refused here too,
    by sending the caller to the full path, whose message names the section it is in (and
    which warns about a key under this package's prefix that is none of its settings)."""
    from ._settings import SettingError, check_environment, check_section, unknown_keys

    try:
        for values in sections:
            if unknown_keys(values):
                return False  # the full path warns about the misspelling
            check_section(values)
        check_environment(os.environ)
    except SettingError:
        return False
    return True


# -- role chains (role_arn + source_profile, ending at an SSO profile) ---------------------------

# Hop keys the full path refuses or botocore treats otherwise: their profiles go there.
_UNPLAIN_HOP_KEYS = ("credential_source", "web_identity_token_file", "mfa_serial",
                     "aws_access_key_id", "aws_secret_access_key", "credential_process")


def _chain(profile: str, profiles: Mapping[str, Mapping[str, str]],
           sessions: Mapping[str, Mapping[str, str]]) -> WarmChain | None:
    """``profile`` as a role chain botocore validates before reading its cache: every hop names a
    defined ``source_profile``, no cycle, no hop the full path refuses (``credential_source``,
    ``mfa_serial``, web identity, static keys), ``duration_seconds`` within role chaining's hour,
    and the last profile a plain SSO role profile; else None."""
    top = profiles.get(profile)
    if top is None or "role_arn" not in top:
        return None
    chain = [profile]
    values: Mapping[str, str] = top
    while "role_arn" in values:
        if any(key in values for key in _UNPLAIN_HOP_KEYS) or not _plain_duration(values):
            return None
        hop = values.get("source_profile")
        if not hop or hop in chain or hop not in profiles:
            return None  # the full path names the missing key, the cycle or the undefined profile
        chain.append(hop)
        values = profiles[hop]
    source = _sso_role(chain[-1], profiles, sessions)
    if source is None or _credentials_file_has_sso_keys(*chain):
        return None
    duration = top.get("duration_seconds")
    return WarmChain(profile, top["role_arn"], role_session_name=top.get("role_session_name"),
                     external_id=top.get("external_id"),
                     duration_seconds=int(duration) if duration is not None else None, source=source)


def _plain_duration(values: Mapping[str, str]) -> bool:
    """``duration_seconds`` absent, or an integer role chaining allows (else the full path judges)."""
    text = values.get("duration_seconds")
    if text is None:
        return True
    try:
        seconds = int(text)
    except ValueError:
        return False
    return CHAINED_ROLE_SECONDS[0] <= seconds <= CHAINED_ROLE_SECONDS[1]
