"""Planning in a real browser, as a new user goes through it: an assessment's scores from a sheet, default
targets, a draft generated from the demo library, and the activities shaped by the secretariat and the leads.

Only the plan, its people and the demo library are set up in Python; everything else goes through the pages.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from naphs.permissions import Role
from planning.libraries import demo_library_load
from planning.models import Activity, Assessment, IndicatorScore, IndicatorTarget, TechnicalArea
from stakeholders.models import PlanMembership
from tests.browser.pages import field, log_in, open_plan, plan_nav

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

DEMO_SCORES = Path(__file__).resolve().parents[2] / "planning" / "reference" / "demo_jee3_scores.csv"
SCORE_SHEET_LABEL = "Score sheet (.xlsx or .csv)"
ACTIVITY_COUNT = re.compile(r"^\d+ activit(y|ies)")


@pytest.fixture
def library(plan):
    """The demo benchmark library shipped with the product (the flushed database has lost it)."""
    return demo_library_load(framework=plan.framework)[0]


def log_out(page: Page) -> None:
    page.get_by_role("banner").locator("summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


def go_to(page: Page, section: str) -> None:
    """A page of the plan through its side navigation."""
    plan_nav(page).get_by_role("link", name=section, exact=True).click()
    expect(plan_nav(page).get_by_role("link", name=section, exact=True)).to_have_attribute("aria-current", "page")


def status(page: Page, text: str | re.Pattern):
    return page.get_by_role("status").filter(has_text=text)


def activity_count(page: Page):
    """The line above the activity table: "12 activities"."""
    return page.get_by_role("status").filter(has_text=ACTIVITY_COUNT)


def activity_rows(page: Page):
    return page.get_by_role("table").get_by_role("row").filter(has=page.get_by_role("cell"))


def add_assessment_with_scores(page: Page, scores: Path) -> None:
    """From the Assessments page: a JEE assessment, then its scores from a two-column sheet."""
    go_to(page, "Assessments")
    expect(page.get_by_role("heading", name="Assessments", level=1)).to_be_visible()
    form = page.locator("form").filter(has=page.get_by_role("button", name="Add assessment"))
    field(form, "Kind").select_option(label="Joint External Evaluation (JEE)")
    field(form, "Date").fill("2025-11-20")
    field(form, "Source").fill("JEE mission report, November 2025")
    form.get_by_role("button", name="Add assessment").click()
    expect(status(page, "added: enter or import its scores")).to_be_visible()
    heading = re.compile(r"^Joint External Evaluation \(JEE\), 20 Nov 2025")
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()

    sheet_form = page.locator("form").filter(has=page.get_by_role("button", name="Import scores"))
    field(sheet_form, SCORE_SHEET_LABEL).set_input_files(scores)
    sheet_form.get_by_role("button", name="Import scores").click()


def generate_draft(page: Page, area_codes: list[str]) -> int:
    """Ticks the areas on the Generate draft page and generates; returns what the page said it would add."""
    go_to(page, "Generate draft")
    expect(page.get_by_role("heading", name="Generate a draft", level=1)).to_be_visible()
    expected = 0
    for code in area_codes:
        checkbox = page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(code)} .* · \d+ to add$"))
        label = checkbox.evaluate("element => element.labels[0].textContent")
        expected += int(re.search(r"· (\d+) to add", label).group(1))
        checkbox.check()
    page.get_by_role("button", name="Generate draft activities").click()
    expect(status(page, "Draft generated from")).to_be_visible()
    expect(page.get_by_role("heading", name="Activities", level=1)).to_be_visible()
    return expected


def test_the_secretariat_goes_from_a_score_sheet_to_a_draft_and_edits_an_activity(
    page, live_server, plan, people, library, moa
):
    log_in(page, people[Role.SECRETARIAT_MEMBER].email)
    open_plan(page, plan)

    # 1. An assessment and its scores, from the demo score sheet.
    add_assessment_with_scores(page, DEMO_SCORES)
    expect(status(page, "Imported demo_jee3_scores.csv: 56 scores added or changed.")).to_be_visible()
    expect(page.get_by_text("56 of 56 indicators scored")).to_be_visible()
    expect(page.get_by_label(re.compile(r"^P1\.1 "))).to_have_value("3")
    expect(page.get_by_label(re.compile(r"^P2\.2 "))).to_have_value("1")
    expect(page.get_by_label(re.compile(r"^P4\.2 "))).to_have_value("5")
    assessment = Assessment.objects.get(plan=plan)
    assert assessment.kind == Assessment.Kind.JEE
    assert IndicatorScore.objects.filter(assessment=assessment).count() == 56

    # Default targets: 4 where the current level is 3 or lower, 5 above, in a five-year plan.
    go_to(page, "Targets")
    targets = page.get_by_role("table")
    expect(targets.get_by_text("default", exact=True).first).to_be_visible()
    page.get_by_role("button", name="Fill default targets").click()
    expect(status(page, "56 default targets set")).to_be_visible()
    expect(targets.get_by_text("default", exact=True)).to_have_count(0)
    p11 = targets.get_by_role("row").filter(has=page.get_by_label("Target level of P1.1", exact=True))
    expect(p11.get_by_role("cell").nth(1)).to_have_text(re.compile(r"^3 from the Joint External Evaluation"))
    expect(p11.get_by_role("cell").nth(2)).to_have_text("4")
    assert IndicatorTarget.objects.filter(plan=plan).count() == 56

    # One target lowered, with its reason.
    reason = "Laboratory staff are recruited only from 2028; level 3 is what the period allows."
    p22 = targets.get_by_role("row").filter(has=page.get_by_label("Target level of P2.2", exact=True))
    p22.get_by_label("Target level of P2.2", exact=True).select_option("3")
    p22.get_by_label("Justification for P2.2", exact=True).fill(reason)
    page.get_by_role("button", name="Save targets").click()  # the one button of the page's one form
    expect(status(page, "Target of P2.2 saved.")).to_be_visible()
    expect(p22.get_by_role("cell").nth(2)).to_have_text("3")
    expect(p22.get_by_role("cell").nth(3)).to_have_text(reason)
    target = IndicatorTarget.objects.get(plan=plan, indicator__code="P2.2")
    assert (target.level, target.justification) == (3, reason)

    # 2. A draft for three technical areas.
    expected = generate_draft(page, ["P1", "P2", "P3"])
    generated = Activity.objects.filter(plan=plan)
    total = generated.count()
    assert total == expected > 0
    assert set(generated.values_list("technical_area__code", flat=True)) == {"P1", "P2", "P3"}
    assert not generated.filter(indicators__code="P2.2", benchmark_action__level=4).exists()
    expect(activity_count(page)).to_have_text(f"{total} activities")
    expect(activity_rows(page)).to_have_count(total)

    # The table filtered by one area, in place.
    page.evaluate("window.__sameDocument = true")
    p2 = TechnicalArea.objects.get(framework=plan.framework, code="P2")
    in_p2 = generated.filter(technical_area=p2).count()
    page.get_by_role("search").get_by_label("Technical area").select_option(label=str(p2))
    expect(activity_count(page)).to_have_text(f"{in_p2} activit{'y' if in_p2 == 1 else 'ies'}")
    rows = activity_rows(page)
    expect(rows).to_have_count(in_p2)
    for index in range(in_p2):
        expect(rows.nth(index).get_by_role("cell").first).to_have_text("P2")
    expect(page).to_have_url(re.compile(rf"[?&]technical_area={p2.pk}\b"))
    assert page.evaluate("window.__sameDocument") is True

    # One activity: priority High, responsible organization the Ministry of Agriculture.
    link = rows.first.get_by_role("link").first  # the title; the cost links to the costs page
    title = link.inner_text()
    link.click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    form = page.locator("form").filter(has=page.get_by_role("button", name="Save activity"))
    field(form, "Priority").select_option(label="High")
    field(form, "Responsible organization").select_option(label=str(moa))
    form.get_by_role("button", name="Save activity").click()
    expect(status(page, f"Activity “{title}” saved.")).to_be_visible()
    expect(page.get_by_text("High priority")).to_be_visible()
    form = page.locator("form").filter(has=page.get_by_role("button", name="Save activity"))
    expect(field(form, "Priority")).to_have_value(Activity.Rating.HIGH)
    expect(field(form, "Responsible organization")).to_have_value(str(moa.pk))
    activity = Activity.objects.get(plan=plan, title=title)
    assert activity.priority == Activity.Rating.HIGH
    assert activity.responsible_organization == moa
    assert activity.technical_area == p2
    assert activity.version == 2

    # The table shows the change.
    page.get_by_role("link", name="← Activities").click()
    row = activity_rows(page).filter(has=page.get_by_role("link", name=title, exact=True))
    expect(row.get_by_role("cell").nth(3)).to_have_text("High")
    expect(row.get_by_role("cell").nth(6)).to_have_text("MOA")
    assert Activity.objects.filter(plan=plan).count() == total


def test_a_score_sheet_with_a_score_out_of_range_is_refused_whole(page, plan, people, tmp_path):
    sheet = tmp_path / "scores_with_a_typo.csv"
    sheet.write_text("indicator,score\nP1.2,2\nP1.1,6\nP2.1,3\n", encoding="utf-8")

    log_in(page, people[Role.SECRETARIAT_MEMBER].username)
    open_plan(page, plan)
    add_assessment_with_scores(page, sheet)

    job = page.locator("#import-job")  # the import's job, checked in the background: every problem it found
    expect(job.get_by_text("Nothing was saved: Sheet “scores_with_a_typo.csv”, row 3, column B")).to_be_visible()
    expect(job).to_be_in_viewport()  # where the page opens after the import, not below the 56-row grid
    assert job.evaluate("e => e.getBoundingClientRect().top") < page.locator("#score-grid").evaluate(
        "e => e.getBoundingClientRect().top"
    )
    problems = job.locator(".import-problems li")
    expect(problems).to_have_text(
        [re.compile(r"^Sheet “scores_with_a_typo\.csv”, row 3, column B: P1\.1: 6 is outside 1 to 5")]
    )
    expect(status(page, "Imported")).to_have_count(0)
    expect(page.get_by_text("0 of 56 indicators scored")).to_be_visible()
    expect(page.get_by_label(re.compile(r"^P1\.2 "))).to_have_value("")
    assert not IndicatorScore.objects.filter(assessment__plan=plan).exists()


def test_a_technical_lead_edits_only_their_area_and_a_reviewer_only_reads(page, plan, people, library, moh):
    lead = people[Role.TECHNICAL_LEAD]
    p1, p2 = TechnicalArea.objects.filter(framework=plan.framework, code__in=["P1", "P2"]).order_by("code")
    PlanMembership.objects.get(plan=plan, user=lead).technical_areas.set([p1])

    # The secretariat prepares a draft for P1 and P2.
    log_in(page, people[Role.SECRETARIAT_MEMBER].username)
    open_plan(page, plan)
    add_assessment_with_scores(page, DEMO_SCORES)
    expect(status(page, "56 scores added or changed")).to_be_visible()
    go_to(page, "Targets")
    page.get_by_role("button", name="Fill default targets").click()
    expect(status(page, re.compile(r"default targets? set"))).to_be_visible()
    generate_draft(page, ["P1", "P2"])
    own = Activity.objects.filter(plan=plan, technical_area=p1).first()
    other = Activity.objects.filter(plan=plan, technical_area=p2).first()
    assert own and other
    log_out(page)

    # The lead edits an activity of P1 ...
    log_in(page, lead.username)
    open_plan(page, plan)
    go_to(page, "Activities")
    expect(plan_nav(page).get_by_role("link", name="Generate draft")).to_have_count(0)
    activity_rows(page).get_by_role("link", name=own.title, exact=True).click()
    expect(page.get_by_role("heading", name=own.title, level=1)).to_be_visible()
    form = page.locator("form").filter(has=page.get_by_role("button", name="Save activity"))
    field(form, "Status").select_option(label="Planned")
    field(form, "Responsible organization").select_option(label=str(moh))
    form.get_by_role("button", name="Save activity").click()
    expect(status(page, f"Activity “{own.title}” saved.")).to_be_visible()
    own.refresh_from_db()
    assert (own.status, own.responsible_organization) == (Activity.Status.PLANNED, moh)

    # ... and sees one of P2 read-only.
    page.get_by_role("link", name="← Activities").click()
    activity_rows(page).get_by_role("link", name=other.title, exact=True).click()
    expect(page.get_by_role("heading", name=other.title, level=1)).to_be_visible()
    expect(page.get_by_text("You edit the activities of your own technical areas; this one is in P2.")).to_be_visible()
    expect(page.get_by_role("button", name="Save activity")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Delete activity"))).to_have_count(0)
    # None of the activity's own fields is offered (the comments' form below is, to every member but viewers).
    for name in ("title", "description", "status", "priority", "responsible_organization", "start_date"):
        expect(page.get_by_role("main").locator(f'[name="{name}"]')).to_have_count(0)
    log_out(page)

    # A reviewer reads the activities, changes nothing, and is offered no draft to generate.
    log_in(page, people[Role.REVIEWER].username)
    open_plan(page, plan)
    expect(plan_nav(page).get_by_role("link", name="Generate draft")).to_have_count(0)
    go_to(page, "Targets")
    expect(page.get_by_role("link", name=re.compile("Generate draft"))).to_have_count(0)
    expect(page.get_by_role("button", name="Fill default targets")).to_have_count(0)
    go_to(page, "Activities")
    total = Activity.objects.filter(plan=plan).count()
    expect(activity_count(page)).to_have_text(f"{total} activities")
    expect(page.get_by_role("link", name=re.compile("Add activity"))).to_have_count(0)
    activity_rows(page).get_by_role("link", name=own.title, exact=True).click()
    expect(page.get_by_role("heading", name=own.title, level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Save activity")).to_have_count(0)
    for name in ("status", "priority", "responsible_organization"):  # a reviewer comments, and edits no field
        expect(page.get_by_role("main").locator(f'[name="{name}"]')).to_have_count(0)
    expect(page.get_by_role("definition").filter(has_text="Planned").first).to_be_visible()
    expect(page.get_by_text("Ministry of Health (MOH)")).to_be_visible()
