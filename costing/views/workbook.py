"""Costing pages: the Excel workbook round trip. A person who costs activities downloads their workbook, fills it
offline and uploads it; the page follows the check in the background and lists every problem, or what changed."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from costing.job_kinds import CostingJob
from costing.models import CostingUpload, PlanCosting
from costing.uploads import upload_applied_before
from costing.workbook import (
    costing_upload_create,
    costing_workbook_request,
    problem_text,
    scope_description,
    summary_counts,
    upload_get_for_user,
    uploads_for_user,
    workbook_file_check,
)
from naphs.models import Job
from naphs.permissions import Permission
from naphs.views import require_form_methods
from stakeholders.access import PlanAccess, SignedInRequest, plan_get_for_user
from stakeholders.jobs import job_started


class CostingUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Filled costing workbook (.xlsx)"),
        help_text=_(
            "The workbook downloaded from this page. Every row is checked; nothing is saved unless all of it is right."
        ),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        workbook_file_check(file)
        return file


def _costing_membership(request: SignedInRequest, plan_id: int) -> PlanAccess:
    return plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_COSTS)


@require_form_methods
def costing_upload(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The workbook page: download one's costing workbook, upload it filled, see one's recent uploads."""
    plan, membership = _costing_membership(request, plan_id)
    form = CostingUploadForm(request.POST, request.FILES) if request.method == "POST" else CostingUploadForm()
    if request.method == "POST" and form.is_valid():
        try:
            upload = costing_upload_create(plan=plan, by=request.user, file=form.cleaned_data["file"])
        except ValidationError as error:
            form.add_error("file", error)
        else:
            return redirect("costing_upload_detail", plan_id=plan.pk, upload_id=upload.pk)
    context = {
        "plan": plan,
        "membership": membership,
        "form": form,
        "scope": scope_description(membership),
        "costing": PlanCosting.objects.filter(plan=plan).first(),
        "uploads": uploads_for_user(plan=plan, membership=membership)[:10],
        "jobs": Job.objects.filter(plan=plan, requested_by=request.user, kind=CostingJob.COSTING_WORKBOOK)[:1],
    }
    return render(request, "costing/workbook/upload.html", context, status=422 if request.method == "POST" else 200)


@require_POST
def costing_workbook(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Queue the person's costing workbook; the page shows the job's progress and then the download link."""
    plan, _membership = _costing_membership(request, plan_id)
    job = costing_workbook_request(plan=plan, by=request.user)
    return job_started(request, job, gettext("Your costing workbook is being prepared."))


def _activity_link(plan_id: int, activity_id: int) -> str:
    try:
        return reverse("activity_costs", kwargs={"plan_id": plan_id, "activity_id": activity_id})
    except NoReverseMatch:
        return reverse("activity_detail", kwargs={"plan_id": plan_id, "activity_id": activity_id})


def upload_context(upload: CostingUpload) -> dict:
    summary = upload.summary or {}
    activities = [
        {**activity, "url": _activity_link(upload.plan_id, activity["id"])}
        for activity in summary.get("activities", [])
    ]
    return {
        "upload": upload,
        "job": upload.job,
        "poll_url": reverse("costing_upload_detail", kwargs={"plan_id": upload.plan_id, "upload_id": upload.pk}),
        "counts": summary_counts(summary) if upload.status == CostingUpload.Status.APPLIED else None,
        "activities": activities,
        "more_activities": max(summary.get("activity_count", 0) - len(activities), 0),
        "problems": [{**problem, "text": problem_text(problem)} for problem in upload.problems],
        "problem_count": summary.get("problem_count", len(upload.problems)),
        "conflicts": upload.conflicts,
        "finished": upload.job is None or upload.job.is_finished,
    }


@never_cache
@require_safe
def costing_upload_detail(request: SignedInRequest, plan_id: int, upload_id: int) -> HttpResponse:
    """An upload being checked (the job's progress, refreshing itself), then its problems or what it changed."""
    plan, membership = _costing_membership(request, plan_id)
    upload = upload_get_for_user(plan=plan, membership=membership, upload_id=upload_id)
    context = {"plan": plan, "membership": membership, **upload_context(upload)}
    if request.htmx:
        return render(request, "costing/workbook/_upload_status.html", context)
    context["applied_before"] = upload_applied_before(upload)
    # The workbook's own record of when it was downloaded (ISO text), as a date to write in the person's locale.
    context["downloaded_at"] = parse_datetime(str((upload.summary or {}).get("downloaded", "")))
    return render(request, "costing/workbook/upload_detail.html", context)


urlpatterns = [
    path("plans/<int:plan_id>/costing/upload/", costing_upload, name="costing_upload"),
    path("plans/<int:plan_id>/costing/workbook/", costing_workbook, name="costing_workbook"),
    path(
        "plans/<int:plan_id>/costing/uploads/<int:upload_id>/",
        costing_upload_detail,
        name="costing_upload_detail",
    ),
]
