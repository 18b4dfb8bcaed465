"""Monitoring's chapter in the plan document (costing.document, through costing.hooks): implementation progress with
the chart of activities by status per technical area, spending against the budget, indicators against their
targets and 7-1-7 timeliness, drawn as SVG from the dashboard's stored figures (monitoring.dashboard)."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db.models import Count, Max, Sum
from django.template.loader import get_template, render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from costing import hooks
from monitoring.dashboard import STATUSES, Dashboard, dashboard_get, status_label
from monitoring.models import MonitoringState, ReportingPeriod
from planning.models import Plan

TEMPLATE = "monitoring/dashboard/document.html"
ANCHOR = "monitoring"
ZERO = Decimal("0")
# The statuses' colours, as the dashboard's stylesheet draws them (the document's SVG carries its own fills).
COLOURS = {
    "not_started": "#b0bec5",
    "on_track": "#4a7fb5",
    "delayed": "#f9a825",
    "at_risk": "#c0392b",
    "completed": "#2e7d32",
    "cancelled": "#6d4c41",
    "": "#eceff1",
}
MET, MISSED, NONE = "#2e7d32", "#c0392b", "#eceff1"


def _stacked_svg(rows: list[tuple[str, list[tuple[int, str]]]], *, title: str, legend: list[tuple[str, str]]) -> str:
    """Horizontal stacked bars, one per row, each part's width its share of the row's total."""
    if not rows:
        return ""
    label_width, bar_width, row_height = 70, 330, 16
    height = row_height * len(rows) + 12 + 12 * ((len(legend) + 3) // 4)
    width = label_width + bar_width + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for index, (label, values) in enumerate(rows):
        y = index * row_height + 4
        total = sum(value for value, _colour in values)
        parts.append(f'<text x="{label_width - 6}" y="{y + 10}" text-anchor="end" font-size="8">{escape(label)}</text>')
        x = float(label_width)
        for value, colour in values:
            if not value or not total:
                continue
            part = value / total * bar_width
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{part:.1f}" height="11" fill="{colour}"/>')
            x += part
        parts.append(f'<text x="{label_width + bar_width + 4}" y="{y + 10}" font-size="8">{total}</text>')
    legend_y = row_height * len(rows) + 14
    for index, (label, colour) in enumerate(legend):
        x, y = label_width + (index % 4) * 85, legend_y + (index // 4) * 12
        parts.append(
            f'<rect x="{x}" y="{y - 7}" width="8" height="8" fill="{colour}" stroke="#90a4ae" stroke-width="0.4"/>'
            f'<text x="{x + 11}" y="{y}" font-size="7">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _money_svg(rows: list[tuple[str, Decimal, Decimal]], *, title: str) -> str:
    """Pairs of bars: the budget (outline) and what was spent (filled) per row."""
    rows = [row for row in rows if row[1] or row[2]]
    if not rows:
        return ""
    scale = max(max(budget, spent) for _label, budget, spent in rows) or Decimal(1)
    label_width, bar_width, row_height = 70, 330, 16
    height = row_height * len(rows) + 24
    width = label_width + bar_width + 100
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for index, (label, budget, spent) in enumerate(rows):
        y = index * row_height + 4
        budget_width, spent_width = (float(value / scale) * bar_width for value in (budget, spent))
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 10}" text-anchor="end" font-size="8">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{budget_width:.1f}" height="11" fill="#dbe4f0" stroke="#3b5b8c" '
            'stroke-width="0.6"/>'
            f'<rect x="{label_width}" y="{y + 2}" width="{spent_width:.1f}" height="7" fill="#3b5b8c"/>'
        )
    legend_y = height - 8
    parts.append(
        f'<rect x="{label_width}" y="{legend_y - 8}" width="10" height="8" fill="#dbe4f0" stroke="#3b5b8c" '
        f'stroke-width="0.6"/><text x="{label_width + 14}" y="{legend_y}" font-size="8">'
        f"{escape(gettext('Budget'))}</text>"
        f'<rect x="{label_width + 120}" y="{legend_y - 8}" width="10" height="8" fill="#3b5b8c"/>'
        f'<text x="{label_width + 134}" y="{legend_y}" font-size="8">{escape(gettext("Spent to date"))}</text></svg>'
    )
    return "".join(parts)


def charts(dashboard: Dashboard) -> dict[str, SafeString]:
    """The chapter's charts as SVG; every piece of text in them is escaped."""
    status_legend = [(status_label(status), COLOURS[status]) for status in STATUSES]
    drawn = {
        "status": _stacked_svg(
            [(row.key, [(row.counts[s], COLOURS[s]) for s in STATUSES]) for row in dashboard.by_area],
            title=gettext("Activities by status, by technical area"),
            legend=status_legend,
        ),
        "spending": _money_svg(
            [(row.key, row.budget, row.spent) for row in dashboard.by_area],
            title=gettext("Spent to date against the budget, by technical area"),
        ),
        "indicators": _stacked_svg(
            [
                (
                    row.label,
                    [
                        (row.counts["met"], MET),
                        (row.counts["not_met"], MISSED),
                        (row.counts["no_data"] + row.counts["no_target"], NONE),
                    ],
                )
                for row in dashboard.indicators
            ],
            title=gettext("Indicators against their targets"),
            legend=[
                (gettext("Target met"), MET),
                (gettext("Target not met"), MISSED),
                (gettext("No value or no target"), NONE),
            ],
        ),
        "timeliness": _stacked_svg(
            [(row.label, [(row.met, MET), (row.missed, MISSED), (row.pending, NONE)]) for row in dashboard.timeliness]
            if dashboard.events
            else [],
            title=gettext("7-1-7 timeliness"),
            legend=[(gettext("met"), MET), (gettext("missed"), MISSED), (gettext("pending"), NONE)],
        ),
    }
    return {name: mark_safe(svg) for name, svg in drawn.items()}  # noqa: S308  # built above, its text escaped


def monitoring_chapter(plan: Plan) -> hooks.DocumentChapter | None:
    """The chapter on implementation, from the plan's stored monitoring figures; None while there is nothing to
    say (no activity, indicator or event counted yet)."""
    dashboard = dashboard_get(plan=plan)
    if dashboard.empty:
        return None
    context: dict[str, Any] = {"dashboard": dashboard, "state": dashboard.state, "charts": charts(dashboard)}
    rows = 30 + len(dashboard.by_area) * 2 + len(dashboard.periods) + len(dashboard.indicators) + 3
    return hooks.DocumentChapter(
        anchor=ANCHOR,
        title=gettext("Implementation progress"),
        html=mark_safe(render_to_string(TEMPLATE, context)),  # noqa: S308  # a template's output, escaped as usual
        rows=rows,
    )


_SOURCE: dict[str, str] = {}


def monitoring_marks(plan: Plan) -> list[str]:
    """What the chapter shows, as far as the database records changes: the plan's monitoring figures recomputed,
    its reporting periods (their states and dates) and the chapter's template."""
    if "digest" not in _SOURCE:
        origin = get_template(TEMPLATE).origin.name  # type: ignore[attr-defined]
        _SOURCE["digest"] = hashlib.sha256(Path(origin).read_bytes()).hexdigest()
    state = MonitoringState.objects.filter(plan=plan).values_list("changes", "aggregates_of", "computed_at").first()
    periods = (
        ReportingPeriod.objects.filter(plan=plan)
        .order_by()
        .aggregate(n=Count("pk"), last=Max("pk"), versions=Sum("version"), due=Max("due_on"))
    )
    return [_SOURCE["digest"], *(str(value) for value in state or ()), *(str(value) for value in periods.values())]


def connect() -> None:
    """From MonitoringConfig.ready."""
    hooks.document_chapters.connect(monitoring_chapter)
    hooks.document_marks.connect(monitoring_marks)
