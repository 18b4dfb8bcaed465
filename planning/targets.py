"""Targets: the capacity level a plan aims for on each indicator, defaulted by the plan's horizon."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from naphs.errors import EditConflict
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


def target_below_current(*, level: int, current: int | None) -> bool:
    """A target below the indicator's current level. The target is the capacity the plan means to reach by its
    end, from the level its baseline gives; its activities are the steps between the two. A lower
    target would plan a loss of capacity that no benchmark action leads to, so it is refused when set; a target
    a newer score has overtaken is shown with a warning until it is raised."""
    return current is not None and level < current


def _target_save(
    *,
    plan: Plan,
    by: User,
    indicator: Indicator,
    level: int,
    justification: str,
    version: int | None,
    current: int | None,
) -> IndicatorTarget:
    if indicator.framework_id != plan.framework_id:
        raise ValidationError(
            {
                "indicator": _("%(indicator)s is not an indicator of this plan's framework.")
                % {"indicator": indicator.code}
            }
        )
    justification = justification.strip()
    if not justification:
        raise ValidationError({"justification": _("Say why this target was chosen.")})
    if target_below_current(level=level, current=current):
        raise ValidationError(
            {
                "level": _(
                    "The current level of %(indicator)s is %(current)d: a target below it would plan a loss of "
                    "capacity. Choose %(current)d to keep it, or higher."
                )
                % {"indicator": indicator.code, "current": current}
            }
        )
    target, changes = versioned_save(
        IndicatorTarget,
        key={"plan": plan, "indicator": indicator},
        version=version,
        fields={"level": level, "justification": justification},
    )
    if changes:
        audit_record(
            plan=plan,
            by=by,
            action="set the target of",
            target=target,
            changes=changes,
            area_id=indicator.technical_area_id,
        )
    return target


@transaction.atomic
def target_set(
    *, plan: Plan, by: User, indicator: Indicator, level: int, justification: str, version: int | None = None
) -> IndicatorTarget:
    """Set one indicator's target with the reason for it, at or above its current level. `version` is the
    target's version as the person read it, 0 when it had none: a target someone else saved since (a first one
    too) is refused with EditConflict. None (only for the product's own loads) skips the check."""
    row_lock(plan)  # take turns with targets_fill_defaults
    current = plan_current_levels(plan=plan).get(indicator.pk)
    return _target_save(
        plan=plan,
        by=by,
        indicator=indicator,
        level=level,
        justification=justification,
        version=version,
        current=current,
    )


@dataclass(frozen=True)
class TargetChange:
    """One indicator's target as a person set it, with the version they saw (0: none)."""

    indicator: Indicator
    level: int
    justification: str
    version: int


class TargetsRefused(Exception):
    """Some targets of one save were refused, so none of that save was kept. `refusals` maps each refused
    indicator's id to its EditConflict (someone else saved it first) or ValidationError."""

    def __init__(self, refusals: dict[int, EditConflict | ValidationError]) -> None:
        self.refusals = refusals
        super().__init__(f"{len(refusals)} target(s) refused")


@transaction.atomic
def targets_set(*, plan: Plan, by: User, changes: Sequence[TargetChange]) -> list[IndicatorTarget]:
    """Set several indicators' targets in one save, all or nothing: each is checked as target_set checks one
    (its own version included), and if any is refused, TargetsRefused names every refused one and nothing of the
    save is kept."""
    row_lock(plan)
    current = plan_current_levels(plan=plan)
    saved: list[IndicatorTarget] = []
    refusals: dict[int, EditConflict | ValidationError] = {}
    for change in changes:
        try:
            with transaction.atomic():  # a refused one leaves the others' work to be rolled back together
                saved.append(
                    _target_save(
                        plan=plan,
                        by=by,
                        indicator=change.indicator,
                        level=change.level,
                        justification=change.justification,
                        version=change.version,
                        current=current.get(change.indicator.pk),
                    )
                )
        except (EditConflict, ValidationError) as refusal:
            refusals[change.indicator.pk] = refusal
    if refusals:
        raise TargetsRefused(refusals)
    return saved
