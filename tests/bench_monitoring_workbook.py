"""Progress workbook part of `make bench` (run by tests/bench_monitoring.py): a plan with 2,000 reportable activities
and an open period (1,000 of them reported on already), its secretariat's progress workbook exported, every row filled
(1,000 reports added, 1,000 changed), uploaded, validated and applied in one transaction; beside it, openpyxl reading
the same file (what reading alone costs). Figures, not assertions (target in brackets). `progress_upload_bench()` is
what the monitoring bench calls for its lines on the workbook; run alone, this file's test prints the same."""

from __future__ import annotations

import datetime
import io
import time

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.db import connection

from costing.services import plan_costing_get
from monitoring.models import ProgressStatus, ProgressUpdate, ProgressUpload, ReportingPeriod
from monitoring.workbook import HEADER_ROW, progress_upload_check_and_apply, progress_workbook_build
from naphs.permissions import Role
from planning.models import Activity, Framework, Jurisdiction, Plan, TechnicalArea
from stakeholders.models import Organization, PlanMembership, User

ACTIVITIES = 2_000


def progress_upload_bench() -> list[tuple[str, str]]:
    """Build the plan, export, fill, upload and apply; the figures as (name, value)."""
    jee3 = Framework.objects.get(code="JEE3")
    areas = list(TechnicalArea.objects.filter(framework=jee3))
    country = Jurisdiction.objects.create(level="country", name="Progressland", code="XP")
    lead = User.objects.create_user(username="bench-progress-lead", email="progress@example.org", password="x")
    ministry = Organization.objects.create(name="Ministry of Health", kind="ministry", jurisdiction=country)
    plan = Plan.objects.create(
        jurisdiction=country, title="Progressland NAPHS", first_year=2026, last_year=2030, framework=jee3
    )
    membership = PlanMembership.objects.create(plan=plan, user=lead, role=Role.SECRETARIAT_LEAD, organization=ministry)
    plan_costing_get(plan)
    activities = Activity.objects.bulk_create(
        Activity(
            plan=plan, technical_area=areas[n % len(areas)], title=f"Activity {n}", responsible_organization=ministry
        )
        for n in range(ACTIVITIES)
    )
    period = ReportingPeriod.objects.create(
        plan=plan,
        label="2026 Q1",
        starts_on=datetime.date(2026, 1, 1),
        ends_on=datetime.date(2026, 3, 31),
        due_on=datetime.date(2026, 4, 15),
        state=ReportingPeriod.State.OPEN,
    )
    ProgressUpdate.objects.bulk_create(
        ProgressUpdate(plan=plan, activity=activity, period=period, status=ProgressStatus.ON_TRACK, percent_complete=10)
        for activity in activities[::2]
    )
    figures: list[tuple[str, str]] = []
    membership = PlanMembership.objects.select_related("plan", "user").get(pk=membership.pk)

    queries: list[str] = []
    started = time.perf_counter()
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        content, rows = progress_workbook_build(plan=plan, membership=membership, period=period)
    exported = time.perf_counter() - started
    figures.append(("progress workbook export", f"{rows:,} rows in {exported:.2f} s, {len(queries)} queries"))

    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book["Progress"]
    heads = {cell.value: cell.column for cell in sheet[HEADER_ROW]}
    filled = 0
    for row in sheet.iter_rows(min_row=HEADER_ROW + 1):
        number = row[0].row
        sheet.cell(row=number, column=heads["Status"], value="Delayed")
        sheet.cell(row=number, column=heads["Percent complete (0–100)"], value=50)
        sheet.cell(row=number, column=heads["Amount spent"], value=1234.5)
        sheet.cell(row=number, column=heads["Narrative"], value=f"Report {number}")
        filled += 1
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()

    started = time.perf_counter()
    openpyxl.load_workbook(io.BytesIO(data), read_only=True)["Progress"].calculate_dimension()
    for _row in openpyxl.load_workbook(io.BytesIO(data), read_only=True)["Progress"].iter_rows(values_only=True):
        pass
    read_only = time.perf_counter() - started

    upload = ProgressUpload.objects.create(
        plan=plan, uploaded_by=lead, file=ContentFile(data, name="bench.xlsx"), filename="bench.xlsx", digest="bench"
    )
    queries.clear()
    started = time.perf_counter()
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        summary = progress_upload_check_and_apply(upload=upload, membership=membership)
    applied = time.perf_counter() - started
    figures.append(
        (
            f"upload of {filled:,} updates, validated and applied [< 10 s]",
            f"{applied:.2f} s, {len(queries)} queries (added {summary['added']:,}, changed {summary['changed']:,})",
        )
    )
    figures.append(("  openpyxl reading the same file (values only)", f"{read_only:.2f} s"))
    figures.append(("  upload ÷ openpyxl reading", f"{applied / read_only:.2f}"))
    return figures


@pytest.mark.django_db(transaction=True)
def test_bench_progress_workbook(capsys):
    if connection.vendor != "postgresql":
        pytest.skip("the progress workbook bench measures PostgreSQL: set DATABASE_URL")
    figures = progress_upload_bench()
    with capsys.disabled():
        print(f"\n\nProgress workbook bench ({ACTIVITIES:,} reportable activities, one open period)")
        width = max(len(name) for name, _ in figures)
        for name, value in figures:
            print(f"  {name:<{width}}  {value}")
