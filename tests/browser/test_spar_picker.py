"""Browser test: SPAR results as WHO publishes them, in two steps. The secretariat uploads the table, picks the
country from the list the page makes of it (the plan's own chosen already), and reads what was scored and what the
country did not report."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import Page, expect

from naphs.permissions import Role
from planning.models import Assessment, Framework, IndicatorScore
from tests.browser.pages import field, log_in
from tests.planning.test_spar_published import spar_published, xlsx

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_the_secretariat_uploads_a_spar_table_picks_the_country_and_reads_the_summary(
    page: Page, plan, people, tmp_path
):
    plan.jurisdiction.name = "Pakistan"
    plan.jurisdiction.save()
    assessment = Assessment.objects.create(
        plan=plan, framework=Framework.objects.get(code="SPAR2"), kind="spar", date=datetime.date(2025, 3, 1)
    )
    table = tmp_path / "SPAR_2024.xlsx"
    table.write_bytes(xlsx(spar_published()).getvalue())

    log_in(page, people[Role.SECRETARIAT_MEMBER].username)
    page.goto(f"/plans/{plan.pk}/assessments/{assessment.pk}/")
    form = page.locator("#import-spar")
    field(form, "SPAR results table (.xlsx, .csv or .tsv)").set_input_files(table)
    form.get_by_role("button", name="Upload and choose the country").click()

    expect(page.get_by_role("heading", name="Choose the country whose scores to import", level=1)).to_be_visible()
    countries = page.locator("table.spar-countries tbody tr")
    expect(countries).to_have_count(4)
    expect(page.get_by_role("radio", name="Pakistan", exact=True)).to_be_checked()
    expect(countries.filter(has_text="Pakistan")).to_contain_text("31 of 35")
    expect(countries.filter(has_text="Afghanistan")).to_contain_text("EMR")
    page.get_by_role("radio", name="Afghanistan").check()
    page.get_by_role("radio", name="Pakistan", exact=True).check()  # changing one's mind
    page.get_by_role("button", name="Import the country's scores").click()

    job = page.locator("#import-job")
    summary = job.locator("#spar-summary")
    expect(summary).to_contain_text("Pakistan: 31 indicators scored")
    expect(summary).to_contain_text("4 not reported")
    expect(summary.locator("ul.unreported li")).to_have_text(["C3.2", "C9.3", "C12.1", "C15.1"])
    expect(job).to_be_in_viewport()
    expect(page.locator(".page-header")).to_contain_text("31 of 35 indicators scored")
    assert IndicatorScore.objects.filter(assessment=assessment).count() == 31
