"""``boto-sso-oidc emulator --tls`` (a throwaway CA) and ``--tls-cert/--tls-key``, used by the AWS CLI
(v1, from PyPI) and by this package, each trusting the CA through ``AWS_CA_BUNDLE``."""

from __future__ import annotations

import json
import os
import selectors
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from boto_sso_oidc_provider.emulator import EmulatorControl, emulator_environment, sso_config
from boto_sso_oidc_provider.emulator._fixture import private_dir

from .cli_helpers import CLI, console_script
from .conftest import REPO

pytest.importorskip("cryptography", reason="cryptography is not installed (pip install -e '.[test]')")

HELPER_PROFILE = """
[profile dev-cli]
credential_process = boto-sso-oidc credential-process --profile dev
region = us-east-1
"""


@dataclass
class Running:
    process: subprocess.Popen[str]
    url: str
    ca: Path | None
    home: Path

    def env(self, **extra: str) -> dict[str, str]:
        """A person's shell aimed at this emulator: its HOME, config and URL, nothing else AWS."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(emulator_environment(self.home, self.url))
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        script = console_script()
        if script is not None:
            env["PATH"] = f"{script.parent}{os.pathsep}{env.get('PATH', '')}"
        env.update(extra)
        return env

    def control(self) -> EmulatorControl:
        return EmulatorControl(self.url, cafile=str(self.ca) if self.ca else None)


def _first_lines(process: subprocess.Popen[str], count: int, timeout: float = 30) -> list[str]:
    """The first ``count`` lines on stdout (printed together, once it listens)."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            process.kill()
            raise AssertionError("the emulator printed nothing in time")
    return [process.stdout.readline().rstrip("\n") for _ in range(count)]


def _start(tmp_path: Path, *args: str) -> Iterator[Running]:
    process = subprocess.Popen([*CLI, "emulator", "--auto-approve", "--interval", "0", *args],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        url, *rest = _first_lines(process, 2 if "--tls" in args else 1)
        ca = Path(rest[0]) if rest else None
        home = private_dir(tmp_path / "home")
        (private_dir(home / ".aws") / "config").write_text(sso_config() + HELPER_PROFILE)
        yield Running(process, url, ca, home)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)


@pytest.fixture
def tls_emulator(tmp_path: Path) -> Iterator[Running]:
    yield from _start(tmp_path, "--tls")


def _run(running: Running, *command: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), env=running.env(**extra), capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO)


def test_tls_prints_the_url_then_the_ca_and_removes_it_when_stopped(tls_emulator):
    assert tls_emulator.url.startswith("https://127.0.0.1:")
    assert tls_emulator.ca is not None and tls_emulator.ca.name == "ca.pem"
    directory = tls_emulator.ca.parent
    assert directory.stat().st_mode & 0o777 == 0o700
    assert (directory / "server.key").stat().st_mode & 0o777 == 0o600
    assert not (directory / "ca.key").exists()  # the CA's key was never written
    # the certificate is for the loopback names, issued by the CA printed
    context = ssl.create_default_context(cafile=str(tls_emulator.ca))
    assert tls_emulator.control().calls()["operations"]["RegisterClient"] == 0
    import socket

    port = int(tls_emulator.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        issuer = dict(item[0] for item in tls.getpeercert()["issuer"])
    assert issuer["commonName"] == "boto-sso-oidc emulator throwaway CA"
    tls_emulator.process.send_signal(signal.SIGTERM)
    assert tls_emulator.process.wait(20) == 0
    assert not directory.exists()


def test_the_aws_cli_v1_trusts_it_through_aws_ca_bundle(tls_emulator):
    pytest.importorskip("awscli", reason="the AWS CLI v1 (awscli) is not installed")
    ca = str(tls_emulator.ca)
    login = _run(tls_emulator, *CLI, "login", "--profile", "dev", AWS_CA_BUNDLE=ca)
    assert login.returncode == 0, login.stderr
    aws = [sys.executable, "-m", "awscli"]
    result = _run(tls_emulator, *aws, "sts", "get-caller-identity", "--profile", "dev-cli",
                  "--output", "json", AWS_CA_BUNDLE=ca)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Account"] == "111111111111"
    ops = tls_emulator.control().calls()["operations"]
    assert (ops["GetRoleCredentials"], ops["GetCallerIdentity"]) == (1, 1)

    untrusted = _run(tls_emulator, *aws, "sts", "get-caller-identity", "--profile", "dev-cli")
    assert untrusted.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
    assert tls_emulator.control().calls()["operations"]["GetCallerIdentity"] == 1


def test_this_package_trusts_it_through_aws_ca_bundle(tls_emulator):
    ca = str(tls_emulator.ca)
    untrusted = _run(tls_emulator, *CLI, "login", "--profile", "dev")
    assert untrusted.returncode == 1
    assert tls_emulator.control().calls()["operations"]["RegisterClient"] == 0

    assert _run(tls_emulator, *CLI, "login", "--profile", "dev", AWS_CA_BUNDLE=ca).returncode == 0
    result = _run(tls_emulator, *CLI, "credential-process", "--profile", "dev", AWS_CA_BUNDLE=ca)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Version"] == 1
    ops = tls_emulator.control().calls()["operations"]
    assert (ops["RegisterClient"], ops["CreateToken"] > 0, ops["GetRoleCredentials"]) == (1, True, 1)


def test_tls_cert_and_key_serve_a_certificate_made_elsewhere(tmp_path):
    from boto_sso_oidc_provider.emulator._tls import make_throwaway_ca

    files = make_throwaway_ca(private_dir(tmp_path / "mine"), ["127.0.0.1"], ca_name="My Corp CA")
    for running in _start(tmp_path, "--tls-cert", str(files.certificate), "--tls-key", str(files.key)):
        assert running.url.startswith("https://")
        running.ca = files.ca
        result = _run(running, *CLI, "login", "--profile", "dev", AWS_CA_BUNDLE=str(files.ca))
        assert result.returncode == 0, result.stderr
        assert running.control().calls()["operations"]["RegisterClient"] == 1
        assert files.certificate.exists()  # someone else's files are left alone


def test_an_unusable_certificate_is_one_line_and_exit_1(tmp_path):
    bad = tmp_path / "not-a-certificate.pem"
    bad.write_text("hello\n")
    result = subprocess.run([*CLI, "emulator", "--tls-cert", str(bad)], capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=REPO)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"boto-sso-oidc emulator: cannot use the certificate {bad}")


def test_tls_key_alone_is_a_usage_error(tmp_path):
    result = subprocess.run([*CLI, "emulator", "--tls-key", str(tmp_path / "k")], capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=REPO)
    assert (result.returncode, result.stderr.strip()) == (2, "boto-sso-oidc emulator: --tls-key needs "
                                                          "--tls-cert")


def test_without_cryptography_tls_names_the_extra(tmp_path):
    """The runtime package does not depend on cryptography: --tls says which extra brings it."""
    blocked = ("import sys; sys.modules['cryptography'] = None\n"
               "from boto_sso_oidc_provider.cli import main\n"
               "sys.argv[0] = 'boto-sso-oidc'; sys.exit(main(['emulator', '--tls']))")
    result = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL, cwd=REPO,
                            env={**os.environ, "TMPDIR": str(tmp_path)})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "boto-sso-oidc emulator: --tls: making certificates needs the cryptography package: pip "
        "install 'boto-sso-oidc-provider[emulator-tls]', or serve your own with --tls-cert and "
        "--tls-key")
    assert not list(tmp_path.iterdir())  # no directory left behind
