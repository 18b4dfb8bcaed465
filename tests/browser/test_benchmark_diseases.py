"""The WHO Benchmarks platform's library in the browser: the secretariat names a priority disease on the plan's
settings page, and the draft generated for the areas it raises brings that disease's actions, titled by it.

The library (imported from seed files written for the tests), the scores and the targets are set up in Python."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import expect

from naphs.permissions import Role
from planning.assessments import assessment_create, scores_set
from planning.benchmark_platform import platform_import
from planning.models import Activity
from planning.targets import target_set
from tests.browser.pages import log_in, open_plan, plan_nav
from tests.planning.benchmark_seed import as_uploads, seed_files

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def raised(plan, people):
    """D2.1 raised from 2 to 3 (benchmark 9.1, which has an influenza action), R1.3 from 1 to 2 (12.1, another)."""
    lead = people[Role.SECRETARIAT_LEAD]
    platform_import(framework=plan.framework, files=as_uploads(seed_files()))
    assessment = assessment_create(plan=plan, by=lead, framework=plan.framework, kind="jee",
                                   date=datetime.date(2025, 6, 1))  # fmt: skip
    scores_set(assessment=assessment, by=lead, scores={"D2.1": 2, "R1.3": 1})
    for code, level in {"D2.1": 3, "R1.3": 2}.items():
        target_set(plan=plan, by=lead, indicator=plan.framework.indicators.get(code=code), level=level,
                   justification="Agreed at the workshop.")  # fmt: skip
    return plan


def test_a_priority_disease_named_in_the_settings_brings_its_actions_into_the_draft(page, live_server, raised, people):
    plan = raised
    log_in(page, people[Role.SECRETARIAT_LEAD].email)
    open_plan(page, plan)
    plan_nav(page).get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_role("heading", name="Plan settings", level=1)).to_be_visible()
    page.get_by_role("checkbox", name="Influenza").check()
    expect(page.get_by_role("checkbox", name="Cholera")).not_to_be_checked()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").filter(has_text="Plan settings saved.")).to_be_visible()
    plan.refresh_from_db()
    assert plan.priority_diseases == ["influenza"]

    plan_nav(page).get_by_role("link", name="Generate draft", exact=True).click()
    expect(page.get_by_text("2 of them are about Influenza, a priority disease of the plan.")).to_be_visible()
    for code in ("D2", "R1"):
        page.get_by_role("checkbox", name=re.compile(rf"^{code} .* · \d+ to add$")).check()
    page.get_by_role("button", name="Generate draft activities").click()
    expect(page.get_by_role("heading", name="Activities", level=1)).to_be_visible()
    expect(page.get_by_text("Influenza: Test influenza step for 9.1.")).to_be_visible()
    assert Activity.objects.filter(plan=plan, title__startswith="Influenza: ").count() == 2
