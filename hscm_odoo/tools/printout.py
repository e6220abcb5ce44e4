"""Paper copies of electronic records (no Odoo import).

Law 20/2023 on electronic transactions, art. 12: a paper copy converted from
a data message carries a mark that it was converted, the information that
identifies the data message, and who converted it and when. Every page of
the printout gets that mark in its bottom margin; the pages themselves are
left as they are.
"""

from dataclasses import dataclass
from io import BytesIO

from pypdf import PdfReader, PdfWriter
from reportlab.lib.colors import Color
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT = "HscmDejaVuSans"
MARK_SIZE = 6.5


@dataclass(frozen=True)
class PrintMarks:
    reference: str
    system: str
    printed_by: str
    printed_at: str
    verify_url: str = ""

    def lines(self, page, pages):
        first = (f"Bản in chuyển đổi từ thông điệp dữ liệu (hồ sơ điện tử) — {self.system} — "
                 f"Số hồ sơ: {self.reference} — Trang {page}/{pages}")
        second = f"Người in: {self.printed_by} — Thời điểm in: {self.printed_at}"
        if self.verify_url:
            second += f" — Kiểm tra: {self.verify_url}"
        return [first, second]


def qr_data_uri(text: str) -> str:
    """A PNG QR code of ``text`` as a ``data:`` URI (for reports rendered
    without network access to the server)."""
    import base64

    import qrcode

    image = qrcode.make(text, box_size=4, border=2)
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _font():
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, FONT_PATH))
    return FONT


def _overlay(width, height, lines):
    buffer = BytesIO()
    sheet = canvas.Canvas(buffer, pagesize=(width, height))
    sheet.setFont(_font(), MARK_SIZE)
    sheet.setFillColor(Color(0.25, 0.25, 0.25))
    for index, line in enumerate(reversed(lines)):
        # shrink a long line to the page width rather than cut it
        size = MARK_SIZE
        while size > 4 and pdfmetrics.stringWidth(line, FONT, size) > width - 24:
            size -= 0.5
        sheet.setFont(FONT, size)
        sheet.drawString(12, 6 + index * (MARK_SIZE + 2), line)
    sheet.showPage()
    sheet.save()
    return PdfReader(BytesIO(buffer.getvalue())).pages[0]


def week_printout(files) -> bytes:
    """One PDF of several records, each page marked as a converted copy.

    ``files``: ``(pdf bytes, PrintMarks)`` pairs, in print order.
    """
    writer = PdfWriter()
    for data, marks in files:
        reader = PdfReader(BytesIO(data))
        total = len(reader.pages)
        for number, source in enumerate(reader.pages, start=1):
            page = writer.add_page(source)
            box = page.mediabox
            page.merge_page(_overlay(float(box.width), float(box.height), marks.lines(number, total)))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
