"""Monitoring API: re-assessment. The capacity progress of a plan (as its page shows it: per technical area and
indicator, baseline, target, latest level and change, the activities behind each indicator with their latest
reported status), read by every member, and its Excel export. `assessment` chooses the follow-up assessment the
latest levels stand with (by default the latest follow-up)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.urls import URLPattern, path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring.capacity import capacity_progress_for_plan, follow_up_get
from monitoring.job_kinds import MonitoringJob
from naphs.api import JobSerializer, StrictFieldsMixin, job_accepted
from naphs.permissions import Permission
from naphs.services import job_create
from planning.models import Assessment, Plan
from stakeholders.access import PlanScopedMixin


class CapacityQuerySerializer(serializers.Serializer):
    assessment = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_(
            "A follow-up assessment of the plan: the latest levels as they stood with it. Default: the latest."
        ),
    )

    def compared(self, plan: Plan) -> Assessment | None:
        """The follow-up asked for (400 naming `assessment` when it is none of the plan's), or the latest."""
        try:
            return follow_up_get(plan=plan, assessment_id=self.validated_data.get("assessment"))
        except Http404:
            raise serializers.ValidationError(
                {"assessment": [gettext("Not a follow-up assessment of this plan.")]}
            ) from None


class CapacityExportSerializer(StrictFieldsMixin, CapacityQuerySerializer):
    """The same choice, as the body of an export: a field it does not name is refused."""


class LevelSerializer(serializers.Serializer):
    level = serializers.IntegerField(read_only=True)
    assessment = serializers.IntegerField(source="assessment_id", read_only=True)
    kind = serializers.CharField(read_only=True)
    date = serializers.DateField(read_only=True)
    purpose = serializers.CharField(read_only=True, help_text=_("baseline or follow_up."))
    carried = serializers.BooleanField(
        read_only=True, help_text=_("True when carried through a crosswalk from another framework.")
    )
    framework = serializers.CharField(read_only=True, help_text=_("The framework carried from; empty if none."))


class ActivityBehindSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    title = serializers.CharField(read_only=True)
    status = serializers.CharField(
        read_only=True, help_text=_("The latest reported progress status; not_reported when none.")
    )


class IndicatorProgressSerializer(serializers.Serializer):
    indicator = serializers.IntegerField(source="indicator.pk", read_only=True)
    code = serializers.CharField(source="indicator.code", read_only=True)
    name = serializers.CharField(source="indicator.local_name", read_only=True)
    baseline = LevelSerializer(read_only=True, allow_null=True)
    target = serializers.IntegerField(read_only=True, allow_null=True)
    latest = LevelSerializer(read_only=True, allow_null=True)
    change = serializers.IntegerField(read_only=True, allow_null=True, help_text=_("Latest level minus baseline."))
    direction = serializers.CharField(read_only=True, help_text=_("up, down, none, or empty without both levels."))
    reassessed = serializers.BooleanField(read_only=True, help_text=_("True when a follow-up gives the latest level."))
    reached = serializers.BooleanField(read_only=True, allow_null=True, help_text=_("Null without a target."))
    activities = ActivityBehindSerializer(many=True, read_only=True)


class AreaProgressSerializer(serializers.Serializer):
    area = serializers.IntegerField(source="area.pk", read_only=True)
    code = serializers.CharField(source="area.code", read_only=True)
    name = serializers.CharField(source="area.local_name", read_only=True)
    baseline_mean = serializers.FloatField(read_only=True, allow_null=True)
    latest_mean = serializers.FloatField(read_only=True, allow_null=True)
    target_mean = serializers.FloatField(read_only=True, allow_null=True)
    change_mean = serializers.FloatField(read_only=True, allow_null=True)
    with_target = serializers.IntegerField(read_only=True)
    reached = serializers.IntegerField(read_only=True)
    improved = serializers.IntegerField(read_only=True)
    declined = serializers.IntegerField(read_only=True)
    indicators = IndicatorProgressSerializer(many=True, read_only=True)


class FollowUpSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    kind = serializers.CharField(read_only=True)
    date = serializers.DateField(read_only=True)
    framework = serializers.CharField(source="framework.code", read_only=True)
    source = serializers.CharField(read_only=True)  # type: ignore[assignment]  # a field named as Field.source


class CapacityProgressSerializer(serializers.Serializer):
    plan = serializers.IntegerField(source="plan.pk", read_only=True)
    compared = FollowUpSerializer(read_only=True, allow_null=True, help_text=_("Null when the plan has no follow-up."))
    follow_ups = FollowUpSerializer(many=True, read_only=True, help_text=_("Most recent first."))
    with_target = serializers.IntegerField(read_only=True)
    reached = serializers.IntegerField(read_only=True)
    reassessed = serializers.IntegerField(read_only=True)
    improved = serializers.IntegerField(read_only=True)
    declined = serializers.IntegerField(read_only=True)
    areas = AreaProgressSerializer(many=True, read_only=True)


class CapacityProgressView(PlanScopedMixin, APIView):
    """The plan's capacity progress. Every member may read it. An `assessment` that is no follow-up assessment of
    the plan is refused (400, `assessment`)."""

    read_need = Permission.VIEW

    @extend_schema(parameters=[CapacityQuerySerializer], responses=CapacityProgressSerializer)
    def get(self, request: Any, plan_id: int) -> Response:
        query = CapacityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        progress = capacity_progress_for_plan(plan=self.plan, compared=query.compared(self.plan))
        return Response(CapacityProgressSerializer(progress).data)


class CapacityProgressExportView(PlanScopedMixin, APIView):
    """Start an Excel export of the capacity progress (any member); poll the job it returns."""

    write_need = Permission.VIEW

    @extend_schema(request=CapacityExportSerializer, responses={202: JobSerializer})
    def post(self, request: Any, plan_id: int) -> Response:
        body = CapacityExportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        compared = body.compared(self.plan)
        job = job_create(
            kind=MonitoringJob.CAPACITY_PROGRESS_EXPORT,
            by=request.user,
            plan=self.plan,
            params={"assessment": compared.pk if compared is not None else None},
        )
        return job_accepted(job, request)


# (prefix, viewset, basename) for the router; plain routes in urlpatterns.
routes: list = []
urlpatterns: list[URLPattern] = [
    path("plans/<int:plan_id>/capacity-progress/", CapacityProgressView.as_view(), name="api-capacity-progress"),
    path(
        "plans/<int:plan_id>/capacity-progress/export/",
        CapacityProgressExportView.as_view(),
        name="api-capacity-progress-export",
    ),
]
