"""The monitoring dashboard: a plan's stored monitoring aggregates (monitoring.aggregates) summed by technical area,
responsible organization, implementation level and plan, for the plan alone or with its provincial plans; spending
against the costed budget and funding (costing's rollups); indicators against targets; capacity levels; 7-1-7
timeliness; overdue reports; and its Excel export.

Every figure is a GROUP BY over the aggregate rows of the plans included (or read with their state row), so the
page runs the same few queries whatever the size of the plans and their number. The figures carry the state of the
aggregates they come from: while a plan's are being recomputed, the dashboard says so.

On track: an activity whose latest report says on track or completed, out of the activities not reported cancelled
(those never reported count, as not on track). Spent to date: the sum of every report's amount, in the base
currency; a provincial plan in another currency than the national plan's counts in the activities' figures but not
in the money.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from costing.models import CostRollup, FundingCommitment, FundingRollup, PlanCosting
from costing.services import DEFAULT_CURRENCY
from monitoring.models import (
    ActivityProgressRollup,
    MEIndicator,
    MonitoringState,
    PeriodProgressRollup,
    ProgressStatus,
    ReportingPeriod,
)
from naphs.jobs import JobFailed, JobResult, Progress, file_slug
from naphs.languages import name_in_language
from naphs.xlsx import add_table_sheet, new_workbook, workbook_bytes
from planning.models import Activity, Plan, TechnicalArea

if TYPE_CHECKING:
    from naphs.models import Job

ZERO = Decimal("0")
NOT_REPORTED = ""
# The order of the statuses in tables and stacked bars, the activities never reported last.
STATUSES = [*ProgressStatus.values, NOT_REPORTED]
ON_TRACK = (ProgressStatus.ON_TRACK, ProgressStatus.COMPLETED)
INDICATOR_STATES = ("met", "not_met", "no_data", "no_target")


class Scope(models.TextChoices):
    PLAN = "plan", _("This plan")
    PROVINCES = "provinces", _("With its provincial plans")


def status_label(status: str) -> str:
    return str(ProgressStatus(status).label) if status else gettext("Not reported")


def indicator_state_label(state: str) -> str:
    return {
        "met": gettext("Target met"),
        "not_met": gettext("Target not met"),
        "no_data": gettext("No value yet"),
        "no_target": gettext("No target"),
    }[state]


def _percent(value: Decimal | int, scale: Decimal | int) -> int:
    """The share of `scale` that `value` is, as a whole percentage from 0 to 100 (a bar's width)."""
    if scale <= 0 or value <= 0:
        return 0
    return min(100, int((Decimal(value) * 100 / Decimal(scale)).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


@dataclass
class Segment:
    """One status's part of a stacked bar: where it starts and how wide it is, in percent of the bar."""

    status: str
    label: str
    count: int
    x: int
    width: int


@dataclass
class StatusRow:
    """A row of activities counted by latest status: an area, an organization, a level or a plan."""

    key: str
    label: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    percent_sum: int = 0
    spent: Decimal = ZERO
    budget: Decimal = ZERO
    funded: Decimal = ZERO
    overdue: int = 0
    order: tuple = ()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def cells(self) -> list[int]:
        return [self.counts[status] for status in STATUSES]

    @property
    def on_track(self) -> int:
        return sum(self.counts[status] for status in ON_TRACK)

    @property
    def on_track_percent(self) -> int:
        return _percent(self.on_track, self.total - self.counts[ProgressStatus.CANCELLED])

    @property
    def mean_percent(self) -> int:
        reported = self.total - self.counts[NOT_REPORTED]
        return round(self.percent_sum / reported) if reported else 0

    @property
    def segments(self) -> list[Segment]:
        """The stacked bar of the row: each status's share of its activities (their widths add up to 100)."""
        total, x, segments = self.total, 0, []
        for status in STATUSES:
            count = self.counts[status]
            if not count:
                continue
            width = min(100 - x, _percent(count, total))
            segments.append(
                Segment(status=status or "not_reported", label=status_label(status), count=count, x=x, width=width)
            )
            x += width
        return segments

    @property
    def bar_label(self) -> str:
        """What the stacked bar shows, for a screen reader: each status with its count."""
        parts = [gettext("%(status)s: %(count)s") % {"status": s.label, "count": s.count} for s in self.segments]
        return f"{self.label} · " + ", ".join(parts) if parts else self.label

    @property
    def spent_bar(self) -> int:
        return _percent(self.spent, max(self.budget, self.spent))

    @property
    def spent_share(self) -> int | None:
        """Spent as a percentage of the budget (None without one)."""
        return int((self.spent * 100 / self.budget).quantize(Decimal(1))) if self.budget > 0 else None


@dataclass
class PeriodRow:
    """A reporting period's reports (summed over the plans and organizations shown) and its spending."""

    label: str
    starts_on: date
    due_on: date
    state: str
    expected: int = 0
    reported: int = 0
    unreported: int = 0
    spent: Decimal = ZERO
    cumulative: Decimal = ZERO
    bar: int = 0

    @property
    def overdue(self) -> bool:
        return (
            self.state != ReportingPeriod.State.PLANNED and self.due_on < timezone.localdate() and self.unreported > 0
        )

    @property
    def state_label(self) -> str:
        return str(ReportingPeriod.State(self.state).label)


@dataclass
class IndicatorRow:
    key: str
    label: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(INDICATOR_STATES, 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def cells(self) -> list[int]:
        return [self.counts[state] for state in INDICATOR_STATES]

    @property
    def met_bar(self) -> int:
        return _percent(self.counts["met"], self.total)

    @property
    def not_met_bar(self) -> int:
        return min(100 - self.met_bar, _percent(self.counts["not_met"], self.total))


@dataclass
class CapacityRow:
    """An area's capacity levels, each the mean over the indicators that have one (1 to 5)."""

    code: str
    name: str
    order: int
    sums: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def mean(self, name: str) -> Decimal | None:
        count = self.counts.get(name, 0)
        return (Decimal(self.sums.get(name, 0)) / count).quantize(Decimal("0.1")) if count else None

    @property
    def baseline(self) -> Decimal | None:
        return self.mean("baseline")

    @property
    def latest(self) -> Decimal | None:
        return self.mean("latest")

    @property
    def target(self) -> Decimal | None:
        return self.mean("target")

    @property
    def change(self) -> Decimal | None:
        return None if self.baseline is None or self.latest is None else self.latest - self.baseline

    def _bar(self, value: Decimal | None) -> int:
        return _percent(value, 5) if value is not None else 0

    @property
    def bars(self) -> dict[str, int]:
        return {
            "baseline": self._bar(self.baseline),
            "latest": self._bar(self.latest),
            "target": self._bar(self.target),
        }


@dataclass
class TimelinessRow:
    stage: str
    label: str
    days: int
    met: int = 0
    missed: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.met + self.missed + self.pending

    @property
    def met_percent(self) -> int:
        return _percent(self.met, self.met + self.missed)

    @property
    def bars(self) -> dict[str, int]:
        met = _percent(self.met, self.total)
        missed = min(100 - met, _percent(self.missed, self.total))
        return {
            "met": met,
            "missed": missed,
            "missed_x": met,
            "pending_x": met + missed,
            "pending": max(0, 100 - met - missed) if self.pending else 0,
        }


@dataclass(eq=False)
class PlanState:
    """A plan whose aggregates the dashboard reads, and whether they are current."""

    plan: Plan
    state: MonitoringState | None
    currency: str
    money: bool = True  # False: costed in another currency than the plan's, so out of the money figures
    row: StatusRow | None = None

    @property
    def pending(self) -> int:
        return self.state.changes - self.state.aggregates_of if self.state else 0

    @property
    def current(self) -> bool:
        # A plan whose monitoring never changed has nothing to compute.
        return self.state is None or self.state.current or self.state.changes == 0

    @property
    def computed_at(self) -> datetime | None:
        return self.state.computed_at if self.state else None

    @property
    def error(self) -> str:
        return self.state.error if self.state else ""


@dataclass
class Staleness:
    plans: list[PlanState]

    @property
    def stale_plans(self) -> list[PlanState]:
        return [state for state in self.plans if not state.current]

    @property
    def current(self) -> bool:
        return not self.stale_plans

    @property
    def pending(self) -> int:
        return sum(state.pending for state in self.stale_plans)

    @property
    def since(self) -> datetime | None:
        times = [state.computed_at for state in self.stale_plans]
        known = [time for time in times if time is not None]
        return None if not times or len(known) < len(times) else min(known)

    @property
    def computed_at(self) -> datetime | None:
        times = [state.computed_at for state in self.plans if state.computed_at is not None]
        return min(times) if times else None

    @property
    def errors(self) -> list[PlanState]:
        return [state for state in self.plans if state.error]


@dataclass
class Dashboard:
    plan: Plan
    scope: str
    currency: str
    plans: list[PlanState]  # the plan first, then the provincial plans included
    provincial: list[PlanState]  # every provincial plan under the plan, whatever the scope
    totals: StatusRow
    by_area: list[StatusRow]
    by_organization: list[StatusRow]
    by_level: list[StatusRow]
    periods: list[PeriodRow]
    overdue: list[StatusRow]  # organizations with reports missing in periods past due
    indicators: list[IndicatorRow]
    indicators_by_area: list[IndicatorRow]
    indicator_totals: IndicatorRow
    capacity: list[CapacityRow]
    timeliness: list[TimelinessRow]
    events: int
    events_all_met: int
    budget: Decimal
    funded: Decimal
    pledged: Decimal

    @property
    def state(self) -> Staleness:
        return Staleness(self.plans)

    @property
    def empty(self) -> bool:
        return not self.totals.total and not self.indicator_totals.total and not self.events

    @property
    def scope_label(self) -> str:
        return str(Scope(self.scope).label)

    @property
    def money_excluded(self) -> list[PlanState]:
        return [state for state in self.plans if not state.money]

    @property
    def statuses(self) -> list[tuple[str, str]]:
        return [(status or "not_reported", status_label(status)) for status in STATUSES]

    @property
    def indicator_states(self) -> list[tuple[str, str]]:
        return [(state, indicator_state_label(state)) for state in INDICATOR_STATES]

    @property
    def overdue_periods(self) -> list[PeriodRow]:
        return [row for row in self.periods if row.overdue]

    @property
    def spent_percent(self) -> int | None:
        return self.totals.spent_share

    @property
    def by_plan(self) -> list[StatusRow]:
        return [state.row for state in self.plans if state.row is not None]


def _costing_of(plan: Plan) -> PlanCosting | None:
    try:
        return plan.costing
    except PlanCosting.DoesNotExist:
        return None


def _state_of(plan: Plan) -> MonitoringState | None:
    try:
        return plan.monitoring_state
    except MonitoringState.DoesNotExist:
        return None


def _plans(*, plan: Plan, scope: str) -> tuple[list[PlanState], list[PlanState], str]:
    """(included, provincial plans, base currency), from one query. The provincial plans are the plan's children in
    another jurisdiction, as the costing dashboard counts them; every member of the national plan sees them."""
    rows = list(
        Plan.objects.filter(Q(pk=plan.pk) | (Q(parent_id=plan.pk) & ~Q(jurisdiction_id=plan.jurisdiction_id)))
        .select_related("jurisdiction", "costing", "monitoring_state")
        .order_by("jurisdiction__name", "title")
    )
    own = next(row for row in rows if row.pk == plan.pk)
    costing = _costing_of(own)
    currency = costing.currency if costing else DEFAULT_CURRENCY

    def state(row: Plan) -> PlanState:
        of_row = _costing_of(row)
        row_currency = of_row.currency if of_row else currency
        return PlanState(plan=row, state=_state_of(row), currency=row_currency, money=row_currency == currency)

    provincial = [state(row) for row in rows if row.pk != plan.pk]
    included = [PlanState(plan=plan, state=_state_of(own), currency=currency)]
    if scope == Scope.PROVINCES:
        included += provincial
    return included, provincial, currency


def dashboard_state(*, plan: Plan, scope: str) -> Staleness:
    """Only whether the figures of the scope are current: what the page polls while they are recomputed."""
    included, _provincial, _currency = _plans(plan=plan, scope=scope)
    return Staleness(included)


def _organization_name(name: str | None, acronym: str | None) -> str:
    if not name:
        return gettext("No responsible organization")
    return f"{name} ({acronym})" if acronym else name


def dashboard_get(*, plan: Plan, scope: str = Scope.PLAN) -> Dashboard:
    """The dashboard's figures for the plan (a member's plan: the caller checked access), in ten queries whatever
    the size of the plans and the number of provincial plans."""
    scope = Scope(scope)
    row: Any  # rows of several tables in turn
    included, provincial, currency = _plans(plan=plan, scope=scope)
    ids = [state.plan.pk for state in included]
    money_ids = [state.plan.pk for state in included if state.money]
    rollups = ActivityProgressRollup.objects.filter(plan_id__in=ids).order_by()
    money = Q(plan_id__in=money_ids)
    figures = {
        "n": Sum("activities"),
        "percent_sum": Sum("percent"),
        "spent_sum": Sum("spent", filter=money, default=ZERO),
    }

    def add(row: StatusRow, values: Any) -> None:
        row.counts[values["status"]] += values["n"]
        row.percent_sum += values["percent_sum"]
        row.spent += values["spent_sum"]

    totals = StatusRow(key="total", label=gettext("Total"))
    areas: dict[int, StatusRow] = {}
    area_fields = (
        "technical_area_id",
        "technical_area__code",
        "technical_area__name",
        "technical_area__names",
        "technical_area__order",
    )
    for values in rollups.values(*area_fields, "status").annotate(**figures):
        area_id = values["technical_area_id"]
        if area_id not in areas:
            areas[area_id] = StatusRow(
                key=values["technical_area__code"],
                label=name_in_language(values["technical_area__name"], values["technical_area__names"]),
                order=(values["technical_area__order"], values["technical_area__code"]),
            )
        add(areas[area_id], values)
        add(totals, values)

    organizations: dict[int | None, StatusRow] = {}

    def organization(organization_id: int | None, name: str | None, acronym: str | None) -> StatusRow:
        if organization_id not in organizations:
            label = _organization_name(name, acronym)
            organizations[organization_id] = StatusRow(
                key=str(organization_id or ""), label=label, order=(organization_id is None, label)
            )
        return organizations[organization_id]

    org_fields = ("organization_id", "organization__name", "organization__acronym")
    for values in rollups.values(*org_fields, "status").annotate(**figures):
        add(organization(*(values[name] for name in org_fields)), values)

    levels = {level: StatusRow(key=level, label=str(label)) for level, label in Activity.Level.choices}
    for values in rollups.values("level", "status").annotate(**figures):
        add(levels[values["level"]], values)

    by_plan = {state.plan.pk: state for state in included}
    for values in rollups.values("plan_id", "status").annotate(**figures):
        state = by_plan[values["plan_id"]]
        if state.row is None:
            state.row = StatusRow(key=str(state.plan.pk), label=state.plan.title)
        add(state.row, values)
    for state in included:
        if state.row is None:
            state.row = StatusRow(key=str(state.plan.pk), label=state.plan.title)

    # Reports per period (periods of the same dates in several plans are one row) and missing reports past due.
    periods: dict[tuple, PeriodRow] = {}
    today = timezone.localdate()
    for values in (
        PeriodProgressRollup.objects.filter(plan_id__in=ids)
        .order_by()
        .values("period__label", "period__starts_on", "period__due_on", "period__state", *org_fields)
        .annotate(
            expected=Sum("expected"),
            reported=Sum("reported"),
            unreported=Sum("unreported"),
            spent_sum=Sum("spent", filter=money, default=ZERO),
        )
    ):
        key = (values["period__starts_on"], values["period__label"])
        row = periods.get(key)
        if row is None:
            row = periods[key] = PeriodRow(
                label=values["period__label"],
                starts_on=values["period__starts_on"],
                due_on=values["period__due_on"],
                state=values["period__state"],
            )
        row.expected += values["expected"]
        row.reported += values["reported"]
        row.unreported += values["unreported"]
        row.spent += values["spent_sum"]
        past_due = values["period__state"] != ReportingPeriod.State.PLANNED and values["period__due_on"] < today
        if past_due and values["unreported"]:
            organization(*(values[name] for name in org_fields)).overdue += values["unreported"]
    period_rows = sorted(periods.values(), key=lambda row: (row.starts_on, row.label))
    running = ZERO
    for row in period_rows:
        running += row.spent
        row.cumulative = running
    scale = max((row.cumulative for row in period_rows), default=ZERO)
    for row in period_rows:
        row.bar = _percent(row.cumulative, scale)

    # The costed budget (without optional costs) and firm funding, from costing's stored rollups.
    for values in (
        CostRollup.objects.filter(plan_id__in=money_ids)
        .order_by()
        .values(
            "technical_area_id",
            "technical_area__code",
            "technical_area__name",
            "technical_area__names",
            "technical_area__order",
        )
        .annotate(budget=Sum("required", default=ZERO))
    ):
        area_id = values["technical_area_id"]
        if area_id not in areas:
            areas[area_id] = StatusRow(
                key=values["technical_area__code"],
                label=name_in_language(values["technical_area__name"], values["technical_area__names"]),
                order=(values["technical_area__order"], values["technical_area__code"]),
            )
        areas[area_id].budget += values["budget"]
        totals.budget += values["budget"]
    for values in (
        CostRollup.objects.filter(plan_id__in=money_ids)
        .order_by()
        .values(*org_fields)
        .annotate(budget=Sum("required", default=ZERO))
    ):
        organization(*(values[name] for name in org_fields)).budget += values["budget"]
    pledged = ZERO
    for values in (
        FundingRollup.objects.filter(plan_id__in=money_ids)
        .order_by()
        .values("technical_area_id", "status")
        .annotate(amount=Sum("amount", default=ZERO))
    ):
        if values["status"] not in FundingCommitment.FIRM:
            pledged += values["amount"]
            continue
        totals.funded += values["amount"]
        row = areas.get(values["technical_area_id"])
        if row is not None:
            row.funded += values["amount"]

    # Indicators, capacity and 7-1-7 events: the small figures stored with each plan's state.
    stored = [state.state.figures for state in included if state.state is not None and state.state.figures]
    indicator_kinds = {kind: IndicatorRow(key=kind, label=str(label)) for kind, label in MEIndicator.Kind.choices}
    indicator_areas: dict[str, IndicatorRow] = {}
    indicator_totals = IndicatorRow(key="total", label=gettext("Total"))
    capacity: dict[int, CapacityRow] = {}
    timeliness = [
        TimelinessRow(stage="detection", label=gettext("Detection (7 days)"), days=7),
        TimelinessRow(stage="notification", label=gettext("Notification (1 day)"), days=1),
        TimelinessRow(stage="response", label=gettext("Early response (7 days)"), days=7),
    ]
    events = events_all_met = 0
    wanted_areas: set[int] = set()
    for of_plan in stored:
        for kind, counts in of_plan.get("indicators", {}).items():
            row = indicator_kinds.setdefault(kind, IndicatorRow(key=kind, label=kind))
            for state_name, count in counts.items():
                row.counts[state_name] += count
                indicator_totals.counts[state_name] += count
        for area_key, counts in of_plan.get("indicators_by_area", {}).items():
            row = indicator_areas.setdefault(area_key, IndicatorRow(key=area_key, label=""))
            for state_name, count in counts.items():
                row.counts[state_name] += count
            if area_key:
                wanted_areas.add(int(area_key))
        for values in of_plan.get("capacity", []):
            wanted_areas.add(values["area"])
            row = capacity.setdefault(values["area"], CapacityRow(code="", name="", order=0))
            for name in ("baseline", "latest", "target"):
                row.sums[name] = row.sums.get(name, 0) + values[name]
                row.counts[name] = row.counts.get(name, 0) + values[f"{name}_n"]
        counts = of_plan.get("timeliness", {})
        events += counts.get("events", 0)
        events_all_met += counts.get("all_met", 0)
        for row in timeliness:
            row.met += counts.get(f"{row.stage}_met", 0)
            row.missed += counts.get(f"{row.stage}_missed", 0)
            row.pending += counts.get(f"{row.stage}_pending", 0)
    named = (
        {
            area.pk: area
            for area in TechnicalArea.objects.filter(pk__in=wanted_areas).only("code", "name", "names", "order")
        }
        if wanted_areas
        else {}
    )
    for area_id, row in capacity.items():
        area = named.get(area_id)
        if area is not None:
            row.code, row.name, row.order = area.code, area.local_name, area.order
    for area_key, row in indicator_areas.items():
        area = named.get(int(area_key)) if area_key else None
        row.label = f"{area.code} {area.local_name}" if area else gettext("The whole plan")
    return Dashboard(
        plan=plan,
        scope=scope,
        currency=currency,
        plans=included,
        provincial=provincial,
        totals=totals,
        by_area=sorted(areas.values(), key=lambda row: row.order),
        by_organization=sorted(organizations.values(), key=lambda row: row.order),
        by_level=[row for row in levels.values() if row.total],
        periods=period_rows,
        overdue=sorted(
            (row for row in organizations.values() if row.overdue), key=lambda row: (-row.overdue, row.label)
        ),
        indicators=[row for row in indicator_kinds.values() if row.total],
        indicators_by_area=sorted(indicator_areas.values(), key=lambda row: (row.key == "", row.label)),
        indicator_totals=indicator_totals,
        capacity=sorted((row for row in capacity.values() if row.code), key=lambda row: (row.order, row.code)),
        timeliness=timeliness,
        events=events,
        events_all_met=events_all_met,
        budget=totals.budget,
        funded=totals.funded,
        pledged=pledged,
    )


# --- Export --------------------------------------------------------------------------------------------------

MONEY_FORMAT = "#,##0.00"


def _money_columns(sheet: Any, columns: list[int]) -> None:
    for row in sheet.iter_rows(min_row=2):
        for index in columns:
            row[index].number_format = MONEY_FORMAT


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else gettext("not yet")


def monitoring_dashboard_export(*, job: Job, progress: Progress) -> JobResult:
    """The dashboard's tables as an Excel workbook: a summary, then one sheet per table, headings in the language of
    the person who asked (the job runs in it), the cells locale-free."""
    from monitoring.aggregates import indicator_states

    try:
        scope = Scope(job.params.get("scope", Scope.PLAN))
    except ValueError as error:
        raise JobFailed(gettext("This export cannot be made: %(reason)s.") % {"reason": error}) from error
    plan = job.plan
    if plan is None:
        raise JobFailed(gettext("This export belongs to a plan, and the job has none."))
    progress(10, gettext("Reading the figures"))
    dashboard = dashboard_get(plan=plan, scope=scope)
    state = dashboard.state
    progress(50, gettext("Writing the workbook"))
    currency = dashboard.currency
    in_currency = {"currency": currency}
    workbook = new_workbook()
    if state.current:
        status = gettext("Current")
    else:
        status = ngettext(
            "Being recomputed: %(count)s change made since is not included",
            "Being recomputed: %(count)s changes made since are not included",
            state.pending,
        ) % {"count": state.pending}
    totals = dashboard.totals
    add_table_sheet(
        workbook,
        # Translators: the names of the export's sheets are Excel sheet names: 31 characters at most.
        title=gettext("Summary"),
        headers=[gettext("Figure"), gettext("Value")],
        rows=[
            [gettext("Plan"), plan.title],
            [gettext("Scope"), dashboard.scope_label],
            [gettext("Currency"), currency],
            [gettext("Figures computed"), _local(state.computed_at)],
            [gettext("State of the figures"), status],
            [gettext("Activities"), totals.total],
            [gettext("On track (%)"), totals.on_track_percent],
            [gettext("Spent to date (%(currency)s)") % in_currency, totals.spent],
            [gettext("Costed budget (%(currency)s)") % in_currency, dashboard.budget],
            [gettext("Committed and disbursed (%(currency)s)") % in_currency, dashboard.funded],
            [gettext("Health events"), dashboard.events],
            [gettext("Events meeting all three 7-1-7 targets"), dashboard.events_all_met],
        ],
        widths=[48, 48],
    )
    statuses = [status_label(status) for status in STATUSES]
    for title, heading, rows, with_money in (
        (gettext("By area"), gettext("Technical area"), dashboard.by_area, True),
        (gettext("By organization"), gettext("Responsible organization"), dashboard.by_organization, True),
        (gettext("By level"), gettext("Implementation level"), dashboard.by_level, False),
        (gettext("By plan"), gettext("Plan"), dashboard.by_plan, True),
    ):
        money_headers = [gettext("Spent (%(currency)s)") % in_currency, gettext("Budget (%(currency)s)") % in_currency]
        sheet = add_table_sheet(
            workbook,
            title=title,
            headers=[
                heading,
                *statuses,
                gettext("Total"),
                gettext("On track (%)"),
                *(money_headers if with_money else []),
            ],
            rows=(
                [
                    f"{row.key} {row.label}" if rows is dashboard.by_area else row.label,
                    *row.cells,
                    row.total,
                    row.on_track_percent,
                    *([row.spent, row.budget] if with_money else []),
                ]
                for row in rows
            ),
            widths=[48, *([12] * (len(statuses) + 2)), 18, 18],
        )
        if with_money:
            first = len(statuses) + 3
            _money_columns(sheet, [first, first + 1])
    sheet = add_table_sheet(
        workbook,
        title=gettext("Periods"),
        headers=[
            gettext("Period"),
            gettext("Reports due"),
            gettext("State"),
            gettext("Reports expected"),
            gettext("Reported"),
            gettext("Not reported"),
            gettext("Spent (%(currency)s)") % in_currency,
            gettext("Spent to date (%(currency)s)") % in_currency,
        ],
        rows=(
            [
                row.label,
                row.due_on.isoformat(),
                row.state_label,
                row.expected,
                row.reported,
                row.unreported,
                row.spent,
                row.cumulative,
            ]
            for row in dashboard.periods
        ),
        widths=[16, 14, 12, 14, 12, 14, 18, 18],
    )
    _money_columns(sheet, [6, 7])
    add_table_sheet(
        workbook,
        title=gettext("Overdue reports"),
        headers=[gettext("Responsible organization"), gettext("Reports missing past their due date")],
        rows=([row.label, row.overdue] for row in dashboard.overdue),
        widths=[48, 20],
    )
    states = [indicator_state_label(state) for state in INDICATOR_STATES]
    per_indicator = indicator_states([state.plan.pk for state in dashboard.plans])
    titles = {state.plan.pk: state.plan.title for state in dashboard.plans}
    kinds = dict(MEIndicator.Kind.choices)
    add_table_sheet(
        workbook,
        title=gettext("Indicators"),
        headers=[
            gettext("Plan"),
            gettext("Code"),
            gettext("Indicator"),
            gettext("Type"),
            gettext("Baseline"),
            gettext("Target"),
            gettext("Latest value"),
            gettext("State"),
        ],
        rows=(
            [
                titles[plan_id],
                row["code"],
                row["name"],
                str(kinds.get(row["kind"], row["kind"])),
                None if row["baseline"] is None else Decimal(row["baseline"]),
                None if row["target"] is None else Decimal(row["target"]),
                None if row["latest"] is None else Decimal(row["latest"]),
                indicator_state_label(row["state"]),
            ]
            for plan_id, rows in per_indicator.items()
            for row in rows
        ),
        widths=[30, 12, 48, 12, 12, 12, 12, 18],
    )
    add_table_sheet(
        workbook,
        title=gettext("Indicators by type"),
        headers=[gettext("Type"), *states, gettext("Total")],
        rows=([row.label, *row.cells, row.total] for row in dashboard.indicators),
        widths=[24, 14, 14, 14, 14, 10],
    )
    add_table_sheet(
        workbook,
        title=gettext("Capacity levels"),
        headers=[
            gettext("Code"),
            gettext("Technical area"),
            gettext("Baseline"),
            gettext("Latest"),
            gettext("Target"),
            pgettext("difference", "Change"),
        ],
        rows=([row.code, row.name, row.baseline, row.latest, row.target, row.change] for row in dashboard.capacity),
        widths=[8, 48, 12, 12, 12, 12],
    )
    add_table_sheet(
        workbook,
        title=gettext("7-1-7"),
        headers=[
            gettext("Target"),
            gettext("Met"),
            gettext("Missed"),
            pgettext("7-1-7", "Pending"),
            gettext("Met (%)"),
        ],
        rows=([row.label, row.met, row.missed, row.pending, row.met_percent] for row in dashboard.timeliness),
        widths=[28, 10, 10, 10, 10],
    )
    progress(90, gettext("Saving"))
    workbook.properties.title = gettext("%(plan)s: monitoring dashboard") % {"plan": plan.title}
    suffix = "-with-provincial-plans" if scope == Scope.PROVINCES else ""
    return JobResult(filename=f"{file_slug(plan.title)}-monitoring{suffix}.xlsx", content=workbook_bytes(workbook))


def connect() -> None:
    """From MonitoringConfig.ready: the dashboard's chapter in the plan document (costing.hooks)."""
    from monitoring import document

    document.connect()
