"""Capacity progress: what a re-assessment shows of the plan's capacities, per technical area and indicator.

Each indicator of the plan's framework with its baseline (the level the plan starts from: baseline assessments
only, planning.selectors.plan_baseline), its target, its latest level (the most recent score across every
assessment, follow-ups included, carried through the crosswalks the same way: plan_latest_levels) and the change
between the two; whether the target is reached; and the activities behind it (Activity.indicators) with each one's
latest reported progress. Every figure is read in a constant number of queries, however many plans, indicators,
assessments and activities.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.utils.translation import gettext, gettext_lazy, pgettext

from monitoring.models import ProgressStatus, ProgressUpdate
from naphs.jobs import JobFailed, JobResult, Progress, file_slug
from naphs.xlsx import add_table_sheet, new_workbook, workbook_bytes
from planning.models import Activity, Assessment, Indicator, IndicatorTarget, Plan, TechnicalArea
from planning.selectors import BaselineLevel, levels_for_plans

if TYPE_CHECKING:
    from naphs.models import Job

NOT_REPORTED = "not_reported"
NOT_REPORTED_LABEL = gettext_lazy("Not reported")


class Change:
    """Which way an indicator moved from its baseline to its latest level."""

    UP = "up"
    DOWN = "down"
    NONE = "none"


@dataclass(frozen=True)
class ActivityBehind:
    """An activity that works toward an indicator, with its latest reported status (NOT_REPORTED when none)."""

    pk: int
    title: str
    status: str

    @property
    def status_label(self) -> str:
        if self.status == NOT_REPORTED:
            return str(NOT_REPORTED_LABEL)
        return str(ProgressStatus(self.status).label)


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


def _status_counts(activities: Iterable[ActivityBehind]) -> list[StatusCount]:
    """How many activities are at each status, in the statuses' order (those with none left out), the activities
    no report covers last."""
    counts: dict[str, int] = defaultdict(int)
    for activity in activities:
        counts[activity.status] += 1
    order = [*ProgressStatus.values, NOT_REPORTED]
    labels = {**dict(ProgressStatus.choices), NOT_REPORTED: NOT_REPORTED_LABEL}
    return [StatusCount(status, str(labels[status]), counts[status]) for status in order if counts[status]]


@dataclass
class IndicatorProgress:
    """One indicator: baseline, target and latest level (each level with the assessment it comes from)."""

    indicator: Indicator
    baseline: BaselineLevel | None
    latest: BaselineLevel | None
    target: int | None
    activities: list[ActivityBehind] = field(default_factory=list)

    @property
    def change(self) -> int | None:
        """Latest level minus baseline; None when either is missing."""
        if self.baseline is None or self.latest is None:
            return None
        return self.latest.level - self.baseline.level

    @property
    def change_size(self) -> int | None:
        """How many levels it moved, whichever way."""
        return abs(self.change) if self.change is not None else None

    @property
    def direction(self) -> str:
        """Change.UP, DOWN or NONE; "" when there is nothing to compare."""
        change = self.change
        if change is None:
            return ""
        return Change.UP if change > 0 else Change.DOWN if change < 0 else Change.NONE

    @property
    def reassessed(self) -> bool:
        """Whether a follow-up assessment gives the latest level (else it is still the baseline's)."""
        return self.latest is not None and self.latest.is_follow_up

    @property
    def reached(self) -> bool | None:
        """Whether the latest level is at the target or above; None without a target or a level."""
        if self.target is None or self.latest is None:
            return None
        return self.latest.level >= self.target

    @property
    def status_counts(self) -> list[StatusCount]:
        return _status_counts(self.activities)


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


@dataclass
class AreaProgress:
    """A technical area's indicators, and its summary: mean levels, how many targets are reached."""

    area: TechnicalArea
    indicators: list[IndicatorProgress] = field(default_factory=list)

    @property
    def baseline_mean(self) -> float | None:
        return _mean([row.baseline.level for row in self.indicators if row.baseline is not None])

    @property
    def latest_mean(self) -> float | None:
        return _mean([row.latest.level for row in self.indicators if row.latest is not None])

    @property
    def target_mean(self) -> float | None:
        return _mean([row.target for row in self.indicators if row.target is not None])

    @property
    def change_mean(self) -> float | None:
        """Mean latest level minus mean baseline, over the indicators that have both."""
        both = [row for row in self.indicators if row.change is not None]
        return _mean([row.change for row in both if row.change is not None])

    @property
    def change_size(self) -> float | None:
        return abs(self.change_mean) if self.change_mean is not None else None

    @property
    def direction(self) -> str:
        change = self.change_mean
        if change is None:
            return ""
        return Change.UP if change > 0 else Change.DOWN if change < 0 else Change.NONE

    @property
    def with_target(self) -> int:
        return sum(row.reached is not None for row in self.indicators)

    @property
    def reached(self) -> int:
        return sum(row.reached is True for row in self.indicators)

    @property
    def improved(self) -> int:
        return sum(row.direction == Change.UP for row in self.indicators)

    @property
    def declined(self) -> int:
        return sum(row.direction == Change.DOWN for row in self.indicators)

    @property
    def status_counts(self) -> list[StatusCount]:
        """The area's activities by latest status, each activity once though it serves several indicators."""
        unique = {activity.pk: activity for row in self.indicators for activity in row.activities}
        return _status_counts(unique.values())


@dataclass
class CapacityProgress:
    """A plan's capacity progress: per area, per indicator. `compared` is the follow-up assessment the latest
    levels stand with (None: every assessment the plan has, when it has no follow-up yet or none was chosen);
    `follow_ups` every follow-up of the plan, most recent first."""

    plan: Plan
    areas: list[AreaProgress]
    follow_ups: list[Assessment]
    compared: Assessment | None

    @property
    def indicators(self) -> list[IndicatorProgress]:
        return [row for area in self.areas for row in area.indicators]

    @property
    def with_target(self) -> int:
        return sum(area.with_target for area in self.areas)

    @property
    def reached(self) -> int:
        return sum(area.reached for area in self.areas)

    @property
    def improved(self) -> int:
        return sum(area.improved for area in self.areas)

    @property
    def declined(self) -> int:
        return sum(area.declined for area in self.areas)

    @property
    def reassessed(self) -> int:
        return sum(row.reassessed for row in self.indicators)


def _follow_ups(plans: list[Plan]) -> dict[int, list[Assessment]]:
    """Each plan's follow-up assessments, most recent first (by date, then the order they were added): one query."""
    found: dict[int, list[Assessment]] = {plan.pk: [] for plan in plans}
    follow_ups = (
        Assessment.objects.filter(plan__in=plans, purpose=Assessment.Purpose.FOLLOW_UP)
        .select_related("framework")
        .order_by("-date", "-pk")
    )
    for assessment in follow_ups:
        found[assessment.plan_id].append(assessment)
    return found


def _activities_behind(plans: list[Plan]) -> dict[tuple[int, int], list[ActivityBehind]]:
    """{(plan id, indicator id): activities}, each with its latest reported status (the report of the latest
    period it has one for): one query."""
    latest = (
        ProgressUpdate.objects.filter(activity=OuterRef("pk"))
        .order_by("-period__starts_on", "-period_id")
        .values("status")[:1]
    )
    links = (
        Activity.objects.filter(plan__in=plans, indicators__isnull=False)
        .annotate(latest_status=Subquery(latest))
        .order_by("title", "pk")
        .values_list("plan_id", "indicators", "pk", "title", "latest_status")
    )
    found: dict[tuple[int, int], list[ActivityBehind]] = defaultdict(list)
    for plan_id, indicator_id, activity_id, title, status in links:
        found[plan_id, indicator_id].append(ActivityBehind(activity_id, title, status or NOT_REPORTED))
    return found


def _progress(
    plans: list[Plan], *, compared: dict[int, Assessment | None], activities: bool
) -> dict[int, CapacityProgress]:
    follow_ups = _follow_ups(plans)
    until = {plan_id: assessment for plan_id, assessment in compared.items() if assessment is not None}
    baselines, latest = levels_for_plans(plans=plans, until=until)
    targets: dict[int, dict[int, int]] = defaultdict(dict)
    for plan_id, indicator_id, level in IndicatorTarget.objects.filter(plan__in=plans).values_list(
        "plan_id", "indicator_id", "level"
    ):
        targets[plan_id][indicator_id] = level
    frameworks = {plan.framework_id for plan in plans if plan.framework_id is not None}
    indicators: dict[int, list[Indicator]] = defaultdict(list)
    for indicator in (
        Indicator.objects.filter(framework__in=frameworks)
        .select_related("technical_area")
        .order_by("technical_area__order", "technical_area__code", "order", "code")
    ):
        indicators[indicator.framework_id].append(indicator)
    behind = _activities_behind(plans) if activities else {}
    progress: dict[int, CapacityProgress] = {}
    for plan in plans:
        areas: dict[int, AreaProgress] = {}
        for indicator in indicators.get(plan.framework_id or 0, []):
            area = areas.setdefault(indicator.technical_area_id, AreaProgress(area=indicator.technical_area))
            area.indicators.append(
                IndicatorProgress(
                    indicator=indicator,
                    baseline=baselines[plan.pk].get(indicator.pk),
                    latest=latest[plan.pk].get(indicator.pk),
                    target=targets[plan.pk].get(indicator.pk),
                    activities=behind.get((plan.pk, indicator.pk), []),
                )
            )
        progress[plan.pk] = CapacityProgress(
            plan=plan, areas=list(areas.values()), follow_ups=follow_ups[plan.pk], compared=compared.get(plan.pk)
        )
    return progress


def capacity_progress(*, plan_ids: Iterable[int]) -> dict[int, CapacityProgress]:
    """For the dashboards: each plan's capacity levels, baseline → latest → target per indicator and area, the
    latest levels from every assessment the plan has (follow-ups included); without the activities. {plan id:
    CapacityProgress}, plans that do not exist left out. Six queries at most, however many plans."""
    plans = list(Plan.objects.filter(pk__in=list(plan_ids)).order_by("pk"))
    return _progress(plans, compared={plan.pk: None for plan in plans}, activities=False)


def follow_up_get(*, plan: Plan, assessment_id: int | None) -> Assessment | None:
    """The follow-up assessment of the plan to compare with: the one named, or by default the latest (None when the
    plan has none). Http404 for an id that is no follow-up assessment of the plan."""
    follow_ups = Assessment.objects.filter(plan=plan, purpose=Assessment.Purpose.FOLLOW_UP).select_related("framework")
    if assessment_id is None:
        return follow_ups.order_by("-date", "-pk").first()
    chosen = follow_ups.filter(pk=assessment_id).first()
    if chosen is None:
        raise Http404(gettext("No such follow-up assessment in this plan."))
    return chosen


def capacity_progress_for_plan(*, plan: Plan, compared: Assessment | None) -> CapacityProgress:
    """The capacity progress page's figures: capacity_progress of one plan, its latest levels as they stand with the
    `compared` follow-up (every assessment up to it; None: every assessment), with the activities behind each
    indicator and their latest reported status. Seven queries at most."""
    return _progress([plan], compared={plan.pk: compared}, activities=True)[plan.pk]


def capacity_progress_export(*, job: Job, progress: Progress) -> JobResult:
    """The capacity progress page's tables as an Excel workbook, in the language of the person who asked: the areas'
    summary, then every indicator with its baseline, target, latest level, change and activities. Figures, dates
    and codes stay as they are, for a spreadsheet to compute with."""
    plan = job.plan
    if plan is None:
        raise JobFailed(gettext("This export belongs to a plan, and the job has none."))
    raw = job.params.get("assessment")
    try:
        compared = follow_up_get(plan=plan, assessment_id=int(raw)) if raw is not None else None
    except (Http404, TypeError, ValueError):
        raise JobFailed(gettext("The follow-up assessment is no longer there, so nothing was exported.")) from None
    progress(10, gettext("Reading the levels"))
    figures = capacity_progress_for_plan(plan=plan, compared=compared)
    progress(50, gettext("Writing the workbook"))
    workbook = new_workbook()
    compared_text = (
        gettext("%(kind)s of %(date)s (%(framework)s)")
        % {"kind": compared.get_kind_display(), "date": compared.date.isoformat(), "framework": compared.framework.code}
        if compared is not None
        else gettext("every assessment of the plan")
    )
    add_table_sheet(
        workbook,
        # Translators: the names of the export's sheets are Excel sheet names: 31 characters at most.
        title=gettext("Summary"),
        headers=[gettext("Figure"), gettext("Value")],
        rows=[
            [gettext("Plan"), plan.title],
            [gettext("Latest levels as of"), compared_text],
            [gettext("Indicators with a target"), figures.with_target],
            [gettext("Targets reached"), figures.reached],
            [gettext("Indicators re-assessed"), figures.reassessed],
            [gettext("Improved"), figures.improved],
            [pgettext("capacity", "Declined"), figures.declined],
        ],
        widths=[36, 60],
    )
    code, area_name = gettext("Code"), gettext("Technical area")
    add_table_sheet(
        workbook,
        title=gettext("By area"),
        headers=[
            code,
            area_name,
            gettext("Baseline (mean)"),
            gettext("Latest (mean)"),
            gettext("Target (mean)"),
            gettext("Change (mean)"),
            gettext("Targets reached"),
            gettext("Indicators with a target"),
        ],
        rows=(
            [
                area.area.code,
                area.area.local_name,
                area.baseline_mean,
                area.latest_mean,
                area.target_mean,
                area.change_mean,
                area.reached,
                area.with_target,
            ]
            for area in figures.areas
        ),
        widths=[8, 40, 14, 14, 14, 14, 14, 14],
    )
    directions = {Change.UP: gettext("up"), Change.DOWN: gettext("down"), Change.NONE: gettext("none"), "": ""}
    reached = {True: gettext("yes"), False: gettext("no"), None: ""}
    statuses = [*ProgressStatus.choices, (NOT_REPORTED, NOT_REPORTED_LABEL)]

    def source(level: BaselineLevel | None) -> list[Any]:
        if level is None:
            return [None, "", ""]
        return [level.level, level.get_kind_display(), level.date.isoformat()]

    add_table_sheet(
        workbook,
        title=gettext("By indicator"),
        headers=[
            code,
            gettext("Indicator"),
            gettext("Baseline"),
            gettext("Baseline assessment"),
            gettext("Baseline date"),
            gettext("Target"),
            gettext("Latest level"),
            gettext("Latest assessment"),
            gettext("Latest date"),
            pgettext("difference", "Change"),
            gettext("Direction"),
            gettext("Target reached"),
            *(str(label) for _status, label in statuses),
            gettext("Activities"),
        ],
        rows=(
            [
                row.indicator.code,
                row.indicator.local_name,
                *source(row.baseline),
                row.target,
                *source(row.latest),
                row.change,
                directions[row.direction],
                reached[row.reached],
                *(sum(activity.status == status for activity in row.activities) for status, _label in statuses),
                "; ".join(activity.title for activity in row.activities),
            ]
            for row in figures.indicators
        ),
        widths=[8, 48, 10, 24, 12, 8, 10, 24, 12, 8, 10, 10, *([10] * len(statuses)), 60],
    )
    progress(90, gettext("Saving"))
    workbook.properties.title = gettext("%(plan)s: capacity progress") % {"plan": plan.title}
    return JobResult(filename=f"{file_slug(plan.title)}-capacity-progress.xlsx", content=workbook_bytes(workbook))
