"""``boto-sso-oidc eks-kubeconfig``: point a kubeconfig's ``aws eks get-token`` users at ``eks-token``.

Rewrites, in place, the exec stanza of every ``users`` entry that runs ``aws eks
get-token`` (as ``aws eks update-kubeconfig`` writes them): ``command`` becomes
this installation's ``boto-sso-oidc`` (by absolute path, so kubectl finds it from
any shell or IDE) and ``eks get-token`` becomes ``eks-token``; ``AWS_PROFILE``, the
other variables and every other argument stay. Nothing else in the file changes,
byte for byte (see :mod:`boto_sso_oidc_provider.providers._kubeconfig` for what it proves
before it edits a stanza, and why it needs no YAML library). ``--dry-run`` prints
the diff and writes nothing. The write is atomic (a temporary file beside it, the
file's mode kept, then a rename), refused if the file changed meanwhile, and never
through a symlink.

Exit codes: 0 done (or nothing to do); 1 failure, or a stanza left as it was
(each named on stderr with the reason); 2 usage.
"""

from __future__ import annotations

import os
import sys

from ._common import EXIT_FAILURE, EXIT_OK, fail

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # pragma: no cover
    import argparse

_COMMAND = "eks-kubeconfig"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("Exit codes: 0 done or nothing to do, 1 failure or a stanza left as it was "
                     "(reason on stderr), 2 bad usage.")
    parser.add_argument("--kubeconfig", metavar="PATH",
                        help="the kubeconfig to rewrite (default: the first file of $KUBECONFIG, "
                             "else ~/.kube/config)")
    parser.add_argument("--dry-run", action="store_true", help="print the diff; write nothing")
    parser.add_argument("--command", metavar="PROGRAM", dest="program",
                        help="the command kubectl runs (default: this boto-sso-oidc, by absolute path)")


def default_kubeconfig() -> str:
    """kubectl's own default: the first file of ``KUBECONFIG``, else ``~/.kube/config``."""
    listed = [path for path in os.environ.get("KUBECONFIG", "").split(os.pathsep) if path]
    return listed[0] if listed else os.path.join(os.path.expanduser("~"), ".kube", "config")


def run(args: argparse.Namespace) -> int:
    import difflib

    from .._files import file_identity
    from ..providers._kubeconfig import rewrite_kubeconfig
    from ._common import helper_command

    path = os.path.abspath(os.path.expanduser(args.kubeconfig or default_kubeconfig()))
    if os.path.islink(path):
        return fail(_COMMAND, f"{path} is a symbolic link: give --kubeconfig the file it points to "
                              f"({os.path.realpath(path)})")
    try:
        with open(path, "rb") as file:
            before = os.fstat(file.fileno())
            raw = file.read()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return fail(_COMMAND, f"cannot read {path}: {error}")
    command = [args.program] if args.program else helper_command()
    result = rewrite_kubeconfig(text, command)
    for name, reason in result.refused:
        print(f"boto-sso-oidc {_COMMAND}: user {name!r} in {path}: {reason}", file=sys.stderr)
    if not result.rewritten:
        print(f"No aws eks get-token user to rewrite in {path}.", file=sys.stderr)
        return EXIT_FAILURE if result.refused else EXIT_OK
    if args.dry_run:
        sys.stdout.writelines(difflib.unified_diff(text.splitlines(keepends=True),
                                                   result.text.splitlines(keepends=True),
                                                   fromfile=path, tofile=f"{path} (rewritten)"))
        return EXIT_FAILURE if result.refused else EXIT_OK
    directory = os.path.dirname(path)
    temporary = os.path.join(directory, f".{os.path.basename(path)}.boto-sso-oidc-{os.getpid()}")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                             before.st_mode & 0o777)
        with os.fdopen(descriptor, "wb") as file:
            file.write(result.text.encode("utf-8"))
            file.flush()
            os.fsync(file.fileno())
        if file_identity(os.lstat(path)) != file_identity(before):
            os.unlink(temporary)
            return fail(_COMMAND, f"{path} changed while it was being rewritten: nothing was written; "
                                  "run the command again")
        os.replace(temporary, path)
    except OSError as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        return fail(_COMMAND, f"cannot write {path}: {error}")
    for name in result.rewritten:
        print(f"User {name!r} now runs {' '.join(command)} eks-token.", file=sys.stderr)
    return EXIT_FAILURE if result.refused else EXIT_OK
