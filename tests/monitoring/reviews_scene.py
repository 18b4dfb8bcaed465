"""What the review tests share: the test plan's first two quarters of 2026 and a few activities with progress
reported on them, and helpers to add more. The test modules import the fixtures (`q1_fixture`, ...); the tests
name them `q1`, `q2` and `activities`."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from monitoring.models import ProgressUpdate, ReportingPeriod, Review
from planning.models import Activity, Plan, TechnicalArea
from stakeholders.models import PlanMembership, User


def area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


def quarter(plan: Plan, year: int, number: int, *, state: str = ReportingPeriod.State.OPEN) -> ReportingPeriod:
    start = datetime.date(year, 3 * number - 2, 1)
    end = (datetime.date(year + (number == 4), (3 * number) % 12 + 1, 1)) - datetime.timedelta(days=1)
    return ReportingPeriod.objects.create(
        plan=plan, label=f"Q{number} {year}", starts_on=start, ends_on=end, due_on=end + datetime.timedelta(days=15),
        state=state,
    )  # fmt: skip


def activity(plan: Plan, title: str, *, code: str = "P1", organization=None, **fields) -> Activity:
    return Activity.objects.create(
        plan=plan, technical_area=area(code), title=title, responsible_organization=organization, **fields
    )


def report(
    activity: Activity, period: ReportingPeriod, status: str, percent: int, spent: str | None = None
) -> ProgressUpdate:
    return ProgressUpdate.objects.create(
        plan=activity.plan,
        activity=activity,
        period=period,
        status=status,
        percent_complete=percent,
        amount_spent=None if spent is None else Decimal(spent),
        currency="USD" if spent is not None else "",
        amount_spent_base=None if spent is None else Decimal(spent),
    )


def entry(review: Review, activity: Activity) -> dict:
    return next(item for item in review.snapshot if item["activity"] == activity.pk)


def member(plan: Plan, user: User, role: str) -> PlanMembership:
    return PlanMembership.objects.create(plan=plan, user=user, role=role)


@pytest.fixture(name="q1")
def q1_fixture(plan) -> ReportingPeriod:
    return quarter(plan, 2026, 1, state=ReportingPeriod.State.CLOSED)


@pytest.fixture(name="q2")
def q2_fixture(plan) -> ReportingPeriod:
    return quarter(plan, 2026, 2)


@pytest.fixture(name="activities")
def activities_fixture(plan, moa, moh, q1, q2) -> dict[str, Activity]:
    """Four activities of 2026: `law` reported on in both quarters, `lab` completed in the second only, `drill`
    cancelled, `vets` never reported on."""
    made = {
        "law": activity(plan, "Revise the public health law", organization=moh, start_date=datetime.date(2026, 1, 1),
                        end_date=datetime.date(2026, 12, 31)),
        "lab": activity(plan, "Equip the reference laboratory", code="D1", organization=moh),
        "drill": activity(plan, "Run a border simulation", code="R1", organization=moh),
        "vets": activity(plan, "Train border veterinarians", organization=moa, start_date=datetime.date(2026, 3, 1),
                         end_date=datetime.date(2026, 10, 31)),
    }  # fmt: skip
    report(made["law"], q1, "on_track", 30, "1000.00")
    report(made["law"], q2, "delayed", 40, "250.50")
    report(made["lab"], q2, "completed", 100, "5000.00")
    report(made["drill"], q1, "cancelled", 0)
    return made
