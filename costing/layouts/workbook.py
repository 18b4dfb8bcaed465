"""The costing workbook's layout: its sheets, its columns and their headings, and how an area sheet reads.

A workbook is written in its reader's language (headings, the instructions, the drop-downs' labels) and read
back whatever language it was written in: each heading and label is recognised in every language the product
offers (naphs.spreadsheets.in_every_language). The hidden sheets (the lists behind the drop-downs, the
workbook's signed identity) and the hidden columns keep fixed names: they are the product's own data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl.utils import get_column_letter

from costing.models import CostCategory, CostLine, Unit
from costing.services import CATALOGUE_FIELDS
from naphs.spreadsheets import HEADER_SEARCH_ROWS, Sheet, cell_text, heading_text, in_every_language

if TYPE_CHECKING:
    from planning.models import Plan

# Translators: the name of the costing workbook's first sheet, at most 31 characters.
INSTRUCTIONS_SHEET = _("Instructions")
LISTS_SHEET = "Lists"  # hidden: the drop-downs' values; their formulas name it
META_SHEET = "Workbook"  # very hidden: the workbook's signed identity
TITLE_ROW, HEADER_ROW, FIRST_DATA_ROW = 1, 2, 3
ACTIVITY_MARK = "activity"  # in the hidden first column of an activity's row

# The headings of the columns, in order; the years (one column each) come between quantity and recurrence.
TITLES: dict[str, Any] = {
    "line": _("Line id"),
    "version": _("Version"),
    # Translators: heading of a hidden column holding a checksum of the line's values.
    "check": _("Check"),
    "activity": _("Activity"),
    "description": _("Description"),
    "category": _("Category"),
    "unit": _("Unit"),
    "unit_cost": _("Unit cost"),
    "currency": _("Currency"),
    "price_year": _("Price year"),
    "quantity": _("Quantity"),
    "recurrence": _("One-off or recurring"),
    "optional": _("Optional (yes/no)"),
    "assumptions": _("Assumptions"),
    # Translators: heading of the column in which a person writes "yes" to delete a cost line.
    "remove": _("Remove (yes)"),
    "catalogue": _("From the catalogue"),
}
WIDTHS = {"line": 8, "version": 8, "check": 8, "activity": 9, "description": 42, "category": 26, "unit": 13,
          "unit_cost": 13, "currency": 10, "price_year": 10, "quantity": 10, "recurrence": 17, "optional": 12,
          "assumptions": 42, "remove": 11, "total": 22, "catalogue": 26}  # fmt: skip
LOCKED_KEYS = frozenset({"line", "version", "check", "activity", "total", "catalogue"})
# The columns an uploaded sheet must have (the year columns are found by their heading).
REQUIRED_KEYS = ("line", "version", "check", "description", "category", "unit", "unit_cost", "currency",
                 "price_year", "quantity", "recurrence", "optional", "assumptions", "remove")  # fmt: skip
HIDDEN_KEYS = frozenset({"line", "version", "check"})
# What the person types (every column but the hidden ones and "remove"); a row with all of these empty is unused.
INPUT_KEYS = tuple(key for key in REQUIRED_KEYS if key not in HIDDEN_KEYS and key != "remove")
# Cells a catalogue line takes from its item: locked in the workbook, refused if changed.
CATALOGUE_KEYS = frozenset(CATALOGUE_FIELDS)
_YEAR = re.compile(r"\b\d{4}\b")
_ANY_YEAR = "0000"


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: float
    editable: bool = True


def year_title(year: int | str) -> str:
    # Translators: heading of the column of how many times a cost occurs in a year of the plan.
    return gettext("Times in %(year)s") % {"year": year}


def workbook_columns(plan: Plan, currency: str) -> list[Column]:
    """The columns of every technical-area sheet, in order, headed in the current language. Years follow the
    plan's period."""

    def column(key: str, title: Any = None) -> Column:
        return Column(key, str(title or TITLES[key]), WIDTHS.get(key, 10), editable=key not in LOCKED_KEYS)

    before = ("line", "version", "check", "activity", "description", "category", "unit", "unit_cost", "currency",
              "price_year", "quantity")  # fmt: skip
    total = gettext("Total %(currency)s at download (recomputed on upload)") % {"currency": currency}
    return [
        *(column(key) for key in before),
        *(column(f"year:{year}", year_title(year)) for year in range(plan.first_year, plan.last_year + 1)),
        *(column(key) for key in ("recurrence", "optional", "assumptions", "remove")),
        column("total", total),
        column("catalogue"),
    ]


# --- Recognising what a sheet says, in any language -----------------------------------------------------------


def _headings() -> dict[str, str]:
    return in_every_language(
        "costing_workbook.headings",
        lambda: [*((title, key) for key, title in TITLES.items()), (year_title(_ANY_YEAR), "year")],
    )


def heading_key(value: Any) -> str:
    """The column a heading names ("quantity", "year:2026"), in any of the product's languages; else the heading
    as matched (heading_text)."""
    text = heading_text(value)
    years = _YEAR.findall(text)
    if len(years) == 1 and _headings().get(_YEAR.sub(_ANY_YEAR, text)) == "year":
        return f"year:{years[0]}"
    return _headings().get(text, text)


def is_reserved_sheet(name: str) -> bool:
    """The instructions (in any language) and the hidden sheets: no cost lines there."""
    reserved = in_every_language(
        "costing_workbook.sheets", lambda: [(INSTRUCTIONS_SHEET, True), (LISTS_SHEET, True), (META_SHEET, True)]
    )
    return heading_text(name) in reserved


def recurrence_words() -> dict[str, str]:
    """What a person may write for one-off or recurring: the labels in every language, the codes, and a few
    English spellings."""
    return in_every_language(
        "costing_workbook.recurrence",
        lambda: [
            *((label, value) for value, label in CostLine.Recurrence.choices),
            *((value, value) for value in CostLine.Recurrence.values),
            *((word, CostLine.Recurrence.ONE_OFF) for word in ("one off", "oneoff", "once")),
        ],
    )


def category_words() -> dict[str, str]:
    return in_every_language(
        "costing_workbook.categories",
        lambda: [*((label, value) for value, label in CostCategory.choices), *((v, v) for v in CostCategory.values)],
    )


def unit_words() -> dict[str, str]:
    return in_every_language(
        "costing_workbook.units",
        lambda: [*((label, value) for value, label in Unit.choices), *((v, v) for v in Unit.values)],
    )


# --- Reading an area sheet ------------------------------------------------------------------------------------


def whole(value: Any) -> int | None:
    """A whole number a cell holds (12, 12.0, " 12 "), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


@dataclass
class Row:
    """One row of an area sheet, read but not yet checked."""

    sheet: str
    number: int
    activity_id: int | None
    cells: dict[str, Any]
    years: dict[int, Any]
    line_id: int | None = None
    version: int | None = None
    check: str = ""

    @property
    def blank(self) -> bool:
        return all(cell_text(self.cells.get(key)) == "" for key in INPUT_KEYS) and all(
            cell_text(value) == "" for value in self.years.values()
        )


# note(message, sheet=, row=, key=, column=): how the reader reports what it finds wrong.
Note = Callable[..., None]


def _has_activities(sheet: Sheet, after: int) -> bool:
    return any(row and str(row[0]).strip().lower() == ACTIVITY_MARK for row in sheet.rows[after + 1 :])


def _header(sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    """The header row (0-based) and {column key: position}: of the sheet's first rows, the one naming most of
    the required columns; None when none names any."""
    best: tuple[int, dict[str, int]] | None = None
    found = 0
    for index, values in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for position, value in enumerate(values):
            columns.setdefault(heading_key(value), position)
        count = sum(key in columns for key in REQUIRED_KEYS)
        if count > found:
            best, found = (index, columns), count
    return best


def _heading_problems(sheet: Sheet, header: int, columns: dict[str, int], plan: Plan, note: Note) -> None:
    """Each required heading the header row lacks, at the cell where the layout has it."""
    layout = [column.key for column in workbook_columns(plan, "")]
    values = sheet.rows[header]
    for key in REQUIRED_KEYS:
        if key in columns:
            continue
        position = layout.index(key)
        letter = get_column_letter(position + 1)
        found = cell_text(values[position]) if position < len(values) else ""
        if found:
            message = gettext(
                "“%(found)s” in cell %(cell)s is not a heading of the costing workbook: this column is “%(expected)s”;"
                " write the heading back or download a fresh workbook."
            ) % {"found": found, "cell": f"{letter}{header + 1}", "expected": TITLES[key]}
        else:
            message = gettext("the column “%(expected)s” is missing (cell %(cell)s); download a fresh workbook.") % {
                "expected": TITLES[key],
                "cell": f"{letter}{header + 1}",
            }
        note(message, sheet=sheet.name, row=header + 1, column=letter)


def area_rows(sheets: list[Sheet], plan: Plan, note: Note) -> tuple[list[Row], int]:
    """The rows of every area sheet worth checking (an activity's rows are skipped, blank rows too), and how
    many area sheets there were. What cannot be read is noted: a heading the sheet lacks, a year column the
    plan's period now has, an altered activity row or hidden line number."""
    rows: list[Row] = []
    area_sheets = 0
    plan_years = set(range(plan.first_year, plan.last_year + 1))
    for sheet in sheets:
        if is_reserved_sheet(sheet.name):
            continue
        found = _header(sheet)
        if found is None:
            continue
        header_index, headings = found
        if any(key not in headings for key in REQUIRED_KEYS):
            if _has_activities(sheet, header_index):
                _heading_problems(sheet, header_index, headings, plan, note)
            continue
        area_sheets += 1
        positions = {key: headings[key] for key in REQUIRED_KEYS}
        year_positions = {int(key[5:]): index for key, index in headings.items() if key.startswith("year:")}
        for year in sorted(plan_years - set(year_positions)):
            message = gettext(
                "the column “%(heading)s” is missing: the plan's period changed since the download; download a "
                "fresh workbook."
            ) % {"heading": year_title(year)}
            note(message, sheet=sheet.name, row=header_index + 1)
        activity_id: int | None = None
        for index in range(header_index + 1, len(sheet.rows)):
            values = sheet.rows[index]

            def cell(position: int, values: list = values) -> Any:
                return values[position] if position < len(values) else None

            number = index + 1
            mark = cell(positions["line"])
            if isinstance(mark, str) and mark.strip().lower() == ACTIVITY_MARK:
                activity_id = whole(cell(positions["version"]))
                if activity_id is None:
                    note(gettext("this activity row was altered."), sheet=sheet.name, row=number, key="activity")
                continue
            row = Row(
                sheet=sheet.name,
                number=number,
                activity_id=activity_id,
                cells={key: cell(position) for key, position in positions.items()},
                years={year: cell(position) for year, position in year_positions.items()},
            )
            if mark not in (None, ""):
                row.line_id = whole(mark)
                row.version = whole(cell(positions["version"]))
                row.check = cell_text(cell(positions["check"]))
                if row.line_id is None or row.version is None:
                    message = gettext("this row's hidden line number was altered.")
                    note(message, sheet=row.sheet, row=row.number, key="line")
                    continue
            elif row.blank:
                continue
            rows.append(row)
    return rows, area_sheets
