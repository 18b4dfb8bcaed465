"""Background jobs per person: an identical request joins the job already queued or running, and a person has at
most JOBS_PER_PERSON queued or running, on the pages and in the API alike; race-free on PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections

from costing.job_kinds import CostingJob
from costing.models import CostingUpload
from naphs.errors import JobLimitReached
from naphs.models import Job
from naphs.services import job_create
from stakeholders.job_kinds import StakeholdersJob
from tests.conftest import need_service

pytestmark = pytest.mark.django_db

LIMIT = 5  # the default of JOBS_PER_PERSON


def viewer_requests(plan_id: int) -> list[tuple[str, dict]]:
    """Six different exports any member may ask for in the API: the directory, the WHO layout, and the dashboard
    in each scenario and scope."""
    dashboard = f"/api/plans/{plan_id}/costing/summary/export/"
    return [
        (f"/api/plans/{plan_id}/directory-export/", {}),
        (f"/api/plans/{plan_id}/who-export/", {}),
        *(
            (dashboard, {"scenario": scenario, "scope": scope})
            for scenario in ("required", "all")
            for scope in ("plan", "national")
        ),
    ]


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    """The ids of the jobs sent to the worker (none runs: the jobs stay queued, as behind a busy worker)."""
    sent: list[int] = []
    monkeypatch.setattr("naphs.tasks.job_run_task.delay_on_commit", lambda job_id: sent.append(job_id))
    return sent


def test_sixty_identical_exports_in_a_row_make_one_job_and_one_message(api_client, plan, people, enqueued):
    viewer = people["viewer"]
    api_client.force_authenticate(viewer)

    answers = [api_client.post(f"/api/plans/{plan.pk}/directory-export/") for _ in range(60)]

    assert {answer.status_code for answer in answers} == {202}
    job = Job.objects.get(requested_by=viewer)
    assert {answer.json()["id"] for answer in answers} == {job.pk}
    assert enqueued == [job.pk]


def test_sixty_exports_of_every_kind_leave_at_most_the_limit_and_refuse_the_rest_saying_why(
    api_client, plan, people, enqueued
):
    viewer = people["viewer"]
    api_client.force_authenticate(viewer)
    requests = viewer_requests(plan.pk)

    answers = [api_client.post(url, body, format="json") for n in range(60) for url, body in [requests[n % 6]]]

    assert Job.objects.filter(requested_by=viewer).count() == LIMIT
    assert len(enqueued) == LIMIT
    refused = [answer for answer in answers if answer.status_code == 429]
    assert len(refused) == 10  # the sixth kind, each of the ten times it was asked for
    assert refused[0].json() == {
        "detail": "You already have 5 jobs waiting or running. Wait until one finishes, then ask again.",
        "code": "job_limit",
    }
    assert {answer.status_code for answer in answers} == {202, 429}
    # Someone else's jobs are theirs: the viewer's five hold nobody else back.
    api_client.force_authenticate(people["reviewer"])
    assert api_client.post(f"/api/plans/{plan.pk}/directory-export/").status_code == 202


def test_a_finished_job_is_not_joined_and_frees_its_place(plan, lead, enqueued):
    first = job_create(kind=StakeholdersJob.DIRECTORY_EXPORT, by=lead, plan=plan)
    Job.objects.filter(pk=first.pk).update(status=Job.Status.SUCCEEDED)

    again = job_create(kind=StakeholdersJob.DIRECTORY_EXPORT, by=lead, plan=plan)

    assert again.pk != first.pk
    assert enqueued == [first.pk, again.pk]
    Job.objects.filter(pk=again.pk).update(status=Job.Status.FAILED)
    kinds = [StakeholdersJob.DIRECTORY_EXPORT, CostingJob.WHO_COSTING_EXPORT, CostingJob.COSTING_WORKBOOK]
    for number in range(LIMIT):
        job_create(kind=kinds[number % 3], by=lead, plan=plan, params={"n": number})
    with pytest.raises(JobLimitReached):
        job_create(kind=StakeholdersJob.DIRECTORY_EXPORT, by=lead, plan=plan)
    Job.objects.filter(requested_by=lead, params={"n": 0}).update(status=Job.Status.SUCCEEDED)
    assert job_create(kind=StakeholdersJob.DIRECTORY_EXPORT, by=lead, plan=plan).status == Job.Status.QUEUED


def test_a_running_job_is_joined_too_and_the_same_export_of_another_plan_is_not(plan, provincial_plan, lead, enqueued):
    from stakeholders.models import PlanMembership

    PlanMembership.objects.create(plan=provincial_plan, user=lead, role="secretariat_lead")
    running = job_create(kind=StakeholdersJob.DIRECTORY_EXPORT, by=lead, plan=plan)
    Job.objects.filter(pk=running.pk).update(status=Job.Status.RUNNING)

    assert job_create(kind=StakeholdersJob.DIRECTORY_EXPORT, by=lead, plan=plan).pk == running.pk
    assert job_create(kind=StakeholdersJob.DIRECTORY_EXPORT, by=lead, plan=provincial_plan).pk != running.pk
    scenario_all = job_create(kind=CostingJob.COSTING_DASHBOARD_EXPORT, by=lead, plan=plan, params={"scenario": "all"})
    assert job_create(kind=CostingJob.COSTING_DASHBOARD_EXPORT, by=lead, plan=plan, params={"scenario": "all"}) == (
        scenario_all
    )
    assert len(enqueued) == 3


def test_the_page_refuses_a_job_beyond_the_limit_with_429_and_the_reason(client, plan, people, enqueued):
    viewer = people["viewer"]
    client.force_login(viewer)
    for url, body in viewer_requests(plan.pk)[1:]:
        job_create(kind=CostingJob.COSTING_DASHBOARD_EXPORT, by=viewer, plan=plan, params={"url": url, **body})

    page = client.post(
        f"/plans/{plan.pk}/directory/export/", HTTP_REFERER=f"http://testserver/plans/{plan.pk}/directory/"
    )
    fragment = client.post(f"/plans/{plan.pk}/directory/export/", HTTP_HX_REQUEST="true")

    message = "You already have 5 jobs waiting or running. Wait until one finishes, then ask again."
    assert page.status_code == 429
    assert message in page.content.decode()
    assert f'href="http://testserver/plans/{plan.pk}/directory/"' in page.content.decode()
    assert fragment.status_code == 429
    assert message in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    assert not Job.objects.filter(requested_by=viewer, kind=StakeholdersJob.DIRECTORY_EXPORT).exists()
    assert len(enqueued) == LIMIT


def test_a_refused_upload_leaves_no_file_and_no_row_behind(plan, lead, enqueued, settings):
    from costing.workbook import costing_upload_create

    for number in range(LIMIT):
        job_create(kind=StakeholdersJob.DIRECTORY_EXPORT, by=lead, plan=plan, params={"n": number})

    with pytest.raises(JobLimitReached):
        costing_upload_create(plan=plan, by=lead, file=SimpleUploadedFile("filled.xlsx", b"PK\x03\x04 a workbook"))

    assert not CostingUpload.objects.exists()
    assert [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()] == []


@pytest.mark.django_db(transaction=True)
def test_two_identical_requests_at_the_same_moment_make_one_job_on_postgresql(plan, lead, enqueued):
    need_service(connection.vendor == "postgresql", "PostgreSQL (row locks and partial unique indexes)")
    for _round in range(10):
        jobs = in_threads(2, lambda _n: job_create(kind=StakeholdersJob.DIRECTORY_EXPORT, by=lead, plan=plan))
        assert len({job.pk for job in jobs}) == 1
        assert Job.objects.filter(requested_by=lead, status=Job.Status.QUEUED).count() == 1
        Job.objects.filter(requested_by=lead).update(status=Job.Status.SUCCEEDED)
    assert Job.objects.filter(requested_by=lead).count() == 10
    assert len(enqueued) == 10


@pytest.mark.django_db(transaction=True)
def test_different_requests_at_the_same_moment_never_pass_the_limit_on_postgresql(plan, lead, enqueued):
    need_service(connection.vendor == "postgresql", "PostgreSQL (row locks and partial unique indexes)")

    def ask(number: int) -> Job | JobLimitReached:
        try:
            return job_create(kind=StakeholdersJob.DIRECTORY_EXPORT, by=lead, plan=plan, params={"n": number})
        except JobLimitReached as refusal:
            return refusal

    outcomes = in_threads(12, ask)

    assert Job.objects.filter(requested_by=lead).count() == LIMIT
    assert sum(isinstance(outcome, Job) for outcome in outcomes) == LIMIT
    assert sum(isinstance(outcome, JobLimitReached) for outcome in outcomes) == 12 - LIMIT


def in_threads(count: int, work) -> list:
    """Run work(0) … work(count - 1) in threads released together, each in its own database connection."""
    start = threading.Barrier(count)
    outcomes: list = [None] * count
    errors: list[BaseException] = []

    def run(number: int) -> None:
        try:
            start.wait(timeout=30)
            outcomes[number] = work(number)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return outcomes
