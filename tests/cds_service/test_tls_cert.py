"""``nbcds tls-cert DIR``: the self-signed certificate the demo's TLS proxy uses on a first start (issue 17)."""

from __future__ import annotations

import io
import ipaddress
import stat
from argparse import Namespace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from cds_service.cli import main
from cds_service.cli.tls_cert import CERTIFICATE, PRIVATE_KEY, ensure_certificate, run


def test_a_first_start_writes_a_key_only_its_owner_reads_and_a_server_certificate(tmp_path: Path) -> None:
    cert_path, new = ensure_certificate(tmp_path / "tls", ["cds.local", "192.0.2.7"], days=30)
    assert new and cert_path == tmp_path / "tls" / CERTIFICATE
    key_path = tmp_path / "tls" / PRIVATE_KEY
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = load_pem_private_key(key_path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {"localhost", "cds.local"}
    assert set(names.get_values_for_type(x509.IPAddress)) == {ipaddress.ip_address(a) for a in
                                                               ("127.0.0.1", "::1", "192.0.2.7")}
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in usage
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert 30 <= lifetime.days <= 31
    assert certificate.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]


def test_a_later_start_keeps_the_certificate_and_half_a_pair_is_replaced(tmp_path: Path) -> None:
    first, _ = ensure_certificate(tmp_path)
    before = first.read_bytes()
    again, new = ensure_certificate(tmp_path)
    assert not new and again.read_bytes() == before  # an operator's (or an accepted) certificate is never replaced
    (tmp_path / PRIVATE_KEY).unlink()
    _, new = ensure_certificate(tmp_path)
    assert new and first.read_bytes() != before


def test_the_command_says_what_it_did_with_the_fingerprint(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run(Namespace(directory=str(tmp_path), hostname=[], days=365), out) == 0
    assert "wrote a self-signed certificate" in out.getvalue() and "SHA-256 " in out.getvalue()
    assert main(["tls-cert", str(tmp_path)]) == 0
