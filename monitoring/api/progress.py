"""Monitoring API: progress. Reports on activities per reporting period, and their evidence.

Every member reads a plan's reports; focal points report on their organization's activities, technical leads on
their areas', the secretariat on every one. A report is created once per activity and period (a second one is a
conflict, 409: someone reported meanwhile) and changed with the `version` last read. Amounts travel as strings.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from costing.models import MAX_AMOUNT
from costing.services import Rates
from monitoring.evidence import evidence_add, evidence_deletable_by, evidence_delete, evidence_response
from monitoring.models import ProgressEvidence, ProgressStatus, ProgressUpdate, ReportingPeriod
from monitoring.progress import Report, progress_save
from monitoring.progress_selectors import progress_list_for_plan
from naphs.api import (
    DecimalField,
    ModelSerializer,
    PrimaryKeyRelatedField,
    VersionField,
    related_queryset,
    require_version,
)
from naphs.forms import whole_number
from naphs.permissions import Permission
from planning.models import Activity
from stakeholders.access import PlanScopedMixin, activity_get_for_user
from stakeholders.models import PlanMembership

PERCENT_MESSAGE = _("Percent complete is a whole number from 0 to 100.")


class ProgressUpdateSerializer(ModelSerializer):
    """A report on one activity for one reporting period. `activity` and `period` are set when it is created;
    a completed activity is 100% complete; an amount spent in another currency than the plan's needs the
    plan's rate for the period's year, and is converted at it (`amount_spent_base`)."""

    activity = PrimaryKeyRelatedField(queryset=Activity.objects.none())
    period = PrimaryKeyRelatedField(queryset=ReportingPeriod.objects.none())
    status = serializers.ChoiceField(choices=ProgressStatus.choices)
    percent_complete = serializers.IntegerField(
        min_value=0,
        max_value=100,
        error_messages={"min_value": PERCENT_MESSAGE, "max_value": PERCENT_MESSAGE, "invalid": PERCENT_MESSAGE},
    )
    amount_spent = DecimalField(
        max_digits=18,
        decimal_places=2,
        min_value=0,
        max_value=MAX_AMOUNT,
        required=False,
        allow_null=True,
        help_text=_("Spent in the period, in `currency`, as a string; null when nothing was spent or it is unknown."),
    )
    currency = serializers.CharField(
        max_length=3,
        required=False,
        allow_blank=True,
        help_text=_("ISO 4217 code of the amount; the plan's base currency when left out."),
    )
    amount_spent_base = serializers.DecimalField(
        max_digits=18, decimal_places=2, read_only=True, allow_null=True, coerce_to_string=True
    )
    base_currency = serializers.SerializerMethodField(help_text=_("The plan's base currency."))
    evidence_count = serializers.IntegerField(read_only=True, help_text=_("Files and links of evidence."))
    version = VersionField(required=False)

    class Meta:
        model = ProgressUpdate
        fields = [
            "id",
            "plan",
            "activity",
            "period",
            "status",
            "percent_complete",
            "amount_spent",
            "currency",
            "amount_spent_base",
            "base_currency",
            "narrative",
            "blockers",
            "reported_by",
            "reported_at",
            "evidence_count",
            "version",
        ]
        read_only_fields = ["plan", "reported_by", "reported_at"]
        create_only_fields = ["activity", "period"]
        validators: list[Any] = []  # monitoring.progress checks the whole report

    def get_fields(self):
        fields = super().get_fields()
        plan = getattr(self.context.get("view"), "plan", None)
        if plan is not None:
            related_queryset(fields, "activity", Activity.objects.filter(plan=plan))
            fields["activity"].error_messages["does_not_exist"] = gettext(
                "Activity {pk_value} is not an activity of this plan."
            )
            related_queryset(fields, "period", ReportingPeriod.objects.filter(plan=plan))
            fields["period"].error_messages["does_not_exist"] = gettext(
                "Reporting period {pk_value} is not a reporting period of this plan."
            )
        return fields

    def get_base_currency(self, update: ProgressUpdate) -> str | None:
        rates = self.context.get("rates")
        return rates.base if rates else None


def _id_filter(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    value = whole_number(raw)
    if value is None:
        raise serializers.ValidationError({name: [gettext("Give the id as a whole number.")]})
    return value


ID = {"type": "integer", "minimum": 1, "maximum": 2147483647}
FILTERS = [
    OpenApiParameter("period", ID, description="Reporting period id."),
    OpenApiParameter("activity", ID, description="Activity id."),
    OpenApiParameter("area", ID, description="Technical area id of the activities."),
]


def _reportable(view: PlanScopedMixin, activity_id: int) -> tuple[Activity, PlanMembership]:
    """The activity, once the person may report on it: 403 with the reason otherwise."""
    activity, membership = activity_get_for_user(
        user=view.request.user, plan_id=view.plan.pk, activity_id=activity_id, need=Permission.REPORT_PROGRESS
    )
    return activity, membership


@extend_schema_view(list=extend_schema(parameters=FILTERS))
class ProgressUpdateViewSet(PlanScopedMixin, viewsets.ModelViewSet):
    """Progress reports of one plan: every member reads them (filter by period, activity, technical area);
    those who report on an activity create its report for an open period, and correct it with its version."""

    serializer_class = ProgressUpdateSerializer
    lookup_url_kwarg = "progress_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    write_need = Permission.REPORT_PROGRESS

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProgressUpdate.objects.none()
        return progress_list_for_plan(self.plan)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if hasattr(self, "plan"):
            if not hasattr(self, "rates"):
                self.rates = Rates.for_plan(self.plan)
            context["rates"] = self.rates
        return context

    def list(self, request, *args, **kwargs):
        reports = self.get_queryset()
        if (period := _id_filter(request, "period")) is not None:
            reports = reports.filter(period_id=period)
        if (activity := _id_filter(request, "activity")) is not None:
            reports = reports.filter(activity_id=activity)
        if (area := _id_filter(request, "area")) is not None:
            reports = reports.filter(activity__technical_area_id=area)
        page = self.paginate_queryset(reports)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_object(self) -> ProgressUpdate:
        report = self.get_queryset().filter(pk=self.kwargs["progress_id"]).first()
        if report is None:
            raise Http404(gettext("No such progress report in this plan."))
        report.plan = self.plan
        return report

    def _save(self, *, activity: Activity, period: ReportingPeriod, version: int, report: Report) -> ProgressUpdate:
        activity.plan = self.plan
        saved, _changes = progress_save(
            activity=activity, period=period, by=self.request.user, version=version, report=report, rates=self.rates
        )
        return progress_list_for_plan(self.plan).get(pk=saved.pk)

    def perform_create(self, serializer) -> None:
        data = serializer.validated_data
        activity, _membership = _reportable(self, data["activity"].pk)
        self.get_serializer_context()
        serializer.instance = self._save(activity=activity, period=data["period"], version=0, report=_report(data))

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        current: ProgressUpdate = serializer.instance
        activity, _membership = _reportable(self, current.activity_id)
        values = {
            "status": current.status,
            "percent_complete": current.percent_complete,
            "amount_spent": current.amount_spent,
            "currency": current.currency,
            "narrative": current.narrative,
            "blockers": current.blockers,
        }
        if not serializer.partial:  # PUT replaces the report: what is left out is blank
            values.update(amount_spent=None, currency="", narrative="", blockers="")
        values.update(serializer.validated_data)
        self.get_serializer_context()
        serializer.instance = self._save(
            activity=activity, period=current.period, version=version, report=_report(values)
        )


def _report(values: dict[str, Any]) -> Report:
    return Report(
        status=values["status"],
        percent_complete=values["percent_complete"],
        amount_spent=values.get("amount_spent"),
        currency=values.get("currency") or "",
        narrative=values.get("narrative") or "",
        blockers=values.get("blockers") or "",
    )


class ProgressEvidenceSerializer(ModelSerializer):
    """Evidence of a report: a `file` (multipart: PDF, PNG, JPEG, DOCX, XLSX, PPTX, CSV or TXT, checked for being
    what its name says) or a `link` (http or https), one of the two, with a description."""

    file = serializers.FileField(write_only=True, required=False, help_text=_("The file (multipart only)."))
    link = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    download_url = serializers.SerializerMethodField(help_text=_("Where the file is downloaded; null for a link."))

    class Meta:
        model = ProgressEvidence
        fields = [
            "id",
            "update",
            "file",
            "file_name",
            "content_type",
            "size",
            "link",
            "description",
            "added_by",
            "added_at",
            "download_url",
        ]
        read_only_fields = ["update", "file_name", "content_type", "size", "added_by", "added_at"]
        validators: list[Any] = []

    def get_download_url(self, evidence: ProgressEvidence) -> str | None:
        if not evidence.file:
            return None
        request = self.context.get("request")
        path = f"/api/plans/{evidence.update.plan_id}/progress/{evidence.update_id}/evidence/{evidence.pk}/file/"
        return request.build_absolute_uri(path) if request is not None else path


class ProgressEvidenceViewSet(
    PlanScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Evidence of one progress report: every member reads it and downloads its files; whoever reports on the
    activity adds files or links while the period is open, and deletes what they added (the secretariat any)."""

    serializer_class = ProgressEvidenceSerializer
    lookup_url_kwarg = "evidence_id"
    lookup_value_regex = r"\d+"
    write_need = Permission.REPORT_PROGRESS
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    pagination_class = None

    def _update(self) -> ProgressUpdate:
        if not hasattr(self, "_report"):
            report = progress_list_for_plan(self.plan).filter(pk=self.kwargs["progress_id"]).first()
            if report is None:
                raise Http404(gettext("No such progress report in this plan."))
            report.plan = self.plan
            self._report = report
        return self._report

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProgressEvidence.objects.none()
        return ProgressEvidence.objects.filter(update=self._update()).select_related("update").order_by("pk")

    def get_object(self) -> ProgressEvidence:
        evidence = self.get_queryset().filter(pk=self.kwargs["evidence_id"]).first()
        if evidence is None:
            raise Http404(gettext("No such evidence on this report."))
        evidence.update = self._update()
        return evidence

    @extend_schema(
        request={"multipart/form-data": ProgressEvidenceSerializer, "application/json": ProgressEvidenceSerializer},
        responses={201: ProgressEvidenceSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        update = self._update()
        _reportable(self, update.activity_id)
        data = serializer.validated_data
        evidence = evidence_add(
            update=update,
            by=request.user,
            file=data.get("file"),
            link=data.get("link") or "",
            description=data.get("description") or "",
        )
        evidence.update = update
        return Response(self.get_serializer(evidence).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ProgressEvidence) -> None:
        _activity, membership = _reportable(self, instance.update.activity_id)
        if not evidence_deletable_by(membership=membership, evidence=instance):
            raise PermissionDenied(gettext("Evidence is deleted by whoever added it, or by the secretariat."))
        evidence_delete(evidence=instance, by=self.request.user)

    @extend_schema(
        summary="Download an evidence file", responses={(200, "application/octet-stream"): OpenApiTypes.BINARY}
    )
    @action(detail=True, methods=["get"])
    def file(self, request: Request, *args, **kwargs) -> FileResponse:
        return evidence_response(self.get_object())


routes = [
    (r"plans/(?P<plan_id>\d+)/progress", ProgressUpdateViewSet, "progress-update"),
    (r"plans/(?P<plan_id>\d+)/progress/(?P<progress_id>\d+)/evidence", ProgressEvidenceViewSet, "progress-evidence"),
]
urlpatterns: list = []
