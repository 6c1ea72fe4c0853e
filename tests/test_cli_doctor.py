"""``boto-sso-oidc doctor`` (issue 28, item 3): a clean setup passes; each planted mistake is named
with its fix, one line each; --json says the same; exit 0 or 1."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
from pathlib import Path

import pytest

from boto_sso_oidc_provider._clock import utc_now

from .cli_helpers import run_cli
from .conftest import requires, token_file

pytest_plugins = ["tests.corporate_network"]

PLANTED = """
[profile old]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = ReadOnlyAccess

[sso-session hash]
sso_start_url = https://hash.awsapps.com/start/#/
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile typo-region]
sso_session = emulator
sso_account_id = 111111111111
sso_role_name = ReadOnlyAccess
region = eu-west1

[sso-session noscope]
sso_start_url = https://noscope.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = openid

[profile bad-setting]
sso_session = emulator
sso_account_id = 111111111111
sso_role_name = ReadOnlyAccess
boto_sso_oidc_auto_login = maybe

[profile typo-key]
sso_session = emulator
sso_acount_id = 111111111111
sso_role_name = ReadOnlyAccess

[profile static]
credential_process = /bin/true
boto_sso_oidc_enabled = true

[profile dev-cli]
credential_process = /nowhere/venv/bin/boto-sso-oidc credential-process --profile dev
"""


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _doctor(emulator, *args: str, **env: str):
    """``doctor`` with this venv's bin (its ``aws``, the AWS CLI v1) first on PATH."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return run_cli(emulator, "doctor", *args, AWS_PROFILE="", PATH=path, **env)


def test_a_clean_setup_passes(sso_emulator):
    assert run_cli(sso_emulator, "login", "--profile", "dev").returncode == 0
    assert run_cli(sso_emulator, "credential-process", "--profile", "dev").returncode == 0
    result = _doctor(sso_emulator, "--profile", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert all(line.startswith("OK ") for line in lines[:-1]), result.stdout
    checks = {line.split()[1].rstrip(":") for line in lines[:-1]}
    assert checks == {"config", "caches", "hook", "network", "clock", "aws-cli"}, result.stdout
    assert lines[-1].startswith("0 failed, 0 warnings, ")


@pytest.mark.sso_emulator(clock=lambda: utc_now() + dt.timedelta(minutes=20))
def test_each_planted_mistake_is_named_with_its_fix(sso_emulator):
    """Thirteen mistakes, one per check (ten in the config and the caches, and one each for the
    hook, the network, the clock and the AWS CLI's view), each named in one line with its fix."""
    assert run_cli(sso_emulator, "login", "--profile", "dev").returncode == 0
    assert run_cli(sso_emulator, "credential-process", "--profile", "dev").returncode == 0
    sso_emulator.write_config(PLANTED, append=True)
    token = token_file(sso_emulator.home, "emulator")
    token.chmod(0o644)
    role_cache = sso_emulator.home / ".aws" / "cli" / "cache"
    corrupt = os.open(role_cache / "0123456789abcdef0123456789abcdef01234567.json",
                      os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(corrupt, b"{not json")
    os.close(corrupt)
    stale = token.with_name("feedfacefeedfacefeedfacefeedfacefeedface.json.lock")
    stale.write_text("")
    closed = _closed_port_url()
    result = _doctor(sso_emulator, "--profile", "dev", AWS_ENDPOINT_URL_SSO_OIDC=closed)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    expected = {
        "config.legacy": ('profile "old"', "legacy", "move them to an [sso-session NAME]"),
        "config.start-url": ('sso-session "hash"', "#/", "set sso_start_url = https://hash.awsapps.com/start"),
        "config.region": ('profile "typo-region"', "'eu-west1' is not an AWS region name",
                          "write the region's name in region"),
        "config.scopes": ('sso-session "noscope"', "lacks sso:account:access",
                          "sso_registration_scopes = sso:account:access,openid"),
        "config.settings": ('profile "bad-setting"', "boto_sso_oidc_auto_login must be auto, true or "
                            "false, not 'maybe'", "set boto_sso_oidc_auto_login to a value it takes"),
        "config.keys": ('profile "typo-key"', "sso_acount_id", "rename it to sso_account_id"),
        "caches.modes": (str(token), "can be read by other users (mode 644)", f"chmod 600 {token}"),
        "caches.corrupt": (str(role_cache / "0123456789abcdef0123456789abcdef01234567.json"),
                           "not a JSON object", "remove it"),
        "caches.locks": (str(stale), "a lock file nobody holds", f"remove it: rm {stale}"),
        "hook": ('profile "static"', "not an IAM Identity Center profile", "remove boto_sso_oidc_enabled"),
        "network": ("SSO OIDC of sso-session \"emulator\"", f"Could not connect to {closed}",
                    "check the endpoint variables"),
        "clock": ("this machine", "behind", "set the clock"),
        "aws-cli": ('profile "dev-cli"', "/nowhere/venv/bin/boto-sso-oidc, which does not exist",
                    "write it again: boto-sso-oidc configure --profile dev --credential-process"),
    }
    for check, (subject, said, fix) in expected.items():
        found = [line for line in lines if line.split()[1] == f"{check}:" and f" {subject}" in line
                 and said in line and f"Fix: {fix}" in line]
        assert len(found) == 1, f"{check}: {subject} / {said} / {fix}\n{result.stdout}"
        assert found[0].split()[0] in ("FAIL", "WARN")
    assert "AWS_ENDPOINT_URL_SSO_OIDC" in next(line for line in lines if "Could not connect" in line)
    print(f"\ndoctor on 13 planted mistakes: {len(lines) - 1} lines, last: {lines[-1]}")

    as_json = _doctor(sso_emulator, "--profile", "dev", "--json", AWS_ENDPOINT_URL_SSO_OIDC=closed)
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    named = {finding["check"] for finding in report["findings"] if finding["status"] != "ok"}
    assert set(expected) <= named
    assert all(finding["fix"] for finding in report["findings"] if finding["status"] == "fail")


@requires("mitmproxy", "cryptography")
def test_behind_a_tls_inspecting_proxy_the_issuer_and_the_proxy_are_named(corporate_network):
    """The network check behind a company's TLS-inspecting proxy (the real AWS host names): with
    nothing trusting its root, SSO OIDC and the portal fail naming the proxy (and the variable that
    set it), the host and the issuer the client was shown; trusted through AWS_CA_BUNDLE, both are
    reached and the issuer is still shown."""
    from .corporate_network import OIDC_HOST, PORTAL_HOST, ROOT_CA_NAME

    emulator = corporate_network.emulator
    proxy = corporate_network.proxy.url.rstrip("/")
    untrusted = _doctor(emulator, "--profile", "dev")
    assert untrusted.returncode == 1, untrusted.stdout
    network = [line for line in untrusted.stdout.splitlines() if line.split()[1] == "network:"]
    assert len(network) == 2 and all(line.startswith("FAIL") for line in network), untrusted.stdout
    for line, host in zip(network, (OIDC_HOST, PORTAL_HOST), strict=True):
        assert f"https://{host}" in line and ROOT_CA_NAME in line, line
        assert f"through the proxy {proxy} (from HTTPS_PROXY)" in line, line
    trusted = _doctor(emulator, "--profile", "dev", AWS_CA_BUNDLE=str(corporate_network.ca))
    network = [line for line in trusted.stdout.splitlines() if line.split()[1] == "network:"]
    assert len(network) == 2 and all(line.startswith("OK") for line in network), trusted.stdout
    assert all(f"its certificate is issued by {ROOT_CA_NAME}" in line for line in network), network
