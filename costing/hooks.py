"""Costing's part in planning (planning.hooks): totals follow activities, and activities show their costs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from costing.selectors import activities_with_cost, activity_cost_summary
from costing.services import costs_changed
from planning import hooks

if TYPE_CHECKING:
    from planning.models import Activity


def _activity_deleting(activity: Activity) -> None:
    if activity.cost_lines.exists() or activity.funding_commitments.exists():
        costs_changed(activity.plan_id)


def _activity_page(activity: Activity) -> dict[str, Any]:
    return {"cost": activity_cost_summary(activity=activity)}


def connect() -> None:
    """From CostingConfig.ready."""
    hooks.activity_moved.connect(costs_changed)
    hooks.activity_deleting.connect(_activity_deleting)
    hooks.activity_rows.connect(activities_with_cost)
    hooks.activity_page.connect(_activity_page)
