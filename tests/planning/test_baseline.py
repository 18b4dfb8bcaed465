"""The baseline from several assessments: each indicator's most recent score across the plan's assessments,
through the crosswalk, with its source shown; the indicators without one named on the overview and by the
draft generator."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from planning.assessments import assessment_create, scores_import_spar_table, scores_set
from planning.drafting import draft_generate, draft_preview
from planning.models import Framework, Indicator, TechnicalArea
from planning.selectors import plan_baseline, plan_current_levels, plan_overview
from planning.targets import targets_fill_defaults
from tests.planning.test_assessments import spar_table, xlsx
from tests.planning.test_drafting import small_library

pytestmark = pytest.mark.django_db

SPAR_DATE = datetime.date(2024, 3, 1)
SELF_DATE = datetime.date(2025, 9, 1)


def codes_of(levels: dict[int, object]) -> dict[str, object]:
    names = dict(Indicator.objects.filter(pk__in=levels).values_list("pk", "code"))
    return {names[pk]: value for pk, value in levels.items()}


def jee3_area_indicators(*area_codes: str) -> set[str]:
    return set(
        Indicator.objects.filter(framework__code="JEE3", technical_area__code__in=area_codes).values_list(
            "code", flat=True
        )
    )


@pytest.fixture
def spar_baseline(plan, lead):
    """A SPAR 2 assessment of the JEE 3 plan, imported from WHO's SPAR results table (every indicator of
    Testland at 40 %, that is level 2, but C1.1 at 80 %: level 4)."""
    spar = Framework.objects.get(code="SPAR2")
    headings = [i.code.replace("C", "C.", 1) for i in Indicator.objects.filter(framework=spar)]
    given: dict[str, object] = dict.fromkeys(headings, 40) | {"C.1.1": 80}
    assessment = assessment_create(plan=plan, by=lead, framework=spar, kind="spar", date=SPAR_DATE, source="SPAR")
    scores_import_spar_table(
        assessment=assessment,
        by=lead,
        upload=xlsx(spar_table({"Testland": given})),
        filename="SPAR results.xlsx",
        country="Testland",
    )
    return assessment


@pytest.fixture
def topped_up(plan, lead, spar_baseline, jee3):
    """The SPAR baseline topped up by a later, partial JEE 3 self-assessment: P1.1 at 3, and AMR (P4), which SPAR
    does not reach, in part."""
    assessment = assessment_create(plan=plan, by=lead, framework=jee3, kind="self", date=SELF_DATE)
    scores_set(assessment=assessment, by=lead, scores={"P1.1": 3, "P4.1": 2})
    return assessment


def test_a_partial_self_assessment_completes_a_spar_baseline_and_the_newer_score_wins(plan, spar_baseline, topped_up):
    baseline = codes_of(plan_baseline(plan=plan))

    # P1.1: SPAR said 4 (C1.1), the newer self-assessment 3: the newer wins.
    assert (baseline["P1.1"].level, baseline["P1.1"].kind, baseline["P1.1"].date) == (3, "self", SELF_DATE)
    assert not baseline["P1.1"].carried
    # P1.2 only the SPAR reaches, through the crosswalk: it stays.
    assert (baseline["P1.2"].level, baseline["P1.2"].kind, baseline["P1.2"].carried) == (2, "spar", True)
    assert baseline["P4.1"].level == 2 and baseline["P4.1"].assessment_id == topped_up.pk
    # No indicator of the legal, AMR or surveillance areas is without a level where either assessment scored it.
    through_crosswalk = set(
        Indicator.objects.filter(framework__code="JEE3", crosswalk_out__target__framework__code="SPAR2").values_list(
            "code", flat=True
        )
    ) | set(
        Indicator.objects.filter(framework__code="JEE3", crosswalk_in__source__framework__code="SPAR2").values_list(
            "code", flat=True
        )
    )
    for code in jee3_area_indicators("P1", "P4", "D2"):
        assert (code in baseline) == (code in through_crosswalk | {"P1.1", "P4.1"}), code


def test_a_newer_spar_wins_over_an_older_self_assessment_and_ties_go_to_the_one_added_last(plan, lead, jee3):
    spar = Framework.objects.get(code="SPAR2")
    older = assessment_create(plan=plan, by=lead, framework=jee3, kind="self", date=datetime.date(2020, 1, 1))
    scores_set(assessment=older, by=lead, scores={"P1.1": 1, "P1.2": 1})
    newer = assessment_create(plan=plan, by=lead, framework=spar, kind="spar", date=datetime.date(2023, 1, 1))
    scores_set(assessment=newer, by=lead, scores={"C1.1": 4})
    same_day = assessment_create(plan=plan, by=lead, framework=jee3, kind="jee", date=datetime.date(2023, 1, 1))
    scores_set(assessment=same_day, by=lead, scores={"P1.2": 5})

    levels = codes_of(plan_current_levels(plan=plan))

    assert levels["P1.1"] == 4  # the SPAR of 2023 over the self-assessment of 2020
    assert levels["P1.2"] == 5  # same date: the assessment added last


@pytest.mark.parametrize("assessments", [1, 6])
def test_the_baseline_reads_in_two_queries_however_many_assessments(
    plan, lead, jee3, assessments, django_assert_num_queries
):
    spar = Framework.objects.get(code="SPAR2")
    for n in range(assessments):
        framework = spar if n % 2 == 0 else jee3
        assessment = assessment_create(
            plan=plan, by=lead, framework=framework, kind="other", date=datetime.date(2020 + n, 1, 1)
        )
        scores_set(assessment=assessment, by=lead, scores={"C1.1": 3} if framework == spar else {"P1.2": 2})
    with django_assert_num_queries(2):
        plan_baseline(plan=plan)


def test_the_overview_shows_the_source_of_each_level_and_the_indicators_without_a_baseline(
    client, plan, lead, spar_baseline, topped_up
):
    rows = {row.area.code: row for row in plan_overview(plan=plan)}
    amr = rows["P4"]
    missing = [i.code for i in amr.no_baseline]
    assert "P4.1" not in missing and missing == sorted(
        jee3_area_indicators("P4") - {"P4.1"} - set(codes_of(plan_current_levels(plan=plan)))
    )
    assert rows["P1"].no_baseline == []

    client.force_login(lead)
    page = client.get(f"/plans/{plan.pk}/").content.decode()

    total = sum(len(row.no_baseline) for row in rows.values())
    assert total > 0
    assert 'id="no-baseline"' in page and f"{total} indicators have no baseline" in page
    assert f'id="no-baseline-{amr.area.pk}"' in page
    assert "No baseline: " + ", ".join(missing) in page
    p11 = Indicator.objects.get(framework__code="JEE3", code="P1.1")
    p12 = Indicator.objects.get(framework__code="JEE3", code="P1.2")
    item = page.split(f'id="overview-indicator-{p11.pk}"')[1].split("</li>")[0]
    assert "from the Self-assessment of 1 Sep 2025" in item
    item = page.split(f'id="overview-indicator-{p12.pk}"')[1].split("</li>")[0]
    assert "State Party self-assessment annual report (SPAR)" in item and "through the crosswalk" in item


@pytest.mark.parametrize("extra", [0, 5])
def test_the_overview_and_targets_pages_run_a_constant_number_of_queries(
    client, plan, lead, spar_baseline, topped_up, extra, django_assert_max_num_queries
):
    for n in range(extra):
        assessment = assessment_create(
            plan=plan, by=lead, framework=plan.framework, kind="self", date=datetime.date(2021, 1, n + 1)
        )
        scores_set(assessment=assessment, by=lead, scores={"P2.1": 2})
    client.force_login(lead)
    with django_assert_max_num_queries(40):
        assert client.get(f"/plans/{plan.pk}/").status_code == 200
    with django_assert_max_num_queries(40):
        page = client.get(f"/plans/{plan.pk}/targets/")
    p12 = Indicator.objects.get(framework__code="JEE3", code="P1.2")
    row = page.content.decode().split(f'id="indicator-{p12.pk}"')[1].split("</tr>")[0]
    assert "through the crosswalk" in row and "1 Mar 2024" in row


def test_the_generator_names_the_indicators_of_the_chosen_areas_without_a_baseline(
    client, plan, lead, spar_baseline, topped_up, jee3
):
    targets_fill_defaults(plan=plan, by=lead)
    library = small_library(jee3)
    amr = TechnicalArea.objects.get(framework=jee3, code="P4")
    legal = TechnicalArea.objects.get(framework=jee3, code="P1")
    missing = sorted(jee3_area_indicators("P4") - set(codes_of(plan_current_levels(plan=plan))))
    assert missing

    preview = draft_preview(plan=plan, library=library, technical_areas=[legal, amr])
    assert [i.code for i in preview.no_score] == missing
    # Every indicator of the legal area has a level: SPAR's, or the self-assessment's.
    assert not [i for i in preview.no_score if i.technical_area_id == legal.pk]

    client.force_login(lead)
    page = client.get(f"/plans/{plan.pk}/generate/?library={library.pk}").content.decode()
    alert = page.split('id="no-baseline"')[1].split("</div>")[0]
    assert f"P4 {amr.local_name}: {', '.join(missing)}" in alert

    response = client.post(
        f"/plans/{plan.pk}/generate/", {"library": library.pk, "technical_areas": [legal.pk, amr.pk]}, follow=True
    )
    message = " ".join(str(m) for m in response.context["messages"])
    codes = ", ".join(missing)
    sentence = f"No baseline in P4 (no assessment scores them), so nothing was drafted for: {codes}."
    assert sentence in message
    result = draft_generate(plan=plan, by=lead, library=library, technical_areas=[legal])
    assert "No baseline" not in result.summary()


def test_an_operational_plan_draws_the_whole_strategic_baseline_with_its_sources(plan, lead, spar_baseline, topped_up):
    from planning.models import Assessment, IndicatorTarget
    from planning.operational import _levels_draw, operational_plan_create

    operational = operational_plan_create(
        strategic=plan, by=lead, title="Year one", first_year=2026, last_year=2026, activities=[]
    )

    strategic, drawn = plan_baseline(plan=plan), plan_baseline(plan=operational)
    assert drawn.keys() == strategic.keys() and len(drawn) > 2
    copies = {a.pk: a for a in Assessment.objects.filter(plan=operational).select_related("origin")}
    assert sorted(copy.origin_id for copy in copies.values()) == sorted([spar_baseline.pk, topped_up.pk])
    for indicator_id, level in strategic.items():
        copy = drawn[indicator_id]
        assert (copy.level, copy.kind, copy.date, copy.carried) == (level.level, level.kind, level.date, level.carried)
        assert copies[copy.assessment_id].origin_id == level.assessment_id  # the same source, linked to it
    spar_copy = next(a for a in copies.values() if a.origin_id == spar_baseline.pk)
    assert (spar_copy.source, spar_copy.framework_id) == ("SPAR", spar_baseline.framework_id)
    levels = codes_of(drawn)
    assert (levels["P1.1"].level, levels["P1.1"].kind) == (3, "self")  # the newer self-assessment
    assert (levels["P1.2"].level, levels["P1.2"].kind, levels["P1.2"].carried) == (2, "spar", True)

    # However many assessments the strategic plan holds, the draw runs as many queries.
    other = operational_plan_create(
        strategic=plan, by=lead, title="Year two", first_year=2027, last_year=2027, activities=[]
    )

    def redraw() -> int:
        Assessment.objects.filter(plan=other).delete()
        IndicatorTarget.objects.filter(plan=other).delete()
        with CaptureQueriesContext(connection) as queries:
            _levels_draw(strategic=plan, plan=other, by=lead)
        return len(queries)

    two = redraw()
    for n in range(4):
        extra = assessment_create(plan=plan, by=lead, framework=plan.framework, kind="self", date=SELF_DATE)
        scores_set(assessment=extra, by=lead, scores={f"P{1 + n % 3}.1": 1 + n})
    assert redraw() == two
    assert Assessment.objects.filter(plan=other).count() > 2
    assert {k: (v.level, v.kind) for k, v in plan_baseline(plan=other).items()} == {
        k: (v.level, v.kind) for k, v in plan_baseline(plan=plan).items()
    }
