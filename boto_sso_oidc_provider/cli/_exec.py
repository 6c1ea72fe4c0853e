"""``boto-sso-oidc exec --profile P -- COMMAND [ARGS...]``: run any program with a profile's credentials.

By default a container-credentials endpoint
(:mod:`boto_sso_oidc_provider.servers.container`) serves the profile's
role credentials on 127.0.0.1 for as long as the command runs, and the
command gets ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` and
``AWS_CONTAINER_AUTHORIZATION_TOKEN``: every AWS SDK in it fetches
credentials there and refreshes them by itself, so a command may run for
longer than one set of role credentials lives. ``--env`` gives the command
plain ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``/
``AWS_CREDENTIAL_EXPIRATION`` instead (for tools that read nothing else; they
do not refresh).

So that the SDKs really use what ``exec`` provides, the command's environment
loses every variable that would win over it in their credential chains
(botocore's and the JavaScript SDK's, which try environment keys, then the
profile, then the container endpoint): ``AWS_PROFILE``,
``AWS_DEFAULT_PROFILE``, the key variables, the other container variables
and the web-identity ones. With no profile named, the SDKs fall back to
profile ``default``; if that profile has credentials of its own (and is not
the profile asked for), the SDKs would use them before the endpoint, so
``exec`` refuses and says to use ``--env`` or to remove them. The profile's
``region`` becomes ``AWS_REGION``/``AWS_DEFAULT_REGION`` unless those are set.

``BOTO_SSO_OIDC_EXEC_PROFILE`` names the profile in the command's
environment; an ``exec`` into the same profile inside it is refused (the
command already has these credentials).

stdin, stdout and stderr are the command's own. On Linux the command gets
SIGTERM when ``exec`` dies, even by SIGKILL (its parent-death signal); on
Windows it runs in a job object that ends it when ``exec`` ends, even by
``taskkill /F``: it never keeps sending its token to a port another process may then bind. When
the command ends while an endpoint request is renewing credentials, ``exec``
lets the renewal finish and write its cache before it exits. SIGTERM, SIGHUP, SIGUSR1 and
SIGUSR2 are passed on to the command; so are SIGINT and SIGQUIT, unless they
came from the terminal (Ctrl-C reaches the whole foreground process group,
the command included: passing it on would deliver it twice, and a second
Ctrl-C makes programs such as Terraform abort at once). On Windows, Ctrl-C and
Ctrl-Break are console events that reach the command by themselves; ``exec``
waits for it to end and exits with its code.

Exit codes: the command's own; 128+N if a signal N killed it; 127 command not
found; 126 command not executable; 1 no credentials (the reason on stderr);
2 bad usage.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ..config.reader import AWSConfig

from . import EXIT_USAGE
from ._common import add_debug, add_profile, fail, report, setup_logging
from ._serve import add_endpoint_options

EXEC_VARIABLE = "BOTO_SSO_OIDC_EXEC_PROFILE"

REMOVED_VARIABLES = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION", "AWS_ACCOUNT_ID",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
)
"""Variables that would make an SDK in the command use other credentials than the ones given."""

_CREDENTIAL_KEYS = (
    "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "credential_process",
    "role_arn", "web_identity_token_file", "credential_source", "sso_session", "sso_start_url",
    "sso_account_id", "sso_role_name", "login_session",
)
"""Keys of a profile that the SDKs turn into credentials before they try the container endpoint."""



def configure(parser: argparse.ArgumentParser) -> None:
    parser.usage = ("boto-sso-oidc exec [--profile PROFILE] [--env] [--region REGION] "
                    "[--request-timeout SECONDS] [--debug] -- COMMAND [ARGS ...]")
    parser.epilog = ("Example: boto-sso-oidc exec --profile dev -- terraform apply. Exit codes: the "
                     "command's; 128+N if signal N killed it; 127 not found; 126 not executable; "
                     "1 no credentials (reason on stderr); 2 bad usage.")
    add_profile(parser, what="the SSO profile whose role credentials the command gets")
    parser.add_argument("--env", action="store_true",
                        help="give the command plain AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/"
                             "AWS_SESSION_TOKEN instead of a refreshing endpoint")
    add_endpoint_options(parser)
    add_debug(parser)
    parser.add_argument("argv", nargs=argparse.REMAINDER, metavar="COMMAND [ARGS ...]",
                        help="the program to run and its arguments (after --)")


def child_environment(environ: Mapping[str, str], profile: str, region: str | None, *,
                      region_given: bool = False) -> dict[str, str]:
    """``environ`` without :data:`REMOVED_VARIABLES`, with the exec marker and the region.

    ``region`` becomes ``AWS_REGION`` and ``AWS_DEFAULT_REGION`` when neither
    is set, or always when ``region_given`` (``--region``).
    """
    env = {name: value for name, value in environ.items() if name not in REMOVED_VARIABLES}
    env[EXEC_VARIABLE] = profile
    if region and (region_given or not (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"))):
        env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = region
    return env


def default_profile_conflict(config: AWSConfig, profile: str) -> str | None:
    """The key by which profile ``default`` gives credentials of its own, unless it is ``profile``."""
    if profile == "default":
        return None
    return next((key for key in _CREDENTIAL_KEYS if config.profile_value("default", key)), None)


def run(args: argparse.Namespace) -> int:
    from ..config._loader import default_profile

    command = list(args.argv)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        print("boto-sso-oidc exec: name the command to run after --, e.g. "
              "boto-sso-oidc exec --profile dev -- aws sts get-caller-identity", file=sys.stderr)
        return EXIT_USAGE
    profile = args.profile or default_profile()
    if os.environ.get(EXEC_VARIABLE) == profile:
        return fail("exec", f'already running inside boto-sso-oidc exec for profile "{profile}" '
                            f"({EXEC_VARIABLE}={profile}): the command has these credentials already; run "
                            f"it directly, or unset {EXEC_VARIABLE} to nest anyway.")
    setup_logging(args.debug)
    endpoint = None
    try:
        from ..config.reader import AWSConfig
        from ._serve import credentials_source, start_endpoint

        config = AWSConfig.load()
        given_region = getattr(args, "region", None)  # the global --region
        env = child_environment(os.environ, profile, given_region or config.profile_value(profile, "region"),
                                region_given=bool(given_region))
        if args.env:
            from ._export import environment

            credentials = credentials_source(config, profile, allow_login=None)()
            env.update(environment(credentials.to_process_output()))
        else:
            conflict = default_profile_conflict(config, profile)
            if conflict is not None:
                return fail("exec", f'profile "default" has credentials of its own ({conflict}), which the '
                                    "SDKs in the command would use before the credentials endpoint, so "
                                    f'it would not run as profile "{profile}". Use --env, or remove '
                                    f'{conflict} from profile "default".')
            endpoint = start_endpoint(config, profile, request_timeout=args.request_timeout)
            env.update(endpoint.environment())
        from ._common import warn_if_session_ends
        from ._credentials import sso_of

        warn_if_session_ends(sso_of(config.credentials_profile(profile)), profile)
    except Exception as error:  # one line for a person, never a traceback
        return report("exec", error, debug=args.debug, profile=profile)
    try:
        return _run_command(command, env)
    finally:
        if endpoint is not None:
            endpoint.shutdown()


def _run_command(command: list[str], env: dict[str, str]) -> int:
    """Run ``command`` to its end, passing signals on; its exit code (128+N if killed by signal N)."""
    from .._platform import forwarded_signals, start_bound_child, terminal_sent

    children: list[subprocess.Popen[bytes]] = []
    pending: list[int] = []  # signals that arrived before the command started

    def forward(signum: int, frame: object) -> None:
        if terminal_sent(signum):
            return  # the terminal sent it to our whole process group, the command included
        if not children:
            pending.append(signum)
            return
        try:
            children[0].send_signal(signum)
        except ProcessLookupError:
            pass

    previous = {sig: signal.signal(sig, forward) for sig in forwarded_signals()}
    try:
        try:
            children.append(start_bound_child(command, env))
        except OSError as error:
            code, what = ((127, "command not found") if isinstance(error, FileNotFoundError)
                          else (126, "command not executable") if isinstance(error, PermissionError)
                          else (126, f"cannot run the command ({error.strerror or error})"))
            fail("exec", f"{what}: {command[0]}")
            return code
        for signum in pending:
            children[0].send_signal(signum)
        code = children[0].wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code


__all__ = ["EXEC_VARIABLE", "REMOVED_VARIABLES", "child_environment",
           "default_profile_conflict", "configure", "run"]
