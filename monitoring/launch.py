"""Monitoring's part in the launch (stakeholders.hooks.plan_launched): launching a plan opens its first reporting
period, inside the launch's transaction, so a failure here undoes the launch.

The first period is the earliest planned one by its first day. A plan without periods gets its quarters first
(monitoring.periods.periods_generate). A plan whose secretariat opened a period already keeps it: nothing more is
opened (opening a later one beside it would ask for reports early), and the launch names the open period. A plan
whose periods are all closed opens none. What was opened is kept on the launch (Launch.opened) for its page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.urls import reverse

from monitoring.models import ReportingPeriod
from monitoring.periods import period_open, periods_generate
from stakeholders import hooks
from stakeholders.models import Launch

if TYPE_CHECKING:
    from planning.models import Plan
    from stakeholders.models import User


def _described(period: ReportingPeriod, *, already_open: bool, generated: int) -> dict[str, Any]:
    return {
        "id": period.pk,
        "label": period.label,
        "url": reverse("progress_period", kwargs={"plan_id": period.plan_id, "period_id": period.pk}),
        "already_open": already_open,
        "generated": generated,
    }


def plan_launched(plan: Plan, by: User, launch: Launch) -> None:
    periods = ReportingPeriod.objects.filter(plan=plan)
    generated = 0
    if not periods.exists():
        generated = len(periods_generate(plan=plan, by=by))
    opened: dict[str, Any] = {}
    already = periods.filter(state=ReportingPeriod.State.OPEN).order_by("starts_on", "pk").first()
    if already is not None:
        opened = {"period": _described(already, already_open=True, generated=generated)}
    else:
        first = periods.filter(state=ReportingPeriod.State.PLANNED).order_by("starts_on", "pk").first()
        if first is not None:
            first.plan = plan
            period_open(period=first, by=by, version=first.version)
            opened = {"period": _described(first, already_open=False, generated=generated)}
    if opened:
        Launch.objects.filter(pk=launch.pk).update(opened=opened)
        launch.opened = opened


def connect() -> None:
    """From MonitoringConfig.ready."""
    hooks.plan_launched.connect(plan_launched)
