"""What the product shows and stores about an X.509 certificate (no Odoo import)."""

import hashlib
import unicodedata
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
    emails: tuple = ()


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
    emails = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)]
    try:
        emails += cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.RFC822Name)
    except x509.ExtensionNotFound:
        pass
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
        emails=tuple(sorted({e.lower() for e in emails})),
    )


def plain_name(name: str) -> str:
    """``name`` without diacritics, case or extra spaces: certificates often
    write "NGUYEN VAN AN" for Nguyễn Văn An."""
    text = unicodedata.normalize("NFD", (name or "").replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


def names_holder(facts: CertificateFacts, name: str, emails=()) -> bool:
    """Whether the certificate was issued to the person called ``name`` (or
    holding one of ``emails``)."""
    wanted = {e.lower() for e in emails if e}
    return plain_name(facts.subject_cn) == plain_name(name) or bool(wanted & set(facts.emails))
