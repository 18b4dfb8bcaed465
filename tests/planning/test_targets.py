"""Targets: defaulted by the plan's horizon from the current levels, then set by people with a reason."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from naphs.errors import EditConflict
from naphs.models import AuditEvent
from planning.assessments import assessment_create, scores_set
from planning.models import Framework, Indicator, IndicatorTarget, Plan
from planning.targets import (
    TargetChange,
    TargetsRefused,
    target_default,
    target_set,
    targets_fill_defaults,
    targets_set,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("current", "years", "expected"),
    [(1, 5, 4), (2, 5, 4), (3, 5, 4), (4, 5, 5), (5, 5, 5), (1, 1, 2), (3, 2, 4), (4, 1, 5), (5, 2, 5)],
)
def test_the_default_target_follows_the_plans_horizon(current, years, expected):
    assert target_default(current=current, years=years) == expected


def scored(plan, lead, scores, framework=None):
    assessment = assessment_create(
        plan=plan, by=lead, framework=framework or plan.framework, kind="jee", date=datetime.date(2025, 6, 1)
    )
    scores_set(assessment=assessment, by=lead, scores=scores)
    return assessment


def targets_of(plan) -> dict[str, int]:
    return dict(IndicatorTarget.objects.filter(plan=plan).values_list("indicator__code", "level"))


def test_defaults_fill_scored_indicators_and_never_overwrite_a_target_people_set(plan, lead):
    scored(plan, lead, {"P1.1": 2, "P1.2": 4, "D1.1": 5})
    target_set(
        plan=plan,
        by=lead,
        indicator=Indicator.objects.get(framework=plan.framework, code="P1.1"),
        level=3,
        justification="Legal reform takes longer than the plan.",
    )

    created = targets_fill_defaults(plan=plan, by=lead)

    assert len(created) == 2
    assert targets_of(plan) == {"P1.1": 3, "P1.2": 5, "D1.1": 5}
    assert targets_fill_defaults(plan=plan, by=lead) == []
    assert AuditEvent.objects.filter(plan=plan, action="set default targets of").count() == 1


def test_a_one_year_plan_aims_one_level_up(country, lead, jee3):
    plan = Plan.objects.create(
        jurisdiction=country, title="Year plan", kind="operational", first_year=2026, last_year=2026, framework=jee3
    )
    scored(plan, lead, {"P1.1": 2, "P1.2": 5})
    targets_fill_defaults(plan=plan, by=lead)
    assert targets_of(plan) == {"P1.1": 3, "P1.2": 5}


def test_spar_scores_set_jee_targets_through_the_crosswalk(plan, lead):
    scored(plan, lead, {"C1.1": 3, "C2.3": 2, "C7.1": 4}, framework=Framework.objects.get(code="SPAR2"))
    targets_fill_defaults(plan=plan, by=lead)
    targets = targets_of(plan)
    assert targets["P1.1"] == 4  # from C1.1 = 3
    assert targets["P3.3"] == 4  # from the lowest of C2.3 = 2 and C7.1 = 4


def test_setting_a_target_needs_a_reason_a_valid_level_and_the_latest_version(plan, lead):
    indicator = Indicator.objects.get(framework=plan.framework, code="P2.1")
    with pytest.raises(ValidationError) as error:
        target_set(plan=plan, by=lead, indicator=indicator, level=4, justification="  ")
    assert "justification" in error.value.message_dict
    for bad in (0, 6):
        with pytest.raises(ValidationError):
            target_set(plan=plan, by=lead, indicator=indicator, level=bad, justification="Why not")
    assert not IndicatorTarget.objects.exists()

    target = target_set(plan=plan, by=lead, indicator=indicator, level=4, justification="Budget law in 2027.")
    target_set(plan=plan, by=lead, indicator=indicator, level=5, justification="Now funded.", version=target.version)
    with pytest.raises(EditConflict):
        target_set(plan=plan, by=lead, indicator=indicator, level=3, justification="Stale", version=target.version)
    stored = IndicatorTarget.objects.get()
    assert (stored.level, stored.justification) == (5, "Now funded.")


def test_an_indicator_of_another_framework_cannot_be_a_target(plan, lead):
    spar = Indicator.objects.get(framework__code="SPAR2", code="C1.1")
    with pytest.raises(ValidationError) as error:
        target_set(plan=plan, by=lead, indicator=spar, level=4, justification="Wrong framework")
    assert "C1.1" in error.value.message_dict["indicator"][0]


def test_a_target_below_the_current_level_is_refused_and_one_at_it_kept(plan, lead):
    scored(plan, lead, {"P1.1": 3})
    indicator = Indicator.objects.get(framework=plan.framework, code="P1.1")
    with pytest.raises(ValidationError) as error:
        target_set(plan=plan, by=lead, indicator=indicator, level=2, justification="Cheaper.")
    assert "The current level of P1.1 is 3" in error.value.message_dict["level"][0]
    assert not IndicatorTarget.objects.exists()
    target_set(plan=plan, by=lead, indicator=indicator, level=3, justification="Keep what we have.")
    assert targets_of(plan) == {"P1.1": 3}


def test_several_targets_are_set_all_or_nothing(plan, lead):
    scored(plan, lead, {"P1.1": 3, "P1.2": 2})
    p11, p12 = (Indicator.objects.get(framework=plan.framework, code=code) for code in ("P1.1", "P1.2"))
    with pytest.raises(TargetsRefused) as refused:
        targets_set(
            plan=plan,
            by=lead,
            changes=[
                TargetChange(indicator=p12, level=4, justification="Funded.", version=0),
                TargetChange(indicator=p11, level=1, justification="Lower.", version=0),
            ],
        )
    assert set(refused.value.refusals) == {p11.pk}
    assert not IndicatorTarget.objects.exists()
    saved = targets_set(
        plan=plan,
        by=lead,
        changes=[
            TargetChange(indicator=p12, level=4, justification="Funded.", version=0),
            TargetChange(indicator=p11, level=4, justification="Funded too.", version=0),
        ],
    )
    assert len(saved) == 2 and targets_of(plan) == {"P1.1": 4, "P1.2": 4}
