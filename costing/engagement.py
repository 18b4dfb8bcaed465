"""Costing's part in the advocacy of stakeholders: the plan's funding gap per technical area, from the stored rollups
(stakeholders.hooks.area_gaps), an ask converted at the plan's rates (stakeholders.hooks.amount_in_base) and the
base currency it is converted to; and a pledge an advocacy obtained recorded as a funding commitment in one step
(`advocacy_pledge_record`), through costing's own funding service so every check of a commitment applies: rates,
years, what it funds, and the freeze (funding is plan content, refused on an endorsed plan). The advocacy's status
and outcome change in the same transaction, so a refusal leaves both as they were.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Sum
from django.http import Http404
from django.utils.translation import gettext

from costing.funding import funding_commitment_create
from costing.models import CostRollup, FundingCommitment, FundingRollup
from costing.services import CENT, Rates, plan_costing_get
from naphs.services import audit_record
from stakeholders import hooks
from stakeholders.advocacy import advocacy_list_for_plan, advocacy_outcome_record, ask_year
from stakeholders.models import Advocacy

if TYPE_CHECKING:
    from planning.models import Activity, Plan
    from stakeholders.models import User

ZERO = Decimal("0")


# --- Answers to stakeholders' hooks ------------------------------------------------------------------------------


def area_gaps(plan: Plan) -> dict[int, Decimal]:
    """{technical area id: gap} for the areas of the plan with a gap, from the stored rollups as the costing
    dashboard shows them without optional costs: the required cost minus committed and disbursed funding. Two
    queries."""
    needed = dict(
        CostRollup.objects.filter(plan=plan)
        .order_by()
        .values_list("technical_area_id")
        .annotate(total=Sum("required", default=ZERO))
    )
    firm = dict(
        FundingRollup.objects.filter(plan=plan, status__in=FundingCommitment.FIRM)
        .order_by()
        .values_list("technical_area_id")
        .annotate(total=Sum("amount", default=ZERO))
    )
    gaps = {area_id: needed.get(area_id, ZERO) - firm.get(area_id, ZERO) for area_id in needed.keys() | firm.keys()}
    return {area_id: gap for area_id, gap in gaps.items() if gap > 0}


def amount_in_base(plan: Plan, amount: Decimal, currency: str, year: int) -> Decimal:
    """`amount` of `currency` in the plan's base currency at the rate of `year` (ValidationError naming the currency
    and where the rate is added when the plan has none)."""
    rates = Rates.for_plan(plan)
    return (amount * rates.rate(currency or rates.base, year)).quantize(CENT, rounding=ROUND_HALF_UP)


def base_currency(plan: Plan) -> str:
    return plan_costing_get(plan).currency


def connect() -> None:
    """From CostingConfig.ready."""
    hooks.area_gaps.connect(area_gaps)
    hooks.amount_in_base.connect(amount_in_base)
    hooks.plan_base_currency.connect(base_currency)


# --- A pledge becomes a commitment -------------------------------------------------------------------------------


def pledge_initial(advocacy: Advocacy) -> dict[str, Any]:
    """What the pledge form proposes: the audience's organization as the source, the ask as the amount, the year of
    the ask, a pledge, and what the advocacy addresses (its activities, else its one technical area)."""
    plan = advocacy.plan
    year = ask_year(plan, advocacy.starts_on)
    activities = [activity.pk for activity in advocacy.activities.all()]
    areas = [area.pk for area in advocacy.technical_areas.all()]
    initial: dict[str, Any] = {
        "source_organization": advocacy.audience.organization_id if advocacy.audience is not None else None,
        "amount": advocacy.ask_amount if advocacy.ask_amount is not None else "",
        "currency": advocacy.ask_currency or base_currency(plan),
        "first_year": year,
        "last_year": year,
        "status": FundingCommitment.Status.PLEDGED,
        "activities": activities,
        "technical_area": areas[0] if areas and not activities else None,
        "advocacy_status": advocacy.status,
        "outcome": advocacy.outcome,
        "version": advocacy.version,
    }
    return initial


@transaction.atomic
def advocacy_pledge_record(
    *,
    advocacy: Advocacy,
    by: User,
    version: int,
    fields: Mapping[str, Any],
    activities: Sequence[Activity] = (),
    status: str | None = None,
    outcome: str | None = None,
) -> FundingCommitment:
    """Record the pledge the advocacy obtained as a funding commitment of its plan (costing.funding's checks, the
    freeze included), linked to the advocacy, and the advocacy's new status and outcome, all at once: a refusal of
    either (a bad commitment, an endorsed plan, an advocacy someone changed since `version`) saves nothing."""
    plan = advocacy.plan
    advocacy_outcome_record(
        advocacy=advocacy,
        by=by,
        version=version,
        status=advocacy.status if status is None else status,
        outcome=advocacy.outcome if outcome is None else outcome,
    )
    commitment = funding_commitment_create(plan=plan, by=by, fields=fields, activities=activities)
    FundingCommitment.objects.filter(pk=commitment.pk).update(advocacy=advocacy)
    commitment.advocacy = advocacy
    audit_record(plan=plan, by=by, action="edited", target=commitment, changes={"advocacy": [None, str(advocacy)]})
    return commitment


def advocacy_get(plan: Plan, advocacy_id: int) -> Advocacy:
    """An advocacy of this plan (404 for any other)."""
    advocacy = advocacy_list_for_plan(plan=plan).filter(pk=advocacy_id).first()
    if advocacy is None:
        raise Http404(gettext("No such advocacy in this plan."))
    advocacy.plan = plan
    return advocacy


def advocacy_commitments(advocacy: Advocacy) -> list[FundingCommitment]:
    return list(
        FundingCommitment.objects.filter(advocacy=advocacy).select_related("source_organization").order_by("pk")
    )
