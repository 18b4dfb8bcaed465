"""The whole-plan workbook: every part of the plan on a sheet of its own, values as the API gives them and
headings in the requester's language, as a job any member starts from the pages or the API, in as many queries
for a large plan as for a small one."""

from __future__ import annotations

import datetime
import io
import itertools
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import load_workbook

from costing.job_kinds import CostingJob
from costing.models import CostLine, CostLineYear, FundingCommitment
from costing.plan_workbook import PlanContent, plan_content_read, plan_workbook_build, plan_workbook_export
from costing.services import Rates, cost_line_create, line_compute, plan_costing_get
from naphs.models import Job
from planning.assessments import assessment_create, scores_set
from planning.models import Activity, ActivityDependency, IndicatorTarget
from tests.costing.conftest import area, line_fields

pytestmark = pytest.mark.django_db

D = Decimal
SHEETS = ["Summary", "Activities", "Cost lines", "Costs by area and year", "Funding", "Scores", "Targets"]


@pytest.fixture
def whole(costing, moa_activity, moh_activity, lead, moh, moa, jee3):
    """Two activities with every kind of field, three cost lines (one optional, one in euros), a commitment to an
    area and one to an activity, an assessment with two scores, and a target."""
    plan = costing.plan
    Activity.objects.filter(pk=moa_activity.pk).update(
        description="Across the five border posts",
        priority="high",
        impact="medium",
        feasibility="easy",
        status="planned",
        sectors=["animal_health", "human_health"],
        hazards=["biological"],
        start_date=datetime.date(2026, 3, 1),
        end_date=datetime.date(2027, 6, 30),
        existing_budget=True,
        existing_budget_source="=SUM(A1)",  # text that looks like a formula stays text
    )
    moa_activity.supporting_organizations.add(moh)
    p1_indicator = area("P1").indicators.order_by("order").first()
    moa_activity.indicators.add(p1_indicator)
    ActivityDependency.objects.create(activity=moh_activity, depends_on=moa_activity)
    cost_line_create(activity=moa_activity, by=lead, fields=line_fields(), frequencies={2026: 2, 2027: 1})
    cost_line_create(
        activity=moa_activity,
        by=lead,
        fields=line_fields(description="Trainers", category="training", unit_cost=D("100"), quantity=D("10"),
                           optional=True),
        frequencies={2027: 1},
    )  # fmt: skip
    cost_line_create(
        activity=moh_activity,
        by=lead,
        fields=line_fields(description="PCR machine", category="equipment", unit="item", unit_cost=D("1000"),
                           currency="EUR", price_year=2026, quantity=D("2"), recurrence="one_off"),
        frequencies={2026: 1},
    )  # fmt: skip
    FundingCommitment.objects.create(
        plan=plan, source_organization=moh, source_kind="government", amount=D("1000"), currency="USD",
        first_year=2026, last_year=2026, status="committed", technical_area=area("P1"),
    )  # fmt: skip
    pledge = FundingCommitment.objects.create(
        plan=plan, source_organization=moa, source_kind="government", amount=D("600"), currency="USD",
        first_year=2026, last_year=2027, status="pledged", budget_line="MOA-2026-17",
    )  # fmt: skip
    pledge.activities.add(moh_activity)
    assessment = assessment_create(plan=plan, by=lead, framework=jee3, kind="jee", date=datetime.date(2025, 5, 1))
    d1_indicator = area("D1").indicators.order_by("order").first()
    scores_set(assessment=assessment, by=lead, scores={p1_indicator.code: 2, d1_indicator.code: 3})
    IndicatorTarget.objects.create(plan=plan, indicator=p1_indicator, level=4, justification="Law revised by 2028")
    return plan


def _rows(workbook, title: str) -> list[dict]:
    rows = list(workbook[title].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_api_export_writes_every_part_of_the_plan(client, whole, people, django_capture_on_commit_callbacks):
    client.force_login(people["viewer"])  # any member may export

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/plans/{whole.pk}/workbook/export/")

    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (job.kind, job.requested_by) == (CostingJob.PLAN_WORKBOOK, people["viewer"])
    assert job.result_name.endswith("-whole-plan.xlsx")
    workbook = load_workbook(job.result.path)
    assert workbook.sheetnames == SHEETS

    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(min_row=3, values_only=True) if row[0]}
    assert summary["Version"] == "Current draft"
    assert (summary["Status"], summary["Kind"], summary["Period"]) == ("draft", "strategic", "2026-2030")
    assert (summary["Activities"], summary["Cost lines"], summary["Funding commitments"]) == (2, 3, 2)

    moa_row, moh_row = _rows(workbook, "Activities")
    assert moa_row["Technical area"] == "P1"
    assert moa_row["Title"] == "Train border veterinarians"
    assert moa_row["Responsible organization"] == "Ministry of Agriculture"
    assert moa_row["Supporting organizations"] == "Ministry of Health"
    # Choice values and dates as the API gives them, whatever the language of the headings.
    assert (moa_row["Priority"], moa_row["Impact"], moa_row["Feasibility"], moa_row["Status"]) == (
        "high", "medium", "easy", "planned",
    )  # fmt: skip
    assert (moa_row["Start date"], moa_row["End date"]) == ("2026-03-01", "2027-06-30")
    assert moa_row["Sectors"] == "animal_health; human_health"
    assert moa_row["Existing budget"] == "true"
    assert moa_row["Existing budget source"] == "=SUM(A1)"
    assert moa_row["Indicators"] == area("P1").indicators.order_by("order").first().code
    assert moh_row["Depends on (activity ids)"] == str(moa_row["Activity id"])
    # Yearly required costs: 250 × 3 × 2 in 2026, × 1 in 2027; the trainers are optional.
    assert (moa_row["Required cost 2026 (USD)"], moa_row["Required cost 2027 (USD)"]) == (1500, 750)
    assert (moa_row["Required cost (USD)"], moa_row["Optional cost (USD)"]) == (2250, 1000)
    assert moh_row["Required cost (USD)"] == 2200  # 1,000 EUR × 2 at 1.10

    lines = _rows(workbook, "Cost lines")
    assert [line["Description"] for line in lines] == ["Workshop venue", "Trainers", "PCR machine"]
    venue, trainers, pcr = lines
    assert (venue["Category"], venue["Unit"], venue["Recurrence"], venue["Optional"]) == (
        "meetings", "day", "recurring", "false",
    )  # fmt: skip
    assert (venue["Times in 2026"], venue["Times in 2027"], venue["Times in 2028"]) == (2, 1, 0)
    assert (venue["Cost 2026 (USD)"], venue["Cost 2027 (USD)"], venue["Total (USD)"]) == (1500, 750, 2250)
    assert trainers["Optional"] == "true"
    assert (pcr["Currency"], pcr["Unit cost"], pcr["Unit cost (USD)"], pcr["Total (USD)"]) == ("EUR", 1000, 1100, 2200)
    assert workbook["Cost lines"]["G2"].number_format == "#,##0.00"

    by_area = _rows(workbook, "Costs by area and year")
    assert [(row["Technical area"], row["Required cost (USD)"], row["Optional cost (USD)"]) for row in by_area] == [
        ("P1", 2250, 1000),
        ("D1", 2200, 0),
    ]

    funding = _rows(workbook, "Funding")
    assert [(row["Funding source"], row["Amount"], row["Status"], row["Technical area"]) for row in funding] == [
        ("Ministry of Health", 1000, "committed", "P1"),
        ("Ministry of Agriculture", 600, "pledged", None),
    ]
    assert funding[1]["Activities (ids)"] == str(moh_row["Activity id"])
    assert funding[1]["Budget line"] == "MOA-2026-17"

    scores = _rows(workbook, "Scores")
    assert sorted((row["Technical area"], row["Score"], row["Assessment kind"]) for row in scores) == [
        ("D1", 3, "jee"),
        ("P1", 2, "jee"),
    ]
    assert scores[0]["Date"] == "2025-05-01"

    targets = {row["Indicator"]: row for row in _rows(workbook, "Targets")}
    assert len(targets) == whole.framework.indicators.count()  # every indicator, with a target or not
    p1 = targets[area("P1").indicators.order_by("order").first().code]
    assert (p1["Current level"], p1["Target level"], p1["Justification"]) == (2, 4, "Law revised by 2028")


def test_a_text_that_looks_like_a_formula_is_written_as_text(whole, lead):
    Activity.objects.filter(plan=whole).update(title='=HYPERLINK("http://x.example")')
    workbook = load_workbook(io.BytesIO(plan_workbook_build(plan=whole).content))
    cell = workbook["Activities"]["D2"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x.example")', "s")


def test_the_headings_are_in_the_requesters_language_and_the_values_are_not(whole, people, catalogues_compiled):
    viewer = people["viewer"]
    viewer.language = "fr"
    viewer.save(update_fields=["language"])
    job = Job.objects.create(kind=CostingJob.PLAN_WORKBOOK, plan=whole, requested_by=viewer, params={})

    with translation.override("fr"):  # as the worker runs the job (naphs.jobs.job_run)
        result = plan_workbook_export(job=job, progress=lambda percent, message: None)

    workbook = load_workbook(io.BytesIO(result.content))
    assert workbook.sheetnames[:2] == ["Résumé", "Activités"]
    assert "Financement" in workbook.sheetnames and "Cibles" in workbook.sheetnames
    first = next(workbook["Activités"].iter_rows(min_row=2, values_only=True))
    assert "high" in first and "planned" in first  # choice values, not their French labels


def _grow(plan, lead, size: int) -> None:
    """`size` more activities, each with two cost lines over the plan's years, an indicator and a dependency."""
    costing = plan_costing_get(plan)
    rates = Rates(costing)
    indicators = list(plan.framework.indicators.select_related("technical_area"))
    activities = Activity.objects.bulk_create(
        Activity(plan=plan, technical_area=indicators[n % len(indicators)].technical_area, title=f"Activity {n}")
        for n in range(size)
    )
    Activity.indicators.through.objects.bulk_create(
        Activity.indicators.through(activity_id=a.pk, indicator_id=indicators[n % len(indicators)].pk)
        for n, a in enumerate(activities)
    )
    ActivityDependency.objects.bulk_create(
        ActivityDependency(activity=later, depends_on=earlier) for earlier, later in itertools.pairwise(activities)
    )
    lines, years = [], []
    for n in range(size * 2):
        line = CostLine(
            plan=plan, activity=activities[n // 2], description=f"Line {n}", category="meetings", unit="day",
            unit_cost=D(10 + n), currency=costing.currency, price_year=costing.price_year, quantity=D(2),
        )  # fmt: skip
        years.append(line_compute(line, {year: D(1) for year in range(plan.first_year, plan.last_year + 1)}, rates))
        lines.append(line)
    CostLine.objects.bulk_create(lines)
    CostLineYear.objects.bulk_create(year for line_years in years for year in line_years)


def test_a_plan_ten_times_larger_takes_as_many_queries(whole, lead):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            plan_workbook_build(plan=whole)
        return len(queries)

    _grow(whole, lead, 5)
    small = count()
    _grow(whole, lead, 50)
    assert count() == small
    assert small <= 20


def test_the_workbook_of_a_stored_version_is_written_from_the_version(whole, lead):
    """The seam for stored versions: the content comes from the version, the summary names it."""
    draft = plan_content_read(whole)

    class Version:
        label = "Version 1 (endorsed 2026-02-01)"

        def content(self) -> PlanContent:
            return PlanContent(years=draft.years, activities=draft.activities[:1], targets=draft.targets)

    workbook = load_workbook(io.BytesIO(plan_workbook_build(plan=whole, version=Version()).content))

    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(min_row=3, values_only=True) if row[0]}
    assert summary["Version"] == "Version 1 (endorsed 2026-02-01)"
    assert (summary["Activities"], summary["Cost lines"]) == (1, 0)
    assert len(_rows(workbook, "Activities")) == 1
    assert _rows(workbook, "Cost lines") == []


def test_the_buttons_start_the_export_and_show_its_progress(client, whole, people):
    client.force_login(people["reviewer"])
    for page in (f"/plans/{whole.pk}/", f"/plans/{whole.pk}/costing/"):
        assert f'hx-post="/plans/{whole.pk}/workbook/export/"' in client.get(page).content.decode(), page

    response = client.post(f"/plans/{whole.pk}/workbook/export/", HTTP_HX_REQUEST="true")

    job = Job.objects.get()
    assert response.status_code == 200
    assert f'id="job-{job.pk}"' in response.content.decode()
    assert (job.kind, job.requested_by) == (CostingJob.PLAN_WORKBOOK, people["reviewer"])
    # Without htmx, the job's own page; asked again while it waits, the same job.
    response = client.post(f"/plans/{whole.pk}/workbook/export/")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert Job.objects.count() == 1
    # The costing dashboard shows the export last asked for there.
    assert f'id="job-{job.pk}"' in client.get(f"/plans/{whole.pk}/costing/").content.decode()


def test_someone_outside_the_plan_learns_nothing(client, whole, people):
    client.force_login(people["outsider"])
    assert client.post(f"/plans/{whole.pk}/workbook/export/").status_code == 404
    assert client.post(f"/api/plans/{whole.pk}/workbook/export/").status_code == 404
    assert not Job.objects.exists()
    client.logout()
    assert client.post(f"/api/plans/{whole.pk}/workbook/export/").status_code in (401, 403)
    assert client.post(f"/plans/{whole.pk}/workbook/export/").status_code == 302  # to the login page
    assert not Job.objects.exists()
