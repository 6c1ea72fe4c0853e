"""Behind a company's TLS-inspecting proxy (mitmproxy, the real AWS host names routed to the
emulator: ``corporate_network.py``), with no endpoint overrides: every call of the package goes
through the proxy and is trusted exactly as the person configured it (a profile's ``ca_bundle``,
``AWS_CA_BUNDLE``, or the OS trust store with ``boto_sso_oidc_truststore``); without that, each
command fails with one line naming the host, the issuer it was shown and the fixes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap

import pytest

from .cli_helpers import run_cli
from .conftest import REPO, requires, subprocess_env
from .corporate_network import (
    OIDC_HOST,
    PORTAL_HOST,
    ROOT_CA_NAME,
    SIGNIN_HOST,
    STS_HOST,
    VANITY_HOST,
    VANITY_START_URL,
    CorporateNetwork,
)
from .endpoint_helpers import get, serve

pytest_plugins = ["tests.corporate_network"]
pytestmark = requires("mitmproxy", "cryptography")

# dev: the fixture's SSO profile; chain: a role chained on it (STS); corp: an sso-session whose
# start URL is a vanity one, resolved through the proxy.
MORE = f"""
[profile chain]
role_arn = arn:aws:iam::222222222222:role/Deployer
source_profile = dev
role_session_name = chain-session
region = us-east-1

[sso-session corp]
sso_start_url = {VANITY_START_URL}
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile corp]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = AdministratorAccess
region = us-east-1
"""

FIXES = ("ca_bundle = /path/to/root.pem in the profile", "AWS_CA_BUNDLE=/path/to/root.pem",
         "boto_sso_oidc_truststore = true")

BOTO3 = """
import json, boto3
session = boto3.Session(profile_name="dev")
print(json.dumps(session.client("sts").get_caller_identity()["Arn"]))
"""

BOTO3_FAILS = """
import boto3
import boto_sso_oidc_provider as sso
try:
    boto3.Session(profile_name="dev").client("sts").get_caller_identity()
except sso.TLSVerificationError as error:
    print(type(error).__name__, error.host, error.issuer)
    print(error)
"""


def _configure(network: CorporateNetwork, *, ca_bundle: str | None = None) -> None:
    """The fixture's config, the chain and the vanity session; ``ca_bundle`` in every profile."""
    text = network.emulator.config_file.read_text() + MORE
    text = text.replace("[profile dev]\n", "[profile dev]\nboto_sso_oidc_enabled = true\n")
    if ca_bundle is not None:
        text = text.replace("\nregion = us-east-1\n", f"\nregion = us-east-1\nca_bundle = {ca_bundle}\n")
    network.emulator.write_config(text)
    network.emulator.env.pop("AWS_PROFILE")  # each command names its profile


def _ok(network: CorporateNetwork, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    result = run_cli(network.emulator, *args, timeout=120, **env)
    assert result.returncode == 0, result.stderr
    return result


def _one_failure_line(result: subprocess.CompletedProcess[str], host: str,
                      fixes: tuple[str, ...] = FIXES) -> str:
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr  # one line, no traceback
    line = lines[0]
    assert f"The TLS certificate of {host} is not trusted" in line
    assert f'issued by "{ROOT_CA_NAME}" as shown through the proxy' in line and "(from HTTPS_PROXY)" in line
    for fix in fixes:
        assert fix in line
    return line


def _run_every_command(network: CorporateNetwork, **env: str) -> None:
    """Item 1's commands, each through the proxy: login (SSO OIDC), the vanity start URL,
    credential-process (the portal), a role chain (STS), console (the federation endpoint),
    list and generate (the portal, bulk), serve (its renewal), and boto3 (the provider)."""
    _ok(network, "login", "--profile", "dev", **env)
    _ok(network, "login", "--profile", "corp", **env)
    output = json.loads(_ok(network, "credential-process", "--profile", "dev", **env).stdout)
    assert output["AccessKeyId"]
    chained = json.loads(_ok(network, "credential-process", "--profile", "chain", **env).stdout)
    assert chained["AccessKeyId"] != output["AccessKeyId"]
    url = _ok(network, "console", "--profile", "dev", "--url", **env).stdout.strip()
    assert url.startswith(f"https://{SIGNIN_HOST}/federation?Action=login")
    listed = _ok(network, "list", "--profile", "dev", **env).stdout
    assert "111111111111" in listed
    _ok(network, "generate", "--sso-session", "emulator", **env)
    before = network.emulator.calls()["operations"]["GetRoleCredentials"]
    for role_cache in (network.emulator.home / ".aws" / "cli" / "cache").glob("*.json"):
        role_cache.unlink()  # serve must renew from the portal
    with serve(network.emulator, profile="dev", **env) as served:
        status, body = get(served.url, served.token)
        assert status == 200 and body["AccountId"] == "111111111111"
        assert served.stop() == 0
    assert network.emulator.calls()["operations"]["GetRoleCredentials"] == before + 1
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(BOTO3)],
                            env=subprocess_env(network.emulator, **env), capture_output=True,
                            text=True, timeout=120, stdin=subprocess.DEVNULL, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "AWSReservedSSO_AdministratorAccess" in json.loads(result.stdout)

    ops = network.emulator.calls()["operations"]
    assert ops["RegisterClient"] >= 2 and ops["CreateToken"] >= 2  # two sessions logged in
    assert ops["AssumeRole"] == 1 and ops["GetSigninToken"] == 1
    assert ops["ListAccounts"] >= 1 and ops["GetCallerIdentity"] == 1  # list, then its cache
    # Every one of them went through the proxy, under the real host names; the vanity host too.
    assert network.hosts() == {OIDC_HOST, PORTAL_HOST, STS_HOST, SIGNIN_HOST, VANITY_HOST}
    assert not [entry for entry in network.requests() if "127.0.0.1" in json.dumps(entry)]


def test_with_the_profiles_ca_bundle_alone_every_command_works_through_the_proxy(corporate_network):
    _configure(corporate_network, ca_bundle=str(corporate_network.ca))
    _run_every_command(corporate_network)


def test_with_aws_ca_bundle_alone_every_command_works_through_the_proxy(corporate_network):
    _configure(corporate_network)
    _run_every_command(corporate_network, AWS_CA_BUNDLE=str(corporate_network.ca))


def test_with_nothing_trusted_login_fails_in_one_line_naming_host_issuer_and_fixes(corporate_network):
    _configure(corporate_network)
    line = _one_failure_line(run_cli(corporate_network.emulator, "login", "--profile", "dev"), OIDC_HOST)
    assert line.startswith(f"boto-sso-oidc login: The TLS certificate of {OIDC_HOST}")
    assert "it was checked against botocore's default CA bundle" in line
    assert corporate_network.emulator.calls()["operations"]["RegisterClient"] == 0
    # the vanity start URL's host, before any AWS call
    line = _one_failure_line(run_cli(corporate_network.emulator, "login", "--profile", "corp"),
                             VANITY_HOST)


def test_with_nothing_trusted_credential_process_and_boto3_fail_the_same_way(corporate_network):
    _configure(corporate_network)
    _ok(corporate_network, "login", "--profile", "dev", AWS_CA_BUNDLE=str(corporate_network.ca))
    result = run_cli(corporate_network.emulator, "credential-process", "--profile", "dev")
    assert result.stdout == ""
    line = _one_failure_line(result, PORTAL_HOST)
    assert "Try again later" not in line  # a certificate does not pass by waiting
    assert corporate_network.emulator.calls()["operations"]["GetRoleCredentials"] == 0

    script = subprocess.run([sys.executable, "-c", textwrap.dedent(BOTO3_FAILS)],
                            env=subprocess_env(corporate_network.emulator), capture_output=True,
                            text=True, timeout=120, stdin=subprocess.DEVNULL, cwd=REPO)
    assert script.returncode == 0, script.stderr
    first, message = script.stdout.splitlines()
    assert first == f"TLSVerificationError {PORTAL_HOST} {ROOT_CA_NAME}"
    assert message.startswith(f"The TLS certificate of {PORTAL_HOST} is not trusted")
    assert all(fix in message for fix in FIXES)


@requires("truststore")
def test_the_os_trust_store_setting_trusts_the_proxys_root_where_the_os_has_it(corporate_network):
    """On Linux the OS verifier reads SSL_CERT_FILE: the proxy's root "in the OS store"."""
    _configure(corporate_network)
    os_store = {"SSL_CERT_FILE": str(corporate_network.ca)}
    # Without the setting: botocore's bundle, not the OS store: the message of item 2.
    _one_failure_line(run_cli(corporate_network.emulator, "login", "--profile", "dev", **os_store),
                      OIDC_HOST)
    _ok(corporate_network, "login", "--profile", "dev", BOTO_SSO_OIDC_TRUSTSTORE="true", **os_store)
    output = _ok(corporate_network, "credential-process", "--profile", "dev",
                 BOTO_SSO_OIDC_TRUSTSTORE="true", **os_store).stdout
    assert json.loads(output)["Version"] == 1
    ops = corporate_network.emulator.calls()["operations"]
    assert (ops["RegisterClient"], ops["GetRoleCredentials"]) == (1, 1)
    # The setting in the profile works as the variable does; an OS store without the root fails.
    corporate_network.emulator.write_config(corporate_network.emulator.config_file.read_text().replace(
        "[profile dev]\n", "[profile dev]\nboto_sso_oidc_truststore = true\n"))
    roles = corporate_network.emulator.home / ".aws" / "cli" / "cache"
    for path in roles.glob("*.json"):
        path.unlink()
    _ok(corporate_network, "credential-process", "--profile", "dev", **os_store)
    for path in roles.glob("*.json"):
        path.unlink()
    result = run_cli(corporate_network.emulator, "credential-process", "--profile", "dev",
                     SSL_CERT_FILE="/etc/ssl/certs/ca-certificates.crt")
    line = _one_failure_line(result, PORTAL_HOST, fixes=("ca_bundle = /path/to/root.pem in the profile",
                                                         "AWS_CA_BUNDLE=/path/to/root.pem"))
    assert "its root certificate must be in the operating system's trust store" in line
    assert ("it was checked against the operating system's trust store (boto_sso_oidc_truststore in "
            'profile "dev")') in line


def test_the_truststore_setting_without_the_library_says_which_extra(corporate_network, tmp_path):
    _configure(corporate_network)
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "truststore.py").write_text("raise ImportError('not installed')\n")
    result = run_cli(corporate_network.emulator, "login", "--profile", "dev",
                     BOTO_SSO_OIDC_TRUSTSTORE="true",
                     PYTHONPATH=f"{blocker}:{REPO}")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "boto-sso-oidc login: boto_sso_oidc_truststore is on, but the truststore library is not "
        "installed: pip install 'boto-sso-oidc-provider[truststore]', or turn the setting off.")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_proxy_that_cannot_be_reached_is_named_with_its_variable(corporate_network):
    _configure(corporate_network)
    port = _closed_port()
    result = run_cli(corporate_network.emulator, "login", "--profile", "dev",
                     HTTPS_PROXY=f"http://127.0.0.1:{port}")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"boto-sso-oidc login: Cannot reach the proxy http://127.0.0.1:{port} (from HTTPS_PROXY) to "
        f"connect to {OIDC_HOST}:443: Connection refused. Check HTTPS_PROXY, and NO_PROXY for hosts "
        "that must not go through it.")


def test_a_proxy_that_refuses_is_named_and_not_retried(corporate_network):
    _configure(corporate_network)
    _ok(corporate_network, "login", "--profile", "dev", AWS_CA_BUNDLE=str(corporate_network.ca))
    corporate_network.refuse(407)
    before = len(corporate_network.requests())
    result = run_cli(corporate_network.emulator, "credential-process", "--profile", "dev",
                     AWS_CA_BUNDLE=str(corporate_network.ca))
    assert result.returncode == 1 and result.stdout == ""
    proxy = corporate_network.proxy.url
    assert result.stderr.strip() == (
        f'boto-sso-oidc credential-process: profile "dev": The proxy {proxy} (from HTTPS_PROXY) '
        f"refused to connect to {PORTAL_HOST}:443 (HTTP 407 Proxy Authentication Required). Check "
        "HTTPS_PROXY: the proxy may want a user name and password in it "
        "(http://user:password@host:port), or the host may not be allowed through it.")
    # one CONNECT: a refusal is not retried
    assert corporate_network.requests()[before:] == [{"connect": f"{PORTAL_HOST}:443"}]


def test_the_loopback_callback_never_goes_to_the_proxy(corporate_network, tmp_path):
    """The browser login through the proxy: its redirect to 127.0.0.1 reaches the listener
    directly (NO_PROXY), while the authorize page and every service call go through the proxy."""
    from .conftest import REPO as repo

    _configure(corporate_network, ca_bundle=str(corporate_network.ca))
    log = tmp_path / "browser.log"
    browser = f"{sys.executable} {repo / 'tests' / 'fake_browser.py'}"
    result = run_cli(corporate_network.emulator, "login", "--profile", "dev",
                     BOTO_SSO_OIDC_OPEN_BROWSER="true", BROWSER=browser, FAKE_BROWSER_LOG=str(log),
                     SSL_CERT_FILE=str(corporate_network.ca))
    assert result.returncode == 0, result.stderr
    assert corporate_network.emulator.calls()["grants"]["authorization_code"] == 1
    pages = log.read_text().splitlines()
    assert pages[0].startswith(f"https://{OIDC_HOST}/authorize?")
    assert pages[-1] == "PAGE 200 You are logged in - boto-sso-oidc"
    assert not [entry for entry in corporate_network.requests() if "127.0.0.1" in json.dumps(entry)]
    assert {"host": OIDC_HOST, "scheme": "https", "method": "GET", "path": "/authorize",
            "routed": True} in corporate_network.requests()


def test_every_aws_host_is_one_the_emulator_serves_only_through_the_proxy(corporate_network):
    """No endpoint override is left: the fixture's emulator is reachable only through the proxy."""
    _configure(corporate_network)
    env = subprocess_env(corporate_network.emulator)
    assert not [name for name in env if name.startswith("AWS_ENDPOINT_URL")]
    assert "BOTO_SSO_OIDC_FEDERATION_ENDPOINT" not in env
    assert env["NO_PROXY"] == "127.0.0.1,localhost,::1"


def test_an_https_proxy_is_trusted_through_the_session_configs_proxy_ca_bundle(corporate_network,
                                                                                monkeypatch, tmp_path):
    """mitmproxy also takes TLS from the client (a "secure web proxy"): with HTTPS_PROXY=https://,
    the proxy's own certificate is checked against botocore's proxies_config proxy_ca_bundle, which
    a program gives the package through its session's default client config."""
    import botocore.session
    from botocore.config import Config

    import boto_sso_oidc_provider as sso
    from boto_sso_oidc_provider.sessions import role_credentials_manager

    _configure(corporate_network)
    monkeypatch.setenv("HTTPS_PROXY", corporate_network.proxy.url.replace("http://", "https://"))
    monkeypatch.setenv("AWS_CA_BUNDLE", str(corporate_network.ca))  # for the hosts behind it

    from boto_sso_oidc_provider.emulator._tls import make_throwaway_ca

    other = make_throwaway_ca(tmp_path, ["127.0.0.1"], ca_name="Some Other CA").ca
    untrusted = botocore.session.Session(profile="dev")
    untrusted.set_default_client_config(Config(proxies_config={"proxy_ca_bundle": str(other)}))
    with pytest.raises(sso.ProxyConnectError) as caught:
        sso.login("dev", session=untrusted)
    proxy = corporate_network.proxy.url.replace("http://", "https://")
    assert str(caught.value) == (
        f"The TLS certificate of the proxy {proxy} (from HTTPS_PROXY) is not trusted (unable to get "
        "local issuer certificate). Trust its root with proxy_ca_bundle in the client config's "
        "proxies_config (else the CA bundle is used for it too), or check HTTPS_PROXY.")
    assert corporate_network.emulator.calls()["operations"]["RegisterClient"] == 0

    session = botocore.session.Session(profile="dev")
    session.set_default_client_config(Config(proxies_config={"proxy_ca_bundle": str(corporate_network.ca)}))
    sso.login("dev", session=session)
    assert role_credentials_manager("dev", session=session).get().account_id == "111111111111"
    ops = corporate_network.emulator.calls()["operations"]
    assert (ops["RegisterClient"], ops["GetRoleCredentials"]) == (1, 1)
    assert {OIDC_HOST, PORTAL_HOST} <= corporate_network.hosts()
