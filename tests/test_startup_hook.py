"""The startup hook at interpreter start: what it imports, when it registers, what switches it off."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

from .programs import requires_hook


def _python(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BOTO_SSO_OIDC_ENABLED")}
    environ.update(env)
    return subprocess.run([sys.executable, *args], env=environ, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL, cwd="/")


def _imported_at_start(**env: str) -> list[str]:
    result = _python("-X", "importtime", "-c", "pass", **env)
    assert result.returncode == 0, result.stderr
    return [line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
            if line.startswith("import time:") and "|" in line][1:]  # first line is the header


@requires_hook
def test_at_start_it_imports_only_its_own_small_module_and_nothing_of_botocore():
    modules = _imported_at_start()

    assert [m for m in modules if "boto_sso_oidc" in m and not m.startswith("__editable__")] == \
        ["_boto_sso_oidc_provider_startup"]
    assert not [m for m in modules if m.startswith(("botocore", "boto3", "filelock"))]


@requires_hook
def test_it_waits_for_botocore_session_then_registers_once_and_stays_inert():
    code = (
        "import sys, botocore\n"
        "names = lambda: [type(f).__name__ for f in sys.meta_path]\n"
        "print('_BotocoreSessionWatcher' in names(), len(botocore._INITIALIZERS))\n"
        "import botocore.session, importlib, _boto_sso_oidc_provider_startup as h\n"
        "importlib.reload(botocore.session)\n"
        "print(names().count('_BotocoreSessionWatcher'), [i.__module__ for i in botocore._INITIALIZERS])\n"
    )
    result = _python("-c", code)
    # The finder stays (removing it could make another thread skip a finder), registering only once.
    assert result.stdout.splitlines() == ["True 0",
                                          "1 ['_boto_sso_oidc_provider_startup']"], result.stderr


# While an import of lzma walks sys.meta_path, botocore.session is imported right before
# PathFinder's turn: what another thread does at that moment, made deterministic.
_IMPORT_DURING_THE_WALK = """
    import importlib.machinery, sys
    import botocore

    class ImportsBotocoreSession:
        def find_spec(self, name, path=None, target=None):
            if name == "lzma":
                import botocore.session
            return None

    assert "botocore.session" not in sys.modules and "lzma" not in sys.modules
    sys.meta_path.insert(sys.meta_path.index(importlib.machinery.PathFinder), ImportsBotocoreSession())
    import lzma
    print(lzma.__name__, botocore.session.__name__)
"""


@requires_hook
def test_the_first_import_of_botocore_session_never_makes_another_import_skip_a_finder():
    result = _python("-c", textwrap.dedent(_IMPORT_DURING_THE_WALK))
    assert result.stdout == "lzma botocore.session\n", result.stderr


# Threads import modules (argv[2]) while the main thread first imports botocore.session. What
# botocore.session needs from outside botocore (argv[1]) is imported first, so that the threads
# and the main thread never import the same module (CPython's own deadlock avoidance between
# threads importing each other's modules would return a partly initialised module).
_IMPORT_RACE = """
    import sys, threading
    for name in sys.argv[1].split(","):
        __import__(name)
    names = sys.argv[2].split(",")
    failures = []
    start = threading.Barrier(5)

    def work(names):
        start.wait()
        for name in names:
            try:
                __import__(name)
            except ImportError as error:
                failures.append(f"{name}: {error!r}")

    threads = [threading.Thread(target=work, args=(names[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    start.wait()
    import botocore.session
    for thread in threads:
        thread.join()
    print("; ".join(failures) or "ok")
"""
_THREAD_MODULES = ["lzma", "shelve", "bz2", "csv", "fractions", "statistics", "decimal", "difflib",
                   "plistlib", "tarfile", "zipfile", "sqlite3", "imaplib", "smtplib", "ftplib", "poplib",
                   "mailbox", "xml.dom.minidom", "wave", "colorsys", "cmd", "code", "codeop", "gettext",
                   "optparse", "getopt", "calendar", "sched", "queue", "graphlib", "filecmp", "glob",
                   "netrc", "mimetypes", "uuid", "hmac", "secrets", "pprint", "reprlib", "textwrap",
                   "timeit", "trace", "tracemalloc", "zipapp", "pickletools", "pickle", "dbm",
                   "ipaddress", "zoneinfo", "http.cookiejar", "xmlrpc.client", "argparse", "sunau",
                   "wsgiref.simple_server", "http.server"]
RACE_PROCESSES = 500


@pytest.mark.slow
@pytest.mark.timeout(900)
@requires_hook
def test_threads_importing_while_botocore_session_is_first_imported_never_get_a_false_import_error():
    found = _python("-c", "import sys; before = set(sys.modules); import botocore.session; "
                          "print(','.join(sorted(m for m in set(sys.modules) - before "
                          "if not m.startswith('botocore'))))", BOTO_SSO_OIDC_ENABLED="false")
    assert found.returncode == 0, found.stderr
    needed = found.stdout.strip()
    threads = ",".join(name for name in _THREAD_MODULES if name not in needed.split(","))
    code = textwrap.dedent(_IMPORT_RACE)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: _python("-W", "ignore", "-c", code, needed, threads),
                                range(RACE_PROCESSES)))
    outcomes = [result.stdout.strip() or result.stderr.strip().splitlines()[-1] for result in results]
    failed = [outcome for outcome in outcomes if outcome != "ok"]
    assert not failed, f"{len(failed)} of {RACE_PROCESSES} processes: {failed[:5]}"


@requires_hook
def test_boto_sso_oidc_enabled_false_keeps_even_the_finder_out():
    code = "import sys; print([type(f).__name__ for f in sys.meta_path])"
    assert "_BotocoreSessionWatcher" in _python("-c", code).stdout
    assert "_BotocoreSessionWatcher" not in _python("-c", code, BOTO_SSO_OIDC_ENABLED="false").stdout


def test_activate_after_botocore_session_was_imported_registers_at_once():
    code = (
        "import os, botocore.session\n"
        "os.environ.pop('BOTO_SSO_OIDC_ENABLED')\n"
        "import _boto_sso_oidc_provider_startup as _startup\n"
        "_startup.activate(); _startup.activate()\n"
        "print(botocore._INITIALIZERS.count(_startup.initialize))\n"
    )
    result = _python("-c", code, BOTO_SSO_OIDC_ENABLED="false",
                     PYTHONPATH=str(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert result.stdout == "1\n", result.stderr
