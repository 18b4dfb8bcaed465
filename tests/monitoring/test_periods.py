"""Reporting periods: the secretariat generates them over the plan's years and sets them one by one, each checked
against the plan's years and the other periods with a message naming the field; a period opens, closes (after which
no report is taken) and reopens; stale edits are refused; the monitoring home shows each person what is due."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from monitoring.models import ProgressUpdate, ReportingPeriod
from monitoring.periods import (
    Span,
    monitoring_overview,
    period_close,
    period_create,
    period_delete,
    period_open,
    period_reopen,
    period_update,
    periods_generate,
)
from monitoring.progress import Report, progress_save
from naphs.errors import EditConflict
from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.models import Activity, Plan, TechnicalArea
from stakeholders.models import PlanMembership

pytestmark = pytest.mark.django_db

SL, SM, TL, FP, RV, VW = (role.value for role in Role)
D = datetime.date


def area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


def fields(**overrides) -> dict:
    values = {
        "label": "Launch quarter",
        "starts_on": D(2026, 1, 1),
        "ends_on": D(2026, 3, 31),
        "due_on": D(2026, 4, 30),
    }
    values.update(overrides)
    return values


def make_period(plan, lead, *, state: str = "planned", **overrides) -> ReportingPeriod:
    period = period_create(plan=plan, by=lead, fields=fields(**overrides))
    if state in ("open", "closed"):
        period = period_open(period=period, by=lead, version=period.version)
    if state == "closed":
        period = period_close(period=period, by=lead, version=period.version)
    return period


def activity(plan, code: str = "P1", organization=None, title: str = "") -> Activity:
    return Activity.objects.create(
        plan=plan,
        technical_area=area(code),
        title=title or f"Activity in {code}",
        responsible_organization=organization,
    )


def report(activity_, period, user, version: int = 0) -> ProgressUpdate:
    update, _ = progress_save(
        activity=activity_,
        period=period,
        by=user,
        version=version,
        report=Report(status="on_track", percent_complete=40),
    )
    return update


def signed_in(client, people, role: str):
    client.force_login(people[role])
    return client


# Generating ----------------------------------------------------------------------------------------------------


def test_quarters_are_generated_over_the_plans_years_each_due_thirty_days_after_it_ends(plan, lead):
    added = periods_generate(plan=plan, by=lead)
    assert len(added) == 20  # 2026 to 2030
    periods = list(ReportingPeriod.objects.filter(plan=plan))
    first, second, last = periods[0], periods[1], periods[-1]
    assert (first.label, first.starts_on, first.ends_on, first.due_on) == (
        "2026 Q1",
        D(2026, 1, 1),
        D(2026, 3, 31),
        D(2026, 4, 30),
    )
    assert (second.starts_on, second.ends_on) == (D(2026, 4, 1), D(2026, 6, 30))
    assert (last.label, last.ends_on, last.due_on) == ("2030 Q4", D(2030, 12, 31), D(2031, 1, 30))
    assert {period.state for period in periods} == {"planned"}
    assert AuditEvent.objects.filter(plan=plan, action="created", target_type="reportingperiod").count() == 20


def test_generating_again_adds_only_the_missing_periods_and_keeps_those_set_by_hand(plan, lead):
    custom = make_period(plan, lead, label="Start-up", starts_on=D(2026, 2, 1), ends_on=D(2026, 5, 15))
    added = periods_generate(plan=plan, by=lead, span=Span.QUARTER, due_days=10)
    labels = [period.label for period in added]
    assert "2026 Q1" not in labels and "2026 Q2" not in labels  # they would overlap the period set by hand
    assert len(added) == 18
    assert added[0].due_on == added[0].ends_on + datetime.timedelta(days=10)
    assert periods_generate(plan=plan, by=lead) == []
    assert ReportingPeriod.objects.filter(plan=plan).count() == 19
    custom.refresh_from_db()
    assert custom.label == "Start-up"


@pytest.mark.parametrize(
    ("span", "count", "first_label", "first_end"),
    [(Span.HALF, 10, "2026 H1", D(2026, 6, 30)), (Span.YEAR, 5, "2026", D(2026, 12, 31))],
)
def test_half_years_and_years_are_generated_too(plan, lead, span, count, first_label, first_end):
    added = periods_generate(plan=plan, by=lead, span=span)
    assert len(added) == count
    assert (added[0].label, added[0].ends_on) == (first_label, first_end)


def test_generated_labels_follow_the_language_of_the_person_generating(plan, lead):
    from django.utils import translation

    with translation.override("fr"):
        added = periods_generate(plan=plan, by=lead, span=Span.YEAR)
    assert added[0].label == "2026"  # the format string is a translator's: here the year alone


def test_generating_refuses_an_unknown_span_or_due_days_naming_the_field(plan, lead):
    with pytest.raises(ValidationError) as refused:
        periods_generate(plan=plan, by=lead, span="fortnight", due_days=-1)
    assert set(refused.value.message_dict) == {"span", "due_days"}
    assert not ReportingPeriod.objects.exists()


# Checks ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"starts_on": D(2025, 12, 1)}, "starts_on", "outside the plan's years"),
        ({"ends_on": D(2031, 1, 31)}, "ends_on", "outside the plan's years"),
        ({"ends_on": D(2025, 12, 31)}, "ends_on", "before the first day"),
        ({"due_on": D(2025, 12, 31)}, "due_on", "before the period starts"),
        ({"label": "  "}, "label", "Give the period a name"),
        ({"label": "x" * 61}, "label", "at most 60 characters"),
    ],
)
def test_a_period_is_checked_with_a_message_naming_the_field(plan, lead, overrides, field, words):
    with pytest.raises(ValidationError) as refused:
        period_create(plan=plan, by=lead, fields=fields(**overrides))
    assert words in " ".join(refused.value.message_dict[field])
    assert not ReportingPeriod.objects.exists()
    assert not AuditEvent.objects.filter(target_type="reportingperiod").exists()


def test_periods_do_not_overlap(plan, lead):
    make_period(plan, lead)
    with pytest.raises(ValidationError) as refused:
        period_create(
            plan=plan, by=lead, fields=fields(label="Overlap", starts_on=D(2026, 3, 1), ends_on=D(2026, 4, 30))
        )
    assert "overlap the period Launch quarter" in " ".join(refused.value.message_dict["starts_on"])
    with pytest.raises(ValidationError) as refused:
        period_create(
            plan=plan, by=lead, fields=fields(label="Before", starts_on=D(2026, 1, 1), ends_on=D(2026, 1, 31))
        )
    assert "overlap" in " ".join(refused.value.message_dict["starts_on"])
    period_create(plan=plan, by=lead, fields=fields(label="Next", starts_on=D(2026, 4, 1), ends_on=D(2026, 6, 30)))
    assert ReportingPeriod.objects.count() == 2


def test_an_edit_is_checked_against_the_other_periods_but_not_against_itself(plan, lead):
    period = make_period(plan, lead)
    make_period(plan, lead, label="Q2", starts_on=D(2026, 4, 1), ends_on=D(2026, 6, 30), due_on=D(2026, 7, 30))
    period = period_update(period=period, by=lead, version=period.version, fields=fields(due_on=D(2026, 5, 15)))
    assert period.version == 2 and period.due_on == D(2026, 5, 15)
    with pytest.raises(ValidationError) as refused:
        period_update(period=period, by=lead, version=period.version, fields={"ends_on": D(2026, 4, 15)})
    assert "overlap the period Q2" in " ".join(refused.value.message_dict["ends_on"])
    period.refresh_from_db()
    assert period.ends_on == D(2026, 3, 31) and period.version == 2
    event = AuditEvent.objects.filter(action="changed", target_type="reportingperiod").get()
    assert event.changes == {"due_on": ["2026-04-30", "2026-05-15"]}


def test_a_stale_edit_is_refused(plan, lead, people):
    period = make_period(plan, lead)
    period_update(period=period, by=lead, version=1, fields={"label": "First"})
    with pytest.raises(EditConflict):
        period_update(period=period, by=people[SM], version=1, fields={"label": "Mine"})
    with pytest.raises(EditConflict):
        period_open(period=period, by=people[SM], version=1)
    period.refresh_from_db()
    assert (period.label, period.state, period.version) == ("First", "planned", 2)


def test_the_days_of_a_period_that_holds_reports_stay_as_they_are(plan, lead, people):
    period = make_period(plan, lead, state="open")
    report(activity(plan), period, lead)
    with pytest.raises(ValidationError) as refused:
        period_update(period=period, by=lead, version=period.version, fields={"ends_on": D(2026, 3, 30)})
    assert "Reports were made" in " ".join(refused.value.message_dict["starts_on"])
    period_update(period=period, by=lead, version=period.version, fields={"due_on": D(2026, 5, 31)})


# Deleting ------------------------------------------------------------------------------------------------------


def test_a_planned_period_without_reports_is_deleted_and_an_opened_one_is_kept(plan, lead):
    planned = make_period(plan, lead)
    opened = make_period(plan, lead, state="open", label="Q2", starts_on=D(2026, 4, 1), ends_on=D(2026, 6, 30))
    with pytest.raises(EditConflict):
        period_delete(period=planned, by=lead, version=planned.version + 1)
    period_delete(period=planned, by=lead, version=planned.version)
    assert not ReportingPeriod.objects.filter(pk=planned.pk).exists()
    with pytest.raises(ValidationError, match="only a planned period is deleted"):
        period_delete(period=opened, by=lead, version=opened.version)
    assert ReportingPeriod.objects.filter(pk=opened.pk).exists()
    assert AuditEvent.objects.filter(action="deleted", target_type="reportingperiod").count() == 1


# Opening, closing, reopening -----------------------------------------------------------------------------------


def test_a_period_opens_closes_and_reopens_and_takes_reports_only_while_open(plan, lead, people):
    work = activity(plan)
    period = make_period(plan, lead)
    with pytest.raises(ValidationError, match="not open yet"):
        report(work, period, lead)
    with pytest.raises(ValidationError, match="only an open period is closed"):
        period_close(period=period, by=lead, version=period.version)

    period = period_open(period=period, by=lead, version=period.version)
    assert period.state == "open" and period.opened_at is not None
    update = report(work, period, lead)

    period = period_close(period=period, by=lead, version=period.version)
    assert period.state == "closed" and period.closed_at is not None
    with pytest.raises(ValidationError, match="is closed"):
        report(work, period, lead, version=update.version)
    with pytest.raises(ValidationError, match="only a planned period is opened"):
        period_open(period=period, by=lead, version=period.version)

    period = period_reopen(period=period, by=people[SM], version=period.version)
    assert period.state == "open" and period.closed_at is None
    report(work, period, lead, version=update.version)
    actions = list(
        AuditEvent.objects.filter(target_type="reportingperiod", target_id=period.pk)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "created",
        "opened the reporting period",
        "closed the reporting period",
        "reopened the reporting period",
    ]
    reopened = AuditEvent.objects.get(action="reopened the reporting period")
    assert reopened.actor == people[SM] and reopened.changes == {"state": ["closed", "open"]}


def test_periods_are_managed_while_the_plan_is_endorsed(plan, lead):
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    plan.refresh_from_db()
    assert len(periods_generate(plan=plan, by=lead, span=Span.YEAR)) == 5
    period = ReportingPeriod.objects.filter(plan=plan).first()
    period_open(period=period, by=lead, version=period.version)


# The monitoring home -------------------------------------------------------------------------------------------


@pytest.fixture
def scoped(plan, people, moa, moh):
    """Two activities of the focal point's organization (one in P1), one in P1 of another organization, one in D1;
    the technical lead leads P1."""
    PlanMembership.objects.get(plan=plan, user=people[TL]).technical_areas.add(area("P1"))
    return {
        "moa_p1": activity(plan, "P1", moa, "Train border veterinarians"),
        "moa_d1": activity(plan, "D1", moa, "Equip the veterinary laboratory"),
        "moh_p1": activity(plan, "P1", moh, "Revise the health law"),
        "moh_d2": activity(plan, "D2", moh, "Weekly surveillance reports"),
    }


def test_the_home_counts_each_persons_own_activities_and_the_whole_plan_for_readers(plan, lead, people, scoped):
    today = timezone.localdate()
    period = make_period(
        plan, lead, state="open", starts_on=D(2026, 1, 1), ends_on=D(2026, 3, 31), due_on=today + datetime.timedelta(3)
    )
    report(scoped["moa_p1"], period, people[FP])
    expected = {SL: (4, 1), TL: (2, 1), FP: (2, 1), RV: (4, 1), VW: (4, 1)}
    for role, (activities, reported) in expected.items():
        membership = PlanMembership.objects.get(plan=plan, user=people[role])
        rows, own = monitoring_overview(plan=plan, membership=membership, today=today)
        assert [(row.activities, row.reported, row.days_left) for row in rows] == [(activities, reported, 3)], role
        assert own == (role in (TL, FP))


def test_the_home_page_shows_the_open_period_its_due_date_and_overdue_days(client, plan, lead, people, scoped):
    due = timezone.localdate() - datetime.timedelta(days=2)
    make_period(plan, lead, state="open", due_on=due)
    make_period(plan, lead, label="Planned one", starts_on=D(2026, 4, 1), ends_on=D(2026, 6, 30))
    page = signed_in(client, people, FP).get(reverse("monitoring", kwargs={"plan_id": plan.pk}))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Launch quarter" in text and "Planned one" not in text
    assert "2 days overdue" in text and "Your activities" in text
    page = signed_in(client, people, VW).get(reverse("monitoring", kwargs={"plan_id": plan.pk}))
    assert "Activities of the plan" in page.content.decode()


def test_the_home_page_says_when_no_period_is_open(client, plan, people):
    page = signed_in(client, people, SL).get(reverse("monitoring", kwargs={"plan_id": plan.pk}))
    assert "No reporting period is open" in page.content.decode()
    assert reverse("reporting_periods", kwargs={"plan_id": plan.pk}) in page.content.decode()


def test_the_plan_navigation_leads_to_monitoring_and_the_secretariat_to_the_periods(client, plan, people):
    home = reverse("monitoring", kwargs={"plan_id": plan.pk})
    periods = reverse("reporting_periods", kwargs={"plan_id": plan.pk})
    for role, sees_periods in ((SL, True), (FP, False), (VW, False)):
        text = signed_in(client, people, role).get(reverse("plan_detail", kwargs={"plan_id": plan.pk})).content.decode()
        assert f'href="{home}"' in text
        assert (f'href="{periods}"' in text) == sees_periods, role


def _more(plan, lead, people, moa, count: int) -> None:
    for number in range(count):
        activity(plan, "P1" if number % 2 else "D1", moa, f"More {number}")


def test_the_home_page_runs_a_constant_number_of_queries(
    client, plan, lead, people, moa, scoped, django_assert_max_num_queries
):
    first = make_period(plan, lead, state="open")
    make_period(plan, lead, state="open", label="Q2", starts_on=D(2026, 4, 1), ends_on=D(2026, 6, 30))
    report(scoped["moa_p1"], first, lead)
    url = reverse("monitoring", kwargs={"plan_id": plan.pk})
    for role in (FP, TL, VW):
        browser = signed_in(client, people, role)
        with django_assert_max_num_queries(10):
            assert browser.get(url).status_code == 200
    _more(plan, lead, people, moa, 30)
    for role in (FP, TL, VW):
        browser = signed_in(client, people, role)
        with django_assert_max_num_queries(10):
            assert browser.get(url).status_code == 200


def test_the_periods_page_runs_a_constant_number_of_queries(client, plan, lead, people, django_assert_max_num_queries):
    url = reverse("reporting_periods", kwargs={"plan_id": plan.pk})
    browser = signed_in(client, people, SL)
    make_period(plan, lead)
    with django_assert_max_num_queries(10):
        assert browser.get(url).status_code == 200
    periods_generate(plan=plan, by=lead)
    with django_assert_max_num_queries(10):
        page = browser.get(url)
    assert page.content.decode().count("<tr>") == 21  # the header, the first quarter set by hand and 19 more
