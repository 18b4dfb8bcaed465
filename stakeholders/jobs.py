"""The jobs a person asked for, as pages and through the API: each seen by the person who asked for it, while
they can still see its plan (stakeholders.access.job_get_for_user)."""

from __future__ import annotations

from pathlib import PurePath

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer

from naphs.api import JobSerializer
from naphs.models import Job
from stakeholders.access import SignedInRequest, SignedInView, job_get_for_user, jobs_for_user


def job_started(request: SignedInRequest, job: Job, message: str, *, then: str | None = None) -> HttpResponse:
    """What a page answers once it has queued a job: the job's progress in place of the button for htmx, else
    `message` on the job's page (or on `then`, the page the person came from)."""
    if request.htmx:
        return render(request, "naphs/_job.html", {"job": job})
    messages.info(request, message)
    if then is not None:
        return redirect(then)
    return redirect("job_detail", job_id=job.pk)


@never_cache
@require_safe
def job_detail(request: SignedInRequest, job_id: int) -> HttpResponse:
    """The job's progress: a fragment that polls itself while the job runs, or a page around it."""
    job, membership = job_get_for_user(user=request.user, job_id=job_id)
    template = "naphs/_job.html" if request.htmx else "naphs/job_detail.html"
    context: dict[str, object] = {"job": job, "plan": job.plan}
    if membership is not None:
        context["membership"] = membership
    return render(request, template, context)


@require_safe
def job_download(request: SignedInRequest, job_id: int) -> FileResponse:
    job = job_get_for_user(user=request.user, job_id=job_id).job
    if not job.result:
        raise Http404(_("This job has no file (yet)."))
    try:
        handle = job.result.open("rb")
    except FileNotFoundError as missing:
        raise Http404(_("The file is no longer available; please ask for it again.")) from missing
    return FileResponse(handle, as_attachment=True, filename=job.result_name)


# The files jobs make, by extension; anything else is sent as bytes.
JOB_FILE_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
    ".csv": "text/csv",
    ".zip": "application/zip",
}
OCTET_STREAM = "application/octet-stream"


class _AnyRenderer(JSONRenderer):
    """Lets a client ask for a file with the Accept header of its type; a refusal is still JSON."""

    media_type = "*/*"
    format = "json"  # what it writes


class JobViewSet(SignedInView, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Background jobs you asked for, newest first."""

    serializer_class = JobSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return jobs_for_user(self.request.user).order_by("-created_at")

    def get_object(self) -> Job:
        return job_get_for_user(user=self.request.user, job_id=self.kwargs["pk"]).job

    @extend_schema(
        responses={
            (200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description="The job's file, as an attachment.")
            for media_type in [*JOB_FILE_TYPES.values(), OCTET_STREAM]
        }
    )
    @action(
        detail=True, methods=["get"], url_path="file", url_name="file", renderer_classes=[JSONRenderer, _AnyRenderer]
    )
    def file(self, request, pk=None, format=None) -> FileResponse:
        """Download the file of a job that succeeded (its `download_url`): 404 while it has none, or once it has
        expired. Seen by the person who asked for it, as the job itself."""
        job = self.get_object()
        if not job.result:
            raise Http404(_("This job has no file (yet)."))
        try:
            handle = job.result.open("rb")
        except FileNotFoundError as missing:
            raise Http404(_("The file is no longer available; please ask for it again.")) from missing
        content_type = JOB_FILE_TYPES.get(PurePath(job.result_name).suffix.lower(), OCTET_STREAM)
        return FileResponse(handle, as_attachment=True, filename=job.result_name, content_type=content_type)
