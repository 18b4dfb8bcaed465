"""The costing workbook: the cost lines a person may edit, out to Excel and back, all or nothing.

Download (`costing_workbook_export`, a background job): the activities the person may cost (a focal point's
organization's, a technical lead's areas, the whole plan for the secretariat), one sheet per technical area, one
block per activity: a locked header row, then its cost lines and a few empty rows for new ones. Hidden locked
columns carry each line's id, its version and a fingerprint of its values at download; a very hidden sheet
carries the plan and a download token, signed, so a workbook of another plan or a tampered one is refused.

Upload (`costing_upload_create`, then the job `costing_upload_apply`, through the lifecycle of costing.uploads
that the WHO layout shares): the file is read by the safe reader,
every row is checked (`line_prepare`, the same checks as the browser), then the whole file is applied in one
transaction or nothing is. A line someone else changed since the download is a conflict, never overwritten.
Lines the file creates remember their row (`import_key`), so the same file uploaded twice changes nothing.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pycountry
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Max
from django.http import Http404
from django.utils import dateformat, timezone
from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_lazy, ngettext

from costing.job_kinds import CostingJob
from costing.layouts.workbook import (
    ACTIVITY_MARK,
    CATALOGUE_KEYS,
    FIRST_DATA_ROW,
    HEADER_ROW,
    HIDDEN_KEYS,
    INPUT_KEYS,
    INSTRUCTIONS_SHEET,
    LISTS_SHEET,
    META_SHEET,
    REQUIRED_KEYS,
    TITLE_ROW,
    Column,
    Row,
    area_rows,
    category_words,
    is_reserved_sheet,
    recurrence_words,
    unit_words,
    whole,
    workbook_columns,
    year_title,
)
from costing.layouts.workbook import TITLES as COLUMN_TITLES
from costing.models import (
    MAX_FREQUENCY,
    MAX_QUANTITY,
    MAX_UNIT_COST,
    CostCategory,
    CostingUpload,
    CostLine,
    CostLineYear,
    ExchangeRate,
    Unit,
)
from costing.services import Rates, costs_changed, line_prepare, parse_decimal, plan_costing_get
from costing.uploads import (
    MAX_PROBLEMS_KEPT,
    Applied,
    Layout,
    UploadRefused,
    costing_upload_run,
    upload_check_and_apply,
)
from costing.uploads import costing_upload_create as upload_create
from naphs.jobs import JobFailed, JobResult, Progress, file_slug
from naphs.languages import number_text
from naphs.models import AuditEvent, Job
from naphs.permissions import Permission, Role
from naphs.services import audit_record, job_create, rows_update
from naphs.spreadsheets import Sheet, cell_text, heading_text, yes_no, yes_no_label
from naphs.uploads import upload_file_check
from naphs.xlsx import StreamingSheet, StreamingWorkbook
from planning.models import MAX_YEAR, MIN_YEAR, Activity, TechnicalArea
from stakeholders.access import activities_costable_by
from stakeholders.models import PlanMembership

if TYPE_CHECKING:
    from planning.models import Plan
    from stakeholders.models import User

__all__ = [  # the layout's names, as code importing them from here knows them
    "ACTIVITY_MARK", "FIRST_DATA_ROW", "HEADER_ROW", "INPUT_KEYS", "META_SHEET", "REQUIRED_KEYS", "TITLE_ROW",
    "Column", "workbook_columns",
]  # fmt: skip

SIGNING_SALT = "costing.workbook"
NEW_ROWS_PER_ACTIVITY = 3
MAX_ACTIVITY_LINKS = 200

# Colours of the sheets: the header row, an activity's row, and cells that are computed or locked.
HEADER_FILL, ACTIVITY_FILL, LOCKED_FILL = "1F4E79", "DDEBF7", "F2F2F2"
MONEY = "#,##0.00"


def _decimal_text(value: Decimal) -> str:
    """A number as the same text whether it came from the database (250.00) or a cell (250.0): "250"."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def fingerprint(values: Iterable[Any]) -> str:
    """A short digest of a line's values as the workbook shows them: tells an edited row from an untouched one."""
    text = "\x1f".join(_decimal_text(v) if isinstance(v, Decimal) else str(v) for v in values)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _line_values(line: Any, frequencies: Mapping[int, Decimal], years: Iterable[int]) -> tuple:
    """What the workbook shows of a line, in a fixed order (a CostLine or a row of .values())."""
    get: Callable[[str], Any] = line.get if isinstance(line, dict) else lambda name: getattr(line, name)
    return (
        cell_text(get("description")),
        get("category"),
        get("unit"),
        Decimal(get("unit_cost")),
        get("currency"),
        int(get("price_year")),
        Decimal(get("quantity")),
        *(Decimal(frequencies.get(year, 0)) for year in years),
        get("recurrence"),
        bool(get("optional")),
        cell_text(get("assumptions")),
    )


# --- Download ------------------------------------------------------------------------------------------------


def membership_for_costing(*, plan: Plan, user: User) -> PlanMembership | None:
    """The person's membership when it lets them cost activities of the plan, else None."""
    membership = PlanMembership.objects.select_related("organization").filter(plan=plan, user=user).first()
    if membership is None or not membership.role_allows(Permission.EDIT_COSTS):
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


def costing_workbook_request(*, plan: Plan, by: User) -> Job:
    """Queue the person's costing workbook. Who may ask is checked by the view (Permission.EDIT_COSTS)."""
    return job_create(kind=CostingJob.COSTING_WORKBOOK, by=by, plan=plan)


def _sheet_title(area: TechnicalArea, used: set[str]) -> str:
    """ "P1 Legal Instruments": the area's code and name (in the reader's language), cut at a word to Excel's 31
    characters, made unique."""
    text = "".join(" " if c in "[]:*?/\\" else c for c in f"{area.code} {area.local_name}")
    text = " ".join(text.split()).strip("'")
    if len(text) > 31:
        text = text[:31].rsplit(" ", 1)[0].rstrip(" ,;-–(")
    title, number = text, 2
    while title.lower() in used or is_reserved_sheet(title):
        suffix = f" ({number})"
        title, number = text[: 31 - len(suffix)] + suffix, number + 1
    used.add(title.lower())
    return title


def _range(column_index: int, first: int, last: int) -> str:
    from openpyxl.utils import get_column_letter

    letter = get_column_letter(column_index)
    return f"{letter}{first}:{letter}{last}"


def costing_workbook_build(
    *,
    plan: Plan,
    membership: PlanMembership,
    token: str | None = None,
    progress: Progress | None = None,
) -> tuple[bytes, int]:
    """The workbook's bytes and the number of cost-line rows written. A fixed number of queries."""
    report = progress or (lambda percent, message: None)
    user = membership.user
    costing = plan_costing_get(plan)
    base = costing.currency
    token = token or secrets.token_urlsafe(9)
    now = timezone.now()
    columns = workbook_columns(plan, base)
    position = {column.key: index for index, column in enumerate(columns)}
    years = list(range(plan.first_year, plan.last_year + 1))

    report(5, gettext("Reading activities and cost lines"))
    scope = activities_costable_by(membership)
    activities = list(
        Activity.objects.filter(plan=plan)
        .filter(scope)
        .select_related("technical_area", "responsible_organization")
        .order_by("technical_area__order", "technical_area__code", "pk")
    )
    in_scope = Activity.objects.filter(plan=plan).filter(scope).values("pk")
    line_fields = (
        "id",
        "activity_id",
        "version",
        "description",
        "category",
        "unit",
        "unit_cost",
        "currency",
        "price_year",
        "quantity",
        "recurrence",
        "optional",
        "assumptions",
        "catalogue_item_id",
        "catalogue_item__name",
    )
    lines_by_activity: dict[int, list[dict]] = defaultdict(list)
    for line in CostLine.objects.filter(plan=plan, activity__in=in_scope).order_by("order", "pk").values(*line_fields):
        lines_by_activity[line["activity_id"]].append(line)
    frequencies: dict[int, dict[int, Decimal]] = defaultdict(dict)
    totals: dict[int, Decimal] = defaultdict(Decimal)
    year_rows = CostLineYear.objects.filter(cost_line__plan=plan, cost_line__activity__in=in_scope).values_list(
        "cost_line_id", "year", "frequency", "amount"
    )
    for line_id, year, frequency, amount in year_rows.iterator(chunk_size=20_000):
        frequencies[line_id][year] = frequency
        totals[line_id] += amount
    rates = list(ExchangeRate.objects.filter(plan=plan).order_by("currency", "year"))
    currencies = sorted({base, *(rate.currency for rate in rates)})

    book = StreamingWorkbook(title=gettext("%(plan)s: costing workbook") % {"plan": plan.title})
    s_title = book.style(bold=True)
    s_note = book.style(italic=True, color="595959")
    s_header = book.style(bold=True, color="FFFFFF", fill=HEADER_FILL, wrap=True)
    s_activity = book.style(bold=True, fill=ACTIVITY_FILL)
    s_locked = book.style(fill=LOCKED_FILL)
    s_locked_money = book.style(fill=LOCKED_FILL, number_format=MONEY)
    s_input = book.style(locked=False)
    s_input_money = book.style(locked=False, number_format=MONEY)
    s_input_text = book.style(locked=False, wrap=True)

    # The instructions come first: what the person opens the file on.
    _instructions_sheet(book, plan, membership, base, costing.price_year, rates, now, s_title, s_header, s_note)

    line_styles = []
    for column in columns:
        if not column.editable:
            line_styles.append(s_locked_money if column.key == "total" else s_locked)
        elif column.key == "unit_cost":
            line_styles.append(s_input_money)
        elif column.key in ("description", "assumptions"):
            line_styles.append(s_input_text)
        else:
            line_styles.append(s_input)
    catalogue_styles = [
        (s_locked_money if column.key == "unit_cost" else s_locked) if column.key in CATALOGUE_KEYS else style
        for column, style in zip(columns, line_styles, strict=True)
    ]
    category_labels = {value: str(label) for value, label in CostCategory.choices}
    recurrence_labels = {value: str(label) for value, label in CostLine.Recurrence.choices}
    yes, no = yes_no_label(True), yes_no_label(False)
    activity_styles = [s_activity] * len(columns)
    header_styles = [s_header] * len(columns)
    empty_row: list[Any] = [None] * len(columns)

    report(20, gettext("Writing the sheets"))
    by_area: dict[int, list[Activity]] = defaultdict(list)
    areas: dict[int, TechnicalArea] = {}
    for activity in activities:
        by_area[activity.technical_area_id].append(activity)
        areas[activity.technical_area_id] = activity.technical_area
    used_titles: set[str] = set()
    written = 0
    for number, (area_id, area_activities) in enumerate(by_area.items(), start=1):
        area = areas[area_id]
        sheet = book.add_sheet(
            _sheet_title(area, used_titles),
            widths=[column.width for column in columns],
            hidden_columns=[position[key] + 1 for key in HIDDEN_KEYS],
            freeze_rows=HEADER_ROW,
        )
        title_row = list(empty_row)
        title_row[position["activity"]] = f"{area.code} {area.local_name}"
        title_row[position["category"]] = gettext(
            "Costs in %(currency)s at %(year)s prices. Type in the white cells; grey cells are locked."
        ) % {"currency": base, "year": costing.price_year}
        sheet.append(title_row, [s_title if value else 0 for value in title_row])
        sheet.append([column.title for column in columns], header_styles)
        for activity in area_activities:
            header = list(empty_row)
            header[position["line"]] = ACTIVITY_MARK
            header[position["version"]] = activity.pk
            header[position["activity"]] = activity.pk
            header[position["description"]] = activity.title
            organization = activity.responsible_organization
            header[position["category"]] = gettext("Responsible: %(organization)s") % {
                "organization": organization or "–"
            }
            sheet.append(header, activity_styles)
            for line in lines_by_activity.get(activity.pk, ()):
                line_frequencies = frequencies.get(line["id"], {})
                values = list(empty_row)
                values[position["line"]] = line["id"]
                values[position["version"]] = line["version"]
                values[position["check"]] = fingerprint(_line_values(line, line_frequencies, years))
                values[position["description"]] = line["description"]
                values[position["category"]] = category_labels[line["category"]]
                values[position["unit"]] = line["unit"]
                values[position["unit_cost"]] = line["unit_cost"]
                values[position["currency"]] = line["currency"]
                values[position["price_year"]] = line["price_year"]
                values[position["quantity"]] = line["quantity"]
                for year in years:
                    values[position[f"year:{year}"]] = line_frequencies.get(year, Decimal(0))
                values[position["recurrence"]] = recurrence_labels[line["recurrence"]]
                values[position["optional"]] = yes if line["optional"] else no
                values[position["assumptions"]] = line["assumptions"]
                values[position["total"]] = totals.get(line["id"], Decimal(0))
                values[position["catalogue"]] = line["catalogue_item__name"] or ""
                sheet.append(values, catalogue_styles if line["catalogue_item_id"] else line_styles)
                written += 1
            for _ in range(NEW_ROWS_PER_ACTIVITY):
                sheet.append(empty_row, line_styles)
        _sheet_validations(sheet, columns, position, currencies, len(years))
        sheet.protect(insert_rows=True)
        report(20 + 70 * number // max(len(by_area), 1), gettext("Wrote %(area)s") % {"area": area.code})

    _lists_sheet(book, currencies)
    meta = book.add_sheet(META_SHEET, state="veryHidden")
    signed = signing.dumps(
        {"plan": plan.pk, "token": token, "by": user.pk, "at": now.isoformat(timespec="seconds")}, salt=SIGNING_SALT
    )
    meta.append(["plan", plan.pk])
    meta.append(["token", signed])
    meta.append(["downloaded", now.isoformat(timespec="seconds")])
    meta.append(["by", user.get_full_name() or user.get_username()])
    meta.protect()
    report(95, gettext("Packing the workbook"))
    return book.to_bytes(), written


def _sheet_validations(
    sheet: StreamingSheet, columns: list[Column], position: dict[str, int], currencies: list[str], year_count: int
) -> None:
    last = max(sheet.rows, FIRST_DATA_ROW)

    def cells(key: str) -> str:
        return _range(position[key] + 1, FIRST_DATA_ROW, last)

    lists = f"'{LISTS_SHEET}'!"
    sheet.add_list_validation(
        cells("category"),
        f"{lists}$A$1:$A${len(CostCategory.choices)}",
        message=gettext("Choose a category from the list."),
    )
    sheet.add_list_validation(cells("unit"), f"{lists}$B$1:$B${len(Unit.choices)}", message=gettext("Choose a unit."))
    sheet.add_list_validation(
        cells("currency"),
        f"{lists}$C$1:$C${len(currencies)}",
        message=gettext("Choose the base currency or one with an exchange rate."),
    )
    one_off, recurring = (str(label) for label in CostLine.Recurrence.labels)
    yes, no = yes_no_label(True), yes_no_label(False)
    sheet.add_list_validation(
        cells("recurrence"),
        f"{lists}$D$1:$D$2",
        message=gettext("%(one_off)s or %(recurring)s.") % {"one_off": one_off, "recurring": recurring},
    )
    sheet.add_list_validation(
        cells("optional"), f"{lists}$E$1:$E$2", message=gettext("%(yes)s or %(no)s.") % {"yes": yes, "no": no}
    )
    sheet.add_list_validation(
        cells("remove"), f"{lists}$E$1:$E$2", message=gettext("%(yes)s to remove the line.") % {"yes": yes}
    )
    sheet.add_number_validation(cells("unit_cost"), minimum=0, maximum=MAX_UNIT_COST)
    sheet.add_number_validation(cells("quantity"), minimum=0, maximum=MAX_QUANTITY)
    sheet.add_number_validation(cells("price_year"), minimum=MIN_YEAR, maximum=MAX_YEAR, whole=True)
    first_year = position["quantity"] + 2
    for index in range(first_year, first_year + year_count):
        sheet.add_number_validation(_range(index, FIRST_DATA_ROW, last), minimum=0, maximum=MAX_FREQUENCY)


def _lists_sheet(book: StreamingWorkbook, currencies: list[str]) -> None:
    sheet = book.add_sheet(LISTS_SHEET, state="hidden")
    categories = [str(label) for label in CostCategory.labels]
    units = [str(label) for label in Unit.labels]
    recurrences = [str(label) for label in CostLine.Recurrence.labels]
    yes_no = [yes_no_label(True), yes_no_label(False)]
    height = max(len(categories), len(units), len(currencies))
    for index in range(height):
        sheet.append(
            [
                column[index] if index < len(column) else None
                for column in (categories, units, currencies, recurrences, yes_no)
            ]
        )
    sheet.protect()


def _instructions_sheet(
    book: StreamingWorkbook,
    plan: Plan,
    membership: PlanMembership,
    base: str,
    price_year: int,
    rates: list[ExchangeRate],
    now: Any,
    s_title: int,
    s_header: int,
    s_note: int,
) -> None:
    sheet = book.add_sheet(str(INSTRUCTIONS_SHEET), widths=[30, 22, 18, 60])
    user = membership.user
    local = timezone.localtime(now)
    years = ", ".join(str(year) for year in range(plan.first_year, plan.last_year + 1))
    sheet.append([gettext("Costing workbook: %(plan)s") % {"plan": plan.title}], s_title)
    sheet.append([])
    person = user.get_full_name() or user.get_username()
    for label, value in (
        (gettext("Plan"), f"{plan.title} ({plan.jurisdiction.name}, {plan.period})"),
        (gettext("Downloaded"), local.strftime("%Y-%m-%d %H:%M")),
        (gettext("Downloaded by"), f"{person}, {membership.get_role_display()}"),
        (gettext("This workbook holds"), scope_description(membership)),
        (
            gettext("Base currency"),
            gettext("%(currency)s: every total is in %(currency)s") % {"currency": base},
        ),
        (
            gettext("Price year"),
            gettext("%(year)s: a price without a year is taken as of %(year)s") % {"year": price_year},
        ),
        (gettext("Years of the plan"), years),
    ):
        sheet.append([label, value], [s_title, 0])
    sheet.append([])
    sheet.append([gettext("What to do")], s_title)
    words = {
        "remove": str(COLUMN_TITLES["remove"]),
        "yes": yes_no_label(True),
    }
    steps = (
        gettext(
            "Each technical area has its own sheet. Each activity starts with a blue row (its number, title and the "
            "organization responsible), followed by its cost lines and a few empty rows for new lines."
        ),
        gettext(
            "Type in the white cells only: description, category, unit, unit cost, currency, price year, quantity, "
            "how many times the cost occurs in each year, one-off or recurring, optional, and assumptions. Grey "
            "cells are locked."
        ),
        gettext("A line costs unit cost × quantity × times in each year. A one-off cost occurs in one year only."),
        gettext(
            "To add a line, fill an empty row under its activity. For more rows, insert a row under one of the "
            "activity's lines (Home › Insert › Insert Sheet Rows)."
        ),
        gettext("To delete a line, write %(yes)s in its %(remove)s column.") % words,
        gettext(
            "Type values, never formulas: a cell with a formula is refused. The total column shows the total when "
            "you downloaded; totals are recomputed when you upload."
        ),
        gettext("An optional line is counted only in the scenario with optional costs."),
        gettext(
            "Lines taken from the unit-cost catalogue follow the catalogue's price; their unit and price cells are "
            "locked."
        ),
        gettext(
            "Upload the workbook on the plan's Costing workbook page. Every row is checked; if anything is wrong, "
            "nothing is saved and every problem is listed with its sheet, row and column. Fix them and upload again."
        ),
        gettext(
            "If someone else changed a line after you downloaded this workbook, your change to that line is "
            "reported as a conflict and nothing is saved: download a fresh workbook and make your change there."
        ),
        gettext("Uploading the same workbook again changes nothing."),
        gettext(
            "The workbook may be uploaded by someone who reads the product in another language: its headings and "
            "drop-down values are read in any of the product's languages."
        ),
    )
    for number, step in enumerate(steps, start=1):
        sheet.append([f"{number}.", step])
    sheet.append([])
    sheet.append([gettext("Categories"), gettext("Units"), gettext("Currencies"), gettext("Exchange rates")], s_header)
    categories = [str(label) for label in CostCategory.labels]
    units = [str(label) for label in Unit.labels]
    currencies = sorted({base, *(rate.currency for rate in rates)})
    rate_lines = [
        gettext("1 %(currency)s = %(rate)s %(base)s in %(year)s")
        % {"currency": rate.currency, "rate": f"{rate.rate.normalize():f}", "base": base, "year": rate.year}
        for rate in rates
    ]
    if not rate_lines:
        rate_lines = [
            gettext("None yet: price lines in %(base)s. The secretariat adds rates on the plan's costing settings.")
            % {"base": base}
        ]
    for index in range(max(len(categories), len(units), len(currencies), len(rate_lines))):
        sheet.append(
            [column[index] if index < len(column) else None for column in (categories, units, currencies, rate_lines)]
        )
    sheet.append([])
    sheet.append([gettext("A price in another currency is converted at the rate of its price year.")], s_note)
    sheet.protect()


def workbook_filename(plan: Plan, membership: PlanMembership) -> str:
    who = ""
    if membership.role == Role.FOCAL_POINT and membership.organization:
        who = "-" + file_slug(membership.organization.acronym or membership.organization.name, limit=30)
    elif membership.role == Role.TECHNICAL_LEAD:
        who = "-" + file_slug(membership.user.get_username(), limit=30)
    return f"{file_slug(plan.title)}-costing{who}-{timezone.localdate():%Y%m%d}.xlsx"


def costing_workbook_export(*, job: Job, progress: Progress) -> JobResult:
    """The job: the requester's costing workbook, for the activities they may cost today."""
    plan = job.plan
    if plan is None:
        raise JobFailed(gettext("This export belongs to a plan, and the job has none."))
    membership = membership_for_costing(plan=plan, user=job.requested_by)
    if membership is None:
        raise JobFailed(gettext("You do not cost this plan's activities, so no costing workbook was made."))
    content, _ = costing_workbook_build(plan=plan, membership=membership, progress=progress)
    return JobResult(filename=workbook_filename(plan, membership), content=content)


# --- Upload --------------------------------------------------------------------------------------------------


def costing_upload_create(*, plan: Plan, by: User, file: UploadedFile) -> CostingUpload:
    """Keep the uploaded workbook and queue the job that checks and applies it (costing.uploads)."""
    filename = getattr(file, "name", "") or "workbook.xlsx"
    return upload_create(plan=plan, by=by, file=file, filename=filename, layout=WORKBOOK)


MACRO_TYPES = frozenset(
    {
        "application/vnd.ms-excel.sheet.macroenabled.12",
        "application/vnd.ms-excel.template.macroenabled.12",
        "application/vnd.ms-excel.sheet.binary.macroenabled.12",
    }
)


def workbook_file_check(file) -> None:
    """Refuse at once what cannot be a costing workbook; the worker checks the rest of the file."""
    content_type = (getattr(file, "content_type", "") or "").lower()
    if content_type in MACRO_TYPES:
        raise ValidationError(
            gettext("This is a macro-enabled workbook; save it as a plain Excel workbook (.xlsx) and upload that.")
        )
    upload_file_check(file, extensions=[".xlsx"], what=gettext("the costing workbook as an Excel workbook (.xlsx)"))


def uploads_for_user(*, plan: Plan, membership: PlanMembership):
    """The uploads the person sees: their own, and everyone's for the secretariat."""
    uploads = CostingUpload.objects.filter(plan=plan, layout=CostingUpload.Layout.WORKBOOK)
    if not membership.is_secretariat:
        uploads = uploads.filter(uploaded_by=membership.user)
    return uploads.select_related("job", "uploaded_by")


def upload_get_for_user(*, plan: Plan, membership: PlanMembership, upload_id: int) -> CostingUpload:
    upload = uploads_for_user(plan=plan, membership=membership).filter(pk=upload_id).first()
    if upload is None:
        raise Http404(gettext("No such upload."))
    return upload


def problem_text(problem: Mapping[str, Any]) -> str:
    """ "P1 Legal Instruments, row 14, Quantity: -3 is negative"."""
    where = [problem.get("sheet") or ""]
    if problem.get("row"):
        where.append(gettext("row %(row)s") % {"row": problem["row"]})
    where.append(problem.get("column") or "")
    place = gettext(", ").join(part for part in where if part)
    return (
        gettext("%(place)s: %(message)s") % {"place": place, "message": problem["message"]}
        if place
        else problem["message"]
    )


@dataclass
class _Checked:
    """A row found sound: what to do with it."""

    row: Row
    action: str  # "create", "update", "delete", "unchanged"
    line: CostLine  # the line to create, the changed copy of one to update, or the line as it is
    years: list[CostLineYear] = field(default_factory=list)
    # What its audit event records: [old, new] by changed field, or the activity of a new line.
    changes: dict[str, Any] = field(default_factory=dict)


class _Upload:
    """Checks an uploaded workbook against the plan, row by row, and applies it."""

    def __init__(self, upload: CostingUpload, membership: PlanMembership, sheets: list[Sheet]) -> None:
        self.upload = upload
        self.plan = upload.plan
        self.membership = membership
        self.by = upload.uploaded_by
        self.sheets = sheets
        self.costing = plan_costing_get(self.plan)
        self.rates = Rates(self.costing)
        self.columns = {column.key: column for column in workbook_columns(self.plan, self.costing.currency)}
        self.problems: list[dict] = []
        self.problem_count = 0
        self.flagged: set[tuple[str, int | None, str]] = set()
        self.findings = 0  # every problem noted, also one not listed because its cell has one already
        self.conflicts: list[dict] = []
        self.token = ""
        self.downloaded = ""

    # Problems ---------------------------------------------------------------------------------------------

    def problem(
        self, message: str, *, sheet: str = "", row: int | None = None, key: str = "", column: str = ""
    ) -> None:
        """Note a problem; a cell (its `key`, or a `column` letter outside our columns) keeps only its first."""
        self.findings += 1
        if key or column:
            if (sheet, row, key or column) in self.flagged:
                return
            self.flagged.add((sheet, row, key or column))
        self.problem_count += 1
        if len(self.problems) >= MAX_PROBLEMS_KEPT:
            return
        if key:
            column = self.columns[key].title if key in self.columns else year_title(key[5:])
        self.problems.append({"sheet": sheet, "row": row, "column": column, "message": message})

    def refused(self) -> UploadRefused:
        """Every problem and conflict, the problems in the order of the sheets and their rows."""
        order = {sheet.name: index for index, sheet in enumerate(self.sheets)}
        problems = sorted(self.problems, key=lambda p: (order.get(p["sheet"], -1), p["row"] or 0))
        return UploadRefused(problems, self.conflicts, total=self.problem_count)

    def row_problem(self, row: Row, key: str, message: str) -> None:
        self.problem(message, sheet=row.sheet, row=row.number, key=key)

    # Identity ---------------------------------------------------------------------------------------------

    def identify(self) -> None:
        """The hidden sheet must carry this plan's signed token; anything else is refused before any row."""
        meta = next((sheet for sheet in self.sheets if sheet.name.lower() == META_SHEET.lower()), None)
        if meta is None:
            raise UploadRefused.because(
                gettext(
                    "This is not a costing workbook of this plan: download the workbook from this "
                    "page, fill it and upload that file."
                )
            )
        values = {str(row[0]).strip().lower(): row[1] for row in meta.rows if len(row) >= 2 and row[0]}
        try:
            payload = signing.loads(str(values.get("token", "")), salt=SIGNING_SALT)
        except signing.BadSignature:
            raise UploadRefused.because(
                gettext(
                    "This workbook's identity was altered, so it cannot be trusted: download a fresh "
                    "workbook and copy your changes into it."
                )
            ) from None
        if payload.get("plan") != self.plan.pk or str(values.get("plan")) != str(self.plan.pk):
            raise UploadRefused.because(
                gettext("This workbook was downloaded from another plan: download this plan's workbook from this page.")
            )
        self.token = str(payload["token"])
        self.downloaded = str(payload.get("at", ""))

    # Reading ----------------------------------------------------------------------------------------------

    def formulas(self) -> None:
        """The reader's formula cells, each the problem of its cell, ahead of what the row checks find there."""
        from openpyxl.utils import column_index_from_string

        layout = list(self.columns)
        for sheet in self.sheets:
            ours = not is_reserved_sheet(sheet.name)
            for problem in sheet.formulas:
                index = column_index_from_string(problem.column) - 1
                key = layout[index] if ours and index < len(layout) else ""
                self.problem(problem.message, sheet=sheet.name, row=problem.row, key=key, column=problem.column)

    def rows(self) -> list[Row]:
        rows, area_sheets = area_rows(self.sheets, self.plan, self.problem)
        if area_sheets == 0 and not self.problems:
            self.problem(gettext("The workbook has no sheet of cost lines: download the workbook from this page."))
        return rows

    # Checking one row -----------------------------------------------------------------------------------

    def clean(self, row: Row, line: CostLine | None) -> tuple[dict[str, Any], dict[int, Decimal], bool] | None:
        """The row's fields and frequencies, or None after noting its problems. Mirrors the browser's checks."""
        before = self.findings
        cells = row.cells
        fields: dict[str, Any] = {}
        fields["description"] = cell_text(cells["description"])
        if not fields["description"]:
            self.row_problem(row, "description", gettext("describe the cost line."))
        fields["category"] = self._choice(
            row,
            "category",
            category_words(),
            gettext("choose a cost category from the list."),
            gettext("“%(value)s” is not a cost category; choose one from the list."),
        )
        fields["unit"] = self._choice(
            row,
            "unit",
            unit_words(),
            gettext("choose a unit from the list."),
            gettext("“%(value)s” is not a unit; choose one from the list."),
        )
        fields["unit_cost"] = self._number(row, "unit_cost", required=True)
        currency = cell_text(cells["currency"]).upper() or self.costing.currency
        if currency != self.costing.currency and pycountry.currencies.get(alpha_3=currency) is None:
            self.row_problem(
                row,
                "currency",
                gettext("“%(value)s” is not a currency code (ISO 4217).") % {"value": cells["currency"]},
            )
        fields["currency"] = currency
        year = cells["price_year"]
        if cell_text(year) == "":
            fields["price_year"] = self.costing.price_year
        else:
            fields["price_year"] = whole(year)
            if fields["price_year"] is None:
                self.row_problem(row, "price_year", gettext("“%(value)s” is not a year.") % {"value": year})
        if line is not None and line.catalogue_item is not None and self.findings == before:
            item = line.catalogue_item
            for key in CATALOGUE_KEYS:
                if fields[key] != getattr(line, key):
                    message = gettext("this line follows the catalogue item “%(item)s”: it cannot change.")
                    self.row_problem(row, key, message % {"item": item.name})
        fields["quantity"] = self._number(row, "quantity", required=True)
        frequencies: dict[int, Decimal] = {}
        for year, value in row.years.items():
            frequency = self._number(row, f"year:{year}", value=value)
            if frequency:
                frequencies[year] = frequency
        recurrence = heading_text(cell_text(cells["recurrence"]))
        fields["recurrence"] = recurrence_words().get(recurrence, "") if recurrence else CostLine.Recurrence.RECURRING
        if not fields["recurrence"]:
            one_off, recurring = (str(label) for label in CostLine.Recurrence.labels)
            message = gettext("“%(value)s”: write %(one_off)s or %(recurring)s.")
            self.row_problem(
                row, "recurrence", message % {"value": cells["recurrence"], "one_off": one_off, "recurring": recurring}
            )
        if fields["recurrence"] == CostLine.Recurrence.ONE_OFF and len(frequencies) > 1:
            used = ", ".join(str(year) for year in sorted(frequencies))
            message = gettext("a one-off cost happens in one year only, not in %(years)s; make it recurring.")
            self.row_problem(row, "recurrence", message % {"years": used})
        fields["optional"] = self._yes_no(row, "optional")
        fields["assumptions"] = cell_text(cells["assumptions"])
        remove = self._yes_no(row, "remove")
        if self.findings > before:
            return None
        return fields, frequencies, remove

    def _choice(self, row: Row, key: str, words: Mapping[str, str], empty: str, unknown: str) -> str:
        """The value a drop-down's label names, in any language: `empty` when the cell is, else `unknown`."""
        value = cell_text(row.cells[key])
        if not value:
            self.row_problem(row, key, empty)
            return ""
        choice = words.get(heading_text(value))
        if choice is None:
            self.row_problem(row, key, unknown % {"value": value})
            return ""
        return choice

    def _number(self, row: Row, key: str, *, value: Any = None, required: bool = False) -> Decimal:
        if value is None:
            value = row.cells.get(key)
        if cell_text(value) == "":
            if required:
                self.row_problem(row, key, gettext("enter a number."))
            return Decimal(0)
        if isinstance(value, float):
            # Excel keeps binary fractions: 12.34 may come back as 12.339999999999998.
            value = round(value, 9)
        try:
            number = parse_decimal(value, label="")
        except ValidationError:
            self.row_problem(row, key, gettext("“%(value)s” is not a number.") % {"value": value})
            return Decimal(0)
        if number < 0:
            self.row_problem(row, key, gettext("%(number)s is negative.") % {"number": _decimal_text(number)})
        return number

    def _yes_no(self, row: Row, key: str) -> bool:
        try:
            return bool(yes_no(row.cells[key]))
        except ValueError:
            message = gettext("“%(value)s”: write %(yes)s or %(no)s.")
            words = {"value": row.cells[key], "yes": yes_no_label(True), "no": yes_no_label(False)}
            self.row_problem(row, key, message % words)
            return False

    def prepare(self, row: Row, line: CostLine, fields: dict[str, Any], frequencies: dict[int, Decimal]) -> list:
        """line_prepare on the line (a copy for an existing one); its problems named by column."""
        try:
            return line_prepare(line, fields=fields, frequencies=frequencies, rates=self.rates)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                for message in messages:
                    key = {"catalogue_item": "catalogue", "__all__": "", "frequencies": ""}.get(name, name)
                    if name == "frequencies":
                        key = next((f"year:{y}" for y in row.years if str(y) in message), "recurrence")
                        if "one-off" in message.lower():
                            key = "recurrence"
                    if message == gettext("This field cannot be blank."):
                        message = gettext("required.")
                    self.row_problem(row, key if key in self.columns or key.startswith("year:") else "", message)
            return []

    # The whole file -----------------------------------------------------------------------------------------

    def check(self, progress: Progress) -> list[_Checked]:
        """Every row checked; raises UploadRefused with every problem and conflict found."""
        rows = self.rows()
        if self.problem_count:
            raise self.refused()
        self.formulas()
        plan = self.plan
        activity_ids = {row.activity_id for row in rows if row.activity_id is not None}
        activities = {
            activity.pk: activity
            for activity in Activity.objects.filter(plan=plan, pk__in=activity_ids).select_related("technical_area")
        }
        for known in activities.values():
            known.plan = plan
        costable = set(
            Activity.objects.filter(plan=plan, pk__in=activity_ids)
            .filter(activities_costable_by(self.membership))
            .values_list("pk", flat=True)
        )
        line_ids = {row.line_id for row in rows if row.line_id is not None}
        related = ("catalogue_item", "updated_by", "activity")
        lines = {line.pk: line for line in CostLine.objects.select_related(*related).filter(plan=plan, pk__in=line_ids)}
        token_lines = list(
            CostLine.objects.select_related(*related).filter(plan=plan, import_key__startswith=f"{self.token}:")
        )
        for line in (*lines.values(), *token_lines):
            line.plan = plan
        by_key = {line.import_key: line for line in token_lines}
        frequencies: dict[int, dict[int, Decimal]] = defaultdict(dict)
        all_ids = list(lines) + [line.pk for line in token_lines]
        for line_id, year, frequency in CostLineYear.objects.filter(cost_line_id__in=all_ids).values_list(
            "cost_line_id", "year", "frequency"
        ):
            frequencies[line_id][year] = frequency
        years = sorted({year for row in rows for year in row.years} | set(range(plan.first_year, plan.last_year + 1)))
        token_by_print: dict[tuple[int, str], list[CostLine]] = defaultdict(list)
        for line in token_lines:
            print_ = fingerprint(_line_values(line, frequencies[line.pk], years))
            token_by_print[line.activity_id, print_].append(line)
        next_order = dict(
            CostLine.objects.filter(plan=plan, activity_id__in=activity_ids)
            .values("activity_id")
            .annotate(last=Max("order"))
            .values_list("activity_id", "last")
        )

        checked: list[_Checked] = []
        seen_lines: dict[int, Row] = {}
        used_lines: set[int] = set()
        for index, row in enumerate(rows):
            if index % 500 == 0:
                progress(
                    10 + 50 * index // max(len(rows), 1),
                    gettext("Checking row %(row)s of %(rows)s")
                    % {"row": number_text(index + 1), "rows": number_text(len(rows))},
                )
            activity = activities.get(row.activity_id) if row.activity_id is not None else None
            if row.line_id is not None:
                if row.line_id in seen_lines:
                    other = seen_lines[row.line_id]
                    message = gettext("this line appears twice (also %(sheet)s, row %(row)s).")
                    self.row_problem(row, "line", message % {"sheet": other.sheet, "row": other.number})
                    continue
                seen_lines[row.line_id] = row
                outcome = self._existing(row, activity, lines.get(row.line_id), frequencies, costable, years)
            else:
                key = f"{self.token}:{row.sheet}:{row.number}"[:80]
                outcome = self._new(
                    row, activity, key, by_key, token_by_print, used_lines, frequencies, costable, years
                )
                if outcome and outcome.action == "create":
                    new = outcome.line
                    next_order[new.activity_id] = (next_order.get(new.activity_id) or 0) + 1
                    new.order = next_order[new.activity_id]
            if outcome is not None:
                checked.append(outcome)
        if self.problem_count or self.conflicts:
            raise self.refused()
        return checked

    def _existing(
        self,
        row: Row,
        activity: Activity | None,
        line: CostLine | None,
        frequencies: dict[int, dict[int, Decimal]],
        costable: set[int],
        years: list[int],
    ) -> _Checked | None:
        cleaned = self.clean(row, line)
        if cleaned is None:
            return None
        fields, row_frequencies, remove = cleaned
        file_print = fingerprint(_line_values(fields, row_frequencies, years))
        untouched = row.check == file_print and not remove
        if line is None:
            if untouched or remove:
                return None  # removed meanwhile, and nothing to apply to it
            self.conflict(
                row, None, gettext("this line was removed since your download; add it as a new line if needed.")
            )
            return None
        if activity is None or line.activity_id != activity.pk:
            message = gettext("this line belongs to another activity; it cannot be moved in the workbook.")
            self.row_problem(row, "line", message)
            return None
        if untouched:
            return _Checked(row, "unchanged", line)
        if line.activity_id not in costable:
            self._out_of_scope(row, activity)
            return None
        if row.version is None or row.version > line.version:
            self.row_problem(row, "line", gettext("this row's hidden version was altered."))
            return None
        db_print = fingerprint(_line_values(line, frequencies[line.pk], years))
        if remove:
            if row.version < line.version:
                self.conflict(row, line)
                return None
            return _Checked(row, "delete", line)
        if file_print == db_print:
            return _Checked(row, "unchanged", line)
        if row.version < line.version:
            self.conflict(row, line)
            return None
        return self._update(row, line, fields, row_frequencies, frequencies[line.pk])

    def _new(
        self,
        row: Row,
        activity: Activity | None,
        key: str,
        by_key: dict[str, CostLine],
        token_by_print: dict[tuple[int, str], list[CostLine]],
        used_lines: set[int],
        frequencies: dict[int, dict[int, Decimal]],
        costable: set[int],
        years: list[int],
    ) -> _Checked | None:
        if activity is None:
            if row.activity_id is None:
                self.row_problem(row, "description", "this row is not under an activity; add lines under one.")
            else:
                self.row_problem(row, "activity", "this activity is no longer in the plan.")
            return None
        cleaned = self.clean(row, None)
        if cleaned is None:
            return None
        fields, row_frequencies, remove = cleaned
        if activity.pk not in costable:
            self._out_of_scope(row, activity)
            return None
        # A row this workbook added before: found by its row, or, if rows were inserted above it, by its values.
        line = by_key.get(key)
        if line is not None and (line.activity_id != activity.pk or line.pk in used_lines):
            line = None
        file_print = fingerprint(_line_values(fields, row_frequencies, years))
        if line is None:
            candidates = [c for c in token_by_print.get((activity.pk, file_print), []) if c.pk not in used_lines]
            line = candidates[0] if candidates else None
        if line is not None:
            used_lines.add(line.pk)
            db_print = fingerprint(_line_values(line, frequencies[line.pk], years))
            if remove:
                if line.version > 1:
                    self.conflict(row, line)
                    return None
                return _Checked(row, "delete", line)
            if file_print == db_print:
                return _Checked(row, "unchanged", line)
            if line.version > 1:
                self.conflict(row, line)
                return None
            return self._update(row, line, fields, row_frequencies, frequencies[line.pk])
        if remove:
            return None
        new = CostLine(plan=self.plan, activity=activity, import_key=key)
        prepared = self.prepare(row, new, fields, row_frequencies)
        if not prepared:
            return None
        new.updated_by = self.by
        return _Checked(row, "create", new, prepared, {"activity": str(activity)})

    def _update(
        self,
        row: Row,
        line: CostLine,
        fields: dict[str, Any],
        row_frequencies: dict[int, Decimal],
        old_frequencies: dict[int, Decimal],
    ) -> _Checked | None:
        if line.catalogue_item_id:  # the item decides these; line_prepare copies them from it
            fields = {name: value for name, value in fields.items() if name not in CATALOGUE_KEYS}
        candidate = copy.copy(line)
        updated_by, candidate.updated_by = line.updated_by, None  # not validated: saves a query per line
        prepared = self.prepare(row, candidate, fields, row_frequencies)
        if not prepared:
            return None
        changes = {
            name: [_json(getattr(line, name)), _json(getattr(candidate, name))]
            for name in (*fields, "unit_cost_base")
            if getattr(line, name) != getattr(candidate, name)
        }
        new_frequencies = {year.year: year.frequency for year in prepared if year.frequency}
        if new_frequencies != {year: value for year, value in old_frequencies.items() if value}:
            changes["frequencies"] = [_frequencies_json(old_frequencies), _frequencies_json(new_frequencies)]
        candidate.updated_by = self.by
        line.updated_by = updated_by
        return _Checked(row, "update", candidate, prepared, changes)

    def _out_of_scope(self, row: Row, activity: Activity) -> None:
        words = {"id": activity.pk, "title": activity.title, "area": activity.technical_area.code}
        if self.membership.role == Role.FOCAL_POINT:
            message = gettext(
                "you may not cost activity %(id)s “%(title)s”: your organization is not responsible for it."
            )
        else:
            message = gettext(
                "you may not cost activity %(id)s “%(title)s”: %(area)s is not one of your technical areas."
            )
        self.row_problem(row, "activity", message % words)

    def conflict(self, row: Row, line: CostLine | None, message: str = "") -> None:
        if line is not None and not message:
            when = dateformat.format(timezone.localtime(line.updated_at), "d M Y H:i")
            if line.updated_by_id == self.by.pk:
                message = gettext(
                    "edited by you (in the browser or another upload) on %(when)s since your download; your change "
                    "was not applied."
                ) % {"when": when}
            elif line.updated_by:
                who = line.updated_by.get_full_name() or line.updated_by.get_username()
                message = gettext(
                    "edited by %(person)s on %(when)s since your download; your change was not applied."
                ) % {"person": who, "when": when}
            else:
                message = gettext("edited by someone on %(when)s since your download; your change was not applied.") % {
                    "when": when
                }
        self.conflicts.append(
            {
                "sheet": row.sheet,
                "row": row.number,
                "column": "",
                "line": line.pk if line else row.line_id,
                "activity": line.activity_id if line else row.activity_id,
                "description": line.description if line else cell_text(row.cells.get("description")),
                "message": message,
            }
        )

    # Applying ------------------------------------------------------------------------------------------------

    def apply(self, checked: list[_Checked], progress: Progress) -> dict[str, Any]:
        """Write every change: bulk inserts and updates, one recomputation of the plan's totals. Runs in the
        caller's transaction; the lines it changes are locked first, and a line changed since the check is a
        conflict."""
        now = timezone.now()
        creates = [item for item in checked if item.action == "create"]
        updates = [item for item in checked if item.action == "update"]
        deletes = [item for item in checked if item.action == "delete"]
        expected = {item.line.pk: item.line.version for item in (*updates, *deletes)}
        current = dict(CostLine.objects.select_for_update().filter(pk__in=list(expected)).values_list("pk", "version"))
        for item in (*updates, *deletes):
            if current.get(item.line.pk) != expected[item.line.pk]:
                message = gettext("changed by someone else while your upload was checked; upload again.")
                self.conflict(item.row, None, message)
        if self.conflicts:
            raise self.refused()
        progress(
            70,
            gettext("Saving lines: %(new)s new, %(changed)s changed, %(removed)s removed")
            % {
                "new": number_text(len(creates)),
                "changed": number_text(len(updates)),
                "removed": number_text(len(deletes)),
            },
        )
        CostLine.objects.bulk_create([item.line for item in creates], batch_size=2000)
        for item in updates:
            item.line.version += 1
            item.line.updated_at = now
        if updates:
            rows_update(CostLine, [item.line for item in updates], UPDATED_FIELDS)
            CostLineYear.objects.filter(cost_line_id__in=[item.line.pk for item in updates]).delete()
        years = [year for item in (*creates, *updates) for year in item.years]
        for year in years:
            year.cost_line_id = year.cost_line.pk
        CostLineYear.objects.bulk_create(years, batch_size=5000)
        if deletes:
            CostLine.objects.filter(pk__in=[item.line.pk for item in deletes]).delete()
        progress(85, gettext("Recording what changed"))
        upload = self.upload
        touched = {item.line.activity_id for item in (*creates, *updates, *deletes)}
        areas = dict(Activity.objects.filter(pk__in=touched).values_list("pk", "technical_area_id")) if touched else {}
        events = []
        for action, items in (("created", creates), ("edited", updates), ("deleted", deletes)):
            for item in items:
                changes = dict(item.changes)
                changes["upload"] = upload.filename
                if action == "deleted":
                    changes.update(description=item.line.description, unit_cost=str(item.line.unit_cost))
                events.append(
                    AuditEvent(
                        plan=self.plan,
                        actor=self.by,
                        action=action,
                        target_type=CostLine._meta.model_name or "",
                        target_id=item.line.pk,
                        target_repr=str(item.line)[:250],
                        changes=changes,
                        technical_area_id=areas.get(item.line.activity_id),
                    )
                )
        AuditEvent.objects.bulk_create(events, batch_size=2000)
        changed_activities: dict[int, str] = {}
        for item in (*creates, *updates, *deletes):
            changed_activities.setdefault(item.line.activity_id, item.row.sheet)
        titles = dict(
            Activity.objects.filter(pk__in=list(changed_activities)[:MAX_ACTIVITY_LINKS]).values_list("pk", "title")
        )
        summary = {
            "added": len(creates),
            "changed": len(updates),
            "removed": len(deletes),
            "unchanged": sum(1 for item in checked if item.action == "unchanged"),
            "downloaded": self.downloaded,
            "activities": [
                {"id": pk, "title": titles[pk], "sheet": sheet}
                for pk, sheet in changed_activities.items()
                if pk in titles
            ],
            "activity_count": len(changed_activities),
        }
        if creates or updates or deletes:
            audit_record(plan=self.plan, by=self.by, action="imported", target=upload, changes=summary_counts(summary))
            costs_changed(self.plan.pk)
        return summary


# What an upload changes on an existing line.
UPDATED_FIELDS = (
    "description",
    "category",
    "unit",
    "unit_cost",
    "currency",
    "price_year",
    "quantity",
    "recurrence",
    "optional",
    "assumptions",
    "unit_cost_base",
    "version",
    "updated_at",
    "updated_by",
)


def summary_counts(summary: Mapping[str, Any]) -> dict[str, int]:
    return {key: summary.get(key, 0) for key in ("added", "changed", "removed", "unchanged")}


def _json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _frequencies_json(frequencies: Mapping[int, Decimal]) -> dict[str, str]:
    return {str(year): _decimal_text(value) for year, value in sorted(frequencies.items()) if value}


# Why an upload is refused when its person no longer costs the plan: their role or organization changed.
NOT_COSTING = gettext_lazy("You no longer cost this plan's activities.")


def _workbook_apply(
    upload: CostingUpload, sheets: list[Sheet], progress: Progress, membership: PlanMembership | None = None
) -> Applied:
    """The layout's step of costing.uploads: identify the workbook, check every row, apply them all."""
    membership = membership or membership_for_costing(plan=upload.plan, user=upload.uploaded_by)
    if membership is None:  # their role changed since the job checked it
        raise UploadRefused.because(str(NOT_COSTING))
    work = _Upload(upload, membership, sheets)
    work.identify()
    checked = work.check(progress)
    return Applied(summary=work.apply(checked, progress))


def _may_still_cost(upload: CostingUpload) -> str:
    if membership_for_costing(plan=upload.plan, user=upload.uploaded_by) is None:
        return str(NOT_COSTING)
    return ""


def costing_upload_check_and_apply(
    *, upload: CostingUpload, membership: PlanMembership, progress: Progress | None = None
) -> dict[str, Any]:
    """Read, check and apply an upload in one transaction; UploadRefused (nothing saved) when anything is wrong.
    Marks the upload applied in the same transaction, so a job run again after a crash does not apply it twice."""
    layout = dataclasses.replace(
        WORKBOOK, apply=lambda upload, sheets, progress: _workbook_apply(upload, sheets, progress, membership)
    )
    return upload_check_and_apply(upload=upload, layout=layout, progress=progress).summary


def costing_upload_apply(*, job: Job, progress: Progress) -> JobResult:
    """The job: check and apply an uploaded workbook; refused as a whole, saying why, when anything is wrong."""
    return costing_upload_run(job=job, progress=progress, layout=WORKBOOK, allowed=_may_still_cost)


def refusal_message(refused: UploadRefused) -> str:
    """The job's message: how many problems and conflicts keep the file from being applied."""
    problems, conflicts = refused.total, len(refused.conflicts)
    problems_text = ngettext("%(count)s problem", "%(count)s problems", problems) % {
        "count": number_format(problems, force_grouping=True)
    }
    conflicts_text = ngettext(
        "%(count)s line changed in the plan since the download",
        "%(count)s lines changed in the plan since the download",
        conflicts,
    ) % {"count": number_format(conflicts, force_grouping=True)}
    if problems and conflicts:
        # Translators: each count is a whole phrase of its own, e.g. "3 problems" and "2 lines changed in the plan
        # since the download".
        return gettext("Nothing was saved: %(problems)s and %(conflicts)s, listed below.") % {
            "problems": problems_text,
            "conflicts": conflicts_text,
        }
    # Translators: the count is a whole phrase of its own, e.g. "3 problems".
    return gettext("Nothing was saved: %(count)s, listed below.") % {
        "count": conflicts_text if conflicts else problems_text
    }


def upload_report(upload: CostingUpload) -> bytes:
    """A small workbook saying what the upload did, for the person's records, in their language."""
    book = StreamingWorkbook(title=gettext("Costing upload %(number)s") % {"number": upload.pk})
    bold = book.style(bold=True)
    sheet = book.add_sheet(gettext("Upload"), widths=[24, 60])
    sheet.append([gettext("Costing workbook upload")], bold)
    counts = summary_counts(upload.summary)
    count_labels = {
        "added": gettext("Added"),
        "changed": gettext("Changed"),
        "removed": gettext("Removed"),
        "unchanged": gettext("Unchanged"),
    }
    for label, value in (
        (gettext("Plan"), upload.plan.title),
        (gettext("File"), upload.filename),
        (gettext("Uploaded by"), upload.uploaded_by.get_full_name() or upload.uploaded_by.get_username()),
        (gettext("Uploaded"), timezone.localtime(upload.created_at).strftime("%Y-%m-%d %H:%M")),
        (gettext("Status"), str(upload.get_status_display())),
        *((count_labels[key], count) for key, count in counts.items()),
    ):
        sheet.append([label, value], [bold, 0])
    activities = book.add_sheet(gettext("Activities changed"), widths=[12, 60, 30])
    activities.append([gettext("Activity"), gettext("Title"), gettext("Sheet")], bold)
    for activity in upload.summary.get("activities", []):
        activities.append([activity["id"], activity["title"], activity["sheet"]])
    return book.to_bytes()


WORKBOOK = Layout(
    layout=CostingUpload.Layout.WORKBOOK,
    job_kind=CostingJob.COSTING_UPLOAD,
    limits="costing_workbook",
    apply=_workbook_apply,
    refusal=refusal_message,
    report=lambda upload, details: (f"costing-upload-{upload.pk}-report.xlsx", upload_report(upload)),
)
