"""API endpoints of endorsement: a plan's endorsements (and their signed documents), endorsing it and reopening it.

Endorsing takes JSON, or multipart with the signed document (a PDF). When threads or a review round are open, it
answers 409 with the code `confirmation_needed` and the warnings; send the same request with `confirm: true`.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from naphs.api import ErrorSerializer, Serializer
from naphs.permissions import Permission
from planning.endorsement import (
    AUTHORITY_MAX,
    REASON_MAX,
    ConfirmationNeeded,
    endorsement_get,
    endorsement_list_for_plan,
    plan_endorse,
    plan_reopen,
)
from planning.endorsement_views import signed_document_response
from planning.models import Endorsement
from stakeholders.access import PlanScopedMixin


class EndorsementSerializer(serializers.ModelSerializer):
    """An endorsement of the plan: version `number` (its stored version `plan_version`), when and by which
    authority it was endorsed, who recorded it, its signed document if any, and whether (when, by whom, why) the
    plan was reopened after it."""

    signed_document_url = serializers.SerializerMethodField()

    class Meta:
        model = Endorsement
        fields = [
            "id",
            "number",
            "plan_version",
            "endorsed_on",
            "authority",
            "endorsed_by",
            "recorded_at",
            "signed_document_url",
            "reopened_by",
            "reopened_at",
            "reopen_reason",
        ]
        read_only_fields = fields

    def get_signed_document_url(self, endorsement: Endorsement) -> str | None:
        if not endorsement.signed_document:
            return None
        path = reverse(
            "endorsement-document", kwargs={"plan_id": endorsement.plan_id, "endorsement_id": endorsement.pk}
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class EndorseSerializer(Serializer):
    endorsed_on = serializers.DateField(help_text=_("The date of endorsement: not in the future."))
    authority = serializers.CharField(
        max_length=AUTHORITY_MAX, help_text=_("Who endorsed the plan, e.g. the Minister of Health.")
    )
    signed_document = serializers.FileField(
        required=False, help_text=_("The signed document, a PDF (send the request as multipart/form-data).")
    )
    confirm = serializers.BooleanField(
        default=False, help_text=_("Endorse although threads or a review round are open (after a 409).")
    )


class ReopenSerializer(Serializer):
    reason = serializers.CharField(max_length=REASON_MAX, help_text=_("Why the plan is reopened as a new draft."))


class ConfirmationSerializer(serializers.Serializer):
    """Threads or a review round are open: nothing was saved; send the request again with `confirm: true`."""

    detail = serializers.CharField()
    code = serializers.CharField(help_text=_("confirmation_needed"))
    warnings = serializers.ListField(child=serializers.CharField())


class EndorsementViewSet(PlanScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The plan's endorsements, the latest first. Every member reads them and downloads their signed documents."""

    serializer_class = EndorsementSerializer
    write_need = Permission.VIEW  # it writes nothing: any other method is refused (405), endorsed plan or not
    lookup_url_kwarg = "endorsement_id"
    lookup_value_regex = r"\d+"
    pagination_class = None

    def get_queryset(self) -> QuerySet[Endorsement]:
        if getattr(self, "swagger_fake_view", False):
            return Endorsement.objects.none()
        return Endorsement.objects.filter(plan=self.plan)

    def list(self, request: Request, *args, **kwargs) -> Response:
        endorsements = endorsement_list_for_plan(self.plan)
        return Response(EndorsementSerializer(endorsements, many=True, context={"request": request}).data)

    def get_object(self) -> Endorsement:
        return endorsement_get(plan=self.plan, endorsement_id=self.kwargs["endorsement_id"])

    @extend_schema(
        summary="Download the signed document (PDF)",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def document(self, request: Request, *args, **kwargs) -> FileResponse:
        return signed_document_response(plan=self.plan, endorsement=self.get_object())


class PlanEndorseView(PlanScopedMixin, APIView):
    """Record the endorsement of the plan's draft (the secretariat lead only): it becomes version N, endorsed and
    read-only for everyone (writes then answer 423, code `plan_endorsed`) until the lead reopens it."""

    read_need = write_need = Permission.ENDORSE
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        summary="Endorse the plan",
        request={"application/json": EndorseSerializer, "multipart/form-data": EndorseSerializer},
        responses={
            201: EndorsementSerializer,
            409: OpenApiResponse(
                ConfirmationSerializer,
                description="Threads or a review round are open (code confirmation_needed, with the warnings): "
                "send confirm: true. Or the plan is endorsed already (code edit_conflict).",
            ),
        },
    )
    def post(self, request: Request, plan_id: int) -> Response:
        body = EndorseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            endorsement = plan_endorse(
                plan=self.plan,
                by=self.membership.user,
                endorsed_on=data["endorsed_on"],
                authority=data["authority"],
                signed_document=data.get("signed_document"),
                confirm=data["confirm"],
            )
        except ConfirmationNeeded as needed:
            answer = {"detail": str(needed), "code": "confirmation_needed", "warnings": needed.warnings.messages()}
            return Response(answer, status=status.HTTP_409_CONFLICT)
        serialized = EndorsementSerializer(endorsement, context={"request": request})
        return Response(serialized.data, status=status.HTTP_201_CREATED)


class PlanReopenView(PlanScopedMixin, APIView):
    """Reopen the endorsed plan as draft N+1, with a reason (the secretariat lead only); version N stays as it was.
    Answers the endorsement, now with who reopened it, when and why."""

    read_need = write_need = Permission.ENDORSE

    @extend_schema(
        summary="Reopen the endorsed plan",
        request=ReopenSerializer,
        responses={200: EndorsementSerializer, 409: ErrorSerializer},
    )
    def post(self, request: Request, plan_id: int) -> Response:
        body = ReopenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        endorsement = plan_reopen(plan=self.plan, by=self.membership.user, reason=body.validated_data["reason"])
        return Response(EndorsementSerializer(endorsement, context={"request": request}).data)
