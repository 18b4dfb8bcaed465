"""Targets: the capacity level a plan aims for on each indicator, defaulted by the plan's horizon."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from naphs.services import audit_record, row_lock, versioned_save
from planning.models import Indicator, IndicatorTarget, Plan
from planning.selectors import plan_current_levels

if TYPE_CHECKING:
    from stakeholders.models import User

MAX_LEVEL = 5


def target_default(*, current: int, years: int) -> int:
    """The guidance's default: a plan of about five years reaches 4 where the current level is 3 or lower,
    otherwise 5; a one- or two-year plan goes one level up, at most 5."""
    if years <= 2:
        return min(current + 1, MAX_LEVEL)
    return 4 if current <= 3 else MAX_LEVEL


def plan_years(plan: Plan) -> int:
    return plan.last_year - plan.first_year + 1


@transaction.atomic
def targets_fill_defaults(*, plan: Plan, by: User) -> list[IndicatorTarget]:
    """Give every scored indicator without a target its default target; targets people set stay as they are.

    The plan is locked meanwhile, as target_set locks it, so a target someone sets at the same moment is either
    kept (the default skips it) or refused to them as a conflict (the default came first), never overwritten."""
    row_lock(plan)
    current = plan_current_levels(plan=plan)
    existing = set(IndicatorTarget.objects.filter(plan=plan).values_list("indicator_id", flat=True))
    years = plan_years(plan)
    created = IndicatorTarget.objects.bulk_create(
        IndicatorTarget(plan=plan, indicator_id=indicator_id, level=target_default(current=level, years=years))
        for indicator_id, level in sorted(current.items())
        if indicator_id not in existing
    )
    if created:
        audit_record(
            plan=plan, by=by, action="set default targets of", target=plan, changes={"targets": [None, len(created)]}
        )
    return created


@transaction.atomic
def target_set(
    *, plan: Plan, by: User, indicator: Indicator, level: int, justification: str, version: int | None = None
) -> IndicatorTarget:
    """Set one indicator's target with the reason for it. `version` is the target's version as the person read
    it, 0 when it had none: a target someone else saved since (a first one too) is refused with EditConflict.
    None (only for the product's own loads) skips the check."""
    if indicator.framework_id != plan.framework_id:
        raise ValidationError({"indicator": f"{indicator.code} is not an indicator of this plan's framework."})
    justification = justification.strip()
    if not justification:
        raise ValidationError({"justification": "Say why this target was chosen."})
    row_lock(plan)  # take turns with targets_fill_defaults
    target, changes = versioned_save(
        IndicatorTarget,
        key={"plan": plan, "indicator": indicator},
        version=version,
        fields={"level": level, "justification": justification},
    )
    if changes:
        audit_record(plan=plan, by=by, action="set the target of", target=target, changes=changes)
    return target
