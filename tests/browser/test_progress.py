"""Reporting progress in a real browser, as a focal point does for an open quarter: open the period's page, report
on their ministry's activity in the table's row, see a refused value explained beside its field, correct it and
see the saved report in the row."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from costing.services import exchange_rate_set, plan_costing_get
from monitoring.models import ProgressUpdate, ReportingPeriod
from naphs.permissions import Role
from planning.models import Activity, TechnicalArea
from tests.browser.pages import field, log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def quarter(plan, moa, lead):
    plan_costing_get(plan)
    exchange_rate_set(plan=plan, by=lead, currency="EUR", year=2026, rate=Decimal("1.10"))
    Activity.objects.create(
        plan=plan,
        technical_area=TechnicalArea.objects.get(framework__code="JEE3", code="P1"),
        title="Train border veterinarians",
        responsible_organization=moa,
    )
    return ReportingPeriod.objects.create(
        plan=plan,
        label="2026 Q1",
        starts_on=datetime.date(2026, 1, 1),
        ends_on=datetime.date(2026, 3, 31),
        due_on=datetime.date(2026, 4, 15),
        state=ReportingPeriod.State.OPEN,
    )


def test_a_focal_point_reports_progress_for_an_open_period(page: Page, plan, people, quarter):
    log_in(page, people[Role.FOCAL_POINT].username)
    expect(page.get_by_role("heading", name="My plans", level=1)).to_be_visible()
    page.goto(f"/plans/{plan.pk}/monitoring/periods/{quarter.pk}/progress/")
    expect(page.get_by_role("heading", name="Progress in 2026 Q1", level=1)).to_be_visible()
    row = page.locator("tr", has_text="Train border veterinarians")
    expect(row).to_contain_text("Not reported yet")
    row.get_by_role("button", name="Report progress on Train border veterinarians").click()

    editor = page.get_by_role("form", name="Report progress on Train border veterinarians")
    expect(editor).to_be_visible()
    field(editor, "Status").select_option(label="Completed")
    field(editor, "Percent complete").fill("80")
    field(editor, "Amount spent").fill("1500")
    field(editor, "Currency").select_option("EUR")
    field(editor, "What was done").fill("Two trainings held at the northern border posts.")
    editor.get_by_role("button", name="Save report").click()

    editor = page.get_by_role("form", name="Report progress on Train border veterinarians")
    expect(editor).to_contain_text("A completed activity is 100% complete.")
    assert not ProgressUpdate.objects.exists()
    expect(field(editor, "What was done")).to_have_value("Two trainings held at the northern border posts.")
    field(editor, "Percent complete").fill("100")
    editor.get_by_role("button", name="Save report").click()

    row = page.locator("tr", has_text="Train border veterinarians")
    expect(row).to_contain_text("Completed")
    expect(row).to_contain_text("100%")
    expect(row).to_contain_text("1,500.00 EUR")
    expect(row).to_contain_text("1,650.00 USD")
    report = ProgressUpdate.objects.get()
    assert (report.percent_complete, report.amount_spent_base) == (100, Decimal("1650.00"))
