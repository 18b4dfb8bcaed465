"""Monitoring API: the progress workbook round trip. Ask for one's progress workbook of an open period (a job),
upload it filled (a job that checks every row and applies all of it or nothing), and follow the upload to its
problems or summary."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring.models import ProgressUpload, ReportingPeriod
from monitoring.progress import period_open_check
from monitoring.workbook import (
    progress_problem_text,
    progress_upload_create,
    progress_workbook_request,
    uploads_for_user,
    workbook_file_check,
)
from naphs.api import JobSerializer, PrimaryKeyRelatedField, Serializer, job_accepted
from naphs.permissions import Permission
from stakeholders.access import PlanScopedMixin


class ProgressWorkbookRequestSerializer(Serializer):
    period = PrimaryKeyRelatedField(
        queryset=ReportingPeriod.objects.none(), help_text=_("An open reporting period of the plan.")
    )

    def __init__(self, *args: Any, plan: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The plan's own periods only: another plan's is "not found" in the field's error.
        self.fields["period"].queryset = ReportingPeriod.objects.filter(plan=plan)  # type: ignore[attr-defined]

    def validate_period(self, period: ReportingPeriod) -> ReportingPeriod:
        try:
            period_open_check(period)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return period


class ProgressWorkbookView(PlanScopedMixin, APIView):
    """Start your progress workbook for an open period: the activities you report on, one row each, with the
    period's reports as they stand. Poll the job it returns; its download_url gives the file. Reviewers and
    viewers get 403."""

    write_need = Permission.REPORT_PROGRESS

    @extend_schema(request=ProgressWorkbookRequestSerializer, responses={202: JobSerializer})
    def post(self, request, plan_id: int) -> Response:
        incoming = ProgressWorkbookRequestSerializer(data=request.data, plan=self.plan)
        incoming.is_valid(raise_exception=True)
        job = progress_workbook_request(plan=self.plan, by=request.user, period=incoming.validated_data["period"])
        return job_accepted(job, request)


class ProgressUploadProblemSerializer(serializers.Serializer):
    sheet = serializers.CharField(help_text=_("The sheet, as Excel names it; empty for the file as a whole."))
    row = serializers.IntegerField(allow_null=True, help_text=_("The row number, as Excel shows it."))
    column = serializers.CharField(help_text=_("The column's heading."))
    message = serializers.CharField()
    text = serializers.SerializerMethodField(help_text=_("All of it in one line: sheet, row, column: message."))

    def get_text(self, problem: dict) -> str:
        return progress_problem_text(problem)


class ProgressUploadConflictSerializer(serializers.Serializer):
    sheet = serializers.CharField()
    row = serializers.IntegerField(allow_null=True)
    activity = serializers.IntegerField(allow_null=True, help_text=_("The activity's id."))
    title = serializers.CharField(help_text=_("The activity's title."))
    message = serializers.CharField(help_text=_("Who reported on the activity and when, since the download."))


class ProgressUploadActivitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class ProgressUploadSummarySerializer(serializers.Serializer):
    period = serializers.CharField(required=False, help_text=_("The reporting period's name."))
    period_id = serializers.IntegerField(required=False)
    added = serializers.IntegerField(required=False)
    changed = serializers.IntegerField(required=False)
    unchanged = serializers.IntegerField(required=False)
    activities = ProgressUploadActivitySerializer(
        many=True, required=False, help_text=_("Activities whose report the upload saved.")
    )
    problem_count = serializers.IntegerField(required=False)
    conflict_count = serializers.IntegerField(required=False)


class ProgressUploadSerializer(serializers.ModelSerializer):
    problems = ProgressUploadProblemSerializer(many=True, read_only=True)
    conflicts = ProgressUploadConflictSerializer(many=True, read_only=True)
    summary = ProgressUploadSummarySerializer(read_only=True)
    job = JobSerializer(read_only=True)

    class Meta:
        model = ProgressUpload
        fields = [
            "id",
            "filename",
            "digest",
            "period",
            "status",
            "problems",
            "conflicts",
            "summary",
            "uploaded_by",
            "created_at",
            "finished_at",
            "job",
        ]
        read_only_fields = fields


class ProgressUploadCreateSerializer(Serializer):
    file = serializers.FileField(help_text=_("The progress workbook downloaded from this plan, filled (.xlsx)."))

    def validate_file(self, file):
        try:
            workbook_file_check(file)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return file


class ProgressUploadViewSet(
    PlanScopedMixin, mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Progress workbooks uploaded to the plan: yours (the secretariat sees everyone's). POST a filled workbook
    (multipart, field `file`): 202 with the upload, checked and applied by a background job. Poll the upload:
    `status` becomes applied (see `summary`) or refused (see `problems` and `conflicts`; nothing was saved)."""

    read_need = Permission.REPORT_PROGRESS
    write_need = Permission.REPORT_PROGRESS
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = ProgressUploadSerializer
    lookup_url_kwarg = "upload_id"
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProgressUpload.objects.none()
        return uploads_for_user(plan=self.plan, membership=self.membership).order_by("-created_at")

    @extend_schema(request=ProgressUploadCreateSerializer, responses={202: ProgressUploadSerializer})
    def create(self, request, *args, **kwargs) -> Response:
        incoming = ProgressUploadCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            upload = progress_upload_create(plan=self.plan, by=request.user, file=incoming.validated_data["file"])
        except DjangoValidationError as error:
            raise serializers.ValidationError({"file": error.messages}) from None
        data = ProgressUploadSerializer(upload, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_202_ACCEPTED)


# (prefix, viewset, basename) for the router; plain routes in urlpatterns.
routes: list = [(r"plans/(?P<plan_id>\d+)/monitoring/uploads", ProgressUploadViewSet, "progress-upload")]
urlpatterns: list[URLPattern] = [
    path("plans/<int:plan_id>/monitoring/workbook/", ProgressWorkbookView.as_view(), name="api-progress-workbook"),
]
