"""The costing workbook in a real browser, as a focal point uses it: download the workbook of their ministry's
activities, fill it offline, upload it and see the new cost on the activity; then upload a broken workbook and see
every problem listed by sheet, row and column.

Only the plan, its people, an activity and a cost line are set up in Python; the file is edited with openpyxl as
Excel would save it. Jobs run eagerly in the live server's thread when its transaction commits.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from costing.models import CostingUpload, CostLine
from costing.services import cost_line_create, exchange_rate_set, plan_costing_get
from naphs.permissions import Role
from planning.models import Activity, TechnicalArea
from tests.browser.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

SHEET = "P1 Legal Instruments"
UPLOAD_LABEL = "Filled costing workbook (.xlsx)"


@pytest.fixture
def moa_activity(plan, moa, lead):
    plan_costing_get(plan)
    exchange_rate_set(plan=plan, by=lead, currency="EUR", year=2026, rate=Decimal("1.10"))
    return Activity.objects.create(
        plan=plan,
        technical_area=TechnicalArea.objects.get(framework__code="JEE3", code="P1"),
        title="Train border veterinarians",
        responsible_organization=moa,
    )


@pytest.fixture
def venue_line(moa_activity, lead):
    fields = {
        "description": "Workshop venue",
        "category": "meetings",
        "unit": "day",
        "unit_cost": Decimal("250"),
        "currency": "USD",
        "quantity": Decimal("3"),
    }
    return cost_line_create(activity=moa_activity, by=lead, fields=fields, frequencies={2026: 2})


def headings(sheet) -> dict[str, int]:
    return {cell.value: cell.column for cell in sheet[2] if cell.value}


def row_of(sheet, first_cell) -> int:
    return next(row[0].row for row in sheet.iter_rows(min_row=3) if row[0].value == first_cell)


def upload(page: Page, content: bytes, name: str) -> None:
    form = page.locator("form").filter(has=page.get_by_role("button", name="Upload and check"))
    form.get_by_label(UPLOAD_LABEL).set_input_files(
        {
            "name": name,
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": content,
        }
    )
    form.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("heading", name=f"Upload of {name}", level=1)).to_be_visible()


def test_a_focal_point_downloads_fills_and_uploads_the_costing_workbook(page, plan, people, moa_activity, venue_line):
    focal_point = people[Role.FOCAL_POINT]
    log_in(page, focal_point.username)
    expect(page.get_by_role("heading", name="My plans", level=1)).to_be_visible()
    page.goto(f"/plans/{plan.pk}/costing/upload/")
    expect(page.get_by_role("heading", name="Costing workbook", level=1)).to_be_visible()
    expect(page.get_by_text("the activities Ministry of Agriculture")).to_be_visible()

    # Download, through the page: the job's progress, then its link.
    page.get_by_role("button", name="Prepare my costing workbook").click()
    job = page.locator("#workbook-job .job")
    expect(job).to_contain_text("Costing workbook (Excel)")
    link = job.get_by_role("link", name="Download")
    expect(link).to_be_visible(timeout=15_000)
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx") and "-costing-moa-" in download.suggested_filename
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    assert workbook.sheetnames[:2] == ["Instructions", SHEET]

    # Offline: a quantity changed and a line added in a row left empty under the activity.
    sheet = workbook[SHEET]
    columns = headings(sheet)
    sheet.cell(row=row_of(sheet, venue_line.pk), column=columns["Quantity"], value=4)
    new_row = row_of(sheet, venue_line.pk) + 1
    for heading, value in {
        "Description": "Facilitator fees",
        "Category": "Consultancy",
        "Unit": "day",
        "Unit cost": 300,
        "Currency": "EUR",
        "Quantity": 2,
        "Times in 2026": 1,
    }.items():
        sheet.cell(row=new_row, column=columns[heading], value=value)
    filled = io.BytesIO()
    workbook.save(filled)

    upload(page, filled.getvalue(), "costing-moa.xlsx")
    expect(page.get_by_role("heading", name="Saved")).to_be_visible(timeout=15_000)
    summary = page.get_by_role("status").filter(has_text="added")
    expect(summary).to_contain_text(re.compile(r"1\s+line added"))
    expect(summary).to_contain_text(re.compile(r"1\s+line changed"))
    venue_line.refresh_from_db()
    assert venue_line.quantity == Decimal("4")
    new = CostLine.objects.get(activity=moa_activity, description="Facilitator fees")
    assert new.unit_cost_base == Decimal("330")  # 300 EUR at 1.10

    # The activity's costs page shows the new line.
    page.get_by_role("link", name="Train border veterinarians").click()
    expect(page.get_by_text("Facilitator fees").first).to_be_visible()

    # A broken workbook: nothing is saved, and the page says where each problem is.
    sheet.cell(row=row_of(sheet, venue_line.pk), column=columns["Quantity"], value=-3)
    sheet.cell(row=new_row, column=columns["Category"], value="Food")
    broken = io.BytesIO()
    workbook.save(broken)
    page.goto(f"/plans/{plan.pk}/costing/upload/")
    upload(page, broken.getvalue(), "costing-moa-broken.xlsx")
    expect(page.get_by_role("heading", name="2 problems to fix")).to_be_visible(timeout=15_000)
    rows = page.locator("table.upload-problems tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(SHEET)
    expect(rows.nth(0)).to_contain_text("Quantity")
    expect(rows.nth(0)).to_contain_text("-3 is negative.")
    expect(rows.nth(1)).to_contain_text("“Food” is not a cost category")
    expect(page.get_by_text("Nothing was saved", exact=False).first).to_be_visible()
    venue_line.refresh_from_db()
    assert venue_line.quantity == Decimal("4")
    assert CostingUpload.objects.filter(status=CostingUpload.Status.REFUSED).count() == 1
