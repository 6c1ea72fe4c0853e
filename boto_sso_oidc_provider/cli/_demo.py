"""``boto-sso-oidc demo``: the whole flow on the embedded emulator (see :mod:`boto_sso_oidc_provider.demo`).

Needs no AWS account and leaves ``~/.aws`` and the environment as they were.
Exit codes: 0 every step showed what it should; 1 a step failed (one line on
stderr); 2 usage; 130 interrupted.
"""

from __future__ import annotations

import argparse

from ._common import add_debug, report, setup_logging


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Exit codes: 0 demo completed, 1 a step failed (reason on stderr), 2 bad usage."
    parser.add_argument("--interactive", action="store_true",
                        help="approve the login yourself instead of letting the emulator "
                             "approve it: in the browser flow where a browser can be opened here, "
                             "else with the device flow's URL and code")
    add_debug(parser)


def run(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    setup_logging(args.debug)
    try:
        return run_demo(interactive=args.interactive)
    except Exception as error:  # one line for a person, never a traceback
        return report("demo", error, debug=args.debug)
