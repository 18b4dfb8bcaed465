"""A plan's content as a stored version holds it, and read back.

planning.versions stores a version's content as the apps that hold it write it (planning.hooks.plan_content):
costing writes the whole of it, the PlanContent the whole-plan workbook is written from (costing.plan_workbook)
with the priorities and the context narratives, as JSON. `StoredVersion` reads it back, so that the workbook, the
document and the comparison read a stored version as they read the current draft.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Case, IntegerField, QuerySet, Value, When

from costing.funding import funding_gap
from costing.plan_workbook import ZERO, PlanContent, Row, plan_content_read
from planning.models import AreaPriority, PlanContext, PlanVersion

if TYPE_CHECKING:
    from planning.models import Plan

CONTENT_FORMAT = 1  # the shape of `content`; a reader of a later shape says so instead of misreading it

# The values held as Decimal (JSON keeps them as strings), by part.
_DECIMALS = {
    "cost_lines": ("unit_cost", "unit_cost_base", "quantity"),
    "funding": ("amount",),
    "by_area_year": ("required", "optional", "funded"),
}
_BY_YEAR = ("frequencies", "amounts")  # a cost line's {year: Decimal}


def plan_content_full(plan: Plan) -> PlanContent:
    """The current draft's whole content: what the workbook holds, with the priorities and the context."""
    content = plan_content_read(plan)
    content.priorities = [
        {
            "technical_area": row["technical_area__code"],
            "technical_area_name": row["technical_area__name"],
            "rank": row["rank"],
            "rationale": row["rationale"],
        }
        for row in AreaPriority.objects.filter(plan=plan)
        .order_by("rank")
        .values("technical_area__code", "technical_area__name", "rank", "rationale")
    ]
    content.contexts = [
        {"technical_area": row["technical_area__code"] or "", "narrative": row["narrative"]}
        for row in PlanContext.objects.filter(plan=plan)
        .order_by("technical_area__order", "technical_area__code")
        .values("technical_area__code", "narrative")
    ]
    content.currency, content.by_area_year = plan_gap_rows(plan, content)
    return content


def plan_gap_rows(plan: Plan, content: PlanContent) -> tuple[str, list[Row]]:
    """The plan's base currency, and its cost and firm funding per technical area and year in it, as the funding
    page computes them (costing.funding.funding_gap: required lines, committed and disbursed money shared by the
    rollups' rule), with the optional lines' cost beside them, read from the content's lines. Areas in the
    framework's order, then years."""
    gap = funding_gap(plan=plan)
    cells: dict[tuple[str, int], Row] = {}

    def cell(code: str, year: int) -> Row:
        row = cells.get((code, year))
        if row is None:
            row = cells[(code, year)] = {
                "technical_area": code,
                "year": year,
                "required": ZERO,
                "optional": ZERO,
                "funded": ZERO,
            }
        return row

    codes = {area_id: area.code for area_id, area in gap.areas.items()}
    for (area_id, year), figures in gap.cells.items():
        row = cell(codes.get(area_id, ""), year)
        row["required"] += figures.cost
        row["funded"] += figures.funded
    area_of = {activity["id"]: activity["technical_area"] for activity in content.activities}
    for line in content.cost_lines:
        if line["optional"]:
            for year, amount in line["amounts"].items():
                if amount:
                    cell(area_of.get(line["activity"], ""), year)["optional"] += amount
    order = {area.code: (area.order, area.code) for area in gap.areas.values()}
    rows = sorted(cells.values(), key=lambda row: (order.get(row["technical_area"], (10**6, "")), row["year"]))
    return gap.currency, rows


def content_to_json(content: PlanContent) -> dict[str, Any]:
    """PlanContent as JSON-able values: Decimals as strings, years as keys of text (as JSON has them)."""
    data = asdict(content)
    for line in data["cost_lines"]:
        for name in _BY_YEAR:
            line[name] = {str(year): str(value) for year, value in line[name].items()}
    for part, names in _DECIMALS.items():
        for row in data[part]:
            for name in names:
                if row.get(name) is not None:
                    row[name] = str(row[name])
    return {"format": CONTENT_FORMAT, **data}


def content_from_json(data: dict[str, Any]) -> PlanContent:
    """What content_to_json wrote, as the PlanContent it came from."""
    if data.get("format") != CONTENT_FORMAT:
        raise ValueError(f"A stored version of format {data.get('format')!r} cannot be read.")
    known = {field.name for field in fields(PlanContent)}
    parts = {name: value for name, value in data.items() if name in known}
    content = PlanContent(**parts)
    # The same few texts come back thousands of times (years, "0.00", a unit cost): each is read once. A Decimal
    # and an int are immutable, so the rows may share them.
    decimals: dict[str, Decimal] = {}
    years: dict[str, int] = {}

    def decimal(text: str) -> Decimal:
        value = decimals.get(text)
        if value is None:
            value = decimals[text] = Decimal(text)
        return value

    def year(text: str) -> int:
        value = years.get(text)
        if value is None:
            value = years[text] = int(text)
        return value

    for line in content.cost_lines:
        for name in _BY_YEAR:
            line[name] = {year(key): decimal(value) for key, value in line[name].items()}
    for part, names in _DECIMALS.items():
        for row in getattr(content, part):
            for name in names:
                if row.get(name) is not None:
                    row[name] = decimal(row[name])
    return content


def plan_content_part(plan: Plan) -> dict[str, Any]:
    """planning.hooks.plan_content: the whole content, as a stored version keeps it."""
    return content_to_json(plan_content_full(plan))


class StoredVersion:
    """A stored version as the whole-plan workbook (PlanVersionSource), the document and the comparison read it."""

    def __init__(self, version: PlanVersion) -> None:
        self.version = version
        self.label = version.label
        self._content: PlanContent | None = None

    def content(self) -> PlanContent:
        if self._content is None:
            self._content = content_from_json(self.version.content)
        return self._content


def plan_version_list(plan: Plan) -> QuerySet[PlanVersion]:
    """The plan's stored versions without their content (a page lists them in a query): the endorsed ones first,
    then the newest first."""
    endorsed_first = Case(
        When(kind=PlanVersion.Kind.ENDORSED, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return (
        PlanVersion.objects.filter(plan=plan)
        .defer("content")
        .select_related("created_by")
        .annotate(endorsed_first=endorsed_first)
        .order_by("endorsed_first", "-edition", "-created_at", "-pk")
    )
