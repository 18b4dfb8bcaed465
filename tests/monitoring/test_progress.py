# ruff: noqa: F811  (the fixtures of tests/monitoring/progress_fixtures.py, imported by name, are arguments here)
"""Reporting progress in the browser: a period's page lists the activities a person reports on, each reported or
corrected in place while the period is open, refused with a clear message otherwise; readers read."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from monitoring.models import ProgressUpdate, ReportingPeriod
from monitoring.progress import Report, progress_save
from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.models import Activity
from tests.monitoring.progress_fixtures import (  # noqa: F401  (fixtures)
    area,
    closed_period,
    make_period,
    moa_activity,
    moh_activity,
    period,
    rates,
    report_form,
    technical_lead,
)

pytestmark = pytest.mark.django_db
FP, TL, SL, RV, VW = Role.FOCAL_POINT, Role.TECHNICAL_LEAD, Role.SECRETARIAT_LEAD, Role.REVIEWER, Role.VIEWER


def period_url(plan, period) -> str:
    return reverse("progress_period", kwargs={"plan_id": plan.pk, "period_id": period.pk})


def report_url(plan, activity, period) -> str:
    return reverse("progress_report", kwargs={"plan_id": plan.pk, "activity_id": activity.pk, "period_id": period.pk})


def test_a_focal_point_sees_their_organizations_activities_and_reports_on_one(
    client, people, plan, period, moa_activity, moh_activity
):
    client.force_login(people[FP])
    page = client.get(period_url(plan, period))
    assert page.status_code == 200
    assert moa_activity.title in page.text and moh_activity.title not in page.text
    response = client.post(report_url(plan, moa_activity, period), report_form(currency="EUR"))
    assert response.status_code == 302
    report = ProgressUpdate.objects.get(activity=moa_activity, period=period)
    assert (report.status, report.percent_complete, report.amount_spent) == ("on_track", 40, Decimal("1200.50"))
    assert report.amount_spent_base == Decimal("1320.55")  # euros at 1.10 in 2026
    assert report.reported_by == people[FP]
    event = AuditEvent.objects.get(target_type="progressupdate", target_id=report.pk)
    assert event.action == "created" and event.actor == people[FP]
    page = client.get(period_url(plan, period))
    assert "1,320.55 USD" in page.text or "1320.55 USD" in page.text


def test_the_inline_editor_saves_and_answers_with_the_row(client, people, plan, period, moa_activity):
    client.force_login(people[FP])
    url = report_url(plan, moa_activity, period)
    editor = client.get(url, headers={"HX-Request": "true"})
    assert editor.status_code == 200 and 'name="percent_complete"' in editor.text and "<tr" in editor.text
    saved = client.post(url, report_form(percent_complete="55"), headers={"HX-Request": "true"})
    assert saved.status_code == 200
    assert f'id="progress-{moa_activity.pk}"' in saved.text and "55%" in saved.text
    report = ProgressUpdate.objects.get(activity=moa_activity)
    corrected = client.post(
        url, report_form(version=report.version, percent_complete="60"), headers={"HX-Request": "true"}
    )
    assert corrected.status_code == 200 and "60%" in corrected.text
    assert ProgressUpdate.objects.get(activity=moa_activity).percent_complete == 60


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"percent_complete": "120"}, "percent_complete", "Percent complete is a whole number from 0 to 100."),
        ({"status": "completed", "percent_complete": "90"}, "percent_complete", "A completed activity is 100%"),
        ({"currency": "GBP"}, "currency", "No exchange rate from GBP to USD for 2026"),
        ({"amount_spent": "-5"}, "amount_spent", "An amount spent cannot be negative."),
    ],
)
def test_a_refused_value_comes_back_beside_its_field_and_nothing_is_saved(
    client, people, plan, period, moa_activity, values, field, message
):
    client.force_login(people[FP])
    response = client.post(report_url(plan, moa_activity, period), report_form(**values))
    assert response.status_code == 422
    assert message in response.context["form"].errors[field][0]
    assert not ProgressUpdate.objects.exists()
    assert not AuditEvent.objects.filter(target_type="progressupdate").exists()


def test_a_closed_period_shows_reports_read_only_with_the_reason_and_refuses_a_report(
    client, people, plan, closed_period, moa_activity
):
    ProgressUpdate.objects.create(
        plan=plan, activity=moa_activity, period=closed_period, status="delayed", percent_complete=10
    )
    client.force_login(people[FP])
    page = client.get(period_url(plan, closed_period))
    assert page.status_code == 200
    assert "is closed" in page.text and "Delayed" in page.text
    assert 'hx-get="' + report_url(plan, moa_activity, closed_period) not in page.text  # no editor offered
    report = ProgressUpdate.objects.get()
    response = client.post(report_url(plan, moa_activity, closed_period), report_form(version=report.version))
    assert response.status_code == 422
    assert "is closed: reports for it are no longer taken" in response.text
    report.refresh_from_db()
    assert report.percent_complete == 10


def test_a_planned_period_is_not_open_yet(client, people, plan, rates, moa_activity):
    planned = make_period(plan, label="2026 Q3", month=7, state=ReportingPeriod.State.PLANNED)
    client.force_login(people[FP])
    response = client.post(report_url(plan, moa_activity, planned), report_form())
    assert response.status_code == 422 and "is not open yet" in response.text
    assert not ProgressUpdate.objects.exists()


def test_a_focal_point_may_not_report_on_another_organizations_activity(client, people, plan, period, moh_activity):
    client.force_login(people[FP])
    response = client.post(report_url(plan, moh_activity, period), report_form())
    assert response.status_code == 403
    assert "activities your organization is responsible for" in response.text
    assert not ProgressUpdate.objects.exists()


def test_a_technical_lead_reports_on_their_areas_only(
    client, people, plan, period, moa_activity, moh_activity, technical_lead
):
    client.force_login(technical_lead)
    page = client.get(period_url(plan, period))
    assert moa_activity.title in page.text and moh_activity.title not in page.text
    assert client.post(report_url(plan, moa_activity, period), report_form()).status_code == 302
    refused = client.post(report_url(plan, moh_activity, period), report_form())
    assert refused.status_code == 403 and "your own technical areas only" in refused.text
    assert ProgressUpdate.objects.filter(activity=moh_activity).count() == 0


@pytest.mark.parametrize("role", [RV, VW])
def test_reviewers_and_viewers_read_every_report_and_report_nothing(
    client, people, plan, period, moa_activity, moh_activity, role
):
    ProgressUpdate.objects.create(plan=plan, activity=moh_activity, period=period, status="at_risk", percent_complete=5)
    client.force_login(people[role])
    page = client.get(period_url(plan, period))
    assert page.status_code == 200
    assert moa_activity.title in page.text and moh_activity.title in page.text and "At risk" in page.text
    assert "Report progress on" not in page.text
    assert client.post(report_url(plan, moa_activity, period), report_form()).status_code == 403
    assert client.get(report_url(plan, moh_activity, period)).status_code == 200


def test_an_outsider_and_another_plans_period_get_404(client, people, plan, provincial_plan, period, moa_activity):
    client.force_login(people["outsider"])
    assert client.get(period_url(plan, period)).status_code == 404
    client.force_login(people[SL])
    other = make_period(provincial_plan)
    assert client.get(period_url(plan, other)).status_code == 404
    assert client.post(report_url(plan, moa_activity, other), report_form()).status_code == 404


def test_two_reports_from_version_0_one_wins_the_other_sees_a_conflict_with_both_reports(
    client, people, plan, period, moa_activity
):
    progress_save(
        activity=moa_activity,
        period=period,
        by=people[SL],
        version=0,
        report=Report(status="delayed", percent_complete=20, narrative="The venue was not available."),
    )
    client.force_login(people[FP])
    response = client.post(
        report_url(plan, moa_activity, period),
        report_form(percent_complete="45", narrative="Three trainings held."),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 409
    assert "someone else changed it" in response.text
    assert "The venue was not available." in response.text  # theirs
    assert "Three trainings held." in response.text  # mine, kept in the form
    stored = ProgressUpdate.objects.get()
    assert (stored.percent_complete, stored.reported_by) == (20, people[SL])
    assert f'name="version" value="{stored.version}"' in response.text  # saving again replaces it knowingly


def test_an_endorsed_plan_still_takes_progress_reports(client, people, plan, period, moa_activity):
    plan.status = plan.Status.ENDORSED
    plan.save()
    client.force_login(people[FP])
    assert client.post(report_url(plan, moa_activity, period), report_form()).status_code == 302
    assert ProgressUpdate.objects.filter(activity=moa_activity).exists()


def test_the_list_filters_by_area_organization_and_status(
    client, people, plan, period, moa_activity, moh_activity, moa
):
    ProgressUpdate.objects.create(plan=plan, activity=moh_activity, period=period, status="delayed", percent_complete=5)
    client.force_login(people[SL])
    url = period_url(plan, period)
    assert moh_activity.title not in client.get(url, {"area": area("P1").pk}).text
    assert moh_activity.title not in client.get(url, {"organization": moa.pk}).text
    not_reported = client.get(url, {"status": "none"}).text
    assert moa_activity.title in not_reported and moh_activity.title not in not_reported
    delayed = client.get(url, {"status": "delayed"}, headers={"HX-Request": "true"}).text
    assert moa_activity.title not in delayed and moh_activity.title in delayed


def _activities(plan, moa, count: int) -> None:
    Activity.objects.bulk_create(
        Activity(
            plan=plan, technical_area=area("P1" if n % 2 else "P2"), title=f"Activity {n}", responsible_organization=moa
        )
        for n in range(count)
    )


@pytest.mark.parametrize("role", [SL, FP, TL])
def test_the_period_page_runs_the_same_queries_whatever_the_number_of_activities(
    client, people, plan, period, moa, technical_lead, django_assert_max_num_queries, role
):
    client.force_login(people[role])
    url = period_url(plan, period)
    _activities(plan, moa, 3)
    for activity in Activity.objects.filter(plan=plan):
        ProgressUpdate.objects.create(
            plan=plan, activity=activity, period=period, status="on_track", percent_complete=5
        )
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _activities(plan, moa, 80)
    for activity in Activity.objects.filter(plan=plan, progress_updates__isnull=True):
        ProgressUpdate.objects.create(plan=plan, activity=activity, period=period, status="delayed", percent_complete=9)
    with django_assert_max_num_queries(len(small)):
        assert client.get(url).status_code == 200


def test_an_activitys_history_shows_every_period_and_its_page_links_to_it(
    client, people, plan, period, closed_period, moa_activity
):
    ProgressUpdate.objects.create(
        plan=plan, activity=moa_activity, period=closed_period, status="delayed", percent_complete=10
    )
    ProgressUpdate.objects.create(
        plan=plan, activity=moa_activity, period=period, status="on_track", percent_complete=35
    )
    client.force_login(people[VW])
    url = reverse("activity_progress", kwargs={"plan_id": plan.pk, "activity_id": moa_activity.pk})
    page = client.get(url)
    assert page.status_code == 200
    assert page.text.index("2026 Q1") < page.text.index("2026 Q2")
    assert "10%" in page.text and "35%" in page.text
    detail = client.get(reverse("activity_detail", kwargs={"plan_id": plan.pk, "activity_id": moa_activity.pk}))
    assert url in detail.text and "Delayed, 10% (2026 Q2)" in detail.text
