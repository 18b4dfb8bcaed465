"""Costing API: the plan's stored versions (list, save a named one, read one whole) and the comparison of two of
them, or of one with the current draft. Values are locale-free: choice codes, ISO dates, area codes, organization
names, amounts as strings in the plan's base currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from costing.comparison import plan_versions_compare
from costing.versions import plan_version_list
from naphs.api import StrictFieldsMixin
from naphs.permissions import Permission
from planning.models import PlanVersion
from planning.versions import VERSION_LABEL_MAX, plan_version_get, plan_version_save
from stakeholders.access import PlanScopedMixin, plan_writable_check


class PlanVersionSerializer(serializers.ModelSerializer):
    """A stored version's metadata."""

    created_by_name = serializers.SerializerMethodField()

    class Meta:
        model = PlanVersion
        fields = ["id", "kind", "edition", "label", "digest", "created_by", "created_by_name", "created_at"]
        read_only_fields = fields

    def get_created_by_name(self, version: PlanVersion) -> str:
        user = version.created_by
        return (user.get_full_name() or user.get_username()) if user is not None else ""


class PlanVersionDetailSerializer(PlanVersionSerializer):
    """A stored version with its whole content, as it was stored."""

    class Meta(PlanVersionSerializer.Meta):
        fields = [*PlanVersionSerializer.Meta.fields, "content"]
        read_only_fields = fields


class PlanVersionSaveSerializer(StrictFieldsMixin, serializers.Serializer):
    label = serializers.CharField(max_length=VERSION_LABEL_MAX, help_text=_("The version's name."))  # type: ignore[assignment]  # a field named as Field.label


@extend_schema_field(OpenApiTypes.ANY)
class ValueField(serializers.Field):
    """A value of the content as it is, with amounts as strings (never as floats) and years as keys of text."""

    def to_representation(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, dict):
            return {str(key): self.to_representation(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.to_representation(item) for item in value]
        return value


def money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=24, decimal_places=2, read_only=True, **kwargs)


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField(read_only=True)
    before = ValueField(read_only=True)
    after = ValueField(read_only=True)


class RowChangeSerializer(serializers.Serializer):
    kind = serializers.CharField(read_only=True, help_text=_("added, removed or changed"))
    key = ValueField(
        read_only=True,
        help_text=_(
            "What the row is matched by: an id; an indicator's code (targets); [assessment id, indicator code] "
            "(scores); an area's code (priorities, context: empty for the plan's)."
        ),
    )
    before = ValueField(read_only=True, help_text=_("The row before (null if added)."))
    after = ValueField(read_only=True, help_text=_("The row after (null if removed)."))
    fields = FieldChangeSerializer(many=True, read_only=True)  # type: ignore[assignment]  # named as Serializer.fields


class ActivityChangeSerializer(RowChangeSerializer):
    lines = RowChangeSerializer(many=True, read_only=True, help_text=_("Its cost lines added, removed, changed."))
    cost_before = money(allow_null=True, help_text=_("Its required cost lines' total before (null if added)."))
    cost_after = money(allow_null=True, help_text=_("Its required cost lines' total after (null if removed)."))


class GapCellSerializer(serializers.Serializer):
    technical_area = serializers.CharField(read_only=True)
    year = serializers.IntegerField(read_only=True, allow_null=True, help_text=_("Null: every year."))
    required_before = money()
    required_after = money()
    optional_before = money()
    optional_after = money()
    funded_before = money(help_text=_("Committed and disbursed funding."))
    funded_after = money()
    gap_before = money(help_text=_("Required cost minus committed and disbursed funding."))
    gap_after = money()
    gap_difference = money()


class GapAreaSerializer(serializers.Serializer):
    technical_area = serializers.CharField(read_only=True)
    years = GapCellSerializer(source="cells", many=True, read_only=True)
    total = GapCellSerializer(read_only=True)


class SideSerializer(serializers.Serializer):
    ref = serializers.CharField(read_only=True, help_text=_("A version's id, or “draft”."))
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]  # a field named as Field.label
    currency = serializers.CharField(source="content.currency", read_only=True)


class ComparisonSerializer(serializers.Serializer):
    before = SideSerializer(read_only=True)
    after = SideSerializer(read_only=True)
    same = serializers.BooleanField(read_only=True, help_text=_("True when nothing differs."))
    years = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    activities = ActivityChangeSerializer(many=True, read_only=True)
    funding = RowChangeSerializer(many=True, read_only=True)
    targets = RowChangeSerializer(many=True, read_only=True)
    scores = RowChangeSerializer(many=True, read_only=True)
    priorities = RowChangeSerializer(many=True, read_only=True)
    contexts = RowChangeSerializer(many=True, read_only=True)
    gap_known = serializers.BooleanField(
        read_only=True, help_text=_("False when a side was stored without its cost and gap figures.")
    )
    gap = GapAreaSerializer(many=True, read_only=True)
    gap_years = GapCellSerializer(many=True, read_only=True)
    gap_total = GapCellSerializer(read_only=True)


class ComparisonQuerySerializer(serializers.Serializer):
    before = serializers.CharField(help_text=_("A version's id, or “draft” for the current draft."))
    after = serializers.CharField(help_text=_("A version's id, or “draft” for the current draft."))


class PlanVersionListView(PlanScopedMixin, generics.ListCreateAPIView):
    """The plan's stored versions, the endorsed ones first, then the newest first (metadata only; any member).
    POST saves a named version of the current draft (the secretariat; refused with 423 on an endorsed plan, whose
    content is its endorsed version)."""

    read_need = Permission.VIEW
    write_need = Permission.MANAGE
    serializer_class = PlanVersionSerializer

    def get_queryset(self) -> QuerySet[PlanVersion]:
        return plan_version_list(self.plan)

    @extend_schema(request=PlanVersionSaveSerializer, responses={201: PlanVersionSerializer})
    def post(self, request, plan_id: int) -> Response:
        plan_writable_check(self.plan)
        body = PlanVersionSaveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = plan_version_save(plan=self.plan, by=request.user, label=body.validated_data["label"])
        return Response(PlanVersionSerializer(version).data, status=201)


class PlanVersionDetailView(PlanScopedMixin, APIView):
    """One stored version: its metadata and its whole content, as stored (any member). 404 for another plan's."""

    read_need = Permission.VIEW

    @extend_schema(responses=PlanVersionDetailSerializer)
    def get(self, request, plan_id: int, version_id: int) -> Response:
        version = plan_version_get(plan=self.plan, version_id=version_id)
        return Response(PlanVersionDetailSerializer(version).data)


class PlanVersionCompareView(PlanScopedMixin, APIView):
    """Two sides of the plan compared (any member): activities added, removed and changed field by field with their
    cost lines, funding, targets, scores, priorities and context changed, and the cost and gap per technical area
    and year before and after. 404 for a version of another plan."""

    read_need = Permission.VIEW

    @extend_schema(
        parameters=[ComparisonQuerySerializer],
        responses=ComparisonSerializer,
    )
    def get(self, request, plan_id: int) -> Response:
        query = ComparisonQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        comparison = plan_versions_compare(plan=self.plan, **query.validated_data)
        return Response(ComparisonSerializer(comparison).data)


# (prefix, viewset, basename) for the router; plain routes in urlpatterns.
routes: list = []
urlpatterns = [
    path("plans/<int:plan_id>/versions/", PlanVersionListView.as_view(), name="api-plan-versions"),
    path("plans/<int:plan_id>/versions/compare/", PlanVersionCompareView.as_view(), name="api-plan-version-compare"),
    path(
        "plans/<int:plan_id>/versions/<int:version_id>/",
        PlanVersionDetailView.as_view(),
        name="api-plan-version-detail",
    ),
]
