"""Throwaway PKI and PDFs shared by the unit tests of the signing tools.

Plain helpers (no fixtures, so each test module keeps its own scopes):

- ``make_cert`` signs a certificate with ``cryptography`` under the demo
  root's name; ``rsa_key``, ``der``, ``fingerprint`` and ``make_pkcs12``
  go with it;
- ``dummy_timestamper`` is an in-process TSA issued by that root;
- ``org_with_staff`` is an organisation CA (``tools/org_ca``) that issued a
  PKCS#12 to each person, with the loaded signer;
- ``make_pdf`` is a small lesson plan whose pages say ``<marker> page N``.

Imported by its module name (pytest puts ``tests/unit`` on ``sys.path``).
"""

import datetime as dt
import io
from typing import NamedTuple

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.general import load_private_key_from_pemder_data
from pyhanko.sign.timestamps import DummyTimeStamper
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from hscm_tools import org_ca, pades

NOW = dt.datetime.now(dt.timezone.utc)
ROOT_CN = "Demo Root CA"


# --------------------------------------------------------------------------
# Certificates made directly with cryptography
# --------------------------------------------------------------------------


def subject(cn: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "THCS Demo"),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_cert(cn, key, issuer_key, *, issuer_cn=ROOT_CN, ca=False, eku=None, days=(-1, 365)):
    """A certificate for ``key`` named ``cn``, signed by ``issuer_key``;
    valid from ``NOW + days[0]`` to ``NOW + days[1]`` (days); a CA may sign
    certificates and CRLs, any other may sign documents."""
    b = (
        x509.CertificateBuilder()
        .subject_name(subject(cn))
        .issuer_name(subject(issuer_cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + dt.timedelta(days=days[0]))
        .not_valid_after(NOW + dt.timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=ca,
                crl_sign=ca, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
    )
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    return b.sign(issuer_key, hashes.SHA256())


def make_root():
    """(certificate, key) of a self-signed demo root CA."""
    key = rsa_key()
    return make_cert(ROOT_CN, key, key, ca=True), key


def der(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def fingerprint(cert) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def make_pkcs12(name: bytes, key, cert, chain, passphrase: bytes) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        name, key, cert, chain, serialization.BestAvailableEncryption(passphrase))


def dummy_timestamper(root, root_key) -> DummyTimeStamper:
    """pyHanko's in-process TSA, its certificate issued by ``root``."""
    tsa_key = rsa_key()
    tsa = make_cert("Demo TSA", tsa_key, root_key, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    return DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(der(tsa)),
        tsa_key=load_private_key_from_pemder_data(
            tsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()), passphrase=None),
        certs_to_embed=[asn1_x509.Certificate.load(der(root))],
    )


# --------------------------------------------------------------------------
# An organisation CA and its staff
# --------------------------------------------------------------------------


class Staff(NamedTuple):
    issued: org_ca.IssuedCertificate
    signer: object  # pyHanko SimpleSigner
    cn: str


def org_with_staff(staff: dict, *, ca_passphrase: bytes, p12_passphrase: bytes):
    """``(ca, {tag: Staff})``: an organisation CA and a certificate issued
    three days ago to each ``tag: common name`` of ``staff``."""
    ca = org_ca.create_ca("CA Trường THCS Demo", "Trường THCS Demo",
                          key_passphrase=ca_passphrase)
    people = {}
    for tag, cn in staff.items():
        issued = org_ca.issue_certificate(ca, ca_passphrase, common_name=cn,
                                          organisation="THCS Demo",
                                          p12_passphrase=p12_passphrase,
                                          now=NOW - dt.timedelta(days=3))
        people[tag] = Staff(issued, pades.load_pkcs12_signer(issued.pkcs12, p12_passphrase), cn)
    return ca, people


# --------------------------------------------------------------------------
# PDFs
# --------------------------------------------------------------------------


def _font(w: PdfWriter):
    return w._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    }))


def make_pdf(pages: int = 2, marker: bytes = b"KE HOACH BAI DAY", *,
             shared_font: bool = False) -> bytes:
    """A PDF of A4 pages showing ``<marker> page N`` in Helvetica; with
    ``shared_font`` every page uses one font object, else each has its own."""
    w = PdfWriter()
    font = _font(w) if shared_font else None
    for i in range(pages):
        page = w.add_blank_page(width=595, height=842)
        stream = DecodedStreamObject()
        stream.set_data(b"BT /F1 18 Tf 72 760 Td (" + marker + b" page %d) Tj ET" % (i + 1))
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): font or _font(w)})
        })
        page[NameObject("/Contents")] = w._add_object(stream)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()
