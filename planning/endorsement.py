"""Endorsement and reopening: the government endorses draft N, which becomes version N, stored whole and read-only
for everyone; the secretariat lead reopens it as draft N+1, leaving version N as it was.

Both lock the plan's row for update inside their transaction and decide from the locked row: two people
endorsing at once, the second is told who endorsed it and when; a content write under way when the plan is
endorsed holds the row FOR SHARE (naphs.services.plan_content_lock), so the endorsement waits for it and its
version holds it, and a write after the endorsement is refused.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from naphs.errors import EditConflict
from naphs.languages import bidi_controls_refuse, person_language
from naphs.mail import mail_send_on_commit
from naphs.permissions import SECRETARIAT_ROLES, Permission
from naphs.services import audit_record
from naphs.uploads import stored_name, upload_file_check
from planning import hooks
from planning.models import COMMENT_MAX_CHARS, CommentThread, Endorsement, Plan, PlanVersion, ReviewRound
from planning.versions import plan_version_store
from stakeholders.access import membership_get_for_user

if TYPE_CHECKING:
    from stakeholders.models import User

AUTHORITY_MAX = Endorsement._meta.get_field("authority").max_length or 300
REASON_MAX = COMMENT_MAX_CHARS
PDF_MAGIC = b"%PDF-"
SIGNED_DOCUMENT_WHAT = gettext_lazy("the signed document as a PDF file (.pdf)")


@dataclass(frozen=True)
class EndorsementWarnings:
    """What is still open in the plan when the lead endorses it: its open comment threads and its open round."""

    open_threads: int
    review_round: ReviewRound | None

    def messages(self) -> list[str]:
        said = []
        if self.open_threads:
            said.append(
                ngettext(
                    "%(count)d comment thread is still open; it stays open on the endorsed version.",
                    "%(count)d comment threads are still open; they stay open on the endorsed version.",
                    self.open_threads,
                )
                % {"count": self.open_threads}
            )
        if self.review_round is not None:
            said.append(
                _("%(round)s is still open; endorsing closes it, on to endorsement.") % {"round": self.review_round}
            )
        return said

    def __bool__(self) -> bool:
        return bool(self.open_threads or self.review_round)


class ConfirmationNeeded(Exception):
    """The plan has open threads or an open round: endorse only once the lead confirms, having read the warnings.
    Pages show them and ask; the API answers 409 with the code `confirmation_needed`."""

    def __init__(self, warnings: EndorsementWarnings) -> None:
        self.warnings = warnings
        super().__init__(
            _("Read the warnings, then confirm to endorse the plan anyway: %(warnings)s")
            % {"warnings": " ".join(warnings.messages())}
        )


def endorsement_warnings(plan: Plan) -> EndorsementWarnings:
    """What endorsing the plan now would leave open: two queries."""
    open_threads = CommentThread.objects.filter(plan=plan, state=CommentThread.State.OPEN).count()
    review_round = ReviewRound.objects.filter(plan=plan, state=ReviewRound.State.OPEN).first()
    return EndorsementWarnings(open_threads=open_threads, review_round=review_round)


def signed_document_check(file: UploadedFile) -> None:
    """Refuse a signed document that is not a PDF by its name and its content (it starts with %PDF-: an HTML page
    named .pdf is refused), empty or larger than the uploads' limit."""
    upload_file_check(file, extensions=[".pdf"], what=SIGNED_DOCUMENT_WHAT)
    file.seek(0)
    start = file.read(len(PDF_MAGIC))
    file.seek(0)
    if start != PDF_MAGIC:
        raise ValidationError(
            _("This file is not a PDF document (its content does not start as a PDF does). Upload %(what)s.")
            % {"what": SIGNED_DOCUMENT_WHAT},
            code="not_pdf",
        )


def _endorsed_on_check(*, plan: Plan, endorsed_on: datetime.date | None) -> datetime.date:
    if endorsed_on is None:
        raise ValidationError({"endorsed_on": _("Give the date the plan was endorsed.")})
    today = timezone.localdate()
    if endorsed_on > today:
        raise ValidationError(
            {
                "endorsed_on": _("The date of endorsement cannot be in the future; today is %(today)s.")
                % {"today": formats.date_format(today, "DATE_FORMAT")}
            }
        )
    created = timezone.localdate(plan.created_at) if plan.created_at else today
    if endorsed_on < created:
        raise ValidationError(
            {
                "endorsed_on": _("The plan cannot have been endorsed before it was opened here, on %(date)s.")
                % {"date": formats.date_format(created, "DATE_FORMAT")}
            }
        )
    return endorsed_on


def _text_check(*, value: str | None, field: str, label: str, empty: str, limit: int) -> str:
    text = " ".join((value or "").split()) if field == "authority" else (value or "").strip()
    if not text:
        raise ValidationError({field: empty})
    if len(text) > limit:
        raise ValidationError(
            {
                field: _("%(field)s has at most %(limit)d characters; this has %(length)d.")
                % {"field": label, "limit": limit, "length": len(text)}
            }
        )
    try:
        bidi_controls_refuse(text, field=label)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from None
    return text


def authority_check(authority: str | None) -> str:
    return _text_check(
        value=authority,
        field="authority",
        label=_("The endorsing authority"),
        empty=_("Name the authority that endorsed the plan, e.g. the Minister of Health."),
        limit=AUTHORITY_MAX,
    )


def reason_check(reason: str | None) -> str:
    return _text_check(
        value=reason,
        field="reason",
        label=_("The reason"),
        empty=_("Say why the plan is reopened: it is recorded with the endorsement."),
        limit=REASON_MAX,
    )


def _already_endorsed(plan: Plan) -> EditConflict:
    current = Endorsement.objects.select_related("endorsed_by").filter(plan=plan, number=plan.edition).first()
    if current is None:
        return EditConflict(plan, _("This plan is already endorsed."))
    return EditConflict(
        plan,
        _(
            "%(person)s already recorded the endorsement of this plan (version %(number)d, endorsed on %(date)s by "
            "%(authority)s) at %(recorded)s; nothing was saved."
        )
        % {
            "person": current.endorsed_by or _("Someone"),
            "number": current.number,
            "date": formats.date_format(current.endorsed_on, "DATE_FORMAT"),
            "authority": current.authority,
            "recorded": formats.date_format(timezone.localtime(current.recorded_at), "DATETIME_FORMAT"),
        },
    )


def _mail_secretariat(*, plan: Plan, endorsement: Endorsement, by: User) -> None:
    from stakeholders.models import PlanMembership

    url = reverse("plan_endorsement", kwargs={"plan_id": plan.pk})
    members = PlanMembership.objects.filter(plan=plan, role__in=SECRETARIAT_ROLES, user__is_active=True)
    for membership in members.select_related("user"):
        user = membership.user
        if user.pk == by.pk or not user.email:
            continue
        mail_send_on_commit(
            to=user.email,
            template="planning/email/plan_endorsed",
            context={"user": user, "by": by, "plan": plan, "endorsement": endorsement, "url": url},
            language=person_language(user),
        )


def plan_endorse(
    *,
    plan: Plan,
    by: User,
    endorsed_on: datetime.date | None,
    authority: str | None,
    signed_document: UploadedFile | None = None,
    confirm: bool = False,
) -> Endorsement:
    """Record the government's endorsement of the draft: it becomes version N (plan.edition), stored whole, and the
    plan is endorsed, read-only for everyone until the lead reopens it. Only the secretariat lead (ENDORSE).

    Refused with ValidationError for a missing or future date, a missing authority, a signed document that is not
    a PDF; with EditConflict when the plan is endorsed already (someone was quicker); with ConfirmationNeeded when
    threads or a review round are open and `confirm` is false. On confirm an open round is closed, on to
    endorsement. The secretariat is e-mailed once it is saved."""
    membership_get_for_user(user=by, plan_id=plan.pk, need=Permission.ENDORSE)
    endorsed_on = _endorsed_on_check(plan=plan, endorsed_on=endorsed_on)
    authority = authority_check(authority)
    if signed_document is not None:
        try:
            signed_document_check(signed_document)
        except ValidationError as error:
            raise ValidationError({"signed_document": error.messages}) from None
    stored = ""
    try:
        with transaction.atomic():
            locked = Plan.objects.select_for_update().get(pk=plan.pk)
            if locked.is_frozen:
                raise _already_endorsed(locked)
            warnings = endorsement_warnings(locked)
            if warnings and not confirm:
                raise ConfirmationNeeded(warnings)
            changes: dict[str, object] = {}
            if warnings.review_round is not None:
                ReviewRound.objects.filter(pk=warnings.review_round.pk, state=ReviewRound.State.OPEN).update(
                    state=ReviewRound.State.CLOSED,
                    outcome=ReviewRound.Outcome.ENDORSEMENT,
                    closed_by=by,
                    closed_at=timezone.now(),
                    version=F("version") + 1,
                )
                changes["review_round"] = [str(warnings.review_round), ReviewRound.State.CLOSED.value]
            if warnings.open_threads:
                changes["open_threads"] = warnings.open_threads
            number = locked.edition
            version = plan_version_store(
                plan=locked, by=by, kind=PlanVersion.Kind.ENDORSED, label=_("Version %(number)d") % {"number": number}
            )
            endorsement = Endorsement(
                plan=locked,
                plan_version=version,
                number=number,
                endorsed_on=endorsed_on,
                authority=authority,
                endorsed_by=by,
            )
            if signed_document is not None:
                endorsement.signed_document.save(
                    stored_name(signed_document.name or "signed.pdf"), signed_document, save=False
                )
                stored = endorsement.signed_document.name or ""
            endorsement.save()
            before = locked.status
            locked.status = Plan.Status.ENDORSED
            locked.version += 1
            locked.save(update_fields=["status", "version", "updated_at"])
            audit_record(
                plan=locked,
                by=by,
                action="endorsed",
                target=endorsement,
                changes={
                    "status": [before, locked.status],
                    "number": [None, number],
                    "endorsed_on": [None, endorsed_on.isoformat()],
                    "authority": [None, authority],
                    "signed_document": [None, bool(stored)],
                    **changes,
                },
            )
            _mail_secretariat(plan=locked, endorsement=endorsement, by=by)
    except BaseException:
        if stored:  # nothing was saved: neither is the file
            Endorsement._meta.get_field("signed_document").storage.delete(stored)
        raise
    _plan_refresh(plan, locked)
    return endorsement


def _plan_refresh(plan: Plan, locked: Plan) -> None:
    """The caller's plan as the service left it (the page it renders next reads its state)."""
    plan.status, plan.edition, plan.version = locked.status, locked.edition, locked.version
    plan.updated_at = locked.updated_at
    plan.__dict__.pop("current_endorsement", None)


@transaction.atomic
def plan_reopen(*, plan: Plan, by: User, reason: str | None) -> Endorsement:
    """Reopen the endorsed plan as draft N+1, with the reason, which the endorsement keeps beside who reopened it
    and when. Version N (its stored version and its endorsement) stays as it was. Only the secretariat lead.
    Refused with ValidationError without a reason, with EditConflict when the plan is not endorsed (any more)."""
    membership_get_for_user(user=by, plan_id=plan.pk, need=Permission.ENDORSE)
    reason = reason_check(reason)
    locked = Plan.objects.select_for_update().get(pk=plan.pk)
    if not locked.is_frozen:  # a draft, or reopened meanwhile by someone else: a conflict with its state
        raise EditConflict(
            locked,
            _("Only an endorsed plan can be reopened; this one is “%(status)s”.")
            % {"status": locked.get_status_display()},
        )
    endorsement = Endorsement.objects.select_for_update().get(plan=locked, number=locked.edition)
    endorsement.reopened_by = by
    endorsement.reopened_at = timezone.now()
    endorsement.reopen_reason = reason
    endorsement.save(update_fields=["reopened_by", "reopened_at", "reopen_reason"])
    before = (locked.status, locked.edition)
    locked.status = Plan.Status.DRAFT
    locked.edition += 1
    locked.version += 1
    locked.save(update_fields=["status", "edition", "version", "updated_at"])
    audit_record(
        plan=locked,
        by=by,
        action="reopened",
        target=endorsement,
        changes={
            "status": [before[0], locked.status],
            "edition": [before[1], locked.edition],
            "reopen_reason": [None, reason],
        },
    )
    hooks.plan_reopened.send(locked, by)
    _plan_refresh(plan, locked)
    return endorsement


def endorsement_list_for_plan(plan: Plan) -> Sequence[Endorsement]:
    """The plan's endorsements, the latest first, with who recorded and who reopened each: one query."""
    return list(
        Endorsement.objects.filter(plan=plan)
        .select_related("endorsed_by", "reopened_by", "plan_version")
        .order_by("-number")
    )


def endorsement_get(*, plan: Plan, endorsement_id: int) -> Endorsement:
    """An endorsement of this plan; 404 for another plan's or none."""
    from django.http import Http404

    endorsement = Endorsement.objects.filter(plan=plan, pk=endorsement_id).first()
    if endorsement is None:
        raise Http404(_("No such endorsement of this plan."))
    endorsement.plan = plan
    return endorsement
