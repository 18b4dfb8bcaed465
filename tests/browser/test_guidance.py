"""Guidance beside the actions in a real browser: a planner opens an activity and, in one click on its WHO tool,
has the tool open in a new tab."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from naphs.permissions import Role
from planning.guidance import platform_guidance_import
from planning.models import Activity, BenchmarkAction, BenchmarkLibrary, Indicator, TechnicalArea
from stakeholders.models import PlanMembership
from tests.browser.pages import log_in, open_plan, plan_nav

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

TOOL_URL = "https://guidance.example.org/files/legal-mapping-tool.pdf"


@pytest.fixture
def activity(plan) -> Activity:
    library = BenchmarkLibrary.objects.create(framework=plan.framework, name="Platform library")
    action = BenchmarkAction.objects.create(
        library=library,
        indicator=Indicator.objects.get(framework=plan.framework, code="P1.1"),
        level=2,
        text="Map the laws that touch health security.",
        action_types=["planning"],
        platform_id=7,
    )
    platform_guidance_import(
        library=library,
        documents=[
            {
                "id": 1,
                "title": "Legal mapping guideline",
                "author": "World Health Organization",
                "date": "2017",
                "download_url": "https://guidance.example.org/files/guideline.pdf",
                "reference_type": "Guideline",
                "benchmark_indicator_action_ids": [7],
            },
            {
                "id": 2,
                "title": "Legal mapping tool",
                "description": "A checklist of the laws to look at.",
                "author": "World Health Organization",
                "date": "2018",
                "relevant_pages": "All",
                "download_url": TOOL_URL,
                "reference_type": "Tool",
                "benchmark_indicator_action_ids": [7],
            },
        ],
        filename="reference_library_documents.json",
    )
    area = TechnicalArea.objects.get(framework=plan.framework, code="P1")
    return Activity.objects.create(
        plan=plan,
        technical_area=area,
        title="Map the health security laws",
        source="benchmark",
        benchmark_action=action,
    )


def test_a_planner_opens_an_activity_and_its_who_tool_in_one_click(page, live_server, plan, people, activity):
    PlanMembership.objects.get(plan=plan, user=people[Role.TECHNICAL_LEAD]).technical_areas.set(
        [activity.technical_area]
    )
    page.context.route(
        "https://guidance.example.org/**", lambda route: route.fulfill(body="the tool", content_type="text/plain")
    )
    log_in(page, people[Role.TECHNICAL_LEAD].email)
    open_plan(page, plan)
    plan_nav(page).get_by_role("link", name="Activities", exact=True).click()
    page.get_by_role("link", name="Map the health security laws").click()

    section = page.get_by_role("region", name="Guidance and tools")
    expect(section).to_be_visible()
    links = section.get_by_role("link").filter(has_text="Legal mapping")
    expect(links.first).to_have_text("Legal mapping tool (opens in a new tab)")  # the tool before the guideline
    expect(section.get_by_text("World Health Organization · 2018 · Pages: All")).to_be_visible()
    with page.context.expect_page() as opened:
        links.first.click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == TOOL_URL
    expect(page.get_by_role("heading", name="Map the health security laws", level=1)).to_be_visible()  # still here
