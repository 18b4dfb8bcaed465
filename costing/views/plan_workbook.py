"""Costing pages: the whole-plan workbook, asked for from the plan's overview or its costing dashboard."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from costing.job_kinds import CostingJob
from naphs.services import job_create
from stakeholders.access import SignedInRequest, plan_get_for_user
from stakeholders.jobs import job_started


@require_POST
def plan_workbook_export(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Any member may export the whole plan, as every member reads all of it."""
    plan = plan_get_for_user(user=request.user, plan_id=plan_id).plan
    job = job_create(kind=CostingJob.PLAN_WORKBOOK, by=request.user, plan=plan)
    return job_started(request, job, gettext("The whole-plan workbook is being prepared."))


urlpatterns = [
    path("plans/<int:plan_id>/workbook/export/", plan_workbook_export, name="plan_workbook_export"),
]
