"""Cost builders turn a few answers into cost lines with their assumptions written out: the figures below are
computed by hand. Bad answers are refused next to the answer; the lines are previewed with the amounts the
services compute, and added all or none, in the page and through the API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from costing.builders import (
    BUILDERS,
    Item,
    Schedule,
    consultancy_lines,
    cost_lines_build,
    cost_lines_preview,
    field_visit_lines,
    meeting_lines,
    procurement_lines,
    staff_lines,
)
from costing.models import CostLine, CostLineYear, Unit
from costing.services import LineInput
from naphs.permissions import Role
from tests.costing.conftest import line_fields

PERIOD = range(2026, 2031)


def schedule(years=(2026,), times="1", **overrides) -> Schedule:
    values = {"years": years, "currency": "USD", "period": PERIOD, "times_per_year": Decimal(times)}
    values.update(overrides)
    return Schedule(**values)


def summary(lines: list[LineInput]) -> list[tuple[str, str, str, Decimal, Decimal]]:
    """(description, category, unit, unit cost, quantity) of each line."""
    return [
        (
            line.fields["description"],
            line.fields["category"],
            line.fields["unit"],
            line.fields["unit_cost"],
            line.fields["quantity"],
        )
        for line in lines
    ]


def per_occurrence(lines: list[LineInput]) -> Decimal:
    return sum((line.fields["unit_cost"] * line.fields["quantity"] for line in lines), Decimal(0))


def errors(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as raised:
        call()
    return raised.value.message_dict


TRAINING = {
    "category": "training",
    "participants": 30,
    "travelling": 10,
    "days": 3,
    "per_diem": Decimal("50"),
    "venue_per_day": Decimal("200"),
    "meals_per_person_day": Decimal("15"),
    "materials_per_participant": Decimal("10"),
    "facilitators": 2,
    "facilitator_fee": Decimal("300"),
    "facilitators_travelling": True,
}


# --- The builders, by hand -------------------------------------------------------------------------------------


def test_a_training_costs_venue_meals_materials_per_diem_and_facilitators():
    lines = meeting_lines(schedule(years=(2026, 2027), times="2"), name="Training of trainers", **TRAINING)
    assert summary(lines) == [
        ("Training of trainers: venue", "training", "day", Decimal("200"), 3),  # 600
        ("Training of trainers: meals", "training", "person-day", Decimal("15"), 96),  # (30 + 2) × 3 = 1,440
        ("Training of trainers: materials", "communication", "participant", Decimal("10"), 30),  # 300
        ("Training of trainers: per diem of travelling participants", "per_diem_travel", "person-day", 50, 30),  # 1,500
        ("Training of trainers: facilitator fees", "consultancy", "person-day", Decimal("300"), 6),  # 1,800
        ("Training of trainers: per diem of facilitators", "per_diem_travel", "person-day", Decimal("50"), 6),  # 300
    ]
    assert per_occurrence(lines) == Decimal("5940")
    for line in lines:
        assert line.frequencies == {2026: 2, 2027: 2}
        assert line.fields["recurrence"] == "recurring"
        assert line.fields["currency"] == "USD"
        assert line.fields["assumptions"].endswith("2 times a year in 2026 and 2027.")
    assert (
        lines[1]
        .fields["assumptions"]
        .startswith("Meals for 30 participants and 2 facilitators over 3 days: 96 person-days at 15.00 USD.")
    )


def test_a_meeting_once_in_one_year_is_one_off_and_leaves_out_what_costs_nothing():
    lines = meeting_lines(
        schedule(optional=True),
        participants=12,
        days=1,
        venue_per_day=Decimal("80"),
        meals_per_person_day=Decimal("7.50"),
    )
    assert [line.fields["description"] for line in lines] == ["Meeting: venue", "Meeting: meals"]
    assert per_occurrence(lines) == Decimal("170")  # 80 + 12 × 7.50
    assert all(line.fields["recurrence"] == "one_off" and line.fields["optional"] for line in lines)
    assert lines[0].fields["assumptions"] == "Venue for 1 day at 80.00 USD a day. Once in 2026."


def test_assumptions_count_in_whole_messages_one_and_many_and_fractions():
    lines = field_visit_lines(
        schedule(years=(2026, 2027)),
        staff=1,
        days=1,
        per_diem=Decimal("30"),
        vehicles=1,
        litres_per_vehicle_day=Decimal("12.5"),
        fuel_price=Decimal("2"),
    )
    assumptions = [line.fields["assumptions"] for line in lines]
    assert assumptions == [
        "Per diem for 1 staff member over 1 day: 1 person-day at 30.00 USD. Once a year in 2026 and 2027.",
        "12.5 litres a day for each of 1 vehicle over 1 day: 12.5 litres at 2.00 USD a litre. "
        "Once a year in 2026 and 2027.",
    ]


def test_every_unit_is_counted_in_the_assumptions_of_what_is_bought():
    items = [Item(f"Thing {number}", unit, Decimal(2), Decimal(1)) for number, unit in enumerate(Unit.values)]
    lines = procurement_lines(schedule(), items=items)
    assert len(lines) == len(Unit.values)
    by_unit = {line.fields["unit"]: line.fields["assumptions"] for line in lines}
    assert by_unit["copy"] == "2 copies at 1.00 USD each. Once in 2026."
    assert by_unit["lump sum"] == "2 lump sums at 1.00 USD each. Once in 2026."
    assert by_unit["km"] == "2 km at 1.00 USD each. Once in 2026."


def test_a_field_visit_costs_per_diem_fuel_and_drivers():
    lines = field_visit_lines(
        schedule(),
        staff=4,
        days=5,
        per_diem=Decimal("30"),
        vehicles=2,
        litres_per_vehicle_day=Decimal("50"),
        fuel_price=Decimal("1.20"),
        drivers=2,
        driver_daily_rate=Decimal("25"),
    )
    assert summary(lines) == [
        ("Field visit: per diem of staff", "per_diem_travel", "person-day", Decimal("30"), 20),  # 600
        ("Field visit: fuel", "transport", "litre", Decimal("1.20"), 500),  # 2 × 5 × 50 litres = 600
        ("Field visit: drivers", "transport", "person-day", Decimal("25"), 10),  # 250
    ]
    assert per_occurrence(lines) == Decimal("1450")


def test_an_international_consultancy_adds_travel_and_per_diem():
    lines = consultancy_lines(
        schedule(years=(2027,)),
        consultant="international",
        days=20,
        daily_rate=Decimal("400"),
        travel_per_trip=Decimal("1500"),
        per_diem=Decimal("100"),
    )
    assert summary(lines) == [
        ("International consultancy: fees", "consultancy", "person-day", Decimal("400"), 20),  # 8,000
        ("International consultancy: travel", "per_diem_travel", "trip", Decimal("1500"), 1),  # 1,500
        ("International consultancy: per diem", "per_diem_travel", "person-day", Decimal("100"), 20),  # 2,000
    ]
    assert per_occurrence(lines) == Decimal("11500")
    assert lines[0].frequencies == {2027: 1}


def test_staff_are_paid_their_months_each_year():
    (line,) = staff_lines(
        schedule(years=(2026, 2027, 2028)), name="Data manager", posts=2, monthly_salary=Decimal("2000")
    )
    assert summary([line]) == [("Data manager: salaries", "personnel", "post-month", Decimal("2000"), 2)]
    assert line.frequencies == {2026: 12, 2027: 12, 2028: 12}  # 2 × 2,000 × 12 = 48,000 a year
    assert (
        line.fields["assumptions"] == "2 posts at 2,000.00 USD a month, paid 12 months a year. In 2026, 2027 and 2028."
    )


def test_procurement_makes_one_line_per_item():
    lines = procurement_lines(
        schedule(),
        category="supplies",
        items=[
            Item("Rapid test kits", "kit", Decimal("500"), Decimal("3.40")),
            Item("Cool boxes", "item", Decimal("12"), Decimal("85")),
        ],
    )
    assert summary(lines) == [
        ("Procurement: Rapid test kits", "supplies", "kit", Decimal("3.40"), 500),  # 1,700
        ("Procurement: Cool boxes", "supplies", "item", Decimal("85"), 12),  # 1,020
    ]
    assert per_occurrence(lines) == Decimal("2720")


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"participants": -3}, "participants", "Participants cannot be less than 1."),
        ({"travelling": 40}, "travelling", "40 travelling is more than the 30 participants."),
        ({"days": 0}, "days", "Days cannot be less than 1."),
        ({"participants": 1_000_000}, "participants", "at most 10,000"),
        ({"per_diem": Decimal("-5")}, "per_diem", "Per diem cannot be negative."),
        ({"venue_per_day": Decimal("1E+12")}, "venue_per_day", "Check the number."),
        ({"facilitators": 0}, "facilitators", "A facilitator fee is given but no facilitators."),
        ({"category": "snacks"}, "category", "Choose a meeting or a training."),
    ],
)
def test_a_meeting_refuses_bad_answers_by_answer(answers, field, message):
    problems = errors(lambda: meeting_lines(schedule(), **{**TRAINING, **answers}))
    assert any(message in text for text in problems[field]), problems


@pytest.mark.parametrize(
    ("when", "field", "message"),
    [
        ({"years": ()}, "years", "Choose the years"),
        ({"years": (2025, 2026)}, "years", "2025: outside the plan's period (2026–2030)."),
        ({"times_per_year": Decimal(0)}, "times_per_year", "Times per year must be more than 0."),
        ({"times_per_year": Decimal(400)}, "times_per_year", "at most 366"),
        ({"currency": "XYZ"}, "currency", "not an ISO 4217 currency code"),
    ],
)
def test_every_builder_refuses_a_bad_schedule(when, field, message):
    problems = errors(lambda: meeting_lines(schedule(**when), **TRAINING))
    assert any(message in text for text in problems[field]), problems


def test_the_other_builders_refuse_bad_answers():
    visit = errors(lambda: field_visit_lines(schedule(), staff=2, days=3, litres_per_vehicle_day=Decimal("40")))
    assert visit == {"litres_per_vehicle_day": ["Fuel given but no vehicles."]}
    fuel = errors(
        lambda: field_visit_lines(schedule(), staff=2, days=300, vehicles=900, litres_per_vehicle_day=Decimal("900"))
    )
    assert "fuel_price" in fuel
    too_much = errors(
        lambda: field_visit_lines(
            schedule(), staff=2, days=300, vehicles=900, litres_per_vehicle_day=Decimal(900), fuel_price=Decimal(1)
        )
    )
    assert "more than a cost line holds" in too_much["litres_per_vehicle_day"][0]
    national = errors(
        lambda: consultancy_lines(
            schedule(), consultant="national", days=10, daily_rate=Decimal(100), travel_per_trip=Decimal(900)
        )
    )
    assert "international consultant" in national["travel_per_trip"][0]
    assert "daily_rate" in errors(lambda: consultancy_lines(schedule(), consultant="national", days=5, daily_rate=0))
    assert "months_per_year" in errors(
        lambda: staff_lines(schedule(), posts=1, monthly_salary=Decimal(900), months_per_year=13)
    )
    items = errors(
        lambda: procurement_lines(
            schedule(), items=[Item("Microscope", "item", Decimal(-1), Decimal(900)), Item("", "crate", 1, 1)]
        )
    )["items"]
    assert "Item 1 (Microscope): quantity cannot be negative." in items
    assert "Item 2: name the item." in items
    assert "Item 2: “crate” is not a unit of the list." in items
    assert errors(lambda: meeting_lines(schedule(), participants=5, days=2)) == {
        "__all__": ["These answers cost nothing: give at least one price and a number to pay for."]
    }


def test_every_builder_is_described_for_the_forms_and_the_api():
    assert set(BUILDERS) == {"meeting", "field-visit", "consultancy", "staff", "procurement"}
    answers = {question.name: TRAINING.get(question.name) for question in BUILDERS["meeting"].questions}
    lines = BUILDERS["meeting"].lines(schedule(), answers)
    assert per_occurrence(lines) == Decimal("5940")
    missing = errors(lambda: BUILDERS["meeting"].lines(schedule(), {"category": "meetings"}))
    assert missing["participants"] == ["Participants: give a number."]


# --- Preview and saving ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_preview_computes_what_the_saved_lines_cost_and_saves_nothing(costing, moa_activity, lead):
    lines = meeting_lines(schedule(years=(2026, 2027), times="2", currency="EUR", price_year=2026), **TRAINING)
    previews = cost_lines_preview(activity=moa_activity, lines=lines)
    assert not CostLine.objects.exists()
    # 5,940 EUR a time, twice a year, at 1.10 (2026 prices): 13,068 USD a year.
    assert sum(preview.years[0].amount for preview in previews) == Decimal("13068.00")
    saved = cost_lines_build(activity=moa_activity, by=lead, lines=lines)
    assert len(saved) == 6
    for preview, line in zip(previews, saved, strict=True):
        stored = dict(CostLineYear.objects.filter(cost_line=line).values_list("year", "amount"))
        assert stored == {year.year: year.amount for year in preview.years}


@pytest.mark.django_db
def test_a_missing_exchange_rate_is_told_against_the_currency(costing, moa_activity):
    lines = staff_lines(schedule(currency="GBP", price_year=2026), posts=1, monthly_salary=Decimal(900))
    problems = errors(lambda: cost_lines_preview(activity=moa_activity, lines=lines))
    assert problems == {
        "currency": [
            "No exchange rate from GBP to USD for 2026: the secretariat adds it on the plan's exchange rates page."
        ]
    }


@pytest.mark.django_db
def test_the_lines_are_added_all_or_none(costing, moa_activity, lead):
    good = LineInput(fields=line_fields(), frequencies={2026: 1})
    bad = LineInput(fields=line_fields(description="In pounds", currency="GBP"), frequencies={2026: 1})
    with pytest.raises(ValidationError):
        cost_lines_build(activity=moa_activity, by=lead, lines=[good, bad])
    assert not CostLine.objects.exists()


# --- The builder page and endpoint -------------------------------------------------------------------------------


def builder_url(activity, kind: str = "meeting") -> str:
    return reverse("cost_builder", args=[activity.plan_id, activity.pk, kind])


def page_answers(**overrides) -> dict:
    data = {
        **{name: str(value) for name, value in TRAINING.items() if name != "facilitators_travelling"},
        "facilitators_travelling": "on",
        "years": ["2026", "2027"],
        "times_per_year": "2",
        "currency": "USD",
        "price_year": "2026",
        "action": "preview",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_the_builder_page_previews_then_adds_the_lines(client, people, moa_activity, costing):
    client.force_login(people[Role.FOCAL_POINT])
    assert client.get(builder_url(moa_activity)).status_code == 200
    preview = client.post(builder_url(moa_activity), page_answers())
    assert preview.status_code == 200
    assert preview.context["preview_total"] == Decimal("23760.00")  # 5,940 × 2 × 2 years
    assert preview.context["preview_by_year"][:2] == [Decimal("11880.00"), Decimal("11880.00")]
    assert "Add these lines" in preview.content.decode()
    assert not CostLine.objects.exists()
    added = client.post(builder_url(moa_activity), page_answers(action="create"))
    assert added.status_code == 302
    assert added.headers["Location"] == reverse("activity_costs", args=[moa_activity.plan_id, moa_activity.pk])
    assert CostLine.objects.filter(activity=moa_activity).count() == 6
    total = sum(CostLineYear.objects.filter(cost_line__activity=moa_activity).values_list("amount", flat=True))
    assert total == Decimal("23760.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"travelling": "45"}, "travelling", "45 travelling is more than the 30 participants."),
        ({"participants": "-1"}, "participants", "Participants cannot be less than 1."),
        ({"per_diem": "abc"}, "per_diem", "Enter a number."),
        ({"years": []}, "years", "This field is required."),
        ({"currency": "XYZ"}, "currency", "“XYZ” is not an ISO 4217 currency code."),
        ({"currency": "GBP"}, "currency", "No exchange rate from GBP to USD for 2026"),
    ],
)
def test_bad_answers_on_the_page_are_shown_next_to_them_and_save_nothing(
    client, lead, moa_activity, costing, overrides, field, message
):
    client.force_login(lead)
    response = client.post(builder_url(moa_activity), page_answers(action="create", **overrides))
    assert response.status_code == 422
    assert any(message in error for error in response.context["form"].errors[field]), response.context["form"].errors
    assert not CostLine.objects.exists()


@pytest.mark.django_db
def test_the_procurement_page_takes_several_items(client, lead, moa_activity, costing):
    client.force_login(lead)
    data = {
        "category": "equipment",
        "years": ["2027"],
        "times_per_year": "1",
        "currency": "USD",
        "price_year": "2026",
        "action": "create",
        "items-TOTAL_FORMS": "3",
        "items-INITIAL_FORMS": "0",
        "items-0-name": "Freezer",
        "items-0-unit": "item",
        "items-0-quantity": "2",
        "items-0-unit_price": "1200",
        "items-1-name": "Centrifuge",
        "items-1-unit": "item",
        "items-1-quantity": "1",
        "items-1-unit_price": "3000",
    }
    assert client.post(builder_url(moa_activity, "procurement"), data).status_code == 302
    assert sorted(CostLine.objects.values_list("description", "quantity")) == [
        ("Procurement: Centrifuge", Decimal("1")),
        ("Procurement: Freezer", Decimal("2")),
    ]
    refused = client.post(builder_url(moa_activity, "procurement"), {**data, "items-0-quantity": "-2"})
    assert refused.status_code == 422
    assert "Item 1 (Freezer): quantity cannot be negative." in refused.context["item_errors"]
    assert CostLine.objects.count() == 2


@pytest.mark.django_db
def test_an_unknown_builder_is_not_found(client, lead, moa_activity):
    client.force_login(lead)
    assert client.get(builder_url(moa_activity, "banquet")).status_code == 404


@pytest.mark.django_db
def test_the_api_previews_and_adds_the_lines_for_those_who_cost_the_activity(
    api_client, people, moa_activity, moh_activity, costing
):
    url = reverse("api-cost-builder", args=[moa_activity.plan_id, moa_activity.pk, "consultancy"])
    answers = {
        "consultant": "international",
        "days": 20,
        "daily_rate": "400",
        "travel_per_trip": "1500",
        "per_diem": "100",
        "years": [2027],
    }
    api_client.force_authenticate(people[Role.FOCAL_POINT])
    preview = api_client.post(url, answers, format="json")
    assert preview.status_code == 200, preview.json()
    assert preview.json()["preview"] is True
    assert preview.json()["total"] == "11500.00"
    assert [line["id"] for line in preview.json()["lines"]] == [None, None, None]
    assert preview.json()["lines"][0]["amounts"]["2027"] == "8000.00"
    assert not CostLine.objects.exists()

    added = api_client.post(url, {**answers, "preview": False}, format="json")
    assert added.status_code == 201
    assert {line["id"] for line in added.json()["lines"]} == set(CostLine.objects.values_list("pk", flat=True))

    bad = api_client.post(url, {**answers, "consultant": "national", "preview": False}, format="json")
    assert bad.status_code == 400
    assert "international consultant" in bad.json()["travel_per_trip"][0]
    elsewhere = reverse("api-cost-builder", args=[moh_activity.plan_id, moh_activity.pk, "consultancy"])
    assert api_client.post(elsewhere, answers, format="json").status_code == 403
    api_client.force_authenticate(people[Role.REVIEWER])
    assert api_client.post(url, answers, format="json").status_code == 403
    api_client.force_authenticate(people["outsider"])
    assert api_client.post(url, answers, format="json").status_code == 404
    assert CostLine.objects.count() == 3


# --- Rates from the plan's unit-cost catalogue ------------------------------------------------------------------


def catalogue_item(*, name, category, unit, unit_cost, currency="USD", price_year=2026, **owner):
    from costing.models import CatalogueItem

    return CatalogueItem.objects.create(
        name=name,
        category=category,
        unit=unit,
        unit_cost=Decimal(unit_cost),
        currency=currency,
        price_year=price_year,
        **owner,
    )


@pytest.fixture
def per_diem_item(plan, country):
    """The national per diem, shared with the country; a euro one beside it is no default for a dollar plan."""
    catalogue_item(name="Per diem (EUR)", category="per_diem_travel", unit="person-day", unit_cost="30",
                   currency="EUR", plan=plan)  # fmt: skip
    return catalogue_item(
        name="Per diem, national rate", category="per_diem_travel", unit="person-day", unit_cost="45",
        jurisdiction=country,
    )  # fmt: skip


@pytest.mark.django_db
def test_a_builders_rates_start_from_the_plans_catalogue_and_make_lines_of_the_item(
    client, lead, plan, moa_activity, costing, per_diem_item
):
    venue = catalogue_item(name="Conference room", category="training", unit="day", unit_cost="250", plan=plan)
    client.force_login(lead)
    form = client.get(builder_url(moa_activity)).context["form"]
    assert (form["per_diem"].value(), form["per_diem_item"].value()) == ("45", per_diem_item.pk)
    assert (form["venue_per_day"].value(), form["venue_per_day_item"].value()) == ("250", venue.pk)
    assert form["facilitator_fee"].value() == "0" and form["facilitator_fee_item"].value() is None  # none in it
    offered = [item.pk for item in form.fields["per_diem_item"].queryset]
    assert per_diem_item.pk in offered and venue.pk not in offered  # only items of the rate's category and unit
    answers = page_answers(
        action="create", per_diem="45", per_diem_item=str(per_diem_item.pk), venue_per_day="250",
        venue_per_day_item=str(venue.pk),
    )  # fmt: skip
    assert client.post(builder_url(moa_activity), answers).status_code == 302
    per_diem_lines = CostLine.objects.filter(activity=moa_activity, description__contains="per diem")
    assert per_diem_lines.count() == 2  # participants' and facilitators'
    assert {line.catalogue_item_id for line in per_diem_lines} == {per_diem_item.pk}
    assert CostLine.objects.get(description__endswith=": venue").catalogue_item_id == venue.pk
    free = CostLine.objects.get(description__endswith=": facilitator fees")  # typed: a free item
    assert free.catalogue_item_id is None and free.unit_cost == Decimal("300")


@pytest.mark.django_db
def test_a_rate_picked_from_the_catalogue_is_the_items_price_and_currency(
    client, lead, plan, moa_activity, costing, per_diem_item, other_country
):
    client.force_login(lead)
    url = builder_url(moa_activity)
    typed = client.post(url, page_answers(action="create", per_diem="60", per_diem_item=str(per_diem_item.pk)))
    assert typed.status_code == 422
    assert typed.context["form"].errors["per_diem"] == [
        "“Per diem, national rate” costs 45 USD; choose “type the rate” to give another rate."
    ]
    euro = plan.catalogue_items.get(currency="EUR")
    other_currency = client.post(url, page_answers(action="create", per_diem="30", per_diem_item=str(euro.pk)))
    assert other_currency.status_code == 422
    assert "is priced in EUR of 2026" in other_currency.context["form"].errors["per_diem_item"][0]
    foreign = catalogue_item(
        name="Per diem elsewhere", category="per_diem_travel", unit="person-day", unit_cost="5",
        jurisdiction=other_country,
    )  # fmt: skip
    refused = client.post(url, page_answers(action="create", per_diem="5", per_diem_item=str(foreign.pk)))
    assert refused.status_code == 422 and "per_diem_item" in refused.context["form"].errors
    assert not CostLine.objects.exists()


@pytest.mark.django_db
def test_procurement_buys_catalogue_items_at_their_price(client, lead, plan, moa_activity, costing, other_country):
    freezer = catalogue_item(name="Vaccine freezer", category="equipment", unit="item", unit_cost="1500", plan=plan)
    foreign = catalogue_item(name="Elsewhere's kit", category="equipment", unit="kit", unit_cost="1",
                             jurisdiction=other_country)  # fmt: skip
    client.force_login(lead)
    data = {
        "category": "equipment",
        "years": ["2027"],
        "times_per_year": "1",
        "currency": "USD",
        "price_year": "2026",
        "action": "create",
        "items-TOTAL_FORMS": "2",
        "items-INITIAL_FORMS": "0",
        "items-0-catalogue_item": str(freezer.pk),
        "items-0-unit": "item",
        "items-0-quantity": "2",
        "items-1-name": "Centrifuge",
        "items-1-unit": "item",
        "items-1-quantity": "1",
        "items-1-unit_price": "3000",
    }
    url = builder_url(moa_activity, "procurement")
    refused = client.post(url, {**data, "items-0-catalogue_item": str(foreign.pk)})
    assert refused.status_code == 422 and not CostLine.objects.exists()
    repriced = client.post(url, {**data, "items-0-unit_price": "900"})
    assert repriced.status_code == 422
    assert "“Vaccine freezer” is bought per item at 1500 USD" in str(repriced.context["items"].errors)
    assert client.post(url, data).status_code == 302
    bought = CostLine.objects.get(catalogue_item=freezer)
    assert (bought.description, bought.unit_cost, bought.quantity) == ("Procurement: Vaccine freezer", 1500, 2)
    assert CostLine.objects.get(description="Procurement: Centrifuge").catalogue_item_id is None
