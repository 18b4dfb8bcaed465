"""A plan's monitoring aggregates (what its dashboards read), computed in the database in the background after
each burst of changes, as the costing rollups are."""

from __future__ import annotations


def monitoring_changed(plan_id: int) -> None:
    """Say the plan's monitoring figures moved: its aggregates are stale from now on, and one recomputation is
    queued once the surrounding transaction commits."""
    # The dashboard's aggregates hang here (monitoring.dashboard): until they exist there is nothing to refresh.
    return None
