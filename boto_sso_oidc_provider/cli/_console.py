"""``boto-sso-oidc console``: sign in to the AWS console with a profile's role credentials.

Gets the profile's role credentials (from the cache, refreshing or logging in
as ``export`` does; a ``role_arn`` profile's through its role chain),
exchanges them at the federation endpoint for a sign-in token (see
:mod:`boto_sso_oidc_provider.credentials.console`) and opens the console in a browser, or
with ``--url`` prints the sign-in URL on stdout (it signs anyone in for 15
minutes: treat it as a secret).

The browser is never given the sign-in URL on its command line (which every local user can
read in ``/proc``): it opens a page that redirects to it, written owner-only
(``~/.aws/boto-sso-oidc/console/<random>.html``, 0600 in a 0700 directory); pages older than
the token's 15 minutes are deleted by the next ``console``.

Credentials of a chained role (``role_arn`` via ``source_profile``) sign in
too, but the federation endpoint refuses a ``SessionDuration`` for them (their
console session lasts 1 hour): ``--session-duration`` is refused for such a
profile before anything is fetched.

Exit codes: 0 opened (or printed); 1 failure (one line on stderr); 2 usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ._common import EXIT_OK, add_profile, fail, report, setup_logging

if TYPE_CHECKING:  # pragma: no cover
    from ..config.reader import AWSConfig


def _duration(text: str) -> int:
    from ..credentials.console import MAX_SESSION_DURATION, MIN_SESSION_DURATION

    try:
        value = int(text)
    except ValueError:
        value = -1
    if not MIN_SESSION_DURATION <= value <= MAX_SESSION_DURATION:
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds from {MIN_SESSION_DURATION} to {MAX_SESSION_DURATION}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    from ..credentials.console import MAX_SESSION_DURATION, MIN_SESSION_DURATION

    parser.epilog = ("Example: boto-sso-oidc console --profile dev --destination s3. "
                     "Exit codes: 0 opened or printed, 1 failure (reason on stderr), 2 bad usage.")
    add_profile(parser, what="the SSO profile whose role to sign in as")
    parser.add_argument("--destination", metavar="URL|SERVICE",
                        help="the console page to open: a full https:// URL, or a service name such as "
                             "s3 or ec2 (default: the console home of the profile's region)")
    parser.add_argument("--session-duration", type=_duration, metavar="SECONDS", dest="session_duration",
                        help=f"how long the console session lasts, {MIN_SESSION_DURATION} to "
                             f"{MAX_SESSION_DURATION} seconds "
                             "(default: the federation endpoint's, 12 hours; a chained role's "
                             "console session lasts 1 hour and takes no --session-duration)")
    parser.add_argument("--url", action="store_true",
                        help="print the sign-in URL on stdout instead of opening a browser "
                             "(anyone holding it can sign in for 15 minutes)")


def _region(config: AWSConfig, profile: str, region: str | None) -> str | None:
    return region or config.profile_value(profile, "region")


def _chained_duration_refused(config: AWSConfig, profile: str, duration: int | None) -> str | None:
    """Why ``--session-duration`` cannot be given for ``profile``, if it cannot."""
    if duration is None or not config.is_role_chain(profile):
        return None
    return (f'profile "{profile}" assumes its role with role credentials (role chaining, role_arn via '
            "source_profile), and the federation endpoint refuses a SessionDuration for such "
            "credentials: the console session lasts 1 hour. Leave out --session-duration.")


def _signin_page(url: str) -> Path:
    """An owner-only page that sends the browser on to ``url`` (see the module docstring);
    pages older than a sign-in token's life are deleted first."""
    import html
    import secrets
    import time

    from .._files import ensure_private_dir
    from ..caches._freshness import CONSOLE_SIGNIN_LIFETIME, Freshness, freshness
    from ..caches._layout import console_page_dir

    directory = Path(console_page_dir())
    ensure_private_dir(directory)
    for old in directory.glob("*.html"):
        try:
            expires_at = old.stat().st_mtime + CONSOLE_SIGNIN_LIFETIME
            if freshness(expires_at, time.time(), 0.0) is Freshness.EXPIRED:
                old.unlink()
        except OSError:
            pass
    page = directory / f"{secrets.token_urlsafe(18)}.html"
    target = html.escape(url, quote=True)
    text = ("<!doctype html><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\">"
            f"<meta http-equiv=\"refresh\" content=\"0;url={target}\"><title>AWS console sign-in</title>"
            f"<p>Signing in to the AWS console... <a href=\"{target}\">continue</a></p>\n")
    fd = os.open(page, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return page


def run(args: argparse.Namespace) -> int:
    from ..config._loader import default_profile
    from ._credentials import process_output

    setup_logging(args.debug)
    profile = args.profile or default_profile()
    try:
        from .._clients import botocore_session, session_network
        from ..config.reader import AWSConfig
        from ..credentials.console import console_destination, federation_endpoint, signin_url

        config = AWSConfig.load()
        refused = _chained_duration_refused(config, profile, args.session_duration)
        if refused is not None:
            return fail("console", refused)
        credentials = process_output(profile, debug=args.debug)
        region = _region(config, profile, args.region)
        url = signin_url(credentials, destination=console_destination(args.destination, region),
                         session_duration=args.session_duration, endpoint=federation_endpoint(region),
                         network=session_network(botocore_session(None, profile)))
    except Exception as error:  # one line for a person, never a traceback
        return report("console", error, debug=args.debug, profile=profile)
    if args.url:
        sys.stdout.write(url + "\n")
        sys.stdout.flush()
        return EXIT_OK
    from ..logins._interaction import open_browser

    try:
        page = _signin_page(url)
    except OSError as error:
        return fail("console", f"cannot write the sign-in page for the browser ({error}); run "
                               f"boto-sso-oidc console --profile {profile} --url instead.")
    if not open_browser(page.as_uri(), local_file=True):
        return fail("console", f'profile "{profile}": no browser could be opened here: run '
                               f"boto-sso-oidc console --profile {profile} --url and open the URL it "
                               "prints (within 15 minutes).")
    print(f'Opened the AWS console in a browser as profile "{profile}".', file=sys.stderr)
    return EXIT_OK
