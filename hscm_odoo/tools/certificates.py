"""What the product shows and stores about an X.509 certificate (no Odoo import)."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from . import org_ca


@dataclass(frozen=True)
class CertificateFacts:
    der: bytes
    sha256: str
    subject_cn: str
    issuer_cn: str
    serial: str
    not_before: datetime  # naive UTC, as Odoo stores datetimes
    not_after: datetime
    internal: bool
    is_ca: bool


def _cn(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return values[0].value if values else name.rfc4514_string()


def read_certificate(data: bytes) -> CertificateFacts:
    """Facts of a DER or PEM certificate; ``ValueError`` if it is not one."""
    data = bytes(data or b"")
    if data.lstrip().startswith(b"-----BEGIN"):
        cert = x509.load_pem_x509_certificate(data)
    else:
        cert = x509.load_der_x509_certificate(data)
    der = cert.public_bytes(Encoding.DER)
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    return CertificateFacts(
        der=der,
        sha256=hashlib.sha256(der).hexdigest(),
        subject_cn=_cn(cert.subject),
        issuer_cn=_cn(cert.issuer),
        serial=format(cert.serial_number, "x"),
        not_before=cert.not_valid_before_utc.replace(tzinfo=None),
        not_after=cert.not_valid_after_utc.replace(tzinfo=None),
        internal=org_ca.is_internal(der),
        is_ca=is_ca,
    )
