"""The shared spreadsheet reader: what it reads, and the broken or hostile files it refuses before reading."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from openpyxl import Workbook

from naphs import spreadsheets
from naphs.spreadsheets import ImportRefused, Problem, Sheet, read_spreadsheet


def workbook_bytes(*sheets: tuple[str, list[list[object]]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_member(data: bytes, name: str, content: bytes) -> bytes:
    """The workbook `data` with one more (compressed) zip member, e.g. a macro project."""
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def claiming_huge_size(data: bytes, member: str) -> bytes:
    """The zip `data` with `member`'s central directory entry claiming 4 GB uncompressed: a zip bomb's shape."""
    encoded = member.encode()
    at = 0
    while True:
        at = data.index(b"PK\x01\x02", at)
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_length] == encoded:
            break
        at += 4
    return data[: at + 24] + struct.pack("<I", 0xFFFFFFF0) + data[at + 28 :]


def read(data: bytes, name: str, **kwargs) -> list[Sheet]:
    return read_spreadsheet(io.BytesIO(data), name=name, **kwargs)


# What it reads


def test_an_xlsx_reads_every_sheet_with_its_values_and_drops_trailing_blanks():
    data = workbook_bytes(("Scores", [["code", "score"], ["P1.1", 3, None], [], ["P1.2", 4.0]]), ("Notes", [["x"]]))
    sheets = read(data, "scores.xlsx")
    assert [s.name for s in sheets] == ["Scores", "Notes"]
    assert sheets[0].rows == [["code", "score"], ["P1.1", 3], [], ["P1.2", 4]]


def test_a_csv_reads_as_one_sheet_named_after_the_file():
    (sheet,) = read(b"code,score\nP1.1, 3 \n\n", "uploads/scores.csv")
    assert sheet.name == "scores.csv"
    assert sheet.rows == [["code", "score"], ["P1.1", "3"]]


def test_a_csv_with_semicolons_is_read_by_its_delimiter():
    (sheet,) = read(b"code;score\nP1.1;3\nP1.2;4,5\n", "scores.csv")
    assert sheet.rows == [["code", "score"], ["P1.1", "3"], ["P1.2", "4,5"]]


def test_a_csv_with_tabs_is_read_by_its_delimiter():
    (sheet,) = read(b"code\tscore\nP1.1\t3\n", "scores.csv")
    assert sheet.rows == [["code", "score"], ["P1.1", "3"]]


def test_a_tsv_is_read_by_its_tabs_whatever_commas_and_semicolons_its_cells_hold():
    data = "\ufeffCountry\tC.1.1\r\nKorea, Republic of\t60\r\n\r\nA; B\t\r\n".encode()
    (sheet,) = read(data, "uploads/SPAR.tsv")
    assert sheet.name == "SPAR.tsv"
    assert sheet.rows == [["Country", "C.1.1"], ["Korea, Republic of", "60"], [], ["A; B"]]


def test_a_tsv_has_the_limits_of_a_csv():
    with pytest.raises(ImportRefused, match="more than 10 rows"):
        read(b"a\tb\n" * 11, "big.tsv", max_rows=10)
    with pytest.raises(ImportRefused, match="This is not a CSV file"):
        read(b"a\tb\x00\n", "bin.tsv")


def test_a_utf8_byte_order_mark_does_not_reach_the_first_cell():
    (sheet,) = read("\ufeffcode,name\nP1.1,Côte d’Ivoire\n".encode(), "scores.csv")
    assert sheet.rows == [["code", "name"], ["P1.1", "Côte d’Ivoire"]]


def test_the_name_is_taken_from_the_upload_when_not_given():
    upload = io.BytesIO(b"a,b\n")
    upload.name = "from-upload.csv"
    (sheet,) = read_spreadsheet(upload)
    assert sheet.name == "from-upload.csv"


def test_a_problem_says_where_it_is_as_excel_shows_it():
    sheet = Sheet("Scores")
    assert str(sheet.problem("a formula.", row=3, column=28)) == "Sheet “Scores”, row 3, column AB: a formula."
    assert str(Problem("The file is empty.")) == "The file is empty."
    assert str(ImportRefused(["one", Problem("two", row=2)])) == "one; Row 2: two"


# What it refuses


def test_an_empty_file_is_refused():
    with pytest.raises(ImportRefused, match="empty"):
        read(b"", "scores.xlsx")


def test_a_file_that_is_not_xlsx_is_refused():
    with pytest.raises(ImportRefused, match="not an Excel workbook"):
        read(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "scores.xlsx")


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ImportRefused, match=r"not an Excel workbook \(\.xlsx\)"):
        read(buffer.getvalue(), "scores.xlsx")


def test_a_damaged_workbook_is_refused():
    data = workbook_bytes(("S", [["a"]]))
    with pytest.raises(ImportRefused, match=r"damaged|could not be read"):
        read(data[: len(data) // 2], "scores.xlsx")


def test_a_binary_file_named_csv_is_refused():
    with pytest.raises(ImportRefused, match=r"not UTF-8|not a CSV"):
        read(b"\x00\x01\x02\xff\xfe", "scores.csv")


@pytest.mark.parametrize("name", ["scores.xlsm", "scores.XLSM", "scores.xls", "scores.xlsb", "template.xltm"])
def test_macro_enabled_and_old_formats_are_refused_by_name(name):
    with pytest.raises(ImportRefused, match=r"Only \.xlsx workbooks and \.csv files"):
        read(workbook_bytes(("S", [["a"]])), name)


def test_a_workbook_carrying_a_macro_project_is_refused_whatever_its_name():
    data = with_member(workbook_bytes(("S", [["a"]])), "xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 macro")
    with pytest.raises(ImportRefused, match="contains macros"):
        read(data, "innocent.xlsx")


def test_a_zip_bomb_whose_members_claim_a_huge_size_is_refused_before_reading(monkeypatch):
    data = claiming_huge_size(workbook_bytes(("S", [["a"]])), "xl/worksheets/sheet1.xml")
    opened = []
    monkeypatch.setattr(spreadsheets, "load_workbook", lambda *a, **k: opened.append(1))
    with pytest.raises(ImportRefused, match="unpacks to far more data"):
        read(data, "bomb.xlsx")
    assert not opened


def test_a_highly_compressed_workbook_is_refused():
    data = with_member(workbook_bytes(("S", [["a"]])), "xl/media/padding.bin", b"\0" * (8 * 1024 * 1024))
    with pytest.raises(ImportRefused, match="unpacks to far more data"):
        read(data, "bomb.xlsx")


def test_an_upload_larger_than_the_limit_is_refused():
    with pytest.raises(ImportRefused, match="larger than"):
        read(b"a,b\n" * 1000, "big.csv", limits=spreadsheets.Limits(max_bytes=1024))


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_sheet_with_more_rows_than_allowed_is_refused_naming_it(kind):
    rows = [[f"P1.{n}", 3] for n in range(1, 12)]
    if kind == "xlsx":
        data, name, sheet = workbook_bytes(("Scores", rows)), "scores.xlsx", "Scores"
    else:
        data, name, sheet = "".join(f"{a},{b}\n" for a, b in rows).encode(), "scores.csv", "scores.csv"
    with pytest.raises(ImportRefused, match="more than 10 rows") as refused:
        read(data, name, max_rows=10)
    assert refused.value.problems[0].sheet == sheet
    assert len(read(data, name, max_rows=11)[0].rows) == 11


def test_formulas_are_refused_each_named_by_sheet_row_and_column():
    data = workbook_bytes(("Costs", [["item", "cost"], ["a", "=2*3"], ["b", 4, "=SUM(B2:B3)"]]))
    with pytest.raises(ImportRefused) as refused:
        read(data, "costs.xlsx")
    assert [(p.sheet, p.row, p.column) for p in refused.value.problems] == [("Costs", 2, "B"), ("Costs", 3, "C")]
    assert str(refused.value.problems[0]) == "Sheet “Costs”, row 2, column B: a formula; type the value instead."


def test_formulas_reported_leave_the_rows_to_the_caller_with_each_formula_named():
    data = workbook_bytes(("Costs", [["item", "cost"], ["a", "=2*3"], ["b", 4]]))
    [sheet] = read(data, "costs.xlsx", formulas="report")
    assert sheet.rows == [["item", "cost"], ["a", "=2*3"], ["b", 4]]
    assert [(p.sheet, p.row, p.column) for p in sheet.formulas] == [("Costs", 2, "B")]
    with pytest.raises(ValueError, match="formulas must be"):
        read(data, "costs.xlsx", formulas="ignore")


def test_merged_ranges_hidden_rows_columns_and_sheets_and_formula_cells_are_noted():
    """What an import of a layout made by hand checks: where cells are merged, what Excel hides, where formulas are."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Table"
    sheet["A1"], sheet["A3"], sheet["B3"], sheet["E5"] = "Title", "x", "=A3", 3
    sheet.merge_cells("A1:D1")
    sheet.merge_cells("A3:A4")
    sheet.row_dimensions[3].hidden = True
    sheet.column_dimensions["C"].hidden = True
    hidden = workbook.create_sheet("Lists")
    hidden.sheet_state = "hidden"
    hidden["A1"] = "National"
    buffer = io.BytesIO()
    workbook.save(buffer)
    table, lists = read(buffer.getvalue(), "layout.xlsx", formulas="report")
    assert sorted(table.merged) == [(1, 1, 4, 1), (1, 3, 1, 4)]
    assert (table.hidden_rows, table.hidden_columns) == ({3}, {3})
    assert table.formula_cells == {(3, 2)}
    assert (table.state, lists.state) == ("visible", "hidden")
    assert table.rows[2] == ["x", "=A3"]


def test_a_csv_disguised_as_xlsx_is_refused():
    with pytest.raises(ImportRefused, match="not an Excel workbook"):
        read(b"code,score\nP1.1,3\n", "scores.xlsx")


# Bounded work: sizes checked before any cell is built


def test_a_declared_range_is_never_filled_with_empty_cells():
    from tests.hostile_files import raw_workbook

    data = raw_workbook(lambda write: write(b'<row r="2"><c r="B2"><v>7</v></c></row>'), dimension="A1:XFD10")
    before = spreadsheets.cells_built
    [sheet] = read(data, "wide.xlsx")
    assert sheet.name == "Data" and sheet.rows == [[], [None, 7]]
    assert spreadsheets.cells_built - before == 1  # the one real cell, not the 163,840 declared


@pytest.mark.parametrize(
    ("shape", "words"),
    [
        ("dimension lie", "Sheet “Data”: it declares the range A1:XFD1048576: 1,048,576 rows, more than 200,000 rows"),
        ("a million rows", "Sheet “Data”: more than 200,000 rows; split the file."),
        ("the last column", "Sheet “Data”, row 1, column XFD: a cell beyond column 1,000"),
        ("billion laughs", "a document type declaration"),
        ("deeply nested", "nested far deeper than a worksheet's"),
        ("external link", "links to other workbooks"),
        ("encrypted workbook", "protected with a password"),
        ("old .xls", "Only .xlsx workbooks and .csv files"),
        ("300 sheets", "This workbook has 300 sheets; this import reads at most 100."),
        ("zip bomb", "unpacks to far more data"),
        ("UTF-16 CSV", "saved as UTF-16 text"),
        ("CSV with two million cells in a line", "row 3: a line of more than 1,000,000 characters"),
    ],
)
def test_hostile_shapes_are_refused_saying_what_and_where(shape, words):
    from tests.hostile_files import build

    name, data = build(shape)
    with pytest.raises(ImportRefused) as refused:
        read(data, name)
    assert words in str(refused.value)


def test_a_csv_row_the_csv_module_cannot_read_is_refused_naming_the_row():
    data = b"indicator,score\nP1.1,3\n" + b'"' + b"x" * 200_000 + b'"\n'  # a field longer than csv allows
    with pytest.raises(ImportRefused, match=r"row 3: this row cannot be read as CSV"):
        read(data, "scores.csv")


def test_each_import_has_its_limits_and_settings_override_them(settings):
    assert spreadsheets.limits_for("scores").max_cells == 100_000
    assert spreadsheets.limits_for("costing_workbook").max_cells == 2_000_000
    settings.SPREADSHEET_LIMITS = {"default": {"max_sheets": 5}, "scores": {"max_cells": 10}}
    assert spreadsheets.limits_for("scores").max_cells == 10
    assert spreadsheets.limits_for("library").max_sheets == 5
    data = workbook_bytes(("Scores", [["P1.1", 3], ["P1.2", 4], ["P1.3", 5], ["P1.4", 2], ["P1.5", 1], ["P1.6", 2]]))
    with pytest.raises(ImportRefused, match="12 cells, more than the 10 cells this import reads"):
        read(data, "scores.xlsx", limits="scores")
