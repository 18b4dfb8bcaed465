"""A plan's monitoring aggregates (what its dashboard reads), computed in the database in the background after
each burst of changes, as the costing rollups are (costing.services.costs_changed, costing.rollups).

`monitoring_changed` says a plan's figures moved: its MonitoringState counts the change and, once per burst, queues
`monitoring.tasks.monitoring_refresh_task` to run SETTLE_SECONDS after the write commits. `plans_refresh` recomputes
the stale plans in one pass: activities by latest status (ActivityProgressRollup) and reports per period and
organization (PeriodProgressRollup), each one INSERT ... SELECT ... GROUP BY whose rows never leave the database,
then the small figures (indicators against targets, 7-1-7 events, capacity levels per area) into the state's
`figures`. The beat's sweep (monitoring_sweep_task) recomputes what a lost message or a failed attempt left stale.

Spending: a progress report's amount is what was spent on the activity in that period, so what was spent to date is
the sum of every report's amount in the base currency (amount_spent_base), and a period's spending is the sum of its
reports'.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from monitoring.models import (
    ActivityProgressRollup,
    HealthEvent,
    MEIndicator,
    MEIndicatorActual,
    MEIndicatorTarget,
    MonitoringState,
    PeriodProgressRollup,
    ProgressStatus,
    ProgressUpdate,
    ReportingPeriod,
)
from planning.models import Activity, Indicator, IndicatorTarget, Plan
from planning.selectors import levels_for_plans

SETTLE_SECONDS = 2
FINISHED = (ProgressStatus.COMPLETED, ProgressStatus.CANCELLED)


def monitoring_changed(plan_id: int) -> None:
    """Say the plan's monitoring figures moved: its aggregates are stale from now on, and one recomputation is
    queued once the surrounding transaction commits.

    Only the change that flips `queued` from false enqueues the task, to run SETTLE_SECONDS later: the writes made
    meanwhile find it queued and join it, so a burst of reports triggers one recomputation, and a write made while
    it runs queues the next.
    """
    if not MonitoringState.objects.filter(plan_id=plan_id).update(changes=F("changes") + 1):
        # The plan's first change: its state row is made now (two writers at once make one).
        MonitoringState.objects.bulk_create([MonitoringState(plan_id=plan_id)], ignore_conflicts=True)
        MonitoringState.objects.filter(plan_id=plan_id).update(changes=F("changes") + 1)
    if MonitoringState.objects.filter(plan_id=plan_id, queued=False).update(queued=True):
        from monitoring.tasks import monitoring_refresh_task

        monitoring_refresh_task.apply_async_on_commit((plan_id,), countdown=SETTLE_SECONDS)


def _activities_changed(plan_id: int) -> None:
    """planning.hooks.activity_moved and activities_added: an activity of the plan moved to another area or
    organization, or activities were added to it."""
    if MonitoringState.objects.filter(plan_id=plan_id).exists():
        monitoring_changed(plan_id)


def _activity_deleting(activity: Activity) -> None:
    if MonitoringState.objects.filter(plan_id=activity.plan_id).exists():
        monitoring_changed(activity.plan_id)


def connect() -> None:
    """From MonitoringConfig.ready: an activity moved or deleted moves the figures of a plan being monitored."""
    from planning import hooks

    hooks.activity_moved.connect(_activities_changed)
    hooks.activities_added.connect(_activities_changed)
    hooks.activity_deleting.connect(_activity_deleting)


# --- The recomputation -----------------------------------------------------------------------------------------


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    models: dict[str, Any] = {
        "activity": Activity,
        "update": ProgressUpdate,
        "period": ReportingPeriod,
        "activity_rollup": ActivityProgressRollup,
        "period_rollup": PeriodProgressRollup,
    }
    return {name: quote(model._meta.db_table) for name, model in models.items()}


# Each activity's latest report (by the period's first day) and the sum of all its reports' spending, from one pass
# over the reports (two windows over the same partition).
LATEST_SQL = """
    SELECT u.activity_id, u.status, u.percent_complete,
           SUM(u.amount_spent_base) OVER (PARTITION BY u.activity_id) AS spent,
           ROW_NUMBER() OVER (PARTITION BY u.activity_id ORDER BY p.starts_on DESC) AS position
    FROM {update} u JOIN {period} p ON p.id = u.period_id
    WHERE u.plan_id IN ({plans})
"""

ACTIVITIES_SQL = """
    SELECT a.plan_id, a.technical_area_id, a.responsible_organization_id, a.implementation_level,
           COALESCE(latest.status, ''), COUNT(*), COALESCE(SUM(latest.percent_complete), 0),
           COALESCE(SUM(latest.spent), 0)
    FROM {activity} a
    LEFT JOIN ({latest}) latest ON latest.activity_id = a.id AND latest.position = 1
    WHERE a.plan_id IN ({plans})
    GROUP BY a.plan_id, a.technical_area_id, a.responsible_organization_id, a.implementation_level,
             COALESCE(latest.status, '')
"""

# Every activity against every period of its plan: expected unless cancelled in the plan or reported finished
# (completed or cancelled) in an earlier period; reported when it has a report for the period.
PERIODS_SQL = """
    SELECT a.plan_id, p.id, a.responsible_organization_id,
           SUM(CASE WHEN {expected} THEN 1 ELSE 0 END),
           COUNT(u.id),
           SUM(CASE WHEN u.id IS NULL AND {expected} THEN 1 ELSE 0 END),
           COALESCE(SUM(u.amount_spent_base), 0)
    FROM {activity} a
    JOIN {period} p ON p.plan_id = a.plan_id
    LEFT JOIN {update} u ON u.activity_id = a.id AND u.period_id = p.id AND u.plan_id IN ({plans})
    LEFT JOIN (
        SELECT f.activity_id, MIN(fp.starts_on) AS finished_on
        FROM {update} f JOIN {period} fp ON fp.id = f.period_id
        WHERE f.plan_id IN ({plans}) AND f.status IN ({finished})
        GROUP BY f.activity_id
    ) finished ON finished.activity_id = a.id
    WHERE a.plan_id IN ({plans})
    GROUP BY a.plan_id, p.id, a.responsible_organization_id
"""
EXPECTED = "a.status <> 'cancelled' AND (finished.finished_on IS NULL OR finished.finished_on >= p.starts_on)"


def aggregate_sql(plan_ids: list[int]) -> tuple[str, str, list[Any], list[Any]]:
    """The two SELECTs of the recomputation (the bench runs them by hand too) and their parameters."""
    tables = _tables()
    plans = ", ".join(["%s"] * len(plan_ids))
    finished = ", ".join(["%s"] * len(FINISHED))
    latest = LATEST_SQL.format(plans=plans, **tables)
    activities = ACTIVITIES_SQL.format(latest=latest, plans=plans, **tables)
    periods = PERIODS_SQL.format(expected=EXPECTED, plans=plans, finished=finished, **tables)
    return activities, periods, [*plan_ids, *plan_ids], [*plan_ids, *plan_ids, *FINISHED, *plan_ids]


def _rows_insert(plan_ids: list[int]) -> None:
    """Both rollups in two INSERT ... SELECT statements: the rows never leave the database. Portable to SQLite and
    PostgreSQL (window functions, no DISTINCT ON)."""
    # Table names come from the models' metadata; the values are parameters.
    tables = _tables()
    activities, periods, activity_params, period_params = aggregate_sql(plan_ids)
    activity_columns = "plan_id, technical_area_id, organization_id, level, status, activities, percent, spent"
    period_columns = "plan_id, period_id, organization_id, expected, reported, unreported, spent"
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {tables['activity_rollup']} ({activity_columns}) {activities}", activity_params)
        cursor.execute(f"INSERT INTO {tables['period_rollup']} ({period_columns}) {periods}", period_params)


def _direction_met(value: Decimal, target: Decimal, baseline: Decimal | None) -> bool:
    """Whether a value reaches its target: at or above it, or at or below it for an indicator whose target lies
    below its baseline (a rate to bring down)."""
    if baseline is not None and target < baseline:
        return value <= target
    return value >= target


def indicator_states(plan_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each M&E indicator of the plans with its baseline, latest actual, the target of that actual's year (of this
    year when it has none yet) and its state: met, not_met, no_data (no actual yet) or no_target. A capacity
    indicator's baseline, target and latest value are the levels of the plan's assessments and targets. A fixed number
    of queries whatever the number of indicators."""
    this_year = timezone.localdate().year
    # Each indicator's latest actual (by its period's last day): the last of its actuals in that order.
    latest: dict[int, tuple[Decimal, int]] = {}
    for indicator_id, value, ends_on in (
        MEIndicatorActual.objects.filter(indicator__plan_id__in=plan_ids)
        .order_by("indicator_id", "period__ends_on", "pk")
        .values_list("indicator_id", "value", "period__ends_on")
    ):
        latest[indicator_id] = (value, ends_on.year)
    indicators = list(
        MEIndicator.objects.filter(plan_id__in=plan_ids)
        .values(
            "pk",
            "plan_id",
            "code",
            "name",
            "kind",
            "technical_area_id",
            "capacity_indicator_id",
            "baseline_value",
        )
        .order_by("plan_id", "code")
    )
    targets: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for indicator_id, year, value in MEIndicatorTarget.objects.filter(indicator__plan_id__in=plan_ids).values_list(
        "indicator_id", "year", "value"
    ):
        targets[indicator_id][year] = value
    capacity_plans = {row["plan_id"] for row in indicators if row["capacity_indicator_id"]}
    levels = _levels(capacity_plans) if capacity_plans else {}
    states: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in indicators:
        baseline: Decimal | None = row["baseline_value"]
        latest_value, latest_year = latest.get(row["pk"], (None, None))
        target: Decimal | None = None
        if row["capacity_indicator_id"]:
            baseline_level, latest_level, target_level = levels.get(row["plan_id"], {}).get(
                row["capacity_indicator_id"], (None, None, None)
            )
            baseline, latest_value, target = (
                None if level is None else Decimal(level) for level in (baseline_level, latest_level, target_level)
            )
            baseline = None  # a level to raise: reached at or above its target
        else:
            by_year = targets.get(row["pk"], {})
            year = latest_year or this_year
            earlier = [y for y in by_year if y <= year]
            if earlier:
                target = by_year[max(earlier)]
            elif by_year:
                target = by_year[min(by_year)]
        if target is None:
            state = "no_target"
        elif latest_value is None:
            state = "no_data"
        else:
            state = "met" if _direction_met(latest_value, target, baseline) else "not_met"
        states[row["plan_id"]].append(
            {
                "id": row["pk"],
                "code": row["code"],
                "name": row["name"],
                "kind": row["kind"],
                "area": row["technical_area_id"],
                "baseline": None if row["baseline_value"] is None else str(row["baseline_value"]),
                "target": None if target is None else str(target),
                "latest": None if latest_value is None else str(latest_value),
                "state": state,
            }
        )
    return states


def _levels(plan_ids: set[int] | list[int]) -> dict[int, dict[int, tuple[int | None, int | None, int | None]]]:
    """{plan: {indicator: (baseline level, latest level, target level)}} of the plans' framework indicators."""
    plans = list(Plan.objects.filter(pk__in=plan_ids))
    baselines, latest = levels_for_plans(plans=plans)
    targets: dict[int, dict[int, int]] = defaultdict(dict)
    for plan_id, indicator_id, level in IndicatorTarget.objects.filter(plan_id__in=plan_ids).values_list(
        "plan_id", "indicator_id", "level"
    ):
        targets[plan_id][indicator_id] = level
    levels: dict[int, dict[int, tuple[int | None, int | None, int | None]]] = {}
    for plan in plans:
        known = set(baselines.get(plan.pk, {})) | set(latest.get(plan.pk, {})) | set(targets.get(plan.pk, {}))
        base, last, aim = baselines.get(plan.pk, {}), latest.get(plan.pk, {}), targets.get(plan.pk, {})
        levels[plan.pk] = {
            indicator: (
                base[indicator].level if indicator in base else None,
                last[indicator].level if indicator in last else None,
                aim.get(indicator),
            )
            for indicator in known
        }
    return levels


def _capacity(plan_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Per plan and technical area: how many indicators have a baseline, latest and target level, and their sums
    (means are sums over counts, so plans add up)."""
    levels = _levels(plan_ids)
    wanted = {indicator for of_plan in levels.values() for indicator in of_plan}
    areas = dict(Indicator.objects.filter(pk__in=wanted).values_list("pk", "technical_area_id"))
    capacity: dict[int, list[dict[str, Any]]] = {}
    for plan_id, of_plan in levels.items():
        by_area: dict[int, dict[str, int]] = {}
        for indicator, values in of_plan.items():
            area = by_area.setdefault(
                areas[indicator],
                {
                    "area": areas[indicator],
                    "baseline_n": 0,
                    "baseline": 0,
                    "latest_n": 0,
                    "latest": 0,
                    "target_n": 0,
                    "target": 0,
                },
            )
            for name, level in zip(("baseline", "latest", "target"), values, strict=True):
                if level is not None:
                    area[f"{name}_n"] += 1
                    area[name] += level
        capacity[plan_id] = sorted(by_area.values(), key=lambda row: row["area"])
    return capacity


def _timeliness(plan_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per plan: events recorded, and per 7-1-7 target the events that met it, missed it, or wait for its date;
    events meeting all three. One query. The intervals and their targets are monitoring.timeliness's."""
    from monitoring.timeliness import INTERVALS  # it imports this module: read when the figures are computed

    counts: dict[str, Any] = {"events": Count("pk")}
    met_all = Q()
    for interval in INTERVALS:
        stage, start, end = interval.key, interval.start, interval.end
        within = Q(**{f"{end}__lte": F(start) + timedelta(days=interval.target_days)})
        counts[f"{stage}_met"] = Count("pk", filter=Q(**{f"{end}__isnull": False}) & within)
        counts[f"{stage}_missed"] = Count("pk", filter=Q(**{f"{end}__isnull": False}) & ~within)
        counts[f"{stage}_pending"] = Count("pk", filter=Q(**{f"{end}__isnull": True}))
        met_all &= Q(**{f"{end}__isnull": False}) & within
    counts["all_met"] = Count("pk", filter=met_all)
    rows = HealthEvent.objects.filter(plan_id__in=plan_ids).order_by().values("plan_id").annotate(**counts)
    return {int(str(row["plan_id"])): {k: int(str(v)) for k, v in row.items() if k != "plan_id"} for row in rows}


def _figures(plan_ids: list[int]) -> dict[int, dict[str, Any]]:
    indicators = indicator_states(plan_ids)
    capacity = _capacity(plan_ids)
    timeliness = _timeliness(plan_ids)
    figures: dict[int, dict[str, Any]] = {}
    for plan_id in plan_ids:
        summary: dict[str, dict[str, int]] = {}
        by_area: dict[str, dict[str, int]] = {}
        for row in indicators.get(plan_id, []):
            for key, table in ((row["kind"], summary), (str(row["area"] or ""), by_area)):
                counts = table.setdefault(key, {"met": 0, "not_met": 0, "no_data": 0, "no_target": 0})
                counts[row["state"]] += 1
        figures[plan_id] = {
            "indicators": summary,
            "indicators_by_area": by_area,
            "capacity": capacity.get(plan_id, []),
            "timeliness": timeliness.get(plan_id, {}),
        }
    return figures


def plans_refresh(*, plan_ids: list[int]) -> list[int]:
    """Recompute and store the aggregates of the plans whose figures moved, all in one pass; returns their ids.

    Each plan records the change it was computed from (`aggregates_of`), read before computing: a write that lands
    meanwhile leaves the plan stale, and that write has queued the next recomputation.
    """
    MonitoringState.objects.filter(plan_id__in=plan_ids).update(queued=False)
    # A plan asked for that has no state yet (its monitoring never changed through a service) is computed too.
    known = set(MonitoringState.objects.filter(plan_id__in=plan_ids).values_list("plan_id", flat=True))
    missing = [plan_id for plan_id in plan_ids if plan_id not in known]
    if missing:
        MonitoringState.objects.bulk_create(
            [MonitoringState(plan_id=plan_id, changes=1) for plan_id in missing], ignore_conflicts=True
        )
    stale = [state for state in MonitoringState.objects.filter(plan_id__in=plan_ids).order_by("plan_id")]
    stale = [state for state in stale if not state.current]
    if not stale:
        return []
    ids = [state.plan_id for state in stale]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Derived data recorded with the change it reflects: losing the last ones in a crash leaves the plan
            # saying it is stale, never wrong, so the commit need not wait for the disk.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
                cursor.execute("SET LOCAL work_mem TO '64MB'")
        ActivityProgressRollup.objects.filter(plan_id__in=ids).delete()
        PeriodProgressRollup.objects.filter(plan_id__in=ids).delete()
        _rows_insert(ids)
        figures = _figures(ids)
        now = timezone.now()
        for state in stale:
            MonitoringState.objects.filter(pk=state.pk).update(
                aggregates_of=state.changes, computed_at=now, error="", figures=figures[state.plan_id]
            )
    return ids


def plan_refresh(*, plan_id: int) -> bool:
    """Recompute and store one plan's aggregates; False when there was nothing to do."""
    return bool(plans_refresh(plan_ids=[plan_id]))
