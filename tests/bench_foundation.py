"""`make bench`: how the foundation's pages and jobs scale with the size of a plan.

Not a test: it prints figures (median response time over several requests, query count) for a plan with a
small and a large membership, and the ratio between them. Run on whatever DATABASE_URL is set.
"""

from __future__ import annotations

import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from naphs.jobs import job_run
from naphs.models import Job
from naphs.permissions import Role
from planning.models import Jurisdiction, Plan
from stakeholders.job_kinds import StakeholdersJob
from stakeholders.models import Organization, PlanMembership, User

SIZES = (20, 400)
REPEAT = 7
ROLES = [Role.TECHNICAL_LEAD, Role.FOCAL_POINT, Role.REVIEWER, Role.VIEWER]


def build(size: int) -> tuple[Plan, User]:
    country = Jurisdiction.objects.create(level="country", name=f"Benchland {size}", code=f"X{chr(64 + size % 26)}")
    plan = Plan.objects.create(jurisdiction=country, title=f"Bench plan {size}", first_year=2026, last_year=2030)
    organizations = Organization.objects.bulk_create(
        Organization(name=f"Agency {size}-{n}", kind="agency", jurisdiction=country, sectors=["human_health"])
        for n in range(size)
    )
    users = User.objects.bulk_create(
        User(username=f"bench{size}-{n}", email=f"bench{size}-{n}@example.org", password="!") for n in range(size)
    )
    PlanMembership.objects.bulk_create(
        PlanMembership(plan=plan, user=user, role=ROLES[n % len(ROLES)], organization=organizations[n])
        for n, user in enumerate(users)
    )
    lead = User.objects.create_user(username=f"benchlead{size}", email=f"lead{size}@example.org", password="x")
    PlanMembership.objects.create(plan=plan, user=lead, role=Role.SECRETARIAT_LEAD)
    return plan, lead


def measure(call) -> tuple[float, int]:
    times = []
    for _ in range(REPEAT):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, len(queries)


@pytest.mark.django_db
def test_bench_foundation(client, capsys):
    rows: dict[str, dict[int, tuple[float, int]]] = {}
    for size in SIZES:
        plan, lead = build(size)
        client.force_login(lead)
        checks = {
            "members page (HTML)": lambda plan=plan: client.get(f"/plans/{plan.pk}/members/"),
            "directory page (HTML)": lambda plan=plan: client.get(f"/plans/{plan.pk}/directory/"),
            "memberships API, page of 100": lambda plan=plan: client.get(f"/api/plans/{plan.pk}/memberships/"),
            "directory export job (xlsx)": lambda plan=plan, lead=lead: job_run(
                job_id=Job.objects.create(kind=StakeholdersJob.DIRECTORY_EXPORT, plan=plan, requested_by=lead).pk
            ),
        }
        for name, call in checks.items():
            assert call() is None or call().status_code == 200
            rows.setdefault(name, {})[size] = measure(call)
    with capsys.disabled():
        small, large = SIZES
        print(f"\nFoundation benchmark ({connection.vendor}), median of {REPEAT}, plans of {small} and {large} members")
        print(f"{'':32} {small:>5} members       {large:>5} members       ratio")
        for name, by_size in rows.items():
            (t1, q1), (t2, q2) = by_size[small], by_size[large]
            print(f"{name:32} {t1:8.1f} ms {q1:3} q   {t2:8.1f} ms {q2:3} q   {t2 / t1:5.2f}x time")
