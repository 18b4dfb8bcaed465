"""Fixtures of the progress tests: an open quarter of the plan, activities of two organizations in two areas, and
an exchange rate for euros in 2026 (none for pounds)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from costing.models import ExchangeRate
from costing.services import plan_costing_get
from monitoring.models import ReportingPeriod
from naphs.permissions import Role
from planning.models import Activity, TechnicalArea
from stakeholders.models import PlanMembership


def area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


def make_period(plan, *, label="2026 Q1", month=1, state=ReportingPeriod.State.OPEN) -> ReportingPeriod:
    starts = datetime.date(2026, month, 1)
    return ReportingPeriod.objects.create(
        plan=plan,
        label=label,
        starts_on=starts,
        ends_on=starts + datetime.timedelta(days=89),
        due_on=starts + datetime.timedelta(days=100),
        state=state,
    )


@pytest.fixture
def rates(plan):
    plan_costing_get(plan)  # US dollars
    ExchangeRate.objects.create(plan=plan, currency="EUR", year=2026, rate=Decimal("1.10000000"))
    ExchangeRate.objects.create(plan=plan, currency="GBP", year=2025, rate=Decimal("1.25000000"))
    return plan


@pytest.fixture
def period(plan, rates) -> ReportingPeriod:
    return make_period(plan)


@pytest.fixture
def closed_period(plan, rates) -> ReportingPeriod:
    return make_period(plan, label="2026 Q2", month=4, state=ReportingPeriod.State.CLOSED)


@pytest.fixture
def moa_activity(plan, moa) -> Activity:
    """The focal point's organization's activity, in area P1."""
    return Activity.objects.create(
        plan=plan, technical_area=area("P1"), title="Train field epidemiologists", responsible_organization=moa
    )


@pytest.fixture
def moh_activity(plan, moh) -> Activity:
    """Another organization's activity, in area P2."""
    return Activity.objects.create(
        plan=plan, technical_area=area("P2"), title="Review the public health law", responsible_organization=moh
    )


@pytest.fixture
def technical_lead(people, plan):
    """The technical lead, lead of area P1."""
    user = people[Role.TECHNICAL_LEAD]
    PlanMembership.objects.get(plan=plan, user=user).technical_areas.add(area("P1"))
    return user


def report_form(version: int = 0, **values) -> dict:
    return {
        "status": "on_track",
        "percent_complete": "40",
        "amount_spent": "1200.50",
        "currency": "USD",
        "narrative": "Two trainings held.",
        "blockers": "",
        "version": str(version),
        **values,
    }
