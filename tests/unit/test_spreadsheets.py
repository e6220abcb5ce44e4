import datetime as dt
import decimal
import gc
import io
import struct
import tracemalloc
import unicodedata
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from hscm_tools import school_calendar as sc
from hscm_tools import spreadsheets as sp
from hscm_tools.spreadsheets import AssignmentImport, StaffImport

KNOWN_ASSIGNMENTS = {
    "teacher": {"lan.nt": 11, "hung.pv": 12},
    "subject": {"toan": 101, "tin_hoc": 102},
    "class_name": {"10A1": 201, "10A2": 202},
}


def xlsx(rows, title="Sheet1"):
    workbook = Workbook()
    ws = workbook.active
    ws.title = title
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def from_template(spec, rows, known=None):
    """Download the template, fill in rows as a user would, save."""
    workbook = load_workbook(io.BytesIO(sp.make_template(spec, known)))
    ws = workbook[sp.safe_sheet_title(spec.sheet_title)]
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_of(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def rewrite_member(data, name, change):
    """The same .xlsx with one part changed by ``change(bytes) -> bytes``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    return zip_of({info.filename: change(source.read(info)) if info.filename == name else source.read(info)
                   for info in source.infolist()})


def errors_of(result):
    rows, errors = result
    return [(e.row_number, e.column) for e in errors]


# --- export -------------------------------------------------------------------

def test_export_reads_back_with_types_header_and_layout():
    rows = [
        (1, "=HYPERLINK(\"http://evil\")", dt.datetime(2026, 11, 21, 16, 59), dt.date(2026, 11, 23), 12.5, True),
        (2, "Nguyễn\x00 Thị\x1f Lan", dt.datetime(2026, 11, 21, 23, 59, tzinfo=sc.VN_TZ), None, None, False),
        (3, "Tổ Toán - Tin", None, dt.date(2026, 11, 24), 0, ("toan", "tin_hoc")),
    ]
    stream = io.BytesIO()
    count = sp.write_rows(stream, "Tình trạng: tuần 12/35?", ["STT", "Nhãn", "Nộp lúc", "Ngày", "Điểm", "Khác"],
                          (row for row in rows))
    assert count == 3
    workbook = load_workbook(io.BytesIO(stream.getvalue()))
    ws = workbook.active
    assert ws.title == "Tình trạng tuần 12 35"
    assert [c.value for c in ws[1]] == ["STT", "Nhãn", "Nộp lúc", "Ngày", "Điểm", "Khác"]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:F4"
    assert ws.column_dimensions["B"].width >= len("=HYPERLINK(\"http://evil\")")
    first, second, third = ws[2], ws[3], ws[4]
    # a label that looks like a formula stays text
    assert first[1].value == "=HYPERLINK(\"http://evil\")" and first[1].data_type == "s"
    # naive datetimes are UTC, written in Vietnam time; aware ones converted
    assert first[2].value == dt.datetime(2026, 11, 21, 23, 59)
    assert first[2].number_format == sp.DATETIME_FORMAT
    assert second[2].value == dt.datetime(2026, 11, 21, 23, 59)
    assert first[3].value == dt.datetime(2026, 11, 23) and first[3].number_format == sp.DATE_FORMAT
    assert (first[4].value, first[5].value) == (12.5, True)
    assert second[1].value == "Nguyễn Thị Lan"  # control characters Excel refuses are dropped
    assert second[3].value is None
    assert third[5].value == "toan, tin_hoc"
    assert not any(c.font.b for c in third)


def test_export_of_no_rows_still_has_its_header():
    stream = io.BytesIO()
    assert sp.write_rows(stream, "", ["A", "B"], iter(())) == 0
    ws = load_workbook(io.BytesIO(stream.getvalue())).active
    assert ws.title == "Sheet1"
    assert [c.value for c in ws[1]] == ["A", "B"]
    assert ws.max_row == 1


def _export(headers, rows, **options):
    stream = io.BytesIO()
    count = sp.write_rows(stream, options.pop("title", "Báo cáo"), headers, rows, **options)
    return count, stream.getvalue()


def test_export_values_types_and_escaping():
    rows = [
        ("Nguyễn Thị Lan", 'Tổ <Toán> & "Tin" \'A\'', 42, 12.5, True, None,
         dt.datetime(2026, 11, 21, 1, 30), dt.date(2026, 11, 23)),
        ("Phạm Văn Hùng", "a\r\nb\tc", -7, decimal.Decimal("1.25"), False, "",
         dt.datetime(2026, 11, 21, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=9))), dt.date(1900, 1, 1)),
        ("=1+1", b"\x01\xff", 10**12, float("nan"), 0, {"toan"}, dt.time(7, 30), "x" * (sp.EXCEL_MAX_TEXT + 5)),
    ]
    headers = ["Họ và tên", "Ghi chú", "Số", "Điểm", "Đúng hạn", "Trống", "Lúc", "Ngày"]
    count, data = _export(headers, iter(rows))
    assert count == 3
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    assert sp.check_xlsx(data) is None, "our own import check accepts the export"
    ws = load_workbook(io.BytesIO(data)).active
    values = [[(c.value, c.data_type) for c in row] for row in ws.iter_rows(min_row=2, max_col=8)]
    assert values[0] == [
        ("Nguyễn Thị Lan", "s"), ('Tổ <Toán> & "Tin" \'A\'', "s"), (42, "n"), (12.5, "n"), (True, "b"), (None, "n"),
        (dt.datetime(2026, 11, 21, 8, 30), "d"), (dt.datetime(2026, 11, 23), "d")]
    assert values[1] == [
        ("Phạm Văn Hùng", "s"), ("a\r\nb\tc", "s"), (-7, "n"), (1.25, "n"), (False, "b"), (None, "n"),
        (dt.datetime(2026, 11, 21, 6, 30), "d"), (dt.datetime(1900, 1, 1), "d")]
    assert values[2] == [
        ("=1+1", "s"), ("01ff", "s"), (10**12, "n"), ("nan", "s"), (0, "n"), ("toan", "s"), ("07:30:00", "s"),
        ("x" * sp.EXCEL_MAX_TEXT, "s")]
    assert [ws.cell(2, 7).number_format, ws.cell(2, 8).number_format] == [sp.DATETIME_FORMAT, sp.DATE_FORMAT]
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet, "text is never a formula"
    assert "Tổ &lt;Toán&gt; &amp; \"Tin\" 'A'" in sheet


def test_export_header_style_frozen_pane_filter_and_widths():
    rows = ([index, f"Giáo viên {index}", dt.datetime(2026, 9, 5, 1, index % 60)] for index in range(1, 301))
    count, data = _export(["STT", "Giáo viên", "Nộp lúc"], rows)
    assert count == 300
    ws = load_workbook(io.BytesIO(data)).active
    assert ws.title == "Báo cáo"
    for cell in ws[1]:
        assert cell.font.b
        assert cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb.endswith("DDEBF7")
        assert cell.alignment.wrap_text and cell.alignment.vertical == "center"
    assert not any(cell.font.b or cell.fill.fill_type for cell in ws[2])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:C301"
    # widths from the header and the first 200 rows, at least 8
    assert [ws.column_dimensions[letter].width for letter in "ABC"] == [8, len("Giáo viên 200") + 2, 18]
    workbook_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml").decode()
    assert ('<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
            "'Báo cáo'!$A$1:$C$301</definedName>") in workbook_xml


def test_export_sheet_parts_are_in_schema_order():
    count, data = _export(["A", "B"], [[1, 2]])
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    order = ["<sheetViews>", "<sheetFormatPr", "<cols>", "<sheetData>", "</sheetData>", "<autoFilter", "<pageMargins"]
    positions = [sheet.index(tag) for tag in order]
    assert positions == sorted(positions)


def test_export_options_and_rows_wider_than_the_header():
    count, data = _export(["A", "B"], [[1, 2, "extra"]], widths=[30, 5.5], freeze=False, autofilter=False,
                          title="It's [mine]")
    assert count == 1
    ws = load_workbook(io.BytesIO(data)).active
    assert ws.title == "It's mine"
    assert ws.freeze_panes is None
    assert ws.auto_filter.ref is None
    assert (ws.column_dimensions["A"].width, ws.column_dimensions["B"].width) == (30, 5.5)
    assert [c.value for c in ws[2]] == [1, 2, "extra"]
    assert "_FilterDatabase" not in zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml").decode()


def test_excel_escapes_in_text_stay_literal():
    """Excel reads ``_x0041_`` in a string as "A": the underscore is escaped."""
    count, data = _export(["A"], [["_x0041_ and _x41_"]])
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<t xml:space=\"preserve\">_x005F_x0041_ and _x41_</t>" in sheet


def test_an_empty_export_is_a_valid_workbook():
    count, data = _export(["Họ và tên", "Lớp"], [])
    assert count == 0
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
            "xl/styles.xml", "xl/worksheets/sheet1.xml"} <= set(archive.namelist())
    ws = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == ["Họ và tên", "Lớp"]
    assert ws.max_row == 1
    assert ws.auto_filter.ref == "A1:B1"
    assert ws.freeze_panes == "A2"


def _status_rows(count):
    # tracemalloc slows the writing down several times, so the measured sheet is narrow: what
    # grows with the number of rows is the rows, not the columns (dates are checked above)
    for index in range(count):
        yield (index + 1, f"Nguyễn Văn {index} — 10A{index % 12 + 1} — approved_on_time")


def _traced_export(count, path):
    gc.collect()
    tracemalloc.start()
    try:
        with open(path, "wb") as stream:
            written = sp.write_rows(stream, "Tình trạng", ["STT", "Giáo viên"], _status_rows(count))
        return written, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_export_of_50000_rows_keeps_memory_flat(tmp_path):
    """Peak Python memory while writing 50,000 rows, measured with tracemalloc.

    The bound, 4 MB: the writer holds one chunk of XML (32 K characters)
    before compressing it into the zip, so the peak is that chunk plus the
    200 rows sampled for the column widths (about 0.6 MB measured). Were
    the rows kept — a list of the input, or a normal workbook's cells — the
    50,000 rows alone (a tuple, an int and a 42-character string each: 242
    bytes) would take 12 MB. And 10 times the rows may not cost 1 MB more.
    """
    sp.write_rows(io.BytesIO(), "warm-up", ["A"], [[1]])  # imports and caches out of the measure
    small_count, small_peak = _traced_export(5_000, tmp_path / "small.xlsx")
    count, peak = _traced_export(50_000, tmp_path / "big.xlsx")
    assert (small_count, count) == (5_000, 50_000)
    print(f"\nexport peak memory: 5,000 rows {small_peak / 1e6:.2f} MB, 50,000 rows {peak / 1e6:.2f} MB")
    assert peak < 4 * 1024 * 1024
    assert peak < small_peak + 1024 * 1024

    # read it back
    workbook = load_workbook(tmp_path / "big.xlsx", read_only=True)
    ws = workbook.active
    seen = 0
    last = None
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
        if number == 1:
            assert row == ("STT", "Giáo viên")
        else:
            seen += 1
            last = row
            if number == 2:
                assert row == (1, "Nguyễn Văn 0 — 10A1 — approved_on_time")
    workbook.close()
    assert seen == 50_000
    assert last == (50_000, "Nguyễn Văn 49999 — 10A8 — approved_on_time")


# --- templates ------------------------------------------------------------------

def test_assignment_template_layout():
    workbook = load_workbook(io.BytesIO(sp.make_template(AssignmentImport, KNOWN_ASSIGNMENTS)))
    assert workbook.sheetnames == ["Phân công", "Hướng dẫn - Instructions", "Danh mục - Lists"]
    assert workbook["Danh mục - Lists"].sheet_state == "hidden"
    ws = workbook["Phân công"]
    assert [c.value for c in ws[1]] == ["Giáo viên (tên đăng nhập) *", "Môn (mã) *", "Lớp *", "Số tiết/tuần *"]
    assert [c.value for c in ws[2]] == ["Teacher (login) *", "Subject (code) *", "Class *", "Periods per week *"]
    assert ws.max_row == 2, "the example row is on the instructions sheet, not among the data"
    assert ws.freeze_panes == "A3"
    checks = {str(v.sqref): v for v in ws.data_validations.dataValidation}
    assert checks["A3:A20002"].type == "list"
    assert checks["A3:A20002"].formula1 == "'Danh mục - Lists'!$A$2:$A$3"
    assert checks["D3:D20002"].type == "whole"
    assert (checks["D3:D20002"].formula1, checks["D3:D20002"].formula2) == ("1", "20")
    lists = workbook["Danh mục - Lists"]
    assert [c.value for c in lists["A"]] == ["Giáo viên (tên đăng nhập)", "lan.nt", "hung.pv"]
    guide = workbook["Hướng dẫn - Instructions"]
    values = [row for row in guide.iter_rows(values_only=True)]
    assert ("lan.nt", "toan", "10A1", 4, None, None) in values


def test_staff_template_lists_the_position_codes():
    workbook = load_workbook(io.BytesIO(sp.make_template(StaffImport)))
    ws = workbook.active
    assert [c.value for c in ws[1]] == ["Họ và tên *", "Tên đăng nhập *", "Email", "Chức vụ *", "Tổ", "Môn"]
    prompts = [v.prompt for v in ws.data_validations.dataValidation if v.prompt]
    assert any("department_head" in p and "vice_principal" in p for p in prompts)


def test_assignment_template_round_trip():
    data = from_template(AssignmentImport, [
        ("lan.nt", "toan", "10A1", 4),
        ("LAN.NT", "Tin_Hoc", "10a1", "2"),  # case and text numbers are forgiven
        ("hung.pv", "toan", "10A2", 3.0),
    ], KNOWN_ASSIGNMENTS)
    rows, errors = sp.read_rows(data, AssignmentImport, KNOWN_ASSIGNMENTS)
    assert errors == []
    assert [(r.row_number, r.values) for r in rows] == [
        (3, {"teacher": 11, "subject": 101, "class_name": 201, "periods": 4}),
        (4, {"teacher": 11, "subject": 102, "class_name": 201, "periods": 2}),
        (5, {"teacher": 12, "subject": 101, "class_name": 202, "periods": 3}),
    ]


def test_staff_template_round_trip():
    known = {"department": {"Tổ Toán - Tin": 7}, "subjects": {"toan": 101, "tin_hoc": 102}}
    data = from_template(StaffImport, [
        ("Nguyễn Thị Lan", "lan.nt", "lan@thpt.edu.vn", "teacher, department_head", "Tổ Toán - Tin", "toan; tin_hoc"),
        ("Phạm Văn Hùng", "hung.pv", None, "Giáo viên, Phó hiệu trưởng", None, None),
    ])
    rows, errors = sp.read_rows(data, StaffImport, known)
    assert errors == []
    assert rows[0].values == {"name": "Nguyễn Thị Lan", "login": "lan.nt", "email": "lan@thpt.edu.vn",
                              "positions": ("teacher", "department_head"), "department": 7, "subjects": (101, 102)}
    assert rows[1].values["positions"] == ("teacher", "vice_principal")
    assert rows[1].values["email"] is None and rows[1].values["subjects"] == ()


def test_an_empty_template_has_no_rows():
    rows, errors = sp.read_rows(sp.make_template(AssignmentImport), AssignmentImport)
    assert rows == []
    assert [(e.row_number, e.message_en) for e in errors] == [(None, "The file has no data rows.")]


# --- every error, with the spreadsheet's row numbers ------------------------------

def test_every_cell_error_is_named_with_its_row():
    data = from_template(AssignmentImport, [
        ("lan.nt", "toan", "10A1", 4),  # row 3: fine
        ("ghost", "hoa_hoc", "10A9", 4),  # row 4: unknown teacher, subject and class
        ("hung.pv", "toan", "10A2", "x"),  # row 5: not a number
        ("hung.pv", "toan", "10A1", 2.5),  # row 6: not whole
        ("hung.pv", "tin_hoc", "10A1", 21),  # row 7: out of range
        ("hung.pv", "tin_hoc", "10A2", "9" * 5000),  # row 8: a 5,000-digit number, refused
        (),  # row 9: blank, skipped
        (None, "toan", "10A2", None),  # row 10: two required values missing
        ("Lan.NT", "TOAN", "10a1", 1),  # row 11: the same teacher, subject and class as row 3
    ], KNOWN_ASSIGNMENTS)
    rows, errors = sp.read_rows(data, AssignmentImport, KNOWN_ASSIGNMENTS)
    assert rows == [], "any wrong row: nothing to import"
    assert [(e.row_number, e.column) for e in errors] == [
        (4, "teacher"), (4, "subject"), (4, "class_name"),
        (5, "periods"), (6, "periods"), (7, "periods"), (8, "periods"),
        (10, "teacher"), (10, "periods"),
        (11, None),
    ]
    by_row = {}
    for error in errors:
        by_row.setdefault(error.row_number, error)
    assert by_row[4].message_en == "Unknown Teacher (login): “ghost”."
    assert by_row[4].message_vi == "Không có Giáo viên (tên đăng nhập) “ghost”."
    assert "whole number" in by_row[5].message_en and "số nguyên" in by_row[5].message_vi
    assert by_row[7].message_en == "“Periods per week” must be between 1 and 20, not 21."
    assert by_row[11].message_en == "The same Teacher (login), Subject (code), Class as row 3."
    assert by_row[11].text().startswith("Dòng 11: Trùng")


@pytest.mark.parametrize("value, accepted", [
    (1, True), (20, True), ("20", True), (" 7 ", True), (7.0, True),
    (0, False), (21, False), (-3, False), ("7.5", False), (True, False), ("bảy", False),
])
def test_periods_per_week_boundaries(value, accepted):
    data = xlsx([["Giáo viên", "Môn", "Lớp", "Số tiết/tuần"], ["lan.nt", "toan", "10A1", value]])
    rows, errors = sp.read_rows(data, AssignmentImport)
    assert (errors == []) is accepted
    assert [(e.row_number, e.column) for e in errors] == ([] if accepted else [(2, "periods")])


def test_staff_errors_duplicates_taken_logins_and_bad_values():
    data = from_template(StaffImport, [
        ("Nguyễn Thị Lan", "lan.nt", "lan@x.vn", "teacher", None, None),  # row 3
        ("Lê Lan", "LAN.NT", "LAN@X.VN", "teacher", None, None),  # row 4: login and email repeat row 3
        ("Trần Minh", "minh tran", "minh@", "teacher", None, None),  # row 5: login with a space, bad email
        ("Đỗ Hoa", "hoa.dt", None, "teacher, dean", None, "toan, hoa"),  # row 6: unknown codes
        ("Vũ Nam", "admin", None, "school_admin", None, None),  # row 7: the login exists already
        ("x" * 201, "long.name", None, "teacher", None, None),  # row 8: name too long
    ])
    rows, errors = sp.read_rows(data, StaffImport, known={"subjects": ["toan", "tin_hoc"]},
                                taken={"login": ["Admin", "root"]})
    assert rows == []
    assert [(e.row_number, e.column) for e in errors] == [
        (4, "login"), (4, "email"),
        (5, "login"), (5, "email"),
        (6, "positions"), (6, "subjects"),
        (7, "login"),
        (8, "name"),
    ]
    messages = {(e.row_number, e.column): e for e in errors}
    assert messages[4, "login"].message_en == "“Login” repeats row 3."
    assert messages[4, "login"].message_vi == "“Tên đăng nhập” trùng với dòng 3."
    assert messages[6, "positions"].message_en == "Unknown Positions: dean."
    assert messages[6, "subjects"].message_en == "Unknown Subjects: hoa."
    assert messages[7, "login"].message_en == "“admin” already exists (Login)."


def test_missing_and_repeated_columns_are_named_on_the_header_row():
    data = xlsx([["Lớp", "Môn", "Lớp", "Ghi chú"], ["10A1", "toan", "10A1", "x"]])
    assert errors_of(sp.read_rows(data, AssignmentImport)) == [(1, "class_name"), (1, "teacher"), (1, "periods")]
    rows, errors = sp.read_rows(data, AssignmentImport)
    assert errors[0].message_en == "The column “Class” appears twice."
    assert errors[1].message_vi == "Thiếu cột bắt buộc “Giáo viên (tên đăng nhập)”."


def test_headers_in_english_in_any_order_after_a_title_row():
    data = xlsx([
        ["Phân công học kỳ I"],  # a title the school added above the header
        ["Periods per week", "Class", "Subject (code)", "Teacher (login)"],
        [4, "10A1", "toan", "lan.nt"],
        [None, None, None, None],
        [2, "10A2", "toan", "lan.nt"],
    ])
    rows, errors = sp.read_rows(data, AssignmentImport)
    assert errors == []
    got = [(r.row_number, r.values["class_name"], r.values["periods"]) for r in rows]
    assert got == [(3, "10A1", 4), (5, "10A2", 2)]


def test_decomposed_vietnamese_headers_match():
    header = [unicodedata.normalize("NFD", label) for label in ("Họ và tên", "Tên đăng nhập", "Chức vụ")]
    rows, errors = sp.read_rows(xlsx([header, ["Lan", "lan.nt", "teacher"]]), StaffImport)
    assert errors == []
    assert rows[0].values["positions"] == ("teacher",)


def test_no_header_row():
    rows, errors = sp.read_rows(xlsx([["a", "b"], [1, 2]]), AssignmentImport)
    assert rows == [] and len(errors) == 1
    assert errors[0].row_number is None and errors[0].message_en.startswith("No header row found")


def test_too_many_rows_and_too_many_errors():
    header = ["Giáo viên", "Môn", "Lớp", "Số tiết/tuần"]
    data = xlsx([header] + [["lan.nt", "toan", f"10A{i}", 2] for i in range(6)])
    rows, errors = sp.read_rows(data, AssignmentImport, max_rows=5)
    assert rows == []
    assert [(e.row_number, e.message_en) for e in errors] == [
        (7, "Too many rows: at most 5 rows can be imported at once.")]
    assert sp.read_rows(data, AssignmentImport, max_rows=6)[1] == []

    bad = xlsx([header] + [["lan.nt", "toan", f"10A{i}", "x"] for i in range(10)])
    rows, errors = sp.read_rows(bad, AssignmentImport, max_errors=3)
    assert [e.row_number for e in errors] == [2, 3, 4, None]
    assert errors[-1].message_en == "… and 7 more errors."


def test_too_many_columns():
    header = ["Giáo viên", "Môn", "Lớp", "Số tiết/tuần"] + [f"extra {i}" for i in range(sp.MAX_COLUMNS)]
    rows, errors = sp.read_rows(xlsx([header, ["lan.nt", "toan", "10A1", 2]]), AssignmentImport)
    assert errors_of((rows, errors)) == [(1, None)]
    assert errors[0].message_en == f"Too many columns: at most {sp.MAX_COLUMNS}."


def test_a_sheet_that_understates_its_size_is_read_whole():
    data = xlsx([["Giáo viên", "Môn", "Lớp", "Số tiết/tuần"]] + [["lan.nt", "toan", f"10A{i}", 2] for i in range(10)])
    lying = rewrite_member(data, "xl/worksheets/sheet1.xml",
                           lambda xml: xml.replace(b'<dimension ref="A1:D11"/>', b'<dimension ref="A1:D2"/>'))
    assert b'ref="A1:D2"' in zipfile.ZipFile(io.BytesIO(lying)).read("xl/worksheets/sheet1.xml")
    rows, errors = sp.read_rows(lying, AssignmentImport)
    assert errors == [] and len(rows) == 10


# --- hostile and wrong files -------------------------------------------------------

@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"Ho va ten,Ten dang nhap\nLan,lan.nt\n", "not an Excel .xlsx file"),
    (sp.OLE_MAGIC + b"\0" * 512, "old Excel file (.xls) or a password-protected"),
    (zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}), "Word file"),
    (zip_of({"hello.txt": b"hi"}), "zip file but not an Excel workbook"),
    (b"PK\x03\x04" + b"\x00" * 200, "damaged"),
    ("a string, not bytes", "not a file"),
])
def test_wrong_files_get_one_clear_error(data, words):
    rows, errors = sp.read_rows(data, StaffImport)
    assert rows == [] and len(errors) == 1
    assert words in errors[0].message_en
    assert errors[0].message_vi and errors[0].row_number is None


def test_a_truncated_workbook_is_refused():
    data = from_template(StaffImport, [("Lan", "lan.nt", None, "teacher", None, None)])
    rows, errors = sp.read_rows(data[: len(data) // 2], StaffImport)
    assert rows == [] and len(errors) == 1 and "damaged" in errors[0].message_en


def test_too_large_uploads_are_refused_before_reading():
    rows, errors = sp.read_rows(b"PK\x03\x04" + b"\0" * sp.MAX_UPLOAD_BYTES, StaffImport)
    assert len(errors) == 1 and "too large" in errors[0].message_en


def _workbook_parts():
    source = zipfile.ZipFile(io.BytesIO(xlsx([["Họ và tên"]])))
    return {info.filename: source.read(info) for info in source.infolist()}


def test_a_zip_bomb_is_refused_from_its_declared_sizes():
    parts = _workbook_parts()
    parts["xl/worksheets/sheet1.xml"] = b"\0" * (sp.MAX_UNCOMPRESSED_BYTES + 1)
    bomb = zip_of(parts)
    assert len(bomb) < 200_000
    gc.collect()
    tracemalloc.start()
    try:
        rows, errors = sp.read_rows(bomb, StaffImport)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(errors) == 1 and "inflates to too much data" in errors[0].message_en
    assert peak < 2 * 1024 * 1024, "nothing was inflated"


def test_a_highly_compressed_part_is_refused():
    parts = _workbook_parts()
    parts["xl/sharedStrings.xml"] = b" " * (5 * 1024 * 1024)  # 5 MB of spaces: a ratio in the thousands
    rows, errors = sp.read_rows(zip_of(parts), StaffImport)
    assert len(errors) == 1 and "inflates to too much data" in errors[0].message_en


def _patch_sizes(data, name, size):
    """Make the zip declare ``size`` as the inflated size of part ``name``."""
    data = bytearray(data)
    encoded = name.encode()
    # local file header: signature, ..., uncompressed size at offset 22, name at 30
    position = data.find(b"PK\x03\x04")
    while position >= 0:
        name_length = struct.unpack_from("<H", data, position + 26)[0]
        if bytes(data[position + 30:position + 30 + name_length]) == encoded:
            struct.pack_into("<I", data, position + 22, size)
        position = data.find(b"PK\x03\x04", position + 4)
    # central directory entry: uncompressed size at offset 24, name at 46
    position = data.find(b"PK\x01\x02")
    while position >= 0:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if bytes(data[position + 46:position + 46 + name_length]) == encoded:
            struct.pack_into("<I", data, position + 24, size)
        position = data.find(b"PK\x01\x02", position + 4)
    return bytes(data)


def test_a_zip_that_lies_about_its_sizes_is_not_inflated_beyond_them():
    parts = _workbook_parts()
    parts["xl/worksheets/sheet1.xml"] = b"<x/>" + b"\0" * (60 * 1024 * 1024)
    liar = _patch_sizes(zip_of(parts), "xl/worksheets/sheet1.xml", 1000)
    assert zipfile.ZipFile(io.BytesIO(liar)).getinfo("xl/worksheets/sheet1.xml").file_size == 1000
    gc.collect()
    tracemalloc.start()
    try:
        rows, errors = sp.read_rows(liar, StaffImport)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(errors) == 1 and "damaged" in errors[0].message_en
    assert peak < 4 * 1024 * 1024


def test_an_xml_entity_bomb_is_refused():
    data = xlsx([["Họ và tên", "Tên đăng nhập", "Chức vụ"], ["Lan", "lan.nt", "teacher"]])
    entities = b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i else b"lol") for i in range(10))

    def bomb(xml):
        return b"<!DOCTYPE worksheet [" + entities + b"]>" + xml.replace(b"lan.nt", b"&lol9;")

    rows, errors = sp.read_rows(rewrite_member(data, "xl/worksheets/sheet1.xml", bomb), StaffImport)
    assert rows == [] and len(errors) == 1 and "DTD" in errors[0].message_en


def test_a_dtd_hidden_in_utf16_is_found():
    data = xlsx([["Họ và tên"]])
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x []><x/>'.encode("utf-16-le")
    hostile = rewrite_member(data, "xl/workbook.xml", lambda xml: utf16)
    rows, errors = sp.read_rows(hostile, StaffImport)
    assert len(errors) == 1 and "DTD" in errors[0].message_en


def test_garbage_inside_a_valid_zip_never_raises():
    data = xlsx([["Họ và tên", "Tên đăng nhập", "Chức vụ"], ["Lan", "lan.nt", "teacher"]])
    broken = rewrite_member(data, "xl/workbook.xml", lambda xml: b"<workbook><sheets><sheet")
    rows, errors = sp.read_rows(broken, StaffImport)
    assert rows == [] and len(errors) == 1 and "cannot be read" in errors[0].message_en
