"""Timeliness's part in planning's pages (planning.hooks): an activity made from a 7-1-7 remedial action names, on
its page, the health event and bottleneck it came from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from monitoring.models import Bottleneck
from planning import hooks

if TYPE_CHECKING:
    from planning.models import Activity


def _activity_page(activity: Activity) -> dict[str, Any]:
    """The bottlenecks whose remedial action the activity is, with their events: one query."""
    return {"remedial_of": list(Bottleneck.objects.filter(activity=activity).select_related("event").order_by("pk"))}


def connect() -> None:
    """From MonitoringConfig.ready."""
    hooks.activity_page.connect(_activity_page)
