"""Reading uploaded spreadsheets (xlsx or CSV) safely, for every import in the product.

A file is refused before anything is read into the database when it is not what it claims to be, carries
macros, would unpack to far more than its size (a zip bomb), has too many rows, or holds formulas. Each
problem names where it is: sheet, row and column, as the person sees them in Excel. An import that checks
every row itself reads with `formulas="report"`: a formula is then one more problem in the list it shows
(`Sheet.formulas`), beside those of the other rows, rather than the only one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
MAX_ROWS = 200_000
XLSX_MAGIC = b"PK\x03\x04"
MACRO_PARTS = ("xl/vbaProject.bin", "xl/macrosheets/")


@dataclass(frozen=True)
class Problem:
    """What is wrong, and where: a sheet, a row (1-based, as in Excel) and a column letter, where they apply."""

    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""

    def __str__(self) -> str:
        where = []
        if self.sheet:
            where.append(f"sheet “{self.sheet}”")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        if not where:
            return self.message
        place = ", ".join(where)
        return f"{place[0].upper()}{place[1:]}: {self.message}"


class ImportRefused(Exception):
    """The file, or rows in it, cannot be imported; nothing was saved. `problems` lists every one found."""

    def __init__(self, problems: Iterable[Problem | str]) -> None:
        self.problems = [p if isinstance(p, Problem) else Problem(p) for p in problems]
        super().__init__("; ".join(str(p) for p in self.problems[:20]))


@dataclass
class Sheet:
    """A sheet's values, row by row; `rows[0]` is Excel's row 1. Empty trailing cells are dropped."""

    name: str
    rows: list[list[Any]] = field(default_factory=list)
    formulas: list[Problem] = field(default_factory=list)  # one per cell holding a formula

    def problem(self, message: str, *, row: int | None = None, column: int | None = None) -> Problem:
        """A problem at a 1-based row and column of this sheet."""
        return Problem(message, self.name, row, get_column_letter(column) if column else "")


HEADER_SEARCH_ROWS = 5


def find_header(
    sheet: Sheet, *, required: Sequence[str], key: Callable[[Any], str]
) -> tuple[int, dict[str, int]] | None:
    """The header row (0-based) and its columns {key: position}: the first of the sheet's first few non-empty
    rows that holds every required column (a title may sit above it), else the first non-empty row; None for
    an empty sheet. `key` turns a heading into the name it is matched by."""
    found = None
    filled = (i for i, row in enumerate(sheet.rows) if any(str(v or "").strip() for v in row))
    for _, index in zip(range(HEADER_SEARCH_ROWS), filled, strict=False):
        columns: dict[str, int] = {}
        for position, value in enumerate(sheet.rows[index]):
            columns.setdefault(key(value), position)
        if all(name in columns for name in required):
            return index, columns
        found = found or (index, columns)
    return found


def _check_xlsx(data: bytes) -> None:
    if not data.startswith(XLSX_MAGIC):
        raise ImportRefused(["This is not an Excel workbook (.xlsx) or a CSV file."])
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except zipfile.BadZipFile as error:
        raise ImportRefused(["This file is damaged: it is not a readable Excel workbook."]) from error
    names = [member.filename for member in members]
    if "[Content_Types].xml" not in names or not any(name.startswith("xl/") for name in names):
        raise ImportRefused(["This is not an Excel workbook (.xlsx)."])
    if any(name.startswith(MACRO_PARTS) for name in names):
        raise ImportRefused(["This workbook contains macros; save it as a plain .xlsx workbook and upload that."])
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES or unpacked > MAX_COMPRESSION_RATIO * max(len(data), 1):
        raise ImportRefused(["This workbook unpacks to far more data than a spreadsheet holds; it was not read."])


def _read_xlsx(data: bytes, *, max_rows: int, refuse_formulas: bool) -> list[Sheet]:
    _check_xlsx(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise ImportRefused([f"This workbook could not be read ({type(error).__name__})."]) from error
    sheets = []
    try:
        for worksheet in workbook.worksheets:
            sheet = Sheet(worksheet.title)
            for row_number, row in enumerate(worksheet.iter_rows(), start=1):
                if row_number > max_rows:
                    raise ImportRefused([sheet.problem(f"more than {max_rows:,} rows; split the file.")])
                values = []
                for column_number, cell in enumerate(row, start=1):
                    if getattr(cell, "data_type", None) == "f":
                        sheet.formulas.append(
                            sheet.problem("a formula; type the value instead.", row=row_number, column=column_number)
                        )
                    values.append(cell.value)
                while values and values[-1] in (None, ""):
                    values.pop()
                sheet.rows.append(values)
            while sheet.rows and not sheet.rows[-1]:
                sheet.rows.pop()
            sheets.append(sheet)
    finally:
        workbook.close()
    formulas = [problem for sheet in sheets for problem in sheet.formulas]
    if formulas and refuse_formulas:
        raise ImportRefused(formulas)
    return sheets


def _read_csv(data: bytes, *, name: str, max_rows: int) -> list[Sheet]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefused(["This CSV file is not UTF-8 text; save it as “CSV UTF-8”."]) from error
    if "\x00" in text:
        raise ImportRefused(["This is not a CSV file."])
    dialect = csv.excel
    with contextlib.suppress(csv.Error):
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    sheet = Sheet(name)
    for row_number, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
        if row_number > max_rows:
            raise ImportRefused([sheet.problem(f"more than {max_rows:,} rows; split the file.")])
        values = [value.strip() for value in row]
        while values and values[-1] == "":
            values.pop()
        sheet.rows.append(values)
    while sheet.rows and not sheet.rows[-1]:
        sheet.rows.pop()
    return [sheet]


def read_spreadsheet(
    upload: IO[bytes], *, name: str = "", max_rows: int = MAX_ROWS, formulas: Literal["refuse", "report"] = "refuse"
) -> list[Sheet]:
    """Every sheet of an uploaded .xlsx, or the one "sheet" of a .csv, after the safety checks above.

    A cell holding a formula refuses the file; with `formulas="report"` the sheets are returned, the cell keeps
    the formula's text and its problem is in `Sheet.formulas`, for the caller to list with the rest."""
    if formulas not in ("refuse", "report"):
        raise ValueError(f"formulas must be 'refuse' or 'report', not {formulas!r}")
    name = name or getattr(upload, "name", "") or "upload"
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportRefused([f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."])
    if not data:
        raise ImportRefused(["The file is empty."])
    lower = name.lower()
    if lower.endswith((".xlsm", ".xltm", ".xlsb", ".xls")):
        raise ImportRefused(["Only .xlsx workbooks and .csv files can be imported; save the file as .xlsx."])
    if lower.endswith(".csv") and not data.startswith(XLSX_MAGIC):
        return _read_csv(data, name=name.rsplit("/", 1)[-1], max_rows=max_rows)
    return _read_xlsx(data, max_rows=max_rows, refuse_formulas=formulas == "refuse")
