"""Timeliness of health events against the 7-1-7 target: an event detected within 7 days of its emergence, notified
within 1 day of its detection, and its early response actions completed within 7 days of its notification.

Here are the targets (the one place they are written), each event's three intervals (`event_intervals`), the
summary the events page and the dashboard show (`timeliness_summary`, counted in the database), and every write to
events and their bottlenecks: checked whole before anything is saved (each date problem named by its field), a stale
edit refused, audited. A bottleneck's remedial action becomes an activity of the plan through planning's own
activity creation (`bottleneck_activity_create`), so the activity is audited and frozen like any other.

Events and bottlenecks go on while the plan is endorsed (monitoring registers them writable then); an activity made
from a remedial action is plan content, refused on an endorsed plan, and the bottleneck stays as it was.
"""

from __future__ import annotations

import datetime
import itertools
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, FloatField, Func, IntegerField, Q, QuerySet
from django.db.models.aggregates import Aggregate
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from monitoring import aggregates
from monitoring.models import Bottleneck, HealthEvent
from naphs.errors import EditConflict
from naphs.permissions import Role
from naphs.services import audit_record, versioned_update
from planning.activities import activity_create
from planning.models import Activity

if TYPE_CHECKING:
    from planning.models import Plan, TechnicalArea
    from stakeholders.models import Organization, PlanMembership, User


# --- The targets -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """One of the three 7-1-7 intervals: from which date to which, and its target in days."""

    key: str
    start: str  # HealthEvent field
    end: str  # HealthEvent field
    target_days: int
    label: Any


INTERVALS = (
    Interval("detection", "emerged_on", "detected_on", 7, _("Detection")),
    Interval("notification", "detected_on", "notified_on", 1, _("Notification")),
    Interval("response", "notified_on", "responded_on", 7, _("Early response")),
)
TARGET_DAYS: dict[str, int] = {interval.key: interval.target_days for interval in INTERVALS}
# The dates in the order an event goes through them: each needs the one before it.
EVENT_DATES = ("emerged_on", "detected_on", "notified_on", "responded_on")
EVENT_FIELDS = ("name", "hazard", "place", *EVENT_DATES, "notes")
BOTTLENECK_FIELDS = ("stage", "description", "remedial_action", "technical_area")
# The sources an activity made from a remedial action may have.
REMEDIAL_SOURCES = (
    Activity.Source.SEVEN_ONE_SEVEN,
    Activity.Source.AFTER_ACTION_REVIEW,
    Activity.Source.SIMULATION,
)


@dataclass(frozen=True)
class IntervalResult:
    """An interval of one event: its days (None while a date is missing: pending) and whether it met its target."""

    key: str
    label: Any
    target_days: int
    days: int | None

    @property
    def pending(self) -> bool:
        return self.days is None

    @property
    def met(self) -> bool | None:
        return None if self.days is None else self.days <= self.target_days


def event_intervals(event: HealthEvent) -> list[IntervalResult]:
    """The event's detection, notification and response intervals, in that order."""
    results = []
    for interval in INTERVALS:
        start, end = getattr(event, interval.start), getattr(event, interval.end)
        days = (end - start).days if start is not None and end is not None else None
        results.append(IntervalResult(interval.key, interval.label, interval.target_days, days))
    return results


def event_meets_all(event: HealthEvent) -> bool | None:
    """Whether the event met all three targets; None while an interval is pending."""
    results = event_intervals(event)
    if any(result.pending for result in results):
        return None
    return all(result.met for result in results)


# --- The summary -------------------------------------------------------------------------------------------------


class DaysBetween(Func):
    """Whole days from one date column to another (NULL when either is): date subtraction on PostgreSQL."""

    output_field = IntegerField()
    arg_joiner = " - "
    template = "(%(expressions)s)"

    def __init__(self, later: str, earlier: str) -> None:
        super().__init__(F(later), F(earlier))

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra,
        )


class Median(Aggregate):
    """The median of a column (PostgreSQL's PERCENTILE_CONT)."""

    function = "PERCENTILE_CONT"
    name = "Median"
    output_field = FloatField()
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"


@dataclass(frozen=True)
class TargetSummary:
    """How the events did against one target: met, missed, pending, the share met of those known, the median."""

    key: str
    label: Any
    target_days: int
    met: int
    missed: int
    pending: int
    median_days: float | None

    @property
    def known(self) -> int:
        return self.met + self.missed

    @property
    def share_met(self) -> float | None:
        """Percent of the events whose interval is known that met the target; None when none is known."""
        return None if not self.known else round(100 * self.met / self.known, 1)


@dataclass(frozen=True)
class TimelinessSummary:
    events: int
    targets: list[TargetSummary]
    all_met: int  # events that met all three targets
    all_known: int  # events whose three intervals are known

    @property
    def all_missed(self) -> int:
        return self.all_known - self.all_met

    @property
    def all_pending(self) -> int:
        return self.events - self.all_known

    @property
    def share_all_met(self) -> float | None:
        return None if not self.all_known else round(100 * self.all_met / self.all_known, 1)


def health_events_filtered(
    events: QuerySet[HealthEvent], *, year: int | None = None, hazard: str = ""
) -> QuerySet[HealthEvent]:
    """Events that emerged in `year` and are of `hazard` (either left out: any)."""
    if year:
        events = events.filter(emerged_on__year=year)
    if hazard:
        events = events.filter(hazard__iexact=hazard)
    return events


def timeliness_summary(plan_ids: Iterable[int], *, year: int | None = None, hazard: str = "") -> TimelinessSummary:
    """The 7-1-7 performance of the events of the plans `plan_ids` (a plan, or a national plan with its provincial
    plans): per target the events that met it, missed it and are pending, with the median interval; and the events
    that met all three. One query on PostgreSQL (two elsewhere, where the medians are taken from the intervals)."""
    events = health_events_filtered(HealthEvent.objects.filter(plan_id__in=list(plan_ids)), year=year, hazard=hazard)
    events = events.annotate(
        **{interval.key: DaysBetween(interval.end, interval.start) for interval in INTERVALS}
    ).order_by()
    counts: dict[str, Any] = {"events": Count("pk")}
    for interval in INTERVALS:
        key, target = interval.key, interval.target_days
        counts[f"{key}_met"] = Count("pk", filter=Q(**{f"{key}__lte": target}))
        counts[f"{key}_missed"] = Count("pk", filter=Q(**{f"{key}__gt": target}))
        counts[f"{key}_pending"] = Count("pk", filter=Q(**{f"{key}__isnull": True}))
    known = Q(**{f"{interval.key}__isnull": False for interval in INTERVALS})
    counts["all_known"] = Count("pk", filter=known)
    counts["all_met"] = Count("pk", filter=Q(**{f"{i.key}__lte": i.target_days for i in INTERVALS}))
    postgres = connection.vendor == "postgresql"
    if postgres:
        counts.update({f"{interval.key}_median": Median(interval.key) for interval in INTERVALS})
    row = events.aggregate(**counts)
    medians: dict[str, float | None] = {}
    if postgres:
        medians = {interval.key: row[f"{interval.key}_median"] for interval in INTERVALS}
    else:
        values = list(events.values_list(*(interval.key for interval in INTERVALS)))
        for index, interval in enumerate(INTERVALS):
            days = [value[index] for value in values if value[index] is not None]
            medians[interval.key] = float(statistics.median(days)) if days else None
    targets = [
        TargetSummary(
            key=interval.key,
            label=interval.label,
            target_days=interval.target_days,
            met=row[f"{interval.key}_met"],
            missed=row[f"{interval.key}_missed"],
            pending=row[f"{interval.key}_pending"],
            median_days=medians[interval.key],
        )
        for interval in INTERVALS
    ]
    return TimelinessSummary(events=row["events"], targets=targets, all_met=row["all_met"], all_known=row["all_known"])


# --- Who writes ----------------------------------------------------------------------------------------------------


def events_writable_by(membership: PlanMembership) -> bool:
    """The secretariat and every technical lead record health events and their bottlenecks: an event crosses
    technical areas (surveillance detects it, the laboratory confirms it, emergency operations respond), so no one
    area owns it. Focal points, reviewers and viewers read them."""
    return membership.is_secretariat or membership.role == Role.TECHNICAL_LEAD


def events_write_check(membership: PlanMembership) -> None:
    """PermissionDenied unless the member records health events."""
    if not events_writable_by(membership):
        raise PermissionDenied(
            gettext(
                "Health events are recorded by the secretariat and technical leads; your role in this plan "
                "(%(role)s) reads them."
            )
            % {"role": membership.get_role_display()}
        )


# --- Writes to events ----------------------------------------------------------------------------------------------


def _date_text(value: datetime.date) -> str:
    return date_format(value, "DATE_FORMAT")


def health_event_check(fields: Mapping[str, Any], *, today: datetime.date | None = None) -> None:
    """ValidationError naming each date that is wrong: a date in the future, a date before the one it follows
    (detection before emergence, notification before detection, response before notification), a later date given
    without the earlier one."""
    today = today or timezone.localdate()
    labels = {name: getattr(HealthEvent._meta.get_field(name), "verbose_name", name) for name in EVENT_DATES}
    errors: dict[str, list[str]] = {}
    for name in EVENT_DATES:
        value = fields.get(name)
        if value is not None and value > today:
            errors.setdefault(name, []).append(
                gettext("%(field)s: %(date)s is in the future; record a date once it has happened.")
                % {"field": str(labels[name]).capitalize(), "date": _date_text(value)}
            )
    refusals = {
        "detected_on": gettext("%(field)s: %(date)s is before the date of emergence (%(earlier)s)."),
        "notified_on": gettext("%(field)s: %(date)s is before the date of detection (%(earlier)s)."),
        "responded_on": gettext("%(field)s: %(date)s is before the date of notification (%(earlier)s)."),
    }
    missing = {
        "detected_on": gettext("%(field)s is given without a date of emergence: enter when the event emerged."),
        "notified_on": gettext("%(field)s is given without a date of detection: enter when the event was detected."),
        "responded_on": gettext(
            "%(field)s is given without a date of notification: enter when the event was notified."
        ),
    }
    for earlier_name, name in itertools.pairwise(EVENT_DATES):
        value, earlier = fields.get(name), fields.get(earlier_name)
        if value is None:
            continue
        field = str(labels[name]).capitalize()
        if earlier is None:
            errors.setdefault(name, []).append(missing[name] % {"field": field})
        elif value < earlier:
            errors.setdefault(name, []).append(
                refusals[name] % {"field": field, "date": _date_text(value), "earlier": _date_text(earlier)}
            )
    if fields.get("emerged_on") is None and "emerged_on" not in errors:
        errors.setdefault("emerged_on", []).append(gettext("Enter the date the event emerged."))
    if errors:
        raise ValidationError(errors)


def _event_prepare(event: HealthEvent, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields as stored, checked whole: the dates' order (health_event_check) and the model's own rules."""
    unknown = set(fields) - set(EVENT_FIELDS)
    if unknown:
        raise TypeError(f"Health events have no editable field {', '.join(sorted(unknown))}")
    values = {name: fields.get(name, getattr(event, name)) for name in EVENT_FIELDS}
    for name in ("name", "hazard", "place", "notes"):
        values[name] = (values[name] or "").strip()
    errors: dict[str, list[str]] = {}
    try:
        health_event_check(values)
    except ValidationError as error:
        errors.update(error.message_dict)
    candidate = HealthEvent(plan_id=event.plan_id, **values)
    try:
        # The dates' constraints are checked above with messages that name the dates.
        candidate.full_clean(exclude=["plan", "recorded_by", *errors], validate_constraints=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def health_event_create(*, plan: Plan, by: User, fields: Mapping[str, Any]) -> HealthEvent:
    event = HealthEvent(plan=plan)
    values = _event_prepare(event, fields)
    event = HealthEvent.objects.create(plan=plan, recorded_by=by, **values)
    audit_record(
        plan=plan,
        by=by,
        action="created",
        target=event,
        changes={name: str(value) for name, value in values.items() if value not in (None, "")},
    )
    aggregates.monitoring_changed(plan.pk)
    return event


@transaction.atomic
def health_event_update(*, event: HealthEvent, by: User, version: int, fields: Mapping[str, Any]) -> HealthEvent:
    """Change an event as the person last saw it (EditConflict when someone saved it since `version`)."""
    values = _event_prepare(event, fields)
    changes = versioned_update(event, version=version, fields=values)
    if changes:
        audit_record(plan=event.plan, by=by, action="edited", target=event, changes=changes)
        aggregates.monitoring_changed(event.plan_id)
    return event


@transaction.atomic
def health_event_delete(*, event: HealthEvent, by: User, version: int | None) -> None:
    """Remove an event and its bottlenecks; activities made from them stay in the plan."""
    if version is not None and not HealthEvent.objects.filter(pk=event.pk, version=version).exists():
        raise EditConflict(event)
    audit_record(
        plan=event.plan,
        by=by,
        action="deleted",
        target=event,
        changes={"name": event.name, "emerged_on": str(event.emerged_on), "bottlenecks": event.bottlenecks.count()},
    )
    plan_id = event.plan_id
    event.delete()
    aggregates.monitoring_changed(plan_id)


# --- Writes to bottlenecks -----------------------------------------------------------------------------------------


def _bottleneck_prepare(bottleneck: Bottleneck, plan: Plan, fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(BOTTLENECK_FIELDS)
    if unknown:
        raise TypeError(f"Bottlenecks have no editable field {', '.join(sorted(unknown))}")
    values = {name: fields.get(name, getattr(bottleneck, name)) for name in BOTTLENECK_FIELDS}
    for name in ("description", "remedial_action"):
        values[name] = (values[name] or "").strip()
    errors: dict[str, list[str]] = {}
    area: TechnicalArea | None = values["technical_area"]
    if area is not None and area.framework_id != plan.framework_id:
        errors["technical_area"] = [
            gettext("%(area)s is not a technical area of this plan's framework.") % {"area": area}
        ]
    candidate = Bottleneck(event_id=bottleneck.event_id, **values)
    try:
        candidate.full_clean(exclude=["event", "activity", *errors])
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return values


def _bottleneck_changes(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: str(value) for name, value in values.items() if value not in (None, "")}


@transaction.atomic
def bottleneck_create(*, event: HealthEvent, by: User, fields: Mapping[str, Any]) -> Bottleneck:
    values = _bottleneck_prepare(Bottleneck(event=event), event.plan, fields)
    bottleneck = Bottleneck.objects.create(event=event, **values)
    audit_record(plan=event.plan, by=by, action="created", target=bottleneck, changes=_bottleneck_changes(values))
    return bottleneck


@transaction.atomic
def bottleneck_update(*, bottleneck: Bottleneck, by: User, version: int, fields: Mapping[str, Any]) -> Bottleneck:
    plan = bottleneck.event.plan
    values = _bottleneck_prepare(bottleneck, plan, fields)
    changes = versioned_update(bottleneck, version=version, fields=values)
    if changes:
        audit_record(plan=plan, by=by, action="edited", target=bottleneck, changes=changes)
    return bottleneck


@transaction.atomic
def bottleneck_delete(*, bottleneck: Bottleneck, by: User, version: int | None) -> None:
    """Remove a bottleneck; an activity made from it stays in the plan."""
    if version is not None and not Bottleneck.objects.filter(pk=bottleneck.pk, version=version).exists():
        raise EditConflict(bottleneck)
    audit_record(
        plan=bottleneck.event.plan,
        by=by,
        action="deleted",
        target=bottleneck,
        changes={"event": str(bottleneck.event), "stage": bottleneck.stage, "description": bottleneck.description},
    )
    bottleneck.delete()


def remedial_activity_title(bottleneck: Bottleneck) -> str:
    """The activity's title a remedial action suggests: its first line, cut to what a title holds."""
    text = (bottleneck.remedial_action or bottleneck.description).strip().splitlines()
    title = text[0].strip() if text else ""
    limit = Activity._meta.get_field("title").max_length or 300
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def remedial_activity_description(bottleneck: Bottleneck) -> str:
    event = bottleneck.event
    return gettext(
        "Remedial action for a bottleneck in %(stage)s of the health event “%(event)s” (emerged %(date)s): "
        "%(bottleneck)s\n\n%(action)s"
    ) % {
        "stage": bottleneck.get_stage_display().lower(),
        "event": event.name,
        "date": _date_text(event.emerged_on),
        "bottleneck": bottleneck.description,
        "action": bottleneck.remedial_action,
    }


@transaction.atomic
def bottleneck_activity_create(
    *,
    bottleneck: Bottleneck,
    by: User,
    version: int,
    source: str,
    technical_area: TechnicalArea,
    responsible_organization: Organization | None,
    title: str = "",
    description: str = "",
) -> Activity:
    """Make the bottleneck's remedial action an activity of the plan, in one step, and link the two.

    The activity is created by planning's activity_create (checked, audited, and refused with PlanFrozen on an
    endorsed plan, which undoes this whole step: the bottleneck stays as it was). The caller has checked that the
    person may add activities to `technical_area`. A bottleneck that became an activity already, or changed since
    `version`, is refused."""
    plan = bottleneck.event.plan
    held = Bottleneck.objects.select_for_update().filter(pk=bottleneck.pk).first()
    if held is None or held.version != version:
        raise EditConflict(held or bottleneck)
    if held.activity_id is not None:
        raise ValidationError(
            gettext("This remedial action is already the activity “%(activity)s”.") % {"activity": held.activity},
            code="already_an_activity",
        )
    if not bottleneck.remedial_action.strip():
        raise ValidationError(
            {"remedial_action": gettext("Write the remedial action first: it becomes the activity.")},
            code="no_remedial_action",
        )
    if source not in REMEDIAL_SOURCES:
        raise ValidationError(
            {
                "source": gettext("An activity made from a remedial action comes from one of: %(sources)s.")
                % {"sources": ", ".join(str(Activity.Source(value).label) for value in REMEDIAL_SOURCES)}
            }
        )
    activity = activity_create(
        plan=plan,
        by=by,
        technical_area=technical_area,
        title=title.strip() or remedial_activity_title(bottleneck),
        description=description.strip() or remedial_activity_description(bottleneck),
        source=source,
        responsible_organization=responsible_organization,
        status=Activity.Status.PLANNED,
    )
    fields: dict[str, Any] = {"activity": activity}
    if bottleneck.technical_area_id is None:
        fields["technical_area"] = technical_area
    changes = versioned_update(bottleneck, version=version, fields=fields)
    audit_record(plan=plan, by=by, action="edited", target=bottleneck, changes=changes)
    return activity


# --- Reads ---------------------------------------------------------------------------------------------------------


def health_event_list_for_plan(*, plan: Plan) -> QuerySet[HealthEvent]:
    """The plan's events, latest first, with the number of their bottlenecks."""
    return (
        HealthEvent.objects.filter(plan=plan)
        .annotate(bottleneck_count=Count("bottlenecks"))
        .order_by("-emerged_on", "-pk")
    )


def health_event_years(*, plan: Plan) -> list[int]:
    """The years the plan's events emerged in, latest first (the list's year filter)."""
    dates = HealthEvent.objects.filter(plan=plan).dates("emerged_on", "year", order="DESC")
    return [value.year for value in dates]


def health_event_hazards(*, plan: Plan) -> list[str]:
    """The hazards or diseases the plan's events name, as written (the list's hazard filter)."""
    hazards = HealthEvent.objects.filter(plan=plan).exclude(hazard="").values_list("hazard", flat=True)
    seen: dict[str, str] = {}
    for hazard in hazards:
        seen.setdefault(hazard.casefold(), hazard)
    return sorted(seen.values(), key=str.casefold)


def bottleneck_list_for_event(*, event: HealthEvent) -> QuerySet[Bottleneck]:
    return Bottleneck.objects.filter(event=event).select_related("technical_area", "activity").order_by("pk")
