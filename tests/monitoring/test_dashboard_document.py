"""The monitoring dashboard's chapter in the plan document (costing.document through costing.hooks): its charts and
tables, in the contents, and a stored render not served once the monitoring figures have moved."""

from __future__ import annotations

import io

import pytest
from django.utils import translation
from pypdf import PdfReader

from costing.document import document_data, document_html, document_key, document_render
from monitoring.aggregates import monitoring_changed, plan_refresh
from monitoring.dashboard import dashboard_get
from monitoring.document import charts
from tests.costing.conftest import costing, moa_activity, moa_line, moh_activity  # noqa: F401  (fixtures)
from tests.monitoring.test_dashboard import monitored, report  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def test_the_document_has_an_implementation_chapter_with_its_charts(monitored):  # noqa: F811
    with translation.override("en"):
        data = document_data(plan=monitored)
        html = document_html(data=data)

    assert [chapter.anchor for chapter in data.chapters] == ["monitoring"]
    chapter = html.split('<section id="monitoring" class="chapter">')[1].split("</section>")[0]
    assert "Implementation progress" in chapter and "Spending against the budget (USD)" in chapter
    assert 'aria-label="Activities by status, by technical area"' in chapter
    assert 'aria-label="Spent to date against the budget, by technical area"' in chapter
    assert "Indicators against their targets" in chapter and "7-1-7 timeliness" in chapter
    assert "Spent to date: 155, of a costed budget of 2,250" in chapter


def test_the_charts_escape_what_the_plan_says(monitored):  # noqa: F811
    monitored.activities.update(title="x")
    dashboard = dashboard_get(plan=monitored)
    dashboard.by_area[0].key = "<script>"
    svg = charts(dashboard)["status"]
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_a_plan_with_nothing_to_monitor_has_no_such_chapter(plan):
    assert document_data(plan=plan).chapters == []


def test_the_key_moves_when_the_monitoring_figures_are_recomputed(monitored, lead):  # noqa: F811
    before = document_key(plan=monitored, language="en")
    assert document_key(plan=monitored, language="en") == before

    report(monitored.test_objects["moh_provincial"], monitored.test_objects["q2"], lead, "at_risk", 5)
    stale = document_key(plan=monitored, language="en")
    assert stale != before
    assert plan_refresh(plan_id=monitored.pk)
    assert document_key(plan=monitored, language="en") not in (before, stale)
    monitoring_changed(monitored.pk)
    assert document_key(plan=monitored, language="en") != before


def test_the_rendered_document_carries_the_chapter(monitored):  # noqa: F811
    with translation.override("en"):
        rendered = document_render(data=document_data(plan=monitored))
    pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(rendered.content)).pages]
    assert "Implementation progress" in pages[1]  # in the contents
    text = "\n".join(pages[2:])
    assert "Implementation progress" in text
    assert "Activities by status, by technical area" in text
    assert rendered.refused == []
