"""A realistic small plan for the launch tests: four activities in four areas (three costed, one without a
responsible organization), funding committed and pledged, advocacy for two of the three largest gaps, and engaged
stakeholders covering two of the four areas. The rollups are computed, as the worker would have."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from costing.models import FundingCommitment
from costing.rollups import plan_rollup
from costing.services import cost_line_create, exchange_rate_set, plan_costing_get
from planning.endorsement import plan_endorse
from planning.models import Activity, Endorsement, Plan, TechnicalArea
from stakeholders.models import Advocacy, EngagementEvent, Organization, Stakeholder, User


def area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


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


@dataclass
class LaunchScene:
    plan: Plan
    law: Activity  # P1, the Ministry of Agriculture's, 1 500 costed
    financing: Activity  # P2, the Ministry of Health's, 3 000 costed
    laboratory: Activity  # D1, no responsible organization, not costed
    response: Activity  # R1, the Ministry of Health's, 750 costed
    launch_event: EngagementEvent
    workshop: EngagementEvent


def launch_scene(plan: Plan, lead: User, moh: Organization, moa: Organization) -> LaunchScene:
    plan_costing_get(plan)  # US dollars
    exchange_rate_set(plan=plan, by=lead, currency="EUR", year=2026, rate=Decimal("1.10"))
    law = Activity.objects.create(
        plan=plan, technical_area=area("P1"), title="Revise the public health law", responsible_organization=moa
    )
    financing = Activity.objects.create(
        plan=plan, technical_area=area("P2"), title="Cost the emergency fund", responsible_organization=moh
    )
    laboratory = Activity.objects.create(plan=plan, technical_area=area("D1"), title="Equip the reference laboratory")
    response = Activity.objects.create(
        plan=plan, technical_area=area("R1"), title="Train rapid response teams", responsible_organization=moh
    )
    # 250 × 3 = 750 per occurrence
    cost_line_create(activity=law, by=lead, fields=line_fields(), frequencies={2026: 2})  # 1 500
    cost_line_create(activity=financing, by=lead, fields=line_fields(), frequencies={2026: 2, 2027: 2})  # 3 000
    cost_line_create(activity=response, by=lead, fields=line_fields(), frequencies={2026: 1})  # 750
    FundingCommitment.objects.create(
        plan=plan,
        source_organization=moh,
        source_kind="government",
        amount=Decimal("1000.00"),
        currency="USD",
        first_year=2026,
        last_year=2026,
        status=FundingCommitment.Status.COMMITTED,
        technical_area=area("P1"),
    )
    FundingCommitment.objects.create(
        plan=plan,
        source_organization=moa,
        source_kind="government",
        amount=Decimal("500.00"),
        currency="EUR",
        first_year=2026,
        last_year=2026,
        status=FundingCommitment.Status.PLEDGED,
        technical_area=area("P2"),
    )
    plan_rollup(plan_id=plan.pk)
    # Gaps (firm funding only): P2 3 000, R1 750, P1 500. Advocacy for P2 (by area) and R1 (by activity); P1's is
    # dropped, so P1 has none active.
    health = Stakeholder.objects.create(plan=plan, organization=moh, relationship=Stakeholder.Relationship.INVOLVED)
    health.technical_areas.set([area("P2"), area("R1")])
    agriculture = Stakeholder.objects.create(
        plan=plan, organization=moa, relationship=Stakeholder.Relationship.TO_ENGAGE
    )
    agriculture.technical_areas.set([area("P1"), area("D1")])
    fund = Advocacy.objects.create(plan=plan, need="funding_gap", title="Fund the emergency fund", ask="amount")
    fund.technical_areas.set([area("P2")])
    teams = Advocacy.objects.create(
        plan=plan, need="funding_gap", title="Teams", ask="decision", status=Advocacy.Status.UNDER_WAY
    )
    teams.activities.set([response])
    dropped = Advocacy.objects.create(
        plan=plan, need="funding_gap", title="Law", ask="policy", status=Advocacy.Status.DROPPED
    )
    dropped.technical_areas.set([area("P1")])
    today = datetime.date.today()
    workshop = EngagementEvent.objects.create(
        plan=plan, kind="workshop", title="Validation workshop", starts_on=today, ends_on=today
    )
    launch_event = EngagementEvent.objects.create(
        plan=plan, kind="launch", title="Launch ceremony", starts_on=today, ends_on=today
    )
    return LaunchScene(plan, law, financing, laboratory, response, launch_event, workshop)


def endorse(plan: Plan, lead: User, *, days_ago: int = 0) -> Endorsement:
    endorsement = plan_endorse(
        plan=plan, by=lead, endorsed_on=datetime.date.today(), authority="Minister of Health", confirm=True
    )
    if days_ago:
        Endorsement.objects.filter(pk=endorsement.pk).update(
            endorsed_on=datetime.date.today() - datetime.timedelta(days=days_ago)
        )
    plan.refresh_from_db()
    return endorsement


# Every item of the scene that is not met: all but the endorsement.
UNMET = ("costed", "funding", "advocacy", "responsible", "coverage")
