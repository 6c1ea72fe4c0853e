"""``boto-sso-oidc serve``: a profile's role credentials as a long-running container-credentials endpoint.

Prints the two variables that point every AWS SDK at it::

    export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:PORT/role-credentials
    export AWS_CONTAINER_AUTHORIZATION_TOKEN=<random token, new each start>

and serves until SIGINT or SIGTERM. Credentials come from the shared
role-credential cache and are renewed through its lock (see
:mod:`boto_sso_oidc_provider.servers.container`). The profile's
credentials are checked once at start, logging in if a person can answer;
after that the server never prompts: when the SSO session ends, requests get
an error naming the login command (logged once), and the next request after
``boto-sso-oidc login`` is served again, without a restart.

Exit codes: 0 stopped by SIGTERM; 130 stopped by Ctrl-C (SIGINT); 1 could
not start (the reason on stderr); 2 bad usage.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import shlex
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._common import EXIT_OK, add_debug, add_profile, report, setup_logging

if TYPE_CHECKING:  # pragma: no cover
    from ..config import AWSConfig
    from ..role_credentials import RoleCredentials
    from ..servers.container import CredentialsEndpoint

FORMATS = ("env", "dotenv", "json")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("Run it in its own terminal or as a service; set the two variables it prints where "
                     "the SDKs run. Exit codes: 0 stopped by SIGTERM, 130 stopped by Ctrl-C, 1 could not "
                     "start (reason on stderr), 2 bad usage.")
    add_profile(parser, what="the SSO profile whose role credentials to serve")
    add_endpoint_options(parser)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; over plain http the SDKs accept "
                             "only loopback addresses, localhost, 169.254.170.2, 169.254.170.23 and "
                             "fd00:ec2::23)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    parser.add_argument("--format", choices=FORMATS, default="env",
                        help="how to print the two variables: env (shell export lines, default), "
                             "dotenv (KEY=value, for docker --env-file), json")
    add_debug(parser)


def add_endpoint_options(parser: argparse.ArgumentParser) -> None:
    """Options ``serve`` and ``exec`` share."""
    parser.add_argument("--request-timeout", type=_seconds, default=5.0, metavar="SECONDS",
                        help="a request must be complete within this many seconds (default 5; more "
                             "than 0, at most 3600)")


def _seconds(text: str) -> float:
    """argparse type: a finite number of seconds, more than 0 and at most an hour."""
    from ..servers._http import check_timeout

    try:
        return check_timeout(float(text), "it")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds greater than 0 and at most 3600") from None


def credentials_source(config: AWSConfig, profile: str, *,
                       allow_login: bool | None) -> Callable[[], RoleCredentials]:
    """The profile's credentials (an SSO role, or a role chain ending at one), renewed through
    the locked shared caches when needed.

    ``allow_login`` False: never prompt (a server's requests, a command's
    terminal); None: as the profile's settings and the terminal decide.
    Raises :class:`SSOConfigError` for a profile that is neither a complete SSO
    profile nor a role chain ending at one.
    """
    from ..chained import profile_credentials
    from ..options import Options

    return profile_credentials(config, profile, options=Options(allow_login=allow_login)).get


def start_endpoint(config: AWSConfig, profile: str, *, host: str = "127.0.0.1", port: int = 0,
                   request_timeout: float = 5.0) -> CredentialsEndpoint:
    """Check ``profile``'s credentials once (logging in if a person can answer), then serve them.

    The endpoint is serving (in a daemon thread) when this returns; it renews
    without ever prompting. Raises the package's typed errors and
    :class:`OSError` when the address cannot be bound.
    """
    from ..servers.container import CredentialsEndpoint

    credentials_source(config, profile, allow_login=None)()
    endpoint = CredentialsEndpoint(credentials_source(config, profile, allow_login=False), host=host,
                                   port=port, request_timeout=request_timeout)
    return endpoint.start()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def render(variables: dict[str, str], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(variables, indent=2)
    if fmt == "dotenv":
        return "\n".join(f"{name}={value}" for name, value in variables.items())
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in variables.items())


def run(args: argparse.Namespace) -> int:
    from .._warm import default_profile

    profile = args.profile or default_profile()
    setup_logging(args.debug)
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        received.append(signum)
        stop.set()

    try:  # Ctrl-C during a login at start is KeyboardInterrupt: exit code 130
        from ..config import AWSConfig

        endpoint = start_endpoint(AWSConfig.load(), profile, host=args.host, port=args.port,
                                  request_timeout=args.request_timeout)
    except Exception as error:  # one line for a person, never a traceback
        return report("serve", error, debug=args.debug, profile=profile)
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            if not _is_loopback(args.host):
                print(f"boto-sso-oidc serve: listening on {args.host}, not a loopback address: anything "
                      "that can reach it and has the token gets the credentials.", file=sys.stderr)
            sys.stdout.write(render(endpoint.environment(), args.format) + "\n")
            sys.stdout.flush()
            print(f'boto-sso-oidc serve: serving the role credentials of profile "{profile}" at '
                  f"{endpoint.url}; stop with Ctrl-C or SIGTERM.", file=sys.stderr, flush=True)
            while not stop.wait(0.5):
                pass
        finally:
            endpoint.shutdown()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received and received[0] == signal.SIGINT:
        print("boto-sso-oidc serve: stopped (interrupted)", file=sys.stderr)
        return 130
    print("boto-sso-oidc serve: stopped", file=sys.stderr)
    return EXIT_OK
