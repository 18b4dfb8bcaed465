"""Costing fixtures: the test plan costed in US dollars at 2026 prices, with a euro rate for 2026 and 2027,
and two activities: one of the Ministry of Agriculture (the focal point's organization) in P1, one of the
Ministry of Health in D1."""

from __future__ import annotations

from decimal import Decimal

import pytest

from costing.models import PlanCosting
from costing.services import cost_line_create, exchange_rate_set, plan_costing_get
from naphs.spreadsheets import vocabularies_clear
from planning.models import Activity, TechnicalArea
from tests import translations


def area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


@pytest.fixture
def costing(plan, lead) -> PlanCosting:
    costing = plan_costing_get(plan)
    for year, rate in ((2026, "1.10"), (2027, "1.20")):
        exchange_rate_set(plan=plan, by=lead, currency="EUR", year=year, rate=Decimal(rate))
    return costing


@pytest.fixture
def moa_activity(plan, moa) -> Activity:
    return Activity.objects.create(
        plan=plan, technical_area=area("P1"), title="Train border veterinarians", responsible_organization=moa
    )


@pytest.fixture
def moh_activity(plan, moh) -> Activity:
    return Activity.objects.create(
        plan=plan, technical_area=area("D1"), title="Equip the reference laboratory", responsible_organization=moh
    )


def line_fields(**overrides) -> dict:
    fields = {
        "description": "Workshop venue",
        "category": "meetings",
        "unit": "day",
        "unit_cost": Decimal("250.00"),
        "currency": "USD",
        "quantity": Decimal("3"),
        "recurrence": "recurring",
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def moa_line(costing, moa_activity, lead):
    return cost_line_create(activity=moa_activity, by=lead, fields=line_fields(), frequencies={2026: 2, 2027: 1})


@pytest.fixture
def catalogues_compiled():
    """The product's catalogues compiled and read afresh, as `make test` leaves them, for a run of these tests on
    their own; the spreadsheet vocabularies are forgotten before and after, so none is built from other
    catalogues than these."""
    translations.catalogues_compile()
    vocabularies_clear()
    yield
    vocabularies_clear()
