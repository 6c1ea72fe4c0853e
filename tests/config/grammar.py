"""A Hypothesis grammar of AWS config and credentials files, for the differential tests.

It covers what decides how botocore reads a profile (``botocore.configloader`` and
:mod:`configparser`, read for this): line ends (LF, CRLF, a lone CR), a byte-order mark, every
category of whitespace (ASCII spaces and tabs, the ASCII separators ``\\x0b \\x0c \\x1c-\\x1f``
that ``str.split`` and ``str.strip`` take and ``shlex`` does not, ``\\x85``, non-breaking and
ideographic spaces), headers and their look-alikes (indented, quoted, escaped, with trailing
text, two words or three, ``[DEFAULT]``, ``[note = x``), comments, continuation lines and nested
blocks, duplicate sections and keys (in any case), the keys every credential provider of
botocore reads (SSO, assume-role, web identity, static keys, process, MFA) in the config and the
credentials file, and the environment variables that pick the files and the profile.

The files are written by a random source that Hypothesis seeds (:data:`files`), so rare shapes
stay rare and most files are ones botocore parses. Values come from small sets, so that two
profiles often share an account or a role, and every (account, role, session) and every
assume-role argument set has a cache file of its own (:func:`role_entries`,
:func:`assume_role_entries`): which file a reader picks tells which account it would serve.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from hypothesis import strategies as st

from boto_sso_oidc_provider.caches._layout import assume_role_cache_key, role_cache_key

ACCOUNTS = ("111111111111", "222222222222")
ROLES = ("Admin", "Dev")
SESSIONS = ("a", "b")
START_URLS = ("https://a.awsapps.com/start", "https://b.awsapps.com/start")
ROLE_ARNS = ("arn:aws:iam::333333333333:role/R1", "arn:aws:iam::444444444444:role/R2")
SESSION_NAMES = (None, "s1")
EXTERNAL_IDS = (None, "e1")
MFA_SERIALS = (None, "arn:aws:iam::333333333333:mfa/m")
DURATIONS = (None, 900, 3600)
NAMES = ("dev", "other", "default")

# Whitespace of every category: what configparser's strip and \S see, what shlex splits on.
ODD_SPACES = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\u00a0", "\u2003", "\u3000")
SPACES = (" ", "  ", "\t", *ODD_SPACES)
T = TypeVar("T")

_VALUES: dict[str, tuple[str, ...]] = {
    "sso_session": (*SESSIONS, "", "c", "a b"),
    "sso_account_id": (*ACCOUNTS, ""),
    "sso_role_name": (*ROLES, ""),
    "sso_start_url": (*START_URLS, "", "http://insecure.example/start"),
    "sso_region": ("us-east-1", "eu-west-1", ""),
    "sso_registration_scopes": ("sso:account:access", "x"),
    "role_arn": ROLE_ARNS,
    "source_profile": (*NAMES, "nosuch"),
    "role_session_name": ("s1", ""),
    "external_id": ("e1",),
    "duration_seconds": ("900", "3600", "7200", "x"),
    "mfa_serial": (MFA_SERIALS[1],),
    "region": ("us-east-1", "eu-west-1"),
    "credential_process": ("/bin/false",),
    "aws_access_key_id": ("AKIASTATIC",),
    "aws_secret_access_key": ("static-secret",),
    "web_identity_token_file": ("/nonexistent/token", ""),
    "credential_source": ("Environment",),
    "boto_sso_oidc_enabled": ("true", "flase"),
    "boto_sso_oidc_session_duration": ("3600", "8h"),
    "boto_sso_oidc_enabledd": ("true",),
}
_SSO_KEYS = ["sso_session", "sso_account_id", "sso_role_name", "sso_start_url", "sso_region"]
_CHAIN_KEYS = ["role_arn", "source_profile", "role_session_name", "external_id", "duration_seconds"]
_RARE_KEYS = [key for key in _VALUES if key not in _SSO_KEYS + _CHAIN_KEYS]
_NOISE = ("", "# comment", "; comment", "  # indented comment", "[note = x", "junk", "  continued",
          "\tcontinued = x", "=nothing")


class _Writer:
    """Writes files of the grammar with a random source, so that rare shapes stay rare (Hypothesis'
    own draws favour the edge of every range, which would make every file an oddity)."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd

    def rare(self, odds: int) -> bool:
        return self.rnd.randrange(odds) == 0

    def pick(self, values: Sequence[T]) -> T:
        return self.rnd.choice(list(values))

    def line(self, key: str, value: str | None = None) -> str:
        """``key = value``, now and then written another way (case, spacing, separator, a
        trailing character of another whitespace category)."""
        value = self.pick(_VALUES[key]) if value is None else value
        if self.rare(20):
            key = self.pick([key.upper(), key.title(), f" {key}", f"{key} "])
        separator = " = " if not self.rare(4) else self.pick(["=", " =", ":", " : ", "=  "])
        if self.rare(30):
            value += self.pick([*ODD_SPACES, " # not a comment", "\\"])
        return f"{key}{separator}{value}"

    def maybe(self, value: str, key: str, odds: int = 12) -> str:
        """``value`` mostly, another value of ``key`` one time in ``odds``."""
        return self.pick(_VALUES[key]) if self.rare(odds) else value

    def header(self, kind: str, name: str) -> str:
        if kind == "default":
            inner = "default" if not self.rare(10) else self.pick(["DEFAULT", " default"])
        else:
            if self.rare(10):
                name = self.pick([f"'{name}'", f'"{name}"', f"{name[0]}\\{name[1:]}", f"{name} x",
                                  f"{name}'", f"{name[0]}'{name[1:]}'"])
            inner = f"{kind}{' ' if not self.rare(10) else self.pick(SPACES)}{name}"
        line = f"[{inner}]"
        if self.rare(40):
            line = self.pick(SPACES) + line  # indented: a header, or a continuation
        elif self.rare(40):
            line += self.pick([" ", " ; note", "x", "]"])
        elif self.rare(100):
            line = line[:-1]  # "[profile dev": an option line to configparser
        return line

    def profile_body(self) -> list[tuple[str, str]]:
        """An SSO role (sso-session or legacy), a role chain, or another kind of profile."""
        shape = self.pick(["sso", "sso", "sso", "legacy", "chain", "chain", "other"])
        keys: list[tuple[str, str]] = []
        if shape == "sso":
            keys.append(("sso_session", self.maybe(self.pick(SESSIONS), "sso_session")))
        elif shape == "legacy":
            keys += [("sso_start_url", self.pick(START_URLS)), ("sso_region", "us-east-1")]
        if shape in ("sso", "legacy"):
            keys += [("sso_account_id", self.maybe(self.pick(ACCOUNTS), "sso_account_id")),
                     ("sso_role_name", self.maybe(self.pick(ROLES), "sso_role_name"))]
        elif shape == "chain":
            keys += [("role_arn", self.pick(ROLE_ARNS)),
                     ("source_profile", self.pick(_VALUES["source_profile"]))]
            keys += [(key, self.pick(_VALUES[key])) for key in ("role_session_name", "external_id",
                                                               "duration_seconds") if self.rare(4)]
        if self.rare(3):
            for _ in range(self.rnd.randint(1, 2)):
                key = self.pick(_RARE_KEYS + _SSO_KEYS + _CHAIN_KEYS)
                keys.append((key, self.pick(_VALUES[key])))
        if not keys:
            keys.append(("region", "us-east-1"))
        self.rnd.shuffle(keys)
        if not self.rare(30):  # a key twice is a file botocore refuses: now and then only
            seen: set[str] = set()
            keys = [(key, value) for key, value in keys if not (key in seen or seen.add(key))]
        return keys

    def section(self, header: str, body: list[tuple[str, str]]) -> list[str]:
        lines = [header]
        for key, value in body:
            if self.rare(80):
                lines.append(self.pick(_NOISE))
            lines.append(self.line(key, value))
        return lines

    def config(self) -> str:
        sections: list[list[str]] = []
        if self.rare(10):
            sections.append(["[DEFAULT]", self.line(self.pick(["region", "sso_region", "sso_session",
                                                               "sso_role_name"]))])
        for name, url in zip(SESSIONS, START_URLS, strict=True):
            body = [("sso_start_url", self.maybe(url, "sso_start_url")), ("sso_region", "us-east-1")]
            if self.rare(5):
                body.append(("sso_registration_scopes", self.pick(_VALUES["sso_registration_scopes"])))
            sections.append(self.section(self.header("sso-session", name), body))
        for _ in range(self.rnd.randint(1, 5)):
            name = self.pick([*NAMES, *NAMES, "profilex"])
            kind = "default" if name == "default" and self.rare(2) else "profile"
            if name == "profilex":
                kind, name = "profilex", "dev"
            sections.append(self.section(self.header(kind, name), self.profile_body()))
        if self.rare(5):
            self.rnd.shuffle(sections)
        seen: set[str] = set()
        kept: list[str] = []
        for section in sections:
            if section[0] in seen and not self.rare(20):
                continue  # the same header twice is a file botocore refuses: now and then only
            seen.add(section[0])
            kept += section
        return "\n".join(kept)

    def credentials(self) -> str | None:
        if not self.rare(3):
            return None
        lines: list[str] = []
        for _ in range(self.rnd.randint(1, 2)):
            lines.append(self.pick(["[dev]", "[other]", "[profile dev]", "[default]", "[DEFAULT]"]))
            keys = _SSO_KEYS[1:3] + _CHAIN_KEYS + ["mfa_serial", "aws_access_key_id", "aws_secret_access_key"]
            lines += [self.line(key) for key in self.rnd.sample(keys, self.rnd.randint(0, 3))]
        return "\n".join(lines)

    def encoded(self, text: str) -> bytes:
        """``text`` as a file: its line ends (LF mostly, CRLF, a lone CR, mixed), maybe a BOM."""
        ending = self.pick(["\n"] * 6 + ["\r\n", "\r\n", "\r", "mixed"])
        if ending == "mixed":
            text = "".join(line + self.pick(["\n", "\r\n", "\r"]) for line in text.split("\n"))
        else:
            text = text.replace("\n", ending) + self.pick(["", ending])
        data = text.encode("utf-8")
        return b"\xef\xbb\xbf" + data if self.rare(50) else data

    def environment(self) -> dict[str, str | None]:
        return {
            "AWS_PROFILE": self.pick([None, None, None, "dev", "other", ""]),
            "AWS_DEFAULT_PROFILE": self.pick([None, None, None, None, "other", ""]),
            "AWS_CONFIG_FILE": "FILE" if not self.rare(20) else "",
            "BOTO_SSO_OIDC_SESSION_DURATION": None if not self.rare(10) else "7200",
        }


@dataclass(frozen=True)
class Files:
    """One example: the config's bytes, the credentials file's (None: no file), the environment
    (None: unset; "FILE": the test's own file)."""

    config: bytes
    credentials: bytes | None
    environment: dict[str, str | None]


def _files(rnd: random.Random) -> Files:
    writer = _Writer(rnd)
    credentials = writer.credentials()
    return Files(writer.encoded(writer.config()),
                 None if credentials is None else writer.encoded(credentials), writer.environment())


files = st.randoms(use_true_random=False).map(_files)
"""Examples of the grammar: config and credentials files and an environment."""


def role_entries() -> dict[str, str]:
    """The role-credential cache file stem of every (account, role, session or start URL), and
    the access key id its credentials carry (which says whose they are)."""
    entries = {}
    for account, role in itertools.product(ACCOUNTS, ROLES):
        for session in SESSIONS:
            entries[role_cache_key(account, role, sso_session=session, start_url=None)] = \
                f"ASIASSO{account}{role}{session}"
        for url in START_URLS:
            entries[role_cache_key(account, role, sso_session=None, start_url=url)] = \
                f"ASIASSO{account}{role}{url[8]}url"
    return entries


def assume_role_entries() -> dict[str, str]:
    """The assumed-role cache file stem of every AssumeRole argument set the grammar can make."""
    entries = {}
    for arn, name, external, mfa, duration in itertools.product(
            ROLE_ARNS, SESSION_NAMES, EXTERNAL_IDS, MFA_SERIALS, DURATIONS):
        key = assume_role_cache_key(arn, role_session_name=name, external_id=external, mfa_serial=mfa,
                                    duration_seconds=duration)
        entries[key] = f"ASIAROLE{arn[-2:]}{name}{external}{bool(mfa)}{duration}"
    return entries
