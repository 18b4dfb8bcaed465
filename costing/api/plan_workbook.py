"""Costing API: the whole-plan workbook (Excel), written by a background job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from costing.job_kinds import CostingJob
from naphs.api import JobSerializer, StrictFieldsMixin, job_accepted
from naphs.permissions import Permission
from naphs.services import job_create
from planning.models import PlanVersion
from stakeholders.access import PlanScopedMixin

if TYPE_CHECKING:
    from planning.models import Plan


class PlanWorkbookExportSerializer(StrictFieldsMixin, serializers.Serializer):
    plan_version = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=_("The id of a stored version of the plan to export; leave it out for the current draft."),
    )


def version_params(plan: Plan, body: serializers.Serializer) -> dict[str, int]:
    """An export job's params from a validated body with `plan_version`: the stored version it names (400 for one
    of another plan or none), or none for the current draft."""
    version_id = body.validated_data.get("plan_version")
    if version_id is None:
        return {}
    if not PlanVersion.objects.filter(plan=plan, pk=version_id).exists():
        raise serializers.ValidationError({"plan_version": [gettext("No such version of this plan.")]})
    return {"version": version_id}


class PlanWorkbookExportView(PlanScopedMixin, APIView):
    """Start an export of the whole plan to Excel (any member): a summary, the activities with all their fields
    and costs per year, the cost lines, the costs by area and year, the funding commitments, the scores and the
    targets, one sheet each; of the current draft, or of a stored version (`plan_version`). Poll the job it returns;
    its download_url gives the file."""

    write_need = Permission.VIEW

    @extend_schema(request=PlanWorkbookExportSerializer, responses={202: JobSerializer})
    def post(self, request, plan_id: int) -> Response:
        body = PlanWorkbookExportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        params = version_params(self.plan, body)
        job = job_create(kind=CostingJob.PLAN_WORKBOOK, by=request.user, plan=self.plan, params=params)
        return job_accepted(job, request)


# (prefix, viewset, basename) for the router; plain routes in urlpatterns.
routes: list = []
urlpatterns = [
    path("plans/<int:plan_id>/workbook/export/", PlanWorkbookExportView.as_view(), name="api-plan-workbook-export"),
]
