"""From strategic to operational: an operational plan (12 to 24 months) drawn from a strategic plan's activities,
each keeping the link to its strategic origin, with the strategic plan's baseline (the assessments its levels come
from) and targets. The activities' cost lines come along too: costing copies them when told the activities were drawn
(planning.hooks.operational_activities_drawn)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from naphs.services import audit_record
from planning import hooks
from planning.models import Activity, Assessment, IndicatorScore, IndicatorTarget, Plan
from planning.selectors import plan_baseline
from planning.services import plan_create

if TYPE_CHECKING:
    from stakeholders.models import User

COPIED_FIELDS = (
    "technical_area_id", "title", "description", "source", "benchmark_action_id", "action_type",
    "responsible_organization_id", "implementation_level", "impact", "feasibility", "priority", "sectors", "hazards",
)  # fmt: skip


def _within(activity: Activity, first: datetime.date, last: datetime.date) -> tuple[datetime.date | None, ...]:
    """The activity's dates, clipped to the operational period; an activity wholly outside it is refused."""
    start, end = activity.start_date, activity.end_date
    if (end is not None and end < first) or (start is not None and start > last):
        raise ValidationError(
            {
                "activities": gettext("“%(activity)s” runs outside %(first)d–%(last)d; leave it out or move it.")
                % {"activity": activity.title[:80], "first": first.year, "last": last.year}
            }
        )
    return (max(start, first) if start else None, min(end, last) if end else None)


@transaction.atomic
def operational_activities_add(*, plan: Plan, by: User, activities: Iterable[Activity]) -> list[Activity]:
    """Copy strategic activities into an operational plan, linked to their origin; one already there is refused."""
    strategic = plan.parent
    if plan.kind != Plan.Kind.OPERATIONAL or strategic is None or strategic.kind != Plan.Kind.STRATEGIC:
        raise ValidationError(
            {"plan": gettext("Activities are drawn into an operational plan from its strategic plan.")}
        )
    activities = list(activities)
    foreign = [a.title[:60] for a in activities if a.plan_id != strategic.pk]
    if foreign:
        raise ValidationError(
            {
                "activities": gettext("Not activities of “%(plan)s”: %(titles)s.")
                % {"plan": strategic, "titles": "; ".join(foreign)}
            }
        )
    already = set(plan.activities.filter(origin__in=activities).values_list("origin_id", flat=True))
    if already:
        titles = "; ".join(a.title[:60] for a in activities if a.pk in already)
        raise ValidationError(
            {"activities": gettext("Already in this operational plan: %(titles)s.") % {"titles": titles}}
        )
    first, last = datetime.date(plan.first_year, 1, 1), datetime.date(plan.last_year, 12, 31)
    copies = []
    for activity in activities:
        start, end = _within(activity, first, last)
        copy = Activity(plan=plan, origin=activity, start_date=start, end_date=end, status=Activity.Status.PLANNED)
        for name in COPIED_FIELDS:
            setattr(copy, name, getattr(activity, name))
        copies.append(copy)
    copies = Activity.objects.bulk_create(copies)
    by_origin = {copy.origin_id: copy for copy in copies}
    indicator_links = Activity.indicators.through.objects.filter(activity__in=activities)
    Activity.indicators.through.objects.bulk_create(
        Activity.indicators.through(activity_id=by_origin[link.activity_id].pk, indicator_id=link.indicator_id)
        for link in indicator_links
    )
    supporting_links = Activity.supporting_organizations.through.objects.filter(activity__in=activities)
    Activity.supporting_organizations.through.objects.bulk_create(
        Activity.supporting_organizations.through(
            activity_id=by_origin[link.activity_id].pk, organization_id=link.organization_id
        )
        for link in supporting_links
    )
    if copies:
        audit_record(
            plan=plan, by=by, action="drew activities into", target=plan, changes={"activities": [None, len(copies)]}
        )
        hooks.operational_activities_drawn.send(plan, by, copies)
        hooks.activities_added.send(plan.pk)
    return copies


def _levels_draw(*, strategic: Plan, plan: Plan, by: User) -> None:
    """Copy the strategic plan's baseline and its targets into the new operational plan, each linked to its
    origin. The baseline is the strategic plan's as plan_baseline finds it (each indicator's most recent score
    across its assessments, through the crosswalk): every assessment that gives an indicator its level is copied
    whole, with its kind, date, source and framework, so the operational plan's baseline is the same, level for
    level, and shows the same source beside each. Six queries at most, however many assessments."""
    contributing = {level.assessment_id for level in plan_baseline(plan=strategic).values()}
    copied: dict[str, object] = {}
    if contributing:
        # In the order they were added, so that the copies keep the ties' order (the one added last wins).
        originals = list(Assessment.objects.filter(pk__in=contributing).order_by("pk"))
        copies = Assessment.objects.bulk_create(
            Assessment(
                plan=plan,
                framework_id=original.framework_id,
                kind=original.kind,
                date=original.date,
                source=original.source,
                origin=original,
            )
            for original in originals
        )
        copy_of = {original.pk: copy.pk for original, copy in zip(originals, copies, strict=True)}
        IndicatorScore.objects.bulk_create(
            IndicatorScore(
                assessment_id=copy_of[score.assessment_id], indicator_id=score.indicator_id, score=score.score
            )
            for score in IndicatorScore.objects.filter(assessment_id__in=contributing)
        )
        copied["baseline"] = [str(original) for original in originals]
    targets = IndicatorTarget.objects.bulk_create(
        IndicatorTarget(
            plan=plan, indicator_id=target.indicator_id, level=target.level, justification=target.justification,
            origin=target,
        )
        for target in IndicatorTarget.objects.filter(plan=strategic)
    )  # fmt: skip
    if targets:
        copied["targets"] = [None, len(targets)]
    if copied:
        audit_record(plan=plan, by=by, action="drew baseline and targets into", target=plan, changes=copied)


@transaction.atomic
def operational_plan_create(
    *, strategic: Plan, by: User, title: str, first_year: int, last_year: int, activities: Iterable[Activity]
) -> Plan:
    """Open an operational plan inside `strategic` with the chosen activities (and their cost lines), the
    strategic plan's team, baseline, targets and priority diseases."""
    from stakeholders.models import PlanMembership

    if strategic.kind != Plan.Kind.STRATEGIC:
        raise ValidationError({"parent": gettext("An operational plan is drawn from a strategic plan.")})
    plan = plan_create(
        by=by,
        jurisdiction=strategic.jurisdiction,
        title=title,
        kind=Plan.Kind.OPERATIONAL,
        first_year=first_year,
        last_year=last_year,
        parent=strategic,
        framework=strategic.framework,
        priority_diseases=strategic.priority_diseases,
    )
    team = PlanMembership.objects.filter(plan=strategic).exclude(user=by).prefetch_related("technical_areas")
    for membership in team:
        copy = PlanMembership.objects.create(
            plan=plan, user_id=membership.user_id, role=membership.role, organization_id=membership.organization_id
        )
        copy.technical_areas.set(membership.technical_areas.all())
    if team:
        audit_record(plan=plan, by=by, action="copied the team into", target=plan, changes={"members": len(team)})
    _levels_draw(strategic=strategic, plan=plan, by=by)
    operational_activities_add(plan=plan, by=by, activities=activities)
    return plan


def activity_placements(*, plan: Plan, activities: Iterable[Activity] | None = None) -> dict[int, list[Plan]]:
    """For a strategic plan: which of its activities (all, or those given) are planned in which operational
    plans, in one query."""
    placements: dict[int, list[Plan]] = defaultdict(list)
    copies = Activity.objects.filter(origin__plan=plan).select_related("plan").order_by("plan__first_year", "pk")
    if activities is not None:
        copies = copies.filter(origin__in=list(activities))
    for copy in copies:
        if copy.origin_id is not None:  # always, by the filter
            placements[copy.origin_id].append(copy.plan)
    return dict(placements)
