"""Step 1 of the flow: what the AWS shared config says about a profile's SSO.

The config is read through botocore's own loader (``Session.full_config``), so
``AWS_CONFIG_FILE``, ``AWS_PROFILE`` and every quirk of the file format behave
exactly as in boto3 and the AWS CLI. Two shapes are understood, as in botocore:

* ``[sso-session NAME]`` sections (``sso_start_url``, ``sso_region``,
  ``sso_registration_scopes``) referenced by a profile's ``sso_session``; these
  get refresh tokens.
* legacy profiles carrying ``sso_start_url`` and ``sso_region`` themselves; no
  refresh token there, as in botocore and the AWS CLI v2.

This package adds a few keys of its own, under its own prefix so that they can
never collide with a future AWS key. Other tools ignore unknown keys, so they
are harmless there; like every key, they may sit on the profile or its
sso-session but must not disagree (except ``boto_sso_oidc_enabled``, where the
profile's value wins):

``boto_sso_oidc_enabled``  ``true`` or ``false`` (default): with the package
    installed, this profile (or every profile of this sso-session) gets its
    credentials and token through the plugin in every boto3, botocore,
    aiobotocore and aioboto3 session, with no code change (see ``installation``).
``boto_sso_oidc_auto_login``  ``auto`` (default), ``true`` or ``false``: may
    resolving credentials start a login? ``auto`` allows it only when a person
    can answer: ``CI`` is not set, and a terminal is reachable or a browser can
    be opened here (``BROWSER``, a display, macOS, WSL; with
    ``boto_sso_oidc_open_browser`` not false), the browser flow then.
``boto_sso_oidc_open_browser``  ``true`` (default) or ``false``: open the
    verification page in a browser during login.
``boto_sso_oidc_lock_timeout``  seconds to wait for another process holding the
    cache lock (default 600, enough for that process's login to finish).
``boto_sso_oidc_use_device_code``  ``false`` (default) or ``true``: log in with
    the device flow even where a browser could be opened (the browser flow,
    authorization code with PKCE, is the default there, as in the AWS CLI v2).

``boto_sso_oidc_login_cooldown``, ``boto_sso_oidc_session_duration``  see
    docs/configuration.md.
``boto_sso_oidc_truststore``  ``false`` (default) or ``true``: verify this package's TLS
    connections against the operating system's trust store (see ``_network``).
``boto_sso_oidc_redirect_port``  a port: the browser login's fixed loopback port.
``boto_sso_oidc_remote_login``  ``auto`` (default), ``true`` or ``false``: log in by pasting
    the address the browser ended on (SSH, containers; see ``token.TokenManager.login_flow``).

``sso_auto_login``, ``sso_open_browser`` and ``sso_lock_timeout`` (the first
names of three of them) still work as aliases; a key and its alias set to
different values are an error. The environment variables
``BOTO_SSO_OIDC_ENABLED``, ``BOTO_SSO_OIDC_AUTO_LOGIN``,
``BOTO_SSO_OIDC_OPEN_BROWSER``, ``BOTO_SSO_OIDC_LOCK_TIMEOUT``,
``BOTO_SSO_OIDC_USE_DEVICE_CODE`` and the others (``BOTO_SSO_OIDC_`` and the key's name in
capitals) override them.

This module is the only reader of the parsed config: :class:`AWSConfig`
answers typed questions (which profile is the default, what kind a profile
is, which sso-session it uses, which profiles use a session) and nothing else
in the package indexes botocore's ``full_config`` dict.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .._files import SETTLE, file_identity, settling
from ..caches._layout import (
    CHAINED_ROLE_SECONDS,
    DEFAULT_LOCK_TIMEOUT,
    assume_role_cache_key,
    registration_cache_key,
    role_cache_key,
    token_cache_key,
)
from . import _settings as _settings_module
from ._settings import DEFAULT_SESSION_DURATION

if TYPE_CHECKING:  # pragma: no cover
    import botocore.session

    from ..exceptions import SSOConfigError

__all__ = [
    "AutoLogin",
    "ProfileKind",
    "PluginSettings",
    "environment_settings",
    "SSOSessionConfig",
    "SSOProfileConfig",
    "AssumeRoleProfileConfig",
    "ProfileCredentialsConfig",
    "AWSConfig",
    "login_command",
    "ENABLED_KEY",
    "ENV_ENABLED",
    "default_profile_name",
    "parse_registration_scopes",
    "region_problem",
]

AutoLogin = Literal["auto", "true", "false"]

ProfileKind = Literal["sso-role", "sso-login", "other", "undefined"]
"""What a profile is to this package: ``sso-role`` asks for SSO role credentials
(``sso_account_id``/``sso_role_name``, as botocore's SSO provider decides);
``sso-login`` names an sso-session or start URL but no role (enough to log in
and list); ``other`` is any other profile; ``undefined`` is not in the config."""

ENABLED_KEY = _settings_module.ENABLED_KEY
ENV_ENABLED = _settings_module.ENV_ENABLED
switched_off = _settings_module.switched_off


DEFAULT_LOGIN_COOLDOWN = 300.0
"""Seconds automatic logins stay off after one was denied, timed out or abandoned."""


@dataclass(frozen=True)
class PluginSettings:
    """This package's own settings for one profile or sso-session."""

    auto_login: AutoLogin = "auto"
    open_browser: bool = True
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    use_device_code: bool = False
    login_cooldown: float = DEFAULT_LOGIN_COOLDOWN
    session_duration: float = DEFAULT_SESSION_DURATION
    truststore: bool = False
    redirect_port: int | None = None
    remote_login: AutoLogin = "auto"


@dataclass(frozen=True)
class SSOSessionConfig:
    """Where and how to log in: one sso-session, or a legacy profile's SSO keys.

    ``name`` is None for a legacy profile. ``registration_scopes`` is None when
    the key is absent (as the AWS CLI v2 distinguishes it from an empty list).
    Two values are equal when they name the same session at the same place,
    whichever profile they were reached through: ``settings`` (which a profile
    may override) take no part in equality.
    """

    name: str | None
    start_url: str
    region: str
    registration_scopes: tuple[str, ...] | None = None
    settings: PluginSettings = field(default_factory=PluginSettings, compare=False)

    @property
    def is_legacy(self) -> bool:
        return self.name is None

    @property
    def token_cache_key(self) -> str:
        """The AWS CLI v2's token cache file stem."""
        return token_cache_key(self.name, self.start_url)

    @property
    def registration_cache_key(self) -> str:
        """The AWS CLI v2's client-registration cache file stem."""
        scopes = list(self.registration_scopes) if self.registration_scopes is not None else None
        return registration_cache_key(self.start_url, self.region, scopes, self.name)

    @property
    def display_name(self) -> str:
        return f'sso-session "{self.name}"' if self.name else f'SSO start URL "{self.start_url}"'


@dataclass(frozen=True)
class SSOProfileConfig:
    """A profile that gets role credentials from IAM Identity Center."""

    profile: str
    sso: SSOSessionConfig
    account_id: str
    role_name: str

    @property
    def cache_key(self) -> str:
        """The file stem of its role credentials in ~/.aws/cli/cache (botocore's key)."""
        return role_cache_key(self.account_id, self.role_name, sso_session=self.sso.name,
                              start_url=self.sso.start_url)


@dataclass(frozen=True)
class AssumeRoleProfileConfig:
    """A profile that assumes ``role_arn`` with the credentials of its ``source_profile``: one hop
    of a role chain, which ends (any number of hops down) at an SSO profile.

    The AssumeRole arguments are the profile's keys as botocore's ``AssumeRoleProvider`` reads
    them (None: not set).
    """

    profile: str
    role_arn: str
    source: SSOProfileConfig | AssumeRoleProfileConfig
    role_session_name: str | None = None
    external_id: str | None = None
    duration_seconds: int | None = None

    @property
    def chain(self) -> tuple[str, ...]:
        """The profile names from this one down to the SSO profile."""
        below = self.source.chain if isinstance(self.source, AssumeRoleProfileConfig) \
            else (self.source.profile,)
        return (self.profile, *below)

    @property
    def sso_profile(self) -> SSOProfileConfig:
        """The SSO profile the chain ends at."""
        source = self.source
        return source.sso_profile if isinstance(source, AssumeRoleProfileConfig) else source

    @property
    def cache_key(self) -> str:
        """The file stem of the assumed-role credentials in ~/.aws/cli/cache (botocore's key)."""
        return assume_role_cache_key(self.role_arn, role_session_name=self.role_session_name,
                                     external_id=self.external_id,
                                     duration_seconds=self.duration_seconds)


ProfileCredentialsConfig = SSOProfileConfig | AssumeRoleProfileConfig
"""A profile this package can get credentials for: an SSO role, or a role chain ending at one."""

_UNSUPPORTED_HOP_KEYS = {
    "credential_source": "takes its source credentials from credential_source",
    "web_identity_token_file": "assumes its role with a web identity token",
    "mfa_serial": "needs an MFA code (mfa_serial), which boto-sso-oidc does not prompt for",
}


def _has_static_keys(values: Mapping[str, Any]) -> bool:
    """botocore's ``AssumeRoleProvider._has_static_credentials``: either static key is set."""
    return "aws_access_key_id" in values or "aws_secret_access_key" in values


def login_command(sso: SSOSessionConfig, profile: str | None = None) -> str:
    """The exact command that logs ``sso`` in again (through ``profile`` when one reached it)."""
    if profile:
        return f"boto-sso-oidc login --profile {profile}"
    if sso.name:
        return f"boto-sso-oidc login --sso-session {sso.name}"
    return "boto-sso-oidc login --profile PROFILE"  # a legacy start URL is reached through a profile


def default_profile_name(botocore_session: botocore.session.Session | None = None) -> str:
    """The profile used when none is named: the session's, else ``AWS_PROFILE``,
    ``AWS_DEFAULT_PROFILE``, ``default`` (the one rule, shared with the warm path)."""
    if botocore_session is not None:
        name = botocore_session.get_config_variable("profile")
        if name:
            return str(name)
    from ._loader import default_profile

    return default_profile()


def region_problem(region: str) -> str | None:
    """None if ``region`` can be an AWS region name; else a sentence saying why not, with the
    closest names botocore knows. A name is refused when it has no partition's shape (botocore's
    ``regionRegex``: ``eu-west1``, ``euwest-1``) or when it is not a region botocore knows but
    nearly is one (``eu-wset-1``); an unknown name of the right shape with no such neighbour is
    taken (a region newer than this botocore)."""
    import re

    from ._settings import close_matches, either

    known, shapes = _regions()
    if region in known:
        return None
    near = close_matches(region, known, cutoff=0.75)
    if not any(re.match(shape, region) for shape in shapes):
        hint = f"did you mean {either(near)}?" if near else "use one such as us-east-1 or eu-west-1."
        return f"{region!r} is not an AWS region name: {hint}"
    # The right shape: a region newer than this botocore, unless a known one differs from it by a
    # typo in its middle word only (eu-wset-1); ap-southeast-9 is not a typo of ap-southeast-7.
    first, number = region.split("-")[0], region.rsplit("-", 1)[-1]
    typo_of = [name for name in near if name.split("-")[0] == first and name.rsplit("-", 1)[-1] == number]
    if typo_of:
        return f"{region!r} is not a region botocore knows: did you mean {either(typo_of)}?"
    return None


def _regions() -> tuple[list[str], list[str]]:
    """Every region botocore's endpoint data names, and each partition's region pattern."""
    import botocore.loaders

    data = botocore.loaders.create_loader().load_data("endpoints")
    known = sorted({name for partition in data.get("partitions", [])
                    for name in partition.get("regions", {})})
    shapes = [str(partition["regionRegex"]) for partition in data.get("partitions", [])
              if partition.get("regionRegex")]
    return known, shapes


def parse_registration_scopes(value: str | None) -> tuple[str, ...] | None:
    """Parse ``sso_registration_scopes`` as the AWS CLI v2 does: comma-split, stripped, no empties."""
    if value is None:
        return None
    return tuple(scope.strip() for scope in value.split(",") if scope.strip())


def _shown(value: Any) -> str:
    """A config value in a message: one line (a nested block as its pairs)."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key} = {item}" for key, item in value.items()) + "}"
    return " ".join(str(value).split())


def _config_error(message: str, **kwargs: Any) -> SSOConfigError:
    from ..exceptions import SSOConfigError

    return SSOConfigError(message, **kwargs)


def _check_sections(*sections: tuple[str, Mapping[str, Any]], environ: Mapping[str, str],
                    **ctx: Any) -> None:
    """Raise for a value of this package's keys that cannot be used, naming the section it is in
    (each ``(where, its own values)`` in turn), then for such an environment variable."""
    from ._settings import SettingError, check_environment, check_section

    try:
        for where, values in sections:
            try:
                check_section(values)
            except SettingError as error:
                raise _config_error(error.message(where), key=error.key, **ctx) from None
        check_environment(environ)
    except SettingError as error:
        raise _config_error(error.message("The environment"), key=error.key, **ctx) from None


def _settings(
    values: Mapping[str, Any], *, where: str, environ: Mapping[str, str], **ctx: Any
) -> PluginSettings:
    """Read this package's keys from merged profile/sso-session values, environment first."""
    from ._settings import SettingError, parse, source

    read: dict[str, Any] = {}
    try:
        for setting in ("auto_login", "open_browser", "lock_timeout", "use_device_code", "login_cooldown",
                        "session_duration", "truststore", "redirect_port", "remote_login"):
            key, raw = source(values, setting, environ)
            if raw is not None:
                read[setting] = parse(setting, key, raw)
    except SettingError as error:
        raise _config_error(error.message(where), key=error.key, **ctx) from None
    return PluginSettings(**read)


def environment_settings(environ: Mapping[str, str] | None = None) -> PluginSettings:
    """This package's settings from the environment alone (``BOTO_SSO_OIDC_*``), for a session
    not yet in the config (``configure``'s first login). Raises :class:`SSOConfigError`."""
    return _settings({}, where="The environment", environ=os.environ if environ is None else environ)


_SSO_KEYS = frozenset({"sso_session", "sso_start_url", "sso_region", "sso_account_id", "sso_role_name",
                       "sso_registration_scopes"})
"""The AWS config's own SSO keys (never taken for a misspelling of one another)."""


def _rename(values: Mapping[str, Any], wanted: str, section: str) -> str | None:
    """"it has KEY: rename it to WANTED in SECTION." when one of ``values``' keys looks like a
    misspelling of ``wanted`` (``sso_acount_id``, ``sso_sesion``); else None."""
    from ._settings import close_match

    near = close_match(wanted, [key for key in values if key not in _SSO_KEYS], cutoff=0.8)
    return f"it has {near}: rename it to {wanted} in {section}." if near else None


def _require_location(values: Mapping[str, Any], where: str, section: str, **ctx: Any) -> None:
    """Raise unless ``sso_start_url`` and ``sso_region`` are both set, naming the first missing one."""
    missing = [key for key in ("sso_start_url", "sso_region") if not values.get(key)]
    if missing:
        raise _config_error(
            f"{where} is missing {' and '.join(missing)}: "
            + (_rename(values, missing[0], section) or f"add {missing[0]} = ... to {section}."),
            key=missing[0],
            **ctx,
        )


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _check_start_url(url: str, *, where: str, **ctx: Any) -> None:
    """https:// only; plain http:// just for a local emulator (loopback), where no secret travels."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        host = parts.hostname
    except ValueError:
        host = None
    if parts.scheme == "https" and host or (parts.scheme == "http" and host in _LOOPBACK):
        return
    raise _config_error(
        f"{where}: sso_start_url must be an https:// URL such as "
        f"https://my-org.awsapps.com/start, not {url!r} (http:// only for a local emulator "
        "on 127.0.0.1 or localhost).",
        key="sso_start_url",
        **ctx,
    )


_SESSION_KEYS = frozenset({"sso_start_url", "sso_region", "sso_registration_scopes",
                           *(_settings_module.KNOWN_KEYS - {ENABLED_KEY})})
"""The keys a profile may set over its sso-session's (which must then agree where both set them)."""

_WARNED: set[str] = set()
"""The unknown-setting warnings this process has logged (each is logged once)."""

def _identity(path: str) -> tuple[int, int, int, int] | None:
    """The file's :func:`~.._files.file_identity`, or None when there is none."""
    try:
        return file_identity(os.stat(path))
    except OSError:
        return None


class AWSConfig:
    """The AWS shared config as botocore parsed it, answering typed questions.

    Build it with :meth:`load` (through botocore's loader, so ``AWS_CONFIG_FILE``,
    ``AWS_PROFILE`` and every quirk of the file format behave as in boto3) or
    from a parsed ``full_config`` mapping. Every query validates what it
    returns and raises :class:`SSOConfigError` naming the profile or
    sso-session and the key to fix.
    """

    def __init__(self, full_config: Mapping[str, Any], *, default_profile: str | None = None,
                 environ: Mapping[str, str] | None = None, quiet: bool = False) -> None:
        self._profiles: Mapping[str, Mapping[str, Any]] = full_config.get("profiles", {}) or {}
        self._sessions: Mapping[str, Mapping[str, Any]] = full_config.get("sso_sessions", {}) or {}
        self._default_profile = default_profile
        self._environ = os.environ if environ is None else environ
        self._quiet = quiet  # no warnings logged (the warm path asks unknown_settings itself)
        self.botocore_session: botocore.session.Session | None = None
        """The session :meth:`load` read the config through: clients made on it read no file again."""

    @classmethod
    def load(cls, botocore_session: botocore.session.Session | None = None, *,
             environ: Mapping[str, str] | None = None) -> AWSConfig:
        """Read the shared config through botocore's loader (``botocore_session``'s, if given).

        A file that botocore cannot parse raises :class:`SSOConfigError`.
        """
        import botocore.exceptions
        import botocore.session

        session = botocore_session or botocore.session.Session()
        # A file another tool is rewriting in place (the AWS CLI truncates, then writes) can be
        # caught cut off. The read counts only if the file was the same before and after it (the
        # config writer's rule) and is not an empty file still settling; a failed parse of a file
        # that changed less than SETTLE ago is read again too.
        path = os.path.expanduser(str(session.get_config_variable("config_file") or ""))
        deadline = time.monotonic() + 5 * SETTLE
        while True:
            before = _identity(path)
            try:
                full_config: Mapping[str, Any] = session.full_config
            except botocore.exceptions.ConfigParseError as error:
                # botocore keeps the config it parsed before the credentials file failed: a
                # retry must parse both again, not serve the config without the credentials
                session._config = None
                if not (path and settling(path) and time.monotonic() < deadline):
                    raise _config_error(
                        f"The AWS config file cannot be parsed: {error}. Fix its syntax.",
                    ) from None
            else:
                after = _identity(path)
                torn = before != after or (after is not None and after[2] == 0 and settling(path))
                if not torn or time.monotonic() >= deadline:
                    break
                session._config = None  # botocore re-reads the file on the next full_config
            time.sleep(0.02)
        config = cls(full_config, default_profile=default_profile_name(botocore_session),
                     environ=environ)
        config.botocore_session = session
        return config

    def __repr__(self) -> str:
        return f"AWSConfig(profiles={len(self._profiles)}, sso_sessions={len(self._sessions)})"

    # -- names ---------------------------------------------------------------------------------

    def default_profile(self) -> str:
        """The profile used when none is named (see :func:`default_profile_name`)."""
        return self._default_profile or default_profile_name()

    def profile_names(self) -> list[str]:
        return sorted(self._profiles)

    def sso_session_names(self) -> list[str]:
        return sorted(self._sessions)

    def profile_values(self, profile: str) -> dict[str, Any]:
        """A copy of a profile's raw values (empty if it is not defined)."""
        return dict(self._profiles.get(profile, {}))

    def profile_value(self, profile: str, key: str) -> str | None:
        """One raw value of a profile (None if unset), for keys this module does not interpret."""
        value = self._profiles.get(profile, {}).get(key)
        return None if value is None else str(value)

    def profile_section(self, profile: str) -> dict[str, str]:
        """A profile's own keys and raw values as botocore read them (empty: no such profile)."""
        return {str(key): str(value) for key, value in self._profiles.get(profile, {}).items()}

    def session_section(self, sso_session: str) -> dict[str, str]:
        """An ``[sso-session NAME]`` section's keys and raw values (empty: no such section)."""
        return {str(key): str(value) for key, value in self._sessions.get(sso_session, {}).items()}

    def session_value(self, sso_session: str, key: str) -> str | None:
        """One raw value of an ``[sso-session NAME]`` section (None if unset or no such section)."""
        value = self._sessions.get(sso_session, {}).get(key)
        return None if value is None else str(value)

    # -- profiles ------------------------------------------------------------------------------

    def profile_kind(self, profile: str) -> ProfileKind:
        """What ``profile`` is (see :data:`ProfileKind`); never raises."""
        values = self._profiles.get(profile)
        if values is None:
            return "undefined"
        if "sso_account_id" in values or "sso_role_name" in values:
            return "sso-role"
        if values.get("sso_session") or values.get("sso_start_url") or values.get("sso_region"):
            return "sso-login"
        return "other"

    def sso_profiles(self) -> list[str]:
        """Every profile that names an sso-session or a start URL, sorted."""
        return [name for name in self.profile_names()
                if self._profiles[name].get("sso_session") or self._profiles[name].get("sso_start_url")]

    def sso_of_profile(self, profile: str) -> SSOSessionConfig:
        """The sso-session (or legacy start URL) ``profile`` logs in to, validated."""
        values = self._profile_values(profile)
        sso = self._profile_sso(profile, values)
        if sso is None:
            raise _config_error(
                f'Profile "{profile}" has no IAM Identity Center settings: '
                + (_rename(values, "sso_session", f"[profile {profile}]") or
                   "set sso_session (and define [sso-session NAME]) or sso_start_url and sso_region."),
                profile=profile,
                key="sso_session",
            )
        return sso

    def role_profile(self, profile: str) -> SSOProfileConfig:
        """``profile`` as an SSO role profile: its session, account and role, validated."""
        sso = self.sso_of_profile(profile)
        values = self._profiles[profile]
        has_account, has_role = bool(values.get("sso_account_id")), bool(values.get("sso_role_name"))
        if not (has_account and has_role):
            missing = "sso_role_name" if has_account else "sso_account_id"
            raise _config_error(
                f'Profile "{profile}" is missing {missing}: '
                + (_rename(values, missing, f"[profile {profile}]") or
                   f"add {missing} = ... to [profile {profile}] "
                   f"(boto-sso-oidc list --profile {profile} shows the accounts and roles you can use; "
                   f"boto-sso-oidc generate --profile {profile} writes a profile for each)."),
                profile=profile,
                key=missing,
            )
        return SSOProfileConfig(
            profile=profile,
            sso=sso,
            account_id=str(values["sso_account_id"]),
            role_name=str(values["sso_role_name"]),
        )

    def is_role_chain(self, profile: str) -> bool:
        """Does ``profile`` assume a role (``role_arn``), as botocore's AssumeRoleProvider decides?"""
        values = self._profiles.get(profile, {})
        return "role_arn" in values and "web_identity_token_file" not in values

    def credentials_profile(self, profile: str) -> ProfileCredentialsConfig:
        """``profile`` as something to get credentials for: its role chain when it has ``role_arn``
        (any depth, ending at an SSO profile), else an SSO role profile (:meth:`role_profile`).

        Raises :class:`SSOConfigError` naming the profile and the key to fix: a cycle of
        ``source_profile`` ("profile a -> b -> a"), a chain that does not end at an SSO
        profile, a hop this package does not support (``credential_source``,
        ``mfa_serial``, web identity), a ``duration_seconds`` beyond role chaining's hour.
        """
        self._profile_values(profile)
        if not self.is_role_chain(profile):
            return self._providers_role(profile, [])
        visited: list[str] = []
        name = profile
        while True:
            visited.append(name)
            source = self._hop_source(name, visited)
            # botocore assumes the source's own role only when it has role_arn (and no web
            # identity) and no static keys; otherwise the source's credentials come from its
            # profile's providers, SSO among them.
            if _has_static_keys(self._profiles[source]) or not self.is_role_chain(source):
                break
            name = source
        current: SSOProfileConfig | AssumeRoleProfileConfig = self._providers_role(source, visited)
        for hop in reversed(visited):
            current = self._assume_role_profile(hop, current)
        return current

    def _providers_role(self, name: str, chain: list[str]) -> SSOProfileConfig:
        """The SSO role botocore's providers give profile ``name`` (after assume-role): web
        identity comes first, then IAM Identity Center (``chain``: the role profiles above it)."""
        values = self._profiles[name]
        path = " -> ".join([*chain, name])
        if values.get("web_identity_token_file"):
            raise _config_error(
                f'Profile "{name}"' + (f" (profile {path})" if chain else "") + " gets its credentials "
                "with a web identity token (web_identity_token_file), which botocore uses before IAM "
                "Identity Center: use this profile through boto3 or the AWS CLI instead.",
                profile=name, key="web_identity_token_file")
        if chain and self.profile_kind(name) != "sso-role":
            raise _config_error(
                f'Profile "{chain[-1]}" takes its credentials from profile "{name}" (profile {path}), '
                f'which has no IAM Identity Center role: boto-sso-oidc follows role chains that end at '
                f'an SSO profile; give [profile {name}] sso_session, sso_account_id and sso_role_name, '
                "or point source_profile at a profile that has them.",
                profile=chain[-1], key="source_profile")
        return self.role_profile(name)

    def _hop_source(self, name: str, visited: list[str]) -> str:
        """The ``source_profile`` of role profile ``name``, checked (``visited``: the chain so far)."""
        values = self._profiles[name]
        path = " -> ".join(visited)
        for key, what in _UNSUPPORTED_HOP_KEYS.items():
            if key in values:
                raise _config_error(
                    f'Profile "{name}" (profile {path}) {what}: boto-sso-oidc supports role chains '
                    "whose every hop names a source_profile, ending at an IAM Identity Center profile; "
                    "use this profile through boto3 or the AWS CLI instead.",
                    profile=name, key=key)
        source = values.get("source_profile")
        if not source:
            raise _config_error(
                f'Profile "{name}" sets role_arn but no source_profile: add source_profile = ... to '
                f"[profile {name}], naming the IAM Identity Center profile whose credentials assume "
                "the role.", profile=name, key="source_profile")
        source = str(source)
        if source == name and _has_static_keys(values):
            return source  # botocore allows it: the profile's own static keys... or its SSO role
        if source in visited:
            cycle = " -> ".join([*visited[visited.index(source):], source])
            raise _config_error(
                f"Role chain cycle: profile {cycle}. Each of these takes its source credentials from "
                f'the next; point the source_profile of "{name}" at an IAM Identity Center profile.',
                profile=name, key="source_profile")
        if source not in self._profiles:
            raise _config_error(
                f'Profile "{name}" sets source_profile = {source}, which is not defined: add '
                f"[profile {source}] or fix source_profile.", profile=name, key="source_profile")
        return source

    def _assume_role_profile(self, name: str, source: SSOProfileConfig | AssumeRoleProfileConfig) \
            -> AssumeRoleProfileConfig:
        values = self._profiles[name]
        duration: int | None = None
        raw = values.get("duration_seconds")
        if raw is not None:
            try:
                duration = int(raw)
            except ValueError:  # botocore ignores a duration it cannot read
                duration = None
        shortest, longest = CHAINED_ROLE_SECONDS
        if duration is not None and not shortest <= duration <= longest:
            raise _config_error(
                f'Profile "{name}" sets duration_seconds = {raw}, but a role assumed with role '
                f"credentials (role chaining, as every role assumed from IAM Identity Center is) "
                f"lasts {shortest} to {longest} seconds: set duration_seconds to at most {longest}, "
                "or remove it.",
                profile=name, key="duration_seconds")

        def text(key: str) -> str | None:
            value = values.get(key)
            return None if value is None else str(value)

        return AssumeRoleProfileConfig(
            profile=name, role_arn=str(values["role_arn"]), source=source,
            role_session_name=text("role_session_name"), external_id=text("external_id"),
            duration_seconds=duration)

    def role_chains_of(self, sso: SSOSessionConfig) -> list[AssumeRoleProfileConfig]:
        """Every ``role_arn`` profile whose chain ends at ``sso``, sorted by name (chains that do
        not resolve are left out)."""
        from ..exceptions import SSOConfigError

        chains = []
        for name in self.profile_names():
            if not self.is_role_chain(name):
                continue
            try:
                resolved = self.credentials_profile(name)
            except SSOConfigError:
                continue
            if isinstance(resolved, AssumeRoleProfileConfig) and resolved.sso_profile.sso == sso:
                chains.append(resolved)
        return chains

    def role_profiles_of(self, sso: SSOSessionConfig) -> list[tuple[str, str]]:
        """The ``(account_id, role_name)`` pairs of every profile that uses ``sso``, sorted."""
        pairs: set[tuple[str, str]] = set()
        for values in self._profiles.values():
            account, role = values.get("sso_account_id"), values.get("sso_role_name")
            if account and role and self._uses(values, sso):
                pairs.add((str(account), str(role)))
        return sorted(pairs)

    # -- the plugin's activation ----------------------------------------------------------------

    def unknown_settings(self, profile: str) -> list[str]:
        """A line for each key under this package's prefix, on ``profile`` or its sso-session, that
        is not one of its settings (a misspelling, most likely), naming the nearest setting."""
        from ._settings import KNOWN_KEYS, unknown_keys

        values = self._profiles.get(profile, {})
        sections = [(f'Profile "{profile}"', values)]
        session_name = values.get("sso_session")
        if isinstance(session_name, str) and session_name in self._sessions:
            sections.append((f'sso-session "{session_name}"', self._sessions[session_name]))
        lines = []
        for where, section in sections:
            for key, near in unknown_keys(section):
                advice = (f"did you mean {near}?" if near else
                          f"its settings are {', '.join(sorted(k for k in KNOWN_KEYS if '_oidc_' in k))}.")
                lines.append(f"{where} has {key}, which is not a setting of boto-sso-oidc-provider "
                             f"and is ignored: {advice}")
        return lines

    def warn_unknown_settings(self, profile: str) -> None:
        """Log :meth:`unknown_settings` as warnings, each line once per process (none if quiet)."""
        import logging

        if self._quiet:
            return
        for line in self.unknown_settings(profile):
            if line not in _WARNED:
                _WARNED.add(line)
                logging.getLogger("boto_sso_oidc_provider").warning("%s", line)

    def mentions_plugin(self) -> bool:
        """True if ``BOTO_SSO_OIDC_ENABLED`` is set or any profile or sso-session has
        ``boto_sso_oidc_enabled`` (else no profile can enable the plugin)."""
        return bool(self._environ.get(ENV_ENABLED, "").strip()) or any(
            ENABLED_KEY in values for section in (self._profiles, self._sessions)
            for values in section.values())

    def plugin_enabled(self, profile: str) -> bool:
        """Does the config turn the plugin on for ``profile``?

        ``BOTO_SSO_OIDC_ENABLED`` decides if set; else ``boto_sso_oidc_enabled``
        on the profile, else on its sso-session; else no. Only these raw values
        are read (a profile without the key keeps botocore's behaviour, whatever
        else its config says). Raises :class:`SSOConfigError` for a value that
        is not a boolean.
        """
        from ._settings import SettingError, parse

        env = self._environ.get(ENV_ENABLED, "").strip()
        where, key, raw = "The environment", ENV_ENABLED, env or None
        values = self._profiles.get(profile, {})
        if raw is None:
            where, key, raw = f'Profile "{profile}"', ENABLED_KEY, values.get(ENABLED_KEY)
        session_name = values.get("sso_session")
        if raw is None and session_name:
            where = f'sso-session "{session_name}" (used by profile "{profile}")'
            raw = self._sessions.get(session_name, {}).get(ENABLED_KEY)
        try:
            return raw is not None and bool(parse("enabled", key, raw))
        except SettingError as error:
            raise _config_error(error.message(where), key=key, profile=profile) from None

    # -- sso-sessions --------------------------------------------------------------------------

    def sso_session(self, name: str, *, profile: str | None = None,
                    overrides: Mapping[str, Any] | None = None) -> SSOSessionConfig:
        """The ``[sso-session NAME]`` section, validated.

        ``overrides`` are the referencing profile's own values for the same keys;
        a disagreement raises, as botocore does.
        """
        where = f'sso-session "{name}"' + (f' (used by profile "{profile}")' if profile else "")
        if name not in self._sessions:
            from ._settings import which_of

            known = which_of(name, self._sessions, what="sso-sessions",
                             listing="boto-sso-oidc status --all")
            raise _config_error(
                f"{where} is not defined in the AWS config ({self._config_path()}): {known} Else "
                f"add a [sso-session {name}] section.",
                profile=profile,
                sso_session=name,
                key="sso_session",
            )
        ctx = {"profile": profile, "sso_session": name}
        _check_sections((where, self._sessions[name]), environ=self._environ, **ctx)
        values = dict(self._sessions[name])
        for key, value in (overrides or {}).items():
            if key in values and values[key] != value:
                raise _config_error(
                    f'Profile "{profile}" sets {key} = {_shown(value)} but {where} sets {key} = '
                    f"{_shown(values[key])}: remove it from one of them or make them agree (a key in "
                    "[DEFAULT] is in both).",
                    profile=profile,
                    sso_session=name,
                    key=key,
                )
            values[key] = value
        _require_location(values, where, f"[sso-session {name}]", profile=profile, sso_session=name)
        _check_start_url(values["sso_start_url"], where=where, **ctx)
        return SSOSessionConfig(
            name=name,
            start_url=values["sso_start_url"],
            region=values["sso_region"],
            registration_scopes=parse_registration_scopes(values.get("sso_registration_scopes")),
            settings=_settings(values, where=where, environ=self._environ, **ctx),
        )

    def resolve(self, profile: str | None = None, sso_session: str | None = None) -> SSOSessionConfig:
        """The sso-session to log in to, named directly or through a profile (a ``role_arn``
        profile's: the one its chain ends at).

        With neither name, the default profile's. Raises :class:`SSOConfigError`
        when both are given and disagree, or the configuration is incomplete.
        """
        if profile is None and sso_session is not None:
            return self.sso_session(sso_session)
        profile = profile or self.default_profile()
        if self.is_role_chain(profile):  # a role chain logs in where it ends
            resolved = self.credentials_profile(profile)
            assert isinstance(resolved, AssumeRoleProfileConfig)
            sso = resolved.sso_profile.sso
        else:
            sso = self.sso_of_profile(profile)
        if sso_session is not None and sso.name != sso_session:
            raise _config_error(
                f'Profile "{profile}" uses {sso.display_name}, not sso-session "{sso_session}": '
                "give only one of --profile and --sso-session.",
                profile=profile,
                sso_session=sso_session,
                key="sso_session",
            )
        return sso

    def every_session(self) -> list[SSOSessionConfig | SSOConfigError]:
        """Every sso-session, then every legacy start URL (through its first profile), sorted.

        A session whose settings are broken comes back as its :class:`SSOConfigError`,
        so a caller can go on with the others.
        """
        from ..exceptions import SSOConfigError

        found: list[SSOSessionConfig | SSOConfigError] = []
        for name in self.sso_session_names():
            try:
                found.append(self.sso_session(name))
            except SSOConfigError as error:
                found.append(error)
        legacy_urls: set[str] = set()
        for name in self.profile_names():
            values = self._profiles[name]
            url = values.get("sso_start_url")
            if not url or values.get("sso_session") or url in legacy_urls:
                continue
            legacy_urls.add(url)
            try:
                found.append(self.sso_of_profile(name))
            except SSOConfigError as error:
                found.append(error)
        return found

    # -- plumbing ------------------------------------------------------------------------------

    def _profile_values(self, profile: str) -> Mapping[str, Any]:
        if profile not in self._profiles:
            raise _config_error(self.unknown_profile(profile), profile=profile)
        return self._profiles[profile]

    def unknown_profile(self, profile: str) -> str:
        """The one line for a profile the config does not define: where it was looked for, the
        closest names (a few at most, never the whole list) and what to check."""
        from ._settings import which_of

        path = self._config_path()
        where = (f"the AWS config file {path}, which does not exist" if not os.path.exists(path)
                 else f"the AWS config ({path})")
        if not self._profiles and not self._sessions:
            return (f'Profile "{profile}" is not defined in {where}. Set one up with: '
                    "boto-sso-oidc configure (or check AWS_CONFIG_FILE).")
        known = which_of(profile, self._profiles, what="profiles", listing="boto-sso-oidc status --all")
        return (f'Profile "{profile}" is not defined in {where}: {known} Check AWS_PROFILE, '
                "--profile and AWS_CONFIG_FILE.")

    def _config_path(self) -> str:
        """The config file botocore read (``AWS_CONFIG_FILE`` or ``~/.aws/config``), for messages."""
        path = self._environ.get("AWS_CONFIG_FILE") or os.path.join("~", ".aws", "config")
        return os.path.expanduser(os.path.expandvars(path))

    def _profile_sso(self, profile: str, values: Mapping[str, Any]) -> SSOSessionConfig | None:
        where = f'Profile "{profile}"'
        self.warn_unknown_settings(profile)
        _check_sections((where, values), environ=self._environ, profile=profile)
        session_name = values.get("sso_session")
        if session_name is not None:
            # botocore's SSO provider: a profile that names an sso-session (even "") must name one
            # that exists, and every key the session sets that the profile sets too (its own, or
            # both from [DEFAULT]) must agree.
            if not session_name:
                raise _config_error(
                    f'{where} sets sso_session to nothing: name an [sso-session NAME] section, or '
                    "remove sso_session.", profile=profile, key="sso_session")
            # The profile's own sso keys and this package's settings are read over the session's
            # (boto_sso_oidc_enabled excepted: this package's switch, the profile's value wins).
            session = self._sessions.get(str(session_name), {})
            overrides = {key: value for key, value in values.items()
                         if key != ENABLED_KEY and (key in session or key in _SESSION_KEYS)}
            return self.sso_session(str(session_name), profile=profile, overrides=overrides)
        if "sso_start_url" not in values and "sso_region" not in values:
            return None
        _require_location(values, where, f"[profile {profile}], or move its SSO settings to an "
                          "[sso-session] and set sso_session", profile=profile)
        _check_start_url(values["sso_start_url"], where=where, profile=profile)
        return SSOSessionConfig(
            name=None,
            start_url=values["sso_start_url"],
            region=values["sso_region"],
            registration_scopes=None,
            settings=_settings(values, where=where, environ=self._environ, profile=profile),
        )

    @staticmethod
    def _uses(values: Mapping[str, Any], sso: SSOSessionConfig) -> bool:
        if sso.name is not None:
            return bool(values.get("sso_session") == sso.name)
        return "sso_session" not in values and values.get("sso_start_url") == sso.start_url
