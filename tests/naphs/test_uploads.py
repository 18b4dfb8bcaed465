"""Uploaded files: bounded per file and per plan on the way in, deleted once applied or refused, and swept up
when a crash left them behind."""

from __future__ import annotations

import datetime
import os
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from naphs.models import Job, Upload
from naphs.services import job_create
from naphs.uploads import LimitedUploadHandler, pending_upload_bytes, uploads_sweep
from planning.assessments import assessment_create
from planning.job_kinds import PlanningJob
from planning.models import IndicatorScore


@pytest.fixture
def assessment(plan, lead, jee3):
    return assessment_create(plan=plan, by=lead, framework=jee3, kind="jee", date=datetime.date(2024, 5, 1))


def import_url(assessment) -> str:
    return f"/plans/{assessment.plan_id}/assessments/{assessment.pk}/import/"


def stored(settings) -> list[Path]:
    """The uploaded files kept (a job's result, e.g. an import's report, is not one)."""
    return [path for path in (Path(settings.MEDIA_ROOT) / "uploads").rglob("*") if path.is_file()]


def test_a_plans_pending_uploads_are_bounded(client, settings, assessment, lead, django_capture_on_commit_callbacks):
    settings.UPLOAD_PENDING_BYTES_PER_PLAN = 100
    client.force_login(lead)
    sheet = b"P1.1,3\n" + b"\n" * 63  # 70 bytes
    response = client.post(import_url(assessment), {"file": SimpleUploadedFile("a.csv", sheet)})
    assert response.status_code == 302  # queued; its job has not run
    assert pending_upload_bytes(plan=assessment.plan) == 70

    response = client.post(import_url(assessment), {"file": SimpleUploadedFile("b.csv", sheet)})
    assert response.status_code == 422
    assert (
        "uploads waiting to be checked already take 70\xa0bytes of the 100\xa0bytes allowed"
        in response.content.decode()
    )
    assert Upload.objects.count() == 1 and len(stored(settings)) == 1

    first = Job.objects.get(kind=PlanningJob.SCORES_IMPORT)
    from naphs.jobs import job_run

    with django_capture_on_commit_callbacks(execute=True):
        job_run(job_id=first.pk)
    first.refresh_from_db()
    assert first.status == Job.Status.SUCCEEDED, first.message
    assert pending_upload_bytes(plan=assessment.plan) == 0 and stored(settings) == []
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(import_url(assessment), {"file": SimpleUploadedFile("b.csv", sheet)})
    assert response.status_code == 302 and IndicatorScore.objects.count() == 1


def test_a_file_larger_than_the_limit_is_refused_and_never_kept(client, settings, assessment, lead):
    settings.UPLOAD_MAX_BYTES = 1000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100  # through the temporary file handler
    client.force_login(lead)
    response = client.post(import_url(assessment), {"file": SimpleUploadedFile("a.csv", b"P1.1,3\n" * 1000)})
    assert response.status_code == 422
    assert "The file is larger than 1000\xa0bytes; nothing was saved." in response.content.decode()
    assert not Upload.objects.exists() and not Job.objects.exists() and stored(settings) == []


def test_the_upload_handler_writes_no_more_than_the_limit_to_disk(settings):
    settings.UPLOAD_MAX_BYTES = 1000
    handler = LimitedUploadHandler()
    handler.new_file("file", "big.csv", "text/csv", 10_000)
    for start in range(0, 10_000, 512):
        handler.receive_data_chunk(b"x" * 512, start)
    file = handler.file_complete(10_000)
    assert os.path.getsize(file.temporary_file_path()) == 1001  # one byte more: the form knows it is too large
    assert file.size == 10_000


def test_the_sweep_deletes_what_a_crash_left_and_leaves_waiting_files(
    settings, plan, lead, django_capture_on_commit_callbacks
):
    crashed_job = job_create(kind=PlanningJob.SCORES_IMPORT, by=lead, plan=plan)
    crashed = Upload.objects.create(
        kind=PlanningJob.SCORES_IMPORT, plan=plan, uploaded_by=lead, filename="a.csv", size=3, digest="0" * 64
    )
    crashed.file.save("a.csv", ContentFile(b"abc"))
    crashed.job = crashed_job
    crashed.save()
    Job.objects.filter(pk=crashed_job.pk).update(status=Job.Status.FAILED, message="The worker stopped.")

    waiting = job_create(kind=PlanningJob.SCORES_IMPORT, by=lead, plan=plan)
    waiting_name = default_storage.save("uploads/scores_import/waiting.csv", ContentFile(b"abc"))
    Job.objects.filter(pk=waiting.pk).update(params={"upload_file": waiting_name, "upload_bytes": 3})
    orphan = default_storage.save("uploads/costing/2026/01/orphan.xlsx", ContentFile(b"abc"))
    fresh = default_storage.save("uploads/costing/2026/01/fresh.xlsx", ContentFile(b"abc"))
    an_hour_ago = time.time() - settings.UPLOAD_SWEEP_GRACE_SECONDS - 60
    for name in (waiting_name, orphan):
        os.utime(default_storage.path(name), (an_hour_ago, an_hour_ago))

    crashed_name = crashed.file.name
    with django_capture_on_commit_callbacks(execute=True):
        assert uploads_sweep(now=timezone.now()) == 1  # the orphan; the crashed upload's file goes on commit
    assert not default_storage.exists(crashed_name)
    crashed.refresh_from_db()
    assert crashed.status == Upload.Status.REFUSED and crashed.message == "The worker stopped." and not crashed.file
    assert default_storage.exists(waiting_name) and default_storage.exists(fresh)
    assert not default_storage.exists(orphan)
