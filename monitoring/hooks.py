"""Monitoring's part in planning's pages (planning.hooks): an activity's page shows its latest progress report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.urls import reverse

from monitoring.models import ProgressUpdate
from planning import hooks

if TYPE_CHECKING:
    from planning.models import Activity


def _activity_page(activity: Activity) -> dict[str, Any]:
    """The activity's latest report (one query) and the page of all its reports."""
    latest = (
        ProgressUpdate.objects.filter(activity=activity).select_related("period").order_by("-period__starts_on").first()
    )
    url = reverse("activity_progress", kwargs={"plan_id": activity.plan_id, "activity_id": activity.pk})
    return {"progress": latest, "progress_url": url}


def connect() -> None:
    """From MonitoringConfig.ready."""
    hooks.activity_page.connect(_activity_page)
