"""Step 1 of the flow: what the AWS shared config says about a profile's SSO.

The config is read through botocore's own loader (``Session.full_config``), so
``AWS_CONFIG_FILE``, ``AWS_PROFILE`` and every quirk of the file format behave
exactly as in boto3 and the AWS CLI. Two shapes are understood, as in botocore:

* ``[sso-session NAME]`` sections (``sso_start_url``, ``sso_region``,
  ``sso_registration_scopes``) referenced by a profile's ``sso_session``; these
  get refresh tokens.
* legacy profiles carrying ``sso_start_url`` and ``sso_region`` themselves; no
  refresh token there, as in botocore and the AWS CLI v2.

This package adds a few keys of its own, in the AWS config's ``sso_`` style.
Other tools ignore unknown keys, so they are harmless there; like every key,
they may sit on the profile or its sso-session but must not disagree:

``sso_auto_login``  ``auto`` (default), ``true`` or ``false``: may resolving
    credentials start a device-flow login? ``auto`` allows it only when a
    person can answer (a terminal is reachable and ``CI`` is not set).
``sso_open_browser``  ``true`` (default) or ``false``: open the verification
    page in a browser during login.
``sso_lock_timeout``  seconds to wait for another process holding the cache
    lock (default 600, enough for that process's login to finish).

The environment variables ``BOTO_SSO_OIDC_AUTO_LOGIN``,
``BOTO_SSO_OIDC_OPEN_BROWSER`` and ``BOTO_SSO_OIDC_LOCK_TIMEOUT`` override
them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    import botocore.session

    from .exceptions import SSOConfigError

__all__ = [
    "AutoLogin",
    "SSOSessionConfig",
    "SSOProfileConfig",
    "PluginSettings",
    "load_full_config",
    "resolve_profile",
    "resolve_sso_session",
    "resolve",
    "parse_registration_scopes",
]

AutoLogin = Literal["auto", "true", "false"]

DEFAULT_LOCK_TIMEOUT = 600.0

_ENV_AUTO_LOGIN = "BOTO_SSO_OIDC_AUTO_LOGIN"
_ENV_OPEN_BROWSER = "BOTO_SSO_OIDC_OPEN_BROWSER"
_ENV_LOCK_TIMEOUT = "BOTO_SSO_OIDC_LOCK_TIMEOUT"

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True)
class PluginSettings:
    """This package's own settings for one profile or sso-session."""

    auto_login: AutoLogin = "auto"
    open_browser: bool = True
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT


@dataclass(frozen=True)
class SSOSessionConfig:
    """Where and how to log in: one sso-session, or a legacy profile's SSO keys.

    ``name`` is None for a legacy profile. ``registration_scopes`` is None when
    the key is absent (as the AWS CLI v2 distinguishes it from an empty list).
    """

    name: str | None
    start_url: str
    region: str
    registration_scopes: tuple[str, ...] | None = None
    settings: PluginSettings = field(default_factory=PluginSettings)
    profile: str | None = None
    """The profile this was resolved through, if any (for messages)."""

    @property
    def is_legacy(self) -> bool:
        return self.name is None

    @property
    def token_cache_key(self) -> str:
        """The AWS CLI v2's token cache file stem: sha1 of the session name (legacy: start URL)."""
        return hashlib.sha1((self.name or self.start_url).encode("utf-8")).hexdigest()

    @property
    def display_name(self) -> str:
        return f'sso-session "{self.name}"' if self.name else f'SSO start URL "{self.start_url}"'

    @property
    def login_command(self) -> str:
        """The exact command that logs this session in again."""
        if self.profile:
            return f"boto-sso-oidc login --profile {self.profile}"
        if self.name:
            return f"boto-sso-oidc login --sso-session {self.name}"
        return "boto-sso-oidc login"  # pragma: no cover - legacy needs a profile


@dataclass(frozen=True)
class SSOProfileConfig:
    """A profile that gets role credentials from IAM Identity Center."""

    profile: str
    sso: SSOSessionConfig
    account_id: str
    role_name: str


def parse_registration_scopes(value: str | None) -> tuple[str, ...] | None:
    """Parse ``sso_registration_scopes`` as the AWS CLI v2 does: comma-split, stripped, no empties."""
    if value is None:
        return None
    return tuple(scope.strip() for scope in value.split(",") if scope.strip())


def load_full_config(
    botocore_session: botocore.session.Session | None = None,
) -> Mapping[str, Any]:
    """The parsed shared config (``profiles`` and ``sso_sessions``) through botocore's loader.

    A file that botocore cannot parse raises :class:`SSOConfigError`.
    """
    import botocore.exceptions
    import botocore.session

    session = botocore_session or botocore.session.Session()
    try:
        full_config: Mapping[str, Any] = session.full_config
    except botocore.exceptions.ConfigParseError as error:
        raise _config_error(
            f"The AWS config file cannot be parsed: {error}. Fix its syntax.",
        ) from None
    return full_config


def _config_error(message: str, **kwargs: Any) -> SSOConfigError:
    from .exceptions import SSOConfigError

    return SSOConfigError(message, **kwargs)


def _default_profile_name(botocore_session: botocore.session.Session | None) -> str:
    if botocore_session is not None:
        name = botocore_session.get_config_variable("profile")
        if name:
            return str(name)
    return os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or "default"


def _parse_bool(value: str, *, where: str, key: str, **ctx: Any) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _config_error(f"{where}: {key} must be true or false, not {value!r}.", key=key, **ctx)


def _settings(
    values: Mapping[str, Any], *, where: str, environ: Mapping[str, str], **ctx: Any
) -> PluginSettings:
    """Read this package's keys from merged profile/sso-session values, environment first."""
    auto_raw = environ.get(_ENV_AUTO_LOGIN) or values.get("sso_auto_login")
    auto_login: AutoLogin = "auto"
    if auto_raw is not None:
        lowered = str(auto_raw).strip().lower()
        if lowered == "auto":
            auto_login = "auto"
        else:
            key = _ENV_AUTO_LOGIN if environ.get(_ENV_AUTO_LOGIN) else "sso_auto_login"
            auto_login = "true" if _parse_bool(lowered, where=where, key=key, **ctx) else "false"

    browser_raw = environ.get(_ENV_OPEN_BROWSER) or values.get("sso_open_browser")
    open_browser = True
    if browser_raw is not None:
        key = _ENV_OPEN_BROWSER if environ.get(_ENV_OPEN_BROWSER) else "sso_open_browser"
        open_browser = _parse_bool(str(browser_raw), where=where, key=key, **ctx)

    timeout_raw = environ.get(_ENV_LOCK_TIMEOUT) or values.get("sso_lock_timeout")
    lock_timeout = DEFAULT_LOCK_TIMEOUT
    if timeout_raw is not None:
        key = _ENV_LOCK_TIMEOUT if environ.get(_ENV_LOCK_TIMEOUT) else "sso_lock_timeout"
        try:
            lock_timeout = float(timeout_raw)
        except ValueError:
            lock_timeout = -1.0
        if not lock_timeout >= 0:
            raise _config_error(
                f"{where}: {key} must be a number of seconds, not {timeout_raw!r}.", key=key, **ctx
            )
    return PluginSettings(auto_login=auto_login, open_browser=open_browser, lock_timeout=lock_timeout)


def _require_location(values: Mapping[str, Any], where: str, section: str, **ctx: Any) -> None:
    """Raise unless ``sso_start_url`` and ``sso_region`` are both set, naming the first missing one."""
    missing = [key for key in ("sso_start_url", "sso_region") if not values.get(key)]
    if missing:
        raise _config_error(
            f"{where} is missing {' and '.join(missing)}: add {missing[0]} = ... to {section}.",
            key=missing[0],
            **ctx,
        )


def _check_start_url(url: str, *, where: str, **ctx: Any) -> None:
    if not url.startswith(("https://", "http://")):
        raise _config_error(
            f"{where}: sso_start_url must be an https:// URL such as "
            f"https://my-org.awsapps.com/start, not {url!r}.",
            key="sso_start_url",
            **ctx,
        )


def resolve_sso_session(
    name: str,
    full_config: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    profile: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> SSOSessionConfig:
    """The ``[sso-session NAME]`` section, validated.

    ``overrides`` are the referencing profile's own values for the same keys;
    a disagreement raises, as botocore does. Raises :class:`SSOConfigError`
    naming the session and the missing key.
    """
    environ = os.environ if environ is None else environ
    sessions = full_config.get("sso_sessions", {})
    where = f'sso-session "{name}"' + (f' (used by profile "{profile}")' if profile else "")
    if name not in sessions:
        known = ", ".join(sorted(sessions)) or "none"
        raise _config_error(
            f'{where} is not defined: add a [sso-session {name}] section to the AWS config '
            f"(defined sessions: {known}).",
            profile=profile,
            sso_session=name,
            key="sso_session",
        )
    values = dict(sessions[name])
    for key, value in (overrides or {}).items():
        if key in values and values[key] != value:
            raise _config_error(
                f'Profile "{profile}" sets {key} = {value} but {where} sets {key} = {values[key]}: '
                "remove it from one of them or make them agree.",
                profile=profile,
                sso_session=name,
                key=key,
            )
        values[key] = value
    _require_location(values, where, f"[sso-session {name}]", profile=profile, sso_session=name)
    ctx = {"profile": profile, "sso_session": name}
    _check_start_url(values["sso_start_url"], where=where, **ctx)
    return SSOSessionConfig(
        name=name,
        start_url=values["sso_start_url"],
        region=values["sso_region"],
        registration_scopes=parse_registration_scopes(values.get("sso_registration_scopes")),
        settings=_settings(values, where=where, environ=environ, **ctx),
        profile=profile,
    )


_SESSION_KEYS = ("sso_start_url", "sso_region", "sso_registration_scopes",
                 "sso_auto_login", "sso_open_browser", "sso_lock_timeout")


def _profile_sso(
    profile: str, values: Mapping[str, Any], full_config: Mapping[str, Any],
    environ: Mapping[str, str],
) -> SSOSessionConfig | None:
    where = f'Profile "{profile}"'
    session_name = values.get("sso_session")
    if session_name:
        overrides = {key: values[key] for key in _SESSION_KEYS if key in values}
        return resolve_sso_session(
            session_name, full_config, environ=environ, profile=profile, overrides=overrides
        )
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
        settings=_settings(values, where=where, environ=environ, profile=profile),
        profile=profile,
    )


def _profile_values(profile: str, full_config: Mapping[str, Any]) -> Mapping[str, Any]:
    profiles = full_config.get("profiles", {})
    if profile not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise _config_error(
            f'Profile "{profile}" is not defined in the AWS config (defined profiles: {known}). '
            "Check AWS_PROFILE, --profile and AWS_CONFIG_FILE.",
            profile=profile,
        )
    values: Mapping[str, Any] = profiles[profile]
    return values


def resolve_profile(
    profile: str,
    full_config: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    require_role: bool = True,
) -> SSOProfileConfig | SSOSessionConfig:
    """A profile's SSO settings, validated.

    With ``require_role`` (the default) returns :class:`SSOProfileConfig` and
    raises unless ``sso_account_id`` and ``sso_role_name`` are both set; without,
    a profile lacking both returns just its :class:`SSOSessionConfig` (enough to
    log in). Raises :class:`SSOConfigError` naming the profile and key.
    """
    environ = os.environ if environ is None else environ
    values = _profile_values(profile, full_config)
    sso = _profile_sso(profile, values, full_config, environ)
    where = f'Profile "{profile}"'
    if sso is None:
        raise _config_error(
            f"{where} has no IAM Identity Center settings: set sso_session (and define "
            "[sso-session NAME]) or sso_start_url and sso_region.",
            profile=profile,
            key="sso_session",
        )
    has_account, has_role = bool(values.get("sso_account_id")), bool(values.get("sso_role_name"))
    if not has_account and not has_role and not require_role:
        return sso
    if not (has_account and has_role):
        missing = "sso_role_name" if has_account else "sso_account_id"
        raise _config_error(
            f"{where} is missing {missing}: add {missing} = ... to [profile {profile}] "
            "(boto-sso-oidc list shows the accounts and roles you can use).",
            profile=profile,
            key=missing,
        )
    return SSOProfileConfig(
        profile=profile,
        sso=sso,
        account_id=str(values["sso_account_id"]),
        role_name=str(values["sso_role_name"]),
    )


def profile_uses_sso(profile: str, full_config: Mapping[str, Any]) -> bool:
    """True if the profile asks for SSO role credentials (as botocore's SSOProvider decides)."""
    values = full_config.get("profiles", {}).get(profile, {})
    return "sso_account_id" in values or "sso_role_name" in values


def resolve(
    profile_name: str | None = None,
    sso_session: str | None = None,
    *,
    botocore_session: botocore.session.Session | None = None,
    full_config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> SSOSessionConfig:
    """The sso-session to log in to, named directly or through a profile.

    With neither name, the current profile (``AWS_PROFILE``, else ``default``)
    is used. Raises :class:`SSOConfigError` when both are given and disagree,
    or the configuration is incomplete.
    """
    if full_config is None:
        full_config = load_full_config(botocore_session)
    environ = os.environ if environ is None else environ
    if profile_name is None and sso_session is not None:
        return resolve_sso_session(sso_session, full_config, environ=environ)
    profile = profile_name or _default_profile_name(botocore_session)
    resolved = resolve_profile(profile, full_config, environ=environ, require_role=False)
    sso = resolved.sso if isinstance(resolved, SSOProfileConfig) else resolved
    if sso_session is not None and sso.name != sso_session:
        raise _config_error(
            f'Profile "{profile}" uses {sso.display_name}, not sso-session "{sso_session}": '
            "give only one of --profile and --sso-session.",
            profile=profile,
            sso_session=sso_session,
            key="sso_session",
        )
    return sso
