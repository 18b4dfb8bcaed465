"""The capacity progress page and API: what every member reads, the follow-up the secretariat records there, the
choice of follow-up, bad input, the export, and a constant number of queries whatever the plan's size."""

from __future__ import annotations

import datetime
import io

import pytest
from openpyxl import load_workbook

from monitoring.job_kinds import MonitoringJob
from naphs.models import Job
from planning.models import Activity, Assessment, Framework, Indicator, Plan, TechnicalArea
from tests.monitoring.test_reassessment import FOLLOW_UP, assess, endorse, indicator

pytestmark = pytest.mark.django_db


@pytest.fixture
def levels(plan, lead):
    baseline = assess(plan, lead, {"P1.1": 2, "P1.2": 3}, date="2024-05-01")
    from planning.targets import target_set

    target_set(plan=plan, by=lead, indicator=indicator("P1.1"), level=3, justification="Agreed")
    first = assess(plan, lead, {"P1.1": 3}, date="2025-05-01", purpose=FOLLOW_UP)
    second = assess(plan, lead, {"P1.1": 2, "P1.2": 4}, date="2026-05-01", purpose=FOLLOW_UP)
    return baseline, first, second


def test_every_member_reads_the_capacity_progress_and_an_outsider_gets_404(client, plan, people, levels):
    url = f"/plans/{plan.pk}/monitoring/capacity/"
    for persona in ("secretariat_lead", "technical_lead", "focal_point", "reviewer", "viewer"):
        client.force_login(people[persona])
        page = client.get(url)
        assert page.status_code == 200, persona
        assert ('id="follow-up"' in page.content.decode()) == (persona == "secretariat_lead"), persona
    client.force_login(people["outsider"])
    assert client.get(url).status_code == 404


def test_the_page_compares_with_the_latest_follow_up_unless_another_is_chosen(client, plan, lead, levels):
    baseline, first, _second = levels
    client.force_login(lead)
    row = _row(client.get(f"/plans/{plan.pk}/monitoring/capacity/"), "P1.1")
    assert "no change" in row and "not yet" in row  # 2 → 2, target 3
    row = _row(client.get(f"/plans/{plan.pk}/monitoring/capacity/?assessment={first.pk}"), "P1.1")
    assert "up 1" in row and "reached" in row
    row = _row(client.get(f"/plans/{plan.pk}/monitoring/capacity/?assessment={first.pk}"), "P1.2")
    assert "not re-assessed" in row
    for bad in (str(baseline.pk), "abc", "10000000"):
        assert client.get(f"/plans/{plan.pk}/monitoring/capacity/?assessment={bad}").status_code == 404, bad


def _row(response, code: str) -> str:
    page = response.content.decode()
    start = page.index(f'id="indicator-{indicator(code).pk}"')
    return page[start : page.index("</tr>", start)]


def test_the_secretariat_records_a_follow_up_on_an_endorsed_plan_and_bad_input_comes_back_422(client, plan, lead):
    endorse(plan)
    client.force_login(lead)
    url = f"/plans/{plan.pk}/monitoring/capacity/assessments/new/"
    refused = client.post(url, {"framework": Framework.objects.get(code="JEE3").pk, "kind": "jee", "date": ""})
    assert refused.status_code == 422 and "This field is required" in refused.content.decode()
    assert not Assessment.objects.filter(plan=plan).exists()
    saved = client.post(url, {"framework": Framework.objects.get(code="JEE3").pk, "kind": "self", "date": "2026-02-01"})
    assessment = Assessment.objects.get(plan=plan)
    assert saved.status_code == 302 and assessment.is_follow_up and assessment.kind == "self"


def test_the_api_gives_the_figures_and_refuses_an_assessment_that_is_no_follow_up(api_client, plan, people, levels):
    baseline, first, second = levels
    api_client.force_authenticate(people["viewer"])
    data = api_client.get(f"/api/plans/{plan.pk}/capacity-progress/").json()
    assert data["compared"]["id"] == second.pk and [f["id"] for f in data["follow_ups"]] == [second.pk, first.pk]
    p1 = next(area for area in data["areas"] if area["code"] == "P1")
    p11 = next(row for row in p1["indicators"] if row["code"] == "P1.1")
    assert (p11["baseline"]["level"], p11["target"], p11["latest"]["level"]) == (2, 3, 2)
    assert p11["latest"]["purpose"] == "follow_up" and p11["direction"] == "none" and p11["reached"] is False
    data = api_client.get(f"/api/plans/{plan.pk}/capacity-progress/?assessment={first.pk}").json()
    assert data["reached"] == 1 and data["improved"] == 1
    refused = api_client.get(f"/api/plans/{plan.pk}/capacity-progress/?assessment={baseline.pk}")
    assert refused.status_code == 400 and "assessment" in refused.json()
    refused = api_client.post(f"/api/plans/{plan.pk}/capacity-progress/export/", {"colour": "red"}, format="json")
    assert refused.status_code == 400 and "colour" in refused.json()
    api_client.force_authenticate(people["outsider"])
    assert api_client.get(f"/api/plans/{plan.pk}/capacity-progress/").status_code == 404


def test_the_export_writes_the_areas_and_indicators_in_a_workbook(
    client, plan, people, levels, django_capture_on_commit_callbacks
):
    _baseline, first, _second = levels
    client.force_login(people["focal_point"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/plans/{plan.pk}/monitoring/capacity/export/", {"assessment": first.pk})
    assert response.status_code == 302
    job = Job.objects.get(kind=MonitoringJob.CAPACITY_PROGRESS_EXPORT)
    assert job.status == Job.Status.SUCCEEDED, job.message
    workbook = load_workbook(io.BytesIO(job.result.read()))
    assert workbook.sheetnames == ["Summary", "By area", "By indicator"]
    rows = {row[0]: row for row in workbook["By indicator"].iter_rows(min_row=2, values_only=True)}
    assert rows["P1.1"][2] == 2 and rows["P1.1"][5] == 3 and rows["P1.1"][6] == 3 and rows["P1.1"][11] == "yes"


def _grow(plan: Plan, lead, count: int) -> None:
    area = TechnicalArea.objects.get(framework__code="JEE3", code="P1")
    indicators = list(Indicator.objects.filter(framework__code="JEE3")[:10])
    for number in range(count):
        activity = Activity.objects.create(plan=plan, technical_area=area, title=f"Activity {number}")
        activity.indicators.set(indicators[: number % 5 + 1])
    assess(plan, lead, {i.code: 3 for i in indicators}, date=f"{2020 + count % 5}-01-01", purpose=FOLLOW_UP)


def test_the_page_and_the_api_run_a_constant_number_of_queries(
    client, api_client, plan, lead, levels, django_assert_max_num_queries
):
    client.force_login(lead)
    api_client.force_authenticate(lead)
    for count in (2, 30):
        _grow(plan, lead, count)
        with django_assert_max_num_queries(22):
            assert client.get(f"/plans/{plan.pk}/monitoring/capacity/").status_code == 200
        with django_assert_max_num_queries(14):
            assert api_client.get(f"/api/plans/{plan.pk}/capacity-progress/").status_code == 200
    assert Assessment.objects.filter(plan=plan, date__gte=datetime.date(2020, 1, 1)).count() >= 5
