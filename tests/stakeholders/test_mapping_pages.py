"""The register's and the map's pages and API: refusals beside the fields (422), duplicates offering to merge,
references scoped to the plan, unknown and read-only fields refused, constant query counts."""

from __future__ import annotations

import pytest

from planning.models import TechnicalArea
from stakeholders.mapping import person_create, stakeholder_create
from stakeholders.models import Organization, Person, Stakeholder

pytestmark = pytest.mark.django_db


def _fill(plan, lead, country, n: int) -> None:
    areas = list(TechnicalArea.objects.filter(framework__code="JEE3").order_by("order")[:3])
    for i in range(n):
        organization = Organization.objects.create(name=f"Agency {i:02}", kind="agency", jurisdiction=country)
        person_create(
            plan=plan, by=lead, fields={"name": f"Person {i}", "organization": organization, "email": f"p{i}@x.org"}
        )
        stakeholder_create(
            plan=plan,
            by=lead,
            fields={
                "organization": organization,
                "influence": 1 + i % 4,
                "interest": 1 + (i // 4) % 4,
                "relationship": "involved",
                "sectors": ["human_health"],
                "roles": ["implementer"],
                "technical_areas": areas,
                "relationship_owner": lead,
            },
        )


@pytest.mark.parametrize("n", [2, 30])
def test_the_pages_and_endpoints_run_a_constant_number_of_queries(
    client, api_client, plan, lead, country, n, django_assert_max_num_queries
):
    _fill(plan, lead, country, n)
    client.force_login(lead)
    api_client.force_authenticate(lead)
    for url in (f"/plans/{plan.pk}/people/", f"/plans/{plan.pk}/stakeholders/"):
        with django_assert_max_num_queries(16):
            assert client.get(url).status_code == 200
    for url in (
        f"/api/plans/{plan.pk}/people/",
        f"/api/plans/{plan.pk}/stakeholders/",
        f"/api/plans/{plan.pk}/stakeholder-map/",
    ):
        with django_assert_max_num_queries(12):
            assert api_client.get(url).status_code == 200


def test_the_map_shows_the_grid_its_strategies_and_the_uncovered_areas(client, plan, lead, moh, people):
    stakeholder_create(
        plan=plan, by=lead, fields={"organization": moh, "influence": 4, "interest": 4, "relationship": "collaborating"}
    )
    client.force_login(people["viewer"])
    page = client.get(f"/plans/{plan.pk}/stakeholders/").content.decode()
    assert 'id="quadrant-manage_closely"' in page and "Manage closely" in page and "Keep satisfied" in page
    assert "<svg" in page and "Ministry of Health" in page
    assert 'id="uncovered-areas"' in page and "Add a stakeholder" not in page


def test_a_duplicate_on_the_page_is_refused_beside_the_field_with_an_offer_to_merge(client, plan, lead, moh):
    jane = person_create(plan=plan, by=lead, fields={"name": "Jane", "organization": moh, "email": "jane@x.org"})
    client.force_login(lead)
    response = client.post(f"/plans/{plan.pk}/people/new/", {"name": "Janet", "email": "JANE@x.org", "phone": "123"})
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="duplicate-offer"' in page and f"/people/{jane.pk}/merge/" in page
    # The merge page compares, then merges what was chosen.
    compare = client.post(
        f"/plans/{plan.pk}/people/{jane.pk}/merge/",
        {"compare": "1", "entered_name": "Janet", "entered_email": "JANE@x.org", "entered_phone": "123"},
    )
    assert compare.status_code == 200 and "Janet" in compare.content.decode()
    merged = client.post(
        f"/plans/{plan.pk}/people/{jane.pk}/merge/",
        {
            "version": jane.version,
            "entered_name": "Janet",
            "entered_phone": "123",
            "keep_name": "existing",
            "keep_phone": "entered",
        },
    )
    assert merged.status_code == 302
    jane.refresh_from_db()
    assert (jane.name, jane.phone, jane.version) == ("Jane", "123", 2)
    assert Person.objects.filter(plan=plan).count() == 1


def test_the_stakeholder_form_refuses_an_owner_outside_the_secretariat_beside_the_field(
    client, plan, lead, moh, people
):
    client.force_login(lead)
    response = client.post(
        f"/plans/{plan.pk}/stakeholders/new/",
        {
            "organization": moh.pk,
            "influence": 3,
            "interest": 2,
            "relationship": "informed",
            "relationship_owner": people["viewer"].pk,
        },
    )
    assert response.status_code == 422
    assert "is not a member of the plan&#x27;s secretariat" in response.content.decode()
    assert not Stakeholder.objects.exists()


def test_the_api_refuses_a_duplicate_naming_the_existing_person_and_merges(api_client, plan, lead, moh, moa):
    jane = person_create(plan=plan, by=lead, fields={"name": "Jane", "organization": moh, "email": "jane@x.org"})
    api_client.force_authenticate(lead)
    url = f"/api/plans/{plan.pk}/people/"
    response = api_client.post(url, {"name": "Jane", "organization": moh.pk}, format="json")
    assert response.status_code == 400 and response.json()["existing_person"] == [str(jane.pk)]
    other = api_client.post(url, {"name": "J. Doe", "organization": moa.pk, "phone": "9"}, format="json").json()
    response = api_client.post(
        f"{url}{jane.pk}/merge/", {"version": 1, "other": other["id"], "other_version": 1, "phone": "9"}, format="json"
    )
    assert response.status_code == 200 and response.json()["phone"] == "9"
    assert not Person.objects.filter(pk=other["id"]).exists()


def test_the_api_refuses_unknown_and_read_only_fields_and_foreign_references(
    api_client, plan, lead, other_country, people
):
    foreign = Organization.objects.create(name="Elsewhere", kind="ministry", jurisdiction=other_country)
    api_client.force_authenticate(lead)
    url = f"/api/plans/{plan.pk}/stakeholders/"
    response = api_client.post(url, {"organization": foreign.pk, "colour": "red", "plan": 9}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert {"colour", "plan"} <= body.keys()
    response = api_client.post(url, {"organization": foreign.pk}, format="json")
    assert response.status_code == 400
    assert "organization" in response.json()
    moh = Organization.objects.get(name="Ministry of Health")
    response = api_client.post(url, {"organization": moh.pk, "relationship_owner": people["viewer"].pk}, format="json")
    assert response.status_code == 400 and "relationship_owner" in response.json()
    created = api_client.post(url, {"organization": moh.pk, "influence": 4, "interest": 1}, format="json").json()
    assert created["quadrant"] == "keep_satisfied"
    stale = api_client.patch(f"{url}{created['id']}/", {"interest": 4, "version": 7}, format="json")
    assert stale.status_code == 409
    assert api_client.patch(f"{url}{created['id']}/", {"interest": 4}, format="json").status_code == 400
    grid = api_client.get(f"/api/plans/{plan.pk}/stakeholder-map/").json()
    assert [q["key"] for q in grid["quadrants"]] == ["manage_closely", "keep_satisfied", "keep_informed", "monitor"]
    assert grid["quadrants"][1]["stakeholders"] == [created["id"]] and grid["quadrants"][1]["strategy"]
    assert grid["coverage"]["uncovered_sectors"]


def test_other_members_read_but_may_not_write(api_client, plan, people, moh):
    api_client.force_authenticate(people["viewer"])
    assert api_client.get(f"/api/plans/{plan.pk}/people/").status_code == 200
    assert api_client.post(f"/api/plans/{plan.pk}/people/", {"name": "X"}, format="json").status_code == 403
    api_client.force_authenticate(people["outsider"])
    assert api_client.get(f"/api/plans/{plan.pk}/people/").status_code == 404


def test_the_register_shows_a_page_of_people_at_a_time(client, plan, lead):
    """A national register runs to thousands: a hundred people a page, with the count of all and the next page."""
    from stakeholders.mapping_views import PEOPLE_PAGE_SIZE
    from stakeholders.models import Person

    Person.objects.bulk_create(Person(plan=plan, name=f"Participant {number:03d}") for number in range(130))
    client.force_login(lead)
    first = client.get(f"/plans/{plan.pk}/people/").content.decode()
    assert "130 people." in first
    assert first.count("Participant ") == PEOPLE_PAGE_SIZE and "Participant 099" in first
    assert "page=2" in first
    second = client.get(f"/plans/{plan.pk}/people/?page=2").content.decode()
    assert "Participant 129" in second and "Participant 000" not in second
