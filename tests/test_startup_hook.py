"""The startup hook at interpreter start: what it imports, when it registers, what switches it off."""

from __future__ import annotations

import os
import subprocess
import sys

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
def test_it_waits_for_botocore_session_then_registers_once_and_leaves_the_import_system():
    code = (
        "import sys, botocore\n"
        "names = lambda: [type(f).__name__ for f in sys.meta_path]\n"
        "print('_BotocoreSessionWatcher' in names(), len(botocore._INITIALIZERS))\n"
        "import botocore.session\n"
        "print('_BotocoreSessionWatcher' in names(), [i.__module__ for i in botocore._INITIALIZERS])\n"
    )
    result = _python("-c", code)
    assert result.stdout.splitlines() == ["True 0",
                                          "False ['_boto_sso_oidc_provider_startup']"], result.stderr


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
