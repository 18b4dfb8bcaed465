"""An annual review carries the activities it found unfinished into the next operational plan, drawn as an
operational plan is drawn (linked to their strategic activity, with their cost lines in its years): never twice,
never into an operational plan of another strategic plan or one the person does not manage."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from costing.models import CostLine
from costing.services import cost_line_create, plan_costing_get
from monitoring.models import ReviewDecision
from monitoring.reviews import decision_save, review_carry_over, review_create
from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.models import Activity, Plan
from planning.operational import operational_plan_create
from stakeholders.models import PlanMembership
from tests.costing.conftest import line_fields
from tests.monitoring.reviews_scene import activities_fixture, activity, q1_fixture, q2_fixture, quarter, report  # noqa: F401

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def q4(plan):
    return quarter(plan, 2026, 4)


@pytest.fixture
def year_two(plan, lead) -> Plan:
    """The strategic plan's operational plan for 2027, a draft the lead runs."""
    return operational_plan_create(
        strategic=plan, by=lead, title="Operational plan 2027", first_year=2027, last_year=2027, activities=[]
    )


@pytest.fixture
def surveillance(plan, moh, q4):
    """An unfinished activity planned over 2026–2028, costed in 2026 and 2027."""
    made = activity(plan, "Extend event-based surveillance", code="D2", organization=moh,
                    start_date=datetime.date(2026, 6, 1), end_date=datetime.date(2028, 6, 30))  # fmt: skip
    report(made, q4, "at_risk", 20, "300.00")
    return made


@pytest.fixture
def annual(plan, lead, q4, activities, surveillance):
    return review_create(plan=plan, by=lead, kind="annual", period=q4, held_on=datetime.date(2027, 1, 20))


def test_an_annual_review_carries_its_unfinished_activities_into_the_next_operational_plan(
    plan, lead, activities, surveillance, annual, year_two
):
    plan_costing_get(plan)
    line = cost_line_create(activity=surveillance, by=lead, fields=line_fields(), frequencies={2026: 1, 2027: 2})
    law = activities["law"]
    decision_save(review=annual, activity=law, by=lead, version=0, decision="rescheduled",
                  new_start_date=datetime.date(2027, 2, 1), new_end_date=datetime.date(2027, 9, 30))  # fmt: skip

    response = client_for(lead).post(
        f"/plans/{plan.pk}/monitoring/reviews/{annual.pk}/carry-over/",
        {"plan": year_two.pk, "activities": [law.pk, activities["vets"].pk, surveillance.pk]},
        follow=True,
    )

    page = response.content.decode()
    assert response.status_code == 200 and "3 activities carried into “Operational plan 2027”" in page
    copies = {copy.origin_id: copy for copy in Activity.objects.filter(plan=year_two)}
    assert set(copies) == {law.pk, activities["vets"].pk, surveillance.pk}
    # The re-scheduled activity takes its new dates; one planned over several years is clipped to 2027; one whose
    # dates lay in 2026 only is drawn to be scheduled anew.
    assert (copies[law.pk].start_date, copies[law.pk].end_date) == (
        datetime.date(2027, 2, 1),
        datetime.date(2027, 9, 30),
    )
    assert (copies[surveillance.pk].start_date, copies[surveillance.pk].end_date) == (
        datetime.date(2027, 1, 1), datetime.date(2027, 12, 31),
    )  # fmt: skip
    assert (copies[activities["vets"].pk].start_date, copies[activities["vets"].pk].end_date) == (None, None)
    assert "Drawn without dates" in page and "Train border veterinarians" in page
    # Its cost lines come along, in 2027 only, as the drawing of an operational plan does.
    copied = CostLine.objects.get(plan=year_two)
    assert copied.origin == line and copied.activity == copies[surveillance.pk]
    assert set(copied.years.filter(frequency__gt=0).values_list("year", flat=True)) == {2027}
    decisions = {d.activity_id: d for d in ReviewDecision.objects.filter(review=annual)}
    assert decisions[law.pk].decision == "rescheduled" and decisions[law.pk].carried_into == copies[law.pk]
    assert decisions[surveillance.pk].decision == "carried_over"
    assert decisions[surveillance.pk].carried_into == copies[surveillance.pk]
    assert AuditEvent.objects.filter(plan=plan, action="carried activities of").count() == 1
    assert AuditEvent.objects.filter(plan=year_two, action="drew activities into").count() == 1


def test_carrying_over_again_reports_what_is_there_and_draws_nothing_twice(plan, lead, activities, annual, year_two):
    first = review_carry_over(review=annual, by=lead, target=year_two)
    drawn = {copy.origin_id for _activity, copy in first.carried}
    # By default: the unfinished ones, not the completed laboratory or the cancelled drill.
    assert {activities["law"].pk, activities["vets"].pk} <= drawn
    assert activities["lab"].pk not in drawn and activities["drill"].pk not in drawn
    count = Activity.objects.filter(plan=year_two).count()

    response = client_for(lead).post(
        f"/plans/{plan.pk}/monitoring/reviews/{annual.pk}/carry-over/",
        {"plan": year_two.pk, "activities": [activities["law"].pk, activities["lab"].pk]},
        follow=True,
    )

    page = response.content.decode()
    assert "Already in “Operational plan 2027”, so not drawn again: Revise the public health law" in page
    assert Activity.objects.filter(plan=year_two).count() == count + 1  # the laboratory, chosen by hand
    assert Activity.objects.filter(plan=year_two, origin=activities["law"]).count() == 1


def test_a_dropped_activity_is_not_carried_and_cannot_be_chosen(plan, lead, activities, annual, year_two):
    vets = activities["vets"]
    decision_save(review=annual, activity=vets, by=lead, version=0, decision="dropped")
    result = review_carry_over(review=annual, by=lead, target=year_two)
    assert vets.pk not in {activity.pk for activity, _copy in result.carried}
    with pytest.raises(ValidationError, match="Dropped by this review: Train border veterinarians"):
        review_carry_over(review=annual, by=lead, target=year_two, activities=[vets])


def test_an_operational_plan_of_another_strategic_plan_or_run_by_others_is_refused(
    plan, provincial_plan, people, lead, activities, annual, year_two
):
    PlanMembership.objects.create(plan=provincial_plan, user=lead, role=Role.SECRETARIAT_LEAD)
    provincial_year = operational_plan_create(
        strategic=provincial_plan, by=lead, title="Province 2027", first_year=2027, last_year=2027, activities=[]
    )
    url = f"/plans/{plan.pk}/monitoring/reviews/{annual.pk}/carry-over/"
    client = client_for(lead)
    refused = client.post(url, {"plan": provincial_year.pk, "activities": [activities["law"].pk]})
    assert refused.status_code == 422 and "Select a valid choice" in refused.content.decode()
    with pytest.raises(ValidationError, match="is not a draft operational plan under the same strategic plan"):
        review_carry_over(review=annual, by=lead, target=provincial_year)
    # Under the same strategic plan, but its secretariat is someone else's: refused to the member too.
    member = people[Role.SECRETARIAT_MEMBER]
    PlanMembership.objects.filter(plan=year_two, user=member).update(role=Role.VIEWER)
    assert client_for(member).post(url, {"plan": year_two.pk, "activities": [activities["law"].pk]}).status_code == 422
    # An endorsed operational plan takes nothing.
    Plan.objects.filter(pk=year_two.pk).update(status=Plan.Status.ENDORSED)
    with pytest.raises(ValidationError):
        review_carry_over(review=annual, by=lead, target=year_two)
    assert not Activity.objects.filter(plan__in=[year_two, provincial_year]).exists()
    assert not ReviewDecision.objects.exists()


def test_an_activity_of_another_plan_cannot_be_carried(plan, provincial_plan, lead, annual, year_two):
    elsewhere = activity(provincial_plan, "A provincial activity")
    response = client_for(lead).post(
        f"/plans/{plan.pk}/monitoring/reviews/{annual.pk}/carry-over/",
        {"plan": year_two.pk, "activities": [elsewhere.pk]},
    )
    assert response.status_code == 422 and not Activity.objects.filter(plan=year_two).exists()


def test_a_quarterly_review_carries_nothing(plan, lead, q2, activities, year_two):
    quarterly = review_create(plan=plan, by=lead, kind="quarterly", period=q2, held_on=datetime.date(2026, 7, 1))
    with pytest.raises(ValidationError, match="Only an annual review"):
        review_carry_over(review=quarterly, by=lead, target=year_two)
    page = client_for(lead).get(f"/plans/{plan.pk}/monitoring/reviews/{quarterly.pk}/carry-over/").content.decode()
    assert "Only an annual review carries activities" in page


def test_an_operational_plans_review_carries_its_activities_strategic_origins(plan, lead, activities, year_two):
    law, vets = activities["law"], activities["vets"]
    year_one = operational_plan_create(
        strategic=plan, by=lead, title="Operational plan 2026", first_year=2026, last_year=2026, activities=[law, vets]
    )
    own = activity(year_one, "Hire a coordinator")  # added in the operational plan itself: no strategic origin
    q4 = quarter(year_one, 2026, 4)
    drawn_law = Activity.objects.get(plan=year_one, origin=law)
    report(drawn_law, q4, "delayed", 50)
    review = review_create(plan=year_one, by=lead, kind="annual", period=q4, held_on=datetime.date(2027, 1, 15))

    page = client_for(lead).get(f"/plans/{year_one.pk}/monitoring/reviews/{review.pk}/carry-over/").content.decode()
    assert "Operational plan 2027" in page  # the next operational plan under the same strategic plan
    result = review_carry_over(review=review, by=lead, target=year_two)

    assert {copy.origin_id for _activity, copy in result.carried} == {law.pk, vets.pk}
    assert [activity.pk for activity in result.without_origin] == [own.pk]
    assert ReviewDecision.objects.get(review=review, activity=drawn_law).carried_into.origin == law
    assert Activity.objects.filter(plan=year_two).count() == 2
    again = review_carry_over(review=review, by=lead, target=year_two)
    assert not again.carried
    assert {activity.pk for activity, _copy in again.already} == {activity.pk for activity, _copy in result.carried}
    assert Activity.objects.filter(plan=year_two).count() == 2


def test_only_the_secretariat_carries_over(plan, people, annual, year_two, activities):
    url = f"/plans/{plan.pk}/monitoring/reviews/{annual.pk}/carry-over/"
    for role in (Role.TECHNICAL_LEAD, Role.FOCAL_POINT, Role.REVIEWER, Role.VIEWER):
        assert client_for(people[role]).post(url, {"plan": year_two.pk}).status_code == 403
    assert client_for(people["outsider"]).post(url, {"plan": year_two.pk}).status_code == 404
    assert not Activity.objects.filter(plan=year_two).exists()


def test_the_spending_of_the_carried_activity_stays_with_the_review(annual, surveillance):
    entry = next(item for item in annual.snapshot if item["activity"] == surveillance.pk)
    assert Decimal(entry["spent_base"]) == Decimal("300.00")
