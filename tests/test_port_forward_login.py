"""A fixed callback port carried through a port forward: the login runs on a "remote" machine and
the browser on a "laptop", each its own network namespace with its own loopback, joined as
``ssh -L`` joins them (a forwarder on the laptop's 127.0.0.1 port, through the link, to a
forwarder on the remote that connects to the remote's 127.0.0.1 port)."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from boto_sso_oidc_provider.emulator import emulator_environment, sso_config
from boto_sso_oidc_provider.emulator._fixture import private_dir

from .cli_helpers import CLI
from .conftest import REPO
from .netns_helpers import FORWARDER, namespaces, needs_namespaces

pytestmark = needs_namespaces

CALLBACK_PORT = 8400
EMULATOR_PORT = 8300
REMOTE, LAPTOP = "172.31.7.2", "172.31.7.1"

@contextlib.contextmanager
def _machines() -> Iterator[tuple[str, str]]:
    with namespaces("rem", "lap") as (remote, laptop):
        suffix = secrets.token_hex(2)
        subprocess.run(["ip", "-n", laptop, "link", "add", f"bsol{suffix}", "type", "veth", "peer",
                        "name", f"bsor{suffix}", "netns", remote], check=True)
        for name, link, address in ((laptop, f"bsol{suffix}", LAPTOP), (remote, f"bsor{suffix}", REMOTE)):
            subprocess.run(["ip", "-n", name, "addr", "add", f"{address}/30", "dev", link], check=True)
            subprocess.run(["ip", "-n", name, "link", "set", link, "up"], check=True)
        yield remote, laptop


def _in(namespace: str, *command: str, env: dict[str, str] | None = None, **kwargs: object) \
        -> subprocess.Popen[str]:
    return subprocess.Popen(["ip", "netns", "exec", namespace, *command], env=env, text=True,
                            stdin=subprocess.DEVNULL, cwd=REPO, **kwargs)  # type: ignore[call-overload]


@contextlib.contextmanager
def _running(*processes: subprocess.Popen[str]) -> Iterator[None]:
    try:
        yield
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=30)


def _forward(namespace: str, listen: tuple[str, int], target: tuple[str, int]) -> subprocess.Popen[str]:
    process = _in(namespace, sys.executable, "-c", FORWARDER, listen[0], str(listen[1]), target[0],
                  str(target[1]), stdout=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def test_the_browser_on_the_laptop_completes_the_login_through_the_forwarded_port(tmp_path: Path):
    home = private_dir(tmp_path / "home")
    (private_dir(home / ".aws") / "config").write_text(
        sso_config().replace("[sso-session emulator]\n",
                             f"[sso-session emulator]\nboto_sso_oidc_redirect_port = {CALLBACK_PORT}\n"))
    with _machines() as (remote, laptop):
        emulator = _in(remote, *CLI, "emulator", "--auto-approve", "--interval", "0", "--port",
                       str(EMULATOR_PORT), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        with _running(emulator):
            assert emulator.stdout is not None
            url = emulator.stdout.readline().strip()
            assert url == f"http://127.0.0.1:{EMULATOR_PORT}"
            # ssh -L CALLBACK:127.0.0.1:CALLBACK (and the laptop reaching "AWS", the emulator)
            tunnels = [_forward(remote, (REMOTE, port), ("127.0.0.1", port))
                       for port in (CALLBACK_PORT, EMULATOR_PORT)]
            tunnels += [_forward(laptop, ("127.0.0.1", port), (REMOTE, port))
                        for port in (CALLBACK_PORT, EMULATOR_PORT)]
            with _running(*tunnels):
                env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
                env.update(emulator_environment(home, url), PYTHONPATH=str(REPO))
                login = _in(remote, *CLI, "login", "--profile", "dev", env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                with _running(login):
                    assert login.stderr is not None
                    lines = []
                    while not (lines and lines[-1].startswith("    http")):
                        line = login.stderr.readline()
                        assert line, "".join(lines)
                        lines.append(line)
                    authorize = lines[-1].strip()
                    redirect = parse_qs(urlsplit(authorize).query)["redirect_uri"][0]
                    assert redirect == f"http://127.0.0.1:{CALLBACK_PORT}/oauth/callback"
                    # On the laptop, 127.0.0.1 is the laptop: the forwarded port carries the redirect.
                    log = tmp_path / "browser.log"
                    browser = subprocess.run(
                        ["ip", "netns", "exec", laptop, sys.executable,
                         str(REPO / "tests" / "fake_browser.py"), authorize],
                        env={**env, "FAKE_BROWSER_LOG": str(log)}, capture_output=True, text=True,
                        timeout=120, stdin=subprocess.DEVNULL, cwd=REPO)
                    assert browser.returncode == 0, browser.stderr
                    assert login.wait(60) == 0, login.stderr.read()
                    assert log.read_text().splitlines()[-1] == "PAGE 200 You are logged in - boto-sso-oidc"
                    calls = subprocess.run(
                        ["ip", "netns", "exec", remote, sys.executable, "-c",
                         "import json; from boto_sso_oidc_provider.emulator import EmulatorControl; "
                         f"print(json.dumps(EmulatorControl('{url}').calls()))"],
                        env=env, capture_output=True, text=True, timeout=60, cwd=REPO)
                    assert '"authorization_code": 1' in calls.stdout, calls.stderr
    token_files = list((home / ".aws" / "sso" / "cache").glob("*.json"))
    assert len(token_files) == 2  # the token and the registration
