"""Review and endorsement in a real browser: the secretariat opens a round, a reviewer requests changes (in place,
without reloading), the round is closed on to endorsement, the lead endorses after confirming the open thread,
every page then reads the plan as endorsed and offers no edit; the lead reopens it, an activity is changed, and the
comparison of version 1 with the draft shows exactly that change."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from planning.comments import ThreadSubject, thread_start
from planning.models import Activity, Endorsement, Plan, ReviewInvitation, ReviewRound, TechnicalArea
from stakeholders.models import PlanMembership
from tests.browser.pages import field, log_in, open_plan, plan_nav

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def activities(plan, people) -> list[Activity]:
    area = TechnicalArea.objects.get(framework=plan.framework, code="P1")
    return [
        Activity.objects.create(plan=plan, technical_area=area, title="Revise the public health law"),
        Activity.objects.create(plan=plan, technical_area=area, title="Train the IHR focal points"),
    ]


def log_out(page: Page) -> None:
    page.get_by_role("banner").locator("summary").click()
    page.get_by_role("button", name="Log out").click()


def test_a_plan_goes_through_review_to_endorsement_and_is_reopened(page: Page, plan, people, activities):
    due = timezone.localdate() + datetime.timedelta(days=14)

    # The secretariat opens a round for the reviewer.
    log_in(page, "secretariat_lead")
    open_plan(page, plan)
    plan_nav(page).get_by_role("link", name="Review rounds").click()
    form = page.locator("form#round-new")
    form.get_by_role("checkbox", name="Reviewer (Reviewer)").check()
    field(form, "Due date").fill(due.isoformat())
    field(form, "Message to the reviewers").fill("Please review the legislation activities.")
    form.get_by_role("button", name="Open the round").click()
    expect(page.get_by_text("Review round 1 is open")).to_be_visible()
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.IN_REVIEW
    log_out(page)

    # The reviewer requests changes, in place.
    log_in(page, "reviewer")
    page.get_by_role("link", name=f"Review round 1 of {plan.title}").click()  # waiting on their home page
    page.evaluate("window.notReloaded = true")
    verdict = page.locator("#round-verdict")
    verdict.get_by_label("Changes requested").check()
    verdict.get_by_role("button", name="Save my verdict").click()
    expect(verdict.get_by_text("a summary is required with changes requested")).to_be_visible()
    verdict.get_by_label("Summary").fill("The law activity needs a budget line.")
    verdict.get_by_role("button", name="Save my verdict").click()
    expect(page.locator("#round-verdict").get_by_text("Your verdict is saved.")).to_be_visible()
    assert page.evaluate("window.notReloaded === true")
    invitation = ReviewInvitation.objects.get()
    assert (invitation.verdict, invitation.summary) == ("changes_requested", "The law activity needs a budget line.")
    log_out(page)

    # An open thread on the plan: endorsing will ask to confirm.
    lead = PlanMembership.objects.get(plan=plan, user=people["secretariat_lead"])
    thread_start(plan=plan, membership=lead, about=ThreadSubject("plan"), text="Still open at endorsement")

    # The secretariat closes the round on to endorsement; the lead endorses.
    log_in(page, "secretariat_lead")
    open_plan(page, plan)
    plan_nav(page).get_by_role("link", name="Review rounds").click()
    page.get_by_role("link", name="Review round 1").first.click()
    close = page.locator("form#round-close")
    close.get_by_label("On to endorsement").check()
    close.get_by_role("button", name="Close the round").click()
    expect(page.get_by_text("Awaiting endorsement").first).to_be_visible()
    assert ReviewRound.objects.get().state == ReviewRound.State.CLOSED

    plan_nav(page).get_by_role("link", name="Endorsement").click()
    endorse = page.locator("form#endorse")
    field(endorse, "Date of endorsement").fill(timezone.localdate().isoformat())
    field(endorse, "Endorsing authority").fill("Minister of Health")
    expect(page.get_by_text("1 comment thread is still open", exact=False).first).to_be_visible()
    endorse.get_by_role("button", name="Endorse the plan").click()
    expect(page.locator("form#endorse").get_by_text("tick the box", exact=False)).to_be_visible()
    assert not Endorsement.objects.exists()
    endorse = page.locator("form#endorse")
    field(endorse, "Date of endorsement").fill(timezone.localdate().isoformat())
    field(endorse, "Endorsing authority").fill("Minister of Health")
    endorse.get_by_label("I have read the warnings and endorse the plan anyway").check()
    endorse.get_by_role("button", name="Endorse the plan").click()
    expect(page.locator("#endorsed-banner")).to_be_visible()
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.ENDORSED

    # Every page reads it as endorsed and offers no edit.
    plan_nav(page).get_by_role("link", name="Activities", exact=True).click()
    page.get_by_role("link", name=activities[0].title).click()
    expect(page.locator("#endorsed-banner")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.locator("form#thread-new")).to_have_count(0)

    # The lead reopens it, an activity changes, and the comparison shows exactly that.
    plan_nav(page).get_by_role("link", name="Endorsement").click()
    field(page.locator("form#reopen"), "Why is the plan reopened?").fill("The budget law changed the costs.")
    page.locator("form#reopen").get_by_role("button", name="Reopen the plan").click()
    expect(page.locator("#endorsed-banner")).to_have_count(0)
    reopened = Plan.objects.get(pk=plan.pk)
    assert (reopened.status, reopened.edition) == (Plan.Status.DRAFT, 2)
    Activity.objects.filter(pk=activities[1].pk).update(title="Train the IHR focal points twice a year")

    plan_nav(page).get_by_role("link", name="Versions").click()
    page.get_by_role("row", name=re.compile(r"^Version 1")).get_by_role(
        "link", name="Compare with the current draft"
    ).click()
    changes = page.locator("main")
    expect(changes).to_contain_text("Train the IHR focal points twice a year")
    expect(changes).not_to_contain_text("Revise the public health law")
