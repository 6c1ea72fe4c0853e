"""``boto-sso-oidc demo`` runs to its end, touching neither ~/.aws nor the environment."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

from boto_sso_oidc_provider._platform import home_environment
from boto_sso_oidc_provider.cli._demo import run_demo

from .conftest import REPO


def test_demo_command_runs_to_a_successful_end(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(home_environment(home))  # the user's home, as botocore finds it on this platform
    env.update(PYTHONPATH=str(REPO), AWS_PROFILE="not-the-demos",
               AWS_CONFIG_FILE=str(home / "nonexistent-config"))
    result = subprocess.run([sys.executable, "-m", "boto_sso_oidc_provider", "demo"], env=env,
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    steps = re.findall(r"^\[(\d)\] ", out, flags=re.MULTILINE)
    assert steps == ["1", "2", "3", "4", "5", "6"]
    assert "/device?user_code=" in out and "check that it shows the code" in out
    assert "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess" in out
    assert re.search(r"GetRoleCredentials (\d+) -> \1\b", out)  # the warm path called nothing
    assert "refresh_token grants 0 -> 1" in out
    assert out.rstrip().endswith("your environment is as it was.")
    assert list(home.iterdir()) == []  # the user's home (USERPROFILE on Windows) was never written


def test_demo_restores_the_environment(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "mine")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAMINE")
    before = dict(os.environ)
    out = io.StringIO()
    assert run_demo(out=out) == 0
    assert dict(os.environ) == before
    assert "Done in" in out.getvalue()


def test_interactive_demo_with_a_browser_shows_the_browser_flow(monkeypatch):
    """--interactive where a browser can be opened: the browser flow; the person (here a
    stand-in browser, through BROWSER) clicks Allow on the emulator's consent page."""
    from .browser_helpers import FAKE_BROWSER

    monkeypatch.setenv("BROWSER", f"{sys.executable} {FAKE_BROWSER}")
    monkeypatch.setenv("FAKE_BROWSER", "allow")
    out = io.StringIO()
    assert run_demo(interactive=True, out=out) == 0
    text = out.getvalue()
    assert "Logging in with the browser flow (authorization code + PKCE)" in text
    assert "/authorize?" in text and "/device?user_code=" not in text
    assert "refresh_token grants 0 -> 1" in text


def test_demo_uses_the_device_flow_even_where_a_browser_could_open(monkeypatch):
    monkeypatch.setenv("BROWSER", "/bin/false")
    out = io.StringIO()
    assert run_demo(out=out) == 0
    assert "/device?user_code=" in out.getvalue() and "/authorize?" not in out.getvalue()
