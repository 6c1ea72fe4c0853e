"""``boto-sso-oidc login``: log in to an sso-session, in the browser or with a device code.

As ``aws sso login`` (AWS CLI v2): the browser flow (authorization code with
PKCE) where a browser can be opened on this machine (a display, ``BROWSER``,
macOS, WSL) or a redirect port is fixed (``--redirect-port``,
``boto_sso_oidc_redirect_port``); the device flow (a URL and a code to confirm)
with ``--use-device-code``, ``boto_sso_oidc_use_device_code`` or
``BOTO_SSO_OIDC_USE_DEVICE_CODE`` and for legacy profiles. Where the browser is
on another machine (an SSH session without a forwarded display, a container),
``--remote`` (the default there at a terminal): the URL is printed and the
person pastes back the address the browser ended on; without a terminal, the
device flow. See docs/login.md. An explicit login always runs,
whatever ``boto_sso_oidc_auto_login`` says, unless the cached access token
is still valid beyond the refresh window: then nothing is called and one line
says until when it holds (``--force`` signs out of that session with SSO
Logout, forgets its token and logs in anew). Otherwise the URL goes to stderr, a
browser opens unless ``--no-browser`` (or ``boto_sso_oidc_open_browser =
false``), and the token is cached where the AWS CLI v2 keeps it. On success
one line on stderr says which session and until when.

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
                        help="do not open a browser: print the URL (and code) only")
    parser.add_argument("--use-device-code", action="store_true",
                        help="log in with the device flow (a URL and a code) even where a "
                             "browser could be opened")
    parser.add_argument("--force", action="store_true",
                        help="start a new SSO session even if the current one is still valid: "
                             "sign out of it (SSO Logout), forget its token, log in anew")
    parser.add_argument("--redirect-port", type=_port, metavar="PORT",
                        help="browser flow: listen for the browser on this 127.0.0.1 port "
                             "instead of a random one (for a browser elsewhere, with the port "
                             "forwarded: ssh -L PORT:127.0.0.1:PORT); implies the browser flow "
                             "(default: boto_sso_oidc_redirect_port)")
    parser.add_argument("--remote", action="store_true",
                        help="browser flow for a browser on another machine, without a "
                             "forwarded port: print the URL, then paste the address the browser "
                             "ends on (not echoed). The default in an SSH session without a "
                             "forwarded display and in a container, at a terminal")
    add_debug(parser)


def _port(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be a port number from 1 to 65535")
    return value


def run(args: argparse.Namespace) -> int:
    setup_logging(args.debug)
    try:
        from .._clock import utc_now
        from ..caches._freshness import Freshness
        from ..options import Options
        from ..sessions import token_manager

        manager = token_manager(args.profile, args.sso_session,
                                open_browser=False if args.no_browser else None,
                                options=Options(use_device_code=True if args.use_device_code else None,
                                                redirect_port=args.redirect_port,
                                                remote=True if args.remote else None))
        if not args.force:
            current = manager.cached()
            if current is not None and current.freshness(window=manager.refresh_window) is Freshness.FRESH:
                # Usable beyond the refresh window: a new login would change nothing.
                print(f"{manager.sso.display_name} ({manager.sso.start_url}): already logged in; "
                      f"the access token is valid until {moment(current.expires_at, utc_now())} "
                      "and no login is needed. `--force` starts a new session.", file=sys.stderr)
                return EXIT_OK
        else:
            from ..sessions import logout

            # SSO Logout with the current token, which is then forgotten with every role
            # credential of the session it signed out (and its account directory)
            logout(args.profile, args.sso_session)
        token = manager.login()
    except Exception as error:  # one line for a person, never a traceback (Ctrl-C: exit 130)
        return report("login", error, debug=args.debug)
    now = utc_now()
    until = ("then it is refreshed automatically while the SSO session lasts; the client "
             f"registration expires {moment(token.registration_expires_at, now)}"
             if token.can_refresh() and token.registration_expires_at is not None
             else f"then log in again with: {manager.login_command}")
    print(f"{manager.sso.display_name} ({manager.sso.start_url}): the access token expires "
          f"{moment(token.expires_at, now)}; {until}.", file=sys.stderr)
    return EXIT_OK
