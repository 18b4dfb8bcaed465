"""The plan overview and the national plan beside its provincial plans, in a constant number of queries."""

import datetime

import pytest

from planning.assessments import assessment_create, scores_set
from planning.models import Activity, Framework, IndicatorTarget, Plan, TechnicalArea
from planning.selectors import plan_overview, plan_overview_with_comparison, provincial_comparison
from planning.targets import targets_fill_defaults

pytestmark = pytest.mark.django_db


def scored(plan, lead, scores, framework=None):
    assessment = assessment_create(
        plan=plan, by=lead, framework=framework or plan.framework, kind="jee", date=datetime.date(2025, 6, 1)
    )
    scores_set(assessment=assessment, by=lead, scores=scores)


def activities(plan, area_code, count, **fields):
    area = TechnicalArea.objects.get(framework=plan.framework, code=area_code)
    Activity.objects.bulk_create(
        Activity(plan=plan, technical_area=area, title=f"A{n}", **fields) for n in range(count)
    )


def test_the_overview_shows_levels_targets_and_activity_counts_per_area(plan, lead):
    scored(plan, lead, {"P1.1": 2, "P1.2": 3, "D1.1": 4})
    targets_fill_defaults(plan=plan, by=lead)
    activities(plan, "P1", 3, priority="high", status="draft")
    activities(plan, "P1", 2, priority="low", status="planned")

    rows = {row.area.code: row for row in plan_overview(plan=plan)}

    assert len(rows) == 19
    legal = rows["P1"]
    assert [(i.code, current, target) for i, current, target, _source in legal.indicators] == [
        ("P1.1", 2, 4), ("P1.2", 3, 4),
    ]  # fmt: skip
    assert (legal.figures.current, legal.figures.target, legal.figures.activities) == (2.5, 4.0, 5)
    assert legal.figures.by_priority == {"high": 3, "low": 2}
    assert legal.figures.by_status == {"draft": 3, "planned": 2}
    assert rows["P2"].figures.current is None and rows["P2"].figures.activities == 0


@pytest.mark.parametrize("size", [5, 300])
def test_the_overview_runs_a_constant_number_of_queries(plan, lead, size, django_assert_num_queries):
    scored(plan, lead, {"P1.1": 2})
    activities(plan, "P1", size, priority="medium")
    plan = Plan.objects.select_related("jurisdiction").get(pk=plan.pk)
    with django_assert_num_queries(5):  # with the open comment threads per area
        plan_overview(plan=plan)


def test_the_national_plan_sees_its_provincial_plans_beside_its_own(plan, provincial_plan, lead, country, jee3):
    provincial_plan.framework = jee3
    provincial_plan.save()
    other = Plan.objects.create(jurisdiction=provincial_plan.jurisdiction.parent.children.create(
        level="province", name="South Province", country=country), title="South", first_year=2026,
        last_year=2030, parent=plan, framework=Framework.objects.get(code="SPAR2"))  # fmt: skip
    scored(plan, lead, {"P1.1": 2, "P1.2": 2})
    scored(provincial_plan, lead, {"P1.1": 1, "P1.2": 3})
    targets_fill_defaults(plan=plan, by=lead)
    IndicatorTarget.objects.create(
        plan=provincial_plan, indicator_id=plan.framework.indicators.get(code="P1.1").pk, level=3
    )
    activities(provincial_plan, "P1", 4)

    comparison = provincial_comparison(plan=plan)

    assert comparison.plans == [plan, provincial_plan]
    assert comparison.other_framework == [other]
    legal = dict(comparison.rows)[TechnicalArea.objects.get(framework=jee3, code="P1")]
    national, provincial = legal
    assert (national.current, national.target, national.activities) == (2.0, 4.0, 0)
    assert (provincial.current, provincial.target, provincial.activities) == (2.0, 3.0, 4)


def test_the_comparison_runs_a_constant_number_of_queries(plan, lead, country, jee3, django_assert_max_num_queries):
    for n in range(6):
        province = country.children.create(level="province", name=f"Province {n}", country=country)
        child = Plan.objects.create(
            jurisdiction=province, title=f"P{n}", first_year=2026, last_year=2030, parent=plan, framework=jee3
        )
        scored(child, lead, {"P1.1": 1 + n % 5})
        activities(child, "D1", 3)
    with django_assert_max_num_queries(7):
        provincial_comparison(plan=plan)


def test_the_overview_page_reads_the_plans_figures_once_for_both_tables(
    plan, provincial_plan, lead, jee3, django_assert_max_num_queries
):
    provincial_plan.framework = jee3
    provincial_plan.save()
    scored(plan, lead, {"P1.1": 2, "P1.2": 2})
    scored(provincial_plan, lead, {"P1.1": 1})
    targets_fill_defaults(plan=plan, by=lead)
    activities(provincial_plan, "P1", 2)

    with django_assert_max_num_queries(7):  # what provincial_comparison alone runs
        overview, comparison = plan_overview_with_comparison(plan=plan)

    assert overview == plan_overview(plan=plan)
    assert comparison == provincial_comparison(plan=plan)
    assert plan_overview_with_comparison(plan=provincial_plan) == (plan_overview(plan=provincial_plan), None)
