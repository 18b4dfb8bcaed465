"""Engagement events: the pages, the services' refusals (an event ending before it starts, a person, activity, area
or organization of another plan or country, a stale edit), participants from the register, decisions, documents,
the participation summary, the API, and constant query counts on the list and the detail."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.models import Activity, Plan, TechnicalArea
from stakeholders.events import event_create, participants_add, participation_summary
from stakeholders.models import EngagementEvent, EventDecision, EventDocument, Organization, Participant, Person

pytestmark = pytest.mark.django_db


def area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


def make_person(plan: Plan, name: str, organization: Organization | None, **extra) -> Person:
    email = extra.pop("email", f"{name.lower().replace(' ', '.')}@example.org")
    return Person.objects.create(plan=plan, name=name, organization=organization, email=email, **extra)


def make_event(plan: Plan, **extra) -> EngagementEvent:
    values = {
        "kind": "consultation",
        "title": "Provincial consultation",
        "starts_on": datetime.date(2026, 3, 2),
        "ends_on": datetime.date(2026, 3, 4),
        "place": "Northtown",
    } | extra
    return EngagementEvent.objects.create(plan=plan, **values)


def activity(plan: Plan, code: str = "P1") -> Activity:
    return Activity.objects.create(plan=plan, technical_area=area(code), title=f"Consultative workshop {code}")


def form_data(**extra) -> dict:
    return {
        "kind": "consultation",
        "title": "Three-day provincial consultation",
        "starts_on": "2026-03-02",
        "ends_on": "2026-03-04",
        "place": "Northtown",
        "agenda": "",
        "outcomes": "",
        "cost": "",
        "version": "",
    } | extra


def test_an_event_ending_before_it_starts_is_refused_naming_both_dates(client, plan, lead):
    client.force_login(lead)
    response = client.post(
        reverse("engagement_event_new", args=[plan.pk]), form_data(starts_on="2026-03-04", ends_on="2026-03-02")
    )
    assert response.status_code == 422
    text = response.content.decode()
    assert "is before the first day" in text and "2026" in text
    from django.utils.formats import date_format

    for day in (datetime.date(2026, 3, 4), datetime.date(2026, 3, 2)):
        assert date_format(day, "DATE_FORMAT") in text
    assert not EngagementEvent.objects.exists()


def test_the_secretariat_records_an_event_with_organizers_areas_and_activity(client, plan, lead, moh):
    carried = activity(plan)
    client.force_login(lead)
    response = client.post(
        reverse("engagement_event_new", args=[plan.pk]),
        form_data(organizers=[moh.pk], technical_areas=[area("P1").pk, area("D1").pk], activity=carried.pk),
    )
    assert response.status_code == 302
    event = EngagementEvent.objects.get()
    assert event.days == 3 and event.activity == carried and list(event.organizers.all()) == [moh]
    assert AuditEvent.objects.filter(target_type="engagementevent", action="created").count() == 1


def test_references_of_another_plan_or_country_are_refused(plan, lead, other_country, jee3):
    elsewhere = Plan.objects.create(
        framework=jee3, jurisdiction=other_country, title="Elsewhere", kind="strategic", first_year=2026, last_year=2030
    )
    foreign_org = Organization.objects.create(name="Foreign ministry", kind="ministry", jurisdiction=other_country)
    foreign_activity = activity(elsewhere)
    with pytest.raises(Exception) as refused:
        event_create(
            plan=plan,
            by=lead,
            fields=form_fields(organizers=[foreign_org], activity=foreign_activity),
        )
    errors = refused.value.message_dict  # type: ignore[attr-defined]
    assert "Foreign ministry" in errors["organizers"][0]
    assert "not an activity of this plan" in errors["activity"][0]
    assert not EngagementEvent.objects.exists()


def form_fields(**extra) -> dict:
    return {
        "kind": "workshop",
        "title": "Workshop",
        "starts_on": datetime.date(2026, 5, 1),
        "ends_on": datetime.date(2026, 5, 1),
        "place": "Capital",
    } | extra


def test_an_online_event_needs_its_link(plan, lead):
    with pytest.raises(Exception) as refused:
        event_create(plan=plan, by=lead, fields=form_fields(place="", online=True))
    assert "online_link" in refused.value.message_dict  # type: ignore[attr-defined]


def test_a_stale_edit_is_refused_with_409_and_nothing_changes(client, plan, lead):
    event = make_event(plan)
    client.force_login(lead)
    url = reverse("engagement_event_edit", args=[plan.pk, event.pk])
    assert client.post(url, form_data(title="First", version=1)).status_code == 302
    response = client.post(url, form_data(title="Second", version=1))
    assert response.status_code == 409
    event.refresh_from_db()
    assert event.title == "First" and event.version == 2


def test_participants_come_from_this_plans_register_only(client, plan, lead, moh, other_country, jee3):
    event = make_event(plan)
    ours = make_person(plan, "Amina Diallo", moh, sector="human_health")
    elsewhere = Plan.objects.create(
        framework=jee3, jurisdiction=other_country, title="Elsewhere", kind="strategic", first_year=2026, last_year=2030
    )
    theirs = make_person(elsewhere, "Someone Else", None)
    client.force_login(lead)
    url = reverse("engagement_participants_add", args=[plan.pk, event.pk])
    response = client.post(url, {"people": [ours.pk, theirs.pk], "invited": "on"})
    assert response.status_code == 422
    assert "not in this plan&#x27;s register" in response.content.decode()
    assert not Participant.objects.exists()
    assert client.post(url, {"people": [ours.pk], "invited": "on"}).status_code == 302
    participant = Participant.objects.get()
    assert (participant.organization, participant.sector, participant.invited) == (moh, "human_health", True)
    # The participant keeps the organization they came for.
    ours.organization = None
    ours.save()
    participant.refresh_from_db()
    assert participant.organization == moh
    # The audit names the person by number, never by contact details.
    entry = AuditEvent.objects.get(target_type="participant", action="added")
    assert ours.email not in str(entry.changes) and entry.changes["person"] == ours.pk


def test_a_participant_is_marked_attended_and_a_stale_mark_refused(client, plan, lead, moh):
    event = make_event(plan)
    (participant,) = participants_add(event=event, by=lead, people=[make_person(plan, "Amina", moh)])
    client.force_login(lead)
    url = reverse("engagement_participant_edit", args=[plan.pk, event.pk, participant.pk])
    assert client.post(url, {"invited": "on", "attended": "yes", "version": 1}).status_code == 302
    assert client.post(url, {"attended": "no", "version": 1}).status_code == 409
    participant.refresh_from_db()
    assert participant.attended is True and participant.invited is True


def test_a_decision_links_activities_areas_and_threads_of_the_plan_only(client, plan, lead, other_country, jee3):
    event = make_event(plan)
    ours = activity(plan)
    elsewhere = Plan.objects.create(
        framework=jee3, jurisdiction=other_country, title="Elsewhere", kind="strategic", first_year=2026, last_year=2030
    )
    client.force_login(lead)
    url = reverse("engagement_decision_new", args=[plan.pk, event.pk])
    response = client.post(url, {"text": "Fund it", "activities": [activity(elsewhere).pk]})
    assert response.status_code == 422 and not EventDecision.objects.exists()
    response = client.post(url, {"text": "Fund it", "activities": [ours.pk], "priority_areas": [area("P1").pk]})
    assert response.status_code == 302
    decision = EventDecision.objects.get()
    assert list(decision.activities.all()) == [ours]
    page = client.get(reverse("engagement_event_detail", args=[plan.pk, event.pk])).content.decode()
    assert "Fund it" in page and ours.title in page


def test_documents_are_checked_and_downloaded_by_members_only(client, plan, lead, people):
    event = make_event(plan)
    client.force_login(lead)
    url = reverse("engagement_document_add", args=[plan.pk, event.pk])
    fake = SimpleUploadedFile("report.pdf", b"MZ this is a program", content_type="application/pdf")
    response = client.post(url, {"title": "Report", "file": fake})
    assert response.status_code == 422 and "not a PDF document" in response.content.decode()
    pdf = SimpleUploadedFile("report.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    assert client.post(url, {"title": "Report", "file": pdf}).status_code == 302
    document = EventDocument.objects.get()
    download = reverse("engagement_document_download", args=[plan.pk, event.pk, document.pk])
    client.force_login(people[Role.VIEWER])
    response = client.get(download)
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    client.force_login(people["outsider"])
    assert client.get(download).status_code == 404


def test_the_participation_summary_counts_by_sector_and_organization_without_names(client, plan, lead, moh, moa):
    event = make_event(plan)
    a = make_person(plan, "Amina", moh, sector="human_health")
    b = make_person(plan, "Bertrand", moa, sector="animal_health")
    c = make_person(plan, "Chen", moa, sector="animal_health")
    participants_add(event=event, by=lead, people=[a, b], invited=True, attended=True)
    participants_add(event=event, by=lead, people=[c], invited=False, attended=False)
    summary = participation_summary(plan=plan)
    sectors = {row.key: (row.participants, row.invited, row.attended) for row in summary.by_sector}
    assert sectors == {"human_health": (1, 1, 1), "animal_health": (2, 1, 1)}
    organizations = {row.label: (row.invited, row.attended) for row in summary.by_organization}
    assert organizations == {"Ministry of Health": (1, 1), "Ministry of Agriculture": (1, 1)}
    client.force_login(lead)
    page = client.get(reverse("participation_summary", args=[plan.pk])).content.decode()
    assert "Ministry of Agriculture" in page and "Amina" not in page and "Bertrand" not in page


@pytest.mark.parametrize("count", [2, 30])
def test_the_list_and_the_detail_run_a_constant_number_of_queries(
    client, plan, lead, moh, count, django_assert_max_num_queries
):
    people = [make_person(plan, f"Person {n}", moh, sector="human_health") for n in range(count)]
    for n in range(3):
        event = make_event(plan, title=f"Event {n}")
        event.technical_areas.set([area("P1"), area("D1")])
        participants_add(event=event, by=lead, people=people)
        EventDecision.objects.create(event=event, text="Decided").activities.set([activity(plan, "P2")])
    client.force_login(lead)
    with django_assert_max_num_queries(16):
        assert client.get(reverse("engagement_events", args=[plan.pk])).status_code == 200
    with django_assert_max_num_queries(22):
        assert client.get(reverse("engagement_event_detail", args=[plan.pk, event.pk])).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(f"/api/plans/{plan.pk}/engagement-events/").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(f"/api/plans/{plan.pk}/engagement-events/{event.pk}/participants/").status_code == 200


def test_the_list_filters_by_type_year_and_area(client, plan, lead):
    make_event(plan, title="A workshop", kind="workshop").technical_areas.set([area("P1")])
    make_event(plan, title="Old consultation", starts_on=datetime.date(2025, 1, 1), ends_on=datetime.date(2025, 1, 1))
    client.force_login(lead)
    url = reverse("engagement_events", args=[plan.pk])
    page = client.get(url, {"kind": "workshop"}).content.decode()
    assert "A workshop" in page and "Old consultation" not in page
    page = client.get(url, {"year": "2025"}).content.decode()
    assert "Old consultation" in page and "A workshop" not in page
    page = client.get(url, {"area": area("P1").pk}).content.decode()
    assert "A workshop" in page and "Old consultation" not in page


# --- The API -----------------------------------------------------------------------------------------------------


def test_the_api_creates_an_event_and_refuses_bad_input(api_client, plan, lead, moh, other_country):
    api_client.force_authenticate(lead)
    url = f"/api/plans/{plan.pk}/engagement-events/"
    body = {
        "kind": "validation",
        "title": "Validation",
        "starts_on": "2026-06-02",
        "ends_on": "2026-06-01",
        "place": "Capital",
    }
    response = api_client.post(url, body, format="json")
    assert response.status_code == 400 and "ends_on" in response.json()
    foreign = Organization.objects.create(name="Foreign", kind="ministry", jurisdiction=other_country)
    response = api_client.post(url, {**body, "ends_on": "2026-06-03", "organizers": [foreign.pk]}, format="json")
    assert response.status_code == 400 and "organizers" in response.json()
    response = api_client.post(url, {**body, "ends_on": "2026-06-03", "cost_answers": {}}, format="json")
    assert response.status_code == 400 and "cost_answers" in response.json()
    response = api_client.post(url, {**body, "ends_on": "2026-06-03", "organizers": [moh.pk]}, format="json")
    assert response.status_code == 201, response.json()
    event_id = response.json()["id"]
    response = api_client.patch(f"{url}{event_id}/", {"title": "Changed"}, format="json")
    assert response.status_code == 400 and "version" in response.json()
    assert api_client.patch(f"{url}{event_id}/", {"title": "Changed", "version": 1}, format="json").status_code == 200
    assert api_client.patch(f"{url}{event_id}/", {"title": "Again", "version": 1}, format="json").status_code == 409


def test_the_api_adds_participants_of_the_register_and_decisions(api_client, plan, lead, moh, other_country, jee3):
    event = make_event(plan)
    ours = make_person(plan, "Amina", moh)
    elsewhere = Plan.objects.create(
        framework=jee3, jurisdiction=other_country, title="Elsewhere", kind="strategic", first_year=2026, last_year=2030
    )
    theirs = make_person(elsewhere, "Other", None)
    api_client.force_authenticate(lead)
    url = f"/api/plans/{plan.pk}/engagement-events/{event.pk}/participants/"
    response = api_client.post(url, {"person": theirs.pk}, format="json")
    assert response.status_code == 400 and "register" in str(response.json()["person"])
    response = api_client.post(url, {"person": ours.pk, "attended": True}, format="json")
    assert response.status_code == 201, response.json()
    participant = response.json()
    assert participant["organization"] == moh.pk
    response = api_client.patch(f"{url}{participant['id']}/", {"person": theirs.pk, "version": 1}, format="json")
    assert response.status_code == 400
    decisions = f"/api/plans/{plan.pk}/engagement-events/{event.pk}/decisions/"
    response = api_client.post(decisions, {"text": "Go", "activities": [activity(elsewhere).pk]}, format="json")
    assert response.status_code == 400
    response = api_client.post(decisions, {"text": "Go", "activities": [activity(plan).pk]}, format="json")
    assert response.status_code == 201


def test_the_event_cost_comes_from_the_meeting_builder(client, plan, lead, moh):
    event = make_event(plan)
    participants_add(event=event, by=lead, people=[make_person(plan, f"P{n}", moh) for n in range(4)])
    client.force_login(lead)
    url = reverse("event_cost", args=[plan.pk, event.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["participants"] == 4 and form.initial["days"] == 3
    data = {
        "name": event.title,
        "category": "meetings",
        "participants": "4",
        "travelling": "0",
        "days": "3",
        "venue_per_day": "100",
        "meals_per_person_day": "10",
        "years": ["2026"],
        "times_per_year": "1",
        "currency": form.initial["currency"],
        "price_year": str(form.initial["price_year"]),
        "version": "1",
    }
    preview = client.post(url, {**data, "action": "preview"})
    assert preview.status_code == 200 and preview.context["preview_total"] == Decimal("420.00")
    assert client.post(url, {**data, "action": "save"}).status_code == 302
    event.refresh_from_db()
    assert event.cost == Decimal("420.00") and event.cost_answers["participants"] == 4


def test_the_page_of_an_activity_names_the_decisions_that_changed_it(client, plan, lead, moh):
    """A decision linked to an activity shows on the activity's page, with its event, for every member."""
    from planning.models import Activity, TechnicalArea
    from stakeholders.events import decision_create, event_create

    area = TechnicalArea.objects.filter(framework_id=plan.framework_id).order_by("order").first()
    activity = Activity.objects.create(
        plan=plan, technical_area=area, title="Train responders", responsible_organization=moh
    )
    event = event_create(
        plan=plan,
        by=lead,
        fields={
            "kind": "consultation",
            "title": "Coastal consultative session",
            "starts_on": datetime.date(2026, 5, 4),
            "ends_on": datetime.date(2026, 5, 6),
            "place": "Port Amani",
        },
    )
    decision_create(event=event, by=lead, fields={"text": "Train the district teams first.", "activities": [activity]})
    client.force_login(lead)
    page = client.get(f"/plans/{plan.pk}/activities/{activity.pk}/").content.decode()
    assert "Coastal consultative session" in page and "Train the district teams first." in page
    assert f"/plans/{plan.pk}/events/{event.pk}/" in page
