"""Reads of a plan's costing: the catalogue a plan may use, an activity's cost lines with their totals,
funding and gap, and cost totals beside activities. Each runs a constant number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db.models import DecimalField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum

from costing.models import CatalogueItem, CostLine, CostLineYear, FundingCommitment, PlanCosting
from costing.rollups import funding_allocate
from costing.services import Rates, plan_costing_get
from planning.models import Activity

if TYPE_CHECKING:
    from planning.models import Plan

ZERO = Decimal("0")


def catalogue_items_for_plan(*, plan: Plan) -> QuerySet[CatalogueItem]:
    """The items a plan may cost with: its own, and those of its jurisdiction and the jurisdictions above it
    (the rule of costing.services.catalogue_item_usable, as a query)."""
    return CatalogueItem.objects.filter(
        Q(plan=plan) | Q(jurisdiction_id__in=plan.jurisdiction.ancestors_and_self_ids())
    ).order_by("category", "name", "pk")


def cost_line_list_for_plan(*, plan: Plan, activity_id: int | None = None) -> QuerySet[CostLine]:
    """The plan's cost lines (of one activity if given), with their years: two queries whatever their number."""
    lines = CostLine.objects.filter(plan=plan)
    if activity_id is not None:
        lines = lines.filter(activity_id=activity_id)
    return lines.prefetch_related("years").order_by("activity_id", "order", "pk")


def _year_total(queryset: QuerySet[CostLineYear]) -> Subquery:
    return Subquery(
        queryset.order_by().values("cost_line__activity_id").annotate(total=Sum("amount")).values("total")[:1],
        output_field=DecimalField(max_digits=24, decimal_places=2),
    )


def activities_with_cost(activities: QuerySet[Activity]) -> QuerySet[Activity]:
    """Activities annotated with `cost_total` (their lines without the optional ones, all years, in the base
    currency; None when uncosted) and `cost_currency` (the plan's base currency): no extra query."""
    lines = CostLineYear.objects.filter(cost_line__activity_id=OuterRef("pk"), cost_line__optional=False)
    currency = PlanCosting.objects.filter(plan_id=OuterRef("plan_id")).values("currency")[:1]
    return activities.annotate(cost_total=_year_total(lines), cost_currency=Subquery(currency))


@dataclass(frozen=True)
class CostSummary:
    currency: str
    total: Decimal | None  # without optional lines; None when the activity has no cost line
    optional: Decimal | None


def activity_cost_summary(*, activity: Activity) -> CostSummary:
    """The activity's total cost and its optional costs, in the plan's base currency: one query."""
    years = CostLineYear.objects.filter(cost_line__activity_id=activity.pk)
    row = (
        PlanCosting.objects.filter(plan_id=activity.plan_id)
        .annotate(
            total=_year_total(years.filter(cost_line__optional=False)),
            optional=_year_total(years.filter(cost_line__optional=True)),
        )
        .values_list("currency", "total", "optional")
        .first()
    )
    if row is None:  # never costed: no settings yet, so no lines either
        return CostSummary(currency="", total=None, optional=None)
    currency, total, optional = row
    if total is None and optional is not None:  # costed, with optional lines only
        total = ZERO
    return CostSummary(currency=currency, total=total, optional=optional)


# --- An activity's costs page ---------------------------------------------------------------------------------


@dataclass
class LineRow:
    """A cost line as the page shows it: its frequency and amount in each year of the plan, and its total."""

    line: CostLine
    cells: list[tuple[int, Decimal, Decimal]]  # (year, frequency, amount)
    total: Decimal


@dataclass
class FundingSource:
    commitment: FundingCommitment
    years: dict[int, Decimal]  # this activity's share, by year

    @property
    def firm(self) -> bool:
        return self.commitment.status in FundingCommitment.FIRM

    @property
    def total(self) -> Decimal:
        return sum(self.years.values(), ZERO)


def _per_year(years: list[int], values: dict[int, Decimal]) -> list[Decimal]:
    return [values.get(year, ZERO) for year in years]


@dataclass
class ActivityCosts:
    """Everything the costs page shows about an activity, computed from the stored amounts of its lines."""

    currency: str
    years: list[int]
    rows: list[LineRow]
    required: list[Decimal]  # per year, without optional lines
    optional: list[Decimal]  # per year, optional lines only
    funded: list[Decimal] | None  # per year, committed or disbursed; None when it could not be converted
    pledged: list[Decimal] | None
    sources: list[FundingSource] = field(default_factory=list)
    funding_error: str = ""
    area_commitments: int = 0  # commitments funding the activity's technical area as a whole

    @property
    def with_optional(self) -> list[Decimal]:
        return [required + optional for required, optional in zip(self.required, self.optional, strict=True)]

    @property
    def gap(self) -> list[Decimal] | None:
        if self.funded is None:
            return None
        return [required - funded for required, funded in zip(self.required, self.funded, strict=True)]

    @property
    def has_optional(self) -> bool:
        return any(row.line.optional for row in self.rows)

    @property
    def total_required(self) -> Decimal:
        return sum(self.required, ZERO)

    @property
    def total_optional(self) -> Decimal:
        return sum(self.optional, ZERO)

    @property
    def total_with_optional(self) -> Decimal:
        return self.total_required + self.total_optional

    @property
    def total_funded(self) -> Decimal | None:
        return None if self.funded is None else sum(self.funded, ZERO)

    @property
    def total_pledged(self) -> Decimal | None:
        return None if self.pledged is None else sum(self.pledged, ZERO)

    @property
    def total_gap(self) -> Decimal | None:
        funded = self.total_funded
        return None if funded is None else self.total_required - funded


def activity_costs(*, activity: Activity, costing: PlanCosting | None = None) -> ActivityCosts:
    """The activity's lines with their amounts per year, its totals with and without optional lines, and the
    funding committed to it (by the commitments naming it, shared as costing.rollups.funding_allocate shares
    them) with the gap per year. Area-wide funding is counted at area level, not here; it is only counted.

    A constant number of queries: costing settings, lines with their catalogue items, their years, the
    commitments with their activities, the costs those are shared by, the exchange rates, the area count.
    """
    plan = activity.plan
    costing = costing or plan_costing_get(plan)
    years = list(range(plan.first_year, plan.last_year + 1))
    lines = (
        CostLine.objects.filter(activity=activity)
        .select_related("catalogue_item")
        .prefetch_related("years")
        .order_by("order", "pk")
    )
    rows: list[LineRow] = []
    required: dict[int, Decimal] = defaultdict(lambda: ZERO)
    optional: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        stored = {year.year: year for year in line.years.all()}
        cells = []
        for year in years:
            entry = stored.get(year)
            frequency, amount = (entry.frequency, entry.amount) if entry else (ZERO, ZERO)
            cells.append((year, frequency, amount))
            (optional if line.optional else required)[year] += amount
        rows.append(LineRow(line=line, cells=cells, total=sum((amount for *_, amount in cells), ZERO)))

    commitments = list(
        FundingCommitment.objects.filter(plan=plan, activities=activity)
        .select_related("source_organization")
        .prefetch_related(Prefetch("activities", queryset=Activity.objects.only("id", "technical_area_id")))
        .order_by("first_year", "pk")
    )
    funded: dict[int, Decimal] | None = defaultdict(lambda: ZERO)
    pledged: dict[int, Decimal] | None = defaultdict(lambda: ZERO)
    sources: list[FundingSource] = []
    funding_error = ""
    if commitments:
        try:
            allocation = funding_allocate(commitments, Rates(costing))
        except ValidationError as problem:
            funding_error = " ".join(problem.messages)
            funded = pledged = None
        else:
            shares: dict[int, dict[int, Decimal]] = defaultdict(dict)
            for (commitment_id, activity_id, _area, year), amount in allocation.items():
                if activity_id == activity.pk:
                    shares[commitment_id][year] = amount
            for commitment in commitments:
                source = FundingSource(commitment, shares.get(commitment.pk, {}))
                sources.append(source)
                into = funded if source.firm else pledged
                if into is not None:  # set above, before any allocation failed
                    for year, amount in source.years.items():
                        into[year] += amount
    area_commitments = FundingCommitment.objects.filter(
        plan=plan, technical_area_id=activity.technical_area_id, activities__isnull=True
    ).count()
    return ActivityCosts(
        currency=costing.currency,
        years=years,
        rows=rows,
        required=_per_year(years, required),
        optional=_per_year(years, optional),
        funded=None if funded is None else _per_year(years, funded),
        pledged=None if pledged is None else _per_year(years, pledged),
        sources=sources,
        funding_error=funding_error,
        area_commitments=area_commitments,
    )
