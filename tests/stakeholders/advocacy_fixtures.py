"""Shared scenery of the advocacy tests: the test plan costed in US dollars with a euro rate for 2026 and 2027, two
activities with cost lines (so P1 and D1 have a funding gap in the stored rollups), a stakeholder of the map and a
person of the register; and the same of another plan."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from costing.rollups import plan_rollup
from costing.services import cost_line_create, exchange_rate_set, plan_costing_get
from planning.models import Activity, Plan, TechnicalArea
from stakeholders.models import Advocacy, Organization, Person, Stakeholder, User


def area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


def line(activity: Activity, by: User, unit_cost: str) -> None:
    cost_line_create(
        activity=activity,
        by=by,
        fields={
            "description": "Workshop venue",
            "category": "meetings",
            "unit": "day",
            "unit_cost": Decimal(unit_cost),
            "currency": "USD",
            "quantity": Decimal("1"),
            "recurrence": "one_off",
        },
        frequencies={2026: 1},
    )


def costed_plan(plan: Plan, lead: User, moh: Organization) -> dict[str, Any]:
    """Rates, costs (P1: 50,000; D1: 20,000), rollups computed; a stakeholder and a person of the plan."""
    plan_costing_get(plan)
    for year, rate in ((2026, "1.10"), (2027, "1.20")):
        exchange_rate_set(plan=plan, by=lead, currency="EUR", year=year, rate=Decimal(rate))
    p1 = Activity.objects.create(plan=plan, technical_area=area("P1"), title="Train border veterinarians")
    d1 = Activity.objects.create(plan=plan, technical_area=area("D1"), title="Equip the reference laboratory")
    line(p1, lead, "50000")
    line(d1, lead, "20000")
    plan_rollup(plan_id=plan.pk)
    stakeholder = Stakeholder.objects.create(plan=plan, organization=moh, influence=4, interest=4)
    person = Person.objects.create(plan=plan, name="Dr Amina Diallo", organization=moh, email="amina@example.org")
    return {"p1": p1, "d1": d1, "stakeholder": stakeholder, "person": person}


def fields(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "need": Advocacy.Need.FUNDING_GAP,
        "title": "Fund border veterinary training",
        "audience": None,
        "audience_group": "Parliamentary budget committee",
        "ask": Advocacy.Ask.AMOUNT,
        "ask_amount": Decimal("40000.00"),
        "ask_currency": "EUR",
        "ask_text": "",
        "key_messages": "Every outbreak stopped at the border saves millions.",
        "channels": ["meeting", "budget_hearing"],
        "starts_on": None,
        "ends_on": None,
        "timing": "Before the budget call",
        "status": Advocacy.Status.PLANNED,
        "owner": None,
        "outcome": "",
    }
    values.update(overrides)
    return values
