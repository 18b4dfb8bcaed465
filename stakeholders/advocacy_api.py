"""Stakeholder engagement API: advocacy. A plan's advocacy plans: every member reads them, the secretariat writes them
(also while the plan is endorsed). Every reference is one of this plan's: a stakeholder of its map as the audience,
people of its register as messengers, a member of its secretariat as the owner, areas of its framework and its own
activities. An amount asked travels as a string, with `ask_amount_base` (read-only) in the plan's base currency. A
change carries the `version` the client last read (409 when stale). A pledge becomes a funding commitment through
costing's `advocacy/{id}/pledge/`. Wired by naphs.api_urls through stakeholders.api_parts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.request import Request

from naphs.api import (
    DELETE_VERSION,
    DecimalField,
    ModelSerializer,
    VersionField,
    delete_version,
    related_queryset,
    require_version,
)
from naphs.permissions import Permission
from planning.selectors import technical_areas_of
from stakeholders.access import PlanScopedMixin
from stakeholders.advocacy import (
    ADVOCACY_FIELDS,
    activity_choices,
    advocacy_create,
    advocacy_delete,
    advocacy_filtered,
    advocacy_list_for_plan,
    advocacy_update,
    audience_choices,
    messenger_choices,
    owner_choices,
)
from stakeholders.advocacy_forms import AdvocacyFilterForm
from stakeholders.models import MAX_AMOUNT, Advocacy

# Their messages when a reference is not one of this plan's.
REFERENCE_MESSAGES = {
    "audience": _("Stakeholder {pk_value} is not in this plan's stakeholder map."),
    "owner": _("User {pk_value} is not a member of this plan's secretariat."),
    "messengers": _("Person {pk_value} is not in this plan's register."),
    "technical_areas": _("Technical area {pk_value} is not an area of this plan's framework."),
    "activities": _("Activity {pk_value} is not an activity of this plan."),
}
MANY = ("messengers", "technical_areas", "activities")


class AdvocacySerializer(ModelSerializer):
    """An advocacy plan. `audience` (a stakeholder id) or `audience_group` (words), at least one. `ask` is `amount`
    (then `ask_amount` and `ask_currency`, which needs a rate in the plan, are required), `decision` or `policy`
    (then `ask_text`). `starts_on` not after `ends_on`."""

    ask_amount = DecimalField(
        max_digits=18,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MAX_AMOUNT,
        required=False,
        allow_null=True,
        help_text=_("The amount asked, in `ask_currency`, as a string."),
    )
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=Advocacy.Channel.choices), required=False, allow_empty=True
    )
    version = VersionField(required=False)

    class Meta:
        model = Advocacy
        fields = [
            "id",
            "plan",
            *ADVOCACY_FIELDS,
            "ask_amount_base",
            "messengers",
            "technical_areas",
            "activities",
            "funding_commitments",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = ["plan", "ask_amount_base", "funding_commitments", "created_at", "updated_at"]
        validators: list[Any] = []  # the service checks the whole advocacy

    def get_fields(self):
        fields = super().get_fields()
        plan = getattr(self.context.get("view"), "plan", None)
        if plan is not None:
            scoped = {
                "audience": audience_choices(plan),
                "owner": owner_choices(plan),
                "messengers": messenger_choices(plan),
                "technical_areas": technical_areas_of(plan),
                "activities": activity_choices(plan),
            }
            for name, queryset in scoped.items():
                if name not in fields or fields[name].read_only:
                    continue
                related_queryset(fields, name, queryset)
                field = fields[name]
                if isinstance(field, serializers.ManyRelatedField):
                    field = field.child_relation
                field.error_messages["does_not_exist"] = str(REFERENCE_MESSAGES[name])
        return fields


ADVOCACY_FILTERS = [
    OpenApiParameter("status", str, enum=Advocacy.Status.values),
    OpenApiParameter("need", str, enum=Advocacy.Need.values),
    OpenApiParameter("area", int, description="Advocacy addressing this technical area (or one of its activities)."),
]


@extend_schema_view(list=extend_schema(parameters=ADVOCACY_FILTERS), destroy=extend_schema(parameters=[DELETE_VERSION]))
class AdvocacyViewSet(PlanScopedMixin, viewsets.ModelViewSet):
    """Advocacy plans of one plan, each for a funding gap or policy need."""

    serializer_class = AdvocacySerializer
    lookup_url_kwarg = "advocacy_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    write_need = Permission.ENGAGE

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Advocacy.objects.none()
        return advocacy_list_for_plan(plan=self.plan).prefetch_related("funding_commitments")

    def list(self, request: Request, *args: Any, **kwargs: Any):
        form = AdvocacyFilterForm(request.query_params, plan=self.plan)
        if not form.is_valid():
            raise serializers.ValidationError(form.errors.get_json_data())
        page = self.paginate_queryset(advocacy_filtered(self.get_queryset(), **form.filters()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_object(self) -> Advocacy:
        advocacy = self.get_queryset().filter(pk=self.kwargs["advocacy_id"]).first()
        if advocacy is None:
            raise Http404(gettext("No such advocacy in this plan."))
        advocacy.plan = self.plan
        return advocacy

    @staticmethod
    def _split(data: dict) -> tuple[dict, dict]:
        fields = {name: value for name, value in data.items() if name in ADVOCACY_FIELDS}
        references = {name: list(data[name]) for name in MANY if name in data}
        return fields, references

    def perform_create(self, serializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("version", None)
        fields, references = self._split(data)
        advocacy = advocacy_create(plan=self.plan, by=self.request.user, fields=fields, **references)
        serializer.instance = self.get_queryset().get(pk=advocacy.pk)

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        data = dict(serializer.validated_data)
        if not serializer.partial:  # PUT: what is left out is empty
            empty: dict[str, Any] = {"channels": [], **{name: [] for name in MANY}}
            for name in ADVOCACY_FIELDS:
                field = Advocacy._meta.get_field(name)
                empty.setdefault(name, None if field.null else ("" if name != "status" else Advocacy.Status.PLANNED))
            data = {**empty, **data}
        fields, references = self._split(data)
        advocacy = advocacy_update(
            advocacy=serializer.instance, by=self.request.user, version=version, fields=fields, **references
        )
        serializer.instance = self.get_queryset().get(pk=advocacy.pk)

    def perform_destroy(self, instance: Advocacy) -> None:
        advocacy_delete(advocacy=instance, by=self.request.user, version=delete_version(self.request))


routes: tuple[tuple[str, Any, str], ...] = ((r"plans/(?P<plan_id>\d+)/advocacy", AdvocacyViewSet, "advocacy"),)
urlpatterns: list = []
