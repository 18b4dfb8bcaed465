"""A job kind only the worker tests use. The test worker imports this module (--include tests.worker_handlers).

Its first attempt reports the pool process it runs in and then waits, so a test can kill that process
mid-run; any later attempt does the real directory export.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from django.db import models

from naphs.job_kinds import job_kinds_register
from naphs.jobs import JobFailed, JobResult, Progress

if TYPE_CHECKING:
    from naphs.models import Job


class SlowJob(models.TextChoices):
    SLOW_DIRECTORY_EXPORT = "test_slow_directory_export", "Slow directory export (tests)"


SLOW_KIND = SlowJob.SLOW_DIRECTORY_EXPORT


def slow_directory_export(*, job: Job, progress: Progress) -> JobResult:
    from stakeholders.services import plan_directory_export

    if job.attempts == 1:
        progress(50, f"Waiting in process {os.getpid()}")
        time.sleep(float(job.params.get("wait_seconds", 60)))
        raise JobFailed("The first attempt was not stopped.")
    return plan_directory_export(job=job, progress=progress)


job_kinds_register(SlowJob, {SLOW_KIND: slow_directory_export})
