"""The plan document rendered by a real Celery worker (the `worker` marker, as tests/naphs/test_worker.py): asked
for on the page, followed through the job's progress, downloaded, and its pages read back."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from costing.job_kinds import CostingJob
from costing.rollups import plan_rollup
from naphs.models import Job
from tests.naphs import test_worker

# The real worker's fixtures, shared with the core's worker tests.
start_worker, worker = test_worker.start_worker, test_worker.worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_renders_the_plan_document_and_the_same_plan_is_then_served_without_a_job(
    worker, client, plan, people, costing, moa_line, moh_activity
):
    plan_rollup(plan_id=plan.pk)
    client.force_login(people["reviewer"])

    response = client.post(f"/plans/{plan.pk}/document/request/", HTTP_ACCEPT_LANGUAGE="fr")

    job = Job.objects.get(plan=plan, kind=CostingJob.PLAN_DOCUMENT)
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.params == {"language": "fr"}
    worker.wait_until(test_worker._job_finished(job), f"document job {job.pk} to finish", 180)
    assert job.status == Job.Status.SUCCEEDED, f"{job.message}: {job.error}"
    assert (job.progress, job.attempts) == (100, 1)
    assert job.result_name == "testland-naphs-2026-2030-fr.pdf"

    page = client.get(f"/jobs/{job.pk}/")
    assert "testland-naphs-2026-2030-fr.pdf" in page.text
    content = b"".join(client.get(f"/jobs/{job.pk}/download/").streaming_content)
    pages = [p.extract_text() or "" for p in PdfReader(io.BytesIO(content)).pages]
    assert len(pages) >= 8
    assert "Testland NAPHS 2026–2030" in pages[0]
    assert all("PROJET" in text for text in pages)  # "PROJET : non approuvé", the draft mark in French
    text = "\n".join(pages)
    assert "Train border veterinarians" in text and "Equip the reference laboratory" in text
    assert "Contexte national" in text  # in the language it was asked in

    # Unchanged: the page offers the stored render, and asking again queues nothing.
    response = client.post(f"/plans/{plan.pk}/document/request/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response["Location"] == f"/plans/{plan.pk}/document/download/"
    assert Job.objects.filter(kind=CostingJob.PLAN_DOCUMENT).count() == 1
    served = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="fr")
    assert b"".join(served.streaming_content) == content
