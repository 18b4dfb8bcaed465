"""Costing pages: the plan as open data (a zip of CSV and JSON files), asked for from the plan's overview or its
costing dashboard, beside the whole-plan workbook, or for a stored version from the plan's list of versions."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from costing.job_kinds import CostingJob
from costing.views.plan_workbook import version_params
from naphs.services import job_create
from stakeholders.access import SignedInRequest, plan_get_for_user
from stakeholders.jobs import job_started


@require_POST
def plan_open_data_export(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Any member may export the plan as open data, as every member reads all of it (and the files hold less): the
    current draft, or the stored version the form names (`version`: 404 for one of another plan)."""
    plan = plan_get_for_user(user=request.user, plan_id=plan_id).plan
    job = job_create(kind=CostingJob.PLAN_OPEN_DATA, by=request.user, plan=plan, params=version_params(request, plan))
    return job_started(request, job, gettext("The plan's open data files are being prepared."))


urlpatterns = [
    path("plans/<int:plan_id>/open-data/export/", plan_open_data_export, name="plan_open_data_export"),
]
