"""Quarterly and annual reviews: what the secretariat records of a review, what it decided per activity, and how an
annual review carries unfinished activities into the next operational plan.

A review keeps a snapshot of every activity's progress when it is recorded: per activity its latest report up to
and including the review's period and what was spent until then, kept as it was whatever is reported later. The
period is the review's for good (another period is another review), so the snapshot never needs taking again.

A decision on an activity is carried over, re-scheduled (new dates inside the plan's years) or dropped. New dates
and a drop reach the activity through planning's activity service, with its audit and its freeze: on an endorsed
plan the decision is recorded and waits, and it is applied when the plan is reopened (planning.hooks.plan_reopened).

An annual review carries the activities it found unfinished (or those chosen) into a draft operational plan under
the same strategic plan, through planning's drawing of operational plans (planning.operational, which brings the
cost lines along through costing): an operational plan is drawn from strategic activities, so the activities of an
operational plan under review are carried as their strategic origins. An activity already drawn there is reported,
never drawn twice.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DecimalField, F, OuterRef, QuerySet, Subquery, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from monitoring import aggregates
from monitoring.models import ProgressStatus, ProgressUpdate, ReportingPeriod, Review, ReviewDecision
from naphs.errors import EditConflict, PlanFrozen
from naphs.permissions import SECRETARIAT_ROLES
from naphs.services import audit_record, duplicate_refusal, row_insert, row_lock, versioned_save, versioned_update
from planning import hooks
from planning.activities import activity_update
from planning.models import Activity, Plan
from planning.operational import operational_activities_add
from stakeholders.models import User

# What a review's record is made of, beside its period (set once) and the snapshot (taken once).
REVIEW_FIELDS = ("kind", "held_on", "participants", "decisions")
# Progress statuses that end an activity: anything else is unfinished at the review.
FINISHED = frozenset({ProgressStatus.COMPLETED, ProgressStatus.CANCELLED})
FINISHED_ACTIVITY = frozenset({Activity.Status.COMPLETED, Activity.Status.CANCELLED})
# The snapshot's status of an activity nobody had reported on by the review's period.
NO_REPORT = ""
NO_REPORT_LABEL = _("No report")
APPLIED_DECISIONS = frozenset({ReviewDecision.Decision.RESCHEDULED, ReviewDecision.Decision.DROPPED})


# --- Reads ------------------------------------------------------------------------------------------------------


def review_list_for_plan(*, plan: Plan) -> QuerySet[Review]:
    """The plan's reviews, the latest held first, with their period and who recorded them."""
    return Review.objects.filter(plan=plan).select_related("period", "recorded_by").order_by("-held_on", "-pk")


def review_get(*, plan: Plan, review_id: int) -> Review:
    """A review of this plan (404 for any other), with its period, who recorded it and who took part."""
    review = review_list_for_plan(plan=plan).prefetch_related("participant_members").filter(pk=review_id).first()
    if review is None:
        raise Http404(gettext("No such review in this plan."))
    review.plan = plan
    return review


def review_periods(*, plan: Plan) -> QuerySet[ReportingPeriod]:
    """The periods a review of the plan may be about: the plan's own."""
    return ReportingPeriod.objects.filter(plan=plan).order_by("starts_on")


def review_members(*, plan: Plan) -> QuerySet[User]:
    """The people who may be named as having taken part: the plan's members."""
    return User.objects.filter(plan_memberships__plan=plan).order_by("first_name", "last_name", "username")


def decision_list_for_review(*, review: Review) -> QuerySet[ReviewDecision]:
    """The review's decisions, with what each was carried into (its plan too)."""
    return (
        ReviewDecision.objects.filter(review=review)
        .select_related("activity", "carried_into__plan")
        .order_by("activity__technical_area__order", "activity_id")
    )


def decision_get(*, review: Review, decision_id: int) -> ReviewDecision:
    decision = decision_list_for_review(review=review).filter(pk=decision_id).first()
    if decision is None:
        raise Http404(gettext("No such decision in this review."))
    decision.review = review
    return decision


def snapshot_take(*, plan: Plan, period: ReportingPeriod) -> list[dict[str, Any]]:
    """Every activity of the plan as the review finds it: its area, title and responsible organization, its status
    in the plan, its latest report up to and including `period` (status, percent, which period) and what was spent
    on it until then, in the base currency. Two queries whatever the plan's size."""
    reports = ProgressUpdate.objects.filter(
        activity=OuterRef("pk"), period__plan=plan, period__starts_on__lte=period.starts_on
    )
    latest = reports.order_by("-period__starts_on", "-pk").values("pk")[:1]
    spent = reports.order_by().values("activity").annotate(total=Sum("amount_spent_base")).values("total")[:1]
    rows = list(
        Activity.objects.filter(plan=plan)
        .order_by("technical_area__order", "technical_area__code", "pk")
        .values("pk", "title", "status", "technical_area__code", "responsible_organization__name")
        .annotate(
            latest=Subquery(latest),
            spent=Subquery(spent, output_field=DecimalField(max_digits=18, decimal_places=2)),
        )
    )
    updates = {
        update.pk: update
        for update in ProgressUpdate.objects.filter(pk__in=[row["latest"] for row in rows if row["latest"]])
        .select_related("period")
        .only("pk", "status", "percent_complete", "period__id", "period__label")
    }
    snapshot = []
    for row in rows:
        update = updates.get(row["latest"])
        spent_base: Decimal | None = row["spent"]
        snapshot.append(
            {
                "activity": row["pk"],
                "area": row["technical_area__code"],
                "title": row["title"],
                "organization": row["responsible_organization__name"] or "",
                "activity_status": row["status"],
                "status": update.status if update else NO_REPORT,
                "percent": update.percent_complete if update else None,
                "spent_base": None if spent_base is None else f"{spent_base:.2f}",
                "period": update.period.pk if update else None,
                "period_label": update.period.label if update else "",
            }
        )
    return snapshot


def snapshot_unfinished(entry: dict[str, Any]) -> bool:
    """Whether the activity was unfinished at the review: not reported completed or cancelled (and, never reported
    on, not completed or cancelled in the plan)."""
    if entry["status"] == NO_REPORT:
        return entry.get("activity_status") not in FINISHED_ACTIVITY
    return entry["status"] not in FINISHED


def status_label(status: str) -> str:
    return str(NO_REPORT_LABEL) if status == NO_REPORT else str(ProgressStatus(status).label)


def snapshot_counts(snapshot: Sequence[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(status, its label, how many activities) for every status of the snapshot, in the statuses' order, the
    activities without a report last."""
    counted = Counter(entry["status"] for entry in snapshot)
    order = [*ProgressStatus.values, NO_REPORT]
    return [(status, status_label(status), counted[status]) for status in order if counted[status]]


# --- Reviews ----------------------------------------------------------------------------------------------------


def _text(value: str | None) -> str:
    return (value or "").strip()


def _members_check(plan: Plan, members: Iterable[User]) -> list[User]:
    members = list(members)
    member_ids = set(review_members(plan=plan).filter(pk__in=[m.pk for m in members]).values_list("pk", flat=True))
    outside = [str(member) for member in members if member.pk not in member_ids]
    if outside:
        raise ValidationError(
            {"participant_members": gettext("Not members of this plan: %(names)s.") % {"names": ", ".join(outside)}}
        )
    return members


def _held_on_check(period: ReportingPeriod, held_on: datetime.date) -> None:
    if held_on < period.starts_on:
        raise ValidationError(
            {
                "held_on": gettext("A review of %(period)s is held once the period has started: on %(date)s or later.")
                % {"period": period.label, "date": period.starts_on.isoformat()}
            }
        )


def _duplicate_check(*, period: ReportingPeriod, kind: str, exclude: int | None = None) -> None:
    others = Review.objects.filter(period=period, kind=kind)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if others.exists():
        raise ValidationError(
            {
                "period": gettext("%(period)s already has a %(kind)s; open it to change it.")
                % {"period": period.label, "kind": Review.Kind(kind).label.lower()}
            }
        )


def _names(members: Iterable[User]) -> list[str]:
    return sorted(str(member) for member in members)


@transaction.atomic
def review_create(
    *,
    plan: Plan,
    by: User,
    kind: str,
    period: ReportingPeriod,
    held_on: datetime.date,
    participants: str = "",
    decisions: str = "",
    participant_members: Iterable[User] = (),
) -> Review:
    """Record a review of one of the plan's periods, with the snapshot of every activity's progress now. Refused
    (ValidationError by field, nothing saved) for a period of another plan, a date before the period starts, a
    second review of the same kind for the period, people who are not members."""
    if period.plan_id != plan.pk:
        raise ValidationError({"period": gettext("This reporting period belongs to another plan.")})
    if kind not in Review.Kind.values:
        raise ValidationError({"kind": gettext("Choose a quarterly or an annual review.")})
    _held_on_check(period, held_on)
    members = _members_check(plan, participant_members)
    _duplicate_check(period=period, kind=kind)
    review = Review(
        plan=plan,
        kind=kind,
        period=period,
        held_on=held_on,
        participants=_text(participants),
        decisions=_text(decisions),
        recorded_by=by,
        snapshot=snapshot_take(plan=plan, period=period),
    )
    review.full_clean(exclude=["snapshot"])
    row_insert(review, refused=lambda: duplicate_refusal(review))  # the same review recorded at the same moment
    review.participant_members.set(members)
    audit_record(
        plan=plan,
        by=by,
        action="created",
        target=review,
        changes={"activities": len(review.snapshot), "participant_members": [None, _names(members)]},
    )
    return review


@transaction.atomic
def review_update(
    *, review: Review, by: User, version: int, participant_members: Iterable[User] | None = None, **fields: Any
) -> Review:
    """Change what was recorded of a review (kind, date, participants, decisions), refusing a stale save
    (EditConflict). Its period and snapshot stay as they were."""
    unknown = set(fields) - set(REVIEW_FIELDS)
    if unknown:
        raise TypeError(f"review_update() cannot change {', '.join(sorted(unknown))}")
    for name in ("participants", "decisions"):
        if name in fields:
            fields[name] = _text(fields[name])
    if "kind" in fields and fields["kind"] not in Review.Kind.values:
        raise ValidationError({"kind": gettext("Choose a quarterly or an annual review.")})
    if "held_on" in fields:
        _held_on_check(review.period, fields["held_on"])
    if fields.get("kind", review.kind) != review.kind:
        _duplicate_check(period=review.period, kind=fields["kind"], exclude=review.pk)
    members = None if participant_members is None else _members_check(review.plan, participant_members)
    before = list(review.participant_members.all())
    changes = versioned_update(review, version=version, fields=fields)
    if members is not None and {m.pk for m in members} != {m.pk for m in before}:
        review.participant_members.set(members)
        changes["participant_members"] = [_names(before), _names(members)]
    if changes:
        audit_record(plan=review.plan, by=by, action="changed", target=review, changes=changes)
    return review


# --- Decisions --------------------------------------------------------------------------------------------------


def _dates_check(
    plan: Plan, start: datetime.date | None, end: datetime.date | None
) -> tuple[datetime.date, datetime.date]:
    errors: dict[str, list[str]] = {}
    for name, value in (("new_start_date", start), ("new_end_date", end)):
        if value is None:
            errors.setdefault(name, []).append(gettext("A re-scheduled activity needs its new start and end dates."))
        elif not plan.first_year <= value.year <= plan.last_year:
            errors.setdefault(name, []).append(
                gettext("Must lie within the plan's period (%(period)s).") % {"period": plan.period}
            )
    if not errors and start is not None and end is not None and end < start:
        errors["new_end_date"] = [gettext("An activity cannot end before it starts.")]
    if errors:
        raise ValidationError(errors)
    assert start is not None and end is not None  # by the checks above
    return start, end


def _decision_fields(decision: ReviewDecision) -> dict[str, Any]:
    """What a decision changes in its activity."""
    if decision.decision == ReviewDecision.Decision.RESCHEDULED:
        return {"start_date": decision.new_start_date, "end_date": decision.new_end_date}
    if decision.decision == ReviewDecision.Decision.DROPPED:
        return {"status": Activity.Status.CANCELLED}
    return {}


def _decision_apply(decision: ReviewDecision, *, by: User) -> bool:
    """Bring the decision's new dates or its drop to the activity, through planning's activity service (audited,
    refused on an endorsed plan). True once applied; False while the plan is endorsed, the decision then waiting
    for the plan to be reopened. Inside a savepoint: a refusal leaves the decision recorded."""
    fields = _decision_fields(decision)
    if not fields:
        return False
    activity = (
        Activity.objects.select_for_update(of=("self",))
        .select_related("plan", "technical_area")
        .filter(pk=decision.activity_id)
        .first()
    )
    if activity is None or activity.plan.is_frozen:
        return False
    wanted = {name: value for name, value in fields.items() if getattr(activity, name) != value}
    try:
        with transaction.atomic():
            if wanted:
                activity_update(activity=activity, by=by, version=activity.version, **wanted)
    except PlanFrozen:  # endorsed while this was saved: the decision waits
        return False
    except ValidationError as error:
        raise ValidationError(
            gettext("The activity cannot take this decision: %(problems)s") % {"problems": " ".join(error.messages)}
        ) from error
    now = timezone.now()
    ReviewDecision.objects.filter(pk=decision.pk).update(applied_at=now)
    decision.applied_at = now
    return True


@transaction.atomic
def decision_save(
    *,
    review: Review,
    activity: Activity,
    by: User,
    version: int,
    decision: str,
    new_start_date: datetime.date | None = None,
    new_end_date: datetime.date | None = None,
    note: str = "",
) -> tuple[ReviewDecision, bool]:
    """Record (version 0) or change the review's decision on one of the plan's activities, as the person last saw
    it (EditConflict otherwise). A re-scheduling takes new dates inside the plan's years, the end not before the
    start; other decisions take none. On a plan that is not endorsed the new dates or the drop are applied to the
    activity at once; returns the decision and whether it was applied now."""
    plan = review.plan
    if activity.plan_id != plan.pk:
        raise ValidationError({"activity": gettext("This activity belongs to another plan.")})
    if decision not in ReviewDecision.Decision.values:
        raise ValidationError({"decision": gettext("Choose carried over, re-scheduled or dropped.")})
    if decision == ReviewDecision.Decision.RESCHEDULED:
        new_start_date, new_end_date = _dates_check(plan, new_start_date, new_end_date)
    else:
        new_start_date = new_end_date = None  # dates say nothing of another decision
    row, changes = versioned_save(
        ReviewDecision,
        key={"review": review, "activity": activity},
        version=version,
        fields={
            "decision": decision,
            "new_start_date": new_start_date,
            "new_end_date": new_end_date,
            "note": _text(note),
        },
    )
    row.review, row.activity = review, activity
    decided = {"decision", "new_start_date", "new_end_date"} & changes.keys()
    if decided and row.applied_at is not None:  # what was applied was another decision: this one is not yet
        ReviewDecision.objects.filter(pk=row.pk).update(applied_at=None)
        row.applied_at = None
    applied = decision in APPLIED_DECISIONS and row.applied_at is None and _decision_apply(row, by=by)
    if changes:
        audit_record(
            plan=plan,
            by=by,
            action="created" if version == 0 else "changed",
            target=row,
            changes=changes,
            area_id=activity.technical_area_id,
        )
    return row, applied


@transaction.atomic
def decision_delete(*, decision: ReviewDecision, by: User, version: int | None) -> None:
    """Remove a decision as the person last saw it. What it applied to the activity stays: an activity's dates and
    status are changed on the activity."""
    removed = ReviewDecision.objects.filter(pk=decision.pk)
    if version is not None:
        removed = removed.filter(version=version)
    audit_record(
        plan=decision.review.plan,
        by=by,
        action="deleted",
        target=decision,
        changes={"decision": decision.decision},
        area_id=decision.activity.technical_area_id,
    )
    deleted, _ = removed.delete()
    if not deleted:
        raise EditConflict(decision)


def decisions_pending(*, plan: Plan) -> QuerySet[ReviewDecision]:
    """Re-schedulings and drops decided while the plan was endorsed, waiting for it to be reopened."""
    return ReviewDecision.objects.filter(
        review__plan=plan, applied_at__isnull=True, decision__in=APPLIED_DECISIONS
    ).order_by("review__held_on", "review_id", "pk")


def decisions_pending_apply(*, plan: Plan, by: User) -> int:
    """Apply the decisions that waited for the plan to be reopened, in the order the reviews were held (a later
    review's decision on the same activity wins). One that the activity no longer takes stays waiting, shown on
    its review. Returns how many were applied."""
    applied = 0
    for decision in decisions_pending(plan=plan):
        try:
            with transaction.atomic():
                applied += _decision_apply(decision, by=by)
        except ValidationError:
            continue
    if applied:
        aggregates.monitoring_changed(plan.pk)
    return applied


def _plan_reopened(plan: Plan, by: User) -> None:
    decisions_pending_apply(plan=plan, by=by)


def connect() -> None:
    """From MonitoringConfig.ready."""
    hooks.plan_reopened.connect(_plan_reopened)


# --- Carrying over ----------------------------------------------------------------------------------------------


def _strategic_of(plan: Plan) -> int | None:
    """The strategic plan whose operational plans a review of `plan` may carry activities into."""
    if plan.kind == Plan.Kind.STRATEGIC:
        return plan.pk
    return plan.parent_id


def carry_over_targets(*, review: Review, user: User) -> QuerySet[Plan]:
    """The operational plans an annual review may carry activities into: drafts under the same strategic plan
    (the review's plan, or the one its operational plan sits in), not ending before the review's period, whose
    secretariat the person is in; the earliest first."""
    strategic_id = _strategic_of(review.plan)
    if strategic_id is None:
        return Plan.objects.none()
    return (
        Plan.objects.filter(
            kind=Plan.Kind.OPERATIONAL,
            parent_id=strategic_id,
            parent__kind=Plan.Kind.STRATEGIC,
            status=Plan.Status.DRAFT,
            last_year__gte=review.period.ends_on.year,
            memberships__user=user,
            memberships__role__in=SECRETARIAT_ROLES,
        )
        .exclude(pk=review.plan_id)
        .order_by("first_year", "pk")
    )


def carry_over_default(*, review: Review, targets: Sequence[Plan]) -> Plan | None:
    """The operational plan offered first: the first that starts after the review's period's year, else the
    first."""
    year = review.period.ends_on.year
    return next((plan for plan in targets if plan.first_year > year), targets[0] if targets else None)


def carry_over_candidates(*, review: Review) -> list[int]:
    """The activities an annual review carries by default: those unfinished in its snapshot, but those it
    dropped."""
    dropped = set(
        review.activity_decisions.filter(decision=ReviewDecision.Decision.DROPPED).values_list("activity_id", flat=True)
    )
    return [
        entry["activity"]
        for entry in review.snapshot
        if snapshot_unfinished(entry) and entry["activity"] not in dropped
    ]


@dataclass
class CarryOver:
    """What carrying over did: the activities drawn into `target` (each with its copy there), those already
    there (with it), those drawn without dates (their dates lay outside the operational plan: to be scheduled),
    and those of an operational plan that have no strategic activity behind them (not drawn)."""

    target: Plan
    carried: list[tuple[Activity, Activity]] = field(default_factory=list)
    already: list[tuple[Activity, Activity]] = field(default_factory=list)
    undated: list[Activity] = field(default_factory=list)
    without_origin: list[Activity] = field(default_factory=list)


def _titles(activities: Iterable[Activity]) -> str:
    return "; ".join(activity.title[:60] for activity in activities)


@transaction.atomic
def review_carry_over(
    *, review: Review, by: User, target: Plan, activities: Iterable[Activity] | None = None
) -> CarryOver:
    """Carry an annual review's unfinished activities (or those chosen) into operational plan `target`, a draft
    under the same strategic plan that `by` manages. Each is drawn as its strategic activity (itself, for a review
    of the strategic plan), with a re-scheduling's new dates, and its cost lines come along; each decision records
    the copy it was carried into (a decision "carried over" is recorded where there was none). Refused, nothing
    saved: a quarterly review, another plan, activities of another plan or dropped by the review."""
    if review.kind != Review.Kind.ANNUAL:
        raise ValidationError(gettext("Only an annual review carries activities into the next operational plan."))
    if not carry_over_targets(review=review, user=by).filter(pk=target.pk).exists():
        raise ValidationError(
            {
                "plan": gettext(
                    "“%(plan)s” is not a draft operational plan under the same strategic plan that you manage."
                )
                % {"plan": target}
            }
        )
    row_lock(target)  # carrying into one plan takes turns: the second sees what the first drew
    row_lock(review)
    target = Plan.objects.select_related("parent").get(pk=target.pk)
    decisions = {decision.activity_id: decision for decision in ReviewDecision.objects.filter(review=review)}
    if activities is None:
        chosen_ids = carry_over_candidates(review=review)
    else:
        given = list(activities)
        foreign = [activity for activity in given if activity.plan_id != review.plan_id]
        if foreign:
            raise ValidationError(
                {"activities": gettext("Not activities of this plan: %(titles)s.") % {"titles": _titles(foreign)}}
            )
        dropped = [
            activity
            for activity in given
            if activity.pk in decisions and decisions[activity.pk].decision == ReviewDecision.Decision.DROPPED
        ]
        if dropped:
            raise ValidationError(
                {"activities": gettext("Dropped by this review: %(titles)s.") % {"titles": _titles(dropped)}}
            )
        chosen_ids = [activity.pk for activity in given]
    chosen = list(
        Activity.objects.filter(plan=review.plan, pk__in=chosen_ids)
        .select_related("origin")
        .order_by("technical_area__order", "pk")
    )
    if not chosen:
        raise ValidationError({"activities": gettext("No activity to carry over: none is unfinished or chosen.")})
    result = CarryOver(target=target)
    strategic_id = target.parent_id
    origin_of: dict[int, Activity] = {}
    for activity in chosen:
        origin = activity if activity.plan_id == strategic_id else activity.origin
        if origin is None or origin.plan_id != strategic_id:
            result.without_origin.append(activity)
        else:
            origin_of[activity.pk] = origin
    there = {
        copy.origin_id: copy
        for copy in Activity.objects.filter(plan=target, origin__in=[origin.pk for origin in origin_of.values()])
    }
    first, last = datetime.date(target.first_year, 1, 1), datetime.date(target.last_year, 12, 31)
    to_draw: list[Activity] = []
    for activity in chosen:
        origin = origin_of.get(activity.pk)
        if origin is None:
            continue
        if origin.pk in there:
            result.already.append((activity, there[origin.pk]))
            continue
        decision = decisions.get(activity.pk)
        if decision is not None and decision.decision == ReviewDecision.Decision.RESCHEDULED:
            start, end = decision.new_start_date, decision.new_end_date
        else:
            start, end = origin.start_date, origin.end_date
        if (end is not None and end < first) or (start is not None and start > last):
            start = end = None  # its dates lie outside the operational plan: it is scheduled there anew
            result.undated.append(activity)
        # The copy takes these dates (clipped to the operational plan); the strategic activity is not saved.
        origin.start_date, origin.end_date = start, end
        to_draw.append(origin)
    copies = {copy.origin_id: copy for copy in operational_activities_add(plan=target, by=by, activities=to_draw)}
    for activity in chosen:
        origin = origin_of.get(activity.pk)
        if origin is not None and origin.pk in copies:
            result.carried.append((activity, copies[origin.pk]))
    _carried_record(review=review, decisions=decisions, pairs=[*result.carried, *result.already])
    audit_record(
        plan=review.plan,
        by=by,
        action="carried activities of",
        target=review,
        changes={
            "carried_into": [None, str(target)],
            "activities": [None, len(result.carried)],
            "already there": len(result.already),
            "not drawn": len(result.without_origin),
        },
    )
    if result.carried:
        aggregates.monitoring_changed(target.pk)
    return result


def _carried_record(
    *, review: Review, decisions: dict[int, ReviewDecision], pairs: Sequence[tuple[Activity, Activity]]
) -> None:
    """Each decision records the copy its activity was carried into; an activity carried without a decision gets
    one: carried over."""
    changed, new = [], []
    for activity, copy in pairs:
        decision = decisions.get(activity.pk)
        if decision is None:
            new.append(
                ReviewDecision(
                    review=review, activity=activity, decision=ReviewDecision.Decision.CARRIED_OVER, carried_into=copy
                )
            )
        elif decision.carried_into_id != copy.pk:
            decision.carried_into = copy
            changed.append(decision)
    if changed:
        ReviewDecision.objects.filter(pk__in=[decision.pk for decision in changed]).update(version=F("version") + 1)
        ReviewDecision.objects.bulk_update(changed, ["carried_into"])
    if new:
        try:
            with transaction.atomic():
                ReviewDecision.objects.bulk_create(new)
        except IntegrityError as error:  # a decision recorded on one of them meanwhile
            raise EditConflict(
                review,
                gettext("Someone recorded decisions on this review meanwhile; reload it and carry over again."),
            ) from error
