"""HTML views: the secretariat's members page and invitations, the invitee's link, the plan directory and its
export, organizations."""

from __future__ import annotations

import copy
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from naphs.audit import audit_actor_name, audit_change_rows, audit_kind_label, audit_sentence
from naphs.errors import EditConflict
from naphs.forms import form_errors_from, form_field, form_refused, whole_number
from naphs.models import Job
from naphs.permissions import SECRETARIAT_RECOMMENDED_SIZE, Permission
from naphs.services import job_create
from naphs.views import require_form_methods
from stakeholders.access import SignedInRequest, organization_get_for_user, plan_get_for_user
from stakeholders.forms import (
    AuditFilterForm,
    InvitationAccountForm,
    InvitationForm,
    MemberUpdateForm,
    OrganizationForm,
)
from stakeholders.job_kinds import StakeholdersJob
from stakeholders.jobs import job_started
from stakeholders.models import Invitation, PlanMembership, User
from stakeholders.selectors import (
    audit_events_for_plan,
    invitation_get_by_token,
    invitation_list_for_plan,
    invitations_addressed_to,
    jurisdiction_ids_within,
    membership_events_for_plan,
    membership_list_for_plan,
    organization_list_for_plan,
    secretariat_size,
)
from stakeholders.services import (
    InvitationClosed,
    InvitationNotYours,
    Joined,
    invitation_accept,
    invitation_account_create,
    invitation_create,
    invitation_decline,
    invitation_resend,
    invitation_revoke,
    membership_remove,
    membership_update,
    organization_create,
    organization_update,
)


@require_form_methods
def members(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The secretariat's page: who is in the plan, in which role, and who is invited; invite people, change roles,
    remove members, send invitations again or revoke them."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    form = InvitationForm(request.POST if request.method == "POST" else None, plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            invitation_create(plan=plan, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            # The same words whoever the address belongs to: they name no one and tell no account apart.
            messages.success(request, _("Invitation sent to %(email)s") % {"email": form.cleaned_data["email"]})
            return redirect("members", plan_id=plan.pk)
    memberships = list(membership_list_for_plan(plan=plan))
    size = sum(1 for m in memberships if m.is_secretariat)
    # Rows show each member; a row turns into a form only when someone edits it, so the page stays linear in
    # the number of members instead of repeating every organization in every row.
    context = {
        "plan": plan,
        "membership": membership,
        "memberships": memberships,
        "invitations": invitation_list_for_plan(plan=plan),
        "form": form,
        "secretariat_size": size,
        "recommended": SECRETARIAT_RECOMMENDED_SIZE,
        "events": membership_events_for_plan(plan=plan),
    }
    return render(request, "stakeholders/members.html", context)


def _plan_invitation(request: SignedInRequest, plan_id: int, invitation_id: int) -> Invitation:
    plan = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE).plan
    invitation = get_object_or_404(Invitation, pk=invitation_id, plan=plan)
    invitation.plan = plan
    return invitation


@require_POST
def invitation_send_again(request: SignedInRequest, plan_id: int, invitation_id: int) -> HttpResponse:
    """E-mail a pending invitation again, with a new link and expiry."""
    invitation = _plan_invitation(request, plan_id, invitation_id)
    try:
        invitation_resend(invitation=invitation, by=request.user)
    except InvitationClosed as closed:
        messages.error(request, str(closed))
    else:
        messages.success(request, _("Invitation sent again to %(email)s") % {"email": invitation.email})
    return redirect("members", plan_id=plan_id)


@require_POST
def invitation_withdraw(request: SignedInRequest, plan_id: int, invitation_id: int) -> HttpResponse:
    """Revoke a pending invitation: its link stops working."""
    invitation = _plan_invitation(request, plan_id, invitation_id)
    try:
        invitation_revoke(invitation=invitation, by=request.user)
    except InvitationClosed as closed:
        messages.error(request, str(closed))
    else:
        messages.success(request, _("Invitation to %(email)s revoked.") % {"email": invitation.email})
    return redirect("members", plan_id=plan_id)


def _membership(request: SignedInRequest, plan_id: int, membership_id: int) -> tuple[PlanMembership, PlanMembership]:
    """A member of the plan, and the membership of the secretariat member who manages them."""
    plan, own = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    membership = get_object_or_404(
        PlanMembership.objects.select_related("user", "organization"), pk=membership_id, plan=plan
    )
    membership.plan = plan
    return membership, own


def _member_row(
    request: SignedInRequest,
    membership: PlanMembership,
    form: MemberUpdateForm | None = None,
    *,
    own: PlanMembership,
    status: int = 200,
    saved: str = "",
) -> HttpResponse:
    """The member's row in the table: as text, or (with a form) as the inline editor; `own` is the viewer's."""
    context: dict[str, object] = {
        "member": membership,
        "form": form,
        "plan": membership.plan,
        "membership": own,
        "saved": saved,
    }
    template = "stakeholders/_member_row.html" if request.htmx else "stakeholders/member_edit.html"
    if form is not None:
        context["organizations"] = form_field(form, "organization", forms.ModelChoiceField).queryset
        context["areas"] = form_field(form, "technical_areas", forms.ModelChoiceField).queryset
        context["chosen_areas"] = {str(pk) for pk in form["technical_areas"].value() or []}
    return render(request, template, context, status=status)


@require_form_methods
def member_update(request: SignedInRequest, plan_id: int, membership_id: int) -> HttpResponse:
    """Change a member's role and organization.

    GET gives the editor (the row, for htmx; a small page otherwise; `?view=row` gives the row back as text).
    POST saves: htmx swaps the row in place, a plain form post returns to the members page.
    """
    membership, own = _membership(request, plan_id, membership_id)
    if request.method != "POST":
        if request.htmx and request.GET.get("view") == "row":
            return _member_row(request, membership, own=own)
        return _member_row(request, membership, MemberUpdateForm(membership=membership), own=own)
    form = MemberUpdateForm(request.POST, membership=membership)
    status = 422
    if form.is_valid():
        try:
            membership_update(
                membership=membership,
                by=request.user,
                version=form.cleaned_data["version"],
                role=form.cleaned_data["role"],
                organization=form.cleaned_data["organization"],
                technical_areas=form.cleaned_data["technical_areas"],
            )
        except (EditConflict, ValidationError) as refusal:
            status = form_refused(form, refusal)
        else:
            # Translators: %(role)s is a role's label (e.g. “Focal point”), put in as it is.
            message = _("New role of %(person)s: %(role)s.") % {
                "person": membership.user,
                "role": membership.get_role_display(),
            }
            if request.htmx:
                return _member_row(request, membership, saved=message, own=own)
            messages.success(request, message)
            return redirect("members", plan_id=plan_id)
    return _member_row(request, membership, form, status=status, own=own)


@require_POST
def member_remove(request: SignedInRequest, plan_id: int, membership_id: int) -> HttpResponse:
    membership = _membership(request, plan_id, membership_id)[0]
    try:
        membership_remove(membership=membership, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(person)s removed from the plan.") % {"person": membership.user})
    return redirect("members", plan_id=plan_id)


@require_safe
def directory(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Everyone in the plan and the organizations around it; any member may read and export it."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    context = {
        "plan": plan,
        "membership": membership,
        "memberships": membership_list_for_plan(plan=plan),
        "organizations": organization_list_for_plan(plan=plan),
        "manageable_jurisdiction_ids": set(jurisdiction_ids_within(plan.jurisdiction)),
        "secretariat_size": secretariat_size(plan=plan),
        "jobs": Job.objects.filter(plan=plan, requested_by=request.user, kind=StakeholdersJob.DIRECTORY_EXPORT)[:1],
    }
    return render(request, "stakeholders/directory.html", context)


@require_POST
def directory_export(request: SignedInRequest, plan_id: int) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, plan_id=plan_id).plan
    job = job_create(kind=StakeholdersJob.DIRECTORY_EXPORT, by=request.user, plan=plan)
    return job_started(request, job, _("The directory export is being prepared."))


@require_form_methods
def organization_new(request: SignedInRequest, plan_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    form = OrganizationForm(request.POST if request.method == "POST" else None, plan=plan)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in OrganizationForm.Meta.fields}
        try:
            organization = organization_create(by=request.user, **fields)
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Organization “%(name)s” added.") % {"name": organization})
            return redirect("directory", plan_id=plan.pk)
    return render(
        request, "stakeholders/organization_form.html", {"plan": plan, "membership": membership, "form": form}
    )


@require_form_methods
def organization_edit(request: SignedInRequest, plan_id: int, organization_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    organization = organization_get_for_user(user=request.user, organization_id=organization_id)
    if not organization.jurisdiction.is_within(plan.jurisdiction):
        # Seen from this plan, an organization of a jurisdiction above it is read-only.
        raise PermissionDenied(
            _("This organization belongs to a jurisdiction above this plan; its secretariat keeps it.")
        )
    form = OrganizationForm(
        request.POST if request.method == "POST" else None, instance=copy.copy(organization), plan=plan
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in OrganizationForm.Meta.fields}
        try:
            organization_update(
                organization=organization, by=request.user, version=form.cleaned_data["version"] or 0, **fields
            )
        except EditConflict as conflict:
            form.add_error(None, str(conflict))
            status = 409
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Organization “%(name)s” saved.") % {"name": organization})
            return redirect("directory", plan_id=plan.pk)
    return render(
        request,
        "stakeholders/organization_form.html",
        {"plan": plan, "membership": membership, "form": form, "organization": organization},
        status=status,
    )


# The invitee's side. The e-mailed link works without signing in: whoever holds it read the invited address. It
# leads an account to sign in, and someone without one to choose a password; then they accept or decline.


def _invitation_page(
    request: SignedInRequest,
    invitation: Invitation | None,
    *,
    form: InvitationAccountForm | None = None,
    problem: str = "",
    status: int | None = None,
) -> HttpResponse:
    """The link's page, as the one who opened it may use it now."""
    context: dict = {"invitation": invitation, "problem": problem}
    if invitation is None:
        state = "closed"
        context["problem"] = problem or _(
            "This invitation link does not work. It may be incomplete, or a newer e-mail replaced it: use the link "
            "of the latest invitation, or ask the plan's secretariat to send it again."
        )
    elif not invitation.is_open:
        state, context["problem"] = "closed", str(InvitationClosed(invitation))
    elif request.user.is_authenticated:
        state = "respond" if invitation.is_for(request.user) else "wrong_account"
        if state == "wrong_account":
            context["problem"] = str(InvitationNotYours())
    else:
        account = User.objects.filter(email__iexact=invitation.email).first()
        if account is not None and account.has_usable_password():
            state = "sign_in"
            context["login_url"] = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': request.path})}"
        else:
            state = "set_password"
            context["form"] = form or InvitationAccountForm(email=invitation.email)
    if status is None:
        status = {"closed": 404, "wrong_account": 403}.get(state, 200)
    context["state"] = state
    return render(request, "stakeholders/invitation.html", context, status=status)


def _version(request: SignedInRequest) -> int:
    value = request.POST.get("version", "")
    return whole_number(value) or 0


def _joined_message(joined: Joined) -> str:
    membership = joined.membership
    values = {"plan": membership.plan.title, "role": membership.get_role_display()}
    if joined.already_member:
        # Translators: %(role)s is a role's label (e.g. “Focal point”), put in as it is.
        return _("You were already a member of “%(plan)s”; your role is unchanged: %(role)s.") % values
    # Translators: %(role)s is a role's label (e.g. “Focal point”), put in as it is.
    return _("Welcome to “%(plan)s”. Your role in this plan: %(role)s.") % values


@login_not_required
@require_form_methods
def invitation(request: SignedInRequest, key: str) -> HttpResponse:
    """The link in an invitation e-mail. POST with action accept (signed in as the invitee, with the version
    shown), decline (signed in as the invitee, or not signed in at all) or password (not signed in, no account)."""
    invitation = invitation_get_by_token(token=key)
    if invitation is None or request.method != "POST":
        return _invitation_page(request, invitation)
    action = request.POST.get("action")
    try:
        if action == "accept":
            if not request.user.is_authenticated:
                return redirect_to_login(request.path)
            joined = invitation_accept(invitation=invitation, user=request.user, version=_version(request))
            messages.success(request, _joined_message(joined))
            return redirect("plan_detail", plan_id=joined.membership.plan_id)
        if action == "decline":
            invitation_decline(invitation=invitation, user=request.user if request.user.is_authenticated else None)
            messages.success(request, _("You declined the invitation to “%(plan)s”.") % {"plan": invitation.plan.title})
            return redirect("home" if request.user.is_authenticated else settings.LOGIN_URL)
        if action == "password" and not request.user.is_authenticated:
            form = InvitationAccountForm(request.POST, email=invitation.email)
            if not form.is_valid():
                return _invitation_page(request, invitation, form=form)
            try:
                account = invitation_account_create(
                    invitation=invitation,
                    password=form.cleaned_data["new_password1"],
                    first_name=form.cleaned_data["first_name"],
                    last_name=form.cleaned_data["last_name"],
                )
            except ValidationError as error:
                return _invitation_page(request, invitation, problem=" ".join(error.messages), status=409)
            login(request, account, backend="stakeholders.backends.UsernameOrEmailBackend")  # not axes' backend
            messages.success(request, _("Your account is ready. Now accept or decline the invitation."))
            return redirect(request.path)
    except InvitationNotYours:
        return _invitation_page(request, invitation)
    except InvitationClosed:
        invitation.refresh_from_db()
        return _invitation_page(request, invitation, status=409)
    except EditConflict as conflict:
        invitation.refresh_from_db()
        return _invitation_page(request, invitation, problem=str(conflict), status=409)
    except ValidationError as error:
        return _invitation_page(request, invitation, problem=" ".join(error.messages), status=422)
    return _invitation_page(request, invitation, problem=_("Choose to accept or to decline."), status=400)


@require_POST
def invitation_answer(request: SignedInRequest, invitation_id: int) -> HttpResponse:
    """Accept (with the version shown) or decline one of one's invitations, from the home page."""
    invitation = get_object_or_404(invitations_addressed_to(request.user), pk=invitation_id)
    action = request.POST.get("action")
    if action not in ("accept", "decline"):
        messages.error(request, _("Choose to accept or to decline."))
        return redirect("home")
    try:
        if action == "accept":
            joined = invitation_accept(invitation=invitation, user=request.user, version=_version(request))
            messages.success(request, _joined_message(joined))
            return redirect("plan_detail", plan_id=joined.membership.plan_id)
        invitation_decline(invitation=invitation, user=request.user)
        messages.success(request, _("You declined the invitation to “%(plan)s”.") % {"plan": invitation.plan.title})
    except (InvitationClosed, EditConflict, ValidationError) as refusal:
        messages.error(request, " ".join(refusal.messages) if isinstance(refusal, ValidationError) else str(refusal))
    return redirect("home")


AUDIT_PAGE_SIZE = 50


@require_safe
def audit_trail(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Every recorded change to the plan, newest first: who, when, which object, each field before and after;
    filtered by GET parameters (a view is a link). The secretariat's: the trail names invitees' addresses and
    every member's doings, which the members page already keeps to the secretariat."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    form = AuditFilterForm(request.GET or None, plan=plan)
    return _audit_page(request, membership, form, status=400)


def _audit_page(
    request: SignedInRequest, membership: PlanMembership, form: AuditFilterForm, *, status: int
) -> HttpResponse:
    """The page for `form`; a refused filter answers `status` and shows no list rather than one it did not ask for."""
    plan = membership.plan
    page, events = None, []
    if form.is_bound and not form.is_valid():
        answer = status
    else:
        answer = 200
        filters = form.filters() if form.is_bound else {}
        page = Paginator(audit_events_for_plan(plan=plan, **filters), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
        events = [
            {
                "event": event,
                "actor": audit_actor_name(event),
                "sentence": audit_sentence(event),
                "kind": audit_kind_label(event.target_type),
                "changes": audit_change_rows(event),
            }
            for event in page.object_list
        ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "plan": plan,
        "membership": membership,
        "filter_form": form,
        "page": page,
        "events": events,
        "query": query.urlencode(),
        "jobs": Job.objects.filter(plan=plan, requested_by=request.user, kind=StakeholdersJob.AUDIT_EXPORT)[:1],
    }
    return render(request, "stakeholders/audit_trail.html", context, status=answer)


@require_POST
def audit_trail_export(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Export the trail, with the filters of the page it was asked from (the form's hidden fields)."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    form = AuditFilterForm(request.POST, plan=plan)
    if not form.is_valid():
        return _audit_page(request, membership, form, status=422)
    job = job_create(kind=StakeholdersJob.AUDIT_EXPORT, by=request.user, plan=plan, params=form.job_params())
    return job_started(request, job, _("The audit trail export is being prepared."))
