"""Review rounds: the secretariat sends the plan to WHO and partner reviewers, each gives a verdict, the secretariat
closes the round and the plan goes back to draft or on to endorsement.

A round stores what it reviews (a version of the draft as it was when the round opened), so that reviewers and
the next round read the same thing whatever is edited meanwhile. One round is open at a time; while it is, the
plan is in review and the comments started belong to it (planning.comments). Opening and closing change the
plan's status, so both lock the plan's row and read its state again from the locked row: of two people doing it
at once, the second sees what the first did and is refused, saying so. E-mails go out once the change is
committed, each in its reader's language; the beat reminds reviewers whose verdict is overdue, once a day.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from naphs.errors import EditConflict
from naphs.languages import person_language
from naphs.mail import mail_send_on_commit
from naphs.permissions import Permission, Role
from naphs.services import audit_record, versioned_update
from planning.models import COMMENT_MAX_CHARS, Plan, PlanVersion, ReviewInvitation, ReviewRound
from planning.versions import plan_version_store
from stakeholders.access import plan_writable_check

if TYPE_CHECKING:
    from stakeholders.models import PlanMembership, User

Verdict = ReviewInvitation.Verdict
Outcome = ReviewRound.Outcome


# Reads -------------------------------------------------------------------------------------------------------


def review_round_open_for(plan: Plan) -> ReviewRound | None:
    """The plan's open round, if any."""
    return ReviewRound.objects.filter(plan=plan, state=ReviewRound.State.OPEN).first()


def review_rounds_for_plan(*, plan: Plan) -> QuerySet[ReviewRound]:
    """The plan's rounds, latest first, with their counts of invitations and of each verdict (one query)."""
    return (
        ReviewRound.objects.filter(plan=plan)
        .select_related("opened_by", "closed_by", "snapshot")
        .annotate(
            invited=Count("invitations"),
            no_objection=Count("invitations", filter=Q(invitations__verdict=Verdict.NO_OBJECTION)),
            changes_requested=Count("invitations", filter=Q(invitations__verdict=Verdict.CHANGES_REQUESTED)),
        )
        .order_by("-number")
    )


def review_round_get(*, plan: Plan, round_id: int) -> ReviewRound:
    """A round of this plan with its invitations and their reviewers loaded; Http404 for another plan's."""
    invitations = ReviewInvitation.objects.select_related("reviewer").order_by(
        "reviewer__first_name", "reviewer__last_name", "reviewer__username"
    )
    review_round = (
        ReviewRound.objects.filter(plan=plan, pk=round_id)
        .select_related("opened_by", "closed_by", "snapshot")
        .prefetch_related(Prefetch("invitations", queryset=invitations))
        .first()
    )
    if review_round is None:
        raise Http404(_("No such review round in this plan."))
    review_round.plan = plan
    return review_round


def review_round_previous_snapshot(review_round: ReviewRound) -> PlanVersion | None:
    """What the round before this one reviewed, to compare with what this one reviews (None for the first)."""
    previous = (
        ReviewRound.objects.filter(plan_id=review_round.plan_id, number__lt=review_round.number)
        .select_related("snapshot")
        .order_by("-number")
        .first()
    )
    return previous.snapshot if previous is not None else None


def review_invitations_pending(*, user: User, plan: Plan | None = None) -> QuerySet[ReviewInvitation]:
    """The person's invitations in open rounds that wait for their verdict (of one plan, or of every plan they
    still belong to)."""
    pending = ReviewInvitation.objects.filter(
        reviewer=user,
        verdict="",
        review_round__state=ReviewRound.State.OPEN,
        review_round__plan__memberships__user=user,
    )
    if plan is not None:
        pending = pending.filter(review_round__plan=plan)
    return pending.select_related("review_round__plan").order_by("review_round__due_on", "pk")


def review_overview(*, plan: Plan, user: User) -> dict[str, object]:
    """What the plan's overview shows of its review: the open round, and the person's invitation to it while it
    waits for their verdict."""
    open_round = review_round_open_for(plan)
    pending = None
    if open_round is not None:
        pending = ReviewInvitation.objects.filter(review_round=open_round, reviewer_id=user.pk, verdict="").first()
    return {"open_round": open_round, "my_pending_review": pending}


def reviewers_offered(*, plan: Plan) -> list[PlanMembership]:
    """The members a round may invite, those with the reviewer role first: every member but viewers."""
    from stakeholders.models import PlanMembership

    members = (
        PlanMembership.objects.filter(plan=plan)
        .exclude(role=Role.VIEWER)
        .select_related("user", "organization")
        .order_by("user__first_name", "user__last_name", "user__username")
    )
    return sorted(members, key=lambda member: member.role != Role.REVIEWER)


# Writes ------------------------------------------------------------------------------------------------------


def _plan_locked(plan: Plan) -> Plan:
    """The plan's row, locked until the transaction ends, with its state as stored now."""
    locked = Plan.objects.select_for_update().get(pk=plan.pk)
    plan.status, plan.edition = locked.status, locked.edition
    return plan


def _reviewers_check(*, plan: Plan, reviewers: Iterable[User]) -> list[User]:
    """The reviewers as given, each a member of the plan who is not a viewer; ValidationError naming the others."""
    from stakeholders.models import PlanMembership

    chosen = list(dict.fromkeys(reviewers))
    if not chosen:
        raise ValidationError({"reviewers": _("Choose at least one reviewer.")})
    roles = dict(
        PlanMembership.objects.filter(plan=plan, user__in=chosen, user__is_active=True).values_list("user_id", "role")
    )
    strangers = [user for user in chosen if user.pk not in roles]
    viewers = [user for user in chosen if roles.get(user.pk) == Role.VIEWER]
    errors = []
    if strangers:
        # Named by user name only: the person opening the round may not know who they are.
        errors.append(
            ngettext(
                "%(names)s is not a member of this plan: invite members only.",
                "%(names)s are not members of this plan: invite members only.",
                len(strangers),
            )
            % {"names": ", ".join(f"@{user.username}" for user in strangers)}
        )
    if viewers:
        errors.append(
            ngettext(
                "%(names)s is a viewer of this plan, and viewers do not review: choose another member or change "
                "their role first.",
                "%(names)s are viewers of this plan, and viewers do not review: choose other members or change "
                "their roles first.",
                len(viewers),
            )
            % {"names": ", ".join(str(user) for user in viewers)}
        )
    if errors:
        raise ValidationError({"reviewers": errors})
    return chosen


def _text_check(text: str, *, field: str, label: str) -> str:
    text = text.strip().replace("\r\n", "\n")
    if len(text) > COMMENT_MAX_CHARS:
        raise ValidationError(
            {field: _("The %(label)s is at most %(limit)d characters.") % {"label": label, "limit": COMMENT_MAX_CHARS}}
        )
    return text


def _round_url(review_round: ReviewRound) -> str:
    return reverse("review_round", kwargs={"plan_id": review_round.plan_id, "round_id": review_round.pk})


def _mail_reviewer(*, invitation: ReviewInvitation, review_round: ReviewRound, template: str, by: User | None) -> None:
    reviewer = invitation.reviewer
    if not reviewer.email:
        return
    mail_send_on_commit(
        to=reviewer.email,
        template=template,
        context={
            "user": reviewer,
            "by": by,
            "plan": review_round.plan,
            "review_round": review_round,
            "round_url": _round_url(review_round),
        },
        language=person_language(reviewer),
    )


@transaction.atomic
def review_round_open(
    *,
    plan: Plan,
    by: User,
    reviewers: Iterable[User],
    due_on: datetime.date,
    message: str = "",
    plan_version: PlanVersion | None = None,
) -> ReviewRound:
    """Open the plan's next round on a stored version of the plan (`plan_version`), or on the draft as it is now
    (stored for the round), invite the reviewers (members of the plan, viewers aside), set the plan in review and
    e-mail each reviewer once committed.

    Refused while another round is open (ValidationError) and once the plan is endorsed (PlanFrozen)."""
    errors: dict[str, list[str]] = {}
    try:
        chosen = _reviewers_check(plan=plan, reviewers=reviewers)
    except ValidationError as error:
        errors.update(error.message_dict)
    today = timezone.localdate()
    if due_on < today:
        errors["due_on"] = [
            _("The due date %(date)s has passed: choose today or a later day.") % {"date": due_on.isoformat()}
        ]
    try:
        message = _text_check(message, field="message", label=_("message"))
    except ValidationError as error:
        errors.update(error.message_dict)
    if plan_version is not None and plan_version.plan_id != plan.pk:
        errors["plan_version"] = [_("No such version of this plan.")]
    if errors:
        raise ValidationError(errors)
    plan_writable_check(_plan_locked(plan))
    current = review_round_open_for(plan)
    if current is not None:
        raise ValidationError(
            _("%(round)s is open: close it before opening another.") % {"round": current}, code="round_open"
        )
    last = ReviewRound.objects.filter(plan=plan).order_by("-number").values_list("number", flat=True).first()
    number = (last or 0) + 1
    snapshot = plan_version or plan_version_store(
        plan=plan,
        by=by,
        kind=PlanVersion.Kind.REVIEW,
        # Translators: the name of the version of the plan a review round reviews.
        label=_("The draft as sent for review in round %(number)d") % {"number": number},
    )
    review_round = ReviewRound(
        plan=plan, number=number, snapshot=snapshot, due_on=due_on, message=message, opened_by=by
    )
    review_round.full_clean(exclude=["opened_by", "closed_by", "snapshot"])
    review_round.save(force_insert=True)
    invitations = ReviewInvitation.objects.bulk_create(
        ReviewInvitation(review_round=review_round, reviewer=user) for user in chosen
    )
    status_before = plan.status
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.IN_REVIEW)
    plan.status = Plan.Status.IN_REVIEW
    audit_record(
        plan=plan,
        by=by,
        action="opened the review round",
        target=review_round,
        changes={
            "status": [status_before, plan.status],
            "reviewers": [None, [user.username for user in chosen]],
            "due_on": [None, due_on.isoformat()],
        },
    )
    for invitation in invitations:
        _mail_reviewer(invitation=invitation, review_round=review_round, template="planning/email/review_open", by=by)
    return review_round


def review_invitation_of(*, review_round: ReviewRound, membership: PlanMembership) -> ReviewInvitation:
    """The member's invitation to the round: PermissionDenied for a viewer (by role) and for a member the round
    does not invite."""
    if not membership.role_allows(Permission.COMMENT):
        raise PermissionDenied(
            _("Your role in this plan (%(role)s) does not allow this.") % {"role": membership.get_role_display()}
        )
    invitation = ReviewInvitation.objects.filter(review_round=review_round, reviewer_id=membership.user_id).first()
    if invitation is None:
        raise PermissionDenied(_("You are not invited to this review round: only its reviewers give a verdict."))
    invitation.review_round = review_round
    return invitation


@transaction.atomic
def review_verdict_give(
    *, review_round: ReviewRound, membership: PlanMembership, verdict: str, summary: str, version: int
) -> ReviewInvitation:
    """The member's verdict in the round, from the version of their invitation they read (EditConflict when it
    changed since): no objection, or changes requested with a summary. Changed as often as they like until the
    round closes."""
    invitation = review_invitation_of(review_round=review_round, membership=membership)
    # The round's row, locked: a verdict and the round's closing take turns, so none lands in a closed round.
    state = ReviewRound.objects.select_for_update().filter(pk=review_round.pk).values_list("state", flat=True).first()
    if state != ReviewRound.State.OPEN:
        raise ValidationError(
            _("%(round)s is closed: verdicts can no longer be given or changed.") % {"round": review_round},
            code="round_closed",
        )
    errors: dict[str, str] = {}
    if verdict not in Verdict.values:
        errors["verdict"] = _("Choose no objection or changes requested.")
    try:
        summary = _text_check(summary, field="summary", label=_("summary"))
    except ValidationError as error:
        errors.update({name: messages[0] for name, messages in error.message_dict.items()})
    if verdict == Verdict.CHANGES_REQUESTED and not summary:
        errors["summary"] = _("Say which changes you request: a summary is required with changes requested.")
    if errors:
        raise ValidationError(errors)
    fields = {"verdict": verdict, "summary": summary, "verdict_at": timezone.now()}
    changes = versioned_update(invitation, version=version, fields=fields)
    changes.pop("verdict_at", None)
    audit_record(
        plan=review_round.plan, by=membership.user, action="gave a verdict", target=invitation, changes=changes
    )
    return invitation


@transaction.atomic
def review_round_close(*, review_round: ReviewRound, by: User, outcome: str, note: str = "") -> ReviewRound:
    """Close the round: the plan goes back to draft, or on to endorsement (awaiting it). The reviewers who gave no
    verdict are recorded. EditConflict when someone closed it meanwhile."""
    errors: dict[str, list[str]] = {}
    if outcome not in Outcome.values:
        errors["outcome"] = [_("Choose back to draft or on to endorsement.")]
    try:
        note = _text_check(note, field="note", label=_("closing note"))
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    plan = _plan_locked(review_round.plan)
    stored = ReviewRound.objects.select_related("closed_by").get(pk=review_round.pk)
    if stored.state != ReviewRound.State.OPEN:
        raise EditConflict(
            stored,
            _("%(round)s was closed by %(person)s meanwhile; nothing was changed.")
            % {"round": stored, "person": stored.closed_by or _("someone else")},
        )
    status = Plan.Status.AWAITING_ENDORSEMENT if outcome == Outcome.ENDORSEMENT else Plan.Status.DRAFT
    fields = {
        "state": ReviewRound.State.CLOSED,
        "outcome": outcome,
        "closing_note": note,
        "closed_by": by,
        "closed_at": timezone.now(),
    }
    # Checked whole above, and the plan's row is held: no full_clean, which would refuse a round whose opener's
    # account is gone (opened_by set to null).
    ReviewRound.objects.filter(pk=stored.pk).update(version=F("version") + 1, **fields)
    for name, value in fields.items():
        setattr(stored, name, value)
    stored.version += 1
    status_before = plan.status
    if not plan.is_frozen:  # an endorsement recorded while the round was open stands
        Plan.objects.filter(pk=plan.pk).update(status=status)
        plan.status = status
    silent = list(
        ReviewInvitation.objects.filter(review_round=stored, verdict="")
        .order_by("reviewer__username")
        .values_list("reviewer__username", flat=True)
    )
    audit_record(
        plan=plan,
        by=by,
        action="closed the review round",
        target=stored,
        changes={"outcome": [None, outcome], "status": [status_before, plan.status], "without verdict": silent},
    )
    stored.plan = plan
    return stored


def review_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """E-mail every reviewer of an open round past its due date who has given no verdict and was not reminded
    today; the number reminded. Run twice, it reminds nobody twice: each invitation is locked (skipped if another
    run holds it) and stamped in the same transaction as its e-mail is queued."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    day_start = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    reminded = 0
    with transaction.atomic():
        due = list(
            ReviewInvitation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(verdict="", review_round__state=ReviewRound.State.OPEN, review_round__due_on__lt=today)
            .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lt=day_start))
            .select_related("reviewer", "review_round__plan")
            .order_by("pk")
        )
        for invitation in due:
            invitation.reminded_at = now
            invitation.save(update_fields=["reminded_at"])
            review_round = invitation.review_round
            _mail_reviewer(
                invitation=invitation, review_round=review_round, template="planning/email/review_reminder", by=None
            )
            audit_record(
                plan=review_round.plan,
                by=None,
                action="reminded the reviewer",
                target=invitation,
                changes={"due_on": review_round.due_on.isoformat()},
            )
            reminded += 1
    return reminded
