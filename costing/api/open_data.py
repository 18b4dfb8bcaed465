"""Costing API: the plan as open data (CSV and JSON files in a zip, with their Frictionless Data package),
written by a background job."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from costing.job_kinds import CostingJob
from naphs.api import JobSerializer, StrictFieldsMixin, job_accepted
from naphs.permissions import Permission
from naphs.services import job_create
from stakeholders.access import PlanScopedMixin


class PlanOpenDataExportSerializer(StrictFieldsMixin, serializers.Serializer):
    """No fields: the export is of the current draft; any field sent is refused."""


class PlanOpenDataExportView(PlanScopedMixin, APIView):
    """Start an export of the plan's current draft as open data (any member): a zip of activities.csv, costs.csv,
    funding.csv, gaps.csv, plan.json and datapackage.json, the Frictionless Data package describing every file
    and column (the schema published as costing/open_data_schema.json). Values are locale-free whatever the
    requester's language; no person is named. Poll the job it returns; its download_url gives the file."""

    write_need = Permission.VIEW

    @extend_schema(request=PlanOpenDataExportSerializer, responses={202: JobSerializer})
    def post(self, request, plan_id: int) -> Response:
        PlanOpenDataExportSerializer(data=request.data).is_valid(raise_exception=True)
        job = job_create(kind=CostingJob.PLAN_OPEN_DATA, by=request.user, plan=self.plan, params={})
        return job_accepted(job, request)


# (prefix, viewset, basename) for the router; plain routes in urlpatterns.
routes: list = []
urlpatterns = [
    path("plans/<int:plan_id>/open-data/export/", PlanOpenDataExportView.as_view(), name="api-plan-open-data-export"),
]
