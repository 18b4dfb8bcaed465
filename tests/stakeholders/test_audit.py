"""The audit trail: what the services record, the secretariat's page and its filters, the API, and the export."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from naphs.models import AuditEvent, Job
from naphs.permissions import Role
from naphs.services import audit_record
from planning.activities import activity_create, activity_update
from planning.models import Activity, Framework, Plan, TechnicalArea
from planning.operational import operational_plan_create
from planning.targets import target_set
from stakeholders.models import PlanMembership
from stakeholders.services import membership_update
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

# The page runs this many queries whatever the number of events (measured, then pinned).
AUDIT_PAGE_QUERIES = 8


def audit_url(plan: Plan, query: str = "") -> str:
    return f"/plans/{plan.pk}/audit/" + (f"?{query}" if query else "")


def area(plan: Plan, code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework=plan.framework, code=code)


@pytest.fixture
def activity(plan, lead):
    return activity_create(plan=plan, by=lead, technical_area=area(plan, "P1"), title="Review the IHR legislation")


@pytest.fixture
def secretariat_client(client, lead):
    client.force_login(lead)
    return client


# What the services record


def test_an_activity_change_is_recorded_with_its_area_and_each_field_before_and_after(plan, lead, activity):
    activity_update(activity=activity, by=lead, version=activity.version, title="Revise the IHR legislation")
    event = AuditEvent.objects.filter(plan=plan, action="edited", target_type="activity").get()
    assert event.actor == lead
    assert event.technical_area == area(plan, "P1")
    assert event.changes == {"title": ["Review the IHR legislation", "Revise the IHR legislation"]}


def test_a_target_is_recorded_with_the_area_of_its_indicator(plan, lead):
    indicator = area(plan, "D1").indicators.order_by("order").first()
    target_set(plan=plan, by=lead, indicator=indicator, level=4, justification="Reach the regional level")
    event = AuditEvent.objects.get(plan=plan, action="set the target of")
    assert event.technical_area == area(plan, "D1")
    assert event.changes["level"] == [None, 4]


def test_drawing_an_operational_plan_records_the_team_it_copied_with_its_count(plan, people, lead):
    operational = operational_plan_create(
        strategic=plan, by=lead, title="Operational plan 2026", first_year=2026, last_year=2026, activities=[]
    )
    event = AuditEvent.objects.get(plan=operational, action="copied the team into")
    assert event.changes == {"members": PlanMembership.objects.filter(plan=plan).exclude(user=lead).count()}


# The page


def test_the_page_shows_who_when_which_object_and_each_field_before_and_after(secretariat_client, plan, lead, activity):
    activity_update(activity=activity, by=lead, version=activity.version, title="Revise the IHR legislation")
    response = secretariat_client.get(audit_url(plan))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"{lead} edited Revise the IHR legislation." in page
    assert "<del>Review the IHR legislation</del> → <ins>Revise the IHR legislation</ins>" in page
    assert "<td>P1</td>" in page


def test_the_page_speaks_the_readers_language(client, plan, people, lead):
    membership = PlanMembership.objects.get(plan=plan, user=people[Role.VIEWER])
    membership_update(membership=membership, by=lead, version=membership.version, role=Role.REVIEWER, organization=None)
    lead.language = "fr"
    lead.save()
    client.force_login(lead)
    page = client.get(audit_url(plan)).content.decode()
    event = AuditEvent.objects.get(plan=plan, action="changed the role of")
    with translation.override("fr"):
        sentence = gettext("%(actor)s changed the role of %(target)s.") % {"actor": lead, "target": event.target_repr}
    assert sentence != f"{lead} changed the role of {event.target_repr}."  # the catalogue knows it
    assert sentence.replace("’", "&#x27;").replace("'", "&#x27;") in page


def test_an_action_the_sentences_do_not_know_shows_its_key(secretariat_client, plan, lead):
    audit_record(plan=plan, by=lead, action="renamed", target=plan)
    assert f"{lead}: renamed {plan}." in secretariat_client.get(audit_url(plan)).content.decode()


def test_only_the_secretariat_reads_the_trail(client, plan, people):
    for role, status in [(Role.SECRETARIAT_MEMBER, 200), (Role.TECHNICAL_LEAD, 403), (Role.VIEWER, 403)]:
        client.force_login(people[role])
        assert client.get(audit_url(plan)).status_code == status, role
    client.force_login(people["outsider"])
    assert client.get(audit_url(plan)).status_code == 404


def test_the_page_runs_a_constant_number_of_queries(secretariat_client, plan, lead, people, django_assert_num_queries):
    def fill(count: int) -> None:
        for number in range(count):
            actor = people[Role.SECRETARIAT_MEMBER] if number % 2 else lead
            audit_record(plan=plan, by=actor, action="edited", target=plan, changes={"title": ["a", f"b{number}"]})

    fill(5)
    with django_assert_num_queries(AUDIT_PAGE_QUERIES):
        assert secretariat_client.get(audit_url(plan)).status_code == 200
    fill(120)
    with django_assert_num_queries(AUDIT_PAGE_QUERIES):
        response = secretariat_client.get(audit_url(plan, "page=2"))
    assert response.context["page"].paginator.num_pages == 3


# Filters and bad input


def test_the_filters_narrow_the_trail_by_person_kind_area_and_days(secretariat_client, plan, lead, people, activity):
    other = people[Role.SECRETARIAT_MEMBER]
    activity_update(activity=activity, by=other, version=activity.version, title="Revise the IHR legislation")
    audit_record(plan=plan, by=lead, action="changed settings of", target=plan, changes={"title": ["a", "b"]})
    old = audit_record(plan=plan, by=lead, action="edited", target=plan)
    AuditEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=30))

    def shown(query: str) -> set[tuple[str, str]]:
        response = secretariat_client.get(audit_url(plan, query))
        assert response.status_code == 200, response.context["filter_form"].errors
        return {(row["event"].action, row["event"].target_type) for row in response.context["events"]}

    assert shown(f"person={other.pk}") == {("edited", "activity")}
    assert shown("kind=activity") == {("created", "activity"), ("edited", "activity")}
    assert shown(f"area={area(plan, 'P1').pk}") == {("created", "activity"), ("edited", "activity")}
    today = timezone.localdate()
    recent = shown(f"since={today - datetime.timedelta(days=1)}&until={today}")
    assert ("changed settings of", "plan") in recent and ("edited", "plan") not in recent
    assert shown(f"until={today - datetime.timedelta(days=10)}") == {("edited", "plan")}


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("person={stranger}", "person", "This person is not a member of this plan and changed nothing in it."),
        ("area={spar_area}", "area", "This is not a technical area of this plan's framework."),
        ("kind=spaceship", "kind", "Nothing of this plan was recorded as “spaceship”."),
        ("since=2026-05-02&until=2026-05-01", "until", "The last day is before the first: 2026-05-02 to 2026-05-01."),
        ("since=tomorrow", "since", "Enter a valid date."),
    ],
)
def test_a_filter_that_cannot_apply_is_refused_with_a_message_and_no_list(
    secretariat_client, api_client, plan, lead, other_country, query, field, message
):
    stranger = make_user("stranger")
    elsewhere = Plan.objects.create(
        framework=plan.framework, jurisdiction=other_country, title="Elsewhere", first_year=2026, last_year=2030
    )
    PlanMembership.objects.create(plan=elsewhere, user=stranger, role=Role.SECRETARIAT_LEAD)
    audit_record(plan=elsewhere, by=stranger, action="edited", target=elsewhere)
    audit_record(plan=plan, by=lead, action="edited", target=plan)
    spar_area = Framework.objects.get(code="SPAR2").technical_areas.order_by("order").first()
    query = query.format(stranger=stranger.pk, spar_area=spar_area.pk)

    response = secretariat_client.get(audit_url(plan, query))
    assert response.status_code == 400
    assert response.context["filter_form"].errors[field] == [message]
    assert response.context["events"] == []

    api_client.force_authenticate(lead)
    answer = api_client.get(f"/api/plans/{plan.pk}/audit-events/?{query}")
    assert answer.status_code == 400
    assert [error["message"] for error in answer.json()[field]] == [message]
    export = api_client.post(f"/api/plans/{plan.pk}/audit-export/?{query}")
    assert export.status_code == 400
    assert not Job.objects.filter(plan=plan).exists()


# The API


def test_the_api_lists_the_trail_locale_free_filtered_and_paginated(api_client, plan, lead, people, activity):
    activity_update(activity=activity, by=lead, version=activity.version, title="Revise the IHR legislation")
    api_client.force_authenticate(lead)
    answer = api_client.get(f"/api/plans/{plan.pk}/audit-events/?kind=activity", HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 2
    newest = body["results"][0]
    assert newest["action"] == "edited"
    assert newest["actor"] == lead.pk
    assert newest["target_type"] == "activity" and newest["target_id"] == activity.pk
    assert newest["technical_area_code"] == "P1"
    assert newest["changes"] == {"title": ["Review the IHR legislation", "Revise the IHR legislation"]}
    api_client.force_authenticate(people[Role.REVIEWER])
    assert api_client.get(f"/api/plans/{plan.pk}/audit-events/").status_code == 403


def test_the_api_refuses_writes(api_client, plan, lead):
    api_client.force_authenticate(lead)
    assert api_client.post(f"/api/plans/{plan.pk}/audit-events/", {}).status_code == 405
    assert api_client.get(f"/api/plans/{plan.pk}/audit-events/1/").status_code == 404


# The export


def test_the_export_is_a_job_in_the_requesters_language_with_the_pages_filters(
    secretariat_client, plan, lead, people, activity, django_capture_on_commit_callbacks
):
    activity_update(activity=activity, by=lead, version=activity.version, title="Revise the IHR legislation")
    audit_record(plan=plan, by=people[Role.SECRETARIAT_MEMBER], action="edited", target=plan)
    lead.language = "fr"
    lead.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = secretariat_client.post(f"/plans/{plan.pk}/audit/export/", {"person": lead.pk, "kind": "activity"})
    job = Job.objects.get(plan=plan, requested_by=lead)
    assert response.status_code == 302
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.params == {"person": str(lead.pk), "kind": "activity"}
    sheet = load_workbook(job.result.path).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    with translation.override("fr"):
        assert rows[0][5] == gettext("Technical area") == "Domaine technique"
    with translation.override("fr"):
        title = str(Activity._meta.get_field("title").verbose_name)
    assert title != "title"  # the field's label, in French too
    assert [(row[4], row[6], row[7], row[8]) for row in rows[1:] if row[7] == "Review the IHR legislation"] == [
        ("Revise the IHR legislation", title, "Review the IHR legislation", "Revise the IHR legislation")
    ]
    assert {row[1] for row in rows[1:]} == {str(lead)}
    assert all(isinstance(row[0], datetime.datetime) for row in rows[1:])


def test_the_export_refuses_someone_who_left_the_secretariat_meanwhile(plan, lead, people):
    from naphs.jobs import job_run

    member = people[Role.SECRETARIAT_MEMBER]
    job = Job.objects.create(kind="audit_export", plan=plan, requested_by=member, params={})
    PlanMembership.objects.filter(plan=plan, user=member).update(role=Role.VIEWER)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error == "Only the plan's secretariat may export its audit trail."
    assert not job.result
