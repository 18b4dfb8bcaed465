# ruff: noqa: F811  (the fixtures of tests/monitoring/progress_fixtures.py, imported by name, are arguments here)
"""Progress through the API: the same rules as the pages, and what a client sends that the API does not take."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from monitoring.models import ProgressUpdate
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
    technical_lead,
)

pytestmark = pytest.mark.django_db
FP, SL, RV, VW = Role.FOCAL_POINT, Role.SECRETARIAT_LEAD, Role.REVIEWER, Role.VIEWER


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def body(activity, period, **values) -> dict:
    return {
        "activity": activity.pk,
        "period": period.pk,
        "status": "on_track",
        "percent_complete": 30,
        "amount_spent": "250.00",
        "currency": "EUR",
        "narrative": "Curriculum drafted.",
        **values,
    }


def test_a_focal_point_creates_and_corrects_a_report(people, plan, period, moa_activity):
    client = api(people[FP])
    url = f"/api/plans/{plan.pk}/progress/"
    created = client.post(url, body(moa_activity, period), format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["amount_spent"] == "250.00" and data["amount_spent_base"] == "275.00"
    assert data["base_currency"] == "USD" and data["version"] == 1 and data["reported_by"] == people[FP].pk
    changed = client.patch(f"{url}{data['id']}/", {"percent_complete": 50, "version": 1}, format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["percent_complete"] == 50 and changed.json()["narrative"] == "Curriculum drafted."
    stale = client.patch(f"{url}{data['id']}/", {"percent_complete": 70, "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "edit_conflict"
    assert ProgressUpdate.objects.get().percent_complete == 50
    assert AuditEvent.objects.filter(target_type="progressupdate").count() == 2


def test_a_second_report_on_the_same_activity_and_period_is_a_conflict(people, plan, period, moa_activity):
    url = f"/api/plans/{plan.pk}/progress/"
    assert api(people[SL]).post(url, body(moa_activity, period), format="json").status_code == 201
    second = api(people[FP]).post(url, body(moa_activity, period, percent_complete=90), format="json")
    assert second.status_code == 409
    assert ProgressUpdate.objects.get().percent_complete == 30


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"percent_complete": 101}, "percent_complete"),
        ({"status": "completed", "percent_complete": 80}, "percent_complete"),
        ({"currency": "GBP"}, "currency"),
        ({"status": "finished"}, "status"),
        ({"colour": "green"}, "colour"),
        ({"version": 1}, "version"),
        ({"amount_spent_base": "1.00"}, "amount_spent_base"),
    ],
)
def test_bad_input_is_refused_by_field_and_nothing_is_saved(people, plan, period, moa_activity, values, field):
    response = api(people[FP]).post(
        f"/api/plans/{plan.pk}/progress/", body(moa_activity, period, **values), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not ProgressUpdate.objects.exists()


def test_a_closed_period_refuses_a_report(people, plan, closed_period, moa_activity):
    response = api(people[FP]).post(f"/api/plans/{plan.pk}/progress/", body(moa_activity, closed_period), format="json")
    assert response.status_code == 400
    assert "is closed" in str(response.json())
    assert not ProgressUpdate.objects.exists()


def test_another_organizations_activity_is_403_with_the_reason(people, plan, period, moh_activity):
    response = api(people[FP]).post(f"/api/plans/{plan.pk}/progress/", body(moh_activity, period), format="json")
    assert response.status_code == 403
    assert "your organization is responsible for" in response.json()["detail"]
    assert not ProgressUpdate.objects.exists()


def test_another_plans_activity_or_period_is_refused(people, plan, provincial_plan, period, moa_activity, moa):
    foreign_activity = Activity.objects.create(
        plan=provincial_plan, technical_area=area("P1"), title="Elsewhere", responsible_organization=moa
    )
    foreign_period = make_period(provincial_plan)
    client = api(people[SL])
    url = f"/api/plans/{plan.pk}/progress/"
    refused = client.post(url, body(foreign_activity, period), format="json")
    assert refused.status_code == 400 and "not an activity of this plan" in refused.json()["activity"][0]
    refused = client.post(url, body(moa_activity, foreign_period), format="json")
    assert refused.status_code == 400 and "not a reporting period of this plan" in refused.json()["period"][0]
    assert not ProgressUpdate.objects.exists()


def test_activity_and_period_are_set_once(people, plan, period, moa_activity, moh_activity):
    client = api(people[SL])
    created = client.post(f"/api/plans/{plan.pk}/progress/", body(moa_activity, period), format="json").json()
    moved = client.patch(
        f"/api/plans/{plan.pk}/progress/{created['id']}/", {"activity": moh_activity.pk, "version": 1}, format="json"
    )
    assert moved.status_code == 400 and "activity" in moved.json()


@pytest.mark.parametrize("role", [RV, VW])
def test_reviewers_and_viewers_read_and_filter_but_do_not_write(
    people, plan, period, closed_period, moa_activity, moh_activity, role
):
    ProgressUpdate.objects.create(plan=plan, activity=moa_activity, period=period, status="delayed", percent_complete=5)
    ProgressUpdate.objects.create(
        plan=plan, activity=moh_activity, period=period, status="on_track", percent_complete=9
    )
    ProgressUpdate.objects.create(
        plan=plan, activity=moa_activity, period=closed_period, status="on_track", percent_complete=50
    )
    client = api(people[role])
    url = f"/api/plans/{plan.pk}/progress/"
    assert client.get(url).json()["count"] == 3
    assert client.get(url, {"period": period.pk}).json()["count"] == 2
    assert client.get(url, {"activity": moa_activity.pk}).json()["count"] == 2
    assert client.get(url, {"area": area("P2").pk}).json()["count"] == 1
    assert client.get(url, {"period": "x"}).status_code == 400
    assert client.post(url, body(moa_activity, period), format="json").status_code == 403


def test_an_endorsed_plan_takes_reports_through_the_api(people, plan, period, moa_activity):
    plan.status = plan.Status.ENDORSED
    plan.save()
    response = api(people[FP]).post(f"/api/plans/{plan.pk}/progress/", body(moa_activity, period), format="json")
    assert response.status_code == 201
    assert ProgressUpdate.objects.get().amount_spent == Decimal("250.00")


def test_the_list_reads_the_same_queries_whatever_its_size(people, plan, period, moa, django_assert_max_num_queries):
    client = api(people[VW])
    url = f"/api/plans/{plan.pk}/progress/"

    def grow(count: int) -> None:
        for n in range(count):
            activity = Activity.objects.create(
                plan=plan, technical_area=area("P1"), title=f"A{n}", responsible_organization=moa
            )
            ProgressUpdate.objects.create(
                plan=plan, activity=activity, period=period, status="on_track", percent_complete=1
            )

    grow(2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    grow(30)
    with django_assert_max_num_queries(len(small)):
        assert client.get(url).status_code == 200


def test_the_schema_describes_the_progress_endpoints(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert "/api/plans/{plan_id}/progress/" in schema["paths"]
    evidence = schema["paths"]["/api/plans/{plan_id}/progress/{progress_id}/evidence/"]["post"]
    assert {"multipart/form-data", "application/json"} <= set(evidence["requestBody"]["content"])
    assert "/api/plans/{plan_id}/progress/{progress_id}/evidence/{evidence_id}/file/" in schema["paths"]
