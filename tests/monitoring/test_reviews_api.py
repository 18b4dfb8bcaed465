"""Reviews through the API: /api/plans/{id}/progress-reviews/ (with the snapshot and counts), its decisions under
`decisions/` and an annual review's `carry-over/`: the same rules as the pages, stale changes refused with 409,
fields that cannot be written refused by name."""

from __future__ import annotations

import datetime

import pytest
from rest_framework.test import APIClient

from monitoring.models import Review, ReviewDecision
from monitoring.reviews import review_create
from naphs.permissions import Role
from planning.models import Activity
from planning.operational import operational_plan_create
from tests.monitoring.reviews_scene import activities_fixture, activity, q1_fixture, q2_fixture, quarter  # noqa: F401

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(plan, *rest) -> str:
    return "/".join([f"/api/plans/{plan.pk}/progress-reviews", *map(str, rest)]) + "/"


@pytest.fixture
def review(plan, lead, q2, activities) -> Review:
    return review_create(plan=plan, by=lead, kind="annual", period=q2, held_on=datetime.date(2026, 7, 10))


def test_the_secretariat_records_a_review_and_members_read_its_snapshot(plan, people, lead, q2, activities):
    created = api(lead).post(
        url(plan),
        {"kind": "quarterly", "period": q2.pk, "held_on": "2026-07-02", "participants": "WHO country office",
         "participant_members": [people[Role.FOCAL_POINT].pk]},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["version"] == 1 and body["participant_members"] == [people[Role.FOCAL_POINT].pk]
    law = next(item for item in body["snapshot"] if item["activity"] == activities["law"].pk)
    assert (law["status"], law["percent"], law["spent_base"], law["period_label"]) == (
        "delayed",
        40,
        "1250.50",
        "Q2 2026",
    )
    assert {"status": "completed", "count": 1} in body["counts"] and {"status": "", "count": 1} in body["counts"]
    for role in (Role.REVIEWER, Role.VIEWER):
        listed = api(people[role]).get(url(plan))
        assert listed.status_code == 200 and [item["id"] for item in listed.json()["results"]] == [body["id"]]
        assert api(people[role]).get(url(plan, body["id"])).json()["snapshot"] == body["snapshot"]
        refused = api(people[role]).post(url(plan), {"kind": "annual", "period": q2.pk, "held_on": "2026-07-02"})
        assert refused.status_code == 403
    assert api(people["outsider"]).get(url(plan)).status_code == 404
    assert Review.objects.count() == 1


def test_a_period_of_another_plan_an_unknown_field_or_a_stale_version_is_refused(plan, provincial_plan, lead, q1,
                                                                                 review):  # fmt: skip
    client = api(lead)
    elsewhere = quarter(provincial_plan, 2026, 1)
    refused = client.post(
        url(plan), {"kind": "quarterly", "period": elsewhere.pk, "held_on": "2026-04-02"}, format="json"
    )
    assert refused.status_code == 400 and "not a period of this plan" in refused.json()["period"][0]
    unknown = client.post(url(plan), {"kind": "quarterly", "period": q1.pk, "held_on": "2026-04-02", "snapshot": []},
                          format="json")  # fmt: skip
    assert unknown.status_code == 400 and "snapshot" in unknown.json()
    moved = client.patch(url(plan, review.pk), {"period": q1.pk, "version": 1}, format="json")
    assert moved.status_code == 400 and "period" in moved.json()
    assert client.patch(url(plan, review.pk), {"decisions": "Faster", "version": 1}, format="json").status_code == 200
    stale = client.patch(url(plan, review.pk), {"decisions": "Slower", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "edit_conflict"
    review.refresh_from_db()
    assert (review.decisions, review.version, review.period.label) == ("Faster", 2, "Q2 2026")
    assert Review.objects.count() == 1


def test_decisions_are_recorded_changed_and_removed_with_their_version(plan, lead, people, review, activities):
    client = api(lead)
    law = activities["law"]
    decisions = url(plan, review.pk, "decisions")
    outside = client.post(decisions, {"activity": law.pk, "decision": "rescheduled", "new_start_date": "2031-01-01",
                                      "new_end_date": "2031-03-01"}, format="json")  # fmt: skip
    assert outside.status_code == 400 and "plan's period" in outside.json()["new_start_date"][0]
    created = client.post(decisions, {"activity": law.pk, "decision": "rescheduled", "new_start_date": "2027-01-01",
                                      "new_end_date": "2027-03-31", "note": "After"}, format="json")  # fmt: skip
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["applied_at"] is not None and body["pending"] is False
    law.refresh_from_db()
    assert law.end_date == datetime.date(2027, 3, 31)
    again = client.post(decisions, {"activity": law.pk, "decision": "dropped"}, format="json")
    assert again.status_code == 400 and "already has a decision" in again.json()["activity"][0]
    detail = f"{decisions}{body['id']}/"
    assert client.patch(detail, {"activity": activities["vets"].pk, "version": 1}, format="json").status_code == 400
    assert client.patch(detail, {"note": "Noted", "version": 1}, format="json").status_code == 200
    assert client.patch(detail, {"note": "Stale", "version": 1}, format="json").status_code == 409
    assert api(people[Role.REVIEWER]).delete(f"{detail}?version=2").status_code == 403
    assert client.delete(f"{detail}?version=1").status_code == 409
    assert client.delete(f"{detail}?version=2").status_code == 204
    assert not ReviewDecision.objects.exists()
    listed = api(people[Role.VIEWER]).get(decisions)
    assert listed.status_code == 200 and listed.json()["results"] == []


def test_a_decision_on_an_activity_of_another_plan_is_refused(plan, provincial_plan, lead, review):
    elsewhere = activity(provincial_plan, "A provincial activity")
    response = api(lead).post(url(plan, review.pk, "decisions"), {"activity": elsewhere.pk, "decision": "dropped"},
                              format="json")  # fmt: skip
    assert response.status_code == 400 and "not an activity of this plan" in response.json()["activity"][0]
    assert not ReviewDecision.objects.exists()


def test_carry_over_draws_the_unfinished_activities_once_and_refuses_another_strategic_plans(
    plan, provincial_plan, lead, review, activities
):
    year_two = operational_plan_create(
        strategic=plan, by=lead, title="Operational plan 2027", first_year=2027, last_year=2027, activities=[]
    )
    client = api(lead)
    carry = url(plan, review.pk, "carry-over")
    refused = client.post(carry, {"plan": provincial_plan.pk}, format="json")  # another strategic plan
    assert refused.status_code == 400 and "not a draft operational plan" in refused.json()["plan"][0]

    first = client.post(carry, {"plan": year_two.pk}, format="json")
    assert first.status_code == 200, first.json()
    carried = {item["activity"] for item in first.json()["carried"]}
    assert carried == {activities["law"].pk, activities["vets"].pk}
    second = client.post(carry, {"plan": year_two.pk, "activities": [activities["law"].pk]}, format="json")
    assert second.status_code == 200 and second.json()["carried"] == []
    assert [item["activity"] for item in second.json()["already"]] == [activities["law"].pk]
    assert Activity.objects.filter(plan=year_two).count() == 2
    decision = client.get(url(plan, review.pk)).json()["activity_decisions"]
    assert {item["carried_into"] for item in decision} == set(
        Activity.objects.filter(plan=year_two).values_list("pk", flat=True)
    )


def test_the_review_list_runs_a_constant_number_of_queries(plan, lead, q1, q2, activities,
                                                           django_assert_max_num_queries):  # fmt: skip
    client = api(lead)
    counts = []
    for period in (q1, q2):
        review = review_create(plan=plan, by=lead, kind="quarterly", period=period, held_on=datetime.date(2026, 7, 1))
        for made in activities.values():
            ReviewDecision.objects.create(review=review, activity=made, decision="carried_over")
        client.get(url(plan))
        with django_assert_max_num_queries(20) as listed:
            assert client.get(url(plan)).status_code == 200
        counts.append(len(listed.captured_queries))
    assert counts[0] == counts[1]
