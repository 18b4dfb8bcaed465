"""Costing pages: the plan in the layout of the WHO NAPHS planning and costing tool, exported by any member and
imported by the secretariat."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from costing.job_kinds import CostingJob
from costing.layouts.who import who_columns
from costing.models import CostingUpload
from costing.services import plan_costing_get
from costing.uploads import upload_applied_before
from costing.who import who_period_problem, who_upload_create
from naphs.models import Job
from naphs.permissions import Permission
from naphs.services import job_create
from naphs.spreadsheets import XLSX_MAGIC
from naphs.uploads import upload_file_check
from stakeholders.access import PlanAccess, SignedInRequest, plan_get_for_user
from stakeholders.jobs import job_started

RECENT_UPLOADS = 5


class WhoUploadForm(forms.Form):
    file = forms.FileField(
        label=_("The WHO costing tool, filled (.xlsx or .xlsm)"),
        help_text=_(
            "The sheet “Costing Tool” with WHO's header row, as WHO distributes it (a macro-enabled .xlsm: its "
            "macros are never run) or as the export writes it. Amounts in the plan's base currency. Checked whole: "
            "applied entirely or not at all."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.name.lower().endswith(".xls"):
            raise forms.ValidationError(gettext("Save the workbook as a plain Excel workbook (.xlsx) and upload that."))
        upload_file_check(
            upload,
            extensions=[".xlsx", ".xlsm"],
            what=gettext("the WHO costing tool, an Excel workbook (.xlsx or .xlsm)"),
        )
        head = upload.read(len(XLSX_MAGIC))
        upload.seek(0)
        if head != XLSX_MAGIC:
            raise forms.ValidationError(gettext("This file is not an Excel workbook (.xlsx), whatever its name says."))
        return upload


def _page(
    request: SignedInRequest, access: PlanAccess, *, form: WhoUploadForm | None = None, status: int = 200
) -> HttpResponse:
    plan, membership = access
    costing = plan_costing_get(plan)
    can_import = membership.allows(Permission.EDIT_PLAN)
    uploads = []
    if can_import:
        uploads = list(
            CostingUpload.objects.filter(plan=plan, layout=CostingUpload.Layout.WHO).select_related(
                "job", "uploaded_by"
            )[:RECENT_UPLOADS]
        )
    context = {
        "plan": plan,
        "membership": membership,
        "costing": costing,
        "period_problem": who_period_problem(plan),
        "columns": [title for key, title in who_columns(plan) if key],
        "export_jobs": Job.objects.filter(plan=plan, requested_by=request.user, kind=CostingJob.WHO_COSTING_EXPORT)[:1],
        "form": (form or WhoUploadForm()) if can_import else None,
        "uploads": uploads,
    }
    return render(request, "costing/who/page.html", context, status=status)


@require_safe
def who_costing(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Export the plan in the WHO layout (any member); import a workbook in it (the secretariat)."""
    return _page(request, plan_get_for_user(user=request.user, plan_id=plan_id))


@require_POST
def who_costing_export(request: SignedInRequest, plan_id: int) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, plan_id=plan_id).plan
    job = job_create(kind=CostingJob.WHO_COSTING_EXPORT, by=request.user, plan=plan)
    return job_started(
        request,
        job,
        gettext("The workbook in the WHO costing tool layout is being prepared."),
        then=reverse("who_costing", kwargs={"plan_id": plan.pk}),
    )


@require_POST
def who_costing_import(request: SignedInRequest, plan_id: int) -> HttpResponse:
    access = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_PLAN)
    plan = access.plan
    form = WhoUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, access, form=form, status=422)
    file = form.cleaned_data["file"]
    try:
        upload = who_upload_create(plan=plan, by=request.user, upload=file, filename=file.name)
    except ValidationError as error:
        form.add_error("file", error)
        return _page(request, access, form=form, status=422)
    earlier = upload_applied_before(upload)
    if earlier is not None:
        messages.info(
            request,
            gettext("This very file was imported on %(date)s; importing it again changes nothing.")
            % {"date": date_format(earlier.created_at, "DATE_FORMAT")},
        )
    else:
        messages.info(
            request,
            gettext("%(file)s is being checked; it is applied only if every row is sound.") % {"file": upload.filename},
        )
    return redirect("who_costing", plan_id=plan.pk)


@require_safe
def who_costing_upload(request: SignedInRequest, plan_id: int, who_upload_id: int) -> HttpResponse:
    """An uploaded workbook: its import's progress, then what it changed or every problem found."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    upload = (
        CostingUpload.objects.filter(pk=who_upload_id, plan=plan, layout=CostingUpload.Layout.WHO)
        .select_related("job", "uploaded_by")
        .first()
    )
    if upload is None:
        raise Http404(gettext("No such upload."))
    context = {"plan": plan, "membership": membership, "upload": upload}
    template = "costing/who/_upload.html" if request.htmx else "costing/who/upload.html"
    return render(request, template, context)


urlpatterns = [
    path("plans/<int:plan_id>/costing/who/", who_costing, name="who_costing"),
    path("plans/<int:plan_id>/costing/who/export/", who_costing_export, name="who_costing_export"),
    path("plans/<int:plan_id>/costing/who/import/", who_costing_import, name="who_costing_import"),
    path("plans/<int:plan_id>/costing/who/uploads/<int:who_upload_id>/", who_costing_upload, name="who_costing_upload"),
]
