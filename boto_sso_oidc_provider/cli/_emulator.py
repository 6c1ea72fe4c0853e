"""``boto-sso-oidc emulator``: run the local IAM Identity Center emulator until stopped.

The first line on stdout is the base URL (``http://127.0.0.1:54321``), printed
once the server is listening, so a script can read it and set
``AWS_ENDPOINT_URL``. Nothing else goes to stdout. SIGINT and SIGTERM stop the
server cleanly with exit code 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from . import EXIT_FAILURE, EXIT_OK


def _seconds(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also refuses NaN
        raise argparse.ArgumentTypeError("must be a number of seconds, 0 or more")
    return value


def _count(minimum: int) -> Any:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer, {minimum} or more")
        return value
    return parse


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's options (defaults are IAM Identity Center's own)."""
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=_count(0), default=0,
                        help="port to listen on; 0 picks a free one (default: 0)")
    parser.add_argument("--auto-approve", action="store_true",
                        help="approve every login after its first pending poll")
    parser.add_argument("--state", metavar="FILE",
                        help="JSON file with the user, accounts and roles to serve")
    timings = parser.add_argument_group("lifetimes (seconds)")
    for flag, help_text, default in (
        ("--access-token-ttl", "access token lifetime", 3600),
        ("--refresh-token-ttl", "SSO session (and refresh token) lifetime", 8 * 3600),
        ("--role-credentials-ttl", "role credentials lifetime", 3600),
        ("--device-code-ttl", "device code lifetime", 600),
        ("--registration-ttl", "client registration lifetime", 90 * 24 * 3600),
    ):
        timings.add_argument(flag, type=_seconds, default=default, metavar="S",
                             help=f"{help_text} (default: {default})")
    timings.add_argument("--interval", type=_count(0), default=1, metavar="S",
                         help="device flow polling interval; 0 allows any rate (default: 1)")
    parser.add_argument("--page-size", type=_count(1), default=20, metavar="N",
                        help="ListAccounts/ListAccountRoles page size (default: 20)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; 0 then, 1 if the state file or address is unusable."""
    from ..emulator import Directory, DirectoryError, EmulatorConfig, EmulatorServer

    try:
        directory = Directory.from_file(args.state) if args.state else Directory()
        config = EmulatorConfig(
            host=args.host, port=args.port, auto_approve=args.auto_approve,
            access_token_ttl=args.access_token_ttl, refresh_token_ttl=args.refresh_token_ttl,
            role_credentials_ttl=args.role_credentials_ttl, device_code_ttl=args.device_code_ttl,
            interval=args.interval, registration_ttl=args.registration_ttl,
            page_size=args.page_size, directory=directory, verbose=args.verbose,
        )
        server = EmulatorServer(config)
    except DirectoryError as error:
        print(f"boto-sso-oidc emulator: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as error:
        print(f"boto-sso-oidc emulator: cannot listen on {args.host}:{args.port}: "
              f"{error.strerror or error}", file=sys.stderr)
        return EXIT_FAILURE

    stop = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    thread = threading.Thread(target=server.serve_forever, name="sso-emulator", daemon=True)
    thread.start()
    try:
        print(server.url, flush=True)
        if args.verbose:
            print(f"IAM Identity Center emulator serving at {server.url}", file=sys.stderr)
        # A timed wait keeps the main thread responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        thread.join()
        server.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return EXIT_OK
