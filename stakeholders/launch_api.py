"""Stakeholder engagement API: launch. Wired by naphs.api_urls through stakeholders.api_parts.

`GET /api/plans/{plan_id}/launch-checklist/` gives the checklist as it stands (every member); `/launches/` lists
and reads the plan's launches (every member) and launches the endorsed version (`POST`, the secretariat): its date
(today or earlier), an event of the plan, notes, and `confirm`, the keys of the items not met that the secretariat
confirms. A plan that is not endorsed answers 409 with the code `plan_not_endorsed`; unconfirmed items, a future
date, another plan's event and a version launched already answer 400, each naming what is wrong."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from naphs.api import ModelSerializer, related_queryset
from naphs.permissions import Permission
from stakeholders.access import PlanScopedMixin
from stakeholders.launch import PlanNotEndorsed, launch_checklist, launch_events_for_plan, plan_launch, unmet_keys
from stakeholders.models import Launch


class LaunchCheckSerializer(serializers.Serializer):
    """One item of the launch checklist, in the language of the request."""

    key = serializers.CharField(help_text=_("Stable: what `confirm` names when the item is not met."))
    name = serializers.CharField()
    detail = serializers.CharField(help_text=_("What was found."))
    met = serializers.BooleanField()
    url = serializers.CharField(help_text=_("The page where the item is worked on (a path), or empty."))


class LaunchChecklistSerializer(serializers.Serializer):
    items = LaunchCheckSerializer(many=True)
    unmet = serializers.ListField(
        child=serializers.CharField(), help_text=_("The keys a launch must confirm, the items not met.")
    )
    endorsed = serializers.BooleanField(help_text=_("Whether the plan stands at an endorsed version."))
    launched = serializers.BooleanField(help_text=_("Whether the endorsed version the plan stands at is launched."))


class LaunchChecklistItemSerializer(serializers.Serializer):
    """An item of the checklist as it stood at the launch, with what the secretariat confirmed."""

    key = serializers.CharField()
    name = serializers.CharField()
    detail = serializers.CharField()
    met = serializers.BooleanField()
    url = serializers.CharField()
    confirmed = serializers.BooleanField()
    note = serializers.CharField(allow_blank=True)


class OpenedPeriodSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    url = serializers.CharField()
    already_open = serializers.BooleanField(help_text=_("The period was open before the launch: none was opened."))
    generated = serializers.IntegerField(help_text=_("How many periods were set from the plan's quarters first."))


class OpenedSerializer(serializers.Serializer):
    period = OpenedPeriodSerializer(required=False, help_text=_("The reporting period the launch opened."))


class LaunchSerializer(ModelSerializer):
    """The launch of an endorsed version of the plan. `confirm` (write only) lists the keys of the checklist's items
    not met that the secretariat confirms; `checklist` is the checklist as it stood, `opened` what the launch
    opened (the first reporting period)."""

    confirm = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        write_only=True,
        max_length=20,
        help_text=_("The keys of the items not met that you confirm (see launch-checklist)."),
    )
    checklist = LaunchChecklistItemSerializer(many=True, read_only=True)
    opened = OpenedSerializer(read_only=True)

    class Meta:
        model = Launch
        fields = [
            "id",
            "plan",
            "number",
            "launched_on",
            "event",
            "notes",
            "confirm",
            "checklist",
            "opened",
            "launched_by",
            "created_at",
        ]
        read_only_fields = ["plan", "number", "launched_by", "created_at"]
        validators: list[Any] = []  # the service checks the whole launch (one per version)

    def get_fields(self):
        fields = super().get_fields()
        plan = getattr(self.context.get("view"), "plan", None)
        if plan is not None and "event" in fields:
            related_queryset(fields, "event", launch_events_for_plan(plan=plan))
            fields["event"].error_messages["does_not_exist"] = gettext("Event {pk_value} is not an event of this plan.")
        return fields


class LaunchChecklistView(PlanScopedMixin, APIView):
    """The launch checklist of one plan, computed now."""

    @extend_schema(summary="The launch checklist", responses={200: LaunchChecklistSerializer})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        items = launch_checklist(self.plan)
        number = self.plan.endorsed_number
        data = {
            "items": [item.__dict__ for item in items],
            "unmet": unmet_keys(items),
            "endorsed": number is not None,
            "launched": number is not None and Launch.objects.filter(plan=self.plan, number=number).exists(),
        }
        return Response(LaunchChecklistSerializer(data).data)


class LaunchViewSet(
    PlanScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The launches of one plan: every member reads them; the secretariat launches the endorsed version."""

    serializer_class = LaunchSerializer
    write_need = Permission.ENGAGE
    lookup_url_kwarg = "launch_id"
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Launch.objects.none()
        return Launch.objects.filter(plan=self.plan).order_by("-number")

    def get_object(self) -> Launch:
        launch = self.get_queryset().filter(pk=self.kwargs["launch_id"]).first()
        if launch is None:
            raise Http404(gettext("No such launch of this plan."))
        return launch

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            launch = plan_launch(
                plan=self.plan,
                by=self.request.user,
                launched_on=data.get("launched_on"),
                event=data.get("event"),
                notes=data.get("notes", ""),
                confirmed=dict.fromkeys(data.get("confirm", []), ""),
            )
        except PlanNotEndorsed as refusal:
            return Response(
                {"detail": " ".join(refusal.messages), "code": "plan_not_endorsed"}, status=status.HTTP_409_CONFLICT
            )
        out = self.get_serializer(launch)
        return Response(out.data, status=status.HTTP_201_CREATED)


routes = [(r"plans/(?P<plan_id>\d+)/launches", LaunchViewSet, "launch")]
urlpatterns = [
    path("plans/<int:plan_id>/launch-checklist/", LaunchChecklistView.as_view(), name="api-launch-checklist"),
]
