"""The layout of the WHO NAPHS planning and costing tool: a plan exported to it, and a workbook in it imported.

One sheet per technical area, titled with the area's code and short name, a title block, then a header row
with the tool's columns (`who_headers`). Each row is one cost line of an activity; an activity without cost
lines has one row without a cost. The Unique ID is `<area code>.<activity number>.<line number>`: activities
numbered within their area in the order they were created (by id), lines in their own order (order, id), so
the same plan exports the same IDs every time.

How the plan's data fills the columns:

- Indicator: the codes and names of the activity's indicators.
- Objective: what a reviewer reads as the activity's objective: the levels the plan targets for those
  indicators ("Legal Instruments: by 2030, reach level 4 (demonstrated capacity) in P1.1 Legal instruments"),
  else the first line of the activity's description, else the area's name.
- Summary of key activities: the activity's title; Detailed activity description: the cost line's
  description; Detailed cost assumptions and the two comment columns: the line's own.
- Estimated cost: one occurrence in the base currency (unit cost converted at its rate, times quantity);
  Frequency Y1..Y5: how often in each year; Cost estimate Y1..Y5 and the total: the computed amounts.
- Money and frequencies are numbers, the currency is named in the headers; no formulas; text is written
  through naphs.xlsx, so a cell starting with = + - @ stays text.

The layout holds five years. A plan of more than five years is refused (export and import alike) rather
than given extra columns the WHO tool would not read, or totals "over 5 years" that leave years out; its
costing workbook covers every year. Columns of years after a shorter plan's last year stay empty.

Import (the secretariat's): rows sharing `<area>.<activity>` form one activity, matched to an activity of the
plan in that area with exactly that title, else created (with the Objective as its description). Indicators are
read by code, the responsible authority by an organization's name or acronym, the scale by its label, the
existing budget as Y or N; they are set on a matched activity too. Each row with a cost becomes a cost line: a
lump sum of the estimated cost (quantity 1, in the base currency at the plan's price year) with the frequencies
of its row; amounts typed in the cost columns must agree with them, as they are computed. Every row is checked
before anything is written; the whole workbook is applied in one transaction or not at all. Importing the same
file again changes nothing: a line is found again by its import key `who:<area>.<activity>.<line>` (the row's
position, not the file's digest, so an edited file still finds its lines), else by its activity and
description; a line whose estimated cost still equals its unit cost times its quantity keeps its unit,
quantity, currency and catalogue item. Lines the file does not mention are left as they are: the layout may
carry only some areas.
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
from openpyxl.utils import get_column_letter

from costing.job_kinds import CostingJob
from costing.layouts.who import (
    ACTIVITY_FIELD_COLUMNS,
    ACTIVITY_KEYS,
    CATEGORY_SYNONYMS,
    COLUMN_KEYS,
    CURRENCY_IN_HEADING,
    LINE_FIELD_COLUMNS,
    MONEY_FORMAT,
    REQUIRED_KEYS,
    REQUIRED_TITLES,
    TITLE_ROWS,
    UID,
    WHO_YEARS,
    WIDTHS,
    YEAR_IN_HEADING,
    Row,
    blank,
    heading_key,
    sheet_titles,
    who_headers,
)
from costing.models import MAX_FREQUENCY, CostCategory, CostingUpload, CostLine, CostLineYear, PlanCosting, Unit
from costing.services import CENT, Rates, cost_line_update, costs_changed, line_prepare, parse_decimal, plan_costing_get
from costing.uploads import Applied, Layout, UploadRefused, costing_upload_create, costing_upload_run
from naphs.errors import EditConflict
from naphs.jobs import JobFailed, JobResult, Progress, file_slug
from naphs.languages import number_text
from naphs.models import Job
from naphs.permissions import Permission
from naphs.services import audit_record
from naphs.spreadsheets import (
    ImportRefused,
    Problem,
    Sheet,
    cell_text,
    find_header,
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


def who_rows(plan: Plan, *, currency: str) -> dict[TechnicalArea, list[dict[str, Any]]]:
    """{area: rows}, each row {column key: value} and `optional` (bool), for every area of the plan's framework
    (and any other area its activities are in), in the framework's order. A fixed number of queries."""
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
                rows.append({"uid": f"{area.code}.{number}.1", **shared, "optional": False})
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
                    "total": sum((year.amount for year in amounts.values()), Decimal(0)),
                    "category_1": line.get_category_display(),
                    "category_2": line.get_secondary_category_display() if line.secondary_category else "",
                    "optional": line.optional,
                }
                for n, year in enumerate(years, start=1):
                    if year <= plan.last_year:
                        entry = amounts.get(year)
                        row[f"frequency_{n}"] = _number(entry.frequency) if entry else 0
                        row[f"cost_{n}"] = entry.amount if entry else Decimal("0.00")
                rows.append(row)
    return result


def _readme(workbook, plan: Plan, currency: str, price_year: int) -> None:
    # Translators: the name of the instructions sheet of the WHO costing tool layout, at most 31 characters.
    sheet = workbook.create_sheet(gettext("Read me")[:31])
    words = {"currency": currency, "year": price_year}
    lines = [
        gettext("%(plan)s: costing in the layout of the WHO NAPHS planning and costing tool") % {"plan": plan.title},
        gettext("%(jurisdiction)s · %(kind)s plan · %(period)s")
        % {"jurisdiction": plan.jurisdiction.name, "kind": plan.get_kind_display(), "period": plan.period},
        gettext("Amounts in %(currency)s, at %(year)s prices.") % words,
        "",
        gettext(
            "One sheet per technical area. Each row is one cost line of an activity; an activity without costs "
            "has one row without a cost."
        ),
        gettext("Unique ID: technical area code . activity number in the area . cost line number (e.g. P1.3.2)."),
        gettext("Objective: the levels the plan targets for the activity's indicators."),
        gettext(
            "Estimated cost: the cost of one occurrence in %(currency)s (unit cost × quantity). Frequency: how many "
            "times a year. Cost estimate: estimated cost × frequency. All are numbers, never formulas."
        )
        % words,
        gettext("Optional costs (counted only in the scenario with optional costs) are in italics."),
        gettext(
            "The column headings are those of the WHO tool, in English, whatever the language of this sheet: keep "
            "them as they are."
        ),
        "",
        gettext(
            "To import this workbook into a plan: keep the area code at the start of each sheet's name, the header "
            "row and the Unique IDs; type values, not formulas. Rows of one activity share the first two parts of "
            "their Unique ID."
        ),
    ]
    for number, text in enumerate(lines, start=1):
        write_row(sheet, number, [text])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.column_dimensions["A"].width = 120


def who_workbook(plan: Plan, *, progress: Progress | None = None) -> bytes:
    """The plan in the WHO costing tool layout, as .xlsx bytes. ValueError when the plan is too long."""
    if problem := who_period_problem(plan):
        raise ValueError(problem)
    report = progress or (lambda percent, message: None)
    costing = plan_costing_get(plan)
    currency = costing.currency
    report(10, gettext("Reading activities and cost lines"))
    rows_by_area = who_rows(plan, currency=currency)
    report(50, gettext("Writing the workbook"))
    columns = who_headers(plan, currency)
    keys = [key for key, _ in columns]
    money = {
        keys.index(key) + 1 for key in keys if key == "estimated_cost" or key.startswith("cost_") or key == "total"
    }
    workbook = new_workbook()
    _readme(workbook, plan, currency, costing.price_year)
    titles = sheet_titles(rows_by_area)
    for area, rows in rows_by_area.items():
        sheet = workbook.create_sheet(titles[area.pk])
        write_row(sheet, 1, [f"{area.code} {area.local_name}"])
        sheet["A1"].font = Font(bold=True, size=13)
        subtitle = gettext("%(plan)s · %(period)s · amounts in %(currency)s at %(year)s prices") % {
            "plan": plan.title,
            "period": plan.period,
            "currency": currency,
            "year": costing.price_year,
        }
        write_row(sheet, 2, [subtitle])
        header_row = TITLE_ROWS + 1
        write_row(sheet, header_row, [title for _, title in columns])
        for cell in sheet[header_row]:
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            cell.alignment = Alignment(vertical="top", wrap_text=True)
        for offset, row in enumerate(rows, start=1):
            number = header_row + offset
            write_row(sheet, number, [row.get(key, None) for key in keys])
            for column in money:
                sheet.cell(row=number, column=column).number_format = MONEY_FORMAT
            if row["optional"]:
                for cell in sheet[number]:
                    cell.font = Font(italic=True)
        sheet.freeze_panes = sheet.cell(row=header_row + 1, column=2)
        last = header_row + max(len(rows), 1)
        sheet.auto_filter.ref = f"A{header_row}:{get_column_letter(len(keys))}{last}"
        for index, key in enumerate(keys, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = WIDTHS.get(key, 14)
    workbook.properties.title = gettext("%(plan)s: WHO costing tool layout") % {"plan": plan.title}
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


class _Lookup:
    """The plan's reference data an import matches names against, read once."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.areas = {indicator_code_key(area.code): area for area in technical_areas_of(plan)}
        self.indicators: dict[int, list[Indicator]] = defaultdict(list)
        if plan.framework_id is not None:  # a plan without a framework has no indicators to match
            for indicator in Indicator.objects.filter(framework_id=plan.framework_id).order_by("order", "code"):
                self.indicators[indicator.technical_area_id].append(indicator)
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

    def area_of_sheet(self, name: str) -> TechnicalArea | None:
        token = (name.split() or [""])[0].rstrip(".:-–")
        return self.areas.get(indicator_code_key(token))

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
            indicator = by_code.get(indicator_code_key(part.split()[0])) or by_name.get(part.casefold())
            if indicator is None:
                unknown.append(part)
            elif indicator not in found:
                found.append(indicator)
        return found, unknown


def _area_sheets(sheets: list[Sheet], lookup: _Lookup, problems: list[Problem]) -> list[tuple[Sheet, TechnicalArea]]:
    """The sheets named after a technical area of the plan's framework. A sheet with the layout's header but
    no such area is a problem (a workbook of another framework); any other sheet (instructions) is ignored."""
    found: list[tuple[Sheet, TechnicalArea]] = []
    seen: dict[int, str] = {}
    for sheet in sheets:
        area = lookup.area_of_sheet(sheet.name)
        if area is None:
            header = find_header(sheet, required=REQUIRED_KEYS, key=heading_key)
            if header is not None and all(key in header[1] for key in REQUIRED_KEYS):
                token = (sheet.name.split() or [""])[0]
                plan_framework = lookup.plan.framework
                framework = plan_framework.local_name if plan_framework is not None else gettext("the plan's framework")
                message = gettext(
                    "“%(token)s” is not a technical area of %(framework)s; name each sheet after its area's code "
                    "(one of %(codes)s)."
                ) % {"token": token, "framework": framework, "codes": _listing(a.code for a in lookup.areas.values())}
                problems.append(Problem(message, sheet.name))
            continue
        if area.pk in seen:
            problems.append(
                Problem(
                    gettext("%(area)s has a sheet already (“%(sheet)s”); keep one sheet per area.")
                    % {"area": area.code, "sheet": seen[area.pk]},
                    sheet.name,
                )
            )
            continue
        seen[area.pk] = sheet.name
        found.append((sheet, area))
    return found


def _sheet_rows(sheet: Sheet, area: TechnicalArea, plan: Plan, currency: str, problems: list[Problem]) -> list[Row]:
    """The data rows of an area sheet, after checking its header: the columns, the currency and the years."""
    header = find_header(sheet, required=REQUIRED_KEYS, key=heading_key)
    if header is None:
        return []  # an empty sheet
    index, columns = header
    missing = [REQUIRED_TITLES[key] for key in REQUIRED_KEYS if key not in columns]
    if missing:
        # Name the row that looks most like the header, not the title above it.
        index = max(
            range(min(len(sheet.rows), TITLE_ROWS + 3)),
            key=lambda i: sum(heading_key(value) in COLUMN_KEYS for value in sheet.rows[i]),
        )
        columns = {heading_key(value): position for position, value in enumerate(sheet.rows[index])}
        missing = [REQUIRED_TITLES[key] for key in REQUIRED_KEYS if key not in columns]
        problems.append(
            sheet.problem(
                gettext("no column %(columns)s: the header row needs the columns of the WHO costing tool layout.")
                % {"columns": _listing(f"“{title}”" for title in missing)},
                row=index + 1,
            )
        )
        return []
    titles = {key: cell_text(sheet.rows[index][position]) for key, position in columns.items()}
    for key in ("estimated_cost", *(f"cost_{n}" for n in range(1, WHO_YEARS + 1)), "total"):
        if key not in columns:
            continue
        inside = " ".join(re.findall(r"\(([^)]*)\)", titles[key]))
        named = set(CURRENCY_IN_HEADING.findall(inside))
        if named and currency not in named:
            problems.append(
                sheet.problem(
                    gettext(
                        "amounts in %(named)s, but this plan is costed in %(currency)s: convert them to "
                        "%(currency)s and head the column “%(currency)s”."
                    )
                    % {"named": _listing(sorted(named)), "currency": currency},
                    row=index + 1,
                    column=columns[key] + 1,
                )
            )
            break
    for n in range(1, WHO_YEARS + 1):
        key = f"frequency_{n}"
        match = YEAR_IN_HEADING.search(titles.get(key, ""))
        year = plan.first_year + n - 1
        if match and int(match.group(1)) != year:
            problems.append(
                sheet.problem(
                    gettext(
                        "headed %(headed)s, but year %(number)s of this plan is %(year)s: this workbook was made "
                        "for another period (%(period)s here)."
                    )
                    % {"headed": match.group(1), "number": n, "year": year, "period": plan.period},
                    row=index + 1,
                    column=columns[key] + 1,
                )
            )
            break
    rows = []
    for offset, values in enumerate(sheet.rows[index + 1 :], start=index + 2):
        if all(blank(value) for value in values):
            continue
        rows.append(Row(sheet=sheet, number=offset, columns=columns, titles=titles, values=values, area=area))
    return rows


def _group_rows(rows: list[Row], problems: list[Problem]) -> list[Group]:
    """Rows by activity, in the order the file gives them; each row's Unique ID checked and parsed."""
    groups: dict[tuple[int, int], Group] = {}
    seen: dict[str, Row] = {}
    for row in rows:
        raw = row.text("uid")
        match = UID.match(raw.replace(" ", ""))
        if not raw:
            problems.append(
                row.problem(
                    "uid",
                    gettext("no Unique ID; give each row one, e.g. %(example)s (area.activity.line).")
                    % {"example": f"{row.area.code}.1.1"},
                )
            )
            continue
        if match is None:
            problems.append(
                row.problem(
                    "uid",
                    gettext("“%(value)s” is not a Unique ID like %(example)s (area.activity.line).")
                    % {"value": raw, "example": f"{row.area.code}.1.1"},
                )
            )
            continue
        if indicator_code_key(match["area"]) != indicator_code_key(row.area.code):
            problems.append(
                row.problem(
                    "uid",
                    gettext(
                        "%(value)s belongs to area %(area)s, but this is the sheet of %(sheet_area)s; move the row "
                        "to its area's sheet or correct its ID."
                    )
                    % {"value": raw, "area": match["area"], "sheet_area": row.area.code},
                )
            )
            continue
        row.activity_number, row.line_number = int(match["activity"]), int(match["line"])
        if row.activity_number < 1 or row.line_number < 1:
            problems.append(
                row.problem("uid", gettext("%(value)s: activity and line numbers start at 1.") % {"value": raw})
            )
            continue
        if row.uid in seen:
            earlier = seen[row.uid]
            problems.append(
                row.problem(
                    "uid",
                    gettext("%(uid)s is also the ID of row %(row)s of sheet “%(sheet)s”.")
                    % {"uid": row.uid, "row": earlier.number, "sheet": earlier.sheet.name},
                )
            )
            continue
        seen[row.uid] = row
        group = groups.setdefault((row.area.pk, row.activity_number), Group(area=row.area, number=row.activity_number))
        group.rows.append(row)
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


def _check_amounts(
    row: Row, estimated: Decimal, frequencies: dict[int, Decimal], plan: Plan, problems: list[Problem]
) -> None:
    """Amounts typed in the cost columns must be what estimated cost × frequency gives (to the cent per
    occurrence): they are computed, so a changed amount would otherwise be silently ignored."""
    expected_total = Decimal(0)
    occurrences = Decimal(0)
    for n in range(1, WHO_YEARS + 1):
        year = plan.first_year + n - 1
        frequency = frequencies.get(year, Decimal(0))
        expected = (estimated * frequency).quantize(CENT, rounding=ROUND_HALF_UP)
        expected_total += expected
        occurrences += frequency
        raw = row.get(f"cost_{n}")
        if blank(raw):
            continue
        try:
            given = parse_decimal(raw, label=gettext("Cost estimate Y%(number)s") % {"number": n})
        except ValidationError as error:
            problems.append(row.problem(f"cost_{n}", " ".join(error.messages)))
            continue
        if abs(given - expected) > CENT * max(frequency, Decimal(1)):
            problems.append(
                row.problem(
                    f"cost_{n}",
                    gettext(
                        "%(given)s, but estimated cost × frequency is %(expected)s; costs per year are computed: "
                        "change the estimated cost or the frequency instead."
                    )
                    % {"given": number_text(given, 2), "expected": number_text(expected, 2)},
                )
            )
    raw = row.get("total")
    if blank(raw):
        return
    try:
        given = parse_decimal(raw, label=gettext("Total cost"))
    except ValidationError as error:
        problems.append(row.problem("total", " ".join(error.messages)))
        return
    if abs(given - expected_total) > CENT * max(occurrences, Decimal(1)):
        problems.append(
            row.problem(
                "total",
                gettext(
                    "%(given)s, but the costs per year add up to %(expected)s; the total is computed: "
                    "change the estimated cost or the frequencies instead."
                )
                % {"given": number_text(given, 2), "expected": number_text(expected_total, 2)},
            )
        )


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
        if blank(row.get("estimated_cost")):
            message = gettext("enter the cost of one occurrence, in %(currency)s.") % {"currency": currency}
            problems.append(row.problem("estimated_cost", message))
        else:
            try:
                estimated = parse_decimal(row.get("estimated_cost"), label=gettext("Estimated cost"))
            except ValidationError as error:
                problems.append(row.problem("estimated_cost", " ".join(error.messages)))
        category = self.category(row, "category_1", problems, required=True)
        secondary = self.category(row, "category_2", problems, required=False)
        frequencies = _row_frequencies(row, self.plan, problems)
        if len(problems) > count or estimated is None or frequencies is None:
            return None
        _check_amounts(row, estimated, frequencies, self.plan, problems)
        description = row.text("description") or group.fields["title"]
        fields: dict[str, Any] = {
            "description": description,
            "category": category,
            "secondary_category": secondary,
            "assumptions": row.text("assumptions"),
            "technical_comment": row.text("technical_comment"),
            "costing_comment": row.text("costing_comment"),
        }
        lump_sum = {
            "catalogue_item": None,
            "unit": Unit.LUMP_SUM,
            "unit_cost": estimated,
            "currency": currency,
            "price_year": self.costing.price_year,
            "quantity": Decimal(1),
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
                fields |= lump_sum | {
                    "recurrence": CostLine.Recurrence.RECURRING if several_years else CostLine.Recurrence.ONE_OFF,
                    "optional": False,
                }
                years = line_prepare(line, fields=fields, frequencies=every_year, rates=self.rates)
                return PlannedLine(row=row, line=line, years=years, fields=fields, frequencies=every_year)
            self.claimed.add(existing.pk)
            current = (existing.unit_cost_base * existing.quantity).quantize(CENT, rounding=ROUND_HALF_UP)
            if estimated != current:  # a new price: the line becomes a lump sum in the base currency
                fields |= lump_sum
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


def who_workbook_check(*, plan: Plan, by: User, sheets: list[Sheet]) -> list[Group]:
    """Read and check every row; ImportRefused listing every problem, or the groups ready to apply."""
    _refuse_unless_importable(plan)
    currency = plan_costing_get(plan).currency
    lookup = _Lookup(plan)
    problems: list[Problem] = [problem for sheet in sheets for problem in sheet.formulas]
    area_sheets = _area_sheets(sheets, lookup, problems)
    if not area_sheets and not problems:
        raise ImportRefused(
            [
                gettext(
                    "No sheet is named after a technical area: the WHO costing tool layout has one sheet per area, "
                    "its name starting with the area's code (e.g. “%(code)s …”)."
                )
                % {"code": next(iter(lookup.areas.values())).code}
                if lookup.areas
                else gettext("This plan's framework has no technical areas.")
            ]
        )
    rows = [row for sheet, area in area_sheets for row in _sheet_rows(sheet, area, plan, currency, problems)]
    groups = _group_rows(rows, problems)
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
    return resolved


@transaction.atomic
def who_workbook_apply(*, plan: Plan, by: User, groups: list[Group], filename: str) -> WhoImportReport:
    """Write what the check planned, all or nothing: ImportRefused if any write is refused."""
    report = WhoImportReport()
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
    sheets = read_spreadsheet(upload, name=filename, limits="who_costing", formulas="report")
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
    groups = who_workbook_check(plan=plan, by=by, sheets=sheets)
    return who_workbook_apply(plan=plan, by=by, groups=groups, filename=filename)


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
        headers=[gettext("Sheet"), gettext("Row"), gettext("Unique ID"), gettext("Activity"), gettext("What happened")],
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
)
