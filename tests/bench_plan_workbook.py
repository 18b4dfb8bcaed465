"""`make bench`, the whole-plan workbook: a JEE 3 plan of 2,000 activities, each with five cost lines over five
years, 200 funding commitments, an assessment and its targets; the export's rate in rows per second (every sheet's
rows under the headings), its size and its query count, beside a plan of 200 activities. Figures, not assertions
(target in brackets), beside the costing workbook of the same plan written in the same run."""

from __future__ import annotations

import datetime
import statistics
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from costing.models import CostLine, CostLineYear, FundingCommitment
from costing.plan_workbook import plan_workbook_build
from costing.services import Rates, line_compute, plan_costing_get
from costing.workbook import costing_workbook_build
from naphs.permissions import Role
from planning.assessments import assessment_create, scores_set
from planning.models import Activity, Framework, Indicator, Jurisdiction, Plan
from planning.targets import targets_fill_defaults
from stakeholders.models import Organization, PlanMembership, User

SIZES = (200, 2000)
LINES_PER_ACTIVITY = 5
REPEAT = 3
CATEGORIES = ["meetings", "per_diem_travel", "consultancy", "training", "equipment", "supplies", "transport"]


def build(size: int) -> Plan:
    jee3 = Framework.objects.get(code="JEE3")
    country = Jurisdiction.objects.create(level="country", name=f"Bookland {size}", code="XW" if size < 1000 else "XY")
    plan = Plan.objects.create(
        jurisdiction=country, title=f"Bookland {size}", first_year=2026, last_year=2030, framework=jee3
    )
    lead = User.objects.create_user(username=f"book-lead-{size}", email=f"book{size}@example.org", password="x")
    PlanMembership.objects.create(plan=plan, user=lead, role=Role.SECRETARIAT_LEAD)
    organizations = Organization.objects.bulk_create(
        Organization(name=f"Agency {n}", kind="agency", jurisdiction=country) for n in range(30)
    )
    indicators = list(Indicator.objects.filter(framework=jee3).select_related("technical_area"))
    assessment = assessment_create(plan=plan, by=lead, framework=jee3, kind="jee", date=datetime.date(2025, 1, 1))
    scores_set(assessment=assessment, by=lead, scores={i.code: 1 + n % 4 for n, i in enumerate(indicators)})
    targets_fill_defaults(plan=plan, by=lead)
    activities = Activity.objects.bulk_create(
        Activity(
            plan=plan, technical_area=indicators[n % 56].technical_area, title=f"Activity {n}",
            description="Build the capacity described in the benchmark, with the partners named.",
            priority=("high", "medium", "low")[n % 3], status=("draft", "planned")[n % 2],
            responsible_organization=organizations[n % 30], start_date=datetime.date(2026 + n % 5, 1, 1),
            sectors=["human_health"], hazards=["biological"],
        )
        for n in range(size)
    )  # fmt: skip
    Activity.indicators.through.objects.bulk_create(
        Activity.indicators.through(activity_id=a.pk, indicator_id=indicators[n % 56].pk)
        for n, a in enumerate(activities)
    )
    costing = plan_costing_get(plan)
    rates = Rates(costing)
    lines, years = [], []
    for n in range(size * LINES_PER_ACTIVITY):
        line = CostLine(
            plan=plan, activity=activities[n // LINES_PER_ACTIVITY], description=f"Line {n}",
            category=CATEGORIES[n % len(CATEGORIES)], unit="day", unit_cost=Decimal(25 + n % 400),
            currency=costing.currency, price_year=costing.price_year, quantity=Decimal(1 + n % 30),
            optional=n % 9 == 0, order=n % LINES_PER_ACTIVITY,
        )  # fmt: skip
        years.append(line_compute(line, {year: Decimal((n + year) % 3) for year in range(2026, 2031)}, rates))
        lines.append(line)
    CostLine.objects.bulk_create(lines, batch_size=5000)
    CostLineYear.objects.bulk_create((year for line_years in years for year in line_years), batch_size=10000)
    commitments = FundingCommitment.objects.bulk_create(
        FundingCommitment(
            plan=plan, source_organization=organizations[n % 30], source_kind="donor", amount=Decimal(10_000 + n),
            currency=costing.currency, first_year=2026, last_year=2030, status="committed",
        )
        for n in range(size // 10)
    )  # fmt: skip
    FundingCommitment.activities.through.objects.bulk_create(
        FundingCommitment.activities.through(fundingcommitment_id=c.pk, activity_id=activities[n].pk)
        for n, c in enumerate(commitments)
    )
    return plan


@pytest.mark.django_db
def test_bench_plan_workbook(capsys):
    figures: dict[int, tuple[int, float, int, int]] = {}
    for size in SIZES:
        plan = build(size)
        times = []
        for _ in range(REPEAT):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                written = plan_workbook_build(plan=plan)
                times.append(time.perf_counter() - started)
        figures[size] = (written.rows, statistics.median(times), len(written.content), len(queries))
    # The secretariat's costing workbook of the same plan, in the same run: the same writer, on a loaded machine
    # as much as on a quiet one, for a figure that compares.
    membership = PlanMembership.objects.get(plan=plan)
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        _content, costing_rows = costing_workbook_build(plan=plan, membership=membership)
        times.append(time.perf_counter() - started)
    costing_seconds = statistics.median(times)
    with capsys.disabled():
        print(f"\n\nWhole-plan workbook ({connection.vendor}; {LINES_PER_ACTIVITY} cost lines per activity)")
        for size, (rows, seconds, size_bytes, queries) in figures.items():
            target = " [≥ 10,000 rows/s, as the costing workbook]" if size == max(SIZES) else ""
            print(
                f"  {size:>5,} activities: {rows:,} rows in {seconds:.2f} s = {rows / seconds:,.0f} rows/s{target}, "
                f"{size_bytes / 1e6:.1f} MB, {queries} queries"
            )
        small, large = (figures[size] for size in SIZES)
        print(f"  queries, {SIZES[1]:,} ÷ {SIZES[0]:,} activities: {large[3] / small[3]:.2f}")
        print(
            f"  the costing workbook of the same plan: {costing_rows:,} rows in {costing_seconds:.2f} s = "
            f"{costing_rows / costing_seconds:,.0f} rows/s"
        )
