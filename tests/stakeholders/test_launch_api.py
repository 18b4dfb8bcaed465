"""The launch API: the checklist, launches listed and read by every member, launched by the secretariat, with strict
fields and clear refusals."""

from __future__ import annotations

import datetime

import pytest

from monitoring.models import ReportingPeriod
from naphs.permissions import Role
from stakeholders.models import EngagementEvent, Launch
from tests.stakeholders.launch_fixtures import UNMET, endorse, launch_scene

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today


@pytest.fixture
def scene(plan, lead, moh, moa):
    return launch_scene(plan, lead, moh, moa)


def checklist_url(plan) -> str:
    return f"/api/plans/{plan.pk}/launch-checklist/"


def launches_url(plan) -> str:
    return f"/api/plans/{plan.pk}/launches/"


def body(scene, **overrides) -> dict:
    data = {"launched_on": TODAY().isoformat(), "event": scene.launch_event.pk, "notes": "", "confirm": list(UNMET)}
    data.update(overrides)
    return data


def test_every_member_reads_the_checklist(api_client, scene, lead, people, django_assert_max_num_queries):
    endorse(scene.plan, lead)
    api_client.force_authenticate(people[Role.VIEWER])
    with django_assert_max_num_queries(25):
        response = api_client.get(checklist_url(scene.plan))
    assert response.status_code == 200
    data = response.json()
    assert [item["key"] for item in data["items"]] == ["endorsed", *UNMET]
    assert data["unmet"] == list(UNMET)
    assert data["endorsed"] is True and data["launched"] is False
    costed = data["items"][1]
    assert costed == {
        "key": "costed",
        "name": "Share of activities costed",
        "detail": "3 of 4 activities costed (75%).",
        "met": False,
        "url": f"/plans/{scene.plan.pk}/costing/",
    }
    api_client.force_authenticate(people["outsider"])
    assert api_client.get(checklist_url(scene.plan)).status_code == 404


def test_the_secretariat_launches_and_every_member_reads_the_launch(api_client, scene, lead, people):
    endorse(scene.plan, lead)
    api_client.force_authenticate(people[Role.SECRETARIAT_MEMBER])
    response = api_client.post(launches_url(scene.plan), body(scene, notes="At the ceremony"), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["number"], data["event"], data["notes"]) == (1, scene.launch_event.pk, "At the ceremony")
    assert "confirm" not in data
    assert {item["key"]: item["confirmed"] for item in data["checklist"]}["funding"] is True
    period = ReportingPeriod.objects.get(plan=scene.plan, state=ReportingPeriod.State.OPEN)
    assert data["opened"]["period"]["id"] == period.pk
    api_client.force_authenticate(people[Role.FOCAL_POINT])
    listed = api_client.get(launches_url(scene.plan)).json()
    assert [launch["id"] for launch in listed["results"]] == [data["id"]]
    assert api_client.get(f"{launches_url(scene.plan)}{data['id']}/").json()["launched_on"] == TODAY().isoformat()
    assert api_client.get(checklist_url(scene.plan)).json()["launched"] is True
    refused = api_client.post(launches_url(scene.plan), body(scene), format="json")
    assert refused.status_code == 403


def test_a_plan_not_endorsed_answers_409(api_client, scene, lead):
    api_client.force_authenticate(lead)
    response = api_client.post(launches_url(scene.plan), body(scene), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "plan_not_endorsed"
    assert not Launch.objects.exists()


def test_unconfirmed_items_a_future_date_another_plans_event_and_twice_answer_400(
    api_client, scene, lead, provincial_plan
):
    endorse(scene.plan, lead)
    api_client.force_authenticate(lead)
    url = launches_url(scene.plan)
    unconfirmed = api_client.post(url, body(scene, confirm=["costed", "funding"]), format="json")
    assert unconfirmed.status_code == 400
    [message] = unconfirmed.json()["confirm"]
    assert "(advocacy)" in message and "(responsible)" in message and "(coverage)" in message
    tomorrow = (TODAY() + datetime.timedelta(days=1)).isoformat()
    future = api_client.post(url, body(scene, launched_on=tomorrow), format="json")
    assert future.status_code == 400 and "is in the future" in future.json()["launched_on"][0]
    elsewhere = EngagementEvent.objects.create(
        plan=provincial_plan, kind="launch", title="Provincial launch", starts_on=TODAY(), ends_on=TODAY()
    )
    other = api_client.post(url, body(scene, event=elsewhere.pk), format="json")
    assert other.status_code == 400
    assert other.json()["event"] == [f"Event {elsewhere.pk} is not an event of this plan."]
    assert not Launch.objects.exists()
    assert api_client.post(url, body(scene), format="json").status_code == 201
    twice = api_client.post(url, body(scene), format="json")
    assert twice.status_code == 400
    assert "launched already on" in twice.json()["non_field_errors"][0]
    assert Launch.objects.count() == 1


def test_fields_the_endpoint_does_not_write_are_refused(api_client, scene, lead):
    endorse(scene.plan, lead)
    api_client.force_authenticate(lead)
    response = api_client.post(
        launches_url(scene.plan), body(scene, number=3, checklist=[], launched_by=lead.pk, colour="red"), format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"number", "checklist", "launched_by", "colour"}
    assert not Launch.objects.exists()
