"""Jobs in a real Celery worker process, against real Redis and the test database (PostgreSQL only).

Each test starts its own worker on a queue nobody else consumes, shares a media folder with it, and stops
it afterwards. The worker's output goes to a file that is printed when a test fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection
from openpyxl import load_workbook

from naphs.celery import app as celery_app
from naphs.models import Job
from naphs.services import job_create
from stakeholders.models import Organization
from tests.conftest import need_service
from tests.worker_handlers import SLOW_KIND

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PROJECT_DIR = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).parent / "celery"
STARTUP_SECONDS = 60
JOB_SECONDS = 60


def _database_url() -> str:
    """The URL of the database this test process uses (pytest-django's test database)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}{'@' if credentials else ''}{host}{port}/{quote(db['NAME'], safe='')}"


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=3).ping())
    except redis.RedisError:
        return False


@dataclass
class Worker:
    process: subprocess.Popen
    queue: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else "(no output)"

    def wait_until(self, condition: Callable[[], bool], what: str, seconds: float = JOB_SECONDS) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if self.process.poll() is not None:
                pytest.fail(f"The worker exited ({self.process.returncode}) before {what}:\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"Timed out after {seconds} s waiting for {what}. Worker output:\n{self.output()}")
            time.sleep(0.2)

    def pool_processes(self) -> set[int]:
        """The worker's prefork children."""
        children = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                children.add(int(stat.parent.name))
        return children


def _stop(process: subprocess.Popen) -> None:
    """Warm shutdown first; then kill the worker and its pool (its own process group)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # the group this test started; pool children left behind too
    process.wait(timeout=15)


def _forget_queue(queue: str) -> None:
    """Remove what the test queue left in Redis: waiting and unacknowledged messages, its binding."""
    import redis

    client = redis.Redis.from_url(celery_app.conf.broker_url)
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    for tag, payload in client.hscan_iter("unacked"):
        if queue.encode() in payload:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


@pytest.fixture
def worker(transactional_db, settings, tmp_path) -> Iterator[Worker]:
    """A Celery worker (prefork, one process) on a queue of its own, seeing the test database and media."""
    need_service(
        connection.vendor == "postgresql", "PostgreSQL (a worker process can only reach the test database there)"
    )
    redis_url = os.environ.get("REDIS_URL", "")
    need_service(bool(redis_url), "Redis (REDIS_URL)")
    need_service(
        str(celery_app.conf.broker_url).startswith(("redis://", "rediss://")), "a Redis Celery broker (REDIS_URL)"
    )
    need_service(_redis_answers(celery_app.conf.broker_url), f"Redis at {celery_app.conf.broker_url}")
    need_service(CELERY.exists(), f"the celery command ({CELERY})")

    queue = f"naphs-test-{uuid.uuid4().hex[:12]}"
    media = tmp_path / "shared-media"
    media.mkdir()
    settings.MEDIA_ROOT = media
    var = tmp_path / "worker-var"
    var.mkdir()
    log = tmp_path / "worker.log"

    saved = {
        name: getattr(celery_app.conf, name)
        for name in ("task_default_queue", "task_always_eager", "task_eager_propagates")
    }
    celery_app.conf.task_default_queue = queue
    celery_app.conf.task_always_eager = False

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "naphs.settings",
        "DATABASE_URL": _database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": str(celery_app.conf.broker_url),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "MEDIA_ROOT": str(media),
        "VAR_DIR": str(var),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_DIR), os.environ.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        str(CELERY),
        "-A",
        "naphs",
        "worker",
        "--pool=prefork",
        "--concurrency=1",
        "--prefetch-multiplier=1",
        "-Q",
        queue,
        "-n",
        f"{queue}@%h",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--include",
        "tests.worker_handlers",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = Worker(process=process, queue=queue, log=log)
    try:
        worker.wait_until(lambda: " ready." in worker.output(), "the worker to be ready", STARTUP_SECONDS)
        yield worker
    finally:
        _stop(process)
        for name, value in saved.items():
            setattr(celery_app.conf, name, value)
        _forget_queue(queue)
        # Shown by pytest only when the test fails.
        print(f"----- Celery worker output ({' '.join(command)}) -----\n{worker.output()}")


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
    job = job_create(kind=Job.Kind.DIRECTORY_EXPORT, by=lead, plan=plan)
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
