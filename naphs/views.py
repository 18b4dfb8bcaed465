"""HTML views every app shares: background-job progress and downloads, and the health check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from naphs.access import job_get_for_user

# A page with a form answers these; a page without one, require_safe (GET and HEAD).
require_form_methods = require_http_methods(["GET", "HEAD", "POST"])


@never_cache
@require_safe
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    """The job's progress: a fragment that polls itself while the job runs, or a page around it."""
    job = job_get_for_user(user=request.user, job_id=job_id)
    template = "naphs/_job.html" if request.htmx else "naphs/job_detail.html"
    context = {"job": job, "plan": job.plan}
    if job.plan is not None:
        context["membership"] = job.plan.membership
    return render(request, template, context)


@require_safe
def job_download(request: HttpRequest, job_id: int) -> FileResponse:
    job = job_get_for_user(user=request.user, job_id=job_id)
    if not job.result:
        raise Http404(_("This job has no file (yet)."))
    try:
        handle = job.result.open("rb")
    except FileNotFoundError as missing:
        raise Http404(_("The file is no longer available; please ask for it again.")) from missing
    return FileResponse(handle, as_attachment=True, filename=job.result_name)


@login_not_required
@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and docker compose: the web process answers and reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
