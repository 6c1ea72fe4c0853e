"""``boto-sso-oidc export``: a profile's role credentials for programs that take keys.

Formats, named as ``aws configure export-credentials`` names them:

``env`` (default)  ``export AWS_ACCESS_KEY_ID=...`` lines for a POSIX shell:
                   ``eval "$(boto-sso-oidc export --profile dev)"``
``env-no-export``  ``AWS_ACCESS_KEY_ID=...`` lines (``dotenv`` is the same), for
                   ``docker run --env-file`` and ``.env`` loaders
``powershell``     ``$Env:AWS_ACCESS_KEY_ID="..."`` lines:
                   ``boto-sso-oidc export --format powershell | Invoke-Expression``
``windows-cmd``    ``set AWS_ACCESS_KEY_ID=...`` lines
``fish``           ``set -gx AWS_ACCESS_KEY_ID '...'`` lines:
                   ``boto-sso-oidc export --format fish | source``
``json``           one object of the same environment variables
``process``        the ``credential_process`` Version 1 JSON

Every format carries ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_SESSION_TOKEN`` and ``AWS_CREDENTIAL_EXPIRATION`` (or their
``credential_process`` names); all but ``process`` add ``AWS_REGION`` and
``AWS_DEFAULT_REGION`` when the profile has a region (or ``--region`` is
given). Like ``credential-process``, a warm cache answers without botocore.

Exit codes: 0 printed; 1 failure (one line on stderr); 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import Any

from ._common import EXIT_OK, add_debug, add_profile, report

FORMATS = ("env", "env-no-export", "powershell", "windows-cmd", "fish", "process", "json", "dotenv")

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
                        help="env: POSIX shell export lines (default); env-no-export (or dotenv): "
                             "KEY=value lines; powershell: $Env: lines; windows-cmd: set lines; fish: "
                             "set -gx lines; process: credential_process JSON; json: an object of the "
                             "variables")
    add_debug(parser)


def environment(output: Mapping[str, Any], region: str | None = None) -> dict[str, str]:
    """The environment variables for ``credential_process`` JSON ``output`` (and ``region``)."""
    variables = {name: str(output[key]) for name, key in _VARIABLES}
    if region:
        variables.update(AWS_REGION=region, AWS_DEFAULT_REGION=region)
    return variables


def _fish_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def render(output: Mapping[str, Any], fmt: str, region: str | None = None) -> str:
    """``credential_process`` JSON ``output`` in one of :data:`FORMATS`."""
    if fmt == "process":
        return json.dumps(dict(output))
    variables = environment(output, region)
    if fmt == "json":
        return json.dumps(variables, indent=2)
    if fmt in ("env-no-export", "dotenv"):
        return "\n".join(f"{name}={value}" for name, value in variables.items())
    if fmt == "powershell":
        # Keys, tokens and timestamps hold no " ` or $, which PowerShell would expand.
        return "\n".join(f'$Env:{name}="{value}"' for name, value in variables.items())
    if fmt == "windows-cmd":
        return "\n".join(f"set {name}={value}" for name, value in variables.items())
    if fmt == "fish":
        return "\n".join(f"set -gx {name} {_fish_quote(value)}" for name, value in variables.items())
    import shlex

    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in variables.items())


def profile_region(profile: str) -> str | None:
    """The profile's ``region`` from the config, as the warm path read it (botocore's read when
    the warm path could not)."""
    from ..config._resolved import resolve

    resolution = resolve(profile)
    if resolution is not None:
        region = resolution.values.get("region")
    else:
        from ..config.reader import AWSConfig

        region = AWSConfig.load().profile_value(profile, "region")
    return region if isinstance(region, str) and region else None


def run(args: argparse.Namespace) -> int:
    from ..config._loader import default_profile
    from ._credentials import process_output

    profile = args.profile or default_profile()
    try:
        output = process_output(profile, debug=args.debug)
    except Exception as error:  # one line for a person, never a traceback
        return report("export", error, debug=args.debug, profile=profile)
    region = args.region or (profile_region(profile) if args.format != "process" else None)
    sys.stdout.write(render(output, args.format, region) + "\n")
    sys.stdout.flush()
    return EXIT_OK
