"""What the subcommands share: the global options, ``--profile``/``--sso-session``, logging, error lines.

Global options (``--debug``, ``--profile``, ``--region``), as the AWS CLI's,
are accepted before or after the command name: :func:`global_options` is the
parent parser every subcommand is built from, and :func:`hoist_command` moves
the ones written before the command to just after it. A command that gives
``--profile`` or ``--debug`` its own help (:func:`add_profile`,
:func:`add_debug`) replaces the global one (the subparsers resolve conflicts).

Importing this module is cheap (not even argparse or typing, nothing of
botocore): ``credential-process`` and ``export`` import it on their warm path.

Errors for people are one line on stderr, ``boto-sso-oidc <command>: <reason>``,
and exit code 1; argparse's usage errors keep its exit code 2.
"""

from __future__ import annotations

import os
import sys

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # pragma: no cover
    import argparse
    import datetime
    from collections.abc import Callable, Container, Sequence
    from typing import IO, Any

    from ..config.reader import SSOSessionConfig
    from ..organizations._listing import ListingProgress

__all__ = ["EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE", "EXIT_INTERRUPTED", "EXIT_TERMINATED",
           "GLOBAL_FLAGS", "GLOBAL_VALUE_OPTIONS", "global_options",
           "hoist_command", "add_profile", "add_profile_or_session", "add_json",
           "add_debug", "setup_logging", "fail", "error_line", "report", "print_json", "quiet_stdout",
           "duration", "moment", "helper_command", "command_line", "ProgressLine"]

_PROG = "boto-sso-oidc"

def helper_command() -> list[str]:
    """How another program runs this installation's ``boto-sso-oidc``, by absolute path.

    The console script this process was started as; else the one installed for this
    interpreter (beside it, or in its ``Scripts`` folder on Windows, as ``boto-sso-oidc.exe``);
    else this interpreter with ``-m boto_sso_oidc_provider``. Never a bare name looked up on
    PATH: a ``credential_process`` line or a child must work where the venv's ``bin`` is not
    on PATH.
    """
    from .._platform import console_script_dirs, console_script_name

    name = console_script_name(_PROG)
    started_as = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    for script in (started_as, *(os.path.join(folder, name) for folder in console_script_dirs())):
        if os.path.basename(script) == name and os.path.isfile(script) and os.access(script, os.X_OK):
            return [script]
    return [os.path.abspath(sys.executable), "-m", "boto_sso_oidc_provider"]


def command_line(argv: Sequence[str]) -> str:
    """``argv`` as one line that botocore splits back into ``argv`` (its ``compat_shell_split``:
    POSIX shell quoting, or the Windows command-line rules), as ``credential_process`` needs."""
    from .._platform import join_command_line

    return join_command_line(tuple(argv))


GLOBAL_FLAGS = ("--debug",)
"""Global options without a value."""
GLOBAL_VALUE_OPTIONS = ("--profile", "--region")
"""Global options that take a value (``--profile P`` or ``--profile=P``)."""


def global_options(*, for_top_level: bool = False) -> argparse.ArgumentParser:
    """The parent parser of every subcommand: ``--debug``, ``--profile``, ``--region``.

    Every subcommand's namespace has ``debug``, ``profile`` and ``region``
    (False/None when not given). ``for_top_level`` makes the defaults
    ``SUPPRESS``, so the top-level parser (which lists them in ``--help``)
    never overwrites what the subcommand parsed.
    """
    import argparse

    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("global options (before or after the command)")

    def default(value: object) -> object:
        return argparse.SUPPRESS if for_top_level else value

    group.add_argument("--debug", action="store_true", default=default(False),
                       help="log what happens (secrets redacted) and show tracebacks, on stderr")
    group.add_argument("--profile", metavar="PROFILE", default=default(None),
                       help="the profile to use (default: $AWS_PROFILE, else 'default')")
    group.add_argument("--region", metavar="REGION", default=default(None),
                       help="the AWS region for commands that use or write one (default: the "
                            "profile's region); login and list use the sso-session's sso_region, "
                            "as the AWS CLI does")
    return parser


def hoist_command(argv: Sequence[str], commands: Container[str]) -> list[str]:
    """``--debug --profile P CMD ARGS`` -> ``CMD --debug --profile P ARGS``.

    Global options written before the command name move to just after it (not
    to the end: a ``--`` in ARGS must keep them out of a child's command line).
    Anything else is returned unchanged, for argparse to judge.
    """
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg in GLOBAL_FLAGS or any(arg.startswith(f"{option}=") for option in GLOBAL_VALUE_OPTIONS):
            index += 1
        elif arg in GLOBAL_VALUE_OPTIONS and index + 1 < len(argv):
            index += 2
        else:
            break
    if index == 0 or index >= len(argv) or argv[index] not in commands:
        return list(argv)
    return [argv[index], *argv[:index], *argv[index + 1:]]


def add_profile(parser: argparse.ArgumentParser, *, required: bool = False,
                what: str = "the profile to use",
                default: str = "$AWS_PROFILE, else 'default'") -> None:
    """``--profile P``; without it, ``default`` (by default ``AWS_PROFILE``, then ``default``, as boto3)."""
    note = "" if required else f" (default: {default})"
    parser.add_argument("--profile", metavar="PROFILE", required=required, help=f"{what}{note}")


def add_profile_or_session(parser: argparse.ArgumentParser, *, all_option: str | None = None) -> None:
    """``--profile P | --sso-session S`` (and optionally ``--all``), mutually exclusive."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--profile", metavar="PROFILE",
                       help="a profile that uses the sso-session (default: $AWS_PROFILE, else 'default')")
    group.add_argument("--sso-session", metavar="NAME", dest="sso_session",
                       help="an [sso-session NAME] section of the AWS config")
    if all_option:
        group.add_argument("--all", action="store_true", help=all_option)


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def add_debug(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true",
                        help="log what happens (secrets redacted) and show tracebacks, on stderr")


def setup_logging(debug: bool = False) -> None:
    """Warnings (or everything, with ``debug``) on stderr, secrets redacted."""
    import logging

    from .. import _redaction

    _redaction.install()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(name)s %(levelname)s: %(message)s" if debug else f"{_PROG}: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)


def error_line(error: BaseException) -> str:
    """One line for a person from any exception, secrets redacted."""
    from .. import _redaction

    message = getattr(error, "message", None) or str(error) or type(error).__name__
    url = _unreachable_url(error)
    if url is not None:
        from .._clients import unreachable_message

        message = unreachable_message(url)
    elif not _is_ours(error) and not _is_known(error):
        message = f"unexpected {type(error).__name__}: {message} (run again with --debug for details)"
    return one_line(_redaction.redact(str(message)))


def one_line(text: str) -> str:
    """``text`` as one printable line: whitespace runs become one space, and what a terminal would
    act on (ESC, BEL, a lone CR, other controls, bidi overrides) becomes ``?``. Every line printed
    for a person goes through it: messages carry what was read from files and services (a
    cool-down record's reason, a profile name, a server's answer)."""
    from ..logins._interaction import sanitize

    return " ".join(sanitize(" ".join(str(text).split())).split())


def _unreachable_url(error: BaseException) -> str | None:
    """The URL of a botocore ``EndpointConnectionError`` (nothing answered there), else None."""
    if "botocore.exceptions" not in sys.modules:
        return None
    import botocore.exceptions

    if not isinstance(error, botocore.exceptions.EndpointConnectionError):
        return None
    url = getattr(error, "kwargs", {}).get("endpoint_url")
    return url if isinstance(url, str) and url else None


def _is_ours(error: BaseException) -> bool:
    return type(error).__module__.startswith("boto_sso_oidc_provider")


def _is_known(error: BaseException) -> bool:
    """botocore's own errors (config, network, service) already read as sentences."""
    if "botocore.exceptions" not in sys.modules:
        return False
    import botocore.exceptions

    return isinstance(error, (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError))


def warn(line: str | None) -> None:
    """``line`` (if any) as a warning on stderr, never stdout; a closed stderr loses it quietly."""
    if not line:
        return
    try:
        print(f"{_PROG}: warning: {one_line(line)}", file=sys.stderr)
    except (AttributeError, OSError, ValueError):
        pass


def warn_if_session_ends(sso: SSOSessionConfig, profile: str | None = None) -> None:
    """A warning on stderr when ``sso``'s session ends, at the latest, within minutes (see
    :mod:`..caches._session_end`); nothing when it does not, or when its end is unknown."""
    from ..caches._session_end import ending_notice
    from ..config.reader import login_command

    warn(ending_notice(sso.token_cache_key, duration=sso.settings.session_duration,
                       where=sso.display_name, login_command=login_command(sso, profile)))


def fail(command: str, message: str) -> int:
    """Print ``boto-sso-oidc COMMAND: MESSAGE`` on stderr; return exit code 1."""
    print(f"{_PROG} {command}: {one_line(message)}", file=sys.stderr)
    return EXIT_FAILURE


def report(command: str, error: BaseException, *, debug: bool = False,
           profile: str | None = None) -> int:
    """Report ``error`` as one line (plus a redacted traceback with ``debug``); return 1.

    With ``profile``, the line starts with it unless the message already names it.
    """
    if debug:
        import traceback

        from .. import _redaction

        sys.stderr.write(_redaction.redact("".join(traceback.format_exception(error))))
    line = error_line(error)
    if profile and f'"{profile}"' not in line:
        line = f'profile "{profile}": {line}'
    return fail(command, line)


def print_json(data: Any, stream: IO[str] | None = None) -> None:
    import json

    stream = stream if stream is not None else sys.stdout
    stream.write(json.dumps(data, indent=2) + "\n")
    stream.flush()


class quiet_stdout:
    """Send everything written to stdout inside the block to stderr instead.

    Used around the full credential path so that nothing but the final JSON
    ever reaches the stdout the AWS CLI parses, whatever a library (or a
    child process) prints. Works on file descriptor 1, not just ``sys.stdout``.
    """

    def __init__(self) -> None:
        self._saved_fd: int | None = None
        self._saved_stream: IO[str] | None = None

    def __enter__(self) -> None:
        sys.stdout.flush()
        self._saved_stream = sys.stdout
        sys.stdout = sys.stderr
        try:
            self._saved_fd = os.dup(1)
            os.dup2(2, 1)
        except OSError:  # no fd 1 or 2 (a closed stream): the Python-level swap still holds
            self._saved_fd = None

    def __exit__(self, *exc: object) -> None:
        sys.stderr.flush()
        if self._saved_fd is not None:
            os.dup2(self._saved_fd, 1)
            os.close(self._saved_fd)
        assert self._saved_stream is not None
        sys.stdout = self._saved_stream


def duration(seconds: float) -> str:
    """``2d 3h``, ``1h 5m``, ``4m 10s``, ``12s``: two units at most, for people."""
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def moment(when: datetime.datetime, now: datetime.datetime) -> str:
    """``2026-11-21T08:27:03Z (in 59m 58s)`` or ``... (3m 2s ago)``."""
    from .._clock import format_timestamp

    left = (when - now).total_seconds()
    relative = f"in {duration(left)}" if left >= 0 else f"{duration(left)} ago"
    return f"{format_timestamp(when)} ({relative})"


class ProgressLine:
    """A listing's progress on one self-rewriting line of stderr, at most five times a second.

    Shown only when ``enabled`` (by default: stderr is a terminal); ``clear`` wipes it before
    the next output.
    """

    def __init__(self, describe: Callable[[ListingProgress], str], *,
                 enabled: bool | None = None) -> None:
        from .._platform import erase_line, is_terminal

        self.enabled = is_terminal(sys.stderr) if enabled is None else enabled
        self._erase = erase_line(sys.stderr) if self.enabled else ""
        self._describe = describe
        self._last = 0.0
        self._shown = False

    def __call__(self, moment: ListingProgress) -> None:
        import time

        now = time.monotonic()
        if not self.enabled or now - self._last < 0.2:
            return
        self._last = now
        sys.stderr.write(f"{self._erase}{self._describe(moment)}")
        sys.stderr.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            sys.stderr.write(self._erase)
            sys.stderr.flush()
            self._shown = False
