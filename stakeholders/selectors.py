"""Reads about people and organizations, for a plan the caller has already been allowed to see."""

from __future__ import annotations

import datetime

from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.db.models.functions import Lower
from django.utils import timezone

from naphs.audit import audit_sentence
from naphs.models import AuditEvent
from naphs.permissions import SECRETARIAT_ROLES, Role
from planning.models import Jurisdiction, Plan, TechnicalArea
from stakeholders.models import Invitation, Organization, PlanMembership, User, invitation_token_hash

ROLE_ORDER = Case(*(When(role=role, then=Value(rank)) for rank, role in enumerate(Role.values)))


def membership_list_for_plan(*, plan: Plan) -> QuerySet[PlanMembership]:
    """The plan's members, secretariat first, then by role as the table in DESIGN.md lists them."""
    return (
        PlanMembership.objects.filter(plan=plan)
        .select_related("user", "organization")
        .prefetch_related("technical_areas")
        .order_by(ROLE_ORDER, "user__first_name", "user__last_name", "user__username")
    )


def secretariat_size(*, plan: Plan) -> int:
    return PlanMembership.objects.filter(plan=plan, role__in=SECRETARIAT_ROLES).count()


def jurisdiction_ids_within(jurisdiction: Jurisdiction) -> QuerySet:
    """The jurisdiction and every jurisdiction below it (the tree is at most three levels deep)."""
    return Jurisdiction.objects.filter(
        Q(pk=jurisdiction.pk) | Q(parent_id=jurisdiction.pk) | Q(parent__parent_id=jurisdiction.pk)
    ).values_list("pk", flat=True)


def organization_list_for_plan(*, plan: Plan) -> QuerySet[Organization]:
    """Organizations of the plan's jurisdiction, of those above it and of those below it."""
    above = plan.jurisdiction.ancestors_and_self_ids()
    return (
        Organization.objects.filter(
            Q(jurisdiction_id__in=above) | Q(jurisdiction_id__in=jurisdiction_ids_within(plan.jurisdiction))
        )
        .select_related("jurisdiction")
        .annotate(member_count=Count("memberships", filter=Q(memberships__plan=plan)))
        .order_by("name")
    )


def invitation_list_for_plan(*, plan: Plan) -> QuerySet[Invitation]:
    """The plan's pending invitations, expired ones included (the secretariat resends or revokes them)."""
    return (
        Invitation.objects.filter(plan=plan, status=Invitation.Status.PENDING)
        .select_related("organization", "invited_by")
        .prefetch_related("technical_areas")
        .order_by("-sent_at", "-pk")
    )


def invitations_addressed_to(user: User) -> QuerySet[Invitation]:
    """Every invitation sent to the person's e-mail address (ignoring case), whatever its state."""
    if not (user.is_authenticated and user.is_active and user.email):
        return Invitation.objects.none()
    return (
        Invitation.objects.alias(email_lower=Lower("email"))
        .filter(email_lower=Lower(Value(user.email)))
        .select_related("plan__jurisdiction", "organization", "invited_by")
        .prefetch_related("technical_areas")
    )


def invitation_list_for_invitee(*, user: User) -> QuerySet[Invitation]:
    """The invitations the person can still accept or decline, newest first."""
    return (
        invitations_addressed_to(user)
        .filter(status=Invitation.Status.PENDING, expires_at__gt=timezone.now())
        .order_by("-sent_at", "-pk")
    )


def invitation_get_by_token(*, token: str) -> Invitation | None:
    """The invitation an e-mailed link names, in whatever state; None for a link that never existed."""
    return (
        Invitation.objects.select_related("plan__jurisdiction", "organization", "invited_by")
        .prefetch_related("technical_areas")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )


def membership_events_for_plan(*, plan: Plan, limit: int = 15) -> list[tuple[AuditEvent, str]]:
    """The latest changes to the plan's members and invitations, each with the sentence it reads as."""
    events = AuditEvent.objects.filter(plan=plan, target_type__in=["planmembership", "invitation"]).select_related(
        "actor"
    )[:limit]
    return [(event, audit_sentence(event)) for event in events]


def audit_people_of(*, plan: Plan) -> QuerySet[User]:
    """Whom the plan's audit trail may be filtered by: its members, and anyone who changed something in it."""
    actors = AuditEvent.objects.filter(plan=plan, actor__isnull=False).values("actor_id")
    return (
        User.objects.filter(Q(plan_memberships__plan=plan) | Q(pk__in=actors))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def audit_kinds_of(*, plan: Plan) -> list[str]:
    """The kinds of object (AuditEvent.target_type) the plan's audit trail holds."""
    return list(AuditEvent.objects.filter(plan=plan).order_by().values_list("target_type", flat=True).distinct())


def audit_events_for_plan(
    *,
    plan: Plan,
    actor: User | None = None,
    target_type: str | None = None,
    area: TechnicalArea | None = None,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> QuerySet[AuditEvent]:
    """The plan's recorded changes, newest first, with who made them and their area (no query per event).
    Days are the reader's (the active time zone's): `until` includes the whole of its day."""
    events = AuditEvent.objects.filter(plan=plan).select_related("actor", "technical_area")
    if actor is not None:
        events = events.filter(actor=actor)
    if target_type:
        events = events.filter(target_type=target_type)
    if area is not None:
        events = events.filter(technical_area=area)
    if since is not None:
        events = events.filter(created_at__gte=_day_start(since))
    if until is not None:
        events = events.filter(created_at__lt=_day_start(until + datetime.timedelta(days=1)))
    return events.order_by("-created_at", "-pk")


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
