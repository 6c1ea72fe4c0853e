"""``boto-sso-oidc logout``: end SSO sessions and forget what they cached.

For the chosen sso-session (or legacy start URL), calls SSO Logout while the
access token is valid, then deletes that session's token and the cached role
credentials of its profiles, and nothing else: other sessions' caches stay.
``--all`` does this for every sso-session and legacy start URL in the AWS
config.

Exit codes: 0 done (also when nothing was cached); 1 failure for at least
one session (one line on stderr each); 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ._common import EXIT_FAILURE, EXIT_OK, add_debug, add_profile_or_session, report, setup_logging

if TYPE_CHECKING:  # pragma: no cover
    from ..config import SSOSessionConfig


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Exit codes: 0 logged out, 1 failure (reason on stderr), 2 bad usage."
    add_profile_or_session(
        parser, all_option="log out of every sso-session and legacy start URL in the AWS config")
    add_debug(parser)


def every_session(full_config: Any) -> list[SSOSessionConfig | Exception]:
    """Every sso-session of the config, then every legacy start URL (through its first profile).

    A session whose settings are broken comes back as its :class:`SSOConfigError`, so the
    others are still logged out.
    """
    from ..config import SSOSessionConfig, resolve_profile, resolve_sso_session
    from ..exceptions import SSOConfigError

    found: list[SSOSessionConfig | Exception] = []
    for name in sorted(full_config.get("sso_sessions", {})):
        try:
            found.append(resolve_sso_session(name, full_config))
        except SSOConfigError as error:
            found.append(error)
    legacy_urls: set[str] = set()
    for name, values in sorted(full_config.get("profiles", {}).items()):
        url = values.get("sso_start_url")
        if not url or values.get("sso_session") or url in legacy_urls:
            continue
        legacy_urls.add(url)
        try:
            resolved = resolve_profile(name, full_config, require_role=False)
        except SSOConfigError as error:
            found.append(error)
            continue
        found.append(resolved if isinstance(resolved, SSOSessionConfig) else resolved.sso)
    return found


def run(args: argparse.Namespace) -> int:
    setup_logging(args.debug)
    try:
        from ..config import load_full_config, resolve

        full_config = load_full_config()
        targets: list[SSOSessionConfig | Exception] = (
            every_session(full_config) if args.all
            else [resolve(args.profile, args.sso_session, full_config=full_config)])
    except Exception as error:  # one line for a person, never a traceback
        return report("logout", error, debug=args.debug)
    if not targets:
        print("No sso-session or SSO start URL in the AWS config: nothing to log out of.",
              file=sys.stderr)
        return EXIT_OK
    status = EXIT_OK
    for sso in targets:
        try:
            if isinstance(sso, Exception):
                raise sso
            from ..token import end_session

            was_logged_in = end_session(sso)
        except Exception as error:  # go on with the other sessions
            status = report("logout", error, debug=args.debug)
            continue
        print(f"Logged out of {sso.display_name}." if was_logged_in
              else f"{sso.display_name} was not logged in; its cached credentials are gone too.",
              file=sys.stderr)
    return status if status == EXIT_OK else EXIT_FAILURE
