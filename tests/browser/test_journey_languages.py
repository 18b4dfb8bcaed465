"""The main journey in Arabic (right to left) and in French: a secretariat member chooses the language in the
header, records an assessment's scores, sets targets, generates a draft, edits an activity, costs it and sees the
costing dashboard. On every page the direction is the language's, the layout is mirrored (the plan's sidebar on
the right in Arabic), and no English message of the product is left.

The walk finds its way by the page's structure (addresses, names of fields, forms' ids), never by English text,
so that it reads the same in every language.

`test_no_english_message_is_left_on_the_journey` fails on any message of the catalogue left in English on these
pages, and prints each, page by page.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from costing.models import CostLine
from costing.services import plan_costing_get
from naphs.permissions import Role
from planning.libraries import demo_library_load
from planning.models import Activity, Assessment, Indicator, IndicatorScore, IndicatorTarget, TechnicalArea
from tests import translations
from tests.browser.english_left import english_left
from tests.browser.pages import choose_language, log_in, sidebar_side

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

LANGUAGES = [
    pytest.param("ar", "العربية", "rtl", "right", id="ar"),
    pytest.param("fr", "Français", "ltr", "left", id="fr"),
]
SCORED = {"P1.1": "2", "P1.2": "3"}  # JEE 3's P1 (legal instruments); every other indicator at 3
REASON = "Le cadre juridique est révisé d'ici 2028."


@pytest.fixture(autouse=True)
def _catalogues_compiled():
    translations.catalogues_compile()


@pytest.fixture
def library(plan):
    """The demo benchmark library shipped with the product (the flushed database has lost it)."""
    return demo_library_load(framework=plan.framework)[0]


class Journey:
    """The walk's page checks: the direction and side on every page, and what each page left in English."""

    def __init__(self, page: Page, language: str, direction: str, side: str) -> None:
        self.page, self.language, self.direction, self.side = page, language, direction, side
        self.english: dict[str, list[str]] = {}

    def check(self, where: str) -> None:
        page = self.page
        page.wait_for_load_state("networkidle")
        html = page.locator("html")
        expect(html).to_have_attribute("lang", self.language)
        expect(html).to_have_attribute("dir", self.direction)
        assert sidebar_side(page) == self.side, f"{where}: the plan's sidebar is not on the {self.side}"
        if left := english_left(page, self.language):
            self.english[where] = left

    def go(self, section: str) -> None:
        """A page of the plan through its sidebar, by the link's address."""
        page = self.page
        page.locator("aside.plan-nav nav").locator(f"a[href$='/{section}']").click()
        expect(page.locator("aside.plan-nav a[aria-current='page']")).to_have_attribute("href", re.compile(section))

    def report(self) -> str:
        return "\n".join(
            f"{where}:\n" + "\n".join(f"    {msgid!r}" for msgid in found) for where, found in self.english.items()
        )


def submit(page: Page, button) -> None:
    """Sends a form that answers with a page (a redirection after a save), and waits for that page."""
    with page.expect_navigation():
        button.click()


def walk(page: Page, journey: Journey, plan, name: str, moa) -> None:
    """The journey itself, checking every page it reaches (see Journey.check)."""
    base = f"/plans/{plan.pk}/"
    page.get_by_role("link", name=plan.title).click()
    expect(page).to_have_url(re.compile(rf"{base}$"))
    choose_language(page, name, "Change language")
    expect(page).to_have_url(re.compile(rf"{base}$"))  # back on the page the language was chosen on
    journey.check("plan overview")

    # Scores: a JEE assessment, then every indicator's level in its grid.
    journey.go("assessments/")
    journey.check("assessments")
    form = page.locator("form#add-assessment")
    form.locator("select[name=kind]").select_option("jee")
    form.locator("input[name=date]").fill("2025-11-20")
    submit(page, form.locator("button[type=submit]"))
    expect(page.locator("form#score-grid")).to_be_visible()
    journey.check("assessment's score grid")
    grid = page.locator("form#score-grid")
    for select in grid.locator("select").all():
        select.select_option("3")
    for code, level in SCORED.items():
        grid.get_by_label(re.compile(rf"^{re.escape(code)} ")).select_option(level)
    submit(page, grid.locator("button[type=submit]"))
    journey.check("assessment's scores saved")
    assessment = Assessment.objects.get(plan=plan)
    scores = IndicatorScore.objects.filter(assessment=assessment)
    assert scores.count() == Indicator.objects.filter(technical_area__framework=plan.framework).count()
    assert {code: str(scores.get(indicator__code=code).score) for code in SCORED} == SCORED

    # Targets: the defaults, then P1.1 raised to 5 with a reason.
    journey.go("targets/")
    journey.check("targets")
    submit(page, page.locator("form#fill-targets button"))
    expect(page.locator("#targets .badge")).to_have_count(0)  # no default left unset
    p11 = Indicator.objects.get(technical_area__framework=plan.framework, code="P1.1")
    row = page.locator(f"#indicator-{p11.pk}")
    row.locator("select").select_option("5")
    row.locator("textarea").fill(REASON)
    submit(page, page.locator(".save-bar button[type=submit]"))
    expect(page.locator(f"#indicator-{p11.pk} td").nth(2)).to_have_text("5")
    journey.check("targets saved")
    target = IndicatorTarget.objects.get(plan=plan, indicator=p11)
    assert (target.level, target.justification) == (5, REASON)

    # The draft, for P1.
    journey.go("generate/")
    journey.check("generate draft")
    p1 = TechnicalArea.objects.get(framework=plan.framework, code="P1")
    form = page.locator("form#generate")
    form.locator(f"input[name=technical_areas][value='{p1.pk}']").check()
    submit(page, form.locator("button[type=submit]"))
    expect(page.locator("table.activity-table")).to_be_visible()
    journey.check("activities")
    activities = Activity.objects.filter(plan=plan)
    assert activities.exists() and set(activities.values_list("technical_area", flat=True)) == {p1.pk}

    # One activity: high priority, the Ministry of Agriculture responsible.
    page.locator("table.activity-table td.activity-title a").first.click()
    form = page.locator("main form").filter(has=page.locator("select[name=priority]"))
    journey.check("activity")
    form.locator("select[name=priority]").select_option(Activity.Rating.HIGH)
    form.locator("select[name=responsible_organization]").select_option(str(moa.pk))
    submit(page, form.locator("button[type=submit]"))
    expect(page.locator(".messages [role=status]")).to_be_visible()
    journey.check("activity saved")
    activity = Activity.objects.get(plan=plan, priority=Activity.Rating.HIGH)
    assert activity.responsible_organization == moa

    # Its costs: one line, 3 days at 250 in the plan's currency, twice in the first year.
    page.locator(f"main a[href$='/activities/{activity.pk}/costs/']").first.click()
    add = page.locator("form#add-line")
    journey.check("activity's costs")
    add.locator("[name=description]").fill("Atelier de validation")
    add.locator("select[name=category]").select_option("meetings")
    add.locator("select[name=unit]").select_option("day")
    add.locator("[name=unit_cost]").fill("250")
    add.locator("[name=quantity]").fill("3")
    add.locator("fieldset.frequencies input").first.fill("2")
    add.locator("button[type=submit]").click()
    expect(page.locator("#activity-costs table.cost-table tbody tr").first).to_contain_text("Atelier de validation")
    journey.check("activity's costs saved")
    line = CostLine.objects.get(activity=activity)
    assert (line.unit_cost, line.quantity) == (Decimal("250"), Decimal("3"))

    # The costing dashboard shows it.
    journey.go("costing/")
    expect(page.locator(".costing-totals .figure").first).to_be_visible()
    journey.check("costing dashboard")


@pytest.fixture
def costed_plan(plan, library):
    plan_costing_get(plan)  # the plan's costing settings: its base currency and price year
    return plan


@pytest.mark.parametrize(("language", "name", "direction", "side"), LANGUAGES)
def test_the_journey_reads_in_the_chosen_language_and_direction(
    page, costed_plan, people, moa, language, name, direction, side
):
    log_in(page, people[Role.SECRETARIAT_MEMBER].username)
    journey = Journey(page, language, direction, side)
    walk(page, journey, costed_plan, name, moa)
    print(f"English messages left in {language}:\n{journey.report() or '    none'}")


@pytest.mark.parametrize(("language", "name", "direction", "side"), LANGUAGES)
def test_no_english_message_is_left_on_the_journey(page, costed_plan, people, moa, language, name, direction, side):
    log_in(page, people[Role.SECRETARIAT_MEMBER].username)
    journey = Journey(page, language, direction, side)
    walk(page, journey, costed_plan, name, moa)
    assert not journey.english, f"English messages of the product left on pages in {language}:\n{journey.report()}"
