"""``ca_bundle`` / ``AWS_CA_BUNDLE`` reach the SSO OIDC and portal clients: the emulator serves
HTTPS with a certificate of a private CA made here (openssl), so nothing works without that CA."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import boto_sso_oidc_provider as sso
from boto_sso_oidc_provider.exceptions import TLSVerificationError
from boto_sso_oidc_provider.sessions import role_credentials_manager

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A self-signed CA and a server certificate it signed for 127.0.0.1."""
    where = tmp_path_factory.mktemp("tls")
    (where / "server.ext").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                                      "keyUsage=digitalSignature,keyEncipherment\n"
                                      "extendedKeyUsage=serverAuth\n")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
             "-days", "2", "-subj", "/CN=boto-sso-oidc test CA", cwd=where)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=where)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext", cwd=where)
    return {name: where / f"{name}.pem" for name in ("ca", "server")} | {"key": where / "server.key"}


@pytest.fixture
def sso_emulator_settings(private_ca):
    return {"tls_certfile": str(private_ca["server"]), "tls_keyfile": str(private_ca["key"])}


def test_the_emulator_serves_https(sso_emulator):
    assert sso_emulator.url.startswith("https://127.0.0.1:")


def test_without_the_ca_the_sso_oidc_client_refuses_the_endpoint(sso_emulator):
    with pytest.raises(TLSVerificationError) as caught:
        sso.login("dev")
    assert (caught.value.host, caught.value.issuer) == ("127.0.0.1", "boto-sso-oidc test CA")
    assert str(caught.value).startswith("The TLS certificate of 127.0.0.1 is not trusted (unable to "
                                        'get local issuer certificate): it is issued by "boto-sso-oidc '
                                        'test CA"; it was checked against botocore\'s default CA bundle')
    assert sso_emulator.calls()["operations"].get("RegisterClient", 0) == 0


def test_aws_ca_bundle_reaches_the_oidc_and_portal_clients(sso_emulator, private_ca, monkeypatch):
    monkeypatch.setenv("AWS_CA_BUNDLE", str(private_ca["ca"]))

    sso.login("dev")
    credentials = role_credentials_manager("dev").get()

    assert credentials.account_id == "111111111111"
    ops = sso_emulator.calls()["operations"]
    assert (ops["RegisterClient"], ops["StartDeviceAuthorization"], ops["GetRoleCredentials"]) == (1, 1, 1)


def test_the_profiles_ca_bundle_reaches_them_too(sso_emulator, private_ca, monkeypatch):
    sso_emulator.write_config(sso_emulator.config_file.read_text().replace(
        "\nregion = us-east-1\n", f"\nregion = us-east-1\nca_bundle = {private_ca['ca']}\n"))
    # The profile is named, not the default (there is none): its own settings must be the clients'.
    monkeypatch.delenv("AWS_PROFILE")
    sso.login("dev")
    credentials = role_credentials_manager("dev").get()

    assert credentials.account_id == "111111111111"
    assert sso_emulator.calls()["operations"]["GetRoleCredentials"] == 1
