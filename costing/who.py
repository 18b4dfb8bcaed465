"""The WHO NAPHS planning and costing tool, as WHO distributes it: a plan exported to its sheet, and a ministry's
filled copy of it imported.

The layout is costing/layouts/who.py: one sheet "Costing Tool", the title block (rows 1–4: the tool's title with
the plan's years, the pillars, the general objective, the plan and its currency), group labels (row 5), WHO's
header (row 6), an explanatory row (row 7), then the activities, grouped by technical area under a band row
("TECHNICAL AREA", the area's code and name), one row per cost line (an activity without lines: one row without a
cost), and the totals block. S–W are the tool's formulas (=M × the year's frequency), X their sum, the totals SUM
formulas. A line costed as a unit cost × a quantity fills the cost builder to the right (unit cost in the base
currency, quantity) and M is their product; a lump sum has its amount typed in M. The last column, "NAPHS Planner
ID", is `<area code>.<activity number>.<line number>`: activities numbered within their area in the order they
were created (by id), lines in their own order (order, id), so the same plan exports the same IDs every time.

- Indicator: the codes and names of the activity's indicators. Objectives: the levels the plan targets for them
  ("Legal Instruments: by 2030, reach level 4 (demonstrated capacity) in P1.1 Legal instruments"), else the first
  line of the activity's description, else the area's name.
- Summary of key activities: the activity's title; Detailed activity description: the line's description;
  Detailed cost assumptions, Comments1 (technical) and Comments2 (costing): the line's own.
- Text is written through naphs.xlsx, so a cell starting with = + - @ stays text; only the tool's own cells
  are formulas.

The layout holds five years. A plan of more than five years is refused (export and import alike) rather than
given extra columns the WHO tool would not read, or totals "over 5 years" that leave years out; its costing
workbook covers every year. Columns of years after a shorter plan's last year stay empty.

Import (the secretariat's) reads the sheet named "Costing Tool" (in any case) and its header (the first of the
first 20 rows with WHO's headings), skips the explanatory row, and reads the rows down to the totals block.
Computed columns are never read: the costs per year and totals are recomputed (typed ones that differ are
counted in the summary). A row's area is its indicator's (by code), else the band row's above it, else row 5's.
A row with a NAPHS Planner ID belongs to the activity its ID names; one without continues the activity above it
when its Summary is empty or the same, else starts one. An activity is matched to an activity of the plan in
that area with exactly that title, else created (with the Objectives as its description). Indicators are read by
code, the responsible authority by an organization's name or acronym, the scale by its label, the existing budget
as Y or N. Each row with a cost becomes a cost line: M typed is a lump sum (quantity 1, in the base currency at
the plan's price year); M a formula over the row's cost-builder cells is their unit cost × quantity. Every row is
checked before anything is written; the whole workbook is applied in one transaction or not at all. Importing the
same file again changes nothing: a line is found again by its import key `who:<area>.<activity>.<line>` (the
row's place, not the file's digest, so an edited file still finds its lines), else by its activity and
description; a line whose cost is unchanged keeps its unit, quantity, currency and catalogue item. Lines the file
does not mention are left as they are.
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import IO, TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext, gettext_lazy, ngettext
from openpyxl.styles import Alignment, Font
from openpyxl.utils import column_index_from_string, get_column_letter

from costing.job_kinds import CostingJob
from costing.layouts.who import (
    ACTIVITY_FIELD_COLUMNS,
    ACTIVITY_KEYS,
    ANNUAL_COSTS_LABEL,
    AREA_LABEL,
    BUILDER_KEYS,
    CATEGORY_SYNONYMS,
    CELL_REFERENCE,
    COMPUTED_KEYS,
    COST_KEYS,
    FIRST_COLUMNS,
    FREQUENCY_KEYS,
    FREQUENCY_LABEL,
    HEADER_ROW,
    HEADER_SEARCH_ROWS,
    ID_TITLE,
    LINE_FIELD_COLUMNS,
    MONEY_FORMAT,
    REQUIRED_KEYS,
    REQUIRED_TITLES,
    SHEET_NAME,
    TOOL_TITLE,
    TOTAL_LABEL,
    UID,
    WHO_YEARS,
    WIDTHS,
    Row,
    blank,
    heading_key,
    is_area_label,
    is_totals_label,
    who_columns,
)
from costing.models import MAX_FREQUENCY, CostCategory, CostingUpload, CostLine, CostLineYear, PlanCosting, Unit
from costing.services import CENT, Rates, cost_line_update, costs_changed, line_prepare, parse_decimal, plan_costing_get
from costing.uploads import Applied, Layout, UploadRefused, costing_upload_create, costing_upload_run
from naphs.errors import EditConflict
from naphs.jobs import JobFailed, JobResult, Progress, file_slug
from naphs.models import Job
from naphs.permissions import Permission
from naphs.services import audit_record
from naphs.spreadsheets import (
    ImportRefused,
    Problem,
    Sheet,
    cell_text,
    heading_text,
    in_every_language,
    read_spreadsheet,
    yes_no,
)
from naphs.xlsx import HEADER_FILL, HEADER_FONT, add_table_sheet, new_workbook, workbook_bytes, write_row
from planning.activities import activity_create, activity_update
from planning.models import Activity, CapacityLevel, Indicator, IndicatorTarget, Plan, TechnicalArea, indicator_code_key
from planning.selectors import technical_areas_of
from stakeholders.models import Organization, PlanMembership
from stakeholders.selectors import organization_list_for_plan

if TYPE_CHECKING:
    from stakeholders.models import User

IMPORT_KEY_PREFIX = "who:"
MAX_LISTED = 25  # names listed in a message before "and N more"


def who_period_problem(plan: Plan) -> str:
    """Why the plan cannot go into the layout, or "" when it can."""
    years = plan.last_year - plan.first_year + 1
    if years <= WHO_YEARS:
        return ""
    return gettext(
        "This plan runs %(years)s years (%(period)s), and the WHO costing tool layout holds five. "
        "Export the costing workbook instead, which covers every year of the plan."
    ) % {"years": years, "period": plan.period}


# --- Export ----------------------------------------------------------------------------------------------------


def _level_text(level: int) -> str:
    label = CapacityLevel(level).label.split("·", 1)[-1].strip()
    return gettext("level %(level)s (%(label)s)") % {"level": level, "label": f"{label[0].lower()}{label[1:]}"}


def activity_objective(
    activity: Activity, indicators: list[Indicator], targets: dict[int, int], *, last_year: int
) -> str:
    """The Objective column; see the module docstring."""
    area = activity.technical_area
    aims = [
        gettext("%(level)s in %(indicator)s")
        % {"level": _level_text(targets[indicator.pk]), "indicator": f"{indicator.code} {indicator.local_name}"}
        for indicator in indicators
        if indicator.pk in targets
    ]
    if aims:
        return gettext("%(area)s: by %(year)s, reach %(aims)s") % {
            "area": area.local_name,
            "year": last_year,
            "aims": "; ".join(aims),
        }
    first_line = next((line.strip() for line in activity.description.splitlines() if line.strip()), "")
    return first_line or area.local_name


def _number(value: Decimal) -> int | Decimal:
    """Whole numbers as integers, so a frequency of 2 reads 2 in Excel, not 2.00."""
    return int(value) if value == value.to_integral_value() else value.normalize()


def _yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return "Y" if value else "N"


def _plan_activities(plan: Plan) -> list[Activity]:
    lines = CostLine.objects.order_by("order", "pk").prefetch_related(
        Prefetch("years", queryset=CostLineYear.objects.order_by("year"))
    )
    return list(
        Activity.objects.filter(plan=plan)
        .select_related("technical_area", "responsible_organization")
        .prefetch_related(
            Prefetch("indicators", queryset=Indicator.objects.order_by("order", "code")),
            Prefetch("cost_lines", queryset=lines),
        )
        .order_by("pk")
    )


def _is_builder(line: CostLine) -> bool:
    """A line costed as a unit cost times a quantity (rather than a lump sum): the tool's cost builder."""
    return not (line.unit == Unit.LUMP_SUM and line.quantity == 1)


def who_rows(plan: Plan, *, currency: str) -> dict[TechnicalArea, list[dict[str, Any]]]:
    """{area: rows}, each row {column key: value} and `builder` (bool: M is unit cost × quantity), for every area
    with activities, in the framework's order. A fixed number of queries."""
    activities = _plan_activities(plan)
    areas = list(technical_areas_of(plan))
    known = {area.pk for area in areas}
    for activity in activities:
        if activity.technical_area_id not in known:
            areas.append(activity.technical_area)
            known.add(activity.technical_area_id)
    targets = dict(IndicatorTarget.objects.filter(plan=plan).values_list("indicator_id", "level"))
    years = [plan.first_year + offset for offset in range(WHO_YEARS)]
    by_area: dict[int, list[Activity]] = defaultdict(list)
    for activity in activities:
        by_area[activity.technical_area_id].append(activity)
    result: dict[TechnicalArea, list[dict[str, Any]]] = {}
    for area in areas:
        if not by_area[area.pk]:
            continue
        rows = result[area] = []
        for number, activity in enumerate(by_area[area.pk], start=1):
            indicators = list(activity.indicators.all())
            shared = {
                "indicator": "; ".join(f"{indicator.code} {indicator.local_name}" for indicator in indicators),
                "objective": activity_objective(activity, indicators, targets, last_year=plan.last_year),
                "summary": activity.title,
                "responsible": activity.responsible_organization.name if activity.responsible_organization else "",
                "scale": activity.get_implementation_level_display(),
                "programme": activity.related_programme,
                "existing_budget": _yes_no(activity.existing_budget),
                "budget_source": activity.existing_budget_source,
            }
            lines = list(activity.cost_lines.all())
            if not lines:
                rows.append({"uid": f"{area.code}.{number}.1", **shared, "line": False, "builder": False})
            for line_number, line in enumerate(lines, start=1):
                amounts = {year.year: year for year in line.years.all()}
                row = {
                    "uid": f"{area.code}.{number}.{line_number}",
                    **shared,
                    "description": line.description,
                    "assumptions": line.assumptions,
                    "technical_comment": line.technical_comment,
                    "costing_comment": line.costing_comment,
                    "estimated_cost": (line.unit_cost_base * line.quantity).quantize(CENT, rounding=ROUND_HALF_UP),
                    "category_1": line.get_category_display(),
                    "category_2": line.get_secondary_category_display() if line.secondary_category else "",
                    "line": True,
                    "builder": _is_builder(line),
                    "optional": line.optional,
                }
                if row["builder"]:
                    row["unit_cost"] = line.unit_cost_base.normalize()
                    row["quantity"] = _number(line.quantity)
                for n, year in enumerate(years, start=1):
                    if year <= plan.last_year:
                        entry = amounts.get(year)
                        row[f"frequency_{n}"] = _number(entry.frequency) if entry else 0
                rows.append(row)
    return result


def _explanations() -> dict[str, str]:
    """Row 7: what goes under each heading, in the reader's language."""
    formula = gettext("Formula – do not type")
    return {
        "indicator": gettext("Indicator code and name (e.g. P1.1 Legal instruments)"),
        "objective": gettext("What the activities aim at"),
        "summary": gettext("The activity; rows below it without one are more costs of it"),
        "description": gettext("What this row costs"),
        "assumptions": gettext("Units, unit costs, quantities, frequency"),
        "responsible": gettext("Ministry, department or agency"),
        "scale": gettext("National, provincial, district or facility"),
        "existing_budget": gettext("Y or N"),
        "estimated_cost": gettext("Cost of one occurrence; a formula over the cost builder when it is filled"),
        **dict.fromkeys(FREQUENCY_KEYS, gettext("Number of times per year")),
        **dict.fromkeys(COMPUTED_KEYS, formula),
        "category_1": gettext("Cost category"),
        "category_2": gettext("Second cost category (optional)"),
        "unit_cost": gettext("Cost of one unit"),
        "quantity": gettext("Number of units"),
        "uid": gettext("Keep as it is: finds the row's cost line again on import"),
    }


def who_workbook(plan: Plan, *, progress: Progress | None = None) -> bytes:
    """The plan in the layout of the WHO costing tool, as .xlsx bytes. ValueError when the plan is too long."""
    if problem := who_period_problem(plan):
        raise ValueError(problem)
    report = progress or (lambda percent, message: None)
    costing = plan_costing_get(plan)
    currency = costing.currency
    report(10, gettext("Reading activities and cost lines"))
    rows_by_area = who_rows(plan, currency=currency)
    report(50, gettext("Writing the workbook"))
    columns = who_columns(plan)
    keys = [key for key, _ in columns]
    letter = {key: get_column_letter(index) for index, key in enumerate(keys, start=1) if key}
    last_who = letter["category_2"]  # the title block spans WHO's own columns
    money = [keys.index(key) + 1 for key in ("estimated_cost", *COST_KEYS, "total", "unit_cost")]
    workbook = new_workbook()
    sheet = workbook.create_sheet(SHEET_NAME)
    # The title block: the tool's title with the plan's years, its pillars, its objective, the currency.
    pillars = list(dict.fromkeys(str(area.get_pillar_display()).upper() for area in rows_by_area))
    title_block = [
        f"{TOOL_TITLE}   {plan.first_year} - {plan.last_year}",
        " / ".join(pillars),
        gettext("General Objective: %(plan)s") % {"plan": plan.title},
        gettext("%(jurisdiction)s · %(kind)s plan · %(period)s · amounts in %(currency)s at %(year)s prices")
        % {
            "jurisdiction": plan.jurisdiction.name,
            "kind": plan.get_kind_display(),
            "period": plan.period,
            "currency": currency,
            "year": costing.price_year,
        },
    ]
    for number, text in enumerate(title_block, start=1):
        write_row(sheet, number, [text])
        sheet.merge_cells(f"A{number}:{last_who}{number}")
        sheet[f"A{number}"].font = Font(bold=True, size=13 if number == 1 else 11)
    areas = list(rows_by_area)
    write_row(sheet, 5, [AREA_LABEL, f"{areas[0].code} {areas[0].local_name}" if len(areas) == 1 else ""])
    sheet.merge_cells(f"B5:{letter['budget_source']}5")
    sheet[f"{letter['frequency_1']}5"] = FREQUENCY_LABEL
    sheet.merge_cells(f"{letter['frequency_1']}5:{letter['frequency_5']}5")
    sheet[f"{letter['cost_1']}5"] = ANNUAL_COSTS_LABEL
    sheet.merge_cells(f"{letter['cost_1']}5:{letter['total']}5")
    write_row(sheet, HEADER_ROW, [title for _, title in columns])
    explanations = _explanations()
    write_row(sheet, HEADER_ROW + 1, [explanations.get(key, "") for key in keys])
    for row_number in (5, HEADER_ROW, HEADER_ROW + 1):
        for index, key in enumerate(keys, start=1):
            cell = sheet.cell(row=row_number, column=index)
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            if key and row_number != HEADER_ROW + 1:
                cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            elif key:
                cell.font = Font(italic=True, size=9)
    number = HEADER_ROW + 1
    first = number + 1
    for area, rows in rows_by_area.items():
        number += 1
        write_row(sheet, number, [AREA_LABEL, f"{area.code} {area.local_name}"])
        for cell in sheet[number]:
            cell.font = Font(bold=True)
        for row in rows:
            number += 1
            write_row(sheet, number, [row.get(key) if key else None for key in keys])
            if row["line"]:
                for n in range(1, WHO_YEARS + 1):
                    sheet[f"{letter[f'cost_{n}']}{number}"] = f"=M{number}*{letter[f'frequency_{n}']}{number}"
                sheet[f"{letter['total']}{number}"] = f"=SUM({letter['cost_1']}{number}:{letter['cost_5']}{number})"
            if row["builder"]:
                sheet[f"M{number}"] = f"={letter['unit_cost']}{number}*{letter['quantity']}{number}"
            for column in money:
                sheet.cell(row=number, column=column).number_format = MONEY_FORMAT
            if row.get("optional"):
                for cell in sheet[number]:
                    cell.font = Font(italic=True)
    last = number
    number += 1
    write_row(sheet, number, [TOTAL_LABEL])
    for key in ("estimated_cost", *COST_KEYS, "total"):
        if key != "estimated_cost":
            sheet[f"{letter[key]}{number}"] = f"=SUM({letter[key]}{first}:{letter[key]}{last})"
        sheet[f"{letter[key]}{number}"].number_format = MONEY_FORMAT
    for cell in sheet[number]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 2, column=4)
    for index, key in enumerate(keys, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS.get(key, 13)
    workbook.properties.title = gettext("%(plan)s: WHO NAPHS planning and costing tool") % {"plan": plan.title}
    report(90, gettext("Saving the workbook"))
    return workbook_bytes(workbook)


def who_costing_export(*, job: Job, progress: Progress) -> JobResult:
    """Job handler: the plan in the WHO costing tool layout."""
    plan = job.plan
    if plan is None:
        raise JobFailed(gettext("This export belongs to a plan, and the job has none."))
    try:
        content = who_workbook(plan, progress=progress)
    except ValueError as error:
        raise JobFailed(str(error)) from error
    return JobResult(filename=f"{file_slug(plan.title)}-who-costing.xlsx", content=content)


# --- Import: reading and checking --------------------------------------------------------------------------------


def _listing(names: Iterable[str]) -> str:
    names = list(names)
    shown = ", ".join(names[:MAX_LISTED])
    if len(names) <= MAX_LISTED:
        return shown
    more = len(names) - MAX_LISTED
    return ngettext("%(names)s and %(count)s more", "%(names)s and %(count)s more", more) % {
        "names": shown,
        "count": more,
    }


@dataclass
class Group:
    """The rows of one activity (`<area>.<activity number>`), and what they resolve to."""

    area: TechnicalArea
    number: int
    title: str = ""  # the first Summary of key activities of its rows
    rows: list[Row] = field(default_factory=list)
    activity: Activity | None = None  # the plan's activity it matches, if any
    fields: dict[str, Any] = field(default_factory=dict)  # activity fields as the file gives them
    indicators: list[Indicator] = field(default_factory=list)
    lines: list[PlannedLine] = field(default_factory=list)

    @property
    def first(self) -> Row:
        return self.rows[0]


@dataclass
class PlannedLine:
    """What a cost row will do: create a line, change one, or leave one as it is."""

    row: Row
    line: CostLine  # the new line, or the candidate copy of an existing one
    years: list[CostLineYear]
    existing: CostLine | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    frequencies: dict[int, Decimal] = field(default_factory=dict)
    changed: bool = True


# What an import did to an activity and to a row's cost line, as its report says it.
OUTCOMES = {
    "activity created": gettext_lazy("activity created"),
    "activity changed": gettext_lazy("activity changed"),
    "activity unchanged": gettext_lazy("activity unchanged"),
    "cost line created": gettext_lazy("cost line created"),
    "cost line changed": gettext_lazy("cost line changed"),
    "cost line unchanged": gettext_lazy("cost line unchanged"),
    "no cost": gettext_lazy("no cost"),
}


@dataclass
class WhoImportReport:
    """What an import did, row by row, and in sum."""

    outcomes: list[tuple[str, int, str, str, str]] = field(default_factory=list)  # sheet, row, uid, activity, what
    summary: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            (
                "activities_created",
                "activities_changed",
                "activities_unchanged",
                "lines_created",
                "lines_changed",
                "lines_unchanged",
            ),
            0,
        )
    )

    @property
    def changed_anything(self) -> bool:
        return any(
            self.summary[key] for key in ("activities_created", "activities_changed", "lines_created", "lines_changed")
        )


def _code_token(text: str) -> str:
    return (text.split() or [""])[0].rstrip(".:-–")


class _Lookup:
    """The plan's reference data an import matches names against, read once."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.areas = {indicator_code_key(area.code): area for area in technical_areas_of(plan)}
        self.area_names = {
            heading_text(name): area
            for area in self.areas.values()
            for name in (*area.names.values(), area.name, f"{area.code} {area.name}")
        }
        self.indicators: dict[int, list[Indicator]] = defaultdict(list)
        self.indicator_codes: dict[str, Indicator] = {}
        if plan.framework_id is not None:  # a plan without a framework has no indicators to match
            for indicator in Indicator.objects.filter(framework_id=plan.framework_id).order_by("order", "code"):
                self.indicators[indicator.technical_area_id].append(indicator)
                self.indicator_codes[indicator_code_key(indicator.code)] = indicator
        self.organizations: list[Organization] = list(organization_list_for_plan(plan=plan))
        self.organization_names: dict[str, Organization] = {}
        for organization in self.organizations:
            names = [organization.name]
            if organization.acronym:
                names += [organization.acronym, f"{organization.name} ({organization.acronym})"]
            for name in names:
                self.organization_names.setdefault(" ".join(name.split()).casefold(), organization)
        # A category or a scale is recognised by its label in any of the product's languages.
        self.categories: dict[str, str] = dict(CATEGORY_SYNONYMS) | in_every_language(
            "who.categories",
            lambda: [
                *((label, value) for value, label in CostCategory.choices),
                *((v, v) for v in CostCategory.values),
            ],
        )
        self.levels: dict[str, str] = dict(
            in_every_language(
                "who.levels",
                lambda: [
                    *((label, value) for value, label in Activity.Level.choices),
                    *((v, v) for v in Activity.Level.values),
                ],
            )
        )
        self.levels["province / state"] = self.levels["state"] = Activity.Level.PROVINCIAL
        self.levels["subnational"] = self.levels["sub-national"] = Activity.Level.PROVINCIAL
        self.levels["regional"] = self.levels["district"] = Activity.Level.PROVINCIAL

    def area_named(self, text: str) -> TechnicalArea | None:
        """The area a band row or row 5 names: by its code first ("P1 Legal instruments"), else by its name."""
        return self.areas.get(indicator_code_key(_code_token(text))) or self.area_names.get(heading_text(text))

    def area_of_indicators(self, text: str) -> TechnicalArea | None:
        """The area of the first indicator a cell names by its code, if any."""
        for part in re.split(r"[;\n]", text):
            indicator = self.indicator_codes.get(indicator_code_key(_code_token(part)))
            if indicator is not None:
                return indicator.technical_area
        return None

    def category(self, value: str) -> str | None:
        return self.categories.get(heading_text(value))

    def organization(self, value: str) -> Organization | None:
        return self.organization_names.get(" ".join(value.split()).casefold())

    def indicators_of(self, area: TechnicalArea, text: str) -> tuple[list[Indicator], list[str]]:
        """The indicators a cell names (by code, or code and name, or name), and the parts it could not match."""
        own = self.indicators.get(area.pk, [])
        by_code = {indicator_code_key(indicator.code): indicator for indicator in own}
        # An indicator's name in any language names it: the file may have been exported in another one.
        by_name = {
            name.casefold(): indicator for indicator in own for name in (*indicator.names.values(), indicator.name)
        }
        found: list[Indicator] = []
        unknown: list[str] = []
        for part in re.split(r"[;\n]", text):
            part = " ".join(part.split())
            if not part:
                continue
            indicator = by_code.get(indicator_code_key(_code_token(part))) or by_name.get(part.casefold())
            if indicator is None:
                unknown.append(part)
            elif indicator not in found:
                found.append(indicator)
        return found, unknown


def _tool_sheet(sheets: list[Sheet], problems: list[Problem]) -> Sheet:
    """The sheet "Costing Tool" (in any case). Hidden sheets (the tool's lists) and empty ones are passed over;
    any other sheet with content is a problem: the layout is one sheet."""
    found = [sheet for sheet in sheets if heading_text(sheet.name) == heading_text(SHEET_NAME)]
    if not found:
        names = _listing(f"“{sheet.name}”" for sheet in sheets)
        raise ImportRefused(
            [
                gettext(
                    "No sheet is named “%(name)s”: the WHO costing tool is one sheet of that name (this workbook "
                    "has %(sheets)s)."
                )
                % {"name": SHEET_NAME, "sheets": names}
            ]
        )
    tool = found[0]
    extra = [
        sheet
        for sheet in sheets
        if sheet is not tool and sheet.state == "visible" and any(not blank(v) for row in sheet.rows for v in row)
    ]
    for sheet in extra:
        problems.append(
            Problem(
                gettext(
                    "a sheet beside “%(name)s” with content; the WHO costing tool is that one sheet: move these rows "
                    "into it, or delete this sheet."
                )
                % {"name": tool.name},
                sheet.name,
            )
        )
    return tool


def _header(
    sheet: Sheet, plan: Plan, currency: str, problems: list[Problem]
) -> tuple[int, dict[str, int], dict[str, str]] | None:
    """The header row (0-based), its columns {key: position} and headings {key: text}, checked: every heading
    known, the required ones there, the years the plan's. None (with a problem) when there is none."""
    index = next(
        (
            i
            for i, values in enumerate(sheet.rows[:HEADER_SEARCH_ROWS])
            if all(key in {heading_key(value) for value in values} for key in REQUIRED_KEYS)
        ),
        None,
    )
    if index is None:
        problems.append(
            sheet.problem(
                gettext(
                    "no header row: none of its first %(rows)s rows has the headings %(headings)s of the WHO "
                    "costing tool."
                )
                % {"rows": HEADER_SEARCH_ROWS, "headings": _listing(f"“{t}”" for t in REQUIRED_TITLES.values())}
            )
        )
        return None
    columns: dict[str, int] = {}
    titles: dict[str, str] = {}
    years: list[tuple[int, int]] = []  # (year, position) of the frequency columns
    cost_years: list[tuple[int, int]] = []
    for position, value in enumerate(sheet.rows[index]):
        key = heading_key(value)
        where = {"row": index + 1, "column": position + 1}
        if not key:
            continue
        if key.startswith("?"):
            problems.append(
                sheet.problem(
                    gettext(
                        "“%(heading)s” is not a heading of the WHO costing tool; use its headings as WHO writes them "
                        "(e.g. “%(example)s”), or delete the column."
                    )
                    % {"heading": cell_text(value), "example": "Detailed cost assumptions"},
                    **where,
                )
            )
            continue
        if key.startswith("year:"):
            years.append((int(key[5:]), position))
            continue
        if key.startswith("cost_year:"):
            cost_years.append((int(key[10:]), position))
            continue
        if key in columns:
            problems.append(
                sheet.problem(
                    gettext("a second column “%(heading)s” (the first is column %(column)s).")
                    % {"heading": cell_text(value), "column": get_column_letter(columns[key] + 1)},
                    **where,
                )
            )
            continue
        columns[key], titles[key] = position, cell_text(value)
    for found, prefix in ((years, "frequency"), (cost_years, "cost")):
        for n, (year, position) in enumerate(found, start=1):
            expected = plan.first_year + n - 1
            if n > WHO_YEARS or year != expected:
                problems.append(
                    sheet.problem(
                        gettext(
                            "headed %(headed)s, but year %(number)s of this plan is %(year)s: this workbook was made "
                            "for another period (%(period)s here)."
                        )
                        % {"headed": year, "number": n, "year": expected, "period": plan.period},
                        row=index + 1,
                        column=position + 1,
                    )
                )
                break
            columns[f"{prefix}_{n}"], titles[f"{prefix}_{n}"] = position, str(year)
    inside = " ".join(re.findall(r"\(([^)]*)\)", titles.get("estimated_cost", "")))
    named = set(re.findall(r"\b([A-Z]{3})\b", inside))
    if named and currency not in named:  # "Estimated cost (EUR)": the ministry named its currency
        problems.append(
            sheet.problem(
                gettext(
                    "amounts in %(named)s, but this plan is costed in %(currency)s: convert them to %(currency)s "
                    "(or head the column “Estimated cost (Local currency)” if they are in %(currency)s)."
                )
                % {"named": _listing(sorted(named)), "currency": currency},
                row=index + 1,
                column=columns["estimated_cost"] + 1,
            )
        )
    if not years:
        problems.append(
            sheet.problem(
                gettext("no year columns (%(first)s … %(last)s: how many times a year) in the header row.")
                % {"first": plan.first_year, "last": plan.first_year + WHO_YEARS - 1},
                row=index + 1,
            )
        )
    return index, columns, titles


def _is_explanatory(sheet: Sheet, number: int, columns: dict[str, int]) -> bool:
    """Whether row `number` is the row under the header that says what goes in each column: text (not a
    formula) where numbers go."""
    values = sheet.rows[number - 1]
    for key in ("estimated_cost", *FREQUENCY_KEYS):
        position = columns.get(key)
        value = values[position] if position is not None and position < len(values) else None
        typed = position is not None and (number, position + 1) not in sheet.formula_cells
        if typed and isinstance(value, str) and value.strip() and not re.fullmatch(r"[\d.,\s]+", value):
            return True
    return False


def _merges(sheet: Sheet, start: int, totals: int | None, columns: dict[str, int], problems: list[Problem]) -> None:
    """Spread a vertical merge of columns A–C over the rows it covers (each takes its value); any other merged
    range among the data rows (from row `start` to the totals block) is a problem."""
    first_columns = {columns[key] + 1 for key in FIRST_COLUMNS if key in columns}
    for first_column, first_row, last_column, last_row in sorted(sheet.merged, key=lambda m: (m[1], m[0])):
        if last_row < start or (totals is not None and first_row >= totals):
            continue  # the title block, the labels, the header, the explanatory row, the totals: the tool's own
        if first_column == last_column and first_column in first_columns and first_row >= start:
            source = sheet.rows[first_row - 1] if first_row <= len(sheet.rows) else []
            value = source[first_column - 1] if first_column <= len(source) else None
            for number in range(first_row + 1, min(last_row, len(sheet.rows)) + 1):
                row = sheet.rows[number - 1]
                row.extend([None] * (first_column - len(row)))
                row[first_column - 1] = value
            continue
        ref = f"{get_column_letter(first_column)}{first_row}:{get_column_letter(last_column)}{last_row}"
        problems.append(
            sheet.problem(
                gettext(
                    "merged cells %(range)s among the activity rows; unmerge them and type the value in each cell "
                    "(only the Indicator, Objectives and Summary columns may be merged down over one activity's rows)."
                )
                % {"range": ref},
                row=max(first_row, start),
                column=first_column,
            )
        )


def _table_rows(sheet: Sheet, lookup: _Lookup, plan: Plan, problems: list[Problem]) -> list[Row]:
    """The data rows of the tool's sheet, each with its technical area: from the header (and the explanatory row
    under it) down to the totals block. The area of a row is that of its indicator's code, else of the band row
    ("TECHNICAL AREA", the area) above it, else of row 5's area name."""
    header = _header(sheet, plan, plan_costing_get(plan).currency, problems)
    if header is None:
        return []
    index, columns, titles = header
    header_number = index + 1
    last_column = max(columns.values(), default=0) + 1
    for column in sorted(sheet.hidden_columns):
        if column <= last_column:
            problems.append(
                sheet.problem(
                    gettext("a hidden column in the table; unhide it (or delete it) so that every value is seen."),
                    row=header_number,
                    column=column,
                )
            )
    area: TechnicalArea | None = None
    for values in sheet.rows[:index]:  # row 5: "TECHNICAL AREA" and the area's name
        if values and is_area_label(values[0]):
            named = next((cell_text(v) for v in values[1:] if not blank(v)), "")
            area = lookup.area_named(named) or area
    start = header_number + 1
    if start <= len(sheet.rows) and _is_explanatory(sheet, start, columns):
        start += 1
    first_positions = [columns[key] for key in FIRST_COLUMNS if key in columns] or [0]
    keys_at = {position + 1: key for key, position in columns.items()}
    formulas_by_row: dict[int, list[int]] = defaultdict(list)
    for row_number, column in sheet.formula_cells:
        formulas_by_row[row_number].append(column)

    def is_totals(values: list[Any]) -> bool:
        return any(is_totals_label(value) for value in values[: max(first_positions) + 1])

    totals = next((n for n in range(start, len(sheet.rows) + 1) if is_totals(sheet.rows[n - 1])), None)
    _merges(sheet, start, totals, columns, problems)
    rows: list[Row] = []
    band = False  # the next data row is the first under a band row
    for number in range(start, len(sheet.rows) + 1):
        values = sheet.rows[number - 1]
        # A row holding only formulas is one the tool prefilled and nobody filled in.
        typed = [v for c, v in enumerate(values, start=1) if not blank(v) and (number, c) not in sheet.formula_cells]
        if not typed or is_totals(values):
            continue
        if totals is not None and number > totals:
            column = next(position for position, value in enumerate(values) if not blank(value)) + 1
            problems.append(
                sheet.problem(
                    gettext(
                        "an activity row below the totals block (row %(totals)s); the totals go under the last "
                        "activity: move the row above them."
                    )
                    % {"totals": totals},
                    row=number,
                    column=column,
                )
            )
            continue
        if values and is_area_label(values[0]):
            band = True
            named = " ".join(cell_text(v) for v in values[1:] if not blank(v)) or cell_text(values[0]).split(":", 1)[-1]
            area = lookup.area_named(named.strip())
            if area is None:
                problems.append(
                    sheet.problem(
                        gettext("“%(value)s” is not a technical area of this plan's framework (%(codes)s).")
                        % {"value": named.strip(), "codes": _listing(a.code for a in lookup.areas.values())},
                        row=number,
                        column=2,
                    )
                )
            continue
        if number in sheet.hidden_rows:
            problems.append(
                sheet.problem(
                    gettext("a hidden row in the table; unhide it (or delete it) so that every value is seen."),
                    row=number,
                    column=1,
                )
            )
        row = Row(sheet=sheet, number=number, columns=columns, titles=titles, values=values, starts_area=band)
        band = False
        if not row.text("uid"):
            # A ministry leaves the Indicator and Objectives empty on the following rows of the same indicator.
            row.values = list(values)
            for key in ("indicator", "objective"):
                if not row.text(key) and rows and not row.starts_area and key in columns:
                    row.values.extend([None] * (columns[key] + 1 - len(row.values)))
                    row.values[columns[key]] = rows[-1].get(key)
        row.area = lookup.area_of_indicators(row.text("indicator")) or area
        rows.append(row)
        for column in formulas_by_row.get(number, ()):
            key = keys_at.get(column, "")
            if key and key not in COMPUTED_KEYS and key != "estimated_cost":
                problems.append(
                    sheet.problem(
                        gettext("a formula where a value is typed (“%(heading)s”); type the value instead.")
                        % {"heading": titles.get(key, key)},
                        row=number,
                        column=column,
                    )
                )
    return rows


def _group_rows(rows: list[Row], lookup: _Lookup, problems: list[Problem]) -> list[Group]:
    """Rows by activity, in the order the file gives them. A row with a NAPHS Planner ID belongs to the activity
    its ID names; a row without one continues the activity above it when it has no Summary of key activities or
    the same one, and starts a new activity otherwise. Rows without an ID are numbered after those with one."""
    used: dict[tuple[int, int], int] = defaultdict(int)  # (area, activity) -> its last line number
    activities: dict[int, int] = defaultdict(int)  # area -> its last activity number
    seen: dict[str, Row] = {}
    for row in rows:
        raw = row.text("uid")
        if not raw:
            continue
        match = UID.match(raw.replace(" ", ""))
        area = lookup.areas.get(indicator_code_key(match["area"])) if match is not None else None
        if match is None or area is None or int(match["activity"]) < 1 or int(match["line"]) < 1:
            example = f"{row.area.code}.1.1" if row.area is not None else "P1.1.1"
            problems.append(
                row.problem(
                    "uid",
                    gettext(
                        "“%(value)s” is not a NAPHS Planner ID like %(example)s (area.activity.line); leave it as "
                        "the export wrote it, or empty for a new row."
                    )
                    % {"value": raw, "example": example},
                )
            )
            row.given_uid = True  # not numbered again: it is a problem already
            continue
        row.area, row.given_uid = area, True
        row.activity_number, row.line_number = int(match["activity"]), int(match["line"])
        if row.uid in seen:
            problems.append(
                row.problem(
                    "uid",
                    gettext("%(uid)s is also the ID of row %(row)s.") % {"uid": row.uid, "row": seen[row.uid].number},
                )
            )
            row.area = None
            continue
        seen[row.uid] = row
        key = (area.pk, row.activity_number)
        used[key] = max(used[key], row.line_number)
        activities[area.pk] = max(activities[area.pk], row.activity_number)
    groups: dict[tuple[int, int], Group] = {}
    current: Group | None = None
    for row in rows:
        summary = row.text("summary")
        if row.given_uid:
            if row.area is None or not row.activity_number:
                current = None
                continue
            key = (row.area.pk, row.activity_number)
            current = groups.setdefault(key, Group(area=row.area, number=row.activity_number))
            current.rows.append(row)
            current.title = current.title or summary
            continue
        continues = (
            current is not None
            and not row.starts_area  # an activity never runs on under another area's band row
            and (not summary or summary == current.title)
            and (row.area is None or row.area == current.area or not summary)
        )
        if not continues:
            if row.area is None:
                problems.append(
                    row.problem(
                        "indicator",
                        gettext(
                            "no technical area for this row: name its indicator by code (e.g. P1.1), or put a row "
                            "“%(label)s” with the area's code and name above it."
                        )
                        % {"label": AREA_LABEL},
                    )
                )
                current = None
                continue
            if not summary:
                problems.append(
                    row.problem(
                        "summary",
                        gettext("no Summary of key activities, and no activity above this row that it continues."),
                    )
                )
                current = None
                continue
            activities[row.area.pk] += 1
            current = Group(area=row.area, number=activities[row.area.pk], title=summary)
            groups[(row.area.pk, current.number)] = current
        assert current is not None
        row.area, row.activity_number = current.area, current.number
        key = (current.area.pk, current.number)
        used[key] += 1
        row.line_number = used[key]
        current.rows.append(row)
    return list(groups.values())


def _activity_values(group: Group, problems: list[Problem]) -> dict[str, str] | None:
    """The activity's values, once: every row of the activity that fills a column must agree with the first.
    None when the activity has no title to match or create it by."""
    values: dict[str, str] = {}
    sources: dict[str, Row] = {}
    for key in (*ACTIVITY_KEYS, "objective"):
        for row in group.rows:
            text = row.text(key)
            if not text:
                continue
            if key not in values:
                values[key], sources[key] = text, row
            elif text != values[key] and key != "objective":
                problems.append(
                    row.problem(
                        key,
                        gettext(
                            "differs from row %(row)s, another row of activity %(activity)s; the rows of one "
                            "activity give the same “%(column)s”."
                        )
                        % {
                            "row": sources[key].number,
                            "activity": f"{group.area.code}.{group.number}",
                            "column": row.titles.get(key, key),
                        },
                    )
                )
    if not values.get("summary"):
        problems.append(
            group.first.problem(
                "summary",
                gettext("activity %(activity)s has no title (Summary of key activities).")
                % {"activity": f"{group.area.code}.{group.number}"},
            )
        )
        return None
    return values


def _existing_budget(text: str) -> bool | str | None:
    try:
        return yes_no(text)
    except ValueError:
        return "invalid"


def _resolve_activity(group: Group, values: dict[str, str], lookup: _Lookup, problems: list[Problem]) -> None:
    """Turn the activity's texts into field values; a problem for each that matches nothing."""
    row = group.first
    indicators, unknown = lookup.indicators_of(group.area, values.get("indicator", ""))
    if unknown:
        known = [f"{indicator.code} {indicator.local_name}" for indicator in lookup.indicators.get(group.area.pk, [])]
        problems.append(
            row.problem(
                "indicator",
                (
                    gettext("%(parts)s: not an indicator of %(area)s; its indicators are %(known)s.")
                    if known
                    else gettext("%(parts)s: not an indicator of %(area)s, which has none.")
                )
                % {
                    "parts": _listing(f"“{part}”" for part in unknown),
                    "area": group.area.code,
                    "known": _listing(known),
                },
            )
        )
    organization = None
    if responsible := values.get("responsible"):
        organization = lookup.organization(responsible)
        if organization is None:
            names = [o.name + (f" ({o.acronym})" if o.acronym else "") for o in lookup.organizations]
            problems.append(
                row.problem(
                    "responsible",
                    (
                        gettext(
                            "“%(value)s” is not an organization of %(jurisdiction)s; known organizations are %(known)s."
                        )
                        if names
                        else gettext(
                            "“%(value)s” is not an organization of %(jurisdiction)s; it has none yet (the "
                            "secretariat adds them in the directory)."
                        )
                    )
                    % {"value": responsible, "jurisdiction": lookup.plan.jurisdiction.name, "known": _listing(names)},
                )
            )
    level: str | None = None
    if scale := values.get("scale"):
        level = lookup.levels.get(heading_text(scale))
        if level is None:
            problems.append(
                row.problem(
                    "scale",
                    gettext("“%(value)s” is not an implementation scale; use one of %(scales)s.")
                    % {"value": scale, "scales": _listing(str(label) for label in Activity.Level.labels)},
                )
            )
    budget = _existing_budget(values.get("existing_budget", ""))
    if budget == "invalid":
        problems.append(
            row.problem(
                "existing_budget",
                gettext("“%(value)s”: write Y or N (or leave it empty).") % {"value": values["existing_budget"]},
            )
        )
    group.indicators = indicators
    group.fields = {
        "title": values["summary"],
        "responsible_organization": organization,
        "implementation_level": level,
        "related_programme": values.get("programme", ""),
        "existing_budget": budget if budget != "invalid" else None,
        "existing_budget_source": values.get("budget_source", ""),
        "objective": values.get("objective", ""),
    }


def _row_frequencies(row: Row, plan: Plan, problems: list[Problem]) -> dict[int, Decimal] | None:
    frequencies: dict[int, Decimal] = {}
    ok = True
    for n in range(1, WHO_YEARS + 1):
        key = f"frequency_{n}"
        raw = row.get(key)
        if blank(raw):
            continue
        year = plan.first_year + n - 1
        try:
            value = parse_decimal(raw, label=gettext("Frequency Y%(number)s") % {"number": n})
        except ValidationError as error:
            ok = False
            problems.append(row.problem(key, " ".join(error.messages)))
            continue
        if value < 0 or value > MAX_FREQUENCY or value != value.quantize(CENT):
            ok = False
            problems.append(
                row.problem(
                    key,
                    gettext(
                        "%(value)s: a frequency cannot be negative, has at most two decimals and is at most "
                        "%(maximum)s times a year."
                    )
                    % {"value": value, "maximum": MAX_FREQUENCY},
                )
            )
            continue
        if year > plan.last_year:
            if value:
                ok = False
                problems.append(
                    row.problem(
                        key,
                        gettext("year %(number)s would be %(year)s, after this plan's last year (%(last)s).")
                        % {"number": n, "year": year, "last": plan.last_year},
                    )
                )
            continue
        frequencies[year] = value
    return frequencies if ok else None


def _typed_amounts_differ(
    row: Row, estimated: Decimal, frequencies: dict[int, Decimal], plan: Plan, problems: list[Problem]
) -> bool:
    """Whether amounts typed over the tool's formulas (the costs per year, the total) differ from what the
    estimated cost and the frequencies give: they are recomputed, never read, and the import says so. Text
    there is a problem: a number cell."""
    expected_total = Decimal(0)
    differ = False
    for n in range(1, WHO_YEARS + 1):
        frequency = frequencies.get(plan.first_year + n - 1, Decimal(0))
        expected = (estimated * frequency).quantize(CENT, rounding=ROUND_HALF_UP)
        expected_total += expected
        differ = _typed_differs(row, f"cost_{n}", expected, max(frequency, Decimal(1)), problems) or differ
    return _typed_differs(row, "total", expected_total, Decimal(WHO_YEARS), problems) or differ


def _typed_differs(row: Row, key: str, expected: Decimal, tolerance: Decimal, problems: list[Problem]) -> bool:
    raw = row.get(key)
    if blank(raw) or row.is_formula(key):
        return False
    try:
        given = parse_decimal(raw, label=row.titles.get(key, key))
    except ValidationError as error:
        problems.append(row.problem(key, " ".join(error.messages)))
        return False
    return abs(given - expected) > CENT * tolerance


def _number_at(row: Row, key: str, problems: list[Problem]) -> Decimal | None:
    """A number cell's value (None when empty, or a problem when it holds text)."""
    raw = row.get(key)
    if blank(raw):
        return None
    try:
        return parse_decimal(raw, label=row.titles.get(key, key))
    except ValidationError as error:
        problems.append(row.problem(key, " ".join(error.messages)))
        return None


def _builder(row: Row, problems: list[Problem]) -> tuple[Decimal, Decimal] | None:
    """When the estimated cost is a formula: the unit cost and the quantity it multiplies, from the cost-builder
    cells of its row that the person typed; a problem (and None) when it computes from anything else."""
    formula = row.text("estimated_cost")
    builder = {row.columns[key] + 1: key for key in BUILDER_KEYS if key in row.columns}
    references = CELL_REFERENCE.findall(formula.upper())
    keys: list[str] = []
    for letters, number in references:
        key = builder.get(column_index_from_string(letters))
        if key is None or int(number) != row.number:
            keys = []
            break
        keys.append(key)
    if not keys or "unit_cost" not in keys or not re.fullmatch(r"=[A-Z0-9$*\s]+", formula.upper()):
        problems.append(
            row.problem(
                "estimated_cost",
                gettext(
                    "a formula (%(formula)s) where the estimated cost is typed: type the cost of one occurrence, or "
                    "make it the product of this row's cost-builder cells (unit cost × quantity …)."
                )
                % {"formula": formula},
            )
        )
        return None
    count = len(problems)
    unit_cost = _number_at(row, "unit_cost", problems)
    quantity = Decimal(1)
    for key in keys:
        if key == "unit_cost":
            continue
        value = _number_at(row, key, problems)
        if value is None and len(problems) == count:
            problems.append(row.problem(key, gettext("empty, but the estimated cost multiplies it: type a number.")))
        quantity *= value if value is not None else Decimal(0)
    if unit_cost is None and len(problems) == count:
        problems.append(
            row.problem("unit_cost", gettext("empty, but the estimated cost multiplies it: type a number."))
        )
    if len(problems) > count or unit_cost is None:
        return None
    return unit_cost, quantity


def _line_errors(row: Row, error: ValidationError, plan: Plan, problems: list[Problem]) -> None:
    """A service's complaints about a line, each placed in the column it concerns."""
    messages = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    for name, texts in messages.items():
        for text in texts:
            key = LINE_FIELD_COLUMNS.get(name)
            if name == "frequencies":
                numbers = [int(year) - plan.first_year + 1 for year in re.findall(r"\b(\d{4})\b", text)]
                key = next((f"frequency_{n}" for n in numbers if 1 <= n <= WHO_YEARS), "frequency_1")
            title = row.titles.get(key, "") if key else ""
            problems.append(row.problem(key, f"{title}: {text}" if title else text))


def _match_activities(groups: list[Group], plan: Plan) -> None:
    """Each group's activity: the first activity of the plan in its area with exactly its title that no
    earlier group took (two activities may share a title; they pair up in order)."""
    activities = (
        Activity.objects.filter(plan=plan, technical_area_id__in={group.area.pk for group in groups})
        .select_related("technical_area", "responsible_organization")
        .prefetch_related("indicators")
        .order_by("pk")
    )
    candidates: dict[tuple[int, str], list[Activity]] = defaultdict(list)
    for activity in activities:
        activity.plan = plan
        candidates[(activity.technical_area_id, activity.title.strip())].append(activity)
    for group in groups:
        waiting = candidates.get((group.area.pk, group.fields["title"]))
        if waiting:
            group.activity = waiting.pop(0)


def activity_changes(group: Group) -> dict[str, Any]:
    """What the file changes on a matched activity: the fields of the layout, and its indicators."""
    activity = group.activity
    assert activity is not None
    wanted = {
        "responsible_organization": group.fields["responsible_organization"],
        "related_programme": group.fields["related_programme"],
        "existing_budget": group.fields["existing_budget"],
        "existing_budget_source": group.fields["existing_budget_source"],
    }
    if group.fields["implementation_level"]:  # an empty scale keeps the activity's own
        wanted["implementation_level"] = group.fields["implementation_level"]
    changes = {name: value for name, value in wanted.items() if getattr(activity, name) != value}
    if {indicator.pk for indicator in group.indicators} != {indicator.pk for indicator in activity.indicators.all()}:
        changes["indicators"] = group.indicators
    return changes


class _LinePlanner:
    """Decides, row by row, which cost line each cost row creates or updates, and checks it."""

    def __init__(self, *, plan: Plan, by: User, groups: list[Group], lookup: _Lookup) -> None:
        self.plan, self.by, self.lookup = plan, by, lookup
        self.costing = plan_costing_get(plan)
        self.rates = Rates(self.costing)
        self.years = list(range(plan.first_year, plan.last_year + 1))
        matched = {group.activity.pk: group.activity for group in groups if group.activity is not None}
        existing = list(
            CostLine.objects.filter(plan=plan, activity_id__in=list(matched))
            .select_related("catalogue_item")
            .prefetch_related("years")
            .order_by("order", "pk")
        )
        self.by_key: dict[str, CostLine] = {}
        self.by_description: dict[tuple[int, str], list[CostLine]] = defaultdict(list)
        for line in existing:
            line.plan, line.activity = plan, matched[line.activity_id]
            if line.import_key:
                self.by_key[line.import_key] = line
            self.by_description[(line.activity_id, line.description.strip().casefold())].append(line)
        wanted = [IMPORT_KEY_PREFIX + row.uid for group in groups for row in group.rows]
        self.taken_keys = set(
            CostLine.objects.filter(plan=plan, import_key__in=wanted).values_list("import_key", flat=True)
        )
        self.claimed: set[int] = set()
        self.recomputed = 0  # rows whose typed costs per year or total were not what they compute to

    def match(self, group: Group, row: Row, description: str) -> CostLine | None:
        if group.activity is None:
            return None
        line = self.by_key.get(IMPORT_KEY_PREFIX + row.uid)
        if line is not None and line.activity_id == group.activity.pk and line.pk not in self.claimed:
            return line
        for line in self.by_description.get((group.activity.pk, description.casefold()), []):
            if line.pk not in self.claimed:
                return line
        return None

    def category(self, row: Row, key: str, problems: list[Problem], *, required: bool) -> str | None:
        text = row.text(key)
        if not text:
            if required:
                message = gettext("choose a cost category: %(categories)s.")
                problems.append(row.problem(key, message % {"categories": _listing(map(str, CostCategory.labels))}))
                return None
            return ""
        value = self.lookup.category(text)
        if value is None:
            problems.append(
                row.problem(
                    key,
                    gettext("“%(value)s” is not a cost category; use one of %(categories)s.")
                    % {"value": text, "categories": _listing(map(str, CostCategory.labels))},
                )
            )
        return value

    def plan_row(self, group: Group, row: Row, problems: list[Problem]) -> PlannedLine | None:
        currency = self.costing.currency
        count = len(problems)
        estimated = None
        built: tuple[Decimal, Decimal] | None = None
        if blank(row.get("estimated_cost")):
            message = gettext("enter the cost of one occurrence, in %(currency)s.") % {"currency": currency}
            problems.append(row.problem("estimated_cost", message))
        elif row.is_formula("estimated_cost"):
            built = _builder(row, problems)
            if built is not None:
                estimated = (built[0] * built[1]).quantize(CENT, rounding=ROUND_HALF_UP)
        else:
            estimated = _number_at(row, "estimated_cost", problems)
        category = self.category(row, "category_1", problems, required=True)
        secondary = self.category(row, "category_2", problems, required=False)
        frequencies = _row_frequencies(row, self.plan, problems)
        if len(problems) > count or estimated is None or frequencies is None:
            return None
        if _typed_amounts_differ(row, estimated, frequencies, self.plan, problems):
            self.recomputed += 1
        description = row.text("description") or group.fields["title"]
        fields: dict[str, Any] = {
            "description": description,
            "category": category,
            "secondary_category": secondary,
            "assumptions": row.text("assumptions"),
            "technical_comment": row.text("technical_comment"),
            "costing_comment": row.text("costing_comment"),
        }
        # A typed estimated cost is a lump sum in the base currency; a cost builder's, its unit cost × quantity.
        priced = {
            "catalogue_item": None,
            "unit": Unit.LUMP_SUM if built is None else Unit.ITEM,
            "unit_cost": estimated if built is None else built[0],
            "currency": currency,
            "price_year": self.costing.price_year,
            "quantity": Decimal(1) if built is None else built[1],
        }
        every_year = {year: frequencies.get(year, Decimal(0)) for year in self.years}
        several_years = sum(1 for frequency in every_year.values() if frequency) > 1
        existing = self.match(group, row, description)
        try:
            if existing is None:
                line = CostLine(plan=self.plan, updated_by=self.by, order=row.line_number)
                key = IMPORT_KEY_PREFIX + row.uid
                if key not in self.taken_keys:
                    line.import_key = key
                    self.taken_keys.add(key)
                fields |= priced | {
                    "recurrence": CostLine.Recurrence.RECURRING if several_years else CostLine.Recurrence.ONE_OFF,
                    "optional": False,
                }
                years = line_prepare(line, fields=fields, frequencies=every_year, rates=self.rates)
                return PlannedLine(row=row, line=line, years=years, fields=fields, frequencies=every_year)
            self.claimed.add(existing.pk)
            current = (existing.unit_cost_base * existing.quantity).quantize(CENT, rounding=ROUND_HALF_UP)
            if built is None and estimated != current:  # a new price: the line becomes a lump sum
                fields |= priced
            elif built is not None and (
                abs(built[0] - existing.unit_cost_base) >= Decimal("0.005") or built[1] != existing.quantity
            ):  # a new unit cost or quantity: in the base currency; the line keeps its unit unless a lump sum
                fields |= priced | {"unit": existing.unit if existing.unit != Unit.LUMP_SUM else Unit.ITEM}
            if existing.recurrence == CostLine.Recurrence.ONE_OFF and several_years:
                fields["recurrence"] = CostLine.Recurrence.RECURRING
            changes = {name: value for name, value in fields.items() if getattr(existing, name) != value}
            had = {year: Decimal(0) for year in self.years} | {y.year: y.frequency for y in existing.years.all()}
            if not changes and had == every_year:
                return PlannedLine(row=row, line=existing, years=[], existing=existing, changed=False)
            candidate = copy.copy(existing)
            years = line_prepare(candidate, fields=changes, frequencies=every_year, rates=self.rates)
            return PlannedLine(
                row=row, line=candidate, years=years, existing=existing, fields=changes, frequencies=every_year
            )
        except ValidationError as error:
            _line_errors(row, error, self.plan, problems)
            return None


def _activity_errors(group: Group, error: ValidationError | EditConflict, problems: list[Problem]) -> None:
    row = group.first
    if isinstance(error, EditConflict):
        problems.append(
            row.problem(
                "summary",
                gettext("someone changed this activity while the file was being imported; import it again."),
            )
        )
        return
    messages = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    for name, texts in messages.items():
        key = ACTIVITY_FIELD_COLUMNS.get(name)
        for text in texts:
            title = row.titles.get(key, "") if key else ""
            problems.append(row.problem(key, f"{title}: {text}" if title else text))


def _refuse_unless_importable(plan: Plan) -> None:
    if plan.framework_id is None:
        raise ImportRefused(
            [gettext("This plan has no assessment framework, so its technical areas are unknown; choose one first.")]
        )
    if problem := who_period_problem(plan):
        raise ImportRefused([problem])


def who_workbook_check(*, plan: Plan, by: User, sheets: list[Sheet]) -> tuple[list[Group], int]:
    """Read and check every row; ImportRefused listing every problem, or the groups ready to apply and how many
    rows had typed costs per year or totals that were recomputed."""
    _refuse_unless_importable(plan)
    lookup = _Lookup(plan)
    problems: list[Problem] = []
    sheet = _tool_sheet(sheets, problems)
    rows = _table_rows(sheet, lookup, plan, problems)
    groups = _group_rows(rows, lookup, problems)
    resolved = []
    for group in groups:
        values = _activity_values(group, problems)
        if values is not None:  # every row is checked even so, to list all of the file's problems at once
            _resolve_activity(group, values, lookup, problems)
            resolved.append(group)
    _match_activities(resolved, plan)
    planner = _LinePlanner(plan=plan, by=by, groups=resolved, lookup=lookup)
    for group in resolved:
        for row in group.rows:
            if row.has_line() and (planned := planner.plan_row(group, row, problems)) is not None:
                group.lines.append(planned)
    if problems:
        order = {sheet.name: index for index, sheet in enumerate(sheets)}
        problems.sort(key=lambda p: (order.get(p.sheet, -1), p.row or 0, len(p.column), p.column))
        # One problem per cell, the first found: a formula's, rather than what its text made of the value.
        cells: set[tuple[str, int, str]] = set()
        listed = []
        for problem in problems:
            if problem.row is not None and problem.column:
                if (problem.sheet, problem.row, problem.column) in cells:
                    continue
                cells.add((problem.sheet, problem.row, problem.column))
            listed.append(problem)
        raise ImportRefused(listed)
    if not groups:
        raise ImportRefused([gettext("The workbook holds no rows to import under its headers.")])
    return resolved, planner.recomputed


@transaction.atomic
def who_workbook_apply(
    *, plan: Plan, by: User, groups: list[Group], filename: str, recomputed: int = 0
) -> WhoImportReport:
    """Write what the check planned, all or nothing: ImportRefused if any write is refused."""
    report = WhoImportReport()
    report.summary["amounts_recomputed"] = recomputed
    problems: list[Problem] = []
    new_lines: list[PlannedLine] = []
    lines_changed = False
    for group in groups:
        activity_outcome = "activity unchanged"
        try:
            if group.activity is None:
                group.activity = activity_create(
                    plan=plan,
                    by=by,
                    technical_area=group.area,
                    title=group.fields["title"],
                    description=group.fields["objective"],
                    indicators=group.indicators,
                    responsible_organization=group.fields["responsible_organization"],
                    implementation_level=group.fields["implementation_level"] or Activity.Level.NATIONAL,
                    related_programme=group.fields["related_programme"],
                    existing_budget=group.fields["existing_budget"],
                    existing_budget_source=group.fields["existing_budget_source"],
                )
                activity_outcome = "activity created"
            elif changes := activity_changes(group):
                activity_update(activity=group.activity, by=by, version=group.activity.version, **changes)
                activity_outcome = "activity changed"
        except (ValidationError, EditConflict) as error:
            _activity_errors(group, error, problems)
            continue
        report.summary["activities_" + activity_outcome.rsplit(" ", 1)[1]] += 1
        planned_by_row = {id(planned.row): planned for planned in group.lines}
        for index, row in enumerate(group.rows):
            outcome = "no cost"
            planned = planned_by_row.get(id(row))
            if planned is not None and planned.existing is None:
                planned.line.activity = group.activity
                new_lines.append(planned)
                outcome = "cost line created"
            elif planned is not None and planned.existing is not None and planned.changed:
                try:
                    cost_line_update(
                        line=planned.existing,
                        by=by,
                        version=planned.existing.version,
                        fields=planned.fields,
                        frequencies=planned.frequencies,
                    )
                except ValidationError as error:
                    _line_errors(row, error, plan, problems)
                except EditConflict:
                    message = gettext(
                        "someone changed this cost line while the file was being imported; import it again."
                    )
                    problems.append(row.problem("uid", message))
                outcome, lines_changed = "cost line changed", True
            elif planned is not None:
                outcome = "cost line unchanged"
            if outcome != "no cost":
                report.summary["lines_" + outcome.rsplit(" ", 1)[1]] += 1
            what = str(OUTCOMES[outcome])
            if index == 0:
                # Translators: what an import did to an activity, then to the cost line of its first row.
                what = gettext("%(activity)s; %(line)s") % {"activity": OUTCOMES[activity_outcome], "line": what}
            report.outcomes.append((row.sheet.name, row.number, row.uid, group.fields["title"], what))
    if problems:
        raise ImportRefused(problems)
    if new_lines:
        CostLine.objects.bulk_create([planned.line for planned in new_lines])
        CostLineYear.objects.bulk_create([year for planned in new_lines for year in planned.years])
        for planned in new_lines:
            audit_record(
                plan=plan,
                by=by,
                action="created",
                target=planned.line,
                changes={"activity": str(planned.line.activity), "imported from": filename},
                area_id=planned.line.activity.technical_area_id,
            )
    if new_lines or lines_changed:
        costs_changed(plan.pk)
    if report.changed_anything:
        audit_record(
            plan=plan,
            by=by,
            action="imported the WHO costing tool layout into",
            target=plan,
            changes={"file": filename, **report.summary},
        )
    return report


def who_workbook_import(
    *, plan: Plan, by: User, upload: IO[bytes], filename: str, progress: Progress | None = None
) -> WhoImportReport:
    """Import a workbook in the WHO costing tool layout into the plan: checked whole, applied all or nothing.

    Raises ImportRefused listing every problem by sheet, row and column; nothing is saved then.
    """
    report_progress = progress or (lambda percent, message: None)
    _refuse_unless_importable(plan)
    report_progress(5, gettext("Reading the workbook"))
    sheets = read_spreadsheet(
        upload, name=filename, limits=WHO_LAYOUT.limits, formulas="report", macros=WHO_LAYOUT.macros
    )
    plan_costing_get(plan)
    with transaction.atomic():
        return _who_apply(plan=plan, by=by, sheets=sheets, filename=filename, progress=report_progress)


def _who_apply(*, plan: Plan, by: User, sheets: list[Sheet], filename: str, progress: Progress) -> WhoImportReport:
    """Check every row and apply the whole workbook, inside the caller's transaction; ImportRefused otherwise."""
    _refuse_unless_importable(plan)
    plan_costing_get(plan)
    progress(30, gettext("Checking every row, then saving activities and cost lines"))
    # One import into a plan at a time: the same file uploaded twice and run by two workers at once is checked
    # the second time only after the first is saved, and then finds everything already there.
    PlanCosting.objects.select_for_update().filter(plan=plan).first()
    groups, recomputed = who_workbook_check(plan=plan, by=by, sheets=sheets)
    return who_workbook_apply(plan=plan, by=by, groups=groups, filename=filename, recomputed=recomputed)


def _layout_apply(upload: CostingUpload, sheets: list[Sheet], progress: Progress) -> Applied:
    """The layout's step of costing.uploads."""
    try:
        report = _who_apply(
            plan=upload.plan, by=upload.uploaded_by, sheets=sheets, filename=upload.filename, progress=progress
        )
    except ImportRefused as refused:
        raise UploadRefused(refused.problems) from None
    return Applied(summary=report.summary, details=report)


def _may_still_import(upload: CostingUpload) -> str:
    membership = PlanMembership.objects.filter(plan_id=upload.plan_id, user_id=upload.uploaded_by_id).first()
    if membership is None or not membership.role_allows(Permission.EDIT_PLAN):
        return gettext(
            "Only the plan's secretariat imports workbooks, and the person who uploaded this one no longer is."
        )
    return ""


def refusal_message(refused: UploadRefused) -> str:
    problems = refused.problems
    if len(problems) == 1 and not problems[0].sheet:
        return gettext("Nothing was imported: %(problem)s") % {"problem": problems[0]}
    return ngettext(
        "Nothing was imported: the workbook has %(count)s problem, listed with its sheet, row and column.",
        "Nothing was imported: the workbook has %(count)s problems, each listed with its sheet, row and column.",
        refused.total,
    ) % {"count": refused.total}


def _report_workbook(report: WhoImportReport, filename: str) -> bytes:
    workbook = new_workbook()
    labels = {
        "activities_created": gettext("Activities created"),
        "activities_changed": gettext("Activities changed"),
        "activities_unchanged": gettext("Activities unchanged"),
        "lines_created": gettext("Cost lines created"),
        "lines_changed": gettext("Cost lines changed"),
        "lines_unchanged": gettext("Cost lines unchanged"),
        "amounts_recomputed": gettext("Rows whose typed costs per year or total were recomputed"),
    }
    add_table_sheet(
        workbook,
        title=gettext("Summary"),
        headers=[gettext("Imported file"), filename],
        rows=[[labels[key], value] for key, value in report.summary.items()],
        widths=[28, 40],
    )
    add_table_sheet(
        workbook,
        title=gettext("Rows"),
        headers=[gettext("Sheet"), gettext("Row"), ID_TITLE, gettext("Activity"), gettext("What happened")],
        rows=[list(outcome) for outcome in report.outcomes],
        widths=[32, 8, 12, 50, 40],
    )
    return workbook_bytes(workbook)


def _report(upload: CostingUpload, report: WhoImportReport | None) -> tuple[str, bytes]:
    stem = upload.filename.rsplit(".", 1)[0]
    if report is None:  # applied by an earlier delivery of the job: what it kept
        report = WhoImportReport(summary=upload.summary)
    return f"{file_slug(stem)}-import-report.xlsx", _report_workbook(report, upload.filename)


def who_costing_import(*, job: Job, progress: Progress) -> JobResult:
    """Job handler: apply an uploaded workbook in the WHO layout; its problems are kept on the upload."""
    return costing_upload_run(job=job, progress=progress, layout=WHO_LAYOUT, allowed=_may_still_import)


def who_upload_create(*, plan: Plan, by: User, upload: IO[bytes], filename: str) -> CostingUpload:
    """Keep an uploaded workbook and queue its import; the job checks it whole and applies it or lists why not.
    Refused (ValidationError) when the plan's uploads waiting to be checked have no room for it."""
    return costing_upload_create(plan=plan, by=by, file=upload, filename=filename, layout=WHO_LAYOUT)


WHO_LAYOUT = Layout(
    layout=CostingUpload.Layout.WHO,
    job_kind=CostingJob.WHO_COSTING_IMPORT,
    limits="who_costing",
    apply=_layout_apply,
    refusal=refusal_message,
    report=_report,
    macros="pass_over",  # WHO distributes the tool as a macro-enabled workbook; a ministry's copy is one too
)
