"""The REST API: token sign-in, plans, memberships, organizations, the directory export and its job."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from naphs.models import AuditEvent, Job
from naphs.permissions import Role
from planning.models import Jurisdiction, Plan
from planning.services import jurisdiction_create
from stakeholders.job_kinds import StakeholdersJob
from stakeholders.models import Organization, PlanMembership, User
from tests.conftest import PASSWORD, give_grant, make_user

pytestmark = pytest.mark.django_db

# Pinned query counts of the list endpoints, whatever the number of rows (measured, then pinned).
PLANS_LIST_QUERIES = 4
MEMBERSHIPS_LIST_QUERIES = 4
ORGANIZATIONS_LIST_QUERIES = 2
JOBS_LIST_QUERIES = 2


def plan_state(plan: Plan) -> tuple:
    return Plan.objects.filter(pk=plan.pk).values_list("title", "first_year", "last_year", "parent", "version").get()


def memberships_of(plan: Plan) -> list[tuple]:
    return sorted(
        PlanMembership.objects.filter(plan=plan).values_list("user__username", "role", "organization_id", "version")
    )


def organizations() -> list[tuple]:
    return sorted(
        Organization.objects.values_list("name", "acronym", "kind", "sectors", "jurisdiction_id", "version"), key=repr
    )


@pytest.fixture
def as_lead(api_client, lead):
    api_client.force_authenticate(lead)
    return api_client


# Token sign-in


@pytest.mark.parametrize("name", ["secretariat_lead", "SECRETARIAT_LEAD@EXAMPLE.ORG"])
def test_a_token_is_issued_for_a_user_name_or_email_and_authenticates_requests(api_client, plan, lead, name):
    response = api_client.post("/api/auth/token/", {"username": name, "password": PASSWORD}, format="json")

    assert response.status_code == 200
    token = response.json()["token"]
    assert re.fullmatch(r"[0-9a-f]{40}", token)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    plans = api_client.get("/api/plans/")
    assert plans.status_code == 200
    assert [row["id"] for row in plans.json()["results"]] == [plan.pk]
    again = api_client.post("/api/auth/token/", {"username": "secretariat_lead", "password": PASSWORD}, format="json")
    assert again.json()["token"] == token  # one token per person


def test_a_wrong_password_gets_400_and_no_token(api_client, lead):
    response = api_client.post("/api/auth/token/", {"username": "secretariat_lead", "password": "wrong"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
    assert "token" not in response.json()
    from rest_framework.authtoken.models import Token

    assert not Token.objects.exists()


def test_a_token_request_with_a_field_the_endpoint_does_not_read_is_refused_by_name(api_client, lead):
    body = {"username": "secretariat_lead", "password": PASSWORD, "expires": "never", "token": "mine"}
    response = api_client.post("/api/auth/token/", body, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"expires", "token"}
    from rest_framework.authtoken.models import Token

    assert not Token.objects.exists()


def test_someone_only_invited_gets_no_token(api_client, plan, lead):
    from stakeholders.services import invitation_create

    invitation_create(plan=plan, by=lead, email="new@example.org", role=Role.VIEWER)
    response = api_client.post("/api/auth/token/", {"username": "new@example.org", "password": ""}, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "Authentication credentials were not provided."),
        ("Token 0000000000000000000000000000000000000000", "Invalid token."),
    ],
)
def test_without_a_valid_token_the_api_refuses_and_says_why(api_client, plan, header, detail):
    if header:
        api_client.credentials(HTTP_AUTHORIZATION=header)
    response = api_client.get("/api/plans/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": detail}


# Plans


def test_the_plans_list_shows_only_my_plans_with_my_role(api_client, plan, provincial_plan, people, other_country):
    Plan.objects.create(jurisdiction=other_country, title="Elsewhere plan", first_year=2026, last_year=2030)
    PlanMembership.objects.create(plan=provincial_plan, user=people["viewer"], role=Role.SECRETARIAT_MEMBER)
    api_client.force_authenticate(people["viewer"])

    response = api_client.get("/api/plans/")

    assert response.status_code == 200
    rows = {row["title"]: row for row in response.json()["results"]}
    assert set(rows) == {plan.title, provincial_plan.title}
    assert rows[plan.title]["my_role"] == "viewer"
    assert rows[provincial_plan.title]["my_role"] == "secretariat_member"
    assert rows[provincial_plan.title]["parent"] == plan.pk
    assert rows[plan.title]["version"] == 1


def test_retrieving_a_plan_needs_membership(api_client, plan, people):
    api_client.force_authenticate(people["reviewer"])
    response = api_client.get(f"/api/plans/{plan.pk}/")
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["my_role"]) == (plan.title, "reviewer")

    api_client.force_authenticate(people["outsider"])
    assert api_client.get(f"/api/plans/{plan.pk}/").status_code == 404


def test_patching_a_plan_needs_the_version_and_bumps_it(as_lead, plan, lead):
    without = as_lead.patch(f"/api/plans/{plan.pk}/", {"title": "Renamed"}, format="json")
    assert without.status_code == 400
    assert "version" in without.json()
    assert plan_state(plan)[0] == "Testland NAPHS 2026–2030"

    response = as_lead.patch(f"/api/plans/{plan.pk}/", {"title": "Renamed", "version": 1}, format="json")

    assert response.status_code == 200
    assert (response.json()["title"], response.json()["version"]) == ("Renamed", 2)
    assert plan_state(plan) == ("Renamed", 2026, 2030, None, 2)
    event = AuditEvent.objects.get(action="changed settings of")
    assert (event.actor, event.changes) == (lead, {"title": ["Testland NAPHS 2026–2030", "Renamed"]})


def test_a_stale_plan_patch_gets_409_and_keeps_the_first_save(as_lead, plan):
    as_lead.patch(f"/api/plans/{plan.pk}/", {"title": "First", "version": 1}, format="json")

    response = as_lead.patch(f"/api/plans/{plan.pk}/", {"title": "Second", "version": 1}, format="json")

    assert response.status_code == 409
    assert response.json()["detail"].startswith("Plan: someone else changed it after you opened it.")
    assert plan_state(plan) == ("First", 2026, 2030, None, 2)


def test_a_last_year_before_the_first_is_refused_naming_last_year(as_lead, plan):
    response = as_lead.patch(f"/api/plans/{plan.pk}/", {"last_year": 2024, "version": 1}, format="json")

    assert response.status_code == 400
    assert response.json() == {"last_year": ["The last year (2024) precedes the first year (2026)."]}
    assert plan_state(plan) == ("Testland NAPHS 2026–2030", 2026, 2030, None, 1)


@pytest.mark.parametrize(("persona", "status"), [("technical_lead", 403), ("viewer", 403), ("outsider", 404)])
def test_only_the_secretariat_changes_a_plan(api_client, plan, people, persona, status):
    api_client.force_authenticate(people[persona])
    response = api_client.patch(f"/api/plans/{plan.pk}/", {"title": "Mine", "version": 1}, format="json")
    assert response.status_code == status
    assert plan_state(plan)[0] == "Testland NAPHS 2026–2030"


def test_opening_a_national_plan_needs_a_grant_for_its_country(api_client, country, people):
    user = people["outsider"]
    api_client.force_authenticate(user)
    data = {
        "jurisdiction": country.pk,
        "title": "Second NAPHS",
        "kind": "strategic",
        "first_year": 2031,
        "last_year": 2035,
    }

    # Without a grant an outsider cannot even point at the country; the lead of a plan there can, but opening a
    # plan under none needs the grant; with the grant, the plan opens.
    refused = api_client.post("/api/plans/", data, format="json")
    assert refused.status_code == 400
    assert "is not in a country of your plans or a country granted to you" in refused.json()["jurisdiction"][0]
    lead_of_other = people[Role.SECRETARIAT_LEAD]
    api_client.force_authenticate(lead_of_other)
    forbidden = api_client.post("/api/plans/", data, format="json")
    assert forbidden.status_code == 403
    assert "needs an administrator's grant for Testland" in forbidden.json()["detail"]
    assert not Plan.objects.filter(title="Second NAPHS").exists()

    give_grant(user, country)
    api_client.force_authenticate(user)
    created = api_client.post("/api/plans/", data, format="json")

    assert created.status_code == 201
    body = created.json()
    assert (body["title"], body["my_role"], body["status"], body["version"]) == (
        "Second NAPHS",
        "secretariat_lead",
        "draft",
        1,
    )
    new_plan = Plan.objects.get(pk=body["id"])
    assert memberships_of(new_plan) == [("outsider", "secretariat_lead", None, 1)]


def test_the_parent_plans_secretariat_opens_a_child_plan_and_becomes_its_lead(api_client, plan, province, people):
    member = people[Role.SECRETARIAT_MEMBER]
    api_client.force_authenticate(member)

    response = api_client.post(
        "/api/plans/",
        {
            "jurisdiction": province.pk,
            "title": "North Province NAPHS",
            "kind": "strategic",
            "first_year": 2026,
            "last_year": 2030,
            "parent": plan.pk,
        },
        format="json",
    )

    assert response.status_code == 201
    child = Plan.objects.get(pk=response.json()["id"])
    assert (child.parent, child.jurisdiction, response.json()["my_role"]) == (plan, province, "secretariat_lead")
    assert memberships_of(child) == [("secretariat_member", "secretariat_lead", None, 1)]
    assert AuditEvent.objects.filter(plan=child, actor=member, action="created").exists()


def test_a_plan_opened_without_a_kind_is_strategic(api_client, plan, province, people):
    api_client.force_authenticate(people[Role.SECRETARIAT_LEAD])
    response = api_client.post(
        "/api/plans/",
        {
            "jurisdiction": province.pk,
            "title": "No kind given",
            "first_year": 2026,
            "last_year": 2030,
            "parent": plan.pk,
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["kind"] == "strategic"
    assert Plan.objects.get(title="No kind given").kind == Plan.Kind.STRATEGIC


def test_a_member_outside_the_secretariat_cannot_open_a_child_plan(api_client, plan, province, people):
    api_client.force_authenticate(people["technical_lead"])
    response = api_client.post(
        "/api/plans/",
        {"jurisdiction": province.pk, "title": "Unasked", "first_year": 2026, "last_year": 2030, "parent": plan.pk},
        format="json",
    )
    assert response.status_code == 403
    assert not Plan.objects.filter(title="Unasked").exists()


def test_a_provincial_plan_under_another_countrys_plan_is_refused_naming_parent(
    api_client, plan, province, other_country, people
):
    lead = people[Role.SECRETARIAT_LEAD]
    foreign_plan = Plan.objects.create(
        jurisdiction=other_country, title="Elsewhere NAPHS", first_year=2026, last_year=2030
    )
    PlanMembership.objects.create(plan=foreign_plan, user=lead, role=Role.SECRETARIAT_LEAD)
    api_client.force_authenticate(lead)
    plans_before = Plan.objects.count()

    response = api_client.post(
        "/api/plans/",
        {
            "jurisdiction": province.pk,
            "title": "Crossed wires",
            "kind": "strategic",
            "first_year": 2026,
            "last_year": 2030,
            "parent": foreign_plan.pk,
        },
        format="json",
    )

    assert response.status_code == 400
    assert sorted(response.json()) == ["jurisdiction", "parent"]
    assert "another country" in response.json()["parent"][0]
    assert "North Province is not in Elsewhere" in response.json()["jurisdiction"][0]
    assert Plan.objects.count() == plans_before
    assert not PlanMembership.objects.filter(plan__title="Crossed wires").exists()


def test_a_new_plan_with_its_years_reversed_is_refused_naming_last_year(api_client, plan, province, people):
    api_client.force_authenticate(people[Role.SECRETARIAT_LEAD])
    response = api_client.post(
        "/api/plans/",
        {"jurisdiction": province.pk, "title": "Backwards", "first_year": 2030, "last_year": 2026, "parent": plan.pk},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["last_year"]
    assert not Plan.objects.filter(title="Backwards").exists()


@pytest.mark.parametrize("extra_plans", [1, 20])
def test_the_plans_list_runs_a_constant_number_of_queries(
    api_client, country, province, extra_plans, django_assert_max_num_queries
):
    user = make_user("busy")
    for number in range(extra_plans):
        plan = Plan.objects.create(jurisdiction=province, title=f"Plan {number}", first_year=2026, last_year=2030)
        PlanMembership.objects.create(plan=plan, user=user, role=Role.VIEWER)
    api_client.force_authenticate(user)

    with django_assert_max_num_queries(PLANS_LIST_QUERIES):
        response = api_client.get("/api/plans/")

    assert response.json()["count"] == extra_plans


# Memberships


def memberships_url(plan: Plan) -> str:
    return f"/api/plans/{plan.pk}/memberships/"


def test_any_member_reads_the_members_and_an_outsider_gets_404(api_client, plan, people):
    api_client.force_authenticate(people["viewer"])
    response = api_client.get(memberships_url(plan))
    assert response.status_code == 200
    assert [row["role"] for row in response.json()["results"]] == [role.value for role in Role]
    assert response.json()["results"][0]["email"] == "secretariat_lead@example.org"

    api_client.force_authenticate(people["outsider"])
    assert api_client.get(memberships_url(plan)).status_code == 404


def test_nobody_is_added_to_a_plan_directly_they_are_invited(as_lead, plan, people, mailoutbox):
    """People join by accepting an invitation (/api/plans/{id}/invitations/, tested with the members page)."""
    users_before, members_before = User.objects.count(), memberships_of(plan)

    response = as_lead.post(memberships_url(plan), {"email": "outsider@example.org", "role": "viewer"}, format="json")

    assert response.status_code == 405
    assert (User.objects.count(), memberships_of(plan)) == (users_before, members_before)
    assert mailoutbox == []


def test_changing_a_role_needs_the_version_and_refuses_a_stale_one(as_lead, plan, people, lead, moh):
    membership = PlanMembership.objects.get(plan=plan, user=people["viewer"])
    url = f"{memberships_url(plan)}{membership.pk}/"

    without = as_lead.patch(url, {"role": "reviewer"}, format="json")
    assert without.status_code == 400
    assert "version" in without.json()

    changed = as_lead.patch(url, {"role": "technical_lead", "version": 1}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["role"], changed.json()["version"], changed.json()["organization"]) == (
        "technical_lead",
        2,
        moh.pk,
    )
    stale = as_lead.patch(url, {"role": "reviewer", "version": 1}, format="json")
    assert stale.status_code == 409
    assert "Plan membership: someone else changed it" in stale.json()["detail"]

    membership.refresh_from_db()
    assert (membership.role, membership.version) == (Role.TECHNICAL_LEAD, 2)
    event = AuditEvent.objects.get(action="changed the role of")
    assert (event.actor, event.changes) == (lead, {"role": ["viewer", "technical_lead"]})


def test_the_email_of_a_member_cannot_be_changed_through_the_membership(as_lead, plan, people):
    membership = PlanMembership.objects.get(plan=plan, user=people["viewer"])
    response = as_lead.patch(
        f"{memberships_url(plan)}{membership.pk}/",
        {"email": "hijack@example.org", "role": "reviewer", "version": 1},
        format="json",
    )
    assert response.status_code == 400  # refused, not silently ignored
    assert list(response.json()) == ["email"]
    assert "cannot be written" in response.json()["email"][0]  # a person's own account, never the plan's
    assert User.objects.get(pk=people["viewer"].pk).email == "viewer@example.org"
    assert PlanMembership.objects.get(pk=membership.pk).role == Role.VIEWER  # nothing of the request saved


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("nickname", "x", "Unknown field"),
        ("id", 999, "cannot be written"),
        ("created_at", "2020-01-01T00:00:00Z", "cannot be written"),
    ],
)
def test_a_field_the_api_does_not_write_is_refused_naming_it(as_lead, plan, people, field, value, says):
    membership = PlanMembership.objects.get(plan=plan, user=people["viewer"])
    response = as_lead.patch(
        f"{memberships_url(plan)}{membership.pk}/", {field: value, "role": "reviewer", "version": 1}, format="json"
    )
    assert response.status_code == 400
    assert says in response.json()[field][0]
    assert PlanMembership.objects.get(pk=membership.pk).role == Role.VIEWER


def test_a_plans_country_cannot_be_changed_and_the_schema_says_so(as_lead, plan, other_country):
    before = plan_state(plan)
    response = as_lead.patch(f"/api/plans/{plan.pk}/", {"jurisdiction": other_country.pk, "version": 1}, format="json")
    assert response.status_code == 400
    assert "cannot be changed" in response.json()["jurisdiction"][0]
    assert plan_state(plan) == before

    schema = as_lead.get("/api/schema/?format=json").json()["components"]["schemas"]
    assert schema["PatchedPlanChangeRequest"]["additionalProperties"] is False
    assert "jurisdiction" not in schema["PatchedPlanChangeRequest"]["properties"]
    assert "jurisdiction" in schema["PlanRequest"]["properties"]


def test_removing_a_member(as_lead, plan, people, lead):
    membership = PlanMembership.objects.get(plan=plan, user=people["viewer"])
    others = [row for row in memberships_of(plan) if row[0] != "viewer"]

    response = as_lead.delete(f"{memberships_url(plan)}{membership.pk}/")

    assert response.status_code == 204
    assert memberships_of(plan) == others
    assert User.objects.filter(pk=people["viewer"].pk).exists()
    assert AuditEvent.objects.get(action="removed").actor == lead


def test_the_last_lead_can_be_neither_demoted_nor_removed(as_lead, plan, people, lead):
    membership = PlanMembership.objects.get(plan=plan, user=lead)
    url = f"{memberships_url(plan)}{membership.pk}/"
    before = memberships_of(plan)

    demoted = as_lead.patch(url, {"role": "viewer", "version": 1}, format="json")
    removed = as_lead.delete(url)

    only_lead = "This is the plan's only secretariat lead. Name another lead first."
    assert (demoted.status_code, demoted.json()) == (400, {"role": [only_lead]})
    # A deletion refused for the state of the plan: a conflict, as the schema documents for every DELETE.
    assert (removed.status_code, removed.json()) == (409, {"detail": only_lead, "code": "protected"})
    assert memberships_of(plan) == before
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("technical_lead", 403), ("reviewer", 403), ("outsider", 404)])
def test_only_the_secretariat_changes_memberships(api_client, plan, people, persona, status):
    api_client.force_authenticate(people[persona])
    viewer = PlanMembership.objects.get(plan=plan, user=people["viewer"])
    before = memberships_of(plan)

    responses = [
        api_client.post(memberships_url(plan), {"email": "x@example.org", "role": "viewer"}, format="json"),
        api_client.patch(f"{memberships_url(plan)}{viewer.pk}/", {"role": "reviewer", "version": 1}, format="json"),
        api_client.delete(f"{memberships_url(plan)}{viewer.pk}/"),
    ]

    assert [response.status_code for response in responses] == [status] * 3
    assert memberships_of(plan) == before
    assert not User.objects.filter(email="x@example.org").exists()


@pytest.mark.parametrize("size", [5, 50])
def test_the_memberships_list_runs_a_constant_number_of_queries(
    api_client, plan, moh, size, django_assert_max_num_queries
):
    lead = make_user("lead")
    PlanMembership.objects.create(plan=plan, user=lead, role=Role.SECRETARIAT_LEAD)
    for number in range(size - 1):
        PlanMembership.objects.create(plan=plan, user=make_user(f"m{number}"), role=Role.FOCAL_POINT, organization=moh)
    api_client.force_authenticate(lead)

    with django_assert_max_num_queries(MEMBERSHIPS_LIST_QUERIES):
        response = api_client.get(memberships_url(plan))

    assert response.json()["count"] == size


# Organizations


def test_a_secretariat_member_adds_an_organization_in_their_country(api_client, plan, people, country):
    member = people[Role.SECRETARIAT_MEMBER]
    api_client.force_authenticate(member)

    response = api_client.post(
        "/api/organizations/",
        {"name": "Red Cross Society", "kind": "ngo", "sectors": ["disaster_management"], "jurisdiction": country.pk},
        format="json",
    )

    assert response.status_code == 201
    assert {key: response.json()[key] for key in ("name", "acronym", "kind", "sectors", "jurisdiction", "version")} == {
        "name": "Red Cross Society",
        "acronym": "",
        "kind": "ngo",
        "sectors": ["disaster_management"],
        "jurisdiction": country.pk,
        "version": 1,
    }
    assert AuditEvent.objects.get(action="created", target_type="organization").actor == member


@pytest.mark.parametrize("persona", ["reviewer", "technical_lead", "viewer"])
def test_a_member_outside_the_secretariat_cannot_add_an_organization(api_client, plan, people, country, persona):
    api_client.force_authenticate(people[persona])
    before = organizations()

    response = api_client.post(
        "/api/organizations/", {"name": "Shadow Agency", "kind": "agency", "jurisdiction": country.pk}, format="json"
    )

    assert response.status_code == 403
    assert organizations() == before


def test_an_organization_cannot_be_added_in_a_country_where_i_have_no_plan(api_client, plan, people, other_country):
    api_client.force_authenticate(people[Role.SECRETARIAT_LEAD])
    response = api_client.post(
        "/api/organizations/", {"name": "Far Agency", "kind": "agency", "jurisdiction": other_country.pk}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["jurisdiction"]
    assert not Organization.objects.filter(name="Far Agency").exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "kind": "cabal"}, "kind"),
        ({"name": "X", "kind": "ngo", "sectors": ["astrology"]}, "sectors"),
    ],
)
def test_a_bad_organization_is_refused_with_400(as_lead, plan, people, country, moh, payload, field):
    before = organizations()
    response = as_lead.post("/api/organizations/", {**payload, "jurisdiction": country.pk}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert organizations() == before


def test_a_duplicate_organization_name_in_the_jurisdiction_is_refused_with_400(as_lead, plan, people, country, moh):
    before = organizations()
    response = as_lead.post(
        "/api/organizations/",
        {"name": "ministry of health", "kind": "ministry", "jurisdiction": country.pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["An organization with this name already exists in this jurisdiction."]
    }
    assert organizations() == before


def test_updating_an_organization_needs_the_version_and_refuses_a_stale_one(as_lead, plan, people, lead, moh):
    url = f"/api/organizations/{moh.pk}/"

    without = as_lead.patch(url, {"acronym": "MoH"}, format="json")
    assert without.status_code == 400
    assert "version" in without.json()

    saved = as_lead.patch(url, {"acronym": "MoH", "version": 1}, format="json")
    assert saved.status_code == 200
    assert (saved.json()["acronym"], saved.json()["version"]) == ("MoH", 2)
    stale = as_lead.patch(url, {"acronym": "M.O.H.", "version": 1}, format="json")
    assert stale.status_code == 409
    assert "Organization: someone else changed it" in stale.json()["detail"]

    moh.refresh_from_db()
    assert (moh.acronym, moh.version) == ("MoH", 2)
    assert AuditEvent.objects.get(action="changed").changes == {"acronym": ["MOH", "MoH"]}


def test_a_provincial_secretariat_cannot_update_a_national_ministry(api_client, provincial_plan, moh):
    provincial_lead = make_user("provincial_lead")
    PlanMembership.objects.create(plan=provincial_plan, user=provincial_lead, role=Role.SECRETARIAT_LEAD)
    api_client.force_authenticate(provincial_lead)

    response = api_client.patch(f"/api/organizations/{moh.pk}/", {"acronym": "X", "version": 1}, format="json")

    assert response.status_code == 403
    moh.refresh_from_db()
    assert (moh.acronym, moh.version) == ("MOH", 1)


def test_organizations_are_listed_only_for_the_countries_of_my_plans(api_client, plan, people, other_country, moh):
    Organization.objects.create(name="Foreign Ministry", kind="ministry", jurisdiction=other_country)
    api_client.force_authenticate(people["viewer"])

    response = api_client.get("/api/organizations/")

    assert [row["name"] for row in response.json()["results"]] == ["Ministry of Agriculture", "Ministry of Health"]
    assert api_client.get(f"/api/organizations/{moh.pk}/").status_code == 200
    foreign = Organization.objects.get(name="Foreign Ministry")
    assert api_client.get(f"/api/organizations/{foreign.pk}/").status_code == 404


@pytest.mark.parametrize("count", [2, 40])
def test_the_organizations_list_runs_a_constant_number_of_queries(
    api_client, plan, lead, country, count, django_assert_max_num_queries
):
    Organization.objects.bulk_create(
        Organization(name=f"Agency {number}", kind="agency", jurisdiction=country) for number in range(count - 2)
    )
    api_client.force_authenticate(lead)

    with django_assert_max_num_queries(ORGANIZATIONS_LIST_QUERIES):
        response = api_client.get("/api/organizations/")

    assert response.json()["count"] == count


# The directory export and jobs


def test_the_directory_export_runs_as_a_job_with_a_download(
    api_client, plan, people, moh, django_capture_on_commit_callbacks
):
    viewer = people["viewer"]
    api_client.force_login(viewer)

    with django_capture_on_commit_callbacks(execute=True):
        started = api_client.post(f"/api/plans/{plan.pk}/directory-export/")

    assert started.status_code == 202
    job_id = started.json()["id"]
    assert (started.json()["kind"], started.json()["plan"], started.json()["download_url"]) == (
        "directory_export",
        plan.pk,
        None,
    )
    job = api_client.get(f"/api/jobs/{job_id}/")
    assert job.status_code == 200
    assert (job.json()["status"], job.json()["progress"]) == ("succeeded", 100)
    assert job.json()["download_url"] == f"http://testserver/api/jobs/{job_id}/file/"
    download = api_client.get(job.json()["download_url"])
    assert download.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert workbook.sheetnames == ["Members", "Organizations"]
    assert workbook["Members"].max_row == 1 + len(Role)
    assert Job.objects.get().requested_by == viewer


def _token_client(user: User):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def test_a_token_client_downloads_the_file_of_its_export(plan, people, moh, django_capture_on_commit_callbacks):
    client = _token_client(people["viewer"])
    with django_capture_on_commit_callbacks(execute=True):
        job_id = client.post(f"/api/plans/{plan.pk}/directory-export/").json()["id"]
    url = client.get(f"/api/jobs/{job_id}/").json()["download_url"]

    download = client.get(url)

    assert download.status_code == 200
    assert download["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert download["Content-Disposition"].startswith("attachment; filename=")
    workbook = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert workbook.sheetnames == ["Members", "Organizations"]


def test_a_job_file_is_downloaded_only_by_who_asked_while_a_member(
    plan, people, lead, moh, django_capture_on_commit_callbacks
):
    from stakeholders.services import membership_remove

    viewer = people["viewer"]
    with django_capture_on_commit_callbacks(execute=True):
        job_id = _token_client(viewer).post(f"/api/plans/{plan.pk}/directory-export/").json()["id"]
    url = f"/api/jobs/{job_id}/file/"

    for other in ("reviewer", "secretariat_lead", "outsider"):
        refused = _token_client(people[other]).get(url)
        assert (refused.status_code, refused["Content-Type"]) == (404, "application/json"), other
    from rest_framework.test import APIClient

    assert APIClient().get(url).status_code == 401  # no token: no redirect to a sign-in page
    membership_remove(membership=PlanMembership.objects.get(plan=plan, user=viewer), by=lead)
    assert _token_client(viewer).get(url).status_code == 404


def test_a_job_without_a_file_yet_has_no_download(plan, people):
    viewer = people["viewer"]
    job = Job.objects.create(kind=StakeholdersJob.DIRECTORY_EXPORT, plan=plan, requested_by=viewer)
    client = _token_client(viewer)

    assert client.get(f"/api/jobs/{job.pk}/").json()["download_url"] is None
    assert client.get(f"/api/jobs/{job.pk}/file/").status_code == 404


def test_an_outsider_cannot_start_an_export_or_see_someone_elses_job(
    api_client, plan, people, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(people["outsider"])
    assert api_client.post(f"/api/plans/{plan.pk}/directory-export/").status_code == 404
    assert not Job.objects.exists()

    api_client.force_authenticate(people["viewer"])
    with django_capture_on_commit_callbacks(execute=True):
        job_id = api_client.post(f"/api/plans/{plan.pk}/directory-export/").json()["id"]
    api_client.force_authenticate(people["reviewer"])
    assert api_client.get(f"/api/jobs/{job_id}/").status_code == 404
    assert api_client.get("/api/jobs/").json()["count"] == 0


def test_a_removed_member_no_longer_sees_their_jobs_of_that_plan(
    api_client, plan, people, lead, django_capture_on_commit_callbacks
):
    from stakeholders.services import membership_remove

    viewer = people["viewer"]
    api_client.force_authenticate(viewer)
    with django_capture_on_commit_callbacks(execute=True):
        job_id = api_client.post(f"/api/plans/{plan.pk}/directory-export/").json()["id"]
    assert api_client.get("/api/jobs/").json()["count"] == 1

    membership_remove(membership=PlanMembership.objects.get(plan=plan, user=viewer), by=lead)

    assert api_client.get(f"/api/jobs/{job_id}/").status_code == 404
    assert api_client.get("/api/jobs/").json()["count"] == 0


@pytest.mark.parametrize("count", [1, 15])
def test_the_jobs_list_runs_a_constant_number_of_queries(
    api_client, plan, people, count, django_assert_max_num_queries
):
    viewer = people["viewer"]
    Job.objects.bulk_create(
        Job(kind=StakeholdersJob.DIRECTORY_EXPORT, plan=plan, requested_by=viewer, status=Job.Status.QUEUED)
        for _ in range(count)
    )
    api_client.force_authenticate(viewer)

    with django_assert_max_num_queries(JOBS_LIST_QUERIES):
        response = api_client.get("/api/jobs/")

    assert response.json()["count"] == count


def test_jurisdictions_are_listed_for_the_countries_of_my_plans(api_client, plan, people, province, other_country):
    jurisdiction_create(level="province", name="Far Province", parent=other_country)
    api_client.force_authenticate(people["viewer"])

    response = api_client.get("/api/jurisdictions/")

    assert response.status_code == 200
    assert {row["name"] for row in response.json()["results"]} == {"Testland", "North Province"}
    assert Jurisdiction.objects.count() == 4


def test_deleting_an_organization_is_recorded_and_refused_while_members_speak_for_it(as_lead, people, moh, country):
    spare = Organization.objects.create(name="Spare Agency", kind="agency", jurisdiction=country)
    response = as_lead.delete(f"/api/organizations/{spare.pk}/")
    assert response.status_code == 204
    assert not Organization.objects.filter(pk=spare.pk).exists()
    event = AuditEvent.objects.get(action="deleted", target_type="organization", target_id=spare.pk)
    assert event.actor == people["secretariat_lead"]

    response = as_lead.delete(f"/api/organizations/{moh.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "protected"
    assert Organization.objects.filter(pk=moh.pk).exists()


def test_a_technical_leads_areas_are_set_through_the_api(as_lead, plan, people):
    from planning.models import TechnicalArea

    membership = PlanMembership.objects.get(plan=plan, user=people["technical_lead"])
    areas = [TechnicalArea.objects.get(framework=plan.framework, code=code).pk for code in ("D1", "R1")]
    url = f"/api/plans/{plan.pk}/memberships/{membership.pk}/"
    response = as_lead.patch(url, {"technical_areas": areas, "version": membership.version}, format="json")
    assert response.status_code == 200
    assert sorted(response.json()["technical_areas"]) == sorted(areas)
    spar = TechnicalArea.objects.get(framework__code="SPAR2", code="C1").pk
    refused = as_lead.patch(url, {"technical_areas": [spar], "version": membership.version + 1}, format="json")
    assert refused.status_code == 400
    assert "technical_areas" in refused.json()


# What generated requests found (tests/test_api_contract.py)


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_address_under_the_api_that_names_no_endpoint_answers_json_404(as_lead, plan, method):
    for url in (f"/api/plans/{plan.pk}/activities/-3/", "/api/organizations/abc/", "/api/nothing/"):
        response = getattr(as_lead, method)(url)
        assert (response.status_code, response["Content-Type"]) == (404, "application/json"), url


def test_an_organizations_filter_by_a_jurisdiction_that_is_no_id_is_refused(as_lead, plan, country, moh):
    expected = Organization.objects.filter(jurisdiction=country).count()
    assert as_lead.get(f"/api/organizations/?jurisdiction={country.pk}").json()["count"] == expected
    for bad in ("abc", "²"):  # a superscript digit was a server error
        response = as_lead.get(f"/api/organizations/?jurisdiction={bad}")
        assert response.status_code == 400 and list(response.json()) == ["jurisdiction"]


def test_every_operation_documents_its_errors_in_the_schema(as_lead):
    schema = as_lead.get("/api/schema/?format=json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"429"} <= codes, f"{method} {path}"
            if path != "/api/auth/token/":
                assert {"401", "403"} <= codes, f"{method} {path}"
            if "{" in path:
                assert "404" in codes, f"{method} {path}"
            if "requestBody" in operation:
                assert {"400", "415"} <= codes, f"{method} {path}"
                if path == "/api/auth/token/":
                    continue  # Django REST framework's own sign-in view
                body = operation["requestBody"]["content"]
                for content in body.values():
                    ref = content["schema"]["$ref"].rsplit("/", 1)[-1]
                    assert schema["components"]["schemas"][ref].get("additionalProperties") is False, ref


def test_the_directory_export_is_written_in_the_language_of_who_asked(
    plan, people, moh, django_capture_on_commit_callbacks
):
    from tests import translations

    translations.catalogues_compile()
    viewer = people["viewer"]
    User.objects.filter(pk=viewer.pk).update(language="fr")
    client = _token_client(viewer)
    with django_capture_on_commit_callbacks(execute=True):
        job_id = client.post(f"/api/plans/{plan.pk}/directory-export/").json()["id"]
    download = client.get(client.get(f"/api/jobs/{job_id}/").json()["download_url"])
    workbook = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert workbook.sheetnames == ["Membres", "Organisations"]
    assert [cell.value for cell in workbook["Membres"][1]][:3] == ["Nom", "Courriel", "Rôle"]
