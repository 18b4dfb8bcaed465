"""Monitoring API: reporting periods. Every member reads a plan's periods; the secretariat adds, changes and deletes
them, generates them over the plan's years, and opens, closes and reopens them. Every change carries the `version`
the client last read and is refused with 409 when stale; periods go on while the plan is endorsed."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from monitoring.models import ReportingPeriod
from monitoring.periods import (
    DEFAULT_DUE_DAYS,
    MAX_DUE_DAYS,
    PERIOD_FIELDS,
    Span,
    period_close,
    period_create,
    period_delete,
    period_get,
    period_open,
    period_reopen,
    period_update,
    periods_for_plan,
    periods_generate,
)
from naphs.api import DELETE_VERSION, ModelSerializer, Serializer, VersionField, delete_version, require_version
from naphs.permissions import Permission
from stakeholders.access import PlanScopedMixin


class ReportingPeriodSerializer(ModelSerializer):
    """A reporting period: its name, first and last day (inside the plan's years, overlapping no other period), the
    day reports are due (not before it starts), and its state, which moves through the open, close and reopen
    actions only."""

    report_count = serializers.IntegerField(read_only=True, help_text=_("How many progress reports it holds."))
    version = VersionField(required=False)

    class Meta:
        model = ReportingPeriod
        fields = [
            "id",
            "plan",
            "label",
            "starts_on",
            "ends_on",
            "due_on",
            "state",
            "opened_at",
            "closed_at",
            "report_count",
            "version",
        ]
        read_only_fields = ["plan", "state", "opened_at", "closed_at"]
        validators: list[Any] = []  # the service checks the period against the plan's years and other periods


class PeriodGenerateSerializer(Serializer):
    span = serializers.ChoiceField(
        choices=[Span.QUARTER, Span.HALF, Span.YEAR],
        default=Span.QUARTER,
        help_text=_("Calendar quarters, half-years or years over the plan's years."),
    )
    due_days = serializers.IntegerField(
        min_value=0,
        max_value=MAX_DUE_DAYS,
        default=DEFAULT_DUE_DAYS,
        help_text=_("Reports are due this many days after each period ends."),
    )


class PeriodMoveSerializer(Serializer):
    version = VersionField(help_text=_("The version of the period you last read (409 when it changed since)."))


@extend_schema_view(destroy=extend_schema(parameters=[DELETE_VERSION]))
class ReportingPeriodViewSet(PlanScopedMixin, viewsets.ModelViewSet):
    """Reporting periods of one plan, in time order: every member reads them; the secretariat manages them."""

    serializer_class = ReportingPeriodSerializer
    lookup_url_kwarg = "period_id"
    lookup_value_regex = r"\d+"
    write_need = Permission.MANAGE
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[ReportingPeriod]:
        if getattr(self, "swagger_fake_view", False):
            return ReportingPeriod.objects.none()
        return periods_for_plan(plan=self.plan)

    def get_object(self) -> ReportingPeriod:
        return period_get(plan=self.plan, period_id=self.kwargs["period_id"])

    def _answer(self, period_id: int, code: int = status.HTTP_200_OK) -> Response:
        period = period_get(plan=self.plan, period_id=period_id)
        return Response(ReportingPeriodSerializer(period, context=self.get_serializer_context()).data, status=code)

    def perform_create(self, serializer) -> None:
        data = dict(serializer.validated_data)
        period = period_create(plan=self.plan, by=self.request.user, fields=_fields(data))
        serializer.instance = period_get(plan=self.plan, period_id=period.pk)

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        period = period_update(
            period=serializer.instance, by=self.request.user, version=version, fields=_fields(serializer.validated_data)
        )
        serializer.instance = period_get(plan=self.plan, period_id=period.pk)

    def perform_destroy(self, instance: ReportingPeriod) -> None:
        period_delete(period=instance, by=self.request.user, version=delete_version(self.request))

    @extend_schema(
        summary="Generate the plan's reporting periods",
        request=PeriodGenerateSerializer,
        responses={
            201: ReportingPeriodSerializer(many=True),
            200: OpenApiResponse(
                ReportingPeriodSerializer(many=True), description="The plan had them all: none added."
            ),
        },
    )
    @action(detail=False, methods=["post"], pagination_class=None)
    def generate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Add the calendar periods the plan lacks; those it has, and any overlapping them, are kept as they are.
        Answers with the periods added (none when the plan has them all)."""
        body = PeriodGenerateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        added = periods_generate(plan=self.plan, by=self.request.user, **body.validated_data)
        periods = self.get_queryset().filter(pk__in=[period.pk for period in added])
        data = ReportingPeriodSerializer(periods, many=True, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED if added else status.HTTP_200_OK)

    def _move(self, request: Request, move: Any) -> Response:
        period = self.get_object()
        body = PeriodMoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        move(period=period, by=self.request.user, version=body.validated_data["version"])
        return self._answer(period.pk)

    @extend_schema(summary="Open a planned period for reports", request=PeriodMoveSerializer)
    @action(detail=True, methods=["post"])
    def open(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._move(request, period_open)

    @extend_schema(summary="Close an open period: no more reports", request=PeriodMoveSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._move(request, period_close)

    @extend_schema(summary="Reopen a closed period for reports", request=PeriodMoveSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._move(request, period_reopen)


def _fields(data: Any) -> dict[str, Any]:
    """What the service edits, out of the serializer's data."""
    return {name: value for name, value in dict(data).items() if name in PERIOD_FIELDS}


routes = [(r"plans/(?P<plan_id>\d+)/reporting-periods", ReportingPeriodViewSet, "reporting-period")]
urlpatterns: list = []
