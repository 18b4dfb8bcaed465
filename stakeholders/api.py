"""API endpoints for organizations, plan memberships, invitations and the directory export."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from naphs.api import (
    JobSerializer,
    ModelSerializer,
    Serializer,
    VersionField,
    job_accepted,
    related_queryset,
    require_version,
)
from naphs.models import AuditEvent
from naphs.permissions import Permission, Role
from naphs.services import job_create
from planning.selectors import technical_areas_of
from stakeholders.access import (
    PlanScopedMixin,
    SignedInView,
    jurisdiction_manageable_by,
    jurisdictions_for_user,
    organization_get_for_user,
    organizations_for_user,
)
from stakeholders.forms import AuditFilterForm
from stakeholders.job_kinds import StakeholdersJob
from stakeholders.models import Invitation, Organization, PlanMembership, Sector
from stakeholders.selectors import (
    audit_events_for_plan,
    invitation_list_for_invitee,
    invitation_list_for_plan,
    invitations_addressed_to,
    membership_list_for_plan,
    organization_list_for_plan,
)
from stakeholders.services import (
    InvitationClosed,
    invitation_accept,
    invitation_create,
    invitation_decline,
    invitation_resend,
    invitation_revoke,
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
            related_queryset(fields, "jurisdiction", jurisdictions_for_user(request.user))
        return fields


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("jurisdiction", int, description="Only the organizations of this jurisdiction.")]
    )
)
class OrganizationViewSet(SignedInView, viewsets.ModelViewSet):
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
                raise serializers.ValidationError(
                    {"jurisdiction": [_("“%(value)s” is not a jurisdiction id.") % {"value": jurisdiction}]}
                )
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
            raise PermissionDenied(
                _("Only the secretariat of a plan covering this jurisdiction can add organizations.")
            )
        serializer.instance = organization_create(by=self.request.user, **data)

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        data = serializer.validated_data
        if "jurisdiction" in data and not jurisdiction_manageable_by(
            user=self.request.user, jurisdiction=data["jurisdiction"]
        ):
            raise PermissionDenied(_("You cannot move an organization to a jurisdiction outside your plans."))
        organization_update(organization=serializer.instance, by=self.request.user, version=version, **data)

    def perform_destroy(self, instance: Organization) -> None:
        organization_delete(organization=instance, by=self.request.user)


class PlanRoleFieldsMixin(ModelSerializer):
    """A role's organization and technical areas, chosen among the plan's own (memberships and invitations)."""

    def get_fields(self):
        fields = super().get_fields()
        view = self.context.get("view")
        plan = getattr(view, "plan", None)
        if plan is not None:
            related_queryset(fields, "organization", organization_list_for_plan(plan=plan))
            related_queryset(fields, "technical_areas", technical_areas_of(plan))
        return fields


class MembershipSerializer(PlanRoleFieldsMixin, ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    first_name = serializers.CharField(source="user.first_name", read_only=True)
    last_name = serializers.CharField(source="user.last_name", read_only=True)
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


class MembershipViewSet(PlanScopedMixin, viewsets.ModelViewSet):
    """Members of one plan. Every member reads the list; the secretariat changes roles and removes members.
    People join only by accepting an invitation: see /api/plans/{plan_id}/invitations/."""

    serializer_class = MembershipSerializer
    write_need = Permission.MANAGE  # a plan's team changes while it is endorsed
    lookup_url_kwarg = "membership_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PlanMembership.objects.none()
        return membership_list_for_plan(plan=self.plan)

    def get_object(self) -> PlanMembership:
        membership = get_object_or_404(self.get_queryset(), pk=self.kwargs["membership_id"])
        membership.plan = self.plan
        return membership

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


# Invitations. Creating one answers the same way (201, the same fields, "Invitation sent to <address>") whoever
# the address belongs to; nobody becomes a member until they accept, signed in with the invited address.


class InvitationSerializer(PlanRoleFieldsMixin, ModelSerializer):
    """A pending invitation as the secretariat sees it: the address as typed, never a name."""

    email = serializers.EmailField(help_text=_("The address to invite, as typed; matched ignoring case."))
    invited_by = serializers.CharField(source="invited_by.__str__", read_only=True, allow_null=True, default=None)
    expired = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "organization",
            "technical_areas",
            "status",
            "expired",
            "invited_by",
            "sent_at",
            "expires_at",
            "version",
        ]
        read_only_fields = ["status", "sent_at", "expires_at", "version"]

    def get_expired(self, invitation: Invitation) -> bool:
        return invitation.is_expired


class InvitationSentSerializer(InvitationSerializer):
    detail = serializers.SerializerMethodField(help_text=_("“Invitation sent to <address>”, whoever it is."))

    def get_detail(self, invitation: Invitation) -> str:
        return str(self.context["detail"])

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "detail"]


class InvitationClosedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


BAD_INPUT = "Refused input: each field named, with its messages."


def _closed(closed: InvitationClosed) -> Response:
    return Response({"detail": str(closed), "code": "invitation_closed"}, status=status.HTTP_409_CONFLICT)


@extend_schema_view(
    list=extend_schema(summary="The plan's pending invitations (expired ones included)"),
    destroy=extend_schema(
        summary="Revoke an invitation",
        responses={204: None, 409: OpenApiResponse(InvitationClosedSerializer, "Accepted, declined or revoked.")},
    ),
)
class PlanInvitationViewSet(
    PlanScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Invitations to one plan, for its secretariat. Inviting an address that has a pending invitation refreshes
    it (new offer, link and expiry) instead of adding a second one. DELETE revokes."""

    serializer_class = InvitationSerializer
    read_need = write_need = Permission.MANAGE
    lookup_url_kwarg = "invitation_id"
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        if self.action == "list":
            return invitation_list_for_plan(plan=self.plan)
        return Invitation.objects.filter(plan=self.plan).select_related("organization", "invited_by")

    def get_object(self) -> Invitation:
        invitation = get_object_or_404(self.get_queryset(), pk=self.kwargs["invitation_id"])
        invitation.plan = self.plan
        return invitation

    @extend_schema(
        summary="Invite an address to join the plan",
        request=InvitationSerializer,
        responses={201: InvitationSentSerializer, 400: OpenApiResponse(description=BAD_INPUT)},
    )
    def create(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("role") == Role.FOCAL_POINT and not data.get("organization"):
            raise serializers.ValidationError({"organization": [_("A focal point must be tied to an organization.")]})
        invitation = invitation_create(plan=self.plan, by=request.user, **data)
        detail = _("Invitation sent to %(email)s") % {"email": data["email"]}
        body = InvitationSentSerializer(invitation, context={**self.get_serializer_context(), "detail": detail}).data
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs) -> Response:
        try:
            invitation_revoke(invitation=self.get_object(), by=request.user)
        except InvitationClosed as closed:
            return _closed(closed)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="E-mail the invitation again, with a new link and expiry",
        request=None,
        responses={200: InvitationSerializer, 409: OpenApiResponse(InvitationClosedSerializer)},
    )
    @action(detail=True, methods=["post"])
    def resend(self, request, *args, **kwargs) -> Response:
        try:
            invitation = invitation_resend(invitation=self.get_object(), by=request.user)
        except InvitationClosed as closed:
            return _closed(closed)
        return Response(InvitationSerializer(invitation, context=self.get_serializer_context()).data)


class MyInvitationSerializer(serializers.ModelSerializer):
    """An invitation as its invitee sees it: what they would join, and who asks."""

    plan_title = serializers.CharField(source="plan.title", read_only=True)
    jurisdiction = serializers.CharField(source="plan.jurisdiction.name", read_only=True)
    organization = serializers.CharField(source="organization.__str__", read_only=True, allow_null=True, default=None)
    technical_areas: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    invited_by = serializers.CharField(source="invited_by.__str__", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "plan",
            "plan_title",
            "jurisdiction",
            "role",
            "organization",
            "technical_areas",
            "invited_by",
            "status",
            "expires_at",
            "version",
        ]
        read_only_fields = fields


class InvitationAnswerSerializer(Serializer):
    version = VersionField(help_text=_("The version you last read: an invitation changed since gets 409."))


class InvitationAnsweredSerializer(MyInvitationSerializer):
    detail = serializers.SerializerMethodField()

    def get_detail(self, invitation: Invitation) -> str:
        return str(self.context["detail"])

    class Meta(MyInvitationSerializer.Meta):
        fields = [*MyInvitationSerializer.Meta.fields, "detail"]
        read_only_fields = fields


@extend_schema_view(list=extend_schema(summary="Your invitations that can still be accepted or declined"))
class MyInvitationViewSet(SignedInView, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Invitations sent to your account's e-mail address. Accepting one makes you a member of its plan (if you
    are one already, your membership stays as it is); declining ends it. Either needs the invitation pending and
    unexpired (409 otherwise); an invitation to another address is not found (404)."""

    serializer_class = MyInvitationSerializer
    lookup_url_kwarg = "invitation_id"
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if self.action == "list":
            return invitation_list_for_invitee(user=self.request.user)
        return invitations_addressed_to(self.request.user)

    def _answered(self, invitation: Invitation, detail: str) -> Response:
        invitation.refresh_from_db()
        context = {**self.get_serializer_context(), "detail": detail}
        return Response(InvitationAnsweredSerializer(invitation, context=context).data)

    @extend_schema(
        summary="Accept the invitation and join its plan",
        request=InvitationAnswerSerializer,
        responses={
            200: InvitationAnsweredSerializer,
            400: OpenApiResponse(description=BAD_INPUT),
            409: OpenApiResponse(InvitationClosedSerializer, "Changed since `version`, answered, revoked or expired."),
        },
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, *args, **kwargs) -> Response:
        invitation = self.get_object()
        body = InvitationAnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            joined = invitation_accept(invitation=invitation, user=request.user, version=body.validated_data["version"])
        except InvitationClosed as closed:
            return _closed(closed)
        values = {"plan": invitation.plan.title, "role": joined.membership.get_role_display()}
        if joined.already_member:
            # Translators: %(role)s is a role's label (e.g. “Focal point”), put in as it is.
            detail = _("You were already a member of “%(plan)s”; your role is unchanged: %(role)s.") % values
        else:
            # Translators: %(role)s is a role's label (e.g. “Focal point”), put in as it is.
            detail = _("Welcome to “%(plan)s”. Your role in this plan: %(role)s.") % values
        return self._answered(invitation, detail)

    @extend_schema(
        summary="Decline the invitation",
        request=None,
        responses={200: InvitationAnsweredSerializer, 409: OpenApiResponse(InvitationClosedSerializer)},
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, *args, **kwargs) -> Response:
        invitation = self.get_object()
        try:
            invitation_decline(invitation=invitation, user=request.user)
        except InvitationClosed as closed:
            return _closed(closed)
        return self._answered(
            invitation, _("You declined the invitation to “%(plan)s”.") % {"plan": invitation.plan.title}
        )


class DirectoryExportView(PlanScopedMixin, APIView):
    """Start an Excel export of the plan's directory of members and organizations; poll the job it returns."""

    write_need = Permission.VIEW

    @extend_schema(request=None, responses={202: JobSerializer})
    def post(self, request, plan_id: int) -> Response:
        job = job_create(kind=StakeholdersJob.DIRECTORY_EXPORT, by=request.user, plan=self.plan)
        return job_accepted(job, request)


class AuditEventSerializer(serializers.ModelSerializer):
    """One recorded change, locale-free: `action` is its key (English, as stored), `changes` maps each field to
    [before, after] or to a value that describes the change (a count, a file name)."""

    actor_name = serializers.SerializerMethodField()
    technical_area_code = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "actor_name",
            "action",
            "target_type",
            "target_id",
            "target_repr",
            "technical_area",
            "technical_area_code",
            "changes",
        ]
        read_only_fields = fields

    def get_actor_name(self, event: AuditEvent) -> str:
        return event.actor.get_full_name() or event.actor.get_username() if event.actor is not None else ""

    def get_technical_area_code(self, event: AuditEvent) -> str:
        return event.technical_area.code if event.technical_area is not None else ""


AUDIT_FILTERS = [
    OpenApiParameter("person", int, description="Only the changes of this person (a user id)."),
    OpenApiParameter("kind", str, description="Only changes to this kind of object (`target_type`)."),
    OpenApiParameter("area", int, description="Only changes within this technical area (an id)."),
    OpenApiParameter("since", OpenApiTypes.DATE, description="From this day (inclusive)."),
    OpenApiParameter("until", OpenApiTypes.DATE, description="To this day (inclusive)."),
]


@extend_schema_view(
    list=extend_schema(
        parameters=AUDIT_FILTERS, responses={200: AuditEventSerializer, 400: OpenApiResponse(description=BAD_INPUT)}
    )
)
class AuditEventViewSet(PlanScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The plan's audit trail, newest first, read-only: the secretariat's, like its members and invitations.
    Filters that are not of this plan (a person, an area), unknown kinds or dates the wrong way round: 400."""

    serializer_class = AuditEventSerializer
    read_need = Permission.MANAGE

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        return audit_events_for_plan(plan=self.plan)

    def list(self, request, *args, **kwargs):
        form = AuditFilterForm(request.query_params, plan=self.plan)
        if not form.is_valid():
            raise serializers.ValidationError(form.errors.get_json_data())
        page = self.paginate_queryset(audit_events_for_plan(plan=self.plan, **form.filters()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class AuditExportView(PlanScopedMixin, APIView):
    """Start an Excel export of the plan's audit trail (the same filters as the list, in the body or the query),
    in your language; poll the job it returns."""

    read_need = write_need = Permission.MANAGE

    @extend_schema(
        parameters=AUDIT_FILTERS,
        request=None,
        responses={202: JobSerializer, 400: OpenApiResponse(description=BAD_INPUT)},
    )
    def post(self, request, plan_id: int) -> Response:
        body = request.data.dict() if isinstance(request.data, QueryDict) else request.data
        if not isinstance(body, dict):
            raise serializers.ValidationError({"detail": [_("Send the filters as an object.")]})
        form = AuditFilterForm({**request.query_params.dict(), **body}, plan=self.plan)
        if not form.is_valid():
            raise serializers.ValidationError(form.errors.get_json_data())
        job = job_create(kind=StakeholdersJob.AUDIT_EXPORT, by=request.user, plan=self.plan, params=form.job_params())
        return job_accepted(job, request)
