"""The endorsement page of a plan: its state and the history of its endorsements for every member; for the
secretariat lead the form that records the endorsement (with the warnings to confirm) and, once endorsed, the
form that reopens it as a new draft. The signed document downloads for every member."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from naphs.errors import EditConflict
from naphs.forms import TextWithoutDirectionControls, form_refused
from naphs.jobs import file_slug
from naphs.permissions import Permission
from naphs.views import require_form_methods
from planning.endorsement import (
    AUTHORITY_MAX,
    REASON_MAX,
    ConfirmationNeeded,
    EndorsementWarnings,
    endorsement_get,
    endorsement_list_for_plan,
    endorsement_warnings,
    plan_endorse,
    plan_reopen,
    signed_document_check,
)
from planning.models import Endorsement, Plan
from stakeholders.access import SignedInRequest, plan_get_for_user
from stakeholders.models import PlanMembership


class EndorseForm(TextWithoutDirectionControls, forms.Form):
    endorsed_on = forms.DateField(
        label=gettext_lazy("Date of endorsement"), widget=forms.DateInput(attrs={"type": "date"})
    )
    authority = forms.CharField(
        label=gettext_lazy("Endorsing authority"),
        max_length=AUTHORITY_MAX,
        help_text=gettext_lazy("Who endorsed the plan, e.g. the Minister of Health or the Council of Ministers."),
    )
    signed_document = forms.FileField(
        label=gettext_lazy("Signed document (PDF, optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,application/pdf"}),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I have read the warnings and endorse the plan anyway"), required=False
    )

    def clean_signed_document(self) -> Any:
        file = self.cleaned_data.get("signed_document")
        if file:
            signed_document_check(file)
        return file


class ReopenForm(TextWithoutDirectionControls, forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why is the plan reopened?"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Recorded with the endorsement; the endorsed version stays as it was."),
    )


def _page(
    request: SignedInRequest,
    plan: Plan,
    membership: PlanMembership,
    *,
    endorse_form: EndorseForm | None = None,
    reopen_form: ReopenForm | None = None,
    warnings: EndorsementWarnings | None = None,
    status: int = 200,
) -> HttpResponse:
    may_endorse = membership.role_allows(Permission.ENDORSE)
    context: dict[str, Any] = {
        "plan": plan,
        "membership": membership,
        "endorsements": endorsement_list_for_plan(plan),
        "may_endorse": may_endorse,
    }
    if may_endorse and not plan.is_frozen:
        form = endorse_form or EndorseForm()
        warnings = warnings if warnings is not None else endorsement_warnings(plan)
        if not warnings:  # nothing to confirm
            form.fields["confirm"].widget = forms.HiddenInput()
        context["endorse_form"], context["warnings"] = form, warnings
    elif endorse_form is not None:  # refused because the plan is endorsed already: the page has no such form
        for error in endorse_form.non_field_errors():
            messages.error(request, str(error))
    if may_endorse and plan.is_frozen:
        context["reopen_form"] = reopen_form or ReopenForm()
    elif reopen_form is not None:  # refused because the plan is no longer endorsed: the page has no such form
        for error in reopen_form.non_field_errors():
            messages.error(request, str(error))
    return render(request, "planning/endorsement/page.html", context, status=status)


@require_form_methods
def plan_endorsement(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The plan's endorsement page; POST records the endorsement (the secretariat lead only)."""
    need = Permission.ENDORSE if request.method == "POST" else Permission.VIEW
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=need)
    if request.method != "POST":
        return _page(request, plan, membership)
    form = EndorseForm(request.POST, request.FILES)
    status, warnings = 422, None
    if form.is_valid():
        data = form.cleaned_data
        try:
            plan_endorse(
                plan=plan,
                by=request.user,
                endorsed_on=data["endorsed_on"],
                authority=data["authority"],
                signed_document=data.get("signed_document") or None,
                confirm=data["confirm"],
            )
        except ConfirmationNeeded as needed:
            status, warnings = 409, needed.warnings
            message = _("Read the warnings above and tick the box to endorse the plan anyway.")
            if data.get("signed_document"):
                message += " " + _("Choose the signed document again: nothing was kept.")
            form.add_error("confirm", message)
        except (EditConflict, ValidationError) as refusal:
            status = form_refused(form, refusal)
            plan.refresh_from_db(fields=["status", "edition", "version"])  # endorsed meanwhile: the page says so
        else:
            messages.success(request, _("The plan is endorsed and read-only until the secretariat lead reopens it."))
            return redirect("plan_endorsement", plan_id=plan.pk)
    return _page(request, plan, membership, endorse_form=form, warnings=warnings, status=status)


@require_POST
def plan_reopen_view(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Reopen the endorsed plan as a new draft, with a reason (the secretariat lead only)."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.ENDORSE)
    form = ReopenForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            endorsement = plan_reopen(plan=plan, by=request.user, reason=form.cleaned_data["reason"])
        except (EditConflict, ValidationError) as refusal:
            status = form_refused(form, refusal)
        else:
            messages.success(
                request,
                _("The plan is reopened as draft %(draft)d; version %(number)d stays readable as it was endorsed.")
                % {"draft": plan.edition, "number": endorsement.number},
            )
            return redirect("plan_endorsement", plan_id=plan.pk)
    return _page(request, plan, membership, reopen_form=form, status=status)


def signed_document_filename(*, plan: Plan, endorsement: Endorsement) -> str:
    return f"{file_slug(plan.title)}-version-{endorsement.number}-signed.pdf"


def signed_document_response(*, plan: Plan, endorsement: Endorsement) -> FileResponse:
    """The signed document as a download: an attachment, a PDF, never sniffed as anything else."""
    if not endorsement.signed_document:
        raise Http404(_("This endorsement has no signed document."))
    try:
        handle = endorsement.signed_document.open("rb")
    except FileNotFoundError:
        raise Http404(_("The signed document is no longer stored.")) from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=signed_document_filename(plan=plan, endorsement=endorsement),
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def endorsement_document(request: SignedInRequest, plan_id: int, endorsement_id: int) -> FileResponse:
    """The signed document of one of the plan's endorsements, for every member."""
    plan = plan_get_for_user(user=request.user, plan_id=plan_id).plan
    endorsement = endorsement_get(plan=plan, endorsement_id=endorsement_id)
    return signed_document_response(plan=plan, endorsement=endorsement)
