"""The costing workbook of a French-speaking focal point, in a real browser: the workbook they download is headed
in French, they fill a cost in it offline (openpyxl, as Excel would save it), upload it and read the outcome in
French. The French words are those of the product's catalogues (locale/), and the sheet's the area's own name,
written out here as a French reader reads them; jobs run eagerly in the live server's thread, the same process,
so the job writes with the catalogues the test compiled.
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
from naphs.permissions import Role
from stakeholders.models import User
from tests.browser.pages import log_in
from tests.browser.test_costing import SHEET, headings, moa_activity, row_of, venue_line
from tests.costing.conftest import catalogues_compiled

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]
__all__ = ["catalogues_compiled", "moa_activity", "venue_line"]  # fixtures, used by name

FRENCH_SHEET = "P1 Instruments juridiques"  # the area's French name (TechnicalArea.names)


def test_a_french_speaking_focal_point_costs_in_a_french_workbook(
    page: Page, catalogues_compiled, plan, people, moa_activity, venue_line
):
    focal_point = people[Role.FOCAL_POINT]
    User.objects.filter(pk=focal_point.pk).update(language="fr")
    log_in(page, focal_point.username)
    expect(page.get_by_role("banner").get_by_role("link", name="Mes plans")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.goto(f"/plans/{plan.pk}/costing/upload/")

    page.locator("#download form button[type=submit]").click()
    job = page.locator("#workbook-job .job")
    expect(job).to_contain_text("Classeur de chiffrage (Excel)")
    link = job.get_by_role("link", name=re.compile(r"^Télécharger "))
    expect(link).to_be_visible(timeout=15_000)
    with page.expect_download() as download_info:
        link.click()
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))

    assert workbook.sheetnames[:2] == ["Instructions", FRENCH_SHEET]  # "Instructions": the same word in French
    assert SHEET not in workbook.sheetnames
    sheet = workbook[FRENCH_SHEET]
    columns = headings(sheet)
    for french in (
        "Description",
        "Catégorie",
        "Unité",
        "Coût unitaire",
        "Devise",
        "Quantité",
        "Nombre de fois en 2026",
    ):
        assert french in columns, (french, list(columns))
    assert "Quantity" not in columns and "Unit cost" not in columns
    assert sheet.cell(row=row_of(sheet, venue_line.pk), column=columns["Facultatif (oui/non)"]).value == "non"

    new_row = row_of(sheet, venue_line.pk) + 1
    for heading, value in {
        "Description": "Honoraires du facilitateur",
        "Catégorie": "Consultancy",
        "Unité": "day",
        "Coût unitaire": 300,
        "Devise": "EUR",
        "Quantité": 2,
        "Nombre de fois en 2026": 1,
        "Facultatif (oui/non)": "non",
    }.items():
        sheet.cell(row=new_row, column=columns[heading], value=value)
    filled = io.BytesIO()
    workbook.save(filled)

    form = page.locator("#upload form")
    form.locator("input[type=file]").set_input_files(
        {
            "name": "chiffrage.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": filled.getvalue(),
        }
    )
    form.locator("button[type=submit]").click()

    expect(page.get_by_role("heading", name="Enregistré")).to_be_visible(timeout=15_000)
    summary = page.locator("#upload-outcome").get_by_role("status")
    expect(summary).to_contain_text(re.compile(r"1\s+ligne ajoutée"))
    expect(summary).to_contain_text(re.compile(r"0\s+ligne modifiée"))
    uploaded = CostingUpload.objects.get(uploaded_by=focal_point)
    assert uploaded.status == CostingUpload.Status.APPLIED, uploaded.problems
    new = CostLine.objects.get(activity=moa_activity, description="Honoraires du facilitateur")
    assert new.unit_cost_base == Decimal("330")  # 300 EUR at 1.10
