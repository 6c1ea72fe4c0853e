"""Helpers for the browser-login tests: a stand-in browser through ``BROWSER``, cache snapshots."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from .conftest import REPO

FAKE_BROWSER = REPO / "tests" / "fake_browser.py"


def registration_file(home: Path, start_url: str = "https://emulator.awsapps.com/start",
                      region: str = "us-east-1", session: str = "emulator",
                      scopes: list[str] | None = None) -> Path:
    """Where the AWS CLI v2 keeps the client registration of an sso-session (both flows)."""
    args = {"tool": "botocore", "startUrl": start_url, "region": region,
            "scopes": ["sso:account:access"] if scopes is None else scopes, "session_name": session}
    key = hashlib.sha1(json.dumps(args, sort_keys=True).encode()).hexdigest()
    return home / ".aws" / "sso" / "cache" / f"{key}.json"


def browser_env(home: Path, mode: str = "allow", **extra: str) -> dict[str, str]:
    """Environment for a login whose browser is :mod:`tests.fake_browser` acting as ``mode``."""
    return {
        "BROWSER": f"{sys.executable} {FAKE_BROWSER}",
        "FAKE_BROWSER": mode,
        "FAKE_BROWSER_LOG": str(home / "browser.log"),
        "FAKE_BROWSER_REGISTRATION": str(registration_file(home)),
        "BOTO_SSO_OIDC_OPEN_BROWSER": "true",
        **extra,
    }


def browser_log(home: Path) -> list[str]:
    path = home / "browser.log"
    return path.read_text().splitlines() if path.exists() else []


def wait_for_browser(home: Path, timeout: float = 30) -> str:
    """The URL the browser was sent to, once it was (the listener is bound by then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = browser_log(home)
        if lines:
            return lines[0]
        time.sleep(0.05)
    raise AssertionError("the browser was never opened")


def cache_snapshot(home: Path) -> dict[str, bytes]:
    """Every cache file under ~/.aws (SSO tokens, registrations, role credentials), byte for byte."""
    return {str(path.relative_to(home)): path.read_bytes()
            for path in sorted((home / ".aws").rglob("*.json"))}


def read_json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    assert isinstance(data, dict)
    return data
