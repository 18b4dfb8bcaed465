"""The plan document's page: ask for the PDF of the plan in one's language, follow its render, download it.

Every member may have the document: it shows what they can already read. An unchanged plan's document is served
from its last render (costing.document.document_stored) without asking the worker again.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import BadRequest
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from costing.document import document_endorsement, document_filename, document_stored, provincial_plans
from costing.job_kinds import CostingJob
from naphs.models import Job
from naphs.services import job_create
from planning.models import Plan
from stakeholders.access import SignedInRequest, plan_get_for_user
from stakeholders.jobs import job_started


class DocumentForm(forms.Form):
    """What the document holds besides the plan itself. Read from the request's form, and from the download's query
    (the same choices name the same stored render)."""

    provinces = forms.BooleanField(
        required=False,
        label=_("Include the summaries of the provincial plans"),
        help_text=_("A chapter with each provincial plan under this plan: its status, activities, cost and gap."),
    )
    guidance = forms.BooleanField(
        required=False,
        label=_("Include the annex of guidance and tools"),
        help_text=_("Per technical area, the WHO documents the activities cite and the national guidance."),
    )

    def __init__(self, *args, provinces: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not provinces:  # a plan with no provincial plan under it has no chapter to offer
            del self.fields["provinces"]


def _choices(data, plan: Plan) -> dict:
    """The form's choices, or 400 when they cannot be read; the provinces only where the plan has some."""
    form = DocumentForm(data)
    if not form.is_valid():
        raise BadRequest(form.errors.as_text())
    provinces = form.cleaned_data["provinces"] and provincial_plans(plan).exists()
    choices = {"provinces": True} if provinces else {}
    if form.cleaned_data["guidance"]:
        choices["guidance"] = True
    return choices


def _download_url(plan: Plan, choices: dict) -> str:
    url = reverse("plan_document_download", kwargs={"plan_id": plan.pk})
    return f"{url}?{urlencode({name: 1 for name in choices})}" if choices else url


@never_cache
@require_safe
def plan_document(request: SignedInRequest, plan_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    language = get_language()
    context = {
        "plan": plan,
        "membership": membership,
        "ready": document_stored(plan=plan, language=language, endorsement=document_endorsement(plan)) is not None,
        "download": _download_url(plan, {}),
        "jobs": Job.objects.filter(plan=plan, requested_by=request.user, kind=CostingJob.PLAN_DOCUMENT)[:1],
        "form": DocumentForm(provinces=provincial_plans(plan).exists()),
    }
    return render(request, "costing/document/page.html", context)


@require_POST
def plan_document_request(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The document of the plan as it is now: at once when it was rendered since the last change, else queued."""
    plan = plan_get_for_user(user=request.user, plan_id=plan_id).plan
    language = get_language()
    choices = _choices(request.POST, plan)
    if document_stored(plan=plan, language=language, endorsement=document_endorsement(plan), **choices) is not None:
        download = _download_url(plan, choices)
        if request.htmx:
            return render(request, "costing/document/_ready.html", {"plan": plan, "download": download})
        messages.info(request, gettext("The plan has not changed since its document was made: here it is."))
        return redirect(download)
    params = {"language": language, **choices}
    job = job_create(kind=CostingJob.PLAN_DOCUMENT, by=request.user, plan=plan, params=params)
    return job_started(request, job, gettext("The plan document is being prepared."))


@require_safe
def plan_document_download(request: SignedInRequest, plan_id: int) -> FileResponse:
    """The last render of the plan as it is now, in the person's language; 404 when the plan changed since."""
    plan = plan_get_for_user(user=request.user, plan_id=plan_id).plan
    language = get_language()
    choices = _choices(request.GET, plan)
    name = document_stored(plan=plan, language=language, endorsement=document_endorsement(plan), **choices)
    if name is None:
        raise Http404(gettext("The plan has changed since its last document; please ask for a new one."))
    return FileResponse(
        default_storage.open(name, "rb"),
        as_attachment=True,
        filename=document_filename(plan=plan, language=language, **choices),
        content_type="application/pdf",
    )


urlpatterns = [
    path("plans/<int:plan_id>/document/", plan_document, name="plan_document"),
    path("plans/<int:plan_id>/document/request/", plan_document_request, name="plan_document_request"),
    path("plans/<int:plan_id>/document/download/", plan_document_download, name="plan_document_download"),
]
