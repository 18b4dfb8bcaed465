"""Shaping a plan: its context narratives, its ranked priority areas, functional groups of technical areas, and
dependencies between its activities (cycles refused).

Every function here is one change, all-or-nothing, and leaves an audit event. Who may call which is decided by
the views, through stakeholders.access.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext, ngettext

from naphs.errors import EditConflict
from naphs.models import max_length
from naphs.services import audit_record, row_lock, versioned_save
from planning.models import (
    Activity,
    ActivityDependency,
    AreaPriority,
    FunctionalGroup,
    Pillar,
    Plan,
    PlanContext,
    TechnicalArea,
)
from planning.selectors import technical_areas_of

if TYPE_CHECKING:
    from stakeholders.models import User

NAME_MAX_LENGTH = max_length(FunctionalGroup, "name")


def _lock(plan: Plan) -> None:
    """Serialize changes of one plan's priorities, groups or dependencies (a no-op on SQLite, which locks the
    whole database for a write anyway)."""
    row_lock(plan)


def _check_areas(plan: Plan, areas: Iterable[TechnicalArea], field: str) -> None:
    foreign = [area for area in areas if area.framework_id != plan.framework_id]
    if foreign:
        codes = ", ".join(area.code for area in foreign)
        message = ngettext(
            "Not a technical area of this plan's framework: %(codes)s.",
            "Not technical areas of this plan's framework: %(codes)s.",
            len(foreign),
        )
        raise ValidationError({field: message % {"codes": codes}})


# Context narratives -------------------------------------------------------------------------------------------


@transaction.atomic
def context_set(
    *,
    plan: Plan,
    by: User,
    technical_area: TechnicalArea | None = None,
    narrative: str,
    version: int | None = None,
) -> PlanContext:
    """Save the country context narrative of the plan (no technical area) or of one of its technical areas.

    `version` is the narrative's version as the person read it: 0 when they saw none yet, None to skip the
    check. A stale one (someone saved in between) raises EditConflict and nothing is saved.
    """
    if technical_area is not None:
        _check_areas(plan, [technical_area], "technical_area")
    context, changes = versioned_save(
        PlanContext,
        key={"plan": plan, "technical_area": technical_area},
        version=version,
        fields={"narrative": narrative.strip()},
    )
    if changes:
        audit_record(plan=plan, by=by, action="edited the context of", target=context, changes=changes)
    return context


# Priorities ---------------------------------------------------------------------------------------------------


def priorities_digest(priorities: Iterable[AreaPriority]) -> str:
    """A fingerprint of a ranked list (areas, ranks, rationales): the version of the whole list that the
    priorities page carries, so a list someone else saved since is refused instead of replaced."""
    text = "\n".join(
        f"{p.rank}\t{p.technical_area_id}\t{p.rationale}" for p in sorted(priorities, key=lambda p: p.rank)
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@transaction.atomic
def priorities_set(
    *, plan: Plan, by: User, ranking: Sequence[tuple[TechnicalArea, str]], shown: str | None = None
) -> list[AreaPriority]:
    """Replace the plan's ranked list of priority technical areas: the first entry gets rank 1.

    Areas must belong to the plan's framework and appear once. The old list goes and the new one comes in one
    transaction, so readers never see half of each. `shown` is priorities_digest of the list as the person read
    it: when someone else saved the list since, the save is refused with EditConflict (None skips the check).
    """
    areas = [area for area, _ in ranking]
    _check_areas(plan, areas, "ranking")
    seen: set[int] = set()
    duplicates = []
    for area in areas:
        if area.pk in seen:
            duplicates.append(area)
        seen.add(area.pk)
    if duplicates:
        codes = ", ".join(dict.fromkeys(area.code for area in duplicates))
        raise ValidationError(
            {"ranking": gettext("A technical area can be ranked only once: %(codes)s.") % {"codes": codes}}
        )
    _lock(plan)
    stored = list(AreaPriority.objects.filter(plan=plan).select_related("technical_area"))
    if shown is not None and shown != priorities_digest(stored):
        raise EditConflict(
            plan,
            message=gettext(
                "Someone else changed the priority areas after you opened this page; nothing was saved. "
                "Reload to see their list, then make your changes again."
            ),
        )
    before = [f"{p.rank}. {p.technical_area.code}" for p in sorted(stored, key=lambda p: p.rank)]
    AreaPriority.objects.filter(plan=plan).delete()
    priorities = AreaPriority.objects.bulk_create(
        AreaPriority(plan=plan, technical_area=area, rank=rank, rationale=rationale.strip())
        for rank, (area, rationale) in enumerate(ranking, start=1)
    )
    after = [f"{p.rank}. {p.technical_area.code}" for p in priorities]
    audit_record(
        plan=plan, by=by, action="set the priority areas of", target=plan, changes={"priorities": [before, after]}
    )
    return priorities


# Functional groups --------------------------------------------------------------------------------------------

DEFAULT_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (Pillar.PREVENT.value, (Pillar.PREVENT,)),
    (Pillar.DETECT.value, (Pillar.DETECT,)),
    (Pillar.RESPOND.value, (Pillar.RESPOND,)),
    ("Hazards and points of entry", (Pillar.HAZARDS_POE,)),
)


@transaction.atomic
def functional_groups_default(*, plan: Plan, by: User) -> list[FunctionalGroup]:
    """Give a plan without groups the default ones, from the pillars of its framework's technical areas:
    Prevent, Detect, Respond, and "Hazards and points of entry".

    The fourth JEE 3 pillar (IHR-related hazards and points of entry: PoE, chemical events, radiation
    emergencies) becomes a group of its own rather than joining Respond: those areas are led by other sectors
    (border health, chemical and nuclear safety agencies) and span prevention and detection as much as response,
    so folding them into Respond would misstate what depends on what. A pillar without areas in the framework
    (SPAR has no such pillar) gives no group; areas under "Other" stay ungrouped. A plan that has groups
    already keeps them and gets nothing new.
    """
    _lock(plan)
    if plan.framework_id is None or FunctionalGroup.objects.filter(plan=plan).exists():
        return []
    by_pillar: dict[str, list[int]] = {}
    for area_id, pillar in technical_areas_of(plan).values_list("pk", "pillar"):
        by_pillar.setdefault(pillar, []).append(area_id)
    groups = []
    for order, (name, pillars) in enumerate(DEFAULT_GROUPS, start=1):
        area_ids = [area_id for pillar in pillars for area_id in by_pillar.get(pillar, [])]
        if area_ids:
            groups.append((FunctionalGroup(plan=plan, name=name, order=order), area_ids))
    FunctionalGroup.objects.bulk_create(group for group, _ in groups)
    Through = FunctionalGroup.technical_areas.through
    Through.objects.bulk_create(
        Through(functionalgroup_id=group.pk, technicalarea_id=area_id)
        for group, area_ids in groups
        for area_id in area_ids
    )
    if groups:
        audit_record(
            plan=plan,
            by=by,
            action="created the default functional groups of",
            target=plan,
            changes={"functional groups": [None, [group.name for group, _ in groups]]},
        )
    return [group for group, _ in groups]


@transaction.atomic
def functional_group_save(
    *,
    plan: Plan,
    by: User,
    name: str,
    technical_areas: Iterable[TechnicalArea],
    group: FunctionalGroup | None = None,
    version: int | None = None,
) -> FunctionalGroup:
    """Create a group (no `group`) or rename it and set its areas. An area may sit in several groups. Editing
    needs the group's `version` as shown: a group someone else saved since is refused with an EditConflict."""
    areas = list(technical_areas)
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": gettext("Give the group a name.")})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {
                "name": ngettext(
                    "A group's name has at most %(count)d character.",
                    "A group's name has at most %(count)d characters.",
                    NAME_MAX_LENGTH,
                )
                % {"count": NAME_MAX_LENGTH}
            }
        )
    if group is not None and group.plan_id != plan.pk:
        raise ValidationError({"group": gettext("This group belongs to another plan.")})
    _check_areas(plan, areas, "technical_areas")
    _lock(plan)
    if group is not None:
        stored = FunctionalGroup.objects.filter(pk=group.pk).values_list("version", flat=True).first()
        if stored is None or stored != version:
            raise EditConflict(group)
        group.version = stored
    clash = FunctionalGroup.objects.filter(plan=plan, name__iexact=name)
    if group is not None:
        clash = clash.exclude(pk=group.pk)
    if clash.exists():
        raise ValidationError({"name": gettext("This plan already has a group named “%(name)s”.") % {"name": name}})
    new_codes = sorted(area.code for area in areas)
    if group is None:
        order = (
            FunctionalGroup.objects.filter(plan=plan).order_by("-order").values_list("order", flat=True).first() or 0
        )
        group = FunctionalGroup.objects.create(plan=plan, name=name, order=order + 1)
        changes = {"name": [None, name], "technical areas": [None, new_codes]}
        action = "created the functional group"
    else:
        old_codes = sorted(group.technical_areas.values_list("code", flat=True))
        changes = {}
        if group.name != name:
            changes["name"] = [group.name, name]
            group.name = name
        if old_codes != new_codes:
            changes["technical areas"] = [old_codes, new_codes]
        if changes:
            group.version += 1
            group.save(update_fields=["name", "version"])
        action = "edited the functional group"
    group.technical_areas.set(areas)
    if changes:
        audit_record(plan=plan, by=by, action=action, target=group, changes=changes)
    return group


@transaction.atomic
def functional_group_delete(*, group: FunctionalGroup, by: User) -> None:
    plan = group.plan
    codes = sorted(group.technical_areas.values_list("code", flat=True))
    audit_record(
        plan=plan,
        by=by,
        action="deleted the functional group",
        target=group,
        changes={"name": [group.name, None], "technical areas": [codes, None]},
    )
    group.delete()


# Dependencies between activities ------------------------------------------------------------------------------


def _path(edges: dict[int, list[int]], start: int, goal: int) -> list[int] | None:
    """A path start → ... → goal following `edges` (activity → what it depends on), or None."""
    stack: list[tuple[int, list[int]]] = [(start, [start])]
    seen = {start}
    while stack:
        node, path = stack.pop()
        if node == goal:
            return path
        for following in edges.get(node, ()):
            if following not in seen:
                seen.add(following)
                stack.append((following, [*path, following]))
    return None


@transaction.atomic
def dependency_add(*, activity: Activity, depends_on: Activity, by: User) -> ActivityDependency:
    """Record that `activity` cannot be done before `depends_on`.

    Refused: an activity depending on itself, on an activity of another plan, a dependency already recorded,
    and any that would close a cycle (the message names the activities around it). The plan's dependencies
    are read in one query and the plan is locked meanwhile, so two people cannot close a cycle together.
    """
    if activity.pk == depends_on.pk:
        raise ValidationError({"depends_on": gettext("An activity cannot depend on itself.")})
    if activity.plan_id != depends_on.plan_id:
        raise ValidationError(
            {"depends_on": gettext("“%(activity)s” belongs to another plan.") % {"activity": depends_on}}
        )
    _lock(activity.plan)
    edges: dict[int, list[int]] = {}
    for source, target in ActivityDependency.objects.filter(activity__plan_id=activity.plan_id).values_list(
        "activity_id", "depends_on_id"
    ):
        edges.setdefault(source, []).append(target)
    if depends_on.pk in edges.get(activity.pk, ()):
        raise ValidationError(
            {
                "depends_on": gettext("“%(activity)s” already depends on “%(depends_on)s”.")
                % {"activity": activity, "depends_on": depends_on}
            }
        )
    # The new edge activity → depends_on closes a cycle when depends_on already leads back to activity.
    path = _path(edges, depends_on.pk, activity.pk)
    if path is not None:
        titles = dict(Activity.objects.filter(pk__in=path).values_list("pk", "title"))
        cycle = " → ".join(f"“{titles[pk]}”" for pk in [activity.pk, *path])
        raise ValidationError(
            {
                "depends_on": gettext("This would make a cycle: %(cycle)s. An activity cannot wait on itself.")
                % {"cycle": cycle}
            }
        )
    dependency = ActivityDependency.objects.create(activity=activity, depends_on=depends_on)
    audit_record(
        plan=activity.plan,
        by=by,
        action="added a dependency to",
        target=activity,
        changes={"depends on": [None, str(depends_on)]},
    )
    return dependency


@transaction.atomic
def dependency_remove(*, dependency: ActivityDependency, by: User) -> None:
    activity = dependency.activity
    audit_record(
        plan=activity.plan,
        by=by,
        action="removed a dependency from",
        target=activity,
        changes={"depends on": [str(dependency.depends_on), None]},
    )
    dependency.delete()
