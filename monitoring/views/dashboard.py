"""Monitoring pages: the dashboard of a plan's implementation (progress, spending, indicators, capacity, 7-1-7,
overdue reports), its recomputation banner and its export."""

from __future__ import annotations

from collections.abc import Mapping

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from monitoring.dashboard import Scope, dashboard_get, dashboard_state
from monitoring.job_kinds import MonitoringJob
from naphs.models import Job
from naphs.services import job_create
from stakeholders.access import PlanAccess, SignedInRequest, plan_get_for_user, plans_for_user
from stakeholders.jobs import job_started


def _scope(data: Mapping[str, str]) -> Scope:
    """The scope asked for; anything unknown falls back to the plan alone."""
    scope = data.get("scope", "")
    return Scope(scope) if scope in Scope.values else Scope.PLAN


def _figures_context(request: SignedInRequest, access: PlanAccess, scope: Scope) -> dict:
    plan, membership = access
    dashboard = dashboard_get(plan=plan, scope=scope)
    # Links to the provincial plans' own dashboards, for those the person belongs to.
    member_of = set(plans_for_user(request.user).filter(parent=plan).order_by().values_list("pk", flat=True))
    return {
        "plan": plan,
        "membership": membership,
        "dashboard": dashboard,
        "state": dashboard.state,
        "member_of": member_of,
        "scopes": Scope.choices,
    }


@require_safe
def monitoring_dashboard(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Every member sees the plan's implementation figures and, for a national plan, its provincial plans'."""
    access = plan_get_for_user(user=request.user, plan_id=plan_id)
    context = _figures_context(request, access, _scope(request.GET))
    context["jobs"] = Job.objects.filter(
        plan=access.plan, requested_by=request.user, kind=MonitoringJob.MONITORING_DASHBOARD_EXPORT
    ).order_by("-created_at")[:1]
    return render(request, "monitoring/dashboard/page.html", context)


@never_cache
@require_safe
def monitoring_dashboard_status(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Polled while the figures are recomputed: the banner again, or, once they are current, the new figures in
    place of the old ones."""
    access = plan_get_for_user(user=request.user, plan_id=plan_id)
    scope = _scope(request.GET)
    state = dashboard_state(plan=access.plan, scope=scope)
    if not state.current:
        context = {"plan": access.plan, "state": state, "scope": scope}
        return render(request, "monitoring/dashboard/_status.html", context)
    response = render(request, "monitoring/dashboard/_figures.html", _figures_context(request, access, scope))
    response["HX-Retarget"] = "#monitoring-dashboard"
    response["HX-Reswap"] = "outerHTML"
    return response


@require_POST
def monitoring_dashboard_export(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Any member may export the dashboard, in the scope they are looking at."""
    plan = plan_get_for_user(user=request.user, plan_id=plan_id).plan
    job = job_create(
        kind=MonitoringJob.MONITORING_DASHBOARD_EXPORT,
        by=request.user,
        plan=plan,
        params={"scope": str(_scope(request.POST))},
    )
    return job_started(request, job, gettext("The monitoring dashboard export is being prepared."))


urlpatterns: list[URLPattern] = [
    path("plans/<int:plan_id>/monitoring/dashboard/", monitoring_dashboard, name="monitoring_dashboard"),
    path(
        "plans/<int:plan_id>/monitoring/dashboard/status/",
        monitoring_dashboard_status,
        name="monitoring_dashboard_status",
    ),
    path(
        "plans/<int:plan_id>/monitoring/dashboard/export/",
        monitoring_dashboard_export,
        name="monitoring_dashboard_export",
    ),
]
