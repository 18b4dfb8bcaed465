"""The layout of the WHO NAPHS planning and costing tool, as WHO distributes it: its sheet, its columns, and how
a row of it reads.

One sheet, "Costing Tool": a title block (rows 1–4), group labels over the header (row 5), the header (row 6,
columns A–Z in WHO's order and words), an explanatory row under it (row 7), one row per cost input of an
activity, then a totals block. Cost-builder columns (unit cost, quantity, ...) may follow to the right of Z, and
the product adds its own identifier of each row after them ("NAPHS Planner ID").

The headings are WHO's own, in English, as the WHO tool writes them: they are data of that layout, never
translated (the explanatory row, and the problems an import reports, are in the reader's language).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from costing.models import CostCategory
from naphs.spreadsheets import Problem, Sheet, cell_text, heading_text

if TYPE_CHECKING:
    from planning.models import Plan, TechnicalArea

WHO_YEARS = 5
SHEET_NAME = "Costing Tool"
HEADER_ROW = 6  # where WHO's tool has it; an import looks for it in the first HEADER_SEARCH_ROWS rows
HEADER_SEARCH_ROWS = 20
TOOL_TITLE = "PLANNING AND COSTING TOOL FOR THE DEVELOPMENT OF NATIONAL ACTION PLAN FOR HEALTH SECURITY"
AREA_LABEL = "TECHNICAL AREA"  # row 5's label in A, and the band row of each area
FREQUENCY_LABEL = "Frequency per year of implementation"
ANNUAL_COSTS_LABEL = "Annual Cost Estimates"
TOTAL_LABEL = "TOTAL"
ID_TITLE = "NAPHS Planner ID"


# --- The columns -----------------------------------------------------------------------------------------------

# WHO's columns A–Z: (key, heading); the years' headings are the plan's years.
_WHO_COLUMNS: list[tuple[str, str]] = [
    ("indicator", "Indicator"),
    ("objective", "Objectives"),
    ("summary", "Summary of Key Activities (Strategic actions)"),
    ("description", "Detailed activity description (input description for costing)"),
    ("assumptions", "Detailed cost assumptions (including units, unit costs, quantities, frequency, etc.)"),
    ("responsible", "Responsible authority for Implementation (budget holder)"),
    ("scale", "Implementation scale (National, regional, district, sub-national?)"),
    ("technical_comment", "Comments1 (Potential challenges, comments on implementation arrangements, other)"),
    ("costing_comment", "Comments2 (Potential challenges, comments on implementation arrangements, other)"),
    ("programme", "Related existing plan/ framework / Programme or on-going activities"),
    ("existing_budget", "Existing budget(y/n)"),
    ("budget_source", "Existing budget source (government, donor?)"),
    ("estimated_cost", "Estimated cost (Local currency)"),
]
BUILDER_COLUMNS: list[tuple[str, str]] = [("unit_cost", "Unit cost"), ("quantity", "Quantity/Number of units")]
BUILDER_KEYS = ("unit_cost", "quantity", "days", "persons")
FREQUENCY_KEYS = tuple(f"frequency_{n}" for n in range(1, WHO_YEARS + 1))
COST_KEYS = tuple(f"cost_{n}" for n in range(1, WHO_YEARS + 1))
COMPUTED_KEYS = frozenset({*COST_KEYS, "total"})  # formulas in the tool: recomputed, never read
FIRST_COLUMNS = ("indicator", "objective", "summary")  # A–C: a vertical merge there covers rows of one activity


def who_columns(plan: Plan) -> list[tuple[str, str]]:
    """The export's header row as (key, heading), column A onwards; "" keys are WHO's gap columns. The years
    are the plan's first five."""
    years = [plan.first_year + offset for offset in range(WHO_YEARS)]
    return [
        *_WHO_COLUMNS,
        *((f"frequency_{n}", str(year)) for n, year in enumerate(years, start=1)),
        *((f"cost_{n}", f"Cost estimate {year}") for n, year in enumerate(years, start=1)),
        ("total", "TotalOver5Years"),
        ("category_1", "CostCategory1"),
        ("category_2", "CostCategory2"),
        ("", ""),
        *BUILDER_COLUMNS,
        ("", ""),
        ("uid", ID_TITLE),
    ]


# How a heading is recognised on import, whatever its case, spacing or line breaks.
_HEADINGS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^indicators?\b"), "indicator"),
    (re.compile(r"^objectives?\b"), "objective"),
    (re.compile(r"^summary of key activit"), "summary"),
    (re.compile(r"^detailed activity description"), "description"),
    (re.compile(r"^detailed cost assumption"), "assumptions"),
    (re.compile(r"^responsible authority"), "responsible"),
    (re.compile(r"^implementation scale"), "scale"),
    (re.compile(r"^comments? ?1\b"), "technical_comment"),
    (re.compile(r"^comments? ?2\b"), "costing_comment"),
    (re.compile(r"^related existing plan"), "programme"),
    (re.compile(r"^existing budget ?source"), "budget_source"),
    (re.compile(r"^existing budget"), "existing_budget"),
    (re.compile(r"^estimated cost"), "estimated_cost"),
    (re.compile(r"^(\d{4})$"), "year:{}"),
    (re.compile(r"^cost estimate ?(\d{4})$"), "cost_year:{}"),
    (re.compile(r"^total ?over ?5 ?years$|^total cost"), "total"),
    (re.compile(r"^cost ?category ?([12])$"), "category_{}"),
    (re.compile(r"^unit cost"), "unit_cost"),
    (re.compile(r"^quantity|^number of units"), "quantity"),
    (re.compile(r"^number of days"), "days"),
    (re.compile(r"^number of (?:persons|participants|people)"), "persons"),
    (re.compile(r"^naphs planner id$"), "uid"),
]
REQUIRED_KEYS = ("summary", "estimated_cost")
REQUIRED_TITLES = {"summary": "Summary of Key Activities", "estimated_cost": "Estimated cost"}


def heading_key(value: Any) -> str:
    """The column a heading names (a key of `who_columns`, or "year:2018" / "cost_year:2018" for a year's
    columns), or "" for an empty heading, or "?" + the heading when it names none."""
    text = heading_text(cell_text(value))
    if not text:
        return ""
    for pattern, key in _HEADINGS:
        if match := pattern.match(text):
            return key.format(*match.groups())
    return "?" + text


_TOTALS = re.compile(r"^(?:grand )?(?:sub[ -]?)?totals?\b")


def is_totals_label(value: Any) -> bool:
    """A cell of the first columns that opens the totals block ("TOTAL", "Grand total", "Sub-total")."""
    return bool(_TOTALS.match(heading_text(cell_text(value))))


def is_area_label(value: Any) -> bool:
    """Column A of row 5 and of a band row: "TECHNICAL AREA" (a colon and the area may follow)."""
    return heading_text(cell_text(value)).startswith("technical area")


MONEY_FORMAT = "#,##0.00"
WIDTHS = {
    "indicator": 30,
    "objective": 36,
    "summary": 40,
    "description": 36,
    "assumptions": 32,
    "responsible": 26,
    "scale": 14,
    "technical_comment": 26,
    "costing_comment": 26,
    "programme": 24,
    "existing_budget": 10,
    "budget_source": 20,
    "estimated_cost": 16,
    "total": 16,
    "category_1": 22,
    "category_2": 22,
    "uid": 16,
    "": 3,
}


UID = re.compile(r"^(?P<area>.+?)\.(?P<activity>\d{1,6})\.(?P<line>\d{1,6})$")
CELL_REFERENCE = re.compile(r"\$?([A-Z]{1,3})\$?(\d{1,7})\b")
# Activity fields the file gives once per activity (in every row of it, or in its first).
ACTIVITY_KEYS = ("summary", "indicator", "responsible", "scale", "programme", "existing_budget", "budget_source")
LINE_KEYS = (
    "description",
    "assumptions",
    "technical_comment",
    "costing_comment",
    "estimated_cost",
    *FREQUENCY_KEYS,
    "category_1",
    "category_2",
    *BUILDER_KEYS,
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
    """One data row of the table."""

    sheet: Sheet
    number: int  # as in Excel
    columns: dict[str, int]  # column key -> 0-based position
    titles: dict[str, str]  # column key -> the heading as written
    values: list[Any]
    area: TechnicalArea | None = None
    activity_number: int = 0
    line_number: int = 0
    given_uid: bool = False  # the file gave the row's NAPHS Planner ID
    starts_area: bool = False  # the first row under a band row ("TECHNICAL AREA", the area)

    @property
    def uid(self) -> str:
        code = self.area.code if self.area is not None else ""
        return f"{code}.{self.activity_number}.{self.line_number}"

    def get(self, key: str) -> Any:
        position = self.columns.get(key)
        return self.values[position] if position is not None and position < len(self.values) else None

    def text(self, key: str) -> str:
        return cell_text(self.get(key))

    def is_formula(self, key: str) -> bool:
        position = self.columns.get(key)
        return position is not None and (self.number, position + 1) in self.sheet.formula_cells

    def problem(self, key: str | None, message: str) -> Problem:
        position = self.columns.get(key) if key else None
        return self.sheet.problem(message, row=self.number, column=position + 1 if position is not None else None)

    def has_line(self) -> bool:
        return any(not blank(self.get(key)) for key in LINE_KEYS)
