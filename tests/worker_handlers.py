"""A job kind only the worker tests use. The test worker imports this module (--include tests.worker_handlers).

Its first attempt reports the pool process it runs in and then waits, so a test can kill that process
mid-run; any later attempt does the real directory export.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from naphs.jobs import HANDLERS, JobFailed, JobResult, Progress

if TYPE_CHECKING:
    from naphs.models import Job

SLOW_KIND = "test_slow_directory_export"
HANDLERS[SLOW_KIND] = f"{__name__}.slow_directory_export"


def slow_directory_export(*, job: Job, progress: Progress) -> JobResult:
    from stakeholders.services import plan_directory_export

    if job.attempts == 1:
        progress(50, f"Waiting in process {os.getpid()}")
        time.sleep(float(job.params.get("wait_seconds", 60)))
        raise JobFailed("The first attempt was not stopped.")
    return plan_directory_export(job=job, progress=progress)
