"""HTTPS for the emulator: a throwaway certificate authority and a server certificate it signs.

``boto-sso-oidc emulator --tls`` uses :func:`make_throwaway_ca` so that a person can try the
AWS CLI, boto3 or this package against an HTTPS endpoint whose root they must trust
(``AWS_CA_BUNDLE``, a profile's ``ca_bundle``), as behind a company's TLS inspection.

Making certificates needs the ``cryptography`` package, which the package does not depend on
(its runtime dependencies are boto3, botocore and filelock): it comes with the
``emulator-tls`` extra (and the test extras). Serving a certificate made elsewhere
(``--tls-cert``/``--tls-key``) needs only the standard library's :mod:`ssl`.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

EXTRA = "emulator-tls"
"""The optional extra that brings ``cryptography``."""

CA_NAME = "boto-sso-oidc emulator throwaway CA"
LIFETIME = datetime.timedelta(days=30)
"""How long the certificates are valid: long enough for any emulator run, short enough that a
forgotten CA file is soon worth nothing (its key is never written anywhere)."""


class TLSUnavailable(RuntimeError):
    """``cryptography`` is not installed: certificates cannot be made here."""


@dataclass(frozen=True)
class TLSFiles:
    """Where :func:`make_throwaway_ca` wrote its files (PEM)."""

    ca: Path
    """The CA certificate: what a client trusts (``AWS_CA_BUNDLE``)."""
    certificate: Path
    """The server certificate (the emulator's ``tls_certfile``)."""
    key: Path
    """The server certificate's private key, owner-only (the emulator's ``tls_keyfile``)."""
    ca_key: Path | None = None
    """The CA's own private key, written only when asked for (an intercepting proxy's CA)."""


def make_throwaway_ca(directory: str | os.PathLike[str], names: Iterable[str] = ("127.0.0.1",
                      "localhost", "::1"), *, ca_name: str = CA_NAME,
                      keep_ca_key: bool = False) -> TLSFiles:
    """A new CA (``ca.pem``) and a server certificate for ``names`` (``server.pem``,
    ``server.key``) in ``directory``, which must exist and should be private.

    ``names`` are host names or IP addresses (IP subject-alternative names for the latter).
    The CA's private key stays in memory and is forgotten unless ``keep_ca_key`` (``ca.key``,
    owner-only). Raises :class:`TLSUnavailable` without ``cryptography``.
    """
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError:
        raise TLSUnavailable(
            "making certificates needs the cryptography package: pip install "
            f"'boto-sso-oidc-provider[{EXTRA}]', or serve your own with --tls-cert and --tls-key"
        ) from None

    directory = Path(directory)
    now = datetime.datetime.now(datetime.timezone.utc)
    not_before, not_after = now - datetime.timedelta(hours=1), now + LIFETIME

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_name)])
    ca_key_id = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_subject).issuer_name(ca_subject)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_key_id, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    names = list(dict.fromkeys(names))
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_subject)
        .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    def private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    files = TLSFiles(ca=directory / "ca.pem", certificate=directory / "server.pem",
                     key=directory / "server.key",
                     ca_key=directory / "ca.key" if keep_ca_key else None)
    _write(files.ca, ca.public_bytes(serialization.Encoding.PEM), 0o644)
    _write(files.certificate, server.public_bytes(serialization.Encoding.PEM), 0o644)
    _write(files.key, private_key_pem(server_key), 0o600)
    if files.ca_key is not None:
        _write(files.ca_key, private_key_pem(ca_key), 0o600)
    return files


def _write(path: Path, data: bytes, mode: int) -> None:
    """A new file with ``mode`` from its creation on (a key is never readable by others)."""
    path.unlink(missing_ok=True)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as file:
        file.write(data)
