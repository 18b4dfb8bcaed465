"""The WHO NAPHS planning and costing tool, as WHO distributes it: the export is its one sheet "Costing Tool"
(title block, group labels, WHO's header on row 6, the explanatory row, the activity rows with the tool's
formulas, the totals block, the cost builder), values worked out by hand; exporting then importing loses nothing;
a ministry's filled workbook, built here in WHO's shape, imports unchanged; every kind of bad input is named by
sheet, row and column with nothing saved; and only the secretariat imports."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from costing.job_kinds import CostingJob
from costing.models import CostingUpload, CostLine, CostLineYear
from costing.services import cost_line_create
from costing.who import who_workbook, who_workbook_import
from naphs.models import AuditEvent, Job
from naphs.permissions import Role
from naphs.services import job_create
from naphs.spreadsheets import ImportRefused
from planning.models import Activity, Indicator, IndicatorTarget, Plan
from stakeholders.models import PlanMembership
from tests.costing.conftest import area, line_fields
from tests.naphs.test_worker import start_worker, worker  # noqa: F401  (the suite's real-worker fixtures)

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET = "Costing Tool"
HEADER_ROW = 6
# WHO's header row, A to Z, for a plan of 2026–2030; then the cost builder and the product's ID.
HEADERS = [
    "Indicator",
    "Objectives",
    "Summary of Key Activities (Strategic actions)",
    "Detailed activity description (input description for costing)",
    "Detailed cost assumptions (including units, unit costs, quantities, frequency, etc.)",
    "Responsible authority for Implementation (budget holder)",
    "Implementation scale (National, regional, district, sub-national?)",
    "Comments1 (Potential challenges, comments on implementation arrangements, other)",
    "Comments2 (Potential challenges, comments on implementation arrangements, other)",
    "Related existing plan/ framework / Programme or on-going activities",
    "Existing budget(y/n)",
    "Existing budget source (government, donor?)",
    "Estimated cost (Local currency)",
    "2026",
    "2027",
    "2028",
    "2029",
    "2030",
    "Cost estimate 2026",
    "Cost estimate 2027",
    "Cost estimate 2028",
    "Cost estimate 2029",
    "Cost estimate 2030",
    "TotalOver5Years",
    "CostCategory1",
    "CostCategory2",
]
EXPORT_HEADERS = [*HEADERS, None, "Unit cost", "Quantity/Number of units", None, "NAPHS Planner ID"]


def indicator(code: str) -> Indicator:
    return Indicator.objects.get(framework__code="JEE3", code=code)


@pytest.fixture
def costed_plan(plan, costing, lead, moa, moh, moa_activity, moh_activity, moa_line):
    """The test plan, costed:

    P1.1 "Train border veterinarians" (MOA, provincial, towards P1.1 targeted at level 4): 250 USD × 3 days,
      twice in 2026 and once in 2027: 1,500 + 750 = 2,250.
    P1.2 "Draft the animal health bill": no cost.
    D1.1 "Equip the reference laboratory" (MOH): 100 EUR of 2027 (1.20 USD) × 2 = 240 USD a time, once in 2028
      and three times in 2030: 240 + 720 = 960.
    """
    moa_activity.indicators.set([indicator("P1.1")])
    Activity.objects.filter(pk=moa_activity.pk).update(
        implementation_level="provincial",
        related_programme="One Health programme",
        existing_budget=True,
        existing_budget_source="World Bank grant",
    )
    IndicatorTarget.objects.create(plan=plan, indicator=indicator("P1.1"), level=4)
    Activity.objects.create(plan=plan, technical_area=area("P1"), title="Draft the animal health bill")
    cost_line_create(
        activity=moh_activity,
        by=lead,
        fields=line_fields(
            description="PCR analysers",
            category="equipment",
            secondary_category="supplies",
            unit="item",
            unit_cost=Decimal("100"),
            currency="EUR",
            price_year=2027,
            quantity=Decimal("2"),
            assumptions="Two analysers for the reference laboratory",
            technical_comment="Real-time PCR",
            costing_comment="Quote from 2027",
        ),
        frequencies={2028: 1, 2030: 3},
    )
    return plan


def export(plan: Plan):
    return load_workbook(io.BytesIO(who_workbook(plan)))


def rows_of(sheet, first: int = HEADER_ROW + 2) -> list[list]:
    return [list(row) for row in sheet.iter_rows(min_row=first, values_only=True)]


def as_dict(row: list) -> dict:
    return {title: value for title, value in zip(EXPORT_HEADERS, row, strict=False) if title}


def workbook_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run_import(plan: Plan, by, content: bytes, filename: str = "who.xlsx"):
    return who_workbook_import(plan=plan, by=by, upload=io.BytesIO(content), filename=filename)


def refused_problems(plan: Plan, by, workbook) -> dict[tuple[str, int | None, str], str]:
    """Import a workbook that must be refused; {(sheet, row, column): message}, and nothing was saved."""
    before = snapshot(plan)
    with pytest.raises(ImportRefused) as refused:
        run_import(plan, by, workbook_bytes(workbook) if not isinstance(workbook, bytes) else workbook)
    assert snapshot(plan) == before
    return {(p.sheet, p.row, p.column): p.message for p in refused.value.problems}


@pytest.fixture
def fresh_plan(country, jee3, lead) -> Plan:
    fresh = Plan.objects.create(
        framework=jee3, jurisdiction=country, title="Testland NAPHS, second draft", first_year=2026, last_year=2030
    )
    PlanMembership.objects.create(plan=fresh, user=lead, role=Role.SECRETARIAT_LEAD)
    return fresh


def snapshot(plan: Plan) -> dict:
    """What an import could change: activities, lines and their years, versions included, and the audit trail."""
    return {
        "activities": sorted(Activity.objects.filter(plan=plan).values_list("pk", "version", "title")),
        "lines": sorted(
            CostLine.objects.filter(plan=plan).values_list(
                "pk", "version", "unit", "unit_cost", "currency", "quantity", "optional", "import_key"
            )
        ),
        "years": sorted(
            CostLineYear.objects.filter(cost_line__plan=plan).values_list("cost_line_id", "year", "frequency", "amount")
        ),
        "audit": AuditEvent.objects.filter(plan=plan).count(),
    }


def totals_by_activity(plan: Plan) -> dict:
    rows = (
        CostLineYear.objects.filter(cost_line__plan=plan)
        .values_list("cost_line__activity__technical_area__code", "cost_line__activity__title", "year")
        .annotate(total=Sum("amount"))
    )
    return {(code, title, year): total for code, title, year, total in rows if total}


# --- A ministry's filled workbook, in WHO's shape --------------------------------------------------------------


def ministry_workbook() -> Workbook:
    """The tool as a ministry fills it: WHO's title block and merged group labels, the header on row 6 (with a
    ministry's own case and line breaks), the explanatory row, the Indicator and Objectives merged down over the
    rows of one indicator, a second row of an activity with its Summary left empty, the cost builder to the right
    (M a formula over it), formulas in S–X, a typed total that is wrong, a totals block, WHO's hidden list sheet
    and an empty second sheet.

    P1 "Review the public health law": a workshop, 50 USD × 20 participants × 3 days once in 2026 (3,000), and
      a legal consultant, 4,000 once in 2027. P1 "Validate the revised law": 1,500 twice in 2028 (3,000).
    P2 "Cost the plan" (by its indicator's code, P.2.1): 2,000 once in 2029.
    """
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "COSTING TOOL"
    sheet["A1"] = (
        "PLANNING AND COSTING TOOL FOR THE DEVELOPMENT OF NATIONAL ACTION PLAN FOR HEALTH SECURITY 2026 - 2030"
    )
    sheet.merge_cells("A1:Z1")
    sheet["A2"] = "PREVENT"
    sheet.merge_cells("A2:Z2")
    sheet["A3"] = "General Objective: a legal framework that supports the IHR"
    sheet.merge_cells("A3:Z3")
    sheet["A5"], sheet["B5"] = "TECHNICAL AREA", "Legal Instruments"
    sheet.merge_cells("B5:L5")
    sheet["N5"] = "Frequency per year of implementation"
    sheet.merge_cells("N5:R5")
    sheet["S5"] = "Annual Cost Estimates"
    sheet.merge_cells("S5:X5")
    headers = list(HEADERS)
    headers[0] = "INDICATOR"
    headers[2] = "Summary of key activities\n(Strategic actions)"
    headers[12] = "Estimated cost  (Local currency)"
    for column, title in enumerate(headers, start=1):
        sheet.cell(row=6, column=column, value=title)
    sheet["AB6"], sheet["AC6"], sheet["AD6"] = "Unit cost", "Quantity/Number of units", "Number of days"
    sheet["C7"], sheet["M7"], sheet["N7"], sheet["S7"] = "Key actions", "Formula", "Number of times per year", "Formula"
    rows = {
        8: {"C": "Review the public health law", "D": "Workshop", "F": "MOH", "G": "National", "M": "=AB8*AC8*AD8",
            "N": 1, "Y": "Meetings", "AB": 50, "AC": 20, "AD": 3},
        9: {"D": "Legal consultant", "E": "20 days at 200", "M": 4000, "N": 0, "O": 1, "Y": "Consultancy"},
        10: {"C": "Validate the revised law", "D": "Validation meeting", "M": 1500, "P": 2, "Y": "Meetings"},
        11: {"A": "P.2.1: Financial resources", "B": "Funds for the plan", "C": "Cost the plan", "M": 2000, "Q": 1,
             "Y": "Consultancy", "Z": "Personnel"},
    }  # fmt: skip
    sheet["A8"], sheet["B8"] = "P1.1 Legal instruments", "Up-to-date legislation"
    sheet.merge_cells("A8:A10")
    sheet.merge_cells("B8:B10")
    for number, cells in rows.items():
        for letter, value in cells.items():
            sheet[f"{letter}{number}"] = value
        for year, letter in enumerate("STUVW"):
            sheet[f"{letter}{number}"] = f"=M{number}*{'NOPQR'[year]}{number}"
        sheet[f"X{number}"] = f"=SUM(S{number}:W{number})"
    sheet["X10"] = 9999  # typed over the formula, and wrong: recomputed
    for number in (12, 15):  # rows the tool prefilled with its formulas, left empty (one below the totals)
        for year, letter in enumerate("STUVW"):
            sheet[f"{letter}{number}"] = f"=M{number}*{'NOPQR'[year]}{number}"
        sheet[f"X{number}"] = f"=SUM(S{number}:W{number})"
    sheet["A13"] = "TOTAL"
    sheet.merge_cells("A13:L13")
    for letter in "STUVWX":
        sheet[f"{letter}13"] = f"=SUM({letter}8:{letter}11)"
    sheet["A14"] = "Grand total"
    lists = workbook.create_sheet("Lists")
    lists.append(["National"])
    lists.append(["Regional"])
    lists.sheet_state = "hidden"
    workbook.create_sheet("Sheet2")
    return workbook


def test_a_ministrys_filled_workbook_imports_unchanged(fresh_plan, lead, moh):
    report = run_import(fresh_plan, lead, workbook_bytes(ministry_workbook()))
    assert report.summary == {
        "activities_created": 3,
        "activities_changed": 0,
        "activities_unchanged": 0,
        "lines_created": 4,
        "lines_changed": 0,
        "lines_unchanged": 0,
        "amounts_recomputed": 1,
    }
    assert totals_by_activity(fresh_plan) == {
        ("P1", "Review the public health law", 2026): Decimal("3000.00"),
        ("P1", "Review the public health law", 2027): Decimal("4000.00"),
        ("P1", "Validate the revised law", 2028): Decimal("3000.00"),
        ("P2", "Cost the plan", 2029): Decimal("2000.00"),
    }
    review = Activity.objects.get(plan=fresh_plan, title="Review the public health law")
    assert (review.responsible_organization, review.implementation_level) == (moh, "national")
    assert review.description == "Up-to-date legislation"
    assert list(review.indicators.values_list("code", flat=True)) == ["P1.1"]
    validate = Activity.objects.get(plan=fresh_plan, title="Validate the revised law")
    assert list(validate.indicators.values_list("code", flat=True)) == ["P1.1"]  # the merged cell covers it
    workshop = CostLine.objects.get(plan=fresh_plan, description="Workshop")
    assert (workshop.unit_cost, workshop.quantity, workshop.currency) == (Decimal("50.00"), Decimal("60.00"), "USD")
    consultant = CostLine.objects.get(plan=fresh_plan, description="Legal consultant")
    assert (consultant.activity, consultant.unit, consultant.unit_cost) == (review, "lump sum", Decimal("4000.00"))
    assert consultant.assumptions == "20 days at 200"
    costing = CostLine.objects.get(plan=fresh_plan, description="Cost the plan")
    assert (costing.category, costing.secondary_category) == ("consultancy", "personnel")
    assert costing.activity.technical_area.code == "P2"
    assert list(costing.activity.indicators.values_list("code", flat=True)) == ["P2.1"]

    # The same workbook again changes nothing.
    before = snapshot(fresh_plan)
    again = run_import(fresh_plan, lead, workbook_bytes(ministry_workbook()))
    assert snapshot(fresh_plan) == before
    assert not again.changed_anything


def test_a_workbook_without_the_explanatory_row_reads_its_first_activity_row(fresh_plan, lead, moh):
    workbook = ministry_workbook()
    sheet = workbook["COSTING TOOL"]
    sheet.unmerge_cells("A8:A10")
    sheet.unmerge_cells("B8:B10")
    for column in range(1, 31):
        sheet.cell(row=7, column=column).value = None
    sheet.move_range("A8:AD15", rows=-1, translate=True)  # row 7 is now the workshop, its M a builder formula
    report = run_import(fresh_plan, lead, workbook_bytes(workbook))
    assert report.summary["lines_created"] == 4
    assert CostLine.objects.get(plan=fresh_plan, description="Workshop").quantity == Decimal("60.00")


def test_an_indicator_left_empty_on_the_following_rows_carries_down_but_not_past_an_area(fresh_plan, lead, moh):
    """WHO's tool leaves the Indicator and Objectives empty under the first row of an indicator; a band row of
    another area starts afresh, and a row there without a Summary continues nothing."""
    workbook = ministry_workbook()
    sheet = workbook["COSTING TOOL"]
    for cells in ("A8:A10", "B8:B10"):
        sheet.unmerge_cells(cells)
    run_import(fresh_plan, lead, workbook_bytes(workbook))
    validate = Activity.objects.get(plan=fresh_plan, title="Validate the revised law")
    assert list(validate.indicators.values_list("code", flat=True)) == ["P1.1"]
    assert validate.description == "Up-to-date legislation"

    sheet["A11"], sheet["B11"] = "TECHNICAL AREA", "D1 National Laboratory System"  # a band row before row 12
    sheet.move_range("A11:AD15", rows=1, translate=True)
    sheet["A11"], sheet["B11"] = "TECHNICAL AREA", "D1 National Laboratory System"
    for letter in ("A", "C"):
        sheet[f"{letter}12"] = None  # row 12: no indicator, no Summary, right under the band
    found = refused_problems(fresh_plan, lead, workbook)
    assert "no Summary of key activities, and no activity above this row" in found[("COSTING TOOL", 12, "C")]


# --- Export --------------------------------------------------------------------------------------------------


def test_the_export_is_whos_costing_tool_sheet_with_its_header_formulas_and_totals(costed_plan):
    workbook = export(costed_plan)
    assert workbook.sheetnames == [SHEET]
    sheet = workbook[SHEET]
    assert sheet["A1"].value == (
        "PLANNING AND COSTING TOOL FOR THE DEVELOPMENT OF NATIONAL ACTION PLAN FOR HEALTH SECURITY   2026 - 2030"
    )
    merged = {str(cells) for cells in sheet.merged_cells.ranges}
    assert {"A1:Z1", "A2:Z2", "N5:R5", "S5:X5"} <= merged
    assert all(int(str(cells).rsplit(":", 1)[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) <= 5 for cells in merged)
    assert sheet["A2"].value == "PREVENT / DETECT"
    assert "amounts in USD at 2026 prices" in sheet["A4"].value
    assert (sheet["A5"].value, sheet["N5"].value, sheet["S5"].value) == (
        "TECHNICAL AREA",
        "Frequency per year of implementation",
        "Annual Cost Estimates",
    )
    assert [cell.value for cell in sheet[HEADER_ROW]] == EXPORT_HEADERS
    assert (sheet["N7"].value, sheet["S7"].value) == ("Number of times per year", "Formula – do not type")

    rows = rows_of(sheet)
    assert rows[0][:2] == ["TECHNICAL AREA", "P1 Legal Instruments"]  # row 8: the band of the area
    training = as_dict(rows[1])
    assert training == {
        "Indicator": "P1.1 Legal instruments",
        "Objectives": "Legal Instruments: by 2030, reach level 4 (demonstrated capacity) in P1.1 Legal instruments",
        "Summary of Key Activities (Strategic actions)": "Train border veterinarians",
        "Detailed activity description (input description for costing)": "Workshop venue",
        "Detailed cost assumptions (including units, unit costs, quantities, frequency, etc.)": None,
        "Responsible authority for Implementation (budget holder)": "Ministry of Agriculture",
        "Implementation scale (National, regional, district, sub-national?)": "Provincial",
        "Comments1 (Potential challenges, comments on implementation arrangements, other)": None,
        "Comments2 (Potential challenges, comments on implementation arrangements, other)": None,
        "Related existing plan/ framework / Programme or on-going activities": "One Health programme",
        "Existing budget(y/n)": "Y",
        "Existing budget source (government, donor?)": "World Bank grant",
        "Estimated cost (Local currency)": "=AB9*AC9",  # the cost builder's unit cost × quantity
        "2026": 2,
        "2027": 1,
        "2028": 0,
        "2029": 0,
        "2030": 0,
        "Cost estimate 2026": "=M9*N9",
        "Cost estimate 2027": "=M9*O9",
        "Cost estimate 2028": "=M9*P9",
        "Cost estimate 2029": "=M9*Q9",
        "Cost estimate 2030": "=M9*R9",
        "TotalOver5Years": "=SUM(S9:W9)",
        "CostCategory1": "Meetings and workshops",
        "CostCategory2": None,
        "Unit cost": 250,
        "Quantity/Number of units": 3,
        "NAPHS Planner ID": "P1.1.1",
    }
    bill = as_dict(rows[2])  # an activity without cost lines: one row, no cost
    assert bill["NAPHS Planner ID"] == "P1.2.1"
    assert bill["Summary of Key Activities (Strategic actions)"] == "Draft the animal health bill"
    assert bill["Objectives"] == "Legal Instruments"
    assert all(bill[title] is None for title in HEADERS[12:])
    assert rows[3][:2] == ["TECHNICAL AREA", "D1 National Laboratory System"]
    analysers = as_dict(rows[4])
    assert analysers["NAPHS Planner ID"] == "D1.1.1"
    assert (analysers["Unit cost"], analysers["Quantity/Number of units"]) == (120, 2)  # 100 EUR × 1.20
    assert analysers["Estimated cost (Local currency)"] == "=AB12*AC12"
    assert [analysers[str(year)] for year in range(2026, 2031)] == [0, 0, 1, 0, 3]
    assert (analysers["CostCategory1"], analysers["CostCategory2"]) == ("Equipment", "Supplies and commodities")
    assert analysers["Existing budget(y/n)"] is None
    totals = as_dict(rows[5])
    assert totals["Indicator"] == "TOTAL"
    assert [totals[f"Cost estimate {year}"] for year in (2026, 2030)] == ["=SUM(S8:S12)", "=SUM(W8:W12)"]
    assert totals["TotalOver5Years"] == "=SUM(X8:X12)"
    assert len(rows) == 6


def test_text_that_looks_like_a_formula_is_exported_as_text(costed_plan, fresh_plan, lead, moa_activity):
    hyperlink = '=HYPERLINK("http://attacker.example/steal","Click for details")'
    Activity.objects.filter(pk=moa_activity.pk).update(title=hyperlink)
    CostLine.objects.filter(activity=moa_activity).update(description="+1 vehicle", assumptions="@SUM(A1:A9)")
    sheet = export(costed_plan)[SHEET]
    for column, text in (("C", hyperlink), ("D", "+1 vehicle"), ("E", "@SUM(A1:A9)")):
        cell = sheet[f"{column}9"]
        assert (cell.value, cell.data_type) == (text, "s")
    # Text, not a formula, so the workbook imports as it is, and the title stays the same text.
    run_import(fresh_plan, lead, who_workbook(costed_plan))
    assert Activity.objects.filter(plan=fresh_plan, title=hyperlink).exists()
    assert CostLine.objects.get(plan=fresh_plan, description="+1 vehicle").assumptions == "@SUM(A1:A9)"


def test_the_export_job_runs_for_any_member_through_the_page_and_the_api(
    client, api_client, costed_plan, people, django_capture_on_commit_callbacks
):
    client.force_login(people[Role.VIEWER])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("who_costing_export", kwargs={"plan_id": costed_plan.pk}))
    assert response.status_code == 302
    job = Job.objects.get(plan=costed_plan, kind=CostingJob.WHO_COSTING_EXPORT)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result_name.endswith("-who-costing.xlsx")
    assert load_workbook(job.result.path).sheetnames == [SHEET]
    page = client.get(reverse("who_costing", kwargs={"plan_id": costed_plan.pk}))
    assert reverse("job_download", kwargs={"job_id": job.pk}) in page.content.decode()

    api_client.force_authenticate(people[Role.REVIEWER])
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"/api/plans/{costed_plan.pk}/who-export/")
    assert response.status_code == 202
    assert response.json()["kind"] == CostingJob.WHO_COSTING_EXPORT
    assert Job.objects.get(pk=response.json()["id"]).status == Job.Status.SUCCEEDED


def test_the_export_reads_a_fixed_number_of_queries_however_many_activities(
    costed_plan, lead, moh, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        who_workbook(costed_plan)
    for number in range(20):
        activity = Activity.objects.create(
            plan=costed_plan, technical_area=area("D2"), title=f"Activity {number}", responsible_organization=moh
        )
        activity.indicators.set([indicator("D2.1")])
        cost_line_create(activity=activity, by=lead, fields=line_fields(), frequencies={2026: 1})
    with django_assert_max_num_queries(12):
        who_workbook(costed_plan)


def test_a_plan_longer_than_five_years_is_refused_with_a_reason(costed_plan, lead, django_capture_on_commit_callbacks):
    Plan.objects.filter(pk=costed_plan.pk).update(last_year=2031)
    costed_plan.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(kind=CostingJob.WHO_COSTING_EXPORT, by=lead, plan=costed_plan)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.message.startswith("This plan runs 6 years (2026–2031), and the WHO costing tool layout holds five.")
    with pytest.raises(ImportRefused, match="holds five"):
        run_import(costed_plan, lead, b"PK\x03\x04 not read")


def test_an_operational_plan_leaves_the_years_after_its_end_empty(country, jee3, lead, moh):
    short = Plan.objects.create(
        framework=jee3, jurisdiction=country, title="Year one", kind="operational", first_year=2026, last_year=2027
    )
    activity = Activity.objects.create(plan=short, technical_area=area("P1"), title="Hold the launch meeting")
    cost_line_create(activity=activity, by=lead, fields=line_fields(), frequencies={2026: 1, 2027: 2})
    sheet = export(short)[SHEET]
    assert sheet["A1"].value.endswith("2026 - 2027")
    assert [cell.value for cell in sheet[HEADER_ROW]][13:18] == ["2026", "2027", "2028", "2029", "2030"]
    (band, row, totals) = rows_of(sheet)
    assert (band[0], totals[0]) == ("TECHNICAL AREA", "TOTAL")
    assert row[13:18] == [1, 2, None, None, None]
    assert row[18] == "=M9*N9"


# --- Import ----------------------------------------------------------------------------------------------------


def test_an_export_imported_into_a_fresh_plan_gives_back_its_activities_and_costs(costed_plan, fresh_plan, lead, moa):
    content = who_workbook(costed_plan)
    report = run_import(fresh_plan, lead, content)
    assert report.summary == {
        "activities_created": 3,
        "activities_changed": 0,
        "activities_unchanged": 0,
        "lines_created": 2,
        "lines_changed": 0,
        "lines_unchanged": 0,
        "amounts_recomputed": 0,
    }
    assert (
        totals_by_activity(fresh_plan)
        == totals_by_activity(costed_plan)
        == {
            ("P1", "Train border veterinarians", 2026): Decimal("1500.00"),
            ("P1", "Train border veterinarians", 2027): Decimal("750.00"),
            ("D1", "Equip the reference laboratory", 2028): Decimal("240.00"),
            ("D1", "Equip the reference laboratory", 2030): Decimal("720.00"),
        }
    )
    training = Activity.objects.get(plan=fresh_plan, title="Train border veterinarians")
    assert training.technical_area.code == "P1"
    assert training.responsible_organization == moa
    assert (training.implementation_level, training.related_programme) == ("provincial", "One Health programme")
    assert (training.existing_budget, training.existing_budget_source) == (True, "World Bank grant")
    assert list(training.indicators.values_list("code", flat=True)) == ["P1.1"]
    assert Activity.objects.get(plan=fresh_plan, title="Draft the animal health bill").cost_lines.count() == 0
    analysers = CostLine.objects.get(plan=fresh_plan, description="PCR analysers")
    assert (analysers.unit_cost, analysers.quantity, analysers.currency) == (Decimal("120.00"), Decimal("2.00"), "USD")
    assert (analysers.category, analysers.secondary_category) == ("equipment", "supplies")
    assert (analysers.assumptions, analysers.technical_comment, analysers.costing_comment) == (
        "Two analysers for the reference laboratory",
        "Real-time PCR",
        "Quote from 2027",
    )
    assert analysers.recurrence == "recurring"
    assert analysers.import_key == "who:D1.1.1"
    # The fresh plan exports what it was given, cell for cell, from the header down.
    again = export(fresh_plan)[SHEET]
    original = load_workbook(io.BytesIO(content))[SHEET]
    assert rows_of(again, HEADER_ROW) == rows_of(original, HEADER_ROW)


def test_exporting_then_importing_loses_nothing(costed_plan, lead, moh_activity):
    """Several areas, activities with and without lines, cost-builder lines and lump sums, optional lines and
    every optional field: the plan imports its own export and nothing changes (lines keep their own unit,
    currency and catalogue item, found by activity and description)."""
    cost_line_create(
        activity=moh_activity,
        by=lead,
        fields=line_fields(
            description="Laboratory manual",
            category="communication",
            unit="lump sum",
            unit_cost=Decimal("5000"),
            quantity=Decimal("1"),
            recurrence="one_off",
            optional=True,
            costing_comment="Printing included",
        ),
        frequencies={2027: 1},
    )
    before = snapshot(costed_plan)
    content = who_workbook(costed_plan)
    report = run_import(costed_plan, lead, content)
    assert snapshot(costed_plan) == before
    assert (report.summary["lines_unchanged"], report.changed_anything) == (3, False)
    # And the export after the import is the export before it.
    assert rows_of(export(costed_plan)[SHEET], 1) == rows_of(load_workbook(io.BytesIO(content))[SHEET], 1)


def test_importing_the_same_file_again_changes_nothing(costed_plan, fresh_plan, lead):
    content = who_workbook(costed_plan)
    run_import(fresh_plan, lead, content)
    before = snapshot(fresh_plan)
    report = run_import(fresh_plan, lead, content)
    assert snapshot(fresh_plan) == before
    assert report.summary["activities_unchanged"] == 3
    assert report.summary["lines_unchanged"] == 2
    assert not report.changed_anything


def test_an_edited_row_changes_its_line_and_a_row_added_below_adds_one(costed_plan, fresh_plan, lead):
    """A ministry changes a unit cost in the cost builder, and adds a row under an activity without a Summary or
    an ID: a new cost of that activity."""
    run_import(fresh_plan, lead, who_workbook(costed_plan))
    workbook = export(fresh_plan)
    sheet = workbook[SHEET]
    sheet["AB9"] = 260  # was 250: 260 × 3 = 780 a time
    sheet.move_range("A10:AE13", rows=1, translate=True)  # a new row 10, formulas below moved with their rows
    sheet["D10"], sheet["M10"], sheet["P10"], sheet["Y10"] = "Facilitator fees", 300, 2, "consultancy"

    report = run_import(fresh_plan, lead, workbook_bytes(workbook))

    assert (report.summary["lines_changed"], report.summary["lines_created"]) == (1, 1)
    totals = totals_by_activity(fresh_plan)
    assert totals[("P1", "Train border veterinarians", 2026)] == Decimal("1560.00")
    assert totals[("P1", "Train border veterinarians", 2028)] == Decimal("600.00")
    fees = CostLine.objects.get(plan=fresh_plan, description="Facilitator fees")
    assert (fees.category, fees.activity.title) == ("consultancy", "Train border veterinarians")
    venue = CostLine.objects.get(plan=fresh_plan, description="Workshop venue")
    assert (venue.unit_cost, venue.quantity) == (Decimal("260.00"), Decimal("3.00"))


def test_bad_rows_are_listed_by_sheet_row_and_column_and_nothing_is_saved(costed_plan, fresh_plan, lead):
    workbook = export(costed_plan)
    sheet = workbook[SHEET]
    sheet["Y9"] = "Snacks"
    sheet["F9"] = "Ministry of Magic"
    sheet["O9"] = -1
    sheet["AE10"] = "first activity"
    sheet["AB12"] = "a lot"  # text in a number cell of the cost builder
    sheet["K12"] = "maybe"
    sheet["N12"] = "twice"  # text in a frequency

    found = refused_problems(fresh_plan, lead, workbook)

    assert "“Snacks” is not a cost category" in found[(SHEET, 9, "Y")]
    assert "“Ministry of Magic” is not an organization of Testland" in found[(SHEET, 9, "F")]
    assert "Ministry of Agriculture (MOA)" in found[(SHEET, 9, "F")]  # the names it knows
    assert "cannot be negative" in found[(SHEET, 9, "O")]
    assert "“first activity” is not a NAPHS Planner ID like P1.1.1" in found[(SHEET, 10, "AE")]
    assert "“a lot” is not a number" in found[(SHEET, 12, "AB")]
    assert "“twice” is not a number" in found[(SHEET, 12, "N")]
    assert "“maybe”: write Y or N" in found[(SHEET, 12, "K")]
    assert not Activity.objects.filter(plan=fresh_plan).exists()


def test_text_in_a_number_cell_is_named(fresh_plan, lead):
    workbook = ministry_workbook()
    workbook["COSTING TOOL"]["M9"] = "four thousand"
    workbook["COSTING TOOL"]["T10"] = "n/a"  # a typed cost per year: a number cell too
    found = refused_problems(fresh_plan, lead, workbook)
    assert "“four thousand” is not a number" in found[("COSTING TOOL", 9, "M")]
    assert "“n/a” is not a number" in found[("COSTING TOOL", 10, "T")]


def test_merged_cells_among_the_activity_rows_are_refused(fresh_plan, lead):
    workbook = ministry_workbook()
    workbook["COSTING TOOL"].merge_cells("D9:E9")
    workbook["COSTING TOOL"].merge_cells("N10:N11")  # a frequency merged down over two activities
    found = refused_problems(fresh_plan, lead, workbook)
    assert "merged cells D9:E9 among the activity rows" in found[("COSTING TOOL", 9, "D")]
    assert "merged cells N10:N11" in found[("COSTING TOOL", 10, "N")]


def test_hidden_rows_and_columns_in_the_table_are_refused(fresh_plan, lead):
    workbook = ministry_workbook()
    workbook["COSTING TOOL"].row_dimensions[9].hidden = True
    workbook["COSTING TOOL"].column_dimensions["E"].hidden = True
    found = refused_problems(fresh_plan, lead, workbook)
    assert "a hidden row in the table" in found[("COSTING TOOL", 9, "A")]
    assert "a hidden column in the table" in found[("COSTING TOOL", 6, "E")]


def test_an_extra_sheet_with_content_is_named_but_hidden_lists_and_empty_sheets_are_not(fresh_plan, lead):
    workbook = ministry_workbook()
    workbook.create_sheet("Notes").append(["Ask the finance ministry about per diems"])
    found = refused_problems(fresh_plan, lead, workbook)
    assert list(found) == [("Notes", None, "")]
    assert "a sheet beside “COSTING TOOL” with content" in found[("Notes", None, "")]


def test_a_workbook_without_the_costing_tool_sheet_is_refused(fresh_plan, lead):
    workbook = ministry_workbook()
    workbook["COSTING TOOL"].title = "Budget"
    found = refused_problems(fresh_plan, lead, workbook)
    assert "No sheet is named “Costing Tool”" in found[("", None, "")]
    assert "“Budget”" in found[("", None, "")]


def test_an_unknown_heading_is_named_with_its_column(fresh_plan, lead):
    workbook = ministry_workbook()
    workbook["COSTING TOOL"]["J6"] = "Donor priority"
    found = refused_problems(fresh_plan, lead, workbook)
    assert "“Donor priority” is not a heading of the WHO costing tool" in found[("COSTING TOOL", 6, "J")]


def test_a_totals_block_in_the_middle_is_refused(fresh_plan, lead):
    workbook = ministry_workbook()
    sheet = workbook["COSTING TOOL"]
    sheet["C16"], sheet["M16"], sheet["N16"], sheet["Y16"] = "Print the law", 800, 1, "Communication"
    found = refused_problems(fresh_plan, lead, workbook)
    assert "an activity row below the totals block (row 13)" in found[("COSTING TOOL", 16, "C")]


def test_a_formula_where_a_person_types_values_is_flagged(fresh_plan, lead):
    workbook = ministry_workbook()
    sheet = workbook["COSTING TOOL"]
    sheet["O10"] = "=N10+1"  # a frequency
    sheet["D11"] = '=CONCATENATE("Cost ","the plan")'  # a text column
    sheet["M9"] = "=2000*2"  # an estimated cost without builder inputs
    found = refused_problems(fresh_plan, lead, workbook)
    assert "a formula where a value is typed (“2027”)" in found[("COSTING TOOL", 10, "O")]
    assert "a formula where a value is typed" in found[("COSTING TOOL", 11, "D")]
    assert "a formula (=2000*2) where the estimated cost is typed" in found[("COSTING TOOL", 9, "M")]
    assert len(found) == 3  # the formulas of S–X are the tool's own, and the builder formula in M8 is read


def test_a_builder_formula_with_an_empty_input_is_named(fresh_plan, lead):
    workbook = ministry_workbook()
    workbook["COSTING TOOL"]["AD8"] = None
    found = refused_problems(fresh_plan, lead, workbook)
    assert "empty, but the estimated cost multiplies it" in found[("COSTING TOOL", 8, "AD")]


def test_a_workbook_of_another_period_is_refused(costed_plan, fresh_plan, lead):
    content = who_workbook(costed_plan)
    Plan.objects.filter(pk=fresh_plan.pk).update(first_year=2027, last_year=2031)
    fresh_plan.refresh_from_db()
    found = refused_problems(fresh_plan, lead, content)
    assert "headed 2026, but year 1 of this plan is 2027" in found[(SHEET, 6, "N")]
    assert not Activity.objects.filter(plan=fresh_plan).exists()


def test_amounts_in_another_currency_are_refused(fresh_plan, lead):
    workbook = ministry_workbook()
    workbook["COSTING TOOL"]["M6"] = "Estimated cost (EUR)"
    found = refused_problems(fresh_plan, lead, workbook)
    assert "amounts in EUR, but this plan is costed in USD" in found[("COSTING TOOL", 6, "M")]


def test_a_row_without_an_area_or_a_missing_column_is_named(fresh_plan, lead):
    workbook = ministry_workbook()
    sheet = workbook["COSTING TOOL"]
    sheet["B5"] = "Somewhere"  # no area above the first rows, which name none by their indicator either
    sheet.unmerge_cells("A8:A10")
    sheet["A8"] = None
    found = refused_problems(fresh_plan, lead, workbook)
    assert "no technical area for this row" in found[("COSTING TOOL", 8, "A")]
    assert ("COSTING TOOL", 11, "A") not in found  # P.2.1 names its area

    workbook = ministry_workbook()
    workbook["COSTING TOOL"]["M6"] = None
    found = refused_problems(fresh_plan, lead, workbook)
    assert "no header row" in found[("COSTING TOOL", None, "")]


def _macro_workbook() -> bytes:
    """A workbook with an Excel 4.0 macro sheet (xl/macrosheets/): refused, whatever the file is named."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/macrosheets/sheet1.xml", "<xm:macrosheet/>")
    return buffer.getvalue()


def _as_xlsm(content: bytes) -> bytes:
    """The workbook as WHO distributes its tool: macro-enabled, a VBA project inside (never read, never run)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
            archive.writestr(member, data)
        archive.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 a VBA project, never run" * 40)
    return buffer.getvalue()


def test_a_ministrys_macro_enabled_copy_imports_as_the_same_workbook_would(fresh_plan, country, jee3, lead):
    def contents(plan: Plan) -> list[tuple]:
        return sorted(
            CostLine.objects.filter(plan=plan).values_list(
                "activity__technical_area__code", "activity__title", "description", "unit_cost", "quantity"
            )
        )

    plain = Plan.objects.create(
        framework=jee3, jurisdiction=country, title="Plain copy", first_year=2026, last_year=2030
    )
    PlanMembership.objects.create(plan=plain, user=lead, role=Role.SECRETARIAT_LEAD)
    run_import(plain, lead, workbook_bytes(ministry_workbook()), filename="costing-tool.xlsx")
    run_import(fresh_plan, lead, _as_xlsm(workbook_bytes(ministry_workbook())), filename="NAPHS costing tool.xlsm")
    assert contents(fresh_plan) == contents(plain) and contents(plain)


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"Activity;cost\nTraining;100\n", "who.xlsx", "not an Excel workbook"),
        (_macro_workbook(), "who.xlsx", "contains macros"),
        (_macro_workbook(), "who.xlsm", "contains macros"),
        (workbook_bytes(ministry_workbook()), "costing-tool.xlsb", "save the file as .xlsx"),
    ],
    ids=["not-xlsx", "macro-sheet", "macro-sheet-xlsm", "xlsb"],
)
def test_a_hostile_or_macro_enabled_file_is_refused_with_a_clear_message(fresh_plan, lead, content, filename, message):
    before = snapshot(fresh_plan)
    with pytest.raises(ImportRefused) as refused:
        run_import(fresh_plan, lead, content, filename=filename)
    assert message in str(refused.value)
    assert snapshot(fresh_plan) == before


# --- The pages ----------------------------------------------------------------------------------------------------


def upload(client, plan: Plan, content: bytes, name: str = "who-costing.xlsx"):
    return client.post(
        reverse("who_costing_import", kwargs={"plan_id": plan.pk}),
        {"file": SimpleUploadedFile(name, content, content_type=XLSX)},
    )


def test_the_secretariat_imports_on_the_page_and_sees_what_changed_or_every_problem(
    client, costed_plan, fresh_plan, lead, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    content = who_workbook(costed_plan)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, fresh_plan, content)
    assert response.status_code == 302
    applied = CostingUpload.objects.get(plan=fresh_plan)
    assert (applied.status, applied.layout, applied.job.status) == ("applied", "who", Job.Status.SUCCEEDED)
    assert applied.summary["lines_created"] == 2
    page = client.get(reverse("who_costing", kwargs={"plan_id": fresh_plan.pk})).content.decode()
    assert "2 cost lines created" in page
    assert "Download the import report" in page
    report = load_workbook(applied.job.result.path)
    first_outcome = next(report["Rows"].iter_rows(min_row=2, values_only=True))[4]
    assert first_outcome == "activity created; cost line created"

    # The same file again: the page says so, and nothing changes.
    before = snapshot(fresh_plan)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, fresh_plan, content)
    assert "importing it again changes nothing" in client.get(response["Location"]).content.decode()
    assert snapshot(fresh_plan) == before

    broken = load_workbook(io.BytesIO(content))
    broken[SHEET]["Y9"] = "Snacks"
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, fresh_plan, workbook_bytes(broken))
    refused = CostingUpload.objects.filter(plan=fresh_plan).first()
    assert (refused.status, refused.job.status) == ("refused", Job.Status.FAILED)
    assert refused.problems[0]["sheet"] == SHEET
    assert (refused.problems[0]["row"], refused.problems[0]["column"]) == (9, "Y")
    fragment = client.get(
        reverse("who_costing_upload", kwargs={"plan_id": fresh_plan.pk, "who_upload_id": refused.pk}),
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "Nothing was imported" in fragment
    assert "“Snacks” is not a cost category" in fragment
    assert snapshot(fresh_plan) == before


def test_a_hostile_upload_is_refused_on_the_page_and_saves_nothing(
    client, fresh_plan, lead, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    response = upload(client, fresh_plan, b"MZ\x90\x00 an executable", name="costs.xlsx")
    assert response.status_code == 422
    assert "not an Excel workbook" in response.content.decode()
    response = upload(client, fresh_plan, _macro_workbook(), name="costs.xlsb")
    assert response.status_code == 422
    assert "plain Excel workbook (.xlsx)" in response.content.decode()
    assert not CostingUpload.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        upload(client, fresh_plan, _macro_workbook())  # named .xlsx, caught when read
    refused = CostingUpload.objects.get()
    assert refused.status == "refused"
    assert "contains macros" in refused.problems[0]["message"]
    assert "contains macros" in refused.job.message
    assert not Activity.objects.filter(plan=fresh_plan).exists()


@pytest.mark.parametrize("role", [Role.TECHNICAL_LEAD, Role.FOCAL_POINT, Role.REVIEWER, Role.VIEWER])
def test_only_the_secretariat_imports(client, costed_plan, people, role):
    client.force_login(people[role])
    assert upload(client, costed_plan, who_workbook(costed_plan)).status_code == 403
    assert not CostingUpload.objects.exists()
    page = client.get(reverse("who_costing", kwargs={"plan_id": costed_plan.pk}))
    assert page.status_code == 200
    assert "The plan's secretariat imports workbooks" in page.content.decode()


def test_a_non_member_gets_404_on_every_who_route(client, api_client, costed_plan, people, lead):
    client.force_login(people["outsider"])
    assert upload(client, costed_plan, who_workbook(costed_plan)).status_code == 404
    assert client.get(reverse("who_costing", kwargs={"plan_id": costed_plan.pk})).status_code == 404
    assert client.post(reverse("who_costing_export", kwargs={"plan_id": costed_plan.pk})).status_code == 404
    api_client.force_authenticate(people["outsider"])
    assert api_client.post(f"/api/plans/{costed_plan.pk}/who-export/").status_code == 404
    assert not CostingUpload.objects.exists()
    assert not Job.objects.exists()


def test_the_page_runs_a_fixed_number_of_queries(client, costed_plan, lead, django_assert_max_num_queries):
    client.force_login(lead)
    url = reverse("who_costing", kwargs={"plan_id": costed_plan.pk})
    client.get(url)  # the costing settings are created on first use
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200
    for number in range(6):
        job = Job.objects.create(kind=CostingJob.WHO_COSTING_IMPORT, plan=costed_plan, requested_by=lead)
        CostingUpload.objects.create(
            plan=costed_plan,
            layout="who",
            uploaded_by=lead,
            file=f"uploads/costing/{number}.xlsx",
            filename=f"{number}.xlsx",
            digest=str(number),
            job=job,
            status="refused",
            problems=[{"sheet": SHEET, "row": 9, "column": "Z", "message": "bad", "text": ""}] * 3,
        )
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200


# --- In a real worker -------------------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_exports_and_imports_the_who_layout(worker, client, costed_plan, fresh_plan, lead):  # noqa: F811
    client.force_login(lead)
    client.post(reverse("who_costing_export", kwargs={"plan_id": costed_plan.pk}))
    export_job = Job.objects.get(plan=costed_plan, kind=CostingJob.WHO_COSTING_EXPORT)
    worker.wait_until(lambda: Job.objects.get(pk=export_job.pk).is_finished, "the export")
    export_job.refresh_from_db()
    assert export_job.status == Job.Status.SUCCEEDED, worker.output()
    with export_job.result.open("rb") as handle:
        content = handle.read()

    for attempt in (1, 2):  # the second upload of the same file changes nothing
        upload(client, fresh_plan, content)
        uploaded = CostingUpload.objects.filter(plan=fresh_plan).first()
        worker.wait_until(lambda u=uploaded: CostingUpload.objects.get(pk=u.pk).status != "queued", "the import")
        uploaded.refresh_from_db()
        assert uploaded.status == "applied", (uploaded.problems, worker.output())
        assert uploaded.summary["lines_created"] == (2 if attempt == 1 else 0)
    assert totals_by_activity(fresh_plan) == totals_by_activity(costed_plan)
    assert CostLine.objects.filter(plan=fresh_plan).count() == 2
