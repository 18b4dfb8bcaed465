"""The progress workbook: a person's reports for one open period, out to Excel and back, all or nothing.

Download (`progress_workbook_export`, a background job): for a reporting period that is open, the activities the
person may report on (a focal point's organization's, a technical lead's areas, the whole plan for the
secretariat), one row each on one sheet: locked identity cells (the activity's id, area, title, organization and
dates), then the period's report as it stands, if any (status, percent complete, amount spent and its currency,
narrative, blockers) in white cells with drop-downs. Hidden locked columns carry each report's version and a
fingerprint of its values at download; a very hidden sheet carries the plan, the period and a download token,
signed, so a workbook of another plan or period, or a tampered one, is refused.

Upload (`progress_upload_create`, then the job `progress_upload_apply`): the file is read by the safe reader
(naphs.spreadsheets), every row is checked with the rules every report follows (monitoring.progress.progress_clean)
and the person's scope, and the whole file is applied in one transaction, holding the period's row as a single
report does, or nothing is. A row left as downloaded changes nothing; a report someone else changed since the
download is a conflict, never overwritten; the same file twice changes nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import dateformat, timezone
from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.utils.translation import gettext_lazy as _

from costing.layouts.workbook import INSTRUCTIONS_SHEET, LISTS_SHEET, META_SHEET, whole
from costing.models import ExchangeRate
from costing.services import Rates, parse_decimal, plan_costing_get
from costing.uploads import MAX_PROBLEMS_KEPT, UploadRefused
from costing.workbook import problem_text
from monitoring import aggregates
from monitoring.job_kinds import MonitoringJob
from monitoring.models import ProgressStatus, ProgressUpdate, ProgressUpload, ReportingPeriod
from monitoring.progress import Report, period_open_check, progress_clean
from naphs.errors import JobLimitReached
from naphs.jobs import JobFailed, JobResult, Progress, file_slug
from naphs.languages import number_text
from naphs.models import AuditEvent, Job
from naphs.permissions import Permission, Role
from naphs.services import audit_record, job_create, rows_update
from naphs.spreadsheets import ImportRefused, Sheet, cell_text, find_header, heading_text, in_every_language
from naphs.spreadsheets import read_spreadsheet as spreadsheet_read
from naphs.uploads import file_digest, upload_file_check, upload_job_params, upload_quota_check
from naphs.xlsx import StreamingSheet, StreamingWorkbook
from planning.models import Activity
from stakeholders.access import activities_reportable_by
from stakeholders.models import PlanMembership

if TYPE_CHECKING:
    from planning.models import Plan
    from stakeholders.models import User

__all__ = ["FIRST_DATA_ROW", "HEADER_ROW", "TITLES", "progress_problem_text"]

SIGNING_SALT = "monitoring.workbook"
KIND = "progress"  # in the hidden sheet: tells a progress workbook from a costing one
LIMITS = "progress_workbook"  # the reader's limits (naphs.spreadsheets.limits_for: the defaults unless configured)
MAX_TEXT = 10_000
MAX_ACTIVITY_LINKS = 200
TITLE_ROW, HEADER_ROW, FIRST_DATA_ROW = 1, 2, 3
HEADER_FILL, LOCKED_FILL = "1F4E79", "F2F2F2"
MONEY = "#,##0.00"

# Translators: the name of the progress workbook's sheet of activities, at most 31 characters.
PROGRESS_SHEET = _("Progress")

# The headings of the columns, in order.
TITLES: dict[str, Any] = {
    "version": _("Version"),
    # Translators: heading of a hidden column holding a checksum of the report's values.
    "check": _("Check"),
    "activity": _("Activity id"),
    "area": _("Technical area"),
    "title": _("Activity"),
    "organization": _("Responsible organization"),
    "starts": _("Start date"),
    "ends": _("End date"),
    "status": _("Status"),
    "percent": _("Percent complete (0–100)"),
    "amount": _("Amount spent"),
    "currency": _("Currency"),
    "narrative": _("Narrative"),
    "blockers": _("Blockers"),
}
WIDTHS = {"version": 8, "check": 8, "activity": 10, "area": 10, "title": 48, "organization": 28, "starts": 12,
          "ends": 12, "status": 16, "percent": 14, "amount": 16, "currency": 10, "narrative": 50,
          "blockers": 40}  # fmt: skip
HIDDEN_KEYS = ("version", "check")
LOCKED_KEYS = frozenset({"version", "check", "activity", "area", "title", "organization", "starts", "ends"})
INPUT_KEYS = ("status", "percent", "amount", "currency", "narrative", "blockers")
# The columns an uploaded sheet must have; the identity cells other than the id are for the reader only.
REQUIRED_KEYS = ("version", "check", "activity", *INPUT_KEYS)
# Which column a field of progress_clean's errors is in.
FIELD_KEYS = {
    "status": "status",
    "percent_complete": "percent",
    "amount_spent": "amount",
    "currency": "currency",
    "narrative": "narrative",
    "blockers": "blockers",
}


def columns() -> list[tuple[str, str]]:
    """(key, heading) of every column, in order, headed in the current language."""
    return [(key, str(title)) for key, title in TITLES.items()]


# --- Words in any language ------------------------------------------------------------------------------------


def heading_key(value: Any) -> str:
    """The column a heading names, in any of the product's languages; else the heading as matched."""
    headings = in_every_language("progress_workbook.headings", lambda: [(title, key) for key, title in TITLES.items()])
    text = heading_text(value)
    return headings.get(text, text)


def status_words() -> dict[str, str]:
    """What a person may write for a status: its label in every language, or its code."""
    return in_every_language(
        "progress_workbook.statuses",
        lambda: [
            *((label, value) for value, label in ProgressStatus.choices),
            *((v, v) for v in ProgressStatus.values),
        ],
    )


def is_reserved_sheet(name: str) -> bool:
    reserved = in_every_language(
        "progress_workbook.sheets", lambda: [(INSTRUCTIONS_SHEET, True), (LISTS_SHEET, True), (META_SHEET, True)]
    )
    return heading_text(name) in reserved


def _decimal_text(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def report_values(values: Mapping[str, Any] | None) -> tuple[str, ...]:
    """What the workbook shows of a report, in a fixed order (a row of .values(), or cleaned fields); a period
    without a report shows nothing."""
    if values is None:
        return ("",) * len(INPUT_KEYS)
    amount = values.get("amount_spent")
    return (
        str(values.get("status") or ""),
        str(values.get("percent_complete") if values.get("percent_complete") is not None else ""),
        _decimal_text(Decimal(amount)) if amount is not None else "",
        str(values.get("currency") or "") if amount is not None else "",
        cell_text(values.get("narrative")),
        cell_text(values.get("blockers")),
    )


def fingerprint(values: Iterable[str]) -> str:
    """A short digest of a report's values as the workbook shows them: tells an edited row from an untouched one."""
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:16]


# --- Who, and which period ------------------------------------------------------------------------------------


def membership_for_reporting(*, plan: Plan, user: User) -> PlanMembership | None:
    """The person's membership when it lets them report progress on activities of the plan, else None."""
    membership = PlanMembership.objects.select_related("organization").filter(plan=plan, user=user).first()
    if membership is None or not membership.role_allows(Permission.REPORT_PROGRESS):
        return None
    return membership


def scope_description(membership: PlanMembership) -> str:
    if membership.is_secretariat:
        return gettext("every activity of the plan")
    if membership.role == Role.TECHNICAL_LEAD:
        codes = ", ".join(membership.technical_areas.order_by("order", "code").values_list("code", flat=True))
        if not codes:
            return gettext("the activities of your technical areas (none assigned yet)")
        return gettext("the activities of your technical areas (%(codes)s)") % {"codes": codes}
    return gettext("the activities %(organization)s is responsible for") % {"organization": membership.organization}


def open_periods(plan: Plan) -> QuerySet[ReportingPeriod]:
    return ReportingPeriod.objects.filter(plan=plan, state=ReportingPeriod.State.OPEN).order_by("starts_on")


def progress_workbook_request(*, plan: Plan, by: User, period: ReportingPeriod) -> Job:
    """Queue the person's progress workbook for an open period of the plan. Who may ask is checked by the view
    (Permission.REPORT_PROGRESS); ValidationError when the period is not open."""
    if period.plan_id != plan.pk:
        raise ValidationError(gettext("This reporting period belongs to another plan."), code="period_of_other_plan")
    period_open_check(period)
    return job_create(kind=MonitoringJob.PROGRESS_WORKBOOK, by=by, plan=plan, params={"period": period.pk})


# --- Download ------------------------------------------------------------------------------------------------


def progress_workbook_build(
    *,
    plan: Plan,
    membership: PlanMembership,
    period: ReportingPeriod,
    token: str | None = None,
    progress: Progress | None = None,
) -> tuple[bytes, int]:
    """The workbook's bytes and the number of activity rows written. A fixed number of queries."""
    report = progress or (lambda percent, message: None)
    user = membership.user
    costing = plan_costing_get(plan)
    base = costing.currency
    token = token or secrets.token_urlsafe(9)
    now = timezone.now()
    heads = columns()
    position = {key: index for index, (key, _title) in enumerate(heads)}

    report(5, gettext("Reading activities and reports"))
    scope = activities_reportable_by(membership)
    activities = list(
        Activity.objects.filter(plan=plan)
        .filter(scope)
        .select_related("technical_area", "responsible_organization")
        .order_by("technical_area__order", "technical_area__code", "pk")
    )
    in_scope = Activity.objects.filter(plan=plan).filter(scope).values("pk")
    reports = {
        row["activity_id"]: row
        for row in ProgressUpdate.objects.filter(period=period, activity__in=in_scope).values(
            "activity_id", "version", *(name for name in FIELD_KEYS), "amount_spent"
        )
    }
    year = period.ends_on.year
    rates = list(ExchangeRate.objects.filter(plan=plan, year=year).order_by("currency"))
    currencies = sorted({base, *(rate.currency for rate in rates)})

    book = StreamingWorkbook(title=gettext("%(plan)s: progress workbook") % {"plan": plan.title})
    s_title = book.style(bold=True)
    s_note = book.style(italic=True, color="595959")
    s_header = book.style(bold=True, color="FFFFFF", fill=HEADER_FILL, wrap=True)
    s_locked = book.style(fill=LOCKED_FILL)
    s_locked_text = book.style(fill=LOCKED_FILL, wrap=True)
    s_input = book.style(locked=False)
    s_input_money = book.style(locked=False, number_format=MONEY)
    s_input_text = book.style(locked=False, wrap=True)

    _instructions_sheet(book, plan, membership, period, base, rates, now, s_title, s_header, s_note)

    styles = []
    for key, _title in heads:
        if key in LOCKED_KEYS:
            styles.append(s_locked_text if key == "title" else s_locked)
        elif key == "amount":
            styles.append(s_input_money)
        elif key in ("narrative", "blockers"):
            styles.append(s_input_text)
        else:
            styles.append(s_input)
    status_labels = {value: str(label) for value, label in ProgressStatus.choices}

    report(20, gettext("Writing the sheet"))
    sheet = book.add_sheet(
        str(PROGRESS_SHEET),
        widths=[WIDTHS[key] for key, _title in heads],
        hidden_columns=[position[key] + 1 for key in HIDDEN_KEYS],
        freeze_rows=HEADER_ROW,
    )
    empty: list[Any] = [None] * len(heads)
    title_row = list(empty)
    title_row[position["activity"]] = gettext("%(plan)s · %(period)s") % {"plan": plan.title, "period": period.label}
    title_row[position["status"]] = gettext(
        "Reports for %(period)s (%(first)s to %(last)s). Type in the white cells; grey cells are locked."
    ) % {"period": period.label, "first": period.starts_on.isoformat(), "last": period.ends_on.isoformat()}
    sheet.append(title_row, [s_title if value else 0 for value in title_row])
    sheet.append([title for _key, title in heads], s_header)
    for activity in activities:
        current = reports.get(activity.pk)
        values = list(empty)
        values[position["version"]] = current["version"] if current else 0
        values[position["check"]] = fingerprint(report_values(current))
        values[position["activity"]] = activity.pk
        values[position["area"]] = activity.technical_area.code
        values[position["title"]] = activity.title
        values[position["organization"]] = str(activity.responsible_organization or "")
        values[position["starts"]] = activity.start_date.isoformat() if activity.start_date else ""
        values[position["ends"]] = activity.end_date.isoformat() if activity.end_date else ""
        if current:
            values[position["status"]] = status_labels.get(current["status"], current["status"])
            values[position["percent"]] = current["percent_complete"]
            values[position["amount"]] = current["amount_spent"]
            values[position["currency"]] = current["currency"] if current["amount_spent"] is not None else ""
            values[position["narrative"]] = current["narrative"]
            values[position["blockers"]] = current["blockers"]
        sheet.append(values, styles)
    _sheet_validations(sheet, position, currencies)
    sheet.protect()
    _lists_sheet(book, currencies)

    meta = book.add_sheet(META_SHEET, state="veryHidden")
    signed = signing.dumps(
        {
            "kind": KIND,
            "plan": plan.pk,
            "period": period.pk,
            "token": token,
            "by": user.pk,
            "at": now.isoformat(timespec="seconds"),
        },
        salt=SIGNING_SALT,
    )
    meta.append(["kind", KIND])
    meta.append(["plan", plan.pk])
    meta.append(["period", period.pk])
    meta.append(["token", signed])
    meta.append(["downloaded", now.isoformat(timespec="seconds")])
    meta.append(["by", user.get_full_name() or user.get_username()])
    meta.protect()
    report(95, gettext("Packing the workbook"))
    return book.to_bytes(), len(activities)


def _range(column_index: int, first: int, last: int) -> str:
    from openpyxl.utils import get_column_letter

    letter = get_column_letter(column_index)
    return f"{letter}{first}:{letter}{last}"


def _sheet_validations(sheet: StreamingSheet, position: dict[str, int], currencies: list[str]) -> None:
    last = max(sheet.rows, FIRST_DATA_ROW)

    def cells(key: str) -> str:
        return _range(position[key] + 1, FIRST_DATA_ROW, last)

    lists = f"'{LISTS_SHEET}'!"
    sheet.add_list_validation(
        cells("status"), f"{lists}$A$1:$A${len(ProgressStatus.choices)}", message=gettext("Choose a status.")
    )
    sheet.add_list_validation(
        cells("currency"),
        f"{lists}$B$1:$B${len(currencies)}",
        message=gettext("Choose the base currency or one with an exchange rate for the period's year."),
    )
    sheet.add_number_validation(cells("percent"), minimum=0, maximum=100, whole=True)
    sheet.add_number_validation(cells("amount"), minimum=0, maximum=10**15)


def _lists_sheet(book: StreamingWorkbook, currencies: list[str]) -> None:
    sheet = book.add_sheet(LISTS_SHEET, state="hidden")
    statuses = [str(label) for label in ProgressStatus.labels]
    for index in range(max(len(statuses), len(currencies))):
        sheet.append([column[index] if index < len(column) else None for column in (statuses, currencies)])
    sheet.protect()


def _instructions_sheet(
    book: StreamingWorkbook,
    plan: Plan,
    membership: PlanMembership,
    period: ReportingPeriod,
    base: str,
    rates: list[ExchangeRate],
    now: Any,
    s_title: int,
    s_header: int,
    s_note: int,
) -> None:
    sheet = book.add_sheet(str(INSTRUCTIONS_SHEET), widths=[30, 22, 60])
    user = membership.user
    person = user.get_full_name() or user.get_username()
    sheet.append([gettext("Progress workbook: %(plan)s") % {"plan": plan.title}], s_title)
    sheet.append([])
    for label, value in (
        (gettext("Plan"), f"{plan.title} ({plan.jurisdiction.name}, {plan.period})"),
        (
            gettext("Reporting period"),
            gettext("%(period)s: %(first)s to %(last)s, reports due %(due)s")
            % {
                "period": period.label,
                "first": period.starts_on.isoformat(),
                "last": period.ends_on.isoformat(),
                "due": period.due_on.isoformat(),
            },
        ),
        (gettext("Downloaded"), timezone.localtime(now).strftime("%Y-%m-%d %H:%M")),
        (gettext("Downloaded by"), f"{person}, {membership.get_role_display()}"),
        (gettext("This workbook holds"), scope_description(membership)),
        (
            gettext("Base currency"),
            gettext("%(currency)s: spending is converted to %(currency)s at the rate of %(year)s")
            % {"currency": base, "year": period.ends_on.year},
        ),
    ):
        sheet.append([label, value], [s_title, 0])
    sheet.append([])
    sheet.append([gettext("What to do")], s_title)
    steps = (
        gettext(
            "The sheet holds one row per activity you report on, with the report for this period as it stands. "
            "Grey cells (the activity's id, area, title, organization and dates) are locked."
        ),
        gettext(
            "Type in the white cells only: the status (from the list), the percent complete (a whole number from "
            "0 to 100), the amount spent so far and its currency, what was done, and what blocks the activity."
        ),
        # xgettext:no-python-format
        gettext("A completed activity is 100% complete. An amount without a currency is in the base currency."),
        gettext("Leave a row as it is when you have nothing to report on that activity: it changes nothing."),
        gettext("Type values, never formulas: a cell with a formula is refused."),
        gettext(
            "Upload the workbook on the plan's Progress workbook page while the period is open. Every row is "
            "checked; if anything is wrong, nothing is saved and every problem is listed with its sheet, row and "
            "column. Fix them and upload again."
        ),
        gettext(
            "If someone else changed a report after you downloaded this workbook, your change to that report is "
            "reported as a conflict and nothing is saved: download a fresh workbook and make your change there."
        ),
        gettext("Uploading the same workbook again changes nothing."),
        gettext(
            "The workbook may be uploaded by someone who reads the product in another language: its headings and "
            "statuses are read in any of the product's languages."
        ),
    )
    for number, step in enumerate(steps, start=1):
        sheet.append([f"{number}.", step])
    sheet.append([])
    sheet.append([gettext("Statuses"), gettext("Currencies"), gettext("Exchange rates")], s_header)
    statuses = [str(label) for label in ProgressStatus.labels]
    currencies = sorted({base, *(rate.currency for rate in rates)})
    rate_lines = [
        gettext("1 %(currency)s = %(rate)s %(base)s in %(year)s")
        % {"currency": rate.currency, "rate": f"{rate.rate.normalize():f}", "base": base, "year": rate.year}
        for rate in rates
    ] or [gettext("None for this year: report spending in %(base)s.") % {"base": base}]
    for index in range(max(len(statuses), len(currencies), len(rate_lines))):
        sheet.append([column[index] if index < len(column) else None for column in (statuses, currencies, rate_lines)])
    sheet.protect()


def workbook_filename(plan: Plan, membership: PlanMembership, period: ReportingPeriod) -> str:
    who = ""
    if membership.role == Role.FOCAL_POINT and membership.organization:
        who = "-" + file_slug(membership.organization.acronym or membership.organization.name, limit=30)
    elif membership.role == Role.TECHNICAL_LEAD:
        who = "-" + file_slug(membership.user.get_username(), limit=30)
    return f"{file_slug(plan.title)}-progress-{file_slug(period.label, limit=20)}{who}.xlsx"


def progress_workbook_export(*, job: Job, progress: Progress) -> JobResult:
    """The job: the requester's progress workbook for the period asked, for the activities they report on today."""
    plan = job.plan
    if plan is None:
        raise JobFailed(gettext("This export belongs to a plan, and the job has none."))
    membership = membership_for_reporting(plan=plan, user=job.requested_by)
    if membership is None:
        raise JobFailed(gettext("You do not report progress on this plan's activities, so no workbook was made."))
    period_id = whole((job.params or {}).get("period"))
    period = ReportingPeriod.objects.filter(plan=plan, pk=period_id).first() if period_id is not None else None
    if period is None:
        raise JobFailed(gettext("This reporting period has been removed."))
    try:
        period_open_check(period)
    except ValidationError as error:
        raise JobFailed(" ".join(error.messages)) from None
    content, _rows = progress_workbook_build(plan=plan, membership=membership, period=period, progress=progress)
    return JobResult(filename=workbook_filename(plan, membership, period), content=content)


# --- Upload: the file kept, its job ---------------------------------------------------------------------------


def workbook_file_check(file: UploadedFile) -> None:
    """Refuse at once what cannot be a progress workbook; the worker checks the rest of the file."""
    upload_file_check(file, extensions=[".xlsx"], what=gettext("the progress workbook as an Excel workbook (.xlsx)"))


def progress_upload_create(*, plan: Plan, by: User, file: IO[bytes]) -> ProgressUpload:
    """Keep an uploaded workbook and queue the job that checks and applies it; ValidationError when the plan's
    uploads waiting to be checked have no room for it, JobLimitReached when the person has too many jobs."""
    digest, size = file_digest(file)
    filename = (getattr(file, "name", "") or "progress.xlsx").rsplit("/", 1)[-1][:250]
    with transaction.atomic():
        upload_quota_check(plan=plan, size=size)
        upload = ProgressUpload(plan=plan, uploaded_by=by, filename=filename, size=size, digest=digest)
        upload.file.save(f"progress-{secrets.token_hex(8)}.xlsx", File(file), save=False)
        upload.save()
        params = {"upload": upload.pk, **upload_job_params(name=upload.file.name or "", size=size)}
        try:
            upload.job = job_create(kind=MonitoringJob.PROGRESS_UPLOAD, by=by, plan=plan, params=params)
        except JobLimitReached:
            upload.file.delete(save=False)  # the row rolls back; the file would stay behind
            raise
        upload.save(update_fields=["job"])
    return upload


def uploads_for_user(*, plan: Plan, membership: PlanMembership) -> QuerySet[ProgressUpload]:
    """The uploads the person sees: their own, and everyone's for the secretariat."""
    uploads = ProgressUpload.objects.filter(plan=plan)
    if not membership.is_secretariat:
        uploads = uploads.filter(uploaded_by=membership.user)
    return uploads.select_related("job", "uploaded_by", "period")


def upload_get_for_user(*, plan: Plan, membership: PlanMembership, upload_id: int) -> ProgressUpload:
    upload = uploads_for_user(plan=plan, membership=membership).filter(pk=upload_id).first()
    if upload is None:
        raise Http404(gettext("No such upload."))
    return upload


def upload_applied_before(upload: ProgressUpload) -> ProgressUpload | None:
    """An earlier upload of the very same file to this plan that was applied, if any."""
    return (
        ProgressUpload.objects.filter(
            plan_id=upload.plan_id, digest=upload.digest, status=ProgressUpload.Status.APPLIED, pk__lt=upload.pk
        )
        .order_by("-pk")
        .first()
    )


def progress_problem_text(problem: Mapping[str, Any]) -> str:
    """ "Progress, row 14, Status: “Done” is not a status"."""
    return problem_text(problem)


# Why an upload is refused when its person no longer reports: their role or organization changed.
NOT_REPORTING = gettext_lazy("You no longer report progress on this plan's activities.")


def refusal_message(refused: UploadRefused) -> str:
    """The job's message: how many problems and conflicts keep the file from being applied."""
    problems, conflicts = refused.total, len(refused.conflicts)
    problems_text = ngettext("%(count)s problem", "%(count)s problems", problems) % {
        "count": number_format(problems, force_grouping=True)
    }
    conflicts_text = ngettext(
        "%(count)s report changed since the download", "%(count)s reports changed since the download", conflicts
    ) % {"count": number_format(conflicts, force_grouping=True)}
    if problems and conflicts:
        # Translators: each count is a whole phrase of its own, e.g. "3 problems" and "2 reports changed since the
        # download".
        return gettext("Nothing was saved: %(problems)s and %(conflicts)s, listed below.") % {
            "problems": problems_text,
            "conflicts": conflicts_text,
        }
    # Translators: the count is a whole phrase of its own, e.g. "3 problems".
    return gettext("Nothing was saved: %(count)s, listed below.") % {
        "count": conflicts_text if conflicts else problems_text
    }


def summary_counts(summary: Mapping[str, Any]) -> dict[str, int]:
    return {key: int(summary.get(key) or 0) for key in ("added", "changed", "unchanged")}


def upload_report(upload: ProgressUpload) -> bytes:
    """A small workbook saying what the upload did, for the person's records, in their language."""
    book = StreamingWorkbook(title=gettext("Progress upload %(number)s") % {"number": upload.pk})
    bold = book.style(bold=True)
    sheet = book.add_sheet(gettext("Upload"), widths=[24, 60])
    sheet.append([gettext("Progress workbook upload")], bold)
    counts = summary_counts(upload.summary)
    labels = {
        "added": gettext("Reports added"),
        "changed": gettext("Reports changed"),
        "unchanged": gettext("Unchanged"),
    }
    for label, value in (
        (gettext("Plan"), upload.plan.title),
        (gettext("Reporting period"), str(upload.summary.get("period", ""))),
        (gettext("File"), upload.filename),
        (gettext("Uploaded by"), upload.uploaded_by.get_full_name() or upload.uploaded_by.get_username()),
        (gettext("Uploaded"), timezone.localtime(upload.created_at).strftime("%Y-%m-%d %H:%M")),
        (gettext("Status"), str(upload.get_status_display())),
        *((labels[key], count) for key, count in counts.items()),
    ):
        sheet.append([label, value], [bold, 0])
    activities = book.add_sheet(gettext("Activities reported"), widths=[12, 60])
    activities.append([gettext("Activity"), gettext("Title")], bold)
    for activity in upload.summary.get("activities", []):
        activities.append([activity["id"], activity["title"]])
    return book.to_bytes()


def _upload_refuse(upload: ProgressUpload, refused: UploadRefused) -> None:
    upload.status = ProgressUpload.Status.REFUSED
    upload.problems = [problem.as_json() for problem in refused.problems[:MAX_PROBLEMS_KEPT]]
    upload.conflicts = refused.conflicts
    upload.summary = {"problem_count": refused.total, "conflict_count": len(refused.conflicts)}
    upload.finished_at = timezone.now()
    upload.save(update_fields=["status", "problems", "conflicts", "summary", "finished_at"])
    upload.file_discard()


def progress_upload_check_and_apply(
    *, upload: ProgressUpload, membership: PlanMembership, progress: Progress | None = None
) -> dict[str, Any]:
    """Read, check and apply an upload in one transaction that also marks it applied (a job run again after a
    crash applies nothing twice); UploadRefused, nothing saved, when anything is wrong. Returns its summary."""
    report = progress or (lambda percent, message: None)
    report(2, gettext("Reading the workbook"))
    try:
        with upload.file.open("rb") as handle:
            sheets = spreadsheet_read(handle, name=upload.filename, limits=LIMITS, formulas="report")
    except ImportRefused as refused:
        raise UploadRefused(refused.problems) from None
    except (FileNotFoundError, ValueError):  # ValueError: the row has no file any more
        raise UploadRefused.because(gettext("The uploaded file is no longer there; please upload it again.")) from None
    work = _Upload(upload, membership, sheets)
    work.identify()
    try:
        with transaction.atomic():
            checked = work.check(report)
            summary = work.apply(checked, report)
            upload.status = ProgressUpload.Status.APPLIED
            upload.period = work.period
            upload.summary = summary
            upload.problems, upload.conflicts = [], []
            upload.finished_at = timezone.now()
            upload.save(update_fields=["status", "period", "summary", "problems", "conflicts", "finished_at"])
    except IntegrityError:  # a report on one of these activities saved in the same instant
        raise UploadRefused.because(
            gettext("A report on one of these activities was saved at the same time; upload the workbook again.")
        ) from None
    upload.file_discard()
    return summary


def progress_upload_apply(*, job: Job, progress: Progress) -> JobResult:
    """The job: check and apply an uploaded workbook; refused as a whole, saying why, when anything is wrong. A
    job delivered again answers as the first did. Progress goes on on an endorsed plan: no freeze here."""
    upload = ProgressUpload.objects.select_related("plan", "uploaded_by").filter(job=job).first()
    if upload is None:
        raise JobFailed(gettext("The uploaded file is no longer there; please upload it again."))
    upload.plan = job.plan or upload.plan
    if upload.status == ProgressUpload.Status.REFUSED:  # delivered again after the refusal
        raise JobFailed(refusal_message(UploadRefused(upload.problems, upload.conflicts)))
    if upload.status != ProgressUpload.Status.APPLIED:
        try:
            membership = membership_for_reporting(plan=upload.plan, user=upload.uploaded_by)
            if membership is None:
                raise UploadRefused.because(str(NOT_REPORTING))
            progress_upload_check_and_apply(upload=upload, membership=membership, progress=progress)
        except UploadRefused as refused:
            _upload_refuse(upload, refused)
            raise JobFailed(refusal_message(refused)[:250]) from None
    progress(95, gettext("Writing the report"))
    return JobResult(filename=f"progress-upload-{upload.pk}-report.xlsx", content=upload_report(upload))


# --- Upload: checking and applying ----------------------------------------------------------------------------


@dataclass
class Row:
    """One activity's row, read but not yet checked."""

    sheet: str
    number: int
    activity_id: int | None
    version: int | None
    check: str
    cells: dict[str, Any]

    @property
    def blank(self) -> bool:
        return all(cell_text(self.cells.get(key)) == "" for key in INPUT_KEYS)


@dataclass
class _Checked:
    """A row found sound and changed: the report to create or the changed copy of one to update."""

    row: Row
    action: str  # "create" or "update"
    update: ProgressUpdate
    expected_version: int  # the stored version it was checked against (0: none)
    changes: dict[str, Any] = field(default_factory=dict)


class _Upload:
    """Checks an uploaded workbook against the plan and the period, row by row, and applies it."""

    def __init__(self, upload: ProgressUpload, membership: PlanMembership, sheets: list[Sheet]) -> None:
        self.upload = upload
        self.plan = upload.plan
        self.membership = membership
        self.by = upload.uploaded_by
        self.sheets = sheets
        self.titles = dict(columns())
        self.problems: list[dict] = []
        self.problem_count = 0
        self.flagged: set[tuple[str, int | None, str]] = set()
        self.conflicts: list[dict] = []
        self.unchanged = 0
        self.downloaded = ""
        self.period: ReportingPeriod | None = None

    # Problems ---------------------------------------------------------------------------------------------

    def problem(
        self, message: str, *, sheet: str = "", row: int | None = None, key: str = "", column: str = ""
    ) -> None:
        """Note a problem; a cell (its `key`, or a `column` letter outside our columns) keeps only its first."""
        if key or column:
            if (sheet, row, key or column) in self.flagged:
                return
            self.flagged.add((sheet, row, key or column))
        self.problem_count += 1
        if len(self.problems) >= MAX_PROBLEMS_KEPT:
            return
        if key:
            column = self.titles.get(key, key)
        self.problems.append({"sheet": sheet, "row": row, "column": column, "message": message})

    def row_problem(self, row: Row, key: str, message: str) -> None:
        self.problem(message, sheet=row.sheet, row=row.number, key=key)

    def refused(self) -> UploadRefused:
        order = {sheet.name: index for index, sheet in enumerate(self.sheets)}
        problems = sorted(self.problems, key=lambda p: (order.get(p["sheet"], -1), p["row"] or 0))
        return UploadRefused(problems, self.conflicts, total=self.problem_count)

    # Identity ---------------------------------------------------------------------------------------------

    def identify(self) -> None:
        """The hidden sheet must carry this plan's signed token and an open period of it; anything else is
        refused before any row."""
        meta = next((sheet for sheet in self.sheets if sheet.name.lower() == META_SHEET.lower()), None)
        values = {str(row[0]).strip().lower(): row[1] for row in meta.rows if len(row) >= 2 and row[0]} if meta else {}
        if meta is None or str(values.get("kind", "")) != KIND:
            raise UploadRefused.because(
                gettext(
                    "This is not a progress workbook of this plan: download the progress workbook from this page, "
                    "fill it and upload that file."
                )
            )
        try:
            payload = signing.loads(str(values.get("token", "")), salt=SIGNING_SALT)
        except signing.BadSignature:
            raise UploadRefused.because(
                gettext(
                    "This workbook's identity was altered, so it cannot be trusted: download a fresh workbook and "
                    "copy your changes into it."
                )
            ) from None
        if payload.get("plan") != self.plan.pk or str(values.get("plan")) != str(self.plan.pk):
            raise UploadRefused.because(
                gettext("This workbook was downloaded from another plan: download this plan's workbook from this page.")
            )
        period = ReportingPeriod.objects.filter(plan=self.plan, pk=payload.get("period")).first()
        if period is None or str(values.get("period")) != str(period.pk):
            raise UploadRefused.because(gettext("This workbook's reporting period has been removed."))
        try:
            period_open_check(period)
        except ValidationError as error:
            raise UploadRefused.because(" ".join(error.messages)) from None
        self.period = period
        self.rates = Rates.for_plan(self.plan)
        self.downloaded = str(payload.get("at", ""))

    # Reading ----------------------------------------------------------------------------------------------

    def rows(self) -> list[Row]:
        from openpyxl.utils import get_column_letter

        rows: list[Row] = []
        found_sheets = 0
        for sheet in self.sheets:
            if is_reserved_sheet(sheet.name):
                continue
            header = find_header(sheet, required=REQUIRED_KEYS, key=heading_key)
            if header is None:
                continue
            header_index, headings = header
            missing = [key for key in REQUIRED_KEYS if key not in headings]
            if len(missing) == len(REQUIRED_KEYS):
                continue
            if missing:
                layout = list(TITLES)
                for key in missing:
                    letter = get_column_letter(layout.index(key) + 1)
                    message = gettext(
                        "the column “%(expected)s” is missing (cell %(cell)s); download a fresh workbook."
                    )
                    self.problem(
                        message % {"expected": TITLES[key], "cell": f"{letter}{header_index + 1}"},
                        sheet=sheet.name,
                        row=header_index + 1,
                        column=letter,
                    )
                continue
            found_sheets += 1
            positions = {key: headings[key] for key in REQUIRED_KEYS}
            for index in range(header_index + 1, len(sheet.rows)):
                values = sheet.rows[index]
                cells = {key: values[p] if p < len(values) else None for key, p in positions.items()}
                row = Row(
                    sheet=sheet.name,
                    number=index + 1,
                    activity_id=whole(cells["activity"]),
                    version=whole(cells["version"]),
                    check=cell_text(cells["check"]),
                    cells=cells,
                )
                if row.activity_id is None and row.version is None and row.blank and not row.check:
                    continue  # an empty row
                if row.activity_id is None:
                    self.row_problem(row, "activity", gettext("this row's activity id was altered."))
                    continue
                if row.version is None:
                    self.row_problem(row, "activity", gettext("this row's hidden version was altered."))
                    continue
                rows.append(row)
        if not found_sheets and not self.problems:
            self.problem(gettext("The workbook has no sheet of activities: download the workbook from this page."))
        return rows

    def formulas(self) -> None:
        """The reader's formula cells, each the problem of its cell."""
        from openpyxl.utils import column_index_from_string

        layout = list(TITLES)
        for sheet in self.sheets:
            ours = not is_reserved_sheet(sheet.name)
            for found in sheet.formulas:
                index = column_index_from_string(found.column) - 1
                key = layout[index] if ours and index < len(layout) else ""
                self.problem(found.message, sheet=sheet.name, row=found.row, key=key, column=found.column)

    # Checking one row -----------------------------------------------------------------------------------

    def clean(self, row: Row) -> dict[str, Any] | None:
        """The report's fields as stored (progress_clean's), or None after noting the row's problems."""
        before = self.problem_count
        cells = row.cells
        status_text = cell_text(cells["status"])
        status = ""
        if not status_text:
            self.row_problem(row, "status", gettext("choose a status from the list."))
        else:
            status = status_words().get(heading_text(status_text), "")
            if not status:
                message = gettext("“%(value)s” is not a status; choose one from the list.")
                self.row_problem(row, "status", message % {"value": status_text})
        percent = 0
        percent_text = cell_text(cells["percent"])
        if not percent_text:
            self.row_problem(row, "percent", gettext("enter the percent complete, a whole number from 0 to 100."))
        else:
            value = cells["percent"]
            number = whole(value.strip().removesuffix("%").strip() if isinstance(value, str) else value)
            if number is None:
                message = gettext("“%(value)s” is not a whole number from 0 to 100.")
                self.row_problem(row, "percent", message % {"value": percent_text})
            else:
                percent = number
        amount: Decimal | None = None
        amount_value = cells["amount"]
        if cell_text(amount_value) != "":
            if isinstance(amount_value, float):
                amount_value = round(amount_value, 9)  # Excel keeps binary fractions: 12.34 may be 12.339999…
            try:
                amount = parse_decimal(amount_value, label="")
            except ValidationError:
                message = gettext("“%(value)s” is not a number.")
                self.row_problem(row, "amount", message % {"value": cell_text(cells["amount"])})
        texts = {key: cell_text(cells[key]) for key in ("narrative", "blockers")}
        for key, text in texts.items():
            if len(text) > MAX_TEXT:
                message = gettext("at most %(limit)s characters; this has %(count)s.")
                self.row_problem(row, key, message % {"limit": number_text(MAX_TEXT), "count": number_text(len(text))})
        report = Report(
            status=status,
            percent_complete=percent,
            amount_spent=amount,
            currency=cell_text(cells["currency"]),
            narrative=texts["narrative"],
            blockers=texts["blockers"],
        )
        assert self.period is not None
        try:
            fields = progress_clean(report, period=self.period, rates=self.rates)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                for message in messages:
                    self.row_problem(row, FIELD_KEYS.get(name, "status"), message)
            return None
        if self.problem_count > before:
            return None
        return fields

    def _out_of_scope(self, row: Row, activity: Activity) -> None:
        words = {"id": activity.pk, "title": activity.title, "area": activity.technical_area.code}
        if self.membership.role == Role.FOCAL_POINT:
            message = gettext(
                "you may not report on activity %(id)s “%(title)s”: your organization is not responsible for it."
            )
        else:
            message = gettext(
                "you may not report on activity %(id)s “%(title)s”: %(area)s is not one of your technical areas."
            )
        self.row_problem(row, "activity", message % words)

    def conflict(self, row: Row, current: ProgressUpdate | None, title: str, message: str = "") -> None:
        if current is not None and not message:
            when = dateformat.format(timezone.localtime(current.reported_at), "d M Y H:i")
            if current.reported_by_id == self.by.pk:
                message = gettext(
                    "reported by you (in the browser or another upload) on %(when)s since your download; your "
                    "change was not applied."
                ) % {"when": when}
            elif current.reported_by is not None:
                who = current.reported_by.get_full_name() or current.reported_by.get_username()
                message = gettext(
                    "reported by %(person)s on %(when)s since your download; your change was not applied."
                ) % {"person": who, "when": when}
            else:
                message = gettext(
                    "reported by someone on %(when)s since your download; your change was not applied."
                ) % {"when": when}
        self.conflicts.append(
            {
                "sheet": row.sheet,
                "row": row.number,
                "column": "",
                "activity": row.activity_id,
                "title": title,
                "message": message,
            }
        )

    # The whole file -----------------------------------------------------------------------------------------

    def check(self, progress: Progress) -> list[_Checked]:
        """Every row checked; raises UploadRefused with every problem and conflict found. Runs inside the
        transaction that applies: the period's row is held first, so no report on it is saved meanwhile."""
        period = self.period
        assert period is not None
        held = ReportingPeriod.objects.select_for_update(no_key=True).filter(pk=period.pk).first()
        if held is None:
            raise UploadRefused.because(gettext("This workbook's reporting period has been removed."))
        try:
            period_open_check(held)
        except ValidationError as error:
            raise UploadRefused.because(" ".join(error.messages)) from None
        self.period = held
        rows = self.rows()
        if self.problem_count:
            raise self.refused()
        self.formulas()
        plan = self.plan
        ids = {row.activity_id for row in rows if row.activity_id is not None}
        activities = {
            activity.pk: activity
            for activity in Activity.objects.filter(plan=plan, pk__in=ids).select_related("technical_area")
        }
        reportable = set(
            Activity.objects.filter(plan=plan, pk__in=ids)
            .filter(activities_reportable_by(self.membership))
            .values_list("pk", flat=True)
        )
        reports = {
            update.activity_id: update
            for update in ProgressUpdate.objects.select_for_update(of=("self",))
            .select_related("reported_by")
            .filter(period=held, activity_id__in=ids)
        }
        checked: list[_Checked] = []
        seen: dict[int, Row] = {}
        for index, row in enumerate(rows):
            if index % 500 == 0:
                progress(
                    10 + 60 * index // max(len(rows), 1),
                    gettext("Checking row %(row)s of %(rows)s")
                    % {"row": number_text(index + 1), "rows": number_text(len(rows))},
                )
            assert row.activity_id is not None and row.version is not None
            if row.activity_id in seen:
                other = seen[row.activity_id]
                message = gettext("this activity appears twice (also %(sheet)s, row %(row)s).")
                self.row_problem(row, "activity", message % {"sheet": other.sheet, "row": other.number})
                continue
            seen[row.activity_id] = row
            current = reports.get(row.activity_id)
            if row.blank:
                if row.version and current is not None:
                    message = gettext("a report cannot be removed in the workbook; write its status back.")
                    self.row_problem(row, "status", message)
                continue  # nothing reported on this activity
            fields = self.clean(row)
            if fields is None:
                continue
            file_values = report_values(fields)
            if fingerprint(file_values) == row.check:
                self.unchanged += 1  # as downloaded: says nothing, whoever reported since
                continue
            activity = activities.get(row.activity_id)
            if activity is None:
                self.row_problem(row, "activity", gettext("this activity is no longer in the plan."))
                continue
            if activity.pk not in reportable:
                self._out_of_scope(row, activity)
                continue
            stored = current.version if current is not None else 0
            if row.version > stored and current is not None:
                self.row_problem(row, "activity", gettext("this row's hidden version was altered."))
                continue
            if current is not None and report_values(current.__dict__) == file_values:
                self.unchanged += 1  # the plan holds what the row says already
                continue
            if row.version != stored:
                removed = gettext("this report was removed since your download; your change was not applied.")
                self.conflict(row, current, activity.title, "" if current is not None else removed)
                continue
            checked.append(self._change(row, activity, current, fields))
        if self.problem_count or self.conflicts:
            raise self.refused()
        return checked

    def _change(self, row: Row, activity: Activity, current: ProgressUpdate | None, fields: dict[str, Any]) -> _Checked:
        if current is None:
            update = ProgressUpdate(plan=self.plan, activity=activity, period=self.period, reported_by=self.by)
            for name, value in fields.items():
                setattr(update, name, value)
            changes = {name: [None, _json(value)] for name, value in fields.items() if value not in (None, "")}
            return _Checked(row, "create", update, 0, changes)
        changes = {
            name: [_json(getattr(current, name)), _json(value)]
            for name, value in fields.items()
            if getattr(current, name) != value
        }
        expected = current.version
        current.activity = activity  # read with the plan's activities: no query per row
        for name, value in fields.items():
            setattr(current, name, value)
        current.reported_by = self.by
        return _Checked(row, "update", current, expected, changes)

    # Applying ------------------------------------------------------------------------------------------------

    def apply(self, checked: list[_Checked], progress: Progress) -> dict[str, Any]:
        """Write every change in bulk inside the caller's transaction (the period's row and the reports are held
        since the check), then one audit entry per report and one for the import; the aggregates are told once."""
        now = timezone.now()
        creates = [item for item in checked if item.action == "create"]
        updates = [item for item in checked if item.action == "update"]
        progress(
            75,
            gettext("Saving reports: %(new)s new, %(changed)s changed")
            % {"new": number_text(len(creates)), "changed": number_text(len(updates))},
        )
        for item in creates:
            item.update.reported_at = now
        ProgressUpdate.objects.bulk_create([item.update for item in creates], batch_size=2000)
        for item in updates:
            item.update.version = item.expected_version + 1
            item.update.reported_at = now
        if updates:
            rows_update(ProgressUpdate, [item.update for item in updates], UPDATED_FIELDS)
        progress(85, gettext("Recording what changed"))
        upload = self.upload
        events = [
            AuditEvent(
                plan=self.plan,
                actor=self.by,
                action="created" if item.action == "create" else "changed",
                target_type=ProgressUpdate._meta.model_name or "",
                target_id=item.update.pk,
                target_repr=f"{item.update.activity.title} · {self.period}"[:250],
                changes={**item.changes, "upload": upload.filename},
                technical_area_id=item.update.activity.technical_area_id,
            )
            for item in checked
        ]
        AuditEvent.objects.bulk_create(events, batch_size=2000)
        assert self.period is not None
        summary = {
            "period": self.period.label,
            "period_id": self.period.pk,
            "added": len(creates),
            "changed": len(updates),
            "unchanged": self.unchanged,
            "downloaded": self.downloaded,
            "activities": [
                {"id": item.update.activity_id, "title": item.update.activity.title}
                for item in checked[:MAX_ACTIVITY_LINKS]
            ],
            "activity_count": len(checked),
        }
        if checked:
            audit_record(
                plan=self.plan,
                by=self.by,
                action="imported",
                target=upload,
                changes={"period": self.period.label, **summary_counts(summary)},
            )
            aggregates.monitoring_changed(self.plan.pk)
        return summary


# What an upload changes on a report it updates.
UPDATED_FIELDS = (
    "status",
    "percent_complete",
    "amount_spent",
    "currency",
    "amount_spent_base",
    "narrative",
    "blockers",
    "reported_by",
    "reported_at",
    "version",
)


def _json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)
