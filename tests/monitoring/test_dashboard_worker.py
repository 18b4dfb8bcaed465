"""The monitoring aggregates refreshed by a real Celery worker (against Redis and the test database, PostgreSQL
only): a burst of reports, each committed on its own, is recomputed a few times, not once per report, and the page
then shows current figures. The worker logs one line per task with its result (True: recomputed)."""

from __future__ import annotations

import re

import pytest

from monitoring.dashboard import dashboard_get
from monitoring.models import MonitoringState
from tests.costing.conftest import costing, moa_activity, moa_line, moh_activity  # noqa: F401  (fixtures)
from tests.monitoring.test_dashboard import monitored, report  # noqa: F401  (fixtures)
from tests.naphs.test_worker import Worker, start_worker, worker  # noqa: F401  (the suite's real-worker fixtures)

TASK = r"Task monitoring\.tasks\.monitoring_refresh_task\[[0-9a-f-]+\]"
RECEIVED = re.compile(TASK + r" received")
FINISHED = re.compile(TASK + r" succeeded in [\d.e-]+s: (True|False)")


def settle(running: Worker, plan_id: int) -> None:
    def settled() -> bool:
        output = running.output()
        state = MonitoringState.objects.get(plan_id=plan_id)
        return state.current and len(RECEIVED.findall(output)) == len(FINISHED.findall(output))

    running.wait_until(settled, f"the monitoring figures of plan {plan_id} to be current")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_reports_is_recomputed_by_the_worker_a_few_times(worker, client, people, monitored, lead):  # noqa: F811
    settle(worker, monitored.pk)
    before = FINISHED.findall(worker.output()).count("True")
    q3 = monitored.test_objects["q3"]
    activities = list(monitored.activities.order_by("pk"))
    # Each report committed on its own, as reports saved one after another in the browser.
    for activity in activities:
        report(activity, q3, lead, "on_track", 60)

    settle(worker, monitored.pk)
    made = FINISHED.findall(worker.output()).count("True") - before
    assert 1 <= made < len(activities) + 1, worker.output()
    state = MonitoringState.objects.get(plan=monitored)
    assert (state.current, state.queued, state.error) == (True, False, "")
    assert dashboard_get(plan=monitored).totals.counts["on_track"] == 3

    client.force_login(people["viewer"])
    page = client.get(f"/plans/{monitored.pk}/monitoring/dashboard/").content.decode()
    assert 'data-figure="on-track">100%<' in page
    assert "being recomputed" not in page
