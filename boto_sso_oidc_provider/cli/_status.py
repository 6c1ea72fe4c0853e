"""``boto-sso-oidc status``: who is logged in, and until when, from the caches alone.

For each sso-session (or legacy start URL) it reports what the token cache
knows: whether an access token is cached and when it expires, whether it can
be refreshed, and when the client registration expires (the SSO session's
own end is known only to the service, so it is not shown). For each SSO
profile: its account, role and when its cached role credentials expire. It
makes no network call and never prints a token, key or secret.

With ``--profile``, only that profile and its session (a ``role_arn``
profile: the SSO profile and session its chain ends at). Exit codes: 0 report
printed (with ``--profile``: and the session is usable, valid or refreshable);
1 a login is needed for that profile, the config is wrong, or it has no SSO
profile or sso-session at all (one line on stderr, naming ``configure``); 2 usage.

``--check`` prints nothing and answers one question for scripts and shell prompts: can the
profile's credentials be had without a person? Exit 0 yes (cached, or through a refresh, which
it then makes), 1 no (a login is needed, or the profile is not usable).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ._common import (
    EXIT_FAILURE,
    EXIT_OK,
    add_debug,
    add_json,
    add_profile,
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
    parser.epilog = ("Exit codes: 0 report printed (with --profile: logged in or refreshable), "
                     "1 login needed, config error or no SSO profile at all, 2 bad usage.")
    add_profile(parser, what="report on this profile and its session only",
                default="every SSO profile and sso-session of the AWS config")
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
    from ..credentials.role_credentials import RoleCredentialsManager

    credentials = RoleCredentialsManager(profile).cached()
    expires = None if credentials is None else credentials.expiration
    return {
        "profile": profile.profile,
        "sso_session": profile.sso.name,
        "start_url": profile.sso.start_url,
        "account_id": profile.account_id,
        "role_name": profile.role_name,
        "role_credentials_expire_at": _iso(expires),
        "role_credentials_valid": credentials is not None and credentials.freshness(lambda: now).usable,
    }


def _selection(config: AWSConfig, profile_name: str | None) \
        -> tuple[dict[SSOSessionConfig, str | None], list[SSOProfileConfig]]:
    """The sessions to report (each with the profile that names it in the login command, if
    any) and the role profiles, for one profile or for the whole config."""
    from ..config.reader import SSOProfileConfig
    from ..exceptions import SSOConfigError

    names = [profile_name] if profile_name is not None else config.sso_profiles()
    sessions: dict[SSOSessionConfig, str | None] = {}
    profiles: list[SSOProfileConfig] = []
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
            _skip(error)  # one broken profile must not hide the others
            continue
        # Legacy start URLs are logged in through a profile; sso-sessions by name.
        sessions.setdefault(sso, name if sso.is_legacy or profile_name is not None else None)
    if profile_name is None:
        for name in config.sso_session_names():
            try:
                sessions.setdefault(config.sso_session(name), None)
            except SSOConfigError as error:
                _skip(error)
    return sessions, profiles


def _skip(error: BaseException) -> None:
    from ._common import error_line

    print(f"boto-sso-oidc status: skipped: {error_line(error)}", file=sys.stderr)


def _text(sessions: list[dict[str, Any]], profiles: list[dict[str, Any]],
          now: datetime.datetime) -> str:
    from .._clock import parse_timestamp

    def at(text: str | None) -> str:
        return moment(parse_timestamp(text), now) if text else "unknown"

    lines: list[str] = []
    for item in sessions:
        name = (f'sso-session "{item["sso_session"]}"' if item["sso_session"]
                else "legacy SSO profile")
        lines.append(f'{name} ({item["start_url"]}, {item["region"]})')
        state = item["state"]
        if state == LOGGED_OUT:
            lines.append(f"  not logged in: {item['login_command']}")
            continue
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
    for item in profiles:
        where = (f'sso-session "{item["sso_session"]}"' if item["sso_session"] else item["start_url"])
        lines.append(f'profile "{item["profile"]}": account {item["account_id"]}, '
                     f'role {item["role_name"]} ({where})')
        expires = item["role_credentials_expire_at"]
        if expires is None:
            lines.append("  role credentials: none cached")
        else:
            verb = "expire" if item["role_credentials_valid"] else "expired"
            lines.append(f"  role credentials: cached, {verb} {at(expires)}")
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


def run(args: argparse.Namespace) -> int:
    if args.check:
        return check(args.profile)
    setup_logging(args.debug)
    try:
        from .._clock import utc_now
        from ..config.reader import AWSConfig

        now = utc_now()
        sessions_config, profiles_config = _selection(AWSConfig.load(), args.profile)
        sessions = [session_status(sso, now, profile) for sso, profile in sessions_config.items()]
        profiles = [profile_status(profile, now) for profile in profiles_config]
    except Exception as error:  # one line for a person, never a traceback
        return report("status", error, debug=args.debug, profile=args.profile)
    if args.json:
        print_json({"sso_sessions": sessions, "profiles": profiles})
    elif sessions:
        print(_text(sessions, profiles, now))
    if not sessions:  # nothing to show: a new machine, or the wrong AWS_CONFIG_FILE
        from ..config._loader import config_file

        return fail("status", f"no SSO profile or sso-session in the AWS config ({config_file()}): "
                              "set one up with boto-sso-oidc configure.")
    if args.profile is not None and sessions[0]["state"] not in (LOGGED_IN, REFRESHABLE):
        return fail("status", f'profile "{args.profile}" needs a login: {sessions[0]["login_command"]}')
    return EXIT_OK
