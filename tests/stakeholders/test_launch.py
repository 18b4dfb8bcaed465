"""The launch checklist and launching: the figures of a realistic small plan, the refusals (not endorsed, items not
confirmed, a future date, another plan's event, twice), the first reporting period opened (quarters generated when
the plan has none), a failing receiver undoing the launch, the page and its query count."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from monitoring.models import ReportingPeriod
from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.models import Activity
from stakeholders import hooks
from stakeholders.launch import PlanNotEndorsed, launch_checklist, plan_launch
from stakeholders.models import Advocacy, EngagementEvent, Launch, Stakeholder
from tests.monitoring.progress_fixtures import make_period
from tests.stakeholders.launch_fixtures import UNMET, area, endorse, launch_scene

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today


@pytest.fixture
def scene(plan, lead, moh, moa):
    return launch_scene(plan, lead, moh, moa)


def items_by_key(plan) -> dict:
    return {item.key: item for item in launch_checklist(plan)}


def confirm_all() -> dict[str, str]:
    return dict.fromkeys(UNMET, "Agreed at the validation workshop")


def test_the_checklist_states_each_figure_of_the_plan_in_order(scene, lead):
    endorse(scene.plan, lead)
    items = launch_checklist(scene.plan)
    assert [item.key for item in items] == ["endorsed", *UNMET]
    found = {item.key: item for item in items}
    assert found["endorsed"].met and "Version 1" in found["endorsed"].detail
    assert "Minister of Health" in found["endorsed"].detail
    assert found["costed"].detail == "3 of 4 activities costed (75%)."
    assert not found["costed"].met
    funding = found["funding"]
    assert not funding.met
    assert "1,550.00 USD identified" in funding.detail  # 1 000 committed + 500 EUR pledged at 1.10
    assert "1,000.00 USD committed or disbursed, 550.00 USD pledged" in funding.detail
    assert "of a cost of 5,250.00 USD." in funding.detail
    # The gap as the costing dashboard counts it: the pledge is not money yet.
    assert funding.detail.endswith("as on the costing dashboard: 4,250.00 USD.")
    advocacy = found["advocacy"]
    assert not advocacy.met
    assert "P2 Financing, R1 Health Emergency Management, P1 Legal Instruments" in advocacy.detail  # largest first
    assert advocacy.detail.endswith("no active advocacy plan: P1 Legal Instruments.")  # its advocacy was dropped
    assert found["responsible"].detail == "1 activity of 4 has no responsible organization."
    assert "no_responsible_organization=on" in found["responsible"].url
    coverage = found["coverage"]
    assert coverage.detail.endswith("no engaged stakeholder: P1 Legal Instruments, D1 National Laboratory System.")
    assert found["funding"].url == reverse("funding", kwargs={"plan_id": scene.plan.pk})
    assert found["advocacy"].url == reverse("advocacy_list", kwargs={"plan_id": scene.plan.pk})


def test_every_item_is_met_once_the_plan_is_ready(scene, lead, moh):
    from costing.models import FundingCommitment
    from costing.rollups import plan_rollup
    from costing.services import cost_line_create
    from tests.stakeholders.launch_fixtures import line_fields

    plan = scene.plan
    Activity.objects.filter(pk=scene.laboratory.pk).update(responsible_organization=moh)
    cost_line_create(activity=scene.laboratory, by=lead, fields=line_fields(), frequencies={2026: 1})
    FundingCommitment.objects.create(
        plan=plan,
        source_organization=moh,
        source_kind="government",
        amount="10000.00",
        currency="USD",
        first_year=2026,
        last_year=2027,
        status=FundingCommitment.Status.DISBURSED,
        technical_area=area("D1"),
    )
    plan_rollup(plan_id=plan.pk)
    Stakeholder.objects.filter(plan=plan).update(relationship=Stakeholder.Relationship.COLLABORATING)
    Advocacy.objects.filter(plan=plan, title="Law").update(status=Advocacy.Status.PLANNED)
    endorse(plan, lead)
    found = items_by_key(plan)
    assert all(item.met for item in found.values()), [item for item in found.values() if not item.met]
    assert found["costed"].detail == "4 of 4 activities costed (100%)."
    assert found["responsible"].detail == "All 4 activities have a responsible organization."
    # Disbursed funding covers D1 but not the other areas' gaps: the advocacy item still ranks them.
    assert "P2 Financing" in found["advocacy"].detail
    launch = plan_launch(plan=plan, by=lead, launched_on=TODAY(), event=scene.launch_event)
    assert all(item["met"] and not item["confirmed"] for item in launch.checklist)


def test_the_checklist_runs_in_a_constant_number_of_queries(scene, lead, moh, django_assert_max_num_queries):
    from costing.services import cost_line_create
    from tests.stakeholders.launch_fixtures import line_fields

    plan = scene.plan  # a draft: the endorsement is read in one more query, whatever the plan's size
    with django_assert_max_num_queries(20) as few:
        launch_checklist(plan)
    for number in range(30):
        activity = Activity.objects.create(
            plan=plan, technical_area=area("R1"), title=f"Exercise {number}", responsible_organization=moh
        )
        cost_line_create(activity=activity, by=lead, fields=line_fields(), frequencies={2026: 1})
    plan = type(plan).objects.get(pk=plan.pk)
    with django_assert_max_num_queries(len(few.captured_queries)):
        launch_checklist(plan)


def test_a_plan_not_endorsed_is_not_launched(scene, lead):
    with pytest.raises(PlanNotEndorsed) as refused:
        plan_launch(plan=scene.plan, by=lead, launched_on=TODAY(), confirmed=confirm_all())
    assert refused.value.code == "plan_not_endorsed"
    assert "“Draft”" in refused.value.messages[0]
    assert not Launch.objects.exists()
    assert not ReportingPeriod.objects.filter(plan=scene.plan).exists()


def test_items_not_met_must_each_be_confirmed(scene, lead):
    endorse(scene.plan, lead)
    confirmed = confirm_all()
    del confirmed["advocacy"], confirmed["coverage"]
    with pytest.raises(ValidationError) as refused:
        plan_launch(plan=scene.plan, by=lead, launched_on=TODAY(), confirmed=confirmed)
    [message] = refused.value.message_dict["confirm"]
    assert "Advocacy plans for the largest gaps (advocacy)" in message
    assert "Stakeholder coverage of all areas (coverage)" in message
    assert "costed" not in message
    with pytest.raises(ValidationError) as unknown:
        plan_launch(plan=scene.plan, by=lead, launched_on=TODAY(), confirmed={**confirm_all(), "weather": ""})
    assert "weather" in unknown.value.message_dict["confirm"][0]
    assert not Launch.objects.exists()
    assert not ReportingPeriod.objects.filter(plan=scene.plan).exists()


def test_a_launch_date_in_the_future_or_before_the_endorsement_is_refused(scene, lead):
    endorse(scene.plan, lead, days_ago=10)
    tomorrow = TODAY() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as future:
        plan_launch(plan=scene.plan, by=lead, launched_on=tomorrow, confirmed=confirm_all())
    assert "is in the future" in future.value.message_dict["launched_on"][0]
    with pytest.raises(ValidationError) as early:
        plan_launch(
            plan=scene.plan, by=lead, launched_on=TODAY() - datetime.timedelta(days=11), confirmed=confirm_all()
        )
    assert "before it was endorsed" in early.value.message_dict["launched_on"][0]
    assert not Launch.objects.exists()
    past = plan_launch(
        plan=scene.plan, by=lead, launched_on=TODAY() - datetime.timedelta(days=3), confirmed=confirm_all()
    )
    assert past.launched_on == TODAY() - datetime.timedelta(days=3)


def test_another_plans_event_is_refused(scene, lead, provincial_plan):
    endorse(scene.plan, lead)
    elsewhere = EngagementEvent.objects.create(
        plan=provincial_plan, kind="launch", title="Provincial launch", starts_on=TODAY(), ends_on=TODAY()
    )
    with pytest.raises(ValidationError) as refused:
        plan_launch(plan=scene.plan, by=lead, launched_on=TODAY(), event=elsewhere, confirmed=confirm_all())
    assert refused.value.message_dict["event"] == ["“Provincial launch” is not an event of this plan."]
    assert not Launch.objects.exists()


def test_a_version_is_launched_once(scene, lead, people):
    endorse(scene.plan, lead)
    first = plan_launch(plan=scene.plan, by=lead, launched_on=TODAY(), confirmed=confirm_all())
    with pytest.raises(ValidationError) as twice:
        plan_launch(plan=scene.plan, by=people[Role.SECRETARIAT_MEMBER], launched_on=TODAY(), confirmed=confirm_all())
    assert twice.value.code == "launched_already"
    assert "launched already on" in twice.value.messages[0]
    assert list(Launch.objects.all()) == [first]
    assert ReportingPeriod.objects.filter(plan=scene.plan, state=ReportingPeriod.State.OPEN).count() == 1


def test_only_the_secretariat_launches(scene, lead, people):
    from django.core.exceptions import PermissionDenied

    endorse(scene.plan, lead)
    with pytest.raises(PermissionDenied):
        plan_launch(plan=scene.plan, by=people[Role.TECHNICAL_LEAD], launched_on=TODAY(), confirmed=confirm_all())
    assert not Launch.objects.exists()


def test_launching_records_the_checklist_and_opens_the_first_planned_period(scene, lead):
    plan = scene.plan
    later = make_period(plan, label="2026 Q2", month=4, state=ReportingPeriod.State.PLANNED)
    first = make_period(plan, label="2026 Q1", month=1, state=ReportingPeriod.State.PLANNED)
    endorse(plan, lead)
    launch = plan_launch(
        plan=plan,
        by=lead,
        launched_on=TODAY(),
        event=scene.launch_event,
        notes="Launched by the Prime Minister",
        confirmed={**confirm_all(), "coverage": "Agriculture joins next quarter"},
    )
    launch.refresh_from_db()
    assert (launch.number, launch.event, launch.launched_by) == (1, scene.launch_event, lead)
    assert launch.notes == "Launched by the Prime Minister"
    stood = {item["key"]: item for item in launch.checklist}
    assert stood["endorsed"]["met"] and not stood["endorsed"]["confirmed"]
    assert stood["coverage"]["confirmed"] and stood["coverage"]["note"] == "Agriculture joins next quarter"
    assert stood["costed"]["detail"] == "3 of 4 activities costed (75%)."
    first.refresh_from_db()
    later.refresh_from_db()
    assert first.state == ReportingPeriod.State.OPEN and later.state == ReportingPeriod.State.PLANNED
    assert launch.opened["period"]["id"] == first.pk
    assert launch.opened["period"]["url"] == reverse(
        "progress_period", kwargs={"plan_id": plan.pk, "period_id": first.pk}
    )
    actions = set(AuditEvent.objects.filter(plan=plan).values_list("action", "target_type"))
    assert ("created", "launch") in actions
    assert ("opened the reporting period", "reportingperiod") in actions


def test_launching_a_plan_without_periods_generates_its_quarters_and_opens_the_first(scene, lead):
    plan = scene.plan
    endorse(plan, lead)
    launch = plan_launch(plan=plan, by=lead, launched_on=TODAY(), confirmed=confirm_all())
    periods = list(ReportingPeriod.objects.filter(plan=plan).order_by("starts_on"))
    assert len(periods) == 20  # five years of quarters
    assert [period.state for period in periods[:2]] == [ReportingPeriod.State.OPEN, ReportingPeriod.State.PLANNED]
    assert periods[0].starts_on == datetime.date(2026, 1, 1)
    assert launch.opened["period"]["generated"] == 20
    assert launch.opened["period"]["label"] == periods[0].label


def test_a_period_open_already_is_kept_and_named(scene, lead):
    plan = scene.plan
    opened = make_period(plan, label="2026 Q1", month=1, state=ReportingPeriod.State.OPEN)
    planned = make_period(plan, label="2026 Q2", month=4, state=ReportingPeriod.State.PLANNED)
    endorse(plan, lead)
    launch = plan_launch(plan=plan, by=lead, launched_on=TODAY(), confirmed=confirm_all())
    planned.refresh_from_db()
    assert planned.state == ReportingPeriod.State.PLANNED
    assert launch.opened["period"]["id"] == opened.pk and launch.opened["period"]["already_open"]


def test_a_failing_receiver_undoes_the_launch(scene, lead):
    plan = scene.plan
    endorse(plan, lead)

    def broken(plan, by, launch):
        raise ValidationError("The monitoring service is away.")

    hooks.plan_launched.connect(broken)
    try:
        with pytest.raises(ValidationError, match="away"):
            plan_launch(plan=plan, by=lead, launched_on=TODAY(), confirmed=confirm_all())
    finally:
        hooks.plan_launched.receivers.remove(broken)
    assert not Launch.objects.exists()
    assert not ReportingPeriod.objects.filter(plan=plan).exists()  # the quarters generated are undone too
    assert not AuditEvent.objects.filter(plan=plan, target_type__in=["launch", "reportingperiod"]).exists()


# --- The page ----------------------------------------------------------------------------------------------------


def page(plan) -> str:
    return reverse("plan_launch", kwargs={"plan_id": plan.pk})


def form(scene, **overrides) -> dict:
    data = {"launched_on": TODAY().isoformat(), "event": scene.launch_event.pk, "notes": "Launched"}
    for key in UNMET:
        data[f"confirm_{key}"] = "on"
        data[f"note_{key}"] = ""
    data.update(overrides)
    return data


def test_every_member_reads_the_checklist_and_only_the_secretariat_sees_the_form(client, scene, lead, people):
    endorse(scene.plan, lead)
    client.force_login(people[Role.REVIEWER])
    response = client.get(page(scene.plan))
    assert response.status_code == 200
    body = response.content.decode()
    assert "3 of 4 activities costed (75%)." in body
    assert 'id="launch-form"' not in body
    client.force_login(people[Role.SECRETARIAT_MEMBER])
    body = client.get(page(scene.plan)).content.decode()
    assert 'id="launch-form"' in body
    # The launch event is suggested first among the plan's events.
    assert body.index("Launch ceremony") < body.index("Validation workshop")
    assert client.post(page(scene.plan), form(scene)).status_code == 302


def test_the_page_refuses_unconfirmed_items_and_saves_nothing(client, scene, lead):
    endorse(scene.plan, lead)
    client.force_login(lead)
    response = client.post(page(scene.plan), form(scene, confirm_funding="", confirm_advocacy=""))
    assert response.status_code == 422
    body = response.content.decode()
    assert "Funding identified against the cost (funding)" in body
    assert "Advocacy plans for the largest gaps (advocacy)" in body
    assert not Launch.objects.exists()


def test_the_page_refuses_a_plan_not_endorsed_a_future_date_and_another_plans_event(
    client, scene, lead, provincial_plan
):
    client.force_login(lead)
    refused = client.post(page(scene.plan), form(scene))
    assert refused.status_code == 422 and "Only an endorsed plan is launched" in refused.content.decode()
    endorse(scene.plan, lead)
    tomorrow = (TODAY() + datetime.timedelta(days=1)).isoformat()
    future = client.post(page(scene.plan), form(scene, launched_on=tomorrow))
    assert future.status_code == 422 and "is in the future" in future.content.decode()
    elsewhere = EngagementEvent.objects.create(
        plan=provincial_plan, kind="launch", title="Provincial launch", starts_on=TODAY(), ends_on=TODAY()
    )
    other = client.post(page(scene.plan), form(scene, event=elsewhere.pk))
    assert other.status_code == 422 and "Choose one of this plan&#x27;s events." in other.content.decode()
    assert not Launch.objects.exists()


def test_after_the_launch_the_page_and_the_overview_show_it(client, scene, lead):
    endorse(scene.plan, lead)
    client.force_login(lead)
    response = client.post(page(scene.plan), form(scene, note_coverage="Agriculture joins later"), follow=True)
    body = response.content.decode()
    period = ReportingPeriod.objects.get(plan=scene.plan, state=ReportingPeriod.State.OPEN)
    assert f"the reporting period {period.label} is open for reports" in body
    assert "Version 1 launched on" in body
    assert "Launch ceremony" in body
    assert reverse("progress_period", kwargs={"plan_id": scene.plan.pk, "period_id": period.pk}) in body
    assert "Agriculture joins later" in body
    assert "not met, confirmed" in body
    assert 'id="launch-form"' not in body  # launched: no second launch offered
    overview = client.get(reverse("plan_detail", kwargs={"plan_id": scene.plan.pk})).content.decode()
    assert "Version 1 launched on" in overview and page(scene.plan) in overview


def test_the_page_runs_in_a_constant_number_of_queries(client, scene, lead, moh, django_assert_max_num_queries):
    endorse(scene.plan, lead)
    client.force_login(lead)
    client.get(page(scene.plan))
    with django_assert_max_num_queries(40) as few:
        assert client.get(page(scene.plan)).status_code == 200
    for number in range(25):
        Activity.objects.create(
            plan=scene.plan, technical_area=area("R2"), title=f"Drill {number}", responsible_organization=moh
        )
        EngagementEvent.objects.create(
            plan=scene.plan, kind="workshop", title=f"Workshop {number}", starts_on=TODAY(), ends_on=TODAY()
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(page(scene.plan)).status_code == 200
