"""The whole-plan workbook: everything a plan holds, one sheet per part, for reading and archiving.

A background job (`plan_workbook_export`) writes, with the streaming writer: a summary, the activities with all
their fields and their cost per year, the cost lines with their frequencies and amounts per year, the cost of each
technical area per year, the funding commitments, the assessments' scores, and each indicator's current level and
target. Sheet names and headings are in the language of the person who asked; the cells hold the plan's values as
the API gives them (choice values, ISO dates, numbers, true or false, names as entered), so a spreadsheet computes
with them whatever its language.

The workbook is written from a `PlanContent`: rows of plain values keyed by the API's field names. The current
draft's content is read from the database in a fixed number of queries, whatever the plan's size
(`plan_content_read`). A stored version of the plan hands its own content instead: `plan_workbook_build` takes it
as `version`, any object with a `label` (how the summary names it) and a `content()` returning a PlanContent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from django.utils import timezone
from django.utils.translation import gettext

from costing.models import CostLine, CostLineYear, FundingCommitment
from costing.services import plan_costing_get
from naphs.jobs import JobFailed, JobResult, Progress, file_slug
from naphs.xlsx import StreamingWorkbook, sheet_title
from planning.models import Activity, ActivityDependency, Indicator, IndicatorScore, IndicatorTarget
from planning.selectors import plan_current_levels

if TYPE_CHECKING:
    from naphs.models import Job
    from planning.models import Plan

ZERO = Decimal("0")
MONEY = "#,##0.00"
HEADER_FILL = "1F4E79"
LIST_SEPARATOR = "; "  # between the items of a list held in one cell (indicator codes, sectors, ids)

Row = dict[str, Any]
_BOOLEAN_TEXT = {True: "true", False: "false"}


@dataclass
class PlanContent:
    """A plan's content as rows of plain values, keyed by the API's field names; see the module docstring.

    Each activity row carries `cost_lines`' amounts through the cost-line rows (`activity` names the activity's
    id); `years` are the plan's years, in order.
    """

    years: list[int]
    activities: list[Row] = field(default_factory=list)
    cost_lines: list[Row] = field(default_factory=list)  # each with "frequencies" and "amounts": {year: Decimal}
    funding: list[Row] = field(default_factory=list)
    scores: list[Row] = field(default_factory=list)
    targets: list[Row] = field(default_factory=list)
    priorities: list[Row] = field(default_factory=list)  # filled for a stored version (costing.versions)
    contexts: list[Row] = field(default_factory=list)  # the plan's narrative ("" area) and each area's
    # Filled for a stored version (costing.versions): the plan's base currency, and what the funding gap is made of,
    # {technical_area, year, required, optional, funded} in it, as the funding page computes it (funding_gap).
    currency: str = ""
    by_area_year: list[Row] = field(default_factory=list)


class PlanVersionSource(Protocol):
    """What a stored version of a plan gives the workbook: a name for the summary, and its content."""

    label: str

    def content(self) -> PlanContent: ...


def _joined(values: Iterable[Any]) -> str:
    return LIST_SEPARATOR.join(str(value) for value in values)


def plan_content_read(plan: Plan) -> PlanContent:
    """The current draft's content, in fourteen queries at most whatever the number of activities and lines."""
    years = list(range(plan.first_year, plan.last_year + 1))
    content = PlanContent(years=years)

    indicators: dict[int, list[str]] = defaultdict(list)
    for activity_id, code in (
        Activity.indicators.through.objects.filter(activity__plan=plan)
        .order_by("indicator__order", "indicator__code")
        .values_list("activity_id", "indicator__code")
    ):
        indicators[activity_id].append(code)
    supporting: dict[int, list[str]] = defaultdict(list)
    for activity_id, name in (
        Activity.supporting_organizations.through.objects.filter(activity__plan=plan)
        .order_by("organization__name", "organization_id")
        .values_list("activity_id", "organization__name")
    ):
        supporting[activity_id].append(name)
    depends_on: dict[int, list[int]] = defaultdict(list)
    for activity_id, other_id in (
        ActivityDependency.objects.filter(activity__plan=plan)
        .order_by("depends_on_id")
        .values_list("activity_id", "depends_on_id")
    ):
        depends_on[activity_id].append(other_id)

    activity_fields = (
        "id", "technical_area__code", "technical_area__name", "title", "description", "source", "action_type",
        "responsible_organization__name", "implementation_level", "start_date", "end_date", "impact",
        "feasibility", "priority", "sectors", "hazards", "status", "related_programme", "existing_budget",
        "existing_budget_source", "origin_id", "version",
    )  # fmt: skip
    for row in (
        Activity.objects.filter(plan=plan)
        .order_by("technical_area__order", "technical_area__code", "pk")
        .values(*activity_fields)
    ):
        pk = row["id"]
        content.activities.append(
            {
                "id": pk,
                "technical_area": row["technical_area__code"],
                "technical_area_name": row["technical_area__name"],
                "title": row["title"],
                "description": row["description"],
                "indicators": _joined(indicators.get(pk, ())),
                "source": row["source"],
                "action_type": row["action_type"],
                "responsible_organization": row["responsible_organization__name"] or "",
                "supporting_organizations": _joined(supporting.get(pk, ())),
                "implementation_level": row["implementation_level"],
                "start_date": row["start_date"].isoformat() if row["start_date"] else "",
                "end_date": row["end_date"].isoformat() if row["end_date"] else "",
                "impact": row["impact"],
                "feasibility": row["feasibility"],
                "priority": row["priority"],
                "sectors": _joined(row["sectors"] or ()),
                "hazards": _joined(row["hazards"] or ()),
                "status": row["status"],
                "related_programme": row["related_programme"],
                "existing_budget": row["existing_budget"],
                "existing_budget_source": row["existing_budget_source"],
                "depends_on": _joined(depends_on.get(pk, ())),
                "origin": row["origin_id"],
                "version": row["version"],
            }
        )

    frequencies: dict[int, dict[int, Decimal]] = defaultdict(dict)
    amounts: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for line_id, year, frequency, amount in (
        CostLineYear.objects.filter(cost_line__plan=plan)
        .order_by()
        .values_list("cost_line_id", "year", "frequency", "amount")
        .iterator(chunk_size=20_000)
    ):
        frequencies[line_id][year] = frequency
        amounts[line_id][year] = amount
    line_fields = (
        "id", "activity_id", "description", "category", "secondary_category", "unit", "unit_cost", "currency",
        "price_year", "unit_cost_base", "quantity", "recurrence", "optional", "catalogue_item__name",
        "assumptions", "technical_comment", "costing_comment", "version",
    )  # fmt: skip
    for row in (
        CostLine.objects.filter(plan=plan)
        .order_by("activity__technical_area__order", "activity__technical_area__code", "activity_id", "order", "pk")
        .values(*line_fields)
        .iterator(chunk_size=20_000)
    ):
        pk = row.pop("id")
        content.cost_lines.append(
            {
                "id": pk,
                "activity": row.pop("activity_id"),
                "catalogue_item": row.pop("catalogue_item__name") or "",
                **row,
                "frequencies": frequencies.get(pk, {}),
                "amounts": amounts.get(pk, {}),
            }
        )

    funded: dict[int, list[int]] = defaultdict(list)
    for commitment_id, activity_id in (
        FundingCommitment.activities.through.objects.filter(fundingcommitment__plan=plan)
        .order_by("activity_id")
        .values_list("fundingcommitment_id", "activity_id")
    ):
        funded[commitment_id].append(activity_id)
    funding_fields = (
        "id", "source_organization__name", "source_kind", "budget_line", "amount", "currency", "first_year",
        "last_year", "status", "technical_area__code", "notes", "version",
    )  # fmt: skip
    for row in FundingCommitment.objects.filter(plan=plan).order_by("first_year", "pk").values(*funding_fields):
        content.funding.append(
            {
                "id": row["id"],
                "source_organization": row["source_organization__name"],
                "source_kind": row["source_kind"],
                "budget_line": row["budget_line"],
                "amount": row["amount"],
                "currency": row["currency"],
                "first_year": row["first_year"],
                "last_year": row["last_year"],
                "status": row["status"],
                "technical_area": row["technical_area__code"] or "",
                "activities": _joined(funded.get(row["id"], ())),
                "notes": row["notes"],
                "version": row["version"],
            }
        )

    score_fields = (
        "assessment_id", "assessment__kind", "assessment__framework__code", "assessment__date", "assessment__source",
        "indicator__code", "indicator__name", "indicator__technical_area__code", "score",
    )  # fmt: skip
    for row in (
        IndicatorScore.objects.filter(assessment__plan=plan)
        .order_by("-assessment__date", "-assessment_id", "indicator__order", "indicator__code")
        .values(*score_fields)
    ):
        content.scores.append(
            {
                "assessment": row["assessment_id"],
                "kind": row["assessment__kind"],
                "framework": row["assessment__framework__code"],
                "date": row["assessment__date"].isoformat(),
                "source": row["assessment__source"],
                "indicator": row["indicator__code"],
                "indicator_name": row["indicator__name"],
                "technical_area": row["indicator__technical_area__code"],
                "score": row["score"],
            }
        )

    current = plan_current_levels(plan=plan)
    targets = {
        indicator_id: (level, justification)
        for indicator_id, level, justification in IndicatorTarget.objects.filter(plan=plan).values_list(
            "indicator_id", "level", "justification"
        )
    }
    for pk, code, name, area in (
        Indicator.objects.filter(framework=plan.framework_id)
        .order_by("technical_area__order", "order", "code")
        .values_list("pk", "code", "name", "technical_area__code")
    ):
        level, justification = targets.get(pk, (None, ""))
        content.targets.append(
            {
                "indicator": code,
                "indicator_name": name,
                "technical_area": area,
                "current_level": current.get(pk),
                "level": level,
                "justification": justification,
            }
        )
    return content


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: float = 14
    money: bool = False
    boolean: bool = False  # true or false, written as the API writes it (see _table)


@dataclass
class Written:
    """What plan_workbook_build wrote: the file and the number of rows under the headings, every sheet summed."""

    content: bytes
    rows: int


def _by_key(columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]) -> Iterator[list[Any]]:
    """Each row's values in the order of the columns, read by their keys (a key a row lacks is left empty)."""
    for row in rows:
        yield [row.get(column.key) for column in columns]


def _table(
    book: StreamingWorkbook,
    title: str,
    columns: Sequence[Column],
    rows: Iterable[list[Any]],
    *,
    header_style: int,
    money_style: int,
) -> int:
    """A sheet with a frozen heading row and one row per item; the number of rows written under the heading."""
    sheet = book.add_sheet(sheet_title(title), widths=[column.width for column in columns], freeze_rows=1)
    sheet.append([column.title for column in columns], header_style)
    styles = [money_style if column.money else 0 for column in columns]
    # A yes-or-no as text, as the API writes it: a spreadsheet program re-saves a logical cell as a formula.
    booleans = [index for index, column in enumerate(columns) if column.boolean]
    append = sheet.append
    for values in rows:
        for index in booleans:
            value = values[index]
            if value is not None:
                values[index] = _BOOLEAN_TEXT[bool(value)]
        append(values, styles)
    return sheet.rows - 1


def plan_workbook_build(
    *, plan: Plan, version: PlanVersionSource | None = None, progress: Progress | None = None
) -> Written:
    """The whole-plan workbook of `version`, or of the current draft when it is None. A fixed number of queries."""
    report: Callable[[int, str], None] = progress or (lambda percent, message: None)
    report(5, gettext("Reading the plan"))
    content = version.content() if version is not None else plan_content_read(plan)
    costing = plan_costing_get(plan)
    years = content.years
    book = StreamingWorkbook(title=gettext("%(plan)s: whole plan") % {"plan": plan.title})
    header = book.style(bold=True, color="FFFFFF", fill=HEADER_FILL, wrap=True)
    money = book.style(number_format=MONEY)
    bold = book.style(bold=True)
    report(30, gettext("Writing the workbook"))

    # Costs per activity and per area, from the lines' amounts: the same for a stored version as for the draft.
    required: dict[int, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    optional: dict[int, Decimal] = defaultdict(Decimal)
    area_of = {activity["id"]: activity["technical_area"] for activity in content.activities}
    area_names = {activity["technical_area"]: activity["technical_area_name"] for activity in content.activities}
    area_required: dict[str, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    area_optional: dict[str, Decimal] = defaultdict(Decimal)
    for line in content.cost_lines:
        area = area_of.get(line["activity"], "")
        for year, amount in line["amounts"].items():
            if line["optional"]:
                optional[line["activity"]] += amount
                area_optional[area] += amount
            else:
                required[line["activity"]][year] += amount
                area_required[area][year] += amount

    summary = [
        (gettext("Plan"), plan.title),
        (gettext("Jurisdiction"), plan.jurisdiction.name),
        (gettext("Kind"), plan.kind),
        (gettext("Period"), f"{plan.first_year}-{plan.last_year}"),
        (gettext("Status"), plan.status),
        (gettext("Version"), version.label if version is not None else gettext("Current draft")),
        (gettext("Framework"), plan.framework.code if plan.framework is not None else ""),
        (gettext("Base currency"), costing.currency),
        (gettext("Price year"), costing.price_year),
        (gettext("Written"), timezone.localtime().strftime("%Y-%m-%d %H:%M")),
        (gettext("Activities"), len(content.activities)),
        (gettext("Cost lines"), len(content.cost_lines)),
        (gettext("Funding commitments"), len(content.funding)),
    ]
    sheet = book.add_sheet(sheet_title(gettext("Summary")), widths=[30, 60])
    sheet.append([gettext("Whole plan: %(plan)s") % {"plan": plan.title}], bold)
    sheet.append([])
    for label, value in summary:
        sheet.append([label, value], [bold, 0])
    sheet.append([])
    sheet.append(
        [
            gettext(
                "Headings are in your language; cells hold the plan's values as the API gives them: codes of "
                "choices, dates as year-month-day, true or false, amounts in %(currency)s, lists separated by "
                "semicolons."
            )
            % {"currency": costing.currency}
        ]
    )
    written = 0
    in_currency = {"currency": costing.currency}

    columns = [
        Column("id", gettext("Activity id"), 10),
        Column("technical_area", gettext("Technical area"), 10),
        Column("technical_area_name", gettext("Technical area name"), 30),
        Column("title", gettext("Title"), 50),
        Column("description", gettext("Description"), 50),
        Column("indicators", gettext("Indicators"), 16),
        Column("source", gettext("Source"), 14),
        Column("action_type", gettext("Action type"), 14),
        Column("responsible_organization", gettext("Responsible organization"), 30),
        Column("supporting_organizations", gettext("Supporting organizations"), 30),
        Column("implementation_level", gettext("Implementation level"), 14),
        Column("start_date", gettext("Start date"), 12),
        Column("end_date", gettext("End date"), 12),
        Column("impact", gettext("Impact"), 10),
        Column("feasibility", gettext("Feasibility"), 10),
        Column("priority", gettext("Priority"), 10),
        Column("sectors", gettext("Sectors"), 20),
        Column("hazards", gettext("Hazards"), 20),
        Column("status", gettext("Status"), 12),
        Column("related_programme", gettext("Related programme"), 24),
        Column("existing_budget", gettext("Existing budget"), 10, boolean=True),
        Column("existing_budget_source", gettext("Existing budget source"), 24),
        Column("depends_on", gettext("Depends on (activity ids)"), 16),
        Column("origin", gettext("Drawn from (activity id)"), 12),
        Column("version", gettext("Edit count"), 8),
    ]
    keys = [column.key for column in columns]
    cost_columns = [
        *(Column(f"cost:{year}", gettext("Required cost %(year)s (%(currency)s)") % {"year": year, **in_currency},
                 16, money=True) for year in years),
        Column("required", gettext("Required cost (%(currency)s)") % in_currency, 18, money=True),
        Column("optional", gettext("Optional cost (%(currency)s)") % in_currency, 18, money=True),
    ]  # fmt: skip

    def activity_rows() -> Iterable[list[Any]]:
        for activity in content.activities:
            by_year = required.get(activity["id"], {})
            costs = [by_year.get(year, ZERO) for year in years]
            yield [
                *(activity.get(key) for key in keys),
                *costs,
                sum(costs, ZERO),
                optional.get(activity["id"], ZERO),
            ]

    written += _table(
        book,
        gettext("Activities"),
        [*columns, *cost_columns],
        activity_rows(),
        header_style=header,
        money_style=money,
    )
    report(45, gettext("Writing the cost lines"))

    columns = [
        Column("id", gettext("Cost line id"), 10),
        Column("activity", gettext("Activity id"), 10),
        Column("description", gettext("Description"), 40),
        Column("category", gettext("Category"), 16),
        Column("secondary_category", gettext("Secondary category"), 16),
        Column("unit", gettext("Unit"), 12),
        Column("unit_cost", gettext("Unit cost"), 14, money=True),
        Column("currency", gettext("Currency"), 8),
        Column("price_year", gettext("Price year"), 8),
        Column("unit_cost_base", gettext("Unit cost (%(currency)s)") % in_currency, 14, money=True),
        Column("quantity", gettext("Quantity"), 10),
        Column("recurrence", gettext("Recurrence"), 12),
        Column("optional", gettext("Optional"), 10, boolean=True),
        Column("catalogue_item", gettext("Catalogue item"), 24),
        Column("assumptions", gettext("Assumptions"), 30),
        Column("technical_comment", gettext("Technical comment"), 24),
        Column("costing_comment", gettext("Costing comment"), 24),
        Column("version", gettext("Edit count"), 8),
    ]
    keys = [column.key for column in columns]
    year_columns = [
        *(Column(f"frequency:{year}", gettext("Times in %(year)s") % {"year": year}, 10) for year in years),
        *(Column(f"amount:{year}", gettext("Cost %(year)s (%(currency)s)") % {"year": year, **in_currency},
                 16, money=True) for year in years),
        Column("total", gettext("Total (%(currency)s)") % in_currency, 18, money=True),
    ]  # fmt: skip

    def line_rows() -> Iterable[list[Any]]:
        for line in content.cost_lines:
            frequencies, amounts = line["frequencies"], line["amounts"]
            get = line.get
            row = [get(key) for key in keys]
            get = frequencies.get
            row += [get(year, ZERO) for year in years]
            get = amounts.get
            row += [get(year, ZERO) for year in years]
            row.append(sum(amounts.values(), ZERO))
            yield row

    written += _table(
        book,
        gettext("Cost lines"),
        [*columns, *year_columns],
        line_rows(),
        header_style=header,
        money_style=money,
    )
    report(75, gettext("Writing the funding, scores and targets"))

    order = {code: index for index, code in enumerate(area_names)}
    areas = sorted(set(area_required) | set(area_optional), key=lambda code: order.get(code, len(order)))
    written += _table(
        book,
        # Translators: an Excel sheet's name (31 characters at most): the cost of each technical area in each year.
        gettext("Costs by area and year"),
        [
            Column("technical_area", gettext("Technical area"), 10),
            Column("technical_area_name", gettext("Technical area name"), 30),
            *cost_columns,
        ],
        (
            [
                code,
                area_names.get(code, ""),
                *(area_required[code].get(year, ZERO) for year in years),
                sum(area_required[code].values(), ZERO),
                area_optional.get(code, ZERO),
            ]
            for code in areas
        ),
        header_style=header,
        money_style=money,
    )

    columns = [
        Column("id", gettext("Commitment id"), 10),
        Column("source_organization", gettext("Funding source"), 30),
        Column("source_kind", gettext("Source kind"), 12),
        Column("budget_line", gettext("Budget line"), 20),
        Column("amount", gettext("Amount"), 16, money=True),
        Column("currency", gettext("Currency"), 8),
        Column("first_year", gettext("First year"), 8),
        Column("last_year", gettext("Last year"), 8),
        Column("status", gettext("Status"), 12),
        Column("technical_area", gettext("Technical area"), 10),
        Column("activities", gettext("Activities (ids)"), 20),
        Column("notes", gettext("Notes"), 30),
        Column("version", gettext("Edit count"), 8),
    ]
    written += _table(
        book,
        gettext("Funding"),
        columns,
        _by_key(columns, content.funding),
        header_style=header,
        money_style=money,
    )

    columns = [
        Column("assessment", gettext("Assessment id"), 10),
        Column("kind", gettext("Assessment kind"), 10),
        Column("framework", gettext("Framework"), 10),
        Column("date", gettext("Date"), 12),
        Column("source", gettext("Source"), 24),
        Column("indicator", gettext("Indicator"), 10),
        Column("indicator_name", gettext("Indicator name"), 50),
        Column("technical_area", gettext("Technical area"), 10),
        Column("score", gettext("Score"), 8),
    ]
    written += _table(
        book,
        gettext("Scores"),
        columns,
        _by_key(columns, content.scores),
        header_style=header,
        money_style=money,
    )

    columns = [
        Column("indicator", gettext("Indicator"), 10),
        Column("indicator_name", gettext("Indicator name"), 50),
        Column("technical_area", gettext("Technical area"), 10),
        Column("current_level", gettext("Current level"), 10),
        Column("level", gettext("Target level"), 10),
        Column("justification", gettext("Justification"), 50),
    ]
    written += _table(
        book,
        gettext("Targets"),
        columns,
        _by_key(columns, content.targets),
        header_style=header,
        money_style=money,
    )
    report(95, gettext("Packing the workbook"))
    return Written(content=book.to_bytes(), rows=written)


def plan_workbook_export(*, job: Job, progress: Progress) -> JobResult:
    """The job: the whole plan as it is now (the current draft), or as a stored version of it holds it (`version`
    in the params, the id of a version of the job's plan)."""
    from costing.versions import StoredVersion  # costing.versions reads the draft's content from here
    from planning.models import PlanVersion

    plan = job.plan
    if plan is None:
        raise JobFailed(gettext("This export belongs to a plan, and the job has none."))
    version_id = job.params.get("version")
    if version_id is None:
        written = plan_workbook_build(plan=plan, progress=progress)
        return JobResult(filename=f"{file_slug(plan.title)}-whole-plan.xlsx", content=written.content)
    version = PlanVersion.objects.filter(plan=plan, pk=version_id).first()
    if version is None:
        raise JobFailed(gettext("The version of the plan this export was asked for is not one of its versions."))
    written = plan_workbook_build(plan=plan, version=StoredVersion(version), progress=progress)
    return JobResult(
        filename=f"{file_slug(plan.title)}-whole-plan-{file_slug(version.label)}.xlsx", content=written.content
    )
