"""Cost lines of an operational plan drawn from its strategic plan: when planning draws strategic activities into
an operational plan (planning.hooks.operational_activities_drawn), their cost lines come along, so a one- or
two-year budget starts from what the strategic plan costed instead of being entered again."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Prefetch

from costing.models import CostLine, CostLineYear, ExchangeRate
from costing.services import (
    COST_LINE_FIELDS,
    Rates,
    catalogue_item_usable,
    costs_changed,
    line_compute,
    plan_costing_get,
)
from naphs.services import audit_record
from planning import hooks

if TYPE_CHECKING:
    from planning.models import Activity, Plan
    from stakeholders.models import User


@transaction.atomic
def cost_lines_draw(*, plan: Plan, by: User, copies: Iterable[Activity]) -> list[CostLine]:
    """Copy the cost lines of the strategic activities that `copies` were drawn from into operational plan `plan`,
    each linked to its origin, with its frequencies in the years `plan` covers (the other years stay behind; a
    line with nothing in those years is left out) and its amounts computed at `plan`'s rates. A rate the lines
    need that `plan` lacks is taken from the strategic plan. A catalogue item of the strategic plan's own
    catalogue is not the operational plan's: such a line keeps its price as a free line. A constant number of
    queries whatever the number of lines."""
    activity_by_origin = {activity.origin_id: activity for activity in copies if activity.origin_id}
    years = range(plan.first_year, plan.last_year + 1)
    originals = (
        CostLine.objects.filter(activity_id__in=activity_by_origin)
        .select_related("catalogue_item")
        .prefetch_related(Prefetch("years", queryset=CostLineYear.objects.filter(year__in=years, frequency__gt=0)))
        .order_by("activity_id", "order", "pk")
    )
    drawn = [(line, {year.year: year.frequency for year in line.years.all()}) for line in originals]
    drawn = [(line, frequencies) for line, frequencies in drawn if frequencies]
    if not drawn:
        return []
    costing = plan_costing_get(plan)
    needed = {(line.currency, line.price_year) for line, _ in drawn if line.currency != costing.currency}
    missing = needed - set(ExchangeRate.objects.filter(plan=plan).values_list("currency", "year"))
    if missing and plan.parent_id is not None:
        ExchangeRate.objects.bulk_create(
            ExchangeRate(plan=plan, currency=rate.currency, year=rate.year, rate=rate.rate, source=rate.source)
            for rate in ExchangeRate.objects.filter(plan_id=plan.parent_id)
            if (rate.currency, rate.year) in missing
        )
    rates = Rates(costing)
    lines: list[CostLine] = []
    line_years: list[CostLineYear] = []
    for original, frequencies in drawn:
        fields: dict[str, Any] = {name: getattr(original, name) for name in COST_LINE_FIELDS}
        if original.catalogue_item is not None and not catalogue_item_usable(original.catalogue_item, plan):
            fields["catalogue_item"] = None
        line = CostLine(
            plan=plan, activity=activity_by_origin[original.activity_id], origin=original, updated_by=by, **fields
        )
        line_years += line_compute(line, {year: frequencies.get(year, Decimal(0)) for year in years}, rates)
        lines.append(line)
    CostLine.objects.bulk_create(lines)
    CostLineYear.objects.bulk_create(line_years)
    audit_record(
        plan=plan, by=by, action="drew cost lines into", target=plan, changes={"cost_lines": [None, len(lines)]}
    )
    costs_changed(plan.pk)
    return lines


def _activities_drawn(plan: Plan, by: User, copies: list[Activity]) -> None:
    cost_lines_draw(plan=plan, by=by, copies=copies)


def connect() -> None:
    """From CostingConfig.ready."""
    hooks.operational_activities_drawn.connect(_activities_drawn)
