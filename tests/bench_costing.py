"""`make bench`, costing part: a national plan with ten provincial plans and 100,000 cost lines (500,000
line-years), and, from one run: the rollup of all eleven plans beside a hand-written SQL GROUP BY over the
same rows, the costing workbook's export rate beside XlsxWriter writing the same rows, validating and applying
an upload of 10,000 changed lines, and the costing dashboard's response time and query count. Figures, not
assertions (targets in brackets)."""

from __future__ import annotations

import io
import statistics
import time
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.db.models import F
from django.urls import reverse

from costing.models import CostingUpload, CostLine, CostLineYear, CostRollup, FundingCommitment, PlanCosting
from costing.rollups import plans_rollup
from costing.services import Rates, line_compute, plan_costing_get
from costing.workbook import costing_upload_check_and_apply, costing_workbook_build
from naphs.permissions import Role
from planning.models import Activity, Framework, Jurisdiction, Plan, TechnicalArea
from stakeholders.models import Organization, PlanMembership, User

PROVINCES = 10
NATIONAL_LINES = 10_000
PROVINCIAL_LINES = 9_000  # 10,000 + 10 × 9,000 = 100,000
LINES_PER_ACTIVITY = 10
CATEGORIES = ["meetings", "per_diem_travel", "consultancy", "training", "equipment", "supplies", "transport"]
UNITS = ["day", "participant", "night", "person-day", "item", "trip", "litre"]


def build() -> tuple[Plan, list[Plan], User]:
    jee3 = Framework.objects.get(code="JEE3")
    areas = list(TechnicalArea.objects.filter(framework=jee3))
    country = Jurisdiction.objects.create(level="country", name="Costland", code="XK")
    lead = User.objects.create_user(username="bench-costing-lead", email="costing@example.org", password="x")
    organizations = Organization.objects.bulk_create(
        Organization(name=f"Ministry {n}", kind="ministry", jurisdiction=country) for n in range(10)
    )
    national = Plan.objects.create(
        jurisdiction=country, title="Costland NAPHS", first_year=2026, last_year=2030, framework=jee3
    )
    provinces = []
    for n in range(PROVINCES):
        province = Jurisdiction.objects.create(level="province", name=f"Province {n}", parent=country)
        provinces.append(
            Plan.objects.create(
                jurisdiction=province,
                title=f"Province {n} plan",
                first_year=2026,
                last_year=2030,
                framework=jee3,
                parent=national,
            )
        )
    for plan in (national, *provinces):
        PlanMembership.objects.create(plan=plan, user=lead, role=Role.SECRETARIAT_LEAD)
        costing = plan_costing_get(plan)
        rates = Rates(costing)
        size = NATIONAL_LINES if plan is national else PROVINCIAL_LINES
        activities = Activity.objects.bulk_create(
            Activity(
                plan=plan,
                technical_area=areas[n % len(areas)],
                title=f"Activity {n}",
                responsible_organization=organizations[n % len(organizations)],
            )
            for n in range(size // LINES_PER_ACTIVITY)
        )
        lines, years = [], []
        for n in range(size):
            line = CostLine(
                plan=plan,
                activity=activities[n // LINES_PER_ACTIVITY],
                description=f"Line {n}",
                category=CATEGORIES[n % len(CATEGORIES)],
                unit=UNITS[n % len(UNITS)],
                unit_cost=Decimal(25 + n % 400),
                currency=costing.currency,
                price_year=costing.price_year,
                quantity=Decimal(1 + n % 30),
                optional=n % 9 == 0,
                order=n % LINES_PER_ACTIVITY,
            )
            frequencies = {year: Decimal((n + year) % 3) for year in range(2026, 2031)}
            years.append(line_compute(line, frequencies, rates))
            lines.append(line)
        CostLine.objects.bulk_create(lines, batch_size=5000)
        CostLineYear.objects.bulk_create(
            (year for line_years in years for year in line_years),
            batch_size=10000,
        )
        FundingCommitment.objects.create(
            plan=plan,
            source_organization=organizations[0],
            source_kind="government",
            amount=Decimal("1000000"),
            currency=costing.currency,
            first_year=2026,
            last_year=2030,
            status="committed",
            technical_area=areas[0],
        )
        PlanCosting.objects.filter(plan=plan).update(changes=1)
    return national, provinces, lead


HAND_SQL = """
    SELECT line.plan_id, activity.technical_area_id, line.category, activity.responsible_organization_id,
           line_year.year,
           SUM(CASE WHEN line.optional THEN 0 ELSE line_year.amount END),
           SUM(CASE WHEN line.optional THEN line_year.amount ELSE 0 END)
    FROM costing_costlineyear line_year
    JOIN costing_costline line ON line.id = line_year.cost_line_id
    JOIN planning_activity activity ON activity.id = line.activity_id
    WHERE line.plan_id = ANY(%s)
    GROUP BY 1, 2, 3, 4, 5
"""


def xlsxwriter_bytes(sheets: list[tuple[str, list[list]]]) -> bytes:
    """The rows written by XlsxWriter, in memory, strings as strings (never formulas), as the export does."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False})
    for title, rows in sheets:
        sheet = book.add_worksheet(title)
        for number, values in enumerate(rows):
            sheet.write_row(number, 0, values)
    book.close()
    return buffer.getvalue()


def seconds(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


@pytest.mark.django_db(transaction=True)
def test_bench_costing(client, capsys):
    if connection.vendor != "postgresql":
        pytest.skip("the costing bench measures PostgreSQL: set DATABASE_URL")
    started = time.perf_counter()
    national, provinces, lead = build()
    plans = [national, *provinces]
    plan_ids = [plan.pk for plan in plans]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    built = time.perf_counter() - started
    figures: list[tuple[str, str]] = []

    # Rollups: all eleven plans in one pass (as the sweep recomputes stale plans), and the national plan
    # alone (as the task after an edit does), each beside the same GROUP BY written by hand; median of 3.
    def touch(ids: list[int]) -> None:
        PlanCosting.objects.filter(plan_id__in=ids).update(changes=F("changes") + 1)

    def hand_sql(ids: list[int]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(HAND_SQL, [ids])
            cursor.fetchall()

    def rollup(ids: list[int]) -> float:
        touch(ids)
        return seconds(lambda: plans_rollup(plan_ids=ids))

    for label, ids in (("11 plans, 100,000 lines", plan_ids), ("national plan, 10,000 lines", [national.pk])):
        stored = statistics.median(rollup(ids) for _ in range(3))
        grouped = statistics.median(seconds(lambda ids=ids: hand_sql(ids)) for _ in range(3))
        rows = CostRollup.objects.filter(plan_id__in=ids).count()
        figures.append((f"rollup, {label}", f"{stored * 1000:.0f} ms ({rows:,} rollup rows stored)"))
        figures.append(("  hand-written SQL GROUP BY, same rows", f"{grouped * 1000:.0f} ms"))
        figures.append(("  rollup ÷ GROUP BY [≤ 1.5]", f"{stored / grouped:.2f}"))

    # The costing workbook of the national plan (10,000 lines) for its secretariat (median of 3), then an upload
    # of it with every quantity changed: read, check each row, apply in one transaction.
    membership = PlanMembership.objects.select_related("plan").get(plan=national, user=lead)
    exports = []
    for _ in range(3):
        started = time.perf_counter()
        content, rows = costing_workbook_build(plan=national, membership=membership)
        exports.append(time.perf_counter() - started)
    exported = statistics.median(exports)
    figures.append(
        (
            "costing workbook export [≥ 10,000 rows/s]",
            f"{rows:,} rows in {exported:.2f} s = {rows / exported:,.0f} rows/s",
        )
    )
    # XlsxWriter writing the same rows (every sheet's values, read back from the export) in the same run: what the
    # well-kept writer would cost. Its time leaves out reading the plan, which the export's includes.
    sheets = [
        (sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)])
        for sheet in openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets
    ]
    written = []
    for _ in range(3):
        started = time.perf_counter()
        xlsxwriter_bytes(sheets)
        written.append(time.perf_counter() - started)
    by_library = statistics.median(written)
    figures.append(
        (
            "  XlsxWriter, the same rows and sheets (values only)",
            f"{rows:,} rows in {by_library:.2f} s = {rows / by_library:,.0f} rows/s",
        )
    )
    figures.append(("  export ÷ XlsxWriter, time", f"{exported / by_library:.2f}"))
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    changed = 0
    for sheet in workbook.worksheets:
        header = next(
            (row for row in sheet.iter_rows(max_row=20) if any(cell.value == "Quantity" for cell in row)), None
        )
        if header is None:
            continue
        quantity = next(cell.column for cell in header if cell.value == "Quantity")
        line_id = next(cell.column for cell in header if cell.value == "Line id")
        for row in sheet.iter_rows(min_row=header[0].row + 1):
            if isinstance(row[line_id - 1].value, int) and row[quantity - 1].value is not None:
                row[quantity - 1].value = Decimal(str(row[quantity - 1].value)) + 1
                changed += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload = CostingUpload.objects.create(
        plan=national, uploaded_by=lead, file=ContentFile(buffer.getvalue(), name="bench.xlsx"),
        filename="bench.xlsx", digest="bench",
    )  # fmt: skip
    started = time.perf_counter()
    summary = costing_upload_check_and_apply(upload=upload, membership=membership)
    applied = time.perf_counter() - started
    figures.append((f"upload of {changed:,} changed lines, validated and applied [< 15 s]", f"{applied:.1f} s"))
    figures.append(("  its summary", str(summary)[:100]))

    # The dashboard of the national plan with its ten provincial plans, reading the stored rollups.
    client.force_login(lead)
    url = reverse("costing_dashboard", kwargs={"plan_id": national.pk}) + "?scope=national"
    queries: list[str] = []
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        response = client.get(url)
    assert response.status_code == 200
    timings = [seconds(lambda: client.get(url)) for _ in range(5)]
    figures.append(
        (
            "costing dashboard, national + 10 provincial",
            f"{statistics.median(timings) * 1000:.0f} ms, {len(queries)} queries",
        )
    )

    with capsys.disabled():
        print(
            f"\n\nCosting bench (built in {built:.0f} s: 11 plans, {CostLine.objects.count():,} cost lines, "
            f"{CostLineYear.objects.count():,} line-years)"
        )
        width = max(len(name) for name, _ in figures)
        for name, value in figures:
            print(f"  {name:<{width}}  {value}")


DOCUMENT_ACTIVITIES = 2_000
DOCUMENT_LINES_PER_ACTIVITY = 3


def _document_render_in_child(plan_id: int, results) -> None:
    """Run in a forked process of its own, as a worker's pool process would: its peak memory is the render's."""
    from django.db import connections
    from django.utils import translation

    from costing.document import document_data, document_key, document_render, document_store

    connections.close_all()  # the parent's connections were closed before the fork; open this process's own
    plan = Plan.objects.get(pk=plan_id)
    started, cpu = time.perf_counter(), time.process_time()
    with translation.override("en"):
        key = document_key(plan=plan, language="en")
        rendered = document_render(data=document_data(plan=plan))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    document_store(plan=plan, language="en", key=key, content=rendered.content)  # as the job's handler does
    results.put((rendered.pages, seconds, cpu, len(rendered.content)))


@pytest.mark.django_db(transaction=True)
def test_bench_plan_document(client, capsys):
    """The plan document of a plan with 2,000 activities (6,000 cost lines): pages, seconds, pages per second and
    the rendering process's peak memory; then the same request again for the unchanged plan, served from the stored
    render."""
    import logging
    import multiprocessing
    import resource

    from django.db import connections

    from costing.rollups import plan_rollup

    if connection.vendor != "postgresql":
        pytest.skip("the document bench forks a rendering process, which needs a database server: set DATABASE_URL")
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    jee3 = Framework.objects.get(code="JEE3")
    areas = list(TechnicalArea.objects.filter(framework=jee3))
    country = Jurisdiction.objects.create(level="country", name="Docland", code="XL")
    lead = User.objects.create_user(username="bench-document-lead", email="document@example.org", password="x")
    organizations = Organization.objects.bulk_create(
        Organization(name=f"Ministry {n}", kind="ministry", jurisdiction=country) for n in range(10)
    )
    plan = Plan.objects.create(
        jurisdiction=country, title="Docland NAPHS", first_year=2026, last_year=2030, framework=jee3
    )
    PlanMembership.objects.create(plan=plan, user=lead, role=Role.SECRETARIAT_LEAD, organization=organizations[0])
    costing = plan_costing_get(plan)
    rates = Rates(costing)
    activities = Activity.objects.bulk_create(
        Activity(
            plan=plan,
            technical_area=areas[n % len(areas)],
            title=f"Activity {n}: strengthen the capacity described by the benchmark, with its partners",
            responsible_organization=organizations[n % len(organizations)],
            priority=["high", "medium", "low"][n % 3],
        )
        for n in range(DOCUMENT_ACTIVITIES)
    )
    lines, years = [], []
    for n in range(DOCUMENT_ACTIVITIES * DOCUMENT_LINES_PER_ACTIVITY):
        line = CostLine(
            plan=plan, activity=activities[n // DOCUMENT_LINES_PER_ACTIVITY], description=f"Line {n}",
            category=CATEGORIES[n % len(CATEGORIES)], unit=UNITS[n % len(UNITS)], unit_cost=Decimal(25 + n % 400),
            currency=costing.currency, price_year=costing.price_year, quantity=Decimal(1 + n % 30),
            order=n % DOCUMENT_LINES_PER_ACTIVITY,
        )  # fmt: skip
        years.append(line_compute(line, {year: Decimal((n + year) % 3) for year in range(2026, 2031)}, rates))
        lines.append(line)
    CostLine.objects.bulk_create(lines, batch_size=5000)
    CostLineYear.objects.bulk_create((year for line_years in years for year in line_years), batch_size=10000)
    PlanCosting.objects.filter(plan=plan).update(changes=1)
    plan_rollup(plan_id=plan.pk)

    connections.close_all()  # the forked process must not share this process's database connection
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    child = context.Process(target=_document_render_in_child, args=(plan.pk, results))
    child.start()
    pages, rendered, cpu, size = results.get(timeout=1800)
    child.join()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kilobytes on Linux: the largest child's
    figures = [
        (f"plan document, {DOCUMENT_ACTIVITIES:,} activities, {len(lines):,} cost lines", f"{pages:,} pages"),
        # The processor time beside the elapsed: on a machine busy with other work, the elapsed time says little.
        ("  rendered in", f"{rendered:.1f} s, {cpu:.1f} s of processor time ({size / 1_000_000:.1f} MB)"),
        ("  pages per second [≥ 8]", f"{pages / rendered:.1f}"),
        (
            "  peak memory of the rendering process [≤ 400 MB]",
            f"{peak / 1024:.0f} MB" + ("" if peak > before else " (an earlier child's peak was higher)"),
        ),
    ]

    # The same plan asked for again, unchanged: the stored render is served, with no job and no render.
    from costing.document import document_key

    client.force_login(lead)
    url = reverse("plan_document_request", kwargs={"plan_id": plan.pk})
    started = time.perf_counter()
    response = client.post(url)
    assert response.status_code == 302 and response["Location"].endswith("/document/download/"), response
    body = b"".join(client.get(response["Location"]).streaming_content)
    again = time.perf_counter() - started
    key_seconds = seconds(lambda: document_key(plan=plan, language="en"))
    figures.append(
        (
            "  the same plan asked for again, unchanged [< 1 s]",
            f"{again * 1000:.0f} ms, from the stored render ({len(body) / 1_000_000:.1f} MB; "
            f"its key in {key_seconds * 1000:.0f} ms)",
        )
    )
    with capsys.disabled():
        print("\n\nPlan document bench")
        width = max(len(name) for name, _ in figures)
        for name, value in figures:
            print(f"  {name:<{width}}  {value}")
