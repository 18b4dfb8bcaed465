"""Reading uploaded spreadsheets (xlsx or CSV) safely, for every import in the product.

A file is refused before anything is read into the database when it is not what it claims to be, carries
macros or links to other workbooks, would unpack to far more than its size (a zip bomb), or holds formulas.
The work is bounded before any cell is built: the zip's entries (their number, declared sizes and compression
ratio), each sheet's declared `<dimension>` and a streaming count of its rows and cells (stopping at the limit)
are checked first, and only then are the cells read, by a parser that keeps nothing but the values. Each import
has its limits (`limits_for`, overridable in settings.SPREADSHEET_LIMITS); a refusal names the sheet and the
limit. Each problem names where it is: sheet, row and column, as the person sees them in Excel. An import that
checks every row itself reads with `formulas="report"`: a formula is then one more problem in the list it shows
(`Sheet.formulas`), beside those of the other rows, rather than the only one.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Literal
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from defusedxml.ElementTree import iterparse
from django.conf import settings
from django.core.signals import setting_changed
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet._reader import ROW_TAG, WorkSheetParser

from naphs.languages import number_text

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
MAX_ROWS = 200_000
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, and any password-protected workbook
MACRO_PARTS = ("xl/vbaProject.bin", "xl/macrosheets/", "xl/dialogsheets/")
VBA_PROJECT = "xl/vbaProject.bin"  # a macro-enabled workbook's VBA code: never read, never run
MACRO_ENABLED_EXTENSIONS = (".xlsm",)
EXTERNAL_LINK_PARTS = ("xl/externalLinks/",)
MAX_XML_DEPTH = 32  # a worksheet nests about 8 deep; the extension lists of newer Excel versions a little more
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How much one import reads. The defaults fit a costing workbook of 10,000 lines with room to spare."""

    max_bytes: int = MAX_UPLOAD_BYTES  # the file as uploaded
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES  # an .xlsx's parts, unpacked
    max_compression_ratio: int = MAX_COMPRESSION_RATIO
    max_part_bytes: int = 20 * 1024 * 1024  # one part other than a worksheet or the shared strings (styles, ...)
    max_entries: int = 2_000  # parts in the .xlsx
    max_sheets: int = 100
    max_rows: int = MAX_ROWS  # in one sheet
    max_columns: int = 1_000  # the last column a row may use (Excel allows 16,384)
    max_cells: int = 1_000_000  # in the whole file
    max_line_chars: int = 1_000_000  # one line of a CSV file

    def replace(self, **changes: Any) -> Limits:
        return dataclasses.replace(self, **changes)


# Each import's limits, before settings.SPREADSHEET_LIMITS (same keys, e.g. {"scores": {"max_cells": 100000}}).
IMPORT_LIMITS: dict[str, dict[str, int]] = {
    "scores": {"max_rows": 5_000, "max_cells": 100_000},  # two columns, one row per indicator
    "spar_table": {"max_rows": 20_000, "max_cells": 500_000},  # a row per State Party, a column per indicator
    "framework": {"max_rows": 20_000, "max_cells": 200_000},  # a row per indicator
    "library": {"max_rows": 100_000, "max_cells": 1_000_000},  # a row per action
    "costing_workbook": {"max_rows": 200_000, "max_cells": 2_000_000},  # 10,000 lines are about 450,000 cells
    "who_costing": {"max_rows": 200_000, "max_cells": 2_000_000},
}


def limits_for(name: str) -> Limits:
    """The limits of one import: the defaults, this import's, then the installation's settings."""
    configured: dict[str, dict[str, int]] = getattr(settings, "SPREADSHEET_LIMITS", {}) or {}
    changes = {**configured.get("default", {}), **IMPORT_LIMITS.get(name, {}), **configured.get(name, {})}
    known = {f.name for f in dataclasses.fields(Limits)}
    base = Limits(max_bytes=getattr(settings, "UPLOAD_MAX_BYTES", MAX_UPLOAD_BYTES))
    return base.replace(**{key: int(value) for key, value in changes.items() if key in known})


@dataclass(frozen=True)
class Problem:
    """What is wrong, and where: a sheet, a row (1-based, as in Excel) and a column letter, where they apply."""

    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""

    def as_json(self) -> dict[str, Any]:
        """As an upload keeps it (JSON): {"sheet", "row", "column", "message"}."""
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "message": self.message}

    @classmethod
    def from_json(cls, data: Any) -> Problem:
        """A problem kept by `as_json` (or a message alone)."""
        if isinstance(data, Problem):
            return data
        if isinstance(data, str):
            return cls(data)
        return cls(str(data.get("message", "")), data.get("sheet") or "", data.get("row"), data.get("column") or "")

    def __str__(self) -> str:
        where = []
        if self.sheet:
            where.append(_("sheet “%(sheet)s”") % {"sheet": self.sheet})
        if self.row is not None:
            where.append(_("row %(row)s") % {"row": self.row})
        if self.column:
            where.append(_("column %(column)s") % {"column": self.column})
        if not where:
            return self.message
        # Translators: a list of places in a spreadsheet (sheet, row, column), e.g. "sheet “P1”, row 4".
        place = _(", ").join(where)
        # Translators: where a problem of an uploaded spreadsheet is, then what it is.
        return _("%(place)s: %(message)s") % {"place": f"{place[0].upper()}{place[1:]}", "message": self.message}


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
    # How the sheet is laid out, for an import that reads a layout made by hand (an .xlsx only): its merged
    # ranges as (first column, first row, last column, last row), 1-based; the rows and columns Excel hides;
    # whether the sheet itself is hidden ("visible", "hidden" or "veryHidden"); the cells holding a formula,
    # as (row, column), 1-based (their value is the formula's text).
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    hidden_rows: set[int] = field(default_factory=set)
    hidden_columns: set[int] = field(default_factory=set)
    state: str = "visible"
    formula_cells: set[tuple[int, int]] = field(default_factory=set)

    def problem(self, message: str, *, row: int | None = None, column: int | None = None) -> Problem:
        """A problem at a 1-based row and column of this sheet."""
        return Problem(message, self.name, row, get_column_letter(column) if column else "")


# --- The words of every import: what a cell says, a yes or a no, a heading ------------------------------------

# What a person types for yes and for no, whatever the language of the workbook; the words of each of the
# product's languages (YES, NO, rendered in each) are added to these.
YES_WORDS = frozenset({"yes", "y", "true", "1", "x", "oui", "sí", "si"})
NO_WORDS = frozenset({"no", "n", "false", "0", "non"})
# Translators: the word a spreadsheet's yes/no drop-down offers for yes, in lower case.
YES = gettext_lazy("yes")
# Translators: the word a spreadsheet's yes/no drop-down offers for no, in lower case.
NO = gettext_lazy("no")


# --- Words in every language -------------------------------------------------------------------------------
#
# A workbook is written in its reader's language, and may come back from someone reading another: what a layout
# recognises (its headings, the labels of its drop-downs) is each label rendered in every language the product
# offers, normalised as headings are matched. Rendering them is costly (a catalogue lookup per label and
# language), so each vocabulary is built once per process and kept until the languages change.

_VOCABULARIES: dict[str, dict[str, Any]] = {}


def in_every_language(name: str, render: Callable[[], Iterable[tuple[Any, Any]]]) -> dict[str, Any]:
    """{heading_text(text): value} for every (text, value) `render()` gives, rendered in each language of
    settings.LANGUAGES and in English; the first language to give a text keeps it. Built once per `name`."""
    vocabulary = _VOCABULARIES.get(name)
    if vocabulary is None:
        vocabulary = {}
        for code in ("en", *(code for code, _name in settings.LANGUAGES)):
            with translation.override(code):
                for text, value in render():
                    vocabulary.setdefault(heading_text(text), value)
        _VOCABULARIES[name] = vocabulary
    return vocabulary


def vocabularies_clear() -> None:
    """Forget every vocabulary built: the next use renders them again (the catalogues or languages changed)."""
    _VOCABULARIES.clear()


def _languages_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("LANGUAGES", "LOCALE_PATHS", "LANGUAGE_CODE"):
        vocabularies_clear()


setting_changed.connect(_languages_changed)


def yes_no_words() -> dict[str, bool]:
    """Every word read as yes (True) or no (False), in every language."""
    return in_every_language(
        "yes_no",
        lambda: [
            *((word, True) for word in (YES, *YES_WORDS)),
            *((word, False) for word in (NO, *NO_WORDS)),
        ],
    )


def yes_no_label(value: bool) -> str:
    """The word a workbook writes for yes or no, in the reader's language."""
    return str(YES if value else NO)


def cell_text(value: Any) -> str:
    """A cell as the text it shows, ends trimmed: "" for an empty cell, 12 for 12.0 (Excel keeps whole numbers
    as floats), a date in ISO form, line breaks as "\n". Text written to a workbook reads back equal."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif hasattr(value, "isoformat"):
        value = value.isoformat()
    return str(value).replace("\r\n", "\n").strip()


def yes_no(value: Any) -> bool | None:
    """True for a yes word, False for a no word, None for an empty cell; ValueError for anything else."""
    text = heading_text(cell_text(value))
    if not text:
        return None
    answer = yes_no_words().get(text)
    if answer is None:
        raise ValueError(text)
    return answer


def heading_text(value: Any) -> str:
    """A heading as it is matched: spaces folded, case folded ("Unit  cost\n" is "unit cost")."""
    return " ".join(str(value or "").split()).casefold()


HEADER_SEARCH_ROWS = 5


def find_header(
    sheet: Sheet, *, required: Sequence[str], key: Callable[[Any], str]
) -> tuple[int, dict[str, int]] | None:
    """The header row (0-based) and its columns {key: position}: the first of the sheet's first few non-empty
    rows that holds every required column (a title may sit above it), else the first non-empty row; None for
    an empty sheet. `key` turns a heading into the name it is matched by."""
    found = None
    filled = (i for i, row in enumerate(sheet.rows) if any(str(v or "").strip() for v in row))
    for _position, index in zip(range(HEADER_SEARCH_ROWS), filled, strict=False):
        columns: dict[str, int] = {}
        for position, value in enumerate(sheet.rows[index]):
            columns.setdefault(key(value), position)
        if all(name in columns for name in required):
            return index, columns
        found = found or (index, columns)
    return found


def _mb(size: int) -> str:
    return number_text(size / (1024 * 1024), 0)


def _check_xlsx(data: bytes, limits: Limits, *, pass_over_vba: bool = False) -> zipfile.ZipFile:
    """The zip's directory, checked without unpacking anything: what it holds, how much, how compressed. With
    `pass_over_vba`, a macro-enabled workbook's VBA project is let through unread (nothing here runs it); macro and
    dialog sheets are refused all the same."""
    if data.startswith(OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data[:65536] or b"E\x00n\x00c\x00r\x00y\x00p\x00t" in data:
            raise ImportRefused([_("This workbook is protected with a password; remove the password and upload it.")])
        raise ImportRefused(
            [_("This is an old Excel file (.xls); save it as an Excel workbook (.xlsx) and upload that.")]
        )
    if not data.startswith(XLSX_MAGIC):
        raise ImportRefused([_("This is not an Excel workbook (.xlsx) or a CSV file.")])
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ImportRefused([_("This file is damaged: it is not a readable Excel workbook.")]) from error
    names = [member.filename for member in members]
    if "[Content_Types].xml" not in names or not any(name.startswith("xl/") for name in names):
        raise ImportRefused([_("This is not an Excel workbook (.xlsx).")])
    if any(name.startswith(MACRO_PARTS) and not (pass_over_vba and name == VBA_PROJECT) for name in names):
        raise ImportRefused([_("This workbook contains macros; save it as a plain .xlsx workbook and upload that.")])
    if any(name.startswith(EXTERNAL_LINK_PARTS) for name in names):
        raise ImportRefused(
            [_("This workbook links to other workbooks; break the links (Data, Edit Links) and upload it again.")]
        )
    if len(members) > limits.max_entries:
        raise ImportRefused(
            [_("This workbook has {count} parts, more than the {limit} a workbook here may have.").format(
                count=number_text(len(members)), limit=number_text(limits.max_entries))]
        )  # fmt: skip
    sheets = [name for name in names if _is_worksheet(name)]
    if len(sheets) > limits.max_sheets:
        raise ImportRefused(
            [_("This workbook has {count} sheets; this import reads at most {limit}.").format(
                count=number_text(len(sheets)), limit=number_text(limits.max_sheets))]
        )  # fmt: skip
    unpacked = sum(member.file_size for member in members)
    if unpacked > limits.max_unpacked_bytes or unpacked > limits.max_compression_ratio * max(len(data), 1):
        raise ImportRefused([_("This workbook unpacks to far more data than a spreadsheet holds; it was not read.")])
    for member in members:
        if member.flag_bits & 0x1:
            raise ImportRefused([_("This workbook is protected with a password; remove the password and upload it.")])
        big = member.file_size > limits.max_part_bytes
        if big and not _is_worksheet(member.filename) and member.filename != SHARED_STRINGS:
            raise ImportRefused(
                [_("Its part “{part}” unpacks to {size} MB, more than the {limit} MB a workbook part may have.").format(
                    part=member.filename, size=_mb(member.file_size), limit=_mb(limits.max_part_bytes))]
            )  # fmt: skip
    return archive


SHARED_STRINGS = "xl/sharedStrings.xml"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _is_worksheet(name: str) -> bool:
    return name.startswith("xl/worksheets/") and name.endswith(".xml") and name.count("/") == 2


@dataclass
class _Scan:
    """What a streaming pass over one XML part counted: start tags of interest, and all markup."""

    counts: dict[bytes, int]
    markup: int


def _head(archive: zipfile.ZipFile, part: str) -> bytes:
    """The first few kilobytes of a part, unpacked: its prolog, root element and (for a worksheet) dimension."""
    with archive.open(part) as stream:
        return stream.read(4096)


def _scan(
    archive: zipfile.ZipFile, part: str, tags: Sequence[bytes], *, stop: Callable[[dict[bytes, int]], bool]
) -> _Scan:
    """Count the start tags `tags` of one part while unpacking it a chunk at a time, never holding more than a
    chunk; `stop(counts)` ends the pass early (a limit is reached). A tag counts every element whose name starts
    with it (b"c" counts <col> and <cfRule> too): an upper bound, found at the speed of bytes.count. Refuses any
    document type declaration: a workbook never has one, and entity expansion (a billion laughs) needs it."""
    root = re.search(rb"<([A-Za-z_][\w.-]*:)?[A-Za-z_][\w.-]*[\s>/]", _strip_prolog(_head(archive, part)))
    prefix = (root.group(1) or b"") if root else b""
    patterns = [(tag, b"<" + prefix + tag) for tag in tags]
    counts = dict.fromkeys(tags, 0)
    markup = 0
    carry = b""
    keep = 64
    with archive.open(part) as stream:
        while True:
            chunk = stream.read(CHUNK)
            buffer = carry + chunk
            if b"<!" in buffer and (b"<!DOCTYPE" in buffer or b"<!ENTITY" in buffer):
                raise ImportRefused([_("This workbook holds XML no spreadsheet has (a document type declaration).")])
            # What starts before `cut` is counted now, the rest with the next chunk.
            cut = max(len(buffer) - keep, 0) if chunk else len(buffer)
            for tag, pattern in patterns:
                counts[tag] += buffer.count(pattern, 0, cut + len(pattern) - 1)
            markup += buffer.count(b"<", 0, cut)
            if not chunk or stop(counts):
                break
            carry = buffer[cut:]
    return _Scan(counts, markup)


def _strip_prolog(head: bytes) -> bytes:
    return re.sub(rb"<\?.*?\?>|<!--.*?-->", b"", head, flags=re.S)


_DIMENSION = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref="([A-Za-z]{1,3}\d{1,7}(?::[A-Za-z]{1,3}\d{1,7})?)"')


def _declared_size(head: bytes) -> tuple[str, int, int] | None:
    """The range a worksheet declares it uses, with its rows and cells, from the <dimension> near its start."""
    found = _DIMENSION.search(head)
    if found is None:
        return None
    ref = found.group(1).decode()
    try:
        first_column, first_row, last_column, last_row = range_boundaries(ref if ":" in ref else f"{ref}:{ref}")
    except (ValueError, TypeError):
        return None
    rows = max(last_row - first_row + 1, 1)
    return ref, rows, rows * max(last_column - first_column + 1, 1)


def _shared_strings_check(archive: zipfile.ZipFile, limits: Limits) -> None:
    if SHARED_STRINGS not in archive.namelist():
        return
    scan = _scan(archive, SHARED_STRINGS, [b"si"], stop=lambda counts: counts[b"si"] > limits.max_cells)
    strings = scan.counts[b"si"]
    if strings > limits.max_cells:
        raise ImportRefused(
            [_("This workbook holds more than {limit} different texts, more than this import reads.").format(
                limit=number_text(limits.max_cells))]
        )  # fmt: skip
    if scan.markup > 64 * strings + 10_000:
        raise ImportRefused([_("This workbook's texts hold far more markup than text; it was not read.")])


def _worksheet_check(archive: zipfile.ZipFile, part: str, title: str, limits: Limits, cells_before: int) -> int:
    """Refuse a sheet that declares, or really has, more rows or cells than the import reads, before building
    any cell: its <dimension>, then a streaming count of its rows and cells that stops at the limit. Returns the
    number of cells (at most the limit)."""
    problem = Sheet(title).problem
    budget = limits.max_cells - cells_before

    def over(counts: dict[bytes, int]) -> bool:
        return counts[b"c"] > budget or counts[b"row"] > limits.max_rows

    declared = _declared_size(_head(archive, part))
    if declared is not None:
        ref, rows, cells = declared
        if rows > limits.max_rows:
            message = _("it declares the range {range}: {rows:,} rows, more than {limit:,} rows; split the file.")
            raise ImportRefused([problem(message.format(range=ref, rows=rows, limit=limits.max_rows))])
        if cells > limits.max_cells:
            message = _(
                "it declares the range {range}: {cells:,} cells, more than the {limit:,} cells this import reads."
            )
            raise ImportRefused([problem(message.format(range=ref, cells=cells, limit=limits.max_cells))])
    scan = _scan(archive, part, [b"c", b"row"], stop=over)
    rows, cells = scan.counts[b"row"], scan.counts[b"c"]
    if rows > limits.max_rows:
        raise ImportRefused(
            [problem(_("more than {limit} rows; split the file.").format(limit=number_text(limits.max_rows)))]
        )
    if cells > budget:
        raise ImportRefused(
            [problem(_("the workbook has more than {limit} cells, more than this import reads; split the file or "
                       "remove what it does not need.").format(limit=number_text(limits.max_cells)))]
        )  # fmt: skip
    if scan.markup > 16 * cells + 4 * rows + 50_000:
        raise ImportRefused([problem(_("it holds far more markup than its cells need; it was not read."))])
    return cells


# Counts the cells the parser built, for the tests that show a refused file was stopped before its cells.
cells_built = 0


def _sheet_cells(
    workbook: Any, part: str, title: str, layout: Sheet | None = None
) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Each row of one worksheet as (row number, its cells), parsed one row at a time: only values are kept,
    whatever else the sheet holds is dropped as soon as it is read, and the declared dimension is ignored (a
    lying one would otherwise be filled with empty cells). The merged ranges and the hidden rows and columns
    are noted on `layout` as they pass."""
    global cells_built
    problem = Sheet(title).problem
    with workbook._archive.open(part) as source:
        parser = WorkSheetParser(
            source,
            workbook.shared_strings,
            data_only=False,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        stack: list[Any] = []
        row_depth: int | None = None
        for event, element in iterparse(source, events=("start", "end")):
            if event == "start":
                stack.append(element)
                if len(stack) > MAX_XML_DEPTH:
                    raise ImportRefused(
                        [problem(_("its XML is nested far deeper than a worksheet's; it was not read."))]
                    )
                if element.tag == ROW_TAG and row_depth is None:
                    row_depth = len(stack)
                continue
            stack.pop()
            if element.tag == ROW_TAG and row_depth == len(stack) + 1:
                row_depth = None
                hidden = element.get("hidden") in ("1", "true")
                number, cells = parser.parse_row(element)
                if layout is not None and hidden:
                    layout.hidden_rows.add(number)
                cells_built += len(cells)
                yield number, cells
            elif row_depth is not None:
                continue  # part of a row: read with it
            elif layout is not None:
                _note_layout(layout, element)
            element.clear()
            if stack:
                stack[-1].remove(element)  # its earlier siblings are gone already: this is quick


_COL_TAG = f"{{{MAIN_NS}}}col"
_MERGE_TAG = f"{{{MAIN_NS}}}mergeCell"
MAX_HIDDEN_SPAN = 16_384  # Excel's columns: a <col> hiding more is bounded to them


def _note_layout(layout: Sheet, element: Any) -> None:
    """Note a hidden column range or a merged range of the sheet being read."""
    with contextlib.suppress(TypeError, ValueError):
        if element.tag == _COL_TAG and element.get("hidden") in ("1", "true"):
            first = int(element.get("min") or 0)
            last = min(int(element.get("max") or first), first + MAX_HIDDEN_SPAN, MAX_HIDDEN_SPAN)
            layout.hidden_columns.update(range(first, last + 1))
        elif element.tag == _MERGE_TAG and len(layout.merged) < MAX_HIDDEN_SPAN:
            first_column, first_row, last_column, last_row = range_boundaries(element.get("ref") or "")
            if None not in (first_column, first_row, last_column, last_row):
                layout.merged.append((first_column, first_row, last_column, last_row))


def _sheet_titles(archive: zipfile.ZipFile) -> dict[str, str]:
    """Every worksheet part of the zip, with the sheet's title where the workbook names it (else the part)."""
    titles = {name: name.rsplit("/", 1)[-1] for name in archive.namelist() if _is_worksheet(name)}
    relationships = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    with contextlib.suppress(KeyError, ParseError, DefusedXmlException, ValueError):
        targets = {
            rel.get("Id"): rel.get("Target", "")
            for rel in defused_fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        }
        for sheet in defused_fromstring(archive.read("xl/workbook.xml")).iter(f"{{{MAIN_NS}}}sheet"):
            target = targets.get(sheet.get(relationships), "")
            part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            if part in titles:
                titles[part] = sheet.get("name") or titles[part]
    return titles


def _read_xlsx(data: bytes, *, limits: Limits, refuse_formulas: bool, pass_over_vba: bool = False) -> list[Sheet]:
    archive = _check_xlsx(data, limits, pass_over_vba=pass_over_vba)
    try:
        _shared_strings_check(archive, limits)
        for part in archive.namelist():
            if part.endswith((".xml", ".rels")) and not _is_worksheet(part) and part != SHARED_STRINGS:
                _scan(archive, part, [], stop=lambda counts: False)  # refuses a document type declaration
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError) as error:
        raise ImportRefused([_("This file is damaged: it is not a readable Excel workbook.")]) from error
    # Every sheet is measured before openpyxl opens the workbook: opening reads a sheet without a <dimension>
    # whole to find its size.
    try:
        cells = 0
        checked = _sheet_titles(archive)
        for part, title in checked.items():
            cells += _worksheet_check(archive, part, title, limits, cells)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError) as error:
        raise ImportRefused([_("This file is damaged: it is not a readable Excel workbook.")]) from error
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise ImportRefused(
            [_("This workbook could not be read (%(error)s).") % {"error": type(error).__name__}]
        ) from error
    sheets = []
    try:
        for worksheet in workbook.worksheets:
            if not hasattr(worksheet, "_worksheet_path"):  # a chart sheet
                continue
            if worksheet._worksheet_path.lstrip("/") not in checked:  # kept where Excel keeps none: never measured
                raise ImportRefused([_("This workbook keeps a sheet where Excel never does; it was not read.")])
            sheets.append(_read_worksheet(workbook, worksheet, limits))
    except ImportRefused:
        raise
    except (
        ParseError,
        DefusedXmlException,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        TypeError,
        OSError,
        EOFError,
    ) as error:
        raise ImportRefused(
            [_("This workbook could not be read (%(error)s).") % {"error": type(error).__name__}]
        ) from error
    finally:
        workbook.close()
    formulas = [problem for sheet in sheets for problem in sheet.formulas]
    if formulas and refuse_formulas:
        raise ImportRefused(formulas)
    return sheets


def _read_worksheet(workbook: Any, worksheet: Any, limits: Limits) -> Sheet:
    sheet = Sheet(worksheet.title, state=getattr(worksheet, "sheet_state", None) or "visible")
    for number, cells in _sheet_cells(workbook, worksheet._worksheet_path, worksheet.title, sheet):
        if number > limits.max_rows:
            raise ImportRefused(
                [sheet.problem(_("more than {limit} rows; split the file.").format(limit=number_text(limits.max_rows)))]
            )
        while len(sheet.rows) < number - 1:
            sheet.rows.append([])
        last = max((cell["column"] for cell in cells), default=0)
        if last > limits.max_columns:
            raise ImportRefused(
                [sheet.problem(_("a cell beyond column {limit}; this import reads no further.").format(
                    limit=number_text(limits.max_columns)), row=number, column=last)]
            )  # fmt: skip
        values: list[Any] = [None] * last
        for cell in cells:
            column = cell["column"]
            if cell.get("data_type") == "f":
                sheet.formulas.append(sheet.problem(_("a formula; type the value instead."), row=number, column=column))
                sheet.formula_cells.add((number, column))
            values[column - 1] = cell["value"]
        while values and values[-1] in (None, ""):
            values.pop()
        if len(sheet.rows) >= number:  # a row repeated out of order: keep the first, as Excel would not write it
            continue
        sheet.rows.append(values)
    while sheet.rows and not sheet.rows[-1]:
        sheet.rows.pop()
    return sheet


def _read_csv(data: bytes, *, name: str, limits: Limits, tabs: bool = False) -> list[Sheet]:
    """The one "sheet" of a CSV file, its separator guessed (comma, semicolon or tab); of a .tsv with `tabs`,
    always the tab."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRefused([_("This CSV file is saved as UTF-16 text; save it as “CSV UTF-8” and upload that.")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefused([_("This CSV file is not UTF-8 text; save it as “CSV UTF-8”.")]) from error
    if "\x00" in text:
        raise ImportRefused([_("This is not a CSV file.")])
    sheet = Sheet(name)
    for number, line in enumerate(io.StringIO(text), start=1):
        if len(line) > limits.max_line_chars:
            message = _("a line of more than {limit:,} characters; this is not a table this import reads.")
            raise ImportRefused([sheet.problem(message.format(limit=limits.max_line_chars), row=number)])
    dialect: type[csv.Dialect] = csv.excel_tab if tabs else csv.excel
    if not tabs:
        with contextlib.suppress(csv.Error):
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    cells = 0
    rows = csv.reader(io.StringIO(text), dialect)
    try:
        for row_number, row in enumerate(rows, start=1):
            if row_number > limits.max_rows:
                raise ImportRefused(
                    [
                        sheet.problem(
                            _("more than {limit} rows; split the file.").format(limit=number_text(limits.max_rows))
                        )
                    ]
                )
            if len(row) > limits.max_columns:
                message = _("more than {limit:,} columns; this import reads no further.")
                raise ImportRefused([sheet.problem(message.format(limit=limits.max_columns), row=row_number)])
            cells += len(row)
            if cells > limits.max_cells:
                message = _("the file has more than {limit:,} cells, more than this import reads; split the file.")
                raise ImportRefused([sheet.problem(message.format(limit=limits.max_cells), row=row_number)])
            values = [value.strip() for value in row]
            while values and values[-1] == "":
                values.pop()
            sheet.rows.append(values)
    except csv.Error as error:
        message = _("this row cannot be read as CSV ({error}).").format(error=error)
        raise ImportRefused([sheet.problem(message, row=rows.line_num)]) from error
    while sheet.rows and not sheet.rows[-1]:
        sheet.rows.pop()
    return [sheet]


def read_spreadsheet(
    upload: IO[bytes],
    *,
    name: str = "",
    limits: Limits | str | None = None,
    max_rows: int | None = None,
    formulas: Literal["refuse", "report"] = "refuse",
    macros: Literal["refuse", "pass_over"] = "refuse",
) -> list[Sheet]:
    """Every sheet of an uploaded .xlsx, or the one "sheet" of a .csv or a .tsv (tab-separated), after the safety
    checks above.

    `limits` are the import's (`limits_for(name)`, or a name of IMPORT_LIMITS); `max_rows` narrows them. A cell
    holding a formula refuses the file; with `formulas="report"` the sheets are returned, the cell keeps the
    formula's text and its problem is in `Sheet.formulas`, for the caller to list with the rest. A macro-enabled
    workbook is refused; with `macros="pass_over"` an .xlsm (a tool distributed with macros, as WHO's costing tool is)
    is read as the workbook it also is, its VBA project passed over unread and never run."""
    if formulas not in ("refuse", "report"):
        raise ValueError(f"formulas must be 'refuse' or 'report', not {formulas!r}")
    chosen = limits_for(limits) if isinstance(limits, str) else limits or limits_for("default")
    if max_rows is not None:
        chosen = chosen.replace(max_rows=max_rows)
    name = name or getattr(upload, "name", "") or "upload"
    data = upload.read(chosen.max_bytes + 1)
    if len(data) > chosen.max_bytes:
        raise ImportRefused([_("The file is larger than {limit} MB.").format(limit=_mb(chosen.max_bytes))])
    if not data:
        raise ImportRefused([_("The file is empty.")])
    lower = name.lower()
    pass_over_vba = macros == "pass_over"
    if lower.endswith((".xlsm", ".xltm", ".xlsb", ".xls")) and not (pass_over_vba and lower.endswith(".xlsm")):
        raise ImportRefused([_("Only .xlsx workbooks and .csv files can be imported; save the file as .xlsx.")])
    if lower.endswith((".csv", ".tsv")) and not data.startswith((XLSX_MAGIC, OLE_MAGIC)):
        return _read_csv(data, name=name.rsplit("/", 1)[-1], limits=chosen, tabs=lower.endswith(".tsv"))
    return _read_xlsx(data, limits=chosen, refuse_formulas=formulas == "refuse", pass_over_vba=pass_over_vba)
