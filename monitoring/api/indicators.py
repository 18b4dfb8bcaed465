"""Monitoring API: the results framework. A plan's M&E indicators (every member reads; the secretariat writes every
one, a technical lead those of their own areas), their targets nested as {year: value}, their actuals per reporting
period, and the import of actuals from a spreadsheet (202 with the job).

Numbers travel as strings (never floats). A change carries the `version` last read and is refused with 409 when
stale; so is an actual's (0 for a period without a value yet). A capacity indicator's baseline, type, area and
targets come from the plan's assessments and targets: sending them is refused.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from monitoring.indicator_forms import SPREADSHEET_TYPES, SPREADSHEET_WHAT, TYPED_KINDS
from monitoring.indicator_services import (
    INDICATOR_FIELDS,
    ActualEntry,
    indicator_actuals_save,
    me_indicator_create,
    me_indicator_delete,
    me_indicator_update,
)
from monitoring.indicators import (
    IndicatorProgress,
    indicator_list_for_plan,
    indicator_progress,
    indicator_writable_by,
    indicators_writer,
)
from monitoring.job_kinds import MonitoringJob
from monitoring.models import MEIndicator, MEIndicatorActual, ReportingPeriod
from naphs.api import (
    DELETE_VERSION,
    DecimalField,
    JobSerializer,
    ModelSerializer,
    Serializer,
    VersionField,
    delete_version,
    job_accepted,
    related_queryset,
    require_version,
)
from naphs.models import Job
from naphs.uploads import upload_create, upload_file_check
from planning.models import Activity
from planning.selectors import technical_areas_of
from stakeholders.access import PlanScopedMixin, signed_in_user


class MEIndicatorSerializer(ModelSerializer):
    """An M&E indicator. `targets` maps each year of the plan to its target ({"2026": "40"}): sent, it replaces
    them all. `baseline`, `target`, `latest` and `on_track` are computed (for a capacity indicator, from the
    plan's assessments and targets; `target` is this year's)."""

    kind = serializers.ChoiceField(choices=TYPED_KINDS, help_text=_("output, outcome or impact"))
    activities = serializers.PrimaryKeyRelatedField(many=True, queryset=Activity.objects.none(), required=False)
    targets = serializers.DictField(
        child=DecimalField(max_digits=18, decimal_places=4),
        required=False,
        write_only=True,  # read back from the indicator's figures (to_representation)
        help_text=_("{year: target}, a year of the plan each."),
    )
    baseline_value = DecimalField(max_digits=18, decimal_places=4, required=False, allow_null=True)
    progress = serializers.SerializerMethodField(help_text=_("baseline, target (this year), latest, on_track"))
    version = VersionField(required=False)

    class Meta:
        model = MEIndicator
        fields = [
            "id",
            "plan",
            "code",
            "name",
            "kind",
            "capacity_indicator",
            "technical_area",
            "activities",
            "definition",
            "unit",
            "data_source",
            "frequency",
            "means_of_verification",
            "baseline_value",
            "baseline_year",
            "targets",
            "progress",
            "version",
        ]
        read_only_fields = ["plan", "capacity_indicator"]
        validators: list[Any] = []  # the service checks the whole indicator

    def get_fields(self):
        fields = super().get_fields()
        plan = getattr(self.context.get("view"), "plan", None)
        if plan is not None:
            related_queryset(fields, "technical_area", technical_areas_of(plan))
            fields["technical_area"].error_messages["does_not_exist"] = gettext(
                "Technical area {pk_value} is not an area of this plan's framework."
            )
            related_queryset(fields, "activities", Activity.objects.filter(plan=plan))
            activities = fields["activities"]
            if isinstance(activities, serializers.ManyRelatedField):
                activities = activities.child_relation
            activities.error_messages["does_not_exist"] = gettext(
                "Activity {pk_value} is not an activity of this plan."
            )
        if isinstance(self.instance, MEIndicator) and self.instance.kind == MEIndicator.Kind.CAPACITY:
            for name in ("kind", "technical_area", "baseline_value", "baseline_year", "targets"):
                fields[name].read_only = True
        return fields

    def to_representation(self, instance: MEIndicator) -> dict[str, Any]:
        data = super().to_representation(instance)
        progress = self._progress(instance)
        data["targets"] = {str(year): f"{value}" for year, value in (progress.targets if progress else {}).items()}
        if instance.kind == MEIndicator.Kind.CAPACITY:
            data["kind"] = instance.kind
        return data

    def _progress(self, indicator: MEIndicator) -> IndicatorProgress | None:
        progress: dict[int, IndicatorProgress] | None = self.context.get("progress")
        if progress is None or indicator.pk not in progress:
            view = self.context.get("view")
            plan = getattr(view, "plan", None)
            if plan is None:
                return None
            progress = indicator_progress([plan.pk])
            self.context["progress"] = progress  # type: ignore[index]
        return progress.get(indicator.pk)

    def get_progress(self, indicator: MEIndicator) -> dict[str, Any] | None:
        progress = self._progress(indicator)
        if progress is None:
            return None
        latest = progress.latest
        return {
            "year": progress.year,
            "baseline": None if progress.baseline is None else f"{progress.baseline}",
            "baseline_year": progress.baseline_year,
            "target": None if progress.target is None else f"{progress.target}",
            "latest": None
            if latest is None
            else {"value": f"{latest.value}", "label": latest.label, "period": latest.period_id},
            "on_track": progress.on_track,
        }


class ActualSerializer(ModelSerializer):
    """An indicator's value for one reporting period. Send `version` 0 for a period without a value yet, else
    the version you last read; `value` null removes the value."""

    period = serializers.PrimaryKeyRelatedField(queryset=ReportingPeriod.objects.none())
    period_label = serializers.CharField(source="period.label", read_only=True)
    value = DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    version = serializers.IntegerField(min_value=0, required=False)

    class Meta:
        model = MEIndicatorActual
        fields = ["period", "period_label", "value", "note", "version", "entered_at"]
        read_only_fields = ["entered_at"]
        validators: list[Any] = []

    def get_fields(self):
        fields = super().get_fields()
        plan = getattr(self.context.get("view"), "plan", None)
        if plan is not None:
            related_queryset(fields, "period", ReportingPeriod.objects.filter(plan=plan))
            fields["period"].error_messages["does_not_exist"] = gettext(
                "Reporting period {pk_value} is not a period of this plan."
            )
        return fields


class ActualsImportSerializer(Serializer):
    file = serializers.FileField(
        help_text=_("Rows of indicator code, period (name or first day), value, note (.xlsx or .csv).")
    )

    def validate_file(self, file):
        try:
            upload_file_check(file, extensions=SPREADSHEET_TYPES, what=SPREADSHEET_WHAT)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return file


FILTERS = [
    OpenApiParameter("kind", str, enum=MEIndicator.Kind.values),
    OpenApiParameter("technical_area", int, description="Technical area id."),
]


@extend_schema_view(list=extend_schema(parameters=FILTERS), destroy=extend_schema(parameters=[DELETE_VERSION]))
class MEIndicatorViewSet(PlanScopedMixin, viewsets.ModelViewSet):
    """The plan's M&E indicators: every member reads them; the secretariat writes every one, a technical lead
    those of their own technical areas (also on an endorsed plan: the results framework is monitored on it)."""

    serializer_class = MEIndicatorSerializer
    write_need = PlanScopedMixin.read_need
    lookup_url_kwarg = "indicator_id"
    lookup_value_regex = r"\d+"
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if getattr(self, "swagger_fake_view", False):
            return
        if request.method not in SAFE_METHODS and not indicators_writer(self.membership):
            raise PermissionDenied(gettext("Only the secretariat and technical leads write the plan's M&E indicators."))

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MEIndicator.objects.none()
        return indicator_list_for_plan(plan=self.plan)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if hasattr(self, "plan") and self.request.method in SAFE_METHODS:
            context["progress"] = indicator_progress([self.plan.pk])
        return context

    def list(self, request, *args, **kwargs):
        queryset = self.get_queryset()
        kind = request.query_params.get("kind")
        if kind:
            if kind not in MEIndicator.Kind.values:
                raise serializers.ValidationError({"kind": [gettext("Not a type of indicator.")]})
            queryset = queryset.filter(kind=kind)
        area = request.query_params.get("technical_area")
        if area:
            if not (area.isascii() and area.isdigit()):
                raise serializers.ValidationError({"technical_area": [gettext("Send the area's id.")]})
            queryset = queryset.filter(technical_area_id=int(area))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_object(self) -> MEIndicator:
        indicator = self.get_queryset().filter(pk=self.kwargs["indicator_id"]).first()
        if indicator is None:
            raise Http404(gettext("No such indicator in this plan."))
        indicator.plan = self.plan
        return indicator

    def _writable_check(self, area_id: int | None) -> None:
        if not indicator_writable_by(membership=self.membership, area_id=area_id):
            raise PermissionDenied(gettext("You write the indicators of your own technical areas only."))

    def perform_create(self, serializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("version", None)
        activities = data.pop("activities", [])
        targets = data.pop("targets", {})
        area = data.get("technical_area")
        self._writable_check(area.pk if area else None)
        indicator = me_indicator_create(
            plan=self.plan, by=self.request.user, fields=_fields(data), activities=activities, targets=targets
        )
        serializer.instance = self.get_queryset().get(pk=indicator.pk)

    def perform_update(self, serializer) -> None:
        indicator: MEIndicator = serializer.instance
        self._writable_check(indicator.technical_area_id)
        version = require_version(serializer)
        data = dict(serializer.validated_data)
        if "technical_area" in data:
            area = data["technical_area"]
            self._writable_check(area.pk if area else None)
        activities = data.pop("activities", None if serializer.partial else [])
        targets = data.pop("targets", None)
        if targets is None and not serializer.partial and indicator.kind != MEIndicator.Kind.CAPACITY:
            targets = {}  # PUT replaces them: none sent, none kept
        me_indicator_update(
            indicator=indicator,
            by=self.request.user,
            version=version,
            fields=_fields(data),
            activities=activities,
            targets=targets,
        )
        serializer.instance = self.get_queryset().get(pk=indicator.pk)

    def perform_destroy(self, instance: MEIndicator) -> None:
        self._writable_check(instance.technical_area_id)
        me_indicator_delete(indicator=instance, by=self.request.user, version=delete_version(self.request))

    @extend_schema(request=ActualSerializer, responses={200: ActualSerializer(many=True)})
    @action(detail=True, methods=["get", "post"], url_path="actuals", url_name="actuals", pagination_class=None)
    def actuals(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """GET: the indicator's values per period. POST one period's value ({period, value, note, version}):
        200 with every value; a capacity indicator's come from the assessments and are refused."""
        indicator = self.get_object()
        if request.method == "POST":
            self._writable_check(indicator.technical_area_id)
            body = ActualSerializer(data=request.data, context=self.get_serializer_context())
            body.is_valid(raise_exception=True)
            data = body.validated_data
            if "version" not in data:
                raise serializers.ValidationError(
                    {"version": [gettext("Send the version you last read (0 for a period without a value yet).")]}
                )
            entry = ActualEntry(
                indicator=indicator, value=data["value"], note=data.get("note", ""), version=data["version"]
            )
            try:
                indicator_actuals_save(
                    plan=self.plan, period=data["period"], by=signed_in_user(request), entries=[entry]
                )
            except DjangoValidationError as error:
                raise serializers.ValidationError({"value": error.messages}) from None
        rows = (
            MEIndicatorActual.objects.filter(indicator=indicator).select_related("period").order_by("period__starts_on")
        )
        return Response(ActualSerializer(rows, many=True, context=self.get_serializer_context()).data)

    @extend_schema(request=ActualsImportSerializer, responses={202: JobSerializer})
    @action(detail=False, methods=["post"], url_path="import", url_name="import")
    def import_actuals(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Import values from a spreadsheet (multipart, field `file`): 202 with the job, which checks the whole
        file and saves all of it or nothing (its problems, by row and column, on the job's upload)."""
        body = ActualsImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            upload = upload_create(
                kind=MonitoringJob.INDICATOR_ACTUALS_IMPORT,
                by=signed_in_user(request),
                plan=self.plan,
                file=body.validated_data["file"],
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError({"file": error.messages}) from None
        job = Job.objects.get(pk=upload.job_id or 0)
        return job_accepted(job, request)


def _fields(data: dict) -> dict:
    return {name: value for name, value in data.items() if name in INDICATOR_FIELDS}


routes = [(r"plans/(?P<plan_id>\d+)/me-indicators", MEIndicatorViewSet, "me-indicator")]
urlpatterns: list = []
