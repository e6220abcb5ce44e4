"""Organisation CA: certificates, internal mark, CRL, and PDFs signed with them."""

import datetime as dt
import hashlib
import io
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pypdf import PdfWriter

from hscm_tools import org_ca, pades
from hscm_tools.pades_verify import ExpectedSignature, verify_pdf

CA_PASS = b"ca-secret"
P12_PASS = b"p12-secret"
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


@pytest.fixture(scope="module")
def ca():
    return org_ca.create_ca("CA Sở GD&ĐT Demo", "Sở Giáo dục và Đào tạo Demo",
                            key_passphrase=CA_PASS)


@pytest.fixture(scope="module")
def person(ca):
    return org_ca.issue_certificate(
        ca, CA_PASS, common_name="Phạm Thị Lan Anh", email="lan.anh@thcs-demo.edu.vn",
        organisation="THCS Demo", unit="Tổ Toán - Tin", p12_passphrase=P12_PASS,
    )


def _cert(der):
    return x509.load_der_x509_certificate(der)


def _names(cert, oid):
    return [a.value for a in cert.subject.get_attributes_for_oid(oid)]


def _policy_oids(cert):
    ext = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    return [p.policy_identifier.dotted_string for p in ext]


def test_ca_is_a_marked_rsa_root(ca):
    cert = _cert(ca.cert_der)
    assert cert.issuer == cert.subject
    cert.verify_directly_issued_by(cert)
    assert cert.serial_number == ca.serial and ca.sha256 == hashlib.sha256(ca.cert_der).hexdigest()
    assert isinstance(cert.public_key(), rsa.RSAPublicKey) and cert.public_key().key_size == 2048
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_cert_sign and ku.crl_sign and not ku.digital_signature
    assert cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 3650
    assert org_ca.INTERNAL_POLICY_OID in _policy_oids(cert)
    assert org_ca.INTERNAL_MARK in _names(cert, NameOID.ORGANIZATIONAL_UNIT_NAME)
    assert org_ca.is_internal(ca.cert_der)


def test_ca_key_is_encrypted_with_the_passphrase(ca):
    assert b"ENCRYPTED PRIVATE KEY" in ca.key_pem_encrypted
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(ca.key_pem_encrypted, password=None)
    key = serialization.load_pem_private_key(ca.key_pem_encrypted, password=CA_PASS)
    assert key.public_key().public_numbers() == _cert(ca.cert_der).public_key().public_numbers()
    with pytest.raises(org_ca.OrgCaError, match="passphrase"):
        org_ca.make_crl(ca, b"wrong", [])


def test_person_certificate_fields_and_internal_mark(ca, person):
    cert = _cert(person.cert_der)
    ca_cert = _cert(ca.cert_der)
    cert.verify_directly_issued_by(ca_cert)
    assert person.sha256 == hashlib.sha256(person.cert_der).hexdigest()
    assert person.serial == cert.serial_number and person.serial.bit_length() > 120
    assert _names(cert, NameOID.COMMON_NAME) == ["Phạm Thị Lan Anh"]
    assert _names(cert, NameOID.ORGANIZATION_NAME) == ["THCS Demo"]
    assert _names(cert, NameOID.ORGANIZATIONAL_UNIT_NAME) == ["Tổ Toán - Tin", org_ca.INTERNAL_MARK]
    assert _names(cert, NameOID.EMAIL_ADDRESS) == ["lan.anh@thcs-demo.edu.vn"]
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == ["lan.anh@thcs-demo.edu.vn"]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.content_commitment and not ku.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert org_ca.DOCUMENT_SIGNING_EKU in eku and ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert _policy_oids(cert) == [org_ca.INTERNAL_POLICY_OID]
    assert org_ca.is_internal(person.cert_der)
    assert cert.not_valid_before_utc == person.not_before
    assert cert.not_valid_after_utc == person.not_after
    assert (person.not_after - person.not_before).days == 730
    assert abs((person.not_before - NOW).total_seconds()) < 60


def test_pkcs12_holds_key_certificate_and_ca(ca, person):
    key, cert, extra = pkcs12.load_key_and_certificates(person.pkcs12, P12_PASS)
    assert cert.public_bytes(serialization.Encoding.DER) == person.cert_der
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()
    assert [c.public_bytes(serialization.Encoding.DER) for c in extra] == [ca.cert_der]
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(person.pkcs12, b"wrong")


def test_seal_certificate_names_the_school(ca):
    seal = org_ca.issue_certificate(
        ca, CA_PASS, common_name="Trường THCS Demo", organisation="Trường THCS Demo",
        kind="seal", p12_passphrase=P12_PASS,
    )
    cert = _cert(seal.cert_der)
    assert _names(cert, NameOID.COMMON_NAME) == ["Trường THCS Demo"]
    assert _names(cert, NameOID.EMAIL_ADDRESS) == []
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert org_ca.is_internal(seal.cert_der)
    with pytest.raises(ValueError, match="no email"):
        org_ca.issue_certificate(ca, CA_PASS, common_name="Trường THCS Demo",
                                 organisation="Trường THCS Demo", kind="seal",
                                 email="x@y.vn", p12_passphrase=P12_PASS)
    with pytest.raises(ValueError, match="kind"):
        org_ca.issue_certificate(ca, CA_PASS, common_name="X", organisation="Y",
                                 kind="robot", p12_passphrase=P12_PASS)


def test_validity_never_outlasts_the_ca():
    short_ca = org_ca.create_ca("CA ngắn hạn", "THCS Demo", valid_years=1, key_passphrase=CA_PASS)
    issued = org_ca.issue_certificate(short_ca, CA_PASS, common_name="Lê Văn Nam",
                                      organisation="THCS Demo", valid_days=3650,
                                      p12_passphrase=P12_PASS)
    assert issued.not_after == _cert(short_ca.cert_der).not_valid_after_utc


def test_backdated_issuance_uses_now(ca):
    past = NOW - dt.timedelta(days=800)
    old = org_ca.issue_certificate(ca, CA_PASS, common_name="Cũ", organisation="THCS Demo",
                                   valid_days=365, p12_passphrase=P12_PASS, now=past)
    assert old.not_before == past and old.not_after == past + dt.timedelta(days=365)
    assert _cert(old.cert_der).not_valid_after_utc < NOW


def test_foreign_certificate_is_not_internal():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Public CA subscriber")])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(1)
        .not_valid_before(NOW).not_valid_after(NOW + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    assert not org_ca.is_internal(cert.public_bytes(serialization.Encoding.DER))
    with pytest.raises(ValueError):
        org_ca.is_internal(b"not a certificate")


def test_crl_lists_revoked_serials_and_is_signed_by_the_ca(ca, person):
    when = NOW - dt.timedelta(hours=2)
    first = org_ca.make_crl(ca, CA_PASS, [(person.serial, when)], now=NOW)
    crl = x509.load_der_x509_crl(first)
    ca_cert = _cert(ca.cert_der)
    assert crl.issuer == ca_cert.subject and crl.is_signature_valid(ca_cert.public_key())
    assert crl.last_update_utc == NOW and crl.next_update_utc == NOW + dt.timedelta(days=7)
    entry = crl.get_revoked_certificate_by_serial_number(person.serial)
    assert entry is not None and entry.revocation_date_utc == when
    later = x509.load_der_x509_crl(
        org_ca.make_crl(ca, CA_PASS, [], now=NOW + dt.timedelta(seconds=1)))

    def number(c):
        return c.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number

    assert number(later) > number(crl) and len(later) == 0


# --------------------------------------------------------------------------
# Signing a PDF with an issued certificate
# --------------------------------------------------------------------------


def _pdf():
    w = PdfWriter()
    w.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def signed(person):
    signer = pades.load_pkcs12_signer(person.pkcs12, P12_PASS)
    return pades.sign_pdf(_pdf(), signer, field_name="ToTruong",
                          stamp=pades.StampText(name="Phạm Thị Lan Anh", position="TỔ TRƯỞNG"))


def test_signed_pdf_verifies_against_the_ca_root(ca, person, signed):
    report = verify_pdf(signed, expected=[ExpectedSignature(person.sha256)],
                        trust_roots=[ca.cert_der])
    assert report.verdict == "valid", report.reasons
    (sig,) = report.signatures
    assert sig["internal"] is True and sig["trusted"] and sig["expected_signer"]
    other = org_ca.create_ca("CA khác", "Trường khác", key_passphrase=CA_PASS)
    assert verify_pdf(signed, expected=[ExpectedSignature(person.sha256)],
                      trust_roots=[other.cert_der]).verdict == "invalid"


@pytest.mark.skipif(not shutil.which("pdfsig"), reason="poppler-utils not installed")
def test_pdfsig_accepts_the_signature(tmp_path, ca, signed):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Signature is Valid." in out and "Phạm Thị Lan Anh" in out
    if shutil.which("certutil"):
        # With the CA in an NSS database, NSS also accepts the chain and the
        # key usages for document signing.
        db = f"sql:{tmp_path / 'nss'}"
        (tmp_path / "nss").mkdir()
        (tmp_path / "ca.der").write_bytes(ca.cert_der)
        subprocess.run(["certutil", "-N", "-d", db, "--empty-password"], check=True)
        subprocess.run(["certutil", "-A", "-n", "org-ca", "-t", "CT,C,C", "-d", db,
                        "-i", str(tmp_path / "ca.der")], check=True)
        out = subprocess.run(["pdfsig", "-nssdir", db, str(path)], capture_output=True,
                             text=True, check=True).stdout
        assert "Certificate is Trusted." in out, out
    tampered = bytearray(signed)
    tampered[signed.index(b"/MediaBox") + 2] ^= 0x01
    path.write_bytes(bytes(tampered))
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert "Signature is Valid." not in out
