"""Monitoring API: the dashboard's figures (the same as the page, amounts as strings) and their Excel export."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring.dashboard import STATUSES, Scope, dashboard_get
from monitoring.job_kinds import MonitoringJob
from naphs.api import JobSerializer, StrictFieldsMixin, job_accepted
from naphs.permissions import Permission
from naphs.services import job_create
from stakeholders.access import PlanScopedMixin


def money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=24, decimal_places=2, read_only=True, **kwargs)


class MonitoringDashboardQuerySerializer(serializers.Serializer):
    scope = serializers.ChoiceField(
        choices=Scope.choices,
        default=Scope.PLAN,
        # Translators: "plan" and "provinces" are values of the API; keep them in English.
        help_text=_("plan: this plan alone; provinces: this plan with its provincial plans."),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.initial_data.get("scope", None) == "":
            raise serializers.ValidationError({"scope": [gettext("Choose one of the values or leave it out.")]})
        return attrs


class MonitoringDashboardExportSerializer(StrictFieldsMixin, MonitoringDashboardQuerySerializer):
    """The same choice, as the body of an export: a field it does not name is refused."""


@extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"}})
class StatusCountsField(serializers.Field):
    """Activities per latest status ("not_reported": never reported)."""

    def to_representation(self, value: Any) -> dict[str, int]:
        return {status or "not_reported": count for status, count in value.items()}


class StatusRowSerializer(serializers.Serializer):
    key = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]  # a field named as Field.label
    activities = serializers.IntegerField(source="total", read_only=True)
    by_status = StatusCountsField(source="counts", read_only=True)
    on_track_percent = serializers.IntegerField(read_only=True)
    mean_percent_complete = serializers.IntegerField(source="mean_percent", read_only=True)
    spent = money(help_text=_("Spent to date, in the base currency."))
    budget = money(help_text=_("Costed budget without optional costs."))


class PeriodRowSerializer(serializers.Serializer):
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]
    due_on = serializers.DateField(read_only=True)
    state = serializers.CharField(read_only=True)
    expected = serializers.IntegerField(read_only=True)
    reported = serializers.IntegerField(read_only=True)
    unreported = serializers.IntegerField(read_only=True)
    spent = money()
    spent_to_date = money(source="cumulative")
    overdue = serializers.BooleanField(read_only=True)


class OverdueSerializer(serializers.Serializer):
    organization = serializers.CharField(source="label", read_only=True)
    reports_missing = serializers.IntegerField(source="overdue", read_only=True)


class IndicatorRowSerializer(serializers.Serializer):
    key = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]
    met = serializers.IntegerField(source="counts.met", read_only=True)
    not_met = serializers.IntegerField(source="counts.not_met", read_only=True)
    no_data = serializers.IntegerField(source="counts.no_data", read_only=True)
    no_target = serializers.IntegerField(source="counts.no_target", read_only=True)


class CapacityRowSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    baseline = serializers.DecimalField(max_digits=3, decimal_places=1, read_only=True, allow_null=True)
    latest = serializers.DecimalField(max_digits=3, decimal_places=1, read_only=True, allow_null=True)
    target = serializers.DecimalField(max_digits=3, decimal_places=1, read_only=True, allow_null=True)


class TimelinessRowSerializer(serializers.Serializer):
    stage = serializers.CharField(read_only=True)
    days = serializers.IntegerField(read_only=True)
    met = serializers.IntegerField(read_only=True)
    missed = serializers.IntegerField(read_only=True)
    pending = serializers.IntegerField(read_only=True)


class StateSerializer(serializers.Serializer):
    current = serializers.BooleanField(read_only=True, help_text=_("False while a plan's figures are recomputed."))
    pending_changes = serializers.IntegerField(source="pending", read_only=True)
    since = serializers.DateTimeField(read_only=True, allow_null=True)
    computed_at = serializers.DateTimeField(read_only=True, allow_null=True)


class PlanRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="plan.pk", read_only=True)
    title = serializers.CharField(source="plan.title", read_only=True)
    currency = serializers.CharField(read_only=True)
    in_amounts = serializers.BooleanField(
        source="money", read_only=True, help_text=_("False for a plan costed in another currency.")
    )
    current = serializers.BooleanField(read_only=True)


class MonitoringDashboardSerializer(serializers.Serializer):
    plan = serializers.IntegerField(source="plan.pk", read_only=True)
    scope = serializers.ChoiceField(choices=Scope.choices, read_only=True)
    currency = serializers.CharField(read_only=True)
    state = StateSerializer(read_only=True)
    plans = PlanRowSerializer(many=True, read_only=True, help_text=_("The plans included: this plan first."))
    statuses = serializers.SerializerMethodField()
    totals = StatusRowSerializer(read_only=True)
    budget = money()
    funded = money(help_text=_("Committed and disbursed funding."))
    pledged = money()
    by_area = StatusRowSerializer(many=True, read_only=True)
    by_organization = StatusRowSerializer(many=True, read_only=True)
    by_level = StatusRowSerializer(many=True, read_only=True)
    by_plan = StatusRowSerializer(many=True, read_only=True)
    periods = PeriodRowSerializer(many=True, read_only=True)
    overdue = OverdueSerializer(many=True, read_only=True)
    indicators = IndicatorRowSerializer(many=True, read_only=True)
    indicators_by_area = IndicatorRowSerializer(many=True, read_only=True)
    capacity = CapacityRowSerializer(many=True, read_only=True)
    timeliness = TimelinessRowSerializer(many=True, read_only=True)
    events = serializers.IntegerField(read_only=True)
    events_all_met = serializers.IntegerField(read_only=True)

    def get_statuses(self, dashboard: Any) -> list[str]:
        return [status or "not_reported" for status in STATUSES]


class MonitoringDashboardView(PlanScopedMixin, APIView):
    """The monitoring dashboard's figures and whether they are current; every member may read it. When
    `state.current` is false the figures are being recomputed: they lack `state.pending_changes` changes."""

    read_need = Permission.VIEW

    @extend_schema(parameters=[MonitoringDashboardQuerySerializer], responses=MonitoringDashboardSerializer)
    def get(self, request: Any, plan_id: int) -> Response:
        query = MonitoringDashboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        dashboard = dashboard_get(plan=self.plan, **query.validated_data)
        return Response(MonitoringDashboardSerializer(dashboard).data)


class MonitoringDashboardExportView(PlanScopedMixin, APIView):
    """Start an Excel export of the monitoring dashboard (one sheet per table); poll the job it returns."""

    write_need = Permission.VIEW

    @extend_schema(request=MonitoringDashboardExportSerializer, responses={202: JobSerializer})
    def post(self, request: Any, plan_id: int) -> Response:
        body = MonitoringDashboardExportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job = job_create(
            kind=MonitoringJob.MONITORING_DASHBOARD_EXPORT,
            by=request.user,
            plan=self.plan,
            params={name: str(value) for name, value in body.validated_data.items()},
        )
        return job_accepted(job, request)


# (prefix, viewset, basename) for the router; plain routes in urlpatterns.
routes: list = []
urlpatterns: list[URLPattern] = [
    path(
        "plans/<int:plan_id>/monitoring-dashboard/", MonitoringDashboardView.as_view(), name="api-monitoring-dashboard"
    ),
    path(
        "plans/<int:plan_id>/monitoring-dashboard/export/",
        MonitoringDashboardExportView.as_view(),
        name="api-monitoring-dashboard-export",
    ),
]
