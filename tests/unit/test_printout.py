"""The marks of a paper copy converted from an electronic record."""

import io
import subprocess

from pypdf import PdfReader, PdfWriter

from hscm_tools.printout import PrintMarks, week_printout


def pdf(pages, width=595, height=842):
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=width, height=height)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def text_of(data, tmp_path):
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def marks(reference, url=""):
    return PrintMarks(reference=reference, system="Hồ sơ chuyên môn điện tử — THCS Hoa Sen",
                      printed_by="Nguyễn Thị Ắ", printed_at="07:15 24/11/2026", verify_url=url)


def test_every_page_carries_the_marks(tmp_path):
    out = week_printout([(pdf(2), marks("HS/2026/000001", "https://hs.example.vn/hscm/verify/abc")),
                         (pdf(1, 842, 595), marks("HS/2026/000002"))])
    assert len(PdfReader(io.BytesIO(out)).pages) == 3
    pages = text_of(out, tmp_path).split("\f")
    assert "Số hồ sơ: HS/2026/000001 — Trang 1/2" in pages[0]
    assert "Số hồ sơ: HS/2026/000001 — Trang 2/2" in pages[1]
    assert "Số hồ sơ: HS/2026/000002 — Trang 1/1" in pages[2]
    for page in pages[:3]:
        assert "Bản in chuyển đổi từ thông điệp dữ liệu" in page
        assert "Người in: Nguyễn Thị Ắ" in page
        assert "07:15 24/11/2026" in page
    assert "https://hs.example.vn/hscm/verify/abc" in pages[0]
    assert "Kiểm tra" not in pages[2], "no link without a verification page"


def test_the_page_size_is_kept():
    out = week_printout([(pdf(1, 842, 595), marks("HS/2026/000003"))])
    box = PdfReader(io.BytesIO(out)).pages[0].mediabox
    assert (float(box.width), float(box.height)) == (842, 595)
