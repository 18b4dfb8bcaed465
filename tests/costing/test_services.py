"""Cost lines compute their amounts in the base currency; rates and rollups follow every change."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from costing.models import CostLine, CostLineYear, CostRollup, PlanCosting
from costing.rollups import plan_rollup
from costing.services import cost_line_create, cost_line_update, exchange_rate_set, plan_costing_get
from naphs.errors import EditConflict
from tests.costing.conftest import line_fields

pytestmark = pytest.mark.django_db


def amounts(line: CostLine) -> dict[int, Decimal]:
    return dict(CostLineYear.objects.filter(cost_line=line).values_list("year", "amount"))


def test_a_line_costs_unit_cost_times_quantity_times_frequency_in_each_year(moa_line):
    assert amounts(moa_line) == {
        2026: Decimal("1500.00"),
        2027: Decimal("750.00"),
        2028: Decimal("0.00"),
        2029: Decimal("0.00"),
        2030: Decimal("0.00"),
    }


def test_an_amount_in_another_currency_is_converted_at_the_rate_of_its_price_year(costing, moa_activity, lead):
    line = cost_line_create(
        activity=moa_activity,
        by=lead,
        fields=line_fields(unit_cost=Decimal("100"), currency="EUR", price_year=2027),
        frequencies={2028: 1},
    )
    assert line.unit_cost_base == Decimal("120")
    assert amounts(line)[2028] == Decimal("360.00")


def test_a_missing_exchange_rate_is_named_and_nothing_is_saved(costing, moa_activity, lead):
    with pytest.raises(ValidationError) as error:
        cost_line_create(activity=moa_activity, by=lead, fields=line_fields(currency="GBP"), frequencies={2026: 1})
    assert "No exchange rate from GBP to USD for 2026" in str(error.value)
    assert not CostLine.objects.exists()


@pytest.mark.parametrize(
    ("fields", "frequencies", "field", "message"),
    [
        ({"quantity": Decimal("-1")}, {2026: 1}, "quantity", "greater than or equal to 0"),
        ({"quantity": Decimal("5000000")}, {2026: 1}, "quantity", "less than or equal to 1000000"),
        ({"category": "snacks"}, {2026: 1}, "category", "not a valid choice"),
        ({"currency": "XYZ"}, {2026: 1}, "currency", "not an ISO 4217 currency code"),
        ({}, {2026: -2}, "frequencies", "cannot be negative"),
        ({}, {2031: 1}, "frequencies", "outside the plan's period"),
        ({"recurrence": "one_off"}, {2026: 1, 2027: 1}, "frequencies", "one year only"),
    ],
)
def test_bad_values_are_refused_field_by_field(costing, moa_activity, lead, fields, frequencies, field, message):
    with pytest.raises(ValidationError) as error:
        cost_line_create(activity=moa_activity, by=lead, fields=line_fields(**fields), frequencies=frequencies)
    assert any(message in text for text in error.value.message_dict[field])
    assert not CostLine.objects.exists()


def test_a_stale_edit_is_refused(moa_line, lead):
    cost_line_update(line=moa_line, by=lead, version=moa_line.version, fields={"quantity": Decimal("4")})
    stale = CostLine.objects.get(pk=moa_line.pk)
    with pytest.raises(EditConflict):
        cost_line_update(line=stale, by=lead, version=1, fields={"quantity": Decimal("9")})
    assert CostLine.objects.get(pk=moa_line.pk).quantity == Decimal("4")


def test_a_new_rate_converts_the_lines_priced_in_that_currency_and_year(costing, moa_activity, lead, plan):
    line = cost_line_create(
        activity=moa_activity,
        by=lead,
        fields=line_fields(currency="EUR", unit_cost=Decimal("10")),
        frequencies={2026: 1},
    )
    exchange_rate_set(plan=plan, by=lead, currency="EUR", year=2026, rate=Decimal("2"))
    line.refresh_from_db()
    assert line.unit_cost_base == Decimal("20")
    assert amounts(line)[2026] == Decimal("60.00")


def test_rollups_sum_the_lines_by_area_category_organization_and_year(moa_line, moh_activity, lead, plan, moa):
    cost_line_create(
        activity=moh_activity,
        by=lead,
        fields=line_fields(category="equipment", unit_cost=Decimal("1000"), quantity=1, optional=True),
        frequencies={2026: 1},
    )
    plan_rollup(plan_id=plan.pk)
    costing = PlanCosting.objects.get(plan=plan)
    assert costing.rollup_current
    rows = CostRollup.objects.filter(plan=plan)
    assert rows.aggregate(required=Sum("required"), optional=Sum("optional")) == {
        "required": Decimal("2250.00"),
        "optional": Decimal("1000.00"),
    }
    moa_2026 = rows.get(organization=moa, year=2026)
    assert (moa_2026.technical_area.code, moa_2026.category, moa_2026.required) == ("P1", "meetings", Decimal("1500"))


def test_a_deleted_plan_takes_its_stored_totals_with_it(moa_line, plan):
    # The rollup rows carry no database constraint (they are derived): Django's on_delete removes them.
    plan_rollup(plan_id=plan.pk)
    assert CostRollup.objects.filter(plan_id=plan.pk).exists()
    plan_id = plan.pk
    plan.delete()
    assert not CostRollup.objects.filter(plan_id=plan_id).exists()


def test_a_burst_of_edits_queues_one_recomputation_and_stale_totals_say_so(moa_line, lead, plan, monkeypatch):
    from costing import tasks

    queued = []
    monkeypatch.setattr(tasks.plan_rollup_task, "apply_async_on_commit", lambda args, **options: queued.extend(args))
    PlanCosting.objects.filter(plan=plan).update(rollup_queued=False)
    for quantity in (4, 5, 6):
        line = CostLine.objects.get(pk=moa_line.pk)
        cost_line_update(line=line, by=lead, version=line.version, fields={"quantity": Decimal(quantity)})
    assert queued == [plan.pk]
    assert not plan_costing_get(plan).rollup_current
    plan_rollup(plan_id=plan.pk)
    assert plan_costing_get(plan).rollup_current
