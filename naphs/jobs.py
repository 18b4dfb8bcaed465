"""Running background jobs: one runner for every kind, each kind a service function that returns a file, which
the app doing the work registers (naphs.job_kinds).

A handler is `handler(*, job, progress) -> JobResult`. It reports progress with `progress(percent, message)`
and raises JobFailed with a message for the person when the work cannot be done. Handlers build their
result from the database alone, so running one twice gives the same file; those that change the plan (imports)
find what an earlier attempt applied and apply nothing twice.

An attempt owns its job while the row says running with its attempt number, and shows it is alive by a
heartbeat on the row. A job whose heartbeat stopped (its worker was killed) is queued again by the sweep that
beat runs (jobs_recover), or failed with a message once it has had its attempts; a message delivered again
runs a job only when its heartbeat is stale. Every write of an attempt is conditioned on still owning the
row, so two attempts never both finish one job.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, connection, connections
from django.db.models import DateTimeField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import Now
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from naphs.errors import PlanFrozen
from naphs.job_kinds import job_kind_get
from naphs.languages import person_language
from naphs.models import Job

logger = logging.getLogger(__name__)


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


class JobLost(Exception):
    """This attempt no longer owns its job: it was found silent and run again elsewhere, or finished."""


class Outcome(StrEnum):
    """What a delivery of a job's message did."""

    RAN = "ran"
    LEFT_ALONE = "left alone"  # finished, deleted, or another attempt still beating
    STILL_BEATING = "still beating"


def _silent() -> Q:
    """Running jobs whose last sign of life is older than the staleness threshold, by the database's clock."""
    threshold = ExpressionWrapper(
        Now() - timedelta(seconds=settings.JOB_HEARTBEAT_STALE_SECONDS), output_field=DateTimeField()
    )
    return Q(status=Job.Status.RUNNING) & (
        Q(heartbeat_at__lt=threshold)
        | Q(heartbeat_at__isnull=True, started_at__lt=threshold)
        | Q(heartbeat_at__isnull=True, started_at__isnull=True)
    )


def _retryable() -> Q:
    """Silent jobs worth another attempt: attempts left, and the silent one did not run past the time limit."""
    too_long = timezone.now() - timedelta(seconds=settings.CELERY_TASK_SOFT_TIME_LIMIT)
    return (
        _silent()
        & Q(attempts__lt=settings.JOB_MAX_ATTEMPTS)
        & (Q(started_at__isnull=True) | Q(started_at__gte=too_long))
    )


class _Attempt:
    """One attempt at a job: it owns the row while status is running and `attempts` is its number.

    It writes the job's progress and heartbeat. Run by a worker (autocommit), a thread with its own database
    connection beats every JOB_HEARTBEAT_SECONDS, also while the handler is busy in one long step or holds a
    transaction, and writes the latest progress as it comes. Run inside a transaction (tests, in-process), it
    writes progress and heartbeat on the caller's connection instead. Every write is conditioned on owning the
    row; once it is lost, the next progress report raises JobLost so the handler stops.
    """

    def __init__(self, *, job_id: int, number: int) -> None:
        self.job_id = job_id
        self.number = number
        self.lost = threading.Event()
        self._done = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._pending: dict[str, object] = {}
        self._thread: threading.Thread | None = None
        in_memory = connection.vendor == "sqlite" and connection.is_in_memory_db()  # type: ignore[attr-defined]  # SQLite's
        if not connection.in_atomic_block and not in_memory:
            self._thread = threading.Thread(target=self._beat, name=f"job-{job_id}-heartbeat", daemon=True)

    def mine(self) -> QuerySet[Job]:
        return Job.objects.filter(pk=self.job_id, status=Job.Status.RUNNING, attempts=self.number)

    def _write(self, **fields: object) -> None:
        if not self.mine().update(heartbeat_at=Now(), **fields):
            self.lost.set()

    def start(self) -> None:
        if self._thread is not None:
            self._thread.start()

    def progress(self, percent: int, message: str) -> None:
        if self.lost.is_set():
            raise JobLost
        fields = {"progress": max(0, min(100, int(percent))), "message": message[:250]}
        if self._thread is None:
            self._write(**fields)
            if self.lost.is_set():
                raise JobLost
            return
        with self._lock:
            self._pending = fields
        self._wake.set()

    def _beat(self) -> None:
        # Past the hard time limit the worker kills the handler; no beat may outlive it.
        deadline = time.monotonic() + settings.CELERY_TASK_TIME_LIMIT
        try:
            while not self._done.is_set() and not self.lost.is_set() and time.monotonic() < deadline:
                self._wake.clear()
                with self._lock:
                    fields, self._pending = self._pending, {}
                try:
                    self._write(**fields)
                except DatabaseError:
                    logger.warning("Job %s: could not write its heartbeat", self.job_id, exc_info=True)
                    with self._lock:
                        self._pending = self._pending or fields
                    connections.close_all()  # a fresh connection at the next beat
                self._wake.wait(settings.JOB_HEARTBEAT_SECONDS)
                self._done.wait(0.2)  # at most five progress writes a second, however often the handler reports
        finally:
            connections.close_all()  # this thread's own connection

    def stop(self) -> None:
        self._done.set()
        self._wake.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join()

    def finish(self, **fields: object) -> bool:
        """Record the outcome, if the job is still this attempt's."""
        return bool(self.mine().update(**fields))


def job_fail(*, job_id: int, message: str, error: str = "") -> None:
    Job.objects.filter(pk=job_id).exclude(status__in=Job.FINISHED).update(
        status=Job.Status.FAILED, message=message[:250], error=error or message, finished_at=timezone.now()
    )


def job_run(*, job_id: int) -> Outcome:
    """Run a queued job, or run again a job whose worker stopped beating; leave alone a finished or deleted job
    and one whose attempt still beats (a message delivered again while it runs)."""
    claimed = (
        Job.objects.filter(pk=job_id)
        .filter(Q(status=Job.Status.QUEUED) | _retryable())
        .update(
            status=Job.Status.RUNNING,
            started_at=timezone.now(),
            heartbeat_at=Now(),
            attempts=F("attempts") + 1,
            progress=0,
            message=gettext("Started"),
            error="",
        )
    )
    if not claimed:
        if jobs_recover(job_ids=[job_id]):  # silent, with no attempt left: failed, saying so
            return Outcome.LEFT_ALONE
        alive = Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).exists()
        return Outcome.STILL_BEATING if alive else Outcome.LEFT_ALONE
    job = Job.objects.select_related("plan", "requested_by").get(pk=job_id)
    attempt = _Attempt(job_id=job.pk, number=job.attempts)
    handler = job_kind_get(job.kind).handler
    attempt.start()
    try:
        # Progress, problems and the file's headings in the language of the person who asked.
        with translation.override(person_language(job.requested_by)):
            result: JobResult = handler(job=job, progress=attempt.progress)
    except JobLost:
        return Outcome.LEFT_ALONE
    except (JobFailed, PlanFrozen) as failure:  # PlanFrozen: the plan was endorsed after the job was asked
        attempt.stop()
        message = str(failure)
        attempt.finish(status=Job.Status.FAILED, message=message[:250], error=message, finished_at=timezone.now())
        return Outcome.RAN
    except SoftTimeLimitExceeded:
        attempt.stop()
        message = gettext("The job took longer than allowed and was stopped.")
        attempt.finish(status=Job.Status.FAILED, message=message, error=message, finished_at=timezone.now())
        return Outcome.RAN
    except Exception:
        # Queued again for the task's retry (a database or broker hiccup) or its failure report to find.
        attempt.stop()
        with contextlib.suppress(DatabaseError):  # else it stays silent, and the sweep queues it again
            attempt.finish(status=Job.Status.QUEUED, message=gettext("Waiting to try again"))
        raise
    finally:
        attempt.stop()
    if attempt.lost.is_set():
        return Outcome.LEFT_ALONE
    if job.result:
        job.result.delete(save=False)  # a file left by an earlier attempt
    job.result.save(result.filename, ContentFile(result.content), save=False)
    if not attempt.finish(
        status=Job.Status.SUCCEEDED,
        result=job.result.name,
        progress=100,
        message=gettext("Done"),
        finished_at=timezone.now(),
    ):
        job.result.delete(save=False)  # the job is another attempt's now: one result, never two
        return Outcome.LEFT_ALONE
    return Outcome.RAN


def jobs_recover(*, job_ids: list[int] | None = None) -> int:
    """Queue again the running jobs whose worker stopped beating, or fail them, saying why, once they have had
    JOB_MAX_ATTEMPTS attempts or ran past the time limit. Each change is conditioned on the job being as it was
    read, so a job that beats again, or that another sweep took, is left alone. Returns how many changed."""
    from naphs.tasks import job_run_task

    silent = Job.objects.filter(_silent())
    if job_ids is not None:
        silent = silent.filter(pk__in=job_ids)
    retryable = set(silent.filter(_retryable()).values_list("pk", flat=True))
    too_long = timezone.now() - timedelta(seconds=settings.CELERY_TASK_SOFT_TIME_LIMIT)
    changed = 0
    for job in silent.only("pk", "attempts", "started_at"):
        same = Job.objects.filter(_silent(), pk=job.pk, attempts=job.attempts)
        if job.pk in retryable:
            if same.update(
                status=Job.Status.QUEUED,
                progress=0,
                message=gettext("The worker running this job stopped; the job will start again."),
            ):
                logger.warning("Job %s: no heartbeat during attempt %s; queued again", job.pk, job.attempts)
                job_run_task.delay_on_commit(job.pk)
                changed += 1
        elif job.started_at and job.started_at < too_long:  # killed at the time limit, or would be again
            message = gettext("The job took longer than allowed and was stopped.")
            changed += same.update(status=Job.Status.FAILED, message=message, error=message, finished_at=timezone.now())
        else:
            message = ngettext(
                "The worker running this job stopped, and the job was not tried again. Please ask again.",
                "The worker running this job stopped during each of its %(count)d attempts. Please ask again; "
                "if it happens again, tell an administrator.",
                job.attempts,
            ) % {"count": job.attempts}
            changed += same.update(
                status=Job.Status.FAILED,
                message=message[:250],
                error=f"No heartbeat for {settings.JOB_HEARTBEAT_STALE_SECONDS:g} s during attempt {job.attempts}.",
                finished_at=timezone.now(),
            )
    return changed


def jobs_expire(*, now: datetime | None = None) -> int:
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
