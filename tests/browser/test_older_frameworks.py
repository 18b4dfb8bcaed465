"""An older assessment in a JEE 3 plan, in a real browser: the secretariat records a JEE 2nd edition assessment,
imports its score sheet, and the targets page shows the carried levels with the approximate crosswalk named."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from naphs.permissions import Role
from planning.models import Assessment
from tests.browser.pages import field, log_in, open_plan
from tests.browser.test_planning import SCORE_SHEET_LABEL, go_to, status

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_a_jee2_assessment_gives_the_jee3_plan_levels_through_the_approximate_crosswalk(
    page: Page, live_server, plan, people, tmp_path
):
    sheet = tmp_path / "jee2_scores.csv"
    sheet.write_text("indicator,score\nP.1.2,3\nP.1.3,2\nD.4.4,4\n")
    log_in(page, people[Role.SECRETARIAT_MEMBER].email)
    open_plan(page, plan)

    go_to(page, "Assessments")
    form = page.locator("form").filter(has=page.get_by_role("button", name="Add assessment"))
    field(form, "Framework").select_option(label="Joint External Evaluation tool, 2nd edition (2018)")
    field(form, "Kind").select_option(label="Joint External Evaluation (JEE)")
    field(form, "Date").fill("2019-06-01")
    form.get_by_role("button", name="Add assessment").click()
    expect(status(page, "added: enter or import its scores")).to_be_visible()
    # The grid is the 2nd edition's: its own codes, as WHO prints them.
    expect(page.get_by_label(re.compile(r"^P\.1\.3 "))).to_be_visible()

    sheet_form = page.locator("form").filter(has=page.get_by_role("button", name="Import scores"))
    field(sheet_form, SCORE_SHEET_LABEL).set_input_files(sheet)
    sheet_form.get_by_role("button", name="Import scores").click()
    expect(status(page, "Imported jee2_scores.csv: 3 scores added or changed.")).to_be_visible()
    assert Assessment.objects.get(plan=plan).framework.code == "JEE2"

    go_to(page, "Targets")
    targets = page.get_by_role("table")
    # JEE 2 P.1.2 (financing for IHR) is JEE 3 P2.1; D.4.4 (FETP) is D3.3.
    for code, level in (("P2.1", "3"), ("P2.2", "2"), ("D3.3", "4")):
        row = targets.get_by_role("row").filter(has=page.get_by_label(f"Target level of {code}", exact=True))
        expect(row.get_by_role("cell").nth(1)).to_have_text(
            re.compile(
                rf"^{level} from the Joint External Evaluation \(JEE\) of 1 Jun 2019 \(JEE2\), through the "
                r"crosswalk JEE 2 – JEE 3 \(approximate\)"
            )
        )
