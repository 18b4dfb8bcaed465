"""Costing settings, exchange rates and the unit-cost catalogue, in the browser, through the API and in the admin.

The plan (`costing` fixture) is costed in US dollars at 2026 prices with euro rates for 2026 (1.10) and 2027
(1.20). The catalogue item `room` is shared with the whole country; lines taken from it sit in the national plan
(which the personas belong to) and in the provincial plan (which they do not).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from costing.catalogue import catalogue_item_reprice
from costing.models import (
    CatalogueItem,
    CostLine,
    CostLineYear,
    CostRollup,
    ExchangeRate,
    FundingCommitment,
    PlanCosting,
)
from costing.rollups import plan_rollup
from costing.services import cost_line_create, exchange_rate_delete, exchange_rate_set, plan_costing_get
from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.models import Activity
from stakeholders.models import PlanMembership
from tests.conftest import make_user
from tests.costing.conftest import area, line_fields

pytestmark = pytest.mark.django_db

READ_ONLY_ROLES = [Role.TECHNICAL_LEAD, Role.FOCAL_POINT, Role.REVIEWER, Role.VIEWER]


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def total(line: CostLine) -> Decimal:
    return CostLineYear.objects.filter(cost_line=line).aggregate(total=Sum("amount"))["total"]


def item(**fields) -> CatalogueItem:
    values = {
        "name": "Conference room",
        "category": "meetings",
        "unit": "day",
        "unit_cost": Decimal("200.00"),
        "currency": "USD",
        "price_year": 2026,
    }
    values.update(fields)
    return CatalogueItem.objects.create(**values)


@pytest.fixture
def room(country) -> CatalogueItem:
    return item(jurisdiction=country, source="National price list 2026")


@pytest.fixture
def provincial_activity(provincial_plan) -> Activity:
    plan_costing_get(provincial_plan)
    return Activity.objects.create(plan=provincial_plan, technical_area=area("P1"), title="Train district teams")


@pytest.fixture
def room_lines(costing, room, moa_activity, moh_activity, provincial_activity, lead) -> dict[str, CostLine]:
    """Three lines taken from the room (two in the national plan, one in the provincial plan) and a free line."""

    def line(activity, description, quantity, frequencies):
        fields = line_fields(catalogue_item=room, description=description, quantity=Decimal(quantity))
        return cost_line_create(activity=activity, by=lead, fields=fields, frequencies=frequencies)

    return {
        "workshop": line(moa_activity, "Workshop room", "3", {2026: 2, 2027: 1}),  # 1,800.00
        "lab": line(moh_activity, "Lab meeting room", "1", {2028: 4}),  # 800.00
        "province": line(provincial_activity, "District meeting room", "2", {2026: 1}),  # 400.00
        "free": cost_line_create(activity=moa_activity, by=lead, fields=line_fields(), frequencies={2026: 1}),
    }


def snapshot() -> dict:
    """Everything a price change could touch."""
    return {
        "items": list(CatalogueItem.objects.order_by("pk").values()),
        "lines": list(CostLine.objects.order_by("pk").values()),
        "years": list(CostLineYear.objects.order_by("pk").values("pk", "amount", "frequency")),
        "audit": AuditEvent.objects.count(),
    }


# --- Costing settings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_member_sees_the_base_currency_price_year_and_rates(client, costing, people, role):
    response = browser(people[role]).get(reverse("costing_settings", args=[costing.plan_id]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "USD" in content and "2026" in content
    assert "1 EUR = 1.1 USD" in content and "1 EUR = 1.2 USD" in content
    may_manage = role in (Role.SECRETARIAT_LEAD, Role.SECRETARIAT_MEMBER)
    assert ("Add rate" in content) is may_manage


def test_the_secretariat_changes_the_price_year(costing, lead):
    url = reverse("costing_settings", args=[costing.plan_id])
    response = browser(lead).post(
        url, {"form": "settings", "currency": "USD", "price_year": 2027, "version": costing.version}
    )
    assert response.status_code == 302
    costing.refresh_from_db()
    assert costing.price_year == 2027
    assert AuditEvent.objects.filter(target_type="plancosting", action="edited", actor=lead).exists()


def test_a_stale_settings_edit_is_refused_with_a_conflict(costing, lead):
    stale = costing.version
    PlanCosting.objects.filter(pk=costing.pk).update(version=stale + 1)  # someone saved first
    response = browser(lead).post(
        reverse("costing_settings", args=[costing.plan_id]),
        {"form": "settings", "currency": "USD", "price_year": 2028, "version": stale},
    )
    assert response.status_code == 409
    assert "someone else changed" in response.content.decode().lower()
    costing.refresh_from_db()
    assert costing.price_year == 2026


def test_an_unknown_currency_is_refused_next_to_its_field(costing, lead):
    response = browser(lead).post(
        reverse("costing_settings", args=[costing.plan_id]),
        {"form": "settings", "currency": "XYZ", "price_year": 2026, "version": costing.version},
    )
    assert response.status_code == 422
    assert response.context["settings_form"].errors["currency"]
    costing.refresh_from_db()
    assert costing.currency == "USD"


def test_the_base_currency_changes_only_before_costing_starts(costing, lead):
    response = browser(lead).post(
        reverse("costing_settings", args=[costing.plan_id]),
        {"form": "settings", "currency": "EUR", "price_year": 2026, "version": costing.version},
    )
    assert response.status_code == 422
    assert "can only change before costing starts" in str(response.context["settings_form"].errors["currency"])
    costing.refresh_from_db()
    assert costing.currency == "USD"


def test_a_provincial_plan_is_shown_and_held_to_its_national_plans_currency(costing, provincial_plan):
    province_lead = make_user("province_lead")
    PlanMembership.objects.create(plan=provincial_plan, user=province_lead, role=Role.SECRETARIAT_LEAD)
    provincial = plan_costing_get(provincial_plan)
    url = reverse("costing_settings", args=[provincial_plan.pk])
    page = browser(province_lead).get(url).content.decode()
    assert "is costed in its currency, USD" in page
    response = browser(province_lead).post(
        url, {"form": "settings", "currency": "EUR", "price_year": 2026, "version": provincial.version}
    )
    assert response.status_code == 422
    assert "is costed in its currency, USD" in str(response.context["settings_form"].errors["currency"])
    provincial.refresh_from_db()
    assert provincial.currency == "USD"


@pytest.mark.parametrize("role", READ_ONLY_ROLES)
def test_members_outside_the_secretariat_cannot_change_settings_or_rates(costing, people, role):
    client = browser(people[role])
    url = reverse("costing_settings", args=[costing.plan_id])
    assert (
        client.post(url, {"form": "settings", "currency": "EUR", "price_year": 2027, "version": 1}).status_code == 403
    )
    assert (
        client.post(url, {"form": "rate", "rate-currency": "GBP", "rate-year": 2026, "rate-rate": "1.3"}).status_code
        == 403
    )
    rate = ExchangeRate.objects.get(plan=costing.plan, currency="EUR", year=2026)
    assert client.post(reverse("exchange_rate_delete", args=[costing.plan_id, rate.pk])).status_code == 403
    assert ExchangeRate.objects.filter(plan=costing.plan).count() == 2
    costing.refresh_from_db()
    assert (costing.currency, costing.price_year) == ("USD", 2026)


def test_an_outsider_gets_not_found(costing, people, room):
    client = browser(people["outsider"])
    for url in (
        reverse("costing_settings", args=[costing.plan_id]),
        reverse("catalogue", args=[costing.plan_id]),
        reverse("catalogue_item_price", args=[costing.plan_id, room.pk]),
    ):
        assert client.get(url).status_code == 404, url


# --- Exchange rates -----------------------------------------------------------------------------------------


def add_rate(client, plan, **fields):
    data = {"form": "rate", "rate-currency": "GBP", "rate-year": 2026, "rate-rate": "1.27", "rate-source": "BoE"}
    data.update({f"rate-{name}": value for name, value in fields.items()})
    return client.post(reverse("costing_settings", args=[plan.pk]), data)


def test_the_secretariat_adds_a_rate(costing, lead):
    response = add_rate(browser(lead), costing.plan)
    assert response.status_code == 302
    rate = ExchangeRate.objects.get(plan=costing.plan, currency="GBP", year=2026)
    assert rate.rate == Decimal("1.27") and rate.source == "BoE"
    assert AuditEvent.objects.filter(target_type="exchangerate", target_id=rate.pk, action="created").exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"currency": "EUR", "year": 2026}, "year", "already has a rate for EUR in 2026"),
        ({"currency": "USD"}, "currency", "is the plan's base currency"),
        ({"currency": "XYZ"}, "currency", "Select a valid choice"),
        ({"rate": "-1"}, "rate", "greater than or equal to"),
        ({"rate": "0"}, "rate", "greater than or equal to"),
        ({"rate": "5000000000"}, "rate", "less than or equal to"),
        ({"year": 1850}, "year", "greater than or equal to"),
    ],
)
def test_a_bad_rate_is_refused_next_to_its_field_and_nothing_is_saved(costing, lead, fields, field, message):
    before = list(ExchangeRate.objects.order_by("pk").values())
    response = add_rate(browser(lead), costing.plan, **fields)
    assert response.status_code == 422
    assert message in " ".join(response.context["rate_form"].errors[field])
    assert list(ExchangeRate.objects.order_by("pk").values()) == before


def test_changing_a_rate_converts_the_lines_priced_in_it_again(costing, moa_activity, lead):
    line = cost_line_create(
        activity=moa_activity,
        by=lead,
        fields=line_fields(unit_cost=Decimal("100"), currency="EUR", price_year=2027),
        frequencies={2027: 1},
    )
    assert total(line) == Decimal("360.00")
    rate = ExchangeRate.objects.get(plan=costing.plan, currency="EUR", year=2027)
    response = browser(lead).post(
        reverse("exchange_rate_edit", args=[costing.plan_id, rate.pk]),
        {"rate": "1.25", "source": "Central bank", "version": rate.version},
    )
    assert response.status_code == 302
    assert total(line) == Decimal("375.00")


def test_a_stale_rate_edit_is_refused_with_a_conflict(costing, lead):
    rate = ExchangeRate.objects.get(plan=costing.plan, currency="EUR", year=2027)
    exchange_rate_set(plan=costing.plan, by=lead, currency="EUR", year=2027, rate=Decimal("1.21"), version=rate.version)
    response = browser(lead).post(
        reverse("exchange_rate_edit", args=[costing.plan_id, rate.pk]), {"rate": "1.5", "version": rate.version}
    )
    assert response.status_code == 409
    rate.refresh_from_db()
    assert rate.rate == Decimal("1.21")


def test_a_rate_cost_lines_use_cannot_be_deleted(costing, moa_activity, lead):
    cost_line_create(
        activity=moa_activity, by=lead, fields=line_fields(currency="EUR", price_year=2027), frequencies={2027: 1}
    )
    rate = ExchangeRate.objects.get(plan=costing.plan, currency="EUR", year=2027)
    response = browser(lead).post(reverse("exchange_rate_delete", args=[costing.plan_id, rate.pk]), follow=True)
    assert "1 cost line is priced in EUR of 2027" in response.content.decode()
    assert ExchangeRate.objects.filter(pk=rate.pk).exists()


def test_a_rate_funding_commitments_need_cannot_be_deleted(costing, moh, lead):
    FundingCommitment.objects.create(
        plan=costing.plan,
        source_organization=moh,
        source_kind="government",
        amount=Decimal("90000"),
        currency="EUR",
        first_year=2025,
        last_year=2027,
    )
    rate = ExchangeRate.objects.get(plan=costing.plan, currency="EUR", year=2026)
    with pytest.raises(Exception, match="1 funding commitment in EUR covers 2026"):
        exchange_rate_delete(rate=rate, by=lead)
    response = browser(lead).post(reverse("exchange_rate_delete", args=[costing.plan_id, rate.pk]), follow=True)
    assert "funding commitment in EUR covers 2026" in response.content.decode()
    assert ExchangeRate.objects.filter(pk=rate.pk).exists()


def test_a_rate_nothing_uses_is_deleted(costing, lead):
    rate = ExchangeRate.objects.get(plan=costing.plan, currency="EUR", year=2026)
    response = browser(lead).post(reverse("exchange_rate_delete", args=[costing.plan_id, rate.pk]))
    assert response.status_code == 302
    assert not ExchangeRate.objects.filter(pk=rate.pk).exists()
    assert AuditEvent.objects.filter(target_type="exchangerate", action="deleted").exists()


def test_the_page_names_the_rates_lines_and_funding_need_but_lack(costing, moa_activity, moh, lead, people):
    cost_line_create(
        activity=moa_activity, by=lead, fields=line_fields(currency="EUR", price_year=2027), frequencies={2027: 1}
    )
    ExchangeRate.objects.filter(plan=costing.plan, currency="EUR", year=2027).delete()  # as an old database might
    FundingCommitment.objects.create(
        plan=costing.plan,
        source_organization=moh,
        source_kind="donor",
        amount=Decimal("1000"),
        currency="GBP",
        first_year=2026,
        last_year=2026,
    )
    response = browser(people[Role.VIEWER]).get(reverse("costing_settings", args=[costing.plan_id]))
    missing = {(need.currency, need.year): need for need in response.context["missing"]}
    assert set(missing) == {("EUR", 2027), ("GBP", 2026)}
    assert missing["EUR", 2027].lines == 1 and missing["GBP", 2026].commitments == 1
    content = response.content.decode()
    assert "EUR in 2027" in content and "GBP in 2026" in content


# --- The catalogue ------------------------------------------------------------------------------------------


@pytest.fixture
def catalogues(plan, provincial_plan, country, province, other_country) -> dict[str, CatalogueItem]:
    return {
        "national": item(name="National venue", jurisdiction=country),
        "provincial": item(name="Provincial venue", jurisdiction=province, category="transport"),
        "plan": item(name="Our own consultant", plan=plan, category="consultancy", unit="person-day"),
        "province_plan": item(name="Province's own driver", plan=provincial_plan, category="transport"),
        "elsewhere": item(name="Foreign venue", jurisdiction=other_country),
    }


def names(response) -> set[str]:
    return {entry.name for entry in response.context["page"].object_list}


def test_the_catalogue_offers_the_plans_own_items_and_those_of_its_jurisdiction_and_above(
    catalogues, plan, provincial_plan, people
):
    viewer = browser(people[Role.VIEWER])
    assert names(viewer.get(reverse("catalogue", args=[plan.pk]))) == {"National venue", "Our own consultant"}
    province_viewer = make_user("province_viewer")
    PlanMembership.objects.create(plan=provincial_plan, user=province_viewer, role=Role.VIEWER)
    seen = names(browser(province_viewer).get(reverse("catalogue", args=[provincial_plan.pk])))
    assert seen == {"National venue", "Provincial venue", "Province's own driver"}


def test_the_catalogue_filters_by_category_and_searches_by_name(catalogues, provincial_plan, people):
    province_viewer = make_user("province_viewer")
    PlanMembership.objects.create(plan=provincial_plan, user=province_viewer, role=Role.VIEWER)
    client = browser(province_viewer)
    url = reverse("catalogue", args=[provincial_plan.pk])
    assert names(client.get(url, {"category": "transport"})) == {"Provincial venue", "Province's own driver"}
    assert names(client.get(url, {"q": "venue"})) == {"National venue", "Provincial venue"}
    table = client.get(url, {"q": "driver"}, headers={"HX-Request": "true"})
    assert "<html" not in table.content.decode() and "own driver" in table.content.decode()


def test_the_catalogue_and_settings_pages_run_a_constant_number_of_queries(
    plan, country, people, lead, costing, moa_activity, django_assert_max_num_queries
):
    client = browser(lead)
    url = reverse("catalogue", args=[plan.pk])
    for count in (3, 40):
        for number in range(count):
            shared = item(
                name=f"Item {count}-{number}",
                jurisdiction=country if number % 2 else None,
                plan=None if number % 2 else plan,
            )
            cost_line_create(
                activity=moa_activity, by=lead, fields=line_fields(catalogue_item=shared), frequencies={2026: 1}
            )
        with django_assert_max_num_queries(7):
            response = client.get(url)
        assert response.status_code == 200
        with django_assert_max_num_queries(7):
            assert client.get(reverse("costing_settings", args=[plan.pk])).status_code == 200


def item_form(**fields) -> dict:
    data = {
        "name": "Facilitator",
        "category": "consultancy",
        "unit": "person-day",
        "unit_cost": "350.00",
        "currency": "USD",
        "price_year": 2026,
        "source": "UN rates 2026",
        "notes": "",
        "owner": "plan",
    }
    data.update(fields)
    return data


def test_the_secretariat_adds_an_item_to_its_plan_or_shares_it_with_its_country(plan, country, costing, lead):
    client = browser(lead)
    url = reverse("catalogue_item_new", args=[plan.pk])
    assert client.post(url, item_form()).status_code == 302
    assert client.post(url, item_form(name="Printing", owner=str(country.pk))).status_code == 302
    own, shared = CatalogueItem.objects.get(name="Facilitator"), CatalogueItem.objects.get(name="Printing")
    assert (own.plan_id, own.jurisdiction_id) == (plan.pk, None)
    assert (shared.plan_id, shared.jurisdiction_id) == (None, country.pk)
    assert own.unit_cost == Decimal("350.00")
    assert AuditEvent.objects.filter(target_type="catalogueitem", action="created").count() == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"unit_cost": "-5"}, "unit_cost"),
        ({"unit_cost": "1000000000000"}, "unit_cost"),
        ({"unit_cost": "12.345"}, "unit_cost"),
        ({"currency": "ABC"}, "currency"),
        ({"category": "snacks"}, "category"),
        ({"unit": "bushel"}, "unit"),
        ({"name": ""}, "name"),
        ({"price_year": 3000}, "price_year"),
        ({"owner": "99999"}, "owner"),
    ],
)
def test_a_bad_item_is_refused_next_to_its_field_and_nothing_is_saved(plan, costing, lead, fields, field):
    response = browser(lead).post(reverse("catalogue_item_new", args=[plan.pk]), item_form(**fields))
    assert response.status_code == 422
    assert response.context["form"].errors[field]
    assert not CatalogueItem.objects.exists()


def test_a_provincial_secretariat_keeps_its_provinces_catalogue_not_the_countrys(
    catalogues, provincial_plan, country, province
):
    province_lead = make_user("province_lead")
    PlanMembership.objects.create(plan=provincial_plan, user=province_lead, role=Role.SECRETARIAT_LEAD)
    client = browser(province_lead)
    owners = dict(
        client.get(reverse("catalogue_item_new", args=[provincial_plan.pk])).context["form"].fields["owner"].choices
    )
    assert owners == {"plan": "This plan only", str(province.pk): "Shared with North Province"}
    national, provincial = catalogues["national"], catalogues["provincial"]
    edit = {"name": "Renamed", "category": "meetings", "unit": "day", "source": "", "notes": ""}
    response = client.post(
        reverse("catalogue_item_edit", args=[provincial_plan.pk, national.pk]), {**edit, "version": 1}
    )
    assert response.status_code == 403
    response = client.post(
        reverse("catalogue_item_edit", args=[provincial_plan.pk, provincial.pk]), {**edit, "version": 1}
    )
    assert response.status_code == 302
    national.refresh_from_db()
    provincial.refresh_from_db()
    assert (national.name, provincial.name) == ("National venue", "Renamed")
    response = client.post(reverse("catalogue_item_new", args=[provincial_plan.pk]), item_form(owner=str(country.pk)))
    assert response.status_code == 422
    assert not CatalogueItem.objects.filter(name="Facilitator").exists()


def test_the_national_secretariat_keeps_the_countrys_catalogue_from_its_plan(catalogues, plan, lead):
    national = catalogues["national"]
    response = browser(lead).post(
        reverse("catalogue_item_edit", args=[plan.pk, national.pk]),
        {
            "name": "National venue (half day)",
            "category": "meetings",
            "unit": "day",
            "source": "",
            "notes": "",
            "version": 1,
        },
    )
    assert response.status_code == 302
    national.refresh_from_db()
    assert national.name == "National venue (half day)" and national.version == 2


def test_a_stale_item_edit_is_refused_with_a_conflict(catalogues, plan, lead):
    own = catalogues["plan"]
    CatalogueItem.objects.filter(pk=own.pk).update(version=2, name="Saved by someone else")
    response = browser(lead).post(
        reverse("catalogue_item_edit", args=[plan.pk, own.pk]),
        {"name": "Mine", "category": "consultancy", "unit": "person-day", "source": "", "notes": "", "version": 1},
    )
    assert response.status_code == 409
    own.refresh_from_db()
    assert own.name == "Saved by someone else"


def test_an_items_unit_cannot_change_while_cost_lines_count_in_it(room_lines, room, plan, lead):
    response = browser(lead).post(
        reverse("catalogue_item_edit", args=[plan.pk, room.pk]),
        {"name": room.name, "category": "meetings", "unit": "session", "source": "", "notes": "", "version": 1},
    )
    assert response.status_code == 422
    assert "3 cost lines count this item per day" in str(response.context["form"].errors["unit"])
    room.refresh_from_db()
    assert room.unit == "day"


def test_an_item_cost_lines_use_cannot_be_deleted(room_lines, room, plan, lead):
    response = browser(lead).post(reverse("catalogue_item_delete", args=[plan.pk, room.pk]), follow=True)
    assert "is used by 3 cost lines in 2 plans, so it cannot be deleted" in response.content.decode()
    assert CatalogueItem.objects.filter(pk=room.pk).exists()


def test_an_unused_item_is_deleted(catalogues, plan, lead):
    own = catalogues["plan"]
    assert browser(lead).post(reverse("catalogue_item_delete", args=[plan.pk, own.pk])).status_code == 302
    assert not CatalogueItem.objects.filter(pk=own.pk).exists()
    assert AuditEvent.objects.filter(plan=plan, target_type="catalogueitem", action="deleted").exists()


@pytest.mark.parametrize("role", READ_ONLY_ROLES)
def test_members_outside_the_secretariat_read_the_catalogue_but_cannot_change_it(catalogues, plan, people, role):
    client = browser(people[role])
    own = catalogues["plan"]
    assert client.get(reverse("catalogue", args=[plan.pk])).status_code == 200
    assert client.post(reverse("catalogue_item_new", args=[plan.pk]), item_form()).status_code == 403
    assert client.get(reverse("catalogue_item_price", args=[plan.pk, own.pk])).status_code == 403
    price = {"unit_cost": "1", "currency": "USD", "price_year": 2026, "version": 1}
    assert client.post(reverse("catalogue_item_price", args=[plan.pk, own.pk]), price).status_code == 403
    assert client.post(reverse("catalogue_item_delete", args=[plan.pk, own.pk])).status_code == 403
    own.refresh_from_db()
    assert own.unit_cost == Decimal("200.00") and CatalogueItem.objects.count() == 5


# --- The deliberate price change ----------------------------------------------------------------------------


def price_url(plan, room) -> str:
    return reverse("catalogue_item_price", args=[plan.pk, room.pk])


def test_the_price_preview_lists_exactly_the_lines_that_change_and_changes_nothing(room_lines, room, plan, lead):
    before = snapshot()
    response = browser(lead).get(
        price_url(plan, room), {"unit_cost": "300", "currency": "USD", "price_year": 2026, "version": room.version}
    )
    assert response.status_code == 200
    preview = response.context["preview"]
    rows = {row.line.pk: row for row in preview.lines}
    assert set(rows) == {room_lines["workshop"].pk, room_lines["lab"].pk}
    workshop = rows[room_lines["workshop"].pk]
    assert (workshop.old_unit_cost, workshop.new_unit_cost) == (Decimal("200.00"), Decimal("300"))
    assert (workshop.old_total, workshop.new_total) == (Decimal("1800.00"), Decimal("2700.00"))
    assert (rows[room_lines["lab"].pk].old_total, rows[room_lines["lab"].pk].new_total) == (
        Decimal("800.00"),
        Decimal("1200.00"),
    )
    assert (preview.line_count, preview.plan_count) == (3, 2)
    assert (preview.hidden_line_count, preview.hidden_plan_count) == (1, 1)
    content = response.content.decode()
    assert "Workshop room" in content and "Lab meeting room" in content
    assert "District meeting room" not in content and "Workshop venue" not in content
    assert "1 line in 1 other plan" in content
    assert snapshot() == before


def test_confirming_the_price_changes_every_linked_line_and_the_totals(room_lines, room, plan, provincial_plan, lead):
    changes_before = dict(PlanCosting.objects.values_list("plan_id", "changes"))
    free_before = total(room_lines["free"])
    response = browser(lead).post(
        price_url(plan, room), {"unit_cost": "300", "currency": "USD", "price_year": 2026, "version": room.version}
    )
    assert response.status_code == 302
    room.refresh_from_db()
    assert (room.unit_cost, room.version) == (Decimal("300.00"), 2)
    expected = {"workshop": "2700.00", "lab": "1200.00", "province": "600.00"}
    for key, amount in expected.items():
        line = CostLine.objects.get(pk=room_lines[key].pk)
        assert line.unit_cost == Decimal("300.00") and line.unit_cost_base == Decimal("300")
        assert line.version == room_lines[key].version + 1
        assert total(line) == Decimal(amount), key
    assert total(room_lines["free"]) == free_before
    repriced = AuditEvent.objects.filter(action="repriced", target_id=room.pk)
    assert set(repriced.values_list("plan_id", flat=True)) == {plan.pk, provincial_plan.pk}
    changes_after = dict(PlanCosting.objects.values_list("plan_id", "changes"))
    assert changes_after[plan.pk] > changes_before[plan.pk]
    assert changes_after[provincial_plan.pk] > changes_before[provincial_plan.pk]
    # The plans' stored totals follow once recomputed: the national plan's 2,700 + 1,200 + the free line's 750.
    plan_rollup(plan_id=plan.pk)
    assert CostRollup.objects.filter(plan=plan).aggregate(total=Sum("required"))["total"] == Decimal("4650.00")
    plan_rollup(plan_id=provincial_plan.pk)
    assert CostRollup.objects.filter(plan=provincial_plan).aggregate(total=Sum("required"))["total"] == Decimal(
        "600.00"
    )


def test_a_new_currency_is_converted_at_each_plans_own_rate(room_lines, room, plan, provincial_plan, lead):
    exchange_rate_set(plan=provincial_plan, by=lead, currency="EUR", year=2027, rate=Decimal("1.25"))
    result = catalogue_item_reprice(
        item=room, by=lead, version=room.version, unit_cost=Decimal("250"), currency="EUR", price_year=2027
    )
    assert (result.line_count, result.plan_count) == (3, 2)
    assert total(CostLine.objects.get(pk=room_lines["workshop"].pk)) == Decimal("2700.00")  # 250 x 1.20 = 300
    province = CostLine.objects.get(pk=room_lines["province"].pk)
    assert (province.currency, province.price_year, province.unit_cost_base) == ("EUR", 2027, Decimal("312.5"))
    assert total(province) == Decimal("625.00")


def test_a_price_change_blocked_by_a_missing_rate_changes_nothing(room_lines, room, plan, lead):
    before = snapshot()
    price = {"unit_cost": "250", "currency": "EUR", "price_year": 2027, "version": room.version}
    preview = browser(lead).get(price_url(plan, room), price)
    assert any("North Province plan" in problem for problem in preview.context["preview"].missing_rates)
    response = browser(lead).post(price_url(plan, room), price)
    assert response.status_code == 422
    content = response.content.decode()
    assert "North Province plan" in content and "has no exchange rate from EUR to USD for 2027" in content
    assert snapshot() == before


def test_a_stale_price_preview_is_refused_with_a_conflict(room_lines, room, plan, lead):
    stale = room.version
    catalogue_item_reprice(item=room, by=lead, version=stale, unit_cost=Decimal("210"), currency="USD", price_year=2026)
    before = snapshot()
    response = browser(lead).post(
        price_url(plan, room), {"unit_cost": "300", "currency": "USD", "price_year": 2026, "version": stale}
    )
    assert response.status_code == 409
    assert "someone else changed" in response.content.decode().lower()
    assert snapshot() == before
    assert response.context["preview"] is not None  # shown again against the item as it is now


def test_a_bad_new_price_is_refused_next_to_its_field(room_lines, room, plan, lead):
    before = snapshot()
    for value in ("-1", "100000000001", "abc"):
        response = browser(lead).post(
            price_url(plan, room), {"unit_cost": value, "currency": "USD", "price_year": 2026, "version": room.version}
        )
        assert response.status_code == 422
        assert response.context["form"].errors["unit_cost"]
    assert snapshot() == before


def test_the_price_preview_runs_a_constant_number_of_queries(
    room_lines, room, plan, moa_activity, lead, django_assert_max_num_queries
):
    client = browser(lead)
    price = {"unit_cost": "300", "currency": "USD", "price_year": 2026, "version": room.version}
    for count in (1, 30):
        for number in range(count):
            fields = line_fields(catalogue_item=room, description=f"Room {count}-{number}")
            cost_line_create(activity=moa_activity, by=lead, fields=fields, frequencies={2026: 1, 2027: 2})
        with django_assert_max_num_queries(11):
            response = client.get(price_url(plan, room), price)
        assert len(response.context["preview"].lines) == 2 + (1 if count == 1 else 31)


def test_a_price_change_updates_lines_in_a_constant_number_of_statements(
    costing, room, moa_activity, lead, django_assert_max_num_queries
):
    for number in range(25):
        cost_line_create(
            activity=moa_activity,
            by=lead,
            fields=line_fields(catalogue_item=room, description=f"Room {number}"),
            frequencies={2026: 1},
        )
    with django_assert_max_num_queries(19):  # the update runs in a savepoint (a duplicate name); the plan row is held
        result = catalogue_item_reprice(
            item=room, by=lead, version=room.version, unit_cost=Decimal("205"), currency="USD", price_year=2026
        )
    assert result.line_count == 25
    assert set(
        CostLineYear.objects.filter(year=2026, cost_line__catalogue_item=room).values_list("amount", flat=True)
    ) == {Decimal("615.00")}


# --- API ----------------------------------------------------------------------------------------------------


def test_api_reads_and_changes_the_costing_settings_with_its_version(costing, lead, api_client):
    client = api(api_client, lead)
    url = reverse("plan-costing", args=[costing.plan_id])
    data = client.get(url).json()
    assert (data["currency"], data["price_year"], data["version"]) == ("USD", 2026, costing.version)
    assert client.patch(url, {"price_year": 2027}, format="json").status_code == 400  # no version
    response = client.patch(url, {"price_year": 2027, "version": costing.version}, format="json")
    assert response.status_code == 200 and response.json()["price_year"] == 2027
    stale = client.patch(url, {"price_year": 2028, "version": costing.version}, format="json")
    assert stale.status_code == 409
    bad = client.patch(url, {"currency": "XYZ", "version": costing.version + 1}, format="json")
    assert bad.status_code == 400 and "ISO 4217" in str(bad.json()["currency"])
    costing.refresh_from_db()
    assert (costing.currency, costing.price_year) == ("USD", 2027)


def test_api_exchange_rates(costing, moa_activity, lead, api_client):
    client = api(api_client, lead)
    url = reverse("exchange-rate-list", args=[costing.plan_id])
    assert client.post(url, {"currency": "GBP", "year": 2026, "rate": "1.27"}, format="json").status_code == 201
    duplicate = client.post(url, {"currency": "GBP", "year": 2026, "rate": "1.30"}, format="json")
    assert duplicate.status_code == 400 and "already has a rate" in str(duplicate.json())
    base = client.post(url, {"currency": "USD", "year": 2026, "rate": "1"}, format="json")
    assert base.status_code == 400 and "base currency" in str(base.json())
    for rate in ("-1", "2000000000"):
        assert client.post(url, {"currency": "JPY", "year": 2026, "rate": rate}, format="json").status_code == 400
    assert client.post(url, {"currency": "QQQ", "year": 2026, "rate": "1"}, format="json").status_code == 400
    gbp = ExchangeRate.objects.get(plan=costing.plan, currency="GBP")
    detail = reverse("exchange-rate-detail", args=[costing.plan_id, gbp.pk])
    moved = client.patch(detail, {"rate": "1.28", "currency": "JPY", "version": gbp.version}, format="json")
    assert moved.status_code == 400 and list(moved.json()) == ["currency"]  # refused, not silently ignored
    assert ExchangeRate.objects.get(pk=gbp.pk).rate == gbp.rate  # nothing of it saved
    changed = client.patch(detail, {"rate": "1.28", "version": gbp.version}, format="json")
    assert changed.status_code == 200 and changed.json()["currency"] == "GBP"
    assert client.patch(detail, {"rate": "1.5", "version": gbp.version}, format="json").status_code == 409
    cost_line_create(
        activity=moa_activity, by=lead, fields=line_fields(currency="GBP", price_year=2026), frequencies={2026: 1}
    )
    in_use = client.delete(detail)
    assert in_use.status_code == 409 and "priced in GBP of 2026" in in_use.json()["detail"]
    eur = ExchangeRate.objects.get(plan=costing.plan, currency="EUR", year=2027)
    assert client.delete(reverse("exchange-rate-detail", args=[costing.plan_id, eur.pk])).status_code == 204
    assert list(ExchangeRate.objects.filter(plan=costing.plan).values_list("currency", "year", "rate")) == [
        ("EUR", 2026, Decimal("1.10000000")),
        ("GBP", 2026, Decimal("1.28000000")),
    ]


@pytest.mark.parametrize("role", READ_ONLY_ROLES)
def test_api_members_outside_the_secretariat_read_but_cannot_write(costing, catalogues, people, role, api_client):
    client = api(api_client, people[role])
    plan_id = costing.plan_id
    own = catalogues["plan"]
    rate = ExchangeRate.objects.get(plan_id=plan_id, currency="EUR", year=2026)
    reads = [
        reverse("plan-costing", args=[plan_id]),
        reverse("exchange-rate-list", args=[plan_id]),
        reverse("catalogue-item-list", args=[plan_id]),
        reverse("catalogue-item-detail", args=[plan_id, own.pk]),
    ]
    assert [client.get(url).status_code for url in reads] == [200] * 4
    writes = [
        client.patch(reverse("plan-costing", args=[plan_id]), {"price_year": 2027, "version": 1}, format="json"),
        client.post(reverse("exchange-rate-list", args=[plan_id]), {"currency": "GBP", "year": 2026, "rate": "1"}),
        client.delete(reverse("exchange-rate-detail", args=[plan_id, rate.pk])),
        client.post(reverse("catalogue-item-list", args=[plan_id]), {"name": "X"}, format="json"),
        client.patch(reverse("catalogue-item-detail", args=[plan_id, own.pk]), {"name": "Y", "version": 1}),
        client.post(
            reverse("catalogue-item-reprice", args=[plan_id, own.pk]),
            {"unit_cost": "1", "version": 1, "confirm": True},
            format="json",
        ),
    ]
    assert [response.status_code for response in writes] == [403] * 6
    own.refresh_from_db()
    assert (own.name, own.unit_cost) == ("Our own consultant", Decimal("200.00"))


def test_api_outsiders_get_not_found(costing, catalogues, people, api_client):
    client = api(api_client, people["outsider"])
    assert client.get(reverse("plan-costing", args=[costing.plan_id])).status_code == 404
    assert client.get(reverse("catalogue-item-list", args=[costing.plan_id])).status_code == 404


def test_api_lists_run_a_constant_number_of_queries(
    costing, country, plan, lead, api_client, django_assert_max_num_queries
):
    client = api(api_client, lead)
    for count in (2, 30):
        for number in range(count):
            item(name=f"Item {count}-{number}", jurisdiction=country)
            ExchangeRate.objects.create(plan=plan, currency="JPY", year=1990 + count + number, rate=Decimal("0.0067"))
        with django_assert_max_num_queries(3):
            assert client.get(reverse("catalogue-item-list", args=[plan.pk])).status_code == 200
        with django_assert_max_num_queries(3):
            assert client.get(reverse("exchange-rate-list", args=[plan.pk])).status_code == 200


def test_api_catalogue_filters_and_refuses_an_unknown_category(catalogues, plan, lead, api_client):
    client = api(api_client, lead)
    url = reverse("catalogue-item-list", args=[plan.pk])
    everything = {entry["name"] for entry in client.get(url).json()["results"]}
    assert everything == {"National venue", "Our own consultant"}
    assert [entry["name"] for entry in client.get(url, {"category": "consultancy"}).json()["results"]] == [
        "Our own consultant"
    ]
    assert [entry["name"] for entry in client.get(url, {"q": "VENUE"}).json()["results"]] == ["National venue"]
    assert client.get(url, {"category": "snacks"}).status_code == 400


def test_api_catalogue_items_are_added_and_described_but_their_price_changes_only_by_reprice(
    plan, country, other_country, costing, lead, api_client
):
    client = api(api_client, lead)
    url = reverse("catalogue-item-list", args=[plan.pk])
    body = {
        "name": "Per diem",
        "category": "per_diem_travel",
        "unit": "day",
        "unit_cost": "45.00",
        "currency": "USD",
        "price_year": 2026,
    }
    created = client.post(url, body, format="json")
    assert created.status_code == 201 and created.json()["plan"] == plan.pk and created.json()["jurisdiction"] is None
    shared = client.post(url, {**body, "name": "Fuel", "unit": "litre", "jurisdiction": country.pk}, format="json")
    assert shared.status_code == 201 and shared.json()["jurisdiction"] == country.pk
    foreign = client.post(url, {**body, "name": "Foreign", "jurisdiction": other_country.pk}, format="json")
    assert foreign.status_code == 400 and "not Testland" in str(foreign.json()["jurisdiction"])
    for bad in ({"unit_cost": "-1"}, {"unit_cost": "999999999999"}, {"currency": "EURO"}, {"category": "snacks"}):
        assert client.post(url, {**body, **bad}, format="json").status_code == 400, bad
    detail = reverse("catalogue-item-detail", args=[plan.pk, created.json()["id"]])
    renamed = client.patch(detail, {"name": "Per diem (national rate)", "version": 1}, format="json")
    assert renamed.status_code == 200 and renamed.json()["version"] == 2
    price = client.patch(detail, {"unit_cost": "50.00", "version": 2}, format="json")
    assert price.status_code == 400 and "reprice" in str(price.json()["unit_cost"])
    assert client.patch(detail, {"name": "Old", "version": 1}, format="json").status_code == 409
    assert CatalogueItem.objects.get(pk=created.json()["id"]).unit_cost == Decimal("45.00")
    assert CatalogueItem.objects.filter(name="Foreign").count() == 0


def test_api_a_provincial_secretariat_cannot_share_with_the_country(provincial_plan, country, province, api_client):
    province_lead = make_user("province_lead")
    PlanMembership.objects.create(plan=provincial_plan, user=province_lead, role=Role.SECRETARIAT_LEAD)
    plan_costing_get(provincial_plan)
    client = api(api_client, province_lead)
    url = reverse("catalogue-item-list", args=[provincial_plan.pk])
    body = {
        "name": "Boat hire",
        "category": "transport",
        "unit": "day",
        "unit_cost": "80",
        "currency": "USD",
        "price_year": 2026,
    }
    assert client.post(url, {**body, "jurisdiction": country.pk}, format="json").status_code == 403
    assert client.post(url, {**body, "jurisdiction": province.pk}, format="json").status_code == 201
    assert list(CatalogueItem.objects.values_list("jurisdiction", flat=True)) == [province.pk]


def test_api_deleting_an_item_in_use_is_refused(room_lines, room, plan, catalogues, lead, api_client):
    client = api(api_client, lead)
    refused = client.delete(reverse("catalogue-item-detail", args=[plan.pk, room.pk]))
    assert refused.status_code == 409 and "used by 3 cost lines in 2 plans" in refused.json()["detail"]
    assert CatalogueItem.objects.filter(pk=room.pk).exists()
    own = catalogues["plan"]
    assert client.delete(reverse("catalogue-item-detail", args=[plan.pk, own.pk])).status_code == 204


def test_api_reprice_previews_then_applies(room_lines, room, plan, lead, api_client):
    client = api(api_client, lead)
    url = reverse("catalogue-item-reprice", args=[plan.pk, room.pk])
    before = snapshot()
    preview = client.post(url, {"unit_cost": "300", "version": room.version, "confirm": False}, format="json")
    assert preview.status_code == 200
    data = preview.json()
    assert data["applied"] is False
    assert (data["line_count"], data["plan_count"], data["hidden_line_count"], data["hidden_plan_count"]) == (
        3,
        2,
        1,
        1,
    )
    lines = {row["cost_line"]: row for row in data["lines"]}
    assert set(lines) == {room_lines["workshop"].pk, room_lines["lab"].pk}
    assert lines[room_lines["workshop"].pk]["old_total"] == "1800.00"
    assert lines[room_lines["workshop"].pk]["new_total"] == "2700.00"
    assert snapshot() == before
    applied = client.post(url, {"unit_cost": "300", "version": room.version, "confirm": True}, format="json")
    assert applied.status_code == 200 and applied.json()["applied"] is True
    assert applied.json()["item"]["unit_cost"] == "300.00" and applied.json()["item"]["version"] == 2
    assert total(CostLine.objects.get(pk=room_lines["province"].pk)) == Decimal("600.00")
    stale = client.post(url, {"unit_cost": "310", "version": 1, "confirm": True}, format="json")
    assert stale.status_code == 409


def test_api_reprice_blocked_by_a_missing_rate_changes_nothing(room_lines, room, plan, lead, api_client):
    client = api(api_client, lead)
    url = reverse("catalogue-item-reprice", args=[plan.pk, room.pk])
    before = snapshot()
    body = {"unit_cost": "250", "currency": "EUR", "price_year": 2027, "version": room.version}
    preview = client.post(url, {**body, "confirm": False}, format="json").json()
    assert len(preview["missing_rates"]) == 1 and "North Province plan" in preview["missing_rates"][0]
    assert (
        next(row for row in preview["lines"] if row["cost_line"] == room_lines["workshop"].pk)["new_total"] == "2700.00"
    )
    refused = client.post(url, {**body, "confirm": True}, format="json")
    assert refused.status_code == 400 and "has no exchange rate from EUR to USD for 2027" in str(refused.json())
    assert snapshot() == before


# --- Admin --------------------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(db) -> Client:
    return browser(make_user("administrator", is_staff=True, is_superuser=True))


def test_the_admin_lists_costing_settings_rates_and_catalogues(admin_client, room_lines, costing, room):
    for name in ("plancosting", "exchangerate", "catalogueitem"):
        assert admin_client.get(reverse(f"admin:costing_{name}_changelist")).status_code == 200, name
    page = admin_client.get(reverse("admin:costing_plancosting_change", args=[costing.pk])).content.decode()
    assert 'name="currency"' in page and 'name="changes"' not in page  # the rollup state is read-only
    page = admin_client.get(reverse("admin:costing_catalogueitem_change", args=[room.pk])).content.decode()
    assert 'name="unit_cost"' not in page and "Change the price" in page


def test_an_administrator_adds_a_rate_through_the_same_checks(admin_client, costing):
    url = reverse("admin:costing_exchangerate_add")
    data = {"plan": costing.plan_id, "currency": "GBP", "year": 2026, "rate": "1.27", "source": ""}
    assert admin_client.post(url, data).status_code == 302
    assert ExchangeRate.objects.filter(plan=costing.plan, currency="GBP").exists()
    refused = admin_client.post(url, {**data, "currency": "USD"}, follow=True)
    assert "base currency" in refused.content.decode()
    assert not ExchangeRate.objects.filter(plan=costing.plan, currency="USD").exists()


def test_an_administrator_cannot_delete_a_rate_in_use(admin_client, costing, moa_activity, lead):
    cost_line_create(
        activity=moa_activity, by=lead, fields=line_fields(currency="EUR", price_year=2026), frequencies={2026: 1}
    )
    rate = ExchangeRate.objects.get(plan=costing.plan, currency="EUR", year=2026)
    response = admin_client.post(
        reverse("admin:costing_exchangerate_delete", args=[rate.pk]), {"post": "yes"}, follow=True
    )
    assert "priced in EUR of 2026" in response.content.decode()
    assert ExchangeRate.objects.filter(pk=rate.pk).exists()


def test_an_administrator_changes_a_price_after_seeing_every_line(admin_client, room_lines, room):
    url = reverse("admin:costing_catalogueitem_price", args=[room.pk])
    price = {"unit_cost": "300", "currency": "USD", "price_year": 2026, "version": room.version}
    preview = admin_client.get(url, price)
    assert {row.line.pk for row in preview.context["preview"].lines} == {
        room_lines[key].pk for key in ("workshop", "lab", "province")
    }
    assert admin_client.post(url, price).status_code == 302
    assert total(CostLine.objects.get(pk=room_lines["province"].pk)) == Decimal("600.00")
    assert CatalogueItem.objects.get(pk=room.pk).unit_cost == Decimal("300.00")


# --- What generated requests found (tests/test_api_contract.py): each refused as the schema says ---------------


@pytest.mark.parametrize(
    ("rate", "says"),
    [(1.25, "as a string"), ("1e2", "digits and a point"), (" 1.5", "digits and a point"), ("", "digits")],
)
def test_api_a_rate_is_a_decimal_string_and_nothing_else(costing, lead, api_client, rate, says):
    client = api(api_client, lead)
    url = reverse("exchange-rate-list", args=[costing.plan_id])
    refused = client.post(url, {"currency": "GBP", "year": 2026, "rate": rate}, format="json")
    assert refused.status_code == 400 and says in refused.json()["rate"][0]
    assert not ExchangeRate.objects.filter(plan=costing.plan, currency="GBP").exists()


def test_api_a_version_is_refused_on_a_creation_and_required_on_a_change(costing, lead, api_client):
    client = api(api_client, lead)
    url = reverse("exchange-rate-list", args=[costing.plan_id])
    refused = client.post(url, {"currency": "GBP", "year": 2026, "rate": "1.27", "version": 3}, format="json")
    assert refused.status_code == 400 and list(refused.json()) == ["version"]
    assert not ExchangeRate.objects.filter(plan=costing.plan, currency="GBP").exists()
    eur = ExchangeRate.objects.get(plan=costing.plan, currency="EUR", year=2026)
    detail = reverse("exchange-rate-detail", args=[costing.plan_id, eur.pk])
    assert client.patch(detail, {}, format="json").status_code == 400


@pytest.mark.parametrize("query", ["category=", "q=a%00b"])
def test_api_a_bad_catalogue_filter_is_refused_not_ignored_nor_a_server_error(costing, lead, api_client, query):
    client = api(api_client, lead)
    response = client.get(f"{reverse('catalogue-item-list', args=[costing.plan_id])}?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [query.split("=")[0]]


def test_in_french_the_price_preview_sends_the_price_back_as_the_form_reads_it(room_lines, room, plan, lead):
    """Pages write numbers in the person's locale (1 250,50 in French), but the confirmation's hidden fields carry
    the price as typed, or confirming would send back a number the form does not read."""
    from stakeholders.models import User

    User.objects.filter(pk=lead.pk).update(language="fr")
    client = browser(User.objects.get(pk=lead.pk))
    query = {"unit_cost": "300.5", "currency": "USD", "price_year": 2026, "version": room.version}
    content = client.get(price_url(plan, room), query).content.decode()
    assert '<html lang="fr"' in content
    assert '<input type="hidden" name="unit_cost" value="300.5">' in content
    assert "300,50 USD" in content  # the figures read in French
    assert '<input type="hidden" name="price_year" value="2026">' in content
    assert client.post(price_url(plan, room), query).status_code == 302
    room.refresh_from_db()
    assert room.unit_cost == Decimal("300.50")
