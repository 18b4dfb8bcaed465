"""The WHO NAPHS costing tool layout: the export's columns and values (amounts worked out by hand), text that
looks like a formula stays text, an export imported into a fresh plan gives back its activities and costs, a
second import changes nothing, bad rows are listed by sheet, row and column with nothing saved, hostile files
are refused, and only the secretariat imports."""

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
HEADER_ROW = 4
HEADERS = [
    "Unique ID",
    "Indicator",
    "Objective",
    "Summary of key activities",
    "Detailed activity description",
    "Detailed cost assumptions",
    "Responsible authority (budget holder)",
    "Implementation scale",
    "Comments (technical)",
    "Comments (costing)",
    "Related existing plan or programme",
    "Existing budget (Y/N)",
    "Existing budget source",
    "Estimated cost (local currency, USD)",
    "Frequency Y1 (2026)",
    "Frequency Y2 (2027)",
    "Frequency Y3 (2028)",
    "Frequency Y4 (2029)",
    "Frequency Y5 (2030)",
    "Cost estimate Y1 (2026, USD)",
    "Cost estimate Y2 (2027, USD)",
    "Cost estimate Y3 (2028, USD)",
    "Cost estimate Y4 (2029, USD)",
    "Cost estimate Y5 (2030, USD)",
    "Total cost over 5 years (USD)",
    "Cost category 1",
    "Cost category 2",
]
P1_SHEET = "P1 Legal Instruments"
D1_SHEET = "D1 National Laboratory System"


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


def rows_of(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True)]


def as_dict(row: list) -> dict:
    return dict(zip(HEADERS, row, strict=False))


def workbook_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run_import(plan: Plan, by, content: bytes, filename: str = "who.xlsx"):
    return who_workbook_import(plan=plan, by=by, upload=io.BytesIO(content), filename=filename)


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
            CostLine.objects.filter(plan=plan).values_list("pk", "version", "unit_cost", "quantity", "import_key")
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


# --- Export --------------------------------------------------------------------------------------------------


def test_the_export_has_one_sheet_per_area_with_the_who_columns_and_hand_computed_amounts(costed_plan):
    workbook = export(costed_plan)
    assert workbook.sheetnames[0] == "Read me"
    assert workbook.sheetnames[1:3] == [P1_SHEET, "P2 Financing"]
    assert D1_SHEET in workbook.sheetnames
    assert len(workbook.sheetnames) == 1 + 19  # every JEE 3 technical area
    assert all(len(name) <= 31 for name in workbook.sheetnames)
    assert "P3 IHR Coordination, National I" in workbook.sheetnames  # cut at 31 characters

    p1 = workbook[P1_SHEET]
    assert p1["A1"].value == "P1 Legal Instruments"
    assert [cell.value for cell in p1[HEADER_ROW]] == HEADERS
    training, bill = (as_dict(row) for row in rows_of(p1))
    assert training == {
        "Unique ID": "P1.1.1",
        "Indicator": "P1.1 Legal instruments",
        "Objective": "Legal Instruments: by 2030, reach level 4 (demonstrated capacity) in P1.1 Legal instruments",
        "Summary of key activities": "Train border veterinarians",
        "Detailed activity description": "Workshop venue",
        "Detailed cost assumptions": None,
        "Responsible authority (budget holder)": "Ministry of Agriculture",
        "Implementation scale": "Provincial",
        "Comments (technical)": None,
        "Comments (costing)": None,
        "Related existing plan or programme": "One Health programme",
        "Existing budget (Y/N)": "Y",
        "Existing budget source": "World Bank grant",
        "Estimated cost (local currency, USD)": 750,
        "Frequency Y1 (2026)": 2,
        "Frequency Y2 (2027)": 1,
        "Frequency Y3 (2028)": 0,
        "Frequency Y4 (2029)": 0,
        "Frequency Y5 (2030)": 0,
        "Cost estimate Y1 (2026, USD)": 1500,
        "Cost estimate Y2 (2027, USD)": 750,
        "Cost estimate Y3 (2028, USD)": 0,
        "Cost estimate Y4 (2029, USD)": 0,
        "Cost estimate Y5 (2030, USD)": 0,
        "Total cost over 5 years (USD)": 2250,
        "Cost category 1": "Meetings and workshops",
        "Cost category 2": None,
    }
    # An activity without cost lines: one row, no cost.
    assert bill["Unique ID"] == "P1.2.1"
    assert bill["Summary of key activities"] == "Draft the animal health bill"
    assert bill["Objective"] == "Legal Instruments"
    assert all(bill[title] is None for title in HEADERS[13:])

    (analysers,) = (as_dict(row) for row in rows_of(workbook[D1_SHEET]))
    assert analysers["Unique ID"] == "D1.1.1"
    assert analysers["Detailed cost assumptions"] == "Two analysers for the reference laboratory"
    assert (analysers["Comments (technical)"], analysers["Comments (costing)"]) == ("Real-time PCR", "Quote from 2027")
    assert analysers["Estimated cost (local currency, USD)"] == 240  # 100 EUR × 1.20 × 2
    assert [analysers[f"Frequency Y{n} ({2025 + n})"] for n in range(1, 6)] == [0, 0, 1, 0, 3]
    assert [analysers[f"Cost estimate Y{n} ({2025 + n}, USD)"] for n in range(1, 6)] == [0, 0, 240, 0, 720]
    assert analysers["Total cost over 5 years (USD)"] == 960
    assert (analysers["Cost category 1"], analysers["Cost category 2"]) == ("Equipment", "Supplies and commodities")
    assert analysers["Existing budget (Y/N)"] is None
    # Money is a number, never a formula.
    money = workbook[D1_SHEET].cell(row=HEADER_ROW + 1, column=HEADERS.index("Total cost over 5 years (USD)") + 1)
    assert money.data_type == "n"


def test_text_that_looks_like_a_formula_is_exported_as_text(costed_plan, fresh_plan, lead, moa_activity):
    hyperlink = '=HYPERLINK("http://attacker.example/steal","Click for details")'
    Activity.objects.filter(pk=moa_activity.pk).update(title=hyperlink)
    CostLine.objects.filter(activity=moa_activity).update(description="+1 vehicle", assumptions="@SUM(A1:A9)")
    sheet = export(costed_plan)[P1_SHEET]
    title = sheet.cell(row=HEADER_ROW + 1, column=HEADERS.index("Summary of key activities") + 1)
    assert (title.value, title.data_type) == (hyperlink, "s")
    for column, text in (("Detailed activity description", "+1 vehicle"), ("Detailed cost assumptions", "@SUM(A1:A9)")):
        cell = sheet.cell(row=HEADER_ROW + 1, column=HEADERS.index(column) + 1)
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
    assert P1_SHEET in load_workbook(job.result.path).sheetnames
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
    sheet = export(short)[P1_SHEET]
    headers = [cell.value for cell in sheet[HEADER_ROW]]
    assert headers[14:19] == [
        "Frequency Y1 (2026)",
        "Frequency Y2 (2027)",
        "Frequency Y3",
        "Frequency Y4",
        "Frequency Y5",
    ]
    (row,) = rows_of(sheet)
    assert row[14:24] == [1, 2, None, None, None, 750, 1500, None, None, None]


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
    assert (analysers.unit_cost, analysers.quantity, analysers.currency, analysers.unit) == (
        Decimal("240.00"),
        Decimal("1.00"),
        "USD",
        "lump sum",
    )
    assert (analysers.category, analysers.secondary_category) == ("equipment", "supplies")
    assert (analysers.assumptions, analysers.technical_comment) == (
        "Two analysers for the reference laboratory",
        "Real-time PCR",
    )
    assert analysers.recurrence == "recurring"
    assert analysers.import_key == "who:D1.1.1"
    # The fresh plan exports what it was given, cell for cell.
    again = load_workbook(io.BytesIO(who_workbook(fresh_plan)))
    original = load_workbook(io.BytesIO(content))
    for name in original.sheetnames[1:]:
        assert rows_of(again[name]) == rows_of(original[name]), name


def test_importing_the_same_file_again_changes_nothing(costed_plan, fresh_plan, lead):
    content = who_workbook(costed_plan)
    run_import(fresh_plan, lead, content)
    before = snapshot(fresh_plan)
    report = run_import(fresh_plan, lead, content)
    assert snapshot(fresh_plan) == before
    assert report.summary["activities_unchanged"] == 3
    assert report.summary["lines_unchanged"] == 2
    assert not report.changed_anything


def test_a_plan_importing_its_own_export_changes_nothing(costed_plan, lead):
    """Its lines carry no import key: they are found by activity and description, and keep their unit cost and
    quantity (250 × 3, 100 EUR × 2) since the estimated cost is unchanged."""
    before = snapshot(costed_plan)
    report = run_import(costed_plan, lead, who_workbook(costed_plan))
    assert snapshot(costed_plan) == before
    assert report.summary["lines_unchanged"] == 2


def test_an_edited_row_changes_its_line_and_a_new_row_adds_one(costed_plan, fresh_plan, lead):
    run_import(fresh_plan, lead, who_workbook(costed_plan))
    workbook = export(fresh_plan)
    sheet = workbook[P1_SHEET]
    estimated = HEADERS.index("Estimated cost (local currency, USD)") + 1
    sheet.cell(row=HEADER_ROW + 1, column=estimated).value = 800  # was 750
    sheet.cell(row=HEADER_ROW + 1, column=HEADERS.index("Cost estimate Y1 (2026, USD)") + 1).value = None
    sheet.cell(row=HEADER_ROW + 1, column=HEADERS.index("Cost estimate Y2 (2027, USD)") + 1).value = None
    sheet.cell(row=HEADER_ROW + 1, column=HEADERS.index("Total cost over 5 years (USD)") + 1).value = None
    new_row = [None] * len(HEADERS)
    new_row[0], new_row[3], new_row[4] = "P1.1.2", "Train border veterinarians", "Facilitator fees"
    new_row[estimated - 1], new_row[HEADERS.index("Frequency Y3 (2028)")] = 300, 2
    new_row[HEADERS.index("Cost category 1")] = "consultancy"
    sheet.insert_rows(HEADER_ROW + 2)
    for column, value in enumerate(new_row, start=1):
        sheet.cell(row=HEADER_ROW + 2, column=column).value = value

    report = run_import(fresh_plan, lead, workbook_bytes(workbook))

    assert report.summary["lines_changed"] == 1
    assert report.summary["lines_created"] == 1
    totals = totals_by_activity(fresh_plan)
    assert totals[("P1", "Train border veterinarians", 2026)] == Decimal("1600.00")
    assert totals[("P1", "Train border veterinarians", 2028)] == Decimal("600.00")
    assert CostLine.objects.get(plan=fresh_plan, description="Facilitator fees").category == "consultancy"


def test_bad_rows_are_listed_by_sheet_row_and_column_and_nothing_is_saved(costed_plan, fresh_plan, lead):
    workbook = export(costed_plan)
    p1, d1 = workbook[P1_SHEET], workbook[D1_SHEET]

    def column(title: str) -> int:
        return HEADERS.index(title) + 1

    first = HEADER_ROW + 1
    p1.cell(row=first, column=column("Cost category 1")).value = "Snacks"
    p1.cell(row=first, column=column("Responsible authority (budget holder)")).value = "Ministry of Magic"
    p1.cell(row=first, column=column("Frequency Y2 (2027)")).value = -1
    p1.cell(row=first + 1, column=column("Unique ID")).value = "first activity"
    d1.cell(row=first, column=column("Cost estimate Y3 (2028, USD)")).value = 9999
    d1.cell(row=first, column=column("Estimated cost (local currency, USD)")).value = "a lot"
    d1.cell(row=first, column=column("Existing budget (Y/N)")).value = "maybe"
    before = snapshot(fresh_plan)

    with pytest.raises(ImportRefused) as refused:
        run_import(fresh_plan, lead, workbook_bytes(workbook))

    found = {(p.sheet, p.row, p.column): p.message for p in refused.value.problems}
    assert "“Snacks” is not a cost category" in found[(P1_SHEET, 5, "Z")]
    assert "“Ministry of Magic” is not an organization of Testland" in found[(P1_SHEET, 5, "G")]
    assert "Ministry of Agriculture (MOA)" in found[(P1_SHEET, 5, "G")]  # the names it knows
    assert "cannot be negative" in found[(P1_SHEET, 5, "P")]
    assert "“first activity” is not a Unique ID like P1.1.1" in found[(P1_SHEET, 6, "A")]
    assert "“a lot” is not a number" in found[(D1_SHEET, 5, "N")]
    assert "“maybe”: write Y or N" in found[(D1_SHEET, 5, "L")]
    assert snapshot(fresh_plan) == before
    assert not Activity.objects.filter(plan=fresh_plan).exists()


def test_an_amount_typed_over_the_computed_cost_is_a_problem_not_silently_ignored(costed_plan, fresh_plan, lead):
    workbook = export(costed_plan)
    workbook[D1_SHEET].cell(row=HEADER_ROW + 1, column=HEADERS.index("Cost estimate Y3 (2028, USD)") + 1).value = 999
    with pytest.raises(ImportRefused) as refused:
        run_import(fresh_plan, lead, workbook_bytes(workbook))
    (problem,) = refused.value.problems
    assert (problem.sheet, problem.row, problem.column) == (D1_SHEET, 5, "V")
    assert "999.00, but estimated cost × frequency is 240.00" in problem.message


def test_a_workbook_in_another_currency_or_period_is_refused(costed_plan, fresh_plan, lead):
    content = who_workbook(costed_plan)
    Plan.objects.filter(pk=fresh_plan.pk).update(first_year=2027, last_year=2031)
    fresh_plan.refresh_from_db()
    with pytest.raises(ImportRefused) as refused:
        run_import(fresh_plan, lead, content)
    assert any("headed 2026, but year 1 of this plan is 2027" in p.message for p in refused.value.problems)

    Plan.objects.filter(pk=fresh_plan.pk).update(first_year=2026, last_year=2030)
    fresh_plan.refresh_from_db()
    fresh_plan.costing.currency = "EUR"
    fresh_plan.costing.save()
    with pytest.raises(ImportRefused) as refused:
        run_import(fresh_plan, lead, content)
    assert any("amounts in USD, but this plan is costed in EUR" in p.message for p in refused.value.problems)
    assert not Activity.objects.filter(plan=fresh_plan).exists()


def test_a_missing_column_or_a_sheet_of_an_unknown_area_is_named(costed_plan, fresh_plan, lead):
    workbook = export(costed_plan)
    workbook[P1_SHEET].delete_cols(HEADERS.index("Cost category 1") + 1)
    workbook[D1_SHEET].title = "Z9 Space weather"
    with pytest.raises(ImportRefused) as refused:
        run_import(fresh_plan, lead, workbook_bytes(workbook))
    found = {(p.sheet, p.row): p.message for p in refused.value.problems}
    assert found[(P1_SHEET, HEADER_ROW)].startswith("no column “Cost category 1”")
    assert found[("Z9 Space weather", None)].startswith("“Z9” is not a technical area of")
    assert not Activity.objects.filter(plan=fresh_plan).exists()


def _macro_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/vbaProject.bin", b"\x00" * 64)
    return buffer.getvalue()


def _formula_workbook() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = P1_SHEET
    sheet.append(["Unique ID", "Summary of key activities", "Estimated cost", "Frequency Y1", "Cost category 1"])
    sheet.append(["P1.1.1", "Revise the law", "=100*3", 1, "Meetings and workshops"])
    return workbook_bytes(workbook)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Activity;cost\nTraining;100\n", "not an Excel workbook"),
        (_macro_workbook(), "contains macros"),
        (_formula_workbook(), "a formula; type the value instead"),
    ],
    ids=["not-xlsx", "macros", "formula"],
)
def test_a_hostile_file_is_refused_with_a_clear_message_and_nothing_saved(fresh_plan, lead, content, message):
    before = snapshot(fresh_plan)
    with pytest.raises(ImportRefused) as refused:
        run_import(fresh_plan, lead, content)
    assert message in str(refused.value)
    assert snapshot(fresh_plan) == before


def test_a_formula_is_listed_with_the_other_problems_of_the_file(fresh_plan, lead):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = P1_SHEET
    sheet.append(["Unique ID", "Summary of key activities", "Estimated cost", "Frequency Y1", "Cost category 1"])
    sheet.append(["P1.1.1", "Revise the law", "=100*3", 1, "Meetings and workshops"])
    sheet.append(["P1.1.2", "Train the judges", 500, 1, "Catering"])
    with pytest.raises(ImportRefused) as refused:
        run_import(fresh_plan, lead, workbook_bytes(workbook))
    found = [(p.row, p.column, p.message) for p in refused.value.problems]
    assert (2, "C", "a formula; type the value instead.") in found
    assert [row for row, column, _ in found if (row, column) == (2, "C")] == [2]  # one problem for the cell
    assert any(row == 3 and "Catering" in message for row, _, message in found)


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
    broken[P1_SHEET].cell(row=HEADER_ROW + 1, column=HEADERS.index("Cost category 1") + 1).value = "Snacks"
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, fresh_plan, workbook_bytes(broken))
    refused = CostingUpload.objects.filter(plan=fresh_plan).first()
    assert (refused.status, refused.job.status) == ("refused", Job.Status.FAILED)
    assert refused.problems[0]["sheet"] == P1_SHEET
    assert (refused.problems[0]["row"], refused.problems[0]["column"]) == (5, "Z")
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
    response = upload(client, fresh_plan, _macro_workbook(), name="costs.xlsm")
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
            problems=[{"sheet": P1_SHEET, "row": 5, "column": "Z", "message": "bad", "text": ""}] * 3,
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
