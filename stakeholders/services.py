"""Writes about people and organizations: memberships, invitations, organizations, the directory export."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from naphs.jobs import JobResult, Progress, file_slug
from naphs.mail import mail_send_on_commit
from naphs.permissions import Role
from naphs.services import audit_record, duplicate_refusal, row_insert, versioned_update
from naphs.xlsx import add_table_sheet, new_workbook, workbook_bytes
from planning.models import Jurisdiction, Plan, TechnicalArea
from stakeholders.models import Organization, PlanMembership, User

if TYPE_CHECKING:
    from naphs.models import Job


def invitation_url(user: User) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("invitation_accept", kwargs={"uidb64": uidb64, "token": default_token_generator.make_token(user)})


def _notify_member(membership: PlanMembership, *, by: User) -> None:
    user = membership.user
    context = {"membership": membership, "plan": membership.plan, "by": by, "user": user}
    if user.has_usable_password():
        context["plan_url"] = reverse("plan_detail", kwargs={"plan_id": membership.plan_id})
        mail_send_on_commit(to=user.email, template="stakeholders/email/member_added", context=context)
    else:
        context["invitation_url"] = invitation_url(user)
        mail_send_on_commit(to=user.email, template="stakeholders/email/invitation", context=context)


def _set_technical_areas(membership: PlanMembership, areas: Iterable[TechnicalArea]) -> dict[str, list]:
    """Assign a technical lead's areas (other roles have none); return the change, if any, for the audit trail."""
    areas = list(areas) if membership.role == Role.TECHNICAL_LEAD else []
    foreign = [area.code for area in areas if area.framework_id != membership.plan.framework_id]
    if foreign:
        message = f"Not technical areas of this plan's framework: {', '.join(foreign)}."
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
    notify: bool = True,
) -> PlanMembership:
    def already_member() -> ValidationError | None:
        existing = PlanMembership.objects.filter(plan=plan, user=user).first()
        if existing is None:
            return None
        return ValidationError(
            {"email": f"{user} is already a member of this plan, as {existing.get_role_display().lower()}."}
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
        _notify_member(membership, by=by)
    return membership


@transaction.atomic
def membership_invite(
    *,
    plan: Plan,
    by: User,
    email: str,
    role: str,
    organization: Organization | None = None,
    technical_areas: Iterable[TechnicalArea] = (),
    first_name: str = "",
    last_name: str = "",
) -> PlanMembership:
    """Add the person with this e-mail address to the plan, creating their account if they have none.

    A new account has no password: the e-mail carries a link where they set one.
    """
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError as error:
        raise ValidationError({"email": f"“{email}” is not a valid e-mail address."}) from error
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(
            username=email.lower(), email=email.lower(), first_name=first_name.strip(), last_name=last_name.strip()
        )
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
    return membership_add(
        plan=plan, by=by, user=user, role=role, organization=organization, technical_areas=technical_areas
    )


def _keep_a_lead(membership: PlanMembership, new_role: str | None) -> None:
    if membership.role != Role.SECRETARIAT_LEAD or new_role == Role.SECRETARIAT_LEAD:
        return
    # Lock the plan's leads so two secretariat members cannot each remove "the other" last lead.
    leads = list(
        PlanMembership.objects.select_for_update().filter(plan_id=membership.plan_id, role=Role.SECRETARIAT_LEAD)
    )
    if len(leads) <= 1:
        raise ValidationError({"role": "This is the plan's only secretariat lead. Name another lead first."})


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
    progress(10, "Reading members")
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
    progress(40, "Reading organizations")
    organizations = [
        [o.name, o.acronym, o.get_kind_display(), o.get_sectors_display(), o.jurisdiction.name, o.member_count]
        for o in organization_list_for_plan(plan=plan)
    ]
    progress(70, "Writing the workbook")
    workbook = new_workbook()
    add_table_sheet(
        workbook,
        title="Members",
        headers=["Name", "E-mail", "Role", "Organization", "Member since"],
        rows=members,
        widths=[28, 34, 20, 40, 14],
    )
    add_table_sheet(
        workbook,
        title="Organizations",
        headers=["Name", "Acronym", "Kind", "Sectors", "Jurisdiction", "Members in this plan"],
        rows=organizations,
        widths=[44, 12, 20, 40, 24, 12],
    )
    workbook.properties.title = f"{plan.title}: directory"
    return JobResult(filename=f"{file_slug(plan.title)}-directory.xlsx", content=workbook_bytes(workbook))
