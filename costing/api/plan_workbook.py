"""Costing API: the whole-plan workbook (Excel), written by a background job."""

from __future__ import annotations

from django.urls import path
from rest_framework.views import APIView

from costing.job_kinds import CostingJob
from naphs.api import job_accepted, job_accepted_schema
from naphs.permissions import Permission
from naphs.services import job_create
from stakeholders.access import PlanScopedMixin


class PlanWorkbookExportView(PlanScopedMixin, APIView):
    """Start an export of the whole plan to Excel (any member): a summary, the activities with all their fields
    and costs per year, the cost lines, the costs by area and year, the funding commitments, the scores and the
    targets, one sheet each. Poll the job it returns; its download_url gives the file."""

    write_need = Permission.VIEW

    @job_accepted_schema
    def post(self, request, plan_id: int):
        job = job_create(kind=CostingJob.PLAN_WORKBOOK, by=request.user, plan=self.plan)
        return job_accepted(job, request)


# (prefix, viewset, basename) for the router; plain routes in urlpatterns.
routes: list = []
urlpatterns = [
    path("plans/<int:plan_id>/workbook/export/", PlanWorkbookExportView.as_view(), name="api-plan-workbook-export"),
]
