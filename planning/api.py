"""API endpoints for jurisdictions and plans."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissions, IsAuthenticated

from naphs.api import ModelSerializer, VersionField, related_queryset, require_version
from naphs.choices import Hazard, Sector
from naphs.permissions import Permission, Role
from planning.activities import activity_create, activity_delete, activity_update
from planning.forms import ActivityFilterForm
from planning.guidance import guidance_for_activities
from planning.guidance_api import GuidanceBriefSerializer
from planning.models import (
    ActionType,
    Activity,
    Framework,
    Indicator,
    Jurisdiction,
    Plan,
    TechnicalArea,
    validate_plan_placement,
)
from planning.selectors import ACTIVITY_SORTS, activity_list_for_plan, disease_choices, technical_areas_of
from planning.services import jurisdiction_create, plan_create, plan_update
from stakeholders.access import (
    PlanScopedMixin,
    SignedInView,
    activity_get_for_user,
    area_editable_by,
    countries_granted_to,
    jurisdictions_for_user,
    plan_get_for_user,
    plans_for_user,
)
from stakeholders.models import PlanMembership
from stakeholders.selectors import organization_list_for_plan


class JurisdictionSerializer(ModelSerializer):
    class Meta:
        model = Jurisdiction
        fields = ["id", "level", "name", "code", "parent", "country"]
        read_only_fields = ["country"]

    def create(self, validated_data):
        return jurisdiction_create(**validated_data)


class JurisdictionViewSet(
    SignedInView, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Countries and the provinces and districts in them. Members read those of their plans' countries;
    administrators (with the model permission) add them."""

    serializer_class = JurisdictionSerializer
    permission_classes = [IsAuthenticated, DjangoModelPermissions]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        user = self.request.user
        queryset = (
            Jurisdiction.objects.all()
            if user.has_perm("planning.view_jurisdiction")
            else (jurisdictions_for_user(user))
        )
        return queryset.order_by("country_id", "level", "name")


class PlanSerializer(ModelSerializer):
    version = VersionField(required=False)
    my_role = serializers.ChoiceField(choices=Role.choices, read_only=True, help_text=_("Your role in this plan."))
    priority_diseases = serializers.ListField(
        child=serializers.CharField(max_length=80),
        required=False,
        help_text=_(
            "Diseases whose benchmark actions join the draft, by the hazard tag of their actions (e.g. cholera): "
            "those the libraries of the plan's framework know."
        ),
    )

    class Meta:
        model = Plan
        fields = [
            "id",
            "title",
            "jurisdiction",
            "kind",
            "first_year",
            "last_year",
            "parent",
            "framework",
            "priority_diseases",
            "status",
            "version",
            "my_role",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "created_at", "updated_at"]
        create_only_fields = ["jurisdiction", "framework"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None:
            # A client names only plans and jurisdictions it may see, or of a country granted to it: anything else
            # "does not exist" (400). Whether it may open a plan there is plan_create's check (403).
            related_queryset(fields, "parent", plans_for_user(user))
            fields["parent"].error_messages["does_not_exist"] = _("Plan {pk_value} is not one of your plans.")
            granted = Jurisdiction.objects.filter(country_id__in=countries_granted_to(user).values("pk"))
            related_queryset(fields, "jurisdiction", jurisdictions_for_user(user) | granted)
            fields["jurisdiction"].error_messages["does_not_exist"] = _(
                gettext("Jurisdiction {pk_value} is not in a country of your plans or a country granted to you.")
            )
        return fields

    def validate(self, attrs):
        if self.instance is None and attrs.get("parent") is not None:
            validate_plan_placement(jurisdiction=attrs["jurisdiction"], parent=attrs["parent"])
        if "priority_diseases" in attrs:
            if self.instance is None:  # a new plan follows JEE 3 unless it names its framework
                framework = attrs.get("framework") or Framework.objects.filter(code="JEE3").first()
            known = dict(disease_choices(plan=self.instance or Plan(framework=framework)))
            unknown = [tag for tag in attrs["priority_diseases"] if tag not in known]
            if unknown or len(set(attrs["priority_diseases"])) < len(attrs["priority_diseases"]):
                raise serializers.ValidationError(
                    {
                        "priority_diseases": gettext(
                            "Name each disease once, among those the libraries of the plan's framework know: %(known)s."
                        )
                        % {"known": ", ".join(known) or "–"}
                    }
                )
        return attrs


class PlanViewSet(
    SignedInView,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Plans you belong to. Changing a plan's settings needs the secretariat; opening a plan needs the
    secretariat of the parent plan, or (for a plan under none) an administrator's grant for the country."""

    serializer_class = PlanSerializer
    lookup_url_kwarg = "plan_id"
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        user = self.request.user
        role = PlanMembership.objects.filter(plan=OuterRef("pk"), user=user).order_by().values("role")[:1]
        return (
            plans_for_user(user)
            .annotate(my_role=Subquery(role))
            .order_by("jurisdiction__country_id", "-first_year", "title")
        )

    def get_object(self) -> Plan:
        need = Permission.VIEW if self.request.method in ("GET", "HEAD", "OPTIONS") else Permission.EDIT_PLAN
        plan, membership = plan_get_for_user(user=self.request.user, plan_id=self.kwargs["plan_id"], need=need)
        plan.my_role = membership.role  # type: ignore[attr-defined]  # as the list's annotation, for the serializer
        return plan

    def perform_create(self, serializer) -> None:
        data = serializer.validated_data
        data.pop("version", None)
        plan = plan_create(by=self.request.user, **data)  # PermissionDenied (403) without the right to open it
        plan.my_role = Role.SECRETARIAT_LEAD  # type: ignore[attr-defined]  # as the list's annotation
        serializer.instance = plan

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        plan_update(plan=serializer.instance, by=self.request.user, version=version, **serializer.validated_data)


# Activities --------------------------------------------------------------------------------------------------


class ActivitySerializer(ModelSerializer):
    """An activity. Technical area, indicators and organizations are ids; `version` is required to change one."""

    sectors = serializers.ListField(child=serializers.ChoiceField(choices=Sector.choices), required=False)
    hazards = serializers.ListField(child=serializers.ChoiceField(choices=Hazard.choices), required=False)
    version = VersionField(required=False)
    guidance = serializers.SerializerMethodField(
        help_text=_(
            "The activity's guidance and tools: WHO's documents of its benchmark action (tools and guidelines "
            "first), then the national guidance tied to the activity or its technical area."
        )
    )

    class Meta:
        model = Activity
        fields = [
            "id",
            "plan",
            "technical_area",
            "indicators",
            "title",
            "description",
            "source",
            "benchmark_action",
            "action_type",
            "responsible_organization",
            "supporting_organizations",
            "implementation_level",
            "start_date",
            "end_date",
            "impact",
            "feasibility",
            "priority",
            "sectors",
            "hazards",
            "status",
            "origin",
            "guidance",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["plan", "benchmark_action", "origin", "created_at", "updated_at"]
        validators: list[Any] = []  # the service validates the whole activity, constraints included

    def get_fields(self):
        fields = super().get_fields()
        plan = getattr(self.context.get("view"), "plan", None)
        if plan is not None:
            # Only what belongs to the plan can be named; anything else "does not exist".
            country = plan.jurisdiction.name
            related_queryset(fields, "technical_area", technical_areas_of(plan))
            related_queryset(fields, "indicators", Indicator.objects.filter(framework=plan.framework_id))
            organizations = organization_list_for_plan(plan=plan)
            related_queryset(fields, "responsible_organization", organizations)
            fields["responsible_organization"].error_messages["does_not_exist"] = gettext(
                "Organization {pk_value} is not an organization of %(country)s."
            ) % {"country": country}
            related_queryset(fields, "supporting_organizations", organizations)
            supporting = fields["supporting_organizations"]
            if isinstance(supporting, serializers.ManyRelatedField):
                supporting.child_relation.error_messages["does_not_exist"] = gettext(
                    "Organization {pk_value} is not an organization of %(country)s."
                ) % {"country": country}
        return fields

    @extend_schema_field(GuidanceBriefSerializer(many=True))
    def get_guidance(self, activity: Activity) -> list[dict[str, Any]]:
        found = self.context.get("guidance")
        if found is None or activity.pk not in found:  # one activity (read, created, changed): its own
            found = guidance_for_activities(plan=activity.plan, activities=[activity])
        return list(GuidanceBriefSerializer(found[activity.pk], many=True).data)


ACTIVITY_FILTERS = [
    OpenApiParameter("technical_area", int, description="Technical area id."),
    OpenApiParameter("priority", str, enum=Activity.Rating.values),
    OpenApiParameter("status", str, enum=Activity.Status.values),
    OpenApiParameter("responsible_organization", int, description="Responsible organization id."),
    OpenApiParameter(
        "no_responsible_organization", bool, description="Only the activities without a responsible organization."
    ),
    OpenApiParameter("action_type", str, enum=ActionType.values),
    OpenApiParameter("source", str, enum=Activity.Source.values),
    OpenApiParameter("q", str, description="Words in the title."),
    OpenApiParameter(
        "sort",
        str,
        enum=[f"{prefix}{key}" for key in ACTIVITY_SORTS for prefix in ("", "-")],
        description="Order by this column; a leading '-' reverses it. By technical area when left out.",
    ),
]


@extend_schema_view(list=extend_schema(parameters=ACTIVITY_FILTERS))
class ActivityViewSet(PlanScopedMixin, viewsets.ModelViewSet):
    """Activities of one plan. Every member reads them, with the activity table's filters; the secretariat
    edits all of them and a technical lead those of their technical areas."""

    serializer_class = ActivitySerializer
    lookup_url_kwarg = "activity_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    write_need = Permission.EDIT_ACTIVITIES

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Activity.objects.none()
        return Activity.objects.filter(plan=self.plan).prefetch_related("indicators", "supporting_organizations")

    def list(self, request, *args, **kwargs):
        form = ActivityFilterForm(request.query_params, plan=self.plan)
        if not form.is_valid():
            raise serializers.ValidationError(form.errors.get_json_data())
        activities = activity_list_for_plan(plan=self.plan, **form.filters())
        page = self.paginate_queryset(activities.prefetch_related("supporting_organizations"))
        activities_shown = list(page) if page is not None else list(activities)
        guidance = guidance_for_activities(plan=self.plan, activities=activities_shown)
        serializer = self.get_serializer(
            activities_shown, many=True, context={**self.get_serializer_context(), "guidance": guidance}
        )
        return self.get_paginated_response(serializer.data)

    def get_object(self) -> Activity:
        need = self.read_need if self.request.method in SAFE_METHODS else self.write_need
        activity = activity_get_for_user(
            user=self.request.user, plan_id=self.plan.pk, activity_id=self.kwargs["activity_id"], need=need
        ).activity
        activity.plan = self.plan
        return activity

    def _check_area(self, area: TechnicalArea | None) -> None:
        if area is not None and not area_editable_by(membership=self.membership, area=area):
            raise PermissionDenied(
                gettext("You edit the activities of your own technical areas only; %(area)s is not one of them.")
                % {"area": area.code}
            )

    def perform_create(self, serializer) -> None:
        data = serializer.validated_data
        data.pop("version", None)
        self._check_area(data.get("technical_area"))
        serializer.instance = activity_create(plan=self.plan, by=self.request.user, **data)

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        self._check_area(serializer.validated_data.get("technical_area"))
        activity_update(
            activity=serializer.instance, by=self.request.user, version=version, **serializer.validated_data
        )

    def perform_destroy(self, instance: Activity) -> None:
        activity_delete(activity=instance, by=self.request.user)
