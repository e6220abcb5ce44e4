"""Excel export and import (openpyxl), as pure functions.

Pure Python (no Odoo import): the controllers stream exports and the import
wizards validate uploads through these functions.

Export
------
:func:`write_rows` streams rows into an ``.xlsx`` of one sheet. It writes the
Office Open XML parts itself, straight into the zip, instead of going through
openpyxl's write-only workbook, which made an object per cell and was about
seven times slower (50,000 rows must export within seconds). Each row is turned
into XML and compressed as it comes, so memory stays flat whatever the number
of rows (``rows`` may be a generator). It makes a bold header row, column
widths guessed from the header and the first rows, frozen panes under the
header and an auto-filter. Strings are always written as inline text, never
as formulas: a value such as ``=HYPERLINK(...)`` from a user's label stays
text. Datetimes are written in Vietnam local time (aware ones are converted;
naive ones are UTC, as Odoo stores them). openpyxl remains what reads
uploads and builds the templates.

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


def _excel_day(ordinal):
    """Excel's serial number of a day given by its :meth:`~datetime.date.toordinal`.

    Days are counted from 30 December 1899, and Excel believes 1900 had a
    29 February: the days before 1 March 1900 are one less (as openpyxl).
    """
    days = ordinal - _EXCEL_EPOCH_ORDINAL
    return days - 1 if 0 < days <= 60 else days


def _datetime_serial(value):
    """Excel's serial number of ``value`` in Vietnam local time.

    An aware datetime is converted; a naive one is UTC, as Odoo stores it.
    The fields of the local time are read directly: cheaper than making a
    naive copy and subtracting, and this runs once per datetime cell.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    local = value.astimezone(VN_TZ)
    seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    return _excel_day(local.toordinal()) + seconds / 86400


# The parts of the .xlsx that do not depend on the rows (Office Open XML,
# ECMA-376 transitional): one sheet, four cell formats (see _STYLES).
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" '
    'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    '</Types>'
)
_PACKAGE_RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
    'Target="docProps/core.xml"/>'
    '</Relationships>'
)
_WORKBOOK_RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL_NS}/styles" Target="styles.xml"/>'
    '</Relationships>'
)
_CORE = (
    '<cp:coreProperties '
    'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    '<dc:creator>hscm_odoo</dc:creator>'
    '<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
    '<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified>'
    '</cp:coreProperties>'
)
# cellXfs: 0 default, 1 header, 2 date, 3 datetime (the s="…" of a cell).
# Fills 0 and 1 are the two Excel reserves (none, gray125) whatever is in them.
_HEADER_STYLE, _DATE_STYLE, _DATETIME_STYLE = 1, 2, 3
_STYLES = (
    f'<styleSheet xmlns="{_MAIN_NS}">'
    f'<numFmts count="2"><numFmt numFmtId="164" formatCode="{DATE_FORMAT}"/>'
    f'<numFmt numFmtId="165" formatCode="{DATETIME_FORMAT}"/></numFmts>'
    '<fonts count="2">'
    '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '</fonts>'
    '<fills count="3">'
    '<fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill>'
    '</fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1">'
    '<alignment vertical="center" wrapText="1"/></xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '</cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/><tableStyles count="0"/>'
    '</styleSheet>'
)
_FROZEN_VIEW = (
    '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
    '</sheetView></sheetViews>'
)
_PLAIN_VIEW = '<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
_PAGE_MARGINS = '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
_EXCEL_EPOCH_ORDINAL = dt.date(1899, 12, 30).toordinal()
_EXCEL_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")  # Excel reads "_x0041_" as "A"
_CHUNK_CHARS = 32 * 1024  # rows are compressed and written by chunks of this much XML
# zlib level 3 instead of the default 6: deflating the sheet took a third of
# the export's time at 6, and 3 is 2.5 times faster for a file 15 % larger
_COMPRESS_LEVEL = 3


def _column_letter(index):
    """``1`` → ``A``, ``27`` → ``AA``."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _xml_text(value):
    """``value`` escaped for XML character data or a ``"``-quoted attribute."""
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _text_cell(ref, value, style=""):
    """An inline-string cell (never a formula), or ``""`` for no text."""
    if not value.isprintable() or len(value) > EXCEL_MAX_TEXT:
        value = _clean_text(value)  # control characters, surrogates, overlong
        if "\r" in value:  # an XML parser would read a bare CR as LF
            value = _xml_text(value).replace("\r", "&#13;")
        else:
            value = _xml_text(value)
    elif "&" in value or "<" in value or ">" in value:
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "_x" in value:
        value = _EXCEL_ESCAPE.sub("_x005F_", value)
    if not value:
        return f'<c r="{ref}"{style}/>' if style else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'


def _cell(ref, value):
    """The ``<c>`` element of one value, or ``""`` for an empty cell.

    The same conversions as the openpyxl export had: text inline (never a
    formula), numbers, booleans, dates and datetimes as Excel serial numbers
    (datetimes in Vietnam time), lists joined with ", ", bytes as hex,
    Decimal and other numbers as floats, anything else as its ``str()``.
    The common types are tested first, by exact type: this runs per cell.
    """
    kind = type(value)
    if kind is str:
        return _text_cell(ref, value)
    if value is None:
        return ""
    if kind is int:
        return f'<c r="{ref}"><v>{value}</v></c>'
    if kind is float:
        if value - value == 0.0:  # not NaN nor ±inf, which Excel cannot read as numbers
            return f'<c r="{ref}"><v>{value!r}</v></c>'
        return _text_cell(ref, str(value))
    if kind is bool:
        return f'<c r="{ref}" t="b"><v>{1 if value else 0}</v></c>'
    if isinstance(value, dt.datetime):
        return f'<c r="{ref}" s="{_DATETIME_STYLE}"><v>{_datetime_serial(value)!r}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="{_DATE_STYLE}"><v>{_excel_day(value.toordinal())}</v></c>'
    if isinstance(value, int):  # IntEnum and other int subclasses
        return _cell(ref, int(value))
    if isinstance(value, float):
        return _cell(ref, float(value))
    if isinstance(value, str):
        return _text_cell(ref, str(value))
    if isinstance(value, (list, tuple, set, frozenset)):
        return _text_cell(ref, ", ".join(str(item) for item in value))
    if isinstance(value, (bytes, bytearray)):
        return _text_cell(ref, value.hex())
    try:  # Decimal and other numbers
        return _cell(ref, float(value))
    except (TypeError, ValueError):
        return _text_cell(ref, str(value))


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

    The parts are written straight into the zip, without openpyxl: its
    write-only workbook made and serialised an object per cell and did about
    50,000 cells a second, too slow for 50,000-row exports. The worksheet
    part is compressed as it is written, ``_CHUNK_CHARS`` of XML at a time
    (a size, not a number of rows, so wide rows of long texts stay bounded);
    the workbook part comes after it, as its filter range needs the final
    row count.
    """
    headers = [str(header) for header in headers]
    title = safe_sheet_title(sheet_title)
    source = iter(rows)
    first = list(itertools.islice(source, sample))
    if widths is None:
        widths = [len(header) + 2 for header in headers]
        for row in first:
            for index, value in enumerate(row):
                if index < len(widths):
                    widths[index] = max(widths[index], _display_width(value) + 2)
        widths = [min(max(width, 8), 60) for width in widths]
    letters = [_column_letter(index) for index in range(1, len(headers) + 1)]
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    count = 0
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED, compresslevel=_COMPRESS_LEVEL) as archive:
        archive.writestr("[Content_Types].xml", _XML_DECLARATION + _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _XML_DECLARATION + _PACKAGE_RELS)
        archive.writestr("docProps/core.xml", _XML_DECLARATION + _CORE.format(now=now))
        archive.writestr("xl/_rels/workbook.xml.rels", _XML_DECLARATION + _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _XML_DECLARATION + _STYLES)
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            head = [_XML_DECLARATION, f'<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">',
                    _FROZEN_VIEW if freeze else _PLAIN_VIEW, '<sheetFormatPr defaultRowHeight="15"/>']
            if widths:
                head.append("<cols>")
                head += [f'<col min="{index}" max="{index}" width="{float(width)!r}" customWidth="1"/>'
                         for index, width in enumerate(widths, start=1)]
                head.append("</cols>")
            head.append("<sheetData>")
            if headers:
                style = f' s="{_HEADER_STYLE}"'
                head.append('<row r="1">')
                head += [_text_cell(f"{letter}1", header, style) for letter, header in zip(letters, headers)]
                head.append("</row>")
            part.write("".join(head).encode())
            chunk, size = [], 0
            for number, row in enumerate(itertools.chain(first, source), start=2):
                if not isinstance(row, (list, tuple)):
                    row = tuple(row)
                while len(letters) < len(row):
                    letters.append(_column_letter(len(letters) + 1))
                line = str(number)
                xml = "".join([_cell(letter + line, value) for letter, value in zip(letters, row) if value is not None])
                chunk.append(f'<row r="{line}">{xml}</row>')
                size += len(xml)
                count += 1
                if size >= _CHUNK_CHARS:
                    part.write("".join(chunk).encode())
                    chunk, size = [], 0
            chunk.append("</sheetData>")
            filtered = bool(autofilter and headers)
            if filtered:
                chunk.append(f'<autoFilter ref="A1:{letters[len(headers) - 1]}{count + 1}"/>')
            chunk.append(_PAGE_MARGINS)
            chunk.append("</worksheet>")
            part.write("".join(chunk).encode())
        names = ""
        if filtered:
            quoted = "'" + title.replace("'", "''") + "'"
            names = ('<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
                     f"{_xml_text(quoted)}!$A$1:${letters[len(headers) - 1]}${count + 1}"
                     "</definedName></definedNames>")
        archive.writestr("xl/workbook.xml", _XML_DECLARATION + (
            f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            '<workbookPr/><bookViews><workbookView activeTab="0"/></bookViews>'
            f'<sheets><sheet name="{_xml_text(title)}" sheetId="1" r:id="rId1"/></sheets>'
            f"{names}</workbook>"))
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
