"""Costing pages: the whole-plan workbook, asked for from the plan's overview, its costing dashboard, or its list of
versions (the workbook of a stored version)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404, HttpResponse
from django.urls import path
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from costing.job_kinds import CostingJob
from naphs.services import job_create
from planning.versions import plan_version_get
from stakeholders.access import SignedInRequest, plan_get_for_user
from stakeholders.jobs import job_started

if TYPE_CHECKING:
    from planning.models import Plan


def version_params(request: SignedInRequest, plan: Plan) -> dict[str, int]:
    """An export job's params from the form: the stored version it names (`version`: 404 for one of another
    plan), or none for the current draft."""
    raw = request.POST.get("version", "").strip()
    if not raw:
        return {}
    if not raw.isdigit() or len(raw) > 18:
        raise Http404(gettext("No such version of this plan."))
    return {"version": plan_version_get(plan=plan, version_id=int(raw)).pk}


@require_POST
def plan_workbook_export(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Any member may export the whole plan, as every member reads all of it: the current draft, or the stored
    version the form names (`version`: 404 for one of another plan)."""
    plan = plan_get_for_user(user=request.user, plan_id=plan_id).plan
    job = job_create(kind=CostingJob.PLAN_WORKBOOK, by=request.user, plan=plan, params=version_params(request, plan))
    return job_started(request, job, gettext("The whole-plan workbook is being prepared."))


urlpatterns = [
    path("plans/<int:plan_id>/workbook/export/", plan_workbook_export, name="plan_workbook_export"),
]
