"""The national plan's document with its provincial plans' summaries: asked for on the document page (a checkbox,
`provinces` in the job's params and in the stored render's key), a chapter with each provincial plan under the plan
and nothing of another country's, read in the same number of queries whatever the number of provinces."""

from __future__ import annotations

import io
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from pypdf import PdfReader

from costing.document import document_data, document_key, document_render, provincial_summaries
from costing.job_kinds import CostingJob
from costing.rollups import plan_rollup
from costing.services import cost_line_create, plan_costing_get
from naphs.models import Job
from planning.models import Activity, Plan
from planning.services import jurisdiction_create
from tests.costing.conftest import area, line_fields

pytestmark = pytest.mark.django_db


def _provincial(plan: Plan, name: str, lead, *, cost: str | None = None, jurisdiction=None) -> Plan:
    child = Plan.objects.create(
        jurisdiction=jurisdiction or jurisdiction_create(level="province", name=name, parent=plan.jurisdiction),
        framework=plan.framework,
        title=f"{name} plan",
        kind="strategic",
        first_year=2026,
        last_year=2030,
        parent=plan,
    )
    plan_costing_get(child)
    if cost:
        activity = Activity.objects.create(plan=child, technical_area=area("P1"), title=f"Train {name} staff")
        cost_line_create(
            activity=activity, by=lead, fields=line_fields(unit_cost=D(cost), quantity=D("1")), frequencies={2026: 1}
        )
        plan_rollup(plan_id=child.pk)
    return child


def test_the_chapter_summarizes_each_provincial_plan_and_nothing_of_another_country(
    plan, costing, moa_line, lead, other_country
):
    plan_rollup(plan_id=plan.pk)
    _provincial(plan, "North", lead, cost="100")
    _provincial(plan, "South", lead)  # not costed yet
    # A plan of another country hung under this one, and an operational plan of the same jurisdiction: neither is a
    # provincial plan of this one.
    _provincial(plan, "Elsewhere", lead, cost="999", jurisdiction=jurisdiction_create(
        level="province", name="Far Province", parent=other_country
    ))  # fmt: skip
    Plan.objects.create(
        jurisdiction=plan.jurisdiction, title="Operational 2026", kind="operational", first_year=2026,
        last_year=2026, parent=plan,
    )  # fmt: skip

    summaries = provincial_summaries(plan)
    assert [row.plan.title for row in summaries] == ["North plan", "South plan"]
    north_row = summaries[0]
    assert (north_row.activities, north_row.needed, north_row.gap) == (1, D("100"), D("100"))
    assert [(code, needed) for code, _name, needed in north_row.by_area] == [("P1", D("100"))]

    with translation.override("en"):
        content = document_render(data=document_data(plan=plan, provinces=True)).content
    pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages]
    text = "\n".join(pages)
    assert "Provincial plans" in pages[1]  # in the contents
    assert "North plan" in text and "South plan" in text and "This plan has not been costed yet." in text
    assert "Far Province" not in text and "Elsewhere plan" not in text and "Operational 2026" not in text
    contents_line = next(line for line in pages[1].splitlines() if line.startswith("Provincial plans"))
    chapter = next(i for i, page in enumerate(pages) if page.lstrip().startswith("Provincial plans"))
    assert contents_line.rstrip(" .").endswith(str(chapter + 1))

    without = document_data(plan=plan)
    assert without.provinces is None


def test_the_summaries_are_read_in_the_same_queries_whatever_the_number_of_provinces(plan, costing, lead):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            document_data(plan=plan, provinces=True)
            document_key(plan=plan, language="en", provinces=True)
        return len(captured)

    _provincial(plan, "North", lead, cost="100")
    few = queries()
    for name in ("South", "East", "West", "Centre"):
        _provincial(plan, name, lead, cost="10")
    assert queries() == few


def test_the_key_follows_the_provincial_plans_only_when_they_are_included(plan, costing, lead):
    north = _provincial(plan, "North", lead, cost="100")
    with_provinces = document_key(plan=plan, language="en", provinces=True)
    alone = document_key(plan=plan, language="en")
    assert with_provinces != alone
    Activity.objects.create(plan=north, technical_area=area("P1"), title="Another activity")
    assert document_key(plan=plan, language="en", provinces=True) != with_provinces
    assert document_key(plan=plan, language="en") == alone


def test_the_page_offers_the_summaries_where_there_are_provincial_plans_and_the_job_carries_the_choice(
    client, plan, costing, people, lead
):
    client.force_login(people["viewer"])
    assert "Include the summaries of the provincial plans" not in client.get(f"/plans/{plan.pk}/document/").text
    client.post(f"/plans/{plan.pk}/document/request/", {"provinces": "on"})  # none to include: asked for without
    assert Job.objects.get(kind=CostingJob.PLAN_DOCUMENT).params == {"language": "en"}

    _provincial(plan, "North", lead, cost="100")
    assert "Include the summaries of the provincial plans" in client.get(f"/plans/{plan.pk}/document/").text
    response = client.post(f"/plans/{plan.pk}/document/request/", {"provinces": "on"})
    job = Job.objects.filter(kind=CostingJob.PLAN_DOCUMENT).latest("pk")
    assert response.status_code == 302 and job.params == {"language": "en", "provinces": True}
    assert client.get(f"/plans/{plan.pk}/document/download/?provinces=1").status_code == 404  # not rendered yet
