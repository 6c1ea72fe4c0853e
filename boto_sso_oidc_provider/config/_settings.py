"""Step 1 of the flow: this package's own settings: keys, old names, variables, how a value is read.

One definition, used by :mod:`~boto_sso_oidc_provider.config.reader` (boto3, ``login``,
``status``, the full path of ``credential-process``) and by the warm path
(:mod:`~boto_sso_oidc_provider.credentials._warm`), so that a value one of them refuses the
other refuses too. Standard library only and nothing but dictionaries: the warm
path runs it at every ``credential-process`` start. A bad value raises
:class:`SettingError`; the caller says where it is (a profile, an sso-session,
the environment).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable, Mapping

__all__ = ["DEFAULT_SESSION_DURATION", "PREFIX", "ENABLED_KEY", "ENV_ENABLED", "SETTINGS", "KNOWN_KEYS",
           "SettingError",
           "switched_off", "parse", "duration_seconds", "source", "check_section", "check_environment",
           "is_own_key", "unknown_keys", "close_match", "close_matches", "which_of", "either"]

PREFIX = "boto_sso_oidc_"
ENABLED_KEY = "boto_sso_oidc_enabled"
ENV_ENABLED = "BOTO_SSO_OIDC_ENABLED"  # also read, without this module, by the startup hook

SETTINGS: dict[str, tuple[str, str | None, str]] = {
    "enabled": (ENABLED_KEY, None, ENV_ENABLED),
    "auto_login": ("boto_sso_oidc_auto_login", "sso_auto_login", "BOTO_SSO_OIDC_AUTO_LOGIN"),
    "open_browser": ("boto_sso_oidc_open_browser", "sso_open_browser", "BOTO_SSO_OIDC_OPEN_BROWSER"),
    "lock_timeout": ("boto_sso_oidc_lock_timeout", "sso_lock_timeout", "BOTO_SSO_OIDC_LOCK_TIMEOUT"),
    "use_device_code": ("boto_sso_oidc_use_device_code", None, "BOTO_SSO_OIDC_USE_DEVICE_CODE"),
    "login_cooldown": ("boto_sso_oidc_login_cooldown", None, "BOTO_SSO_OIDC_LOGIN_COOLDOWN"),
    "session_duration": ("boto_sso_oidc_session_duration", None, "BOTO_SSO_OIDC_SESSION_DURATION"),
    "truststore": ("boto_sso_oidc_truststore", None, "BOTO_SSO_OIDC_TRUSTSTORE"),
    "redirect_port": ("boto_sso_oidc_redirect_port", None, "BOTO_SSO_OIDC_REDIRECT_PORT"),
    "remote_login": ("boto_sso_oidc_remote_login", None, "BOTO_SSO_OIDC_REMOTE_LOGIN"),
}
"""setting -> (its config key, the key's old name or None, its environment variable)."""

DEFAULT_SESSION_DURATION = 8 * 3600.0
"""Seconds: IAM Identity Center's default session duration (``boto_sso_oidc_session_duration``)."""

KNOWN_KEYS = frozenset(name for key, alias, _ in SETTINGS.values() for name in (key, alias) if name)
"""Every config key of this package (old names included)."""

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_EXPECTED = {"auto_login": "auto, true or false",
             "lock_timeout": "a number of seconds or a duration such as 10m",
             "login_cooldown": "a number of seconds or a duration such as 5m",
             "session_duration": "a number of seconds or a duration such as 8h or 12h 30m, from 0 to "
                                 "90 days (the longest session IAM Identity Center allows)"}
_BOOLEAN = "true or false (yes/no, on/off and 1/0 are read too)"
_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_SECONDS = frozenset({"lock_timeout", "login_cooldown", "session_duration"})
_EXPECTED["redirect_port"] = "a port number from 1 to 65535"
_EXPECTED["remote_login"] = "auto, true or false"
_TRISTATE = frozenset({"auto_login", "remote_login"})
_MAXIMUM = {"session_duration": 90 * 86400.0}


class SettingError(ValueError):
    """A setting's value (or a key and its old name) the package cannot use.

    ``key`` is the config key or environment variable at fault; :meth:`message`
    words it for a place (``'Profile "dev"'``, ``'sso-session "my-org"'``).
    """

    def __init__(self, key: str, detail: str, *, conflict: bool = False) -> None:
        super().__init__(f"{key}: {detail}")
        self.key = key
        self._detail = detail
        self._conflict = conflict

    def message(self, where: str) -> str:
        return f"{where} {self._detail}" if self._conflict else f"{where}: {self.key} {self._detail}"


def switched_off(value: object) -> bool:
    """Is ``value`` (a raw config or environment value, or None) one of the spellings of false?"""
    return isinstance(value, str) and value.strip().lower() in _FALSE


def parse(setting: str, key: str, raw: object) -> bool | float | str | int:
    """The value of ``setting`` written ``raw`` under ``key``: a bool, seconds (lock_timeout,
    login_cooldown, session_duration), a port (redirect_port) or ``"auto"``/``"true"``/``"false"``
    (auto_login, remote_login). Raises :class:`SettingError`."""
    text = str(raw).strip().lower()
    if setting == "redirect_port":
        if text.isdigit() and 1 <= int(text) <= 65535:
            return int(text)
    elif setting in _SECONDS:
        seconds = duration_seconds(text)
        if seconds is not None and 0 <= seconds <= _MAXIMUM.get(setting, seconds):  # refuses nan
            return seconds
    elif setting in _TRISTATE and text == "auto":
        return "auto"
    elif text in _TRUE or text in _FALSE:
        truth = text in _TRUE
        return ("true" if truth else "false") if setting in _TRISTATE else truth
    expected = _EXPECTED.get(setting, _BOOLEAN)
    near = None if setting in _SECONDS or setting == "redirect_port" else close_match(
        text, ["auto", "true", "false"] if setting in _TRISTATE else ["true", "false"], cutoff=0.6)
    raise SettingError(key, f"must be {expected}, not {raw!r}" + (f": did you mean {near}?" if near else "."))


def duration_seconds(text: str) -> float | None:
    """Seconds in ``text``: a number (``28800``) or a duration in days, hours, minutes and
    seconds (``8h``, ``90m``, ``1h 30m``, ``8h 0m`` as ``status`` prints them, ``2d 3h``);
    None if it is neither. Without :mod:`re` (the warm path reads it)."""
    text = text.strip().lower()
    try:
        return float(text)
    except ValueError:
        pass
    total, number, parts = 0.0, "", 0
    for char in text:
        if char.isdigit() or char == ".":
            number += char
        elif char in _UNITS and number:
            try:
                total += float(number) * _UNITS[char]
            except ValueError:  # "1.2.3h"
                return None
            number, parts = "", parts + 1
        elif not char.isspace() or number:  # a space only between a unit and the next number
            return None
    return total if parts and not number else None


def source(values: Mapping[str, object], setting: str,
           environ: Mapping[str, str]) -> tuple[str, object]:
    """(where the value of ``setting`` comes from, its raw value): the environment variable,
    else the key, else its old name; ``(key, None)`` when none is set. Raises
    :class:`SettingError` when the key and its old name disagree."""
    key, alias, env = SETTINGS[setting]
    if environ.get(env):
        return env, environ[env]
    if alias is not None and key in values and alias in values and \
            str(values[key]).strip().lower() != str(values[alias]).strip().lower():
        raise SettingError(key, f"sets {key} = {values[key]} and its old name {alias} = "
                                f"{values[alias]}: keep only {key}.", conflict=True)
    if key in values:
        return key, values[key]
    if alias is not None and alias in values:
        return alias, values[alias]
    return key, None


def check_section(values: Mapping[str, object]) -> None:
    """Raise :class:`SettingError` for the first of this package's keys in one section (a
    profile's or an sso-session's own values) that cannot be used."""
    for setting in SETTINGS:
        key, raw = source(values, setting, {})
        if raw is not None:
            parse(setting, key, raw)


def check_environment(environ: Mapping[str, str]) -> None:
    """Raise :class:`SettingError` for the first ``BOTO_SSO_OIDC_*`` setting variable that
    cannot be used."""
    for setting, (_key, _alias, env) in SETTINGS.items():
        if environ.get(env):
            parse(setting, env, environ[env])


def is_own_key(key: str) -> bool:
    """Is ``key`` one of this package's (a known key, an old name, or any under its prefix)?"""
    return key.startswith(PREFIX) or key in KNOWN_KEYS


def unknown_keys(values: Mapping[str, object]) -> list[tuple[str, str | None]]:
    """Each key under this package's prefix that is none of its settings, with the setting it
    most likely misspells (or None)."""
    return [(key, close_match(key, KNOWN_KEYS)) for key in values
            if key.startswith(PREFIX) and key not in KNOWN_KEYS]


def close_match(word: str, candidates: Iterable[str], *, cutoff: float = 0.75) -> str | None:
    """The candidate ``word`` most likely misspells or is misspelled as (:mod:`difflib`), or None."""
    import difflib

    found = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=cutoff)
    return found[0] if found else None


def close_matches(word: str, candidates: Iterable[str], *, most: int = 3, cutoff: float = 0.6) -> list[str]:
    """Up to ``most`` candidates closest to ``word`` (:mod:`difflib`), closest first."""
    import difflib

    return difflib.get_close_matches(word, sorted(set(candidates)), n=most, cutoff=cutoff)


def which_of(word: str, candidates: Iterable[str], *, what: str, listing: str) -> str:
    """A sentence for a person who named ``word``, which is none of ``candidates`` (the ``what``:
    "profiles", "sso-sessions"): "did you mean dev?" with at most three close names; else every
    name when there are a few; else how many there are and ``listing``, the command that lists
    them (never a list of hundreds)."""
    names = sorted(set(candidates))
    near = close_matches(word, names)
    if near:
        return f"did you mean {either(near)}?"
    if not names:
        return f"it defines no {what}."
    if len(names) <= 5:
        return f"its {what} are {either(names, 'and')}."
    return f"none of its {len(names)} {what} is named like it ({listing} lists them)."


def either(names: list[str], word: str = "or") -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {word} {names[-1]}"
