"""Tampered signed lesson plans are reported as modified.

Each attack is built here (pyHanko's incremental writer, pypdf, raw bytes)
on an honest plan signed by two approvers, then verified in both modes:

* with the product's records (stored versions and file hash), and
* without them (``versions=None, file_sha256=None``): a file handed in from
  outside is judged by its cryptography alone.

Both must say ``'invalid'`` with a reason naming what happened.
"""

import hashlib
import io
import multiprocessing
import random
import re
import shutil
import signal
import subprocess
from concurrent.futures import ProcessPoolExecutor

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pki_fixtures import NOW, make_pdf, org_with_staff
from pypdf import PdfReader

from hscm_tools import pades
from hscm_tools.pades_verify import ExpectedSignature as E
from hscm_tools.pades_verify import verify_pdf

CA_PASS = b"ca-secret"
P12_PASS = b"p12-secret"
SHADOW_TEXT = b"SHADOW PLAN"


# --------------------------------------------------------------------------
# The honest plan: two pages, approved by Lan, then Minh
# --------------------------------------------------------------------------


def _pdf(pages=2) -> bytes:
    return make_pdf(pages, shared_font=True)


@pytest.fixture(scope="module")
def org():
    return org_with_staff({"lan": "Phạm Thị Lan Anh", "minh": "Nguyễn Văn Minh",
                           "hoa": "Trần Thị Hoa"},  # Hoa: a colleague, trusted, not an approver
                          ca_passphrase=CA_PASS, p12_passphrase=P12_PASS)


def _sign(pdf, org, who, field_name):
    _, people = org
    _, signer, cn = people[who]
    return pades.sign_pdf(pdf, signer, field_name=field_name,
                          stamp=pades.StampText(name=cn, position=field_name))


@pytest.fixture(scope="module")
def expected(org):
    _, people = org
    return [E(people["lan"][0].sha256, NOW), E(people["minh"][0].sha256, NOW)]


@pytest.fixture(scope="module")
def chain(org):
    """Versions 0..2 of the honest plan (the product's records)."""
    v0 = _pdf()
    v1 = _sign(v0, org, "lan", "ToTruong")
    v2 = _sign(v1, org, "minh", "HieuTruong")
    return v0, v1, v2


def _records(*versions) -> dict:
    return {"versions": [(len(v), hashlib.sha256(v).hexdigest()) for v in versions],
            "file_sha256": hashlib.sha256(versions[-1]).hexdigest()}


def _verify(pdf, org, expected, records=None):
    ca, _ = org
    records = records or {"versions": None, "file_sha256": None}
    return verify_pdf(pdf, expected=expected, trust_roots=[ca.cert_der], **records)


def _both(pdf, org, expected, records):
    """(report with the product's records, report from the file alone)."""
    return _verify(pdf, org, expected, records), _verify(pdf, org, expected)


def _assert_reported(report, *fragments):
    assert report.verdict == "invalid", report.reasons
    for fragment in fragments:
        assert any(fragment in r for r in report.reasons), (fragment, report.reasons)


def _shown_text(pdf: bytes) -> str:
    """What an ordinary reader (pypdf) shows on the pages."""
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


# --------------------------------------------------------------------------
# Building attacks
# --------------------------------------------------------------------------


def _write(w: IncrementalPdfFileWriter) -> bytes:
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _raw_update(pdf: bytes, *, objects=(), redirects=(), root=None) -> bytes:
    """An incremental update written by hand: object bodies ``(idnum, body)``,
    xref entries ``(idnum, offset)`` pointing anywhere, optionally a new /Root."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    size = int(reader.trailer["/Size"])
    root = root if root is not None else reader.root_ref.idnum
    prev = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    entries = {}
    for idnum, body in objects:
        entries[idnum] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (idnum, body)
        size = max(size, idnum + 1)
    entries.update(redirects)
    xref = len(out)
    out += b"xref\n"
    for idnum in sorted(entries):
        out += b"%d 1\n%010d 00000 n\r\n" % (idnum, entries[idnum])
    if not entries:
        out += b"0 0\n"
    out += (b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
            % (size, root, prev, xref))
    return bytes(out)


def _serialise(obj) -> bytes:
    buf = io.BytesIO()
    obj.write_to_stream(buf)
    return buf.getvalue()


def _stream(data: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n%s\nendstream" % (len(data), data)


def _shadow_objects(pdf: bytes, first_id: int, catalog_id: int | None = None):
    """Bodies of a shadow catalog (``catalog_id``, default a new number) and
    page tree showing SHADOW_TEXT, sharing the real catalog's other entries
    (its /AcroForm too, so the signatures stay visible). Returns
    ``(objects, catalog idnum)``."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    root = reader.root
    kids = root["/Pages"]["/Kids"]
    pages_id = first_id
    next_id = first_id + 1
    objects, kid_refs = [], []
    for kid in kids:
        page = kid.get_object()
        content_id, page_id = next_id, next_id + 1
        next_id += 2
        objects.append((content_id, _stream(b"BT /F1 18 Tf 72 760 Td (%s) Tj ET" % SHADOW_TEXT)))
        shadow = generic.DictionaryObject({k: page.raw_get(k) for k in page
                                           if k not in ("/Parent", "/Contents", "/Annots")})
        shadow[pdf_name("/Parent")] = generic.IndirectObject(pages_id, 0, None)
        shadow[pdf_name("/Contents")] = generic.IndirectObject(content_id, 0, None)
        objects.append((page_id, _serialise(shadow)))
        kid_refs.append(b"%d 0 R" % page_id)
    objects.append((pages_id, b"<< /Type /Pages /Count %d /Kids [%s] >>"
                    % (len(kids), b" ".join(kid_refs))))
    catalog = generic.DictionaryObject({k: root.raw_get(k) for k in root})
    catalog[pdf_name("/Pages")] = generic.IndirectObject(pages_id, 0, None)
    if catalog_id is None:
        catalog_id = next_id
    objects.append((catalog_id, _serialise(catalog)))
    return objects, catalog_id


def _swap_page_content(pdf: bytes) -> bytes:
    """Page 1 gets a new content stream object."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page = w.root["/Pages"]["/Kids"][0].get_object()
    page["/Contents"] = w.add_object(
        generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 760 Td (FORGED PLAN) Tj ET"))
    w.update_container(page)
    return _write(w)


def _redefine_page_content(pdf: bytes) -> bytes:
    """Page 1's content stream object is redefined under its own number."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    ref = reader.root["/Pages"]["/Kids"][0].get_object().raw_get("/Contents")
    return _raw_update(pdf, objects=[(ref.idnum, _stream(
        b"BT /F1 18 Tf 72 760 Td (FORGED PLAN) Tj ET"))])


def _add_annotation(pdf: bytes) -> bytes:
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page_ref = w.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    note = w.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"),
        pdf_name("/Subtype"): pdf_name("/FreeText"),
        pdf_name("/Rect"): generic.ArrayObject(
            [generic.NumberObject(v) for v in (72, 700, 400, 740)]),
        pdf_name("/Contents"): generic.pdf_string("KHÔNG DUYỆT"),
        pdf_name("/DA"): generic.pdf_string("/Helv 14 Tf 1 0 0 rg"),
        pdf_name("/P"): page_ref,
    }))
    annots = page.get("/Annots")
    page["/Annots"] = generic.ArrayObject([*(annots or []), note])
    w.update_container(page)
    return _write(w)


def _add_overlay(pdf: bytes) -> bytes:
    """A white box and new text drawn over page 1 (an extra content stream)."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page = w.root["/Pages"]["/Kids"][0].get_object()
    cover = w.add_object(generic.StreamObject(
        stream_data=b"q 1 1 1 rg 60 740 480 50 re f Q BT /F1 18 Tf 72 760 Td (OVERLAY) Tj ET"))
    old = page.raw_get("/Contents")
    page["/Contents"] = generic.ArrayObject(
        [*(old if isinstance(old, generic.ArrayObject) else [old]), cover])
    w.update_container(page)
    return _write(w)


def _sig_field(w, name):
    for ref in w.root["/AcroForm"]["/Fields"]:
        if ref.get_object().get("/T") == name:
            return ref
    raise KeyError(name)


def _remove_signature_value(pdf: bytes, name: str) -> bytes:
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    sig_field = _sig_field(w, name).get_object()
    del sig_field["/V"]
    w.update_container(sig_field)
    return _write(w)


def _remove_signature_field(pdf: bytes, name: str) -> bytes:
    """The field leaves /AcroForm /Fields and its page's /Annots."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    ref = _sig_field(w, name).reference
    form = w.root["/AcroForm"]
    form["/Fields"] = generic.ArrayObject(
        [r for r in form["/Fields"] if r.reference != ref])
    if isinstance(w.root.raw_get("/AcroForm"), generic.IndirectObject):
        w.update_container(form)
    else:
        w.update_root()
    for kid in w.root["/Pages"]["/Kids"]:
        page = kid.get_object()
        annots = page.get("/Annots")
        if annots and any(a.reference == ref for a in annots):
            page["/Annots"] = generic.ArrayObject([a for a in annots if a.reference != ref])
            w.update_container(page)
    return _write(w)


# --------------------------------------------------------------------------
# The honest file
# --------------------------------------------------------------------------


def test_honest_file_is_valid_in_both_modes(org, chain, expected):
    with_records, alone = _both(chain[2], org, expected, _records(*chain))
    assert with_records.valid and with_records.reasons == [], with_records.reasons
    assert alone.valid and alone.reasons == [], alone.reasons
    assert [s["field_name"] for s in alone.signatures] == ["ToTruong", "HieuTruong"]


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler's pdfsig is not installed")
def test_pdfsig_says_both_signatures_are_valid(chain, tmp_path):
    path = tmp_path / "plan.pdf"
    path.write_bytes(chain[2])
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    blocks = re.split(r"^Signature #\d+:", out, flags=re.M)[1:]
    assert len(blocks) == 2, out
    for block in blocks:
        assert "Signature Validation: Signature is Valid." in block, out
    assert "Signature Field Name: ToTruong" in blocks[0]
    assert "Signature Field Name: HieuTruong" in blocks[1]
    assert "Total document signed" in blocks[1]


# --------------------------------------------------------------------------
# Changes after the last signature
# --------------------------------------------------------------------------


@pytest.mark.parametrize("attack", [_swap_page_content, _redefine_page_content])
def test_page_content_replaced_after_the_last_signature(org, chain, expected, attack):
    forged = attack(chain[2])
    assert "FORGED PLAN" in _shown_text(forged)
    with_records, alone = _both(forged, org, expected, _records(*chain))
    _assert_reported(with_records, "the file's SHA-256 does not match the stored hash",
                     f"the file has {len(forged)} bytes, the last stored version "
                     f"{len(chain[2])}")
    _assert_reported(alone, "signature 2 (the last) does not cover the whole file",
                     "signature 1: the document was modified after signing (OTHER)",
                     "signature 2: the document was modified after signing (OTHER)")


@pytest.mark.parametrize("attack", [_add_annotation, _add_overlay])
def test_annotation_or_overlay_added(org, chain, expected, attack):
    forged = attack(chain[2])
    with_records, alone = _both(forged, org, expected, _records(*chain))
    _assert_reported(with_records, "the file's SHA-256 does not match the stored hash")
    _assert_reported(alone, "signature 2 (the last) does not cover the whole file",
                     "signature 1: the document was modified after signing",
                     "signature 2: the document was modified after signing")
    assert all(s["modification_level"] not in ("NONE", "FORM_FILLING", "LTA_UPDATES")
               for s in alone.signatures)


# --------------------------------------------------------------------------
# Shadow documents: a second catalog / page tree that readers show instead
# --------------------------------------------------------------------------


def _next_id(pdf: bytes) -> int:
    return int(PdfFileReader(io.BytesIO(pdf), strict=False).trailer["/Size"])


def _new_root_after_signing(chain, org):
    """A new catalog and page tree appended; the trailer's /Root names it."""
    objects, catalog = _shadow_objects(chain[2], _next_id(chain[2]))
    return _raw_update(chain[2], objects=objects, root=catalog), chain


def _catalog_pages_switched(chain, org):
    """The catalog keeps its number, its /Pages now names a shadow page tree."""
    root_id = PdfFileReader(io.BytesIO(chain[2]), strict=False).root_ref.idnum
    objects, _ = _shadow_objects(chain[2], _next_id(chain[2]), catalog_id=root_id)
    return _raw_update(chain[2], objects=objects), chain


def _with_form(pdf: bytes) -> bytes:
    """The original with an empty form as an object of its own: signing
    fills it, so a catalog prepared now that names it shows the signatures."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    root = generic.DictionaryObject({k: reader.root.raw_get(k) for k in reader.root})
    form_id = _next_id(pdf)
    root[pdf_name("/AcroForm")] = generic.IndirectObject(form_id, 0, None)
    return _raw_update(pdf, objects=[(form_id, b"<< /Fields [] >>"),
                                     (reader.root_ref.idnum, _serialise(root))])


def _hidden(chain, org):
    """The original already hides an unused shadow catalog and page tree."""
    v0 = _with_form(chain[0])
    objects, catalog = _shadow_objects(v0, _next_id(v0))
    hidden_v0 = _raw_update(v0, objects=objects)
    assert SHADOW_TEXT.decode() not in _shown_text(hidden_v0)
    v1 = _sign(hidden_v0, org, "lan", "ToTruong")
    return (hidden_v0, v1), catalog


def _hide_and_replace_after_signing(chain, org):
    """Hide-and-replace: after both signatures, an update of nothing but an
    xref section and a trailer whose /Root is the hidden catalog."""
    (v0, v1), catalog = _hidden(chain, org)
    v2 = _sign(v1, org, "minh", "HieuTruong")
    return _raw_update(v2, root=catalog), (v0, v1, v2)


def _hide_and_replace_between_approvals(chain, org):
    """The same switch after the first approval; the second approver then
    signs the shadow document (the last signature covers the whole file)."""
    (v0, v1), catalog = _hidden(chain, org)
    switched = _raw_update(v1, root=catalog)
    v2 = _sign(switched, org, "minh", "HieuTruong")
    return v2, (v0, v1, v2)  # the product signed v2 itself: records hold it


def _xref_redirect_after_signing(chain, org):
    """The original holds two bodies of its catalog's number (the shadow one
    overwritten by an update); after signing, an xref-only update points
    that number back at the shadow body."""
    v0 = _with_form(chain[0])
    reader = PdfFileReader(io.BytesIO(v0), strict=False)
    root_id = reader.root_ref.idnum
    objects, _ = _shadow_objects(v0, _next_id(v0), catalog_id=root_id)
    shadowed = _raw_update(v0, objects=objects)
    shadow_at = shadowed.rindex(b"\n%d 0 obj\n" % root_id) + 1
    restored = _raw_update(shadowed, objects=[(root_id, _serialise(reader.root))])
    assert SHADOW_TEXT.decode() not in _shown_text(restored)
    v1 = _sign(restored, org, "lan", "ToTruong")
    v2 = _sign(v1, org, "minh", "HieuTruong")
    return _raw_update(v2, redirects=[(root_id, shadow_at)]), (restored, v1, v2)


@pytest.mark.parametrize("attack", [
    _new_root_after_signing, _catalog_pages_switched, _hide_and_replace_after_signing,
    _hide_and_replace_between_approvals, _xref_redirect_after_signing,
])
def test_shadow_document(org, chain, expected, attack):
    forged, versions = attack(chain, org)
    shown = _shown_text(forged)
    assert SHADOW_TEXT.decode() in shown and "KE HOACH" not in shown  # readers fall for it
    with_records, alone = _both(forged, org, expected, _records(*versions))
    for report in (with_records, alone):
        _assert_reported(report, "signature 1: the document was modified after signing (OTHER)")
    if attack in (_new_root_after_signing, _hide_and_replace_after_signing,
                  _hide_and_replace_between_approvals):
        _assert_reported(alone, "signature 1: the document catalog was replaced after signing")
    if attack is _hide_and_replace_between_approvals:
        # The second approver signed the shadow: only the first signature objects.
        assert alone.signatures[1]["covers_whole_file"] and alone.signatures[1]["problems"] == []
    else:
        _assert_reported(alone, "signature 2 (the last) does not cover the whole file")
        _assert_reported(with_records, "the file's SHA-256 does not match the stored hash")


# --------------------------------------------------------------------------
# Bytes appended after the end
# --------------------------------------------------------------------------


@pytest.mark.parametrize("tail", [
    b"\n", b"\r\n", b" ", b"\x00", b"%%EOF\n", b"% a comment\n",
    b"99 0 obj\n(appended) \nendobj\n", b"\n%PDF-1.7\n" + b"A" * 4096,
])
def test_bytes_appended_after_the_end(org, chain, expected, tail):
    longer = chain[2] + tail
    with_records, alone = _both(longer, org, expected, _records(*chain))
    _assert_reported(with_records, "the file's SHA-256 does not match the stored hash",
                     f"the file has {len(longer)} bytes")
    assert alone.verdict == "invalid", alone.reasons
    assert (any("does not cover the whole file: bytes were added after it" in r
                for r in alone.reasons)
            or alone.reasons[0].startswith("verification failed")), alone.reasons


# --------------------------------------------------------------------------
# An extra signature by a trusted colleague
# --------------------------------------------------------------------------


def test_extra_signature_by_a_trusted_colleague(org, chain, expected):
    _, people = org
    extra = _sign(chain[2], org, "hoa", "DongNghiep")
    with_records, alone = _both(extra, org, expected, _records(*chain))
    for report in (with_records, alone):
        _assert_reported(report, "expected 2 signature(s), found 3")
    _assert_reported(with_records, "the file's SHA-256 does not match the stored hash")
    third = alone.signatures[2]
    # Cryptographically flawless and trusted: only the records say it is not an approval.
    assert third["signer_sha256"] == people["hoa"][0].sha256
    assert third["intact"] and third["trusted"] and third["valid_at_signing_time"]
    assert third["expected_signer"] is False
    # The approvers' signatures accept a later signature, nothing else.
    assert [s["problems"] for s in alone.signatures[:2]] == [[], []]
    # And taking the place of the second approver is caught by fingerprint.
    instead = _sign(chain[1], org, "hoa", "HieuTruong")
    _assert_reported(_verify(instead, org, expected),
                     "signature 2: signed with a different certificate than the approver's")


# --------------------------------------------------------------------------
# A signature removed
# --------------------------------------------------------------------------


def test_file_cut_back_before_the_last_signature(org, chain, expected):
    with_records, alone = _both(chain[1], org, expected, _records(*chain))
    _assert_reported(alone, "expected 2 signature(s), found 1")
    _assert_reported(with_records, "expected 2 signature(s), found 1",
                     "the file's SHA-256 does not match the stored hash",
                     "stored version 2 is not a prefix of the file")


@pytest.mark.parametrize("field_name", ["HieuTruong", "ToTruong"])
@pytest.mark.parametrize("attack", [_remove_signature_value, _remove_signature_field])
def test_signature_removed_in_an_update(org, chain, expected, attack, field_name):
    forged = attack(chain[2], field_name)
    with_records, alone = _both(forged, org, expected, _records(*chain))
    for report in (with_records, alone):
        _assert_reported(report, "expected 2 signature(s), found 1",
                         f"the signature in field {field_name} was removed after signing",
                         "signature 1 (the last) does not cover the whole file")
    _assert_reported(with_records, "the file's SHA-256 does not match the stored hash")
    if field_name == "ToTruong":  # what is left is Minh's, checked against Lan's record
        _assert_reported(alone, "signature 1: signed with a different certificate")


# --------------------------------------------------------------------------
# 1,000 single-byte corruptions
# --------------------------------------------------------------------------

CORRUPTIONS = 1000


class _Hang(BaseException):
    """Raised in a worker when one verification takes too long."""


def _alarm(signum, frame):
    raise _Hang()


_WORKER: dict = {}


def _init_worker(pdf, root, expected, records):
    _WORKER.update(pdf=pdf, root=root, expected=expected, records=records)
    signal.signal(signal.SIGALRM, _alarm)


def _verify_corrupted(case):
    """Both verdicts for the honest file with one byte replaced."""
    position, value = case
    data = bytearray(_WORKER["pdf"])
    data[position] = value
    data = bytes(data)
    out = []
    for records in (_WORKER["records"], {"versions": None, "file_sha256": None}):
        signal.alarm(30)
        try:
            report = verify_pdf(data, expected=_WORKER["expected"],
                                trust_roots=[_WORKER["root"]], **records)
            out.append((report.verdict, report.reasons[:1]))
        except BaseException as e:  # noqa: BLE001 - exactly what must not happen
            out.append(("raised", [f"{type(e).__name__}: {e}"]))
        finally:
            signal.alarm(0)
    return position, value, out


def _der_size(data: bytes) -> int:
    """Length of the DER element at the start of ``data`` (header included)."""
    length = data[1]
    if length < 0x80:
        return 2 + length
    count = length & 0x7F
    return 2 + count + int.from_bytes(data[2:2 + count], "big")


def _regions(pdf: bytes) -> dict[str, list[int]]:
    """Where the interesting bytes of the signed file are."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    regions = {}
    for i, emb in enumerate(reader.embedded_signatures, start=1):
        _, start, end, _ = (int(v) for v in emb.byte_range)
        der_end = start + 1 + 2 * _der_size(emb.pkcs7_content)
        regions[f"signature {i} /Contents hex"] = list(range(start + 1, der_end))
        regions[f"signature {i} padding zeros"] = list(range(der_end, end - 1))
        regions[f"signature {i} hex delimiters"] = [start, end - 1]
    for n, match in enumerate(re.finditer(rb"(?<!start)xref\r?\n", pdf)):
        trailer = pdf.index(b"trailer", match.start())
        eof = pdf.index(b"%%EOF", trailer) + 5
        regions[f"xref table {n}"] = list(range(match.start(), trailer))
        regions[f"trailer {n}"] = list(range(trailer, eof))
    return regions


def _corruption_cases(pdf: bytes) -> list[tuple[int, int]]:
    rng = random.Random(20251123)
    regions = _regions(pdf)
    positions = [rng.randrange(len(pdf)) for _ in range(CORRUPTIONS - 30 * len(regions))]
    for region in regions.values():  # at least 30 in each region of interest
        positions += [rng.choice(region) for _ in range(30)]
    assert len(positions) == CORRUPTIONS
    return [(p, rng.choice([b for b in range(256) if b != pdf[p]])) for p in positions]


def test_corruption_cases_cover_the_sensitive_regions(chain):
    pdf = chain[2]
    regions = _regions(pdf)
    assert len(regions) >= 12  # 2 x (hex, padding, delimiter) + 3 x (xref, trailer)
    positions = {p for p, _ in _corruption_cases(pdf)}
    for name, region in regions.items():
        assert any(p in region for p in positions), name
        assert len(region) > 0, name
    for i in (1, 2):
        assert {pdf[p] for p in regions[f"signature {i} padding zeros"]} == {ord("0")}
        assert [pdf[p] for p in regions[f"signature {i} hex delimiters"]] == [ord("<"), ord(">")]


def test_a_thousand_single_byte_corruptions_are_all_invalid(org, chain, expected):
    ca, _ = org
    pdf = chain[2]
    cases = _corruption_cases(pdf)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=2, mp_context=context, initializer=_init_worker,
                             initargs=(pdf, ca.cert_der, expected, _records(*chain))) as pool:
        results = list(pool.map(_verify_corrupted, cases, chunksize=25))
    failures = [
        (position, value, mode, verdict, reasons)
        for position, value, out in results
        for mode, (verdict, reasons) in zip(("with records", "alone"), out)
        if verdict != "invalid" or not reasons
    ]
    assert not failures, failures[:20]
