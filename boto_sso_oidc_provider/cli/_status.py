"""``boto-sso-oidc status``: who is logged in, and until when, from the caches alone.

For each sso-session (or legacy start URL) it reports what the token cache
knows: whether an access token is cached and when it expires, whether it can
be refreshed, when this machine's login began and when the session ends at
the latest. For SSO profiles: their account, role and when their cached role
credentials expire. It makes no network call and never prints a token, key or
secret.

By default it summarises, however many profiles ``generate`` wrote: each
session in two lines, how many of its profiles have role credentials cached,
then only the profiles that matter: the default one (botocore's, when the
config defines it), those whose role credentials expire within the refresh
window, and those whose configuration is broken. ``--all`` lists every
profile. ``--profile P`` (default ``$AWS_PROFILE``, as everywhere) reports on
that profile and its session only (a ``role_arn`` profile: the SSO profile and
session its chain ends at). ``--json`` always holds every session and profile.

Exit codes: 0 report printed (for one profile: and its credentials can be had
without a login: role credentials cached and valid, or a valid or refreshable
token); 1 a login is needed for that profile, the profile is not defined (the
closest names are given), the config is wrong, or it has no SSO profile or
sso-session at all (one line on stderr, naming ``configure``); 2 usage.

``--check`` prints nothing and answers one question for scripts and shell prompts: can the
profile's credentials be had without a person? Exit 0 yes (cached, or through a refresh, which
it then makes), 1 no (a login is needed, or the profile is not usable).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ._common import (
    EXIT_FAILURE,
    EXIT_OK,
    add_debug,
    add_json,
    duration,
    fail,
    moment,
    print_json,
    report,
    setup_logging,
)

if TYPE_CHECKING:  # pragma: no cover
    import datetime
    from collections.abc import Callable

    from ..config.reader import AWSConfig, SSOProfileConfig, SSOSessionConfig

LOGGED_IN = "logged-in"
"""A valid access token is cached."""
REFRESHABLE = "refreshable"
"""The access token expired, but a refresh token and registration can renew it without a login."""
LOGIN_NEEDED = "login-needed"
"""A token is cached but can be neither used nor refreshed."""
LOGGED_OUT = "logged-out"
"""No token is cached."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("Exit codes: 0 report printed (for one profile: its credentials can be had "
                     "without a login), 1 login needed, unknown profile, config error or no SSO "
                     "profile at all, 2 bad usage.")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--profile", metavar="PROFILE",
                       help="report on this profile and its session only (default: $AWS_PROFILE; "
                            "without it, a summary of every sso-session and the profiles that matter)")
    group.add_argument("--all", action="store_true",
                       help="every sso-session and every SSO profile, one by one")
    add_json(parser)
    parser.add_argument("--check", action="store_true",
                        help="print nothing; exit 0 if the profile's credentials can be had "
                             "without a person (cached, or by a refresh), 1 if a login is needed "
                             "(for scripts and shell prompts)")
    add_debug(parser)


def _iso(value: datetime.datetime | None) -> str | None:
    from .._clock import format_timestamp

    return None if value is None else format_timestamp(value)


def session_status(sso: SSOSessionConfig, now: datetime.datetime,
                   profile: str | None = None) -> dict[str, Any]:
    """What the token cache says about one sso-session; no secrets, no network.

    ``profile`` (one that uses the session) is named in the login command.
    """
    from ..caches._session_end import ends_by
    from ..caches.token import TokenManager

    manager = TokenManager(sso, profile=profile)
    token = manager.cached()
    began = _iso(manager.session_began()) if token is not None else None
    session_duration = sso.settings.session_duration
    if token is None:
        state, expires, refreshable, registration = LOGGED_OUT, None, False, None
    else:
        refreshable = token.can_refresh(lambda: now)
        expires, registration = token.expires_at, token.registration_expires_at
        state = (LOGGED_IN if token.freshness(lambda: now).usable
                 else REFRESHABLE if refreshable else LOGIN_NEEDED)
    return {
        "sso_session": sso.name,
        "start_url": sso.start_url,
        "region": sso.region,
        "state": state,
        "access_token_expires_at": _iso(expires),
        "refreshable": refreshable,
        "registration_expires_at": _iso(registration),
        "session_began_at": began,
        "session_ends_by": ends_by(began, session_duration) if began is not None else None,
        "session_duration": session_duration,
        "login_command": manager.login_command,
    }


def profile_status(profile: SSOProfileConfig, now: datetime.datetime) -> dict[str, Any]:
    """The profile's role and the expiry of its cached role credentials; no secrets, no network."""
    from ..caches._freshness import Freshness
    from ..credentials.role_credentials import RoleCredentialsManager

    credentials = RoleCredentialsManager(profile).cached()
    expires = None if credentials is None else credentials.expiration
    freshness = None if credentials is None else credentials.freshness(lambda: now)
    return {
        "profile": profile.profile,
        "sso_session": profile.sso.name,
        "start_url": profile.sso.start_url,
        "account_id": profile.account_id,
        "role_name": profile.role_name,
        "role_credentials_expire_at": _iso(expires),
        "role_credentials_valid": freshness is not None and freshness.usable,
        "role_credentials_expiring": freshness is Freshness.STALE,
    }


def _selection(config: AWSConfig, profile_name: str | None) \
        -> tuple[dict[SSOSessionConfig, str | None], list[SSOProfileConfig], list[tuple[str, str]]]:
    """The sessions to report (each with the profile that names it in the login command, if
    any), the role profiles, and the profiles whose configuration is broken (name, one line),
    for one profile or for the whole config."""
    from ..config.reader import SSOProfileConfig
    from ..exceptions import SSOConfigError
    from ._common import error_line

    names = [profile_name] if profile_name is not None else config.sso_profiles()
    sessions: dict[SSOSessionConfig, str | None] = {}
    profiles: list[SSOProfileConfig] = []
    broken: list[tuple[str, str]] = []
    for name in names:
        try:
            if config.profile_kind(name) == "sso-role" or config.is_role_chain(name):
                resolved = config.credentials_profile(name)  # a role chain: the SSO profile it ends at
                profile = resolved if isinstance(resolved, SSOProfileConfig) else resolved.sso_profile
                profiles.append(profile)
                sso = profile.sso
            else:
                sso = config.sso_of_profile(name)
        except SSOConfigError as error:
            if profile_name is not None:
                raise
            broken.append((name, error_line(error)))  # one broken profile must not hide the others
            continue
        # Legacy start URLs are logged in through a profile; sso-sessions by name.
        sessions.setdefault(sso, name if sso.is_legacy or profile_name is not None else None)
    if profile_name is None:
        for name in config.sso_session_names():
            try:
                sessions.setdefault(config.sso_session(name), None)
            except SSOConfigError as error:
                broken.append((f"sso-session {name}", error_line(error)))
    return sessions, profiles, broken


def _at(now: datetime.datetime) -> Callable[[str | None], str]:
    from .._clock import parse_timestamp

    def at(text: str | None) -> str:
        return moment(parse_timestamp(text), now) if text else "unknown"

    return at


def _session_heading(item: dict[str, Any]) -> str:
    name = (f'sso-session "{item["sso_session"]}"' if item["sso_session"] else "legacy SSO profile")
    return f'{name} ({item["start_url"]}, {item["region"]})'


def _session_lines(item: dict[str, Any], at: Callable[[str | None], str]) -> list[str]:
    """Every line about one session (``--all`` and one profile)."""
    lines = [_session_heading(item)]
    state = item["state"]
    if state == LOGGED_OUT:
        return [*lines, f"  not logged in: {item['login_command']}"]
    lines.append({
        LOGGED_IN: "  logged in: the access token expires " + at(item["access_token_expires_at"]),
        REFRESHABLE: "  logged in: the access token expired " + at(item["access_token_expires_at"])
                     + " and is refreshed on next use",
        LOGIN_NEEDED: "  login needed: the access token expired " + at(item["access_token_expires_at"])
                      + f" and cannot be refreshed: {item['login_command']}",
    }[state])
    lines.append(_session_line(item, at))
    if item["refreshable"]:
        lines.append("  refreshable: yes, while the SSO session lasts (client registration expires "
                     f"{at(item['registration_expires_at'])})")
    elif state == LOGGED_IN:
        lines.append("  refreshable: no, log in again when it expires")
    return lines


def _session_brief(item: dict[str, Any], at: Callable[[str | None], str]) -> str:
    """One line: the session's state, its token and when it ends (the summary)."""
    state = item["state"]
    if state == LOGGED_OUT:
        return f"  not logged in: {item['login_command']}"
    if state == LOGIN_NEEDED:
        return (f"  login needed: the access token expired {at(item['access_token_expires_at'])}: "
                f"{item['login_command']}")
    token = ("the access token expires " if state == LOGGED_IN else
             "the access token expired (refreshed on next use) ") + at(item["access_token_expires_at"])
    refresh = "refreshable" if item["refreshable"] else "not refreshable"
    end = f"; the session ends by {at(item['session_ends_by'])}" if item["session_ends_by"] else ""
    return f"  logged in: {token}; {refresh}{end}"


def _profile_lines(item: dict[str, Any], at: Callable[[str | None], str], note: str = "") -> list[str]:
    where = (f'sso-session "{item["sso_session"]}"' if item["sso_session"] else item["start_url"])
    lines = [f'profile "{item["profile"]}"{note}: account {item["account_id"]}, '
             f'role {item["role_name"]} ({where})']
    expires = item["role_credentials_expire_at"]
    if expires is None:
        lines.append("  role credentials: none cached")
    else:
        verb = "expire" if item["role_credentials_valid"] else "expired"
        lines.append(f"  role credentials: cached, {verb} {at(expires)}")
    return lines


def _text(sessions: list[dict[str, Any]], profiles: list[dict[str, Any]],
          now: datetime.datetime) -> str:
    """Every session and every profile, one by one (``--all``, and ``--profile``)."""
    at = _at(now)
    lines: list[str] = []
    for item in sessions:
        lines.extend(_session_lines(item, at))
    for item in profiles:
        lines.extend(_profile_lines(item, at))
    return "\n".join(lines)


_SHOWN = 3
"""Profiles named per kind in the summary (expiring, broken); the others are counted."""


def _label(name: str) -> str:
    """How a broken entry is named: an sso-session as it is, a profile as ``profile "NAME"``."""
    return name if name.startswith("sso-session ") else f'profile "{name}"'


def _summary(sessions: list[dict[str, Any]], profiles: list[dict[str, Any]],
             broken: list[tuple[str, str]], default: str | None, now: datetime.datetime) -> str:
    """The sessions, how many profiles each has and in what state, then the profiles that
    matter: ``default`` (the profile botocore uses), expiring and broken ones; a few lines,
    however many profiles there are."""
    at = _at(now)
    lines: list[str] = []
    for item in sessions:
        lines.append(_session_heading(item))
        lines.append(_session_brief(item, at))
        own = [p for p in profiles if (p["sso_session"], p["start_url"]) ==
               (item["sso_session"], item["start_url"])]
        if own:
            valid = sum(p["role_credentials_valid"] for p in own)
            expired = sum(p["role_credentials_expire_at"] is not None and not p["role_credentials_valid"]
                          for p in own)
            counts = [f"{valid} with valid role credentials cached"]
            if expired:
                counts.append(f"{expired} with expired ones")
            counts.append(f"{len(own) - valid - expired} with none cached")
            lines.append(f"  {len(own)} profile{'s' * (len(own) != 1)}: {', '.join(counts)}")
    chosen = next((p for p in profiles if p["profile"] == default), None)
    if chosen is not None:
        lines.extend(_profile_lines(chosen, at, " (the default profile)"))
    expiring = [p for p in profiles if p["role_credentials_expiring"] and p is not chosen]
    for item in expiring[:_SHOWN]:
        lines.append(f'profile "{item["profile"]}": role credentials expire '
                     f'{at(item["role_credentials_expire_at"])} (renewed on next use)')
    if len(expiring) > _SHOWN:
        lines.append(f"  and {len(expiring) - _SHOWN} more profiles whose role credentials expire "
                     "within 15 minutes")
    for name, reason in broken[:_SHOWN]:
        lines.append(f"{_label(name)}: not usable: {reason}")
    if len(broken) > _SHOWN:
        lines.append(f"  and {len(broken) - _SHOWN} more not usable (boto-sso-oidc doctor names each)")
    if len(profiles) > 1 or broken:
        unusable = f" and {len(broken)} not usable" if broken else ""
        lines.append(f"{len(profiles)} SSO profile{'s' * (len(profiles) != 1)}{unusable}: "
                     "boto-sso-oidc status --all lists every one, --profile NAME shows one.")
    return "\n".join(lines)


def _session_line(item: dict[str, Any], at: Callable[[str | None], str]) -> str:
    """When the SSO session began and ends at the latest, as far as this machine knows."""
    began, end = item["session_began_at"], item["session_ends_by"]
    if began is None:
        return ("  SSO session: start unknown, so its end too (the token was written by another "
                "tool, such as the AWS CLI)")
    if end is None:
        return (f"  SSO session: began {at(began)} (this machine's login); its end is not estimated "
                "(boto_sso_oidc_session_duration = 0)")
    return (f"  SSO session: began {at(began)} (this machine's login)\n"
            f"  session end: {at(end)} at the latest (boto_sso_oidc_session_duration "
            f"{duration(item['session_duration'])}; a login inside a live browser session ends with it)")


def check(profile: str | None) -> int:
    """``status --check``: 0 if role credentials can be had with no login (a refresh may be
    made), 1 otherwise; nothing is printed, not even a warning."""
    import logging

    logging.disable(logging.CRITICAL)
    try:
        from ..sessions import role_credentials_manager

        role_credentials_manager(profile, allow_login=False).get()
    except Exception:  # any reason at all means "not without a person": the exit code says it
        return EXIT_FAILURE
    return EXIT_OK


def _named_profile(args: argparse.Namespace) -> str | None:
    """The profile to report on: ``--profile``, else the one ``AWS_PROFILE`` (or
    ``AWS_DEFAULT_PROFILE``) names, as botocore reads them; None for the summary (or ``--all``)."""
    import os

    from ..config._loader import default_profile

    if args.profile is not None or args.all:
        return str(args.profile) if args.profile is not None else None
    if os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE"):
        return default_profile()
    return None


def run(args: argparse.Namespace) -> int:
    if args.check:
        return check(args.profile)
    setup_logging(args.debug)
    named = _named_profile(args)
    try:
        from .._clock import utc_now
        from ..config.reader import AWSConfig

        now = utc_now()
        config = AWSConfig.load()
        sessions_config, profiles_config, broken = _selection(config, named)
        sessions = [session_status(sso, now, profile) for sso, profile in sessions_config.items()]
        profiles = [profile_status(profile, now) for profile in profiles_config]
    except Exception as error:  # one line for a person, never a traceback
        return report("status", error, debug=args.debug, profile=named)
    if args.json:
        print_json({"sso_sessions": sessions, "profiles": profiles})
    elif sessions:
        from ..logins._interaction import sanitize

        text = (_text(sessions, profiles, now) if named is not None or args.all else
                _summary(sessions, profiles, broken, config.default_profile(), now))
        if args.all:
            text += "".join(f"\n{_label(name)}: not usable: {reason}" for name, reason in broken)
        # Names and URLs come from the config: nothing a terminal would act on gets through.
        print("\n".join(sanitize(line) for line in text.split("\n")))
    if not sessions:  # nothing to show: a new machine, or the wrong AWS_CONFIG_FILE
        from ..config._loader import config_file

        return fail("status", f"no SSO profile or sso-session in the AWS config ({config_file()}): "
                              "set one up with boto-sso-oidc configure.")
    if named is not None and sessions[0]["state"] not in (LOGGED_IN, REFRESHABLE) and not (
            profiles and profiles[0]["role_credentials_valid"]):
        return fail("status", f'profile "{named}" needs a login: {sessions[0]["login_command"]}')
    return EXIT_OK
