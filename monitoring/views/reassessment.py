"""Monitoring pages: re-assessment. The capacity progress page (every member reads it), where the secretariat also
records a follow-up assessment, whose scores are then entered or imported on the assessment's own page; and its
export to Excel."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from monitoring.capacity import Change, capacity_progress_for_plan, follow_up_get
from monitoring.job_kinds import MonitoringJob
from naphs.forms import form_errors_from, whole_number
from naphs.models import Job
from naphs.permissions import Permission
from naphs.services import job_create
from planning.assessments import assessment_create
from planning.forms import AssessmentForm
from planning.models import Assessment
from stakeholders.access import PlanAccess, SignedInRequest, plan_get_for_user
from stakeholders.jobs import job_started


def _compared(plan: Any, raw: str | None) -> Assessment | None:
    """The follow-up assessment asked for (`assessment`), or the latest; 404 for anything but one of the plan's."""
    if raw in (None, ""):
        return follow_up_get(plan=plan, assessment_id=None)
    number = whole_number(raw)
    if number is None:
        raise Http404(_("No such follow-up assessment in this plan."))
    return follow_up_get(plan=plan, assessment_id=number)


def _follow_up_form(access: PlanAccess, data: Any = None) -> AssessmentForm | None:
    if not access.membership.can_manage:
        return None
    return AssessmentForm(data, plan=access.plan, purposes=[Assessment.Purpose.FOLLOW_UP], auto_id="follow_up_%s")


def _page(
    request: SignedInRequest, access: PlanAccess, compared: Assessment | None, *, form: Any = None, status: int = 200
) -> HttpResponse:
    plan, membership = access
    context = {
        "plan": plan,
        "membership": membership,
        "progress": capacity_progress_for_plan(plan=plan, compared=compared),
        "form": form or _follow_up_form(access),
        "change": Change,
        "jobs": Job.objects.filter(
            plan=plan, requested_by=request.user, kind=MonitoringJob.CAPACITY_PROGRESS_EXPORT
        ).order_by("-created_at")[:1],
    }
    return render(request, "monitoring/capacity_progress.html", context, status=status)


@require_safe
def capacity_progress(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Per technical area and indicator: baseline, target, latest level and the change, whether the target is
    reached, and the activities behind each indicator with their latest progress. The latest levels stand with the
    follow-up assessment chosen (`?assessment=`), by default the latest. Every member reads it."""
    access = plan_get_for_user(user=request.user, plan_id=plan_id)
    return _page(request, access, _compared(access.plan, request.GET.get("assessment")))


@require_POST
def capacity_assessment_new(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The secretariat records a follow-up assessment (on an endorsed plan too) and goes on to its page to enter or
    import its scores (the score grid, a score sheet, a SPAR results table)."""
    access = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    form = _follow_up_form(access, request.POST)
    assert form is not None  # the secretariat manages the plan
    if form.is_valid():
        fields = {**form.cleaned_data, "purpose": Assessment.Purpose.FOLLOW_UP}
        try:
            assessment = assessment_create(plan=access.plan, by=request.user, **fields)
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(
                request,
                _("Follow-up assessment “%(assessment)s” added: enter or import its scores.")
                % {"assessment": assessment},
            )
            return redirect("assessment_detail", plan_id=access.plan.pk, assessment_id=assessment.pk)
    return _page(request, access, _compared(access.plan, None), form=form, status=422)


@require_POST
def capacity_progress_export(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Any member exports the page's tables to Excel, with the follow-up they are looking at."""
    plan = plan_get_for_user(user=request.user, plan_id=plan_id).plan
    compared = _compared(plan, request.POST.get("assessment"))
    job = job_create(
        kind=MonitoringJob.CAPACITY_PROGRESS_EXPORT,
        by=request.user,
        plan=plan,
        params={"assessment": compared.pk if compared is not None else None},
    )
    return job_started(request, job, _("The capacity progress export is being prepared."))


urlpatterns: list[URLPattern] = [
    path("plans/<int:plan_id>/monitoring/capacity/", capacity_progress, name="capacity_progress"),
    path(
        "plans/<int:plan_id>/monitoring/capacity/assessments/new/",
        capacity_assessment_new,
        name="capacity_assessment_new",
    ),
    path("plans/<int:plan_id>/monitoring/capacity/export/", capacity_progress_export, name="capacity_progress_export"),
]
