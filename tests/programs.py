"""Unmodified programs: scripts that never import this package, run as real processes.

They get the plugin (or not) only through the startup hook and the AWS config,
as a user's existing boto3, botocore, aiobotocore and aioboto3 code would.
Each prints the ARN STS GetCallerIdentity returns (the emulator verifies the
SigV4 signature, so the credentials are real).
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from _boto_sso_oidc_provider_startup import PTH_NAME

from .conftest import REPO, subprocess_env

PROGRAMS = {
    "boto3": """
        import boto3
        print(boto3.client("sts").get_caller_identity()["Arn"])
    """,
    "botocore": """
        import botocore.session
        client = botocore.session.get_session().create_client("sts")
        print(client.get_caller_identity()["Arn"])
    """,
    "aiobotocore": """
        import asyncio
        from aiobotocore.session import get_session

        async def main():
            async with get_session().create_client("sts") as client:
                print((await client.get_caller_identity())["Arn"])

        asyncio.run(main())
    """,
    "aioboto3": """
        import asyncio
        import aioboto3

        async def main():
            async with aioboto3.Session().client("sts") as client:
                print((await client.get_caller_identity())["Arn"])

        asyncio.run(main())
    """,
}

PROGRAM_MODULES = {"boto3": ("boto3",), "botocore": ("botocore",), "aiobotocore": ("aiobotocore",),
                   "aioboto3": ("aioboto3",)}
"""What each program imports (the async ones come with the optional test extras)."""

ENABLED = "boto_sso_oidc_enabled = true\n"


def hook_installed() -> bool:
    """Is the startup hook in this interpreter's site-packages (``pip install -e .`` puts it there)?"""
    return any(Path(d, PTH_NAME).is_file() for d in site.getsitepackages())


requires_hook = pytest.mark.skipif(
    not hook_installed() and not os.environ.get("CI"),
    reason=f"{PTH_NAME} is not installed in this venv: re-run pip install -e '.[test]'",
)
"""Old developer venvs lack the hook until reinstalled; CI (a fresh install) never skips."""


def program_env(emulator: Any, **extra: str) -> dict[str, str]:
    """The environment of an unmodified program: the test's HOME and emulator, and nothing that
    points at this repository (the package comes from the installation, as for a user)."""
    env = subprocess_env(emulator, **extra)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(REPO))
    if not env["PYTHONPATH"]:
        del env["PYTHONPATH"]
    return env


def run_program(code: str, env: dict[str, str], python: str = sys.executable,
                timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run an unmodified program (never importing this package) with no terminal."""
    code = textwrap.dedent(code)
    assert "boto_sso_oidc" not in code
    return subprocess.run([python, "-c", code], env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, start_new_session=True,
                          cwd="/")
