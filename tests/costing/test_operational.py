"""An operational plan drawn from a strategic plan brings its activities' cost lines along: the years it covers,
linked to their origin, at the same amounts, so a one-year budget is not entered again by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from costing.models import CatalogueItem, CostLine, CostLineYear, ExchangeRate
from costing.services import cost_line_create
from naphs.models import AuditEvent
from planning.operational import operational_activities_add, operational_plan_create
from tests.costing.conftest import line_fields

pytestmark = pytest.mark.django_db


def years_of(line: CostLine) -> dict[int, tuple[Decimal, Decimal]]:
    return {year.year: (year.frequency, year.amount) for year in line.years.all() if year.frequency}


@pytest.fixture
def costed(plan, costing, lead, moa_activity):
    """The activity's lines: a recurring one over three years, one priced in euros of 2027, a one-off in 2029
    (outside the operational years), and one from the strategic plan's own catalogue."""
    own_item = CatalogueItem.objects.create(
        plan=plan, name="Laboratory reagents kit", category="procurement", unit="kit",
        unit_cost=Decimal("80"), currency="USD", price_year=2026,
    )  # fmt: skip
    return {
        "venue": cost_line_create(
            activity=moa_activity, by=lead, fields=line_fields(), frequencies={2026: 2, 2027: 1, 2028: 3}
        ),
        "consultant": cost_line_create(
            activity=moa_activity,
            by=lead,
            fields=line_fields(description="Consultant", currency="EUR", price_year=2027, unit_cost=Decimal("600")),
            frequencies={2027: 1},
        ),
        "vehicle": cost_line_create(
            activity=moa_activity,
            by=lead,
            fields=line_fields(description="Vehicle", recurrence="one_off", unit_cost=Decimal("30000")),
            frequencies={2029: 1},
        ),
        "kits": cost_line_create(
            activity=moa_activity,
            by=lead,
            fields=line_fields(description="Kits", catalogue_item=own_item, quantity=Decimal("10")),
            frequencies={2026: 1},
        ),
    }


def test_the_cost_lines_of_the_years_the_operational_plan_covers_come_along_linked_to_their_origin(
    plan, lead, moa_activity, costed
):
    operational = operational_plan_create(
        strategic=plan, by=lead, title="2026–2027", first_year=2026, last_year=2027, activities=[moa_activity]
    )

    drawn = {line.origin_id: line for line in CostLine.objects.filter(plan=operational).prefetch_related("years")}
    venue, consultant, kits = (costed[name] for name in ("venue", "consultant", "kits"))
    assert set(drawn) == {venue.pk, consultant.pk, kits.pk}  # the 2029 vehicle stays in the strategic plan
    copy = drawn[venue.pk]
    assert copy.activity == operational.activities.get(origin=moa_activity)
    assert (copy.description, copy.unit_cost, copy.quantity, copy.updated_by) == ("Workshop venue", 250, 3, lead)
    assert years_of(copy) == {2026: (2, Decimal("1500.00")), 2027: (1, Decimal("750.00"))}
    assert set(copy.years.values_list("year", flat=True)) == {2026, 2027}  # the operational plan's years only
    # The euro line is priced as before: the rate it needs came along with it.
    assert years_of(drawn[consultant.pk]) == {2027: (1, Decimal("2160.00"))}
    assert ExchangeRate.objects.get(plan=operational, currency="EUR", year=2027).rate == Decimal("1.20")
    # The strategic plan's own catalogue is not the operational plan's: the line keeps its price, free.
    assert (drawn[kits.pk].catalogue_item, drawn[kits.pk].unit_cost) == (None, Decimal("80"))
    for name in ("venue", "consultant", "kits"):  # the same amounts, year by year
        original = costed[name]
        assert years_of(drawn[original.pk]) == {y: v for y, v in years_of(original).items() if y <= 2027}
    assert AuditEvent.objects.filter(plan=operational, action="drew cost lines into").count() == 1
    assert CostLine.objects.filter(plan=plan).count() == 4  # the strategic plan keeps all of its lines


def test_activities_drawn_later_bring_their_lines_and_an_uncosted_activity_brings_none(
    plan, lead, moa_activity, moh_activity, costed
):
    operational = operational_plan_create(
        strategic=plan, by=lead, title="2026", first_year=2026, last_year=2026, activities=[moh_activity]
    )
    assert not CostLine.objects.filter(plan=operational).exists()

    operational_activities_add(plan=operational, by=lead, activities=[moa_activity])

    assert set(CostLine.objects.filter(plan=operational).values_list("origin_id", flat=True)) == {
        costed["venue"].pk,
        costed["kits"].pk,
    }  # the euro line and the vehicle have nothing in 2026
    assert not CostLineYear.objects.filter(cost_line__plan=operational).exclude(year=2026).exists()
