"""The costing workbook round trip: a person downloads the activities they may cost, fills the workbook offline
and uploads it; every row is checked and the file is applied all or nothing, never over someone else's edit.

The jobs run in-process when the request commits (eager Celery); the files are real .xlsx files, edited with
openpyxl as a person's Excel would save them.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from costing.job_kinds import CostingJob
from costing.models import CostingUpload, CostLine, PlanCosting
from costing.services import cost_line_create, cost_line_update
from costing.workbook import (
    ACTIVITY_MARK,
    HEADER_ROW,
    META_SHEET,
    costing_workbook_build,
    problem_text,
)
from naphs.models import AuditEvent, Job
from naphs.permissions import Role
from planning.models import Activity, Plan
from stakeholders.models import PlanMembership
from tests.costing.conftest import area, line_fields

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
P1_SHEET = "P1 Legal Instruments"


@pytest.fixture
def focal_point(people):
    return people[Role.FOCAL_POINT]


@pytest.fixture
def second_line(costing, moa_activity, lead):
    return cost_line_create(
        activity=moa_activity,
        by=lead,
        fields=line_fields(description="Per diem", category="per_diem_travel", unit="person-day", unit_cost="40"),
        frequencies={2026: 10},
    )


@pytest.fixture
def moh_line(costing, moh_activity, lead):
    return cost_line_create(
        activity=moh_activity, by=lead, fields=line_fields(description="Reagents"), frequencies={2026: 1}
    )


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Run what a request enqueues once it commits, as the worker would."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


def download(client, run_jobs, plan, user) -> bytes:
    """The person's costing workbook, asked for on the page and made by the job."""
    client.force_login(user)
    response = run_jobs(lambda: client.post(reverse("costing_workbook", args=[plan.pk])))
    job = Job.objects.filter(plan=plan, requested_by=user, kind=CostingJob.COSTING_WORKBOOK).latest("pk")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.status == Job.Status.SUCCEEDED, job.message
    with job.result.open("rb") as handle:
        return handle.read()


def upload(client, run_jobs, plan, user, content: bytes, name: str = "costing.xlsx", content_type: str = XLSX):
    client.force_login(user)
    file = SimpleUploadedFile(name, content, content_type=content_type)
    response = run_jobs(lambda: client.post(reverse("costing_upload", args=[plan.pk]), {"file": file}))
    assert response.status_code == 302, response.content.decode()[:2000]
    uploaded = CostingUpload.objects.filter(plan=plan, uploaded_by=user).latest("pk")
    assert response["Location"] == reverse("costing_upload_detail", args=[plan.pk, uploaded.pk])
    return uploaded


class Book:
    """An openpyxl view of a downloaded workbook, edited by column heading as a person would."""

    def __init__(self, content: bytes) -> None:
        self.workbook = load_workbook(io.BytesIO(content))

    def sheet(self, name: str = P1_SHEET):
        return self.workbook[name]

    def column(self, heading: str, sheet: str = P1_SHEET) -> int:
        for cell in self.sheet(sheet)[HEADER_ROW]:
            if cell.value == heading:
                return cell.column
        raise AssertionError(f"no column {heading!r}")

    def line_row(self, line: CostLine, sheet: str = P1_SHEET) -> int:
        for row in self.sheet(sheet).iter_rows(min_row=HEADER_ROW + 1):
            if row[0].value == line.pk:
                return row[0].row
        raise AssertionError(f"line {line.pk} is not in {sheet}")

    def empty_row(self, activity: Activity, sheet: str = P1_SHEET) -> int:
        """The first unused row under the activity."""
        found = False
        for row in self.sheet(sheet).iter_rows(min_row=HEADER_ROW + 1):
            if row[0].value == ACTIVITY_MARK:
                found = row[1].value == activity.pk
            elif found and row[0].value is None and row[4].value is None:
                return row[0].row
        raise AssertionError(f"no empty row under {activity}")

    def set(self, row: int, heading: str, value, sheet: str = P1_SHEET) -> None:
        self.sheet(sheet).cell(row=row, column=self.column(heading, sheet), value=value)

    def get(self, row: int, heading: str, sheet: str = P1_SHEET):
        return self.sheet(sheet).cell(row=row, column=self.column(heading, sheet)).value

    def add_line(self, activity: Activity, sheet: str = P1_SHEET, **values) -> int:
        row = self.empty_row(activity, sheet)
        cells = {
            "Description": "Facilitator fees",
            "Category": "Consultancy",
            "Unit": "day",
            "Unit cost": 300,
            "Currency": "USD",
            "Price year": 2026,
            "Quantity": 2,
            "Times in 2026": 1,
            "Times in 2027": 1,
            "One-off or recurring": "Recurring",
            "Optional (yes/no)": "no",
        }
        cells.update(values)
        for heading, value in cells.items():
            self.set(row, heading, value, sheet)
        return row

    def bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.workbook.save(buffer)
        return buffer.getvalue()


def lines_state(plan) -> list[tuple]:
    return list(
        CostLine.objects.filter(plan=plan)
        .order_by("pk")
        .values_list("pk", "description", "quantity", "unit_cost", "version", "import_key")
    )


def assert_nothing_saved(plan, before, uploaded: CostingUpload) -> None:
    uploaded.refresh_from_db()
    assert uploaded.status == CostingUpload.Status.REFUSED
    assert uploaded.job.status == Job.Status.FAILED
    assert uploaded.job.message.startswith("Nothing was saved")
    assert lines_state(plan) == before


# --- Download ------------------------------------------------------------------------------------------------


def test_a_focal_point_downloads_the_activities_of_their_organization_only(
    client, run_jobs, plan, focal_point, moa_line, moh_line
):
    book = Book(download(client, run_jobs, plan, focal_point))
    assert book.workbook.sheetnames == ["Instructions", P1_SHEET, "Lists", META_SHEET]
    assert book.workbook["Lists"].sheet_state == "hidden"
    assert book.workbook[META_SHEET].sheet_state == "veryHidden"
    sheet = book.sheet()
    ids = {row[0].value for row in sheet.iter_rows(min_row=HEADER_ROW + 1)}
    assert moa_line.pk in ids and moh_line.pk not in ids
    row = book.line_row(moa_line)
    assert book.get(row, "Description") == "Workshop venue"
    assert book.get(row, "Category") == "Meetings and workshops"
    assert (book.get(row, "Quantity"), book.get(row, "Times in 2026"), book.get(row, "Times in 2027")) == (3, 2, 1)
    assert book.get(row, "Version") == moa_line.version
    assert book.get(row, "Total USD at download (recomputed on upload)") == 2250  # 250 × 3 × (2 + 1)


def test_the_workbook_is_protected_with_only_the_cost_cells_open(client, run_jobs, plan, focal_point, moa_line):
    book = Book(download(client, run_jobs, plan, focal_point))
    sheet = book.sheet()
    row = book.line_row(moa_line)
    assert sheet.protection.sheet
    for heading in ("Line id", "Version", "Check", "Activity", "Total USD at download (recomputed on upload)"):
        assert sheet.cell(row=row, column=book.column(heading)).protection.locked, heading
    for heading in ("Description", "Category", "Unit cost", "Quantity", "Times in 2030", "Remove (yes)"):
        assert not sheet.cell(row=row, column=book.column(heading)).protection.locked, heading
    for heading in ("Line id", "Version", "Check"):
        letter = sheet.cell(row=1, column=book.column(heading)).column_letter
        assert sheet.column_dimensions[letter].hidden, heading
    activity_row = row - 1
    assert sheet.cell(row=activity_row, column=1).value == ACTIVITY_MARK
    assert sheet.cell(row=activity_row, column=5).value == "Train border veterinarians"
    assert all(cell.protection.locked for cell in sheet[activity_row])
    # Drop-downs from the hidden list sheet: categories, units, currencies with a rate, and yes/no.
    validations = {str(dv.sqref).split(":")[0][:1]: dv.formula1 for dv in sheet.data_validations.dataValidation}
    category = sheet.cell(row=1, column=book.column("Category")).column_letter
    currency = sheet.cell(row=1, column=book.column("Currency")).column_letter
    assert validations[category] == "'Lists'!$A$1:$A$11"
    assert [c.value for c in book.workbook["Lists"]["C"] if c.value] == ["EUR", "USD"]
    assert validations[currency] == "'Lists'!$C$1:$C$2"


def test_the_instructions_name_the_plan_currency_price_year_and_rates(client, run_jobs, plan, focal_point, costing):
    book = Book(download(client, run_jobs, plan, focal_point))
    text = "\n".join(
        str(value) for row in book.workbook["Instructions"].iter_rows(values_only=True) for value in row if value
    )
    assert plan.title in text
    assert "USD" in text and "2026" in text
    assert "1 EUR = 1.1 USD in 2026" in text and "1 EUR = 1.2 USD in 2027" in text
    assert "Meetings and workshops" in text and "person-day" in text
    assert "Ministry of Agriculture" in text  # what the workbook holds


def test_no_cell_holds_a_formula_and_text_starting_like_one_stays_text(client, run_jobs, plan, focal_point, moa_line):
    cost_line_update(line=moa_line, by=focal_point, version=moa_line.version, fields={"description": '=HYPERLINK("x")'})
    cost_line_create(
        activity=moa_line.activity, by=focal_point, fields=line_fields(description="-2 days +1 @home"), frequencies={}
    )
    book = Book(download(client, run_jobs, plan, focal_point))
    for sheet in book.workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} holds a formula"
    descriptions = {book.get(row[0].row, "Description") for row in book.sheet().iter_rows(min_row=3) if row[0].value}
    assert '=HYPERLINK("x")' in descriptions and "-2 days +1 @home" in descriptions


def test_the_secretariat_gets_the_whole_plan_and_a_technical_lead_their_areas(
    client, run_jobs, plan, lead, people, moa_line, moh_line
):
    assert Book(download(client, run_jobs, plan, lead)).workbook.sheetnames == [
        "Instructions",
        P1_SHEET,
        "D1 National Laboratory System",
        "Lists",
        META_SHEET,
    ]
    technical_lead = people[Role.TECHNICAL_LEAD]
    PlanMembership.objects.get(plan=plan, user=technical_lead).technical_areas.add(area("D1"))
    sheets = Book(download(client, run_jobs, plan, technical_lead)).workbook.sheetnames
    assert sheets == ["Instructions", "D1 National Laboratory System", "Lists", META_SHEET]


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.VIEWER])
def test_reviewers_and_viewers_may_not_download_or_upload_a_workbook(client, api_client, plan, people, role, costing):
    user = people[role]
    client.force_login(user)
    api_client.force_authenticate(user)
    assert client.get(reverse("costing_upload", args=[plan.pk])).status_code == 403
    assert client.post(reverse("costing_workbook", args=[plan.pk])).status_code == 403
    file = SimpleUploadedFile("costing.xlsx", b"PK\x03\x04", content_type=XLSX)
    assert client.post(reverse("costing_upload", args=[plan.pk]), {"file": file}).status_code == 403
    assert api_client.post(reverse("api-costing-workbook", args=[plan.pk])).status_code == 403
    assert api_client.get(reverse("costing-upload-list", args=[plan.pk])).status_code == 403
    assert not Job.objects.filter(requested_by=user).exists()
    assert not CostingUpload.objects.exists()


def test_workbook_export_runs_a_fixed_number_of_queries(
    plan, lead, costing, moa_activity, django_assert_max_num_queries
):
    membership = PlanMembership.objects.select_related("user").get(plan=plan, user=lead)
    for number in range(30):
        cost_line_create(
            activity=moa_activity, by=lead, fields=line_fields(description=f"Line {number}"), frequencies={}
        )
    with django_assert_max_num_queries(12):
        content, written = costing_workbook_build(plan=plan, membership=membership)
    assert written == 30 and content.startswith(b"PK")


# --- Upload: the round trip ----------------------------------------------------------------------------------


def test_a_focal_points_workbook_comes_back_with_their_changes_applied(
    client, run_jobs, plan, focal_point, moa_activity, moa_line, second_line, costing
):
    book = Book(download(client, run_jobs, plan, focal_point))
    book.set(book.line_row(moa_line), "Quantity", 5)
    book.set(book.line_row(second_line), "Remove (yes)", "yes")
    new_row = book.add_line(moa_activity, Description="Facilitator fees", **{"Unit cost": 300, "Currency": "EUR"})
    changes_before = PlanCosting.objects.get(plan=plan).changes

    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())

    uploaded.refresh_from_db()
    assert uploaded.status == CostingUpload.Status.APPLIED, uploaded.problems
    assert uploaded.job.status == Job.Status.SUCCEEDED
    assert (uploaded.summary["added"], uploaded.summary["changed"], uploaded.summary["removed"]) == (1, 1, 1)
    assert uploaded.summary["activities"] == [{"id": moa_activity.pk, "title": moa_activity.title, "sheet": P1_SHEET}]
    moa_line.refresh_from_db()
    assert moa_line.quantity == Decimal("5") and moa_line.version == 2 and moa_line.updated_by == focal_point
    assert {y.year: y.amount for y in moa_line.years.all() if y.amount} == {
        2026: Decimal("2500"),
        2027: Decimal("1250"),
    }
    assert not CostLine.objects.filter(pk=second_line.pk).exists()
    new = CostLine.objects.get(activity=moa_activity, description="Facilitator fees")
    assert new.import_key.endswith(f":{P1_SHEET}:{new_row}")
    assert (new.unit_cost, new.currency, new.unit_cost_base) == (Decimal("300"), "EUR", Decimal("330"))  # 1.10
    assert {y.year: y.amount for y in new.years.all() if y.amount} == {2026: Decimal("660"), 2027: Decimal("660")}
    # One recomputation of the totals for the whole upload; every change audited, with one summary.
    assert PlanCosting.objects.get(plan=plan).changes == changes_before + 1
    events = AuditEvent.objects.filter(plan=plan, actor=focal_point)
    assert sorted(events.values_list("action", "target_type")) == [
        ("created", "costline"),
        ("deleted", "costline"),
        ("edited", "costline"),
        ("imported", "costingupload"),
    ]
    assert events.get(action="edited").changes["quantity"] == ["3.00", "5"]
    # Each line's change is filed under its activity's technical area, for the audit trail's filter.
    assert set(events.filter(target_type="costline").values_list("technical_area__code", flat=True)) == {"P1"}


def test_the_same_file_uploaded_twice_changes_nothing_the_second_time(
    client, run_jobs, plan, focal_point, moa_activity, moa_line, second_line, costing
):
    book = Book(download(client, run_jobs, plan, focal_point))
    book.set(book.line_row(moa_line), "Quantity", 5)
    book.set(book.line_row(second_line), "Remove (yes)", "yes")
    book.add_line(moa_activity)
    content = book.bytes()
    upload(client, run_jobs, plan, focal_point, content)
    after_first = lines_state(plan)
    events = AuditEvent.objects.count()
    changes = PlanCosting.objects.get(plan=plan).changes

    again = upload(client, run_jobs, plan, focal_point, content)
    # Opened and saved again in Excel: other bytes, the same rows.
    resaved = upload(client, run_jobs, plan, focal_point, Book(content).bytes())

    for uploaded in (again, resaved):
        uploaded.refresh_from_db()
        assert uploaded.status == CostingUpload.Status.APPLIED
        assert (uploaded.summary["added"], uploaded.summary["changed"], uploaded.summary["removed"]) == (0, 0, 0)
        assert uploaded.summary["unchanged"] == 2
    assert lines_state(plan) == after_first
    assert AuditEvent.objects.count() == events
    assert PlanCosting.objects.get(plan=plan).changes == changes
    page = client.get(reverse("costing_upload_detail", args=[plan.pk, again.pk])).content.decode()
    assert "You uploaded this same file on" in page and "Nothing changed" in page


def test_rows_left_as_downloaded_are_not_touched(client, run_jobs, plan, focal_point, moa_line, second_line):
    book = Book(download(client, run_jobs, plan, focal_point))
    book.set(book.line_row(second_line), "Assumptions", "Ten participants from the districts")
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    uploaded.refresh_from_db()
    assert uploaded.summary["changed"] == 1 and uploaded.summary["unchanged"] == 1
    moa_line.refresh_from_db()
    second_line.refresh_from_db()
    assert (moa_line.version, second_line.version) == (1, 2)
    assert second_line.assumptions == "Ten participants from the districts"


def test_an_old_copy_uploaded_after_a_newer_one_is_a_conflict_that_names_you(
    client, run_jobs, plan, focal_point, moa_line
):
    old = Book(download(client, run_jobs, plan, focal_point))
    newer = Book(old.bytes())
    newer.set(newer.line_row(moa_line), "Quantity", 4)
    applied = upload(client, run_jobs, plan, focal_point, newer.bytes())
    applied.refresh_from_db()
    assert applied.status == CostingUpload.Status.APPLIED
    old.set(old.line_row(moa_line), "Quantity", 6)
    uploaded = upload(client, run_jobs, plan, focal_point, old.bytes())
    uploaded.refresh_from_db()
    [conflict] = uploaded.conflicts
    assert conflict["message"].startswith("edited by you (in the browser or another upload) on ")
    assert CostLine.objects.get(pk=moa_line.pk).quantity == Decimal("4")


def test_a_conflict_names_the_time_of_the_last_edit_not_of_the_line_creation(
    client, run_jobs, plan, focal_point, lead, moa_line
):
    created = datetime.datetime(2020, 3, 4, 5, 6, tzinfo=datetime.UTC)
    CostLine.objects.filter(pk=moa_line.pk).update(updated_at=created)
    book = Book(download(client, run_jobs, plan, focal_point))
    cost_line_update(line=CostLine.objects.get(pk=moa_line.pk), by=lead, version=1, fields={"quantity": Decimal("7")})
    moa_line.refresh_from_db()
    assert moa_line.updated_at > created + datetime.timedelta(days=365)
    book.set(book.line_row(moa_line), "Quantity", 5)

    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())

    [conflict] = uploaded.conflicts
    edited = timezone.localtime(moa_line.updated_at).strftime("%d %b %Y %H:%M")
    assert f" on {edited} since your download" in conflict["message"]
    assert "2020" not in conflict["message"]


def test_a_line_changed_by_someone_else_since_the_download_is_a_conflict_not_overwritten(
    client, run_jobs, plan, focal_point, lead, moa_activity, moa_line, second_line
):
    book = Book(download(client, run_jobs, plan, focal_point))
    # Meanwhile the secretariat changes both lines in the browser.
    cost_line_update(line=moa_line, by=lead, version=1, fields={"quantity": Decimal("7")})
    cost_line_update(line=second_line, by=lead, version=1, fields={"quantity": Decimal("9")})
    book.set(book.line_row(moa_line), "Quantity", 5)  # the focal point changed this one too: a conflict
    book.add_line(moa_activity)  # fine on its own, but the file is applied all or nothing
    before = lines_state(plan)

    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())

    assert_nothing_saved(plan, before, uploaded)
    assert uploaded.problems == []
    [conflict] = uploaded.conflicts
    assert (conflict["sheet"], conflict["row"], conflict["line"]) == (P1_SHEET, book.line_row(moa_line), moa_line.pk)
    assert conflict["message"].startswith(f"edited by {lead.get_full_name()} on ")
    assert "since your download" in conflict["message"]
    moa_line.refresh_from_db()
    assert moa_line.quantity == Decimal("7")
    page = client.get(reverse("costing_upload_detail", args=[plan.pk, uploaded.pk])).content.decode()
    assert "Changed in the plan since your download" in page and "Workshop venue" in page

    # Without the focal point's own change to that line, the rest goes through and the lead's edits stay.
    book.set(book.line_row(moa_line), "Quantity", 3)
    retried = upload(client, run_jobs, plan, focal_point, book.bytes())
    retried.refresh_from_db()
    assert retried.status == CostingUpload.Status.APPLIED
    assert retried.summary["added"] == 1 and retried.summary["changed"] == 0
    assert sorted(CostLine.objects.filter(pk__in=[moa_line.pk, second_line.pk]).values_list("quantity", flat=True)) == [
        Decimal("7"),
        Decimal("9"),
    ]


# --- Upload: bad rows and hostile files ----------------------------------------------------------------------


BAD_CELLS = [
    ("Quantity", -3, "Quantity", "-3 is negative."),
    ("Category", "Food", "Category", "“Food” is not a cost category; choose one from the list."),
    ("Currency", "XYZ", "Currency", "“XYZ” is not a currency code (ISO 4217)."),
    ("Unit", "bucket", "Unit", "“bucket” is not a unit; choose one from the list."),
    ("Times in 2028", -1, "Times in 2028", "-1 is negative."),
    ("Unit cost", "cheap", "Unit cost", "“cheap” is not a number."),
]


@pytest.mark.parametrize(("heading", "value", "column", "message"), BAD_CELLS)
def test_a_bad_cell_is_named_by_sheet_row_and_column_and_nothing_is_saved(
    client, run_jobs, plan, focal_point, moa_activity, moa_line, heading, value, column, message
):
    book = Book(download(client, run_jobs, plan, focal_point))
    book.set(book.line_row(moa_line), "Description", "Renamed, with a bad cell beside it")
    book.add_line(moa_activity, **{heading: value})
    row = book.empty_row(moa_activity) - 1
    before = lines_state(plan)

    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())

    assert_nothing_saved(plan, before, uploaded)
    assert uploaded.problems == [{"sheet": P1_SHEET, "row": row, "column": column, "message": message}]
    assert problem_text(uploaded.problems[0]) == f"{P1_SHEET}, row {row}, {column}: {message}"
    page = client.get(reverse("costing_upload_detail", args=[plan.pk, uploaded.pk])).content.decode()
    assert "1 problem to fix" in page and "Nothing was saved" in page


def test_a_currency_without_a_rate_for_its_year_is_refused(client, run_jobs, plan, focal_point, moa_activity, moa_line):
    book = Book(download(client, run_jobs, plan, focal_point))
    row = book.add_line(moa_activity, Currency="EUR", **{"Price year": 2029})
    before = lines_state(plan)
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    assert_nothing_saved(plan, before, uploaded)
    [problem] = uploaded.problems
    assert (problem["sheet"], problem["row"], problem["column"]) == (P1_SHEET, row, "Currency")
    assert problem["message"].startswith("No exchange rate from EUR to USD for 2029")


def test_absurd_figures_are_refused_naming_the_cell(client, run_jobs, plan, focal_point, moa_activity, moa_line):
    book = Book(download(client, run_jobs, plan, focal_point))
    book.set(book.line_row(moa_line), "Quantity", 1e12)
    row = book.add_line(moa_activity, **{"Unit cost": 10**13, "Times in 2026": 1000})
    before = lines_state(plan)
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    assert_nothing_saved(plan, before, uploaded)
    assert {(p["row"], p["column"]) for p in uploaded.problems} == {
        (book.line_row(moa_line), "Quantity"),
        (row, "Unit cost"),
        (row, "Times in 2026"),
    }


def test_every_bad_row_is_listed_not_only_the_first(client, run_jobs, plan, focal_point, moa_activity, moa_line):
    book = Book(download(client, run_jobs, plan, focal_point))
    book.set(book.line_row(moa_line), "Quantity", -1)
    first = book.add_line(moa_activity, Category="Food")
    second = book.add_line(moa_activity, Description=None, **{"One-off or recurring": "One-off"})
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    uploaded.refresh_from_db()
    assert [(p["row"], p["column"]) for p in uploaded.problems] == [
        (book.line_row(moa_line), "Quantity"),
        (first, "Category"),
        (second, "Description"),
        (second, "One-off or recurring"),  # a one-off cost in two years
    ]


def test_a_formula_is_refused_naming_where_beside_the_other_problems(
    client, run_jobs, plan, focal_point, moa_activity, moa_line
):
    book = Book(download(client, run_jobs, plan, focal_point))
    row = book.line_row(moa_line)
    book.set(row, "Quantity", "=2+3")
    other = book.add_line(moa_activity, Category="Food", **{"Unit cost": "=10*2"})
    before = lines_state(plan)
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    assert_nothing_saved(plan, before, uploaded)
    # Every problem at once, one per cell: the formula, not what its text would make of the number.
    assert [(p["sheet"], p["row"], p["column"], p["message"]) for p in uploaded.problems] == [
        (P1_SHEET, row, "Quantity", "a formula; type the value instead."),
        (P1_SHEET, other, "Unit cost", "a formula; type the value instead."),
        (P1_SHEET, other, "Category", "“Food” is not a cost category; choose one from the list."),
    ]


def test_a_workbook_of_another_plan_is_refused(client, run_jobs, plan, provincial_plan, lead, focal_point, moa_line):
    PlanMembership.objects.create(plan=provincial_plan, user=lead, role=Role.SECRETARIAT_LEAD)
    membership = PlanMembership.objects.select_related("user").get(plan=provincial_plan, user=lead)
    content, _ = costing_workbook_build(plan=provincial_plan, membership=membership)
    before = lines_state(plan)
    uploaded = upload(client, run_jobs, plan, focal_point, content)
    assert_nothing_saved(plan, before, uploaded)
    assert "downloaded from another plan" in uploaded.problems[0]["message"]


def test_a_workbook_whose_hidden_identity_was_altered_is_refused(client, run_jobs, plan, focal_point, moa_line):
    book = Book(download(client, run_jobs, plan, focal_point))
    meta = book.workbook[META_SHEET]
    signed = meta["B2"].value
    meta["B2"] = signed[:-3] + ("AAA" if not signed.endswith("AAA") else "BBB")
    book.set(book.line_row(moa_line), "Quantity", 5)
    before = lines_state(plan)
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    assert_nothing_saved(plan, before, uploaded)
    assert "identity was altered" in uploaded.problems[0]["message"]

    # Pointing the plain plan number at another plan does not help either.
    book.workbook[META_SHEET]["B2"] = signed
    book.workbook[META_SHEET]["B1"] = plan.pk + 1
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    assert_nothing_saved(plan, before, uploaded)


def test_a_file_that_is_not_a_workbook_is_refused(client, run_jobs, plan, focal_point, moa_line):
    before = lines_state(plan)
    uploaded = upload(client, run_jobs, plan, focal_point, b"line,quantity\n1,5\n", name="costing.xlsx")
    assert_nothing_saved(plan, before, uploaded)
    assert uploaded.problems[0]["message"] == "This is not an Excel workbook (.xlsx) or a CSV file."

    client.force_login(focal_point)
    file = SimpleUploadedFile("costing.csv", b"line,quantity\n1,5\n", content_type="text/csv")
    response = client.post(reverse("costing_upload", args=[plan.pk]), {"file": file})
    assert response.status_code == 422
    assert "Upload the costing workbook as an Excel workbook (.xlsx)." in response.content.decode()
    response = client.post(reverse("costing_upload", args=[plan.pk]))
    assert response.status_code == 422 and "This field is required." in response.content.decode()
    assert CostingUpload.objects.count() == 1


def test_a_macro_enabled_workbook_is_refused(client, run_jobs, plan, focal_point, moa_line):
    content = Book(download(client, run_jobs, plan, focal_point)).bytes()
    before = lines_state(plan)
    for name, content_type in (
        ("costing.xlsm", XLSX),
        ("costing.xlsx", "application/vnd.ms-excel.sheet.macroEnabled.12"),
    ):
        file = SimpleUploadedFile(name, content, content_type=content_type)
        response = client.post(reverse("costing_upload", args=[plan.pk]), {"file": file})
        assert response.status_code == 422
        assert "macro-enabled" in response.content.decode()
    assert not CostingUpload.objects.exists()

    buffer = io.BytesIO(content)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 macro")
    uploaded = upload(client, run_jobs, plan, focal_point, buffer.getvalue(), name="costing.xlsx")
    assert_nothing_saved(plan, before, uploaded)
    assert "contains macros" in uploaded.problems[0]["message"]


def test_a_zip_bomb_is_refused_without_being_read(client, run_jobs, plan, focal_point, moa_line):
    content = Book(download(client, run_jobs, plan, focal_point)).bytes()
    buffer = io.BytesIO(content)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (16 * 1024 * 1024))
    before = lines_state(plan)
    uploaded = upload(client, run_jobs, plan, focal_point, buffer.getvalue())
    assert_nothing_saved(plan, before, uploaded)
    assert "unpacks to far more data" in uploaded.problems[0]["message"]


# --- Upload: scope -------------------------------------------------------------------------------------------


def test_a_focal_point_may_not_upload_lines_of_another_organizations_activity(
    client, run_jobs, plan, lead, focal_point, moa_line, moh_activity, moh_line
):
    # The secretariat's workbook holds every activity; the focal point fills in the Ministry of Health's.
    book = Book(download(client, run_jobs, plan, lead))
    d1 = "D1 National Laboratory System"
    book.set(book.line_row(moh_line, d1), "Quantity", 99, sheet=d1)
    row = book.add_line(moh_activity, sheet=d1)
    book.set(book.line_row(moa_line), "Quantity", 4)
    before = lines_state(plan)

    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())

    assert_nothing_saved(plan, before, uploaded)
    message = (
        f"you may not cost activity {moh_activity.pk} “{moh_activity.title}”: your organization is not responsible"
    )
    assert [(p["sheet"], p["row"], p["column"]) for p in uploaded.problems] == [
        (d1, book.line_row(moh_line, d1), "Activity"),
        (d1, row, "Activity"),
    ]
    assert all(p["message"].startswith(message) for p in uploaded.problems)


def test_lines_of_other_activities_left_as_downloaded_are_ignored(
    client, run_jobs, plan, lead, focal_point, moa_line, moh_line
):
    """A colleague's untouched rows in a shared workbook are not the focal point's changes."""
    book = Book(download(client, run_jobs, plan, lead))
    book.set(book.line_row(moa_line), "Quantity", 4)
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    uploaded.refresh_from_db()
    assert uploaded.status == CostingUpload.Status.APPLIED
    assert uploaded.summary["changed"] == 1


# --- Pages and API -------------------------------------------------------------------------------------------


def test_the_upload_page_offers_the_download_and_lists_recent_uploads(
    client, run_jobs, plan, focal_point, moa_line, django_assert_max_num_queries
):
    content = download(client, run_jobs, plan, focal_point)
    for _ in range(3):
        upload(client, run_jobs, plan, focal_point, content)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("costing_upload", args=[plan.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Prepare my costing workbook" in page and "the activities Ministry of Agriculture" in page
    assert page.count(reverse("costing_upload_detail", args=[plan.pk, 0])[:-2]) >= 3


def test_the_upload_page_shows_the_jobs_progress_while_it_runs(client, plan, focal_point, moa_line, costing):
    client.force_login(focal_point)
    file = SimpleUploadedFile("costing.xlsx", b"not yet read", content_type=XLSX)
    client.post(reverse("costing_upload", args=[plan.pk]), {"file": file})  # the job is not run
    uploaded = CostingUpload.objects.get()
    url = reverse("costing_upload_detail", args=[plan.pk, uploaded.pk])
    page = client.get(url).content.decode()
    assert f'hx-get="{url}"' in page and "<progress" in page
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div class="job"') and "<html" not in fragment


def test_someone_elses_upload_is_not_found_but_the_secretariat_sees_it(
    client, run_jobs, plan, lead, people, focal_point, moa_line
):
    uploaded = upload(client, run_jobs, plan, focal_point, download(client, run_jobs, plan, focal_point))
    url = reverse("costing_upload_detail", args=[plan.pk, uploaded.pk])
    client.force_login(people[Role.TECHNICAL_LEAD])
    assert client.get(url).status_code == 404
    client.force_login(lead)
    assert client.get(url).status_code == 200


def test_the_api_takes_a_workbook_and_reports_its_outcome(
    client, run_jobs, api_client, plan, focal_point, moa_activity, moa_line, django_capture_on_commit_callbacks
):
    book = Book(download(client, run_jobs, plan, focal_point))
    book.add_line(moa_activity, Quantity=-2)
    api_client.force_authenticate(focal_point)
    url = reverse("costing-upload-list", args=[plan.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(url, {"file": SimpleUploadedFile("c.xlsx", book.bytes(), XLSX)}, format="multipart")
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "queued" and response.json()["job"]["kind"] == "costing_upload"
    detail = api_client.get(reverse("costing-upload-detail", args=[plan.pk, response.json()["id"]])).json()
    assert detail["status"] == "refused"
    assert detail["problems"][0]["column"] == "Quantity"
    assert detail["problems"][0]["text"].endswith("Quantity: -2 is negative.")
    assert [item["id"] for item in api_client.get(url).json()["results"]] == [detail["id"]]

    response = api_client.post(url, {"file": SimpleUploadedFile("c.csv", b"a,b", "text/csv")}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(reverse("api-costing-workbook", args=[plan.pk]))
    assert response.status_code == 202 and response.json()["kind"] == "costing_workbook"


def test_a_plan_costed_later_in_another_currency_still_takes_the_workbook(client, run_jobs, plan, focal_point):
    """A plan without costing settings yet gets them on first download: US dollars, the first year's prices."""
    activity = Activity.objects.create(
        plan=plan,
        technical_area=area("P1"),
        title="Draft the zoonoses law",
        responsible_organization=PlanMembership.objects.get(user=focal_point, plan=plan).organization,
    )
    book = Book(download(client, run_jobs, plan, focal_point))
    book.add_line(activity, Currency=None, **{"Price year": None})
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    uploaded.refresh_from_db()
    assert uploaded.status == CostingUpload.Status.APPLIED, uploaded.problems
    line = CostLine.objects.get(activity=activity)
    assert (line.currency, line.price_year) == ("USD", Plan.objects.get(pk=plan.pk).first_year)


def test_numbers_keep_no_binary_noise_from_excel(client, run_jobs, plan, focal_point, moa_activity, moa_line):
    book = Book(download(client, run_jobs, plan, focal_point))
    book.add_line(moa_activity, **{"Unit cost": 12.339999999999998, "Quantity": 0.30000000000000004})
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    uploaded.refresh_from_db()
    assert uploaded.status == CostingUpload.Status.APPLIED, uploaded.problems
    line = CostLine.objects.get(activity=moa_activity, description="Facilitator fees")
    assert (line.unit_cost, line.quantity) == (Decimal("12.34"), Decimal("0.3"))


def test_an_upload_job_run_again_after_a_crash_applies_nothing_twice(
    client, run_jobs, plan, focal_point, moa_activity, moa_line
):
    from datetime import timedelta

    from django.conf import settings
    from django.db.models.functions import Now

    from naphs.jobs import job_run

    book = Book(download(client, run_jobs, plan, focal_point))
    book.add_line(moa_activity)
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    state = lines_state(plan)
    # The worker died after the upload was applied, before the job was marked done: its heartbeat stopped, and the
    # job is run again.
    silent = Now() - timedelta(seconds=settings.JOB_HEARTBEAT_STALE_SECONDS + 60)
    Job.objects.filter(pk=uploaded.job_id).update(status=Job.Status.RUNNING, heartbeat_at=silent)
    job_run(job_id=uploaded.job_id)
    assert lines_state(plan) == state
    assert Job.objects.get(pk=uploaded.job_id).status == Job.Status.SUCCEEDED


def test_the_upload_page_runs_a_fixed_number_of_queries_however_many_problems(
    client, run_jobs, plan, focal_point, moa_activity, moa_line, django_assert_max_num_queries
):
    book = Book(download(client, run_jobs, plan, focal_point))
    for _ in range(3):
        book.add_line(moa_activity, Quantity=-1, Category="Food")
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    uploaded.refresh_from_db()
    assert len(uploaded.problems) == 6
    url = reverse("costing_upload_detail", args=[plan.pk, uploaded.pk])
    with django_assert_max_num_queries(8):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(7):
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 200
