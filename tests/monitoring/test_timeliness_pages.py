"""The 7-1-7 pages: the events list with met and missed badges, filters and the summary, in a constant number of
queries; recording and editing events with each bad date named beside its field (422, nothing saved); a stale edit
refused (409); bottlenecks; and a remedial action made an activity by the secretariat or the technical lead of its
area, refused with 423 on an endorsed plan while events stay writable."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Bottleneck, HealthEvent
from naphs.permissions import Role
from planning.models import Activity, Plan, TechnicalArea
from stakeholders.models import PlanMembership

pytestmark = pytest.mark.django_db


def area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


def day(days_ago: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days_ago)


def make_event(
    plan: Plan,
    *,
    emerged: int = 40,
    detection: int | None = 7,
    notification: int | None = 1,
    response: int | None = 7,
    **extra,
) -> HealthEvent:
    detected = day(emerged - detection) if detection is not None else None
    notified = day(emerged - detection - notification) if detected and notification is not None else None
    responded = day(emerged - detection - notification - response) if notified and response is not None else None
    values = {"name": "Cholera in the delta", "hazard": "Cholera", "place": "Delta"} | extra
    return HealthEvent.objects.create(
        plan=plan,
        emerged_on=day(emerged),
        detected_on=detected,
        notified_on=notified,
        responded_on=responded,
        **values,
    )


def signed_in(client, people, role: str):
    client.force_login(people[role])
    return client


def form(**overrides) -> dict:
    data = {
        "name": "Anthrax in cattle",
        "hazard": "Anthrax",
        "place": "East district",
        "emerged_on": day(20).isoformat(),
        "detected_on": day(12).isoformat(),
        "notified_on": day(12).isoformat(),
        "responded_on": "",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_the_list_shows_each_interval_met_or_missed_and_the_summary(client, people, plan):
    make_event(plan, name="On time")
    make_event(plan, name="Late detection", detection=9)
    make_event(plan, name="Still open", notification=None)
    page = signed_in(client, people, Role.VIEWER).get(reverse("health_events", kwargs={"plan_id": plan.pk}))
    assert page.status_code == 200
    text = page.content.decode()
    assert "On time" in text and "Late detection" in text and "Still open" in text
    assert "7 days: met" in text and "1 day: met" in text and "9 days: missed" in text and "pending" in text
    summary = page.context["summary"]
    assert summary.events == 3 and summary.all_met == 1 and summary.all_known == 2
    assert "Record an event" not in text  # a viewer reads


def test_the_list_filters_by_year_and_hazard(client, people, plan):
    make_event(plan, name="Cholera now")
    make_event(plan, name="Measles now", hazard="Measles")
    url = reverse("health_events", kwargs={"plan_id": plan.pk})
    page = signed_in(client, people, Role.REVIEWER).get(url, {"hazard": "Measles"})
    assert [event.name for event in page.context["events"]] == ["Measles now"]
    assert page.context["summary"].events == 1
    page = client.get(url, {"year": day(40).year - 1})  # a year no event is of: an invalid choice, ignored
    assert len(page.context["events"]) == 2
    fragment = client.get(url, {"hazard": "Cholera"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<h1>" not in fragment.content.decode()


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_runs_a_constant_number_of_queries(client, people, plan, count, django_assert_max_num_queries):
    for number in range(count):
        event = make_event(plan, name=f"Event {number}", hazard=f"Hazard {number % 4}")
        Bottleneck.objects.create(event=event, stage="detection", description="Slow")
    signed_in(client, people, Role.SECRETARIAT_LEAD)
    with django_assert_max_num_queries(14):
        page = client.get(reverse("health_events", kwargs={"plan_id": plan.pk}))
    assert len(page.context["events"]) == count


@pytest.mark.parametrize("count", [2, 20])
def test_an_event_page_runs_a_constant_number_of_queries(client, people, plan, count, django_assert_max_num_queries):
    event = make_event(plan)
    for _ in range(count):
        Bottleneck.objects.create(event=event, stage="response", description="Late", technical_area=area("D1"))
    signed_in(client, people, Role.TECHNICAL_LEAD)
    with django_assert_max_num_queries(16):
        page = client.get(reverse("health_event_detail", kwargs={"plan_id": plan.pk, "event_id": event.pk}))
    assert page.status_code == 200 and len(page.context["bottlenecks"]) == count


def test_a_technical_lead_records_an_event(client, people, plan):
    response = signed_in(client, people, Role.TECHNICAL_LEAD).post(
        reverse("health_event_new", kwargs={"plan_id": plan.pk}), form()
    )
    assert response.status_code == 302
    event = HealthEvent.objects.get()
    assert (event.name, event.recorded_by, event.notified_on) == (
        "Anthrax in cattle",
        people["technical_lead"],
        day(12),
    )


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"detected_on": day(21).isoformat()}, "detected_on", "before the date of emergence"),
        ({"notified_on": day(13).isoformat()}, "notified_on", "before the date of detection"),
        ({"responded_on": day(13).isoformat()}, "responded_on", "before the date of notification"),
        ({"detected_on": ""}, "notified_on", "without a date of detection"),
        ({"notified_on": "", "responded_on": day(1).isoformat()}, "responded_on", "without a date of notification"),
        ({"responded_on": (timezone.localdate() + datetime.timedelta(days=1)).isoformat()}, "responded_on", "future"),
        ({"emerged_on": ""}, "emerged_on", ""),
        ({"detected_on": "2026-02-31"}, "detected_on", "valid date"),
    ],
)
def test_a_bad_date_comes_back_beside_its_field_and_nothing_is_saved(client, people, plan, overrides, field, words):
    response = signed_in(client, people, Role.SECRETARIAT_MEMBER).post(
        reverse("health_event_new", kwargs={"plan_id": plan.pk}), form(**overrides)
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert field in errors and any(words in message for message in errors[field]), errors
    assert not HealthEvent.objects.exists()


def test_a_stale_edit_is_refused_with_409(client, people, plan):
    event = make_event(plan, notification=None)
    url = reverse("health_event_edit", kwargs={"plan_id": plan.pk, "event_id": event.pk})
    signed_in(client, people, Role.SECRETARIAT_LEAD)
    first = form(
        name="First",
        detected_on=event.detected_on.isoformat(),
        notified_on="",
        emerged_on=event.emerged_on.isoformat(),
        version=1,
    )
    firstly = client.post(url, first)
    assert firstly.status_code == 302, firstly.context["form"].errors
    second = client.post(url, {**first, "name": "Second"})
    assert second.status_code == 409
    event.refresh_from_db()
    assert event.name == "First"


def test_focal_points_reviewers_and_viewers_cannot_record_events(client, people, plan):
    for role in (Role.FOCAL_POINT, Role.REVIEWER, Role.VIEWER):
        response = signed_in(client, people, role).post(
            reverse("health_event_new", kwargs={"plan_id": plan.pk}), form()
        )
        assert response.status_code == 403, role
    assert not HealthEvent.objects.exists()


def test_an_event_of_another_plan_is_not_found(client, people, plan, provincial_plan):
    other = make_event(provincial_plan)
    signed_in(client, people, Role.SECRETARIAT_LEAD)
    for name in ("health_event_detail", "health_event_edit", "bottleneck_new"):
        assert client.get(reverse(name, kwargs={"plan_id": plan.pk, "event_id": other.pk})).status_code == 404


def test_a_bottleneck_of_another_event_is_not_found(client, people, plan):
    event, other = make_event(plan), make_event(plan, name="Other")
    bottleneck = Bottleneck.objects.create(event=other, stage="detection", description="Slow")
    url = reverse("bottleneck_edit", kwargs={"plan_id": plan.pk, "event_id": event.pk, "bottleneck_id": bottleneck.pk})
    assert signed_in(client, people, Role.SECRETARIAT_LEAD).get(url).status_code == 404


def test_a_bottleneck_is_recorded_from_the_event_page(client, people, plan):
    event = make_event(plan)
    response = signed_in(client, people, Role.TECHNICAL_LEAD).post(
        reverse("bottleneck_new", kwargs={"plan_id": plan.pk, "event_id": event.pk}),
        {
            "stage": "detection",
            "description": "No laboratory",
            "remedial_action": "Equip one",
            "technical_area": area("D1").pk,
        },
    )
    assert response.status_code == 302
    assert Bottleneck.objects.get().technical_area == area("D1")
    empty = client.post(
        reverse("bottleneck_new", kwargs={"plan_id": plan.pk, "event_id": event.pk}), {"stage": "nowhere"}
    )
    assert empty.status_code == 422 and {"stage", "description"} <= set(empty.context["form"].errors)


# --- A remedial action becomes an activity ------------------------------------------------------------------------


@pytest.fixture
def bottleneck(plan) -> Bottleneck:
    return Bottleneck.objects.create(
        event=make_event(plan, detection=12),
        stage="detection",
        description="District laboratories could not confirm cholera.",
        remedial_action="Equip four district laboratories for cholera culture",
        technical_area=area("D1"),
    )


def activity_url(bottleneck: Bottleneck) -> str:
    kwargs = {"plan_id": bottleneck.event.plan_id, "event_id": bottleneck.event_id, "bottleneck_id": bottleneck.pk}
    return reverse("bottleneck_activity", kwargs=kwargs)


def activity_form(bottleneck: Bottleneck, **overrides) -> dict:
    data = {
        "source": "simulation",
        "technical_area": area("D1").pk,
        "responsible_organization": "",
        "title": "Equip four district laboratories",
        "description": "",
        "version": bottleneck.version,
    }
    data.update(overrides)
    return data


def test_the_secretariat_makes_a_remedial_action_an_activity_with_its_source(client, people, plan, bottleneck, moa):
    signed_in(client, people, Role.SECRETARIAT_LEAD)
    page = client.get(activity_url(bottleneck))
    assert page.status_code == 200 and "Equip four district laboratories for cholera culture" in page.content.decode()
    response = client.post(activity_url(bottleneck), activity_form(bottleneck, responsible_organization=moa.pk))
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert (activity.source, activity.technical_area, activity.responsible_organization) == (
        "simulation",
        area("D1"),
        moa,
    )
    assert response.headers["Location"] == reverse(
        "activity_detail", kwargs={"plan_id": plan.pk, "activity_id": activity.pk}
    )
    bottleneck.refresh_from_db()
    assert bottleneck.activity == activity
    # The activity's page and the table show where it came from.
    activity_page = client.get(response.headers["Location"]).content.decode()
    assert "Simulation exercise" in activity_page
    event_url = reverse("health_event_detail", kwargs={"plan_id": plan.pk, "event_id": bottleneck.event_id})
    assert f'<a href="{event_url}">Cholera in the delta</a>' in activity_page
    assert "Simulation exercise" in client.get(reverse("activities", kwargs={"plan_id": plan.pk})).content.decode()
    # Once made, it is not made again.
    again = client.post(activity_url(bottleneck), activity_form(bottleneck))
    assert again.status_code == 409 and Activity.objects.count() == 1


def test_a_technical_lead_makes_the_activity_in_their_own_area_only(client, people, plan, bottleneck):
    membership = PlanMembership.objects.get(plan=plan, user=people["technical_lead"])
    signed_in(client, people, Role.TECHNICAL_LEAD)
    assert client.get(activity_url(bottleneck)).status_code == 403  # no area of their own yet
    membership.technical_areas.add(area("P1"))
    refused = client.post(activity_url(bottleneck), activity_form(bottleneck))  # D1 is not theirs
    assert refused.status_code == 422 and "technical_area" in refused.context["form"].errors
    assert not Activity.objects.exists()
    assert (
        client.post(activity_url(bottleneck), activity_form(bottleneck, technical_area=area("P1").pk)).status_code
        == 302
    )
    assert Activity.objects.get().technical_area == area("P1")


def test_an_organization_of_another_country_is_refused(client, people, plan, bottleneck, other_country):
    from stakeholders.models import Organization

    foreign = Organization.objects.create(name="Elsewhere agency", kind="agency", jurisdiction=other_country)
    response = signed_in(client, people, Role.SECRETARIAT_LEAD).post(
        activity_url(bottleneck), activity_form(bottleneck, responsible_organization=foreign.pk)
    )
    assert response.status_code == 422 and "responsible_organization" in response.context["form"].errors
    assert not Activity.objects.exists()


def test_focal_points_cannot_make_activities(client, people, bottleneck):
    response = signed_in(client, people, Role.FOCAL_POINT).post(activity_url(bottleneck), activity_form(bottleneck))
    assert response.status_code == 403
    assert not Activity.objects.exists()


def test_an_endorsed_plan_refuses_the_activity_and_keeps_events_writable(client, people, plan, bottleneck):
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    signed_in(client, people, Role.SECRETARIAT_LEAD)
    refused = client.post(activity_url(bottleneck), activity_form(bottleneck))
    assert refused.status_code == 423 and "endorsed" in refused.content.decode()
    assert not Activity.objects.exists()
    bottleneck.refresh_from_db()
    assert bottleneck.activity is None
    event = bottleneck.event
    detail = client.get(reverse("health_event_detail", kwargs={"plan_id": plan.pk, "event_id": event.pk}))
    assert "Make it an activity" not in detail.content.decode()
    edit = client.post(
        reverse("health_event_edit", kwargs={"plan_id": plan.pk, "event_id": event.pk}),
        form(
            emerged_on=event.emerged_on.isoformat(),
            detected_on=event.detected_on.isoformat(),
            notified_on=event.notified_on.isoformat(),
            responded_on=event.responded_on.isoformat(),
            version=event.version,
        ),
    )
    assert edit.status_code == 302
    new = client.post(
        reverse("bottleneck_new", kwargs={"plan_id": plan.pk, "event_id": event.pk}),
        {"stage": "response", "description": "Supplies came late"},
    )
    assert new.status_code == 302 and event.bottlenecks.count() == 2


def test_the_plan_nav_has_the_7_1_7_events(client, people, plan):
    page = signed_in(client, people, Role.VIEWER).get(reverse("plan_detail", kwargs={"plan_id": plan.pk}))
    assert reverse("health_events", kwargs={"plan_id": plan.pk}) in page.content.decode()
