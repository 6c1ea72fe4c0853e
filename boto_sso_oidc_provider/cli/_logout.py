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
from typing import TYPE_CHECKING

from ._common import EXIT_FAILURE, EXIT_OK, add_debug, add_profile_or_session, report, setup_logging

if TYPE_CHECKING:  # pragma: no cover
    from ..config.reader import SSOSessionConfig
    from ..exceptions import SSOConfigError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Exit codes: 0 logged out, 1 failure (reason on stderr), 2 bad usage."
    add_profile_or_session(
        parser, all_option="log out of every sso-session and legacy start URL in the AWS config")
    add_debug(parser)


def run(args: argparse.Namespace) -> int:
    setup_logging(args.debug)
    try:
        from ..config.reader import AWSConfig

        config = AWSConfig.load()
        targets: list[SSOSessionConfig | SSOConfigError] = (
            config.every_session() if args.all else [config.resolve(args.profile, args.sso_session)])
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
            from ..sessions import end_session, options_for

            was_logged_in = end_session(sso, config, options=options_for(session=config.botocore_session))
        except Exception as error:  # go on with the other sessions
            status = report("logout", error, debug=args.debug)
            continue
        print(f"Logged out of {sso.display_name}." if was_logged_in
              else f"{sso.display_name} was not logged in; its cached credentials are gone too.",
              file=sys.stderr)
    return status if status == EXIT_OK else EXIT_FAILURE
