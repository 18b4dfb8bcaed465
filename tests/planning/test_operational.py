"""Strategic to operational: an operational plan drawn from a strategic plan's activities."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from naphs.permissions import Role
from planning.models import Activity, Indicator, Plan, TechnicalArea
from planning.operational import activity_placements, operational_activities_add, operational_plan_create
from planning.selectors import plan_overview
from stakeholders.models import PlanMembership

pytestmark = pytest.mark.django_db


def activity(plan, title, *, start=None, end=None, area="P1", indicator="P1.1", **fields):
    created = Activity.objects.create(
        plan=plan, technical_area=TechnicalArea.objects.get(framework=plan.framework, code=area), title=title,
        start_date=start, end_date=end, **fields,
    )  # fmt: skip
    created.indicators.set([Indicator.objects.get(framework=plan.framework, code=indicator)])
    return created


def test_an_operational_plan_draws_chosen_activities_and_keeps_their_origin(plan, people, lead, moh):
    law = activity(
        plan,
        "Revise the public health law",
        start=datetime.date(2026, 3, 1),
        end=datetime.date(2028, 6, 30),
        responsible_organization=moh,
        priority="high",
    )
    training = activity(plan, "Train rapid response teams", area="R1", indicator="R1.1")
    activity(plan, "Not chosen")

    operational = operational_plan_create(
        strategic=plan, by=lead, title="Year one", first_year=2026, last_year=2026, activities=[law, training]
    )

    assert (operational.kind, operational.parent, operational.framework) == ("operational", plan, plan.framework)
    copies = {a.origin_id: a for a in operational.activities.prefetch_related("indicators")}
    assert set(copies) == {law.pk, training.pk}
    drawn = copies[law.pk]
    assert (drawn.title, drawn.priority, drawn.responsible_organization, drawn.status) == (
        law.title,
        "high",
        moh,
        "planned",
    )
    assert (drawn.start_date, drawn.end_date) == (datetime.date(2026, 3, 1), datetime.date(2026, 12, 31))
    assert [i.code for i in drawn.indicators.all()] == ["P1.1"]
    team = dict(PlanMembership.objects.filter(plan=operational).values_list("user__username", "role"))
    assert team == {role: role for role in Role.values}  # the strategic plan's team comes along
    assert activity_placements(plan=plan) == {law.pk: [operational], training.pk: [operational]}


def test_an_activity_cannot_be_drawn_twice_nor_from_another_plan(plan, provincial_plan, lead):
    law = activity(plan, "Revise the public health law")
    operational = operational_plan_create(
        strategic=plan, by=lead, title="Year one", first_year=2026, last_year=2026, activities=[law]
    )
    with pytest.raises(ValidationError, match="Already in this operational plan"):
        operational_activities_add(plan=operational, by=lead, activities=[law])
    provincial_plan.framework = plan.framework
    provincial_plan.save()
    elsewhere = activity(provincial_plan, "Provincial drill")
    with pytest.raises(ValidationError, match="Not activities of"):
        operational_activities_add(plan=operational, by=lead, activities=[elsewhere])
    assert operational.activities.count() == 1


def test_an_operational_plan_outside_its_strategic_years_is_refused_and_nothing_saved(plan, lead):
    law = activity(plan, "Revise the public health law")
    before = Plan.objects.count()
    with pytest.raises(ValidationError) as error:
        operational_plan_create(
            strategic=plan, by=lead, title="Late", first_year=2030, last_year=2031, activities=[law]
        )
    assert "inside its strategic plan" in str(error.value)
    with pytest.raises(ValidationError) as error:
        operational_plan_create(
            strategic=plan, by=lead, title="Long", first_year=2026, last_year=2028, activities=[law]
        )
    assert "12 to 24 months" in str(error.value)
    assert Plan.objects.count() == before


def test_an_activity_wholly_outside_the_operational_years_is_refused(plan, lead):
    late = activity(
        plan, "Build the reference laboratory", start=datetime.date(2029, 1, 1), end=datetime.date(2030, 6, 1)
    )
    before = Plan.objects.count()
    with pytest.raises(ValidationError, match="runs outside 2026–2027"):
        operational_plan_create(
            strategic=plan, by=lead, title="First two years", first_year=2026, last_year=2027, activities=[late]
        )
    assert Plan.objects.count() == before


def test_the_secretariat_opens_an_operational_plan_from_the_page_and_the_table_shows_where_activities_went(
    client, plan, lead, people
):
    law = activity(plan, "Revise the public health law")
    activity(plan, "Left for later")
    client.force_login(lead)

    page = client.get(f"/plans/{plan.pk}/operational/new/")
    assert page.status_code == 200
    assert "Revise the public health law" in page.content.decode()

    refused = client.post(
        f"/plans/{plan.pk}/operational/new/",
        {"title": "Too long", "first_year": 2026, "last_year": 2028, "activities": [law.pk]},
    )
    assert refused.status_code == 422
    assert "12 to 24 months" in refused.content.decode()
    assert not Plan.objects.filter(title="Too long").exists()

    response = client.post(
        f"/plans/{plan.pk}/operational/new/",
        {"title": "Year one", "first_year": 2026, "last_year": 2026, "activities": [law.pk]},
    )
    operational = Plan.objects.get(title="Year one")
    assert response.status_code == 302
    assert response["Location"] == f"/plans/{operational.pk}/"
    table = client.get(f"/plans/{plan.pk}/activities/").content.decode()
    assert "Year one (2026)" in table


def test_only_the_secretariat_draws_operational_plans(client, plan, people):
    client.force_login(people[Role.TECHNICAL_LEAD])
    assert client.get(f"/plans/{plan.pk}/operational/new/").status_code == 403
    client.force_login(people["outsider"])
    assert client.get(f"/plans/{plan.pk}/operational/new/").status_code == 404


def test_an_operational_plan_starts_from_the_strategic_baseline_and_targets_linked_to_their_origin(plan, lead):
    from planning.assessments import assessment_create, scores_set
    from planning.models import Assessment, IndicatorTarget
    from planning.selectors import plan_current_levels
    from planning.targets import target_set

    older = assessment_create(plan=plan, by=lead, framework=plan.framework, kind="self", date=datetime.date(2023, 1, 5))
    scores_set(assessment=older, by=lead, scores={"P1.1": 1})
    latest = assessment_create(
        plan=plan, by=lead, framework=plan.framework, kind="jee", date=datetime.date(2025, 6, 1), source="JEE 2025"
    )
    scores_set(assessment=latest, by=lead, scores={"P1.1": 2, "D1.1": 3})
    for code, level in (("P1.1", 4), ("D1.1", 4)):
        indicator = Indicator.objects.get(framework=plan.framework, code=code)
        target_set(plan=plan, by=lead, indicator=indicator, level=level, justification=f"{code} by 2030.")
    law = activity(plan, "Revise the public health law")

    operational = operational_plan_create(
        strategic=plan, by=lead, title="Year one", first_year=2026, last_year=2026, activities=[law]
    )

    assert plan_current_levels(plan=operational) == plan_current_levels(plan=plan) != {}
    baseline = Assessment.objects.get(plan=operational)  # the latest one only: it is the baseline
    assert (baseline.origin, baseline.kind, baseline.date, baseline.source) == (latest, "jee", latest.date, "JEE 2025")
    drawn = {t.indicator.code: t for t in IndicatorTarget.objects.filter(plan=operational).select_related("origin")}
    assert {code: (t.level, t.justification) for code, t in drawn.items()} == {
        "P1.1": (4, "P1.1 by 2030."),
        "D1.1": (4, "D1.1 by 2030."),
    }
    assert all(t.origin.plan_id == plan.pk and t.origin.indicator_id == t.indicator_id for t in drawn.values())
    overview = {row.area.code: row.figures for row in plan_overview(plan=operational)}
    assert (overview["P1"].current, overview["P1"].target) == (2.0, 4.0)  # as the strategic plan shows P1.1
