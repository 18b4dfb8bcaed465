"""An activity's costs: every member reads its lines, totals, funding and gap; those who cost the activity (the
secretariat, the technical lead of its area, the focal point of its organization) add, edit and delete lines in
the page and through the API; bad input is named next to its field and saves nothing; a stale edit is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from costing.models import CatalogueItem, CostLine, CostLineYear, FundingCommitment
from costing.rollups import activity_year_costs
from costing.services import cost_line_create, cost_line_update
from naphs.models import AuditEvent
from naphs.permissions import Role
from stakeholders.models import PlanMembership
from tests.costing.conftest import area, line_fields

pytestmark = pytest.mark.django_db

SL, SM, TL, FP, RV, VW = (role.value for role in Role)
YEARS = [2026, 2027, 2028, 2029, 2030]


def costs_url(activity) -> str:
    return reverse("activity_costs", args=[activity.plan_id, activity.pk])


def edit_url(line) -> str:
    return reverse("cost_line_edit", args=[line.plan_id, line.activity_id, line.pk])


def api_list(plan) -> str:
    return reverse("cost-line-list", args=[plan.pk])


def api_detail(line) -> str:
    return reverse("cost-line-detail", args=[line.plan_id, line.pk])


def form(**overrides) -> dict:
    """The browser's add/edit form, all valid: 40 USD a day, 3 days, once in 2026 and twice in 2027."""
    data = {
        "catalogue_item": "",
        "description": "Projector hire",
        "category": "equipment",
        "unit": "day",
        "unit_cost": "40",
        "currency": "USD",
        "price_year": "2026",
        "quantity": "3",
        "frequencies_0": "1",
        "frequencies_1": "2",
        "recurrence": "recurring",
        "assumptions": "One projector a day.",
    }
    data.update(overrides)
    return data


def body(activity=None, **overrides) -> dict:
    data = {
        "description": "Printing of guidelines",
        "category": "communication",
        "unit": "copy",
        "unit_cost": "2.50",
        "currency": "USD",
        "quantity": "200",
        "recurrence": "one_off",
        "frequencies": {"2027": "1"},
    }
    if activity is not None:
        data["activity"] = activity.pk
    data.update(overrides)
    return data


def give_area(plan, user, code: str = "P1") -> None:
    PlanMembership.objects.get(plan=plan, user=user).technical_areas.set([area(code)])


@pytest.fixture
def moh_line(costing, moh_activity, lead):
    return cost_line_create(
        activity=moh_activity,
        by=lead,
        fields=line_fields(description="Reagents", category="supplies", unit="kit", unit_cost=Decimal("80")),
        frequencies={2026: 1},
    )


@pytest.fixture
def costed(moa_line, moa_activity, lead, plan, moa, moh):
    """The Ministry of Agriculture's activity with three lines (one in euros, one optional) and funding: 1,000 USD
    committed to it over 2026-2027, 600 USD pledged for 2026, and a commitment to its area as a whole."""
    euro = cost_line_create(
        activity=moa_activity,
        by=lead,
        fields=line_fields(
            description="Trainer", unit_cost=Decimal("100"), currency="EUR", price_year=2027, quantity=2
        ),
        frequencies={2028: 1},
    )
    optional = cost_line_create(
        activity=moa_activity,
        by=lead,
        fields=line_fields(description="Extra session", unit_cost=Decimal("1000"), quantity=1, optional=True),
        frequencies={2026: 1},
    )
    common = {"plan": plan, "source_kind": "government", "currency": "USD"}
    committed = FundingCommitment.objects.create(
        source_organization=moa, amount=Decimal("1000"), first_year=2026, last_year=2027, status="committed", **common
    )
    committed.activities.add(moa_activity)
    pledged = FundingCommitment.objects.create(
        source_organization=moh, amount=Decimal("600"), first_year=2026, last_year=2026, status="pledged", **common
    )
    pledged.activities.add(moa_activity)
    FundingCommitment.objects.create(
        source_organization=moh,
        amount=Decimal("9000"),
        first_year=2026,
        last_year=2028,
        status="committed",
        technical_area=area("P1"),
        **common,
    )
    return {"venue": moa_line, "euro": euro, "optional": optional}


# --- What the page shows -------------------------------------------------------------------------------------


def test_the_page_shows_each_line_per_year_and_totals_as_the_services_computed_them(
    client, people, plan, moa_activity, costed
):
    client.force_login(people[VW])
    response = client.get(costs_url(moa_activity))
    assert response.status_code == 200
    costs = response.context["costs"]
    assert costs.currency == "USD"
    assert costs.years == YEARS
    stored = {
        line.pk: dict(CostLineYear.objects.filter(cost_line=line).values_list("year", "amount"))
        for line in costed.values()
    }
    for row in costs.rows:
        assert {year: amount for year, _, amount in row.cells} == stored[row.line.pk]
        assert row.total == sum(stored[row.line.pk].values())
    # By hand: 250 × 3 × 2 and × 1 in 2026-2027; 100 EUR at 1.20 (2027 prices) × 2 in 2028; 1,000 optional in 2026.
    assert costs.required == [Decimal("1500"), Decimal("750"), Decimal("240"), 0, 0]
    assert costs.optional == [Decimal("1000"), 0, 0, 0, 0]
    assert costs.with_optional == [Decimal("2500"), Decimal("750"), Decimal("240"), 0, 0]
    assert costs.total_required == Decimal("2490.00")
    assert costs.total_with_optional == Decimal("3490.00")
    services = activity_year_costs([moa_activity.pk])
    assert costs.required == [services.get((moa_activity.pk, year), 0) for year in YEARS]
    content = response.content.decode()
    for figure in ("1,500.00", "2,490.00", "3,490.00", "= 120 USD", "Total with optional lines"):
        assert figure in content


def test_funding_and_gap_count_the_commitments_naming_the_activity_and_leave_area_funding_to_the_area(
    client, people, moa_activity, costed
):
    client.force_login(people[RV])
    costs = client.get(costs_url(moa_activity)).context["costs"]
    assert costs.funded == [Decimal("500"), Decimal("500"), 0, 0, 0]
    assert costs.pledged == [Decimal("600"), 0, 0, 0, 0]
    assert costs.gap == [Decimal("1000"), Decimal("250"), Decimal("240"), 0, 0]
    assert costs.total_gap == Decimal("1490.00")
    assert costs.area_commitments == 1
    content = client.get(costs_url(moa_activity)).content.decode()
    assert "area-wide funding is counted at area level on the costing dashboard" in content


def test_funding_in_a_currency_without_a_rate_is_explained_not_hidden(client, people, plan, moa, moa_activity, costed):
    commitment = FundingCommitment.objects.create(
        plan=plan,
        source_organization=moa,
        source_kind="donor",
        amount=Decimal("100"),
        currency="GBP",
        first_year=2026,
        last_year=2026,
        status="committed",
    )
    commitment.activities.add(moa_activity)
    client.force_login(people[VW])
    response = client.get(costs_url(moa_activity))
    assert response.status_code == 200
    assert response.context["costs"].gap is None
    assert "No exchange rate from GBP to USD for 2026" in response.content.decode()


@pytest.mark.parametrize("persona", [RV, VW])
def test_reviewers_and_viewers_read_the_costs_without_edit_controls(client, people, moa_activity, moa_line, persona):
    client.force_login(people[persona])
    response = client.get(costs_url(moa_activity))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Workshop venue" in content
    assert "Add a cost line" not in content
    assert edit_url(moa_line) not in content
    assert "lets you read these costs, not change them" in content
    assert client.post(costs_url(moa_activity), form()).status_code == 403
    assert client.post(edit_url(moa_line), form(version=moa_line.version)).status_code == 403
    assert CostLine.objects.count() == 1


def test_the_secretariat_sees_the_editor_and_the_builders(client, lead, moa_activity, moa_line):
    client.force_login(lead)
    content = client.get(costs_url(moa_activity)).content.decode()
    assert "Add a cost line" in content
    assert edit_url(moa_line) in content
    assert reverse("cost_builder", args=[moa_activity.plan_id, moa_activity.pk, "meeting"]) in content


def test_an_outsider_gets_404_from_the_page_and_the_api(client, api_client, people, moa_activity, moa_line):
    client.force_login(people["outsider"])
    assert client.get(costs_url(moa_activity)).status_code == 404
    assert client.get(edit_url(moa_line)).status_code == 404
    api_client.force_authenticate(people["outsider"])
    assert api_client.get(api_list(moa_activity.plan)).status_code == 404
    assert api_client.get(api_detail(moa_line)).status_code == 404


def test_the_activity_page_and_table_show_the_total_cost_and_link_to_the_costs(
    client, people, plan, moa_activity, costed
):
    client.force_login(people[VW])
    detail = client.get(reverse("activity_detail", args=[plan.pk, moa_activity.pk])).content.decode()
    assert costs_url(moa_activity) in detail
    assert "2,490.00 USD" in detail
    assert "+1,000.00 optional" in detail
    table = client.get(reverse("activities", args=[plan.pk])).content.decode()
    assert costs_url(moa_activity) in table
    assert "2,490.00" in table


# --- Who edits -----------------------------------------------------------------------------------------------


def test_the_focal_point_adds_edits_and_deletes_lines_of_their_organizations_activity(
    client, people, moa_activity, costing
):
    client.force_login(people[FP])
    response = client.post(costs_url(moa_activity), form())
    assert response.status_code == 302
    line = CostLine.objects.get(activity=moa_activity)
    amounts = dict(CostLineYear.objects.filter(cost_line=line).values_list("year", "amount"))
    assert (amounts[2026], amounts[2027], amounts[2028]) == (Decimal("120.00"), Decimal("240.00"), Decimal("0.00"))
    assert client.get(edit_url(line)).status_code == 200
    response = client.post(edit_url(line), form(quantity="5", version=line.version))
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.quantity == Decimal("5")
    assert AuditEvent.objects.filter(target_type="costline", target_id=line.pk, action="edited").exists()
    response = client.post(reverse("cost_line_delete", args=[line.plan_id, line.activity_id, line.pk]))
    assert response.status_code == 302
    assert not CostLine.objects.exists()


@pytest.mark.parametrize("odd", ["²", "٣"])
def test_a_delete_with_a_version_that_is_not_a_number_is_not_a_server_error(client, people, moa_line, odd):
    client.force_login(people[FP])
    url = reverse("cost_line_delete", args=[moa_line.plan_id, moa_line.activity_id, moa_line.pk])
    assert client.post(url, {"version": odd}).status_code < 500


def test_the_focal_point_cannot_cost_another_organizations_activity(client, api_client, people, moh_activity, moh_line):
    focal_point = people[FP]
    client.force_login(focal_point)
    response = client.get(costs_url(moh_activity))
    assert response.status_code == 200
    content = response.content.decode()
    assert "You cost the activities Ministry of Agriculture (MOA) is responsible for" in content
    assert "Ministry of Health (MOH)" in content
    assert "Add a cost line" not in content
    assert client.post(costs_url(moh_activity), form()).status_code == 403
    assert client.get(edit_url(moh_line)).status_code == 403
    assert client.post(edit_url(moh_line), form(version=moh_line.version)).status_code == 403
    delete = reverse("cost_line_delete", args=[moh_line.plan_id, moh_line.activity_id, moh_line.pk])
    assert client.post(delete).status_code == 403
    assert client.get(reverse("cost_builder", args=[moh_activity.plan_id, moh_activity.pk, "staff"])).status_code == 403

    api_client.force_authenticate(focal_point)
    response = api_client.post(api_list(moh_activity.plan), body(moh_activity), format="json")
    assert response.status_code == 403
    assert "your organization is responsible for" in response.json()["detail"]
    patch = api_client.patch(api_detail(moh_line), {"quantity": "9", "version": moh_line.version}, format="json")
    assert patch.status_code == 403
    assert api_client.delete(api_detail(moh_line)).status_code == 403
    moh_line.refresh_from_db()
    assert moh_line.quantity == Decimal("3")
    assert CostLine.objects.count() == 1


def test_a_technical_lead_costs_only_the_activities_of_their_own_areas(
    client, api_client, people, plan, moa_activity, moh_activity, moh_line, costing
):
    lead = people[TL]
    give_area(plan, lead, "P1")
    client.force_login(lead)
    assert client.post(costs_url(moa_activity), form()).status_code == 302
    refused = client.get(costs_url(moh_activity)).content.decode()
    assert "You cost the activities of your own technical areas; this one is in D1" in refused
    assert client.post(costs_url(moh_activity), form()).status_code == 403
    api_client.force_authenticate(lead)
    assert api_client.post(api_list(plan), body(moa_activity), format="json").status_code == 201
    assert api_client.post(api_list(plan), body(moh_activity), format="json").status_code == 403
    assert api_client.patch(api_detail(moh_line), {"quantity": "1", "version": 1}, format="json").status_code == 403
    assert set(CostLine.objects.values_list("activity_id", flat=True)) == {moa_activity.pk, moh_activity.pk}
    assert CostLine.objects.filter(activity=moh_activity).count() == 1


@pytest.mark.parametrize("persona", [RV, VW])
def test_reviewers_and_viewers_read_the_api_but_cannot_write(api_client, people, plan, moa_activity, moa_line, persona):
    api_client.force_authenticate(people[persona])
    assert api_client.get(api_list(plan)).status_code == 200
    assert api_client.get(api_detail(moa_line)).status_code == 200
    assert api_client.post(api_list(plan), body(moa_activity), format="json").status_code == 403
    assert api_client.patch(api_detail(moa_line), {"quantity": "1", "version": 1}, format="json").status_code == 403
    assert api_client.delete(api_detail(moa_line)).status_code == 403
    assert CostLine.objects.get().quantity == Decimal("3")


# --- In place, with htmx -------------------------------------------------------------------------------------


def test_htmx_opens_a_row_editor_and_saving_returns_the_section_with_new_totals(client, lead, moa_activity, moa_line):
    client.force_login(lead)
    editor = client.get(edit_url(moa_line), headers={"HX-Request": "true"})
    assert editor.status_code == 200
    assert editor.content.decode().lstrip().startswith("<tr")
    assert f'id="line-{moa_line.pk}"' in editor.content.decode()
    saved = client.post(
        edit_url(moa_line),
        form(unit_cost="250", quantity="4", version=moa_line.version),
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200
    assert 'id="activity-costs"' in saved.content.decode()
    assert "<html" not in saved.content.decode()
    # 250 × 4 × (1 + 2)
    assert saved.context["costs"].total_required == Decimal("3000.00")
    added = client.post(costs_url(moa_activity), form(description="Pens"), headers={"HX-Request": "true"})
    assert added.status_code == 200
    assert "Cost line “Pens” added." in added.content.decode()


def test_a_stale_edit_is_refused_with_a_conflict_page_and_api(client, api_client, lead, moa_line):
    cost_line_update(line=moa_line, by=lead, version=moa_line.version, fields={"quantity": Decimal("4")})
    client.force_login(lead)
    response = client.post(edit_url(moa_line), form(quantity="9", version=1))
    assert response.status_code == 409
    assert "Cost line: someone else changed it" in response.content.decode()
    htmx = client.post(edit_url(moa_line), form(quantity="9", version=1), headers={"HX-Request": "true"})
    assert htmx.status_code == 409
    delete = reverse("cost_line_delete", args=[moa_line.plan_id, moa_line.activity_id, moa_line.pk])
    assert client.post(delete, {"version": 1}).status_code == 409
    api_client.force_authenticate(lead)
    response = api_client.patch(api_detail(moa_line), {"quantity": "9", "version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "edit_conflict"
    assert api_client.delete(f"{api_detail(moa_line)}?version=1").status_code == 409
    assert CostLine.objects.get(pk=moa_line.pk).quantity == Decimal("4")


# --- Bad input -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"quantity": "-1"}, "quantity", "greater than or equal to 0"),
        ({"category": "snacks"}, "category", "snacks is not one of the available choices"),
        ({"currency": "XYZ"}, "currency", "“XYZ” is not an ISO 4217 currency code"),
        ({"currency": "GBP"}, "currency", "No exchange rate from GBP to USD for 2026"),
        ({"recurrence": "one_off"}, "frequencies", "A one-off cost happens in one year only"),
        ({"frequencies_2": "-2"}, "frequencies", "Frequency in 2028 cannot be negative"),
        ({"unit_cost": ""}, "unit_cost", "Give the unit cost, or pick a catalogue item"),
    ],
)
def test_bad_input_in_the_page_is_named_next_to_its_field_and_saves_nothing(
    client, lead, moa_activity, costing, overrides, field, message
):
    client.force_login(lead)
    events = AuditEvent.objects.count()
    response = client.post(costs_url(moa_activity), form(**overrides))
    assert response.status_code == 422
    errors = response.context["add_form"].errors[field]
    assert any(message in error for error in errors), errors
    assert message in response.content.decode().replace("&quot;", '"').replace("&#x27;", "'")
    assert not CostLine.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"quantity": "-1"}, "quantity", "greater than or equal to 0"),
        ({"category": "snacks"}, "category", "is not a valid choice"),
        ({"currency": "XYZ"}, "currency", "not an ISO 4217 currency code"),
        ({"currency": "GBP"}, "currency", "No exchange rate from GBP to USD for 2026"),
        ({"recurrence": "one_off", "frequencies": {"2026": "1", "2027": "1"}}, "frequencies", "one year only"),
        ({"frequencies": {"2031": "1"}}, "frequencies", "2031 lies outside the plan's period (2026–2030)"),
        ({"frequencies": ["1"]}, "frequencies", "Send the frequencies as"),
    ],
)
def test_bad_input_in_the_api_is_named_by_field_and_saves_nothing(
    api_client, lead, plan, moa_activity, costing, overrides, field, message
):
    api_client.force_authenticate(lead)
    response = api_client.post(api_list(plan), body(moa_activity, **overrides), format="json")
    assert response.status_code == 400
    assert any(message in error for error in response.json()[field]), response.json()
    assert not CostLine.objects.exists()


def test_an_activity_or_line_of_another_plan_is_not_found(api_client, client, lead, plan, provincial_plan, moa_line):
    from planning.models import Activity

    PlanMembership.objects.create(plan=provincial_plan, user=lead, role=Role.SECRETARIAT_LEAD)
    other = Activity.objects.create(plan=provincial_plan, technical_area=area("P1"), title="Provincial drill")
    api_client.force_authenticate(lead)
    response = api_client.post(api_list(plan), body(other), format="json")
    assert response.status_code == 400
    assert f"Activity {other.pk} is not an activity of this plan." in response.json()["activity"]
    assert api_client.get(reverse("cost-line-detail", args=[provincial_plan.pk, moa_line.pk])).status_code == 404
    client.force_login(lead)
    assert client.get(reverse("cost_line_edit", args=[plan.pk, other.pk, moa_line.pk])).status_code == 404
    assert client.get(reverse("cost_line_edit", args=[provincial_plan.pk, other.pk, moa_line.pk])).status_code == 404


# --- From the catalogue --------------------------------------------------------------------------------------


def test_a_line_from_the_catalogue_takes_the_items_unit_cost_currency_and_price_year(
    client, api_client, lead, plan, country, other_country, moa_activity, costing
):
    item = CatalogueItem.objects.create(
        jurisdiction=country,
        name="Conference room",
        category="meetings",
        unit="room-day",
        unit_cost=Decimal("300"),
        currency="EUR",
        price_year=2026,
    )
    foreign = CatalogueItem.objects.create(
        jurisdiction=other_country,
        name="Hall",
        category="meetings",
        unit="room-day",
        unit_cost=Decimal("5"),
        currency="USD",
        price_year=2026,
    )
    client.force_login(lead)
    response = client.post(
        costs_url(moa_activity),
        form(catalogue_item=item.pk, description="", category="", unit="", unit_cost="", currency="", quantity="2"),
    )
    assert response.status_code == 302
    line = CostLine.objects.get()
    assert (line.description, line.category, line.unit, line.currency, line.price_year) == (
        "Conference room",
        "meetings",
        "room-day",
        "EUR",
        2026,
    )
    assert line.unit_cost == Decimal("300")
    # 300 EUR at 1.10 × 2 × 1 in 2026
    assert CostLineYear.objects.get(cost_line=line, year=2026).amount == Decimal("660.00")

    refused = client.post(costs_url(moa_activity), form(catalogue_item=foreign.pk))
    assert refused.status_code == 422
    assert "catalogue_item" in refused.context["add_form"].errors
    api_client.force_authenticate(lead)
    response = api_client.post(api_list(plan), body(moa_activity, catalogue_item=foreign.pk), format="json")
    assert response.status_code == 400
    assert f"Catalogue item {foreign.pk} is not in this plan's catalogue." in response.json()["catalogue_item"]
    assert CostLine.objects.count() == 1


# --- The API -------------------------------------------------------------------------------------------------


def test_the_api_lists_lines_by_activity_with_frequencies_and_amounts_as_strings(
    api_client, people, plan, moa_activity, moh_line, costed
):
    api_client.force_authenticate(people[VW])
    everything = api_client.get(api_list(plan)).json()
    assert everything["count"] == 4
    response = api_client.get(api_list(plan), {"activity": moa_activity.pk})
    data = response.json()
    assert data["count"] == 3
    venue = next(line for line in data["results"] if line["description"] == "Workshop venue")
    assert venue["frequencies"] == {"2026": "2", "2027": "1", "2028": "0", "2029": "0", "2030": "0"}
    assert venue["amounts"] == {"2026": "1500.00", "2027": "750.00", "2028": "0.00", "2029": "0.00", "2030": "0.00"}
    assert venue["total"] == "2250.00"
    assert venue["unit_cost"] == "250.00"
    assert api_client.get(api_list(plan), {"activity": "abc"}).status_code == 400


def test_the_api_creates_replaces_and_deletes_a_line(api_client, people, plan, moa_activity, costing):
    api_client.force_authenticate(people[FP])
    created = api_client.post(api_list(plan), body(moa_activity), format="json")
    assert created.status_code == 201, created.json()
    line = created.json()
    assert line["amounts"]["2027"] == "500.00"
    assert line["version"] == 1
    url = reverse("cost-line-detail", args=[plan.pk, line["id"]])
    replaced = api_client.put(
        url,
        body(quantity="100", recurrence="recurring", frequencies={"2026": "1", "2027": "3"}, version=1),
        format="json",
    )
    assert replaced.status_code == 200, replaced.json()
    assert replaced.json()["amounts"]["2027"] == "750.00"
    assert replaced.json()["total"] == "1000.00"
    patched = api_client.patch(url, {"optional": True, "version": 2}, format="json")
    assert patched.json()["optional"] is True
    assert patched.json()["frequencies"]["2027"] == "3"
    assert api_client.patch(url, {"optional": False}, format="json").status_code == 400  # no version
    assert api_client.delete(f"{url}?version=3").status_code == 204
    assert not CostLine.objects.exists()


# --- A constant number of queries -----------------------------------------------------------------------------


def _lines(activity, lead, count: int) -> None:
    for number in range(count):
        cost_line_create(
            activity=activity,
            by=lead,
            fields=line_fields(description=f"Line {number}", currency="EUR" if number % 2 else "USD"),
            frequencies={2026: 1, 2027: 2},
        )


# Measured for the secretariat: the page reads the session, the user, the membership, the activity, the costing
# settings, the lines and their years, the funding with its activities, the costs it is shared by, the rates, the
# area-wide funding and the catalogue; the list endpoint the membership, the count, the lines and their years.
PAGE_QUERIES = 13
LIST_QUERIES = 4


def test_the_costs_page_and_the_list_endpoint_run_as_many_queries_for_5_lines_as_for_50(
    client, api_client, lead, plan, moa, moa_activity, costing, django_assert_max_num_queries
):
    commitment = FundingCommitment.objects.create(
        plan=plan,
        source_organization=moa,
        source_kind="donor",
        amount=Decimal("100"),
        currency="EUR",
        first_year=2026,
        last_year=2027,
        status="committed",
    )
    commitment.activities.add(moa_activity)
    client.force_login(lead)
    api_client.force_authenticate(lead)
    counts = []
    for total in (5, 50):
        _lines(moa_activity, lead, total - CostLine.objects.count())
        with CaptureQueriesContext(connection) as page, django_assert_max_num_queries(PAGE_QUERIES):
            response = client.get(costs_url(moa_activity))
        assert len(response.context["costs"].rows) == total
        with CaptureQueriesContext(connection) as listing, django_assert_max_num_queries(LIST_QUERIES):
            assert api_client.get(api_list(plan), {"activity": moa_activity.pk}).json()["count"] == total
        counts.append((len(page), len(listing)))
    assert counts[0] == counts[1]
