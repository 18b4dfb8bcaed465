"""API endpoints for organizations, plan memberships and the directory export."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from naphs.access import (
    jurisdiction_manageable_by,
    jurisdictions_for_user,
    organization_get_for_user,
    organizations_for_user,
)
from naphs.api import JobSerializer, ModelSerializer, PlanScopedMixin, VersionField, job_accepted, require_version
from naphs.models import Job
from naphs.permissions import Permission, Role
from naphs.services import job_create
from planning.selectors import technical_areas_of
from stakeholders.models import Organization, PlanMembership, Sector
from stakeholders.selectors import membership_list_for_plan
from stakeholders.services import (
    membership_invite,
    membership_remove,
    membership_update,
    organization_create,
    organization_delete,
    organization_update,
)


class OrganizationSerializer(ModelSerializer):
    sectors = serializers.ListField(child=serializers.ChoiceField(choices=Sector.choices), required=False)
    version = VersionField(required=False)

    class Meta:
        model = Organization
        fields = ["id", "name", "acronym", "kind", "sectors", "jurisdiction", "version"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["jurisdiction"].queryset = jurisdictions_for_user(request.user)
        return fields


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("jurisdiction", int, description="Only the organizations of this jurisdiction.")]
    )
)
class OrganizationViewSet(viewsets.ModelViewSet):
    """Organizations in the countries of your plans. A plan's secretariat adds and changes those of its
    jurisdiction and the jurisdictions below it."""

    serializer_class = OrganizationSerializer
    lookup_url_kwarg = "organization_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        queryset = organizations_for_user(self.request.user).select_related("jurisdiction")
        if jurisdiction := self.request.query_params.get("jurisdiction", "").strip():
            if not (jurisdiction.isascii() and jurisdiction.isdigit()):
                raise serializers.ValidationError({"jurisdiction": [f"“{jurisdiction}” is not a jurisdiction id."]})
            queryset = queryset.filter(jurisdiction_id=jurisdiction)
        return queryset.order_by("name")

    def get_object(self) -> Organization:
        need = Permission.VIEW if self.request.method in ("GET", "HEAD", "OPTIONS") else Permission.MANAGE
        return organization_get_for_user(
            user=self.request.user, organization_id=self.kwargs["organization_id"], need=need
        )

    def perform_create(self, serializer) -> None:
        data = serializer.validated_data
        data.pop("version", None)
        if not jurisdiction_manageable_by(user=self.request.user, jurisdiction=data["jurisdiction"]):
            raise PermissionDenied("Only the secretariat of a plan covering this jurisdiction can add organizations.")
        serializer.instance = organization_create(by=self.request.user, **data)

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        data = serializer.validated_data
        if "jurisdiction" in data and not jurisdiction_manageable_by(
            user=self.request.user, jurisdiction=data["jurisdiction"]
        ):
            raise PermissionDenied("You cannot move an organization to a jurisdiction outside your plans.")
        organization_update(organization=serializer.instance, by=self.request.user, version=version, **data)

    def perform_destroy(self, instance: Organization) -> None:
        organization_delete(organization=instance, by=self.request.user)


class MembershipSerializer(ModelSerializer):
    email = serializers.EmailField(
        source="user.email",
        help_text="An existing account is added; anyone else is invited by e-mail to set a password.",
    )
    first_name = serializers.CharField(source="user.first_name", required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(source="user.last_name", required=False, allow_blank=True, max_length=150)
    name = serializers.CharField(source="user.get_full_name", read_only=True)
    version = VersionField(required=False)

    class Meta:
        model = PlanMembership
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "name",
            "role",
            "organization",
            "technical_areas",
            "version",
            "created_at",
        ]
        read_only_fields = ["created_at"]
        create_only_fields = ["email", "first_name", "last_name"]  # a person's own account, not the plan's

    def get_fields(self):
        fields = super().get_fields()
        view = self.context.get("view")
        plan = getattr(view, "plan", None)
        if plan is not None:
            from stakeholders.selectors import organization_list_for_plan

            fields["organization"].queryset = organization_list_for_plan(plan=plan)
            fields["technical_areas"].child_relation.queryset = technical_areas_of(plan)
        return fields


class MembershipViewSet(PlanScopedMixin, viewsets.ModelViewSet):
    """Members of one plan. Every member reads the list; the secretariat adds, changes and removes."""

    serializer_class = MembershipSerializer
    lookup_url_kwarg = "membership_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PlanMembership.objects.none()
        return membership_list_for_plan(plan=self.plan)

    def get_object(self) -> PlanMembership:
        membership = get_object_or_404(self.get_queryset(), pk=self.kwargs["membership_id"])
        membership.plan = self.plan
        return membership

    def perform_create(self, serializer) -> None:
        data = serializer.validated_data
        user = data.pop("user")
        data.pop("version", None)
        if data.get("role") == Role.FOCAL_POINT and not data.get("organization"):
            raise serializers.ValidationError({"organization": ["A focal point must be tied to an organization."]})
        serializer.instance = membership_invite(
            plan=self.plan,
            by=self.request.user,
            email=user["email"],
            first_name=user.get("first_name", ""),
            last_name=user.get("last_name", ""),
            **data,
        )

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        membership = serializer.instance
        data = serializer.validated_data
        membership_update(
            membership=membership,
            by=self.request.user,
            version=version,
            role=data.get("role", membership.role),
            organization=data.get("organization", membership.organization),
            technical_areas=data.get("technical_areas"),
        )

    def perform_destroy(self, instance: PlanMembership) -> None:
        membership_remove(membership=instance, by=self.request.user)


class DirectoryExportView(PlanScopedMixin, APIView):
    """Start an Excel export of the plan's directory of members and organizations; poll the job it returns."""

    write_need = Permission.VIEW

    @extend_schema(request=None, responses={202: JobSerializer})
    def post(self, request, plan_id: int) -> Response:
        job = job_create(kind=Job.Kind.DIRECTORY_EXPORT, by=request.user, plan=self.plan)
        return job_accepted(job, request)
