"""What every API endpoint shares: error translation, plan-scoped access, and the jobs endpoints."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from naphs.access import job_get_for_user, jobs_for_user, membership_get_for_user
from naphs.errors import EditConflict, JobLimitReached
from naphs.models import Job
from naphs.permissions import Permission

NON_FIELD_ERRORS = api_settings.NON_FIELD_ERRORS_KEY


def exception_handler(exc, context):
    """Services raise Django's ValidationError and EditConflict; the API answers 400 and 409. Too many requests
    (throttled, sign-in paused, too many jobs) answer 429 with a detail and a code."""
    if isinstance(exc, DjangoValidationError):
        detail = dict(exc.message_dict) if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
        if "__all__" in detail:  # Django's key for errors of no field; DRF clients expect DRF's
            detail[NON_FIELD_ERRORS] = detail.pop("__all__")
        exc = ValidationError(detail=detail)
    elif isinstance(exc, EditConflict):
        return Response({"detail": str(exc), "code": "edit_conflict"}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, ProtectedError):
        return Response(
            {"detail": "Other records still refer to this one; it cannot be deleted.", "code": "protected"},
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, JobLimitReached):
        return Response({"detail": str(exc), "code": "job_limit"}, status=status.HTTP_429_TOO_MANY_REQUESTS)
    response = drf_exception_handler(exc, context)
    if isinstance(exc, APIException) and exc.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        response.data = {"detail": str(exc.detail), "code": exc.get_codes()}  # Retry-After is set already
    return response


class VersionField(serializers.IntegerField):
    """The version the client last read; required on every change, so a stale edit is refused with 409."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("help_text", "The version you last read. A change based on an older version gets 409.")
        super().__init__(**kwargs)


def require_version(serializer: serializers.Serializer) -> int:
    version = serializer.validated_data.pop("version", None)
    if version is None:
        raise ValidationError({"version": ["Send the version you last read, to detect conflicting edits."]})
    return version


class PlanScopedMixin:
    """For endpoints under /api/plans/{plan_id}/: reading needs `read_need`, writing `write_need`.

    The plan is resolved through the access helper before anything else: 404 for non-members, 403 for
    members whose role lacks the right.
    """

    read_need = Permission.VIEW
    write_need = Permission.MANAGE

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        need = self.read_need if request.method in SAFE_METHODS else self.write_need
        if getattr(self, "swagger_fake_view", False):
            return
        self.membership = membership_get_for_user(user=request.user, plan_id=kwargs["plan_id"], need=need)
        self.plan = self.membership.plan


class JobSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "plan",
            "status",
            "progress",
            "message",
            "created_at",
            "started_at",
            "finished_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, job: Job) -> str | None:
        if job.status != Job.Status.SUCCEEDED or not job.result:
            return None
        return reverse("job_download", kwargs={"job_id": job.pk}, request=self.context.get("request"))


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Background jobs you asked for, newest first."""

    serializer_class = JobSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return jobs_for_user(self.request.user).order_by("-created_at")

    def get_object(self) -> Job:
        return job_get_for_user(user=self.request.user, job_id=self.kwargs["pk"])


def job_accepted(job: Job, request) -> Response:
    return Response(JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


job_accepted_schema = extend_schema(request=None, responses={202: JobSerializer})
