"""HTML views: the secretariat's members page, the plan directory and its export, organizations."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.views import PasswordResetConfirmView
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from naphs.access import organization_get_for_user, plan_get_for_user
from naphs.errors import EditConflict
from naphs.forms import form_errors_from, form_refused
from naphs.models import AuditEvent, Job
from naphs.permissions import SECRETARIAT_RECOMMENDED_SIZE, Permission
from naphs.services import job_create
from naphs.views import require_form_methods
from stakeholders.forms import MemberAddForm, MemberUpdateForm, OrganizationForm
from stakeholders.models import PlanMembership
from stakeholders.selectors import (
    jurisdiction_ids_within,
    membership_list_for_plan,
    organization_list_for_plan,
    secretariat_size,
)
from stakeholders.services import (
    membership_invite,
    membership_remove,
    membership_update,
    organization_create,
    organization_update,
)


@require_form_methods
def members(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The secretariat's page: who is in the plan, in which role; add, change and remove members."""
    plan = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    form = MemberAddForm(request.POST if request.method == "POST" else None, plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            membership = membership_invite(plan=plan, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            if membership.user.has_usable_password():
                messages.success(request, f"{membership.user} added as {membership.get_role_display().lower()}.")
            else:
                messages.success(
                    request,
                    f"Invitation sent to {membership.user.email}; they join as "
                    f"{membership.get_role_display().lower()} once they set a password.",
                )
            return redirect("members", plan_id=plan.pk)
    memberships = list(membership_list_for_plan(plan=plan))
    size = sum(1 for m in memberships if m.is_secretariat)
    # Rows show each member; a row turns into a form only when someone edits it, so the page stays linear in
    # the number of members instead of repeating every organization in every row.
    context = {
        "plan": plan,
        "membership": plan.membership,
        "memberships": memberships,
        "form": form,
        "secretariat_size": size,
        "recommended": SECRETARIAT_RECOMMENDED_SIZE,
        "events": AuditEvent.objects.filter(plan=plan, target_type="planmembership").select_related("actor")[:15],
    }
    return render(request, "stakeholders/members.html", context)


def _membership(request: HttpRequest, plan_id: int, membership_id: int) -> PlanMembership:
    plan = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    membership = get_object_or_404(
        PlanMembership.objects.select_related("user", "organization"), pk=membership_id, plan=plan
    )
    membership.plan = plan
    return membership


def _member_row(
    request: HttpRequest,
    membership: PlanMembership,
    form: MemberUpdateForm | None = None,
    *,
    status: int = 200,
    saved: str = "",
) -> HttpResponse:
    """The member's row in the table: as text, or (with a form) as the inline editor."""
    context = {
        "member": membership,
        "form": form,
        "plan": membership.plan,
        "membership": membership.plan.membership,
        "saved": saved,
    }
    template = "stakeholders/_member_row.html" if request.htmx else "stakeholders/member_edit.html"
    if form is not None:
        context["organizations"] = form.fields["organization"].queryset
        context["areas"] = form.fields["technical_areas"].queryset
        context["chosen_areas"] = {str(pk) for pk in form["technical_areas"].value() or []}
    return render(request, template, context, status=status)


@require_form_methods
def member_update(request: HttpRequest, plan_id: int, membership_id: int) -> HttpResponse:
    """Change a member's role and organization.

    GET gives the editor (the row, for htmx; a small page otherwise; `?view=row` gives the row back as text).
    POST saves: htmx swaps the row in place, a plain form post returns to the members page.
    """
    membership = _membership(request, plan_id, membership_id)
    if request.method != "POST":
        if request.htmx and request.GET.get("view") == "row":
            return _member_row(request, membership)
        return _member_row(request, membership, MemberUpdateForm(membership=membership))
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
            message = f"{membership.user} is now {membership.get_role_display().lower()}."
            if request.htmx:
                return _member_row(request, membership, saved=message)
            messages.success(request, message)
            return redirect("members", plan_id=plan_id)
    return _member_row(request, membership, form, status=status)


@require_POST
def member_remove(request: HttpRequest, plan_id: int, membership_id: int) -> HttpResponse:
    membership = _membership(request, plan_id, membership_id)
    try:
        membership_remove(membership=membership, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{membership.user} removed from the plan.")
    return redirect("members", plan_id=plan_id)


@require_safe
def directory(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Everyone in the plan and the organizations around it; any member may read and export it."""
    plan = plan_get_for_user(user=request.user, plan_id=plan_id)
    context = {
        "plan": plan,
        "membership": plan.membership,
        "memberships": membership_list_for_plan(plan=plan),
        "organizations": organization_list_for_plan(plan=plan),
        "manageable_jurisdiction_ids": set(jurisdiction_ids_within(plan.jurisdiction)),
        "secretariat_size": secretariat_size(plan=plan),
        "jobs": Job.objects.filter(plan=plan, requested_by=request.user, kind=Job.Kind.DIRECTORY_EXPORT)[:1],
    }
    return render(request, "stakeholders/directory.html", context)


@require_POST
def directory_export(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, plan_id=plan_id)
    job = job_create(kind=Job.Kind.DIRECTORY_EXPORT, by=request.user, plan=plan)
    if request.htmx:
        return render(request, "naphs/_job.html", {"job": job})
    messages.info(request, "The directory export is being prepared.")
    return redirect("job_detail", job_id=job.pk)


@require_form_methods
def organization_new(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    form = OrganizationForm(request.POST if request.method == "POST" else None, plan=plan)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in OrganizationForm.Meta.fields}
        try:
            organization = organization_create(by=request.user, **fields)
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, f"Organization “{organization}” added.")
            return redirect("directory", plan_id=plan.pk)
    return render(
        request, "stakeholders/organization_form.html", {"plan": plan, "membership": plan.membership, "form": form}
    )


@require_form_methods
def organization_edit(request: HttpRequest, plan_id: int, organization_id: int) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    organization = organization_get_for_user(user=request.user, organization_id=organization_id)
    if not organization.jurisdiction.is_within(plan.jurisdiction):
        # Seen from this plan, an organization of a jurisdiction above it is read-only.
        raise PermissionDenied("This organization belongs to a jurisdiction above this plan; its secretariat keeps it.")
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
            messages.success(request, f"Organization “{organization}” saved.")
            return redirect("directory", plan_id=plan.pk)
    return render(
        request,
        "stakeholders/organization_form.html",
        {"plan": plan, "membership": plan.membership, "form": form, "organization": organization},
        status=status,
    )


class InvitationAcceptView(PasswordResetConfirmView):
    """The link in an invitation: the new member sets a password and is signed in."""

    template_name = "registration/invitation_accept.html"
    post_reset_login = True
    post_reset_login_backend = "stakeholders.backends.UsernameOrEmailBackend"  # axes' backend signs no one in
    success_url = "/"

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Welcome to NAPHS Planner. Your password is set.")
        return response
