"""Costing's part in planning (planning.hooks): totals follow activities, activities show their costs, and cost
lines take comments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import Http404
from django.utils.translation import gettext as _

from costing.models import CostLine
from costing.selectors import activities_with_cost, activity_cost_summary
from costing.services import costs_changed
from costing.versions import plan_content_part
from planning import hooks

if TYPE_CHECKING:
    from planning.models import Activity, Plan


def _activity_deleting(activity: Activity) -> None:
    if activity.cost_lines.exists() or activity.funding_commitments.exists():
        costs_changed(activity.plan_id)


def _activity_page(activity: Activity) -> dict[str, Any]:
    return {"cost": activity_cost_summary(activity=activity)}


def _comment_target(plan: Plan, subject: str, object_id: int) -> hooks.CommentTarget | None:
    """A comment on a cost line of the plan: the line and its activity."""
    if subject != "cost_line":
        return None
    line = CostLine.objects.select_related("activity").filter(plan=plan, pk=object_id).first()
    if line is None:
        raise Http404(_("No such cost line."))
    return hooks.CommentTarget(line, line.activity)


def _comment_choices(activity: Activity) -> list[tuple[str, str]]:
    lines = CostLine.objects.filter(activity=activity).order_by("pk").values_list("pk", "description")
    return [(f"cost_line:{pk}", _("Cost line: %(line)s") % {"line": description}) for pk, description in lines]


def connect() -> None:
    """From CostingConfig.ready."""
    hooks.activity_moved.connect(costs_changed)
    hooks.activity_deleting.connect(_activity_deleting)
    hooks.activity_rows.connect(activities_with_cost)
    hooks.activity_page.connect(_activity_page)
    hooks.comment_target.connect(_comment_target)
    hooks.comment_choices.connect(_comment_choices)
    hooks.plan_content.connect(plan_content_part)
