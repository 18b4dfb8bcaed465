# ruff: noqa: F811  (the fixtures of tests/monitoring/progress_fixtures.py, imported by name, are arguments here)
"""Two people reporting on the same activity and period at the same moment, on PostgreSQL: one report is saved,
the other person is told someone reported meanwhile (409), and no report is lost or doubled."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from monitoring.models import ProgressUpdate
from naphs.permissions import Role
from tests.conftest import need_service
from tests.monitoring.progress_fixtures import make_period, moa_activity, rates, report_form  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 5


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_two_reporters_at_once_one_wins_and_the_other_gets_the_conflict(people, plan, rates, moa_activity):
    need_service(connection.vendor == "postgresql", "PostgreSQL (concurrency tests)")
    clients = [_client(people[Role.FOCAL_POINT]), _client(people[Role.SECRETARIAT_LEAD])]
    for number in range(ROUNDS):
        period = make_period(plan, label=f"Round {number}", month=1 + number)
        url = f"/plans/{plan.pk}/monitoring/periods/{period.pk}/progress/{moa_activity.pk}/"
        barrier = threading.Barrier(2)
        statuses: list[int] = [0, 0]

        def post(index: int, url: str = url, barrier: threading.Barrier = barrier, statuses: list = statuses) -> None:
            try:
                barrier.wait(timeout=10)
                statuses[index] = clients[index].post(url, report_form(percent_complete=str(10 + index))).status_code
            finally:
                connection.close()

        threads = [threading.Thread(target=post, args=(index,)) for index in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(statuses) == [302, 409], statuses
        stored = ProgressUpdate.objects.get(period=period, activity=moa_activity)
        assert stored.percent_complete == 10 + statuses.index(302)
