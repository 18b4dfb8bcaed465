"""Reads about people and organizations, for a plan the caller has already been allowed to see."""

from __future__ import annotations

from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from naphs.models import AuditEvent
from naphs.permissions import SECRETARIAT_ROLES, Role
from planning.models import Jurisdiction, Plan
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


# What each change to a plan's members reads as, one whole sentence per kind of change so that each language can
# put the person who made it and the one it concerns where its grammar wants them. The audit trail stores the kind
# (`AuditEvent.action`) as data, in English.
MEMBERSHIP_EVENT_SENTENCES: dict[str, Promise] = {
    "added": _("%(actor)s added %(target)s."),
    "invited": _("%(actor)s invited %(target)s."),
    "invited again": _("%(actor)s invited %(target)s again."),
    "sent again the invitation to": _("%(actor)s sent the invitation to %(target)s again."),
    "revoked the invitation to": _("%(actor)s revoked the invitation to %(target)s."),
    "joined": _("%(actor)s joined: %(target)s."),
    "accepted the invitation to": _("%(actor)s accepted the invitation to %(target)s."),
    "declined the invitation to": _("%(actor)s declined the invitation to %(target)s."),
    "changed the role of": _("%(actor)s changed the role of %(target)s."),
    "removed": _("%(actor)s removed %(target)s."),
}


def membership_events_for_plan(*, plan: Plan, limit: int = 15) -> list[tuple[AuditEvent, str]]:
    """The latest changes to the plan's members and invitations, each with the sentence it reads as."""
    events = AuditEvent.objects.filter(plan=plan, target_type__in=["planmembership", "invitation"]).select_related(
        "actor"
    )[:limit]
    written = []
    for event in events:
        if event.actor is not None:
            actor = str(event.actor)
        elif event.target_type == "invitation":
            actor = gettext("The invitee")
        else:
            actor = gettext("Someone")
        sentence = MEMBERSHIP_EVENT_SENTENCES.get(event.action)
        if sentence is None:  # a kind of change recorded before this list knew it
            text = gettext("%(actor)s: %(action)s %(target)s.")
            written.append((event, text % {"actor": actor, "action": event.action, "target": event.target_repr}))
        else:
            written.append((event, str(sentence) % {"actor": actor, "target": event.target_repr}))
    return written
