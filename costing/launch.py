"""Costing's items of the launch checklist (stakeholders.hooks.launch_checks): the share of the plan's activities
costed, and the funding identified (pledged, committed or disbursed) against the plan's cost, with the gap left (as the
costing dashboard counts it: committed and disbursed funding only).

Both are computed now from the cost lines and commitments, not from the rollups (which may be being recomputed), in
a constant number of queries whatever the plan's size."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, OuterRef, Sum
from django.urls import reverse
from django.utils.translation import gettext, ngettext

from costing.funding import commitment_base_amount
from costing.models import CostLine, CostLineYear, FundingCommitment
from costing.services import Rates
from naphs.languages import number_text
from planning.models import Activity
from stakeholders import hooks
from stakeholders.hooks import LaunchCheck

if TYPE_CHECKING:
    from planning.models import Plan

ZERO = Decimal(0)


def _money(amount: Decimal, currency: str) -> str:
    return gettext("%(amount)s %(currency)s") % {"amount": number_text(amount, 2), "currency": currency}


def costed_item(plan: Plan) -> LaunchCheck:
    """Activities with at least one cost line, of all the plan's activities: met when every one is costed."""
    counts = Activity.objects.filter(plan=plan).aggregate(
        total=Count("pk"), costed=Count("pk", filter=Exists(CostLine.objects.filter(activity=OuterRef("pk"))))
    )
    total, costed = counts["total"], counts["costed"]
    name = gettext("Share of activities costed")
    url = reverse("costing_dashboard", kwargs={"plan_id": plan.pk})
    if not total:
        return LaunchCheck("costed", name, gettext("The plan has no activities yet."), False, url)
    percent = round(100 * costed / total)
    if costed < total and percent == 100:
        percent = 99  # not all of them: never shown as complete
    detail = ngettext(
        "%(costed)s of %(total)s activity costed (%(percent)s%%).",
        "%(costed)s of %(total)s activities costed (%(percent)s%%).",
        total,
    ) % {"costed": number_text(costed), "total": number_text(total), "percent": number_text(percent)}
    return LaunchCheck("costed", name, detail, costed == total, url)


def funding_item(plan: Plan) -> LaunchCheck:
    """The funding identified (pledged and firm) against the plan's cost without optional lines, in the base
    currency: met when it covers the cost. A commitment whose currency lacks a rate is left out and named."""
    rates = Rates.for_plan(plan)
    cost = (
        CostLineYear.objects.filter(cost_line__plan=plan, cost_line__optional=False).aggregate(total=Sum("amount"))[
            "total"
        ]
        or ZERO
    )
    pledged = firm = ZERO
    left_out = 0
    for commitment in FundingCommitment.objects.filter(plan=plan).order_by("pk"):
        amount = commitment_base_amount(commitment, rates)
        if amount is None:
            left_out += 1
        elif commitment.status in FundingCommitment.FIRM:
            firm += amount
        else:
            pledged += amount
    identified = pledged + firm
    gap = max(cost - firm, ZERO)  # as the costing dashboard counts it: pledges are not yet money
    name = gettext("Funding identified against the cost")
    url = reverse("funding", kwargs={"plan_id": plan.pk})
    currency = rates.base
    if not cost:
        detail = gettext("The plan has no cost yet: cost its activities first.")
        return LaunchCheck("funding", name, detail, False, url)
    detail = gettext(
        "%(identified)s identified (%(firm)s committed or disbursed, %(pledged)s pledged) of a cost of %(cost)s. "
        "The funding gap, which only committed and disbursed funding closes, as on the costing dashboard: %(gap)s."
    ) % {
        "identified": _money(identified, currency),
        "firm": _money(firm, currency),
        "pledged": _money(pledged, currency),
        "cost": _money(cost, currency),
        "gap": _money(gap, currency),
    }
    if left_out:
        detail += " " + ngettext(
            "%(count)d commitment is left out: its currency has no exchange rate for a year it covers.",
            "%(count)d commitments are left out: their currencies have no exchange rate for a year they cover.",
            left_out,
        ) % {"count": left_out}
    return LaunchCheck("funding", name, detail, identified >= cost, url)


def _launch_checks(plan: Plan) -> list[LaunchCheck]:
    return [costed_item(plan), funding_item(plan)]


def connect() -> None:
    """From CostingConfig.ready."""
    hooks.launch_checks.connect(_launch_checks)
