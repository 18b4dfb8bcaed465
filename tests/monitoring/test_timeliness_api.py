"""The 7-1-7 API: health events with their intervals and met flags (read-only), filters, bad dates refused by field
(400), stale changes refused (409), unknown and computed fields refused, nested bottlenecks, the remedial action
made an activity (423 on an endorsed plan), and a constant number of queries."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from monitoring.models import Bottleneck, HealthEvent
from naphs.permissions import Role
from planning.models import Activity, Plan, TechnicalArea

pytestmark = pytest.mark.django_db


def area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


def day(days_ago: int) -> str:
    return (timezone.localdate() - datetime.timedelta(days=days_ago)).isoformat()


def body(**overrides) -> dict:
    data = {
        "name": "Avian influenza in poultry",
        "hazard": "Influenza",
        "place": "Lake district",
        "emerged_on": day(30),
        "detected_on": day(23),
        "notified_on": day(21),
        "responded_on": None,
        "notes": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def api(api_client, people):
    def signed_in(role: str):
        api_client.force_authenticate(people[role])
        return api_client

    return signed_in


def events_url(plan: Plan) -> str:
    return f"/api/plans/{plan.pk}/health-events/"


def test_an_event_is_created_with_its_intervals_computed(api, plan):
    response = api(Role.TECHNICAL_LEAD).post(events_url(plan), body(), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["intervals"] == {
        "detection": {"days": 7, "target_days": 7, "met": True},
        "notification": {"days": 2, "target_days": 1, "met": False},
        "response": {"days": None, "target_days": 7, "met": None},
    }
    assert data["meets_all"] is None and data["version"] == 1 and data["bottlenecks"] == []


def test_a_bad_date_is_refused_naming_the_field(api, plan):
    response = api(Role.SECRETARIAT_LEAD).post(events_url(plan), body(detected_on=day(31)), format="json")
    assert response.status_code == 400
    assert "before the date of emergence" in response.json()["detected_on"][0]
    future = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    response = api(Role.SECRETARIAT_LEAD).post(events_url(plan), body(responded_on=future), format="json")
    assert response.status_code == 400 and "future" in response.json()["responded_on"][0]
    assert not HealthEvent.objects.exists()


def test_computed_and_unknown_fields_are_refused(api, plan):
    client = api(Role.SECRETARIAT_LEAD)
    response = client.post(events_url(plan), body(intervals={}, meets_all=True, colour="red"), format="json")
    assert response.status_code == 400
    assert {"intervals", "meets_all", "colour"} <= set(response.json())
    assert not HealthEvent.objects.exists()


def test_a_stale_change_is_refused_with_409(api, plan):
    client = api(Role.SECRETARIAT_MEMBER)
    created = client.post(events_url(plan), body(), format="json").json()
    url = f"{events_url(plan)}{created['id']}/"
    assert client.patch(url, {"notes": "First", "version": 1}, format="json").status_code == 200
    stale = client.patch(url, {"notes": "Second", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "edit_conflict"
    assert HealthEvent.objects.get().notes == "First"
    assert client.patch(url, {"notes": "No version"}, format="json").status_code == 400


def test_a_put_without_a_date_clears_it(api, plan):
    client = api(Role.SECRETARIAT_LEAD)
    created = client.post(events_url(plan), body(), format="json").json()
    data = body(notified_on=None, version=1)
    response = client.put(f"{events_url(plan)}{created['id']}/", data, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["notified_on"] is None


def test_readers_read_and_cannot_write(api, plan):
    HealthEvent.objects.create(plan=plan, name="Rift Valley fever", emerged_on=datetime.date(2026, 5, 1))
    for role in (Role.FOCAL_POINT, Role.REVIEWER, Role.VIEWER):
        client = api(role)
        assert client.get(events_url(plan)).json()["count"] == 1
        assert client.post(events_url(plan), body(), format="json").status_code == 403
    assert HealthEvent.objects.count() == 1


def test_the_list_filters_by_year_and_hazard(api, plan):
    HealthEvent.objects.create(plan=plan, name="A", hazard="Cholera", emerged_on=datetime.date(2025, 5, 1))
    HealthEvent.objects.create(plan=plan, name="B", hazard="Measles", emerged_on=datetime.date(2026, 5, 1))
    client = api(Role.VIEWER)
    assert [e["name"] for e in client.get(events_url(plan), {"year": 2025}).json()["results"]] == ["A"]
    assert [e["name"] for e in client.get(events_url(plan), {"hazard": "measles"}).json()["results"]] == ["B"]
    assert client.get(events_url(plan), {"year": "last"}).status_code == 400


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_runs_a_constant_number_of_queries(api, plan, count, django_assert_max_num_queries):
    for number in range(count):
        event = HealthEvent.objects.create(plan=plan, name=f"E{number}", emerged_on=datetime.date(2026, 5, 1))
        Bottleneck.objects.create(event=event, stage="detection", description="Slow")
    client = api(Role.SECRETARIAT_LEAD)
    with django_assert_max_num_queries(8):
        response = client.get(events_url(plan), {"page_size": 100})
    assert response.json()["count"] == count


def test_bottlenecks_are_nested_and_made_an_activity(api, plan, moh):
    event = HealthEvent.objects.create(
        plan=plan, name="Cholera", emerged_on=datetime.date(2026, 5, 1), detected_on=datetime.date(2026, 5, 20)
    )
    client = api(Role.SECRETARIAT_LEAD)
    url = f"{events_url(plan)}{event.pk}/bottlenecks/"
    created = client.post(
        url,
        {
            "stage": "detection",
            "description": "No tests",
            "remedial_action": "Stock rapid tests",
            "technical_area": area("D1").pk,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    bottleneck = created.json()
    assert client.get(f"{events_url(plan)}{event.pk}/").json()["bottlenecks"][0]["id"] == bottleneck["id"]
    refused = client.post(url, {"stage": "detection", "description": "x", "activity": 1}, format="json")
    assert refused.status_code == 400 and "activity" in refused.json()
    made = client.post(
        f"{url}{bottleneck['id']}/activity/",
        {
            "source": "seven_one_seven",
            "technical_area": area("D1").pk,
            "responsible_organization": moh.pk,
            "version": 1,
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    activity = Activity.objects.get(pk=made.json()["activity"])
    assert activity.source == "seven_one_seven" and activity.title == "Stock rapid tests"
    assert made.json()["bottleneck"]["activity"] == activity.pk
    again = client.post(
        f"{url}{bottleneck['id']}/activity/",
        {"source": "seven_one_seven", "technical_area": area("D1").pk, "version": 2},
        format="json",
    )
    assert again.status_code == 400 and Activity.objects.count() == 1


def test_an_endorsed_plan_refuses_the_activity_with_423_and_keeps_the_bottleneck(api, plan):
    event = HealthEvent.objects.create(plan=plan, name="Cholera", emerged_on=datetime.date(2026, 5, 1))
    bottleneck = Bottleneck.objects.create(event=event, stage="response", description="Late", remedial_action="Stock")
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    client = api(Role.SECRETARIAT_LEAD)
    url = f"{events_url(plan)}{event.pk}/bottlenecks/{bottleneck.pk}/"
    refused = client.post(
        f"{url}activity/", {"source": "simulation", "technical_area": area("D1").pk, "version": 1}, format="json"
    )
    assert refused.status_code == 423 and refused.json()["code"] == "plan_endorsed"
    assert not Activity.objects.exists()
    # Monitoring goes on.
    assert client.patch(url, {"description": "Very late", "version": 1}, format="json").status_code == 200
    assert client.post(events_url(plan), body(), format="json").status_code == 201


def test_an_event_of_another_plan_is_not_found(api, plan, provincial_plan):
    other = HealthEvent.objects.create(plan=provincial_plan, name="Elsewhere", emerged_on=datetime.date(2026, 5, 1))
    client = api(Role.SECRETARIAT_LEAD)
    assert client.get(f"{events_url(plan)}{other.pk}/").status_code == 404
    assert client.get(f"{events_url(plan)}{other.pk}/bottlenecks/").status_code == 404
