"""A plan's totals, computed in the database and stored per plan so pages read them at once.

`plan_rollup` runs in the worker (costing.tasks.plan_rollup_task) after costs change. It records which
change it computed (`PlanCosting.rollup_of`), so a page can tell stored totals from current ones.
Funding is spread over its years and, when it funds several activities, over them in proportion to
their cost in each year; `funding_allocate` is that one rule, used by the rollup and the activity page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from costing.models import CostLineYear, CostRollup, FundingCommitment, FundingRollup, PlanCosting
from costing.services import CENT, Rates

ZERO = Decimal("0")


def commitment_years(commitment: FundingCommitment, rates: Rates) -> dict[int, Decimal]:
    """The commitment's amount spread evenly over its years (the last year takes the rounding remainder),
    each share converted to the base currency at the rate of its year."""
    years = list(range(commitment.first_year, commitment.last_year + 1))
    share = (commitment.amount / len(years)).quantize(CENT, rounding=ROUND_HALF_UP)
    shares = {year: share for year in years}
    shares[years[-1]] = commitment.amount - share * (len(years) - 1)
    return {
        year: (amount * rates.rate(commitment.currency, year)).quantize(CENT, rounding=ROUND_HALF_UP)
        for year, amount in shares.items()
    }


def activity_year_costs(activity_ids: Iterable[int]) -> dict[tuple[int, int], Decimal]:
    """{(activity id, year): cost without optional lines} for the given activities."""
    rows = (
        CostLineYear.objects.filter(cost_line__activity_id__in=list(activity_ids), cost_line__optional=False)
        .values_list("cost_line__activity_id", "year")
        .annotate(total=Sum("amount"))
    )
    return {(activity_id, year): total for activity_id, year, total in rows}


def _split(amount: Decimal, weights: dict[int, Decimal]) -> dict[int, Decimal]:
    """`amount` shared by weight (equally when every weight is 0); the shares add up to `amount` exactly."""
    keys = sorted(weights)
    total = sum(weights.values(), ZERO)
    if total <= 0:
        weights, total = dict.fromkeys(keys, Decimal(1)), Decimal(len(keys))
    shares = {key: (amount * weights[key] / total).quantize(CENT, rounding=ROUND_HALF_UP) for key in keys}
    shares[keys[-1]] += amount - sum(shares.values(), ZERO)
    return shares


class Allocation(dict):
    """{(commitment id, activity id or None, area id, year): base-currency amount}."""


def funding_allocate(
    commitments: Iterable[FundingCommitment], rates: Rates, *, costs: dict[tuple[int, int], Decimal] | None = None
) -> Allocation:
    """Where each commitment's money goes, by activity (None for area funding), area and year.

    Commitments must come with `activities` prefetched (id and technical_area_id are enough).
    """
    commitments = list(commitments)
    if costs is None:
        wanted = {activity.pk for commitment in commitments for activity in commitment.activities.all()}
        costs = activity_year_costs(wanted) if wanted else {}
    allocation = Allocation()
    for commitment in commitments:
        activities = list(commitment.activities.all())
        for year, amount in commitment_years(commitment, rates).items():
            if not activities:
                allocation[(commitment.pk, None, commitment.technical_area_id, year)] = amount
                continue
            weights = {activity.pk: costs.get((activity.pk, year), ZERO) for activity in activities}
            areas = {activity.pk: activity.technical_area_id for activity in activities}
            for activity_id, share in _split(amount, weights).items():
                allocation[(commitment.pk, activity_id, areas[activity_id], year)] = share
    return allocation


def plan_rollup(*, plan_id: int) -> bool:
    """Recompute and store the plan's rollups; False when there is nothing to do (no costing, or current)."""
    if not PlanCosting.objects.filter(plan_id=plan_id).update(rollup_queued=False):
        return False
    costing = PlanCosting.objects.select_related("plan").get(plan_id=plan_id)
    seen = costing.changes
    if costing.rollup_of == seen and costing.rollup_at is not None:
        return False
    with transaction.atomic():
        CostRollup.objects.filter(plan_id=plan_id).delete()
        FundingRollup.objects.filter(plan_id=plan_id).delete()
        rows = (
            CostLineYear.objects.filter(cost_line__plan_id=plan_id)
            .values_list(
                "cost_line__activity__technical_area_id",
                "cost_line__category",
                "cost_line__activity__responsible_organization_id",
                "year",
            )
            .annotate(
                required=Sum("amount", filter=Q(cost_line__optional=False), default=ZERO),
                optional=Sum("amount", filter=Q(cost_line__optional=True), default=ZERO),
            )
            .order_by()
        )
        CostRollup.objects.bulk_create(
            CostRollup(
                plan_id=plan_id,
                technical_area_id=area_id,
                category=category,
                organization_id=organization_id,
                year=year,
                required=required,
                optional=optional,
            )
            for area_id, category, organization_id, year, required, optional in rows.iterator()
        )
        error = ""
        commitments = FundingCommitment.objects.filter(plan_id=plan_id).prefetch_related("activities")
        try:
            allocation = funding_allocate(commitments, Rates(costing))
        except ValidationError as problem:
            allocation, error = Allocation(), " ".join(problem.messages)
        sources = {commitment.pk: (commitment.source_organization_id, commitment.status) for commitment in commitments}
        funding: dict[tuple[int, int, str, int], Decimal] = defaultdict(lambda: ZERO)
        for (commitment_id, _activity_id, area_id, year), amount in allocation.items():
            source_id, status = sources[commitment_id]
            funding[(area_id, source_id, status, year)] += amount
        FundingRollup.objects.bulk_create(
            FundingRollup(
                plan_id=plan_id,
                technical_area_id=area_id,
                source_organization_id=source_id,
                status=status,
                year=year,
                amount=amount,
            )
            for (area_id, source_id, status, year), amount in funding.items()
        )
        PlanCosting.objects.filter(plan_id=plan_id).update(rollup_of=seen, rollup_at=timezone.now(), rollup_error=error)
    return True
