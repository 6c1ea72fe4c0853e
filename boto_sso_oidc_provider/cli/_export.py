"""``boto-sso-oidc export``: a profile's role credentials for programs that take keys.

Formats:

``env`` (default)  ``export AWS_ACCESS_KEY_ID=...`` lines for a POSIX shell:
                   ``eval "$(boto-sso-oidc export --profile dev)"``
``dotenv``         ``AWS_ACCESS_KEY_ID=...`` lines, for ``docker run --env-file``
                   and ``.env`` loaders
``json``           one object of the same environment variables
``process``        the ``credential_process`` Version 1 JSON

Every format carries ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_SESSION_TOKEN`` and ``AWS_CREDENTIAL_EXPIRATION`` (or their
``credential_process`` names). Like ``credential-process``, a warm cache
answers without botocore.

Exit codes: 0 printed; 1 failure (one line on stderr); 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import Any

from ._common import EXIT_OK, add_debug, add_profile, report

FORMATS = ("env", "dotenv", "json", "process")

# environment variable -> credential_process key
_VARIABLES = (
    ("AWS_ACCESS_KEY_ID", "AccessKeyId"),
    ("AWS_SECRET_ACCESS_KEY", "SecretAccessKey"),
    ("AWS_SESSION_TOKEN", "SessionToken"),
    ("AWS_CREDENTIAL_EXPIRATION", "Expiration"),
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ('Example: eval "$(boto-sso-oidc export --profile dev)". '
                     "Exit codes: 0 printed, 1 failure (reason on stderr), 2 bad usage.")
    add_profile(parser, what="the SSO profile whose role credentials to print")
    parser.add_argument("--format", choices=FORMATS, default="env",
                        help="env: shell export lines (default); dotenv: KEY=value lines; "
                             "json: an object of those variables; process: credential_process JSON")
    add_debug(parser)


def environment(output: Mapping[str, Any]) -> dict[str, str]:
    """The environment variables for ``credential_process`` JSON ``output``."""
    return {name: str(output[key]) for name, key in _VARIABLES}


def render(output: Mapping[str, Any], fmt: str) -> str:
    """``credential_process`` JSON ``output`` in one of :data:`FORMATS`."""
    if fmt == "process":
        return json.dumps(dict(output))
    variables = environment(output)
    if fmt == "json":
        return json.dumps(variables, indent=2)
    if fmt == "dotenv":
        return "\n".join(f"{name}={value}" for name, value in variables.items())
    import shlex

    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in variables.items())


def run(args: argparse.Namespace) -> int:
    from .._warm import default_profile
    from ._credentials import process_output

    profile = args.profile or default_profile()
    try:
        output = process_output(profile, debug=args.debug)
    except Exception as error:  # one line for a person, never a traceback
        return report("export", error, debug=args.debug, profile=profile)
    sys.stdout.write(render(output, args.format) + "\n")
    sys.stdout.flush()
    return EXIT_OK
