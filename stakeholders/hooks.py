"""Stakeholders' hooks (naphs.hooks): where the apps above take part in the engagement and the launch.

Costing knows the costs, funding and gaps the launch checklist and advocacy speak of, and the rates an advocacy's ask
is converted at; monitoring opens the first reporting period when a plan is launched. Each app connects from its
AppConfig.ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from naphs.hooks import Hook

if TYPE_CHECKING:
    from planning.models import Plan
    from stakeholders.models import Launch, User


@dataclass(frozen=True)
class LaunchCheck:
    """One item of the launch checklist as computed now: a key unique in the list (stored with the launch), its
    name and what was found, in the active language, whether it is met, and where it is worked on (a URL)."""

    key: str
    name: str
    detail: str
    met: bool
    url: str = ""


# The items of the launch checklist an app above computes for the plan (costing: the share of activities costed,
# funding identified against the gap), in the active language; stakeholders.launch adds its own.
launch_checks: Hook[[Plan], list[LaunchCheck]] = Hook("launch_checks")

# The funding gap of each technical area of the plan (the area's id: the gap in the base currency, only areas with a
# gap), as the costing rollups hold it: what advocacy is drafted for and the launch checklist ranks.
area_gaps: Hook[[Plan], dict[int, Decimal]] = Hook("area_gaps")

# An amount in `currency` asked in year `year`: the receiver that keeps the plan's rates answers with the amount in
# the base currency, or raises ValidationError naming the currency when the plan has no rate for it.
amount_in_base: Hook[[Plan, Decimal, str, int], Decimal] = Hook("amount_in_base")

# The plan's base currency (ISO 4217), from the app that keeps it: what an ask's currency defaults to and what a gap's
# amount is in.
plan_base_currency: Hook[[Plan], str] = Hook("plan_base_currency")

# The plan was launched (`launch`, by `by`): called inside the launch's transaction, so a receiver's error undoes it
# (monitoring opens the first reporting period, generating the plan's quarters when it has none).
plan_launched: Hook[[Plan, User, Launch], None] = Hook("plan_launched")
