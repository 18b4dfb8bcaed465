"""Costing API: the plan in the layout of the WHO NAPHS planning and costing tool."""

from __future__ import annotations

from django.urls import path
from rest_framework.views import APIView

from costing.job_kinds import CostingJob
from naphs.api import job_accepted, job_accepted_schema
from naphs.permissions import Permission
from naphs.services import job_create
from stakeholders.access import PlanScopedMixin


class WhoExportView(PlanScopedMixin, APIView):
    """Start an export of the plan in the WHO costing tool layout (any member); poll the job it returns."""

    write_need = Permission.VIEW

    @job_accepted_schema
    def post(self, request, plan_id: int):
        job = job_create(kind=CostingJob.WHO_COSTING_EXPORT, by=request.user, plan=self.plan)
        return job_accepted(job, request)


# (prefix, viewset, basename) for the router; plain routes in urlpatterns.
routes: list = []
urlpatterns = [
    path("plans/<int:plan_id>/who-export/", WhoExportView.as_view(), name="api-who-export"),
]
