"""Monitoring API: timeliness (7-1-7). A plan's health events with their intervals against the targets (read-only,
computed from the dates), and each event's bottlenecks; a bottleneck's remedial action becomes an activity of the
plan through `bottlenecks/{id}/activity/`.

Every member reads; the secretariat and technical leads write events and bottlenecks, also while the plan is
endorsed. Making an activity needs the right to add activities to its technical area, and is refused with 423 on
an endorsed plan. A change carries the `version` the client last read (409 when stale)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from monitoring.models import Bottleneck, HealthEvent
from monitoring.timeliness import (
    BOTTLENECK_FIELDS,
    EVENT_FIELDS,
    REMEDIAL_SOURCES,
    bottleneck_activity_create,
    bottleneck_create,
    bottleneck_delete,
    bottleneck_update,
    event_intervals,
    event_meets_all,
    events_write_check,
    health_event_create,
    health_event_delete,
    health_event_update,
    health_events_filtered,
)
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
from planning.models import Activity, TechnicalArea
from planning.selectors import technical_areas_of
from stakeholders.access import PlanScopedMixin, area_ids_editable_by, plan_get_for_user
from stakeholders.models import Organization
from stakeholders.selectors import organization_list_for_plan


class IntervalSerializer(serializers.Serializer):
    """One 7-1-7 interval of an event."""

    days = serializers.IntegerField(allow_null=True, help_text=_("Whole days; null while a date is missing."))
    target_days = serializers.IntegerField(help_text=_("The target: at most this many days."))
    met = serializers.BooleanField(allow_null=True, help_text=_("Whether it met the target; null while pending."))


class IntervalsSerializer(serializers.Serializer):
    detection = IntervalSerializer(help_text=_("From emergence to detection (target 7 days)."))
    notification = IntervalSerializer(help_text=_("From detection to notification (target 1 day)."))
    response = IntervalSerializer(help_text=_("From notification to early response completed (target 7 days)."))


class BottleneckSerializer(ModelSerializer):
    """A bottleneck of an event: its stage, what it was, the remedial action, a technical area of the plan's
    framework, and the activity the action became (read-only: see `activity/`)."""

    version = VersionField(required=False)

    class Meta:
        model = Bottleneck
        fields = ["id", "event", "stage", "description", "remedial_action", "technical_area", "activity", "version"]
        read_only_fields = ["event", "activity"]
        validators: list[Any] = []  # the service checks the whole bottleneck

    def get_fields(self):
        fields = super().get_fields()
        plan = getattr(self.context.get("view"), "plan", None)
        if plan is not None and "technical_area" in fields:
            related_queryset(fields, "technical_area", technical_areas_of(plan))
            fields["technical_area"].error_messages["does_not_exist"] = gettext(
                "Technical area {pk_value} is not an area of this plan's framework."
            )
        return fields


class HealthEventSerializer(ModelSerializer):
    """A health event timed against 7-1-7. Dates are ISO dates, each given once it is known: detection not before
    emergence, notification not before detection, response not before notification, none in the future.
    `intervals` and `meets_all` are computed from them."""

    intervals = serializers.SerializerMethodField()
    meets_all = serializers.SerializerMethodField(
        help_text=_("Whether all three targets were met; null while an interval is pending.")
    )
    bottlenecks = BottleneckSerializer(many=True, read_only=True)
    version = VersionField(required=False)

    class Meta:
        model = HealthEvent
        fields = [
            "id",
            "plan",
            *EVENT_FIELDS,
            "intervals",
            "meets_all",
            "bottlenecks",
            "recorded_by",
            "created_at",
            "version",
        ]
        read_only_fields = ["plan", "recorded_by", "created_at"]
        validators: list[Any] = []  # the service checks the whole event

    @extend_schema_field(IntervalsSerializer)
    def get_intervals(self, event: HealthEvent) -> dict[str, Any]:
        return {
            result.key: {"days": result.days, "target_days": result.target_days, "met": result.met}
            for result in event_intervals(event)
        }

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_meets_all(self, event: HealthEvent) -> bool | None:
        return event_meets_all(event)


class RemedialActivitySerializer(Serializer):
    """The activity a remedial action becomes."""

    # A declared field named like DRF's Field.source attribute, which the stubs type as a string.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=[(value, Activity.Source(value).label) for value in REMEDIAL_SOURCES]
    )
    technical_area = serializers.PrimaryKeyRelatedField(queryset=TechnicalArea.objects.none())
    responsible_organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.none(), required=False, allow_null=True
    )
    title = serializers.CharField(max_length=300, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    version = serializers.IntegerField(min_value=1, help_text=_("The bottleneck's version you last read."))

    def get_fields(self):
        fields = super().get_fields()
        plan, membership = self.context.get("plan"), self.context.get("membership")
        if plan is not None and membership is not None:
            editable = area_ids_editable_by(membership)
            areas = technical_areas_of(plan)
            related_queryset(fields, "technical_area", areas if editable is None else areas.filter(pk__in=editable))
            fields["technical_area"].error_messages["does_not_exist"] = gettext(
                "Technical area {pk_value} is not an area of this plan that you may add activities to."
            )
            related_queryset(fields, "responsible_organization", organization_list_for_plan(plan=plan))
            fields["responsible_organization"].error_messages["does_not_exist"] = gettext(
                "Organization {pk_value} is not an organization of %(country)s."
            ) % {"country": plan.jurisdiction.name}
        return fields


class ActivityCreatedSerializer(serializers.Serializer):
    """The activity made, and the bottleneck now linked to it."""

    activity = serializers.IntegerField()
    source = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.source
    bottleneck = BottleneckSerializer()


EVENT_FILTERS = [
    OpenApiParameter("year", int, description="Events that emerged in this year."),
    OpenApiParameter("hazard", str, description="Events of this hazard or disease (any case)."),
]


class _EventsScoped(PlanScopedMixin):
    """Every member reads; writes are checked per operation (events_write_check), so they go on while the plan is
    endorsed."""

    write_need = Permission.VIEW

    def _event(self, event_id: Any) -> HealthEvent:
        event = HealthEvent.objects.filter(plan=self.plan, pk=event_id).first()
        if event is None:
            raise Http404(gettext("No such health event in this plan."))
        event.plan = self.plan
        return event


@extend_schema_view(list=extend_schema(parameters=EVENT_FILTERS), destroy=extend_schema(parameters=[DELETE_VERSION]))
class HealthEventViewSet(_EventsScoped, viewsets.ModelViewSet):
    """Health events of one plan, with their 7-1-7 intervals and bottlenecks."""

    serializer_class = HealthEventSerializer
    lookup_url_kwarg = "event_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return HealthEvent.objects.none()
        return HealthEvent.objects.filter(plan=self.plan).prefetch_related("bottlenecks").order_by("-emerged_on", "-pk")

    def list(self, request, *args, **kwargs):
        params = request.query_params
        errors: dict[str, list[str]] = {}
        year_raw, hazard = params.get("year", ""), params.get("hazard", "")
        year = None
        if year_raw:
            if year_raw.isascii() and year_raw.isdigit() and 1900 <= int(year_raw) <= 2200:
                year = int(year_raw)
            else:
                errors["year"] = [gettext("Send a year as four digits, e.g. 2026.")]
        if errors:
            raise serializers.ValidationError(errors)
        page = self.paginate_queryset(health_events_filtered(self.get_queryset(), year=year, hazard=hazard))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_object(self) -> HealthEvent:
        event = self.get_queryset().filter(pk=self.kwargs["event_id"]).first()
        if event is None:
            raise Http404(gettext("No such health event in this plan."))
        event.plan = self.plan
        return event

    def _fields(self, data: dict) -> dict:
        return {name: value for name, value in data.items() if name in EVENT_FIELDS}

    def perform_create(self, serializer) -> None:
        events_write_check(self.membership)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        event = health_event_create(plan=self.plan, by=self.request.user, fields=self._fields(data))
        serializer.instance = self.get_queryset().get(pk=event.pk)

    def perform_update(self, serializer) -> None:
        events_write_check(self.membership)
        version = require_version(serializer)
        data = dict(serializer.validated_data)
        if not serializer.partial:  # PUT: a date left out is a date not known
            data = {name: data.get(name, "" if name in ("hazard", "place", "notes") else None) for name in EVENT_FIELDS}
        event = health_event_update(
            event=serializer.instance, by=self.request.user, version=version, fields=self._fields(data)
        )
        serializer.instance = self.get_queryset().get(pk=event.pk)

    def perform_destroy(self, instance: HealthEvent) -> None:
        events_write_check(self.membership)
        health_event_delete(event=instance, by=self.request.user, version=delete_version(self.request))


@extend_schema_view(destroy=extend_schema(parameters=[DELETE_VERSION]))
class BottleneckViewSet(_EventsScoped, viewsets.ModelViewSet):
    """The bottlenecks of one health event; `activity/` makes one's remedial action an activity of the plan."""

    serializer_class = BottleneckSerializer
    lookup_url_kwarg = "bottleneck_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not getattr(self, "swagger_fake_view", False):
            self.event = self._event(kwargs["event_id"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Bottleneck.objects.none()
        return Bottleneck.objects.filter(event=self.event).order_by("pk")

    def get_object(self) -> Bottleneck:
        bottleneck = self.get_queryset().filter(pk=self.kwargs["bottleneck_id"]).first()
        if bottleneck is None:
            raise Http404(gettext("No such bottleneck of this event."))
        bottleneck.event = self.event
        return bottleneck

    def _fields(self, data: dict) -> dict:
        return {name: value for name, value in data.items() if name in BOTTLENECK_FIELDS}

    def perform_create(self, serializer) -> None:
        events_write_check(self.membership)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        serializer.instance = bottleneck_create(event=self.event, by=self.request.user, fields=self._fields(data))

    def perform_update(self, serializer) -> None:
        events_write_check(self.membership)
        version = require_version(serializer)
        data = dict(serializer.validated_data)
        if not serializer.partial:
            data.setdefault("remedial_action", "")
            data.setdefault("technical_area", None)
        serializer.instance = bottleneck_update(
            bottleneck=serializer.instance, by=self.request.user, version=version, fields=self._fields(data)
        )

    def perform_destroy(self, instance: Bottleneck) -> None:
        events_write_check(self.membership)
        bottleneck_delete(bottleneck=instance, by=self.request.user, version=delete_version(self.request))

    @extend_schema(
        summary="Make the remedial action an activity of the plan",
        request=RemedialActivitySerializer,
        responses={201: ActivityCreatedSerializer},
    )
    @action(detail=True, methods=["post"])
    def activity(self, request: Request, *args, **kwargs) -> Response:
        # Adding an activity: the secretariat, or a technical lead in the chosen area; 423 on an endorsed plan.
        plan, membership = plan_get_for_user(
            user=self.request.user, plan_id=self.plan.pk, need=Permission.EDIT_ACTIVITIES
        )
        bottleneck = self.get_object()
        body = RemedialActivitySerializer(data=request.data, context={"plan": plan, "membership": membership})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        activity = bottleneck_activity_create(
            bottleneck=bottleneck,
            by=self.request.user,
            version=data["version"],
            source=data["source"],
            technical_area=data["technical_area"],
            responsible_organization=data.get("responsible_organization"),
            title=data.get("title", ""),
            description=data.get("description", ""),
        )
        out = {
            "activity": activity.pk,
            "source": activity.source,
            "bottleneck": BottleneckSerializer(bottleneck, context=self.get_serializer_context()).data,
        }
        return Response(out, status=status.HTTP_201_CREATED)


routes = [
    (r"plans/(?P<plan_id>\d+)/health-events", HealthEventViewSet, "health-event"),
    (r"plans/(?P<plan_id>\d+)/health-events/(?P<event_id>\d+)/bottlenecks", BottleneckViewSet, "bottleneck"),
]
urlpatterns: list = []
