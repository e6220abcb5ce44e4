"""An organisation certificate authority run inside the product.

A Sở (city department of education) or a school issues signing certificates
to staff who hold no certificate from a licensed public CA. Such certificates
are *internal*: every one carries :data:`INTERNAL_POLICY_OID` in its
certificatePolicies extension (machine-checkable, see :func:`is_internal`)
and :data:`INTERNAL_MARK` as an organizationalUnit (what a person sees in a
PDF reader's certificate viewer).

Keys are RSA 2048 with SHA-256 signatures: the algorithm Vietnam's licensed
public CAs issue, and the one every PDF reader and validator in use (Adobe,
Foxit, poppler/NSS, pyHanko, Java-based government tools) verifies. P-256
would be smaller and faster but buys nothing a school notices, and older
tooling still handles ECDSA signatures in PDFs unevenly.

Pure Python on ``cryptography`` (no Odoo import). The CA private key only
ever leaves this module encrypted (PKCS#8, passphrase-protected).
"""

import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

# A UUID-based OID (ITU-T X.667, arc 2.25): globally unique without
# registering a private enterprise number. Never change it: certificates
# already issued carry it.
INTERNAL_POLICY_OID = "2.25.116493524822184917719535247693485004794"

INTERNAL_MARK = "Chứng thư số nội bộ - Internal certificate"
_POLICY_NOTICE = (
    "Chứng thư số nội bộ, không do tổ chức cung cấp dịch vụ chứng thực chữ ký số "
    "công cộng cấp - Internal certificate, not issued by a licensed public CA"
)

# RFC 9336 id-kp-documentSigning; emailProtection is kept beside it because
# NSS (poppler's pdfsig, Firefox) checks signer certificates for that usage.
DOCUMENT_SIGNING_EKU = ObjectIdentifier("1.3.6.1.5.5.7.3.36")

KEY_SIZE = 2048
_PKCS12_KDF_ROUNDS = 50_000


class OrgCaError(ValueError):
    """The CA material cannot be used (wrong passphrase, damaged data)."""


@dataclass(frozen=True)
class CaBundle:
    """What the product stores for an organisation CA."""

    cert_der: bytes
    key_pem_encrypted: bytes
    serial: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.cert_der).hexdigest()


@dataclass(frozen=True)
class IssuedCertificate:
    """A staff (or school seal) certificate; only ``pkcs12`` holds the key."""

    pkcs12: bytes
    cert_der: bytes
    serial: int
    sha256: str
    not_before: dt.datetime
    not_after: dt.datetime


def _utc(moment: dt.datetime | None, *, exact: bool = False) -> dt.datetime:
    """``moment`` (naive means UTC, as Odoo stores it) or now, in UTC.

    Truncated to the second (what X.509 times hold) unless ``exact``.
    """
    if moment is None:
        moment = dt.datetime.now(dt.timezone.utc)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    moment = moment.astimezone(dt.timezone.utc)
    return moment if exact else moment.replace(microsecond=0)


def _internal_policy() -> x509.CertificatePolicies:
    return x509.CertificatePolicies([
        x509.PolicyInformation(
            ObjectIdentifier(INTERNAL_POLICY_OID),
            [x509.UserNotice(notice_reference=None, explicit_text=_POLICY_NOTICE)],
        )
    ])


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
        encipher_only=False, decipher_only=False,
    )


def _load_ca(ca: CaBundle, key_passphrase: bytes):
    try:
        key = serialization.load_pem_private_key(ca.key_pem_encrypted, password=key_passphrase)
    except (ValueError, TypeError) as e:
        raise OrgCaError("Cannot open the CA key: wrong passphrase or damaged key") from e
    cert = x509.load_der_x509_certificate(ca.cert_der)
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        raise OrgCaError("The CA key does not belong to the CA certificate")
    return cert, key


def create_ca(common_name: str, organisation: str, *, valid_years: int = 10,
              key_passphrase: bytes, now: dt.datetime | None = None) -> CaBundle:
    """A self-signed root for ``organisation`` (e.g. the Sở or the school)."""
    if valid_years < 1:
        raise ValueError("valid_years must be at least 1")
    if not key_passphrase:
        raise ValueError("The CA key needs a passphrase")
    start = _utc(now)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, INTERNAL_MARK),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])
    serial = x509.random_serial_number()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365 * valid_years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(_internal_policy(), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(key_passphrase),
    )
    return CaBundle(
        cert_der=cert.public_bytes(serialization.Encoding.DER),
        key_pem_encrypted=key_pem,
        serial=serial,
    )


def issue_certificate(ca: CaBundle, key_passphrase: bytes, *, common_name: str,
                      email: str | None = None, organisation: str, unit: str | None = None,
                      kind: str = "person", valid_days: int = 730, p12_passphrase: bytes,
                      now: dt.datetime | None = None) -> IssuedCertificate:
    """Issue a signing certificate and its key, packed in a PKCS#12 archive.

    ``kind='person'`` is a member of staff (``email`` optional);
    ``kind='seal'`` is the school's organisational seal: ``common_name`` is
    the school's name and there is no email. The validity never outlasts the
    CA's. ``now`` backdates the issuance (backfilled records, tests).
    """
    if kind not in ("person", "seal"):
        raise ValueError("kind must be 'person' or 'seal'")
    if kind == "seal" and email:
        raise ValueError("A seal certificate names the organisation, not a person: no email")
    if valid_days < 1:
        raise ValueError("valid_days must be at least 1")
    if not p12_passphrase:
        raise ValueError("The PKCS#12 archive needs a passphrase")
    ca_cert, ca_key = _load_ca(ca, key_passphrase)
    start = _utc(now)
    end = min(start + dt.timedelta(days=valid_days), ca_cert.not_valid_after_utc)
    if end <= start:
        raise ValueError("The CA certificate has expired: no certificate can be issued")

    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
    ]
    if unit:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attrs += [
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, INTERNAL_MARK),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    if email:
        attrs.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))

    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    serial = x509.random_serial_number()
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attrs))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([DOCUMENT_SIGNING_EKU, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .add_extension(_internal_policy(), critical=False)
    )
    if email:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False
        )
    cert = builder.sign(ca_key, hashes.SHA256())
    cert_der = cert.public_bytes(serialization.Encoding.DER)

    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(_PKCS12_KDF_ROUNDS)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(p12_passphrase)
    )
    p12 = pkcs12.serialize_key_and_certificates(
        common_name.encode("utf-8"), key, cert, [ca_cert], encryption
    )
    return IssuedCertificate(
        pkcs12=p12,
        cert_der=cert_der,
        serial=serial,
        sha256=hashlib.sha256(cert_der).hexdigest(),
        not_before=start,
        not_after=end,
    )


def is_internal(cert_der: bytes) -> bool:
    """Whether a certificate carries the internal-certificate policy.

    Raises ``ValueError`` when ``cert_der`` is not a DER certificate.
    """
    cert = x509.load_der_x509_certificate(cert_der)
    try:
        policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return False
    return any(p.policy_identifier.dotted_string == INTERNAL_POLICY_OID for p in policies)


def make_crl(ca: CaBundle, key_passphrase: bytes, revoked, *, now: dt.datetime | None = None,
             next_update_days: int = 7) -> bytes:
    """A DER CRL listing ``revoked`` ``(serial, revocation datetime)`` pairs.

    The CRL number is the issue time in microseconds, so a later CRL always
    carries a higher number.
    """
    if next_update_days < 1:
        raise ValueError("next_update_days must be at least 1")
    ca_cert, ca_key = _load_ca(ca, key_passphrase)
    exact = _utc(now, exact=True)
    start = exact.replace(microsecond=0)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(start)
        .next_update(start + dt.timedelta(days=next_update_days))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .add_extension(x509.CRLNumber(int(exact.timestamp() * 1_000_000)), critical=False)
    )
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(int(serial))
            .revocation_date(_utc(when))
            .build()
        )
    crl = builder.sign(ca_key, hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.DER)
