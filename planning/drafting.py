"""Draft generation: from current levels and targets to draft activities drawn from a benchmark action library.

For each selected technical area, every library action whose level lies above an indicator's current level and
at or below its target becomes a draft activity linked to its source action; so does every action about a disease
the plan names among its priority diseases (such actions have no level) on an indicator the plan raises. A
GeneratedAction row remembers each action once turned into an activity, so regenerating (after a target was raised,
say) adds only what is new: it never duplicates, never overwrites an activity people edited, and never brings back
one they deleted.

Also here: advice where a plan grows unrealistic (too many activities for a short plan, high-priority activities
nobody is responsible for, areas with a gap to close but no activities).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext, ngettext

from naphs.choices import Hazard
from naphs.models import max_length
from naphs.services import audit_record
from planning import hooks
from planning.models import (
    Activity,
    BenchmarkAction,
    BenchmarkLibrary,
    GeneratedAction,
    Indicator,
    IndicatorTarget,
    Plan,
    TechnicalArea,
    disease_name,
)
from planning.selectors import plan_current_levels
from planning.targets import plan_years
from stakeholders.selectors import organization_list_for_plan

if TYPE_CHECKING:
    from stakeholders.models import Organization, User

TITLE_MAX_LENGTH = max_length(Activity, "title")
# Advice thresholds. A one- or two-year operational plan rarely carries more than this many activities in one
# technical area: beyond it, the secretariat should choose.
SHORT_PLAN_YEARS = 2
MAX_ACTIVITIES_PER_AREA_SHORT_PLAN = 15


@dataclass
class DraftResult:
    """What a generation added (or, for a preview, would add), per technical area, and what it left out."""

    added: int = 0
    by_area: dict[int, int] = field(default_factory=dict)  # technical area id -> activities added
    already_generated: int = 0  # actions in range that were turned into activities before: not added again
    no_score: list[Indicator] = field(default_factory=list)  # skipped: no current level
    no_target: list[Indicator] = field(default_factory=list)  # skipped: no target
    by_disease: dict[str, int] = field(default_factory=dict)  # disease tag -> its actions added
    activities: list[Activity] = field(default_factory=list)

    @property
    def diseases(self) -> list[tuple[str, int]]:
        """The priority diseases whose actions were added (or would be), by name, with their count."""
        return sorted(((disease_name(tag), n) for tag, n in self.by_disease.items()), key=lambda item: item[0])

    @property
    def skipped(self) -> list[Indicator]:
        return [*self.no_score, *self.no_target]

    @property
    def no_baseline_by_area(self) -> list[tuple[TechnicalArea, str]]:
        """The indicators without a current level (no assessment scores them), per technical area in order: each
        area with its indicators' codes."""
        areas: dict[int, tuple[TechnicalArea, list[str]]] = {}
        for indicator in self.no_score:
            areas.setdefault(indicator.technical_area_id, (indicator.technical_area, []))[1].append(indicator.code)
        return [(area, ", ".join(codes)) for area, codes in areas.values()]

    def summary(self) -> str:
        """What the generation did, one sentence per part, each whole for the translators."""
        sentences = [
            ngettext("%(count)d draft activity added.", "%(count)d draft activities added.", self.added)
            % {"count": self.added}
        ]
        for disease, count in self.diseases:
            sentences.append(
                ngettext(
                    "%(count)d of them is about %(disease)s, a priority disease of the plan.",
                    "%(count)d of them are about %(disease)s, a priority disease of the plan.",
                    count,
                )
                % {"count": count, "disease": disease}
            )
        if self.already_generated:
            sentences.append(
                ngettext(
                    "%(count)d action generated before was left as people keep it.",
                    "%(count)d actions generated before were left as people keep them.",
                    self.already_generated,
                )
                % {"count": self.already_generated}
            )
        for area, codes in self.no_baseline_by_area:
            sentences.append(
                gettext("No baseline in %(area)s (no assessment scores them), so nothing was drafted for: %(codes)s.")
                % {"area": area.code, "codes": codes}
            )
        if self.no_target:
            sentences.append(
                gettext("Skipped without a target: %(codes)s.") % {"codes": ", ".join(i.code for i in self.no_target)}
            )
        return " ".join(sentences)


def _check(*, plan: Plan, library: BenchmarkLibrary, technical_areas: Iterable[TechnicalArea]) -> list[TechnicalArea]:
    if plan.framework_id is None:
        raise ValidationError(
            {"library": gettext("Choose the plan's framework in its settings before generating a draft.")}
        )
    if library.framework_id != plan.framework_id:
        raise ValidationError(
            {
                "library": gettext(
                    "The library “%(library)s” follows another framework than this plan's; choose one of its own."
                )
                % {"library": library}
            }
        )
    areas = list(technical_areas)
    foreign = [area.code for area in areas if area.framework_id != plan.framework_id]
    if foreign:
        raise ValidationError(
            {
                "technical_areas": gettext("Not technical areas of this plan's framework: %(codes)s.")
                % {"codes": ", ".join(sorted(foreign))}
            }
        )
    if not areas:
        raise ValidationError({"technical_areas": gettext("Choose at least one technical area.")})
    return areas


def _plan_draft(
    *, plan: Plan, library: BenchmarkLibrary, area_ids: set[int]
) -> tuple[DraftResult, list[BenchmarkAction]]:
    """The library actions that fall between current level and target, in the given areas, not generated before.
    Five queries at most, however many indicators and actions."""
    current = plan_current_levels(plan=plan)
    targets = dict(IndicatorTarget.objects.filter(plan=plan).values_list("indicator_id", "level"))
    indicators = list(
        Indicator.objects.filter(framework=plan.framework_id, technical_area_id__in=area_ids)
        .select_related("technical_area")
        .order_by("technical_area__order", "order", "code")
    )
    result = DraftResult()
    ranges: dict[int, tuple[int, int]] = {}
    for indicator in indicators:
        if indicator.pk not in current:
            result.no_score.append(indicator)
        elif indicator.pk not in targets:
            result.no_target.append(indicator)
        elif targets[indicator.pk] > current[indicator.pk]:
            ranges[indicator.pk] = (current[indicator.pk], targets[indicator.pk])
    if not ranges:
        return result, []
    in_range = Q()
    for indicator_id, (low, high) in ranges.items():
        in_range |= Q(indicator_id=indicator_id, level__gt=low, level__lte=high)
    if plan.priority_diseases:
        # An action about a disease has no level: it joins wherever the plan raises the indicator's capacity.
        in_range |= Q(level__isnull=True, hazard__in=plan.priority_diseases, indicator_id__in=list(ranges))
    candidates = list(
        BenchmarkAction.objects.filter(in_range, library=library)
        .select_related("indicator")
        .order_by("indicator__technical_area__order", "indicator__order", "level", "order", "pk")
    )
    done = set(
        GeneratedAction.objects.filter(plan=plan, benchmark_action__in=[a.pk for a in candidates]).values_list(
            "benchmark_action_id", flat=True
        )
    )
    new = [action for action in candidates if action.pk not in done]
    result.already_generated = len(candidates) - len(new)
    result.by_area = dict(Counter(action.indicator.technical_area_id for action in new))
    result.by_disease = dict(Counter(action.hazard for action in new if action.level is None))
    result.added = len(new)
    return result, new


def draft_preview(*, plan: Plan, library: BenchmarkLibrary, technical_areas: Iterable[TechnicalArea]) -> DraftResult:
    """What draft_generate would add now, without adding it."""
    areas = _check(plan=plan, library=library, technical_areas=technical_areas)
    result, _new = _plan_draft(plan=plan, library=library, area_ids={area.pk for area in areas})
    return result


def _title(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= TITLE_MAX_LENGTH:
        return text
    return text[: TITLE_MAX_LENGTH - 1].rstrip() + "…"


def _activity_title(action: BenchmarkAction) -> str:
    """The action's text; an action about a disease is titled by the disease first, so a planner reads what it is
    for in the activity table."""
    if action.level is not None:
        return _title(action.text)
    # Translators: the title of a draft activity about one disease, e.g. "Cholera: Train rapid response teams".
    return _title(gettext("%(disease)s: %(action)s") % {"disease": disease_name(action.hazard), "action": action.text})


@transaction.atomic
def draft_generate(
    *,
    plan: Plan,
    by: User,
    library: BenchmarkLibrary,
    technical_areas: Iterable[TechnicalArea],
    responsible_organization: Organization | None = None,
) -> DraftResult:
    """Add the library's actions between current level and target of the selected areas as draft activities.

    Each action becomes one activity (source: benchmark action, linked to it, towards its indicator, of its first
    action type, led by `responsible_organization` when one is given: an organization the plan may name) and is
    remembered as generated, so running this again adds only actions that came into range since. Indicators
    without a current level or a target are skipped and reported. One transaction, one audit event, a constant
    number of queries whatever the plan's size.
    """
    areas = _check(plan=plan, library=library, technical_areas=technical_areas)
    if (
        responsible_organization is not None
        and not organization_list_for_plan(plan=plan).filter(pk=responsible_organization.pk).exists()
    ):
        raise ValidationError(
            {
                "responsible_organization": gettext("“%(organization)s” is not an organization of %(place)s.")
                % {"organization": responsible_organization, "place": plan.jurisdiction.name}
            }
        )
    # Two generations of the same plan at once run one after the other, so neither adds what the other did.
    Plan.objects.select_for_update().filter(pk=plan.pk).values_list("pk", flat=True).first()
    result, new = _plan_draft(plan=plan, library=library, area_ids={area.pk for area in areas})
    if new:
        activities = Activity.objects.bulk_create(
            Activity(
                plan=plan,
                technical_area_id=action.indicator.technical_area_id,
                title=_activity_title(action),
                description=action.text if _activity_title(action) != action.text else "",
                source=Activity.Source.BENCHMARK,
                benchmark_action=action,
                action_type=action.action_types[0] if action.action_types else "",
                responsible_organization=responsible_organization,
                implementation_level=Activity.Level.NATIONAL,
                status=Activity.Status.DRAFT,
                sectors=[],
                hazards=[Hazard.BIOLOGICAL] if action.level is None else [],
            )
            for action in new
        )
        Activity.indicators.through.objects.bulk_create(
            Activity.indicators.through(activity_id=activity.pk, indicator_id=action.indicator_id)
            for activity, action in zip(activities, new, strict=True)
        )
        GeneratedAction.objects.bulk_create(GeneratedAction(plan=plan, benchmark_action=action) for action in new)
        result.activities = activities
        hooks.activities_added.send(plan.pk)
    audit_record(
        plan=plan,
        by=by,
        action="generated draft activities of",
        target=plan,
        changes={
            "library": library.name,
            "technical_areas": [area.code for area in areas],
            "responsible_organization": str(responsible_organization or ""),
            "activities": [None, result.added],
            "already_generated": result.already_generated,
            "priority_disease_actions": result.by_disease,
            "skipped_no_score": [i.code for i in result.no_score],
            "skipped_no_target": [i.code for i in result.no_target],
        },
    )
    return result


def draft_advice(*, plan: Plan) -> list[str]:
    """Where the plan grows unrealistic, in plain words. Four queries at most, whatever the plan's size."""
    advice: list[str] = []
    per_area: dict[int, int] = defaultdict(int)
    unowned = unowned_high = 0
    rows = (
        Activity.objects.filter(plan=plan)
        .values_list("technical_area_id", "priority", "responsible_organization_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for area_id, priority, organization_id, n in rows:
        per_area[area_id] += n
        if organization_id is None:
            unowned += n
            if priority == Activity.Rating.HIGH:
                unowned_high += n
    current = plan_current_levels(plan=plan)
    gap_areas = {
        area_id
        for area_id, indicator_id, level in IndicatorTarget.objects.filter(plan=plan).values_list(
            "indicator__technical_area_id", "indicator_id", "level"
        )
        if level > current.get(indicator_id, 0)
    }
    crowded = {area_id: n for area_id, n in per_area.items() if n > MAX_ACTIVITIES_PER_AREA_SHORT_PLAN}
    years = plan_years(plan)
    short = years <= SHORT_PLAN_YEARS
    empty = gap_areas - set(per_area)
    names = (
        {area.pk: area.code for area in TechnicalArea.objects.filter(pk__in=set(crowded) | empty)}
        if (short and crowded) or empty
        else {}
    )
    if short and crowded:
        listed = ", ".join(f"{names[a]} ({n})" for a, n in sorted(crowded.items(), key=lambda item: names[item[0]]))
        words = {"most": MAX_ACTIVITIES_PER_AREA_SHORT_PLAN, "areas": listed}
        if years == 1:
            message = gettext(
                "More than %(most)d activities in a technical area is a lot for a one-year plan: %(areas)s. Consider "
                "keeping the most important ones and moving the rest to a later plan."
            )
        else:
            message = gettext(
                "More than %(most)d activities in a technical area is a lot for a two-year plan: %(areas)s. Consider "
                "keeping the most important ones and moving the rest to a later plan."
            )
        advice.append(message % words)
    if unowned_high:
        advice.append(
            ngettext(
                "%(count)d high-priority activity has no responsible organization: name who leads it, or it is "
                "unlikely to happen.",
                "%(count)d high-priority activities have no responsible organization: name who leads each, or they "
                "are unlikely to happen.",
                unowned_high,
            )
            % {"count": unowned_high}
        )
    elif unowned:
        advice.append(
            ngettext(
                "%(count)d activity has no responsible organization: name who leads it (the activity table "
                "filters them: “No responsible organization”).",
                "%(count)d activities have no responsible organization: name who leads each (the activity table "
                "filters them: “No responsible organization”).",
                unowned,
            )
            % {"count": unowned}
        )
    if empty:
        listed = ", ".join(sorted(names[a] for a in empty))
        advice.append(
            gettext(
                "Technical areas with targets above their current level but no activities: %(areas)s. Generate a "
                "draft for them or add activities."
            )
            % {"areas": listed}
        )
    return advice
