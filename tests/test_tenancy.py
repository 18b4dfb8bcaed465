"""One installation, many countries: opening a plan needs a grant for its country or the secretariat of the plan
it sits under, and a role in one country's plans reaches nothing of another's.

The takeover these tests close: a secretariat lead of one country, holding the global permission "Can add plan",
opened a national plan of another country, became its lead and, with that, renamed that country's organizations.
"""

from __future__ import annotations

import html
import importlib
import re

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission as AuthPermission
from django.core.management import call_command

from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.models import CountryGrant, Jurisdiction, Plan
from planning.services import jurisdiction_create
from stakeholders.models import Organization, PlanMembership, User
from tests.conftest import give_grant, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def elsewhere_plan(other_country) -> Plan:
    """Another country's national plan, led by someone of that country."""
    plan = Plan.objects.create(
        jurisdiction=other_country, title="Elsewhere NAPHS", kind="strategic", first_year=2026, last_year=2030
    )
    PlanMembership.objects.create(plan=plan, user=make_user("elsewhere_lead"), role=Role.SECRETARIAT_LEAD)
    return plan


@pytest.fixture
def elsewhere_agency(other_country) -> Organization:
    return Organization.objects.create(
        name="Elsewhere Health Agency", acronym="EHA", kind="agency", jurisdiction=other_country
    )


@pytest.fixture
def takeover_lead(lead, country) -> User:
    """Testland's lead as the tester found them: the global permission, and now also Testland's grant."""
    lead.user_permissions.add(AuthPermission.objects.get(codename="add_plan", content_type__app_label="planning"))
    give_grant(lead, country)
    return User.objects.get(pk=lead.pk)  # permissions are cached per instance


def national(jurisdiction: Jurisdiction, **overrides) -> dict:
    return {
        "jurisdiction": jurisdiction.pk,
        "title": "Taken-over NAPHS",
        "kind": "strategic",
        "first_year": 2027,
        "last_year": 2031,
        **overrides,
    }


def field_error(response, field_id: str) -> str:
    match = re.search(rf'<small class="field-error" id="{field_id}_error">(.*?)</small>', response.content.decode())
    return html.unescape(match.group(1)) if match else ""


def nothing_opened() -> bool:
    return not Plan.objects.filter(title="Taken-over NAPHS").exists()


# Opening a plan in another country ---------------------------------------------------------------------------


def test_the_form_offers_a_lead_only_their_own_countrys_jurisdictions_and_plans(
    client, takeover_lead, plan, other_country, elsewhere_plan
):
    PlanMembership.objects.create(plan=elsewhere_plan, user=takeover_lead, role=Role.VIEWER)
    client.force_login(takeover_lead)

    form = client.get("/plans/new/").context["form"]

    assert not form.fields["jurisdiction"].queryset.filter(country=other_country).exists()
    assert list(form.fields["parent"].queryset) == [plan]


@pytest.mark.parametrize("parent", ["", "own plan"])
def test_a_lead_of_one_country_cannot_open_a_plan_in_another_through_the_form(
    client, takeover_lead, plan, other_country, elsewhere_plan, parent
):
    PlanMembership.objects.create(plan=elsewhere_plan, user=takeover_lead, role=Role.VIEWER)
    client.force_login(takeover_lead)

    response = client.post(
        "/plans/new/", national(other_country, parent=plan.pk if parent else "", first_year=2026, last_year=2030)
    )

    assert response.status_code == 200
    assert field_error(response, "id_jurisdiction").startswith("Choose the jurisdiction of a plan whose secretariat")
    assert nothing_opened()
    assert (
        not PlanMembership.objects.filter(plan__jurisdiction=other_country, user=takeover_lead)
        .exclude(role=Role.VIEWER)
        .exists()
    )


def test_a_lead_of_one_country_cannot_open_a_national_plan_in_another_through_the_api(
    api_client, takeover_lead, other_country, elsewhere_plan
):
    api_client.force_authenticate(takeover_lead)

    unseen = api_client.post("/api/plans/", national(other_country), format="json")
    assert unseen.status_code == 400
    assert "is not in a country of your plans or a country granted to you" in unseen.json()["jurisdiction"][0]

    # Seeing the other country's plan (as a viewer) is no grant for that country.
    PlanMembership.objects.create(plan=elsewhere_plan, user=takeover_lead, role=Role.VIEWER)
    seen = api_client.post("/api/plans/", national(other_country), format="json")
    assert seen.status_code == 403
    assert "needs an administrator's grant for Elsewhere" in seen.json()["detail"]
    assert nothing_opened()
    assert list(PlanMembership.objects.filter(user=takeover_lead).values_list("plan__jurisdiction", "role")) == [
        (takeover_lead.plan_memberships.get(role=Role.SECRETARIAT_LEAD).plan.jurisdiction_id, Role.SECRETARIAT_LEAD),
        (other_country.pk, Role.VIEWER),
    ]


def test_a_plan_under_ones_own_plan_stays_in_its_jurisdiction(api_client, takeover_lead, plan, other_country):
    far_province = jurisdiction_create(level="province", name="Far Province", parent=other_country)
    give_grant(takeover_lead, other_country)  # even where they may open national plans
    api_client.force_authenticate(takeover_lead)

    response = api_client.post(
        "/api/plans/", national(far_province, parent=plan.pk, first_year=2026, last_year=2030), format="json"
    )

    assert response.status_code == 400
    assert response.json()["jurisdiction"] == ["Far Province is not in Testland, the country of the parent plan."]
    assert "another country" in response.json()["parent"][0]
    assert nothing_opened()


def test_the_old_global_permission_opens_no_plan_anywhere(client, api_client, people, country):
    user = people["outsider"]
    user.user_permissions.add(AuthPermission.objects.get(codename="add_plan", content_type__app_label="planning"))
    user = User.objects.get(pk=user.pk)
    client.force_login(user)
    api_client.force_authenticate(user)

    assert not client.get("/plans/new/").context["form"].fields["jurisdiction"].queryset.exists()
    assert client.post("/plans/new/", national(country, parent="")).status_code == 200
    assert api_client.post("/api/plans/", national(country), format="json").status_code == 400
    assert 'href="/plans/new/"' not in client.get("/").content.decode()
    assert nothing_opened()


def test_a_grant_opens_national_plans_of_its_country_and_the_lead_then_keeps_its_organizations(
    api_client, people, other_country, elsewhere_agency
):
    user = people["outsider"]
    give_grant(user, other_country)
    api_client.force_authenticate(user)

    opened = api_client.post("/api/plans/", national(other_country), format="json")
    renamed = api_client.patch(
        f"/api/organizations/{elsewhere_agency.pk}/",
        {"name": "Elsewhere Public Health Agency", "version": elsewhere_agency.version},
        format="json",
    )

    assert opened.status_code == 201
    assert PlanMembership.objects.get(plan_id=opened.json()["id"], user=user).role == Role.SECRETARIAT_LEAD
    assert renamed.status_code == 200
    elsewhere_agency.refresh_from_db()
    assert elsewhere_agency.name == "Elsewhere Public Health Agency"


def test_the_home_page_offers_to_open_a_plan_to_grant_holders_and_secretariats_only(client, people, country):
    client.force_login(people["outsider"])
    assert 'href="/plans/new/"' not in client.get("/").content.decode()
    give_grant(people["outsider"], country)
    assert 'href="/plans/new/"' in client.get("/").content.decode()


# Another country's organizations -----------------------------------------------------------------------------


@pytest.mark.parametrize("sees_their_plan", [False, True])
def test_a_lead_of_one_country_cannot_change_another_countrys_organizations(
    api_client, client, takeover_lead, plan, elsewhere_plan, elsewhere_agency, sees_their_plan
):
    if sees_their_plan:
        PlanMembership.objects.create(plan=elsewhere_plan, user=takeover_lead, role=Role.VIEWER)
    api_client.force_authenticate(takeover_lead)
    client.force_login(takeover_lead)
    before = Organization.objects.filter(pk=elsewhere_agency.pk).values().get()

    patched = api_client.patch(
        f"/api/organizations/{elsewhere_agency.pk}/", {"name": "Renamed", "version": 1}, format="json"
    )
    deleted = api_client.delete(f"/api/organizations/{elsewhere_agency.pk}/")
    through_own_plan = client.post(
        f"/plans/{plan.pk}/organizations/{elsewhere_agency.pk}/edit/",
        {"name": "Renamed", "kind": "agency", "jurisdiction": plan.jurisdiction_id, "version": 1},
    )

    expected = 403 if sees_their_plan else 404
    assert (patched.status_code, deleted.status_code) == (expected, expected)
    assert through_own_plan.status_code == expected
    assert Organization.objects.filter(pk=elsewhere_agency.pk).values().get() == before


def test_an_organization_cannot_be_moved_into_another_country(
    api_client, takeover_lead, moh, elsewhere_plan, other_country
):
    PlanMembership.objects.create(plan=elsewhere_plan, user=takeover_lead, role=Role.VIEWER)
    api_client.force_authenticate(takeover_lead)

    response = api_client.patch(
        f"/api/organizations/{moh.pk}/", {"jurisdiction": other_country.pk, "version": moh.version}, format="json"
    )

    assert response.status_code == 403
    moh.refresh_from_db()
    assert moh.jurisdiction.name == "Testland"


# Moving a plan -------------------------------------------------------------------------------------------------


def test_a_plan_moves_only_under_a_plan_of_its_country_that_one_runs(
    client, lead, plan, provincial_plan, elsewhere_plan
):
    PlanMembership.objects.create(plan=provincial_plan, user=lead, role=Role.SECRETARIAT_LEAD)
    PlanMembership.objects.create(plan=elsewhere_plan, user=lead, role=Role.SECRETARIAT_MEMBER)
    client.force_login(lead)
    settings = {"title": provincial_plan.title, "kind": "strategic", "first_year": 2026, "last_year": 2030}

    offered = client.get(f"/plans/{provincial_plan.pk}/settings/").context["form"].fields["parent"].queryset
    abroad = client.post(
        f"/plans/{provincial_plan.pk}/settings/",
        {**settings, "parent": elsewhere_plan.pk, "version": provincial_plan.version},
    )
    detached = client.post(
        f"/plans/{provincial_plan.pk}/settings/", {**settings, "parent": "", "version": provincial_plan.version}
    )

    assert list(offered) == [plan]
    assert abroad.status_code == 200
    assert field_error(abroad, "id_parent") == "Choose a plan of Testland whose secretariat you are in."
    assert detached.status_code == 200
    assert "needs an administrator's grant for Testland" in field_error(detached, "id_parent")
    provincial_plan.refresh_from_db()
    assert (provincial_plan.parent, provincial_plan.version) == (plan, 1)


def test_through_the_api_a_plan_keeps_its_parent_unless_one_may_open_it_elsewhere(
    api_client, lead, plan, provincial_plan, elsewhere_plan
):
    PlanMembership.objects.create(plan=provincial_plan, user=lead, role=Role.SECRETARIAT_LEAD)
    PlanMembership.objects.create(plan=elsewhere_plan, user=lead, role=Role.VIEWER)
    api_client.force_authenticate(lead)
    url = f"/api/plans/{provincial_plan.pk}/"

    abroad = api_client.patch(url, {"parent": elsewhere_plan.pk, "version": 1}, format="json")
    detached = api_client.patch(url, {"parent": None, "version": 1}, format="json")

    assert abroad.status_code == 403
    assert "Only the secretariat of “Elsewhere NAPHS” opens plans under it" in abroad.json()["detail"]
    assert detached.status_code == 403
    assert "needs an administrator's grant for Testland" in detached.json()["detail"]
    provincial_plan.refresh_from_db()
    assert (provincial_plan.parent, provincial_plan.version) == (plan, 1)


# Grants ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, db):
    admin = make_user("site_admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    client.admin = admin
    return client


def test_an_administrator_gives_and_withdraws_a_grant_and_both_are_audited(admin_client, people, country):
    person = people["outsider"]

    added = admin_client.post("/admin/planning/countrygrant/add/", {"user": person.pk, "country": country.pk})

    assert added.status_code == 302
    grant = CountryGrant.objects.get(user=person, country=country)
    assert grant.granted_by == admin_client.admin
    given = AuditEvent.objects.get(target_type="countrygrant", action="granted")
    assert (given.actor, given.plan, given.changes) == (
        admin_client.admin,
        None,
        {"user": [None, "outsider"], "country": [None, "Testland (XT)"]},
    )

    withdrawn = admin_client.post(f"/admin/planning/countrygrant/{grant.pk}/delete/", {"post": "yes"})

    assert withdrawn.status_code == 302
    assert not CountryGrant.objects.exists()
    taken = AuditEvent.objects.get(target_type="countrygrant", action="withdrew")
    assert (taken.actor, taken.target_id, taken.changes["user"]) == (admin_client.admin, grant.pk, ["outsider", None])


def test_a_grant_is_for_a_country_once_and_never_edited(admin_client, people, country, province):
    person = people["outsider"]

    for_province = admin_client.post("/admin/planning/countrygrant/add/", {"user": person.pk, "country": province.pk})
    assert for_province.status_code == 200
    assert "Select a valid choice" in str(for_province.context["adminform"].form.errors["country"])
    give_grant(person, country)
    twice = admin_client.post("/admin/planning/countrygrant/add/", {"user": person.pk, "country": country.pk})
    assert twice.status_code == 200
    assert "already holds a grant for this country" in twice.content.decode()

    grant = CountryGrant.objects.get()
    change = admin_client.get(f"/admin/planning/countrygrant/{grant.pk}/change/")
    assert set(change.context["adminform"].form.fields) == set()  # every field read-only
    assert CountryGrant.objects.count() == 1
    assert not AuditEvent.objects.filter(target_type="countrygrant").exists()


def test_upgrading_turns_the_old_permission_into_grants_for_the_countries_one_leads(
    lead, plan, provincial_plan, other_country, people
):
    permission = AuthPermission.objects.get(codename="add_plan", content_type__app_label="planning")
    lead.user_permissions.add(permission)
    provincial_lead = people[Role.SECRETARIAT_MEMBER]
    PlanMembership.objects.create(plan=provincial_plan, user=provincial_lead, role=Role.SECRETARIAT_LEAD)
    provincial_lead.user_permissions.add(permission)
    migration = importlib.import_module("planning.migrations.0007_country_grant")

    migration.grants_from_the_add_plan_permission(apps, None)
    migration.grants_from_the_add_plan_permission(apps, None)  # again: nothing twice

    assert list(CountryGrant.objects.values_list("user__username", "country__code")) == [("secretariat_lead", "XT")]


def test_the_demo_lead_holds_demolands_grant_and_no_global_permission(monkeypatch, jee3):
    monkeypatch.setenv("DEMO_ALLOW_PRODUCTION", "1")
    call_command("demo_load", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("demo_load", stdout=open("/dev/null", "w"))  # noqa: SIM115  a second run changes nothing

    lead = User.objects.get(username="lead")
    assert list(CountryGrant.objects.values_list("user__username", "country__code", "granted_by__username")) == [
        ("lead", "XD", "admin")
    ]
    assert not lead.has_perm("planning.add_plan")
