"""The plan document's annex of guidance and tools: asked for on the document page (a checkbox, `guidance` in the
job's params and in the stored render's key), listing per technical area WHO's documents the activities cite and the
national guidance, each link printed as text (the renderer fetches nothing remote), read in constant queries."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from pypdf import PdfReader

from costing.document import document_data, document_key, document_render
from costing.job_kinds import CostingJob
from naphs.models import Job
from planning.guidance import guidance_create, guidance_update, platform_guidance_import
from planning.models import Activity, BenchmarkAction, BenchmarkLibrary, GuidanceDocument, Indicator
from tests.costing.conftest import area

pytestmark = pytest.mark.django_db


@pytest.fixture
def cited(plan, lead) -> Activity:
    """An activity of P1 drawn from an action WHO's tool cites, and national guidance tied to D2."""
    library = BenchmarkLibrary.objects.create(framework=plan.framework, name="Platform library")
    action = BenchmarkAction.objects.create(
        library=library,
        indicator=Indicator.objects.get(framework=plan.framework, code="P1.1"),
        level=2,
        text="Map the laws.",
        action_types=["planning"],
        platform_id=5,
    )
    platform_guidance_import(
        library=library,
        documents=[
            {
                "id": 1,
                "title": "Legal mapping tool",
                "author": "World Health Organization",
                "date": "2018",
                "download_url": "https://guidance.example.org/tool.pdf",
                "reference_type": "Tool",
                "benchmark_indicator_action_ids": [5],
            },
            {
                "id": 2,
                "title": "A manual no activity cites",
                "download_url": "https://guidance.example.org/other.pdf",
                "reference_type": "Manual",
                "benchmark_indicator_action_ids": [],
            },
        ],
        filename="reference_library_documents.json",
    )
    guidance_create(
        plan=plan,
        by=lead,
        title="National surveillance guide",
        reference_type="guideline",
        link="https://moh.example.org/surveillance.pdf",
        author="Ministry of Health",
        date="2025",
        technical_areas=[area("D2")],
    )
    return Activity.objects.create(
        plan=plan, technical_area=area("P1"), title="Amend the law", source="benchmark", benchmark_action=action
    )


def test_the_annex_lists_the_guidance_by_area_with_its_links_as_text(plan, costing, cited):
    data = document_data(plan=plan, guidance=True)
    assert data.guidance is not None
    assert [(row.area.code if row.area else None, [d.title for d in row.documents]) for row in data.guidance] == [
        ("P1", ["Legal mapping tool"]),
        ("D2", ["National surveillance guide"]),
    ]

    with translation.override("en"):
        rendered = document_render(data=data)
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(rendered.content)).pages)
    squashed = "".join(text.split())  # table cells wrap their text over lines
    assert "Annex: guidance and tools" in text
    assert "Legalmappingtool" in squashed and "https://guidance.example.org/tool.pdf" in squashed
    assert "Nationalsurveillanceguide" in squashed and "MinistryofHealth2025" in squashed
    assert "Amanualnoactivitycites" not in squashed
    assert rendered.refused == []  # nothing remote was asked for
    assert all("example.org" not in url for url in rendered.fetched)

    assert document_data(plan=plan).guidance is None


def test_the_annex_is_read_in_the_same_queries_whatever_the_plans_size(plan, costing, cited, lead):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            document_data(plan=plan, guidance=True)
            document_key(plan=plan, language="en", guidance=True)
        return len(captured)

    few = queries()
    for n in range(6):
        activity = Activity.objects.create(
            plan=plan, technical_area=area("D2"), title=f"Drill {n}", benchmark_action=cited.benchmark_action
        )
        guidance_create(
            plan=plan, by=lead, title=f"Note {n}", reference_type="tool", link="https://moh.example.org/n",
            activities=[activity],
        )  # fmt: skip
    assert queries() == few


def test_the_key_follows_the_guidance_only_when_the_annex_is_included(plan, costing, cited, lead):
    with_guidance = document_key(plan=plan, language="en", guidance=True)
    alone = document_key(plan=plan, language="en")
    assert with_guidance != alone
    document = GuidanceDocument.objects.get(plan=plan)
    guidance_update(document=document, by=lead, version=document.version, title="Revised surveillance guide")
    assert document_key(plan=plan, language="en", guidance=True) != with_guidance
    assert document_key(plan=plan, language="en") == alone


def test_the_page_offers_the_annex_and_the_job_carries_the_choice(client, plan, costing, people):
    client.force_login(people["viewer"])
    assert "Include the annex of guidance and tools" in client.get(f"/plans/{plan.pk}/document/").text
    response = client.post(f"/plans/{plan.pk}/document/request/", {"guidance": "on"})
    job = Job.objects.filter(kind=CostingJob.PLAN_DOCUMENT).latest("pk")
    assert response.status_code == 302 and job.params == {"language": "en", "guidance": True}
