"""Costing API: the Excel workbook round trip. Ask for one's costing workbook (a job), upload it filled (a job
that checks every row and applies all of it or nothing), and follow the upload to its problems or summary."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from costing.models import CostingUpload
from costing.workbook import (
    costing_upload_create,
    costing_workbook_request,
    problem_text,
    uploads_for_user,
    workbook_file_check,
)
from naphs.api import JobSerializer, Serializer, job_accepted
from naphs.permissions import Permission
from stakeholders.access import PlanScopedMixin


class CostingWorkbookView(PlanScopedMixin, APIView):
    """Start your costing workbook: the activities you may cost, one sheet per technical area. Poll the job it
    returns; its download_url gives the file. Reviewers and viewers get 403 (they read costs elsewhere)."""

    write_need = Permission.EDIT_COSTS

    @extend_schema(request=None, responses={202: JobSerializer})
    def post(self, request, plan_id: int) -> Response:
        job = costing_workbook_request(plan=self.plan, by=request.user)
        return job_accepted(job, request)


class UploadProblemSerializer(serializers.Serializer):
    sheet = serializers.CharField(help_text=_("The sheet, as Excel names it; empty for the file as a whole."))
    row = serializers.IntegerField(allow_null=True, help_text=_("The row number, as Excel shows it."))
    column = serializers.CharField(help_text=_("The column's heading."))
    message = serializers.CharField()
    text = serializers.SerializerMethodField(help_text=_("All of it in one line: sheet, row, column: message."))

    def get_text(self, problem: dict) -> str:
        return problem_text(problem)


class UploadConflictSerializer(serializers.Serializer):
    sheet = serializers.CharField()
    row = serializers.IntegerField(allow_null=True)
    line = serializers.IntegerField(allow_null=True, help_text=_("The cost line's id."))
    activity = serializers.IntegerField(allow_null=True, help_text=_("The activity's id."))
    description = serializers.CharField()
    message = serializers.CharField(help_text=_("Who changed the line and when, since the download."))


class UploadActivitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    sheet = serializers.CharField()


class UploadSummarySerializer(serializers.Serializer):
    added = serializers.IntegerField(required=False)
    changed = serializers.IntegerField(required=False)
    removed = serializers.IntegerField(required=False)
    unchanged = serializers.IntegerField(required=False)
    activities = UploadActivitySerializer(many=True, required=False, help_text=_("Activities whose costs changed."))
    problem_count = serializers.IntegerField(required=False)
    conflict_count = serializers.IntegerField(required=False)


class CostingUploadSerializer(serializers.ModelSerializer):
    problems = UploadProblemSerializer(many=True, read_only=True)
    conflicts = UploadConflictSerializer(many=True, read_only=True)
    summary = UploadSummarySerializer(read_only=True)
    job = JobSerializer(read_only=True)

    class Meta:
        model = CostingUpload
        fields = [
            "id",
            "filename",
            "digest",
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


class CostingUploadCreateSerializer(Serializer):
    file = serializers.FileField(help_text=_("The costing workbook downloaded from this plan, filled (.xlsx)."))

    def validate_file(self, file):
        try:
            workbook_file_check(file)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return file


class CostingUploadViewSet(
    PlanScopedMixin, mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Costing workbooks uploaded to the plan: yours (the secretariat sees everyone's). POST a filled workbook
    (multipart, field `file`): 202 with the upload, checked and applied by a background job. Poll the upload:
    `status` becomes applied (see `summary`) or refused (see `problems` and `conflicts`; nothing was saved)."""

    read_need = Permission.EDIT_COSTS
    write_need = Permission.EDIT_COSTS
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = CostingUploadSerializer
    lookup_url_kwarg = "upload_id"
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CostingUpload.objects.none()
        return uploads_for_user(plan=self.plan, membership=self.membership).order_by("-created_at")

    @extend_schema(request=CostingUploadCreateSerializer, responses={202: CostingUploadSerializer})
    def create(self, request, *args, **kwargs) -> Response:
        incoming = CostingUploadCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            upload = costing_upload_create(plan=self.plan, by=request.user, file=incoming.validated_data["file"])
        except DjangoValidationError as error:
            raise serializers.ValidationError({"file": error.messages}) from None
        data = CostingUploadSerializer(upload, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_202_ACCEPTED)


routes = [(r"plans/(?P<plan_id>\d+)/costing/uploads", CostingUploadViewSet, "costing-upload")]
urlpatterns = [
    path("plans/<int:plan_id>/costing/workbook/", CostingWorkbookView.as_view(), name="api-costing-workbook"),
]
