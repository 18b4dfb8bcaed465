"""Stakeholder engagement API: events. Wired by naphs.api_urls through stakeholders.api_parts.

`/api/plans/{plan_id}/engagement-events/` (filters: kind, year, technical_area), each event's `participants/` (from
the plan's register) and `decisions/`, and its attendance sheet (`attendance-sheet/`: GET the workbook, POST a
filled copy as `file`, multipart). Every member reads; the secretariat writes (also on an endorsed plan). Fields are
strict (an unknown or read-only field is refused), every reference is one the plan may use, and a change carries
the `version` the client last read (409 when stale)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from naphs.api import (
    DELETE_VERSION,
    ModelSerializer,
    Serializer,
    VersionField,
    delete_version,
    related_queryset,
    require_version,
)
from naphs.permissions import Permission
from planning.models import Activity, CommentThread
from planning.selectors import technical_areas_of
from stakeholders.access import PlanScopedMixin
from stakeholders.attendance import (
    XLSX_TYPE,
    AttendanceRefused,
    attendance_file_name,
    attendance_import,
    attendance_sheet,
)
from stakeholders.events import (
    EVENT_FIELDS,
    EVENT_M2M,
    decision_create,
    decision_delete,
    decision_list_for_event,
    decision_update,
    event_create,
    event_delete,
    event_get,
    event_list_for_plan,
    event_update,
    participant_list_for_event,
    participant_remove,
    participant_update,
    participants_add,
    register_for_plan,
)
from stakeholders.models import EngagementEvent, EventDecision, Participant, Person
from stakeholders.selectors import organization_list_for_plan

DECISION_FIELDS = ("text", "activities", "priority_areas", "threads")
AREA_REFUSAL = _("Technical area {pk_value} is not an area of this plan's framework.")


def _refusal(fields: dict[str, Any], name: str, message: str) -> None:
    """The message for an id the list field `name` refuses."""
    field = fields[name]
    child = field.child_relation if isinstance(field, serializers.ManyRelatedField) else field
    child.error_messages["does_not_exist"] = message


class EngagementEventSerializer(ModelSerializer):
    """An engagement event. Dates are ISO dates (the last not before the first); `organizers` are organizations the
    plan may use, `technical_areas` areas of the plan's framework, `activity` one of the plan's; `cost` is in the
    plan's base currency. The counts are read-only."""

    participant_count = serializers.IntegerField(read_only=True)
    invited_count = serializers.IntegerField(read_only=True)
    attended_count = serializers.IntegerField(read_only=True)
    decision_count = serializers.IntegerField(read_only=True)
    version = VersionField(required=False)

    class Meta:
        model = EngagementEvent
        fields = [
            "id",
            "plan",
            *EVENT_FIELDS,
            *EVENT_M2M,
            "cost_answers",
            "participant_count",
            "invited_count",
            "attended_count",
            "decision_count",
            "created_at",
            "version",
        ]
        read_only_fields = ["plan", "cost_answers", "created_at"]
        validators: list[Any] = []  # the service checks the whole event

    def get_fields(self):
        fields = super().get_fields()
        plan = getattr(self.context.get("view"), "plan", None)
        if plan is not None:
            related_queryset(fields, "organizers", organization_list_for_plan(plan=plan))
            _refusal(fields, "organizers", gettext("Organization {pk_value} is not an organization this plan may use."))
            related_queryset(fields, "technical_areas", technical_areas_of(plan))
            _refusal(
                fields, "technical_areas", gettext("Technical area {pk_value} is not an area of this plan's framework.")
            )
            related_queryset(fields, "activity", Activity.objects.filter(plan=plan))
            fields["activity"].error_messages["does_not_exist"] = gettext(
                "Activity {pk_value} is not an activity of this plan."
            )
        return fields


class ParticipantSerializer(ModelSerializer):
    """A participant: a person of the plan's register (set when added), invited, attended (null: not recorded), and
    the organization and sector they came for (the person's when added, kept as they were)."""

    name = serializers.CharField(source="person.name", read_only=True)
    email = serializers.CharField(source="person.email", read_only=True)
    version = VersionField(required=False)

    class Meta:
        model = Participant
        fields = ["id", "event", "person", "name", "email", "invited", "attended", "organization", "sector", "version"]
        read_only_fields = ["event", "organization", "sector"]
        create_only_fields = ["person"]
        validators: list[Any] = []

    def get_fields(self):
        fields = super().get_fields()
        plan = getattr(self.context.get("view"), "plan", None)
        if plan is not None and "person" in fields and not fields["person"].read_only:
            related_queryset(fields, "person", register_for_plan(plan=plan))
            fields["person"].error_messages["does_not_exist"] = gettext(
                "Person {pk_value} is not in this plan's register: add them to the register first."
            )
        return fields


class DecisionSerializer(ModelSerializer):
    """A decision or outcome of the event, linked to activities of the plan, technical areas whose priority it
    changed and comment threads of the plan."""

    version = VersionField(required=False)

    class Meta:
        model = EventDecision
        fields = ["id", "event", "text", "activities", "priority_areas", "threads", "created_at", "version"]
        read_only_fields = ["event", "created_at"]
        validators: list[Any] = []

    def get_fields(self):
        fields = super().get_fields()
        plan = getattr(self.context.get("view"), "plan", None)
        if plan is not None:
            related_queryset(fields, "activities", Activity.objects.filter(plan=plan))
            _refusal(fields, "activities", gettext("Activity {pk_value} is not an activity of this plan."))
            related_queryset(fields, "priority_areas", technical_areas_of(plan))
            _refusal(
                fields, "priority_areas", gettext("Technical area {pk_value} is not an area of this plan's framework.")
            )
            related_queryset(fields, "threads", CommentThread.objects.filter(plan=plan))
            _refusal(fields, "threads", gettext("Comment thread {pk_value} is not a thread of this plan."))
        return fields


class AttendanceUploadSerializer(Serializer):
    file = serializers.FileField(help_text=_("The filled attendance sheet (.xlsx)."))


class AttendanceResultSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    changed = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class _EventsScoped(PlanScopedMixin):
    write_need = Permission.ENGAGE

    def _event(self, engagement_event_id: Any) -> EngagementEvent:
        event = event_get(plan=self.plan, event_id=engagement_event_id)
        if event is None:
            raise Http404(gettext("No such engagement event in this plan."))
        return event


EVENT_FILTERS = [
    OpenApiParameter("kind", str, description="Events of this type."),
    OpenApiParameter("year", int, description="Events that start in this year."),
    OpenApiParameter("technical_area", int, description="Events covering this technical area."),
]


def _number(raw: str, field: str, errors: dict[str, list[str]]) -> int | None:
    if not raw:
        return None
    if raw.isascii() and raw.isdigit():
        return int(raw)
    errors[field] = [gettext("Send a whole number.")]
    return None


@extend_schema_view(list=extend_schema(parameters=EVENT_FILTERS), destroy=extend_schema(parameters=[DELETE_VERSION]))
class EngagementEventViewSet(_EventsScoped, viewsets.ModelViewSet):
    """Engagement events of one plan."""

    serializer_class = EngagementEventSerializer
    lookup_url_kwarg = "engagement_event_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return EngagementEvent.objects.none()
        return event_list_for_plan(plan=self.plan).prefetch_related("organizers")

    def list(self, request, *args, **kwargs):
        params, errors = request.query_params, {}
        kind = params.get("kind", "")
        if kind and kind not in EngagementEvent.Kind.values:
            errors["kind"] = [gettext("Choose one of: %(kinds)s.") % {"kinds": ", ".join(EngagementEvent.Kind.values)}]
        year = _number(params.get("year", ""), "year", errors)
        area = _number(params.get("technical_area", ""), "technical_area", errors)
        if errors:
            raise serializers.ValidationError(errors)
        events = event_list_for_plan(plan=self.plan, kind=kind, year=year, area_id=area).prefetch_related("organizers")
        page = self.paginate_queryset(events)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_object(self) -> EngagementEvent:
        event = self.get_queryset().filter(pk=self.kwargs["engagement_event_id"]).first()
        if event is None:
            raise Http404(gettext("No such engagement event in this plan."))
        event.plan = self.plan
        return event

    def _fields(self, data: dict) -> dict:
        return {name: value for name, value in data.items() if name in (*EVENT_FIELDS, *EVENT_M2M)}

    def perform_create(self, serializer) -> None:
        data = dict(serializer.validated_data)
        event = event_create(plan=self.plan, by=self.request.user, fields=self._fields(data))
        serializer.instance = self.get_queryset().get(pk=event.pk)

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        data = dict(serializer.validated_data)
        if not serializer.partial:  # PUT: what is left out is empty
            defaults = {"place": "", "online": False, "online_link": "", "agenda": "", "outcomes": ""}
            defaults |= {"activity": None, "cost": None, "organizers": [], "technical_areas": []}
            data = {**defaults, **data}
        event_update(event=serializer.instance, by=self.request.user, version=version, fields=self._fields(data))
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance: EngagementEvent) -> None:
        event_delete(event=instance, by=self.request.user, version=delete_version(self.request))

    @extend_schema(
        methods=["GET"],
        summary="The attendance sheet (Excel)",
        responses={(200, XLSX_TYPE): OpenApiResponse(description="The workbook.")},
    )
    @extend_schema(
        methods=["POST"],
        summary="Import a filled attendance sheet, all or nothing",
        request={"multipart/form-data": AttendanceUploadSerializer},
        responses={200: AttendanceResultSerializer},
    )
    @action(detail=True, methods=["get", "post"], url_path="attendance-sheet")
    def attendance_sheet(self, request: Request, *args: Any, **kwargs: Any) -> Response | HttpResponse:
        event = self._event(kwargs["engagement_event_id"])
        if request.method in ("GET", "HEAD"):
            response = HttpResponse(attendance_sheet(event=event), content_type=XLSX_TYPE)
            response["Content-Disposition"] = f'attachment; filename="{attendance_file_name(event)}"'
            return response
        body = AttendanceUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        file = body.validated_data["file"]
        if not (file.name or "").lower().endswith(".xlsx"):
            raise serializers.ValidationError({"file": [gettext("Upload an Excel workbook (.xlsx).")]})
        try:
            result = attendance_import(event=event, by=self.request.user, file=file, name=file.name or "")
        except AttendanceRefused as refused:
            return Response(
                {
                    "file": [str(problem) for problem in refused.problems],
                    "unknown": [
                        {"row": name.row, "name": name.name, "organization": name.organization, "email": name.email}
                        for name in refused.unknown
                    ],
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response({"added": result.added, "changed": result.changed, "unchanged": result.unchanged})


class _ChildScoped(_EventsScoped):
    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not getattr(self, "swagger_fake_view", False):
            self.event = self._event(kwargs["engagement_event_id"])


@extend_schema_view(destroy=extend_schema(parameters=[DELETE_VERSION]))
class ParticipantViewSet(_ChildScoped, viewsets.ModelViewSet):
    """The participants of one event, from the plan's register."""

    serializer_class = ParticipantSerializer
    lookup_url_kwarg = "participant_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Participant.objects.none()
        return participant_list_for_event(event=self.event)

    def get_object(self) -> Participant:
        participant = self.get_queryset().filter(pk=self.kwargs["participant_id"]).first()
        if participant is None:
            raise Http404(gettext("No such participant of this event."))
        participant.event = self.event
        return participant

    def perform_create(self, serializer) -> None:
        data = dict(serializer.validated_data)
        person: Person = data["person"]
        (participant,) = participants_add(
            event=self.event,
            by=self.request.user,
            people=[person],
            invited=data.get("invited", True),
            attended=data.get("attended"),
        )
        serializer.instance = self.get_queryset().get(pk=participant.pk)

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        data = {name: value for name, value in serializer.validated_data.items() if name in ("invited", "attended")}
        if not serializer.partial:
            data = {"invited": True, "attended": None, **data}
        participant_update(participant=serializer.instance, by=self.request.user, version=version, fields=data)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance: Participant) -> None:
        participant_remove(participant=instance, by=self.request.user, version=delete_version(self.request))


@extend_schema_view(destroy=extend_schema(parameters=[DELETE_VERSION]))
class DecisionViewSet(_ChildScoped, viewsets.ModelViewSet):
    """The decisions and outcomes of one event."""

    serializer_class = DecisionSerializer
    lookup_url_kwarg = "event_decision_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return EventDecision.objects.none()
        return decision_list_for_event(event=self.event)

    def get_object(self) -> EventDecision:
        decision = self.get_queryset().filter(pk=self.kwargs["event_decision_id"]).first()
        if decision is None:
            raise Http404(gettext("No such decision of this event."))
        decision.event = self.event
        return decision

    def _fields(self, data: dict) -> dict:
        return {
            name: value for name, value in data.items() if name in ("text", "activities", "priority_areas", "threads")
        }

    def perform_create(self, serializer) -> None:
        decision = decision_create(
            event=self.event, by=self.request.user, fields=self._fields(dict(serializer.validated_data))
        )
        serializer.instance = self.get_queryset().get(pk=decision.pk)

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        data = dict(serializer.validated_data)
        if not serializer.partial:
            data = {"activities": [], "priority_areas": [], "threads": [], **data}
        decision_update(decision=serializer.instance, by=self.request.user, version=version, fields=self._fields(data))
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance: EventDecision) -> None:
        decision_delete(decision=instance, by=self.request.user, version=delete_version(self.request))


EVENTS = r"plans/(?P<plan_id>\d+)/engagement-events"

routes: tuple[tuple[str, Any, str], ...] = (
    (EVENTS, EngagementEventViewSet, "engagement-event"),
    (rf"{EVENTS}/(?P<engagement_event_id>\d+)/participants", ParticipantViewSet, "engagement-participant"),
    (rf"{EVENTS}/(?P<engagement_event_id>\d+)/decisions", DecisionViewSet, "engagement-decision"),
)
urlpatterns: list = []
