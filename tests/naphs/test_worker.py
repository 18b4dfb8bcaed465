"""Jobs in a real Celery worker process, against real Redis and the test database (PostgreSQL only).

Each test starts its own workers (tests/processes.py) on a queue nobody else consumes, shares a media folder
with them, and stops them afterwards; one with beat runs the sweep that finds jobs whose worker died. Their
heartbeat settings are shortened to seconds. The workers' output is printed when a test fails.
"""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from openpyxl import load_workbook

from naphs.celery import app as celery_app
from naphs.models import Job
from naphs.services import job_create
from stakeholders.job_kinds import StakeholdersJob
from stakeholders.models import Organization
from tests import processes
from tests.conftest import need_service
from tests.worker_handlers import SLOW_KIND

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

STARTUP_SECONDS = 60
JOB_SECONDS = 60
# Short, so that a job whose worker died is found in seconds; the defaults are 5, 60 and 20 s.
HEARTBEAT = {"JOB_HEARTBEAT_SECONDS": "0.5", "JOB_HEARTBEAT_STALE_SECONDS": "3", "JOB_RECOVER_SECONDS": "1"}


@dataclass
class Worker:
    """A worker process of a test, and the queue it consumes."""

    process: processes.Process
    queue: str

    def output(self) -> str:
        return self.process.output()

    def wait_until(self, condition: Callable[[], bool], what: str, seconds: float = JOB_SECONDS) -> None:
        try:
            self.process.wait_until(condition, what, seconds)
        except processes.ProcessFailed as failed:
            pytest.fail(str(failed), pytrace=False)

    def pool_processes(self) -> set[int]:
        """The worker's prefork children."""
        return self.process.children()

    def kill(self) -> None:
        """The whole worker dies at once (SIGKILL to its process group), as when its machine or container goes."""
        self.process.kill()


@pytest.fixture
def start_worker(transactional_db, settings, tmp_path) -> Iterator[Callable[..., Worker]]:
    """Start Celery workers (prefork, one process), on a queue of this test's own, seeing the test database and
    media; with beat=True one also runs beat (the jobs_recover sweep). All are stopped at the end."""
    need_service(
        connection.vendor == "postgresql", "PostgreSQL (a worker process can only reach the test database there)"
    )
    redis_url = os.environ.get("REDIS_URL", "")
    need_service(bool(redis_url), "Redis (REDIS_URL)")
    broker_url = str(celery_app.conf.broker_url)
    need_service(broker_url.startswith(("redis://", "rediss://")), "a Redis Celery broker (REDIS_URL)")
    need_service(processes.redis_answers(broker_url), f"Redis at {broker_url}")
    need_service(processes.CELERY.exists(), f"the celery command ({processes.CELERY})")

    queue = f"naphs-test-{uuid.uuid4().hex[:12]}"
    media = tmp_path / "shared-media"
    media.mkdir()
    settings.MEDIA_ROOT = media
    saved = {
        name: getattr(celery_app.conf, name)
        for name in ("task_default_queue", "task_always_eager", "task_eager_propagates")
    }
    celery_app.conf.task_default_queue = queue
    celery_app.conf.task_always_eager = False
    started: list[Worker] = []

    def start(*, beat: bool = False, **env: str) -> Worker:
        number = len(started) + 1
        var = tmp_path / f"worker-{number}-var"
        var.mkdir()
        worker_env = processes.clean_env(
            DATABASE_URL=processes.database_url(connection.settings_dict),
            DATABASE_CONN_MAX_AGE="0",
            REDIS_URL=redis_url,
            CELERY_BROKER_URL=broker_url,
            CELERY_TASK_DEFAULT_QUEUE=queue,
            MEDIA_ROOT=str(media),
            VAR_DIR=str(var),
            **{**HEARTBEAT, **env},
        )
        command = [
            str(processes.CELERY),
            "-A",
            "naphs",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--prefetch-multiplier=1",
            "-Q",
            queue,
            "-n",
            f"{queue}-{number}@%h",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--include",
            "tests.worker_handlers",
            *(["--beat"] if beat else []),
        ]
        process = processes.start(f"worker-{number}", command, env=worker_env, log_dir=tmp_path)
        worker = Worker(process=process, queue=queue)
        started.append(worker)
        worker.wait_until(lambda: " ready." in worker.output(), "the worker to be ready", STARTUP_SECONDS)
        return worker

    try:
        yield start
    finally:
        processes.stop_all([worker.process for worker in started])
        for name, value in saved.items():
            setattr(celery_app.conf, name, value)
        processes.queue_forget(broker_url, queue)
        # Shown by pytest only when the test fails.
        for worker in started:
            print(worker.process.report())


@pytest.fixture
def worker(start_worker) -> Worker:
    return start_worker()


def _job_finished(job: Job) -> Callable[[], bool]:
    def finished() -> bool:
        job.refresh_from_db()
        return job.is_finished

    return finished


def test_a_directory_export_asked_for_on_the_page_is_run_by_the_worker(worker, client, plan, people, lead, moh, moa):
    Organization.objects.create(name="=HYPERLINK(1)", kind="ngo", jurisdiction=plan.jurisdiction)
    client.force_login(people["viewer"])  # any member may export the directory

    response = client.post(f"/plans/{plan.pk}/directory/export/")

    job = Job.objects.get(plan=plan)
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    worker.wait_until(_job_finished(job), f"job {job.pk} to finish")
    assert job.status == Job.Status.SUCCEEDED, f"{job.message}: {job.error}"
    assert (job.progress, job.message, job.attempts) == (100, "Done", 1)
    assert job.requested_by == people["viewer"]

    path = Path(django_settings.MEDIA_ROOT) / job.result.name
    assert path.is_file()
    workbook = load_workbook(path)
    members = list(workbook["Members"].iter_rows(min_row=2, values_only=True))
    assert {row[1] for row in members} == {user.email for name, user in people.items() if name != "outsider"}
    organizations = {row[0]: row for row in workbook["Organizations"].iter_rows(min_row=2, values_only=True)}
    assert set(organizations) == {moh.name, moa.name, "=HYPERLINK(1)"}
    assert organizations[moh.name][1] == "MOH"
    assert organizations[moa.name][1] == "MOA"

    response = client.get(f"/jobs/{job.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == path.read_bytes()


def test_job_create_sends_the_job_to_the_worker(worker, plan, people, lead):
    job = job_create(kind=StakeholdersJob.DIRECTORY_EXPORT, by=lead, plan=plan)
    worker.wait_until(_job_finished(job), f"job {job.pk} to finish")
    assert job.status == Job.Status.SUCCEEDED, f"{job.message}: {job.error}"
    assert job.progress == 100
    emails = {row[1] for row in load_workbook(job.result.path)["Members"].iter_rows(min_row=2, values_only=True)}
    assert lead.email in emails


def test_a_job_whose_pool_process_is_killed_is_delivered_again_and_finishes_once(worker, plan, people, lead):
    job = job_create(kind=SLOW_KIND, by=lead, plan=plan, params={"wait_seconds": JOB_SECONDS})

    def waiting() -> bool:
        job.refresh_from_db()
        return job.message.startswith("Waiting in process ")

    worker.wait_until(waiting, f"job {job.pk} to start its first attempt")
    assert (job.status, job.attempts) == (Job.Status.RUNNING, 1)
    pid = int(re.fullmatch(r"Waiting in process (\d+)", job.message)[1])
    assert pid in worker.pool_processes(), "the job should run in a pool process of the test worker"

    os.kill(pid, signal.SIGKILL)  # the pool process dies mid-run, as on an out-of-memory kill

    worker.wait_until(_job_finished(job), f"job {job.pk} to be delivered again and finish")
    assert job.status == Job.Status.SUCCEEDED, f"{job.message}: {job.error}"
    assert (job.attempts, job.progress, job.message) == (2, 100, "Done")
    assert pid not in worker.pool_processes()
    assert "WorkerLostError" in worker.output() or "exited with 'signal 9" in worker.output()

    # One result, and no further delivery runs it a third time.
    time.sleep(2)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.SUCCEEDED, 2)
    files = sorted(path for path in Path(django_settings.MEDIA_ROOT).rglob("*") if path.is_file())
    assert files == [Path(django_settings.MEDIA_ROOT) / job.result.name]
    assert Job.objects.count() == 1
    emails = {row[1] for row in load_workbook(files[0])["Members"].iter_rows(min_row=2, values_only=True)}
    assert lead.email in emails


def _waiting(job: Job) -> Callable[[], bool]:
    """The slow handler's first attempt has started and sleeps, reporting nothing more."""

    def waiting() -> bool:
        job.refresh_from_db()
        return job.message.startswith("Waiting in process ")

    return waiting


def _files(folder: Path) -> list[Path]:
    return sorted(path for path in Path(folder).rglob("*") if path.is_file())


def test_a_job_beats_while_its_handler_sleeps_and_when_its_whole_worker_is_killed_the_next_runs_it_once(
    start_worker, plan, people, lead
):
    first = start_worker()
    job = job_create(kind=SLOW_KIND, by=lead, plan=plan, params={"wait_seconds": JOB_SECONDS})
    first.wait_until(_waiting(job), f"job {job.pk} to start its first attempt")
    assert (job.status, job.attempts, job.progress) == (Job.Status.RUNNING, 1, 50)

    # One long step that reports no progress: the heartbeat goes on all the same.
    beats = {job.heartbeat_at}

    def beating() -> bool:
        job.refresh_from_db()
        beats.add(job.heartbeat_at)
        return len(beats) >= 3

    first.wait_until(beating, "three heartbeats", 15)
    assert job.message.startswith("Waiting in process ") and job.progress == 50

    first.kill()  # the whole worker at once: no shutdown, the message stays unacknowledged in Redis
    killed = time.monotonic()
    assert not first.process.running()
    time.sleep(1)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.RUNNING, 1)  # nobody is left to say otherwise

    second = start_worker(beat=True)  # a worker with beat: its sweep finds the silent job
    seen: dict[str, float] = {}

    def finished() -> bool:
        job.refresh_from_db()
        if job.status != Job.Status.RUNNING or job.attempts != 1:
            seen.setdefault("found", time.monotonic() - killed)
        return job.is_finished

    second.wait_until(finished, f"job {job.pk} to be run again and finish")
    done = time.monotonic() - killed
    print(f"Whole worker killed: job found silent {seen['found']:.1f} s and done {done:.1f} s after the kill")
    assert job.status == Job.Status.SUCCEEDED, f"{job.message}: {job.error}"
    assert (job.attempts, job.progress, job.message, job.error) == (2, 100, "Done", "")
    assert f"Job {job.pk}: no heartbeat during attempt 1; queued again" in second.output()

    # Once: later sweeps and deliveries leave it alone, and there is one file, the finished job's.
    finished_at = job.finished_at
    time.sleep(3)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.finished_at) == (Job.Status.SUCCEEDED, 2, finished_at)
    assert _files(django_settings.MEDIA_ROOT) == [Path(django_settings.MEDIA_ROOT) / job.result.name]
    emails = {row[1] for row in load_workbook(job.result.path)["Members"].iter_rows(min_row=2, values_only=True)}
    assert lead.email in emails


def test_a_job_whose_worker_died_with_no_attempt_left_fails_saying_so(start_worker, plan, lead):
    first = start_worker()
    job = job_create(kind=SLOW_KIND, by=lead, plan=plan, params={"wait_seconds": JOB_SECONDS})
    first.wait_until(_waiting(job), f"job {job.pk} to start its first attempt")
    first.kill()

    second = start_worker(beat=True, JOB_MAX_ATTEMPTS="1")
    second.wait_until(_job_finished(job), f"job {job.pk} to be failed")

    assert (job.status, job.attempts) == (Job.Status.FAILED, 1)
    assert job.message == "The worker running this job stopped, and the job was not tried again. Please ask again."
    assert job.error.startswith("No heartbeat for 3 s during attempt 1")
    assert not job.result
    assert _files(django_settings.MEDIA_ROOT) == []
