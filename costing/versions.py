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

from costing.plan_workbook import PlanContent, plan_content_read
from planning.models import AreaPriority, PlanContext

if TYPE_CHECKING:
    from planning.models import Plan, PlanVersion

CONTENT_FORMAT = 1  # the shape of `content`; a reader of a later shape says so instead of misreading it

# The values held as Decimal (JSON keeps them as strings), by part.
_DECIMALS = {
    "cost_lines": ("unit_cost", "unit_cost_base", "quantity"),
    "funding": ("amount",),
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
    return content


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
    for line in content.cost_lines:
        for name in _BY_YEAR:
            line[name] = {int(year): Decimal(value) for year, value in line[name].items()}
    for part, names in _DECIMALS.items():
        for row in getattr(content, part):
            for name in names:
                if row.get(name) is not None:
                    row[name] = Decimal(row[name])
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
