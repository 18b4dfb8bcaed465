"""The progress workbook round trip: a person downloads the activities they report on for an open period, fills
the workbook offline and uploads it; every row is checked and the file is applied all or nothing, never over a
report someone else saved since the download.

The jobs run in-process when the request commits (eager Celery); the files are real .xlsx files, edited with
openpyxl as a person's Excel would save them.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from costing.services import exchange_rate_set, plan_costing_get
from monitoring.job_kinds import MonitoringJob
from monitoring.models import ProgressUpdate, ProgressUpload, ReportingPeriod
from monitoring.progress import Report, progress_save
from monitoring.workbook import HEADER_ROW
from naphs.models import AuditEvent, Job
from naphs.permissions import Role
from planning.models import Activity, Plan, TechnicalArea
from stakeholders.models import PlanMembership, User

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET = "Progress"


def area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


@pytest.fixture
def rates(plan, lead):
    """The plan costed in US dollars, with a euro rate for 2026 (the first quarter's year) only."""
    plan_costing_get(plan)
    exchange_rate_set(plan=plan, by=lead, currency="EUR", year=2026, rate=Decimal("1.10"))


@pytest.fixture
def period(plan, rates) -> ReportingPeriod:
    return ReportingPeriod.objects.create(
        plan=plan,
        label="2026 Q1",
        starts_on=datetime.date(2026, 1, 1),
        ends_on=datetime.date(2026, 3, 31),
        due_on=datetime.date(2026, 4, 15),
        state=ReportingPeriod.State.OPEN,
    )


@pytest.fixture
def moa_activity(plan, moa) -> Activity:
    return Activity.objects.create(
        plan=plan,
        technical_area=area("P1"),
        title="Train border veterinarians",
        responsible_organization=moa,
        start_date=datetime.date(2026, 2, 1),
        end_date=datetime.date(2026, 11, 30),
    )


@pytest.fixture
def moa_second(plan, moa) -> Activity:
    return Activity.objects.create(
        plan=plan, technical_area=area("P1"), title="Map livestock markets", responsible_organization=moa
    )


@pytest.fixture
def moh_activity(plan, moh) -> Activity:
    return Activity.objects.create(
        plan=plan, technical_area=area("D1"), title="Equip the reference laboratory", responsible_organization=moh
    )


@pytest.fixture
def focal_point(people) -> User:
    return people[Role.FOCAL_POINT]


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Run what a request enqueues once it commits, as the worker would."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


def download(client, run_jobs, plan, user, period) -> bytes:
    """The person's progress workbook of the period, asked for on the page and made by the job."""
    client.force_login(user)
    url = reverse("progress_workbook_export", args=[plan.pk])
    response = run_jobs(lambda: client.post(url, {"period": period.pk}))
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.filter(plan=plan, requested_by=user, kind=MonitoringJob.PROGRESS_WORKBOOK).latest("pk")
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.status == Job.Status.SUCCEEDED, job.message
    with job.result.open("rb") as handle:
        return handle.read()


def upload(client, run_jobs, plan, user, content: bytes, name: str = "progress.xlsx") -> ProgressUpload:
    client.force_login(user)
    file = SimpleUploadedFile(name, content, content_type=XLSX)
    response = run_jobs(lambda: client.post(reverse("progress_workbook", args=[plan.pk]), {"file": file}))
    assert response.status_code == 302, response.content.decode()[:2000]
    uploaded = ProgressUpload.objects.filter(plan=plan, uploaded_by=user).latest("pk")
    assert response["Location"] == reverse("progress_upload_detail", args=[plan.pk, uploaded.pk])
    uploaded.refresh_from_db()
    return uploaded


class Book:
    """An openpyxl view of a downloaded workbook, edited by column heading as a person would."""

    def __init__(self, content: bytes, sheet: str = SHEET) -> None:
        self.workbook = load_workbook(io.BytesIO(content))
        self.name = sheet

    @property
    def sheet(self):
        return self.workbook[self.name]

    def column(self, heading: str) -> int:
        for cell in self.sheet[HEADER_ROW]:
            if cell.value == heading:
                return cell.column
        raise AssertionError(f"no column {heading!r}")

    def row(self, activity: Activity) -> int:
        id_column = self.column("Activity id") if self.name == SHEET else 3
        for row in self.sheet.iter_rows(min_row=HEADER_ROW + 1):
            if row[id_column - 1].value == activity.pk:
                return row[0].row
        raise AssertionError(f"activity {activity.pk} is not in the workbook")

    def ids(self) -> list[int]:
        return [row[2].value for row in self.sheet.iter_rows(min_row=HEADER_ROW + 1)]

    def get(self, activity: Activity, heading: str):
        return self.sheet.cell(row=self.row(activity), column=self.column(heading)).value

    def set(self, activity: Activity, heading: str, value) -> int:
        row = self.row(activity)
        self.sheet.cell(row=row, column=self.column(heading), value=value)
        return row

    def report(self, activity: Activity, **values) -> int:
        cells = {"Status": "On track", "Percent complete (0–100)": 40, "Narrative": "Two trainings held"}
        cells.update({heading.replace("_", " "): value for heading, value in values.items()})
        row = 0
        for heading, value in cells.items():
            row = self.set(activity, heading, value)
        return row

    def bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.workbook.save(buffer)
        return buffer.getvalue()


def reports_state(plan) -> list[tuple]:
    return list(
        ProgressUpdate.objects.filter(plan=plan)
        .order_by("pk")
        .values_list("activity_id", "status", "percent_complete", "amount_spent", "currency", "narrative", "version")
    )


def assert_nothing_saved(plan, before, uploaded: ProgressUpload) -> None:
    uploaded.refresh_from_db()
    assert uploaded.status == ProgressUpload.Status.REFUSED
    assert uploaded.job.status == Job.Status.FAILED
    assert uploaded.job.message.startswith("Nothing was saved"), uploaded.job.message
    assert reports_state(plan) == before
    assert not uploaded.file


def places(uploaded: ProgressUpload) -> list[tuple]:
    return [(p["sheet"], p["row"], p["column"]) for p in uploaded.problems]


# --- Download ------------------------------------------------------------------------------------------------


def test_a_focal_point_downloads_the_activities_of_their_organization_with_the_periods_reports(
    client, run_jobs, plan, lead, period, focal_point, moa_activity, moa_second, moh_activity
):
    progress_save(
        activity=moa_activity,
        period=period,
        by=lead,
        version=0,
        report=Report(status="delayed", percent_complete=20, amount_spent=Decimal("150.50"), currency="EUR"),
    )
    book = Book(download(client, run_jobs, plan, focal_point, period))

    assert book.workbook.sheetnames == ["Instructions", SHEET, "Lists", "Workbook"]
    assert book.workbook["Lists"].sheet_state == "hidden"
    assert book.workbook["Workbook"].sheet_state == "veryHidden"
    assert sorted(book.ids()) == sorted([moa_activity.pk, moa_second.pk])  # not the Ministry of Health's
    assert book.get(moa_activity, "Status") == "Delayed"
    assert book.get(moa_activity, "Percent complete (0–100)") == 20
    assert book.get(moa_activity, "Amount spent") == 150.5
    assert book.get(moa_activity, "Currency") == "EUR"
    assert book.get(moa_activity, "Version") == 1
    assert book.get(moa_activity, "Start date") == "2026-02-01"
    assert book.get(moa_activity, "Technical area") == "P1"
    assert book.get(moa_activity, "Responsible organization") == "Ministry of Agriculture (MOA)"
    assert book.get(moa_second, "Version") == 0 and book.get(moa_second, "Status") is None
    sheet = book.sheet
    assert sheet.protection.sheet
    assert sheet.column_dimensions["A"].hidden and sheet.column_dimensions["B"].hidden
    row = book.row(moa_activity)
    locked = {cell.column for cell in sheet[row] if cell.protection.locked}
    assert {book.column("Activity id"), book.column("Activity"), book.column("Start date")} <= locked
    assert book.column("Status") not in locked and book.column("Narrative") not in locked
    validations = {str(v.sqref).split(":")[0][:1]: v for v in sheet.data_validations.dataValidation}
    status_letter = sheet.cell(row=1, column=book.column("Status")).column_letter
    assert validations[status_letter].type == "list"
    assert [row[0].value for row in book.workbook["Lists"].iter_rows()][:6] == [
        "Not started", "On track", "Delayed", "At risk", "Completed", "Cancelled",
    ]  # fmt: skip
    assert [row[1].value for row in book.workbook["Lists"].iter_rows() if row[1].value] == ["EUR", "USD"]


def test_a_closed_period_has_no_workbook(client, plan, period, focal_point, moa_activity):
    ReportingPeriod.objects.filter(pk=period.pk).update(state=ReportingPeriod.State.CLOSED)
    client.force_login(focal_point)
    response = client.post(reverse("progress_workbook_export", args=[plan.pk]), {"period": period.pk})
    assert response.status_code == 422
    assert "The reporting period 2026 Q1 is closed" in response.content.decode()
    assert not Job.objects.filter(kind=MonitoringJob.PROGRESS_WORKBOOK).exists()


def test_another_plans_period_is_refused(client, plan, period, provincial_plan, focal_point, moa_activity):
    other = ReportingPeriod.objects.create(
        plan=provincial_plan,
        label="Province Q1",
        starts_on=datetime.date(2026, 1, 1),
        ends_on=datetime.date(2026, 3, 31),
        due_on=datetime.date(2026, 4, 15),
        state=ReportingPeriod.State.OPEN,
    )
    client.force_login(focal_point)
    response = client.post(reverse("progress_workbook_export", args=[plan.pk]), {"period": other.pk})
    assert response.status_code == 422
    assert not Job.objects.filter(kind=MonitoringJob.PROGRESS_WORKBOOK).exists()


# --- Upload: the round trip ----------------------------------------------------------------------------------


def test_a_filled_workbook_is_applied_and_the_same_file_again_changes_nothing(
    client, run_jobs, plan, period, focal_point, moa_activity, moa_second
):
    book = Book(download(client, run_jobs, plan, focal_point, period))
    book.report(moa_activity, Amount_spent=1000, Currency="EUR", Blockers="Fuel shortage")
    book.report(moa_second, Status="Completed", **{"Percent complete (0–100)": 100})
    content = book.bytes()

    uploaded = upload(client, run_jobs, plan, focal_point, content)

    assert uploaded.status == ProgressUpload.Status.APPLIED, uploaded.problems
    assert (uploaded.summary["added"], uploaded.summary["changed"], uploaded.period) == (2, 0, period)
    report = ProgressUpdate.objects.get(activity=moa_activity, period=period)
    assert (report.status, report.percent_complete, report.narrative, report.blockers) == (
        "on_track", 40, "Two trainings held", "Fuel shortage"
    )  # fmt: skip
    assert (report.amount_spent, report.currency, report.amount_spent_base) == (
        Decimal("1000.00"), "EUR", Decimal("1100.00")
    )  # fmt: skip
    assert report.reported_by == focal_point and report.version == 1
    assert ProgressUpdate.objects.get(activity=moa_second).status == "completed"
    events = AuditEvent.objects.filter(plan=plan, actor=focal_point)
    assert events.filter(action="created", target_type="progressupdate").count() == 2
    imported = events.get(action="imported", target_type="progressupload")
    assert imported.changes == {"period": "2026 Q1", "added": 2, "changed": 0, "unchanged": 0}
    per_row = events.get(action="created", target_id=report.pk)
    assert per_row.changes["status"] == [None, "on_track"] and per_row.changes["upload"] == "progress.xlsx"

    state, audit = reports_state(plan), AuditEvent.objects.count()
    again = upload(client, run_jobs, plan, focal_point, content)
    assert again.status == ProgressUpload.Status.APPLIED, again.problems
    assert (again.summary["added"], again.summary["changed"], again.summary["unchanged"]) == (0, 0, 2)
    assert reports_state(plan) == state
    assert AuditEvent.objects.count() == audit
    page = client.get(reverse("progress_upload_detail", args=[plan.pk, again.pk])).content.decode()
    assert "what it held then is already saved" in page and "Nothing changed" in page


def test_a_changed_report_is_saved_as_a_new_version(
    client, run_jobs, plan, lead, period, focal_point, moa_activity, moa_second
):
    progress_save(
        activity=moa_activity, period=period, by=lead, version=0, report=Report(status="on_track", percent_complete=10)
    )
    book = Book(download(client, run_jobs, plan, focal_point, period))
    book.set(moa_activity, "Percent complete (0–100)", 55)
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    assert uploaded.status == ProgressUpload.Status.APPLIED, uploaded.problems
    assert (uploaded.summary["added"], uploaded.summary["changed"], uploaded.summary["unchanged"]) == (0, 1, 0)
    report = ProgressUpdate.objects.get(activity=moa_activity)
    assert (report.percent_complete, report.version, report.reported_by) == (55, 2, focal_point)
    change = AuditEvent.objects.get(action="changed", target_type="progressupdate")
    assert change.changes["percent_complete"] == [10, 55]
    assert not ProgressUpdate.objects.filter(activity=moa_second).exists()  # left blank: nothing reported


def test_every_problem_is_located_by_sheet_row_and_column_and_nothing_is_saved(
    client, run_jobs, plan, period, focal_point, moa_activity, moa_second, moa
):
    third = Activity.objects.create(
        plan=plan, technical_area=area("P1"), title="Vaccinate", responsible_organization=moa
    )
    fourth = Activity.objects.create(plan=plan, technical_area=area("P1"), title="Survey", responsible_organization=moa)
    fifth = Activity.objects.create(plan=plan, technical_area=area("P1"), title="Audit", responsible_organization=moa)
    book = Book(download(client, run_jobs, plan, focal_point, period))
    first = book.report(moa_activity, Status="Done", **{"Percent complete (0–100)": 150})
    second = book.report(moa_second, **{"Percent complete (0–100)": "half"}, Amount_spent=-5)
    row3 = book.report(third, Amount_spent=20, Currency="JPY")
    row4 = book.report(fourth, Status="Completed", **{"Percent complete (0–100)": 80})
    row5 = book.report(fifth, Status=None, Narrative="Started")
    before = reports_state(plan)

    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())

    assert_nothing_saved(plan, before, uploaded)
    assert places(uploaded) == [
        (SHEET, first, "Status"),
        (SHEET, first, "Percent complete (0–100)"),
        (SHEET, second, "Percent complete (0–100)"),
        (SHEET, second, "Amount spent"),
        (SHEET, row3, "Currency"),
        (SHEET, row4, "Percent complete (0–100)"),
        (SHEET, row5, "Status"),
    ]
    messages = [p["message"] for p in uploaded.problems]
    assert messages[0] == "“Done” is not a status; choose one from the list."
    assert messages[1] == "Percent complete is a whole number from 0 to 100."
    assert messages[2] == "“half” is not a whole number from 0 to 100."
    assert messages[3] == "An amount spent cannot be negative."
    assert messages[4].startswith("No exchange rate from JPY to USD for 2026")
    assert messages[5] == "A completed activity is 100% complete."
    assert messages[6] == "choose a status from the list."
    assert uploaded.job.message == "Nothing was saved: 7 problems, listed below."
    page = client.get(reverse("progress_upload_detail", args=[plan.pk, uploaded.pk])).content.decode()
    assert "7 problems to fix" in page and "“Done” is not a status" in page


def test_a_formula_is_a_problem_of_its_cell(client, run_jobs, plan, period, focal_point, moa_activity):
    book = Book(download(client, run_jobs, plan, focal_point, period))
    row = book.report(moa_activity, **{"Percent complete (0–100)": "=20+20"})
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    assert_nothing_saved(plan, [], uploaded)
    assert (SHEET, row, "Percent complete (0–100)") in places(uploaded)
    assert any("formula" in p["message"] for p in uploaded.problems)


def test_a_report_someone_else_saved_since_the_download_is_a_conflict_and_nothing_is_applied(
    client, run_jobs, plan, people, period, focal_point, moa_activity, moa_second
):
    book = Book(download(client, run_jobs, plan, focal_point, period))
    secretariat = people[Role.SECRETARIAT_MEMBER]
    progress_save(
        activity=moa_activity,
        period=period,
        by=secretariat,
        version=0,
        report=Report(status="at_risk", percent_complete=5),
    )
    row = book.report(moa_activity)
    book.report(moa_second)  # sound, but not applied either
    before = reports_state(plan)

    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())

    assert_nothing_saved(plan, before, uploaded)
    assert uploaded.problems == []
    [conflict] = uploaded.conflicts
    assert (conflict["sheet"], conflict["row"], conflict["activity"]) == (SHEET, row, moa_activity.pk)
    assert conflict["message"].startswith("reported by Secretariat Member on ")
    assert uploaded.job.message == "Nothing was saved: 1 report changed since the download, listed below."
    page = client.get(reverse("progress_upload_detail", args=[plan.pk, uploaded.pk])).content.decode()
    assert "Reported since your download" in page and moa_activity.title in page


def test_a_row_left_as_downloaded_is_no_conflict_whoever_reported_since(
    client, run_jobs, plan, people, period, focal_point, moa_activity, moa_second
):
    book = Book(download(client, run_jobs, plan, focal_point, period))
    progress_save(
        activity=moa_activity,
        period=period,
        by=people[Role.SECRETARIAT_LEAD],
        version=0,
        report=Report(status="at_risk", percent_complete=5),
    )
    book.report(moa_second)
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    assert uploaded.status == ProgressUpload.Status.APPLIED, (uploaded.problems, uploaded.conflicts)
    assert ProgressUpdate.objects.get(activity=moa_activity).status == "at_risk"


def test_a_focal_point_may_not_report_on_another_organizations_activity(
    client, run_jobs, plan, lead, period, focal_point, moa_activity, moh_activity
):
    # The secretariat's workbook holds every activity; the focal point fills in the Ministry of Health's too.
    book = Book(download(client, run_jobs, plan, lead, period))
    row = book.report(moh_activity)
    book.report(moa_activity)
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    assert_nothing_saved(plan, [], uploaded)
    assert places(uploaded) == [(SHEET, row, "Activity id")]
    assert uploaded.problems[0]["message"] == (
        f"you may not report on activity {moh_activity.pk} “{moh_activity.title}”: your organization is not "
        "responsible for it."
    )


def test_other_organizations_rows_left_as_downloaded_are_ignored(
    client, run_jobs, plan, lead, period, focal_point, moa_activity, moh_activity
):
    book = Book(download(client, run_jobs, plan, lead, period))
    book.report(moa_activity)
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    assert uploaded.status == ProgressUpload.Status.APPLIED, uploaded.problems
    assert list(ProgressUpdate.objects.values_list("activity_id", flat=True)) == [moa_activity.pk]


def test_a_technical_lead_reports_on_their_own_areas_only(
    client, run_jobs, plan, lead, people, period, moa_activity, moh_activity
):
    technical_lead = people[Role.TECHNICAL_LEAD]
    PlanMembership.objects.get(plan=plan, user=technical_lead).technical_areas.add(area("D1"))
    book = Book(download(client, run_jobs, plan, technical_lead, period))
    assert book.ids() == [moh_activity.pk]
    book.report(moh_activity)
    assert upload(client, run_jobs, plan, technical_lead, book.bytes()).status == ProgressUpload.Status.APPLIED

    everything = Book(download(client, run_jobs, plan, lead, period))
    row = everything.report(moa_activity)
    uploaded = upload(client, run_jobs, plan, technical_lead, everything.bytes())
    assert places(uploaded) == [(SHEET, row, "Activity id")]
    assert "P1 is not one of your technical areas" in uploaded.problems[0]["message"]


def test_a_workbook_uploaded_after_its_period_closed_is_refused_clearly(
    client, run_jobs, plan, period, focal_point, moa_activity
):
    book = Book(download(client, run_jobs, plan, focal_point, period))
    book.report(moa_activity)
    ReportingPeriod.objects.filter(pk=period.pk).update(state=ReportingPeriod.State.CLOSED)
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    assert_nothing_saved(plan, [], uploaded)
    assert uploaded.problems[0]["message"] == (
        "The reporting period 2026 Q1 is closed: reports for it are no longer taken."
    )


def test_an_endorsed_plan_takes_the_workbook(client, run_jobs, plan, period, focal_point, moa_activity):
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    book = Book(download(client, run_jobs, plan, focal_point, period))
    book.report(moa_activity)
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    assert uploaded.status == ProgressUpload.Status.APPLIED, uploaded.problems
    assert ProgressUpdate.objects.filter(activity=moa_activity).exists()


def test_a_workbook_of_another_plan_or_a_costing_workbook_is_refused(
    client, run_jobs, plan, provincial_plan, lead, period, focal_point, moa, moa_activity
):
    from costing.workbook import costing_workbook_build, membership_for_costing

    membership = membership_for_costing(plan=plan, user=focal_point)
    costing, _rows = costing_workbook_build(plan=plan, membership=membership)
    uploaded = upload(client, run_jobs, plan, focal_point, costing)
    assert uploaded.problems[0]["message"].startswith("This is not a progress workbook of this plan")

    content = download(client, run_jobs, plan, focal_point, period)
    PlanMembership.objects.create(plan=provincial_plan, user=focal_point, role=Role.FOCAL_POINT, organization=moa)
    uploaded = upload(client, run_jobs, provincial_plan, focal_point, content)
    assert uploaded.problems[0]["message"].startswith("This workbook was downloaded from another plan")

    book = Book(content)
    book.workbook["Workbook"]["B4"] = "tampered"
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    assert uploaded.problems[0]["message"].startswith("This workbook's identity was altered")


def test_an_altered_hidden_version_is_refused(client, run_jobs, plan, period, focal_point, moa_activity):
    book = Book(download(client, run_jobs, plan, focal_point, period))
    row = book.report(moa_activity)
    book.set(moa_activity, "Version", "x")
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    assert places(uploaded) == [(SHEET, row, "Activity id")]
    assert uploaded.problems[0]["message"] == "this row's hidden version was altered."


def test_an_upload_job_run_again_after_a_crash_applies_nothing_twice(
    client, run_jobs, plan, period, focal_point, moa_activity
):
    from datetime import timedelta

    from django.conf import settings
    from django.db.models.functions import Now

    from naphs.jobs import job_run

    book = Book(download(client, run_jobs, plan, focal_point, period))
    book.report(moa_activity)
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    state = reports_state(plan)
    silent = Now() - timedelta(seconds=settings.JOB_HEARTBEAT_STALE_SECONDS + 60)
    Job.objects.filter(pk=uploaded.job_id).update(status=Job.Status.RUNNING, heartbeat_at=silent)
    job_run(job_id=uploaded.job_id)
    assert reports_state(plan) == state
    assert Job.objects.get(pk=uploaded.job_id).status == Job.Status.SUCCEEDED


def test_numbers_keep_no_binary_noise_from_excel(client, run_jobs, plan, period, focal_point, moa_activity):
    book = Book(download(client, run_jobs, plan, focal_point, period))
    book.report(moa_activity, Amount_spent=12.339999999999998, **{"Percent complete (0–100)": 40.0})
    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    assert uploaded.status == ProgressUpload.Status.APPLIED, uploaded.problems
    report = ProgressUpdate.objects.get(activity=moa_activity)
    assert (report.amount_spent, report.currency, report.percent_complete) == (Decimal("12.34"), "USD", 40)


# --- Pages, the API, permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", [Role.REVIEWER, Role.VIEWER])
def test_reviewers_and_viewers_may_not_download_or_upload(client, api_client, plan, people, period, persona):
    client.force_login(people[persona])
    assert client.get(reverse("progress_workbook", args=[plan.pk])).status_code == 403
    response = client.post(reverse("progress_workbook_export", args=[plan.pk]), {"period": period.pk})
    assert response.status_code == 403
    api_client.force_authenticate(people[persona])
    assert api_client.post(reverse("api-progress-workbook", args=[plan.pk]), {"period": period.pk}).status_code == 403
    assert api_client.get(reverse("progress-upload-list", args=[plan.pk])).status_code == 403
    client.force_login(people["outsider"])
    assert client.get(reverse("progress_workbook", args=[plan.pk])).status_code == 404


def test_someone_elses_upload_is_not_found_but_the_secretariat_sees_it(
    client, run_jobs, plan, lead, people, period, focal_point, moa_activity
):
    uploaded = upload(client, run_jobs, plan, focal_point, download(client, run_jobs, plan, focal_point, period))
    url = reverse("progress_upload_detail", args=[plan.pk, uploaded.pk])
    client.force_login(people[Role.TECHNICAL_LEAD])
    assert client.get(url).status_code == 404
    client.force_login(lead)
    assert client.get(url).status_code == 200


def test_the_api_starts_the_workbook_and_takes_it_back(
    client, run_jobs, api_client, plan, period, focal_point, moa_activity, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(focal_point)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(reverse("api-progress-workbook", args=[plan.pk]), {"period": period.pk})
    assert response.status_code == 202 and response.json()["kind"] == "progress_workbook"
    job = Job.objects.get(pk=response.json()["id"])
    with job.result.open("rb") as handle:
        book = Book(handle.read())
    book.report(moa_activity, **{"Percent complete (0–100)": 101})
    url = reverse("progress-upload-list", args=[plan.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(url, {"file": SimpleUploadedFile("p.xlsx", book.bytes(), XLSX)}, format="multipart")
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "queued" and response.json()["job"]["kind"] == "progress_upload"
    detail = api_client.get(reverse("progress-upload-detail", args=[plan.pk, response.json()["id"]])).json()
    assert detail["status"] == "refused"
    assert detail["problems"][0]["column"] == "Percent complete (0–100)"
    assert detail["problems"][0]["text"].endswith("Percent complete is a whole number from 0 to 100.")
    assert [item["id"] for item in api_client.get(url).json()["results"]] == [detail["id"]]

    response = api_client.post(url, {"file": SimpleUploadedFile("p.csv", b"a,b", "text/csv")}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    closed = ReportingPeriod.objects.create(
        plan=plan,
        label="2025 Q4",
        starts_on=datetime.date(2025, 10, 1),
        ends_on=datetime.date(2025, 12, 31),
        due_on=datetime.date(2026, 1, 15),
        state=ReportingPeriod.State.CLOSED,
    )
    response = api_client.post(reverse("api-progress-workbook", args=[plan.pk]), {"period": closed.pk})
    assert response.status_code == 400 and "closed" in response.json()["period"][0]
    response = api_client.post(reverse("api-progress-workbook", args=[plan.pk]), {"period": period.pk, "extra": 1})
    assert response.status_code == 400


def _activities(plan, organization, count: int) -> None:
    Activity.objects.bulk_create(
        Activity(plan=plan, technical_area=area("P1"), title=f"Activity {n}", responsible_organization=organization)
        for n in range(count)
    )


@pytest.mark.parametrize("size", [3, 60])
def test_the_workbook_page_and_an_uploads_page_run_a_fixed_number_of_queries(
    client, run_jobs, plan, period, focal_point, moa, size, django_assert_max_num_queries
):
    _activities(plan, moa, size)
    book = Book(download(client, run_jobs, plan, focal_point, period))
    for activity in Activity.objects.filter(plan=plan)[:size]:
        book.report(activity, Status="Done")
    for _ in range(3):
        uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())
    assert len(uploaded.problems) == size
    with django_assert_max_num_queries(14):
        response = client.get(reverse("progress_workbook", args=[plan.pk]))
    assert response.status_code == 200 and "Prepare my progress workbook" in response.content.decode()
    url = reverse("progress_upload_detail", args=[plan.pk, uploaded.pk])
    with django_assert_max_num_queries(9):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 200


@pytest.mark.parametrize("size", [5, 200])
def test_the_export_and_the_upload_run_a_fixed_number_of_queries(
    plan, lead, period, moa, size, django_assert_max_num_queries
):
    from django.core.files.base import ContentFile

    from monitoring.workbook import progress_upload_check_and_apply, progress_workbook_build

    _activities(plan, moa, size)
    membership = PlanMembership.objects.select_related("plan", "user").get(plan=plan, user=lead)
    with django_assert_max_num_queries(12):
        content, rows = progress_workbook_build(plan=plan, membership=membership, period=period)
    assert rows == size
    book = Book(content)
    for activity in Activity.objects.filter(plan=plan):
        book.report(activity)
    uploaded = ProgressUpload.objects.create(
        plan=plan, uploaded_by=lead, file=ContentFile(book.bytes(), name="p.xlsx"), filename="p.xlsx", digest="x"
    )
    with django_assert_max_num_queries(30):
        summary = progress_upload_check_and_apply(upload=uploaded, membership=membership)
    assert summary["added"] == size
