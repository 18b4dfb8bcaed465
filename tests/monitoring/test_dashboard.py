"""The monitoring dashboard: figures worked out by hand for a small plan (statuses, spending in another currency,
overdue reports, indicators, capacity levels, 7-1-7), saying when figures are stale, the national plan with its
provincial plans, constant queries, access, the API and the Excel export."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from costing.models import FundingCommitment
from costing.rollups import plan_rollup
from monitoring.aggregates import monitoring_changed, plan_refresh, plans_refresh
from monitoring.dashboard import Scope, dashboard_get
from monitoring.job_kinds import MonitoringJob
from monitoring.models import (
    ActivityProgressRollup,
    HealthEvent,
    MEIndicator,
    MEIndicatorActual,
    MEIndicatorTarget,
    MonitoringState,
    ReportingPeriod,
)
from monitoring.progress import Report, progress_save
from monitoring.tasks import monitoring_sweep_task
from naphs.models import Job
from planning.models import Activity, Assessment, Indicator, IndicatorScore, IndicatorTarget, Plan
from planning.services import jurisdiction_create
from stakeholders.models import PlanMembership
from tests.conftest import ROLES
from tests.costing.conftest import area, costing, moa_activity, moa_line, moh_activity  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

D = Decimal


def period(plan: Plan, label: str, starts: date, ends: date, due: date) -> ReportingPeriod:
    return ReportingPeriod.objects.create(
        plan=plan, label=label, starts_on=starts, ends_on=ends, due_on=due, state=ReportingPeriod.State.OPEN
    )


def report(activity, period, by, status, percent, amount=None, currency=""):
    return progress_save(
        activity=activity,
        period=period,
        by=by,
        version=0,
        report=Report(status=status, percent_complete=percent, amount_spent=amount, currency=currency),
    )[0]


@pytest.fixture
def monitored(plan, costing, moa_line, moa_activity, moh_activity, lead, moh):  # noqa: F811
    """A costed plan with three activities, three quarters, reports, indicators, an assessment and two events.

    Activities: the MOA's in P1 (costed 250 × 3 × (2 + 1) = 2,250 USD); two of the MOH in D1, one at provincial
    level. Q1 2026 (closed, due 30 April) and Q2 2026 (open, due 30 July) are past due; Q3 (due 2099) is not.
    Q1: the MOA's on track, 30%, spent 100 USD; the first MOH one delayed, 10%. Q2: the MOA's completed, spent
    50 EUR at the 2026 rate of 1.10 = 55 USD. Spent to date 155 USD. Funding: 1,000 USD committed to P1.
    """
    moh_provincial = Activity.objects.create(
        plan=plan,
        technical_area=area("D1"),
        title="Train district laboratories",
        responsible_organization=moh,
        implementation_level="provincial",
    )
    q1 = period(plan, "2026 Q1", date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 30))
    q2 = period(plan, "2026 Q2", date(2026, 4, 1), date(2026, 6, 30), date(2026, 7, 30))
    q3 = period(plan, "2026 Q3", date(2026, 7, 1), date(2026, 9, 30), date(2099, 1, 30))
    report(moa_activity, q1, lead, "on_track", 30, D("100"), "USD")
    report(moh_activity, q1, lead, "delayed", 10)
    report(moa_activity, q2, lead, "completed", 100, D("50"), "EUR")
    ReportingPeriod.objects.filter(pk=q1.pk).update(state=ReportingPeriod.State.CLOSED)
    FundingCommitment.objects.create(
        plan=plan,
        source_organization=moh,
        source_kind="government",
        amount=D("1000"),
        currency="USD",
        first_year=2026,
        last_year=2026,
        status="committed",
        technical_area=area("P1"),
    )
    plan_rollup(plan_id=plan.pk)

    # Indicators: met (up), not met (down: a rate brought below its baseline), no value yet, no target.
    up = MEIndicator.objects.create(plan=plan, code="O1", name="Staff trained", kind="output", baseline_value=D("10"))
    MEIndicatorTarget.objects.create(indicator=up, year=2026, value=D("50"))
    MEIndicatorActual.objects.create(indicator=up, period=q1, value=D("60"))
    down = MEIndicator.objects.create(
        plan=plan,
        code="O2",
        name="Days to confirm",
        kind="outcome",
        baseline_value=D("20"),
        technical_area=area("D1"),
    )
    MEIndicatorTarget.objects.create(indicator=down, year=2026, value=D("5"))
    MEIndicatorActual.objects.create(indicator=down, period=q2, value=D("8"))
    waiting = MEIndicator.objects.create(plan=plan, code="O3", name="Exercises held", kind="output")
    MEIndicatorTarget.objects.create(indicator=waiting, year=2026, value=D("2"))
    MEIndicator.objects.create(plan=plan, code="O4", name="Cases", kind="impact")
    # Capacity: P1.1 assessed 2, targeted 4 (not met); P1.2 assessed 3, targeted 3.
    p11, p12 = (Indicator.objects.get(framework__code="JEE3", code=code) for code in ("P1.1", "P1.2"))
    assessment = Assessment.objects.create(plan=plan, framework=plan.framework, kind="jee", date=date(2025, 6, 1))
    IndicatorScore.objects.create(assessment=assessment, indicator=p11, score=2)
    IndicatorScore.objects.create(assessment=assessment, indicator=p12, score=3)
    IndicatorTarget.objects.create(plan=plan, indicator=p11, level=4)
    IndicatorTarget.objects.create(plan=plan, indicator=p12, level=3)
    MEIndicator.objects.create(plan=plan, code="C1", name="Legal instruments", kind="capacity", capacity_indicator=p11)

    # 7-1-7: one event meets all three targets; one is detected late (14 days), notified the same day, and waits
    # for its response.
    HealthEvent.objects.create(
        plan=plan,
        name="Cholera",
        emerged_on=date(2026, 1, 1),
        detected_on=date(2026, 1, 8),
        notified_on=date(2026, 1, 9),
        responded_on=date(2026, 1, 16),
    )
    HealthEvent.objects.create(
        plan=plan,
        name="Anthrax",
        emerged_on=date(2026, 2, 1),
        detected_on=date(2026, 2, 15),
        notified_on=date(2026, 2, 15),
    )
    monitoring_changed(plan.pk)
    assert plan_refresh(plan_id=plan.pk)
    plan.test_objects = {"q1": q1, "q2": q2, "q3": q3, "moh_provincial": moh_provincial}
    return plan


def counts(row) -> dict[str, int]:
    return {status: count for status, count in row.counts.items() if count}


# --- Figures ---------------------------------------------------------------------------------------------------


def test_activities_are_counted_by_their_latest_status_per_area_organization_and_level(monitored):
    dashboard = dashboard_get(plan=monitored)

    assert counts(dashboard.totals) == {"completed": 1, "delayed": 1, "": 1}
    assert dashboard.totals.total == 3
    assert dashboard.totals.on_track_percent == 33  # completed, of three not cancelled
    assert dashboard.totals.mean_percent == 55  # (100 + 10) / 2 reported
    assert {row.key: counts(row) for row in dashboard.by_area} == {
        "P1": {"completed": 1},
        "D1": {"delayed": 1, "": 1},
    }
    assert [row.key for row in dashboard.by_area] == ["P1", "D1"]  # the framework's order
    assert {row.label: counts(row) for row in dashboard.by_organization} == {
        "Ministry of Agriculture (MOA)": {"completed": 1},
        "Ministry of Health (MOH)": {"delayed": 1, "": 1},
    }
    assert {row.key: row.total for row in dashboard.by_level} == {"national": 2, "provincial": 1}
    bar = dashboard.by_area[1].segments
    assert [(s.status, s.x, s.width) for s in bar] == [("delayed", 0, 50), ("not_reported", 50, 50)]


def test_spending_is_converted_summed_to_date_and_set_against_budget_and_funding(monitored):
    dashboard = dashboard_get(plan=monitored)

    assert dashboard.totals.spent == D("155.00")  # 100 USD + 50 EUR × 1.10
    assert (dashboard.budget, dashboard.funded) == (D("2250.00"), D("1000.00"))
    assert dashboard.spent_percent == 7  # 155 of 2,250
    p1 = dashboard.by_area[0]
    assert (p1.spent, p1.budget, p1.funded) == (D("155.00"), D("2250.00"), D("1000.00"))
    assert [(row.label, row.spent, row.cumulative) for row in dashboard.periods] == [
        ("2026 Q1", D("100.00"), D("100.00")),
        ("2026 Q2", D("55.00"), D("155.00")),
        ("2026 Q3", D("0"), D("155.00")),
    ]


def test_overdue_reports_count_what_is_missing_in_periods_past_due_per_organization(monitored):
    dashboard = dashboard_get(plan=monitored)

    # Q1: 3 expected, 2 reported; Q2: 3 expected (the MOA's finished in Q2 itself), 1 reported; Q3: the finished
    # activity is no longer expected, and the period is not due yet.
    assert [(r.label, r.expected, r.reported, r.unreported, r.overdue) for r in dashboard.periods] == [
        ("2026 Q1", 3, 2, 1, True),
        ("2026 Q2", 3, 1, 2, True),
        ("2026 Q3", 2, 0, 2, False),
    ]
    assert [(row.label, row.overdue) for row in dashboard.overdue] == [("Ministry of Health (MOH)", 3)]


def test_indicators_stand_against_their_targets_and_capacity_against_its_levels(monitored):
    dashboard = dashboard_get(plan=monitored)

    assert {row.key: counts(row) for row in dashboard.indicators} == {
        "output": {"met": 1, "no_data": 1},
        "outcome": {"not_met": 1},  # 8 days, for a target of 5 below a baseline of 20
        "impact": {"no_target": 1},
        "capacity": {"not_met": 1},  # level 2 against a target of 4
    }
    assert counts(dashboard.indicator_totals) == {"met": 1, "not_met": 2, "no_data": 1, "no_target": 1}
    assert {row.label: row.total for row in dashboard.indicators_by_area}["The whole plan"] == 4
    [p1] = dashboard.capacity
    assert (p1.code, p1.baseline, p1.latest, p1.target) == ("P1", D("2.5"), D("2.5"), D("3.5"))
    assert p1.bars == {"baseline": 50, "latest": 50, "target": 70}


def test_seven_one_seven_counts_each_target_met_missed_or_pending(monitored):
    dashboard = dashboard_get(plan=monitored)

    assert [(row.stage, row.met, row.missed, row.pending) for row in dashboard.timeliness] == [
        ("detection", 1, 1, 0),  # 7 days exactly is met; 14 is not
        ("notification", 2, 0, 0),
        ("response", 1, 0, 1),
    ]
    assert (dashboard.events, dashboard.events_all_met) == (2, 1)


def test_the_page_shows_the_figures_and_charts(client, monitored, people):
    client.force_login(people["viewer"])

    response = client.get(f"/plans/{monitored.pk}/monitoring/dashboard/")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-figure="activities">3<' in page
    assert 'data-figure="on-track">33%<' in page
    assert 'data-figure="spent">155.00<' in page
    assert 'data-figure="budget">2,250.00<' in page
    assert 'data-figure="overdue">2<' in page
    assert 'class="progress-delayed" x="0%" width="50%"' in page  # a stacked bar, widths as SVG attributes
    assert "Ministry of Health (MOH)" in page and "Detection (7 days)" in page
    assert "style=" not in page.split('id="monitoring-dashboard"')[1]  # CSP: no inline style
    assert "being recomputed" not in page
    assert f'href="/plans/{monitored.pk}/monitoring/dashboard/"' in page  # the navigation's entry


def test_a_plan_with_nothing_to_monitor_says_so(client, plan, people):
    client.force_login(people["focal_point"])

    page = client.get(f"/plans/{plan.pk}/monitoring/dashboard/").content.decode()

    assert "Nothing to monitor yet" in page
    assert not MonitoringState.objects.exists(), "reading the dashboard creates nothing"


# --- Staleness and the refresh ------------------------------------------------------------------------------------


def test_a_report_shows_the_recomputing_banner_until_the_refresh_has_run(client, monitored, people, lead):
    client.force_login(people["reviewer"])
    q2, activity = monitored.test_objects["q2"], monitored.test_objects["moh_provincial"]

    report(activity, q2, lead, "at_risk", 5)

    page = client.get(f"/plans/{monitored.pk}/monitoring/dashboard/").content.decode()
    assert "The figures are being recomputed (1 change since" in page
    assert 'hx-trigger="every 2s"' in page
    assert 'data-figure="activities">3<' in page  # the stored figures, said to be stale
    url = f"/plans/{monitored.pk}/monitoring/dashboard/status/?scope=plan"
    fragment = client.get(url, HTTP_HX_REQUEST="true")
    assert "being recomputed" in fragment.content.decode() and "HX-Retarget" not in fragment.headers

    assert plan_refresh(plan_id=monitored.pk)

    fragment = client.get(url, HTTP_HX_REQUEST="true")
    assert fragment.headers["HX-Retarget"] == "#monitoring-dashboard"
    assert "being recomputed" not in fragment.content.decode()
    assert counts(dashboard_get(plan=monitored).totals) == {"completed": 1, "delayed": 1, "at_risk": 1}


def test_a_burst_of_reports_queues_one_refresh_after_commit(monitored, lead, django_capture_on_commit_callbacks):
    q2 = monitored.test_objects["q2"]
    activities = [monitored.test_objects["moh_provincial"], *monitored.activities.filter(title__startswith="Equip")]
    with django_capture_on_commit_callbacks() as callbacks:
        for activity in activities:
            report(activity, q2, lead, "on_track", 50)
    assert len(callbacks) == 1  # one task queued for the burst
    state = MonitoringState.objects.get(plan=monitored)
    assert (state.queued, state.changes - state.aggregates_of) == (True, 2)

    for callback in callbacks:  # the task, run eagerly
        callback()

    state.refresh_from_db()
    assert state.current and not state.queued
    assert dashboard_get(plan=monitored).totals.counts["on_track"] == 2


def test_the_sweep_refreshes_plans_left_stale(monitored):
    assert monitoring_sweep_task() == []
    monitoring_changed(monitored.pk)
    assert monitoring_sweep_task() == []  # stale for less than a minute: its own refresh is on its way
    MonitoringState.objects.filter(plan=monitored).update(computed_at=timezone.now() - timedelta(minutes=5))
    assert monitoring_sweep_task() == [monitored.pk]
    assert MonitoringState.objects.get(plan=monitored).current


# --- The national plan with its provincial plans ------------------------------------------------------------------


def _provincial(plan: Plan, name: str, lead, *, reports: int = 1, activities: int = 1) -> Plan:
    province = jurisdiction_create(level="province", name=name, parent=plan.jurisdiction)
    child = Plan.objects.create(
        jurisdiction=province,
        framework=plan.framework,
        title=f"{name} plan",
        kind="strategic",
        first_year=2026,
        last_year=2030,
        parent=plan,
    )
    quarter = period(child, "2026 Q1", date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 30))
    made = Activity.objects.bulk_create(
        Activity(plan=child, technical_area=area("P1"), title=f"{name} {n}") for n in range(activities)
    )
    for activity in made[:reports]:
        activity.plan = child
        report(activity, quarter, lead, "at_risk", 20, D("10"), "USD")
    plans_refresh(plan_ids=[child.pk])
    return child


def test_the_national_figures_include_the_provincial_plans(client, monitored, people, lead):
    north = _provincial(monitored, "North", lead)
    _provincial(monitored, "South", lead, reports=0)
    PlanMembership.objects.create(plan=north, user=people["viewer"], role="viewer")

    national = dashboard_get(plan=monitored, scope=Scope.PROVINCES)

    assert counts(national.totals) == {"completed": 1, "delayed": 1, "at_risk": 1, "": 2}
    assert national.totals.spent == D("165.00")
    assert [row.label for row in national.by_plan] == [monitored.title, "North plan", "South plan"]
    assert national.periods[0].expected == 5 and national.periods[0].unreported == 2
    assert dashboard_get(plan=monitored).totals.total == 3  # this plan alone

    client.force_login(people["viewer"])
    page = client.get(f"/plans/{monitored.pk}/monitoring/dashboard/?scope=provinces").content.decode()
    assert 'data-figure="activities">5<' in page
    assert 'aria-current="true">With its provincial plans<' in page
    assert "Activities by status and plan" in page
    page = client.get(f"/plans/{monitored.pk}/monitoring/dashboard/").content.decode()
    assert "2 provincial plans under this one" in page


def test_the_page_runs_as_many_queries_for_eleven_large_plans_as_for_one_small(client, monitored, people, lead):
    client.force_login(people["viewer"])
    url = f"/plans/{monitored.pk}/monitoring/dashboard/?scope=provinces"
    client.get(url)

    with CaptureQueriesContext(connection) as alone:
        assert client.get(url).status_code == 200
    for number in range(10):
        _provincial(monitored, f"Province {number}", lead, reports=3, activities=20)
    with CaptureQueriesContext(connection) as eleven:
        response = client.get(url)

    assert 'data-figure="activities">203<' in response.content.decode()
    assert len(eleven) == len(alone) <= 16, [query["sql"] for query in eleven.captured_queries]
    with CaptureQueriesContext(connection) as api:
        assert client.get(f"/api/plans/{monitored.pk}/monitoring-dashboard/?scope=provinces").status_code == 200
    assert len(api) <= 14


def test_polling_while_figures_are_recomputed_costs_three_queries(client, monitored, people, django_assert_num_queries):
    client.force_login(people["viewer"])
    client.get(f"/plans/{monitored.pk}/monitoring/dashboard/")
    monitoring_changed(monitored.pk)
    with django_assert_num_queries(3):
        response = client.get(f"/plans/{monitored.pk}/monitoring/dashboard/status/?scope=provinces")
    assert "being recomputed" in response.content.decode()


# --- Access --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_member_reads_the_dashboard(client, monitored, people, role):
    client.force_login(people[role])
    assert client.get(f"/plans/{monitored.pk}/monitoring/dashboard/").status_code == 200
    assert client.get(f"/plans/{monitored.pk}/monitoring/dashboard/status/").status_code == 200
    assert client.get(f"/api/plans/{monitored.pk}/monitoring-dashboard/").status_code == 200


def test_someone_outside_the_plan_learns_nothing(client, monitored, people):
    client.force_login(people["outsider"])
    assert client.get(f"/plans/{monitored.pk}/monitoring/dashboard/").status_code == 404
    assert client.get(f"/plans/{monitored.pk}/monitoring/dashboard/status/").status_code == 404
    assert client.post(f"/plans/{monitored.pk}/monitoring/dashboard/export/").status_code == 404
    assert client.get(f"/api/plans/{monitored.pk}/monitoring-dashboard/").status_code == 404
    assert client.post(f"/api/plans/{monitored.pk}/monitoring-dashboard/export/").status_code == 404
    assert not Job.objects.exists()


def test_a_provincial_member_does_not_see_the_national_figures(client, monitored, people, lead):
    north = _provincial(monitored, "North", lead)
    member = PlanMembership.objects.create(plan=north, user=people["outsider"], role="viewer").user
    client.force_login(member)
    assert client.get(f"/plans/{north.pk}/monitoring/dashboard/").status_code == 200
    assert client.get(f"/plans/{monitored.pk}/monitoring/dashboard/").status_code == 404
    assert client.get(f"/api/plans/{monitored.pk}/monitoring-dashboard/?scope=provinces").status_code == 404


# --- API --------------------------------------------------------------------------------------------------------------


def test_the_api_gives_the_figures_with_amounts_as_strings(client, monitored, people):
    client.force_login(people["focal_point"])

    data = client.get(f"/api/plans/{monitored.pk}/monitoring-dashboard/").json()

    assert (data["plan"], data["currency"], data["scope"]) == (monitored.pk, "USD", "plan")
    assert data["state"]["current"] is True and data["state"]["pending_changes"] == 0
    assert data["totals"]["activities"] == 3 and data["totals"]["on_track_percent"] == 33
    assert data["totals"]["spent"] == "155.00" and data["budget"] == "2250.00" and data["funded"] == "1000.00"
    assert data["totals"]["by_status"] == {
        "not_started": 0,
        "on_track": 0,
        "delayed": 1,
        "at_risk": 0,
        "completed": 1,
        "cancelled": 0,
        "not_reported": 1,
    }
    assert [row["key"] for row in data["by_area"]] == ["P1", "D1"]
    assert data["periods"][1] == {
        "label": "2026 Q2",
        "due_on": "2026-07-30",
        "state": "open",
        "expected": 3,
        "reported": 1,
        "unreported": 2,
        "spent": "55.00",
        "spent_to_date": "155.00",
        "overdue": True,
    }
    assert data["overdue"] == [{"organization": "Ministry of Health (MOH)", "reports_missing": 3}]
    assert data["timeliness"][0] == {"stage": "detection", "days": 7, "met": 1, "missed": 1, "pending": 0}
    assert data["capacity"][0]["code"] == "P1" and data["capacity"][0]["target"] == "3.5"
    assert {row["key"]: row["met"] for row in data["indicators"]} == {
        "output": 1,
        "outcome": 0,
        "impact": 0,
        "capacity": 0,
    }


def test_the_api_refuses_an_unknown_scope(client, monitored, people):
    client.force_login(people["viewer"])
    response = client.get(f"/api/plans/{monitored.pk}/monitoring-dashboard/?scope=world")
    assert response.status_code == 400 and set(response.json()) == {"scope"}
    response = client.post(
        f"/api/plans/{monitored.pk}/monitoring-dashboard/export/",
        {"scope": "plan", "colour": "red"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "colour" in response.json()
    assert not Job.objects.exists()


# --- Export --------------------------------------------------------------------------------------------------------


def _sheet(workbook, title: str) -> list[tuple]:
    return list(workbook[title].iter_rows(min_row=2, values_only=True))


def test_the_export_writes_one_sheet_per_table(client, monitored, people, django_capture_on_commit_callbacks):
    client.force_login(people["viewer"])  # any member may export

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/plans/{monitored.pk}/monitoring-dashboard/export/",
            {"scope": "plan"},
            content_type="application/json",
        )

    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.kind, job.params) == (MonitoringJob.MONITORING_DASHBOARD_EXPORT, {"scope": "plan"})
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result_name.endswith("-monitoring.xlsx")
    workbook = load_workbook(job.result.path)
    assert workbook.sheetnames == [
        "Summary",
        "By area",
        "By organization",
        "By level",
        "By plan",
        "Periods",
        "Overdue reports",
        "Indicators",
        "Indicators by type",
        "Capacity levels",
        "7-1-7",
    ]
    summary = dict(_sheet(workbook, "Summary"))
    assert (summary["Activities"], summary["On track (%)"], summary["Spent to date (USD)"]) == (3, 33, 155)
    assert summary["State of the figures"] == "Current"
    by_area = _sheet(workbook, "By area")
    assert by_area[0][0].startswith("P1 ") and by_area[0][-2:] == (155, 2250)
    assert _sheet(workbook, "Overdue reports") == [("Ministry of Health (MOH)", 3)]
    indicators = {row[1]: row[-1] for row in _sheet(workbook, "Indicators")}
    assert indicators == {
        "C1": "Target not met",
        "O1": "Target met",
        "O2": "Target not met",
        "O3": "No value yet",
        "O4": "No target",
    }
    assert _sheet(workbook, "7-1-7")[0] == ("Detection (7 days)", 1, 1, 0, 50)


def test_the_page_button_exports_what_is_shown_in_the_persons_language(client, monitored, people, lead):
    _provincial(monitored, "North", lead)
    client.force_login(people["reviewer"])
    page = client.get(f"/plans/{monitored.pk}/monitoring/dashboard/?scope=provinces").content.decode()
    assert f'hx-post="/plans/{monitored.pk}/monitoring/dashboard/export/"' in page
    assert '<input type="hidden" name="scope" value="provinces">' in page

    response = client.post(
        f"/plans/{monitored.pk}/monitoring/dashboard/export/", {"scope": "provinces"}, HTTP_HX_REQUEST="true"
    )

    job = Job.objects.get()
    assert response.status_code == 200 and f'id="job-{job.pk}"' in response.content.decode()
    assert job.params == {"scope": "provinces"}


def test_the_stored_rows_leave_the_database_only_as_sums(monitored):
    # One row per area, organization, level and latest status: three activities fall in three rows.
    assert ActivityProgressRollup.objects.filter(plan=monitored).count() == 3
