"""HTML views of guidance: the plan's guidance page (national guidance, and WHO's documents its activities cite),
where the secretariat adds, edits and removes national guidance."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from naphs.errors import EditConflict
from naphs.forms import form_refused
from naphs.permissions import Permission
from naphs.views import require_form_methods
from planning.forms import GuidanceForm
from planning.guidance import (
    guidance_create,
    guidance_delete,
    guidance_get_for_plan,
    guidance_update,
    national_guidance_of,
    who_guidance_cited_by,
)
from planning.models import GuidanceDocument
from stakeholders.access import SignedInRequest, plan_get_for_user


@require_form_methods
def plan_guidance(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The plan's guidance: its national guidance (and, for a provincial plan, its national plan's), and WHO's
    documents its activities cite; the secretariat adds national guidance here."""
    need = Permission.EDIT_PLAN if request.method == "POST" else Permission.VIEW
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=need)
    form = None
    status = 200
    if membership.can_edit_plan:
        form = GuidanceForm(request.POST if request.method == "POST" else None, plan=plan)
        if request.method == "POST":
            status = 422
            if form.is_valid():
                try:
                    document = guidance_create(plan=plan, by=request.user, **form.guidance_fields())
                except ValidationError as refusal:
                    status = form_refused(form, refusal)
                else:
                    messages.success(request, _("Guidance “%(title)s” added.") % {"title": document})
                    return redirect("plan_guidance", plan_id=plan.pk)
    national = list(national_guidance_of(plan))
    context = {
        "plan": plan,
        "membership": membership,
        "own": [document for document in national if document.plan_id == plan.pk],
        "inherited": [document for document in national if document.plan_id != plan.pk],
        "cited": who_guidance_cited_by(plan),
        "form": form,
    }
    return render(request, "planning/guidance.html", context, status=status)


def _initial(document: GuidanceDocument) -> dict:
    return {
        "title": document.title,
        "reference_type": document.reference_type,
        "link": document.link,
        "description": document.description,
        "author": document.author,
        "date": document.date,
        "relevant_pages": document.relevant_pages,
        "technical_areas": [area.pk for area in document.technical_areas.all()],
        "activities": [activity.pk for activity in document.activities.all()],
        "version": document.version,
    }


@require_form_methods
def plan_guidance_edit(request: SignedInRequest, plan_id: int, guidance_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_PLAN)
    document = guidance_get_for_plan(plan=plan, guidance_id=guidance_id)
    form = GuidanceForm(request.POST if request.method == "POST" else None, plan=plan, initial=_initial(document))
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                guidance_update(
                    document=document,
                    by=request.user,
                    version=form.cleaned_data["version"] or 0,
                    **form.guidance_fields(),
                )
            except (EditConflict, ValidationError) as refusal:
                status = form_refused(form, refusal)
            else:
                messages.success(request, _("Guidance “%(title)s” saved.") % {"title": document})
                return redirect("plan_guidance", plan_id=plan.pk)
    context = {"plan": plan, "membership": membership, "document": document, "form": form}
    return render(request, "planning/guidance_edit.html", context, status=status)


@require_POST
def plan_guidance_delete(request: SignedInRequest, plan_id: int, guidance_id: int) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_PLAN).plan
    document = guidance_get_for_plan(plan=plan, guidance_id=guidance_id)
    title = str(document)
    guidance_delete(document=document, by=request.user)
    messages.success(request, _("Guidance “%(title)s” removed.") % {"title": title})
    return redirect("plan_guidance", plan_id=plan.pk)
