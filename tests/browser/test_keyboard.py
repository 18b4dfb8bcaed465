"""The product with the keyboard only: every step below is Tab, Shift+Tab, Enter, Space, Escape or typing, never a
click. The skip link comes first and leads to the page's content; the account menu opens, is walked and closes;
the plan's navigation is followed; the activity table is sorted without losing one's place; and the row editors
(a cost line's, a member's) open with the focus in them, cancel with Escape and save with Enter, the focus going
back to the row's Edit each time.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Locator, Page, expect

from costing.models import CostLine
from costing.services import cost_line_create, plan_costing_get
from naphs.permissions import Role
from planning.models import Activity, TechnicalArea
from stakeholders.models import PlanMembership
from tests.browser.pages import log_in, open_plan, plan_nav

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]
MOST_TABS = 150  # more than any page here has stops before what the test looks for


def tab_to(page: Page, target: Locator, *, key: str = "Tab") -> None:
    """Presses Tab (or Shift+Tab) until the target has the focus, as someone would; fails if it never does."""
    for _ in range(MOST_TABS):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{target} never took the focus with {key}")


def focused(page: Page) -> Locator:
    return page.locator("*:focus")


@pytest.fixture
def activities(plan, moa, lead):
    """Three activities of P1 and a cost line on the first."""
    plan_costing_get(plan)
    area = TechnicalArea.objects.get(framework=plan.framework, code="P1")
    made = [
        Activity.objects.create(plan=plan, technical_area=area, title=title, responsible_organization=moa)
        for title in ("Review the public health law", "Adopt a regulation on reporting", "Map legal gaps")
    ]
    fields = {
        "description": "Workshop venue",
        "category": "meetings",
        "unit": "day",
        "unit_cost": Decimal("250"),
        "currency": "USD",
        "quantity": Decimal("3"),
    }
    cost_line_create(activity=made[0], by=lead, fields=fields, frequencies={2026: 2})
    return made


def test_the_skip_link_comes_first_and_leads_to_the_content(page, plan, people):
    log_in(page, people[Role.SECRETARIAT_MEMBER].username)
    open_plan(page, plan)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # shown while it has the focus
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    assert focused(page).evaluate("element => element.closest('main') !== null")  # past the header and sidebar


def test_the_account_menu_and_the_plan_navigation_work_with_the_keyboard(page, plan, people):
    member = people[Role.SECRETARIAT_MEMBER]
    log_in(page, member.username)
    expect(page.get_by_role("heading", name="My plans", level=1)).to_be_visible()

    menu = page.get_by_role("banner").locator("details.dropdown")
    tab_to(page, menu.locator("summary"))
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    expect(menu.get_by_role("link", name="Change password")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    expect(menu.locator("summary")).to_be_focused()
    page.keyboard.press("Space")  # a summary opens with Space too; Tab past the last item closes it
    expect(menu).to_have_attribute("open", "")
    tab_to(page, menu.get_by_role("button", name="Log out"))
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(menu.locator("summary")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(menu).not_to_have_attribute("open", "")

    tab_to(page, page.get_by_role("main").get_by_role("link", name=plan.title))
    page.keyboard.press("Enter")
    targets = plan_nav(page).get_by_role("link", name="Targets", exact=True)
    tab_to(page, targets)
    page.keyboard.press("Enter")
    expect(plan_nav(page).get_by_role("link", name="Targets", exact=True)).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", name="Targets", level=1)).to_be_visible()


def test_the_activity_table_sorts_with_the_keyboard_and_keeps_the_focus(page, plan, people, activities):
    log_in(page, people[Role.SECRETARIAT_MEMBER].username)
    open_plan(page, plan)
    tab_to(page, plan_nav(page).get_by_role("link", name="Activities", exact=True))
    page.keyboard.press("Enter")
    table = page.locator("table.activity-table")
    title = table.get_by_role("columnheader").get_by_role("link", name="Title")
    tab_to(page, title)
    page.keyboard.press("Enter")
    expect(table.get_by_role("columnheader", name="Title")).to_have_attribute("aria-sort", "ascending")
    expect(title).to_be_focused()  # the table was swapped in place; the focus stays on its sort link
    first = table.locator("tbody tr").first.locator("td.activity-title")
    expect(first).to_have_text("Adopt a regulation on reporting")
    page.keyboard.press("Enter")
    expect(table.get_by_role("columnheader", name="Title")).to_have_attribute("aria-sort", "descending")
    expect(first).to_have_text("Review the public health law")
    expect(title).to_be_focused()
    tab_to(page, first.get_by_role("link"))  # on past the other columns' links, to the rows
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Review the public health law", level=1)).to_be_visible()


def test_a_cost_line_is_edited_with_the_keyboard(page, plan, people, activities):
    activity = activities[0]
    line = CostLine.objects.get(activity=activity)
    log_in(page, people[Role.SECRETARIAT_MEMBER].username)
    page.goto(f"/plans/{plan.pk}/activities/{activity.pk}/costs/")
    edit = page.get_by_role("button", name="Edit Workshop venue")

    # Enter opens the editor in place of the row, the focus in its first field; Escape closes it.
    tab_to(page, edit)
    page.keyboard.press("Enter")
    editor = page.get_by_role("form", name="Edit Workshop venue")
    expect(editor).to_be_visible()
    expect(editor.locator("select, input:not([type=hidden])").first).to_be_focused()
    page.keyboard.press("Escape")
    expect(editor).to_have_count(0)
    expect(edit).to_be_focused()

    # Space opens it as well; a changed quantity is saved with Enter, and the focus goes back to Edit.
    page.keyboard.press("Space")
    expect(editor).to_be_visible()
    quantity = editor.get_by_label("Quantity")
    tab_to(page, quantity)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    expect(editor).to_have_count(0)
    expect(edit).to_be_focused()
    expect(page.locator(f"#line-{line.pk}")).to_contain_text("2,500.00")  # 250 × 5 × 2
    line.refresh_from_db()
    assert line.quantity == Decimal("5")

    # A refused value keeps the editor open, the focus on the field in error.
    page.keyboard.press("Enter")
    tab_to(page, quantity)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("-1")
    page.keyboard.press("Enter")
    expect(quantity).to_have_attribute("aria-invalid", "true")
    expect(quantity).to_be_focused()
    page.keyboard.press("Escape")
    expect(edit).to_be_focused()
    line.refresh_from_db()
    assert line.quantity == Decimal("5")


def test_a_members_role_is_changed_with_the_keyboard(page, plan, people):
    viewer = people[Role.VIEWER]
    membership = PlanMembership.objects.get(plan=plan, user=viewer)
    log_in(page, people[Role.SECRETARIAT_LEAD].username)
    page.goto(f"/plans/{plan.pk}/members/")
    change = page.get_by_role("button", name=f"Change the role of {viewer}")

    tab_to(page, change)
    page.keyboard.press("Enter")
    role = page.get_by_role("combobox", name=f"Role of {viewer}")
    expect(role).to_be_focused()
    page.keyboard.press("Escape")
    expect(role).to_have_count(0)
    expect(change).to_be_focused()

    page.keyboard.press("Enter")
    expect(role).to_be_focused()
    role.select_option(Role.REVIEWER)  # the list itself, as the keyboard's arrows choose in it
    tab_to(page, page.locator(f"#member-{membership.pk}").get_by_role("button", name="Save"))
    page.keyboard.press("Enter")
    expect(role).to_have_count(0)
    expect(change).to_be_focused()
    membership.refresh_from_db()
    assert membership.role == Role.REVIEWER
