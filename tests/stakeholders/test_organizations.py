"""Adding and editing organizations from a plan: validation, duplicates, who may edit which, stale edits."""

from __future__ import annotations

import html
import re

import pytest

from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.models import Plan
from stakeholders.models import Organization, PlanMembership, User
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def new_url(plan: Plan) -> str:
    return f"/plans/{plan.pk}/organizations/new/"


def edit_url(plan: Plan, organization: Organization) -> str:
    return f"/plans/{plan.pk}/organizations/{organization.pk}/edit/"


def field_error(response, field_id: str) -> str:
    """The first error rendered right beside the field with this id, or "" when there is none."""
    match = re.search(rf'<small class="field-error" id="{field_id}_error">(.*?)</small>', response.content.decode())
    return html.unescape(match.group(1)) if match else ""


def non_field_errors(response) -> str:
    match = re.search(r'<div class="alert alert-error" role="alert">(.*?)</div>', response.content.decode(), re.S)
    return html.unescape(match.group(1)) if match else ""


def organizations() -> list[tuple]:
    """Every stored organization, as a change could touch it."""
    return sorted(
        Organization.objects.values_list("name", "acronym", "kind", "sectors", "jurisdiction_id", "version"),
        key=repr,
    )


def form_data(**overrides) -> dict:
    data = {
        "name": "National Public Health Institute",
        "acronym": "NPHI",
        "kind": "agency",
        "sectors": ["human_health", "animal_health"],
        "version": "",
    }
    return {**data, **overrides}


@pytest.fixture
def secretariat_client(client, lead):
    client.force_login(lead)
    return client


@pytest.fixture
def provincial_lead(provincial_plan) -> User:
    user = make_user("provincial_lead")
    PlanMembership.objects.create(plan=provincial_plan, user=user, role=Role.SECRETARIAT_LEAD)
    return user


@pytest.fixture
def provincial_department(province) -> Organization:
    return Organization.objects.create(
        name="North Provincial Health Department", kind="department", sectors=["human_health"], jurisdiction=province
    )


# Adding


def test_the_secretariat_adds_an_organization_with_its_kind_and_sectors(
    secretariat_client, plan, people, lead, country
):
    before = organizations()

    response = secretariat_client.post(new_url(plan), form_data(jurisdiction=country.pk, name="  Veterinary Services "))

    assert response.status_code == 302
    assert response["Location"] == f"/plans/{plan.pk}/directory/"
    added = Organization.objects.get(name="Veterinary Services")
    assert (added.acronym, added.kind, added.sectors, added.jurisdiction, added.version) == (
        "NPHI",
        "agency",
        ["human_health", "animal_health"],
        country,
        1,
    )
    assert sorted([*before, ("Veterinary Services", "NPHI", "agency", added.sectors, country.pk, 1)], key=repr) == (
        organizations()
    )
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.target_type, event.target_id) == (
        "created",
        lead,
        "organization",
        added.pk,
    )
    directory = secretariat_client.get(response["Location"])
    assert "Organization “Veterinary Services (NPHI)” added." in [str(m) for m in directory.context["messages"]]


def test_the_form_offers_the_plans_jurisdiction_by_default(secretariat_client, plan, people):
    response = secretariat_client.get(new_url(plan))
    assert response.status_code == 200
    assert response.context["form"]["jurisdiction"].value() == plan.jurisdiction_id


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sectors", ["human_health", "astrology"], "Select a valid choice. astrology is not one of the available"),
        ("kind", "secret_society", "Select a valid choice. secret_society is not one of the available"),
        ("kind", "", "This field is required."),
        ("name", "   ", "This field is required."),
    ],
)
def test_a_bad_field_is_refused_next_to_it_and_nothing_is_saved(
    secretariat_client, plan, people, country, field, value, message
):
    before = organizations()

    response = secretariat_client.post(new_url(plan), form_data(jurisdiction=country.pk, **{field: value}))

    assert response.status_code == 200
    assert field_error(response, f"id_{field}").startswith(message)
    assert organizations() == before
    assert not AuditEvent.objects.exists()


def test_a_duplicate_name_in_the_same_jurisdiction_is_refused_with_a_clear_message(
    secretariat_client, plan, people, country, moh
):
    before = organizations()

    response = secretariat_client.post(
        new_url(plan), form_data(name="ministry of HEALTH", kind="ministry", jurisdiction=country.pk)
    )

    assert response.status_code == 200
    assert "An organization with this name already exists in this jurisdiction." in non_field_errors(response)
    assert organizations() == before
    assert not AuditEvent.objects.exists()


def test_the_same_name_in_another_jurisdiction_is_allowed(secretariat_client, plan, people, province, moh):
    response = secretariat_client.post(new_url(plan), form_data(name="Ministry of Health", jurisdiction=province.pk))

    assert response.status_code == 302
    assert Organization.objects.filter(name="Ministry of Health").count() == 2


def test_a_provincial_secretariat_cannot_add_an_organization_to_the_country(
    client, provincial_plan, provincial_lead, country, province
):
    client.force_login(provincial_lead)
    before = organizations()

    response = client.post(new_url(provincial_plan), form_data(jurisdiction=country.pk))

    assert response.status_code == 200
    assert field_error(response, "id_jurisdiction").startswith("Select a valid choice.")
    assert organizations() == before
    added = client.post(new_url(provincial_plan), form_data(jurisdiction=province.pk))
    assert added.status_code == 302
    assert Organization.objects.get(name="National Public Health Institute").jurisdiction == province


@pytest.mark.parametrize(
    ("persona", "status"),
    [("technical_lead", 403), ("focal_point", 403), ("reviewer", 403), ("viewer", 403), ("outsider", 404)],
)
def test_only_the_secretariat_adds_or_edits_organizations(client, plan, people, country, moh, persona, status):
    client.force_login(people[persona])
    before = organizations()

    responses = [
        client.get(new_url(plan)),
        client.post(new_url(plan), form_data(jurisdiction=country.pk)),
        client.get(edit_url(plan, moh)),
        client.post(edit_url(plan, moh), form_data(jurisdiction=country.pk, version=1)),
    ]

    assert [response.status_code for response in responses] == [status] * 4
    assert organizations() == before


# Editing


def test_the_secretariat_edits_an_organization_and_the_change_is_recorded(secretariat_client, plan, people, lead, moh):
    moa_before = Organization.objects.filter(name="Ministry of Agriculture").values_list("name", "version").get()
    opened = secretariat_client.get(edit_url(plan, moh))
    assert opened.status_code == 200
    assert opened.context["form"]["version"].value() == 1

    response = secretariat_client.post(
        edit_url(plan, moh),
        form_data(
            name="Ministry of Health and Sanitation",
            acronym="MOHS",
            kind="ministry",
            sectors=["human_health", "environment"],
            jurisdiction=moh.jurisdiction_id,
            version=1,
        ),
    )

    assert response.status_code == 302
    moh.refresh_from_db()
    assert (moh.name, moh.acronym, moh.sectors, moh.version) == (
        "Ministry of Health and Sanitation",
        "MOHS",
        ["human_health", "environment"],
        2,
    )
    assert Organization.objects.filter(name="Ministry of Agriculture").values_list("name", "version").get() == (
        moa_before
    )
    event = AuditEvent.objects.get(action="changed")
    assert event.actor == lead
    assert event.changes == {
        "name": ["Ministry of Health", "Ministry of Health and Sanitation"],
        "acronym": ["MOH", "MOHS"],
        "sectors": [["human_health"], ["human_health", "environment"]],
    }


def test_renaming_to_the_name_of_another_organization_there_is_refused(secretariat_client, plan, people, country, moh):
    before = organizations()

    response = secretariat_client.post(
        edit_url(plan, moh),
        form_data(name="MINISTRY OF AGRICULTURE", kind="ministry", jurisdiction=country.pk, version=1),
    )

    assert response.status_code == 200
    assert "An organization with this name already exists in this jurisdiction." in non_field_errors(response)
    assert organizations() == before


def test_a_stale_edit_is_refused_with_409_and_keeps_the_first_save(secretariat_client, plan, people, country, moh):
    first = secretariat_client.post(
        edit_url(plan, moh),
        form_data(name="Ministry of Health (first)", kind="ministry", jurisdiction=country.pk, version=1),
    )
    assert first.status_code == 302

    second = secretariat_client.post(
        edit_url(plan, moh),
        form_data(name="Ministry of Health (second)", kind="ministry", jurisdiction=country.pk, version=1),
    )

    assert second.status_code == 409
    assert "Organization: someone else changed it after you opened it" in non_field_errors(second)
    assert second.context["form"]["name"].value() == "Ministry of Health (second)"  # their input is not lost
    moh.refresh_from_db()
    assert (moh.name, moh.version) == ("Ministry of Health (first)", 2)
    assert AuditEvent.objects.filter(action="changed").count() == 1


def test_an_edit_without_a_version_is_refused_as_stale(secretariat_client, plan, people, country, moh):
    response = secretariat_client.post(
        edit_url(plan, moh), form_data(name="Renamed", kind="ministry", jurisdiction=country.pk, version="")
    )

    assert response.status_code == 409
    moh.refresh_from_db()
    assert (moh.name, moh.version) == ("Ministry of Health", 1)


def test_a_provincial_secretariat_cannot_edit_a_national_ministry(client, provincial_plan, provincial_lead, moh):
    client.force_login(provincial_lead)
    before = organizations()

    opened = client.get(edit_url(provincial_plan, moh))
    saved = client.post(
        edit_url(provincial_plan, moh),
        form_data(name="Taken over", kind="ministry", jurisdiction=moh.jurisdiction_id, version=1),
    )

    assert (opened.status_code, saved.status_code) == (403, 403)
    assert "belongs to a jurisdiction above this plan" in html.unescape(saved.content.decode())
    assert organizations() == before
    assert not AuditEvent.objects.exists()


def test_a_provincial_secretariat_edits_its_provinces_organizations(
    client, provincial_plan, provincial_lead, province, provincial_department
):
    client.force_login(provincial_lead)

    response = client.post(
        edit_url(provincial_plan, provincial_department),
        form_data(name="North Provincial Health Office", kind="department", jurisdiction=province.pk, version=1),
    )

    assert response.status_code == 302
    provincial_department.refresh_from_db()
    assert (provincial_department.name, provincial_department.version) == ("North Provincial Health Office", 2)
    assert AuditEvent.objects.get(action="changed").actor == provincial_lead


def test_the_national_secretariat_also_edits_provincial_organizations(
    secretariat_client, plan, people, province, provincial_department
):
    response = secretariat_client.post(
        edit_url(plan, provincial_department),
        form_data(name="North Health Office", kind="department", jurisdiction=province.pk, version=1),
    )

    assert response.status_code == 302
    provincial_department.refresh_from_db()
    assert provincial_department.name == "North Health Office"


def test_an_organization_of_another_country_is_not_found(secretariat_client, plan, people, other_country):
    foreign = Organization.objects.create(name="Foreign Ministry", kind="ministry", jurisdiction=other_country)

    response = secretariat_client.post(
        edit_url(plan, foreign),
        form_data(name="Ours now", kind="ministry", jurisdiction=plan.jurisdiction_id, version=1),
    )

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert (foreign.name, foreign.jurisdiction, foreign.version) == ("Foreign Ministry", other_country, 1)
