"""The results framework, read: each M&E indicator's baseline, its target for a year, its latest actual and
whether it is on track.

`indicator_progress(plan_ids)` is what the pages and the monitoring dashboard read, in a constant number of
queries whatever the number of plans and indicators. Its figures:

- An indicator of the plan's own (output, outcome, impact) has the baseline and the yearly targets typed in its
  form, and actuals per reporting period, entered or imported; the latest actual is that of the latest period.
- A capacity indicator stands for a JEE/SPAR indicator of the plan's framework, and nothing of it is typed: its
  baseline and its latest actual are the indicator's level in the plan's assessments (planning's
  `baselines_for_plans`, the most recent score, carried through the crosswalks), its target the plan's target
  level (IndicatorTarget), the same for every year.

On track: for a typed indicator, the latest actual compared with where the line from the baseline (at the end of
the baseline year) through each year's target (at the end of that year) stands on the last day of the actual's
period: at or beyond it (beyond being below when the targets go down) is on track. Without a baseline, the line
starts at the first target, so an actual before that is compared with it. A capacity indicator is on track once
its level reaches the target. None when a figure is missing (no actual, no target).

Who writes an indicator (`indicator_writable_by`): the secretariat (Permission.MANAGE: the results framework is
monitored on the endorsed plan too) for every indicator, a technical lead for the indicators of their own technical
areas; everyone else reads.
"""

from __future__ import annotations

import datetime
import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from monitoring.models import MEIndicator, MEIndicatorActual, MEIndicatorTarget
from naphs.permissions import Permission, Role
from planning.models import Activity, IndicatorTarget, Plan
from planning.selectors import baselines_for_plans

if TYPE_CHECKING:
    from stakeholders.models import PlanMembership


@dataclass
class Actual:
    """One measured value: of a reporting period (`period_id`), or, for a capacity indicator, an assessment's level
    (`period_id` None, `label` the assessment's kind and date)."""

    value: Decimal
    label: str
    on: datetime.date
    period_id: int | None = None


@dataclass
class IndicatorProgress:
    """One indicator's figures for `year` (see the module's docstring)."""

    indicator: MEIndicator
    year: int
    baseline: Decimal | None
    baseline_year: int | None
    target: Decimal | None  # for `year`
    targets: dict[int, Decimal] = field(default_factory=dict)  # every year's
    latest: Actual | None = None
    on_track: bool | None = None

    @property
    def is_capacity(self) -> bool:
        return self.indicator.kind == MEIndicator.Kind.CAPACITY


def indicator_list_for_plan(*, plan: Plan) -> QuerySet[MEIndicator]:
    """The plan's indicators, in code order, with their area, capacity indicator, activities and targets loaded:
    four queries whatever their number."""
    return (
        MEIndicator.objects.filter(plan=plan)
        .select_related("technical_area", "capacity_indicator")
        .prefetch_related(
            Prefetch("activities", queryset=Activity.objects.order_by("title", "pk")),
            Prefetch("targets", queryset=MEIndicatorTarget.objects.order_by("year")),
        )
        .order_by("code", "pk")
    )


def current_year_of(plan: Plan, *, today: datetime.date | None = None) -> int:
    """This year, brought inside the plan's years: the year a list shows targets for."""
    year = (today or timezone.localdate()).year
    return min(max(year, plan.first_year), plan.last_year)


def expected_value(
    *, baseline: Decimal | None, baseline_year: int | None, targets: dict[int, Decimal], on: datetime.date
) -> Decimal | None:
    """Where the line from the baseline through the yearly targets stands on `on` (see the module's docstring);
    None when there is no target; before the line starts, its first point."""
    if not targets:
        return None
    points: list[tuple[datetime.date, Decimal]] = []
    if baseline is not None and baseline_year is not None:
        points.append((datetime.date(baseline_year, 12, 31), baseline))
    points += [(datetime.date(year, 12, 31), value) for year, value in sorted(targets.items())]
    if on <= points[0][0]:
        return points[0][1]
    for (start, low), (end, high) in itertools.pairwise(points):
        if on <= end:
            share = Decimal((on - start).days) / Decimal((end - start).days or 1)
            return low + (high - low) * share
    return points[-1][1]


def on_track_of(progress: IndicatorProgress) -> bool | None:
    """Whether the indicator is on track (module's docstring), from its figures."""
    latest = progress.latest
    if latest is None or not progress.targets:
        return None
    if progress.is_capacity:
        return None if progress.target is None else latest.value >= progress.target
    expected = expected_value(
        baseline=progress.baseline, baseline_year=progress.baseline_year, targets=progress.targets, on=latest.on
    )
    if expected is None:
        return None
    start = progress.baseline if progress.baseline is not None else next(iter(sorted(progress.targets.items())))[1]
    final = progress.targets[max(progress.targets)]
    if final < start:  # the targets go down: lower is better
        return latest.value <= expected
    return latest.value >= expected


def indicator_progress(
    plan_ids: Iterable[int], *, year: int | None = None, today: datetime.date | None = None
) -> dict[int, IndicatorProgress]:
    """{indicator id: IndicatorProgress} for every indicator of the plans, with the target of `year` (by default
    this year, brought inside each plan's years). Six queries whatever the number of plans and indicators; rows of
    plans the caller may not see are the caller's to leave out (pass only plans the person reaches)."""
    plan_ids = list(plan_ids)
    plans = {plan.pk: plan for plan in Plan.objects.filter(pk__in=plan_ids).only("pk", "first_year", "last_year")}
    indicators = list(
        MEIndicator.objects.filter(plan_id__in=plans)
        .select_related("technical_area", "capacity_indicator")
        .order_by("plan_id", "code", "pk")
    )
    targets: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for indicator_id, target_year, value in MEIndicatorTarget.objects.filter(indicator__plan_id__in=plans).values_list(
        "indicator_id", "year", "value"
    ):
        targets[indicator_id][target_year] = value
    latest: dict[int, Actual] = {}
    actuals = (
        MEIndicatorActual.objects.filter(indicator__plan_id__in=plans)
        .order_by("indicator_id", "period__ends_on", "period__starts_on")
        .values_list("indicator_id", "value", "period_id", "period__label", "period__ends_on")
    )
    for indicator_id, value, period_id, label, ends_on in actuals:
        latest[indicator_id] = Actual(value=value, label=label, on=ends_on, period_id=period_id)
    capacity: dict[int, dict[int, int]] = defaultdict(dict)  # plan id: {indicator id: target level}
    baselines = {}
    if any(indicator.capacity_indicator_id for indicator in indicators):
        for plan_id, indicator_id, level in IndicatorTarget.objects.filter(plan_id__in=plans).values_list(
            "plan_id", "indicator_id", "level"
        ):
            capacity[plan_id][indicator_id] = level
        baselines = baselines_for_plans(plans=plans.values())
    result: dict[int, IndicatorProgress] = {}
    for indicator in indicators:
        plan = plans[indicator.plan_id]
        shown_year = year if year is not None else current_year_of(plan, today=today)
        if indicator.capacity_indicator_id is not None:
            capacity_level = capacity[plan.pk].get(indicator.capacity_indicator_id or 0)
            target = None if capacity_level is None else Decimal(capacity_level)
            found = baselines.get(plan.pk, {}).get(indicator.capacity_indicator_id)
            baseline = None if found is None else Decimal(found.level)
            progress = IndicatorProgress(
                indicator=indicator,
                year=shown_year,
                baseline=baseline,
                baseline_year=found.date.year if found is not None else None,
                target=target,
                targets={} if target is None else dict.fromkeys(range(plan.first_year, plan.last_year + 1), target),
                latest=None
                if found is None
                else Actual(
                    value=Decimal(found.level),
                    label=f"{found.get_kind_display()} {found.date.isoformat()}",
                    on=found.date,
                ),
            )
        else:
            yearly = targets.get(indicator.pk, {})
            progress = IndicatorProgress(
                indicator=indicator,
                year=shown_year,
                baseline=indicator.baseline_value,
                baseline_year=indicator.baseline_year,
                target=yearly.get(shown_year),
                targets=dict(sorted(yearly.items())),
                latest=latest.get(indicator.pk),
            )
        progress.on_track = on_track_of(progress)
        result[indicator.pk] = progress
    return result


def indicator_area_ids_writable_by(membership: PlanMembership) -> frozenset[int] | None:
    """The technical areas whose indicators the member writes: None meaning every indicator (the secretariat, also
    those of the plan as a whole), a technical lead's own areas, none for any other role. One query at most."""
    if membership.role_allows(Permission.MANAGE):
        return None
    if membership.role != Role.TECHNICAL_LEAD:
        return frozenset()
    return frozenset(membership.technical_areas.values_list("pk", flat=True))


def indicator_writable_by(*, membership: PlanMembership, area_id: int | None) -> bool:
    """Whether the member writes an indicator of technical area `area_id` (None: of the plan as a whole): the
    secretariat every one, a technical lead those of their own areas."""
    areas = indicator_area_ids_writable_by(membership)
    return areas is None or (area_id is not None and area_id in areas)


def indicators_writer(membership: PlanMembership) -> bool:
    """Whether the member writes any indicator at all (the secretariat, a technical lead)."""
    return membership.role_allows(Permission.MANAGE) or membership.role == Role.TECHNICAL_LEAD
