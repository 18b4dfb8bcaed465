"""Rollups recomputed in a real Celery worker (against Redis and the test database, PostgreSQL only): a burst
of edits is coalesced into a few recomputations, and the sweep recomputes a plan left stale.

The worker is the suite's own (tests/naphs/test_worker.py). It logs one line per task it finishes, with the
task's result: True when plan_rollup recomputed, False when there was nothing to do. Those lines are the
counter of recomputations.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone

from costing.models import CostingUpload, CostLine, CostRollup, PlanCosting
from costing.rollups import plan_rollup
from costing.services import cost_line_update
from costing.tasks import rollups_sweep_task
from naphs.models import Job
from tests.costing.test_workbook import XLSX, Book
from tests.naphs.test_worker import Worker, start_worker, worker  # noqa: F401  (the suite's real-worker fixtures)

TASK = r"Task costing\.tasks\.plan_rollup_task\[[0-9a-f-]+\]"
RECEIVED = re.compile(TASK + r" received")
FINISHED = re.compile(TASK + r" succeeded in [\d.e-]+s: (True|False)")


def recomputations(running: Worker) -> int:
    return FINISHED.findall(running.output()).count("True")


def settle(running: Worker, plan_id: int) -> None:
    """Wait until the plan's rollups are current and the worker has finished every rollup it received."""

    def settled() -> bool:
        output = running.output()
        costing = PlanCosting.objects.get(plan_id=plan_id)
        return costing.rollup_current and len(RECEIVED.findall(output)) == len(FINISHED.findall(output))

    running.wait_until(settled, f"the rollups of plan {plan_id} to be current")


def stored_total(plan_id: int) -> Decimal:
    return CostRollup.objects.filter(plan_id=plan_id).aggregate(total=Sum("required"))["total"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_edits_is_recomputed_a_few_times_not_once_per_edit(worker, client, people, costing, moa_line):  # noqa: F811
    plan_id = costing.plan_id
    settle(worker, plan_id)
    assert stored_total(plan_id) == Decimal("2250.00")  # 250 × 3 × (2 + 1)
    before = recomputations(worker)
    changes = PlanCosting.objects.get(plan_id=plan_id).changes
    edits = 20

    for quantity in range(1, edits + 1):  # each edit committed on its own, as twenty saves in the browser
        line = CostLine.objects.get(pk=moa_line.pk)
        cost_line_update(line=line, by=people["focal_point"], version=line.version, fields={"quantity": quantity})

    settle(worker, plan_id)
    costing = PlanCosting.objects.get(plan_id=plan_id)
    assert costing.changes == changes + edits
    assert (costing.rollup_of, costing.rollup_error, costing.rollup_queued) == (costing.changes, "", False)
    assert stored_total(plan_id) == Decimal("15000.00")  # 250 × 20 × 3
    made = recomputations(worker) - before
    assert 1 <= made <= edits // 4, f"{made} recomputations for {edits} edits:\n{worker.output()}"

    client.force_login(people["viewer"])
    page = client.get(f"/plans/{plan_id}/costing/").content.decode()
    assert 'data-figure="needed">15,000.00<' in page
    assert "being recomputed" not in page and "every 2s" not in page


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_sweep_queues_again_a_plan_whose_recomputation_was_lost(worker, people, costing, moa_line):  # noqa: F811
    plan_id = costing.plan_id
    settle(worker, plan_id)
    before = recomputations(worker)
    # The flag says a recomputation is queued, but its message was lost: the edit below sends none.
    PlanCosting.objects.filter(plan_id=plan_id).update(rollup_queued=True)
    line = CostLine.objects.get(pk=moa_line.pk)
    cost_line_update(line=line, by=people["focal_point"], version=line.version, fields={"quantity": 10})
    PlanCosting.objects.filter(plan_id=plan_id).update(rollup_at=F("rollup_at") - timedelta(minutes=5))
    time.sleep(1)
    assert not PlanCosting.objects.get(plan_id=plan_id).rollup_current, "nothing recomputes it by itself"

    rollups_sweep_task.delay()

    settle(worker, plan_id)
    assert stored_total(plan_id) == Decimal("7500.00")  # 250 × 10 × 3
    assert recomputations(worker) == before  # the sweep recomputed it itself
    assert re.search(
        rf"Task costing\.tasks\.rollups_sweep_task\[[0-9a-f-]+\] succeeded in \S+: \[{plan_id}\]", worker.output()
    )
    assert not PlanCosting.objects.get(plan_id=plan_id).rollup_queued


@pytest.mark.django_db
def test_the_sweep_leaves_alone_plans_that_are_current_or_were_just_changed(costing, moa_line, people):
    plan_rollup(plan_id=costing.plan_id)
    assert rollups_sweep_task() == []  # current

    line = CostLine.objects.get(pk=moa_line.pk)
    cost_line_update(line=line, by=people["focal_point"], version=line.version, fields={"quantity": 5})
    assert rollups_sweep_task() == []  # stale for less than a minute: its own recomputation is on its way

    PlanCosting.objects.filter(plan_id=costing.plan_id).update(rollup_at=timezone.now() - timedelta(minutes=2))
    assert rollups_sweep_task() == [costing.plan_id]
    costing = PlanCosting.objects.get(plan_id=costing.plan_id)
    assert costing.rollup_current and stored_total(costing.plan_id) == Decimal("3750.00")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_focal_point_downloads_fills_and_uploads_through_the_worker(worker, client, people, costing, moa_line):  # noqa: F811
    plan_id = costing.plan_id
    settle(worker, plan_id)
    focal_point = people["focal_point"]
    client.force_login(focal_point)

    # The workbook is made by the worker and served from the job's page.
    client.post(reverse("costing_workbook", args=[plan_id]))
    job = Job.objects.filter(plan_id=plan_id, requested_by=focal_point).latest("pk")
    worker.wait_until(lambda: Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED, "the workbook")
    response = client.get(reverse("job_download", args=[job.pk]))
    book = Book(b"".join(response.streaming_content))
    book.set(book.line_row(moa_line), "Quantity", 10)

    # The upload is checked and applied by the worker, then the rollup follows by itself.
    file = SimpleUploadedFile("filled.xlsx", book.bytes(), content_type=XLSX)
    response = client.post(reverse("costing_upload", args=[plan_id]), {"file": file})
    upload = CostingUpload.objects.get(plan_id=plan_id, uploaded_by=focal_point)
    assert response["Location"] == reverse("costing_upload_detail", args=[plan_id, upload.pk])
    worker.wait_until(
        lambda: CostingUpload.objects.get(pk=upload.pk).status != CostingUpload.Status.QUEUED, "the upload"
    )
    upload.refresh_from_db()
    assert (upload.status, upload.summary["changed"]) == (CostingUpload.Status.APPLIED, 1), upload.problems
    settle(worker, plan_id)
    assert stored_total(plan_id) == Decimal("7500.00")  # 250 × 10 × (2 + 1)
    page = client.get(reverse("costing_upload_detail", args=[plan_id, upload.pk])).content.decode()
    assert '<span class="figure">1</span> <span class="muted">line changed</span>' in page
