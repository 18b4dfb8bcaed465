"""The costing dashboard in a real browser: totals that are being recomputed say so, and the page replaces
them by itself, without a reload, once the recomputation is done."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from costing.models import CostLine, PlanCosting
from costing.rollups import plan_rollup
from costing.services import cost_line_create, cost_line_update, plan_costing_get
from planning.models import Activity
from tests.browser.pages import log_in
from tests.costing.conftest import area, line_fields

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def line(plan, lead, moa) -> CostLine:
    """250 USD × 3, twice in 2026 and once in 2027: 2,250 USD."""
    plan_costing_get(plan)
    activity = Activity.objects.create(
        plan=plan, technical_area=area("P1"), title="Train border veterinarians", responsible_organization=moa
    )
    return cost_line_create(activity=activity, by=lead, fields=line_fields(), frequencies={2026: 2, 2027: 1})


def test_stale_totals_are_announced_and_replaced_when_recomputed(page, people, lead, line):
    plan = line.plan
    plan_rollup(plan_id=plan.pk)
    log_in(page, "viewer")
    page.goto(f"/plans/{plan.pk}/costing/")
    needed = page.locator('[data-figure="needed"]')
    expect(needed).to_have_text("2,250.00")
    # A recomputation is queued but not run yet: here, nothing runs it until the test does.
    PlanCosting.objects.filter(plan=plan).update(rollup_queued=True)
    line.refresh_from_db()
    cost_line_update(line=line, by=lead, version=line.version, fields={"quantity": Decimal("4")})

    page.reload()
    banner = page.get_by_role("status").filter(has_text="Totals are being recomputed (1 change since")
    expect(banner).to_be_visible()
    expect(needed).to_have_text("2,250.00")

    plan_rollup(plan_id=plan.pk)

    expect(banner).to_have_count(0, timeout=6000)  # the page asks every 2 seconds
    expect(needed).to_have_text("3,000.00")
