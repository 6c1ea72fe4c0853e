"""``boto-sso-oidc``: the command line.

Each subcommand lives in its own module under this package, exposing
``configure(parser)`` (adds its arguments) and ``run(args) -> int`` (does the
work, returns the exit code), and optionally ``fast_main(argv) -> int | None``
(answers its plainest invocations without argparse; None means "parse normally").
Modules are imported only when their command runs, so
``boto-sso-oidc credential-process`` on a warm cache never pays for the others
(nor for boto3/botocore).

Exit codes (all commands):
  0  success
  1  the operation failed (the reason is one line on stderr), or stdout was closed before
     all of it was written (`| head`: said on stderr only by the commands whose output a
     program reads: credential-process, export, serve)
  2  bad usage (argparse's own code)
  130 interrupted (Ctrl-C, SIGINT)
  143 terminated (SIGTERM; on Windows Ctrl-Break, SIGBREAK)
  On Windows, ``taskkill /F`` (TerminateProcess) ends the process at once with exit code 1,
  as SIGKILL does elsewhere: nothing runs, and the caches stay whole (atomic writes).

A refreshed or newly issued token is always written before the command stops for
SIGINT or SIGTERM (see :mod:`boto_sso_oidc_provider._interrupts`).
"""

from __future__ import annotations

import importlib
import sys

from ._common import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, EXIT_USAGE

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # pragma: no cover
    import argparse
    from collections.abc import Sequence
    from types import ModuleType

# name -> (module, one-line help). Order is the order --help lists them.
_COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("_demo", "run the whole flow end to end on the embedded emulator"),
    "configure": ("_configure", "set up an sso-session and a profile: prompts, or flags for scripts"),
    "login": ("_login", "log in to an sso-session (browser flow, or --use-device-code)"),
    "logout": ("_logout", "end an SSO session and remove its cached tokens and credentials"),
    "status": ("_status", "show who is logged in and when sessions and credentials expire"),
    "doctor": ("_doctor", "check the setup (config, caches, hook, network, clock, AWS CLI): "
                          "each problem with its fix"),
    "list": ("_list", "list the accounts and roles available to an SSO session"),
    "export": ("_export", "print role credentials for other programs"),
    "generate": ("_generate", "write a profile for every account and role of an sso-session"),
    "console": ("_console", "sign in to the AWS console with a profile's role credentials"),
    "credential-process": ("_credential_process", "credential_process helper for AWS CLI and SDKs"),
    "eks-token": ("_eks_token", "an EKS token for kubectl, as aws eks get-token prints it"),
    "eks-kubeconfig": ("_eks_kubeconfig", "point a kubeconfig's aws eks get-token users at eks-token"),
    "exec": ("_exec", "run a command with a profile's credentials, refreshed for as long as it runs"),
    "serve": ("_serve", "serve a profile's credentials to SDKs as a container-credentials endpoint"),
    "emulator": ("_emulator", "run the local IAM Identity Center emulator"),
    "completion": ("_completion", "print a completion script for bash, zsh or fish"),
}

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE", "EXIT_INTERRUPTED",
           "EXIT_TERMINATED"]


def _load(name: str) -> ModuleType:
    module_name, _ = _COMMANDS[name]
    return importlib.import_module(f"{__name__}.{module_name}")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser; with ``only``, just that subcommand is configured (fast path)."""
    import argparse

    from .. import __version__
    from ._common import global_options

    parser = argparse.ArgumentParser(
        prog="boto-sso-oidc",
        description="IAM Identity Center (AWS SSO) login and credentials for boto3, "
        "the AWS CLI and every SDK.",
        epilog="Exit codes: 0 success, 1 failure (reason on stderr), 2 bad usage, "
        "130 interrupted (Ctrl-C), 143 terminated (SIGTERM; Ctrl-Break on Windows).",
        parents=[global_options(for_top_level=True)],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    # Every command takes the global options; one that adds its own --profile or
    # --debug (with its own help) replaces the global one.
    parents = [global_options()]
    for name in ([only] if only else _COMMANDS):
        _, help_text = _COMMANDS[name]
        sub_parser = sub.add_parser(name, help=help_text, description=help_text, parents=parents,
                                    conflict_handler="resolve")
        _load(name).configure(sub_parser)
    return parser


# Signals this command's own handlers turned into exceptions, in order. If one of those
# exceptions is lost anyway (see _interrupts: a finalizer drops it, and so may code that
# swallows BaseException), the command still ends with the signal's exit code.
_received: list[int] = []
_running: list[str] = []
"""The command this run is running, once known (for the line a cancelled login ends with)."""

_STDOUT_IS_DATA = ("credential-process", "export", "serve")
"""Commands whose stdout a program reads: when it is closed early, they say so on stderr. The
others print for people, who close it on purpose (`status | head -4`): they stop quietly."""


def _terminate(signum: int, frame: object) -> None:
    # An exception, not the default action: it lands between two bytecodes of the main
    # thread, so a token write in progress is finished first (see _interrupts).
    _received.append(EXIT_TERMINATED)
    raise SystemExit(EXIT_TERMINATED)


def _interrupt(signum: int, frame: object) -> None:
    _received.append(EXIT_INTERRUPTED)
    raise KeyboardInterrupt


def _handle_signals() -> list[tuple[int, object]]:
    """Turn the termination signals (SIGTERM; Ctrl-Break's SIGBREAK on Windows) into
    ``SystemExit(143)`` and SIGINT into ``KeyboardInterrupt`` for this command's run (SIGINT
    only where Python's own handler is in place: not where it is ignored, nor where an
    embedding application chose its own); the signals changed and their previous handlers."""
    try:  # the builtin module: `signal` would import enum, which the warm path never needs
        import _signal as signal_module
    except ImportError:  # pragma: no cover - other interpreters
        import signal as signal_module
    from .._platform import termination_signals

    previous: list[tuple[int, object]] = []
    handlers = [(signum, _terminate) for signum in termination_signals()]
    for signum, handler in [*handlers, (int(signal_module.SIGINT), _interrupt)]:
        try:
            if signum == signal_module.SIGINT and \
                    signal_module.getsignal(signum) is not signal_module.default_int_handler:
                continue
            previous.append((signum, signal_module.signal(signum, handler)))
        except (ValueError, OSError, AttributeError):  # not the main thread, or no such signal
            continue
    return previous


def _restore_signals(previous: list[tuple[int, object]]) -> None:
    if not previous:
        return
    import signal

    for signum, handler in previous:
        try:
            signal.signal(signum, handler)  # type: ignore[arg-type]
        except (ValueError, OSError, TypeError):
            pass


def _stdout_gone() -> None:
    """Point stdout at /dev/null, so Python's own flush at exit cannot print a traceback."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``boto-sso-oidc`` console script."""
    from .._interrupts import deliver_dropped_signal, keep_dropped_signals, signals_unwrapped

    del _received[:], _running[:]
    keep_dropped_signals()
    previous = _handle_signals()
    try:
        # A signal that lands in a class's creation (at an import) ends the command as itself.
        code = signals_unwrapped(_main)(argv)
        deliver_dropped_signal()  # a signal a finalizer dropped ends the command here
        if _received and code not in (EXIT_INTERRUPTED, EXIT_TERMINATED):
            # A signal's exception lost some other way: the signal still decides the exit code.
            raise KeyboardInterrupt if _received[0] == EXIT_INTERRUPTED else SystemExit(EXIT_TERMINATED)
        return code
    except KeyboardInterrupt as interrupt:
        # A cancelled login says which (its KeyboardInterrupt carries the sentence).
        said = interrupt.args[0] if interrupt.args and isinstance(interrupt.args[0], str) else ""
        _say(f"boto-sso-oidc {_running[0]}: {said}" if said and _running else
             f"boto-sso-oidc: {said or 'interrupted'}")
        return EXIT_INTERRUPTED
    except SystemExit as stop:
        if stop.code == EXIT_TERMINATED:
            _say("boto-sso-oidc: terminated")
            return EXIT_TERMINATED
        raise
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to tell it
        _stdout_gone()
        if not _running or _running[0] in _STDOUT_IS_DATA:
            # A program was waiting for this output (credentials, variables): say it did not get it.
            _say("boto-sso-oidc: stdout was closed before all output was written")
        return EXIT_FAILURE
    finally:
        _restore_signals(previous)


def _say(line: str) -> None:
    try:
        if sys.stderr is not None:
            print(line, file=sys.stderr)
    except (OSError, ValueError):
        pass


def _main(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0].startswith("-"):  # global options first, as in the AWS CLI
        from ._common import hoist_command

        args_list = hoist_command(args_list, _COMMANDS)
    # Configure only the named subcommand when we can tell which it is: keeps
    # every command's start-up (credential-process above all) free of the others.
    only = args_list[0] if args_list and args_list[0] in _COMMANDS else None
    _running[:] = [only] if only else []
    # A command may answer its plainest form before argparse is even imported
    # (credential-process: it runs before every AWS CLI command).
    fast_main = getattr(_load(only), "fast_main", None) if only else None
    code = fast_main(args_list[1:]) if fast_main is not None else None
    if code is not None:
        return int(code)
    parser = build_parser(only)
    args = parser.parse_args(args_list)
    _running[:] = [args.command]
    return int(_load(args.command).run(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
