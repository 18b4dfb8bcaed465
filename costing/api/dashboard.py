"""Costing API: the dashboard's figures (the same as the page, amounts as strings) and their Excel export."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from costing.dashboard import Scenario, Scope, dashboard_get
from costing.job_kinds import CostingJob
from naphs.api import JobSerializer, StrictFieldsMixin, job_accepted
from naphs.permissions import Permission
from naphs.services import job_create
from stakeholders.access import PlanScopedMixin


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=24, decimal_places=2, read_only=True, **kwargs)


class CostingSummaryQuerySerializer(serializers.Serializer):
    scenario = serializers.ChoiceField(
        choices=Scenario.choices,
        default=Scenario.REQUIRED,
        # Translators: "required" and "all" are values of the API; keep them in English.
        help_text=_("required: without optional costs; all: required and optional costs."),
    )
    scope = serializers.ChoiceField(
        choices=Scope.choices,
        default=Scope.PLAN,
        # Translators: "plan" and "national" are values of the API; keep them in English.
        help_text=_("plan: this plan alone; national: this plan with its provincial plans."),
    )

    def validate(self, attrs):
        # A form-style value left empty would read as "not given"; it is a wrong value.
        given = self.initial_data
        blank = [name for name, _field in self.fields.items() if name in given and given[name] == ""]
        if blank:
            raise serializers.ValidationError(
                {name: [gettext("Choose one of the values or leave it out.")] for name in blank}
            )
        return attrs


class CostingSummaryExportSerializer(StrictFieldsMixin, CostingSummaryQuerySerializer):
    """The same choices, as the body of an export: a field it does not name is refused."""


class DashboardAmountsSerializer(serializers.Serializer):
    needed = money(help_text=_("Cost in the scenario."))
    firm = money(help_text=_("Committed and disbursed funding."))
    pledged = money()
    gap = money(help_text=_("Needed minus committed and disbursed."))


class DashboardPlanSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="plan.pk", read_only=True)
    title = serializers.CharField(source="plan.title", read_only=True)
    jurisdiction = serializers.CharField(source="plan.jurisdiction.name", read_only=True)
    currency = serializers.CharField(read_only=True, help_text=_("Empty while the plan has no costing."))
    included = serializers.BooleanField(read_only=True, help_text=_("False for a plan costed in another currency."))
    needed = money(help_text=_("The plan's own cost in the scenario, in its own currency."))
    current = serializers.BooleanField(read_only=True)
    pending_changes = serializers.IntegerField(source="pending", read_only=True)
    computed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    error = serializers.CharField(read_only=True)


class DashboardStateSerializer(serializers.Serializer):
    current = serializers.BooleanField(read_only=True, help_text=_("False while a plan's totals are recomputed."))
    pending_changes = serializers.IntegerField(source="pending", read_only=True)
    since = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text=_("When the stale totals were computed (null if never).")
    )
    computed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    errors = serializers.SerializerMethodField()  # type: ignore[assignment]  # a field named as Serializer.errors

    def get_errors(self, state) -> list[str]:
        return [f"{plan_state.plan.title}: {plan_state.error}" for plan_state in state.errors]


class DashboardYearAmountsSerializer(DashboardAmountsSerializer):
    year = serializers.IntegerField(read_only=True)


class DashboardAreaSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    amounts = DashboardAmountsSerializer(read_only=True)
    years = DashboardYearAmountsSerializer(
        source="cells", many=True, read_only=True, help_text=_("One entry per year.")
    )


class DashboardYearSerializer(serializers.Serializer):
    year = serializers.IntegerField(read_only=True)
    amounts = DashboardAmountsSerializer(read_only=True)


class DashboardShareSerializer(serializers.Serializer):
    key = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]  # a field named as Field.label
    amount = money()


class DashboardSourceSerializer(serializers.Serializer):
    organization = serializers.IntegerField(source="organization_id", read_only=True)
    name = serializers.CharField(read_only=True)
    pledged = money()
    committed = money()
    disbursed = money()
    total = money()


class CostingSummarySerializer(serializers.Serializer):
    plan = serializers.IntegerField(source="plan.pk", read_only=True)
    currency = serializers.CharField(read_only=True)
    scenario = serializers.ChoiceField(choices=Scenario.choices, read_only=True)
    scope = serializers.ChoiceField(choices=Scope.choices, read_only=True)
    state = DashboardStateSerializer(read_only=True)
    plans = DashboardPlanSerializer(many=True, read_only=True, help_text=_("The plans summed: this plan first."))
    excluded = DashboardPlanSerializer(many=True, read_only=True, help_text=_("Provincial plans in another currency."))
    required = money(help_text=_("Required costs, whatever the scenario."))  # type: ignore[assignment]  # as Field.required
    optional = money(help_text=_("Optional costs, whatever the scenario."))
    totals = DashboardAmountsSerializer(read_only=True)
    committed = money()
    disbursed = money()
    years = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    by_area = DashboardAreaSerializer(many=True, read_only=True)
    by_year = DashboardYearSerializer(many=True, read_only=True)
    by_category = DashboardShareSerializer(many=True, read_only=True)
    by_organization = DashboardShareSerializer(many=True, read_only=True)
    by_source = DashboardSourceSerializer(many=True, read_only=True)
    by_status = DashboardShareSerializer(many=True, read_only=True)


class CostingSummaryView(PlanScopedMixin, APIView):
    """The costing dashboard's figures, in the plan's base currency, and whether they are current.

    Every member may read it. When `state.current` is false the totals are being recomputed: they lack
    `state.pending_changes` changes made since `state.since`.
    """

    read_need = Permission.VIEW

    @extend_schema(parameters=[CostingSummaryQuerySerializer], responses=CostingSummarySerializer)
    def get(self, request, plan_id: int) -> Response:
        query = CostingSummaryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        dashboard = dashboard_get(plan=self.plan, **query.validated_data)
        return Response(CostingSummarySerializer(dashboard).data)


class CostingSummaryExportView(PlanScopedMixin, APIView):
    """Start an Excel export of the costing dashboard (one sheet per table); poll the job it returns."""

    write_need = Permission.VIEW

    @extend_schema(request=CostingSummaryExportSerializer, responses={202: JobSerializer})
    def post(self, request, plan_id: int) -> Response:
        body = CostingSummaryExportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job = job_create(
            kind=CostingJob.COSTING_DASHBOARD_EXPORT,
            by=request.user,
            plan=self.plan,
            params={name: str(value) for name, value in body.validated_data.items()},
        )
        return job_accepted(job, request)


# (prefix, viewset, basename) for the router; plain routes in urlpatterns.
routes: list = []
urlpatterns = [
    path("plans/<int:plan_id>/costing/summary/", CostingSummaryView.as_view(), name="api-costing-summary"),
    path(
        "plans/<int:plan_id>/costing/summary/export/",
        CostingSummaryExportView.as_view(),
        name="api-costing-summary-export",
    ),
]
