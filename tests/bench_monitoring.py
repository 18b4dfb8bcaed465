"""`make bench`, monitoring part: a national plan with ten provincial plans, 2,000 activities each, 8 quarters of
progress (a report per activity per quarter: 176,000 reports) and 500 M&E indicators with yearly targets and
quarterly actuals; and, from one run: the refresh of the monitoring aggregates beside a hand-written SQL GROUP BY over
the same rows, the monitoring dashboard's response time and query count for the plan alone and with its provinces,
and the progress workbook upload of 2,000 updates. Figures, not assertions (targets in brackets)."""

from __future__ import annotations

import statistics
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.urls import reverse

from monitoring.aggregates import plans_refresh
from monitoring.models import (
    ActivityProgressRollup,
    MEIndicator,
    MEIndicatorActual,
    MEIndicatorTarget,
    MonitoringState,
    PeriodProgressRollup,
    ProgressStatus,
    ProgressUpdate,
    ReportingPeriod,
)
from naphs.permissions import Role
from planning.models import Activity, Framework, Jurisdiction, Plan, TechnicalArea
from stakeholders.models import Organization, PlanMembership, User

PROVINCES = 10
ACTIVITIES = 2_000
QUARTERS = 8
INDICATORS = 500
STATUSES = list(ProgressStatus.values)


def _quarters(plan: Plan) -> list[ReportingPeriod]:
    periods = []
    for n in range(QUARTERS):
        year, quarter = 2026 + n // 4, n % 4
        starts = date(year, 3 * quarter + 1, 1)
        following = date(year + 1, 1, 1) if quarter == 3 else date(year, 3 * quarter + 4, 1)
        ends = following - timedelta(days=1)
        periods.append(
            ReportingPeriod(
                plan=plan,
                label=f"{year} Q{quarter + 1}",
                starts_on=starts,
                ends_on=ends,
                due_on=ends + timedelta(days=30),
                state=ReportingPeriod.State.CLOSED if n < QUARTERS - 1 else ReportingPeriod.State.OPEN,
            )
        )
    return ReportingPeriod.objects.bulk_create(periods)


def build() -> tuple[Plan, list[Plan], User]:
    jee3 = Framework.objects.get(code="JEE3")
    areas = list(TechnicalArea.objects.filter(framework=jee3))
    country = Jurisdiction.objects.create(level="country", name="Monitorland", code="XM")
    lead = User.objects.create_user(username="bench-monitoring-lead", email="monitoring@example.org", password="x")
    organizations = Organization.objects.bulk_create(
        Organization(name=f"Ministry {n}", kind="ministry", jurisdiction=country) for n in range(10)
    )
    national = Plan.objects.create(
        jurisdiction=country, title="Monitorland NAPHS", first_year=2026, last_year=2030, framework=jee3
    )
    provinces = [
        Plan.objects.create(
            jurisdiction=Jurisdiction.objects.create(level="province", name=f"Province {n}", parent=country),
            title=f"Province {n} plan",
            first_year=2026,
            last_year=2030,
            framework=jee3,
            parent=national,
        )
        for n in range(PROVINCES)
    ]
    levels = [choice for choice, _label in Activity.Level.choices]
    for plan in (national, *provinces):
        PlanMembership.objects.create(plan=plan, user=lead, role=Role.SECRETARIAT_LEAD)
        activities = Activity.objects.bulk_create(
            (
                Activity(
                    plan=plan,
                    technical_area=areas[n % len(areas)],
                    title=f"Activity {n}",
                    responsible_organization=organizations[n % len(organizations)],
                    implementation_level=levels[n % 3],
                )
                for n in range(ACTIVITIES)
            ),
            batch_size=5000,
        )
        periods = _quarters(plan)
        ProgressUpdate.objects.bulk_create(
            (
                ProgressUpdate(
                    plan=plan,
                    activity=activity,
                    period=period,
                    status=STATUSES[(n + q) % len(STATUSES)],
                    percent_complete=min(100, 10 * (q + 1)),
                    amount_spent=Decimal(100 + n % 50),
                    currency="USD",
                    amount_spent_base=Decimal(100 + n % 50),
                    reported_by=lead,
                )
                for n, activity in enumerate(activities)
                for q, period in enumerate(periods)
            ),
            batch_size=10000,
        )
    periods = list(ReportingPeriod.objects.filter(plan=national).order_by("starts_on"))
    indicators = MEIndicator.objects.bulk_create(
        MEIndicator(
            plan=national,
            code=f"I{n:03}",
            name=f"Indicator {n}",
            kind=["output", "outcome", "impact"][n % 3],
            technical_area=areas[n % len(areas)],
            baseline_value=Decimal(n % 20),
            baseline_year=2025,
        )
        for n in range(INDICATORS)
    )
    MEIndicatorTarget.objects.bulk_create(
        MEIndicatorTarget(indicator=indicator, year=year, value=Decimal(20 + year - 2026))
        for indicator in indicators
        for year in range(2026, 2031)
    )
    MEIndicatorActual.objects.bulk_create(
        MEIndicatorActual(indicator=indicator, period=period, value=Decimal((n + q) % 30))
        for n, indicator in enumerate(indicators)
        for q, period in enumerate(periods)
    )
    MonitoringState.objects.bulk_create(MonitoringState(plan=plan, changes=1) for plan in (national, *provinces))
    return national, provinces, lead


# The same figures grouped by hand, in PostgreSQL's own terms (DISTINCT ON for each activity's latest report, FILTER
# for a period's expected reports: not for an activity cancelled, or finished in an earlier period).
HAND_ACTIVITIES = """
    SELECT a.plan_id, a.technical_area_id, a.responsible_organization_id, a.implementation_level,
           COALESCE(latest.status, ''), COUNT(*), SUM(latest.percent_complete), SUM(spent.amount)
    FROM planning_activity a
    LEFT JOIN (
        SELECT DISTINCT ON (u.activity_id) u.activity_id, u.status, u.percent_complete
        FROM monitoring_progressupdate u JOIN monitoring_reportingperiod p ON p.id = u.period_id
        WHERE u.plan_id = ANY(%s) ORDER BY u.activity_id, p.starts_on DESC
    ) latest ON latest.activity_id = a.id
    LEFT JOIN (
        SELECT activity_id, SUM(amount_spent_base) AS amount FROM monitoring_progressupdate
        WHERE plan_id = ANY(%s) GROUP BY activity_id
    ) spent ON spent.activity_id = a.id
    WHERE a.plan_id = ANY(%s)
    GROUP BY 1, 2, 3, 4, 5
"""
HAND_PERIODS = """
    SELECT a.plan_id, p.id, a.responsible_organization_id,
           COUNT(*) FILTER (WHERE a.status <> 'cancelled' AND (f.finished_on IS NULL OR f.finished_on >= p.starts_on)),
           COUNT(u.id),
           COUNT(*) FILTER (WHERE u.id IS NULL AND a.status <> 'cancelled'
                            AND (f.finished_on IS NULL OR f.finished_on >= p.starts_on)),
           SUM(u.amount_spent_base)
    FROM planning_activity a JOIN monitoring_reportingperiod p ON p.plan_id = a.plan_id
    LEFT JOIN monitoring_progressupdate u ON u.activity_id = a.id AND u.period_id = p.id
    LEFT JOIN (
        SELECT d.activity_id, MIN(dp.starts_on) AS finished_on
        FROM monitoring_progressupdate d JOIN monitoring_reportingperiod dp ON dp.id = d.period_id
        WHERE d.plan_id = ANY(%s) AND d.status IN ('completed', 'cancelled')
        GROUP BY d.activity_id
    ) f ON f.activity_id = a.id
    WHERE a.plan_id = ANY(%s)
    GROUP BY 1, 2, 3
"""


def seconds(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def hand_sql(ids: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(HAND_ACTIVITIES, [ids, ids, ids])
        cursor.fetchall()
        cursor.execute(HAND_PERIODS, [ids, ids])
        cursor.fetchall()


def workbook_figures() -> list[tuple[str, str]]:
    """The progress workbook upload's figures (tests/bench_monitoring_workbook.py builds its own plan): in this run,
    so that `make bench` prints every monitoring figure from one run."""
    from tests.bench_monitoring_workbook import progress_upload_bench

    return progress_upload_bench()


@pytest.mark.django_db(transaction=True)
def test_bench_monitoring(client, capsys):
    if connection.vendor != "postgresql":
        pytest.skip("the monitoring bench measures PostgreSQL: set DATABASE_URL")
    started = time.perf_counter()
    national, provinces, lead = build()
    plans = [national, *provinces]
    plan_ids = [plan.pk for plan in plans]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    built = time.perf_counter() - started
    figures: list[tuple[str, str]] = []

    # The refresh of all eleven plans in one pass (as the sweep does) and of the national plan alone (as the task
    # after a report does), each beside the same GROUP BYs written by hand; median of 3.
    def refresh(ids: list[int]) -> float:
        MonitoringState.objects.filter(plan_id__in=ids).update(changes=F("changes") + 1)
        return seconds(lambda: plans_refresh(plan_ids=ids))

    for label, ids in (("11 plans, 176,000 reports", plan_ids), ("national plan, 16,000 reports", [national.pk])):
        stored = statistics.median(refresh(ids) for _ in range(3))
        grouped = statistics.median(seconds(lambda ids=ids: hand_sql(ids)) for _ in range(3))
        rows = (
            ActivityProgressRollup.objects.filter(plan_id__in=ids).count()
            + PeriodProgressRollup.objects.filter(plan_id__in=ids).count()
        )
        figures.append((f"aggregates refresh, {label}", f"{stored * 1000:.0f} ms ({rows:,} rows stored)"))
        figures.append(("  hand-written SQL GROUP BY, same rows", f"{grouped * 1000:.0f} ms"))
        figures.append(("  refresh ÷ GROUP BY [≤ 1.5]", f"{stored / grouped:.2f}"))

    # The dashboard of the national plan, alone and with its ten provincial plans, reading the stored aggregates.
    client.force_login(lead)
    for label, scope in (("national plan alone", "plan"), ("national + 10 provincial", "provinces")):
        url = reverse("monitoring_dashboard", kwargs={"plan_id": national.pk}) + f"?scope={scope}"
        queries: list[str] = []
        with connection.execute_wrapper(
            lambda execute, sql, *args, seen=queries: seen.append(sql) or execute(sql, *args)
        ):
            response = client.get(url)
        assert response.status_code == 200
        timings = [seconds(lambda url=url: client.get(url)) for _ in range(5)]
        figures.append(
            (
                f"monitoring dashboard, {label} [< 300 ms]",
                f"{statistics.median(timings) * 1000:.0f} ms, {len(queries)} queries",
            )
        )

    figures += workbook_figures()

    with capsys.disabled():
        print(
            f"\n\nMonitoring bench (built in {built:.0f} s: 11 plans, {Activity.objects.count():,} activities, "
            f"{ProgressUpdate.objects.count():,} reports, {MEIndicator.objects.count():,} indicators)"
        )
        width = max(len(name) for name, _ in figures)
        for name, value in figures:
            print(f"  {name:<{width}}  {value}")
