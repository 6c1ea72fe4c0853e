"""``boto-sso-oidc emulator``: run the local IAM Identity Center emulator until stopped.

The first line on stdout is the base URL (``http://127.0.0.1:54321``), printed
once the server is listening, so a script can read it and set
``AWS_ENDPOINT_URL``. With ``--tls`` (HTTPS with a throwaway CA) the second line
is the path of that CA's certificate, to trust through ``AWS_CA_BUNDLE`` or a
profile's ``ca_bundle``; nothing else goes to stdout. ``--url-file PATH`` also
writes the URL to PATH, atomically and only once the server is listening (a
script started in the background waits for the file, never for a half-written
line); the file is removed when the emulator stops. SIGINT and SIGTERM stop the
server cleanly with exit code 0 (and remove the throwaway CA's directory).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from typing import Any

from ._common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE


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


def _rate_limit(text: str) -> tuple[str, float | None]:
    operation, sep, rate = text.partition("=")
    if not sep:
        return operation.strip(), None
    try:
        value = float(rate)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected OPERATION=TPS with TPS a positive number, "
                                         f"not {text!r}")
    return operation.strip(), value


def _rate_limits(given: list[tuple[str, float | None]]) -> dict[str, float]:
    """``--rate-limit`` values as operation -> TPS; no TPS is IAM Identity Center's own figure."""
    from ..emulator import PORTAL_RATE_LIMITS

    limits: dict[str, float] = {}
    for operation, rate in given:
        if operation == "portal" and rate is None:
            limits.update(PORTAL_RATE_LIMITS)
        elif rate is None:
            if operation not in PORTAL_RATE_LIMITS:
                raise ValueError(f"--rate-limit {operation} needs =TPS (IAM Identity Center "
                                 f"publishes 20 TPS for {', '.join(PORTAL_RATE_LIMITS)})")
            limits[operation] = PORTAL_RATE_LIMITS[operation]
        else:
            limits[operation] = rate
    return limits


_EPILOG = """\
pages (for people, in a browser):
  GET  /                     index: the endpoint to use, logins awaiting approval
  GET  /device               device flow: enter a user code; ?user_code=CODE shows
                             it with Allow/Deny (POST /device/approve, /device/deny)
  GET  /authorize            authorization code + PKCE: the consent page (Allow/Deny,
                             POST /authorize); then 302 to the client's loopback
                             redirect URI with code and state, or error=access_denied.
                             Codes are single-use and expire (--authorization-code-ttl);
                             a wrong PKCE verifier or redirect URI is InvalidGrantException;
                             an unregistered redirect URI is refused on the page
  GET|HEAD /start            a vanity start URL: 302 to --portal-url (never followed)
  GET  /federation           the console sign-in federation endpoint (`console`; point
                             BOTO_SSO_OIDC_FEDERATION_ENDPOINT at <url>/federation):
                             ?Action=getSigninToken&Session=JSON accepts only unexpired
                             credentials it issued, with their own secret and session
                             token; ?Action=login&SigninToken=T&Destination=URL redirects
                             (302) only for a sign-in token it issued, within 15 minutes

services (point AWS_ENDPOINT_URL at the printed URL):
  SSO OIDC   RegisterClient, StartDeviceAuthorization, CreateToken (device code,
             refresh token with rotation, authorization code with PKCE S256); a client
             registered for one grant is refused for the other (UnauthorizedClientException)
  SSO portal GetRoleCredentials, ListAccounts, ListAccountRoles, Logout
  STS        GetCallerIdentity, AssumeRole (SigV4 verified)

control plane (JSON, no authentication):
  POST /_emulator/approve {"userCode": "ABCD-EFGH"}   approve a pending device login
  POST /_emulator/deny    {"userCode": "ABCD-EFGH"}   deny it
  GET  /_emulator/pending                             user codes awaiting a decision
  GET  /_emulator/calls                               requests per operation and grant
  POST /_emulator/faults  {"operation", "error"?, "delay"?, "hold"?, "count"?, "grantType"?}
  GET  /_emulator/faults                              faults still queued
  GET  /_emulator/held                                requests a hold fault keeps waiting
  POST /_emulator/release {}                          let every held request go on
  POST /_emulator/expire  {"what": "access_tokens" | "refresh_tokens" |
                           "role_credentials" | "registrations" | "device_codes" |
                           "authorization_codes"}
  POST /_emulator/reset                               forget tokens, registrations, faults

throttling (off unless asked for):
  --rate-limit OPERATION=TPS   a token bucket for a portal operation (ListAccounts,
                               ListAccountRoles, GetRoleCredentials, Logout): one second
                               of burst, then TooManyRequestsException (HTTP 429);
                               GET /_emulator/calls counts the throttled calls
  --rate-limit portal          IAM Identity Center's published 20 TPS on ListAccounts,
                               ListAccountRoles and GetRoleCredentials

HTTPS (plain HTTP unless asked for):
  --tls                        make a throwaway CA and a certificate it signs for 127.0.0.1,
                               ::1, localhost and --host (needs the cryptography package:
                               pip install 'boto-sso-oidc-provider[emulator-tls]'); the
                               second line on stdout is the CA's path: trust it with
                               AWS_CA_BUNDLE=PATH or ca_bundle = PATH in the profile. Its
                               directory is removed when the emulator stops
  --tls-cert FILE [--tls-key FILE]
                               serve this PEM certificate (chain) and key instead (the key
                               may be in FILE); no extra needed

Exit codes: 0 stopped by SIGINT or SIGTERM, 1 unusable --state file, address, rate limit or
certificate, 2 bad usage.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's options (defaults are IAM Identity Center's own)."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = _EPILOG
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=_count(0), default=0,
                        help="port to listen on; 0 picks a free one (default: 0)")
    parser.add_argument("--auto-approve", action="store_true",
                        help="approve every device login after its first pending poll, and "
                             "every /authorize request at once")
    parser.add_argument("--portal-url", metavar="URL",
                        default="https://d-9067c4e4a1.awsapps.com/start",
                        help="the AWS-owned start URL that /start (a vanity start URL) "
                             "redirects to (default: %(default)s)")
    parser.add_argument("--state", metavar="FILE",
                        help="JSON file with the user, accounts and roles to serve")
    parser.add_argument("--accounts", type=_count(0), metavar="N",
                        help="serve a synthetic organization of N accounts (ids 100000000001 "
                             "on, names 'Account 00001' on) instead of --state's")
    parser.add_argument("--roles-per-account", type=_count(1), default=3, metavar="K",
                        dest="roles_per_account",
                        help="roles of each synthetic account (default: 3: AdministratorAccess, "
                             "ReadOnlyAccess, Billing, then Role4 ...)")
    parser.add_argument("--rate-limit", type=_rate_limit, action="append", default=[],
                        metavar="OPERATION=TPS", dest="rate_limit",
                        help="throttle a portal operation to TPS calls a second (repeatable; "
                             "'portal' alone: IAM Identity Center's 20 TPS); see below")
    parser.add_argument("--latency", type=_seconds, default=0.0, metavar="S",
                        help="seconds every service call takes before its answer (default: 0)")
    timings = parser.add_argument_group("lifetimes (seconds)")
    for flag, help_text, default in (
        ("--access-token-ttl", "access token lifetime", 3600),
        ("--refresh-token-ttl", "SSO session (and refresh token) lifetime", 8 * 3600),
        ("--role-credentials-ttl", "role credentials lifetime", 3600),
        ("--device-code-ttl", "device code lifetime", 600),
        ("--authorization-code-ttl", "authorization code lifetime", 600),
        ("--registration-ttl", "client registration lifetime", 90 * 24 * 3600),
    ):
        timings.add_argument(flag, type=_seconds, default=default, metavar="S",
                             help=f"{help_text} (default: {default})")
    timings.add_argument("--interval", type=_count(0), default=1, metavar="S",
                         help="device flow polling interval; 0 allows any rate (default: 1)")
    parser.add_argument("--page-size", type=_count(1), default=20, metavar="N",
                        help="ListAccounts/ListAccountRoles page size (default: 20)")
    tls = parser.add_argument_group("HTTPS")
    choice = tls.add_mutually_exclusive_group()
    choice.add_argument("--tls", action="store_true",
                        help="serve HTTPS with a throwaway CA; its path is stdout's second line")
    choice.add_argument("--tls-cert", metavar="FILE", dest="tls_cert",
                        help="serve HTTPS with this PEM certificate (chain)")
    tls.add_argument("--tls-key", metavar="FILE", dest="tls_key",
                     help="the private key of --tls-cert (default: in that file)")
    parser.add_argument("--url-file", metavar="PATH", dest="url_file",
                        help="also write the URL to PATH, only once the emulator is serving "
                             "(atomically: the file exists only with the whole URL in it); "
                             "removed when it stops")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")


def _certificate_names(host: str) -> list[str]:
    """What a throwaway server certificate is for: the loopback names, and the address asked
    for (this machine's name when it is every interface)."""
    import ipaddress
    import socket

    names = ["127.0.0.1", "::1", "localhost"]
    try:
        if ipaddress.ip_address(host).is_unspecified:
            names.append(socket.gethostname())
        else:
            names.append(host)
    except ValueError:
        names.append(host)
    return names


def _warn_if_exposed(host: str, url: str, port: int) -> None:
    """Say loudly that a wildcard or non-loopback address lets others in, and how they get here."""
    import ipaddress
    import socket

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if host == "localhost" or (address is not None and address.is_loopback):
        return
    scheme = url.partition(":")[0]
    if address is not None and address.is_unspecified:
        name = socket.gethostname()
        where = (f"on every interface; this machine uses {url} (printed above), other machines "
                 f"{scheme}://{name}:{port}")
    else:
        where = f"on {host}; clients use {scheme}://{host}:{port}"
    print(f"boto-sso-oidc emulator: WARNING: listening {where}. Anyone who can reach it can approve "
          "logins and obtain tokens, and its control plane has no authentication: use it only on "
          "a network you trust.", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; 0 then, 1 if the state file, address or certificate is
    unusable."""
    import shutil
    import tempfile

    from ..emulator._tls import TLSUnavailable, make_throwaway_ca

    if args.tls_key and not args.tls_cert:
        print("boto-sso-oidc emulator: --tls-key needs --tls-cert", file=sys.stderr)
        return EXIT_USAGE
    certfile, keyfile, ca_path, throwaway = args.tls_cert, args.tls_key, None, None
    if args.tls:
        throwaway = tempfile.mkdtemp(prefix="boto-sso-oidc-emulator-tls-")
        try:
            files = make_throwaway_ca(throwaway, _certificate_names(args.host))
        except TLSUnavailable as error:
            shutil.rmtree(throwaway, ignore_errors=True)
            print(f"boto-sso-oidc emulator: --tls: {error}", file=sys.stderr)
            return EXIT_FAILURE
        certfile, keyfile, ca_path = str(files.certificate), str(files.key), str(files.ca)
    try:
        return _serve(args, certfile, keyfile, ca_path)
    finally:
        if throwaway is not None:
            shutil.rmtree(throwaway, ignore_errors=True)


def _serve(args: argparse.Namespace, certfile: str | None, keyfile: str | None,
           ca_path: str | None) -> int:
    import ssl

    from ..emulator import Directory, DirectoryError, EmulatorConfig, EmulatorServer

    try:
        directory = Directory.from_file(args.state) if args.state else Directory()
        config = EmulatorConfig(
            host=args.host, port=args.port, auto_approve=args.auto_approve,
            access_token_ttl=args.access_token_ttl, refresh_token_ttl=args.refresh_token_ttl,
            role_credentials_ttl=args.role_credentials_ttl, device_code_ttl=args.device_code_ttl,
            authorization_code_ttl=args.authorization_code_ttl, portal_url=args.portal_url,
            interval=args.interval, registration_ttl=args.registration_ttl,
            page_size=args.page_size, directory=directory, verbose=args.verbose,
            accounts=args.accounts, roles_per_account=args.roles_per_account,
            rate_limits=_rate_limits(args.rate_limit), latency=args.latency,
            tls_certfile=certfile, tls_keyfile=keyfile,
        )
        server = EmulatorServer(config)
    except (DirectoryError, ValueError) as error:
        print(f"boto-sso-oidc emulator: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except (ssl.SSLError, FileNotFoundError, IsADirectoryError, PermissionError) as error:
        # Only the certificate and key are opened before binding (a bind fails otherwise).
        print(f"boto-sso-oidc emulator: cannot use the certificate {certfile}"
              f"{f' and key {keyfile}' if keyfile else ''}: {error.strerror or error}",
              file=sys.stderr)
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
    written = False
    try:
        print(server.url, flush=True)
        if ca_path is not None:
            print(ca_path, flush=True)
            print(f"boto-sso-oidc emulator: HTTPS with a throwaway CA (removed at exit): trust it "
                  f"with AWS_CA_BUNDLE={ca_path}", file=sys.stderr, flush=True)
        if args.url_file:
            try:
                _write_url_file(args.url_file, server.url)
                written = True
            except OSError as error:
                print(f"boto-sso-oidc emulator: cannot write --url-file {args.url_file}: "
                      f"{error.strerror or error}", file=sys.stderr)
                return EXIT_FAILURE
        _warn_if_exposed(args.host, server.url, server.port)
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
        if written:
            with contextlib.suppress(OSError):
                os.unlink(args.url_file)
    return EXIT_OK


def _write_url_file(path: str, url: str) -> None:
    """``url`` and a newline in ``path``, renamed into place: whoever sees the file sees it whole."""
    import tempfile

    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=".emulator-url-", dir=directory)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(url + "\n")
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
