"""Two versions of a plan compared: a stored version (planning.PlanVersion) or the current draft, against another.

Both sides are read as a PlanContent (costing.versions: a stored version's own content, or the draft's read now) and
compared as dicts keyed by id, in memory: activities added, removed and changed field by field (matched by their id),
with their cost lines added, removed and changed and their cost before and after; the funding commitments; the
targets, scores, priorities and context; and the cost and funding gap per technical area and year. No query depends
on the plan's size: a stored version is one row, the draft the fixed queries of plan_content_full.

The values compared are the content's own (choice codes, ISO dates, area codes, organization names, amounts in the
base currency), as the API gives them; `FieldChange.label`, `before_text` and `after_text` say them as people read
them, in the language of the page.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from django.db import models
from django.http import Http404
from django.utils import formats
from django.utils.text import capfirst
from django.utils.translation import gettext

from costing.models import CostLine, FundingCommitment
from costing.plan_workbook import LIST_SEPARATOR, ZERO, PlanContent, Row
from costing.versions import StoredVersion, plan_content_full
from naphs.choices import Hazard, Sector
from planning.models import Activity, AreaPriority, IndicatorScore, IndicatorTarget, PlanContext
from planning.versions import plan_version_get

if TYPE_CHECKING:
    from planning.models import Plan, PlanVersion

DRAFT = "draft"  # how a request names the current draft instead of a stored version's id

# What is compared of each part (an activity's edit count and its area's name follow from the rest).
ACTIVITY_FIELDS = (
    "technical_area", "title", "description", "indicators", "source", "action_type", "responsible_organization",
    "supporting_organizations", "implementation_level", "start_date", "end_date", "impact", "feasibility",
    "priority", "sectors", "hazards", "status", "related_programme", "existing_budget", "existing_budget_source",
    "depends_on", "origin",
)  # fmt: skip
LINE_FIELDS = (
    "description", "category", "secondary_category", "unit", "unit_cost", "currency", "price_year", "unit_cost_base",
    "quantity", "recurrence", "optional", "catalogue_item", "assumptions", "technical_comment", "costing_comment",
)  # fmt: skip
FUNDING_FIELDS = (
    "source_organization", "source_kind", "budget_line", "amount", "currency", "first_year", "last_year", "status",
    "technical_area", "activities", "notes",
)  # fmt: skip
TARGET_FIELDS = ("level", "justification")
SCORE_FIELDS = ("score",)
PRIORITY_FIELDS = ("rank", "rationale")
CONTEXT_FIELDS = ("narrative",)

_MODELS: dict[str, type[models.Model]] = {
    "activities": Activity,
    "cost_lines": CostLine,
    "funding": FundingCommitment,
    "targets": IndicatorTarget,
    "scores": IndicatorScore,
    "priorities": AreaPriority,
    "contexts": PlanContext,
}
_LISTS: dict[str, type[models.TextChoices]] = {"sectors": Sector, "hazards": Hazard}
_DATES = frozenset({"start_date", "end_date"})
EMPTY = "–"


# --- The two sides ------------------------------------------------------------------------------------------------


@dataclass
class Side:
    """One side of a comparison: how the page names it, its content, and the stored version (None: the draft)."""

    label: str
    content: PlanContent
    version: PlanVersion | None = None

    @property
    def ref(self) -> str:
        return DRAFT if self.version is None else str(self.version.pk)


def comparison_side(*, plan: Plan, ref: str) -> Side:
    """ "draft" or the id of a stored version of this plan; Http404 for anything else (another plan's version)."""
    ref = ref.strip()
    if ref == DRAFT:
        return Side(label=gettext("Current draft"), content=plan_content_full(plan))
    if not ref.isdigit() or len(ref) > 18:
        raise Http404(gettext("No such version of this plan."))
    version = plan_version_get(plan=plan, version_id=int(ref))
    return Side(label=version.label, content=StoredVersion(version).content(), version=version)


# --- What changed -------------------------------------------------------------------------------------------------


@dataclass
class FieldChange:
    """One field of a row, before and after, as the content holds it."""

    part: str
    field: str
    before: Any
    after: Any

    @property
    def label(self) -> str:
        return field_label(self.part, self.field)

    @property
    def before_text(self) -> str:
        return value_text(self.part, self.field, self.before)

    @property
    def after_text(self) -> str:
        return value_text(self.part, self.field, self.after)


@dataclass
class RowChange:
    """A row added, removed or changed; an activity's also with its cost lines' changes and its cost."""

    part: str  # "activities", "cost_lines", "funding", "targets", "scores", "priorities", "contexts"
    kind: str  # "added", "removed", "changed"
    key: Any
    before: Row | None
    after: Row | None
    fields: list[FieldChange] = field(default_factory=list)
    lines: list[RowChange] = field(default_factory=list)
    cost_before: Decimal | None = None
    cost_after: Decimal | None = None

    @property
    def row(self) -> Row:
        """The row as it is after the change, or as it was for a removed one."""
        return self.after if self.after is not None else self.before  # type: ignore[return-value]

    @property
    def title(self) -> str:
        """How the page names the row."""
        row = self.row
        if self.part in ("priorities", "contexts"):
            return row["technical_area"] or gettext("The whole plan")
        if self.part == "scores":
            return f"{row['indicator']} ({value_text('scores', 'start_date', row['date'])})"
        name = {"activities": "title", "cost_lines": "description", "funding": "source_organization"}
        return str(row.get(name.get(self.part, "indicator"), ""))


@dataclass
class GapCell:
    """A technical area's figures in a year (or over the plan, `year` None), before and after, in the base currency:
    the required lines' cost, the optional lines' cost, and firm funding (committed and disbursed)."""

    technical_area: str
    year: int | None
    required_before: Decimal = ZERO
    required_after: Decimal = ZERO
    optional_before: Decimal = ZERO
    optional_after: Decimal = ZERO
    funded_before: Decimal = ZERO
    funded_after: Decimal = ZERO

    @property
    def gap_before(self) -> Decimal:
        return self.required_before - self.funded_before

    @property
    def gap_after(self) -> Decimal:
        return self.required_after - self.funded_after

    @property
    def cost_difference(self) -> Decimal:
        return self.required_after - self.required_before

    @property
    def gap_difference(self) -> Decimal:
        return self.gap_after - self.gap_before

    @property
    def changed(self) -> bool:
        return (self.required_before, self.optional_before, self.funded_before) != (
            self.required_after,
            self.optional_after,
            self.funded_after,
        )

    def add(self, other: GapCell) -> None:
        for name in ("required", "optional", "funded"):
            for side in ("before", "after"):
                key = f"{name}_{side}"
                setattr(self, key, getattr(self, key) + getattr(other, key))


@dataclass
class GapArea:
    technical_area: str
    cells: list[GapCell]  # one per year of the comparison, in order
    total: GapCell


@dataclass
class Comparison:
    before: Side
    after: Side
    years: list[int]
    activities: list[RowChange]
    funding: list[RowChange]
    targets: list[RowChange]
    scores: list[RowChange]
    priorities: list[RowChange]
    contexts: list[RowChange]
    gap: list[GapArea]
    gap_years: list[GapCell]  # the whole plan in each year
    gap_total: GapCell
    gap_known: bool  # False when a side was stored without its gap figures (then they are left out)

    def _of(self, kind: str) -> list[RowChange]:
        return [change for change in self.activities if change.kind == kind]

    @property
    def added(self) -> list[RowChange]:
        return self._of("added")

    @property
    def removed(self) -> list[RowChange]:
        return self._of("removed")

    @property
    def changed(self) -> list[RowChange]:
        return self._of("changed")

    @property
    def currency_before(self) -> str:
        return self.before.content.currency

    @property
    def currency_after(self) -> str:
        return self.after.content.currency

    @property
    def gap_changed(self) -> bool:
        return self.gap_known and (self.gap_total.changed or any(cell.changed for cell in self.gap_years))

    @property
    def same(self) -> bool:
        """Nothing differs: the two sides hold the same content (a version compared with itself, or unchanged)."""
        parts = (self.activities, self.funding, self.targets, self.scores, self.priorities, self.contexts)
        return not any(parts) and not self.gap_changed and self.currency_before == self.currency_after


def _fields(part: str, before: Row, after: Row, names: Iterable[str]) -> list[FieldChange]:
    return [
        FieldChange(part, name, before.get(name), after.get(name))
        for name in names
        if before.get(name) != after.get(name)
    ]


def _rows_diff(
    part: str, before: Sequence[Row], after: Sequence[Row], key: Callable[[Row], Hashable], names: Sequence[str]
) -> list[RowChange]:
    """The rows added and changed, in the order of `after`, then those removed, in the order of `before`."""
    old = {key(row): row for row in before}
    new_keys = set()
    changes = []
    for row in after:
        row_key = key(row)
        new_keys.add(row_key)
        previous = old.get(row_key)
        if previous is None:
            changes.append(RowChange(part, "added", row_key, None, row))
        elif fields := _fields(part, previous, row, names):
            changes.append(RowChange(part, "changed", row_key, previous, row, fields))
    changes += [
        RowChange(part, "removed", row_key, row, None) for row_key, row in old.items() if row_key not in new_keys
    ]
    return changes


def _line_fields(before: Row, after: Row) -> list[FieldChange]:
    changes = _fields("cost_lines", before, after, LINE_FIELDS)
    for name in ("frequencies", "amounts"):
        old, new = before[name], after[name]
        for year in sorted(old.keys() | new.keys()):
            if old.get(year, ZERO) != new.get(year, ZERO):
                prefix = "frequency" if name == "frequencies" else "amount"
                changes.append(FieldChange("cost_lines", f"{prefix}:{year}", old.get(year, ZERO), new.get(year, ZERO)))
    return changes


def _lines_by_activity(content: PlanContent) -> tuple[dict[int, dict[int, Row]], dict[int, Decimal]]:
    """Each activity's lines by id, and its cost (its required lines' amounts, every year)."""
    lines: dict[int, dict[int, Row]] = defaultdict(dict)
    costs: dict[int, Decimal] = defaultdict(Decimal)
    for line in content.cost_lines:
        lines[line["activity"]][line["id"]] = line
        if not line["optional"]:
            costs[line["activity"]] += sum(line["amounts"].values(), ZERO)
    return lines, costs


def _activities_diff(before: PlanContent, after: PlanContent) -> list[RowChange]:
    old_lines, old_costs = _lines_by_activity(before)
    new_lines, new_costs = _lines_by_activity(after)
    old = {row["id"]: row for row in before.activities}
    changes = []
    seen = set()
    for row in after.activities:
        pk = row["id"]
        seen.add(pk)
        previous = old.get(pk)
        if previous is None:
            changes.append(RowChange("activities", "added", pk, None, row, cost_after=new_costs.get(pk, ZERO)))
            continue
        # Most rows are unchanged: a whole-row comparison (in C) passes them by before any field is looked at.
        fields = [] if previous == row else _fields("activities", previous, row, ACTIVITY_FIELDS)
        lines_before, lines_after = old_lines.get(pk, {}), new_lines.get(pk, {})
        lines = []
        for line_id, line in lines_after.items():
            was = lines_before.get(line_id)
            if was is None:
                lines.append(RowChange("cost_lines", "added", line_id, None, line))
            elif was != line and (line_fields := _line_fields(was, line)):
                lines.append(RowChange("cost_lines", "changed", line_id, was, line, line_fields))
        gone = [(line_id, line) for line_id, line in lines_before.items() if line_id not in lines_after]
        lines += [RowChange("cost_lines", "removed", line_id, line, None) for line_id, line in gone]
        if fields or lines:
            changes.append(
                RowChange(
                    "activities",
                    "changed",
                    pk,
                    previous,
                    row,
                    fields,
                    lines,
                    cost_before=old_costs.get(pk, ZERO),
                    cost_after=new_costs.get(pk, ZERO),
                )
            )
    changes += [
        RowChange("activities", "removed", pk, row, None, cost_before=old_costs.get(pk, ZERO))
        for pk, row in old.items()
        if pk not in seen
    ]
    return changes


def _gap(before: PlanContent, after: PlanContent, years: list[int]) -> tuple[list[GapArea], list[GapCell], GapCell]:
    cells: dict[tuple[str, int], GapCell] = {}
    order: dict[str, int] = {}
    for side, content in (("after", after), ("before", before)):
        for row in content.by_area_year:
            area, year = row["technical_area"], row["year"]
            order.setdefault(area, len(order))
            cell = cells.get((area, year))
            if cell is None:
                cell = cells[(area, year)] = GapCell(area, year)
            for name in ("required", "optional", "funded"):
                setattr(cell, f"{name}_{side}", getattr(cell, f"{name}_{side}") + row[name])
    by_year = {year: GapCell("", year) for year in years}
    total = GapCell("", None)
    areas = []
    for area in sorted(order, key=order.__getitem__):
        area_cells = [cells.get((area, year)) or GapCell(area, year) for year in years]
        area_total = GapCell(area, None)
        for cell in area_cells:
            area_total.add(cell)
            by_year[cell.year].add(cell)  # type: ignore[index]  # a cell of a year has its year
        total.add(area_total)
        areas.append(GapArea(area, area_cells, area_total))
    return areas, list(by_year.values()), total


def versions_compare(*, before: Side, after: Side) -> Comparison:
    """What differs from `before` to `after`, in memory: no query, whatever the size of the plan."""
    old, new = before.content, after.content
    years = sorted(set(old.years) | set(new.years))
    gap_known = bool(old.currency and new.currency)
    gap, gap_years, gap_total = _gap(old, new, years) if gap_known else ([], [], GapCell("", None))
    return Comparison(
        before=before,
        after=after,
        years=years,
        activities=_activities_diff(old, new),
        funding=_rows_diff("funding", old.funding, new.funding, lambda row: row["id"], FUNDING_FIELDS),
        targets=_rows_diff("targets", old.targets, new.targets, lambda row: row["indicator"], TARGET_FIELDS),
        scores=_rows_diff(
            "scores", old.scores, new.scores, lambda row: (row["assessment"], row["indicator"]), SCORE_FIELDS
        ),
        priorities=_rows_diff(
            "priorities", old.priorities, new.priorities, lambda row: row["technical_area"], PRIORITY_FIELDS
        ),
        contexts=_rows_diff("contexts", old.contexts, new.contexts, lambda row: row["technical_area"], CONTEXT_FIELDS),
        gap=gap,
        gap_years=gap_years,
        gap_total=gap_total,
        gap_known=gap_known,
    )


def plan_versions_compare(*, plan: Plan, before: str, after: str) -> Comparison:
    """The comparison of two sides of this plan, each "draft" or a stored version's id (Http404 otherwise)."""
    first = comparison_side(plan=plan, ref=before)
    second = first if after.strip() == before.strip() else comparison_side(plan=plan, ref=after)
    return versions_compare(before=first, after=second)


# --- As people read them ------------------------------------------------------------------------------------------


def field_label(part: str, name: str) -> str:
    """The field's name in the page's language: the model's own, or a year's figure of a cost line."""
    if part == "cost_lines" and ":" in name:
        prefix, year = name.split(":", 1)
        if prefix == "frequency":
            return gettext("Times in %(year)s") % {"year": year}
        return gettext("Cost in %(year)s") % {"year": year}
    if (part, name) == ("activities", "depends_on"):
        return gettext("Depends on (activity ids)")
    if (part, name) == ("funding", "activities"):
        return gettext("Activities funded (ids)")
    try:
        return str(capfirst(_MODELS[part]._meta.get_field(name).verbose_name))  # type: ignore[union-attr]
    except Exception:
        return name


@cache
def _choices(part: str, name: str) -> dict[Any, Any]:
    try:
        model_field = _MODELS[part]._meta.get_field(name)
    except Exception:
        return {}
    return dict(model_field.flatchoices) if getattr(model_field, "choices", None) else {}  # type: ignore[union-attr]


def value_text(part: str, name: str, value: Any) -> str:
    """A value of the content as the page shows it: a choice's label, a date in the page's format, yes or no, a
    number with the page's separators."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if name in _LISTS and part == "activities":
        labels = dict(_LISTS[name].choices)
        return ", ".join(str(labels.get(item, item)) for item in str(value).split(LIST_SEPARATOR))
    if name in _DATES:
        try:
            return formats.date_format(datetime.date.fromisoformat(value), "DATE_FORMAT")
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, Decimal):
        places = 2 if value != value.to_integral_value() or name.startswith("amount") else 0
        return formats.number_format(value, places, use_l10n=True, force_grouping=True)
    choices = _choices(part, name)
    if value in choices:
        return str(choices[value])
    return str(value)
