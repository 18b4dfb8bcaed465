"""Costing pages: the dashboard of a plan's totals and funding gap, its recomputation banner and its export."""

from __future__ import annotations

from collections.abc import Mapping

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from costing.dashboard import Scenario, Scope, dashboard_get, dashboard_state
from costing.job_kinds import CostingJob
from naphs.models import Job
from naphs.services import job_create
from stakeholders.access import PlanAccess, SignedInRequest, plan_get_for_user, plans_for_user
from stakeholders.jobs import job_started


def _choices(data: Mapping[str, str]) -> tuple[Scenario, Scope]:
    """The scenario and scope asked for; anything unknown falls back to the default view."""
    scenario = data.get("scenario", "")
    scope = data.get("scope", "")
    return (
        Scenario(scenario) if scenario in Scenario.values else Scenario.REQUIRED,
        Scope(scope) if scope in Scope.values else Scope.PLAN,
    )


def _figures_context(request: SignedInRequest, access: PlanAccess, scenario: Scenario, scope: Scope) -> dict:
    plan, membership = access
    dashboard = dashboard_get(plan=plan, scenario=scenario, scope=scope, with_advocacy=True)
    # Links to the provincial plans' own dashboards, for those the person belongs to.
    member_of = set(plans_for_user(request.user).filter(parent=plan).order_by().values_list("pk", flat=True))
    return {
        "plan": plan,
        "membership": membership,
        "dashboard": dashboard,
        "state": dashboard.state,
        "member_of": member_of,
        "scenarios": Scenario.choices,
        "scopes": Scope.choices,
    }


@require_safe
def costing_dashboard(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Every member sees the plan's totals, its funding gap and, for a national plan, its provincial plans."""
    access = plan_get_for_user(user=request.user, plan_id=plan_id)
    plan = access.plan
    scenario, scope = _choices(request.GET)
    context = _figures_context(request, access, scenario, scope)
    # The latest of the exports asked for here: the dashboard's tables or the whole plan.
    context["jobs"] = Job.objects.filter(
        plan=plan,
        requested_by=request.user,
        kind__in=[CostingJob.COSTING_DASHBOARD_EXPORT, CostingJob.PLAN_WORKBOOK],
    ).order_by("-created_at")[:1]
    return render(request, "costing/dashboard/page.html", context)


@never_cache
@require_safe
def costing_dashboard_status(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Polled while the totals are recomputed: the banner again, or, once they are current, the new figures
    in place of the old ones."""
    access = plan_get_for_user(user=request.user, plan_id=plan_id)
    plan = access.plan
    scenario, scope = _choices(request.GET)
    state = dashboard_state(plan=plan, scope=scope)
    if not state.current:
        context = {"plan": plan, "state": state, "scenario": scenario, "scope": scope}
        return render(request, "costing/dashboard/_status.html", context)
    response = render(request, "costing/dashboard/_figures.html", _figures_context(request, access, scenario, scope))
    response["HX-Retarget"] = "#costing-dashboard"
    response["HX-Reswap"] = "outerHTML"
    return response


@require_POST
def costing_dashboard_export(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Any member may export the dashboard, in the scenario and scope they are looking at."""
    plan = plan_get_for_user(user=request.user, plan_id=plan_id).plan
    scenario, scope = _choices(request.POST)
    job = job_create(
        kind=CostingJob.COSTING_DASHBOARD_EXPORT,
        by=request.user,
        plan=plan,
        params={"scenario": str(scenario), "scope": str(scope)},
    )
    return job_started(request, job, gettext("The costing dashboard export is being prepared."))


urlpatterns = [
    path("plans/<int:plan_id>/costing/", costing_dashboard, name="costing_dashboard"),
    path("plans/<int:plan_id>/costing/dashboard/status/", costing_dashboard_status, name="costing_dashboard_status"),
    path("plans/<int:plan_id>/costing/dashboard/export/", costing_dashboard_export, name="costing_dashboard_export"),
]
