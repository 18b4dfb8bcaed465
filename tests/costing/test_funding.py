"""Resource mapping: the secretariat records funding commitments, everyone else reads them, bad input is named
and saves nothing, a stale edit is refused, and the funding gap per area and year adds up by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.urls import reverse

from costing.funding import (
    funding_commitment_create,
    funding_commitment_delete,
    funding_commitment_update,
    funding_gap,
)
from costing.models import CostRollup, FundingCommitment, FundingRollup, PlanCosting
from costing.rollups import plan_rollup
from costing.services import cost_line_create
from naphs.errors import EditConflict
from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.models import Activity, TechnicalArea
from stakeholders.models import Organization
from tests.costing.conftest import area, line_fields

pytestmark = pytest.mark.django_db

READERS = [Role.TECHNICAL_LEAD, Role.FOCAL_POINT, Role.REVIEWER, Role.VIEWER]


def fields(organization: Organization, **overrides) -> dict:
    values = {
        "source_organization": organization,
        "source_kind": "",
        "budget_line": "",
        "amount": Decimal("2000.00"),
        "currency": "EUR",
        "first_year": 2026,
        "last_year": 2027,
        "status": FundingCommitment.Status.COMMITTED,
        "technical_area": None,
        "notes": "",
    }
    values.update(overrides)
    return values


@pytest.fixture
def commitment(costing, plan, lead, moh) -> FundingCommitment:
    """50,000 USD committed by the Ministry of Health to area P1 over 2026-2027."""
    return funding_commitment_create(
        plan=plan,
        by=lead,
        fields=fields(moh, amount=Decimal("50000"), currency="USD", technical_area=area("P1")),
    )


def signed_in(client, people, role: str):
    client.force_login(people[role])
    return client


def form(organization: Organization, **overrides) -> dict:
    data = {
        "source_organization": organization.pk,
        "source_kind": "",
        "budget_line": "Vote 12-04",
        "amount": "120,000",
        "currency": "USD",
        "first_year": "2026",
        "last_year": "2028",
        "status": "committed",
        "technical_area": area("D1").pk,
        "notes": "",
    }
    data.update(overrides)
    return data


# --- Secretariat writes, in the browser ------------------------------------------------------------------------


def test_the_secretariat_adds_a_commitment_for_two_activities(client, people, plan, costing, moh, moa_activity):
    other = Activity.objects.create(plan=plan, technical_area=area("P1"), title="Stock vaccines")
    response = signed_in(client, people, Role.SECRETARIAT_MEMBER).post(
        reverse("funding_new", kwargs={"plan_id": plan.pk}),
        form(moh, technical_area="", activities=[moa_activity.pk, other.pk], currency="EUR", last_year="2027"),
    )
    assert response.status_code == 302
    commitment = FundingCommitment.objects.get()
    assert commitment.amount == Decimal("120000.00")
    assert commitment.source_kind == FundingCommitment.SourceKind.GOVERNMENT  # a ministry: from its kind
    assert set(commitment.activities.values_list("pk", flat=True)) == {moa_activity.pk, other.pk}
    assert AuditEvent.objects.filter(action="created", target_type="fundingcommitment").count() == 1
    assert PlanCosting.objects.get(plan=plan).changes > costing.changes  # the totals are due again


def test_the_add_page_offers_the_plans_activities_grouped_by_area(client, people, plan, costing, moa_activity):
    page = signed_in(client, people, Role.SECRETARIAT_LEAD).get(reverse("funding_new", kwargs={"plan_id": plan.pk}))
    assert page.status_code == 200
    text = page.content.decode()
    assert "P1 " in text and moa_activity.title in text
    assert 'value="USD" selected' in text  # the plan's base currency first


def test_the_secretariat_edits_a_commitment(client, people, plan, commitment, moh):
    url = reverse("funding_edit", kwargs={"plan_id": plan.pk, "commitment_id": commitment.pk})
    page = signed_in(client, people, Role.SECRETARIAT_LEAD).get(url)
    assert page.status_code == 200 and "50000.00" in page.content.decode()
    response = client.post(url, form(moh, status="disbursed", version=commitment.version))
    assert response.status_code == 302
    commitment.refresh_from_db()
    assert (commitment.status, commitment.amount, commitment.technical_area) == (
        "disbursed",
        Decimal("120000"),
        area("D1"),
    )
    event = AuditEvent.objects.get(action="edited", target_id=commitment.pk)
    assert event.changes["status"] == ["committed", "disbursed"]


def test_the_secretariat_deletes_a_commitment_after_confirming(client, people, plan, commitment):
    url = reverse("funding_delete", kwargs={"plan_id": plan.pk, "commitment_id": commitment.pk})
    question = signed_in(client, people, Role.SECRETARIAT_LEAD).get(url)
    assert question.status_code == 200 and "Delete this funding commitment?" in question.content.decode()
    assert FundingCommitment.objects.filter(pk=commitment.pk).exists()  # asking deletes nothing
    response = client.post(url, {"version": commitment.version})
    assert response.status_code == 302
    assert not FundingCommitment.objects.exists()
    assert AuditEvent.objects.filter(action="deleted", target_id=commitment.pk).exists()


def test_a_delete_confirmed_on_a_stale_page_is_refused(client, people, plan, commitment, lead):
    url = reverse("funding_delete", kwargs={"plan_id": plan.pk, "commitment_id": commitment.pk})
    stale = commitment.version
    funding_commitment_update(commitment=commitment, by=lead, version=stale, fields={"status": "disbursed"})
    response = signed_in(client, people, Role.SECRETARIAT_LEAD).post(url, {"version": stale})
    assert response.status_code == 409
    assert "someone else changed" in response.content.decode().lower()
    assert FundingCommitment.objects.filter(pk=commitment.pk).exists()


@pytest.mark.parametrize("odd", ["²", "٣"])
def test_a_delete_with_a_version_that_is_not_a_number_is_not_a_server_error(client, people, plan, commitment, odd):
    url = reverse("funding_delete", kwargs={"plan_id": plan.pk, "commitment_id": commitment.pk})
    assert signed_in(client, people, Role.SECRETARIAT_LEAD).post(url, {"version": odd}).status_code < 500


# --- Everyone else reads -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_other_members_read_but_cannot_write(client, api_client, people, plan, commitment, moh, role):
    client.force_login(people[role])
    page = client.get(reverse("funding", kwargs={"plan_id": plan.pk}))
    assert page.status_code == 200
    assert "Add commitment" not in page.content.decode()
    assert reverse("funding_edit", kwargs={"plan_id": plan.pk, "commitment_id": commitment.pk}) not in (
        page.content.decode()
    )
    kwargs = {"plan_id": plan.pk, "commitment_id": commitment.pk}
    assert client.post(reverse("funding_new", kwargs={"plan_id": plan.pk}), form(moh)).status_code == 403
    assert client.post(reverse("funding_edit", kwargs=kwargs), form(moh, version=1)).status_code == 403
    assert client.post(reverse("funding_delete", kwargs=kwargs), {"version": 1}).status_code == 403
    api_client.force_authenticate(people[role])
    listing = reverse("funding-commitment-list", kwargs={"plan_id": plan.pk})
    detail = reverse("funding-commitment-detail", kwargs=kwargs)
    assert api_client.get(detail).status_code == 200
    body = {"source_organization": moh.pk, "amount": "1", "currency": "USD", "first_year": 2026, "last_year": 2026}
    assert api_client.post(listing, {**body, "technical_area": area("P1").pk}, format="json").status_code == 403
    assert api_client.patch(detail, {"status": "pledged", "version": 1}, format="json").status_code == 403
    assert api_client.delete(detail).status_code == 403
    assert FundingCommitment.objects.get() == commitment
    commitment.refresh_from_db()
    assert (commitment.version, commitment.status) == (1, "committed")


def test_an_outsider_gets_not_found(client, api_client, people, plan, commitment):
    client.force_login(people["outsider"])
    kwargs = {"plan_id": plan.pk, "commitment_id": commitment.pk}
    assert client.get(reverse("funding", kwargs={"plan_id": plan.pk})).status_code == 404
    assert client.get(reverse("funding_edit", kwargs=kwargs)).status_code == 404
    api_client.force_authenticate(people["outsider"])
    assert api_client.get(reverse("funding-commitment-detail", kwargs=kwargs)).status_code == 404


def test_a_commitment_of_another_plan_is_not_found_through_ones_own_plan(
    client, api_client, people, plan, provincial_plan, moh
):
    theirs = FundingCommitment.objects.create(
        plan=provincial_plan,
        source_organization=moh,
        source_kind="government",
        amount=Decimal("10"),
        currency="USD",
        first_year=2026,
        last_year=2026,
        status="committed",
        technical_area=area("P1"),
    )
    kwargs = {"plan_id": plan.pk, "commitment_id": theirs.pk}
    client.force_login(people[Role.SECRETARIAT_LEAD])
    assert client.get(reverse("funding_edit", kwargs=kwargs)).status_code == 404
    assert client.post(reverse("funding_delete", kwargs=kwargs), {"version": 1}).status_code == 404
    api_client.force_authenticate(people[Role.SECRETARIAT_LEAD])
    detail = reverse("funding-commitment-detail", kwargs=kwargs)
    assert api_client.patch(detail, {"status": "pledged", "version": 1}, format="json").status_code == 404
    assert api_client.delete(detail).status_code == 404
    assert FundingCommitment.objects.filter(pk=theirs.pk, status="committed").exists()


# --- Bad input: named, and nothing saved -------------------------------------------------------------------------


@pytest.fixture
def elsewhere_organization(other_country) -> Organization:
    return Organization.objects.create(name="Elsewhere Health Fund", kind="donor", jurisdiction=other_country)


@pytest.fixture
def foreign_activity(provincial_plan) -> Activity:
    return Activity.objects.create(plan=provincial_plan, technical_area=area("P1"), title="Provincial drill")


BAD_INPUT = [
    ("years outside the plan", {"first_year": 2025}, None, "first_year", "2025 lies outside the plan's period"),
    ("years outside the plan", {"last_year": 2031}, None, "last_year", "2031 lies outside the plan's period"),
    ("last year before first", {"first_year": 2028, "last_year": 2027}, None, "last_year", "precedes the first"),
    ("unknown currency", {"currency": "XYZ"}, None, "currency", "not an ISO 4217 currency code"),
    ("missing rate", {"last_year": 2029}, None, "currency", "No exchange rate from EUR to USD for 2028, 2029"),
    ("neither area nor activities", {}, "none", "activities", "Say what it funds"),
    ("both area and activities", {"technical_area": "P1"}, "mine", "technical_area", "not both"),
    ("area of another framework", {"technical_area": "SPAR"}, "none", "technical_area", "not a technical area of"),
    ("activity of another plan", {}, "foreign", "activities", "belongs to another plan"),
    (
        "organization of another country",
        {"source_organization": "elsewhere"},
        "mine",
        "source_organization",
        "not an organization of Testland",
    ),
    ("zero amount", {"amount": Decimal("0")}, "mine", "amount", "must be more than zero"),
    ("negative amount", {"amount": Decimal("-500")}, "mine", "amount", "must be more than zero"),
    ("absurd amount", {"amount": Decimal("5000000000000000")}, "mine", "amount", "beyond any real commitment"),
    ("absurd once converted", {"amount": Decimal("999000000000000")}, "mine", "amount", "comes to"),
    ("fractions of a cent", {"amount": Decimal("10.005")}, "mine", "amount", "at most two decimals"),
]


@pytest.mark.parametrize(
    ("overrides", "funds", "field", "message"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
def test_bad_input_is_named_and_nothing_is_saved(
    costing, plan, lead, moh, moa_activity, foreign_activity, elsewhere_organization, overrides, funds, field, message
):
    overrides = dict(overrides)
    if overrides.get("technical_area") == "P1":
        overrides["technical_area"] = area("P1")
    elif overrides.get("technical_area") == "SPAR":
        overrides["technical_area"] = TechnicalArea.objects.exclude(framework=plan.framework).first()
    if overrides.get("source_organization") == "elsewhere":
        overrides["source_organization"] = elsewhere_organization
    if field == "amount" and "comes to" in message:
        overrides["currency"] = "EUR"  # 1.1 and 1.2 USD per euro: past the bound once in dollars
    activities = {"none": [], "mine": [moa_activity], "foreign": [foreign_activity], None: [moa_activity]}[funds]
    before = PlanCosting.objects.get(plan=plan).changes
    with pytest.raises(ValidationError) as error:
        funding_commitment_create(plan=plan, by=lead, fields=fields(moh, **overrides), activities=activities)
    assert any(message in text for text in error.value.message_dict[field]), error.value.message_dict
    assert not FundingCommitment.objects.exists()
    assert not AuditEvent.objects.filter(target_type="fundingcommitment").exists()
    assert PlanCosting.objects.get(plan=plan).changes == before


def test_a_bad_edit_changes_nothing(commitment, lead, moa_activity):
    with pytest.raises(ValidationError) as error:
        funding_commitment_update(
            commitment=commitment, by=lead, version=commitment.version, fields={}, activities=[moa_activity]
        )
    assert "not both" in error.value.message_dict["technical_area"][0]
    commitment.refresh_from_db()
    assert commitment.version == 1 and not commitment.activities.exists()


def test_the_browser_shows_the_problem_next_to_the_field(client, people, plan, costing, moh):
    response = signed_in(client, people, Role.SECRETARIAT_LEAD).post(
        reverse("funding_new", kwargs={"plan_id": plan.pk}), form(moh, currency="EUR", last_year="2029")
    )
    assert response.status_code == 422
    assert "No exchange rate from EUR to USD for 2028, 2029" in response.content.decode()
    assert not FundingCommitment.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"amount": "-1"}, "amount", "must be more than zero"),
        ({"amount": "1000000000000001"}, "amount", "beyond any real commitment"),
        ({"amount": "1e16"}, "amount", "digits and a point"),
        ({"first_year": 2024}, "first_year", "outside the plan's period"),
        ({"currency": "GBP"}, "currency", "No exchange rate from GBP to USD"),
        ({"technical_area": None}, "activities", "Say what it funds"),
        ({"activities": ["ACTIVITY"]}, "technical_area", "not both"),
        ({"activities": ["FOREIGN"], "technical_area": None}, "activities", "not an activity of this plan"),
        ({"source_organization": "ELSEWHERE"}, "source_organization", "not an organization of Testland"),
    ],
)
def test_the_api_names_bad_input_and_saves_nothing(
    api_client, lead, plan, costing, moh, moa_activity, foreign_activity, elsewhere_organization, body, field, message
):
    ids = {"ACTIVITY": moa_activity.pk, "FOREIGN": foreign_activity.pk, "ELSEWHERE": elsewhere_organization.pk}
    body = {name: ids.get(value, value) if isinstance(value, str) else value for name, value in body.items()}
    if "activities" in body:
        body["activities"] = [ids[value] for value in body["activities"]]
    payload = {
        "source_organization": moh.pk,
        "amount": "1000.00",
        "currency": "USD",
        "first_year": 2026,
        "last_year": 2027,
        "status": "committed",
        "technical_area": area("P1").pk,
        **body,
    }
    api_client.force_authenticate(lead)
    response = api_client.post(reverse("funding-commitment-list", kwargs={"plan_id": plan.pk}), payload, format="json")
    assert response.status_code == 400
    assert any(message in text for text in response.json()[field]), response.json()
    assert not FundingCommitment.objects.exists()


# --- Stale edits ----------------------------------------------------------------------------------------------------


def test_a_stale_edit_is_refused_everywhere(client, api_client, people, plan, commitment, lead, moh):
    funding_commitment_update(commitment=commitment, by=lead, version=1, fields={"notes": "Signed in March."})
    with pytest.raises(EditConflict):
        funding_commitment_update(
            commitment=FundingCommitment.objects.get(), by=lead, version=1, fields={"amount": Decimal("1")}
        )
    with pytest.raises(EditConflict):
        funding_commitment_delete(commitment=commitment, by=lead, version=1)
    api_client.force_authenticate(lead)
    kwargs = {"plan_id": plan.pk, "commitment_id": commitment.pk}
    response = api_client.patch(
        reverse("funding-commitment-detail", kwargs=kwargs), {"amount": "1.00", "version": 1}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "edit_conflict"
    stale = signed_in(client, people, Role.SECRETARIAT_LEAD).post(
        reverse("funding_edit", kwargs=kwargs), form(moh, version=1)
    )
    assert stale.status_code == 409 and "someone else changed" in stale.content.decode().lower()
    commitment.refresh_from_db()
    assert (commitment.amount, commitment.notes, commitment.version) == (Decimal("50000"), "Signed in March.", 2)


# --- The API ----------------------------------------------------------------------------------------------------------


def test_the_api_creates_reads_changes_and_deletes(api_client, lead, plan, costing, moh, moa_activity, moh_activity):
    api_client.force_authenticate(lead)
    listing = reverse("funding-commitment-list", kwargs={"plan_id": plan.pk})
    created = api_client.post(
        listing,
        {
            "source_organization": moh.pk,
            "amount": "2000.00",
            "currency": "EUR",
            "first_year": 2026,
            "last_year": 2027,
            "status": "committed",
            "activities": [moa_activity.pk, moh_activity.pk],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["amount"] == "2000.00" and data["amount_base"] == "2300.00" and data["base_currency"] == "USD"
    assert sorted(data["activities"]) == sorted([moa_activity.pk, moh_activity.pk])
    assert data["technical_area"] is None and data["source_kind"] == "government" and data["version"] == 1
    detail = reverse("funding-commitment-detail", kwargs={"plan_id": plan.pk, "commitment_id": data["id"]})
    changed = api_client.patch(detail, {"status": "disbursed", "version": 1}, format="json")
    assert changed.status_code == 200 and changed.json()["status"] == "disbursed"
    assert sorted(changed.json()["activities"]) == sorted([moa_activity.pk, moh_activity.pk])  # kept
    replaced = api_client.put(
        detail,
        {
            "source_organization": moh.pk,
            "amount": "500",
            "currency": "USD",
            "first_year": 2028,
            "last_year": 2028,
            "technical_area": area("D1").pk,
            "version": 2,
        },
        format="json",
    )
    assert replaced.status_code == 200, replaced.json()
    assert replaced.json()["activities"] == [] and replaced.json()["amount"] == "500.00"
    assert api_client.get(listing, {"status": "pledged"}).json()["count"] == 0
    assert api_client.get(listing, {"status": "disbursed", "source": moh.pk}).json()["count"] == 1
    assert api_client.delete(f"{detail}?version=3").status_code == 204
    assert not FundingCommitment.objects.exists()


# --- The funding gap ------------------------------------------------------------------------------------------------


@pytest.fixture
def small_plan(costing, plan, lead, moh, moa, moa_activity, moh_activity):
    """Costs (USD): the MOA activity (P1) 1,000 in 2026 and 3,000 in 2027, plus an optional 400 in 2026; the MOH
    activity (D1) 3,000 in 2026 and 1,000 in 2027. Funding:
    - 2,000 EUR committed over 2026-2027 to both activities: 1,000 EUR a year, 1,100 USD in 2026 (rate 1.10) and
      1,200 USD in 2027 (rate 1.20), shared by cost: 2026 1:3 (275 / 825), 2027 3:1 (900 / 300);
    - 500 USD disbursed to area D1 in 2028;
    - 10,000 USD pledged to area P1 in 2026: a promise, not counted."""
    unit = {"unit_cost": Decimal("1000"), "quantity": Decimal("1")}
    cost_line_create(activity=moa_activity, by=lead, fields=line_fields(**unit), frequencies={2026: 1, 2027: 3})
    cost_line_create(
        activity=moa_activity,
        by=lead,
        fields=line_fields(unit_cost=Decimal("400"), quantity=Decimal("1"), optional=True),
        frequencies={2026: 1},
    )
    cost_line_create(activity=moh_activity, by=lead, fields=line_fields(**unit), frequencies={2026: 3, 2027: 1})
    funding_commitment_create(plan=plan, by=lead, fields=fields(moh), activities=[moa_activity, moh_activity])
    funding_commitment_create(
        plan=plan,
        by=lead,
        fields=fields(
            moa,
            amount=Decimal("500"),
            currency="USD",
            first_year=2028,
            last_year=2028,
            status="disbursed",
            technical_area=area("D1"),
        ),
    )
    funding_commitment_create(
        plan=plan,
        by=lead,
        fields=fields(
            moh,
            amount=Decimal("10000"),
            currency="USD",
            first_year=2026,
            last_year=2026,
            status="pledged",
            technical_area=area("P1"),
        ),
    )
    return plan


def test_the_gap_is_cost_minus_firm_funding_per_area_and_year(small_plan):
    gap = funding_gap(plan=small_plan)
    p1, d1 = area("P1").pk, area("D1").pk
    expected = {
        (p1, 2026): (Decimal("1000"), Decimal("275"), Decimal("725")),
        (p1, 2027): (Decimal("3000"), Decimal("900"), Decimal("2100")),
        (d1, 2026): (Decimal("3000"), Decimal("825"), Decimal("2175")),
        (d1, 2027): (Decimal("1000"), Decimal("300"), Decimal("700")),
        (d1, 2028): (Decimal("0"), Decimal("500"), Decimal("-500")),
    }
    for (area_id, year), (cost, funded, left) in expected.items():
        figures = gap.figures(area_id, year)
        assert (figures.cost, figures.funded, figures.gap) == (cost, funded, left), (area_id, year)
    assert gap.figures(p1, 2029).gap == 0
    assert (gap.total.cost, gap.total.funded, gap.total.gap) == (Decimal("8000"), Decimal("2800"), Decimal("5200"))
    assert [row.area.code for row in gap.rows()] == ["P1", "D1"]
    assert gap.years == [2026, 2027, 2028, 2029, 2030] and not gap.problems


def test_the_stored_rollups_agree_with_the_live_gap(small_plan):
    plan_rollup(plan_id=small_plan.pk)
    gap = funding_gap(plan=small_plan)
    firm = FundingRollup.objects.filter(plan=small_plan, status__in=FundingCommitment.FIRM)
    funded = {(a, y): t for a, y, t in firm.values_list("technical_area", "year").annotate(t=Sum("amount"))}
    costs = CostRollup.objects.filter(plan=small_plan).values_list("technical_area", "year").annotate(t=Sum("required"))
    for (area_id, year), figures in gap.cells.items():
        assert figures.funded == funded.get((area_id, year), 0), (area_id, year)
    for area_id, year, total in costs:
        assert gap.figures(area_id, year).cost == total


def test_a_commitment_missing_its_rate_is_named_not_counted(small_plan, lead):
    from costing.models import ExchangeRate

    ExchangeRate.objects.filter(plan=small_plan, currency="EUR", year=2027).delete()
    gap = funding_gap(plan=small_plan)
    assert gap.total.funded == Decimal("500")
    assert len(gap.problems) == 1 and "No exchange rate from EUR to USD for 2027" in gap.problems[0]


# --- The page and the endpoint: what they show, in a constant number of queries -------------------------------------


def test_the_funding_page_lists_commitments_with_totals_and_the_gap(client, people, small_plan):
    page = signed_in(client, people, Role.VIEWER).get(reverse("funding", kwargs={"plan_id": small_plan.pk}))
    assert page.status_code == 200
    text = page.content.decode()
    assert "2,000.00 EUR" in text and "2,300.00" in text  # the amount, and in base currency
    assert "Ministry of Health" in text and "Train border veterinarians" in text and "(whole area)" in text
    totals = dict(page.context["totals"])
    assert totals == {"Pledged": Decimal("10000"), "Committed": Decimal("2300"), "Disbursed": Decimal("500")}
    assert page.context["firm_total"] == Decimal("2800")
    assert "5,200.00" in text  # the whole plan's gap


def test_the_funding_page_filters_by_status_and_source(client, people, small_plan, moa):
    client = signed_in(client, people, Role.REVIEWER)
    url = reverse("funding", kwargs={"plan_id": small_plan.pk})
    pledged = client.get(url, {"status": "pledged"}).context["commitments"]
    assert [commitment.status for commitment in pledged] == ["pledged"]
    by_moa = client.get(url, {"source": moa.pk}, headers={"HX-Request": "true"})
    assert [c.source_organization for c in by_moa.context["commitments"]] == [moa]
    assert "<h1>" not in by_moa.content.decode()  # the table alone for htmx


def _more_commitments(plan, lead, moh, activities, count: int) -> None:
    for number in range(count):
        funding_commitment_create(
            plan=plan,
            by=lead,
            fields=fields(moh, amount=Decimal(100 + number), budget_line=f"Line {number}"),
            activities=activities,
        )


def test_the_funding_page_runs_a_constant_number_of_queries(
    client, people, small_plan, lead, moh, moa_activity, moh_activity, django_assert_max_num_queries
):
    client = signed_in(client, people, Role.SECRETARIAT_LEAD)
    url = reverse("funding", kwargs={"plan_id": small_plan.pk})
    with django_assert_max_num_queries(13):
        assert client.get(url).status_code == 200
    _more_commitments(small_plan, lead, moh, [moa_activity, moh_activity], 15)
    with django_assert_max_num_queries(13):
        assert client.get(url).status_code == 200


def test_the_funding_endpoint_runs_a_constant_number_of_queries(
    api_client, people, small_plan, lead, moh, moa_activity, moh_activity, django_assert_max_num_queries
):
    api_client.force_authenticate(people[Role.VIEWER])
    url = reverse("funding-commitment-list", kwargs={"plan_id": small_plan.pk})
    with django_assert_max_num_queries(6):
        first = api_client.get(url).json()
    _more_commitments(small_plan, lead, moh, [moa_activity, moh_activity], 15)
    with django_assert_max_num_queries(6):
        second = api_client.get(url).json()
    assert (first["count"], second["count"]) == (3, 18)
    assert all(isinstance(item["amount"], str) and isinstance(item["amount_base"], str) for item in second["results"])
