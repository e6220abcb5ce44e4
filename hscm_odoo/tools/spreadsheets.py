"""Excel export and import (openpyxl), as pure functions.

Pure Python (no Odoo import): the controllers stream exports and the import
wizards validate uploads through these functions.

Export
------
:func:`write_rows` streams rows into an ``.xlsx`` with a write-only workbook:
each row is turned into XML and written to a temporary file as it comes, so
memory stays flat whatever the number of rows (``rows`` may be a generator).
It makes a bold header row, column widths guessed from the header and the
first rows, frozen panes under the header and an auto-filter. Strings are
always written as text: a value such as ``=HYPERLINK(...)`` from a user's
label never becomes a formula. Datetimes are written in Vietnam local time
(aware ones are converted; naive ones are UTC, as Odoo stores them).

Import
------
An :class:`ImportSpec` describes a sheet: its columns with a Vietnamese and
an English name, a kind (text, login, email, code, codes, int), whether a
value is required and must be unique. :data:`StaffImport` and
:data:`AssignmentImport` are the two imports of the issue.

:func:`make_template` builds the downloadable template: the data sheet with
the Vietnamese header on row 1 and the English one on row 2 (data from row
3), drop-down lists and number checks where Excel can do them, and a sheet
of instructions with an example row (the example is *not* on the data sheet,
so it cannot be imported by mistake).

:func:`read_rows` reads an upload and returns ``(rows, errors)``: every error
found, each a :class:`RowError` naming the spreadsheet's own row number, the
column and the problem in English and Vietnamese. It never raises on what a
user sends: a file that is not an ``.xlsx`` (an old ``.xls``, a CSV, a Word
file, a password-protected workbook, a damaged zip), a zip bomb, an XML
entity bomb, too many rows or columns — each gives one clear error. Sizes
are checked through :mod:`zipfile` before openpyxl opens anything (see the
limits below). An import where any row is wrong changes nothing: that is the
caller's rule, so the function reports every error instead of stopping at
the first.
"""

import datetime as dt
import io
import itertools
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field

from .school_calendar import VN_TZ

# Limits of an upload (an .xlsx is a zip of XML parts)
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # the file as uploaded
MAX_UNCOMPRESSED_BYTES = 32 * 1024 * 1024  # all its parts once inflated
MAX_MEMBERS = 500  # parts in the zip
MAX_RATIO = 200  # inflated / compressed size of one part (XML rarely passes 20)
MAX_ROWS = 20_000  # data rows
MAX_COLUMNS = 50
MAX_ERRORS = 1_000
HEADER_SCAN_ROWS = 10  # the header is looked for in the first rows

EXCEL_MAX_TEXT = 32_767
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, .doc, and encrypted .xlsx
_DOCTYPE = [b"<!DOCTYPE", b"<!ENTITY"]
_DOCTYPE_PATTERNS = [
    pattern.decode("ascii").encode(codec)
    for pattern in _DOCTYPE
    for codec in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
]

DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------

def safe_sheet_title(title):
    """A title Excel accepts: at most 31 characters, none of ``[]:*?/\\``."""
    title = " ".join(_SHEET_FORBIDDEN.sub(" ", _ILLEGAL.sub("", str(title or ""))).split()).strip("'")
    return title[:31].strip() or "Sheet1"


def _clean_text(value):
    return _ILLEGAL.sub("", value)[:EXCEL_MAX_TEXT]


def _display_width(value):
    if value is None:
        return 0
    if isinstance(value, dt.datetime):
        return 16
    if isinstance(value, dt.date):
        return 10
    text = str(value)
    return max((len(line) for line in text.splitlines()), default=0)


def _to_local(value):
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(VN_TZ).replace(tzinfo=None)


class _RowConverter:
    """Turns a row of Python values into what a write-only sheet writes.

    Plain numbers and text go as they are (openpyxl's fast path). A styled
    cell is made once per column and kind, then reused: a write-only sheet
    writes each row as soon as it is appended, so one cell object per
    column is enough and no style is looked up again row after row.
    """

    def __init__(self, ws, cell_class):
        self.ws = ws
        self.cell_class = cell_class
        self.cells = {}

    def _cell(self, index, kind, number_format=None):
        cell = self.cells.get((index, kind))
        if cell is None:
            cell = self.cell_class(self.ws)
            if number_format:
                cell.number_format = number_format
            self.cells[index, kind] = cell
        return cell

    def row(self, values):
        return [self.value(index, value) for index, value in enumerate(values)]

    def value(self, index, value):
        kind = type(value)
        if value is None or kind is int or kind is float or kind is bool:
            return value
        if kind is str:
            if not value.isprintable() or len(value) > EXCEL_MAX_TEXT:
                value = _clean_text(value)  # control characters, surrogates, overlong
            if value.startswith("="):
                cell = self._cell(index, "text")
                cell.value = value
                cell.data_type = "s"  # text, never a formula
                return cell
            return value
        if isinstance(value, dt.datetime):
            cell = self._cell(index, "datetime", DATETIME_FORMAT)
            cell.value = _to_local(value)
            return cell
        if isinstance(value, dt.date):
            cell = self._cell(index, "date", DATE_FORMAT)
            cell.value = value
            return cell
        if isinstance(value, (int, float)):  # bool and int subclasses, numpy-like floats
            return value
        if isinstance(value, str):
            return self.value(index, str(value))
        if isinstance(value, (list, tuple, set, frozenset)):
            return self.value(index, ", ".join(str(item) for item in value))
        if isinstance(value, (bytes, bytearray)):
            return self.value(index, value.hex())
        try:  # Decimal and other numbers
            return float(value)
        except (TypeError, ValueError):
            return self.value(index, str(value))


def write_rows(stream, sheet_title, headers, rows, widths=None, sample=200, freeze=True, autofilter=True):
    """Write ``headers`` and ``rows`` as one sheet of an ``.xlsx`` to ``stream``.

    :param stream: a binary file object (a file, ``BytesIO``, an HTTP response)
    :param sheet_title: the sheet's name (made acceptable to Excel)
    :param headers: the column names
    :param rows: any iterable of sequences (a generator keeps memory flat)
    :param widths: column widths in characters; by default guessed from the
        header and the first ``sample`` rows (between 8 and 60)
    :param freeze: keep the header row in view when scrolling
    :param autofilter: put Excel's filter buttons on the header row
    :return: the number of data rows written
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    headers = [str(header) for header in headers]
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(title=safe_sheet_title(sheet_title))
    source = iter(rows)
    first = list(itertools.islice(source, sample))
    if widths is None:
        widths = [len(header) + 2 for header in headers]
        for row in first:
            for index, value in enumerate(row):
                if index < len(widths):
                    widths[index] = max(widths[index], _display_width(value) + 2)
        widths = [min(max(width, 8), 60) for width in widths]
    # column formats must be set before the first row is written
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    if freeze:
        ws.freeze_panes = "A2"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(vertical="center", wrap_text=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(ws, value=_clean_text(header))
        cell.data_type = "s"
        cell.font, cell.fill, cell.alignment = bold, fill, wrap
        header_cells.append(cell)
    ws.append(header_cells)
    convert = _RowConverter(ws, WriteOnlyCell)
    count = 0
    for row in itertools.chain(first, source):
        ws.append(convert.row(row))
        count += 1
    if autofilter and headers:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"
    workbook.save(stream)
    return count


# ---------------------------------------------------------------------------
# Import specifications
# ---------------------------------------------------------------------------

KINDS = ("text", "login", "email", "code", "codes", "int")


@dataclass(frozen=True)
class Column:
    """One column of an import.

    ``kind``: ``text``; ``login`` (no spaces); ``email``; ``code`` (one value
    from a list); ``codes`` (several, separated by commas or semicolons);
    ``int`` (a whole number between ``minimum`` and ``maximum``). The allowed
    values of ``code``/``codes`` come from ``read_rows(known=...)``, or else
    from ``choices``; with neither, any value is accepted.
    """

    key: str
    vi: str
    en: str
    kind: str = "text"
    required: bool = True
    unique: bool = False
    minimum: int | None = None
    maximum: int | None = None
    max_length: int = 200
    choices: tuple = ()
    aliases: tuple = ()
    example: object = None
    note_vi: str = ""
    note_en: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass(frozen=True)
class ImportSpec:
    """An import: its sheet, columns and the combinations that must be unique."""

    name: str
    sheet_title: str
    columns: tuple
    unique_together: tuple = ()
    title_vi: str = ""
    title_en: str = ""

    def column(self, key):
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)


#: Position codes (hscm.position) and the Vietnamese names a school may type.
POSITION_CODES = {
    "principal": ("hiệu trưởng",),
    "vice_principal": ("phó hiệu trưởng",),
    "department_head": ("tổ trưởng",),
    "department_deputy": ("tổ phó",),
    "group_leader": ("nhóm trưởng",),
    "office_head": ("tổ trưởng tổ văn phòng",),
    "teacher": ("giáo viên", "giáo viên bộ môn"),
    "homeroom_teacher": ("giáo viên chủ nhiệm",),
    "youth_leader": ("tổng phụ trách đội",),
    "clerk": ("văn thư",),
    "accountant": ("kế toán",),
    "school_admin": ("quản trị", "quản trị hệ thống"),
}

StaffImport = ImportSpec(
    name="staff",
    sheet_title="Nhân sự",
    title_vi="Nhập danh sách cán bộ, giáo viên",
    title_en="Staff import",
    columns=(
        Column("name", "Họ và tên", "Full name", example="Nguyễn Thị Lan",
               note_vi="Họ tên đầy đủ, có dấu.", note_en="Full name, with Vietnamese diacritics."),
        Column("login", "Tên đăng nhập", "Login", kind="login", unique=True, max_length=64,
               example="lan.nt", note_vi="Không dấu cách; không trùng tài khoản đã có.",
               note_en="No spaces; must not be an existing account."),
        Column("email", "Email", "Email", kind="email", required=False, unique=True, max_length=254,
               example="lan.nt@thpt-ngoquyen.edu.vn"),
        Column("positions", "Chức vụ", "Positions", kind="codes",
               choices=tuple(POSITION_CODES), example="teacher, department_head",
               note_vi="Một hoặc nhiều mã, cách nhau bởi dấu phẩy: " + ", ".join(POSITION_CODES),
               note_en="One or more codes separated by commas: " + ", ".join(POSITION_CODES)),
        Column("department", "Tổ", "Department", kind="code", required=False, aliases=("Tổ chuyên môn",),
               example="Tổ Toán - Tin", note_vi="Tên tổ chuyên môn của trường.",
               note_en="The name of one of the school's departments."),
        Column("subjects", "Môn", "Subjects", kind="codes", required=False, aliases=("Môn dạy",),
               example="toan, tin_hoc", note_vi="Mã môn, cách nhau bởi dấu phẩy.",
               note_en="Subject codes separated by commas."),
    ),
)

AssignmentImport = ImportSpec(
    name="assignments",
    sheet_title="Phân công",
    title_vi="Nhập phân công chuyên môn",
    title_en="Teaching assignments import",
    unique_together=(("teacher", "subject", "class_name"),),
    columns=(
        Column("teacher", "Giáo viên (tên đăng nhập)", "Teacher (login)", kind="code", max_length=64,
               aliases=("Giáo viên",), example="lan.nt",
               note_vi="Tên đăng nhập của giáo viên.", note_en="The teacher's login."),
        Column("subject", "Môn (mã)", "Subject (code)", kind="code", aliases=("Môn",), example="toan"),
        Column("class_name", "Lớp", "Class", kind="code", example="10A1"),
        Column("periods", "Số tiết/tuần", "Periods per week", kind="int", minimum=1, maximum=20, example=4,
               note_vi="Số nguyên từ 1 đến 20.", note_en="A whole number from 1 to 20."),
    ),
)


# ---------------------------------------------------------------------------
# Template
# ---------------------------------------------------------------------------

def _allowed(column, known):
    """The allowed values of a column as {normalised spelling: value}, or None."""
    values = (known or {}).get(column.key)
    if values is None and column.choices:
        values = column.choices
        if column.key == "positions" and column.choices == tuple(POSITION_CODES):
            values = {**{code: code for code in POSITION_CODES},
                      **{alias: code for code, aliases in POSITION_CODES.items() for alias in aliases}}
    if values is None:
        return None
    if isinstance(values, Mapping):
        pairs = values.items()
    else:
        pairs = ((value, value) for value in values)
    return {_norm(str(spelling)): value for spelling, value in pairs}


def _list_values(column, known):
    """The values to show in a drop-down list (the spellings, not aliases)."""
    values = (known or {}).get(column.key)
    if values is None:
        values = column.choices
    return [str(value) for value in values] if values else []


def make_template(spec, known=None):
    """The ``.xlsx`` template of ``spec`` as bytes.

    :param known: optional allowed values per column key (as for
        :func:`read_rows`), shown as drop-down lists
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    ws = workbook.active
    ws.title = safe_sheet_title(spec.sheet_title)
    guide = workbook.create_sheet(safe_sheet_title("Hướng dẫn - Instructions"))
    lists = workbook.create_sheet(safe_sheet_title("Danh mục - Lists"))
    lists.sheet_state = "hidden"

    bold = Font(bold=True)
    grey = Font(italic=True, color="666666")
    fill = PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")
    first_data, last_data = 3, MAX_ROWS + 2
    list_column = 0
    for index, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(index)
        mark = " *" if column.required else ""
        top = ws.cell(1, index, column.vi + mark)
        top.font, top.fill = bold, fill
        below = ws.cell(2, index, column.en + mark)
        below.font, below.fill = grey, fill
        note = "\n".join(filter(None, [column.note_vi, column.note_en]))
        if note:
            top.comment = Comment(note[:1000], "HSCM")
        ws.column_dimensions[letter].width = max(14, min(40, len(column.vi) + 6))
        if column.kind == "codes" or (column.kind == "text" and column.key == "name"):
            ws.column_dimensions[letter].width = 30
        cells = f"{letter}{first_data}:{letter}{last_data}"
        values = _list_values(column, known)
        if column.kind == "code" and values:
            list_column += 1
            list_letter = get_column_letter(list_column)
            lists.cell(1, list_column, column.vi)
            for row, value in enumerate(values, start=2):
                lists.cell(row, list_column, _clean_text(value))
            reference = f"{quote_sheetname(lists.title)}!${list_letter}$2:${list_letter}${len(values) + 1}"
            check = DataValidation(type="list", formula1=reference, allow_blank=not column.required,
                                   showErrorMessage=True, errorTitle=column.vi[:32],
                                   error="Chọn một giá trị trong danh sách. / Pick a value from the list.")
            check.add(cells)
            ws.add_data_validation(check)
        elif column.kind == "int":
            check = DataValidation(type="whole", operator="between",
                                   formula1=str(column.minimum if column.minimum is not None else -10**9),
                                   formula2=str(column.maximum if column.maximum is not None else 10**9),
                                   allow_blank=not column.required, showErrorMessage=True,
                                   errorTitle=column.vi[:32],
                                   error=(f"Số nguyên từ {column.minimum} đến {column.maximum}. / "
                                          f"A whole number from {column.minimum} to {column.maximum}.")[:255])
            check.add(cells)
            ws.add_data_validation(check)
        elif column.kind == "codes" and values:
            check = DataValidation(type=None, showInputMessage=True, promptTitle=column.vi[:32],
                                   prompt=("Mã, cách nhau bởi dấu phẩy / Codes separated by commas: "
                                           + ", ".join(values))[:255])
            check.add(cells)
            ws.add_data_validation(check)
    ws.freeze_panes = f"A{first_data}"

    # the instructions, with the example row
    title = " / ".join(filter(None, [spec.title_vi, spec.title_en])) or spec.name
    guide["A1"] = title
    guide["A1"].font = Font(bold=True, size=13)
    guide["A2"] = ("Điền dữ liệu vào trang “%s” từ dòng 3; cột có dấu * là bắt buộc. Một dòng sai thì "
                   "không dòng nào được nhập: sửa theo danh sách lỗi rồi tải lên lại." % ws.title)
    guide["A3"] = ("Fill in the sheet “%s” from row 3; columns marked * are required. If any row is wrong, "
                   "nothing is imported: fix the rows listed and upload again." % ws.title)
    for cell, text in zip(("A5", "B5", "C5", "D5", "E5", "F5"),
                          ("Cột", "Column", "Bắt buộc / Required", "Cách ghi", "How to fill it", "Ví dụ / Example")):
        guide[cell] = text
        guide[cell].font = bold
    for row, column in enumerate(spec.columns, start=6):
        guide.cell(row, 1, column.vi)
        guide.cell(row, 2, column.en)
        guide.cell(row, 3, "Có / Yes" if column.required else "Không / No")
        guide.cell(row, 4, column.note_vi).alignment = wrap
        guide.cell(row, 5, column.note_en).alignment = wrap
        guide.cell(row, 6, "" if column.example is None else column.example)
    example_row = 7 + len(spec.columns)
    guide.cell(example_row, 1, "Ví dụ một dòng dữ liệu / An example row").font = bold
    for index, column in enumerate(spec.columns, start=1):
        guide.cell(example_row + 1, index, column.vi).font = bold
        guide.cell(example_row + 2, index, column.en).font = grey
        guide.cell(example_row + 3, index, column.example)
    for letter, width in zip("ABCDEF", (26, 22, 16, 45, 45, 30)):
        guide.column_dimensions[letter].width = width

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# Reading an upload
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RowError:
    """A problem found in an upload: the spreadsheet's own row number (``None``
    for the whole file), the column key (``None`` for a whole row or file)
    and the message in both languages."""

    row_number: int | None
    column: str | None
    message_en: str
    message_vi: str

    def text(self):
        """Vietnamese, then English, prefixed with the row number."""
        prefix_vi = f"Dòng {self.row_number}: " if self.row_number else ""
        prefix_en = f"Row {self.row_number}: " if self.row_number else ""
        return f"{prefix_vi}{self.message_vi}\n{prefix_en}{self.message_en}"


@dataclass(frozen=True)
class ImportRow:
    """One valid data row: its spreadsheet row number and its values by column key."""

    row_number: int
    values: dict = field(default_factory=dict)


def _file_error(en, vi):
    return RowError(None, None, en, vi)


def _norm(text):
    """Comparable form of a header or a code: NFC, no '*', spaces collapsed, case-folded."""
    text = unicodedata.normalize("NFC", str(text)).replace("*", " ")
    return " ".join(text.split()).casefold()


def _contains_dtd(member):
    """Does this zip member hold a DTD (the vehicle of entity bombs)? An
    .xlsx never has one. Read in chunks; the size was checked before."""
    tail = b""
    keep = max(len(pattern) for pattern in _DOCTYPE_PATTERNS)
    while True:
        chunk = member.read(1 << 16)
        if not chunk:
            return False
        window = tail + chunk
        if any(pattern in window for pattern in _DOCTYPE_PATTERNS):
            return True
        tail = window[-keep:]


def check_xlsx(data, max_bytes=MAX_UPLOAD_BYTES, max_uncompressed=MAX_UNCOMPRESSED_BYTES):
    """``None`` when ``data`` looks like a safe ``.xlsx``, else one :class:`RowError`.

    Everything here uses :mod:`zipfile` only: the declared sizes of the parts
    bound what inflating them can produce (zipfile never returns more than
    the declared size), so they are checked before anything is inflated.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        return _file_error("The upload is not a file.", "Dữ liệu tải lên không phải là một tệp.")
    data = bytes(data)
    if not data:
        return _file_error("The file is empty.", "Tệp rỗng.")
    if len(data) > max_bytes:
        return _file_error(f"The file is too large (more than {max_bytes // (1024 * 1024)} MB).",
                           f"Tệp quá lớn (hơn {max_bytes // (1024 * 1024)} MB).")
    if data.startswith(OLE_MAGIC):
        return _file_error(
            "This is an old Excel file (.xls) or a password-protected workbook: open it in Excel, remove any "
            "password and save it as an Excel Workbook (.xlsx).",
            "Đây là tệp Excel cũ (.xls) hoặc tệp có mật khẩu: mở bằng Excel, bỏ mật khẩu rồi lưu lại dạng "
            "Excel Workbook (.xlsx).")
    if not data.startswith(b"PK\x03\x04"):
        return _file_error(
            "This is not an Excel .xlsx file (a CSV or text file cannot be imported): download the template "
            "and fill it in.",
            "Đây không phải tệp Excel .xlsx (không nhập được tệp CSV hay văn bản): hãy tải mẫu về và điền vào.")
    damaged = _file_error("The .xlsx file is damaged or not a workbook.",
                          "Tệp .xlsx bị hỏng hoặc không phải bảng tính.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            return _file_error("The file has too many parts to be a workbook.", "Tệp có quá nhiều thành phần.")
        names = {info.filename for info in infos}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            if "word/document.xml" in names:
                return _file_error("This is a Word file, not an Excel workbook (.xlsx).",
                                   "Đây là tệp Word, không phải bảng tính Excel (.xlsx).")
            return _file_error("This is a zip file but not an Excel workbook (.xlsx).",
                               "Đây là tệp nén nhưng không phải bảng tính Excel (.xlsx).")
        bomb = _file_error(
            f"The file inflates to too much data (more than {max_uncompressed // (1024 * 1024)} MB): refused.",
            f"Tệp giải nén ra quá nhiều dữ liệu (hơn {max_uncompressed // (1024 * 1024)} MB): từ chối.")
        total = 0
        for info in infos:
            if info.flag_bits & 0x1:
                return _file_error("The workbook is encrypted: remove its password and save it again.",
                                   "Bảng tính có mật khẩu: bỏ mật khẩu rồi lưu lại.")
            total += info.file_size
            if total > max_uncompressed:
                return bomb
            if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                return bomb
        for info in infos:
            if info.filename.endswith((".xml", ".rels", ".vml")) or info.filename == "[Content_Types].xml":
                with archive.open(info) as member:
                    if _contains_dtd(member):
                        return _file_error("The workbook holds a document type declaration (DTD): refused.",
                                           "Bảng tính chứa khai báo DTD: từ chối.")
    except Exception:  # BadZipFile, zlib.error, NotImplementedError (compression)…: a hostile zip
        return damaged
    return None


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


def _header_map(cells, spec):
    """{column index: spec column} for a header row, and the duplicated keys."""
    labels = {}
    for column in spec.columns:
        for label in (column.vi, column.en, column.key, *column.aliases):
            labels.setdefault(_norm(label), column)
    found, seen, duplicated = {}, set(), []
    for index, value in enumerate(cells):
        column = labels.get(_norm(_cell_text(value))) if value is not None else None
        if column is None:
            continue
        if column.key in seen:
            duplicated.append((index, column))
            continue
        seen.add(column.key)
        found[index] = column
    return found, duplicated


def _is_label_row(cells, spec):
    """Is this row the template's second header row (English labels)?"""
    texts = [_norm(_cell_text(value)) for value in cells if _cell_text(value)]
    if not texts:
        return False
    labels = {_norm(label) for column in spec.columns for label in (column.vi, column.en, column.key, *column.aliases)}
    return sum(text in labels for text in texts) * 2 > len(texts)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LOGIN = re.compile(r"^[^\s,;]+$")
_INTEGER = re.compile(r"^[+-]?\d+(\.0+)?$")


def _parse_int(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = _cell_text(value).replace(" ", "")
    if len(text) <= 18 and _INTEGER.match(text):  # no 5,000-digit numbers
        return int(text.split(".")[0])
    return None


def read_rows(data, spec, known=None, taken=None, max_rows=MAX_ROWS, max_errors=MAX_ERRORS):
    """Read and check an upload against ``spec``.

    :param data: the uploaded bytes
    :param spec: an :class:`ImportSpec`
    :param known: allowed values per column key, for ``code``/``codes``
        columns (an iterable of values, or a mapping spelling → value such as
        a record id, returned in place of the text). Spellings match without
        regard to case, Unicode form or repeated spaces.
    :param taken: values per column key that already exist (logins,
        emails): a row using one is refused
    :param max_rows: the most data rows accepted
    :param max_errors: errors beyond this are summed up in a last error
    :return: ``(rows, errors)``: every :class:`RowError` found, and the
        :class:`ImportRow` list — empty as soon as there is any error, so a
        caller cannot half-import a file by mistake
    """
    problem = check_xlsx(data)
    if problem:
        return [], [problem]
    try:
        return _read_checked(bytes(data), spec, known or {}, taken or {}, max_rows, max_errors)
    except Exception:  # openpyxl on a hostile or odd workbook
        return [], [_file_error("The workbook cannot be read: save it again in Excel as .xlsx and retry.",
                                "Không đọc được bảng tính: hãy lưu lại bằng Excel dạng .xlsx rồi thử lại.")]


def _read_checked(data, spec, known, taken, max_rows, max_errors):
    from openpyxl import load_workbook

    with warnings.catch_warnings():  # openpyxl warns about extensions it skips
        warnings.simplefilter("ignore")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            return _read_sheet(workbook, spec, known, taken, max_rows, max_errors)
        finally:
            workbook.close()


def _read_sheet(workbook, spec, known, taken, max_rows, max_errors):
    names = workbook.sheetnames
    wanted = safe_sheet_title(spec.sheet_title)
    if not names:
        return [], [_file_error("The workbook has no sheet.", "Bảng tính không có trang nào.")]
    ws = workbook[wanted] if wanted in names else workbook[names[0]]
    if not hasattr(ws, "iter_rows"):  # a chart sheet
        return [], [_file_error("The first sheet holds no table.", "Trang đầu không chứa bảng dữ liệu.")]
    ws.reset_dimensions()  # do not trust the size the file declares
    errors = []
    total_errors = 0

    def report(row, column, en, vi):
        nonlocal total_errors
        total_errors += 1
        if len(errors) < max_errors:
            errors.append(RowError(row, column, en, vi))

    rows_iter = ws.iter_rows(min_row=1, max_col=MAX_COLUMNS + 1, values_only=True)
    header_row, header = None, None
    for number, cells in enumerate(rows_iter, start=1):
        found, duplicated = _header_map(cells, spec)
        if found:
            header_row, header = number, (found, duplicated, cells)
            break
        if number >= HEADER_SCAN_ROWS:
            break
    if header_row is None:
        labels = ", ".join(column.vi for column in spec.columns)
        return [], [_file_error(
            f"No header row found: the first row must hold the column names of the template ({labels}).",
            f"Không thấy dòng tiêu đề: dòng đầu phải có tên các cột như trong mẫu ({labels}).")]
    found, duplicated, header_cells = header
    if len(header_cells) > MAX_COLUMNS and any(_cell_text(v) for v in header_cells[MAX_COLUMNS:]):
        report(header_row, None, f"Too many columns: at most {MAX_COLUMNS}.", f"Quá nhiều cột: tối đa {MAX_COLUMNS}.")
    for _index, column in duplicated:
        report(header_row, column.key, f"The column “{column.en}” appears twice.",
               f"Cột “{column.vi}” xuất hiện hai lần.")
    present = {column.key for column in found.values()}
    for column in spec.columns:
        if column.required and column.key not in present:
            report(header_row, column.key, f"The required column “{column.en}” is missing.",
                   f"Thiếu cột bắt buộc “{column.vi}”.")
    if total_errors:
        return [], errors

    allowed = {column.key: _allowed(column, known) for column in spec.columns}
    in_use = {key: {_norm(value) for value in values} for key, values in taken.items()}
    first_seen = {column.key: {} for column in spec.columns if column.unique}
    combos = [{} for _ in spec.unique_together]
    rows = []
    data_rows = 0
    for number, cells in enumerate(rows_iter, start=header_row + 1):
        if not any(_cell_text(value) for value in cells[:MAX_COLUMNS]):
            continue  # blank rows are skipped
        if number == header_row + 1 and _is_label_row(cells, spec):
            continue  # the template's English header
        data_rows += 1
        if data_rows > max_rows:
            report(number, None, f"Too many rows: at most {max_rows} rows can be imported at once.",
                   f"Quá nhiều dòng: mỗi lần nhập tối đa {max_rows} dòng.")
            break
        values, ok = {}, True
        for index, column in found.items():
            raw = cells[index] if index < len(cells) else None
            value, problem = _check_value(column, raw, allowed[column.key], in_use.get(column.key))
            if problem:
                ok = False
                report(number, column.key, *problem)
            values[column.key] = value
        for column in spec.columns:
            values.setdefault(column.key, () if column.kind == "codes" else None)
            if column.unique and values[column.key] not in (None, ""):
                key = _norm(str(values[column.key]))
                if key in first_seen[column.key]:
                    ok = False
                    first = first_seen[column.key][key]
                    report(number, column.key, f"“{column.en}” repeats row {first}.",
                           f"“{column.vi}” trùng với dòng {first}.")
                else:
                    first_seen[column.key][key] = number
        for keys, seen in zip(spec.unique_together, combos):
            combo = tuple(values.get(key) for key in keys)
            if any(part in (None, "", ()) for part in combo):
                continue
            combo = tuple(_norm(part) if isinstance(part, str) else part for part in combo)
            if combo in seen:
                ok = False
                names_en = ", ".join(spec.column(key).en for key in keys)
                names_vi = ", ".join(spec.column(key).vi for key in keys)
                report(number, None, f"The same {names_en} as row {seen[combo]}.",
                       f"Trùng {names_vi} với dòng {seen[combo]}.")
            else:
                seen[combo] = number
        if ok:
            rows.append(ImportRow(number, values))
    if data_rows == 0 and not total_errors:
        report(None, None, "The file has no data rows.", "Tệp không có dòng dữ liệu nào.")
    if total_errors > len(errors):
        hidden = total_errors - len(errors)
        errors.append(RowError(None, None, f"… and {hidden} more errors.", f"… và {hidden} lỗi khác."))
    return (rows if not total_errors else []), errors


def _check_value(column, raw, allowed, in_use):
    """``(value, None)`` or ``(None, (message_en, message_vi))``."""
    en, vi = column.en, column.vi
    text = _cell_text(raw)
    if not text:
        if column.required:
            return None, (f"“{en}” is required.", f"Chưa điền “{vi}”.")
        return (() if column.kind == "codes" else None), None
    if column.kind == "int":
        number = _parse_int(raw)
        if number is None:
            return None, (f"“{en}” must be a whole number, not “{text[:40]}”.",
                          f"“{vi}” phải là số nguyên, không phải “{text[:40]}”.")
        low = column.minimum if column.minimum is not None else number
        high = column.maximum if column.maximum is not None else number
        if not low <= number <= high:
            return None, (f"“{en}” must be between {column.minimum} and {column.maximum}, not {number}.",
                          f"“{vi}” phải từ {column.minimum} đến {column.maximum}, không phải {number}.")
        return number, None
    if len(text) > column.max_length:
        return None, (f"“{en}” is too long (at most {column.max_length} characters).",
                      f"“{vi}” quá dài (tối đa {column.max_length} ký tự).")
    if column.kind == "email" and not _EMAIL.match(text):
        return None, (f"“{text[:80]}” is not a valid email address.",
                      f"“{text[:80]}” không phải địa chỉ email hợp lệ.")
    if column.kind == "login" and not _LOGIN.match(text):
        return None, (f"The login “{text[:80]}” must not contain spaces, commas or semicolons.",
                      f"Tên đăng nhập “{text[:80]}” không được có dấu cách, dấu phẩy hay chấm phẩy.")
    if in_use is not None and _norm(text) in in_use:
        return None, (f"“{text[:80]}” already exists ({en}).", f"“{text[:80]}” đã có trong hệ thống ({vi}).")
    if column.kind == "code":
        if allowed is None:
            return text, None
        key = _norm(text)
        if key not in allowed:
            return None, (f"Unknown {en}: “{text[:80]}”.", f"Không có {vi} “{text[:80]}”.")
        return allowed[key], None
    if column.kind == "codes":
        parts = [part.strip() for part in re.split(r"[,;\n]", text) if part.strip()]
        if allowed is None:
            return tuple(dict.fromkeys(parts)), None
        unknown = [part for part in parts if _norm(part) not in allowed]
        if unknown:
            listed = ", ".join(unknown)[:120]
            return None, (f"Unknown {en}: {listed}.", f"Không có {vi}: {listed}.")
        return tuple(dict.fromkeys(allowed[_norm(part)] for part in parts)), None
    return text, None


__all__ = [
    "MAX_COLUMNS", "MAX_ROWS", "MAX_UNCOMPRESSED_BYTES", "MAX_UPLOAD_BYTES", "POSITION_CODES",
    "AssignmentImport", "Column", "ImportRow", "ImportSpec", "RowError", "StaffImport",
    "check_xlsx", "make_template", "read_rows", "safe_sheet_title", "write_rows",
]
