"""API endpoints for jurisdictions and plans."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import DjangoModelPermissions, IsAuthenticated

from naphs.access import jurisdictions_for_user, plan_get_for_user, plans_for_user
from naphs.api import VersionField, require_version
from naphs.permissions import Permission, Role
from planning.models import Jurisdiction, Plan
from planning.services import jurisdiction_create, plan_create, plan_update
from stakeholders.models import PlanMembership


class JurisdictionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Jurisdiction
        fields = ["id", "level", "name", "code", "parent", "country"]
        read_only_fields = ["country"]

    def create(self, validated_data):
        return jurisdiction_create(**validated_data)


class JurisdictionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
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


class PlanSerializer(serializers.ModelSerializer):
    version = VersionField(required=False)
    my_role = serializers.ChoiceField(choices=Role.choices, read_only=True, help_text="Your role in this plan.")

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
            "status",
            "version",
            "my_role",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None:
            # A client can only point at what it may see; anything else is "does not exist".
            fields["parent"].queryset = plans_for_user(user)
            fields["jurisdiction"].queryset = (
                Jurisdiction.objects.all() if user.has_perm("planning.add_plan") else jurisdictions_for_user(user)
            )
        if self.instance is not None:
            fields["jurisdiction"].read_only = True
            fields["framework"].read_only = True
        return fields


class PlanViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Plans you belong to. Changing a plan's settings needs the secretariat; opening a plan needs the
    "add plan" permission (national plans) or the secretariat of the parent plan."""

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
        need = Permission.VIEW if self.request.method in ("GET", "HEAD", "OPTIONS") else Permission.MANAGE
        plan = plan_get_for_user(user=self.request.user, plan_id=self.kwargs["plan_id"], need=need)
        plan.my_role = plan.membership.role
        return plan

    def perform_create(self, serializer) -> None:
        data = serializer.validated_data
        data.pop("version", None)
        parent = data.get("parent")
        if parent is not None:
            plan_get_for_user(user=self.request.user, plan_id=parent.pk, need=Permission.MANAGE)
        elif not self.request.user.has_perm("planning.add_plan"):
            raise PermissionDenied(
                "Only administrators open a national plan; give the parent plan to open one under it."
            )
        plan = plan_create(by=self.request.user, **data)
        plan.my_role = Role.SECRETARIAT_LEAD
        serializer.instance = plan

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        plan_update(plan=serializer.instance, by=self.request.user, version=version, **serializer.validated_data)
