"""``boto-sso-oidc login``: log in to an sso-session with the device authorization flow.

An explicit login always runs the flow, whatever ``sso_auto_login`` says: the
URL and code go to stderr, a browser opens unless ``--no-browser`` (or
``sso_open_browser = false``), and the token is cached where the AWS CLI v2
keeps it. On success one line on stderr says which session and until when.

Exit codes: 0 logged in; 1 failure (denied, expired, config; one line on
stderr); 2 usage; 130 cancelled with Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys

from ._common import EXIT_OK, add_debug, add_profile_or_session, moment, report, setup_logging


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("Exit codes: 0 logged in, 1 failure (reason on stderr), 2 bad usage, "
                     "130 cancelled.")
    add_profile_or_session(parser)
    parser.add_argument("--no-browser", action="store_true",
                        help="do not open a browser: print the URL and code only")
    add_debug(parser)


def run(args: argparse.Namespace) -> int:
    setup_logging(args.debug)
    try:
        from .._clock import utc_now
        from ..sessions import token_manager

        manager = token_manager(args.profile, args.sso_session,
                                open_browser=False if args.no_browser else None)
        token = manager.login()
    except Exception as error:  # one line for a person, never a traceback
        return report("login", error, debug=args.debug)
    now = utc_now()
    until = ("then it is refreshed automatically while the SSO session lasts; the client "
             f"registration expires {moment(token.registration_expires_at, now)}"
             if token.can_refresh() and token.registration_expires_at is not None
             else f"then log in again with: {manager.login_command}")
    print(f"{manager.sso.display_name} ({manager.sso.start_url}): the access token expires "
          f"{moment(token.expires_at, now)}; {until}.", file=sys.stderr)
    return EXIT_OK
