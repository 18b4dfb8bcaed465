"""The plan document: the whole plan as a PDF, rendered by WeasyPrint in a worker, in the requester's language.

It reads planning's content (context, priorities, groups, levels, activities) and costing's figures (each
activity's costs, the totals and the funding gap of the costing dashboard), so it lives in costing, which may
read planning; planning knows nothing of it.

It is rendered in parts (document_parts), each laid out and written before the next, and the parts' PDFs joined:
WeasyPrint keeps a document's whole layout until it is written, which for a plan of thousands of activities was
gigabytes. A national plan's document may add a chapter on its provincial plans (provincial_summaries).

A render is kept in storage under a key of the plan's content (document_key): asking again for the document of
an unchanged plan serves that file without rendering again. The renderer fetches nothing but the product's own
static files (StaticFilesOnly): user text is escaped by the template, and a URL that reached the renderer
anyway, a file or a remote address, is refused.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import logging
import mimetypes
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.template.loader import get_template, render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from costing import hooks as costing_hooks
from costing.dashboard import AreaRow as CostAreaRow
from costing.dashboard import Dashboard, dashboard_get
from costing.models import (
    CostLine,
    CostLineYear,
    CostRollup,
    ExchangeRate,
    FundingCommitment,
    FundingRollup,
    PlanCosting,
)
from costing.services import DEFAULT_CURRENCY
from naphs.jobs import JobFailed, JobResult, Progress, file_slug
from naphs.languages import name_in_language
from naphs.permissions import SECRETARIAT_ROLES
from planning.guidance import guidance_for_activities, guidance_ids_for, national_guidance_of
from planning.models import (
    Activity,
    AreaPriority,
    Assessment,
    FunctionalGroup,
    GuidanceDocument,
    IndicatorScore,
    IndicatorTarget,
    Plan,
    PlanContext,
    TechnicalArea,
)
from planning.selectors import AreaRow, plan_overview
from stakeholders.models import Organization, PlanMembership
from stakeholders.selectors import membership_list_for_plan

logger = logging.getLogger(__name__)

TEMPLATE = "costing/document/plan.html"
MARGINS_TEMPLATE = "costing/document/margins.html"
STYLESHEET = "css/document.css"
# The address the document's own links are resolved against: a name that cannot exist on any network (RFC 2606),
# so the only URLs the fetcher answers are the product's static files under it.
BASE_URL = "https://document.invalid/"
ZERO = Decimal("0")


# --- What the renderer may fetch -------------------------------------------------------------------------------


class FetchRefused(ValueError):
    """The document asked for something that is not one of the product's static files."""


def static_file_for(url: str) -> Path:
    """The product's static file a document URL names (BASE_URL + STATIC_URL + its path), or FetchRefused."""
    parts = urlsplit(url)
    prefix = "/" + settings.STATIC_URL.lstrip("/")
    if f"{parts.scheme}://{parts.netloc}/" != BASE_URL or not parts.path.startswith(prefix) or parts.query:
        raise FetchRefused(f"Not one of the product's static files: {url[:200]}")
    relative = unquote(parts.path.removeprefix(prefix))
    pieces = PurePosixPath(relative).parts
    if not relative or "\\" in relative or "\x00" in relative or relative.startswith("/") or ".." in pieces:
        raise FetchRefused(f"Not one of the product's static files: {url[:200]}")
    found = finders.find(relative)
    if not found or isinstance(found, list):
        raise FetchRefused(f"No such static file: {relative[:200]}")
    return Path(found)


def static_files_only() -> Any:
    """A WeasyPrint URL fetcher that answers the product's static files and refuses every other URL.

    WeasyPrint is imported when a document is made, not with the app: it loads Pango, which only the processes
    that render need (the worker's).
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesOnly(URLFetcher):
        """Reads nothing but the product's static files: no file:, http(s):, data: or other URL."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=["https"], allow_redirects=False, fail_on_errors=False)
            self.refused: list[str] = []
            self.fetched: list[str] = []

        def fetch(self, url, headers=None):
            try:
                path = static_file_for(url)
            except FetchRefused:
                self.refused.append(url)
                logger.warning("Plan document: refused to fetch %.200s", url)
                raise
            self.fetched.append(url)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), headers={"Content-Type": content_type})

    return StaticFilesOnly()


# --- The cache key ---------------------------------------------------------------------------------------------

# Raised when what the document shows or how it is laid out changes in a way the template's text does not show.
DOCUMENT_FORMAT = 2  # 2: rendered in parts


def _marks(queryset: QuerySet, *, version: bool = True, updated: bool = False, **extra: Any) -> list[str]:
    """Count, highest id, and the sum of versions (each save adds one) and last update of a set of rows: any
    row added, deleted or saved through a versioned service moves at least one of them."""
    figures: dict[str, Any] = {"n": Count("pk"), "last": Max("pk"), **extra}
    if version:
        figures["versions"] = Sum("version")
    if updated:
        figures["updated"] = Max("updated_at")
    return [str(value) for value in queryset.order_by().aggregate(**figures).values()]


def document_key(
    *,
    plan: Plan,
    language: str,
    endorsement: Endorsement | None = None,
    provinces: bool = False,
    guidance: bool = False,
) -> str:
    """A digest of everything the document of `plan` in `language` shows, as far as the database records changes.

    What counts as a change: the plan's own row (its version grows with every save) and its jurisdiction's
    name; any activity, target, score, assessment, context, priority, functional group (and the areas in it),
    cost line, exchange rate, funding commitment or membership of the plan added, deleted or saved (count,
    highest id, sum of versions, last update); what the chapters of the apps above costing show (their
    document_marks: monitoring's figures recomputed); the plan's costing settings and its totals recomputed
    (`changes`, `rollup_of`, `rollup_at`); the organizations of its directory; the endorsement shown on the
    cover; with the provincial plans' summaries, each provincial plan's row, costing totals and activities; with
    the guidance annex, the guidance documents it lists (added, removed, saved); the templates and stylesheet;
    DOCUMENT_FORMAT. Not counted: a person renaming themselves (the
    secretariat annex shows names) and an administrator editing reference data (areas' and indicators' names);
    a new render follows the next change of the plan.
    """
    costing = PlanCosting.objects.filter(plan=plan).values_list(
        "currency", "price_year", "version", "changes", "rollup_of", "rollup_at"
    )
    assessments = Assessment.objects.filter(plan=plan)
    groups = FunctionalGroup.objects.filter(plan=plan)
    parts: list[Any] = [
        DOCUMENT_FORMAT,
        language,
        [plan.pk, plan.version, plan.status, str(plan.updated_at), plan.title, plan.first_year, plan.last_year],
        [plan.jurisdiction.name, plan.framework_id, plan.kind],
        [str(value) for value in costing.first() or ()],
        _marks(Activity.objects.filter(plan=plan), updated=True),
        _marks(IndicatorTarget.objects.filter(plan=plan)),
        _marks(assessments, version=False, dates=Max("date")),
        _marks(IndicatorScore.objects.filter(assessment__in=assessments)),
        _marks(PlanContext.objects.filter(plan=plan)),
        _marks(AreaPriority.objects.filter(plan=plan), version=False, ranks=Sum("rank")),
        _marks(groups, areas=Count("technical_areas")),
        _marks(CostLine.objects.filter(plan=plan), updated=True),
        _marks(ExchangeRate.objects.filter(plan=plan)),
        _marks(FundingCommitment.objects.filter(plan=plan), updated=True),
        _marks(PlanMembership.objects.filter(plan=plan), updated=True),
        _marks(organizations_of(plan)),
        endorsement.key() if endorsement else None,
        _provinces_marks(plan) if provinces else None,
        _marks(GuidanceDocument.objects.filter(pk__in=guidance_ids_for(plan)), updated=True) if guidance else None,
        _source_digest(),
        costing_hooks.document_marks.send(plan),
    ]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def _provinces_marks(plan: Plan) -> list[Any]:
    """What the provincial plans' chapter shows, as far as the database records changes: two queries."""
    plans = provincial_plans(plan)
    rows = plans.values_list(
        "pk", "version", "status", "updated_at", "title", "first_year", "last_year", "jurisdiction__name",
        "costing__currency", "costing__changes", "costing__rollup_of", "costing__rollup_at",
    )  # fmt: skip
    return [[str(value) for value in row] for row in rows] + [_marks(Activity.objects.filter(plan__in=plans))]


_SOURCES: dict[str, str] = {}


def _source_digest() -> str:
    """The templates' and the stylesheet's text, as a digest: a new layout makes new documents."""
    if "digest" not in _SOURCES:
        sources = [
            Path(get_template(name).origin.name).read_bytes()  # type: ignore[attr-defined]
            for name in (TEMPLATE, MARGINS_TEMPLATE)
        ]
        sources.append(static_file_for(BASE_URL + settings.STATIC_URL.lstrip("/") + STYLESHEET).read_bytes())
        _SOURCES["digest"] = hashlib.sha256(b"\0".join(sources)).hexdigest()
    return _SOURCES["digest"]


def organizations_of(plan: Plan) -> QuerySet[Organization]:
    """The organizations the document names: those responsible for an activity of the plan, and its members'."""
    responsible = Activity.objects.filter(plan=plan).values("responsible_organization_id")
    members = PlanMembership.objects.filter(plan=plan).values("organization_id")
    return Organization.objects.filter(Q(pk__in=responsible) | Q(pk__in=members))


def _variant(language: str, provinces: bool, guidance: bool = False) -> str:
    """The start of a render's file name: its language, and whether it holds the provincial plans' summaries and
    the guidance annex."""
    return language + ("+provinces" if provinces else "") + ("+guidance" if guidance else "")


def _storage_name(*, plan: Plan, language: str, key: str, provinces: bool = False, guidance: bool = False) -> str:
    return f"documents/plan-{plan.pk}/{_variant(language, provinces, guidance)}-{key}.pdf"


def document_stored(
    *,
    plan: Plan,
    language: str,
    endorsement: Endorsement | None = None,
    provinces: bool = False,
    guidance: bool = False,
) -> str | None:
    """The stored render of the plan as it is now, in `language`: its storage name, or None if there is none."""
    key = document_key(plan=plan, language=language, endorsement=endorsement, provinces=provinces, guidance=guidance)
    name = _storage_name(plan=plan, language=language, key=key, provinces=provinces, guidance=guidance)
    return name if default_storage.exists(name) else None


def document_filename(*, plan: Plan, language: str, provinces: bool = False, guidance: bool = False) -> str:
    suffix = ("-with-provincial-plans" if provinces else "") + ("-with-guidance" if guidance else "")
    return f"{file_slug(plan.title)}{suffix}-{language}.pdf"


def document_store(
    *, plan: Plan, language: str, key: str, content: bytes, provinces: bool = False, guidance: bool = False
) -> None:
    """Keep the render under its key, and drop the older renders of the plan in that language (and variant)."""
    name = _storage_name(plan=plan, language=language, key=key, provinces=provinces, guidance=guidance)
    folder = name.rsplit("/", 1)[0]
    try:
        _directories, files = default_storage.listdir(folder)
    except FileNotFoundError:
        files = []
    for old in files:
        if old.startswith(f"{_variant(language, provinces, guidance)}-") and f"{folder}/{old}" != name:
            default_storage.delete(f"{folder}/{old}")
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(content))


# --- What the document shows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endorsement:
    """A frozen version of the plan and how it was endorsed, as the cover shows it. The endorsement part passes one
    when it renders an endorsed version; the current draft has none (and is marked draft on every page)."""

    version: int
    endorsed_on: date
    authority: str

    def key(self) -> list[str]:
        return [str(self.version), self.endorsed_on.isoformat(), self.authority]


def document_endorsement(plan: Plan) -> Endorsement | None:
    """What the cover shows of the endorsement the plan stands at: None for a draft (marked draft on every page),
    and again once the plan is reopened."""
    current = plan.current_endorsement
    if current is None:
        return None
    return Endorsement(version=current.number, endorsed_on=current.endorsed_on, authority=current.authority)


@dataclass
class LineRow:
    line: CostLine
    years: list[Decimal]
    total: Decimal


@dataclass
class ActivityRow:
    activity: Activity
    cost: Decimal | None  # without optional lines; None when uncosted
    optional: Decimal
    lines: list[LineRow] = field(default_factory=list)


@dataclass
class AreaSection:
    area: TechnicalArea
    levels: AreaRow | None
    narrative: str
    activities: list[ActivityRow]
    costs: CostAreaRow | None

    @property
    def anchor(self) -> str:
        return f"area-{self.area.pk}"


@dataclass
class ProvincialSummary:
    """A provincial plan under a national plan, as the national plan's document summarizes it: in its own currency,
    its cost without optional lines and its gap against committed and disbursed funding."""

    plan: Plan
    currency: str
    activities: int
    needed: Decimal
    firm: Decimal
    by_area: list[tuple[str, str, Decimal]]  # code, name, needed

    @property
    def gap(self) -> Decimal:
        return self.needed - self.firm


@dataclass
class GuidanceSection:
    """The guidance annex's part of one technical area (None: national guidance tied to no area or activity): the
    documents the area's activities cite and the national guidance tied to the area, WHO's first."""

    area: TechnicalArea | None
    documents: list[GuidanceDocument]


@dataclass
class DocumentData:
    plan: Plan
    endorsement: Endorsement | None
    years: list[int]
    currency: str
    narrative: str
    priorities: list[AreaPriority]
    groups: list[FunctionalGroup]
    sections: list[AreaSection]
    dashboard: Dashboard
    secretariat: list[PlanMembership]
    organizations: list[Organization]
    activity_count: int
    uncosted: int
    by_priority: list[tuple[str, int]]
    charts: dict[str, SafeString]
    provinces: list[ProvincialSummary] | None = None  # None: not asked for
    guidance: list[GuidanceSection] | None = None  # None: not asked for
    chapters: list[costing_hooks.DocumentChapter] = field(default_factory=list)  # the apps above costing's


def _activity_rows(plan: Plan, years: list[int]) -> dict[int, list[ActivityRow]]:
    """The plan's activities by technical area, each with its cost and its cost lines: three queries."""
    activities = (
        Activity.objects.filter(plan=plan)
        .select_related("technical_area", "responsible_organization")
        .order_by("technical_area__order", "technical_area__code", "start_date", "title", "pk")
    )
    lines: dict[int, list[CostLine]] = defaultdict(list)
    for line in CostLine.objects.filter(plan=plan).order_by("activity_id", "order", "pk"):
        lines[line.activity_id].append(line)
    amounts: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for line_id, year, amount in CostLineYear.objects.filter(cost_line__plan=plan).values_list(
        "cost_line_id", "year", "amount"
    ):
        amounts[line_id][year] = amounts[line_id].get(year, ZERO) + amount
    by_area: dict[int, list[ActivityRow]] = defaultdict(list)
    for activity in activities:
        row = ActivityRow(activity=activity, cost=None, optional=ZERO)
        for line in lines.get(activity.pk, []):
            per_year = amounts.get(line.pk, {})
            total = sum(per_year.values(), ZERO)
            row.lines.append(LineRow(line=line, years=[per_year.get(year, ZERO) for year in years], total=total))
            if line.optional:
                row.optional += total
            else:
                row.cost = (row.cost or ZERO) + total
        by_area[activity.technical_area_id].append(row)
    return by_area


def provincial_plans(plan: Plan) -> QuerySet[Plan]:
    """The provincial plans under a national plan: its children in another jurisdiction of the same country (an
    operational plan of the same jurisdiction is not one), as the costing dashboard's national scope counts them.
    Every member of the national plan reads their summaries, as the dashboard shows their totals to them: that is
    the national picture."""
    return (
        Plan.objects.filter(parent_id=plan.pk, jurisdiction__country_id=plan.jurisdiction.country_id)
        .exclude(jurisdiction_id=plan.jurisdiction_id)
        .select_related("jurisdiction", "costing")
        .order_by("jurisdiction__name", "title", "pk")
    )


def provincial_summaries(plan: Plan) -> list[ProvincialSummary]:
    """Each provincial plan under `plan` with its activities, cost, gap and cost by technical area, from the
    costing rollups: four queries whatever the number of provinces."""
    plans = list(provincial_plans(plan))
    ids = [row.pk for row in plans]
    counts = dict(
        Activity.objects.filter(plan_id__in=ids)
        .order_by()
        .values("plan_id")
        .annotate(n=Count("pk"))
        .values_list("plan_id", "n")
    )
    firm = dict(
        FundingRollup.objects.filter(plan_id__in=ids, status__in=FundingCommitment.FIRM)
        .order_by()
        .values("plan_id")
        .annotate(amount=Sum("amount"))
        .values_list("plan_id", "amount")
    )
    by_area: dict[int, list[tuple[str, str, Decimal]]] = defaultdict(list)
    for cost in (
        CostRollup.objects.filter(plan_id__in=ids)
        .order_by("plan_id", "technical_area__order", "technical_area__code")
        .values("plan_id", "technical_area__code", "technical_area__name", "technical_area__names")
        .annotate(needed=Sum("required", default=ZERO))
    ):
        name = name_in_language(cost["technical_area__name"], cost["technical_area__names"])
        by_area[cost["plan_id"]].append((cost["technical_area__code"], name, cost["needed"]))
    summaries = []
    for row in plans:
        try:
            costing: PlanCosting | None = row.costing
        except PlanCosting.DoesNotExist:
            costing = None
        areas = by_area.get(row.pk, [])
        summaries.append(
            ProvincialSummary(
                plan=row,
                currency=costing.currency if costing else DEFAULT_CURRENCY,
                activities=counts.get(row.pk, 0),
                needed=sum((needed for _code, _name, needed in areas), ZERO),
                firm=firm.get(row.pk) or ZERO,
                by_area=areas,
            )
        )
    return summaries


def guidance_annex(plan: Plan, sections: list[AreaSection]) -> list[GuidanceSection]:
    """Per technical area, the guidance of its activities and the national guidance tied to it; then the national
    guidance tied to nothing: four queries whatever the plan's size."""
    national = list(national_guidance_of(plan))
    activities = [row.activity for section in sections for row in section.activities]
    by_activity = guidance_for_activities(plan=plan, activities=activities, national=national)
    areas = {section.area.pk: section.area for section in sections}
    by_area: dict[int, list[GuidanceDocument]] = defaultdict(list)
    for section in sections:
        by_area[section.area.pk] += [d for row in section.activities for d in by_activity.get(row.activity.pk, [])]
    for document in national:
        for area in document.technical_areas.all():
            areas.setdefault(area.pk, area)  # an area with guidance but nothing else in the document yet
            by_area[area.pk].append(document)
    annex: list[GuidanceSection] = []
    placed: set[int] = set()
    for area in sorted(areas.values(), key=lambda area: (area.order, area.code)):
        unique = sorted({document.pk: document for document in by_area[area.pk]}.values(), key=lambda d: d.rank)
        placed.update(document.pk for document in unique)
        if unique:
            annex.append(GuidanceSection(area=area, documents=unique))
    rest = [document for document in national if document.pk not in placed]
    if rest:
        annex.append(GuidanceSection(area=None, documents=sorted(rest, key=lambda d: d.rank)))
    return annex


def document_data(
    *, plan: Plan, endorsement: Endorsement | None = None, provinces: bool = False, guidance: bool = False
) -> DocumentData:
    """Everything the document shows, read in a constant number of queries whatever the plan's size (and the number
    of provincial plans, when their summaries are asked for)."""
    plan = Plan.objects.select_related("jurisdiction", "framework", "parent").get(pk=plan.pk)
    costing = PlanCosting.objects.filter(plan=plan).first()
    years = list(range(plan.first_year, plan.last_year + 1))
    levels = {row.area.pk: row for row in plan_overview(plan=plan)}
    narratives = {context.technical_area_id: context.narrative for context in PlanContext.objects.filter(plan=plan)}
    by_area = _activity_rows(plan, years)
    dashboard = dashboard_get(plan=plan)
    costs = {row.area_id: row for row in dashboard.by_area}
    areas = [row.area for row in levels.values()]
    known = {area.pk for area in areas}
    extra = set(by_area) - known  # activities of an area outside the plan's framework (imported): still shown
    if extra:
        areas += list(TechnicalArea.objects.filter(pk__in=extra).order_by("order", "code"))
    sections = [
        AreaSection(
            area=area,
            levels=levels.get(area.pk),
            narrative=narratives.get(area.pk, ""),
            activities=by_area.get(area.pk, []),
            costs=costs.get(area.pk),
        )
        for area in areas
        if area.pk in by_area or area.pk in narratives or area.pk in costs or _has_levels(levels.get(area.pk))
    ]
    rows = [row for section in sections for row in section.activities]
    priority_counts: dict[str, int] = defaultdict(int)
    for row in rows:
        priority_counts[row.activity.priority] += 1
    by_priority = [
        (str(label), priority_counts[value]) for value, label in Activity.Rating.choices if priority_counts[value]
    ]
    if priority_counts[""]:
        by_priority.append((gettext("No priority set"), priority_counts[""]))
    return DocumentData(
        plan=plan,
        endorsement=endorsement,
        years=years,
        currency=costing.currency if costing else dashboard.currency,
        narrative=narratives.get(None, ""),
        priorities=list(AreaPriority.objects.filter(plan=plan).select_related("technical_area")),
        groups=list(FunctionalGroup.objects.filter(plan=plan).prefetch_related("technical_areas")),
        sections=sections,
        dashboard=dashboard,
        secretariat=[m for m in membership_list_for_plan(plan=plan) if m.role in SECRETARIAT_ROLES],
        organizations=list(organizations_of(plan).order_by("name")),
        activity_count=len(rows),
        uncosted=sum(1 for row in rows if row.cost is None and not row.optional),
        by_priority=by_priority,
        charts={"areas": area_chart(dashboard), "years": year_chart(dashboard)},
        provinces=provincial_summaries(plan) if provinces else None,
        guidance=guidance_annex(plan, sections) if guidance else None,
        chapters=[chapter for chapter in costing_hooks.document_chapters.send(plan) if chapter is not None],
    )


def _has_levels(row: AreaRow | None) -> bool:
    return row is not None and any(
        current is not None or target is not None for _i, current, target, _source in row.indicators
    )


# --- Charts, drawn here as SVG ---------------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    from django.template.defaultfilters import floatformat

    return str(floatformat(value, "0g"))


def _bars_svg(rows: Iterable[tuple[str, Decimal, Decimal]], *, title: str) -> SafeString:
    """Horizontal bars, one pair per row: what is needed (outline) and what firm funding covers (filled)."""
    rows = list(rows)
    if not rows:
        return mark_safe("")
    scale = max((max(needed, funded) for _label, needed, funded in rows), default=ZERO) or Decimal(1)
    label_width, bar_width, row_height = 70, 330, 18
    height = row_height * len(rows) + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {label_width + bar_width + 100} {height}" '
        f'width="{label_width + bar_width + 100}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (label, needed, funded) in enumerate(rows):
        y = index * row_height + 4
        needed_width = float(needed / scale) * bar_width
        funded_width = float(min(funded, needed if needed else funded) / scale) * bar_width
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 11}" text-anchor="end" font-size="9">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{needed_width:.1f}" height="13" fill="#dbe4f0" stroke="#3b5b8c" '
            'stroke-width="0.6"/>'
            f'<rect x="{label_width}" y="{y}" width="{funded_width:.1f}" height="13" fill="#3b5b8c"/>'
            f'<text x="{label_width + needed_width + 4:.1f}" y="{y + 11}" font-size="8">{escape(_money(needed))}</text>'
        )
    legend_y = height - 8
    parts.append(
        f'<rect x="{label_width}" y="{legend_y - 8}" width="10" height="8" fill="#dbe4f0" stroke="#3b5b8c" '
        'stroke-width="0.6"/>'
        f'<text x="{label_width + 14}" y="{legend_y}" font-size="8">{escape(gettext("Needed"))}</text>'
        f'<rect x="{label_width + 120}" y="{legend_y - 8}" width="10" height="8" fill="#3b5b8c"/>'
        f'<text x="{label_width + 134}" y="{legend_y}" font-size="8">'
        f"{escape(gettext('Committed and disbursed'))}</text>"
        "</svg>"
    )
    return mark_safe("".join(parts))  # noqa: S308  # every piece of text in it is escaped above


def area_chart(dashboard: Dashboard) -> SafeString:
    return _bars_svg(
        ((row.code, row.amounts.needed, row.amounts.firm) for row in dashboard.by_area),
        title=gettext("Needed and funded, by technical area"),
    )


def year_chart(dashboard: Dashboard) -> SafeString:
    return _bars_svg(
        ((str(row.year), row.amounts.needed, row.amounts.firm) for row in dashboard.by_year),
        title=gettext("Needed and funded, by year"),
    )


# --- Rendering -------------------------------------------------------------------------------------------------


def css_string(text: str) -> str:
    """Text as a CSS string literal, safe inside a <style> element."""
    escaped = "".join(c if c.isalnum() or c in " .,;:!?()-–—'’" else f"\\{ord(c):x} " for c in str(text))
    return f'"{escaped}"'


def _page_footer_css() -> str:
    """ "Page 3 of 40" as CSS content, from one translated message whose placeholders become page counters."""
    marker = "\x00"
    message = gettext("Page %(page)s of %(pages)s") % {
        "page": f"{marker}page{marker}",
        "pages": f"{marker}pages{marker}",
    }
    pieces = []
    for index, piece in enumerate(message.split(marker)):
        if index % 2:
            pieces.append(f"counter({piece})")
        elif piece:
            pieces.append(css_string(piece))
    return " ".join(pieces)


@dataclass
class Rendered:
    content: bytes
    pages: int
    fetched: list[str]  # what the renderer read: the product's static files (each once)
    refused: list[str]  # what it asked for and was refused


# --- The document in parts -------------------------------------------------------------------------------------
#
# WeasyPrint keeps the layout of every page of a document until it is written: for a plan of thousands of activities
# that was gigabytes. So the document is rendered in parts: the cover, then runs of chapters (each part holding
# about PART_ROWS table rows), then the contents; each part is laid out, written and freed before the next, and the
# PDFs are joined. The page numbers and the draft mark are printed over the joined pages from one more document,
# margins.html, of as many empty pages with only their margins; the contents' numbers come from where each part's
# anchors fell.

# The anchors of the chapters the contents list, besides the technical areas.
CHAPTERS = (
    "summary",
    "context",
    "priorities",
    "areas",
    "costing",
    "provinces",
    "annex-activities",
    "annex-guidance",
    "annex-people",
)
POINTS = 0.75  # PDF points in a CSS pixel
PART_ROWS = 1200  # table rows in a part: about 30 pages of the annex, a part's layout well under 100 MB


@dataclass
class Block:
    """A run of the document that stays together in one part: a chapter, a run of technical areas, or a run of the
    annex's areas (its first opens the annex's chapter)."""

    kind: str  # summary, context, priorities, areas, costing, provinces, chapter, annex, guidance, people
    sections: list[AreaSection] = field(default_factory=list)
    chapter: costing_hooks.DocumentChapter | None = None  # of kind "chapter": an app above costing's
    first: bool = False
    rows: int = 10


@dataclass
class Part:
    blocks: list[Block] = field(default_factory=list)
    cover: bool = False
    contents: bool = False

    @property
    def rows(self) -> int:
        return sum(block.rows for block in self.blocks)


def _area_rows(section: AreaSection) -> int:
    return 10 + len(section.activities) + (len(section.levels.indicators) if section.levels else 0)


def _annex_rows(section: AreaSection) -> int:
    return 2 + sum(1 + len(row.lines) for row in section.activities)


def _runs(kind: str, sections: list[AreaSection], rows: Any) -> list[Block]:
    """The sections in blocks of at most PART_ROWS rows (a section larger than that alone); always one block."""
    blocks = [Block(kind=kind, first=True, rows=0)]
    for section in sections:
        if blocks[-1].sections and blocks[-1].rows + rows(section) > PART_ROWS:
            blocks.append(Block(kind=kind, rows=0))
        blocks[-1].sections.append(section)
        blocks[-1].rows += rows(section)
    return blocks


def document_parts(data: DocumentData) -> list[Part]:
    """The cover, the contents, then the chapters in parts of about PART_ROWS rows. A plan of a few hundred
    activities is one part after the contents, laid out as one document would be; in a larger one, a new part of
    the annex starts on a new page."""
    blocks = [
        Block(kind="summary"),
        Block(kind="context"),
        Block(kind="priorities", rows=10 + len(data.priorities) + len(data.groups)),
        *_runs("areas", data.sections, _area_rows),
        Block(kind="costing", rows=20 + len(data.years) + len(data.dashboard.by_area)),
        *(
            [Block(kind="provinces", rows=10 + sum(4 + len(row.by_area) for row in data.provinces))]
            if data.provinces is not None
            else []
        ),
        *[Block(kind="chapter", chapter=chapter, rows=chapter.rows) for chapter in data.chapters],
        *_runs("annex", [section for section in data.sections if section.activities], _annex_rows),
        *(
            [Block(kind="guidance", rows=10 + sum(2 + len(row.documents) for row in data.guidance))]
            if data.guidance is not None
            else []
        ),
        Block(kind="people", rows=10 + len(data.secretariat) + len(data.organizations)),
    ]
    parts = [Part(cover=True), Part(contents=True), Part()]
    for block in blocks:
        if parts[-1].blocks and parts[-1].rows + block.rows > PART_ROWS:
            parts.append(Part())
        parts[-1].blocks.append(block)
    return parts


def _context(data: DocumentData) -> dict[str, Any]:
    return {
        "data": data,
        "plan": data.plan,
        "draft": data.endorsement is None,
        "language": translation.get_language() or settings.LANGUAGE_CODE,
        "direction": "rtl" if translation.get_language_bidi() else "ltr",
        "stylesheet": f"/{settings.STATIC_URL.lstrip('/')}{STYLESHEET}",
    }


def document_html(*, data: DocumentData, part: Part | None = None, pages: dict[str, Any] | None = None) -> str:
    """The HTML of one part of the document (of all of it when `part` is None), in the active language (right to
    left for Arabic). `pages` holds the contents' page numbers."""
    if part is None:
        parts = document_parts(data)
        part = Part(cover=True, contents=True, blocks=[block for part in parts for block in part.blocks])
    return render_to_string(TEMPLATE, {**_context(data), "part": part, "pages": pages or {}})


def margins_html(*, data: DocumentData, pages: int) -> str:
    """`pages` empty pages with the document's margins: "Page 3 of 40" at the foot of each but the cover, and the
    draft mark at the head of each page of a plan not endorsed."""
    page_css = f"@page {{ @bottom-center {{ content: {_page_footer_css()}; }} "
    if data.endorsement is None:
        page_css += f"@top-center {{ content: {css_string(_draft_mark())}; }} "
    page_css += "} @page :first { @bottom-center { content: none; } }"
    context = {
        **_context(data),
        "sheets": range(pages),
        "page_css": mark_safe(page_css),  # noqa: S308  # its text comes through css_string, which escapes it
    }
    return render_to_string(MARGINS_TEMPLATE, context)


@dataclass
class _Written:
    pdf: bytes
    pages: int
    anchors: dict[str, int]  # anchor -> the part's page (0-based)
    links: list[tuple[int, str, tuple[float, float, float, float]]]  # (page, anchor, rectangle in PDF points)


def _write(html: str, *, fetcher: Any, fonts: Any) -> _Written:
    """One part laid out and written, its layout freed on return."""
    from weasyprint import HTML

    collecting = gc.isenabled()
    gc.disable()  # the part's boxes all live until it is written: collecting while it is laid out finds nothing
    try:
        document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render(font_config=fonts)
        anchors: dict[str, int] = {}
        links = []
        for number, page in enumerate(document.pages):
            for name in page.anchors:
                anchors.setdefault(name, number)
            for link_type, target, (left, upper, right, lower), _box in page.links:  # its corners, in CSS pixels
                if link_type == "internal":  # to another part: linked once the parts are joined
                    top = page.height * POINTS  # PDF's y runs upwards from the foot of the page
                    corners = (left * POINTS, top - lower * POINTS, right * POINTS, top - upper * POINTS)
                    if (number, target, corners) not in links:  # a link's text and its leader each carry it
                        links.append((number, target, corners))
            page.links[:] = [link for link in page.links if link[0] != "internal"]
        written = _Written(pdf=document.write_pdf(), pages=len(document.pages), anchors=anchors, links=links)
        del document
    finally:
        if collecting:
            gc.enable()
    gc.collect()  # the layout's boxes refer to each other: free them now, before the next part is laid out
    return written


def _contents_pages(data: DocumentData, anchors: dict[str, int], first: int, placeholder: bool) -> dict[str, Any]:
    """The contents' page numbers: each anchor's page in the body, the body starting at page `first` (1-based).
    `placeholder` gives every entry a number as wide as the widest, to learn how many pages the contents take."""
    last = first + max(anchors.values(), default=0)
    number = (lambda anchor: "8" * len(str(last))) if placeholder else (lambda anchor: first + anchors.get(anchor, 0))
    pages: dict[str, Any] = {name.replace("-", "_"): number(name) for name in CHAPTERS}
    pages["sections"] = [(section, number(section.anchor)) for section in data.sections]
    pages["chapters"] = [(chapter, number(chapter.anchor)) for chapter in data.chapters]
    return pages


def _print_over(writer: Any, sheets: Any) -> None:
    """Print each page of `sheets` over the page of the same number in `writer`: the sheet becomes a form drawn
    after the page's own content, which is left as it was written (not decoded, not rewritten), its graphics state
    closed first."""
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

    def stream(data: bytes) -> Any:
        made = DecodedStreamObject()
        made.set_data(data)
        return writer._add_object(made)

    opening = stream(b"q\n")
    for number, (page, sheet) in enumerate(zip(writer.pages, sheets.pages, strict=True)):
        name = f"/NaphsMargins{number}"  # the pages of a part may share one dictionary of resources
        form = sheet["/Contents"].get_object().clone(writer)
        form.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): sheet.mediabox,
                NameObject("/Resources"): sheet.raw_get("/Resources").clone(writer),
            }
        )
        resources = page["/Resources"].get_object()
        xobjects = resources.get("/XObject")
        if xobjects is None:
            xobjects = resources[NameObject("/XObject")] = DictionaryObject()
        xobjects.get_object()[NameObject(name)] = form.indirect_reference
        contents = page.raw_get("/Contents")  # the reference to the page's stream (a stream is never inline)
        own = list(contents.get_object()) if isinstance(contents.get_object(), ArrayObject) else [contents]
        closing = stream(f"\nQ\nq {name} Do Q\n".encode())
        page[NameObject("/Contents")] = ArrayObject([opening, *own, closing])


def document_render(*, data: DocumentData, progress: Progress | None = None) -> Rendered:
    """The document as PDF bytes, in the active language, with its number of pages and the URLs refused: rendered
    part by part (document_parts), the contents last, the margins printed over the joined pages."""
    gc.freeze()  # what exists now (the application, the plan's data) outlives the render: no collection scans it
    try:
        return _render(data=data, progress=progress)
    finally:
        gc.unfreeze()


def _render(*, data: DocumentData, progress: Progress | None) -> Rendered:
    from pypdf import PdfReader, PdfWriter
    from pypdf.annotations import Link
    from pypdf.generic import NameObject, TextStringObject
    from weasyprint.text.fonts import FontConfiguration

    fetcher = static_files_only()
    fonts = FontConfiguration()
    parts = document_parts(data)
    cover = _write(document_html(data=data, part=parts[0]), fetcher=fetcher, fonts=fonts)
    body: list[_Written] = []
    anchors: dict[str, int] = {}
    for index, part in enumerate(parts[2:]):
        if progress is not None:
            progress(
                10 + 65 * index // len(parts),
                gettext("Laying out part %(part)d of %(parts)d") % {"part": index + 1, "parts": len(parts) - 2},
            )
        written = _write(document_html(data=data, part=part), fetcher=fetcher, fonts=fonts)
        offset = sum(done.pages for done in body)
        for name, number in written.anchors.items():
            anchors.setdefault(name, offset + number)
        body.append(written)
    # The contents: first with numbers as wide as the widest, to learn its length, then with the numbers.
    length = _write(
        document_html(data=data, part=parts[1], pages=_contents_pages(data, anchors, 1, placeholder=True)),
        fetcher=fetcher,
        fonts=fonts,
    ).pages
    for _attempt in range(3):  # numbers one digit wider could, at worst, push an entry onto one more page
        first = cover.pages + length + 1
        contents = _write(
            document_html(data=data, part=parts[1], pages=_contents_pages(data, anchors, first, placeholder=False)),
            fetcher=fetcher,
            fonts=fonts,
        )
        if contents.pages == length:
            break
        length = contents.pages
    writer = PdfWriter()
    for written in (cover, contents, *body):
        writer.append(PdfReader(io.BytesIO(written.pdf)), import_outline=True)
    total = len(writer.pages)
    if progress is not None:
        progress(80, ngettext("Writing %(count)d page", "Writing %(count)d pages", total) % {"count": total})
    margins = _write(margins_html(data=data, pages=total), fetcher=fetcher, fonts=fonts)
    if margins.pages != total:
        raise RuntimeError(f"The margins took {margins.pages} pages for a document of {total}.")
    _print_over(writer, PdfReader(io.BytesIO(margins.pdf)))
    start = cover.pages
    for number, anchor, rectangle in contents.links:
        if anchor in anchors:
            writer.add_annotation(start + number, Link(rect=rectangle, target_page_index=first - 1 + anchors[anchor]))
    writer.add_metadata({"/Title": data.plan.title})
    writer.root_object[NameObject("/Lang")] = TextStringObject(_context(data)["language"])
    output = io.BytesIO()
    writer.write(output)
    return Rendered(
        content=output.getvalue(),
        pages=total,
        fetched=list(dict.fromkeys(fetcher.fetched)),
        refused=list(fetcher.refused),
    )


def _draft_mark() -> str:
    # Translators: printed at the top of every page of a plan document that is not endorsed.
    return gettext("DRAFT: not endorsed")


def plan_document_build(*, job: Any, progress: Progress) -> JobResult:
    """The job's handler: the plan's document in the language it was asked in, from the stored render when the
    plan has not changed since, else rendered now and stored."""
    plan = job.plan
    if plan is None:
        raise JobFailed(gettext("This document belongs to a plan, and the job has none."))
    language = str(job.params.get("language") or settings.LANGUAGE_CODE)
    if language not in dict(settings.LANGUAGES):
        raise JobFailed(gettext("This document cannot be made in the language asked for."))
    choices = {"provinces": bool(job.params.get("provinces")), "guidance": bool(job.params.get("guidance"))}
    with translation.override(language):
        endorsement = document_endorsement(plan)
        key = document_key(plan=plan, language=language, endorsement=endorsement, **choices)
        name = _storage_name(plan=plan, language=language, key=key, **choices)
        filename = document_filename(plan=plan, language=language, **choices)
        if default_storage.exists(name):
            progress(90, gettext("The plan has not changed since its last document: using it"))
            with default_storage.open(name, "rb") as stored:
                return JobResult(filename=filename, content=stored.read())
        progress(5, gettext("Reading the plan"))
        data = document_data(plan=plan, endorsement=endorsement, **choices)
        rendered = document_render(data=data, progress=progress)
        progress(95, gettext("Saving"))
        document_store(plan=plan, language=language, key=key, content=rendered.content, **choices)
        return JobResult(filename=filename, content=rendered.content)
