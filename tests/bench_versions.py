"""`make bench`, the comparison of versions: the plan of the whole-plan workbook's bench (2,000 activities, each with
five cost lines over five years, 200 funding commitments, an assessment and its targets), stored as a version, then
changed (activities renamed, added and removed, cost lines repriced, funding and a target changed) and stored again.
Prints the comparison's time (median of several runs) and its queries, of the two stored versions and of a version
with the current draft, beside the time to read the draft's content in the same run. Figures, not assertions
(target in brackets). BENCH_VERSIONS_SIZE sets the number of activities (for a quick run while developing)."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.test.utils import CaptureQueriesContext

from costing.comparison import DRAFT, plan_versions_compare
from costing.models import CostLine, CostLineYear, FundingCommitment
from costing.versions import plan_content_full
from planning.models import Activity, IndicatorTarget
from planning.versions import plan_version_save
from stakeholders.models import PlanMembership
from tests.bench_plan_workbook import build

SIZE = int(os.environ.get("BENCH_VERSIONS_SIZE", "2000"))
REPEAT = 5


def _timed(work: Callable[[], object]) -> tuple[float, int, object]:
    """The median time of REPEAT runs, the queries of one, and its result."""
    times, result, queries = [], None, 0
    for _ in range(REPEAT):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = work()
            times.append(time.perf_counter() - started)
        queries = len(captured)
    return statistics.median(times), queries, result


@pytest.mark.django_db
def test_bench_versions_compare(capsys):
    plan = build(SIZE)
    lead = PlanMembership.objects.get(plan=plan).user
    before = plan_version_save(plan=plan, by=lead, label="before")

    activities = list(Activity.objects.filter(plan=plan).order_by("pk").values_list("pk", flat=True))
    step = max(1, len(activities) // 20)
    renamed = activities[::step][:20]
    revised = Concat(F("title"), Value(" (revised)"))
    Activity.objects.filter(pk__in=renamed).update(title=revised, version=F("version") + 1)
    removed = activities[-10:]
    Activity.objects.filter(pk__in=removed).delete()
    template = Activity.objects.filter(plan=plan).first()
    assert template is not None
    Activity.objects.bulk_create(
        Activity(plan=plan, technical_area_id=template.technical_area_id, title=f"New activity {n}") for n in range(10)
    )
    lines = list(CostLine.objects.filter(plan=plan).order_by("pk").values_list("pk", flat=True)[:50])
    CostLine.objects.filter(pk__in=lines).update(quantity=F("quantity") + 1)
    CostLineYear.objects.filter(cost_line_id__in=lines).update(amount=F("amount") * Decimal("1.1"))
    commitment = FundingCommitment.objects.filter(plan=plan).order_by("pk").first()
    if commitment is not None:
        FundingCommitment.objects.filter(pk=commitment.pk).update(amount=F("amount") * 2)
    target = IndicatorTarget.objects.filter(plan=plan).order_by("pk").first()
    if target is not None:
        IndicatorTarget.objects.filter(pk=target.pk).update(justification="Revised at the workshop")
    after = plan_version_save(plan=plan, by=lead, label="after")

    stored_seconds, stored_queries, comparison = _timed(
        lambda: plan_versions_compare(plan=plan, before=str(before.pk), after=str(after.pk))
    )
    draft_seconds, draft_queries, _ = _timed(
        lambda: plan_versions_compare(plan=plan, before=str(before.pk), after=DRAFT)
    )
    read_seconds, read_queries, _ = _timed(lambda: plan_content_full(plan))
    lines_count = CostLine.objects.filter(plan=plan).count()
    with capsys.disabled():
        print(f"\n\nComparison of versions ({connection.vendor}; {SIZE:,} activities, {lines_count:,} cost lines)")
        print(
            f"  two stored versions: {stored_seconds:.2f} s [< 1 s], {stored_queries} queries; "
            f"{len(comparison.added)} added, {len(comparison.removed)} removed, "  # type: ignore[attr-defined]
            f"{len(comparison.changed)} changed"  # type: ignore[attr-defined]
        )
        print(f"  a stored version and the current draft: {draft_seconds:.2f} s, {draft_queries} queries")
        print(f"  reading the draft's content (the reference): {read_seconds:.2f} s, {read_queries} queries")
