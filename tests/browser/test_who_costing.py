"""The WHO NAPHS planning and costing tool in a real browser, as the secretariat uses it: export the plan in the
tool's sheet and find WHO's header on row 6; import a ministry's filled copy (built in WHO's shape) and see what it
created; import one with merged cells among the activity rows and see the problem by sheet, row and column, with
nothing saved. Jobs run eagerly in the live server's thread when its transaction commits.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from costing.models import CostingUpload, CostLine
from costing.services import plan_costing_get
from naphs.permissions import Role
from planning.models import Activity, TechnicalArea
from tests.browser.pages import log_in
from tests.costing.test_who import HEADERS, _as_xlsm, ministry_workbook

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

UPLOAD_LABEL = "The WHO costing tool, filled (.xlsx or .xlsm)"


def upload(page: Page, workbook: openpyxl.Workbook, name: str) -> None:
    buffer = io.BytesIO()
    workbook.save(buffer)
    content = _as_xlsm(buffer.getvalue()) if name.endswith(".xlsm") else buffer.getvalue()
    form = page.locator("#who-import form")
    form.get_by_label(UPLOAD_LABEL).set_input_files(
        {
            "name": name,
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": content,
        }
    )
    form.get_by_role("button", name="Import").click()


def test_the_secretariat_exports_the_tool_and_imports_a_ministrys_filled_copy(page, plan, people, moh):
    plan_costing_get(plan)
    Activity.objects.create(
        plan=plan,
        technical_area=TechnicalArea.objects.get(framework__code="JEE3", code="P1"),
        title="Draft the animal health bill",
    )
    log_in(page, people[Role.SECRETARIAT_LEAD].username)
    expect(page.get_by_role("heading", name="My plans", level=1)).to_be_visible()
    page.goto(f"/plans/{plan.pk}/costing/who/")
    expect(page.get_by_role("heading", name="WHO costing tool layout", level=1)).to_be_visible()

    page.get_by_role("button", name="Export in the WHO costing tool").click()
    link = page.locator("#who-export-job").get_by_role("link", name="Download")
    expect(link).to_be_visible(timeout=15_000)
    with page.expect_download() as download_info:
        link.click()
    exported = openpyxl.load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    assert exported.sheetnames == ["Costing Tool"]
    assert [cell.value for cell in exported["Costing Tool"][6]][:26] == HEADERS

    # As WHO distributes the tool: macro-enabled, its macros never run.
    upload(page, ministry_workbook(), "costing-tool-moh.xlsm")
    done = page.locator(".job").filter(has_text="costing-tool-moh.xlsm")
    expect(done).to_contain_text(re.compile(r"4\s+cost lines created"), timeout=15_000)
    expect(done).to_contain_text("1 row had costs per year or a total typed over the tool's formulas")
    assert CostLine.objects.filter(plan=plan, description="Workshop").exists()

    broken = ministry_workbook()
    broken["COSTING TOOL"].merge_cells("D9:E9")
    upload(page, broken, "costing-tool-merged.xlsx")
    refused = page.locator(".job").filter(has_text="costing-tool-merged.xlsx")
    expect(refused).to_contain_text("Nothing was imported.", timeout=15_000)
    problem = refused.locator("tr").filter(has_text="merged cells D9:E9")
    expect(problem).to_contain_text("COSTING TOOL")
    expect(problem).to_contain_text("9")
    assert CostingUpload.objects.filter(status=CostingUpload.Status.REFUSED).count() == 1
    assert CostLine.objects.filter(plan=plan).count() == 4
