"""``boto-sso-oidc serve``: profiles' role credentials as a long-running endpoint for every SDK.

Two protocols. By default a container-credentials endpoint
(:mod:`boto_sso_oidc_provider.servers.container`); it prints the variables
that point every AWS SDK at it::

    export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:PORT/role-credentials
    export AWS_CONTAINER_AUTHORIZATION_TOKEN=<random token, new each start>

(``--token-file PATH``: the token lives in PATH, 0600, kept across restarts,
and ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`` is printed instead). Several
``--profile`` options serve several profiles, one path each
(``/role-credentials/<profile>``), each renewed through its own shared cache.
With ``--imds``, an instance-metadata (IMDSv2) endpoint
(:mod:`boto_sso_oidc_provider.servers.imds`) for one profile, which the SDKs
accept on any host (``AWS_EC2_METADATA_SERVICE_ENDPOINT``): the way into
containers that cannot reach the host's loopback (Docker Desktop's
``host.docker.internal``, devcontainers, WSL2, Podman). IMDS has no caller
authentication: on an address other than loopback it needs ``--allow`` (the
client networks it serves; loopback is always served).

It serves until SIGINT or SIGTERM. Credentials come from the shared
role-credential cache and are renewed through its lock. The profiles'
credentials are checked once at start, logging in if a person can answer;
after that the server never prompts: when the SSO session ends, requests get
an error naming the login command (logged once), and the next request after
``boto-sso-oidc login`` is served again, without a restart. Stopping lets a
renewal in progress finish and write its cache first.

Every output format also gives each profile's region (``AWS_REGION`` and
``AWS_DEFAULT_REGION``, from the global ``--region`` or the profile's
``region``, as ``exec`` does): plain boto3 has no other way to learn it.

Exit codes: 0 stopped by SIGTERM; 130 stopped by Ctrl-C (SIGINT); 1 could
not start (the reason on stderr); 2 bad usage (options that do not go
together, such as ``--imds`` on another address than loopback without ``--allow``).
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import shlex
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from ._common import EXIT_OK, EXIT_USAGE, add_debug, fail, report, setup_logging

if TYPE_CHECKING:  # pragma: no cover
    from ..config.reader import AWSConfig
    from ..credentials.chained import ProfileCredentials
    from ..credentials.role_credentials import RoleCredentials
    from ..servers._http import Network
    from ..servers.container import CredentialsEndpoint
    from ..servers.imds import InstanceMetadataEndpoint

    Endpoint = CredentialsEndpoint | InstanceMetadataEndpoint

FORMATS = ("env", "dotenv", "json", "docker")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("Run it in its own terminal or as a service; set the variables it prints where "
                     "the SDKs run. Exit codes: 0 stopped by SIGTERM, 130 stopped by Ctrl-C, 1 could not "
                     "start (reason on stderr), 2 bad usage.")
    parser.add_argument("--profile", metavar="PROFILE", action="append",
                        help="a profile whose role credentials to serve (default: $AWS_PROFILE, else "
                             "'default'); repeat it to serve several, one path each "
                             "(/role-credentials/PROFILE)")
    add_endpoint_options(parser)
    parser.add_argument("--imds", action="store_true",
                        help="serve the instance-metadata (IMDSv2) protocol instead, which the SDKs accept "
                             "on any host (AWS_EC2_METADATA_SERVICE_ENDPOINT): for containers that cannot "
                             "reach this machine's loopback (Docker Desktop, devcontainers, WSL2, Podman)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; over plain http the SDKs accept a "
                             "container endpoint only on loopback addresses, localhost, 169.254.170.2, "
                             "169.254.170.23 and fd00:ec2::23; --imds anywhere, with --allow)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    parser.add_argument("--allow", metavar="NETWORK", action="append", default=[],
                        help="serve only clients in this network (e.g. 172.17.0.0/16; repeatable; "
                             "loopback is always served); required with --imds on an address other "
                             "than loopback")
    parser.add_argument("--url-host", metavar="NAME",
                        help="the host name clients use, in the printed URL (e.g. host.docker.internal; "
                             "default: the address listened on)")
    parser.add_argument("--token-file", metavar="PATH",
                        help="keep the token in PATH (made 0600 if missing, kept across restarts) and print "
                             "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE instead of the token")
    parser.add_argument("--format", choices=FORMATS, default="env",
                        help="how to print the variables: env (shell export lines, default), "
                             "dotenv (KEY=value, for docker --env-file), json, docker (-e KEY=value "
                             "arguments for docker run / podman run)")
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
    return _credentials(config, profile, allow_login=allow_login).get


def served_source(config: AWSConfig, profile: str) -> tuple[Callable[[], RoleCredentials],
                                                            Callable[[], RoleCredentials | None]]:
    """What a server serves for ``profile``: renew-if-needed without prompting, and what the
    shared cache holds now (so a logout elsewhere stops the server from serving its memory)."""
    credentials = _credentials(config, profile, allow_login=False)
    return credentials.get, credentials.cached


def _credentials(config: AWSConfig, profile: str, *, allow_login: bool | None) -> ProfileCredentials:
    from ..credentials.chained import profile_credentials
    from ..options import Options

    return profile_credentials(config, profile, options=Options(allow_login=allow_login))


def start_endpoint(config: AWSConfig, profiles: str | Sequence[str], *, host: str = "127.0.0.1",
                   port: int = 0, request_timeout: float = 5.0, imds: bool = False,
                   allow: Sequence[Network] | None = None, token: str | None = None,
                   url_host: str | None = None) -> Endpoint:
    """Check each profile's credentials once (logging in if a person can answer), then serve them.

    One profile: at ``/role-credentials``; several: ``/role-credentials/<profile>``
    each. ``imds``: an instance-metadata endpoint instead (one profile). The
    endpoint is serving (in daemon threads) when this returns; it renews
    without ever prompting. ``url_host``: the name clients reach it by, besides its address
    and ``localhost`` (a ``Host`` naming anything else is refused). Raises the package's typed errors and
    :class:`OSError` when the address cannot be bound.
    """
    from ..servers.container import CredentialsEndpoint
    from ..servers.imds import InstanceMetadataEndpoint

    names = [profiles] if isinstance(profiles, str) else list(profiles)
    for name in names:
        credentials_source(config, name, allow_login=None)()
    sources = {name: served_source(config, name) for name in names}
    extra = [url_host] if url_host else []
    endpoint: Endpoint
    if imds:
        [name] = names
        get, peek = sources[name]
        endpoint = InstanceMetadataEndpoint(get, peek=peek, role_name=imds_role_name(config, name),
                                            region=config.profile_value(name, "region"), host=host,
                                            port=port, request_timeout=request_timeout, allow=allow,
                                            names=extra, name=name)
    elif len(names) == 1:
        get, peek = sources[names[0]]
        endpoint = CredentialsEndpoint(get, peek=peek, host=host, port=port, token=token,
                                       request_timeout=request_timeout, allow=allow, names=extra)
    else:
        endpoint = CredentialsEndpoint(None, routes={profile_path(name): source
                                                     for name, source in sources.items()},
                                       host=host, port=port, token=token, request_timeout=request_timeout,
                                       allow=allow, names=extra)
    return endpoint.start()


def profile_path(profile: str) -> str:
    """The path that serves ``profile`` when one server serves several."""
    from urllib.parse import quote

    from ..servers.container import DEFAULT_PATH

    return f"{DEFAULT_PATH}/{quote(profile, safe='')}"


def imds_role_name(config: AWSConfig, profile: str) -> str:
    """The role name IMDS lists: the profile's name when it is made of IAM name characters."""
    if profile and all(ch.isalnum() or ch in "+=,.@_-" for ch in profile):
        return profile
    return "boto-sso-oidc"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_token(path: str) -> str:
    """The token kept in ``path``, or a new one written there (0600, atomically) if it is missing.

    Refuses (:class:`ValueError`, one line naming the file) a symlink, a file
    other users can read, one owned by someone else, or one that does not hold
    a token on one line.
    """
    import stat

    from .._files import read_small_file
    from ..servers.container import new_token

    try:
        info = os.lstat(path)
    except FileNotFoundError:
        token = new_token()
        _write_private(path, token)  # no newline: botocore sends the file's bytes as they are
        return token
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        raise ValueError(f"the token file {path} is not a regular file (a symlink?); remove it")
    from .._platform import sharing_problem

    problem = sharing_problem(info)
    if problem:
        raise ValueError(f"the token file {path} {problem}; chmod 600 {shlex.quote(path)}, or remove "
                         "it for a new token")
    token = read_small_file(path, 4096).decode("ascii", "replace").strip()
    if not token or not token.isprintable() or not token.isascii() or " " in token:
        raise ValueError(f"the token file {path} does not hold a token on one line; remove it for a new one")
    return token


def _write_private(path: str, text: str) -> None:
    import tempfile

    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=".token-", dir=directory)  # mode 0600
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        from .._platform import replace, restrict_to_owner

        restrict_to_owner(temporary)
        replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def variables_of(endpoint: Endpoint, profiles: Sequence[str], *, url_host: str | None = None,
                 token_file: str | None = None,
                 regions: Mapping[str, str | None] | None = None) -> dict[str, dict[str, str]]:
    """For each profile, the variables that point an SDK at its credentials on ``endpoint``, and
    its region (``regions``: as ``exec`` gives it, ``AWS_REGION`` and ``AWS_DEFAULT_REGION``; a
    client has no other way to learn it, and plain boto3 raises ``NoRegionError`` without)."""
    from ..servers.container import (
        FULL_URI_VARIABLE,
        TOKEN_FILE_VARIABLE,
        TOKEN_VARIABLE,
        CredentialsEndpoint,
    )

    found: dict[str, dict[str, str]] = {}
    for profile in profiles:
        if isinstance(endpoint, CredentialsEndpoint):
            variables = endpoint.environment(None if len(profiles) == 1 else profile_path(profile))
            if token_file is not None:
                del variables[TOKEN_VARIABLE]
                variables[TOKEN_FILE_VARIABLE] = token_file
        else:
            variables = endpoint.environment()
        if url_host:
            variables = {name: _with_host(value, url_host) if name == FULL_URI_VARIABLE
                         or name.endswith("_ENDPOINT") else value for name, value in variables.items()}
        region = (regions or {}).get(profile)
        if region:
            variables.update(AWS_REGION=region, AWS_DEFAULT_REGION=region)
        found[profile] = variables
    return found


def _with_host(url: str, host: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    name = f"[{host}]" if ":" in host else host
    return urlunsplit(parts._replace(netloc=f"{name}:{parts.port}"))


def render(variables: dict[str, str], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(variables, indent=2)
    if fmt == "dotenv":
        return "\n".join(f"{name}={value}" for name, value in variables.items())
    if fmt == "docker":
        return " ".join(f"-e {shlex.quote(f'{name}={value}')}" for name, value in variables.items())
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in variables.items())


def render_profiles(found: dict[str, dict[str, str]], fmt: str) -> str:
    """One profile: its variables as :func:`render` prints them. Several: JSON by profile, or one
    block each, all but the first commented out (a shell or an env file can hold one at a time)."""
    if len(found) == 1:
        return render(next(iter(found.values())), fmt)
    if fmt == "json":
        return json.dumps(found, indent=2)
    blocks = []
    for index, (profile, variables) in enumerate(found.items()):
        lines = render(variables, fmt).splitlines()
        blocks.append("\n".join([f"# profile {profile}", *(lines if index == 0 else
                                                             [f"# {line}" for line in lines])]))
    return "\n".join(blocks)


class _Usage(ValueError):
    """Options that do not go together: a usage error (exit 2), not a failure."""


def _check_exposure(args: argparse.Namespace, profiles: Sequence[str]) -> list[Network] | None:
    """The allowed client networks (loopback added), or None for all; :class:`_Usage` when the
    options do not go together (--imds would serve every client of a non-loopback address...)."""
    from ..servers._http import parse_networks

    try:
        allow = parse_networks(args.allow)
    except ValueError as error:
        raise _Usage(str(error)) from None
    if args.imds and len(profiles) != 1:
        raise _Usage("--imds serves one profile (the instance-metadata protocol has one role)")
    if args.imds and args.token_file:
        raise _Usage("--token-file is for the container endpoint (IMDS makes its own session tokens)")
    if args.imds and not _is_loopback(args.host) and not allow:
        raise _Usage(f"--imds on {args.host} would give the credentials to anything that reaches the "
                         "port (IMDS has no caller authentication): name the client networks to serve "
                         "with --allow, e.g. --allow 172.17.0.0/16")
    if not allow:
        return None
    return [*allow, *parse_networks(["127.0.0.0/8", "::1/128"])]


def run(args: argparse.Namespace) -> int:
    from ..config._loader import default_profile

    profiles = list(dict.fromkeys(args.profile or [default_profile()]))
    profile = profiles[0]
    setup_logging(args.debug)
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        received.append(signum)
        stop.set()

    try:
        allow = _check_exposure(args, profiles)
    except _Usage as error:
        print(f"boto-sso-oidc serve: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:  # Ctrl-C during a login at start is KeyboardInterrupt: exit code 130
        from ..config.reader import AWSConfig

        try:
            token = load_token(args.token_file) if args.token_file else None
        except ValueError as error:  # the file's problem, said in one line
            return fail("serve", str(error))
        config = AWSConfig.load()
        endpoint = start_endpoint(config, profiles, host=args.host, port=args.port,
                                  request_timeout=args.request_timeout, imds=args.imds, allow=allow,
                                  token=token, url_host=args.url_host)
    except Exception as error:  # one line for a person, never a traceback
        return report("serve", error, debug=args.debug, profile=profile if len(profiles) == 1 else None)
    # The clients' region, as exec gives it: the global --region, else each profile's own.
    regions = {name: args.region or config.profile_value(name, "region") for name in profiles}
    from .._platform import termination_signals

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, *termination_signals())}
    try:
        try:
            if not _is_loopback(args.host):
                who = ("anything that can reach it from the allowed networks" if allow else
                       "anything that can reach it")
                what = "gets the credentials: IMDS has no caller authentication" if args.imds else \
                    "and has the token gets the credentials"
                print(f"boto-sso-oidc serve: listening on {args.host}, not a loopback address: {who} "
                      f"{what}.", file=sys.stderr)
            found = variables_of(endpoint, profiles, url_host=args.url_host, token_file=args.token_file,
                                 regions=regions)
            for name in profiles:
                if not regions[name]:
                    print(f'boto-sso-oidc serve: profile "{name}" has no region: its clients need '
                          "AWS_REGION (or give --region REGION)", file=sys.stderr)
            sys.stdout.write(render_profiles(found, args.format) + "\n")
            sys.stdout.flush()
            kind = "instance metadata (IMDSv2)" if args.imds else "container credentials"
            named = ", ".join(f'"{name}"' for name in profiles)
            print(f"boto-sso-oidc serve: serving the role credentials of profile{'s' * (len(profiles) > 1)} "
                  f"{named} as {kind} at {endpoint.url}; stop with Ctrl-C or SIGTERM.",
                  file=sys.stderr, flush=True)
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
