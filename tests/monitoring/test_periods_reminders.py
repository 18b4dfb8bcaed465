"""Beat's progress reminders: focal points and technical leads who still owe reports for an open period due within
PROGRESS_REMINDER_DAYS (or overdue) get one e-mail a day per period, in their language, saying the period, the due
date, how many activities are unreported and where to report; nobody else is reminded, nor anyone who has
reported everything."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from monitoring.models import ProgressReminder, ReportingPeriod
from monitoring.periods import period_close, period_create, period_open, progress_reminders_send
from monitoring.progress import Report, progress_save
from monitoring.tasks import progress_reminders_task
from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.models import Activity, TechnicalArea
from stakeholders.models import PlanMembership

pytestmark = pytest.mark.django_db

SL, SM, TL, FP, RV, VW = (role.value for role in Role)


def area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


def open_period(plan, lead, *, due_in: int, label: str = "2026 Q1", start=datetime.date(2026, 1, 1)) -> ReportingPeriod:
    period = period_create(
        plan=plan,
        by=lead,
        fields={
            "label": label,
            "starts_on": start,
            "ends_on": start + datetime.timedelta(days=89),
            "due_on": max(start, timezone.localdate() + datetime.timedelta(days=due_in)),
        },
    )
    return period_open(period=period, by=lead, version=period.version)


@pytest.fixture
def work(plan, people, moa, moh):
    """The focal point's organization (MOA) runs two activities, one of them in P1; the technical lead leads P1,
    which holds a third activity of MOH."""
    PlanMembership.objects.get(plan=plan, user=people[TL]).technical_areas.add(area("P1"))
    return {
        "moa_p1": Activity.objects.create(
            plan=plan, technical_area=area("P1"), title="A", responsible_organization=moa
        ),
        "moa_d1": Activity.objects.create(
            plan=plan, technical_area=area("D1"), title="B", responsible_organization=moa
        ),
        "moh_p1": Activity.objects.create(
            plan=plan, technical_area=area("P1"), title="C", responsible_organization=moh
        ),
    }


def report(activity, period, user) -> None:
    progress_save(
        activity=activity, period=period, by=user, version=0, report=Report(status="on_track", percent_complete=10)
    )


def test_focal_points_and_technical_leads_are_reminded_once_a_day_in_their_language(
    plan, lead, people, work, mailoutbox, django_capture_on_commit_callbacks
):
    people[FP].language = "fr"
    people[FP].save()
    period = open_period(plan, lead, due_in=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert progress_reminders_task.apply().get() == 2
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted([people[FP].email, people[TL].email])
    french = next(mail for mail in mailoutbox if mail.to == [people[FP].email])
    english = next(mail for mail in mailoutbox if mail.to == [people[TL].email])
    page = reverse("progress_period", kwargs={"plan_id": plan.pk, "period_id": period.pk})  # where to report
    assert "Bonjour" in french.body and page in french.body and "2026 Q1" in french.subject
    assert "Hello" in english.body and page in english.body
    assert "2 activities you report on have no report yet" in english.body  # P1: MOA's and MOH's
    assert period.due_on.strftime("%Y") in english.body
    assert set(ProgressReminder.objects.values_list("user__username", "unreported")) == {(FP, 2), (TL, 2)}

    with django_capture_on_commit_callbacks(execute=True):
        assert progress_reminders_send() == 0, "run again the same day: nobody is reminded twice"
    assert len(mailoutbox) == 2
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert progress_reminders_send(now=tomorrow) == 2
    assert len(mailoutbox) == 4
    assert AuditEvent.objects.filter(plan=plan, action="reminded to report progress").count() == 4


def test_nobody_who_has_reported_everything_is_reminded(
    plan, lead, people, work, mailoutbox, django_capture_on_commit_callbacks
):
    period = open_period(plan, lead, due_in=-3)  # overdue
    report(work["moa_p1"], period, people[FP])
    report(work["moa_d1"], period, people[FP])
    with django_capture_on_commit_callbacks(execute=True):
        assert progress_reminders_send() == 1
    (mail,) = mailoutbox
    assert mail.to == [people[TL].email]
    assert "1 activity you report on has no report yet" in mail.body and "were due on" in mail.body
    assert "Overdue" in mail.subject
    report(work["moh_p1"], period, people[TL])
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert progress_reminders_send(now=tomorrow) == 0


def test_the_secretariat_reviewers_and_viewers_are_never_reminded(
    plan, lead, people, work, mailoutbox, django_capture_on_commit_callbacks
):
    open_period(plan, lead, due_in=0)
    with django_capture_on_commit_callbacks(execute=True):
        progress_reminders_send()
    reminded = {mail.to[0] for mail in mailoutbox}
    assert reminded == {people[FP].email, people[TL].email}
    assert not reminded & {people[role].email for role in (SL, SM, RV, VW)}


def test_periods_due_later_planned_or_closed_remind_nobody(
    plan, lead, people, work, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.PROGRESS_REMINDER_DAYS = 7
    open_period(plan, lead, due_in=8)
    closed = open_period(plan, lead, due_in=-1, label="2026 Q2", start=datetime.date(2026, 4, 1))
    period_close(period=closed, by=lead, version=closed.version)
    period_create(
        plan=plan,
        by=lead,
        fields={
            "label": "2026 Q3",
            "starts_on": datetime.date(2026, 7, 1),
            "ends_on": datetime.date(2026, 9, 30),
            "due_on": datetime.date(2026, 10, 30),
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert progress_reminders_send() == 0
    assert not mailoutbox and not ProgressReminder.objects.exists()
    settings.PROGRESS_REMINDER_DAYS = 8
    with django_capture_on_commit_callbacks(execute=True):
        assert progress_reminders_send() == 2


def test_a_reminder_run_takes_as_many_queries_whatever_the_plans_size(
    plan, lead, people, work, moa, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    open_period(plan, lead, due_in=1)
    with django_capture_on_commit_callbacks(execute=False), CaptureQueriesContext(connection) as small:
        assert progress_reminders_send() == 2
    for number in range(20):
        Activity.objects.create(
            plan=plan, technical_area=area("P1"), title=f"More {number}", responsible_organization=moa
        )
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=False), CaptureQueriesContext(connection) as large:
        assert progress_reminders_send(now=tomorrow) == 2
    assert len(large) == len(small) <= 25  # a few per period, a few per person reminded; none per activity


def test_beat_runs_the_reminders_hourly():
    entry = settings.CELERY_BEAT_SCHEDULE["progress-reminders"]
    assert entry["task"] == "monitoring.tasks.progress_reminders_task"
    assert entry["schedule"] == datetime.timedelta(hours=1)
