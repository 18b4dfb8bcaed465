"""Layout on the screens a person reads most, measured in a real browser: the activity table gives its titles
room, an activity's costs fit a 1024 px screen with their years, total and buttons, and the targets page is one
form of a few screens rather than a save button per indicator."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from costing.services import cost_line_create, plan_costing_get
from planning.models import Activity, TechnicalArea
from tests.browser.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

# Titles as long as the demo library's, so the table wraps them as it wraps a real plan's.
TITLES = [
    "Disseminate the updated legal instruments to sector ministries and train their legal officers on applying "
    "them in emergencies.",
    "Review how emergency funds were released during recent outbreaks and document the delays.",
    "Establish a multisectoral coordination mechanism for IHR implementation with terms of reference.",
    "Train rapid response teams at national and intermediate level on investigation and containment.",
]
NO_OVERFLOW = "e => e.scrollWidth <= e.clientWidth + 1"


@pytest.fixture
def activities(plan, moh, moa):
    areas = list(TechnicalArea.objects.filter(framework__code="JEE3").order_by("order")[:6])
    return [
        Activity.objects.create(
            plan=plan,
            technical_area=areas[number % len(areas)],
            title=f"{TITLES[number % len(TITLES)]} ({number + 1})",
            responsible_organization=moh if number % 2 else moa,
            action_type="training",
            priority="high",
        )
        for number in range(12)
    ]


def test_the_activity_table_gives_titles_room_and_fits_beside_the_sidebar(page: Page, plan, lead, activities):
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, lead.username)
    page.goto(f"/plans/{plan.pk}/activities/")
    expect(page.get_by_role("link", name=activities[0].title)).to_be_visible()

    title = page.locator(".activity-table thead th").nth(1)
    expect(title).to_have_text("Title")
    assert title.bounding_box()["width"] >= 250, "the title column is squeezed"
    assert page.locator(".table-wrap").evaluate(NO_OVERFLOW), "the activity table scrolls sideways at 1280 px"
    assert page.evaluate(f"({NO_OVERFLOW})(document.documentElement)")


def test_an_activitys_costs_show_every_year_the_total_and_the_buttons_at_1024_px(page: Page, plan, lead, moh):
    plan_costing_get(plan)
    activity = Activity.objects.create(
        plan=plan,
        technical_area=TechnicalArea.objects.get(framework__code="JEE3", code="P2"),
        title=TITLES[1],
        responsible_organization=moh,
    )
    fields = {
        "description": "Epidemiologist post",
        "category": "personnel",
        "unit": "post-month",
        "unit_cost": Decimal("2200"),
        "currency": "USD",
        "quantity": Decimal("24"),
        "assumptions": "Posts × 12 months a year",
    }
    cost_line_create(activity=activity, by=lead, fields=fields, frequencies=dict.fromkeys(range(2026, 2031), 1))
    page.set_viewport_size({"width": 1024, "height": 768})
    log_in(page, lead.username)
    page.goto(f"/plans/{plan.pk}/activities/{activity.pk}/costs/")

    table = page.locator(".cost-table").first
    expect(table.get_by_role("columnheader", name="2030")).to_be_visible()
    total = table.get_by_role("columnheader", name="Total")
    edit = table.get_by_role("button", name="Edit Epidemiologist post")
    delete = table.get_by_role("button", name="Delete Epidemiologist post")
    for element in (total, edit, delete):
        expect(element).to_be_visible()
        box = element.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1024, "cut off at the right of a 1024 px screen"
    expect(table.locator("tfoot")).to_contain_text("264,000.00")
    assert all(wrap.evaluate(NO_OVERFLOW) for wrap in page.locator(".table-wrap").all()), "a table scrolls sideways"
    assert page.evaluate(f"({NO_OVERFLOW})(document.documentElement)"), "the page scrolls sideways"


def test_the_targets_page_is_one_form_a_few_screens_long(page: Page, plan, lead):
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, lead.username)
    page.goto(f"/plans/{plan.pk}/targets/")

    form = page.locator("#target-edits")
    expect(form.get_by_role("combobox")).to_have_count(56)  # every JEE 3 indicator
    expect(form.get_by_role("button")).to_have_count(1)
    expect(form.get_by_role("button", name="Save targets")).to_be_visible()
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 7000, f"the targets page is {height} px tall"
    assert page.locator(".table-wrap").evaluate(NO_OVERFLOW)
