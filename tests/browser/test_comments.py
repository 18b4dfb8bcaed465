"""Comments in a real browser: a reviewer comments on an activity, a refused comment says why, the secretariat
replies to the thread and resolves it; each step without reloading the page (htmx)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from planning.models import Activity, CommentThread, TechnicalArea
from tests.browser.pages import field, log_in, open_plan, plan_nav

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def activity(plan, people) -> Activity:
    area = TechnicalArea.objects.get(framework=plan.framework, code="P1")
    return Activity.objects.create(plan=plan, technical_area=area, title="Revise the public health law")


def mark_page(page: Page) -> None:
    """A mark on the loaded document: it is gone if the page reloads."""
    page.evaluate("window.notReloaded = true")


def not_reloaded(page: Page) -> bool:
    return page.evaluate("window.notReloaded === true")


def test_a_reviewer_comments_and_the_secretariat_replies_and_resolves_without_reloading(page: Page, plan, activity):
    log_in(page, "reviewer")
    open_plan(page, plan)
    plan_nav(page).get_by_role("link", name="Activities", exact=True).click()
    page.get_by_role("link", name=activity.title).click()
    comments = page.get_by_role("region", name="Comments")
    expect(comments.get_by_text("No comments yet.")).to_be_visible()
    mark_page(page)

    form = comments.locator("form#thread-new")
    field(form, "Comment").fill("Looks fine <script>alert(1)</script>")
    form.get_by_role("button", name="Comment").click()
    expect(comments.get_by_text("A comment is plain text: HTML such as <script> is not allowed.")).to_be_visible()
    assert not CommentThread.objects.exists()

    field(comments.locator("form#thread-new"), "Comment").fill("Which **law** is meant, @secretariat_lead?")
    comments.locator("form#thread-new").get_by_role("button", name="Comment").click()
    thread = comments.locator("article.thread")
    expect(thread).to_have_count(1)
    expect(thread.locator("strong")).to_have_text("law")
    expect(thread.locator(".mention")).to_have_text("@secretariat_lead")
    expect(comments.get_by_text("No comments yet.")).to_have_count(0)
    expect(field(comments.locator("form#thread-new"), "Comment")).to_have_value("")
    assert not_reloaded(page)

    page.get_by_role("banner").locator("summary").click()
    page.get_by_role("button", name="Log out").click()
    log_in(page, "secretariat_lead")
    open_plan(page, plan)
    plan_nav(page).get_by_role("link", name="Comments", exact=True).click()
    mark_page(page)
    thread = page.locator("article.thread")
    expect(thread.get_by_role("heading", name=f"Activity: {activity.title}")).to_be_visible()
    thread.get_by_label("Reply").fill("The 2005 public health act.")
    thread.get_by_role("button", name="Reply").click()
    expect(thread.locator(".comment")).to_have_count(2)
    expect(thread.locator(".comment").nth(1)).to_contain_text("The 2005 public health act.")

    thread.get_by_role("button", name="Resolve thread").click()
    expect(thread.locator("[data-state]")).to_have_text("Resolved")
    expect(thread.get_by_role("button", name="Reopen thread")).to_be_visible()
    assert not_reloaded(page)
    saved = CommentThread.objects.get()
    assert (saved.state, saved.comments.count(), saved.resolved_by.username) == ("resolved", 2, "secretariat_lead")

    thread.get_by_role("button", name="Reopen thread").click()
    expect(thread.locator("[data-state]")).to_have_text("Open")
    assert not_reloaded(page)
