"""The production-like smoke test: what docker compose runs, on this machine, seen from outside over HTTP.

The commands are read from docker-compose.yml (tests/processes.py): migrations at start then gunicorn, a
Celery worker and beat, static files collected as the Dockerfile does and served by WhiteNoise; PostgreSQL (a
database of its own, dropped at the end) and Redis (a queue of its own), DEBUG=false and a real SECRET_KEY, on
plain http on 127.0.0.1. The worker also loads tests.worker_handlers, for the slow job the test kills.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import shlex
import time
from collections.abc import Iterator

import pytest
from django.db import connection
from openpyxl import load_workbook

from tests import processes
from tests.conftest import need_service
from tests.worker_handlers import SLOW_KIND

pytestmark = [pytest.mark.production, pytest.mark.timeout(900)]  # the first run compresses the static files

PASSWORD = f"smoke-{secrets.token_urlsafe(12)}"
# Short, so that the killed worker's job is found in seconds; compose keeps the defaults (5, 60, 20 s).
HEARTBEAT = {"JOB_HEARTBEAT_SECONDS": "0.5", "JOB_HEARTBEAT_STALE_SECONDS": "3", "JOB_RECOVER_SECONDS": "1"}
HEARTBEAT_SETTINGS = ("JOB_HEARTBEAT_SECONDS", "JOB_HEARTBEAT_STALE_SECONDS", "JOB_RECOVER_SECONDS", "JOB_MAX_ATTEMPTS")
SECONDS = 60
# An administrator (as `createsuperuser` makes one) grants themself the country and opens its plan, and so leads it.
SETUP = """
import os
from planning.services import country_grant_give, jurisdiction_create, plan_create
from stakeholders.models import Organization, User
lead = User.objects.create_superuser("lead", "lead@example.org", os.environ["SMOKE_PASSWORD"])
country = jurisdiction_create(level="country", name="Smokeland", code="XS")
country_grant_give(by=lead, user=lead, country=country)
Organization.objects.create(name="Ministry of Health", acronym="MOH", kind="ministry", jurisdiction=country)
plan_create(by=User.objects.get(username="lead"), jurisdiction=country, title="Smokeland NAPHS 2026-2030",
            first_year=2026, last_year=2030)
"""


def test_compose_and_the_image_run_the_commands_this_test_runs():
    web = processes.compose_command("web")
    assert web[:2] == ["sh", "-c"]
    migrate, serve = (shlex.split(part) for part in web[2].split("&&"))
    assert migrate == ["python", "manage.py", "migrate", "--no-input"]
    assert serve == processes.dockerfile_command() == ["gunicorn", "naphs.wsgi"]  # settings in gunicorn.conf.py
    assert processes.compose_command("worker")[:4] == ["celery", "-A", "naphs", "worker"]
    assert processes.compose_command("beat")[:4] == ["celery", "-A", "naphs", "beat"]
    services = processes.compose_services()
    for name in ("worker", "beat"):  # both must agree on when a job counts as dead
        assert set(HEARTBEAT_SETTINGS) <= set(services[name]["environment"]), name


@pytest.fixture
def stack(tmp_path) -> Iterator[processes.Stack]:
    need_service(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    redis_url = os.environ.get("REDIS_URL", "")
    need_service(bool(redis_url) and processes.redis_answers(redis_url), f"Redis (REDIS_URL={redis_url!r})")
    need_service(processes.GUNICORN.exists(), f"gunicorn ({processes.GUNICORN})")
    started = time.monotonic()
    with processes.production_stack(
        tmp_path,
        postgres_url=processes.database_url(connection.settings_dict),
        redis_url=redis_url,
        env=HEARTBEAT,
        worker_args=["--include", "tests.worker_handlers"],
    ) as stack:
        print(f"The stack started in {time.monotonic() - started:.1f} s")
        try:
            yield stack
        finally:
            print(stack.report())  # shown when the test fails


def job_row(stack: processes.Stack, job_id: int) -> tuple[str, int, str]:
    """status, attempts and result of a job, read from the stack's database."""
    import psycopg2

    with contextlib.closing(psycopg2.connect(stack.database_url)) as db, db.cursor() as cursor:
        cursor.execute("SELECT status, attempts, result FROM naphs_job WHERE id = %s", [job_id])
        return cursor.fetchone()


def wait_for_job(stack, client, job_id: int, condition, what: str, seconds: float = SECONDS) -> dict:
    answer: dict = {}

    def met() -> bool:
        answer.update(client.get(f"/api/jobs/{job_id}/").json())
        return condition(answer)

    stack.worker.wait_until(met, what, seconds)
    return answer


def test_the_production_stack_signs_in_runs_an_export_and_survives_a_killed_worker(stack):
    began = time.monotonic()
    client = stack.client()

    health = client.get("/healthz")
    assert (health.status, health.json()) == (200, {"status": "ok"})

    # Static files: hashed names in the pages, served by WhiteNoise to be kept for ever.
    login = client.get("/accounts/login/")
    assert login.status == 200
    stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', login.text)
    assert stylesheet, f"no hashed stylesheet in the login page:\n{login.text[:1500]}"
    css = client.get(stylesheet[1])
    assert css.status == 200
    assert css.headers["Content-Type"].startswith("text/css")
    assert "immutable" in css.headers.get("Cache-Control", "")
    assert b"{" in css.body

    stack.manage("shell", "-c", SETUP, SMOKE_PASSWORD=PASSWORD)
    client.sign_in("lead", PASSWORD)
    missing = client.get("/no-such-page/")
    assert missing.status == 404
    assert "Traceback" not in missing.text and "DEBUG" not in missing.text  # DEBUG is off

    plans = client.get("/api/plans/").json()["results"]
    plan_id = next(plan["id"] for plan in plans if plan["title"] == "Smokeland NAPHS 2026-2030")

    # An export job: asked for on the page, run by the worker, polled, downloaded.
    asked = client.post(f"/plans/{plan_id}/directory/export/")
    assert asked.status == 302, asked.text[:1000]
    job_id = int(re.fullmatch(r"/jobs/(\d+)/", asked.headers["Location"])[1])
    done = wait_for_job(stack, client, job_id, lambda job: job["status"] in {"succeeded", "failed"}, "the export")
    assert done["status"] == "succeeded", done
    download = client.get(f"/jobs/{job_id}/download/")
    assert download.status == 200
    assert re.search(r'attachment; filename=".+-directory\.xlsx"', download.headers["Content-Disposition"])
    workbook = load_workbook(io.BytesIO(download.body))
    assert workbook.sheetnames == ["Members", "Organizations"]
    assert "lead@" in " ".join(str(row[1]) for row in workbook["Members"].iter_rows(min_row=2, values_only=True))
    print(f"Up, signed in and an export downloaded {time.monotonic() - began:.1f} s after the stack started")

    # A slow job; its whole worker is killed mid-job, and a new worker runs it once.
    created = stack.manage(
        "shell",
        "-c",
        "import tests.worker_handlers; "  # registers the slow kind here too, as the worker does
        "from naphs.services import job_create; from planning.models import Plan; "
        "from stakeholders.models import User; "
        f"job = job_create(kind={SLOW_KIND.value!r}, by=User.objects.get(username='lead'), "
        f"plan=Plan.objects.get(pk={plan_id}), params={{'wait_seconds': 120}}); print(job.pk)",
    )
    slow_id = int(created.split()[-1])
    running = wait_for_job(
        stack, client, slow_id, lambda job: job["message"].startswith("Waiting in process "), "the slow job to start"
    )
    pid = int(running["message"].rsplit(" ", 1)[1])
    killed_worker = stack.worker
    assert pid in killed_worker.children()
    assert job_row(stack, slow_id)[:2] == ("running", 1)

    killed_worker.kill()
    killed = time.monotonic()
    stack.start_worker()
    restarted = time.monotonic() - killed
    found = {}

    def finished(job: dict) -> bool:
        if job["status"] != "running":
            found.setdefault("at", time.monotonic() - killed)
        return job["status"] in {"succeeded", "failed"}

    done = wait_for_job(stack, client, slow_id, finished, "the slow job to run again and finish")
    print(
        f"Worker killed: a new one up after {restarted:.1f} s, the job found silent after {found['at']:.1f} s, "
        f"done {time.monotonic() - killed:.1f} s after the kill"
    )
    assert done["status"] == "succeeded", done
    assert (done["progress"], done["message"]) == (100, "Done")
    status, attempts, result = job_row(stack, slow_id)
    assert (status, attempts) == ("succeeded", 2)
    time.sleep(3)  # later sweeps and deliveries change nothing
    assert job_row(stack, slow_id) == (status, attempts, result)
    files = sorted(str(path.relative_to(stack.media_root)) for path in stack.media_root.rglob("*") if path.is_file())
    assert files == sorted([job_row(stack, job_id)[2], result])  # one file per job, no leftover
    download = client.get(f"/jobs/{slow_id}/download/")
    assert download.status == 200
    load_workbook(io.BytesIO(download.body))
    assert f"Job {slow_id}: no heartbeat during attempt 1; queued again" in stack.worker.output()
