"""PAdES signing helpers: incremental signatures, Vietnamese stamp, summary."""

import datetime as dt
import hashlib
import io
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from hscm_tools import pades

PASS = b"demo"
NOW = dt.datetime.now(dt.timezone.utc)


def _name(cn):
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "THCS Demo"),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def _cert(subject_cn, key, issuer_cn, issuer_key, *, ca, eku=None):
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(subject_cn))
        .issuer_name(_name(issuer_cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=365))
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


@pytest.fixture(scope="module")
def pki():
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = _cert("Demo Root CA", root_key, "Demo Root CA", root_key, ca=True)
    out = {"root": root, "root_key": root_key}
    for tag, cn in (("lan", "Phạm Thị Lan Anh"), ("minh", "Nguyễn Văn Minh")):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = _cert(cn, key, "Demo Root CA", root_key, ca=False)
        p12 = pkcs12.serialize_key_and_certificates(
            tag.encode(), key, cert, [root],
            serialization.BestAvailableEncryption(PASS),
        )
        out[tag] = {
            "p12": p12,
            "cn": cn,
            "sha256": cert.fingerprint(hashes.SHA256()).hex(),
        }
    return out


@pytest.fixture(scope="module")
def signers(pki):
    return {tag: pades.load_pkcs12_signer(pki[tag]["p12"], PASS) for tag in ("lan", "minh")}


def _pdf(pages=2, marker=b"KEHOACHBAIDAY"):
    w = PdfWriter()
    for i in range(pages):
        page = w.add_blank_page(width=595, height=842)
        stream = DecodedStreamObject()
        stream.set_data(b"BT /F1 18 Tf 72 760 Td (" + marker + b" page %d) Tj ET" % (i + 1))
        font = DictionaryObject({
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        })
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): w._add_object(font)})
        })
        page[NameObject("/Contents")] = w._add_object(stream)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


LAN_STAMP = pades.StampText(
    name="Phạm Thị Lan Anh",
    position="PHÓ TỔ TRƯỞNG",
    delegation="KT. TỔ TRƯỞNG",
    signed_at="Đã ký: 23/11/2026 08:15",
)
MINH_STAMP = pades.StampText(
    name="Nguyễn Văn Minh",
    position="P. HIỆU TRƯỞNG DUYỆT",
    signed_at="Đã ký: 23/11/2026 09:40",
    qr_url="https://truong.example.vn/hscm/verify/42",
)


@pytest.fixture(scope="module")
def signed_once(signers):
    original = _pdf()
    once = pades.sign_pdf(original, signers["lan"], field_name="ToTruong", stamp=LAN_STAMP)
    return original, once


@pytest.fixture(scope="module")
def signed_twice(signers, signed_once):
    _, once = signed_once
    twice = pades.sign_pdf(once, signers["minh"], field_name="HieuTruong", stamp=MINH_STAMP)
    return twice


def test_sign_once_is_incremental_and_intact(pki, signed_once):
    original, once = signed_once
    assert once.startswith(original) and len(once) > len(original)
    summary = pades.signature_summary(once)
    assert len(summary) == 1
    s = summary[0]
    assert s["field_name"] == "ToTruong"
    assert s["intact"] is True and s["error"] is None
    assert s["signer_cn"] == pki["lan"]["cn"]
    assert s["signer_sha256"] == pki["lan"]["sha256"]
    assert s["signed_revision_end"] == len(once) and s["covers_whole_file"]
    assert s["signing_time"] is not None and s["timestamp_time"] is None


def test_second_signature_keeps_first_valid(pki, signed_once, signed_twice):
    original, once = signed_once
    assert signed_twice.startswith(once)
    summary = pades.signature_summary(signed_twice)
    assert [s["field_name"] for s in summary] == ["ToTruong", "HieuTruong"]
    assert all(s["intact"] for s in summary)
    first, second = summary
    assert first["signer_sha256"] == pki["lan"]["sha256"]
    assert second["signer_cn"] == pki["minh"]["cn"]
    # The first signed revision is exactly the once-signed file, a prefix.
    assert first["signed_revision_end"] == len(once)
    assert signed_twice[: first["signed_revision_end"]] == once
    assert not first["covers_whole_file"] and second["covers_whole_file"]


def test_vietnamese_stamp_text_extracts_exactly(tmp_path, signed_twice):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed_twice)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    for words in ("Phạm Thị Lan Anh", "KT. TỔ TRƯỞNG", "PHÓ TỔ TRƯỞNG",
                  "Đã ký: 23/11/2026 08:15", "Nguyễn Văn Minh", "HIỆU TRƯỞNG DUYỆT"):
        assert words in text, (words, text)


def test_default_stamp_boxes_do_not_overlap(signed_twice):
    boxes = [pades.stamp_box(595, 842, i) for i in range(6)]
    for i, a in enumerate(boxes):
        assert 0 <= a[0] < a[2] <= 595 and 0 <= a[1] < a[3] <= 842
        for b in boxes[i + 1:]:
            disjoint = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
            assert disjoint, (a, b)
    # The two signatures in the file took slots 0 and 1 on the last page.
    from pyhanko.pdf_utils.reader import PdfFileReader
    reader = PdfFileReader(io.BytesIO(signed_twice))
    rects = []
    for name in ("ToTruong", "HieuTruong"):
        sig = next(s for s in reader.embedded_signatures if s.field_name == name)
        rects.append(tuple(round(float(v)) for v in sig.sig_field["/Rect"]))
    assert rects == [pades.stamp_box(595, 842, 0), pades.stamp_box(595, 842, 1)]
    last_page = reader.root["/Pages"]["/Kids"][1].get_object()
    assert len(last_page["/Annots"]) == 2


def test_changed_byte_breaks_integrity(signed_once):
    _, once = signed_once
    pos = once.index(b"KEHOACHBAIDAY page 1")
    tampered = once[:pos] + b"X" + once[pos + 1:]
    assert len(tampered) == len(once)
    summary = pades.signature_summary(tampered)
    assert len(summary) == 1 and summary[0]["intact"] is False


def test_wrong_passphrase_is_a_clear_error(pki):
    with pytest.raises(pades.PadesError, match="passphrase"):
        pades.load_pkcs12_signer(pki["lan"]["p12"], b"wrong")


def test_duplicate_field_name_refused(signers, signed_once):
    _, once = signed_once
    with pytest.raises(pades.PadesError, match="already exists"):
        pades.sign_pdf(once, signers["minh"], field_name="ToTruong", stamp=None)


def test_invisible_signature_with_timestamp_is_b_t(pki, signers):
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.timestamps import DummyTimeStamper
    from pyhanko.sign.general import load_private_key_from_pemder_data

    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa = _cert("Demo TSA", tsa_key, "Demo Root CA", pki["root_key"], ca=False,
                eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa.public_bytes(serialization.Encoding.DER)),
        tsa_key=load_private_key_from_pemder_data(
            tsa_key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()),
            passphrase=None,
        ),
        certs_to_embed=[asn1_x509.Certificate.load(
            pki["root"].public_bytes(serialization.Encoding.DER))],
    )
    original = _pdf(pages=1)
    signed = pades.sign_pdf(original, signers["lan"], field_name="GiaoVien",
                            stamp=None, timestamper=stamper)
    assert signed.startswith(original)
    (s,) = pades.signature_summary(signed)
    assert s["intact"] and s["timestamp_time"] is not None


def test_signer_reuse_keeps_parsed_key(signers):
    signer = signers["lan"]
    key = signer._pyca_key
    pades.sign_pdf(_pdf(pages=1), signer, field_name="A", stamp=None)
    assert signer._pyca_key is key and signer.bytes_reserved > 0


def test_too_small_reservation_falls_back_to_estimate(pki):
    signer = pades.load_pkcs12_signer(pki["minh"]["p12"], PASS)
    signer.bytes_reserved = 200
    original = _pdf(pages=1)
    signed = pades.sign_pdf(original, signer, field_name="B", stamp=None)
    assert signed.startswith(original)
    assert pades.signature_summary(signed)[0]["intact"]
