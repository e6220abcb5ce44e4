"""PAdES signing helpers: incremental signatures, Vietnamese stamp, summary."""

import hashlib
import http.server
import io
import socket
import subprocess
import threading

import pytest
from cryptography.hazmat.primitives import serialization
from pki_fixtures import NOW, dummy_timestamper, fingerprint, make_cert, make_pdf, make_pkcs12
from pki_fixtures import make_root, rsa_key

from hscm_tools import pades, timestamps

PASS = b"demo"


@pytest.fixture(scope="module")
def pki():
    root, root_key = make_root()
    out = {"root": root, "root_key": root_key}
    for tag, cn in (("lan", "Phạm Thị Lan Anh"), ("minh", "Nguyễn Văn Minh")):
        key = rsa_key()
        cert = make_cert(cn, key, root_key)
        out[tag] = {
            "p12": make_pkcs12(tag.encode(), key, cert, [root], PASS),
            "cn": cn,
            "sha256": fingerprint(cert),
        }
    return out


@pytest.fixture(scope="module")
def signers(pki):
    return {tag: pades.load_pkcs12_signer(pki[tag]["p12"], PASS) for tag in ("lan", "minh")}


def _pdf(pages=2, marker=b"KEHOACHBAIDAY"):
    return make_pdf(pages, marker)


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


def _qr_codes_on(pdf, tmp_path):
    """The QR codes zbarimg reads on the pages of ``pdf`` rendered at 300 dpi,
    as a phone would see them."""
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-png", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(str(page) for page in tmp_path.glob("page*.png"))
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", *pages],
                             capture_output=True, text=True)
    assert decoded.returncode in (0, 4), decoded.stderr  # 4: no code found (then the list is empty)
    return decoded.stdout.split()


def test_stamp_qr_code_reads_back_the_verification_url(tmp_path, signed_twice):
    """The QR code is drawn with a fixed mask pattern (no search): a reader
    still decodes it, from the rendered page as a phone would see it."""
    assert _qr_codes_on(signed_twice, tmp_path) == [MINH_STAMP.qr_url]


def test_qr_mask_is_fixed_not_searched(signers, monkeypatch):
    import qrcode.main

    def searched(self):
        raise AssertionError("the mask pattern was searched")

    monkeypatch.setattr(qrcode.main.QRCode, "best_mask_pattern", searched)
    pdf = pades.sign_pdf(_pdf(), signers["minh"], field_name="QR", stamp=MINH_STAMP)
    assert [s["field_name"] for s in pades.signature_summary(pdf)] == ["QR"]


def test_qr_version_table_is_qrcodes_own_fitting():
    """The stamp looks its QR version up (QR_BYTES_AT_M) instead of letting
    qrcode fit it: the same version qrcode would choose, at every boundary."""
    import qrcode

    for version, size in enumerate(pades.QR_BYTES_AT_M, 1):
        for length, expected in ((size, version), (size + 1, version + 1)):
            fitted = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
            fitted.add_data("https://x.vn/" + "a" * (length - len("https://x.vn/")))
            fitted.make()
            assert fitted.version == expected, (length, fitted.version)


def test_a_long_verification_url_still_gets_its_qr_code(tmp_path, signers):
    """A URL longer than the table (a long web.base.url): qrcode fits it."""
    url = "https://so-giao-duc-va-dao-tao.example.edu.vn/hscm/verify/" + "t" * 180
    assert len(url) > pades.QR_BYTES_AT_M[-1]
    stamp = pades.StampText(name="Nguyễn Văn Minh", position="HIỆU TRƯỞNG", qr_url=url)
    signed = pades.sign_pdf(_pdf(), signers["minh"], field_name="QR", stamp=stamp)
    assert _qr_codes_on(signed, tmp_path) == [url]


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
    stamper = dummy_timestamper(pki["root"], pki["root_key"])
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


# --------------------------------------------------------------------------
# Speed work: prepared stamp font, signed attributes, page lookup
# --------------------------------------------------------------------------


def _render(pdf: bytes, tmp_path, name: str):
    from PIL import Image

    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-l", "1", "-png", str(path), str(tmp_path / name)],
                   check=True, capture_output=True)
    (png,) = tmp_path.glob(f"{name}-*.png")
    return Image.open(png).convert("RGB")


def _font_files(pdf: bytes):
    """``(font dict, FontFile2 decoded bytes, stream dict)`` of each Type0 font."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    found = []
    for num in range(1, reader.trailer["/Size"]):
        try:
            obj = reader.get_object(num)
        except Exception:  # noqa: BLE001 - free entries
            continue
        if isinstance(obj, dict) and obj.get("/Subtype") == "/Type0":
            cid_font = obj["/DescendantFonts"][0].get_object()
            stream = cid_font["/FontDescriptor"]["/FontFile2"].get_object()
            found.append((obj, stream.get_data(), stream))
    return found


def test_stamp_renders_like_pyhankos_own_font_engine(signers, tmp_path, monkeypatch):
    from PIL import ImageChops
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory

    stamp = pades.StampText(name="Trần Thị Ngọc Ánh", position="TỔ TRƯỞNG CHUYÊN MÔN",
                            signed_at="Đã ký: 23/11/2026 08:15",
                            extra_lines=["ắặễộợữỹĐđ ₫ 100%", "Nghĩa, Quỳnh, Thắng"])
    original = _pdf(pages=1)
    fast = pades.sign_pdf(original, signers["lan"], field_name="A", stamp=stamp)
    monkeypatch.setattr(pades, "StampFontFactory", GlyphAccumulatorFactory)
    reference = pades.sign_pdf(original, signers["lan"], field_name="A", stamp=stamp)
    difference = ImageChops.difference(_render(fast, tmp_path, "fast"),
                                       _render(reference, tmp_path, "reference"))
    assert difference.getbbox() is None  # pixel for pixel


def test_embedded_stamp_font_is_a_valid_subset(signed_twice):
    from fontTools.ttLib import TTFont

    fonts = _font_files(signed_twice)
    assert len(fonts) == 2  # one per stamp
    source = TTFont(pades.rescaled_font_path())
    for font, program, stream in fonts:
        assert font["/ToUnicode"] and font["/Encoding"] == "/Identity-H"
        assert stream["/Length1"] == len(program)
        assert len(program) < 40_000  # a subset, not the 150 KB font
        tt = TTFont(io.BytesIO(program))
        # Checksums as a strict reader computes them.
        total = sum(int.from_bytes(program[i:i + 4].ljust(4, b"\0"), "big")
                    for i in range(0, len(program), 4)) & 0xFFFFFFFF
        assert total == 0xB1B0AFBA
        glyf, order = tt["glyf"], tt.getGlyphOrder()
        cid_font = font["/DescendantFonts"][0].get_object()
        widths = list(cid_font["/W"])
        used = []
        while widths:
            first, run = widths.pop(0), widths.pop(0)
            used += [(first + i, w) for i, w in enumerate(run)]
        for gid, width in used:
            name = order[gid]
            assert width == source["hmtx"][source.getGlyphOrder()[gid]][0] == tt["hmtx"][name][0]
        # Exactly the glyphs drawn and their components have outlines.
        needed, todo = {".notdef"}, [order[gid] for gid, _ in used]
        while todo:
            name = todo.pop()
            if name not in needed:
                needed.add(name)
                todo += glyf[name].getComponentNames(glyf)
        with_outline = {name for name in order if glyf[name].numberOfContours}
        assert with_outline == {name for name in needed if source["glyf"][name].numberOfContours}


def test_stamp_signing_runs_no_font_subsetting(signers, monkeypatch):
    from fontTools import subset

    pades.sign_pdf(_pdf(pages=1), signers["lan"], field_name="A", stamp=LAN_STAMP)  # warm

    def refuse(*args, **kwargs):
        raise AssertionError("fontTools subsetting at signing time")

    monkeypatch.setattr(subset.Subsetter, "subset", refuse)
    stamp = pades.StampText(name="Lê Quốc Việt", position="GIÁO VIÊN",
                            signed_at="Đã ký: 01/12/2026")
    signed = pades.sign_pdf(_pdf(pages=1), signers["lan"], field_name="B", stamp=stamp)
    assert pades.signature_summary(signed)[0]["intact"]


def test_fast_signed_attributes_equal_pyhankos(signers):
    import asyncio

    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    signer = signers["minh"]
    digest = hashlib.sha256(b"lesson plan").digest()
    settings = PdfCMSSignedAttributes(signing_time=NOW)
    fast = asyncio.run(signer.signed_attrs(digest, "sha256", attr_settings=settings,
                                           use_pades=True))
    reference = asyncio.run(pades.signers.SimpleSigner.signed_attrs(
        signer, digest, "sha256", attr_settings=settings, use_pades=True))
    assert fast.dump() == reference.dump()
    # Not PAdES: pyHanko's own attributes (signing time, algorithm protection).
    generic = asyncio.run(signer.signed_attrs(digest, "sha256", attr_settings=settings))
    assert {a["type"].native for a in generic} >= {"signing_time", "message_digest"}


def _nested_pdf(leaves=(3, 1, 4)):
    """A PDF whose page tree has one level of /Pages nodes; page i is 500+i wide."""
    objs, kids_by_node = {}, []
    font, root, catalog = 1, 2, 3
    objs[font] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    num, page_no = 3, 0
    for count in leaves:
        num += 1
        node, kids = num, []
        for _ in range(count):
            data = b"BT /F1 12 Tf 72 720 Td (P%d) Tj ET" % page_no
            objs[num + 1] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(data), data)
            objs[num + 2] = (b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d 842] "
                             b"/Contents %d 0 R >>" % (node, 500 + page_no, num + 1))
            kids.append(num + 2)
            num += 2
            page_no += 1
        objs[node] = (b"<< /Type /Pages /Parent 2 0 R /Kids [%s] /Count %d "
                      b"/Resources << /Font << /F1 1 0 R >> >> >>"
                      % (b" ".join(b"%d 0 R" % k for k in kids), len(kids)))
        kids_by_node.append(node)
    objs[root] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids_by_node), page_no)
    objs[catalog] = b"<< /Type /Catalog /Pages 2 0 R >>"
    out, offsets = bytearray(b"%PDF-1.7\n"), {}
    for i in sorted(objs):
        offsets[i] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (i, objs[i])
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (num + 1)
    out += b"".join(b"%010d 00000 n \n" % offsets[i] for i in range(1, num + 1))
    out += b"trailer\n<< /Size %d /Root 3 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (num + 1, xref)
    return bytes(out)


@pytest.mark.parametrize("leaves", [(3, 1, 4), (1, 5, 2, 1), (6,)])
def test_pages_found_from_the_end_as_pyhanko_finds_them(leaves):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    pdf = _nested_pdf(leaves)
    plain = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    fast = pades._Writer(io.BytesIO(pdf), strict=False)
    for index in range(-sum(leaves), 0):
        assert fast.find_page_for_modification(index) == plain.find_page_for_modification(index)
        assert fast.find_page_container(index) == plain.find_page_container(index)
    with pytest.raises(Exception):
        fast.find_page_for_modification(-sum(leaves) - 1)


def test_stamp_lands_on_the_last_page_of_a_nested_tree(signers):
    pdf = _nested_pdf((3, 1, 4))
    signed = pades.sign_pdf(pdf, signers["lan"], field_name="A", stamp=LAN_STAMP)
    assert signed.startswith(pdf)
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(signed))
    (sig,) = reader.embedded_signatures
    last_page = sig.sig_field["/P"]
    assert float(last_page["/MediaBox"][2]) == 507  # page 8 of 8
    assert tuple(round(float(v)) for v in sig.sig_field["/Rect"]) == pades.stamp_box(507, 842, 0)


def test_run_coroutine_returns_and_raises():
    async def value():
        return b"%PDF" * 1000

    async def broken():
        raise pades.PadesError("boom")

    assert pades.run_coroutine(value()) == b"%PDF" * 1000
    with pytest.raises(pades.PadesError, match="boom"):
        pades.run_coroutine(broken())


def test_concurrent_stamped_signatures(signers, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    original = _pdf(pages=1)
    names = ["Phạm Thị Lan Anh", "Nguyễn Văn Minh", "Đặng Thuỳ Dương", "Vũ Hữu Nghĩa",
             "Bùi Thị Quỳnh", "Hoàng Đức Thắng"]

    def sign(i):
        stamp = pades.StampText(name=names[i], position="TỔ TRƯỞNG",
                                signed_at=f"Đã ký: {i + 1:02d}/12/2026",
                                qr_url=f"https://truong.example.vn/v/{i}" if i % 2 else None)
        return stamp, pades.sign_pdf(original, signers["lan"], field_name=f"F{i}", stamp=stamp)

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(sign, range(len(names))))
    for i, (stamp, signed) in enumerate(results):
        assert signed.startswith(original) and pades.signature_summary(signed)[0]["intact"]
        path = tmp_path / f"{i}.pdf"
        path.write_bytes(signed)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                              check=True).stdout.decode("utf-8")
        assert all(line in text for line in stamp.lines()), (stamp.lines(), text)


def test_a_pkcs12_without_its_key_is_refused(pki):
    root = pki["root"]
    certificate_only = make_pkcs12(b"nokey", None, root, [], PASS)
    with pytest.raises(pades.PadesError, match="must hold a private key and its certificate"):
        pades.load_pkcs12_signer(certificate_only, PASS)
    with pytest.raises(pades.PadesError, match="wrong passphrase"):
        pades.load_pkcs12_signer(pki["lan"]["p12"], b"not the passphrase")


def test_the_loaded_signer_keeps_the_archives_key_and_chain(pki, signers):
    signer = signers["lan"]
    assert signer.signing_cert.sha256.hex() == pki["lan"]["sha256"]
    assert signer._pyca_key.key_size == 2048  # cryptography's object, not loaded a second time
    root_der = pki["root"].public_bytes(serialization.Encoding.DER)
    assert [c.dump() for c in signer.cert_registry] == [root_der]


class _RefusingTsa(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(503)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("tsa", ["closed port", "answers 503"])
def test_a_failing_timestamp_authority_is_a_timestamp_error(signers, tsa):
    """pyHanko's TimestampRequestError is an OSError, as a disk's would be:
    the timestamper turns it into a PadesError with its own code."""
    if tsa == "closed port":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            url = "http://127.0.0.1:%d/tsa" % probe.getsockname()[1]
        server = None
    else:
        server = http.server.HTTPServer(("127.0.0.1", 0), _RefusingTsa)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = "http://127.0.0.1:%d/tsa" % server.server_port
    try:
        with pytest.raises(timestamps.TimestampError) as caught:
            pades.sign_pdf(_pdf(), signers["minh"], field_name="T", stamp=None,
                           timestamper=timestamps.http_timestamper(url, 5))
    finally:
        if server:
            server.shutdown()
    assert isinstance(caught.value, pades.PadesError) and caught.value.code == "timestamp_unreachable"
    assert isinstance(caught.value.__cause__, OSError)


def test_the_document_digest_goes_on_from_a_known_prefix_digest(signers, signed_once, tmp_path):
    """With ``prefix_sha256`` only the update is hashed: the signatures are
    as intact as pyHanko's own (twice in a row), and the digest given is
    really the one used (a wrong one makes a signature that does not hold)."""
    original, once = signed_once
    calls = []

    def prefix_of(data):
        def digest():
            calls.append(len(data))
            return hashlib.sha256(data)
        return digest

    first = pades.sign_pdf(original, signers["lan"], field_name="ToTruong", stamp=LAN_STAMP,
                           prefix_sha256=prefix_of(original))
    second = pades.sign_pdf(first, signers["minh"], field_name="HieuTruong", stamp=MINH_STAMP,
                            prefix_sha256=prefix_of(first))
    assert calls == [len(original), len(first)]
    assert second.startswith(first) and first.startswith(original)
    summary = pades.signature_summary(second)
    assert [s["intact"] for s in summary] == [True, True]
    assert summary[1]["covers_whole_file"] and summary[0]["signed_revision_end"] == len(first)
    path = tmp_path / "prefix.pdf"
    path.write_bytes(second)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=True).stdout
    assert out.count("Signature is Valid.") == 2, out  # poppler's own digest agrees

    wrong = pades.sign_pdf(original, signers["lan"], field_name="ToTruong", stamp=LAN_STAMP,
                           prefix_sha256=lambda: hashlib.sha256(b"not the file"))
    assert [s["intact"] for s in pades.signature_summary(wrong)] == [False]
