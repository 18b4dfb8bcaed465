"""The layout of the WHO NAPHS planning and costing tool: its sheets, its columns, and how a row of it reads.

The headings are WHO's own, in English, as the WHO tool writes and reads them: they are data of that layout,
never translated (the sheets' instructions, and the problems an import reports, are in the reader's language).
One sheet per technical area, titled with the area's code and short name, a title block, then the header row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from costing.models import CostCategory
from naphs.spreadsheets import Problem, Sheet, cell_text, heading_text

if TYPE_CHECKING:
    from planning.models import Plan, TechnicalArea

WHO_YEARS = 5
TITLE_ROWS = 3  # the title block above the header row
SHEET_TITLE_MAX = 31  # Excel's limit
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\\/*?:\[\]]")


# --- The columns -----------------------------------------------------------------------------------------------


def who_headers(plan: Plan, currency: str) -> list[tuple[str, str]]:
    """The header row as (key, title), in the WHO tool's order, in WHO's English whatever the reader's language
    (the WHO tool reads these headings: they are the layout's data, not the product's text). Years are labelled
    with the plan's calendar years; a year after the plan's last one keeps its bare label."""

    def year_label(number: int, *extra: str) -> str:
        year = plan.first_year + number - 1
        inside = [str(year)] if year <= plan.last_year else []
        inside += extra
        return f" ({', '.join(inside)})" if inside else ""

    columns = [
        ("uid", "Unique ID"),
        ("indicator", "Indicator"),
        ("objective", "Objective"),
        ("summary", "Summary of key activities"),
        ("description", "Detailed activity description"),
        ("assumptions", "Detailed cost assumptions"),
        ("responsible", "Responsible authority (budget holder)"),
        ("scale", "Implementation scale"),
        ("technical_comment", "Comments (technical)"),
        ("costing_comment", "Comments (costing)"),
        ("programme", "Related existing plan or programme"),
        ("existing_budget", "Existing budget (Y/N)"),
        ("budget_source", "Existing budget source"),
        ("estimated_cost", f"Estimated cost (local currency, {currency})"),
    ]
    columns += [(f"frequency_{n}", f"Frequency Y{n}{year_label(n)}") for n in range(1, WHO_YEARS + 1)]
    columns += [(f"cost_{n}", f"Cost estimate Y{n}{year_label(n, currency)}") for n in range(1, WHO_YEARS + 1)]
    columns += [
        ("total", f"Total cost over 5 years ({currency})"),
        ("category_1", "Cost category 1"),
        ("category_2", "Cost category 2"),
    ]
    return columns


# How a heading is recognised on import, whatever its case, spacing, currency or year label.
_HEADINGS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^unique id"), "uid"),
    (re.compile(r"^indicator"), "indicator"),
    (re.compile(r"^objective"), "objective"),
    (re.compile(r"^summary of key activit"), "summary"),
    (re.compile(r"^detailed activity description"), "description"),
    (re.compile(r"^detailed cost assumption"), "assumptions"),
    (re.compile(r"^responsible authority"), "responsible"),
    (re.compile(r"^implementation scale"), "scale"),
    (re.compile(r"^comments? \(technical"), "technical_comment"),
    (re.compile(r"^comments? \(costing"), "costing_comment"),
    (re.compile(r"^related existing plan"), "programme"),
    (re.compile(r"^existing budget source"), "budget_source"),
    (re.compile(r"^existing budget"), "existing_budget"),
    (re.compile(r"^estimated cost"), "estimated_cost"),
    (re.compile(r"^frequency (?:y|year )?([1-5])\b"), "frequency_{}"),
    (re.compile(r"^cost estimate (?:y|year )?([1-5])\b"), "cost_{}"),
    (re.compile(r"^total cost"), "total"),
    (re.compile(r"^cost category ?([12])\b"), "category_{}"),
]
COLUMN_KEYS = frozenset(
    {
        "uid",
        "indicator",
        "objective",
        "summary",
        "description",
        "assumptions",
        "responsible",
        "scale",
        "technical_comment",
        "costing_comment",
        "programme",
        "existing_budget",
        "budget_source",
        "estimated_cost",
        "total",
        "category_1",
        "category_2",
        *(f"frequency_{n}" for n in range(1, WHO_YEARS + 1)),
        *(f"cost_{n}" for n in range(1, WHO_YEARS + 1)),
    }
)
REQUIRED_KEYS = ("uid", "summary", "estimated_cost", "frequency_1", "category_1")
REQUIRED_TITLES = {
    "uid": "Unique ID",
    "summary": "Summary of key activities",
    "estimated_cost": "Estimated cost",
    "frequency_1": "Frequency Y1",
    "category_1": "Cost category 1",
}


def heading_key(value: Any) -> str:
    """The column a heading names (a key of `who_headers`), or the heading itself when it names none."""
    text = heading_text(value)
    for pattern, key in _HEADINGS:
        if match := pattern.match(text):
            return key.format(*match.groups())
    return text


def sheet_titles(areas: Iterable[TechnicalArea]) -> dict[int, str]:
    """{area id: sheet title}: the area's code and name, cut to Excel's 31 characters, unique."""
    titles: dict[int, str] = {}
    used: set[str] = set()
    for area in areas:
        base = " ".join(_SHEET_TITLE_FORBIDDEN.sub(" ", f"{area.code} {area.local_name}").split())
        title = base[:SHEET_TITLE_MAX].rstrip()
        number = 2
        while title.casefold() in used:  # Excel compares sheet titles without case
            suffix = f" ({number})"
            title = base[: SHEET_TITLE_MAX - len(suffix)].rstrip() + suffix
            number += 1
        used.add(title.casefold())
        titles[area.pk] = title
    return titles


MONEY_FORMAT = "#,##0.00"
WIDTHS = {
    "uid": 10,
    "indicator": 34,
    "objective": 40,
    "summary": 44,
    "description": 40,
    "assumptions": 34,
    "responsible": 30,
    "scale": 14,
    "technical_comment": 28,
    "costing_comment": 28,
    "programme": 26,
    "existing_budget": 10,
    "budget_source": 24,
    "estimated_cost": 16,
    "total": 16,
    "category_1": 24,
    "category_2": 24,
}


UID = re.compile(r"^(?P<area>.+?)\.(?P<activity>\d{1,6})\.(?P<line>\d{1,6})$")
YEAR_IN_HEADING = re.compile(r"\((?:[^)]*\D)?(\d{4})\b")
CURRENCY_IN_HEADING = re.compile(r"\b([A-Z]{3})\b")
# Activity fields the file gives once per activity (in every row of it).
ACTIVITY_KEYS = ("summary", "indicator", "responsible", "scale", "programme", "existing_budget", "budget_source")
LINE_KEYS = (
    "description",
    "assumptions",
    "technical_comment",
    "costing_comment",
    "estimated_cost",
    *(f"frequency_{n}" for n in range(1, WHO_YEARS + 1)),
    *(f"cost_{n}" for n in range(1, WHO_YEARS + 1)),
    "total",
    "category_1",
    "category_2",
)
# Where a service's complaint about a field shows up in the sheet.
ACTIVITY_FIELD_COLUMNS = {
    "title": "summary",
    "description": "objective",
    "indicators": "indicator",
    "responsible_organization": "responsible",
    "implementation_level": "scale",
    "related_programme": "programme",
    "existing_budget": "existing_budget",
    "existing_budget_source": "budget_source",
}
LINE_FIELD_COLUMNS = {
    "description": "description",
    "category": "category_1",
    "secondary_category": "category_2",
    "unit_cost": "estimated_cost",
    "quantity": "estimated_cost",
    "currency": "estimated_cost",
    "catalogue_item": "estimated_cost",
    "assumptions": "assumptions",
    "technical_comment": "technical_comment",
    "costing_comment": "costing_comment",
    "frequencies": "frequency_1",
    "recurrence": "frequency_1",
}
# Category names the WHO tool and ministries commonly use, beside the product's own labels and codes.
CATEGORY_SYNONYMS = {
    "meeting": CostCategory.MEETINGS,
    "meetings": CostCategory.MEETINGS,
    "workshop": CostCategory.MEETINGS,
    "workshops": CostCategory.MEETINGS,
    "per diem": CostCategory.PER_DIEM_TRAVEL,
    "travel": CostCategory.PER_DIEM_TRAVEL,
    "consultant": CostCategory.CONSULTANCY,
    "consultants": CostCategory.CONSULTANCY,
    "staff": CostCategory.PERSONNEL,
    "salaries": CostCategory.PERSONNEL,
    "supplies": CostCategory.SUPPLIES,
    "commodities": CostCategory.SUPPLIES,
    "printing": CostCategory.COMMUNICATION,
    "communication": CostCategory.COMMUNICATION,
}


def blank(value: Any) -> bool:
    return not cell_text(value)


@dataclass
class Row:
    """One data row of an area sheet."""

    sheet: Sheet
    number: int  # as in Excel
    columns: dict[str, int]  # column key -> 0-based position
    titles: dict[str, str]  # column key -> the heading as written
    values: list[Any]
    area: TechnicalArea
    activity_number: int = 0
    line_number: int = 0

    @property
    def uid(self) -> str:
        return f"{self.area.code}.{self.activity_number}.{self.line_number}"

    def get(self, key: str) -> Any:
        position = self.columns.get(key)
        return self.values[position] if position is not None and position < len(self.values) else None

    def text(self, key: str) -> str:
        return cell_text(self.get(key))

    def problem(self, key: str | None, message: str) -> Problem:
        position = self.columns.get(key) if key else None
        return self.sheet.problem(message, row=self.number, column=position + 1 if position is not None else None)

    def has_line(self) -> bool:
        return any(not blank(self.get(key)) for key in LINE_KEYS)
