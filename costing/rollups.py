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
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from costing.models import CostLine, CostLineYear, CostRollup, FundingCommitment, FundingRollup, PlanCosting
from costing.services import CENT, Rates
from planning.models import Activity

ZERO = Decimal("0")


def commitment_shares(commitment: FundingCommitment) -> dict[int, Decimal]:
    """The commitment's amount spread evenly over its years, in its own currency (the last year takes the rounding
    remainder)."""
    years = list(range(commitment.first_year, commitment.last_year + 1))
    share = (commitment.amount / len(years)).quantize(CENT, rounding=ROUND_HALF_UP)
    shares = {year: share for year in years}
    shares[years[-1]] = commitment.amount - share * (len(years) - 1)
    return shares


def commitment_years(commitment: FundingCommitment, rates: Rates) -> dict[int, Decimal]:
    """The commitment's yearly shares (commitment_shares), each converted to the base currency at the rate of its
    year."""
    return {
        year: (amount * rates.rate(commitment.currency, year)).quantize(CENT, rounding=ROUND_HALF_UP)
        for year, amount in commitment_shares(commitment).items()
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


def _costs_insert(plan_ids: list[int]) -> None:
    """Sum the plans' cost line years into CostRollup in one INSERT ... SELECT: the rows never leave the
    database. Written in SQL because the ORM has no INSERT from a query; portable to SQLite and PostgreSQL."""
    table = connection.ops.quote_name
    rollup, line, line_year, activity = (
        table(model._meta.db_table) for model in (CostRollup, CostLine, CostLineYear, Activity)
    )
    placeholders = ", ".join(["%s"] * len(plan_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {rollup} (plan_id, technical_area_id, category, organization_id, year, required, optional)
            SELECT line.plan_id, activity.technical_area_id, line.category, activity.responsible_organization_id,
                   line_year.year,
                   SUM(CASE WHEN line.optional THEN 0 ELSE line_year.amount END),
                   SUM(CASE WHEN line.optional THEN line_year.amount ELSE 0 END)
            FROM {line_year} line_year
            JOIN {line} line ON line.id = line_year.cost_line_id
            JOIN {activity} activity ON activity.id = line.activity_id
            WHERE line.plan_id IN ({placeholders})
            GROUP BY line.plan_id, activity.technical_area_id, line.category, activity.responsible_organization_id,
                     line_year.year
            """,  # noqa: S608 -- table names from the models' metadata; the values are parameters
            plan_ids,
        )


def _funding_rows(costing: PlanCosting) -> tuple[list[FundingRollup], str]:
    """The plan's funding by area, source, status and year; an error instead when a rate is missing."""
    commitments = list(FundingCommitment.objects.filter(plan_id=costing.plan_id).prefetch_related("activities"))
    try:
        allocation = funding_allocate(commitments, Rates(costing))
    except ValidationError as problem:
        return [], " ".join(problem.messages)
    sources = {commitment.pk: (commitment.source_organization_id, commitment.status) for commitment in commitments}
    funding: dict[tuple[int, int, str, int], Decimal] = defaultdict(lambda: ZERO)
    for (commitment_id, _activity_id, area_id, year), amount in allocation.items():
        source_id, status = sources[commitment_id]
        funding[(area_id, source_id, status, year)] += amount
    rows = [
        FundingRollup(
            plan_id=costing.plan_id,
            technical_area_id=area_id,
            source_organization_id=source_id,
            status=status,
            year=year,
            amount=amount,
        )
        for (area_id, source_id, status, year), amount in funding.items()
    ]
    return rows, ""


def plans_rollup(*, plan_ids: list[int]) -> list[int]:
    """Recompute and store the rollups of the plans whose totals moved, all in one pass; returns their ids.

    Each plan records the change it was computed from (`rollup_of`), read before computing: an edit that
    lands meanwhile leaves the plan stale, and that edit has queued the next recomputation.
    """
    PlanCosting.objects.filter(plan_id__in=plan_ids).update(rollup_queued=False)
    stale = [
        costing
        for costing in PlanCosting.objects.filter(plan_id__in=plan_ids).order_by("plan_id")
        if not costing.rollup_current
    ]
    if not stale:
        return []
    ids = [costing.plan_id for costing in stale]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Rollups are derived data recorded together with the change they reflect: losing the last ones in
            # a crash leaves the plan saying it is stale, never wrong. Skipping the wait for the disk halves
            # the time of a recomputation.
            # The grouping fits in memory rather than spilling to a sort on disk.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
                cursor.execute("SET LOCAL work_mem TO '64MB'")
        CostRollup.objects.filter(plan_id__in=ids).delete()
        FundingRollup.objects.filter(plan_id__in=ids).delete()
        _costs_insert(ids)
        now = timezone.now()
        for costing in stale:
            rows, error = _funding_rows(costing)
            FundingRollup.objects.bulk_create(rows)
            PlanCosting.objects.filter(plan_id=costing.plan_id).update(
                rollup_of=costing.changes, rollup_at=now, rollup_error=error
            )
    return ids


def plan_rollup(*, plan_id: int) -> bool:
    """Recompute and store one plan's rollups; False when there was nothing to do (no costing, or current)."""
    return bool(plans_rollup(plan_ids=[plan_id]))
