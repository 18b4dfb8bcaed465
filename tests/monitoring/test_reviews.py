"""Quarterly and annual reviews in the browser: the secretariat records a review of one of the plan's periods, which
keeps every activity's progress as it stood (later reports change nothing), decides per activity (re-scheduled,
dropped: applied to the activity on a draft plan, waiting for the reopening on an endorsed one), and members read."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from monitoring.models import Review, ReviewDecision
from monitoring.reviews import review_create, snapshot_take
from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.endorsement import plan_endorse, plan_reopen
from planning.models import Activity, Plan
from stakeholders.models import PlanMembership
from tests.monitoring.reviews_scene import activities_fixture, activity, entry, q1_fixture, q2_fixture, quarter, report  # noqa: F401

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def new_review(client: Client, plan: Plan, period, **overrides):
    data = {
        "kind": "quarterly",
        "period": period.pk,
        "held_on": "2026-07-10",
        "participants": "Dr Okafor (WHO)",
        "decisions": "Speed up the law.",
        "participant_members": [],
        **overrides,
    }
    return client.post(f"/plans/{plan.pk}/monitoring/reviews/new/", data)


@pytest.fixture
def review(plan, lead, q2, activities) -> Review:
    return review_create(plan=plan, by=lead, kind="quarterly", period=q2, held_on=datetime.date(2026, 7, 10))


# --- The snapshot -----------------------------------------------------------------------------------------------


def test_a_review_keeps_each_activitys_latest_report_up_to_and_including_its_period(plan, people, lead, q1, q2,
                                                                                    activities):  # fmt: skip
    response = new_review(client_for(lead), plan, q1, participant_members=[people[Role.REVIEWER].pk])

    review = Review.objects.get(plan=plan, period=q1)
    assert response.status_code == 302 and response["Location"] == f"/plans/{plan.pk}/monitoring/reviews/{review.pk}/"
    law, lab, drill, vets = (entry(review, activities[name]) for name in ("law", "lab", "drill", "vets"))
    assert (law["status"], law["percent"], law["spent_base"], law["period_label"]) == (
        "on_track",
        30,
        "1000.00",
        "Q1 2026",
    )
    assert (lab["status"], lab["percent"], lab["spent_base"], lab["period"]) == ("", None, None, None)  # Q2 is later
    assert drill["status"] == "cancelled"
    assert vets["status"] == "" and vets["organization"] == "Ministry of Agriculture" and vets["area"] == "P1"
    assert list(review.participant_members.all()) == [people[Role.REVIEWER]]
    assert (review.recorded_by, review.participants, review.decisions) == (lead, "Dr Okafor (WHO)", "Speed up the law.")

    second = review_create(plan=plan, by=lead, kind="quarterly", period=q2, held_on=datetime.date(2026, 7, 1))
    law = entry(second, activities["law"])  # the latest report, and what was spent in both quarters
    assert (law["status"], law["percent"], law["spent_base"], law["period_label"]) == (
        "delayed",
        40,
        "1250.50",
        "Q2 2026",
    )
    assert entry(second, activities["lab"])["status"] == "completed"
    assert AuditEvent.objects.filter(plan=plan, target_type="review", action="created").count() == 2


def test_the_snapshot_stays_as_it_was_whatever_is_reported_or_edited_later(plan, lead, q2, activities, review):
    kept = list(review.snapshot)
    law = activities["law"]
    law.progress_updates.filter(period=q2).update(status="completed", percent_complete=100)
    report(activities["vets"], q2, "at_risk", 10, "99.00")
    activity(plan, "Added after the review")
    law.title = "Renamed since"
    law.save()

    client = client_for(lead)
    edited = client.post(
        f"/plans/{plan.pk}/monitoring/reviews/{review.pk}/edit/",
        {"kind": "quarterly", "held_on": "2026-07-11", "participants": "More people", "decisions": "",
         "participant_members": [], "version": review.version},
    )  # fmt: skip
    assert edited.status_code == 302
    review.refresh_from_db()
    assert review.snapshot == kept and review.held_on == datetime.date(2026, 7, 11)

    page = client.get(f"/plans/{plan.pk}/monitoring/reviews/{review.pk}/").content.decode()
    assert "Revise the public health law" in page and "Renamed since" not in page  # the title as it was
    assert "Added after the review" not in page
    assert "1250.50" in page and "99.00" not in page
    assert entry(review, activities["vets"])["status"] == ""


def test_the_review_page_counts_the_activities_by_status_and_filters_them(plan, lead, review):
    client = client_for(lead)
    page = client.get(f"/plans/{plan.pk}/monitoring/reviews/{review.pk}/").content.decode()
    assert "Delayed</span> 1" in page and "Completed</span> 1" in page and "Cancelled</span> 1" in page
    assert "No report</span> 1" in page
    assert "Unfinished 2" in page  # delayed, and never reported on

    unfinished = client.get(f"/plans/{plan.pk}/monitoring/reviews/{review.pk}/?status=unfinished").content.decode()
    assert "Revise the public health law" in unfinished and "Train border veterinarians" in unfinished
    assert "Equip the reference laboratory" not in unfinished and "Run a border simulation" not in unfinished
    listed = client.get(f"/plans/{plan.pk}/monitoring/reviews/").content.decode()
    assert "Quarterly review" in listed and "Q2 2026" in listed


def test_the_snapshot_takes_two_queries_whatever_the_plans_size(plan, q1, q2, activities, django_assert_num_queries):
    with django_assert_num_queries(2):
        small = snapshot_take(plan=plan, period=q2)
    for number in range(30):
        made = activity(plan, f"More work {number}")
        report(made, q1, "on_track", number, "1.00")
        report(made, q2, "at_risk", number + 1)
    with django_assert_num_queries(2):
        large = snapshot_take(plan=plan, period=q2)
    assert (len(small), len(large)) == (4, 34)


# --- Bad input --------------------------------------------------------------------------------------------------


def test_a_review_of_another_plans_period_is_refused_and_nothing_is_saved(plan, provincial_plan, lead, activities):
    elsewhere = quarter(provincial_plan, 2026, 1)
    response = new_review(client_for(lead), plan, elsewhere)
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not Review.objects.exists()
    with pytest.raises(Exception, match="another plan"):
        review_create(plan=plan, by=lead, kind="quarterly", period=elsewhere, held_on=datetime.date(2026, 4, 1))
    assert not Review.objects.exists()


def test_a_review_held_before_its_period_or_twice_for_one_period_is_refused(plan, lead, q2, review):
    client = client_for(lead)
    early = new_review(client, plan, q2, kind="annual", held_on="2026-03-31")
    assert early.status_code == 422 and "on 2026-04-01 or later" in early.content.decode()
    again = new_review(client, plan, q2)
    assert again.status_code == 422 and "Q2 2026 already has a quarterly review" in again.content.decode()
    assert Review.objects.count() == 1
    annual = new_review(client, plan, q2, kind="annual")  # another kind of review of the same period
    assert annual.status_code == 302 and Review.objects.count() == 2


def test_a_participant_who_is_not_a_member_is_refused(plan, lead, people, q2, activities):
    response = new_review(client_for(lead), plan, q2, participant_members=[people["outsider"].pk])
    assert response.status_code == 422 and not Review.objects.exists()


def test_a_stale_edit_of_a_review_is_refused_with_409(plan, lead, people, review):
    other = client_for(people[Role.SECRETARIAT_MEMBER])
    url = f"/plans/{plan.pk}/monitoring/reviews/{review.pk}/edit/"
    fields = {"kind": "quarterly", "held_on": "2026-07-10", "decisions": "", "participant_members": []}
    assert other.post(url, {**fields, "participants": "First", "version": review.version}).status_code == 302
    stale = client_for(lead).post(url, {**fields, "participants": "Second", "version": review.version})
    assert stale.status_code == 409 and "someone else changed it" in stale.content.decode()
    review.refresh_from_db()
    assert review.participants == "First"


def test_the_period_of_a_recorded_review_does_not_change(plan, lead, q1, review):
    url = f"/plans/{plan.pk}/monitoring/reviews/{review.pk}/edit/"
    response = client_for(lead).post(
        url, {"kind": "quarterly", "period": q1.pk, "held_on": "2026-07-10", "participants": "", "decisions": "",
              "version": review.version},
    )  # fmt: skip
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.period.label == "Q2 2026"


# --- Decisions --------------------------------------------------------------------------------------------------


def decide(client: Client, plan: Plan, review: Review, activity: Activity, **data):
    data.setdefault("version", 0)
    data.setdefault("note", "")
    return client.post(f"/plans/{plan.pk}/monitoring/reviews/{review.pk}/decisions/{activity.pk}/", data)


def test_rescheduling_on_a_draft_plan_moves_the_activitys_dates_through_the_activity_service(
    plan, lead, review, activities
):
    law = activities["law"]
    response = decide(client_for(lead), plan, review, law, decision="rescheduled", new_start_date="2027-01-01",
                      new_end_date="2027-06-30", note="Parliament sits in 2027")  # fmt: skip
    assert response.status_code == 302
    law.refresh_from_db()
    assert (law.start_date, law.end_date, law.version) == (datetime.date(2027, 1, 1), datetime.date(2027, 6, 30), 2)
    decision = ReviewDecision.objects.get(review=review, activity=law)
    assert decision.applied_at is not None and decision.note == "Parliament sits in 2027"
    edited = AuditEvent.objects.get(plan=plan, target_type="activity", action="edited")
    assert edited.changes["start_date"] == ["2026-01-01", "2027-01-01"] and edited.actor == lead
    assert AuditEvent.objects.filter(plan=plan, target_type="reviewdecision", action="created").count() == 1


def test_dropping_on_a_draft_plan_cancels_the_activity(plan, lead, review, activities):
    vets = activities["vets"]
    assert decide(client_for(lead), plan, review, vets, decision="dropped").status_code == 302
    vets.refresh_from_db()
    assert vets.status == Activity.Status.CANCELLED
    assert ReviewDecision.objects.get(activity=vets).applied_at is not None


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2031-01-01", "2031-06-30", "Must lie within the plan&#x27;s period (2026–2030)."),
        ("2025-12-01", "2026-06-30", "Must lie within the plan&#x27;s period (2026–2030)."),
        ("2027-06-30", "2027-01-01", "An activity cannot end before it starts."),
        ("", "2027-01-01", "A re-scheduled activity needs its new start and end dates."),
    ],
)
def test_new_dates_outside_the_plan_or_backwards_are_refused_and_nothing_changes(
    plan, lead, review, activities, start, end, message
):
    law = activities["law"]
    response = decide(client_for(lead), plan, review, law, decision="rescheduled", new_start_date=start,
                      new_end_date=end)  # fmt: skip
    assert response.status_code == 422 and message in response.content.decode()
    assert not ReviewDecision.objects.exists()
    law.refresh_from_db()
    assert (law.start_date, law.version) == (datetime.date(2026, 1, 1), 1)


def test_on_an_endorsed_plan_the_decision_is_recorded_and_the_dates_wait_for_the_reopening(
    plan, lead, review, activities
):
    law, vets = activities["law"], activities["vets"]
    plan_endorse(plan=plan, by=lead, endorsed_on=datetime.date.today(), authority="Cabinet", confirm=True)
    client = client_for(lead)
    response = decide(client, plan, review, law, decision="rescheduled", new_start_date="2027-01-01",
                      new_end_date="2027-06-30")  # fmt: skip
    assert response.status_code == 302
    assert decide(client, plan, review, vets, decision="dropped").status_code == 302
    law.refresh_from_db()
    vets.refresh_from_db()
    assert (law.start_date, law.version, vets.status) == (datetime.date(2026, 1, 1), 1, Activity.Status.DRAFT)
    assert ReviewDecision.objects.filter(applied_at__isnull=True).count() == 2
    page = client.get(f"/plans/{plan.pk}/monitoring/reviews/{review.pk}/", follow=True).content.decode()
    assert "2 decisions wait for the plan to be reopened" in page

    plan_reopen(plan=plan, by=lead, reason="Apply the review")
    law.refresh_from_db()
    vets.refresh_from_db()
    assert (law.start_date, law.end_date) == (datetime.date(2027, 1, 1), datetime.date(2027, 6, 30))
    assert vets.status == Activity.Status.CANCELLED
    assert not ReviewDecision.objects.filter(applied_at__isnull=True).exists()
    assert AuditEvent.objects.filter(plan=plan, target_type="activity", action="edited", actor=lead).count() == 2


def test_a_decision_on_an_activity_of_another_plan_is_not_found(plan, provincial_plan, lead, review):
    elsewhere = activity(provincial_plan, "A provincial activity")
    response = decide(client_for(lead), plan, review, elsewhere, decision="dropped")
    assert response.status_code == 404 and not ReviewDecision.objects.exists()


def test_a_stale_change_of_a_decision_is_refused_and_a_removal_keeps_what_it_applied(plan, lead, people, review,
                                                                                     activities):  # fmt: skip
    law = activities["law"]
    client = client_for(lead)
    assert decide(client, plan, review, law, decision="carried_over").status_code == 302
    first = decide(client_for(people[Role.SECRETARIAT_MEMBER]), plan, review, law, decision="dropped", version=1)
    assert first.status_code == 302
    stale = decide(client, plan, review, law, decision="carried_over", version=1)
    assert stale.status_code == 409
    decision = ReviewDecision.objects.get(activity=law)
    assert decision.decision == "dropped" and decision.version == 2
    url = f"/plans/{plan.pk}/monitoring/reviews/{review.pk}/decisions/{law.pk}/delete/"
    assert client.post(url, {"version": 1}).status_code == 409
    assert client.post(url, {"version": 2}).status_code == 302
    assert not ReviewDecision.objects.exists()
    law.refresh_from_db()
    assert law.status == Activity.Status.CANCELLED  # what the drop applied stays


# --- Who may do what --------------------------------------------------------------------------------------------


def test_reviewers_and_viewers_read_reviews_but_only_the_secretariat_records_them(plan, people, review, activities):
    pages = [
        f"/plans/{plan.pk}/monitoring/reviews/",
        f"/plans/{plan.pk}/monitoring/reviews/{review.pk}/",
    ]
    writes = [
        f"/plans/{plan.pk}/monitoring/reviews/new/",
        f"/plans/{plan.pk}/monitoring/reviews/{review.pk}/edit/",
        f"/plans/{plan.pk}/monitoring/reviews/{review.pk}/decisions/{activities['law'].pk}/",
        f"/plans/{plan.pk}/monitoring/reviews/{review.pk}/carry-over/",
    ]
    for role in (Role.TECHNICAL_LEAD, Role.FOCAL_POINT, Role.REVIEWER, Role.VIEWER):
        client = client_for(people[role])
        for url in pages:
            page = client.get(url)
            assert page.status_code == 200, (role, url)
            assert "Record a review" not in page.content.decode() and "Decide" not in page.content.decode()
        for url in writes:
            assert client.get(url).status_code == 403, (role, url)
            assert client.post(url, {}).status_code == 403, (role, url)
    outsider = client_for(people["outsider"])
    for url in pages + writes:
        assert outsider.get(url).status_code == 404, url
    assert Review.objects.count() == 1 and not ReviewDecision.objects.exists()


def test_the_plan_navigation_leads_to_the_reviews(plan, people):
    page = client_for(people[Role.VIEWER]).get(f"/plans/{plan.pk}/").content.decode()
    assert f'href="/plans/{plan.pk}/monitoring/reviews/"' in page


# --- Constant queries -------------------------------------------------------------------------------------------


def _grow(plan: Plan, q1, q2, count: int) -> None:
    for number in range(count):
        made = activity(plan, f"Grown {number}")
        report(made, q1, "on_track", 10, "5.00")
        report(made, q2, "delayed", 20)


def test_the_review_pages_run_a_constant_number_of_queries(plan, lead, q1, q2, activities,
                                                           django_assert_max_num_queries):  # fmt: skip
    client = client_for(lead)
    counts = []
    for extra in (0, 40):
        _grow(plan, q1, q2, extra)
        review = review_create(plan=plan, by=lead, kind="annual" if extra else "quarterly", period=q2,
                               held_on=datetime.date(2026, 7, 1))  # fmt: skip
        for activity_ in Activity.objects.filter(plan=plan)[:3]:
            ReviewDecision.objects.create(review=review, activity=activity_, decision="carried_over")
        client.get(f"/plans/{plan.pk}/monitoring/reviews/{review.pk}/")  # what a first visit sets up aside
        with django_assert_max_num_queries(30) as detail:
            assert client.get(f"/plans/{plan.pk}/monitoring/reviews/{review.pk}/").status_code == 200
        with django_assert_max_num_queries(30) as listed:
            assert client.get(f"/plans/{plan.pk}/monitoring/reviews/").status_code == 200
        counts.append((len(detail.captured_queries), len(listed.captured_queries)))
    assert counts[0][0] == counts[1][0]  # the same page for 4 activities and for 44
    assert counts[1][1] == counts[0][1]  # one review more, the same list


def test_only_the_secretariat_of_the_plan_is_offered_the_forms(plan, people, review):
    page = client_for(people[Role.SECRETARIAT_LEAD]).get(f"/plans/{plan.pk}/monitoring/reviews/").content.decode()
    assert "Record a review" in page
    PlanMembership.objects.filter(plan=plan, user=people[Role.SECRETARIAT_MEMBER]).update(role=Role.VIEWER)
    page = client_for(people[Role.SECRETARIAT_MEMBER]).get(f"/plans/{plan.pk}/monitoring/reviews/").content.decode()
    assert "Record a review" not in page
