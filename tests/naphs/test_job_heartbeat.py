"""A job's heartbeat: a running job shows it is alive; one whose worker died is run again or failed, saying so.

These run the job runner in-process; tests/naphs/test_worker.py kills real workers.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError, connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from naphs import job_kinds, jobs, tasks
from naphs.job_kinds import JobKind
from naphs.jobs import JobLost, JobResult, Outcome, job_run, jobs_recover
from naphs.models import Job
from stakeholders.job_kinds import StakeholdersJob
from tests.conftest import need_service

pytestmark = pytest.mark.django_db


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in Path(folder).rglob("*") if path.is_file())


def export_job(plan, user, **fields) -> Job:
    return Job.objects.create(kind=StakeholdersJob.DIRECTORY_EXPORT, plan=plan, requested_by=user, **fields)


def silent_since(seconds: float):
    return timezone.now() - timedelta(seconds=django_settings.JOB_HEARTBEAT_STALE_SECONDS + seconds)


@pytest.fixture
def handler(monkeypatch):
    """Point the directory-export kind at a handler of this module."""

    def use(name: str) -> None:
        kind = StakeholdersJob.DIRECTORY_EXPORT
        monkeypatch.setitem(job_kinds.KINDS, kind, JobKind(kind, kind.label, globals()[name]))

    return use


def export(*, job: Job, progress) -> JobResult:
    from stakeholders.services import plan_directory_export

    return plan_directory_export(job=job, progress=progress)


def superseded_export(*, job: Job, progress) -> JobResult:
    """Meanwhile this attempt was found silent, and another worker claimed the job (attempt 2)."""
    result = export(job=job, progress=progress)
    Job.objects.filter(pk=job.pk).update(attempts=F("attempts") + 1, heartbeat_at=timezone.now())
    return result


REACHED = []


def requeued_then_reporting(*, job: Job, progress) -> JobResult:
    """Meanwhile the sweep queued the job again; this attempt's next progress report must stop it."""
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED, message="The worker running this job stopped")
    progress(60, "Still going")
    REACHED.append(job.pk)
    return export(job=job, progress=progress)


HICCUPS = []


def hiccup_once(*, job: Job, progress) -> JobResult:
    if job.attempts == 1:
        HICCUPS.append(job.pk)
        raise OperationalError("server closed the connection unexpectedly")
    return export(job=job, progress=progress)


def test_a_message_delivered_again_while_the_attempt_beats_is_left_alone(plan, people, lead):
    job = export_job(plan, lead, status=Job.Status.RUNNING, attempts=1, progress=40, started_at=timezone.now())
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=10))

    assert job_run(job_id=job.pk) == Outcome.STILL_BEATING

    job.refresh_from_db()
    assert (job.status, job.attempts, job.progress) == (Job.Status.RUNNING, 1, 40)
    assert files_under(django_settings.MEDIA_ROOT) == []


def test_a_message_for_a_job_silent_past_the_threshold_runs_it_again(plan, people, lead):
    job = export_job(plan, lead, status=Job.Status.RUNNING, attempts=1, started_at=silent_since(30))
    Job.objects.filter(pk=job.pk).update(heartbeat_at=silent_since(1))

    assert job_run(job_id=job.pk) == Outcome.RAN

    job.refresh_from_db()
    assert (job.status, job.attempts, job.message) == (Job.Status.SUCCEEDED, 2, "Done")
    assert job.heartbeat_at > silent_since(0)
    assert files_under(django_settings.MEDIA_ROOT) == [Path(job.result.path)]


def test_a_message_for_a_silent_job_with_no_attempt_left_fails_it_saying_so(plan, lead, settings):
    settings.JOB_MAX_ATTEMPTS = 2
    job = export_job(plan, lead, status=Job.Status.RUNNING, attempts=2, started_at=silent_since(30))

    assert job_run(job_id=job.pk) == Outcome.LEFT_ALONE

    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.FAILED, 2)
    assert job.message == (
        "The worker running this job stopped during each of its 2 attempts. Please ask again; "
        "if it happens again, tell an administrator."
    )


def test_the_task_looks_once_more_when_a_delivered_again_job_would_be_stale(plan, lead, monkeypatch, settings):
    job = export_job(plan, lead, status=Job.Status.RUNNING, attempts=1, started_at=timezone.now())
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
    later = []
    monkeypatch.setattr(tasks.job_run_task, "apply_async", lambda *args, **options: later.append((args, options)))

    tasks.job_run_task.apply((job.pk,))
    assert later == [
        (
            ((job.pk,), {"last_look": True}),
            {"countdown": settings.JOB_HEARTBEAT_STALE_SECONDS + settings.JOB_HEARTBEAT_SECONDS},
        )
    ]
    tasks.job_run_task.apply((job.pk,), {"last_look": True})  # still beating then: left to its attempt for good
    assert len(later) == 1
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.RUNNING, 1)


def test_the_sweep_queues_silent_jobs_again_or_fails_them_and_leaves_the_others_alone(
    plan, lead, settings, django_capture_on_commit_callbacks
):
    settings.JOB_MAX_ATTEMPTS = 3
    running = {"status": Job.Status.RUNNING}
    silent = export_job(plan, lead, **running, attempts=1, progress=70, started_at=silent_since(60))
    beating = export_job(plan, lead, **running, attempts=1, started_at=silent_since(60))
    last_attempt = export_job(plan, lead, **running, attempts=3, started_at=silent_since(60))
    too_long = export_job(
        plan,
        lead,
        **running,
        attempts=1,
        started_at=timezone.now() - timedelta(seconds=settings.CELERY_TASK_SOFT_TIME_LIMIT + 60),
    )
    never_beat = export_job(plan, lead, **running, attempts=1, started_at=silent_since(5))  # a worker of old
    queued = export_job(plan, lead)
    Job.objects.filter(pk__in=[silent.pk, last_attempt.pk, too_long.pk]).update(heartbeat_at=silent_since(1))
    Job.objects.filter(pk=beating.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=5))

    with django_capture_on_commit_callbacks() as enqueued:
        assert jobs_recover() == 4

    for job in (silent, never_beat):
        job.refresh_from_db()
        assert (job.status, job.attempts, job.progress) == (Job.Status.QUEUED, 1, 0)
        assert job.message == "The worker running this job stopped; the job will start again."
    assert len(enqueued) == 2  # one message each, sent once the change is committed
    last_attempt.refresh_from_db()
    assert last_attempt.status == Job.Status.FAILED
    assert last_attempt.message.startswith("The worker running this job stopped during each of its 3 attempts.")
    assert last_attempt.error.startswith("No heartbeat for 60 s during attempt 3")
    assert last_attempt.finished_at is not None
    too_long.refresh_from_db()
    assert too_long.status == Job.Status.FAILED
    assert too_long.message == "The job took longer than allowed and was stopped."
    for job in (beating, queued):
        before = (job.status, job.message, job.attempts)
        job.refresh_from_db()
        assert (job.status, job.message, job.attempts) == before

    with django_capture_on_commit_callbacks() as enqueued:
        assert jobs_recover() == 0  # nothing more to do
    assert enqueued == []


def test_an_attempt_that_lost_its_job_to_another_does_not_finish_it_nor_leave_a_file(plan, people, lead, handler):
    handler("superseded_export")
    job = export_job(plan, lead)

    assert job_run(job_id=job.pk) == Outcome.LEFT_ALONE

    job.refresh_from_db()
    assert (job.status, job.attempts, job.result.name) == (Job.Status.RUNNING, 2, "")
    assert files_under(django_settings.MEDIA_ROOT) == []


def test_an_attempt_whose_job_was_queued_again_stops_at_its_next_progress_report(plan, people, lead, handler):
    handler("requeued_then_reporting")
    job = export_job(plan, lead)

    assert job_run(job_id=job.pk) == Outcome.LEFT_ALONE

    assert job.pk not in REACHED
    job.refresh_from_db()
    assert (job.status, job.message) == (Job.Status.QUEUED, "The worker running this job stopped")
    assert files_under(django_settings.MEDIA_ROOT) == []
    with pytest.raises(JobLost):
        jobs._Attempt(job_id=job.pk, number=job.attempts).progress(10, "Anyone there?")


def test_a_database_hiccup_in_a_handler_is_tried_again_by_the_task(plan, people, lead, handler):
    handler("hiccup_once")
    job = export_job(plan, lead)

    tasks.job_run_task.apply((job.pk,), throw=False)  # its retry runs at once

    job.refresh_from_db()
    assert job.pk in HICCUPS
    assert (job.status, job.attempts, job.message) == (Job.Status.SUCCEEDED, 2, "Done")


BEATS: dict[int, list] = {}


def long_step_in_a_transaction(*, job: Job, progress) -> JobResult:
    """Reports progress inside a transaction, then works a while reporting nothing; meanwhile another connection
    (another process's view) sees the progress and the heartbeat going on."""
    seen = BEATS.setdefault(job.pk, [])

    def watch() -> None:
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and len({beat for message, beat in seen}) < 4:
                row = Job.objects.values_list("message", "heartbeat_at").get(pk=job.pk)
                if row[0] == "Halfway":
                    seen.append(row)
                time.sleep(0.05)
        finally:
            connections.close_all()

    with transaction.atomic():
        job.plan.__class__.objects.select_for_update().get(pk=job.plan_id)
        progress(50, "Halfway")
        watcher = threading.Thread(target=watch)
        watcher.start()
        watcher.join()
    return export(job=job, progress=progress)


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_goes_on_during_a_long_silent_step_and_progress_shows_at_once(
    plan, people, lead, handler, settings
):
    need_service(connection.vendor == "postgresql", "PostgreSQL (a heartbeat from a second connection)")
    settings.JOB_HEARTBEAT_SECONDS = 0.2
    settings.JOB_HEARTBEAT_STALE_SECONDS = 1
    handler("long_step_in_a_transaction")
    job = export_job(plan, lead)

    assert job_run(job_id=job.pk) == Outcome.RAN

    seen = BEATS[job.pk]
    assert seen, "the progress reported inside the handler's transaction was not visible outside it"
    assert len({beat for message, beat in seen}) >= 4, "the heartbeat stopped while the handler worked"
    job.refresh_from_db()
    assert (job.status, job.attempts, job.progress) == (Job.Status.SUCCEEDED, 1, 100)
