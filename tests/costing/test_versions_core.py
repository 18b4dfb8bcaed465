"""A stored version holds the plan's whole content and reads back as it was; an endorsed plan refuses every write
to its content, in the access helpers and in the write's own transaction."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from costing.plan_workbook import plan_workbook_build
from costing.services import cost_line_create
from costing.versions import StoredVersion, content_from_json, plan_content_full
from naphs.errors import PlanFrozen
from naphs.permissions import Permission
from planning.models import AreaPriority, Plan, PlanContext, PlanVersion
from planning.versions import plan_version_save
from stakeholders.access import plan_get_for_user
from tests.costing.conftest import area, line_fields

pytestmark = pytest.mark.django_db


def test_a_stored_version_reads_back_as_the_draft_was(costing, moa_activity, moh_activity, lead):
    plan = costing.plan
    cost_line_create(activity=moa_activity, by=lead, fields=line_fields(), frequencies={2026: 2, 2027: 1})
    AreaPriority.objects.create(plan=plan, technical_area=area("P1"), rank=1, rationale="Borders first")
    PlanContext.objects.create(plan=plan, narrative="A coastal country")
    version = plan_version_save(plan=plan, by=lead, label="  before the   validation workshop ")
    assert version.label == "before the validation workshop"
    assert version.kind == PlanVersion.Kind.NAMED and version.edition == 1
    draft = plan_content_full(plan)
    stored = content_from_json(PlanVersion.objects.get(pk=version.pk).content)
    assert stored == draft
    amounts = stored.cost_lines[0]["amounts"]
    assert (amounts[2026], amounts[2027], amounts[2028]) == (Decimal("1500.00"), Decimal("750.00"), Decimal("0"))
    assert stored.priorities[0]["rationale"] == "Borders first"
    assert stored.contexts == [{"technical_area": "", "narrative": "A coastal country"}]

    moa_activity.title = "Changed after the version"
    moa_activity.save()
    written = plan_workbook_build(plan=plan, version=StoredVersion(version))
    assert written.rows > 0
    assert StoredVersion(version).content().activities[0]["title"] == "Train border veterinarians"


def test_a_stored_version_is_never_changed(costing, lead):
    version = plan_version_save(plan=costing.plan, by=lead, label="v")
    version.label = "other"
    with pytest.raises(ValueError):
        version.save()


def test_an_endorsed_plan_refuses_content_writes_and_keeps_its_team(costing, moa_activity, lead, people):
    plan = costing.plan
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    with pytest.raises(PlanFrozen) as refused:
        plan_get_for_user(user=lead, plan_id=plan.pk, need=Permission.EDIT_PLAN)
    assert "version 1" in str(refused.value)
    for need in (Permission.EDIT_ACTIVITIES, Permission.EDIT_COSTS, Permission.COMMENT):
        with pytest.raises(PlanFrozen):
            plan_get_for_user(user=lead, plan_id=plan.pk, need=need)
    access = plan_get_for_user(user=lead, plan_id=plan.pk, need=Permission.MANAGE)
    assert not access.membership.allows(Permission.EDIT_COSTS)
    assert access.membership.allows(Permission.MANAGE) and access.membership.allows(Permission.REPORT_PROGRESS)


def test_a_write_under_way_when_the_plan_is_endorsed_is_undone(costing, moa_activity, lead):
    """The access check passed before the endorsement; the write's own transaction still refuses it whole."""
    plan = costing.plan
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    with pytest.raises(PlanFrozen), transaction.atomic():
        cost_line_create(activity=moa_activity, by=lead, fields=line_fields(), frequencies={2026: 1})
    assert not moa_activity.cost_lines.exists()
