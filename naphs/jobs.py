"""Running background jobs: one runner for every kind, each kind a service function that returns a file.

A handler is `handler(*, job, progress) -> JobResult`. It reports progress with `progress(percent, message)`
and raises JobFailed with a message for the person when the work cannot be done. Handlers build their
result from the database alone, so running one twice gives the same file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import NamedTuple

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from naphs.models import Job

logger = logging.getLogger(__name__)

HANDLERS: dict[str, str] = {
    Job.Kind.DIRECTORY_EXPORT: "stakeholders.services.plan_directory_export",
    Job.Kind.COSTING_WORKBOOK: "costing.workbook.costing_workbook_export",
    Job.Kind.COSTING_UPLOAD: "costing.workbook.costing_upload_apply",
    Job.Kind.WHO_COSTING_EXPORT: "costing.who.who_costing_export",
    Job.Kind.WHO_COSTING_IMPORT: "costing.who.who_costing_import",
    Job.Kind.COSTING_DASHBOARD_EXPORT: "costing.dashboard.costing_dashboard_export",
    Job.Kind.SCORES_IMPORT: "planning.imports.scores_import_job",
    Job.Kind.SPAR_IMPORT: "planning.imports.spar_import_job",
    Job.Kind.FRAMEWORK_IMPORT: "planning.imports.framework_import_job",
    Job.Kind.LIBRARY_IMPORT: "planning.imports.library_import_job",
}


class JobResult(NamedTuple):
    filename: str
    content: bytes


def file_slug(text: str, *, limit: int = 60) -> str:
    """ "Demoland NAPHS 2026–2030" → "demoland-naphs-2026-2030": text made part of a file name, cut to `limit`."""
    words = "".join(c if c.isalnum() else " " for c in text.lower()).split()
    return "-".join(words)[:limit].strip("-") or "plan"


class JobFailed(Exception):
    """The work cannot be done; the message is shown to the person who asked."""


Progress = Callable[[int, str], None]


def _progress_reporter(job_id: int) -> Progress:
    def report(percent: int, message: str) -> None:
        Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(
            progress=max(0, min(100, int(percent))), message=message[:250]
        )

    return report


def job_fail(*, job_id: int, message: str, error: str = "") -> None:
    Job.objects.filter(pk=job_id).exclude(status__in=Job.FINISHED).update(
        status=Job.Status.FAILED, message=message[:250], error=error or message, finished_at=timezone.now()
    )


def job_run(*, job_id: int) -> None:
    """Run a queued job, or run again a job whose worker died; a finished or deleted job is left alone."""
    claimed = Job.objects.filter(pk=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).update(
        status=Job.Status.RUNNING,
        started_at=timezone.now(),
        attempts=F("attempts") + 1,
        progress=0,
        message="Started",
        error="",
    )
    if not claimed:
        return
    job = Job.objects.select_related("plan", "requested_by").get(pk=job_id)
    handler = import_string(HANDLERS[job.kind])
    try:
        result: JobResult = handler(job=job, progress=_progress_reporter(job.pk))
    except JobFailed as failure:
        job_fail(job_id=job.pk, message=str(failure))
        return
    except SoftTimeLimitExceeded:
        job_fail(job_id=job.pk, message="The job took longer than allowed and was stopped.")
        return
    if job.result:
        job.result.delete(save=False)  # a file left by an earlier attempt
    job.result.save(result.filename, ContentFile(result.content), save=False)
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
        status=Job.Status.SUCCEEDED,
        result=job.result.name,
        progress=100,
        message="Done",
        finished_at=timezone.now(),
    )


def jobs_expire(*, now: timezone.datetime | None = None) -> int:
    """Fail jobs no worker can still be running, and delete finished jobs (and their files) past retention."""
    now = now or timezone.now()
    stale_running = Job.objects.filter(
        status=Job.Status.RUNNING, started_at__lt=now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 600)
    )
    stale_queued = Job.objects.filter(status=Job.Status.QUEUED, created_at__lt=now - timedelta(days=1))
    count = 0
    for queryset, message in (
        (stale_running, "The worker stopped before finishing. Please ask again."),
        (stale_queued, "No worker picked this job up. Please ask again."),
    ):
        count += queryset.update(status=Job.Status.FAILED, message=message, error=message, finished_at=now)
    retention = timedelta(days=settings.JOB_RETENTION_DAYS)
    for job in Job.objects.filter(finished_at__lt=now - retention):
        if job.result:
            job.result.delete(save=False)
        job.delete()
    return count
