"""Monitoring pages: the progress workbook round trip. A person who reports progress downloads the workbook of an
open period, fills it offline and uploads it; the page follows the check in the background and lists every
problem, or what changed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from monitoring.job_kinds import MonitoringJob
from monitoring.models import ProgressUpload, ReportingPeriod
from monitoring.progress import period_open_check
from monitoring.workbook import (
    open_periods,
    progress_problem_text,
    progress_upload_create,
    progress_workbook_request,
    scope_description,
    summary_counts,
    upload_applied_before,
    upload_get_for_user,
    uploads_for_user,
    workbook_file_check,
)
from naphs.forms import form_field
from naphs.models import Job
from naphs.permissions import Permission
from naphs.views import require_form_methods
from planning.models import Plan
from stakeholders.access import PlanAccess, SignedInRequest, plan_get_for_user
from stakeholders.jobs import job_started


class ProgressWorkbookForm(forms.Form):
    """Which open period the workbook is for."""

    period = forms.ModelChoiceField(
        label=_("Reporting period"),
        queryset=ReportingPeriod.objects.none(),
        empty_label=None,
        help_text=_("Reports are taken for an open period only."),
    )

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every period of the plan is a valid choice (a closed one is refused with why); the list offers open ones.
        field = form_field(self, "period", forms.ModelChoiceField)
        field.queryset = ReportingPeriod.objects.filter(plan=plan).order_by("starts_on")
        field.widget.choices = [(period.pk, period.label) for period in open_periods(plan)]

    def clean_period(self) -> ReportingPeriod:
        period = self.cleaned_data["period"]
        period_open_check(period)
        return period


class ProgressUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Filled progress workbook (.xlsx)"),
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


def _reporting_membership(request: SignedInRequest, plan_id: int) -> PlanAccess:
    return plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.REPORT_PROGRESS)


def _page(
    request: SignedInRequest,
    access: PlanAccess,
    *,
    export_form: ProgressWorkbookForm | None = None,
    upload_form: ProgressUploadForm | None = None,
    status: int = 200,
) -> HttpResponse:
    plan, membership = access
    periods = list(open_periods(plan))
    context = {
        "plan": plan,
        "membership": membership,
        "export_form": export_form or ProgressWorkbookForm(plan=plan),
        "form": upload_form or ProgressUploadForm(),
        "periods": periods,
        "scope": scope_description(membership),
        "uploads": uploads_for_user(plan=plan, membership=membership)[:10],
        "jobs": Job.objects.filter(plan=plan, requested_by=request.user, kind=MonitoringJob.PROGRESS_WORKBOOK)[:1],
    }
    return render(request, "monitoring/workbook/upload.html", context, status=status)


@require_form_methods
def progress_workbook(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The workbook page: download one's progress workbook for an open period, upload it filled, see one's
    recent uploads."""
    access = _reporting_membership(request, plan_id)
    if request.method != "POST":
        return _page(request, access)
    form = ProgressUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            upload = progress_upload_create(plan=access.plan, by=request.user, file=form.cleaned_data["file"])
        except ValidationError as error:
            form.add_error("file", error)
        else:
            return redirect("progress_upload_detail", plan_id=access.plan.pk, upload_id=upload.pk)
    return _page(request, access, upload_form=form, status=422)


@require_POST
def progress_workbook_export(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Queue the person's progress workbook for the period chosen; the page shows the job's progress and then the
    download link."""
    access = _reporting_membership(request, plan_id)
    form = ProgressWorkbookForm(request.POST, plan=access.plan)
    if not form.is_valid():
        return _page(request, access, export_form=form, status=422)
    job = progress_workbook_request(plan=access.plan, by=request.user, period=form.cleaned_data["period"])
    return job_started(request, job, gettext("Your progress workbook is being prepared."))


def upload_context(upload: ProgressUpload) -> dict[str, Any]:
    summary = upload.summary or {}
    activities = [
        {
            **activity,
            "url": reverse("activity_detail", kwargs={"plan_id": upload.plan_id, "activity_id": activity["id"]}),
        }
        for activity in summary.get("activities", [])
    ]
    return {
        "upload": upload,
        "job": upload.job,
        "poll_url": reverse("progress_upload_detail", kwargs={"plan_id": upload.plan_id, "upload_id": upload.pk}),
        "counts": summary_counts(summary) if upload.status == ProgressUpload.Status.APPLIED else None,
        "activities": activities,
        "more_activities": max(int(summary.get("activity_count") or 0) - len(activities), 0),
        "problems": [{**problem, "text": progress_problem_text(problem)} for problem in upload.problems],
        "problem_count": summary.get("problem_count", len(upload.problems)),
        "conflicts": upload.conflicts,
        "finished": upload.job is None or upload.job.is_finished,
    }


@never_cache
@require_safe
def progress_upload_detail(request: SignedInRequest, plan_id: int, upload_id: int) -> HttpResponse:
    """An upload being checked (the job's progress, refreshing itself), then its problems or what it changed."""
    plan, membership = _reporting_membership(request, plan_id)
    upload = upload_get_for_user(plan=plan, membership=membership, upload_id=upload_id)
    context = {"plan": plan, "membership": membership, **upload_context(upload)}
    if request.htmx:
        return render(request, "monitoring/workbook/_upload_status.html", context)
    context["applied_before"] = upload_applied_before(upload)
    context["downloaded_at"] = parse_datetime(str((upload.summary or {}).get("downloaded", "")))
    return render(request, "monitoring/workbook/upload_detail.html", context)


urlpatterns = [
    path("plans/<int:plan_id>/monitoring/workbook/", progress_workbook, name="progress_workbook"),
    path("plans/<int:plan_id>/monitoring/workbook/export/", progress_workbook_export, name="progress_workbook_export"),
    path(
        "plans/<int:plan_id>/monitoring/workbook/uploads/<int:upload_id>/",
        progress_upload_detail,
        name="progress_upload_detail",
    ),
]
