"""API endpoints of guidance: a plan's guidance (its national guidance, its national plan's for a provincial plan,
and WHO's documents its activities cite), and the secretariat's national guidance added, changed and removed."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Case, F, IntegerField, Prefetch, QuerySet, Value, When
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, viewsets

from naphs.api import ModelSerializer, VersionField, related_queryset, require_version
from planning.guidance import guidance_create, guidance_delete, guidance_ids_for, guidance_update
from planning.models import GUIDANCE_TYPE_RANK, Activity, GuidanceDocument, GuidanceKind, Plan
from planning.selectors import technical_areas_of
from stakeholders.access import PlanScopedMixin


class GuidanceKindField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("choices", GuidanceKind.choices)
        kwargs.setdefault("help_text", _("“who”: from WHO's reference library; “national”: added by a plan."))
        super().__init__(**kwargs)


class GuidanceBriefSerializer(serializers.ModelSerializer):
    """A guidance document as an activity lists it: what it is and where it opens."""

    kind = GuidanceKindField(source="kind_code", read_only=True)

    class Meta:
        model = GuidanceDocument
        fields = ["id", "kind", "reference_type", "title", "link", "author", "date", "relevant_pages"]
        read_only_fields = fields


class GuidanceSerializer(ModelSerializer):
    """A guidance document. WHO's (`kind` "who", `plan` null) are read-only; national guidance is the plan's
    secretariat's: `technical_areas` of the plan's framework and `activities` of the plan (ids); `version` is
    required to change one."""

    kind = GuidanceKindField(source="kind_code", read_only=True)
    year = serializers.CharField(read_only=True, help_text=_("The year of its date, as published."))
    version = VersionField(required=False)

    class Meta:
        model = GuidanceDocument
        fields = [
            "id",
            "kind",
            "plan",
            "title",
            "reference_type",
            "link",
            "description",
            "author",
            "date",
            "year",
            "relevant_pages",
            "technical_area_name",
            "technical_areas",
            "activities",
            "actions",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["plan", "technical_area_name", "actions", "created_at", "updated_at"]
        extra_kwargs = {"link": {"help_text": _("Where the document opens: an http:// or https:// address.")}}
        validators: list[Any] = []

    def get_fields(self):
        fields = super().get_fields()
        plan = getattr(self.context.get("view"), "plan", None)
        if plan is not None:
            related_queryset(fields, "technical_areas", technical_areas_of(plan))
            related_queryset(fields, "activities", Activity.objects.filter(plan=plan))
            for name, message in (
                ("technical_areas", gettext("Technical area {pk_value} is not an area of this plan's framework.")),
                ("activities", gettext("Activity {pk_value} is not an activity of this plan.")),
            ):
                field = fields[name]
                if isinstance(field, serializers.ManyRelatedField):
                    field.child_relation.error_messages["does_not_exist"] = message
        return fields


def guidance_queryset(plan: Plan) -> QuerySet[GuidanceDocument]:
    """What a plan's members read: WHO's documents its activities cite first (tools, then guidelines, then the
    rest), then national guidance; the activities shown are this plan's only."""
    rank = Case(
        *(When(reference_type=code, then=Value(position)) for code, position in GUIDANCE_TYPE_RANK.items()),
        default=Value(len(GUIDANCE_TYPE_RANK)),
        output_field=IntegerField(),
    )
    return (
        GuidanceDocument.objects.filter(pk__in=guidance_ids_for(plan))
        .annotate(type_rank=rank)
        .order_by(F("plan_id").asc(nulls_first=True), "type_rank", "order", "pk")
        .prefetch_related(
            "technical_areas", "actions", Prefetch("activities", queryset=Activity.objects.filter(plan=plan))
        )
    )


class GuidanceViewSet(PlanScopedMixin, viewsets.ModelViewSet):
    """Guidance of one plan. Every member reads it; the secretariat adds, changes and removes the plan's national
    guidance (refused once the plan is endorsed). WHO's documents and a national plan's guidance are read-only
    here."""

    serializer_class = GuidanceSerializer
    lookup_url_kwarg = "guidance_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return GuidanceDocument.objects.none()
        return guidance_queryset(self.plan)

    def get_object(self) -> GuidanceDocument:
        document = self.get_queryset().filter(pk=self.kwargs["guidance_id"]).first()
        if document is None:
            raise Http404(gettext("No such guidance document."))
        if self.request.method not in ("GET", "HEAD", "OPTIONS") and document.plan_id != self.plan.pk:
            raise PermissionDenied(gettext("Only the plan's own national guidance is changed here."))
        if document.plan_id == self.plan.pk:
            document.plan = self.plan
        return document

    def perform_create(self, serializer) -> None:
        data = serializer.validated_data
        data.pop("version", None)
        serializer.instance = guidance_create(plan=self.plan, by=self.request.user, **data)

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        guidance_update(
            document=serializer.instance, by=self.request.user, version=version, **serializer.validated_data
        )

    def perform_destroy(self, instance: GuidanceDocument) -> None:
        guidance_delete(document=instance, by=self.request.user)
