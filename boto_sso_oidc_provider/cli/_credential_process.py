"""``boto-sso-oidc credential-process --profile P``: the ``credential_process`` helper.

For the AWS CLI, Terraform, other SDKs, anything that reads the AWS config::

    [profile dev-cli]
    credential_process = boto-sso-oidc credential-process --profile dev

stdout carries the ``credential_process`` Version 1 JSON (with
``Expiration``) and nothing else, ever; every message goes to stderr. Warm
runs answer from botocore's role-credential cache without importing botocore
(see :mod:`boto_sso_oidc_provider.credentials._warm`). A login starts only when a person
can answer: at a terminal, or in a browser this machine can open (the browser
flow; the URL also goes to stderr); otherwise the one-line error names
``boto-sso-oidc login --profile P``.

Exit codes: 0 credentials printed; 1 failure (one line on stderr); 2 usage.
"""

from __future__ import annotations

import json
import sys

from ._common import EXIT_OK, add_debug, add_profile, report

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # pragma: no cover
    import argparse
    from collections.abc import Sequence


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("Exit codes: 0 credentials printed on stdout, 1 failure (reason on stderr), "
                     "2 bad usage.")
    add_profile(parser, required=True, what="the SSO profile whose role credentials to print")
    add_debug(parser)


def fast_main(argv: Sequence[str]) -> int | None:
    """``--profile P`` / ``--profile=P`` exactly: run without importing argparse; else None."""
    if len(argv) == 2 and argv[0] == "--profile" and argv[1] and not argv[1].startswith("-"):
        return credential_process(argv[1])
    if len(argv) == 1 and argv[0].startswith("--profile=") and len(argv[0]) > len("--profile="):
        return credential_process(argv[0][len("--profile="):])
    return None


def run(args: argparse.Namespace) -> int:
    return credential_process(args.profile, debug=args.debug)


def credential_process(profile: str, *, debug: bool = False) -> int:
    """Print the profile's credentials as ``credential_process`` JSON; the exit code."""
    from ._credentials import process_output

    if sys.stdout is None:  # started with stdout closed (`>&-`)
        from ._common import fail

        return fail("credential-process", "stdout is closed: there is nowhere to print the "
                    "credentials (the caller must read them from stdout)")
    try:
        output = process_output(profile, debug=debug)
    except Exception as error:  # every failure is one line for the caller to show
        return report("credential-process", error, debug=debug, profile=profile)
    try:
        sys.stdout.write(json.dumps(output) + "\n")
        sys.stdout.flush()
    except (AttributeError, ValueError, OSError) as error:  # stdout None or closed (`>&-`)
        if isinstance(error, BrokenPipeError):
            raise  # the reader went away: main() says so once
        from ._common import fail

        return fail("credential-process", "stdout is closed: there is nowhere to print the "
                    "credentials (the caller must read them from stdout)")
    return EXIT_OK
