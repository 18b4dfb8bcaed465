"""Writes about people and organizations: memberships, invitations, organizations, the directory export."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from naphs.errors import EditConflict
from naphs.jobs import JobFailed, JobResult, Progress, file_slug
from naphs.languages import person_language
from naphs.mail import mail_send_on_commit
from naphs.permissions import Role
from naphs.services import audit_record, duplicate_refusal, row_insert, versioned_update
from naphs.xlsx import add_table_sheet, new_workbook, workbook_bytes
from planning.models import Jurisdiction, Plan, TechnicalArea
from stakeholders.models import Invitation, Organization, PlanMembership, User

if TYPE_CHECKING:
    from naphs.models import Job


def _set_technical_areas(membership: PlanMembership, areas: Iterable[TechnicalArea]) -> dict[str, list]:
    """Assign a technical lead's areas (other roles have none); return the change, if any, for the audit trail."""
    areas = list(areas) if membership.role == Role.TECHNICAL_LEAD else []
    foreign = [area.code for area in areas if area.framework_id != membership.plan.framework_id]
    if foreign:
        message = _("Not technical areas of this plan's framework: %(codes)s.") % {"codes": ", ".join(foreign)}
        raise ValidationError({"technical_areas": message})
    before = sorted(area.code for area in membership.technical_areas.all())
    after = sorted(area.code for area in areas)
    membership.technical_areas.set(areas)
    return {"technical_areas": [before, after]} if before != after else {}


@transaction.atomic
def membership_add(
    *,
    plan: Plan,
    by: User,
    user: User,
    role: str,
    organization: Organization | None = None,
    technical_areas: Iterable[TechnicalArea] = (),
    notify: bool = False,
) -> PlanMembership:
    """Make the person a member of the plan at once. Only for those who need no consent: whoever opens a plan
    becomes its lead. Everyone else joins by accepting an invitation (invitation_create, invitation_accept)."""

    def already_member() -> ValidationError | None:
        existing = PlanMembership.objects.filter(plan=plan, user=user).first()
        if existing is None:
            return None
        return ValidationError(
            {
                # Translators: %(role)s is a role's label (e.g. “Focal point”), put in as it is.
                "email": _("%(person)s is already a member of this plan (role: %(role)s).")
                % {"person": user, "role": existing.get_role_display()}
            }
        )

    if refusal := already_member():
        raise refusal
    membership = PlanMembership(plan=plan, user=user, role=role, organization=organization)
    membership.full_clean()
    # Added by someone else at the same moment: the same answer as if they had been a moment quicker.
    row_insert(membership, refused=already_member)
    changes = {"role": [None, role], **_set_technical_areas(membership, technical_areas)}
    audit_record(plan=plan, by=by, action="added", target=membership, changes=changes)
    if notify and user.email:
        context: dict[str, object] = {"membership": membership, "plan": plan, "by": by, "user": user}
        context["plan_url"] = reverse("plan_detail", kwargs={"plan_id": plan.pk})
        mail_send_on_commit(
            to=user.email, template="stakeholders/email/member_added", context=context, language=person_language(user)
        )
    return membership


# Invitations. Nobody joins a plan without accepting. Whatever the address (an account's, nobody's, a member's),
# inviting it does the same things and answers the same way: one pending invitation, one audit event, one e-mail
# sent by the worker after commit. Only the invitee, opening the link or signed in, learns what comes next.


class InvitationClosed(Exception):
    """The invitation was accepted, declined or revoked, or it expired: it can no longer be answered or sent."""

    def __init__(self, invitation: Invitation) -> None:
        self.invitation = invitation
        if invitation.is_pending:
            message = _("This invitation has expired. Ask the plan's secretariat to send it again.")
        else:
            message = {
                Invitation.Status.ACCEPTED: _("This invitation was accepted already."),
                Invitation.Status.DECLINED: _("This invitation was declined."),
                Invitation.Status.REVOKED: _("This invitation was revoked by the plan's secretariat."),
            }[Invitation.Status(invitation.status)]
        super().__init__(message)


class InvitationNotYours(PermissionDenied):
    """The signed-in account is not the one the invitation was sent to."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "This invitation was sent to another e-mail address than the one of the account you are signed in "
                "with. Sign out, then open the link again and sign in with the invited address."
            )
        )


def invitation_link(token: str) -> str:
    return reverse("invitation", kwargs={"key": token})


def invitation_lifetime() -> datetime.timedelta:
    """How long a link stays valid: INVITATION_TIMEOUT_SECONDS, as for password-reset links."""
    return datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)


def _pending_invitation(*, plan: Plan, email: str) -> Invitation | None:
    """The plan's pending invitation to this address (ignoring case, as the unique index does), locked."""
    return (
        Invitation.objects.select_for_update()
        .alias(email_lower=Lower("email"))
        .filter(plan=plan, status=Invitation.Status.PENDING, email_lower=Lower(Value(email)))
        .first()
    )


def _checked_offer(
    *, plan: Plan, role: str, organization: Organization | None, technical_areas: Iterable[TechnicalArea]
) -> list[TechnicalArea]:
    """Refuse an offer that could not become a membership; the technical areas it carries (a technical lead's)."""
    errors: dict[str, str] = {}
    if role not in Role.values:
        errors["role"] = _("“%(role)s” is not a role.") % {"role": role}
    if role == Role.FOCAL_POINT and organization is None:
        errors["organization"] = _("A focal point must be tied to an organization.")
    if organization is not None and organization.jurisdiction.country_id != plan.jurisdiction.country_id:
        errors["organization"] = _("This organization belongs to another country.")
    areas = list(technical_areas) if role == Role.TECHNICAL_LEAD else []
    foreign = [area.code for area in areas if area.framework_id != plan.framework_id]
    if foreign:
        errors["technical_areas"] = _("Not technical areas of this plan's framework: %(codes)s.") % {
            "codes": ", ".join(foreign)
        }
    if errors:
        raise ValidationError(errors)
    return areas


def _offer(invitation: Invitation) -> dict[str, Any]:
    return {
        "role": invitation.role,
        "organization": str(invitation.organization) if invitation.organization else None,
        "technical_areas": sorted(area.code for area in invitation.technical_areas.all()),
    }


def _invitation_mail(invitation: Invitation, *, token: str) -> None:
    """One e-mail, sent by the worker after commit. Which text depends on whether the address has an account,
    something only the invitee reads: an account signs in to answer; anyone else first chooses a password."""
    account = User.objects.filter(email__iexact=invitation.email).first()
    context = {
        "invitation": invitation,
        "plan": invitation.plan,
        "by": invitation.invited_by,
        "user": account,
        "invitation_url": invitation_link(token),
        "expires_at": invitation.expires_at,
    }
    has_account = account is not None and account.has_usable_password()
    template = "stakeholders/email/invitation_to_account" if has_account else "stakeholders/email/invitation"
    mail_send_on_commit(to=invitation.email, template=template, context=context, language=person_language(account))


def _valid_email(email: str) -> str:
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError as error:
        message = _("“%(email)s” is not a valid e-mail address.") % {"email": email}
        raise ValidationError({"email": message}) from error
    return email


@transaction.atomic
def invitation_create(
    *,
    plan: Plan,
    by: User,
    email: str,
    role: str,
    organization: Organization | None = None,
    technical_areas: Iterable[TechnicalArea] = (),
) -> Invitation:
    """Invite an address to join the plan in this role; an address with a pending invitation has it refreshed
    (the new offer, a new link and expiry, e-mailed again) rather than getting a second one.

    Looks at no account, so the answer is the same whoever the address belongs to. Nobody joins until they accept.
    """
    email = _valid_email(email)
    areas = _checked_offer(plan=plan, role=role, organization=organization, technical_areas=technical_areas)
    now = timezone.now()
    invitation = _pending_invitation(plan=plan, email=email)
    if invitation is None:
        try:
            with transaction.atomic():  # a savepoint: someone inviting the same address at this moment wins
                invitation = Invitation(plan=plan, email=email, role=role, organization=organization, invited_by=by)
                token = invitation.issue_token()
                invitation.sent_at, invitation.expires_at = now, now + invitation_lifetime()
                invitation.save()
                invitation.technical_areas.set(areas)
        except IntegrityError:
            invitation = _pending_invitation(plan=plan, email=email)
            if invitation is None:
                raise
        else:
            audit_record(
                plan=plan, by=by, action="invited", target=invitation, changes=_invitation_changes(None, invitation)
            )
            _invitation_mail(invitation, token=token)
            return invitation
    before = _offer(invitation)
    invitation.email, invitation.role, invitation.organization, invitation.invited_by = email, role, organization, by
    token = invitation.issue_token()
    invitation.sent_at, invitation.expires_at = now, now + invitation_lifetime()
    invitation.version += 1
    invitation.save()
    invitation.technical_areas.set(areas)
    audit_record(
        plan=plan, by=by, action="invited again", target=invitation, changes=_invitation_changes(before, invitation)
    )
    _invitation_mail(invitation, token=token)
    return invitation


def _invitation_changes(before: dict[str, Any] | None, invitation: Invitation) -> dict[str, list]:
    after = _offer(invitation)
    before = before or {"role": None, "organization": None, "technical_areas": []}
    return {name: [before[name], value] for name, value in after.items() if before[name] != value}


def _locked(invitation: Invitation) -> Invitation:
    """The invitation as stored now, locked until the transaction ends: answers and revocations queue up."""
    locked = (
        Invitation.objects.select_for_update(of=("self",)).select_related("plan", "organization").get(pk=invitation.pk)
    )
    locked.plan = invitation.plan
    return locked


@transaction.atomic
def invitation_resend(*, invitation: Invitation, by: User) -> Invitation:
    """E-mail a pending invitation again, with a new link (the one sent before stops working) and a new expiry."""
    invitation = _locked(invitation)
    if not invitation.is_pending:
        raise InvitationClosed(invitation)
    token = invitation.issue_token()
    now = timezone.now()
    invitation.sent_at, invitation.expires_at = now, now + invitation_lifetime()
    invitation.version += 1
    invitation.save(update_fields=["token_hash", "sent_at", "expires_at", "version"])
    audit_record(plan=invitation.plan, by=by, action="sent again the invitation to", target=invitation)
    _invitation_mail(invitation, token=token)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by: User) -> Invitation:
    """Withdraw a pending invitation (expired or not): its link stops working."""
    invitation = _locked(invitation)
    if not invitation.is_pending:
        raise InvitationClosed(invitation)
    _close(invitation, Invitation.Status.REVOKED)
    audit_record(
        plan=invitation.plan,
        by=by,
        action="revoked the invitation to",
        target=invitation,
        changes={"status": [Invitation.Status.PENDING, Invitation.Status.REVOKED]},
    )
    return invitation


def _close(invitation: Invitation, status: Invitation.Status, *, accepted_by: User | None = None) -> None:
    invitation.status, invitation.responded_at, invitation.accepted_by = status, timezone.now(), accepted_by
    invitation.version += 1
    invitation.save(update_fields=["status", "responded_at", "accepted_by", "version"])


@dataclass(frozen=True)
class Joined:
    membership: PlanMembership
    already_member: bool  # the person was a member before: their role was kept as it was


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User, version: int) -> Joined:
    """The invitee, signed in with the invited address, joins the plan in the role offered (as last read: an
    invitation refreshed since `version` is refused with EditConflict).

    Someone who is a member already keeps their membership exactly as it is: an invitation never changes a role,
    which only the secretariat does on the Members page (and which could otherwise demote the last lead).
    """
    invitation = _locked(invitation)
    if not invitation.is_for(user):
        raise InvitationNotYours
    if not invitation.is_open:
        raise InvitationClosed(invitation)
    if invitation.version != version:
        raise EditConflict(invitation)
    plan = invitation.plan
    membership = PlanMembership.objects.filter(plan=plan, user=user).first()
    already_member = membership is not None
    if membership is None:
        membership = PlanMembership(plan=plan, user=user, role=invitation.role, organization=invitation.organization)
        membership.full_clean()
        membership.save()
        changes = {
            "role": [None, invitation.role],
            **_set_technical_areas(membership, invitation.technical_areas.all()),
        }
        audit_record(plan=plan, by=user, action="joined", target=membership, changes=changes)
    _close(invitation, Invitation.Status.ACCEPTED, accepted_by=user)
    changes = {"status": [Invitation.Status.PENDING, Invitation.Status.ACCEPTED]}
    if already_member:
        changes["role"] = [membership.role, membership.role]
    audit_record(plan=plan, by=user, action="accepted the invitation to", target=invitation, changes=changes)
    return Joined(membership=membership, already_member=already_member)


@transaction.atomic
def invitation_decline(*, invitation: Invitation, user: User | None) -> Invitation:
    """The invitee says no: signed in with the invited address, or (user None) holding the e-mailed link.

    Recorded without the account, so declining tells the secretariat nothing about whose address it is.
    """
    invitation = _locked(invitation)
    if user is not None and not invitation.is_for(user):
        raise InvitationNotYours
    if not invitation.is_open:
        raise InvitationClosed(invitation)
    _close(invitation, Invitation.Status.DECLINED)
    audit_record(
        plan=invitation.plan,
        by=None,
        action="declined the invitation to",
        target=invitation,
        changes={"status": [Invitation.Status.PENDING, Invitation.Status.DECLINED]},
    )
    return invitation


@transaction.atomic
def invitation_account_create(*, invitation: Invitation, password: str, first_name: str, last_name: str) -> User:
    """For an invitee without an account: the account of the invited address, with the password they chose.

    The e-mailed link is the proof that they read that address. An account created earlier without a password
    (by invitations before they needed accepting) gets the password; an account that has one is refused: its
    owner signs in instead.
    """
    invitation = _locked(invitation)
    if not invitation.is_open:
        raise InvitationClosed(invitation)
    account = User.objects.select_for_update().filter(email__iexact=invitation.email).first()
    if account is not None and account.has_usable_password():
        raise ValidationError(_("An account with this e-mail address exists: sign in to answer the invitation."))
    if account is None:
        username = invitation.email.lower()
        if len(username) > 150 or User.objects.filter(username__iexact=username).exists():
            username = f"{username[:140]}-{secrets.token_hex(4)}"
        account = User(username=username, email=invitation.email.lower())
    account.first_name = first_name.strip() or account.first_name
    account.last_name = last_name.strip() or account.last_name
    account.set_password(password)
    try:
        with transaction.atomic():
            account.full_clean(exclude=["password"])
            account.save()
    except IntegrityError as error:  # the same address or name registered at this very moment
        raise ValidationError(
            _("An account with this e-mail address exists: sign in to answer the invitation.")
        ) from error
    return account


def _keep_a_lead(membership: PlanMembership, new_role: str | None) -> None:
    if membership.role != Role.SECRETARIAT_LEAD or new_role == Role.SECRETARIAT_LEAD:
        return
    # Lock the plan's leads so two secretariat members cannot each remove "the other" last lead.
    leads = list(
        PlanMembership.objects.select_for_update().filter(plan_id=membership.plan_id, role=Role.SECRETARIAT_LEAD)
    )
    if len(leads) <= 1:
        raise ValidationError({"role": _("This is the plan's only secretariat lead. Name another lead first.")})


@transaction.atomic
def membership_update(
    *,
    membership: PlanMembership,
    by: User,
    version: int,
    role: str,
    organization: Organization | None,
    technical_areas: Iterable[TechnicalArea] | None = None,
) -> PlanMembership:
    """Change a member's role and organization (and a technical lead's areas; None keeps them)."""
    _keep_a_lead(membership, role)
    if technical_areas is None:
        technical_areas = list(membership.technical_areas.all())
    changes = versioned_update(membership, version=version, fields={"role": role, "organization": organization})
    changes |= _set_technical_areas(membership, technical_areas)
    if changes:
        audit_record(plan=membership.plan, by=by, action="changed the role of", target=membership, changes=changes)
    return membership


@transaction.atomic
def membership_remove(*, membership: PlanMembership, by: User) -> None:
    _keep_a_lead(membership, None)
    audit_record(
        plan=membership.plan, by=by, action="removed", target=membership, changes={"role": [membership.role, None]}
    )
    membership.delete()


@transaction.atomic
def organization_create(
    *, by: User, name: str, kind: str, jurisdiction: Jurisdiction, acronym: str = "", sectors: list[str] | None = None
) -> Organization:
    organization = Organization(
        name=name.strip(), acronym=acronym.strip(), kind=kind, jurisdiction=jurisdiction, sectors=sectors or []
    )
    organization.full_clean()
    row_insert(organization, refused=lambda: duplicate_refusal(organization))  # the same name added at once
    audit_record(plan=None, by=by, action="created", target=organization)
    return organization


@transaction.atomic
def organization_update(*, organization: Organization, by: User, version: int, **fields: Any) -> Organization:
    changes = versioned_update(organization, version=version, fields=fields)
    if changes:
        audit_record(plan=None, by=by, action="changed", target=organization, changes=changes)
    return organization


@transaction.atomic
def organization_delete(*, organization: Organization, by: User) -> None:
    """Delete an organization no membership refers to (ProtectedError otherwise)."""
    audit_record(plan=None, by=by, action="deleted", target=organization)
    organization.delete()


def plan_directory_export(*, job: Job, progress: Progress) -> JobResult:
    """The plan's members and the organizations of its jurisdiction, as an Excel workbook."""
    from stakeholders.selectors import membership_list_for_plan, organization_list_for_plan

    plan = job.plan
    if plan is None:
        raise JobFailed(_("This export belongs to a plan, and the job has none."))
    progress(10, _("Reading members"))
    members = [
        [
            m.user.get_full_name(),
            m.user.email,
            m.get_role_display(),
            str(m.organization or ""),
            m.created_at.date().isoformat(),
        ]
        for m in membership_list_for_plan(plan=plan)
    ]
    progress(40, _("Reading organizations"))
    organizations = [
        [o.name, o.acronym, o.get_kind_display(), o.get_sectors_display(), o.jurisdiction.name, o.member_count]  # type: ignore[attr-defined]  # annotated by organization_list_for_plan
        for o in organization_list_for_plan(plan=plan)
    ]
    progress(70, _("Writing the workbook"))
    workbook = new_workbook()
    add_table_sheet(
        workbook,
        title=_("Members"),
        headers=[_("Name"), _("E-mail"), _("Role"), _("Organization"), _("Member since")],
        rows=members,
        widths=[28, 34, 20, 40, 14],
    )
    add_table_sheet(
        workbook,
        title=_("Organizations"),
        headers=[_("Name"), _("Acronym"), _("Kind"), _("Sectors"), _("Jurisdiction"), _("Members in this plan")],
        rows=organizations,
        widths=[44, 12, 20, 40, 24, 12],
    )
    workbook.properties.title = _("%(plan)s: directory") % {"plan": plan.title}
    return JobResult(filename=f"{file_slug(plan.title)}-directory.xlsx", content=workbook_bytes(workbook))


def audit_filters_from_params(*, plan: Plan, params: dict[str, Any]) -> dict[str, Any]:
    """The filters a job was asked with, checked again against the plan as it is now (JobFailed if no longer
    valid: a person or an area that has gone)."""
    from stakeholders.forms import AuditFilterForm

    form = AuditFilterForm(params, plan=plan)
    if not form.is_valid():
        problems = "; ".join(str(message) for messages in form.errors.values() for message in messages)
        raise JobFailed(_("The filters of this export are no longer valid: %(problems)s") % {"problems": problems})
    return form.filters()


def plan_audit_export(*, job: Job, progress: Progress) -> JobResult:
    """The plan's audit trail (filtered as asked) as an Excel workbook: one row per changed field, in the
    language of the person who asked; only for someone who may still read the trail."""
    from naphs.audit import audit_actor_name, audit_change_rows, audit_kind_label, audit_sentence
    from naphs.permissions import Permission
    from stakeholders.selectors import audit_events_for_plan

    plan = job.plan
    if plan is None:
        raise JobFailed(_("This export belongs to a plan, and the job has none."))
    membership = PlanMembership.objects.filter(plan=plan, user_id=job.requested_by_id).first()
    if membership is None or not membership.allows(Permission.MANAGE):
        raise JobFailed(_("Only the plan's secretariat may export its audit trail."))
    filters = audit_filters_from_params(plan=plan, params=job.params)
    progress(10, _("Reading the audit trail"))
    rows = []
    for event in audit_events_for_plan(plan=plan, **filters).iterator(chunk_size=2000):
        when = timezone.localtime(event.created_at).replace(tzinfo=None)
        head = [
            when,
            audit_actor_name(event),
            audit_sentence(event),
            audit_kind_label(event.target_type),
            event.target_repr,
            event.technical_area.code if event.technical_area is not None else "",
        ]
        changes = audit_change_rows(event)
        if not changes:
            rows.append([*head, "", "", ""])
        for change in changes:
            rows.append([*head, change.field, change.before, change.after])
    progress(70, _("Writing the workbook"))
    workbook = new_workbook()
    sheet = add_table_sheet(
        workbook,
        title=_("Audit trail"),
        headers=[
            _("Date and time"),
            _("Who"),
            _("Change"),
            _("Kind of object"),
            _("Object"),
            _("Technical area"),
            _("Field"),
            _("Before"),
            _("After"),
        ],
        rows=rows,
        widths=[18, 26, 60, 20, 40, 10, 24, 30, 30],
    )
    for (cell,) in sheet.iter_rows(min_row=2, min_col=1, max_col=1):
        cell.number_format = "yyyy-mm-dd hh:mm"
    workbook.properties.title = _("%(plan)s: audit trail") % {"plan": plan.title}
    return JobResult(filename=f"{file_slug(plan.title)}-audit-trail.xlsx", content=workbook_bytes(workbook))
