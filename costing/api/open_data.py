"""Costing API: the plan as open data (CSV and JSON files in a zip, with their Frictionless Data package),
written by a background job."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from costing.api.plan_workbook import PlanWorkbookExportSerializer, version_params
from costing.job_kinds import CostingJob
from naphs.api import JobSerializer, job_accepted
from naphs.permissions import Permission
from naphs.services import job_create
from stakeholders.access import PlanScopedMixin


class PlanOpenDataExportSerializer(PlanWorkbookExportSerializer):
    """`plan_version`, or nothing for the current draft; any other field sent is refused."""


class PlanOpenDataExportView(PlanScopedMixin, APIView):
    """Start an export of the plan as open data (any member), of the current draft or of a stored version
    (`plan_version`, e.g. the endorsed one; a version of another plan is refused with 400): a zip of
    activities.csv, costs.csv, funding.csv, gaps.csv, plan.json and datapackage.json, the Frictionless Data
    package describing every file and column (the schema published as costing/open_data_schema.json). Values
    are locale-free whatever the requester's language; no person is named; plan.json says which version the
    files hold and whether it is an endorsed one. Poll the job it returns; its download_url gives the file."""

    write_need = Permission.VIEW

    @extend_schema(request=PlanOpenDataExportSerializer, responses={202: JobSerializer})
    def post(self, request, plan_id: int) -> Response:
        body = PlanOpenDataExportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        params = version_params(self.plan, body)
        job = job_create(kind=CostingJob.PLAN_OPEN_DATA, by=request.user, plan=self.plan, params=params)
        return job_accepted(job, request)


# (prefix, viewset, basename) for the router; plain routes in urlpatterns.
routes: list = []
urlpatterns = [
    path("plans/<int:plan_id>/open-data/export/", PlanOpenDataExportView.as_view(), name="api-plan-open-data-export"),
]
