"""Strict verification of signed lesson plans: each rule can fail on its own."""

import asyncio
import datetime as dt
import hashlib
import io
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pki_fixtures import NOW, make_pdf, org_with_staff

from hscm_doubles.test_pki import LocalPki
from hscm_tools import org_ca, pades
from hscm_tools.pades_verify import ExpectedSignature as E
from hscm_tools.pades_verify import verify_pdf

CA_PASS = b"ca-secret"
P12_PASS = b"p12-secret"


def _pdf(pages=2):
    return make_pdf(pages)


def _versions(*docs):
    return [(len(d), hashlib.sha256(d).hexdigest()) for d in docs]


def _swap_first_page_content(pdf: bytes) -> bytes:
    """An incremental update that replaces page 1's content stream."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page = w.root["/Pages"]["/Kids"][0].get_object()
    forged = generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 760 Td (FORGED PLAN) Tj ET")
    page["/Contents"] = w.add_object(forged)
    w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _add_text_field(pdf: bytes) -> bytes:
    """An incremental update adding an empty text field on page 1."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page_ref = w.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    text_field = w.add_object(generic.DictionaryObject({
        generic.pdf_name("/FT"): generic.pdf_name("/Tx"),
        generic.pdf_name("/T"): generic.pdf_string("GhiChu"),
        generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
        generic.pdf_name("/Subtype"): generic.pdf_name("/Widget"),
        generic.pdf_name("/Rect"): generic.ArrayObject(
            [generic.NumberObject(v) for v in (72, 600, 400, 630)]),
        generic.pdf_name("/P"): page_ref,
        generic.pdf_name("/V"): generic.pdf_string(""),
    }))
    page["/Annots"] = generic.ArrayObject([text_field])
    w.update_container(page)
    w.root["/AcroForm"] = generic.DictionaryObject(
        {generic.pdf_name("/Fields"): generic.ArrayObject([text_field])})
    w.update_root()
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _fill_text_field(pdf: bytes, text: bytes) -> bytes:
    """An incremental update filling the text field, with a visible appearance."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    text_field = w.root["/AcroForm"]["/Fields"][0].get_object()
    text_field["/V"] = generic.pdf_string(text.decode())
    appearance = generic.StreamObject({
        generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
        generic.pdf_name("/Subtype"): generic.pdf_name("/Form"),
        generic.pdf_name("/BBox"): generic.ArrayObject(
            [generic.NumberObject(v) for v in (0, 0, 328, 30)]),
    }, stream_data=b"BT /Helv 12 Tf 2 10 Td (" + text + b") Tj ET")
    text_field["/AP"] = generic.DictionaryObject({generic.pdf_name("/N"): w.add_object(appearance)})
    w.update_container(text_field)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def org():
    """The CA and {tag: (issued certificate, signer, name)} of Lan and Minh."""
    return org_with_staff({"lan": "Phạm Thị Lan Anh", "minh": "Nguyễn Văn Minh"},
                          ca_passphrase=CA_PASS, p12_passphrase=P12_PASS)


@pytest.fixture(scope="module")
def chain(org):
    """Versions 0..2 of a lesson plan approved by Lan, then Minh."""
    _, people = org
    v0 = _pdf()
    v1 = pades.sign_pdf(v0, people["lan"][1], field_name="ToTruong",
                        stamp=pades.StampText(name="Phạm Thị Lan Anh", position="TỔ TRƯỞNG"))
    v2 = pades.sign_pdf(v1, people["minh"][1], field_name="HieuTruong",
                        stamp=pades.StampText(name="Nguyễn Văn Minh", position="P. HIỆU TRƯỞNG"))
    return v0, v1, v2


@pytest.fixture(scope="module")
def expected(org):
    _, people = org
    return [E(people["lan"][0].sha256, NOW), E(people["minh"][0].sha256, NOW)]


def _verify(pdf, org, expected, **kwargs):
    ca, _ = org
    kwargs.setdefault("versions", None)
    kwargs.setdefault("file_sha256", None)
    kwargs.setdefault("trust_roots", [ca.cert_der])
    return verify_pdf(pdf, expected=expected, **kwargs)


def _has(report, fragment):
    return any(fragment in r for r in report.reasons)


# --------------------------------------------------------------------------
# The good path
# --------------------------------------------------------------------------


def test_two_sequential_signatures_are_valid(org, chain, expected):
    v0, v1, v2 = chain
    _, people = org
    report = _verify(v2, org, expected, versions=_versions(v0, v1, v2),
                     file_sha256=hashlib.sha256(v2).hexdigest())
    assert report.verdict == "valid" and report.reasons == [], report.reasons
    data = json.loads(json.dumps(report.as_dict()))
    assert data["file_sha256"] == hashlib.sha256(v2).hexdigest()
    first, second = data["signatures"]
    assert [first["index"], second["index"]] == [1, 2]
    assert first["field_name"] == "ToTruong" and first["signer"] == "Phạm Thị Lan Anh"
    assert first["signer_sha256"] == people["lan"][0].sha256
    for sig in (first, second):
        assert sig["intact"] and sig["trusted"] and sig["valid_at_signing_time"]
        assert sig["expected_signer"] is True and sig["internal"] is True
        assert sig["revocation"] == "not_checked" and not sig["timestamped"]
        assert sig["error"] is None and sig["problems"] == []
        assert dt.datetime.fromisoformat(sig["signing_time"]).tzinfo is not None
    # The approval that follows fills a new signature field: allowed.
    assert first["modification_level"] == "FORM_FILLING" and not first["covers_whole_file"]
    assert first["signed_revision_end"] == len(v1)
    assert second["modification_level"] == "NONE" and second["covers_whole_file"]


def test_single_signature_with_versions_is_valid(org, chain, expected):
    v0, v1, _ = chain
    report = _verify(v1, org, expected[:1], versions=_versions(v0, v1))
    assert report.valid, report.reasons


def test_runs_inside_an_event_loop_and_in_threads(org, chain, expected):
    v2 = chain[2]

    async def inside_loop():
        return _verify(v2, org, expected)

    assert asyncio.run(inside_loop()).valid
    with ThreadPoolExecutor(max_workers=3) as pool:
        reports = list(pool.map(lambda _: _verify(v2, org, expected), range(3)))
    assert all(r.valid for r in reports), [r.reasons for r in reports]


# --------------------------------------------------------------------------
# Who signed, how many, which bytes
# --------------------------------------------------------------------------


def test_wrong_signer_fingerprint(org, chain, expected):
    wrong = [expected[0], E(expected[0].signer_sha256, NOW)]
    report = _verify(chain[2], org, wrong)
    assert report.verdict == "invalid"
    assert report.signatures[1]["expected_signer"] is False
    assert report.reasons == [
        "signature 2: signed with a different certificate than the approver's"
    ]


def test_one_signature_too_many(org, chain, expected):
    report = _verify(chain[2], org, expected[:1])
    assert report.verdict == "invalid"
    assert report.reasons == ["expected 1 signature(s), found 2"]


def test_one_signature_too_few(org, chain, expected):
    report = _verify(chain[1], org, expected)
    assert report.verdict == "invalid"
    assert report.reasons == ["expected 2 signature(s), found 1"]


def test_stored_version_not_a_prefix(org, chain, expected):
    v0, v1, v2 = chain
    versions = _versions(v0, v1, v2)
    versions[1] = (len(v1), hashlib.sha256(b"another file").hexdigest())
    report = _verify(v2, org, expected, versions=versions)
    assert report.verdict == "invalid"
    assert report.reasons == ["stored version 1 is not a prefix of the file (length "
                              f"{len(v1)} or hash differs)"]


def test_stored_version_ending_off_the_signature_boundary(org, chain, expected):
    v0, v1, v2 = chain
    cut = v2[: len(v1) - 10]  # a true prefix, but not where signature 1 ends
    report = _verify(v2, org, expected, versions=_versions(v0, cut, v2))
    assert report.verdict == "invalid"
    assert report.reasons == [f"signature 1: signed revision ends at byte {len(v1)}, "
                              f"stored version 1 has {len(cut)} bytes"]


def test_wrong_number_of_versions_and_unordered_versions(org, chain, expected):
    v0, v1, v2 = chain
    report = _verify(v2, org, expected, versions=_versions(v0, v2))
    assert _has(report, "expected 3 stored versions") and report.verdict == "invalid"
    report = _verify(v2, org, expected, versions=_versions(v0, v1, v1))
    assert _has(report, "stored version 2 is not longer than version 1")
    assert _has(report, f"the file has {len(v2)} bytes, the last stored version {len(v1)}")


def test_file_hash_mismatch(org, chain, expected):
    v0, v1, v2 = chain
    report = _verify(v2, org, expected, versions=_versions(v0, v1, v2),
                     file_sha256=hashlib.sha256(v1).hexdigest())
    assert report.reasons == ["the file's SHA-256 does not match the stored hash"]


def test_bytes_appended_after_the_last_signature(org, chain, expected):
    v0, v1, v2 = chain
    longer = v2 + b"\n%% appended after approval\n"
    report = _verify(longer, org, expected)
    assert report.reasons == ["signature 2 (the last) does not cover the whole file: "
                              "bytes were added after it"]
    assert report.signatures[1]["intact"]  # the signature itself still verifies
    report = _verify(longer, org, expected, versions=_versions(v0, v1, v2))
    assert _has(report, f"the file has {len(longer)} bytes, the last stored version {len(v2)}")


def test_changed_byte_inside_the_signed_range(org, chain, expected):
    v2 = chain[2]
    pos = v2.index(b"KE HOACH BAI DAY page 1")
    tampered = v2[:pos] + b"X" + v2[pos + 1:]
    report = _verify(tampered, org, expected)
    assert report.verdict == "invalid"
    assert all(not s["intact"] for s in report.signatures)
    assert report.reasons == [
        f"signature {i}: the signed bytes were altered or the signature does not verify"
        for i in (1, 2)
    ]


# --------------------------------------------------------------------------
# Changes after approval (difference analysis)
# --------------------------------------------------------------------------


def test_page_content_swapped_after_the_last_approval(org, chain, expected):
    forged = _swap_first_page_content(chain[2])
    report = _verify(forged, org, expected)
    assert report.verdict == "invalid"
    assert [s["modification_level"] for s in report.signatures] == ["OTHER", "OTHER"]
    assert "signature 1: the document was modified after signing (OTHER)" in report.reasons
    assert "signature 2: the document was modified after signing (OTHER)" in report.reasons


def test_page_content_swapped_between_approvals_then_signed_over(org, chain, expected):
    """The nasty case: the last signature covers the whole (forged) file."""
    _, people = org
    forged = _swap_first_page_content(chain[1])
    resigned = pades.sign_pdf(forged, people["minh"][1], field_name="HieuTruong", stamp=None)
    report = _verify(resigned, org, expected)
    assert report.verdict == "invalid"
    assert report.signatures[1]["covers_whole_file"] and report.signatures[1]["problems"] == []
    assert report.reasons == ["signature 1: the document was modified after signing (OTHER)"]


def test_text_field_filled_between_approvals(org):
    """pyHanko calls this mere FORM_FILLING; only signing may follow approval."""
    _, people = org
    v0 = _add_text_field(_pdf(1))
    v1 = pades.sign_pdf(v0, people["lan"][1], field_name="ToTruong", stamp=None)
    filled = _fill_text_field(v1, b"Duyet - khong can sua")
    v2 = pades.sign_pdf(filled, people["minh"][1], field_name="HieuTruong", stamp=None)
    expected = [E(people["lan"][0].sha256, NOW), E(people["minh"][0].sha256, NOW)]
    report = _verify(v2, org, expected)
    assert report.signatures[0]["modification_level"] == "FORM_FILLING"
    assert report.reasons == ["signature 1: form fields changed after signing: GhiChu"]
    untouched = pades.sign_pdf(v1, people["minh"][1], field_name="HieuTruong", stamp=None)
    assert _verify(untouched, org, expected).valid


# --------------------------------------------------------------------------
# Certificates: trust, validity at the signing moment, revocation
# --------------------------------------------------------------------------


def test_untrusted_root(org, chain, expected):
    stranger = org_ca.create_ca("CA lạ", "Không liên quan", key_passphrase=CA_PASS)
    report = _verify(chain[2], org, expected, trust_roots=[stranger.cert_der])
    assert report.verdict == "invalid"
    assert not any(s["trusted"] for s in report.signatures)
    assert report.reasons == [
        f"signature {i}: the certificate does not chain to a trusted root "
        "(NO_CERTIFICATE_CHAIN_FOUND)" for i in (1, 2)
    ]


def test_certificate_not_meant_for_signing(org):
    """Issued by the trusted CA, but for key encipherment (e.g. TLS) only."""
    ca, _ = org
    ca_cert = x509.load_der_x509_certificate(ca.cert_der)
    ca_key = serialization.load_pem_private_key(ca.key_pem_encrypted, CA_PASS)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "May chu web")]))
        .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(7)
        .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=9))
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=True,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    p12 = pkcs12.serialize_key_and_certificates(
        b"web", key, cert, [ca_cert], serialization.BestAvailableEncryption(P12_PASS))
    signed = pades.sign_pdf(_pdf(1), pades.load_pkcs12_signer(p12, P12_PASS),
                            field_name="GiaoVien", stamp=None)
    report = _verify(signed, org, [E(None, NOW)])
    assert report.reasons == ["signature 1: the certificate is not trusted or not meant for "
                              "signing (CHAIN_CONSTRAINTS_FAILURE)"]


def test_certificate_expired_at_the_signing_moment(org):
    ca, _ = org
    old = org_ca.issue_certificate(ca, CA_PASS, common_name="Hết Hạn", organisation="THCS Demo",
                                   valid_days=5, p12_passphrase=P12_PASS,
                                   now=NOW - dt.timedelta(days=10))
    signer = pades.load_pkcs12_signer(old.pkcs12, P12_PASS)
    signed = pades.sign_pdf(_pdf(1), signer, field_name="GiaoVien", stamp=None)
    report = _verify(signed, org, [E(old.sha256, NOW)])
    assert report.verdict == "invalid"
    assert report.signatures[0]["trusted"] and not report.signatures[0]["valid_at_signing_time"]
    (reason,) = report.reasons
    assert reason.startswith("signature 1: the certificate expired on ")
    # Judged at the recorded decision time (B-B), the same signature was
    # made while the certificate was still valid.
    report = _verify(signed, org, [E(old.sha256, NOW - dt.timedelta(days=7))])
    assert report.valid, report.reasons
    # Naive datetimes are UTC, as Odoo stores them.
    naive = (NOW - dt.timedelta(days=7)).replace(tzinfo=None)
    assert _verify(signed, org, [E(old.sha256, naive)]).valid


def test_revoked_before_signing_with_org_ca_crl(org, chain, expected):
    ca, people = org
    crl = org_ca.make_crl(ca, CA_PASS, [(people["lan"][0].serial, NOW - dt.timedelta(hours=1))])
    for mode in ("hard", "soft"):
        report = _verify(chain[2], org, expected, crls=[crl], revocation=mode)
        assert report.verdict == "invalid"
        assert [s["revocation"] for s in report.signatures] == ["revoked", "good"]
        (reason,) = report.reasons
        assert reason.startswith("signature 1: the certificate was revoked before signing")


def test_revoked_after_signing_still_valid_at_signing_time(org, chain, expected):
    ca, people = org
    crl = org_ca.make_crl(ca, CA_PASS, [(people["lan"][0].serial, NOW - dt.timedelta(hours=1))])
    decided = [E(e.signer_sha256, NOW - dt.timedelta(days=1)) for e in expected]
    report = _verify(chain[2], org, decided, crls=[crl], revocation="hard")
    assert report.valid, report.reasons
    assert [s["revocation"] for s in report.signatures] == ["good", "good"]


def test_hard_revocation_needs_proof_soft_tolerates_unknown(org, chain, expected):
    report = _verify(chain[2], org, expected, revocation="hard")
    assert report.verdict == "invalid"
    assert all("revocation status is unknown" in r for r in report.reasons)
    report = _verify(chain[2], org, expected, revocation="soft")
    assert report.valid and [s["revocation"] for s in report.signatures] == ["unknown"] * 2
    ca, _ = org
    clean = org_ca.make_crl(ca, CA_PASS, [])
    report = _verify(chain[2], org, expected, crls=[clean], revocation="hard")
    assert report.valid and [s["revocation"] for s in report.signatures] == ["good"] * 2


# --------------------------------------------------------------------------
# Public-CA-like chain: timestamps (B-T) and OCSP through the local test PKI
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki():
    with LocalPki() as running:
        yield running


@pytest.fixture(scope="module")
def b_t(pki):
    """A B-T signature by alice and a B-B one by the revoked signer."""
    alice = pades.load_pkcs12_signer(pki.signers["alice"].pkcs12, pki.passphrase)
    revoked = pades.load_pkcs12_signer(pki.signers["revoked"].pkcs12, pki.passphrase)
    return {
        "alice": pades.sign_pdf(_pdf(1), alice, field_name="GiaoVien", stamp=None,
                                timestamper=pki.timestamper()),
        "revoked": pades.sign_pdf(_pdf(1), revoked, field_name="GiaoVien", stamp=None),
    }


def test_b_t_signature_reports_the_tsa_time(pki, b_t):
    signed = b_t["alice"]
    (summary,) = pades.signature_summary(signed)
    decided = NOW - dt.timedelta(days=30)  # ignored: the timestamp is better evidence
    report = verify_pdf(signed, versions=None, file_sha256=None,
                        expected=[E(pki.signers["alice"].sha256, decided)],
                        trust_roots=[pki.root_der], revocation="hard", timeout=5)
    assert report.valid, report.reasons
    (sig,) = report.signatures
    assert sig["timestamped"] and sig["revocation"] == "good" and sig["internal"] is False
    assert sig["signing_time"] == summary["timestamp_time"].isoformat()
    assert sig["validated_at"] == sig["signing_time"]


def test_timestamp_from_an_untrusted_tsa_is_rejected(org, pki):
    ca, people = org
    signed = pades.sign_pdf(_pdf(1), people["lan"][1], field_name="ToTruong", stamp=None,
                            timestamper=pki.timestamper())
    report = verify_pdf(signed, versions=None, file_sha256=None,
                        expected=[E(people["lan"][0].sha256, NOW)], trust_roots=[ca.cert_der])
    assert report.verdict == "invalid" and not report.signatures[0]["timestamped"]
    (reason,) = report.reasons
    assert reason.startswith("signature 1: its timestamp does not validate or its TSA is not "
                             "trusted")
    report = verify_pdf(signed, versions=None, file_sha256=None,
                        expected=[E(people["lan"][0].sha256, NOW)],
                        trust_roots=[ca.cert_der, pki.root_der])
    assert report.valid and report.signatures[0]["timestamped"], report.reasons


def test_revoked_signer_caught_by_ocsp(pki, b_t):
    expected = [E(pki.signers["revoked"].sha256, NOW)]
    report = verify_pdf(b_t["revoked"], versions=None, file_sha256=None, expected=expected,
                        trust_roots=[pki.root_der], revocation="hard", timeout=5)
    assert report.verdict == "invalid" and report.signatures[0]["revocation"] == "revoked"
    (reason,) = report.reasons
    assert "revoked before signing" in reason and "OCSP" in reason
    # Without revocation checking the same signature looks fine: 'off' means off.
    report = verify_pdf(b_t["revoked"], versions=None, file_sha256=None, expected=expected,
                        trust_roots=[pki.root_der], revocation="off")
    assert report.valid and report.signatures[0]["revocation"] == "not_checked"


def test_given_crl_alone_proves_revocation(pki, b_t):
    """The intermediate's CRL handed in, no fetching needed for the signer."""
    report = verify_pdf(b_t["revoked"], versions=None, file_sha256=None,
                        expected=[E(pki.signers["revoked"].sha256, NOW)],
                        trust_roots=[pki.root_der], crls=[pki.crl("interm"), pki.crl("root")],
                        revocation="hard", timeout=5)
    assert report.signatures[0]["revocation"] == "revoked"


def test_missing_intermediate_supplied_as_other_certs(pki):
    loaded = pades.load_pkcs12_signer(pki.signers["bob"].pkcs12, pki.passphrase)
    chainless = pades.CachedKeySigner(signing_cert=loaded.signing_cert,
                                      signing_key=loaded.signing_key,
                                      cert_registry=SimpleCertificateStore())
    signed = pades.sign_pdf(_pdf(1), chainless, field_name="GiaoVien", stamp=None)
    kwargs = dict(versions=None, file_sha256=None, trust_roots=[pki.root_der],
                  expected=[E(pki.signers["bob"].sha256, NOW)])
    report = verify_pdf(signed, **kwargs)
    assert report.verdict == "invalid" and not report.signatures[0]["trusted"]
    report = verify_pdf(signed, other_certs=[pki.cert_der("interm")], **kwargs)
    assert report.valid, report.reasons


def test_unreachable_responders_soft_versus_hard():
    with LocalPki() as gone:
        signer = pades.load_pkcs12_signer(gone.signers["bob"].pkcs12, gone.passphrase)
        signed = pades.sign_pdf(_pdf(1), signer, field_name="GiaoVien", stamp=None)
        root, sha = gone.root_der, gone.signers["bob"].sha256
    kwargs = dict(versions=None, file_sha256=None, expected=[E(sha, NOW)], trust_roots=[root],
                  timeout=2)
    soft = verify_pdf(signed, revocation="soft", **kwargs)
    assert soft.valid and soft.signatures[0]["revocation"] == "unknown", soft.reasons
    hard = verify_pdf(signed, revocation="hard", **kwargs)
    assert hard.verdict == "invalid" and hard.signatures[0]["revocation"] == "unknown"


# --------------------------------------------------------------------------
# Never a crash
# --------------------------------------------------------------------------


@pytest.mark.parametrize("garbage", [b"", b"garbage", b"%PDF-1.7\n%%EOF", None, "text"])
def test_garbage_input_is_invalid_not_an_exception(org, expected, garbage):
    report = _verify(garbage, org, expected)
    assert report.verdict == "invalid" and report.reasons
    json.dumps(report.as_dict())


def test_truncated_and_bad_arguments_are_invalid(org, chain, expected):
    v2 = chain[2]
    truncated = _verify(v2[: len(v2) // 2], org, expected)
    assert truncated.verdict == "invalid" and truncated.reasons
    bad_root = _verify(v2, org, expected, trust_roots=[b"not a certificate"])
    assert bad_root.verdict == "invalid" and bad_root.reasons[0].startswith("verification failed")
    bad_mode = _verify(v2, org, expected, revocation="sometimes")
    assert bad_mode.verdict == "invalid" and "revocation must be one of" in bad_mode.reasons[0]


# --------------------------------------------------------------------------
# One pass over the file
# --------------------------------------------------------------------------


def test_one_pass_gives_the_file_its_versions_and_every_byte_range(org, chain, expected, monkeypatch):
    """pyHanko's own range hashing is never needed for a well-formed chain,
    and the verdicts do not change (a changed byte is still found)."""
    from pyhanko.sign.validation import pdf_embedded

    def no_second_pass(*args, **kwargs):
        raise AssertionError("the /ByteRange was hashed again")

    monkeypatch.setattr(pdf_embedded, "byte_range_digest", no_second_pass)
    v0, v1, v2 = chain
    report = _verify(v2, org, expected, versions=_versions(v0, v1, v2),
                     file_sha256=hashlib.sha256(v2).hexdigest())
    assert report.verdict == "valid", report.reasons
    tampered = bytearray(v2)
    tampered[len(v0) // 2] ^= 0x01  # inside both signatures' ranges
    report = _verify(bytes(tampered), org, expected)
    assert report.verdict == "invalid"
    assert [s["intact"] for s in report.signatures] == [False, False]


def test_the_hashes_of_one_pass_are_those_of_hashlib():
    from hscm_tools.pades_verify import _Hashes

    data = bytes(range(256)) * 40
    ranges = [(0, 100, 200, 300), (0, 0, 0, 10240), (0, 5000, 5100, 5140), (0, 10, 5, 1),
              (1, 10, 20, 5), (0, 10, 20, 99999)]
    hashes = _Hashes(data, [0, 100, 5100, 10240, 20000])
    digests = hashes.with_ranges(ranges)
    assert set(digests) == {(0, 100, 200, 300), (0, 0, 0, 10240), (0, 5000, 5100, 5140)}  # malformed: left out
    for a0, a, b, c in digests:
        assert digests[a0, a, b, c] == hashlib.sha256(data[:a] + data[b:b + c]).digest()
    file_sha, prefixes = hashes.of_file()
    assert file_sha == hashlib.sha256(data).hexdigest()
    assert prefixes == {n: hashlib.sha256(data[:n]).hexdigest() for n in (0, 100, 5100, 10240)}


def test_a_byte_range_of_real_numbers_is_left_to_pyhanko(org, chain, expected):
    """pyHanko refuses a /ByteRange with real numbers; cut to integers, it
    could have been hashed over other bytes than pyHanko measures."""
    from hscm_tools.pades_verify import _byte_range

    class Emb:
        byte_range = [generic.NumberObject(0), generic.NumberObject(100),
                      generic.FloatObject("1100.5"), generic.NumberObject(200)]

    with pytest.raises(ValueError):
        _byte_range(Emb())
    Emb.byte_range[2] = generic.NumberObject(1100)
    assert _byte_range(Emb()) == (0, 100, 1100, 200)

    _, _, v2 = chain
    at = v2.rindex(b"/ByteRange [")
    end = v2.index(b"]", at)
    numbers = v2[at:end].split(b"[")[1].split()
    fake = b"/ByteRange [" + b" ".join(numbers[:3]) + b" " + str(int(numbers[3]) - 1).encode() + b".5"
    fake = fake.ljust(end - at)
    report = _verify(v2[:at] + fake + v2[end:], org, expected)
    assert report.verdict == "invalid"
    assert report.signatures[-1]["intact"] is False
