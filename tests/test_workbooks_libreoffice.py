"""Every workbook the product writes opens in a real spreadsheet program: LibreOffice Calc (headless) converts
each one without repairing it, and its cells, drop-downs (data validations), sheet protection, locked cells and
hidden sheets read back as written. `naphs.xlsx` writes most of them by hand, for speed; this is what a well-kept
writer would have guaranteed.

The workbooks are made once per module from the demo (Demoland, costed and funded) inside a transaction that is
rolled back; LibreOffice starts once per conversion of all of them (to .xlsx, then to CSV), with a profile of its
own. LibreOffice comes from Debian's package `libreoffice-calc` (.ci/run and `make test` install it); without it
these tests are skipped, and under CI they fail.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from openpyxl import load_workbook

from tests.conftest import need_service

# The database is set up only for a session with tests marked for it; each test itself reads no table.
pytestmark = pytest.mark.django_db

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
# What LibreOffice says (on its console, headless) when it cannot read a file as written and would repair it.
REPAIR_MESSAGES = re.compile(
    r"repair|corrupt|could not be loaded|cannot be opened|format error|general (input/output )?error|"
    r"source file could not be loaded|Error:",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def workbooks(django_db_setup, django_db_blocker, tmp_path_factory) -> dict[str, bytes]:
    """Each workbook the product writes, by file name: made from the demo, then the demo is rolled back."""
    from costing.dashboard import costing_dashboard_export
    from costing.job_kinds import CostingJob
    from costing.models import CostingUpload
    from costing.plan_workbook import plan_workbook_export
    from costing.rollups import plan_rollup
    from costing.who import _report_workbook, who_workbook, who_workbook_import
    from costing.workbook import costing_workbook_build, membership_for_costing, upload_report
    from monitoring import workbook as progress_workbook
    from monitoring.capacity import capacity_progress_export
    from monitoring.dashboard import monitoring_dashboard_export
    from monitoring.job_kinds import MonitoringJob
    from monitoring.models import ProgressUpload, ReportingPeriod
    from naphs.models import Job, Upload
    from naphs.uploads import _report as import_report
    from planning.job_kinds import PlanningJob
    from planning.models import Plan
    from stakeholders.job_kinds import StakeholdersJob
    from stakeholders.models import User
    from stakeholders.services import plan_directory_export

    def quiet(percent: int, message: str) -> None:
        return None

    made: dict[str, bytes] = {}
    media = tmp_path_factory.mktemp("media")
    with (
        django_db_blocker.unblock(),
        pytest.MonkeyPatch.context() as patch,
        transaction.atomic(),
    ):
        from django.conf import settings

        patch.setenv("DEMO_ALLOW_PRODUCTION", "1")
        patch.setattr(settings, "MEDIA_ROOT", str(media))
        call_command("demo_load", password="libreoffice-check-2026", stdout=io.StringIO())
        national = Plan.objects.get(parent__isnull=True, jurisdiction__code="XD")
        lead, focal_point = User.objects.get(username="lead"), User.objects.get(username="focalpoint")
        plan_rollup(plan_id=national.pk)
        for name, user in (("costing-focal-point.xlsx", focal_point), ("costing-secretariat.xlsx", lead)):
            membership = membership_for_costing(plan=national, user=user)
            made[name], _rows = costing_workbook_build(plan=national, membership=membership)
        made["who-layout.xlsx"] = who_workbook(national)
        made["attendance-sheet.xlsx"] = _attendance_sheet(national, lead)
        report = who_workbook_import(
            plan=national, by=lead, upload=io.BytesIO(made["who-layout.xlsx"]), filename="who-layout.xlsx"
        )
        made["who-import-report.xlsx"] = _report_workbook(report, "who-layout.xlsx")
        for kind, handler, name in (
            (CostingJob.COSTING_DASHBOARD_EXPORT, costing_dashboard_export, "costing-dashboard.xlsx"),
            (CostingJob.PLAN_WORKBOOK, plan_workbook_export, "plan-workbook.xlsx"),
            (StakeholdersJob.DIRECTORY_EXPORT, plan_directory_export, "directory.xlsx"),
        ):
            job = Job.objects.create(kind=kind, plan=national, requested_by=lead, params={})
            made[name] = handler(job=job, progress=quiet).content
        upload = CostingUpload.objects.create(
            plan=national,
            uploaded_by=focal_point,
            filename="costing-focal-point.xlsx",
            digest="0" * 64,
            status=CostingUpload.Status.APPLIED,
            summary={"added": 2, "changed": 1, "removed": 0, "unchanged": 40, "activities": []},
            finished_at=timezone.now(),
        )
        made["costing-upload-report.xlsx"] = upload_report(upload)
        scores = Upload.objects.create(
            kind=PlanningJob.SCORES_IMPORT,
            plan=national,
            uploaded_by=lead,
            filename="scores.csv",
            size=14,
            digest="0" * 64,
            status=Upload.Status.APPLIED,
            message="Imported scores.csv: 2 scores added or changed.",
        )
        made["score-import-report.xlsx"] = import_report(scores)
        # Monitoring's: a focal point's progress workbook for an open quarter, its upload's report, the dashboard's
        # and the capacity progress page's tables.
        period = ReportingPeriod.objects.create(
            plan=national,
            label="Q1",
            starts_on=date(national.first_year, 1, 1),
            ends_on=date(national.first_year, 3, 31),
            due_on=date(national.first_year, 4, 30),
            state=ReportingPeriod.State.OPEN,
        )
        reporter = progress_workbook.membership_for_reporting(plan=national, user=focal_point)
        assert reporter is not None
        made["progress-workbook.xlsx"], _rows = progress_workbook.progress_workbook_build(
            plan=national, membership=reporter, period=period
        )
        progress_upload = ProgressUpload.objects.create(
            plan=national,
            period=period,
            uploaded_by=focal_point,
            filename="progress-workbook.xlsx",
            digest="0" * 64,
            status=ProgressUpload.Status.APPLIED,
            summary={"added": 2, "changed": 1, "unchanged": 5, "period": "Q1", "activities": []},
            finished_at=timezone.now(),
        )
        made["progress-upload-report.xlsx"] = progress_workbook.upload_report(progress_upload)
        for kind, handler, name in (
            (MonitoringJob.MONITORING_DASHBOARD_EXPORT, monitoring_dashboard_export, "monitoring-dashboard.xlsx"),
            (MonitoringJob.CAPACITY_PROGRESS_EXPORT, capacity_progress_export, "capacity-progress.xlsx"),
        ):
            job = Job.objects.create(kind=kind, plan=national, requested_by=lead, params={})
            made[name] = handler(job=job, progress=quiet).content
        transaction.set_rollback(True)
    return made


def _attendance_sheet(plan, lead) -> bytes:
    """An engagement event's attendance sheet, with participants of the register."""
    import datetime

    from stakeholders.attendance import attendance_sheet
    from stakeholders.events import participants_add
    from stakeholders.models import EngagementEvent, Person

    event = EngagementEvent.objects.create(
        plan=plan,
        kind="consultation",
        title="Provincial consultation",
        starts_on=datetime.date(2026, 3, 2),
        ends_on=datetime.date(2026, 3, 4),
        place="Northtown",
    )
    people = [
        Person.objects.create(plan=plan, name=f"Participant {number}", email=f"participant{number}@example.org")
        for number in range(3)
    ]
    participants_add(event=event, by=lead, people=people)
    return attendance_sheet(event=event)


@dataclass
class Converted:
    """What LibreOffice made of the workbooks: its console output, and each file re-saved as .xlsx and as CSV."""

    console: str
    xlsx: dict[str, bytes]
    csv: dict[str, dict[str, Path]]  # by workbook, then by sheet


def _soffice(profile: Path, out: Path, target: str, files: list[Path]) -> str:
    """One LibreOffice run converting every file; its console output."""
    out.mkdir(exist_ok=True)
    command = [
        SOFFICE,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--nolockcheck",
        "--convert-to",
        target,
        "--outdir",
        str(out),
        *map(str, files),
    ]
    environment = {**os.environ, "HOME": str(profile), "SAL_USE_VCLPLUGIN": "svp"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment, check=False)
    console = done.stdout + done.stderr
    assert done.returncode == 0, console
    return console


def libreoffice_convert(workbooks: dict[str, bytes], folder: Path) -> Converted:
    source = folder / "written"
    source.mkdir()
    files = []
    for name, content in workbooks.items():
        (source / name).write_bytes(content)
        files.append(source / name)
    profile = folder / "profile"
    console = _soffice(profile, folder / "xlsx", "xlsx:Calc Office Open XML", files)
    # Every sheet of each workbook to a CSV file of its own (the 12th token, -1), in UTF-8.
    console += _soffice(
        profile, folder / "csv", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1", files
    )
    xlsx = {name: path.read_bytes() for name in workbooks if (path := folder / "xlsx" / name).exists()}
    csv = {
        name: {
            path.stem.removeprefix(f"{Path(name).stem}-"): path
            for path in (folder / "csv").glob(f"{Path(name).stem}-*.csv")
        }
        for name in workbooks
    }
    return Converted(console=console, xlsx=xlsx, csv=csv)


@pytest.fixture(scope="module")
def converted(workbooks, tmp_path_factory) -> Converted:
    need_service(SOFFICE is not None, "LibreOffice (soffice)")
    return libreoffice_convert(workbooks, tmp_path_factory.mktemp("libreoffice"))


def _value(value: Any) -> Any:
    """A cell's value as both programs must agree on it: numbers as Decimal, dates as dates, text as text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)).normalize()
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if value == "":
        return None
    return value


def _cells(sheet) -> dict[str, Any]:
    return {
        cell.coordinate: _value(cell.value)
        for row in sheet.iter_rows()
        for cell in row
        if _value(cell.value) is not None
    }


def _validations(sheet) -> list[tuple[str, str, str, str]]:
    """(type, cells, formula1, formula2) of each drop-down or number check, quoting of sheet names aside."""
    found = []
    for validation in sheet.data_validations.dataValidation:
        cells = " ".join(sorted(str(validation.sqref).split()))
        formula = (validation.formula1 or "").replace("'", "")
        second = validation.formula2 or "" if validation.type != "list" else ""  # LibreOffice writes 0 for a list
        found.append((validation.type or "", cells, formula, second))
    return sorted(found)


def _unlocked(sheet) -> set[str]:
    return {
        cell.coordinate
        for row in sheet.iter_rows()
        for cell in row
        if cell.has_style and cell.protection is not None and not cell.protection.locked
    }


def _hidden_columns(sheet) -> set[int]:
    """The hidden columns by number: a <col> element may span several (LibreOffice joins neighbours)."""
    return {
        number
        for column in sheet.column_dimensions.values()
        if column.hidden
        for number in range(column.min or 1, (column.max or column.min or 1) + 1)
    }


NAMES = [
    "attendance-sheet.xlsx",
    "costing-focal-point.xlsx",
    "costing-secretariat.xlsx",
    "who-layout.xlsx",
    "who-import-report.xlsx",
    "costing-dashboard.xlsx",
    "plan-workbook.xlsx",
    "directory.xlsx",
    "costing-upload-report.xlsx",
    "score-import-report.xlsx",
    "progress-workbook.xlsx",
    "progress-upload-report.xlsx",
    "monitoring-dashboard.xlsx",
    "capacity-progress.xlsx",
]


def test_every_workbook_the_product_writes_is_checked(workbooks):
    assert sorted(workbooks) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_libreoffice_opens_the_workbook_without_a_repair(converted, name):
    assert name in converted.xlsx, converted.console
    converted_line = re.search(rf"convert .*{re.escape(name)} -> .*{re.escape(name)}", converted.console)
    assert converted_line, converted.console
    assert not REPAIR_MESSAGES.search(converted.console), converted.console
    with zipfile.ZipFile(io.BytesIO(converted.xlsx[name])) as archive:
        assert archive.testzip() is None


@pytest.mark.parametrize("name", NAMES)
def test_cells_drop_downs_and_protection_read_back_from_libreoffice(workbooks, converted, name):
    written = load_workbook(io.BytesIO(workbooks[name]))
    read_back = load_workbook(io.BytesIO(converted.xlsx[name]))
    assert read_back.sheetnames == written.sheetnames
    for sheet in written.worksheets:
        again = read_back[sheet.title]
        # LibreOffice has no "very hidden" state: such a sheet (the costing workbook's own data) comes back hidden.
        assert (again.sheet_state == "visible") == (sheet.sheet_state == "visible"), sheet.title
        assert _cells(again) == _cells(sheet), sheet.title
        assert _validations(again) == _validations(sheet), sheet.title
        assert bool(again.protection.sheet) == bool(sheet.protection.sheet), sheet.title
        if sheet.protection.sheet:
            assert _unlocked(again) >= _unlocked(sheet), sheet.title  # every input cell is still open
        assert _hidden_columns(again) == _hidden_columns(sheet), sheet.title
    # Each sheet also reads as a table: one CSV file per sheet, with a line for each of the sheet's rows.
    assert len(converted.csv[name]) == len(written.sheetnames), converted.csv[name]
    for sheet in written.worksheets:
        table = converted.csv[name][sheet.title]
        lines = [line for line in table.read_text(encoding="utf-8").splitlines() if line.strip(",")]
        filled = [row for row in sheet.iter_rows(values_only=True) if any(v not in (None, "") for v in row)]
        assert len(lines) >= len(filled), (sheet.title, table.name)


def test_the_check_catches_a_workbook_libreoffice_would_repair(tmp_path, workbooks):
    """A broken sheet (XML cut short) is told apart: the check above is not vacuous."""
    need_service(SOFFICE is not None, "LibreOffice (soffice)")
    source = io.BytesIO(workbooks["directory.xlsx"])
    broken = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(broken, "w") as damaged:
        for item in original.infolist():
            content = original.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            damaged.writestr(item, content)
    result = libreoffice_convert({"broken.xlsx": broken.getvalue()}, tmp_path)
    told = bool(REPAIR_MESSAGES.search(result.console)) or "broken.xlsx" not in result.xlsx
    if not told:
        again = load_workbook(io.BytesIO(result.xlsx["broken.xlsx"]))
        original = load_workbook(io.BytesIO(workbooks["directory.xlsx"]))
        told = _cells(again.worksheets[0]) != _cells(original.worksheets[0])
    assert told, result.console


CENT = Decimal("0.01")


def test_the_who_costing_tool_opens_with_whos_header_on_row_6_and_its_formulas_computed(workbooks, converted):
    """LibreOffice computes the tool's formulas itself: each row's costs per year are M × its frequency, the total
    their sum, the totals block the sum of the rows; and row 6 is WHO's header, in WHO's order."""
    from tests.costing.test_who import HEADERS

    written = load_workbook(io.BytesIO(workbooks["who-layout.xlsx"]))["Costing Tool"]
    computed = load_workbook(io.BytesIO(converted.xlsx["who-layout.xlsx"]), data_only=True)["Costing Tool"]
    header = [cell.value for cell in computed[6]]
    assert header[:13] == HEADERS[:13]
    first = int(header[13])
    assert header[13:26] == [
        *(str(year) for year in range(first, first + 5)),
        *(f"Cost estimate {year}" for year in range(first, first + 5)),
        "TotalOver5Years",
        "CostCategory1",
        "CostCategory2",
    ]
    assert header[-1] == "NAPHS Planner ID"
    totals = Decimal(0)
    costed = 0
    for number in range(8, computed.max_row + 1):
        if computed[f"A{number}"].value == "TOTAL":
            assert abs(Decimal(str(computed[f"X{number}"].value)) - totals) < CENT * costed
            break
        if not str(written[f"X{number}"].value or "").startswith("="):
            continue
        estimated = Decimal(str(computed[f"M{number}"].value))
        years = [Decimal(str(computed[f"{letter}{number}"].value or 0)) for letter in "NOPQR"]
        per_year = [Decimal(str(computed[f"{letter}{number}"].value)) for letter in "STUVW"]
        assert all(abs(got - estimated * f) < CENT for got, f in zip(per_year, years, strict=True)), number
        assert abs(Decimal(str(computed[f"X{number}"].value)) - sum(per_year)) < CENT, number
        totals += sum(per_year)
        costed += 1
    else:
        pytest.fail("no totals block")
    assert costed > 3 and totals > 0
