"""``nbcds tls-cert DIR``: a self-signed certificate for the shipped TLS proxy, for local use only.

The demo compose file runs it once before nginx starts (a volume shared with the proxy), so
``https://localhost:8443`` works on a first start with nothing committed and nothing installed: it writes
``DIR/tls.crt`` and ``DIR/tls.key`` (an ECDSA P-256 key, mode 0600) unless both are already there, valid for
``localhost``, ``127.0.0.1``, ``::1`` and any ``--hostname`` given. A browser trusts it only after you accept it
(or add it to the trust store): production mounts a certificate from a real CA instead (docs/deployment.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CERTIFICATE = "tls.crt"
PRIVATE_KEY = "tls.key"
DEFAULT_NAMES = ("localhost", "127.0.0.1", "::1")


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "tls-cert", help="write a self-signed certificate for the TLS proxy (local use) unless one is there",
        description="Write DIR/tls.crt and DIR/tls.key (self-signed, ECDSA P-256, for localhost, 127.0.0.1, ::1 and "
                    "every --hostname) unless both exist. For local use: production mounts a CA-issued certificate.")
    parser.add_argument("directory", metavar="DIR")
    parser.add_argument("--hostname", action="append", default=[], metavar="NAME",
                        help="another DNS name or IP address the certificate is for (repeatable)")
    parser.add_argument("--days", type=int, default=365, help="validity in days (default 365)")


def _subject_names(names: Sequence[str]) -> list[x509.GeneralName]:
    general: list[x509.GeneralName] = []
    for name in dict.fromkeys(names):  # in order, once each
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            general.append(x509.DNSName(name))
    return general


def self_signed(names: Sequence[str], days: int, now: dt.datetime | None = None) -> tuple[bytes, bytes]:
    """A new key and its self-signed server certificate, both PEM: (certificate, key)."""
    now = now or dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0]),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "nbcds local self-signed")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(_subject_names(names)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def _write_new(path: Path, content: bytes, mode: int) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)


def ensure_certificate(directory: Path, hostnames: Sequence[str] = (), days: int = 365) -> tuple[Path, bool]:
    """``directory/tls.crt`` (and its key), written now unless both exist: (the certificate's path, whether new)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / CERTIFICATE, directory / PRIVATE_KEY
    if cert_path.is_file() and key_path.is_file():
        return cert_path, False
    for stale in (cert_path, key_path):  # half a pair is no pair: start again
        stale.unlink(missing_ok=True)
    certificate, key = self_signed([*DEFAULT_NAMES, *hostnames], days)
    _write_new(key_path, key, 0o600)
    _write_new(cert_path, certificate, 0o644)
    return cert_path, True


def fingerprint(cert_path: Path) -> str:
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


def run(args: argparse.Namespace, out: TextIO) -> int:
    cert_path, new = ensure_certificate(Path(args.directory), args.hostname, args.days)
    verb = "wrote a self-signed certificate" if new else "kept the certificate already in"
    out.write(f"nbcds tls-cert: {verb} {cert_path} (SHA-256 {fingerprint(cert_path)})\n")
    return 0
