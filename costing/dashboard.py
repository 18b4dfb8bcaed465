"""The costing dashboard: a plan's stored rollups summed by technical area, year, cost category, responsible
organization, funding source and status, for the plan alone or with its provincial plans; and its export.

Every figure is a GROUP BY over the rollup rows of the plans included, so the page runs the same few queries
whatever the size of the plans. The figures carry the state of the rollups they come from: while a plan's
totals are being recomputed, or could not be computed in full, the dashboard says so.

Needed is the cost in the chosen scenario (without optional costs: the required lines; with them: required
and optional lines). The gap is needed minus firm funding, i.e. committed and disbursed money; pledges are
shown beside it, never counted against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from costing.models import CostCategory, CostRollup, FundingCommitment, FundingRollup, PlanCosting
from costing.services import DEFAULT_CURRENCY
from naphs.jobs import JobFailed, JobResult, Progress, file_slug
from naphs.languages import name_in_language
from naphs.xlsx import add_table_sheet, new_workbook, workbook_bytes
from planning.models import Plan
from stakeholders.advocacy import advocacy_by_area
from stakeholders.models import Advocacy

if TYPE_CHECKING:
    from naphs.models import Job

ZERO = Decimal("0")
Status = FundingCommitment.Status


class Scenario(models.TextChoices):
    REQUIRED = "required", _("Without optional costs")
    ALL = "all", _("With optional costs")


class Scope(models.TextChoices):
    PLAN = "plan", _("This plan")
    NATIONAL = "national", _("With its provincial plans")


def _percent(value: Decimal, scale: Decimal) -> int:
    """The share of `scale` that `value` is, as a whole percentage from 0 to 100, for a bar's width."""
    if scale <= 0 or value <= 0:
        return 0
    return min(100, int((value * 100 / scale).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


@dataclass
class Amounts:
    """What is needed and what funds it, in the base currency."""

    needed: Decimal = ZERO
    firm: Decimal = ZERO  # committed and disbursed
    pledged: Decimal = ZERO

    @property
    def gap(self) -> Decimal:
        return self.needed - self.firm


@dataclass
class YearAmounts(Amounts):
    """An area's figures in one year."""

    year: int = 0


@dataclass
class Bars:
    """Widths (percent of the chart's scale) of a needed-against-funded bar."""

    needed: int = 0
    firm: int = 0
    pledged: int = 0


@dataclass
class AreaRow:
    area_id: int
    code: str
    name: str
    order: int
    amounts: Amounts = field(default_factory=Amounts)
    years: dict[int, YearAmounts] = field(default_factory=dict)
    cells: list[YearAmounts] = field(default_factory=list)  # one per year of the dashboard, in order
    bars: Bars = field(default_factory=Bars)
    advocacy: list[Advocacy] = field(default_factory=list)  # the plan's active advocacy addressing the area's gap


@dataclass
class YearRow:
    year: int
    amounts: Amounts = field(default_factory=Amounts)
    bars: Bars = field(default_factory=Bars)


@dataclass
class Share:
    """One row of a single-figure table (a category, an organization, a status) and its bar."""

    key: str
    label: str
    amount: Decimal
    bar: int = 0


@dataclass
class SourceRow:
    organization_id: int
    name: str
    pledged: Decimal = ZERO
    committed: Decimal = ZERO
    disbursed: Decimal = ZERO
    bar: int = 0

    @property
    def total(self) -> Decimal:
        return self.pledged + self.committed + self.disbursed

    @property
    def firm(self) -> Decimal:
        return self.committed + self.disbursed


@dataclass(eq=False)
class PlanState:
    """A plan whose rollups the dashboard reads: its total in the scenario and whether its rollups are current."""

    plan: Plan
    costing: PlanCosting | None
    included: bool = True  # False: costed in another currency, so left out of the sums
    needed: Decimal = ZERO

    @property
    def currency(self) -> str:
        return self.costing.currency if self.costing else ""

    @property
    def pending(self) -> int:
        """Changes made since the stored rollups were computed."""
        return self.costing.changes - self.costing.rollup_of if self.costing else 0

    @property
    def current(self) -> bool:
        # A plan whose costing was opened but never changed has nothing to compute: its totals are zero.
        return self.costing is None or self.costing.rollup_current or self.costing.changes == 0

    @property
    def computed_at(self) -> datetime | None:
        return self.costing.rollup_at if self.costing else None

    @property
    def error(self) -> str:
        return self.costing.rollup_error if self.costing else ""


@dataclass
class Staleness:
    """Whether every plan included has current rollups; if not, how many changes wait and since when."""

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
        """When the oldest stale totals were computed (None when some were never computed)."""
        times = [state.computed_at for state in self.stale_plans]
        known = [time for time in times if time is not None]
        return None if not times or len(known) < len(times) else min(known)

    @property
    def computed_at(self) -> datetime | None:
        """When the oldest of the figures shown was computed."""
        times = [state.computed_at for state in self.plans if state.computed_at is not None]
        return min(times) if times else None

    @property
    def errors(self) -> list[PlanState]:
        return [state for state in self.plans if state.error]


@dataclass
class Dashboard:
    plan: Plan
    scenario: str
    scope: str
    currency: str
    plans: list[PlanState]  # the plan first, then the provincial plans summed with it
    excluded: list[PlanState]  # provincial plans costed in another currency: named, not summed
    provincial: list[PlanState]  # every provincial plan under the plan, whatever the scope
    years: list[int]
    required: Decimal
    optional: Decimal
    totals: Amounts
    committed: Decimal
    disbursed: Decimal
    by_area: list[AreaRow]
    by_year: list[YearRow]
    by_category: list[Share]
    by_organization: list[Share]
    by_source: list[SourceRow]
    by_status: list[Share]

    @property
    def state(self) -> Staleness:
        return Staleness(self.plans)

    @property
    def empty(self) -> bool:
        """No cost and no funding stored yet for any plan included."""
        return not self.by_area

    @property
    def scenario_label(self) -> str:
        return str(Scenario(self.scenario).label)

    @property
    def scope_label(self) -> str:
        return str(Scope(self.scope).label)

    @property
    def year_totals(self) -> list[Amounts]:
        return [row.amounts for row in self.by_year]


def _costing_of(plan: Plan) -> PlanCosting | None:
    try:
        return plan.costing
    except PlanCosting.DoesNotExist:
        return None


def _plans(*, plan: Plan, scope: str) -> tuple[list[PlanState], list[PlanState], list[PlanState], str]:
    """(included, excluded, provincial plans, base currency), from one query.

    The provincial plans are the plan's children in another jurisdiction (an operational plan of the same
    jurisdiction is not a provincial plan). The national plan's members see their totals: that is the
    national picture. A provincial plan costed in another currency cannot be summed: it is named instead.
    """
    rows = list(
        Plan.objects.filter(Q(pk=plan.pk) | (Q(parent_id=plan.pk) & ~Q(jurisdiction_id=plan.jurisdiction_id)))
        .select_related("jurisdiction", "costing")
        .order_by("jurisdiction__name", "title")
    )
    own = next(row for row in rows if row.pk == plan.pk)
    costing = _costing_of(own)
    currency = costing.currency if costing else DEFAULT_CURRENCY
    provincial = [PlanState(plan=row, costing=_costing_of(row)) for row in rows if row.pk != plan.pk]
    for state in provincial:
        state.included = state.costing is None or state.costing.currency == currency
    included = [PlanState(plan=plan, costing=costing)]
    excluded: list[PlanState] = []
    if scope == Scope.NATIONAL:
        included += [state for state in provincial if state.included]
        excluded = [state for state in provincial if not state.included]
    return included, excluded, provincial, currency


def dashboard_state(*, plan: Plan, scope: str) -> Staleness:
    """Only whether the figures of the scope are current: what the page polls while they are recomputed."""
    included, _excluded, _provincial, _currency = _plans(plan=plan, scope=scope)
    return Staleness(included)


def dashboard_get(
    *, plan: Plan, scenario: str = Scenario.REQUIRED, scope: str = Scope.PLAN, with_advocacy: bool = False
) -> Dashboard:
    """The dashboard's figures for the plan (a member's plan: the caller checked access), in seven queries; with
    `with_advocacy` (the page), two more name the plan's active advocacy beside the gap of each area it addresses."""
    scenario, scope = Scenario(scenario), Scope(scope)
    included, excluded, provincial, currency = _plans(plan=plan, scope=scope)
    plan_ids = [state.plan.pk for state in included]
    with_optional = scenario == Scenario.ALL

    def needed(required: Decimal, optional: Decimal) -> Decimal:
        return required + optional if with_optional else required

    costs = CostRollup.objects.filter(plan_id__in=plan_ids).order_by()
    required, optional = Sum("required", default=ZERO), Sum("optional", default=ZERO)
    funding = FundingRollup.objects.filter(plan_id__in=plan_ids).order_by()
    area_fields = (
        "technical_area_id", "technical_area__code", "technical_area__name", "technical_area__names",
        "technical_area__order",
    )  # fmt: skip

    areas: dict[int, AreaRow] = {}
    years: dict[int, YearRow] = {year: YearRow(year) for year in range(plan.first_year, plan.last_year + 1)}

    def cell(area: tuple, year: int) -> tuple[Amounts, Amounts, Amounts]:
        area_id, code, name, names, order = area
        row = areas.get(area_id)
        if row is None:
            row = areas[area_id] = AreaRow(area_id=area_id, code=code, name=name_in_language(name, names), order=order)
        year_row = years.setdefault(year, YearRow(year))
        return row.amounts, row.years.setdefault(year, YearAmounts(year=year)), year_row.amounts

    required_total = optional_total = ZERO
    for row in costs.values(*area_fields, "year").annotate(required=required, optional=optional):
        amount = needed(row["required"], row["optional"])
        required_total += row["required"]
        optional_total += row["optional"]
        for amounts in cell(tuple(row[name] for name in area_fields), row["year"]):
            amounts.needed += amount

    by_status = {status: ZERO for status in Status.values}
    for row in funding.values(*area_fields, "year", "status").annotate(amount=Sum("amount")):
        by_status[row["status"]] += row["amount"]
        for amounts in cell(tuple(row[name] for name in area_fields), row["year"]):
            if row["status"] in FundingCommitment.FIRM:
                amounts.firm += row["amount"]
            else:
                amounts.pledged += row["amount"]

    by_category = [
        Share(
            key=row["category"],
            label=str(CostCategory(row["category"]).label),
            amount=needed(row["required"], row["optional"]),
        )
        for row in costs.values("category").annotate(required=required, optional=optional)
    ]
    by_organization = [
        Share(
            key=str(row["organization_id"] or ""),
            label=_organization_name(row["organization__name"], row["organization__acronym"]),
            amount=needed(row["required"], row["optional"]),
        )
        for row in costs.values("organization_id", "organization__name", "organization__acronym").annotate(
            required=required, optional=optional
        )
    ]
    sources: dict[int, SourceRow] = {}
    for row in funding.values(
        "source_organization_id", "source_organization__name", "source_organization__acronym", "status"
    ).annotate(amount=Sum("amount")):
        name = _organization_name(row["source_organization__name"], row["source_organization__acronym"])
        source = sources.setdefault(row["source_organization_id"], SourceRow(row["source_organization_id"], name))
        setattr(source, row["status"], getattr(source, row["status"]) + row["amount"])

    # Each provincial plan's own total, in its own currency when that is not the base currency.
    per_plan = {
        row["plan_id"]: needed(row["required"], row["optional"])
        for row in CostRollup.objects.filter(plan_id__in=[plan.pk, *(s.plan.pk for s in provincial)])
        .order_by()
        .values("plan_id")
        .annotate(required=required, optional=optional)
    }
    for state in [*included, *provincial]:
        state.needed = per_plan.get(state.plan.pk, ZERO)

    by_area = sorted(areas.values(), key=lambda row: (row.order, row.code))
    by_year = [years[year] for year in sorted(years)]
    for row in by_area:
        row.cells = [row.years.get(year) or YearAmounts(year=year) for year in sorted(years)]
    if with_advocacy and by_area:  # the plan's own active advocacy addressing each area's gap, named beside it
        addressing = advocacy_by_area(plan_ids=[plan.pk], area_ids=[row.area_id for row in by_area], active_only=True)
        for row in by_area:
            row.advocacy = addressing.get(row.area_id, [])
    totals = Amounts(
        needed=sum((row.amounts.needed for row in by_area), ZERO),
        firm=sum((row.amounts.firm for row in by_area), ZERO),
        pledged=sum((row.amounts.pledged for row in by_area), ZERO),
    )
    _scale_bars([row.amounts for row in by_area], [row.bars for row in by_area])
    _scale_bars([row.amounts for row in by_year], [row.bars for row in by_year])
    status_shares = [Share(key=status, label=str(Status(status).label), amount=by_status[status]) for status in Status]
    by_source = sorted(sources.values(), key=lambda row: (-row.total, row.name))
    scale = max((row.total for row in by_source), default=ZERO)
    for row in by_source:
        row.bar = _percent(row.total, scale)
    return Dashboard(
        plan=plan,
        scenario=scenario,
        scope=scope,
        currency=currency,
        plans=included,
        excluded=excluded,
        provincial=provincial,
        years=sorted(years),
        required=required_total,
        optional=optional_total,
        totals=totals,
        committed=by_status[Status.COMMITTED],
        disbursed=by_status[Status.DISBURSED],
        by_area=by_area,
        by_year=by_year,
        by_category=_shares(by_category),
        by_organization=_shares(by_organization),
        by_source=by_source,
        by_status=_shares(status_shares, keep_order=True),
    )


def _organization_name(name: str | None, acronym: str | None) -> str:
    if not name:
        return gettext("No responsible organization")
    return f"{name} ({acronym})" if acronym else name


def _shares(shares: list[Share], *, keep_order: bool = False) -> list[Share]:
    if not keep_order:
        shares = sorted((share for share in shares if share.amount), key=lambda share: (-share.amount, share.label))
    scale = max((share.amount for share in shares), default=ZERO)
    for share in shares:
        share.bar = _percent(share.amount, scale)
    return shares


def _scale_bars(amounts: list[Amounts], bars: list[Bars]) -> None:
    """One scale for a chart: its longest bar, needed or funded, fills the width."""
    scale = max((max(a.needed, a.firm + a.pledged) for a in amounts), default=ZERO)
    for figures, bar in zip(amounts, bars, strict=True):
        bar.needed = _percent(figures.needed, scale)
        bar.firm = _percent(figures.firm, scale)
        bar.pledged = min(100 - bar.firm, _percent(figures.pledged, scale))


# --- Export --------------------------------------------------------------------------------------------------

MONEY_FORMAT = "#,##0.00"


def _money_columns(sheet, columns: range | list[int]) -> None:
    for row in sheet.iter_rows(min_row=2):
        for index in columns:
            row[index].number_format = MONEY_FORMAT


def costing_dashboard_export(*, job: Job, progress: Progress) -> JobResult:
    """The dashboard's tables as an Excel workbook: a summary, then one sheet per table."""
    try:
        scenario = Scenario(job.params.get("scenario", Scenario.REQUIRED))
        scope = Scope(job.params.get("scope", Scope.PLAN))
    except ValueError as error:
        raise JobFailed(gettext("This export cannot be made: %(reason)s.") % {"reason": error}) from error
    plan = job.plan
    if plan is None:
        raise JobFailed(gettext("This export belongs to a plan, and the job has none."))
    progress(10, gettext("Reading the totals"))
    dashboard = dashboard_get(plan=plan, scenario=scenario, scope=scope)
    state = dashboard.state
    progress(50, gettext("Writing the workbook"))
    currency = dashboard.currency
    workbook = new_workbook()

    # The sheets' names, the headings and the words of the cells are in the language of the person who asked
    # (the job runs in it); the figures, dates and codes stay as they are, for a spreadsheet to compute with.
    if state.current:
        status = gettext("Current")
    else:
        status = ngettext(
            "Being recomputed: %(count)s change made since is not included",
            "Being recomputed: %(count)s changes made since are not included",
            state.pending,
        ) % {"count": state.pending}
    in_currency = {"currency": currency}
    summary: list[list[Any]] = [
        [gettext("Plan"), plan.title],
        [gettext("Scope"), dashboard.scope_label],
        [gettext("Scenario"), dashboard.scenario_label],
        [gettext("Currency"), currency],
        [gettext("Totals computed"), _local(state.computed_at)],
        [gettext("State of the totals"), status],
        *[
            [gettext("Not fully computed"), gettext("%(plan)s: %(error)s") % {"plan": s.plan.title, "error": s.error}]
            for s in state.errors
        ],
        [gettext("Needed (%(currency)s)") % in_currency, dashboard.totals.needed],
        [gettext("Required costs (%(currency)s)") % in_currency, dashboard.required],
        [gettext("Optional costs (%(currency)s)") % in_currency, dashboard.optional],
        [gettext("Committed and disbursed (%(currency)s)") % in_currency, dashboard.totals.firm],
        [gettext("Pledged (%(currency)s)") % in_currency, dashboard.totals.pledged],
        [gettext("Gap: needed minus committed and disbursed (%(currency)s)") % in_currency, dashboard.totals.gap],
    ]
    add_table_sheet(
        workbook,
        # Translators: the names of the export's sheets are Excel sheet names: 31 characters at most.
        title=gettext("Summary"),
        headers=[gettext("Figure"), gettext("Value")],
        rows=summary,
        widths=[48, 48],
    )

    def included(s: PlanState) -> str:
        if any(s is p for p in dashboard.plans):
            return gettext("yes")
        return gettext("no: another currency") if not s.included else gettext("no")

    def current(s: PlanState) -> str:
        if s.current:
            return gettext("yes")
        return ngettext("no: %(count)s change pending", "no: %(count)s changes pending", s.pending) % {
            "count": s.pending
        }

    needed, firm, pledged, gap = (
        gettext("Needed"),
        gettext("Committed and disbursed"),
        gettext("Pledged"),
        gettext("Gap"),
    )
    code, area = gettext("Code"), gettext("Technical area")
    sheet = add_table_sheet(
        workbook,
        title=gettext("Plans"),
        headers=[
            gettext("Plan"),
            gettext("Jurisdiction"),
            gettext("Currency"),
            needed,
            gettext("Included"),
            gettext("Totals current"),
            gettext("Computed"),
        ],
        rows=(
            [
                s.plan.title,
                s.plan.jurisdiction.name,
                s.currency or currency,
                s.needed,
                included(s),
                current(s),
                _local(s.computed_at),
            ]
            for s in [dashboard.plans[0], *dashboard.provincial]
        ),
        widths=[40, 24, 10, 18, 22, 26, 18],
    )
    _money_columns(sheet, [3])
    sheet = add_table_sheet(
        workbook,
        title=gettext("By area"),
        headers=[code, area, needed, firm, pledged, gap],
        rows=(
            [row.code, row.name, row.amounts.needed, row.amounts.firm, row.amounts.pledged, row.amounts.gap]
            for row in dashboard.by_area
        ),
        widths=[8, 48, 18, 18, 18, 18],
    )
    _money_columns(sheet, range(2, 6))
    sheet = add_table_sheet(
        workbook,
        title=gettext("By year"),
        headers=[gettext("Year"), needed, firm, pledged, gap],
        rows=(
            [row.year, row.amounts.needed, row.amounts.firm, row.amounts.pledged, row.amounts.gap]
            for row in dashboard.by_year
        ),
        widths=[8, 18, 18, 18, 18],
    )
    _money_columns(sheet, range(1, 5))
    sheet = add_table_sheet(
        workbook,
        # Translators: an Excel sheet's name: the gap of each technical area in each year.
        title=gettext("Area × year gap"),
        headers=[code, area, *map(str, dashboard.years), gettext("Total")],
        rows=([row.code, row.name, *(cell.gap for cell in row.cells), row.amounts.gap] for row in dashboard.by_area),
        widths=[8, 48, *([16] * (len(dashboard.years) + 1))],
    )
    _money_columns(sheet, range(2, 3 + len(dashboard.years)))
    for title, header, shares in (
        (gettext("By category"), gettext("Cost category"), dashboard.by_category),
        (gettext("By organization"), gettext("Responsible organization"), dashboard.by_organization),
    ):
        sheet = add_table_sheet(
            workbook,
            title=title,
            headers=[header, needed],
            rows=([share.label, share.amount] for share in shares),
            widths=[48, 18],
        )
        _money_columns(sheet, [1])
    sheet = add_table_sheet(
        workbook,
        title=gettext("By source"),
        headers=[gettext("Funding source"), pledged, gettext("Committed"), gettext("Disbursed"), gettext("Total")],
        rows=([row.name, row.pledged, row.committed, row.disbursed, row.total] for row in dashboard.by_source),
        widths=[48, 18, 18, 18, 18],
    )
    _money_columns(sheet, range(1, 5))
    sheet = add_table_sheet(
        workbook,
        title=gettext("By status"),
        headers=[gettext("Status"), gettext("Amount")],
        rows=([share.label, share.amount] for share in dashboard.by_status),
        widths=[24, 18],
    )
    _money_columns(sheet, [1])
    progress(90, gettext("Saving"))
    workbook.properties.title = gettext("%(plan)s: costing dashboard") % {"plan": plan.title}
    suffix = "-with-provincial-plans" if scope == Scope.NATIONAL else ""
    return JobResult(
        filename=f"{file_slug(plan.title)}-costing{suffix}-{scenario}.xlsx", content=workbook_bytes(workbook)
    )


def _local(moment: datetime | None) -> str:
    """The moment as a date and time any spreadsheet reads (ISO order), or in words when there is none."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else gettext("not yet")
