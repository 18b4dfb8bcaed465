"""Draft generation: library actions between current level and target become draft activities, once; advice."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from naphs.models import AuditEvent
from planning.assessments import assessment_create, scores_set
from planning.drafting import (
    MAX_ACTIVITIES_PER_AREA_SHORT_PLAN,
    TITLE_MAX_LENGTH,
    draft_advice,
    draft_generate,
    draft_preview,
)
from planning.libraries import demo_library_load
from planning.models import (
    Activity,
    BenchmarkAction,
    BenchmarkLibrary,
    Framework,
    GeneratedAction,
    Indicator,
    IndicatorTarget,
    Plan,
    TechnicalArea,
)
from planning.targets import target_set

pytestmark = pytest.mark.django_db


def indicator(code: str, framework: str = "JEE3") -> Indicator:
    return Indicator.objects.get(framework__code=framework, code=code)


def area(code: str, framework: str = "JEE3") -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code=framework, code=code)


def score(plan, lead, scores: dict[str, int]) -> None:
    assessment = assessment_create(
        plan=plan, by=lead, framework=plan.framework, kind="jee", date=datetime.date(2025, 6, 1)
    )
    scores_set(assessment=assessment, by=lead, scores=scores)


def target(plan, lead, code: str, level: int) -> None:
    target_set(plan=plan, by=lead, indicator=indicator(code), level=level, justification="Agreed at the workshop.")


def small_library(framework: Framework, name: str = "Small library") -> BenchmarkLibrary:
    """P1.1: one action per level 2 to 5; P1.2: two at level 3; D1.1: one per level 2 to 4."""
    library = BenchmarkLibrary.objects.create(framework=framework, name=name)
    rows = [("P1.1", level, f"P1.1 to level {level}") for level in (2, 3, 4, 5)]
    rows += [("P1.2", 3, "P1.2 first step to 3"), ("P1.2", 3, "P1.2 second step to 3")]
    rows += [("D1.1", level, f"D1.1 to level {level}") for level in (2, 3, 4)]
    for order, (code, level, text) in enumerate(rows, start=1):
        BenchmarkAction.objects.create(
            library=library,
            indicator=Indicator.objects.get(framework=framework, code=code),
            level=level,
            text=text,
            action_types=["training", "planning"],
            order=order,
        )
    return library


@pytest.fixture
def library(jee3) -> BenchmarkLibrary:
    return small_library(jee3)


@pytest.fixture
def scored_plan(plan, lead):
    """P1.1 at 2 aiming for 4; P1.2 at 2 aiming for 3; D1.1 at 1 aiming for 3."""
    score(plan, lead, {"P1.1": 2, "P1.2": 2, "D1.1": 1})
    target(plan, lead, "P1.1", 4)
    target(plan, lead, "P1.2", 3)
    target(plan, lead, "D1.1", 3)
    return plan


def titles(plan) -> list[str]:
    return sorted(Activity.objects.filter(plan=plan).values_list("title", flat=True))


def test_generation_adds_exactly_the_actions_between_current_level_and_target_of_the_selected_areas(
    scored_plan, lead, library
):
    result = draft_generate(plan=scored_plan, by=lead, library=library, technical_areas=[area("P1")])

    assert titles(scored_plan) == [
        "P1.1 to level 3",
        "P1.1 to level 4",
        "P1.2 first step to 3",
        "P1.2 second step to 3",
    ]  # not P1.1's level 2 (reached) nor 5 (beyond the target), nothing of D1 (not selected)
    assert result.added == 4 and result.by_area == {area("P1").pk: 4}
    activity = Activity.objects.get(plan=scored_plan, title="P1.1 to level 3")
    assert activity.source == Activity.Source.BENCHMARK
    assert activity.benchmark_action == BenchmarkAction.objects.get(library=library, text="P1.1 to level 3")
    assert activity.technical_area == area("P1")
    assert list(activity.indicators.all()) == [indicator("P1.1")]
    assert activity.action_type == "training"  # the action's first type
    assert (activity.status, activity.implementation_level) == (Activity.Status.DRAFT, Activity.Level.NATIONAL)
    assert (activity.sectors, activity.hazards, activity.description) == ([], [], "")
    assert GeneratedAction.objects.filter(plan=scored_plan).count() == 4
    event = AuditEvent.objects.get(plan=scored_plan, action="generated draft activities of")
    assert event.changes["activities"] == [None, 4] and event.changes["technical_areas"] == ["P1"]
    assert event.actor == lead


def test_regenerating_after_raising_a_target_adds_only_the_new_levels_actions(scored_plan, lead, library):
    draft_generate(plan=scored_plan, by=lead, library=library, technical_areas=[area("P1"), area("D1")])
    before = Activity.objects.filter(plan=scored_plan).count()
    assert before == 6

    again = draft_generate(plan=scored_plan, by=lead, library=library, technical_areas=[area("P1"), area("D1")])
    assert again.added == 0 and again.already_generated == 6
    assert Activity.objects.filter(plan=scored_plan).count() == before

    target(scored_plan, lead, "P1.1", 5)
    raised = draft_generate(plan=scored_plan, by=lead, library=library, technical_areas=[area("P1"), area("D1")])

    assert raised.added == 1
    assert [a.title for a in raised.activities] == ["P1.1 to level 5"]
    assert Activity.objects.filter(plan=scored_plan).count() == before + 1
    assert Activity.objects.filter(plan=scored_plan, title="P1.1 to level 5").count() == 1


def test_an_edited_activity_is_not_overwritten_and_a_deleted_one_is_not_added_again(scored_plan, lead, library):
    draft_generate(plan=scored_plan, by=lead, library=library, technical_areas=[area("P1")])
    edited = Activity.objects.get(plan=scored_plan, title="P1.1 to level 3")
    Activity.objects.filter(pk=edited.pk).update(title="Amend the public health act", priority="high")
    Activity.objects.filter(plan=scored_plan, title="P1.1 to level 4").delete()
    target(scored_plan, lead, "P1.2", 4)  # a change that brings nothing new from this library

    result = draft_generate(plan=scored_plan, by=lead, library=library, technical_areas=[area("P1")])

    assert result.added == 0
    assert titles(scored_plan) == ["Amend the public health act", "P1.2 first step to 3", "P1.2 second step to 3"]
    edited.refresh_from_db()
    assert (edited.title, edited.priority, edited.version) == ("Amend the public health act", "high", 1)


def test_a_library_of_another_framework_is_refused_and_nothing_is_saved(scored_plan, lead):
    spar_library = small_library_spar()
    with pytest.raises(ValidationError) as error:
        draft_generate(plan=scored_plan, by=lead, library=spar_library, technical_areas=[area("P1")])
    assert "another framework" in error.value.message_dict["library"][0]
    assert not Activity.objects.exists() and not GeneratedAction.objects.exists()
    assert not AuditEvent.objects.filter(action="generated draft activities of").exists()


def small_library_spar() -> BenchmarkLibrary:
    spar = Framework.objects.get(code="SPAR2")
    library = BenchmarkLibrary.objects.create(framework=spar, name="SPAR library")
    BenchmarkAction.objects.create(
        library=library, indicator=indicator("C1.1", "SPAR2"), level=3, text="Review laws", action_types=["planning"]
    )
    return library


def test_areas_of_another_framework_or_none_are_refused(scored_plan, lead, library):
    with pytest.raises(ValidationError) as error:
        draft_generate(plan=scored_plan, by=lead, library=library, technical_areas=[area("C1", "SPAR2")])
    assert "C1" in error.value.message_dict["technical_areas"][0]
    with pytest.raises(ValidationError):
        draft_generate(plan=scored_plan, by=lead, library=library, technical_areas=[])
    assert not Activity.objects.exists()


def test_indicators_without_a_current_level_or_a_target_are_skipped_and_reported(plan, lead, library):
    score(plan, lead, {"P1.1": 2, "P1.2": 2})  # nothing of D1 is scored
    target(plan, lead, "P1.1", 3)  # P1.2 scored but without a target
    target(plan, lead, "D1.1", 4)  # a target without a current level

    result = draft_generate(plan=plan, by=lead, library=library, technical_areas=[area("P1"), area("D1")])

    assert titles(plan) == ["P1.1 to level 3"]
    assert [i.code for i in result.no_target] == ["P1.2"]
    d1_codes = list(
        Indicator.objects.filter(technical_area=area("D1")).order_by("order").values_list("code", flat=True)
    )
    assert [i.code for i in result.no_score] == d1_codes and "D1.1" in d1_codes
    assert "P1.2" in result.summary() and "without a target" in result.summary()
    event = AuditEvent.objects.get(action="generated draft activities of")
    assert event.changes["skipped_no_target"] == ["P1.2"]


def test_a_long_action_text_is_trimmed_into_the_title_and_kept_whole_in_the_description(plan, lead, jee3):
    score(plan, lead, {"P1.1": 1})
    target(plan, lead, "P1.1", 2)
    library = BenchmarkLibrary.objects.create(framework=jee3, name="Wordy")
    text = "Convene the ministries concerned " * 20
    BenchmarkAction.objects.create(
        library=library, indicator=indicator("P1.1"), level=2, text=text, action_types=["coordination"]
    )

    draft_generate(plan=plan, by=lead, library=library, technical_areas=[area("P1")])

    activity = Activity.objects.get(plan=plan)
    assert len(activity.title) == TITLE_MAX_LENGTH and activity.title.endswith("…")
    assert activity.description == text


def test_the_preview_counts_what_generation_would_add_without_adding_it(scored_plan, lead, library):
    preview = draft_preview(plan=scored_plan, library=library, technical_areas=[area("P1"), area("D1")])
    assert preview.by_area == {area("P1").pk: 4, area("D1").pk: 2}
    assert not Activity.objects.exists()
    assert (
        draft_generate(plan=scored_plan, by=lead, library=library, technical_areas=[area("P1"), area("D1")]).by_area
        == preview.by_area
    )


def test_generating_the_whole_framework_from_the_demo_library_runs_a_constant_number_of_queries(
    plan, lead, jee3, django_assert_max_num_queries
):
    library, _ = demo_library_load(framework=jee3)
    codes = list(Indicator.objects.filter(framework=jee3).values_list("code", flat=True))
    score(plan, lead, dict.fromkeys(codes, 1))
    IndicatorTarget.objects.bulk_create(
        IndicatorTarget(plan=plan, indicator=i, level=5) for i in Indicator.objects.filter(framework=jee3)
    )
    areas = list(TechnicalArea.objects.filter(framework=jee3))

    # savepoint, plan lock, scores (1-2), targets, indicators, actions, generated, 3 bulk inserts, audit, whether
    # the plan's monitoring has begun (planning.hooks.activities_added), release
    with django_assert_max_num_queries(14):
        result = draft_generate(plan=plan, by=lead, library=library, technical_areas=areas)

    assert result.added == library.actions.count() == Activity.objects.filter(plan=plan).count()
    assert Activity.indicators.through.objects.filter(activity__plan=plan).count() == result.added
    with django_assert_max_num_queries(4):
        draft_advice(plan=plan)


def short_plan(country, jee3) -> Plan:
    return Plan.objects.create(
        jurisdiction=country,
        title="Operational 2026",
        kind="operational",
        first_year=2026,
        last_year=2026,
        framework=jee3,
    )


def test_advice_warns_of_crowded_areas_in_a_short_plan_only(plan, country, jee3, lead, moh):
    year_plan = short_plan(country, jee3)
    for each in (plan, year_plan):
        Activity.objects.bulk_create(
            Activity(plan=each, technical_area=area("P1"), title=f"Activity {n}", responsible_organization=moh)
            for n in range(MAX_ACTIVITIES_PER_AREA_SHORT_PLAN + 1)
        )
        Activity.objects.bulk_create(
            Activity(plan=each, technical_area=area("D1"), title=f"Activity {n}", responsible_organization=moh)
            for n in range(MAX_ACTIVITIES_PER_AREA_SHORT_PLAN)
        )

    advice = draft_advice(plan=year_plan)
    assert len(advice) == 1
    assert f"More than {MAX_ACTIVITIES_PER_AREA_SHORT_PLAN} activities" in advice[0]
    assert "P1 (16)" in advice[0] and "D1" not in advice[0] and "one-year" in advice[0]
    assert draft_advice(plan=plan) == []  # a five-year plan may carry more


def test_advice_counts_activities_without_a_responsible_organization_the_high_priority_ones_first(plan, moh):
    Activity.objects.create(plan=plan, technical_area=area("P1"), title="a")
    assert draft_advice(plan=plan) == [
        "1 activity has no responsible organization: name who leads it (the activity table filters them: "
        "“No responsible organization”)."
    ]
    Activity.objects.create(plan=plan, technical_area=area("D1"), title="b")
    assert draft_advice(plan=plan)[0].startswith("2 activities have no responsible organization: name who leads each")
    Activity.objects.filter(title="b").update(priority="high")
    assert draft_advice(plan=plan) == [  # the general advice gives way to the more pressing one
        "1 high-priority activity has no responsible organization: name who leads it, or it is unlikely to happen."
    ]


def test_advice_counts_high_priority_activities_without_a_responsible_organization(plan, moh):
    Activity.objects.create(plan=plan, technical_area=area("P1"), title="a", priority="high")
    Activity.objects.create(plan=plan, technical_area=area("P1"), title="b", priority="high")
    Activity.objects.create(
        plan=plan, technical_area=area("P1"), title="c", priority="high", responsible_organization=moh
    )
    Activity.objects.create(plan=plan, technical_area=area("P1"), title="d", priority="low")

    assert draft_advice(plan=plan) == [
        "2 high-priority activities have no responsible organization: name who leads each, or they are unlikely to "
        "happen."
    ]


def test_advice_names_areas_with_a_gap_to_close_but_no_activities(plan, lead, moh):
    score(plan, lead, {"P1.1": 2, "D1.1": 3, "R1.1": 4})
    target(plan, lead, "P1.1", 4)
    target(plan, lead, "D1.1", 4)
    target(plan, lead, "R1.1", 4)  # no gap: no advice
    Activity.objects.create(
        plan=plan, technical_area=area("P1"), title="Something for P1", responsible_organization=moh
    )

    advice = draft_advice(plan=plan)

    assert len(advice) == 1 and "but no activities: D1." in advice[0]
