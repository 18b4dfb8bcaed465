"""Reads of planning data that the pages and services share."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Case, Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext, gettext_lazy

from planning.crosswalks import Route, crosswalk_links_touching, crosswalk_route, route_carry
from planning.models import (
    Activity,
    Assessment,
    BenchmarkAction,
    Comment,
    CommentThread,
    Indicator,
    IndicatorScore,
    IndicatorTarget,
    Plan,
    TechnicalArea,
    disease_name,
)

if TYPE_CHECKING:
    from stakeholders.models import Organization, User


def disease_choices(*, plan: Plan) -> list[tuple[str, str]]:
    """The diseases a plan may name as its priorities: those the libraries of its framework have actions about
    (benchmark actions without a level, by their hazard tag), and any it names already, by their names. One query."""
    tags = (
        set(
            BenchmarkAction.objects.filter(level__isnull=True, library__framework=plan.framework_id)
            .exclude(hazard="")
            .values_list("hazard", flat=True)
            .distinct()
        )
        if plan.framework_id is not None
        else set()
    )
    tags |= set(plan.priority_diseases or [])
    return sorted(((tag, disease_name(tag)) for tag in tags), key=lambda choice: choice[1].lower())


def technical_areas_of(plan: Plan) -> QuerySet[TechnicalArea]:
    """The technical areas of the plan's framework, in the framework's order."""
    return TechnicalArea.objects.filter(framework=plan.framework_id).order_by("order", "code")


@dataclass(frozen=True)
class BaselineLevel:
    """An indicator's level and the assessment it comes from (for the baseline, a baseline assessment; for the
    latest level, any, `purpose` saying which); `carried` when it came through a crosswalk from an assessment of
    another framework: `crosswalks` names them (as pages show them, "(approximate)" where one is), `framework` is
    the assessment's framework code."""

    level: int
    assessment_id: int
    kind: str
    date: datetime.date
    carried: bool = False
    crosswalks: tuple[str, ...] = ()
    approximate: bool = False
    framework: str = ""
    purpose: str = Assessment.Purpose.BASELINE

    @property
    def crosswalks_text(self) -> str:
        return ", ".join(self.crosswalks)

    def get_kind_display(self) -> str:
        return str(Assessment.Kind(self.kind).label)

    @property
    def is_follow_up(self) -> bool:
        return self.purpose == Assessment.Purpose.FOLLOW_UP


def plan_baseline(*, plan: Plan) -> dict[int, BaselineLevel]:
    """The baseline of each indicator of the plan's framework: {indicator id: BaselineLevel}, the most recent score
    of that indicator across the plan's baseline assessments (by assessment date, then the order they were added),
    so an assessment that scores only some indicators completes the baseline rather than replacing it. Follow-up
    assessments (re-assessments during implementation) never move it: plan_latest_levels counts them. Scores of an
    assessment in another framework (an older JEE or SPAR edition, or the current one of the other kind) are carried
    over through the crosswalks (planning/crosswalks.py: in either direction, through one framework in between where
    no crosswalk joins the two); where several indicators of one assessment map to one, the lowest counts. An
    indicator no assessment scored is absent. Two queries at most, however many indicators and assessments."""
    return baselines_for_plans(plans=[plan])[plan.pk]


def plan_current_levels(*, plan: Plan) -> dict[int, int]:
    """The current level of each indicator of the plan's framework: {indicator id: level}, as plan_baseline finds
    it. Two queries at most."""
    return {indicator_id: baseline.level for indicator_id, baseline in plan_baseline(plan=plan).items()}


def plan_latest_levels(*, plan: Plan, until: Assessment | None = None) -> dict[int, BaselineLevel]:
    """The latest level of each indicator of the plan's framework: {indicator id: BaselineLevel}, found as
    plan_baseline finds the baseline (most recent score, crosswalks carried the same way) but across all the plan's
    assessments, follow-ups included. `until`, an assessment of the plan, takes the levels as they stood with it:
    the assessments up to it in the same order (by date, then the order they were added), it included. Two queries
    at most."""
    return latest_levels_for_plans(plans=[plan], until={plan.pk: until} if until is not None else None)[plan.pk]


@dataclass
class _Scored:
    """One assessment's scores, as read for the baseline."""

    kind: str
    date: datetime.date
    framework_id: int
    framework_code: str
    purpose: str
    scores: dict[int, int] = field(default_factory=dict)


def baselines_for_plans(*, plans: Iterable[Plan]) -> dict[int, dict[int, BaselineLevel]]:
    """plan_baseline for several plans at once, in two queries whatever their number."""
    return _levels_for_plans(plans=plans, follow_ups=False)[0]


def latest_levels_for_plans(
    *, plans: Iterable[Plan], until: dict[int, Assessment] | None = None
) -> dict[int, dict[int, BaselineLevel]]:
    """plan_latest_levels for several plans at once ({plan id: {indicator id: level}}; `until` by plan id), in two
    queries whatever their number."""
    return _levels_for_plans(plans=plans, follow_ups=True, until=until)[1]


def levels_for_plans(
    *, plans: Iterable[Plan], until: dict[int, Assessment] | None = None
) -> tuple[dict[int, dict[int, BaselineLevel]], dict[int, dict[int, BaselineLevel]]]:
    """baselines_for_plans and latest_levels_for_plans of the same plans, read together in two queries."""
    return _levels_for_plans(plans=plans, follow_ups=True, until=until)


def _levels_for_plans(
    *, plans: Iterable[Plan], follow_ups: bool, until: dict[int, Assessment] | None = None
) -> tuple[dict[int, dict[int, BaselineLevel]], dict[int, dict[int, BaselineLevel]]]:
    """The baseline (baseline assessments only) and, with `follow_ups`, the latest levels (every assessment, up to
    `until` where given) of each plan: one query of scores, one of crosswalk links when some are carried."""
    plans = list(plans)
    assessments: dict[int, dict[int, _Scored]] = {plan.pk: {} for plan in plans}
    rows = IndicatorScore.objects.filter(assessment__plan__in=plans)
    if not follow_ups:
        rows = rows.filter(assessment__purpose=Assessment.Purpose.BASELINE)
    values = rows.values_list(
        "assessment__plan_id",
        "assessment_id",
        "assessment__kind",
        "assessment__date",
        "assessment__framework_id",
        "assessment__framework__code",
        "assessment__purpose",
        "indicator_id",
        "score",
    )
    for plan_id, assessment_id, kind, date, framework_id, framework_code, purpose, indicator_id, score in values:
        of_plan = assessments[plan_id]
        if assessment_id not in of_plan:
            of_plan[assessment_id] = _Scored(
                kind=kind, date=date, framework_id=framework_id, framework_code=framework_code, purpose=purpose
            )
        of_plan[assessment_id].scores[indicator_id] = score

    def crosses(plan: Plan, scored: _Scored) -> bool:
        return plan.framework_id is not None and scored.framework_id != plan.framework_id

    # The frameworks of the assessments to carry, and of their plans: every link of a route between the two is in
    # a crosswalk that touches one of them.
    crossing = {
        f for p in plans for s in assessments[p.pk].values() if crosses(p, s) for f in (s.framework_id, p.framework_id)
    }
    links = crosswalk_links_touching({f for f in crossing if f is not None}) if crossing else []
    routes: dict[tuple[int, int], Route | None] = {}
    baselines: dict[int, dict[int, BaselineLevel]] = {}
    latest: dict[int, dict[int, BaselineLevel]] = {}
    for plan in plans:
        baseline: dict[int, BaselineLevel] = {}
        levels_now: dict[int, BaselineLevel] = {}
        stop = until.get(plan.pk) if until else None
        # Oldest first, so that each more recent score takes the place of an older one.
        for assessment_id, scored in sorted(assessments[plan.pk].items(), key=lambda item: (item[1].date, item[0])):
            carried = crosses(plan, scored)
            levels = scored.scores
            route = None
            if carried:
                assert plan.framework_id is not None
                key = (scored.framework_id, plan.framework_id)
                if key not in routes:
                    routes[key] = crosswalk_route(links=links, start=key[0], end=key[1])
                route = routes[key]
                levels = route_carry(route, levels) if route is not None else {}
            after_stop = stop is not None and (scored.date, assessment_id) > (stop.date, stop.pk)
            for indicator_id, level in levels.items():
                found = BaselineLevel(
                    level=level,
                    assessment_id=assessment_id,
                    kind=scored.kind,
                    date=scored.date,
                    carried=carried,
                    crosswalks=route.crosswalks if route is not None else (),
                    approximate=route.approximate if route is not None else False,
                    framework=scored.framework_code if carried else "",
                    purpose=scored.purpose,
                )
                if scored.purpose == Assessment.Purpose.BASELINE:
                    baseline[indicator_id] = found
                if not after_stop:
                    levels_now[indicator_id] = found
        baselines[plan.pk] = baseline
        latest[plan.pk] = levels_now
    return baselines, latest


def current_levels_for_plans(*, plans: Iterable[Plan]) -> dict[int, dict[int, int]]:
    """plan_current_levels for several plans at once, in two queries whatever their number."""
    return {
        plan_id: {indicator_id: baseline.level for indicator_id, baseline in baseline_of.items()}
        for plan_id, baseline_of in baselines_for_plans(plans=plans).items()
    }


def assessment_list_for_plan(*, plan: Plan, purpose: str = "") -> QuerySet[Assessment]:
    """The plan's assessments (of one purpose, if given), most recent first, each with its framework and number of
    scores."""
    assessments = Assessment.objects.filter(plan=plan)
    if purpose:
        assessments = assessments.filter(purpose=purpose)
    return assessments.select_related("framework").annotate(score_count=Count("scores"))


def assessment_grid(*, assessment: Assessment) -> tuple[list[Indicator], dict[int, IndicatorScore]]:
    """The indicators of the assessment's framework in order (with their technical areas), and the assessment's
    scores by indicator id: two queries."""
    indicators = list(
        Indicator.objects.filter(framework=assessment.framework_id)
        .select_related("technical_area")
        .order_by("technical_area__order", "order", "code")
    )
    scores = {score.indicator_id: score for score in IndicatorScore.objects.filter(assessment=assessment)}
    return indicators, scores


@dataclass
class AreaFigures:
    """One technical area of one plan: mean current and target levels of its indicators, and activity counts."""

    current: float | None = None
    target: float | None = None
    activities: int = 0
    no_responsible_organization: int = 0
    by_priority: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)


@dataclass
class AreaRow:
    area: TechnicalArea
    # Each indicator with its current level, its target and the baseline the current level comes from.
    indicators: list[tuple[Indicator, int | None, int | None, BaselineLevel | None]]
    figures: AreaFigures
    open_threads: int = 0  # comment threads still open on the area, its context and its activities

    @property
    def no_baseline(self) -> list[Indicator]:
        """The area's indicators that no assessment of the plan scores."""
        return [indicator for indicator, current, _target, _source in self.indicators if current is None]

    @property
    def no_baseline_codes(self) -> str:
        return ", ".join(indicator.code for indicator in self.no_baseline)


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def _area_figures(
    *, plans: list[Plan], indicators: list[Indicator]
) -> tuple[dict[int, dict[int, BaselineLevel]], dict[int, dict[int, int]], dict[tuple[int, int], AreaFigures]]:
    """Baselines, targets and per-area figures of several plans of one framework: four queries."""
    baselines = baselines_for_plans(plans=plans)
    current = {
        plan_id: {indicator_id: baseline.level for indicator_id, baseline in of_plan.items()}
        for plan_id, of_plan in baselines.items()
    }
    targets: dict[int, dict[int, int]] = defaultdict(dict)
    for plan_id, indicator_id, level in IndicatorTarget.objects.filter(plan__in=plans).values_list(
        "plan_id", "indicator_id", "level"
    ):
        targets[plan_id][indicator_id] = level
    figures: dict[tuple[int, int], AreaFigures] = defaultdict(AreaFigures)
    counts = (
        Activity.objects.filter(plan__in=plans)
        .values_list("plan_id", "technical_area_id", "priority", "status")
        .annotate(n=Count("pk"), unowned=Count("pk", filter=Q(responsible_organization__isnull=True)))
        .order_by()
    )
    for plan_id, area_id, priority, status, n, unowned in counts:
        row = figures[plan_id, area_id]
        row.activities += n
        row.no_responsible_organization += unowned
        row.by_priority[priority or "none"] = row.by_priority.get(priority or "none", 0) + n
        row.by_status[status] = row.by_status.get(status, 0) + n
    by_area: dict[int, list[int]] = defaultdict(list)
    for indicator in indicators:
        by_area[indicator.technical_area_id].append(indicator.pk)
    for plan in plans:
        for area_id, indicator_ids in by_area.items():
            row = figures[plan.pk, area_id]
            row.current = _mean([current[plan.pk][i] for i in indicator_ids if i in current[plan.pk]])
            row.target = _mean([targets[plan.pk][i] for i in indicator_ids if i in targets[plan.pk]])
    return baselines, targets, figures


def _framework_indicators(framework_id: int | None) -> list[Indicator]:
    return list(
        Indicator.objects.filter(framework=framework_id)
        .select_related("technical_area")
        .order_by("technical_area__order", "order", "code")
    )


def _overview_rows(
    plan: Plan, indicators: list[Indicator], baselines: dict, targets: dict, figures: dict
) -> list[AreaRow]:
    rows: dict[int, AreaRow] = {}
    for indicator in indicators:
        area = indicator.technical_area
        if area.pk not in rows:
            rows[area.pk] = AreaRow(area=area, indicators=[], figures=figures[plan.pk, area.pk])
        source = baselines[plan.pk].get(indicator.pk)
        rows[area.pk].indicators.append(
            (indicator, source.level if source else None, targets[plan.pk].get(indicator.pk), source)
        )
    open_threads = open_threads_by_area(plan=plan)
    for row in rows.values():
        row.open_threads = open_threads.get(row.area.pk, 0)
    return list(rows.values())


def plan_overview(*, plan: Plan) -> list[AreaRow]:
    """Per technical area of the plan's framework: indicators with current and target level, the area's mean
    levels, its activity counts by priority and status, and its open comment threads. A constant number of
    queries, whatever the size."""
    indicators = _framework_indicators(plan.framework_id)
    baselines, targets, figures = _area_figures(plans=[plan], indicators=indicators)
    return _overview_rows(plan, indicators, baselines, targets, figures)


@dataclass
class Comparison:
    """The national plan beside its provincial plans, per technical area."""

    plans: list[Plan]  # the plan itself first, then its provincial plans of the same framework
    other_framework: list[Plan]  # provincial plans that follow another framework, not compared
    rows: list[tuple[TechnicalArea, list[AreaFigures]]]


def _provincial_plans(plan: Plan) -> tuple[list[Plan], list[Plan]]:
    """The plans of the jurisdictions under the plan's: those of its framework, and those of another."""
    children = list(
        Plan.objects.filter(parent=plan).exclude(jurisdiction=plan.jurisdiction).select_related("jurisdiction")
    )
    same = [child for child in children if child.framework_id == plan.framework_id]
    return same, [child for child in children if child not in same]


def _comparison(
    plan: Plan, same: list[Plan], other: list[Plan], indicators: list[Indicator], figures: dict
) -> Comparison:
    plans = [plan, *same]
    areas = list(dict.fromkeys(indicator.technical_area for indicator in indicators))
    rows = [(area, [figures[p.pk, area.pk] for p in plans]) for area in areas]
    return Comparison(plans=plans, other_framework=other, rows=rows)


def provincial_comparison(*, plan: Plan) -> Comparison:
    """A plan's baseline and target levels and activity counts per technical area, beside those of the plans of
    the jurisdictions under it. A constant number of queries, however many provincial plans."""
    same, other = _provincial_plans(plan)
    indicators = _framework_indicators(plan.framework_id)
    _baselines, _targets, figures = _area_figures(plans=[plan, *same], indicators=indicators)
    return _comparison(plan, same, other, indicators, figures)


def plan_overview_with_comparison(*, plan: Plan) -> tuple[list[AreaRow], Comparison | None]:
    """plan_overview and, for a plan that is not provincial, provincial_comparison, with the plan's figures read
    once for both (the overview page shows both)."""
    if plan.is_provincial:
        return plan_overview(plan=plan), None
    same, other = _provincial_plans(plan)
    indicators = _framework_indicators(plan.framework_id)
    baselines, targets, figures = _area_figures(plans=[plan, *same], indicators=indicators)
    overview = _overview_rows(plan, indicators, baselines, targets, figures)
    return overview, _comparison(plan, same, other, indicators, figures)


# Activities: the filterable, sortable table ------------------------------------------------------------------

# Sort keys offered to people (GET parameter `sort`, "-" in front for descending) and what each orders by.
ACTIVITY_SORTS = {
    "area": gettext_lazy("Technical area"),
    "title": gettext_lazy("Title"),
    "priority": gettext_lazy("Priority"),
    "status": gettext_lazy("Status"),
    "start_date": gettext_lazy("Start date"),
    "organization": gettext_lazy("Responsible organization"),
}


def _rank(field: str, values: list[str]) -> Case:
    """Order a choice field as its choices are listed (high before low, draft before completed), blanks last."""
    return Case(
        *(When(**{field: value}, then=Value(rank)) for rank, value in enumerate(values)),
        default=Value(len(values)),
        output_field=IntegerField(),
    )


def activity_list_for_plan(
    *,
    plan: Plan,
    technical_area: TechnicalArea | None = None,
    priority: str = "",
    status: str = "",
    responsible_organization: Organization | None = None,
    no_responsible_organization: bool = False,
    action_type: str = "",
    source: str = "",
    q: str = "",
    sort: str = "",
) -> QuerySet[Activity]:
    """The plan's activities, filtered and sorted, with what the table shows loaded in a constant number of
    queries (the row query and one for the indicators)."""
    activities = Activity.objects.filter(plan=plan)
    if technical_area is not None:
        activities = activities.filter(technical_area=technical_area)
    if priority:
        activities = activities.filter(priority=priority)
    if status:
        activities = activities.filter(status=status)
    if responsible_organization is not None:
        activities = activities.filter(responsible_organization=responsible_organization)
    if no_responsible_organization:
        activities = activities.filter(responsible_organization__isnull=True)
    if action_type:
        activities = activities.filter(action_type=action_type)
    if source:
        activities = activities.filter(source=source)
    if q.strip():
        activities = activities.filter(title__icontains=q.strip())
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    orders: dict[str, list[Any]] = {
        "area": [F("technical_area__order"), F("technical_area__code")],
        "title": [F("title")],
        "priority": [_rank("priority", list(Activity.Rating.values))],
        "status": [_rank("status", list(Activity.Status.values))],
        "start_date": [F("start_date")],
        "organization": [F("responsible_organization__name")],
    }
    order = orders.get(key, [])
    ordering = [
        (expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)) for expression in order
    ]
    return (
        activities.select_related("technical_area", "responsible_organization")
        .prefetch_related("indicators")
        .order_by(*ordering, "technical_area__order", "technical_area__code", "pk")
    )


def activity_indicator_codes(*, activities: Iterable[Activity]) -> dict[int, list[str]]:
    """The codes of each activity's indicators, in the indicators' order: {activity id: [code, ...]}, in one
    query of plain values (for a table, where prefetching the indicators cost more than the rest of its rows)."""
    codes: dict[int, list[str]] = {}
    rows = (
        Activity.indicators.through.objects.filter(activity__in=[activity.pk for activity in activities])
        .order_by("indicator__framework_id", "indicator__order", "indicator__code")
        .values_list("activity_id", "indicator__code")
    )
    for activity_id, code in rows:
        codes.setdefault(activity_id, []).append(code)
    return codes


# Comments ----------------------------------------------------------------------------------------------------


def activities_with_open_threads(activities: QuerySet[Activity]) -> QuerySet[Activity]:
    """`open_threads` on each activity: its open comment threads, those on its cost lines included, counted in the
    rows' own query."""
    counts = (
        CommentThread.objects.filter(activity=OuterRef("pk"), state=CommentThread.State.OPEN)
        .order_by()
        .values("activity")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return activities.annotate(open_threads=Coalesce(Subquery(counts, output_field=IntegerField()), 0))


def open_threads_by_area(*, plan: Plan) -> dict[int, int]:
    """{technical area id: open threads} of the plan, in one query: those on the area, its context and its
    activities (and their cost lines)."""
    rows = (
        CommentThread.objects.filter(plan=plan, state=CommentThread.State.OPEN)
        .annotate(area=Coalesce("technical_area_id", "activity__technical_area_id"))
        .filter(area__isnull=False)
        .order_by()
        .values("area")
        .annotate(n=Count("pk"))
        .values_list("area", "n")
    )
    return dict(rows)


def thread_list_for_plan(
    *,
    plan: Plan,
    state: str = "",
    subject: str = "",
    technical_area: TechnicalArea | None = None,
    author: User | None = None,
    activity: Activity | None = None,
    review_round_id: int | None = None,
) -> QuerySet[CommentThread]:
    """The plan's comment threads, newest first, filtered; with their comments, authors and objects loaded in a
    constant number of queries. `technical_area` takes the threads on the area, its context and its activities;
    `review_round_id` the threads raised in that round (the review rounds set it)."""
    threads = CommentThread.objects.filter(plan=plan)
    if state:
        threads = threads.filter(state=state)
    if subject:
        threads = threads.filter(subject=subject)
    if technical_area is not None:
        threads = threads.filter(Q(technical_area=technical_area) | Q(activity__technical_area=technical_area))
    if author is not None:
        threads = threads.filter(author=author)
    if activity is not None:
        threads = threads.filter(activity=activity)
    if review_round_id is not None:
        threads = threads.filter(review_round_id=review_round_id)
    comments = Comment.objects.select_related("author").prefetch_related("mentions").order_by("created_at", "pk")
    return (
        threads.select_related("author", "resolved_by", "technical_area", "activity__technical_area")
        .prefetch_related(Prefetch("comments", queryset=comments), "target")
        .order_by("-created_at", "-pk")
    )


def thread_get(*, plan: Plan, thread_id: int) -> CommentThread:
    """A thread of the plan, loaded as the list loads it; Http404 for a thread of another plan."""
    thread = thread_list_for_plan(plan=plan).filter(pk=thread_id).first()
    if thread is None:
        raise Http404(gettext("No such comment thread."))
    thread.plan = plan
    return thread
