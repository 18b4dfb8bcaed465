"""The plan document: the whole plan as a PDF, rendered by WeasyPrint in a worker, in the requester's language.

It reads planning's content (context, priorities, groups, levels, activities) and costing's figures (each
activity's costs, the totals and the funding gap of the costing dashboard), so it lives in costing, which may
read planning; planning knows nothing of it.

A render is kept in storage under a key of the plan's content (document_key): asking again for the document of
an unchanged plan serves that file without rendering again. The renderer fetches nothing but the product's own
static files (StaticFilesOnly): user text is escaped by the template, and a URL that reached the renderer
anyway, a file or a remote address, is refused.
"""

from __future__ import annotations

import hashlib
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

from costing.dashboard import AreaRow as CostAreaRow
from costing.dashboard import Dashboard, dashboard_get
from costing.models import CostLine, CostLineYear, ExchangeRate, FundingCommitment, PlanCosting
from naphs.jobs import JobFailed, JobResult, Progress, file_slug
from naphs.permissions import SECRETARIAT_ROLES
from planning.models import (
    Activity,
    AreaPriority,
    Assessment,
    FunctionalGroup,
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
DOCUMENT_FORMAT = 1


def _marks(queryset: QuerySet, *, version: bool = True, updated: bool = False, **extra: Any) -> list[str]:
    """Count, highest id, and the sum of versions (each save adds one) and last update of a set of rows: any
    row added, deleted or saved through a versioned service moves at least one of them."""
    figures: dict[str, Any] = {"n": Count("pk"), "last": Max("pk"), **extra}
    if version:
        figures["versions"] = Sum("version")
    if updated:
        figures["updated"] = Max("updated_at")
    return [str(value) for value in queryset.order_by().aggregate(**figures).values()]


def document_key(*, plan: Plan, language: str, endorsement: Endorsement | None = None) -> str:
    """A digest of everything the document of `plan` in `language` shows, as far as the database records changes.

    What counts as a change: the plan's own row (its version grows with every save) and its jurisdiction's
    name; any activity, target, score, assessment, context, priority, functional group (and the areas in it),
    cost line, exchange rate, funding commitment or membership of the plan added, deleted or saved (count,
    highest id, sum of versions, last update); the plan's costing settings and its totals recomputed
    (`changes`, `rollup_of`, `rollup_at`); the organizations of its directory; the endorsement shown on the
    cover; the template and stylesheet; DOCUMENT_FORMAT. Not counted: a person renaming themselves (the
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
        _source_digest(),
    ]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


_SOURCES: dict[str, str] = {}


def _source_digest() -> str:
    """The template's and the stylesheet's text, as a digest: a new layout makes new documents."""
    if "digest" not in _SOURCES:
        template = Path(get_template(TEMPLATE).origin.name).read_bytes()  # type: ignore[attr-defined]
        stylesheet = static_file_for(BASE_URL + settings.STATIC_URL.lstrip("/") + STYLESHEET).read_bytes()
        _SOURCES["digest"] = hashlib.sha256(template + b"\0" + stylesheet).hexdigest()
    return _SOURCES["digest"]


def organizations_of(plan: Plan) -> QuerySet[Organization]:
    """The organizations the document names: those responsible for an activity of the plan, and its members'."""
    responsible = Activity.objects.filter(plan=plan).values("responsible_organization_id")
    members = PlanMembership.objects.filter(plan=plan).values("organization_id")
    return Organization.objects.filter(Q(pk__in=responsible) | Q(pk__in=members))


def _storage_name(*, plan: Plan, language: str, key: str) -> str:
    return f"documents/plan-{plan.pk}/{language}-{key}.pdf"


def document_stored(*, plan: Plan, language: str, endorsement: Endorsement | None = None) -> str | None:
    """The stored render of the plan as it is now, in `language`: its storage name, or None if there is none."""
    name = _storage_name(
        plan=plan, language=language, key=document_key(plan=plan, language=language, endorsement=endorsement)
    )
    return name if default_storage.exists(name) else None


def document_filename(*, plan: Plan, language: str) -> str:
    return f"{file_slug(plan.title)}-{language}.pdf"


def document_store(*, plan: Plan, language: str, key: str, content: bytes) -> None:
    """Keep the render under its key, and drop the older renders of the plan in that language."""
    name = _storage_name(plan=plan, language=language, key=key)
    folder = name.rsplit("/", 1)[0]
    try:
        _directories, files = default_storage.listdir(folder)
    except FileNotFoundError:
        files = []
    for old in files:
        if old.startswith(f"{language}-") and f"{folder}/{old}" != name:
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


def document_data(*, plan: Plan, endorsement: Endorsement | None = None) -> DocumentData:
    """Everything the document shows, read in a constant number of queries whatever the plan's size."""
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
    )


def _has_levels(row: AreaRow | None) -> bool:
    return row is not None and any(current is not None or target is not None for _i, current, target in row.indicators)


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
    fetched: list[str]  # what the renderer read: the product's static files
    refused: list[str]  # what it asked for and was refused


def document_html(*, data: DocumentData) -> str:
    """The document's HTML, in the active language (right to left for Arabic)."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    draft = data.endorsement is None
    page_css = f"@page {{ @bottom-center {{ content: {_page_footer_css()}; }} "
    if draft:
        page_css += f"@top-center {{ content: {css_string(_draft_mark())}; }} "
    page_css += "} @page :first { @bottom-center { content: none; } }"
    context = {
        "data": data,
        "plan": data.plan,
        "draft": draft,
        "language": language,
        "direction": "rtl" if translation.get_language_bidi() else "ltr",
        "stylesheet": f"/{settings.STATIC_URL.lstrip('/')}{STYLESHEET}",
        "page_css": mark_safe(page_css),  # noqa: S308  # its text comes through css_string, which escapes it
    }
    return render_to_string(TEMPLATE, context)


def document_render(*, data: DocumentData, progress: Progress | None = None) -> Rendered:
    """The document as PDF bytes, in the active language, with its number of pages and the URLs refused."""
    from weasyprint import HTML

    if progress is not None:
        progress(30, gettext("Laying out the document"))
    fetcher = static_files_only()
    document = HTML(string=document_html(data=data), base_url=BASE_URL, url_fetcher=fetcher).render()
    pages = len(document.pages)
    if progress is not None:
        progress(80, ngettext("Writing %(count)d page", "Writing %(count)d pages", pages) % {"count": pages})
    content = document.write_pdf()
    return Rendered(content=content, pages=pages, fetched=list(fetcher.fetched), refused=list(fetcher.refused))


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
    with translation.override(language):
        endorsement = document_endorsement(plan)
        key = document_key(plan=plan, language=language, endorsement=endorsement)
        name = _storage_name(plan=plan, language=language, key=key)
        filename = document_filename(plan=plan, language=language)
        if default_storage.exists(name):
            progress(90, gettext("The plan has not changed since its last document: using it"))
            with default_storage.open(name, "rb") as stored:
                return JobResult(filename=filename, content=stored.read())
        progress(5, gettext("Reading the plan"))
        data = document_data(plan=plan, endorsement=endorsement)
        rendered = document_render(data=data, progress=progress)
        progress(95, gettext("Saving"))
        document_store(plan=plan, language=language, key=key, content=rendered.content)
        return JobResult(filename=filename, content=rendered.content)
