"""``boto-sso-oidc credential-process --profile P``: the ``credential_process`` helper.

For the AWS CLI, Terraform, other SDKs, anything that reads the AWS config::

    [profile dev-cli]
    credential_process = boto-sso-oidc credential-process --profile dev

stdout carries the ``credential_process`` Version 1 JSON (with
``Expiration``) and nothing else, ever; every message goes to stderr. Warm
runs answer from botocore's role-credential cache without importing botocore
(see :mod:`boto_sso_oidc_provider._warm`). A login starts only when a person
can answer at a terminal (the prompt goes to the terminal itself, since the
caller captures stderr); otherwise the one-line error names
``boto-sso-oidc login --profile P``.

Exit codes: 0 credentials printed; 1 failure (one line on stderr); 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys

from ._common import EXIT_OK, add_debug, add_profile, report


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("Exit codes: 0 credentials printed on stdout, 1 failure (reason on stderr), "
                     "2 bad usage.")
    add_profile(parser, required=True, what="the SSO profile whose role credentials to print")
    add_debug(parser)


def run(args: argparse.Namespace) -> int:
    from ._credentials import process_output

    try:
        output = process_output(args.profile, debug=args.debug)
    except Exception as error:  # every failure is one line for the caller to show
        return report("credential-process", error, debug=args.debug, profile=args.profile)
    sys.stdout.write(json.dumps(output) + "\n")
    sys.stdout.flush()
    return EXIT_OK
