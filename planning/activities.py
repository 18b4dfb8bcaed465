"""Writes to a plan's activities: create, edit (refusing a stale save) and delete, each validated in full,
saved all or nothing, and audited.

Who may call which (a technical lead only in their own technical areas) is decided by the views and the API,
through stakeholders.access; these functions check that the content is sound.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from naphs.services import audit_record, versioned_update
from planning import hooks
from planning.models import Activity, Indicator, Plan, TechnicalArea
from stakeholders.models import Organization
from stakeholders.selectors import organization_list_for_plan

if TYPE_CHECKING:
    from stakeholders.models import User

# What people edit; the link to a benchmark action or a strategic origin is set by generation and derivation.
ACTIVITY_EDITABLE_FIELDS = (
    "technical_area",
    "title",
    "description",
    "source",
    "action_type",
    "responsible_organization",
    "implementation_level",
    "start_date",
    "end_date",
    "impact",
    "feasibility",
    "priority",
    "sectors",
    "hazards",
    "status",
    "related_programme",
    "existing_budget",
    "existing_budget_source",
)
ACTIVITY_M2M_FIELDS = ("indicators", "supporting_organizations")


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(ACTIVITY_EDITABLE_FIELDS) - set(ACTIVITY_M2M_FIELDS)
    if unknown:
        raise TypeError(f"Activities have no editable field {', '.join(sorted(unknown))}")


def _validate(
    candidate: Activity,
    *,
    indicators: list[Indicator],
    supporting: list[Organization],
) -> None:
    """Every problem at once, by field: the model's own rules (choices, dates within the plan's period, start
    before end), indicators of the activity's technical area, organizations of the plan's country."""
    errors: dict[str, list[str]] = {}
    try:
        candidate.full_clean()
    except ValidationError as error:
        errors.update(error.message_dict)
    area: TechnicalArea | None = candidate.technical_area if candidate.technical_area_id else None
    if area is not None:
        foreign = [indicator for indicator in indicators if indicator.technical_area_id != area.pk]
        if foreign:
            codes = ", ".join(indicator.code for indicator in foreign)
            errors.setdefault("indicators", []).append(
                f"{codes}: not an indicator of technical area {area.code}; choose indicators of the activity's area."
            )
    allowed = _organization_ids(candidate.plan)
    responsible = candidate.responsible_organization if candidate.responsible_organization_id else None
    if responsible is not None and responsible.pk not in allowed:
        errors.setdefault("responsible_organization", []).append(
            f"“{responsible}” is not an organization of {candidate.plan.jurisdiction.name}."
        )
    outside = [organization for organization in supporting if organization.pk not in allowed]
    if outside:
        names = ", ".join(f"“{organization}”" for organization in outside)
        errors.setdefault("supporting_organizations", []).append(
            f"{names}: not an organization of {candidate.plan.jurisdiction.name}."
        )
    if errors:
        raise ValidationError(errors)


def _organization_ids(plan: Plan) -> set[int]:
    return set(organization_list_for_plan(plan=plan).values_list("pk", flat=True))


def _names(objects: Iterable[Any]) -> list[str]:
    return sorted(getattr(item, "code", None) or str(item) for item in objects)


@transaction.atomic
def activity_create(*, plan: Plan, by: User, **fields: Any) -> Activity:
    """Add an activity to the plan; indicators and supporting organizations may be given as lists."""
    _check_fields(fields)
    indicators = list(fields.pop("indicators", None) or [])
    supporting = list(fields.pop("supporting_organizations", None) or [])
    activity = Activity(plan=plan, **fields)
    _validate(activity, indicators=indicators, supporting=supporting)
    activity.save()
    activity.indicators.set(indicators)
    activity.supporting_organizations.set(supporting)
    audit_record(plan=plan, by=by, action="created", target=activity)
    hooks.activities_added.send(plan.pk)
    return activity


@transaction.atomic
def activity_update(*, activity: Activity, by: User, version: int, **fields: Any) -> Activity:
    """Change an activity, refusing the save (EditConflict) if someone saved it since `version`.

    Indicators and supporting organizations left out keep their current values; the indicators kept must still
    belong to the activity's technical area if that changes.
    """
    _check_fields(fields)
    new_indicators = fields.pop("indicators", None)
    new_supporting = fields.pop("supporting_organizations", None)
    old_indicators = list(activity.indicators.all())
    old_supporting = list(activity.supporting_organizations.all())
    indicators = old_indicators if new_indicators is None else list(new_indicators)
    supporting = old_supporting if new_supporting is None else list(new_supporting)

    candidate = copy.copy(activity)
    for name, value in fields.items():
        setattr(candidate, name, value)
    _validate(candidate, indicators=indicators, supporting=supporting)

    # Always through versioned_update, even for a change of indicators alone: the version moves on either way.
    changes: dict[str, Any] = versioned_update(activity, version=version, fields=fields)
    if new_indicators is not None and {i.pk for i in indicators} != {i.pk for i in old_indicators}:
        activity.indicators.set(indicators)
        changes["indicators"] = [_names(old_indicators), _names(indicators)]
    if new_supporting is not None and {o.pk for o in supporting} != {o.pk for o in old_supporting}:
        activity.supporting_organizations.set(supporting)
        changes["supporting_organizations"] = [_names(old_supporting), _names(supporting)]
    if changes:
        audit_record(plan=activity.plan, by=by, action="edited", target=activity, changes=changes)
    if {"technical_area", "responsible_organization"} & changes.keys():
        hooks.activity_moved.send(activity.plan_id)  # the totals by area and by organization move with it
    return activity


@transaction.atomic
def activity_delete(*, activity: Activity, by: User) -> None:
    """Remove an activity (its dependencies go with it); the audit trail keeps what it was."""
    audit_record(
        plan=activity.plan,
        by=by,
        action="deleted",
        target=activity,
        changes={"technical_area": activity.technical_area.code, "title": activity.title},
    )
    hooks.activity_deleting.send(activity)
    activity.delete()
