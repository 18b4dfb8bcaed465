"""Reporting periods: the secretariat sets them within the plan's years (generated as quarters, half-years or years,
or one by one), opens one for reports, closes it and reopens it; who still owes reports is reminded by e-mail.

Every write checks the period whole against the plan's other periods and says what is wrong field by field, refuses
a stale edit (`version`), is audited in its transaction and takes the plan's row for update first, so two people
setting periods at once take turns (no overlap slips between two checks). Closing takes the period's row for update:
it waits for the reports under way (monitoring.progress holds the row while one is saved) and every report after it
is refused. Periods are the secretariat's to manage (Permission.MANAGE), and go on while the plan is endorsed.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext

from monitoring import aggregates
from monitoring.models import ProgressReminder, ProgressUpdate, ReportingPeriod
from naphs.errors import EditConflict
from naphs.languages import person_language
from naphs.mail import mail_send_on_commit
from naphs.permissions import Permission, Role
from naphs.services import audit_record, row_lock
from planning.models import Activity, Plan
from stakeholders.access import activities_reportable_by
from stakeholders.models import PlanMembership

if TYPE_CHECKING:
    from stakeholders.models import User

# What people edit on a period; its state moves through period_open, period_close and period_reopen only.
PERIOD_FIELDS = ("label", "starts_on", "ends_on", "due_on")
DEFAULT_DUE_DAYS = 30
MAX_DUE_DAYS = 365


class Span:
    """How a plan's years are cut into periods when they are generated."""

    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"
    MONTHS = {QUARTER: 3, HALF: 6, YEAR: 12}

    @staticmethod
    def choices() -> list[tuple[str, str]]:
        return [
            (Span.QUARTER, gettext("Quarters")),
            (Span.HALF, gettext("Half-years")),
            (Span.YEAR, gettext("Years")),
        ]


def period_label(span: str, year: int, number: int) -> str:
    """The name of a generated period, in the active language: “2026 Q1”, “2026 H2”, “2026”."""
    if span == Span.QUARTER:
        # Translators: the name of a calendar quarter, e.g. “2026 Q1”; reorder or rename as your language writes it.
        return pgettext("reporting period", "%(year)s Q%(number)s") % {"year": year, "number": number}
    if span == Span.HALF:
        # Translators: the name of a half-year, e.g. “2026 H1” for January to June.
        return pgettext("reporting period", "%(year)s H%(number)s") % {"year": year, "number": number}
    # Translators: the name of a period that is a whole calendar year, e.g. “2026”.
    return pgettext("reporting period", "%(year)s") % {"year": year}


def _month_end(year: int, month: int) -> datetime.date:
    if month == 12:
        return datetime.date(year, 12, 31)
    return datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)


def period_spans(plan: Plan, span: str) -> list[tuple[str, datetime.date, datetime.date]]:
    """(label, first day, last day) of every calendar period of `span` in the plan's years."""
    months = Span.MONTHS[span]
    spans = []
    for year in range(plan.first_year, plan.last_year + 1):
        for number, first_month in enumerate(range(1, 13, months), start=1):
            last_month = first_month + months - 1
            spans.append(
                (period_label(span, year, number), datetime.date(year, first_month, 1), _month_end(year, last_month))
            )
    return spans


# --- Reads ------------------------------------------------------------------------------------------------------


def periods_for_plan(*, plan: Plan) -> QuerySet[ReportingPeriod]:
    """The plan's periods in time order, each with `report_count`: how many reports it holds."""
    return ReportingPeriod.objects.filter(plan=plan).annotate(report_count=Count("updates")).order_by("starts_on", "pk")


def period_get(*, plan: Plan, period_id: int) -> ReportingPeriod:
    """A period of this plan (404 for any other), with its report count."""
    period = periods_for_plan(plan=plan).filter(pk=period_id).first()
    if period is None:
        raise Http404(gettext("No such reporting period in this plan."))
    period.plan = plan
    return period


@dataclass(frozen=True)
class OpenPeriod:
    """An open period as the monitoring home shows it to one person: the activities in their scope, reported
    or not."""

    period: ReportingPeriod
    days_left: int  # negative once overdue
    activities: int
    reported: int

    @property
    def unreported(self) -> int:
        return self.activities - self.reported

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return -self.days_left


def monitoring_overview(
    *, plan: Plan, membership: PlanMembership, today: datetime.date | None = None
) -> tuple[list[OpenPeriod], bool]:
    """The plan's open periods with, for the person, how many of the activities they report on have been reported
    (the whole plan for those who report on nothing: reviewers and viewers), and whether the counts are theirs
    alone. Three queries, whatever the plan's size."""
    today = today or timezone.localdate()
    own = membership.role_allows(Permission.REPORT_PROGRESS) and not membership.is_secretariat
    scope = Activity.objects.filter(plan=plan)
    if own:
        scope = scope.filter(activities_reportable_by(membership))
    periods = list(ReportingPeriod.objects.filter(plan=plan, state=ReportingPeriod.State.OPEN).order_by("starts_on"))
    if not periods:
        return [], own
    total = scope.count()
    reported = dict(
        ProgressUpdate.objects.filter(period__in=periods, activity__in=scope)
        .values_list("period")
        .annotate(n=Count("pk"))
        .values_list("period", "n")
    )
    return [
        OpenPeriod(
            period=period,
            days_left=(period.due_on - today).days,
            activities=total,
            reported=reported.get(period.pk, 0),
        )
        for period in periods
    ], own


# --- Writes -----------------------------------------------------------------------------------------------------


def _add(errors: dict[str, list[str]], name: str, message: str) -> None:
    errors.setdefault(name, []).append(message)


def _date_text(day: datetime.date) -> str:
    from django.utils.formats import date_format

    return date_format(day, "DATE_FORMAT")


def period_check(period: ReportingPeriod, *, others: QuerySet[ReportingPeriod]) -> None:
    """ValidationError naming each field of `period` that is wrong: the plan's years, the order of its days, its
    due date, and an overlap with one of `others` (the plan's other periods)."""
    plan = period.plan
    errors: dict[str, list[str]] = {}
    period.label = (period.label or "").strip()
    if not period.label:
        _add(errors, "label", gettext("Give the period a name, e.g. “2026 Q1”."))
    for name in ("starts_on", "ends_on", "due_on"):
        if getattr(period, name) is None:
            _add(errors, name, gettext("Enter a date."))
    start, end, due = period.starts_on, period.ends_on, period.due_on
    for name, day in (("starts_on", start), ("ends_on", end)):
        if day is not None and not plan.first_year <= day.year <= plan.last_year:
            _add(
                errors,
                name,
                gettext("%(day)s lies outside the plan's years (%(period)s).")
                % {"day": _date_text(day), "period": plan.period},
            )
    if start is not None and end is not None and end < start:
        _add(
            errors,
            "ends_on",
            gettext("The last day (%(end)s) comes before the first day (%(start)s).")
            % {"end": _date_text(end), "start": _date_text(start)},
        )
    if start is not None and due is not None and due < start:
        _add(
            errors,
            "due_on",
            gettext("Reports cannot be due (%(due)s) before the period starts (%(start)s).")
            % {"due": _date_text(due), "start": _date_text(start)},
        )
    if start is not None and end is not None and end >= start:
        clash = others.filter(starts_on__lte=end, ends_on__gte=start).order_by("starts_on").first()
        if clash is not None:
            _add(
                errors,
                "starts_on" if clash.starts_on <= start else "ends_on",
                gettext("These days overlap the period %(other)s (%(start)s to %(end)s): periods do not overlap.")
                % {"other": clash.label, "start": _date_text(clash.starts_on), "end": _date_text(clash.ends_on)},
            )
    limit = ReportingPeriod._meta.get_field("label").max_length or 0
    if len(period.label) > limit:
        _add(errors, "label", gettext("A period's name has at most %(limit)s characters.") % {"limit": limit})
    if errors:
        raise ValidationError(errors)


def _fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(PERIOD_FIELDS)
    if unknown:
        raise TypeError(f"Reporting periods have no editable field {', '.join(sorted(unknown))}")
    return dict(fields)


def _changes(before: ReportingPeriod, after: ReportingPeriod, names: tuple[str, ...]) -> dict[str, list[Any]]:
    return {
        name: [str(getattr(before, name)), str(getattr(after, name))]
        for name in names
        if getattr(before, name) != getattr(after, name)
    }


@transaction.atomic
def period_create(*, plan: Plan, by: User, fields: Mapping[str, Any]) -> ReportingPeriod:
    """Add one period to the plan, planned. ValidationError by field; nothing saved then."""
    row_lock(plan)
    period = ReportingPeriod(plan=plan, **_fields(fields))
    period_check(period, others=ReportingPeriod.objects.filter(plan=plan))
    period.save()
    audit_record(
        plan=plan,
        by=by,
        action="created",
        target=period,
        changes={name: [None, str(getattr(period, name))] for name in PERIOD_FIELDS},
    )
    aggregates.monitoring_changed(plan.pk)
    return period


@transaction.atomic
def periods_generate(
    *, plan: Plan, by: User, span: str = Span.QUARTER, due_days: int = DEFAULT_DUE_DAYS
) -> list[ReportingPeriod]:
    """Add the calendar periods of `span` in the plan's years that the plan lacks, each due `due_days` after it
    ends (never after the plan's last year is no rule: a last quarter's reports come in the year after). A span
    that overlaps a period the plan has already (set by hand, or of another span) is left out, so generating again
    adds only what is missing. Returns the periods added."""
    errors: dict[str, list[str]] = {}
    if span not in Span.MONTHS:
        _add(errors, "span", gettext("Choose quarters, half-years or years."))
    if not isinstance(due_days, int) or not 0 <= due_days <= MAX_DUE_DAYS:
        _add(
            errors,
            "due_days",
            gettext("Reports are due from 0 to %(maximum)s days after a period ends.") % {"maximum": MAX_DUE_DAYS},
        )
    if errors:
        raise ValidationError(errors)
    row_lock(plan)
    existing = list(ReportingPeriod.objects.filter(plan=plan).values_list("starts_on", "ends_on"))
    added = []
    for label, start, end in period_spans(plan, span):
        if any(other_start <= end and other_end >= start for other_start, other_end in existing):
            continue
        period = ReportingPeriod(
            plan=plan, label=label, starts_on=start, ends_on=end, due_on=end + datetime.timedelta(days=due_days)
        )
        added.append(period)
        existing.append((start, end))
    ReportingPeriod.objects.bulk_create(added)
    for period in added:
        audit_record(
            plan=plan,
            by=by,
            action="created",
            target=period,
            changes={name: [None, str(getattr(period, name))] for name in PERIOD_FIELDS},
        )
    if added:
        aggregates.monitoring_changed(plan.pk)
    return added


def _held(period: ReportingPeriod, *, version: int | None) -> ReportingPeriod:
    """The period's row, locked for update until the transaction ends: it waits for the reports being saved on
    it. EditConflict when it moved on since `version` (None: no check) or was removed."""
    held = ReportingPeriod.objects.select_for_update(of=("self",)).filter(pk=period.pk).first()
    if held is None or (version is not None and held.version != version):
        raise EditConflict(held or period)
    held.plan = period.plan
    return held


@transaction.atomic
def period_update(*, period: ReportingPeriod, by: User, version: int, fields: Mapping[str, Any]) -> ReportingPeriod:
    """Change a period's name, days or due date, as the person last saw it. The days of a period that holds
    reports stay as they are: the reports, and the rate their spending was converted at, are of those days."""
    plan = period.plan
    row_lock(plan)
    held = _held(period, version=version)
    candidate = ReportingPeriod(**{f.attname: getattr(held, f.attname) for f in ReportingPeriod._meta.concrete_fields})
    candidate.plan = plan
    for name, value in _fields(fields).items():
        setattr(candidate, name, value)
    moved = held.starts_on != candidate.starts_on or held.ends_on != candidate.ends_on
    if moved and ProgressUpdate.objects.filter(period=held).exists():
        raise ValidationError(
            {
                "starts_on": [
                    gettext(
                        "Reports were made for %(period)s: its first and last days stay as they are. Change its name "
                        "or due date only."
                    )
                    % {"period": held.label}
                ]
            }
        )
    period_check(candidate, others=ReportingPeriod.objects.filter(plan=plan).exclude(pk=held.pk))
    changes = _changes(held, candidate, PERIOD_FIELDS)
    try:
        with transaction.atomic():
            ReportingPeriod.objects.filter(pk=held.pk).update(
                version=held.version + 1, **{name: getattr(candidate, name) for name in PERIOD_FIELDS}
            )
    except IntegrityError:
        raise ValidationError(
            {"starts_on": [gettext("The plan already has a reporting period starting on that day.")]}
        ) from None
    for name in PERIOD_FIELDS:
        setattr(period, name, getattr(candidate, name))
    period.version = held.version + 1
    if changes:
        audit_record(plan=plan, by=by, action="changed", target=period, changes=changes)
        aggregates.monitoring_changed(plan.pk)
    return period


@transaction.atomic
def period_delete(*, period: ReportingPeriod, by: User, version: int | None) -> None:
    """Delete a planned period that holds no reports; an opened one is kept (it has been announced)."""
    held = _held(period, version=version)
    if held.state != ReportingPeriod.State.PLANNED:
        raise ValidationError(
            gettext("%(period)s has been opened: only a planned period is deleted.") % {"period": held.label},
            code="period_not_planned",
        )
    if ProgressUpdate.objects.filter(period=held).exists():
        raise ValidationError(
            gettext("%(period)s holds reports: it cannot be deleted.") % {"period": held.label},
            code="period_has_reports",
        )
    audit_record(plan=period.plan, by=by, action="deleted", target=held, changes={"label": held.label})
    held.delete()
    aggregates.monitoring_changed(period.plan_id)


def _move(
    period: ReportingPeriod,
    *,
    by: User,
    version: int | None,
    source: str,
    target: str,
    action: str,
    refusal: str,
    stamps: Mapping[str, Any],
) -> ReportingPeriod:
    held = _held(period, version=version)
    if held.state != source:
        raise ValidationError(refusal % {"period": held.label, "state": held.get_state_display()}, code="state")
    ReportingPeriod.objects.filter(pk=held.pk).update(state=target, version=held.version + 1, **stamps)
    audit_record(
        plan=period.plan,
        by=by,
        action=action,
        target=held,
        changes={"state": [source, target]},
    )
    aggregates.monitoring_changed(period.plan_id)  # the overdue reports move with the period's state
    period.state = target
    period.version = held.version + 1
    for name, value in stamps.items():
        setattr(period, name, value)
    return period


@transaction.atomic
def period_open(*, period: ReportingPeriod, by: User, version: int | None) -> ReportingPeriod:
    """Planned → open: reports for the period are taken from now on."""
    return _move(
        period,
        by=by,
        version=version,
        source=ReportingPeriod.State.PLANNED,
        target=ReportingPeriod.State.OPEN,
        action="opened the reporting period",
        refusal=gettext("%(period)s is %(state)s: only a planned period is opened."),
        stamps={"opened_at": timezone.now()},
    )


@transaction.atomic
def period_close(*, period: ReportingPeriod, by: User, version: int | None) -> ReportingPeriod:
    """Open → closed, once the reports being saved on it are in: no report is taken after."""
    return _move(
        period,
        by=by,
        version=version,
        source=ReportingPeriod.State.OPEN,
        target=ReportingPeriod.State.CLOSED,
        action="closed the reporting period",
        refusal=gettext("%(period)s is %(state)s: only an open period is closed."),
        stamps={"closed_at": timezone.now()},
    )


@transaction.atomic
def period_reopen(*, period: ReportingPeriod, by: User, version: int | None) -> ReportingPeriod:
    """Closed → open again, for late or corrected reports."""
    return _move(
        period,
        by=by,
        version=version,
        source=ReportingPeriod.State.CLOSED,
        target=ReportingPeriod.State.OPEN,
        action="reopened the reporting period",
        refusal=gettext("%(period)s is %(state)s: only a closed period is reopened."),
        stamps={"closed_at": None},
    )


# --- Reminders --------------------------------------------------------------------------------------------------

REMINDED_ROLES = (Role.FOCAL_POINT, Role.TECHNICAL_LEAD)


def _unreported_by_member(period: ReportingPeriod) -> dict[int, int]:
    """Membership id -> the activities in their scope not reported for `period`, for the focal points and technical
    leads of the period's plan. Four queries, whatever the plan's size."""
    unreported = Activity.objects.filter(plan_id=period.plan_id).filter(
        ~Exists(ProgressUpdate.objects.filter(period=period, activity=OuterRef("pk")))
    )
    by_organization = dict(
        unreported.exclude(responsible_organization=None)
        .values_list("responsible_organization")
        .annotate(n=Count("pk"))
        .values_list("responsible_organization", "n")
    )
    by_area = dict(unreported.values_list("technical_area").annotate(n=Count("pk")).values_list("technical_area", "n"))
    members = PlanMembership.objects.filter(plan_id=period.plan_id, role__in=REMINDED_ROLES, user__is_active=True)
    areas: dict[int, list[int]] = defaultdict(list)
    for membership_id, area_id in PlanMembership.technical_areas.through.objects.filter(
        planmembership__in=members.filter(role=Role.TECHNICAL_LEAD)
    ).values_list("planmembership_id", "technicalarea_id"):
        areas[membership_id].append(area_id)
    counts = {}
    for membership_id, role, organization_id in members.values_list("pk", "role", "organization_id"):
        if role == Role.FOCAL_POINT:
            counts[membership_id] = by_organization.get(organization_id, 0) if organization_id else 0
        else:
            counts[membership_id] = sum(by_area.get(area_id, 0) for area_id in areas[membership_id])
    return counts


def progress_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """E-mail each focal point and technical lead who still has activities to report on for an open period due
    within settings.PROGRESS_REMINDER_DAYS (or overdue), in their language, at most once a day per person and
    period; the number of e-mails. The secretariat, reviewers and viewers are not reminded. Run twice at once,
    nobody is reminded twice: the day's ProgressReminder row is inserted before the e-mail is queued, and a second
    insert is refused by its unique constraint."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    horizon = today + datetime.timedelta(days=settings.PROGRESS_REMINDER_DAYS)
    periods = ReportingPeriod.objects.filter(state=ReportingPeriod.State.OPEN, due_on__lte=horizon).select_related(
        "plan"
    )
    sent = 0
    for period in periods.order_by("pk"):
        counts = _unreported_by_member(period)
        owing = {membership_id: count for membership_id, count in counts.items() if count}
        if not owing:
            continue
        already = set(ProgressReminder.objects.filter(period=period, sent_on=today).values_list("user_id", flat=True))
        members = PlanMembership.objects.filter(pk__in=owing).exclude(user_id__in=already).select_related("user")
        url = reverse("progress_period", kwargs={"plan_id": period.plan_id, "period_id": period.pk})
        for membership in members.order_by("pk"):
            user = membership.user
            with transaction.atomic():
                reminder, created = ProgressReminder.objects.get_or_create(
                    period=period, user=user, sent_on=today, defaults={"unreported": owing[membership.pk]}
                )
                if not created:
                    continue
                audit_record(
                    plan=period.plan,
                    by=None,
                    action="reminded to report progress",
                    target=reminder,
                    changes={"unreported": owing[membership.pk], "due_on": period.due_on.isoformat()},
                )
                if user.email:
                    mail_send_on_commit(
                        to=user.email,
                        template="monitoring/email/progress_reminder",
                        context={
                            "user": user,
                            "plan": period.plan,
                            "period": period,
                            "unreported": owing[membership.pk],
                            "overdue": period.due_on < today,
                            "report_url": url,
                        },
                        language=person_language(user),
                    )
                    sent += 1
    return sent
