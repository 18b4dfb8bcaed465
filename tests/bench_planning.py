"""`make bench`, planning part: a plan of 19 areas, 56 indicators and 2,000 activities (and one of 200 to
compare), a comment thread on every fourth activity, and the response time and query count of the plan overview,
the activity table (with its open-thread counts), the activities API and the comment threads' page and API.
Figures, not assertions."""

from __future__ import annotations

import datetime
import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from naphs.permissions import Role
from planning.assessments import assessment_create, scores_set
from planning.models import Activity, Comment, CommentThread, Framework, Indicator, Jurisdiction, Plan
from planning.targets import targets_fill_defaults
from stakeholders.models import Organization, PlanMembership, User

SIZES = (200, 2000)
REPEAT = 5


def build(size: int) -> tuple[Plan, User]:
    jee3 = Framework.objects.get(code="JEE3")
    country = Jurisdiction.objects.create(level="country", name=f"Benchland {size}", code="XB" if size < 1000 else "XC")
    plan = Plan.objects.create(
        jurisdiction=country, title=f"Bench {size}", first_year=2026, last_year=2030, framework=jee3
    )
    lead = User.objects.create_user(username=f"bench-lead-{size}", email=f"lead{size}@example.org", password="x")
    PlanMembership.objects.create(plan=plan, user=lead, role=Role.SECRETARIAT_LEAD)
    organizations = Organization.objects.bulk_create(
        Organization(name=f"Agency {n}", kind="agency", jurisdiction=country) for n in range(30)
    )
    indicators = list(Indicator.objects.filter(framework=jee3).select_related("technical_area"))
    assessment = assessment_create(plan=plan, by=lead, framework=jee3, kind="jee", date=datetime.date(2025, 1, 1))
    scores_set(assessment=assessment, by=lead, scores={i.code: 1 + n % 4 for n, i in enumerate(indicators)})
    targets_fill_defaults(plan=plan, by=lead)
    activities = Activity.objects.bulk_create(
        Activity(
            plan=plan, technical_area=indicators[n % 56].technical_area, title=f"Activity {n}",
            priority=("high", "medium", "low")[n % 3], status=("draft", "planned")[n % 2],
            responsible_organization=organizations[n % 30], start_date=datetime.date(2026 + n % 5, 1, 1),
        )
        for n in range(size)
    )  # fmt: skip
    Activity.indicators.through.objects.bulk_create(
        Activity.indicators.through(activity_id=a.pk, indicator_id=indicators[n % 56].pk)
        for n, a in enumerate(activities)
    )
    # A thread on every fourth activity, each with a reply, a third of them resolved: the comment counts of the
    # activity table and the comments page read them.
    threads = CommentThread.objects.bulk_create(
        CommentThread(plan=plan, subject="activity", activity=a, author=lead, state=("open", "open", "resolved")[n % 3])
        for n, a in enumerate(activities[::4])
    )
    Comment.objects.bulk_create(
        Comment(thread=thread, author=lead, body=text, html=f"<p>{text}</p>")
        for thread in threads
        for text in ("Please check the unit cost.", "Checked against the 2025 prices.")
    )
    return plan, lead


def measure(call) -> tuple[float, int]:
    times = []
    for _ in range(REPEAT):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = call()
            times.append(time.perf_counter() - started)
        assert response.status_code == 200
    return statistics.median(times) * 1000, len(queries)


@pytest.mark.django_db
def test_bench_planning(client, capsys):
    rows: dict[str, dict[int, tuple[float, int]]] = {}
    for size in SIZES:
        plan, lead = build(size)
        client.force_login(lead)
        for name, url in {
            "plan overview (HTML)": f"/plans/{plan.pk}/",
            "activity table, page of 100": f"/plans/{plan.pk}/activities/",
            "activity table, filtered + sorted": f"/plans/{plan.pk}/activities/?priority=high&sort=organization",
            "activities API, page of 100": f"/api/plans/{plan.pk}/activities/",
            "comment threads, page (open)": f"/plans/{plan.pk}/comments/",
            "comment threads API, page": f"/api/plans/{plan.pk}/threads/",
        }.items():
            rows.setdefault(name, {})[size] = measure(lambda url=url: client.get(url))
    with capsys.disabled():
        small, large = SIZES
        print(f"\nPlanning benchmark ({connection.vendor}), median of {REPEAT}; JEE 3: 19 areas, 56 indicators")
        print(f"{'':36} {small:>5} activities     {large:>5} activities     ratio")
        for name, by_size in rows.items():
            (t1, q1), (t2, q2) = by_size[small], by_size[large]
            print(f"{name:36} {t1:8.1f} ms {q1:3} q   {t2:8.1f} ms {q2:3} q   {t2 / t1:5.2f}x time")
