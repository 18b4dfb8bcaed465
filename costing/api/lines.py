"""Costing API: cost lines of a plan's activities, and the cost builders.

Every member reads a plan's lines; writing one needs the right to cost its activity (the secretariat, the
technical lead of its area, the focal point of its responsible organization): 403 otherwise, 404 for a line
or activity of another plan. Changes carry the `version` last read: a stale one gets 409. Amounts are
computed by costing.services and sent as decimal strings; frequencies as {"2026": "2"}.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from django.http import Http404
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from costing.builders import BUILDERS, Builder, Item, Preview, Question, Schedule, cost_lines_build, cost_lines_preview
from costing.line_forms import plain
from costing.models import MAX_QUANTITY, MAX_UNIT_COST, CostCategory, CostLine, Unit
from costing.selectors import catalogue_items_for_plan, cost_line_list_for_plan
from costing.services import cost_line_create, cost_line_delete, cost_line_update, plan_costing_get
from naphs.api import DecimalField, ModelSerializer, Serializer, VersionField, related_queryset, require_version
from naphs.permissions import Permission
from planning.models import MAX_YEAR, MIN_YEAR, Activity
from stakeholders.access import PlanScopedMixin, SignedInView, activity_get_for_user

ZERO = Decimal(0)

YEAR_MAP = {
    "type": "object",
    "additionalProperties": {"type": "string", "format": "decimal"},
    "example": {"2026": "2", "2027": "1"},
}


@extend_schema_field(YEAR_MAP)
class FrequenciesField(serializers.Field):
    """How often the line happens in each year: {"2026": "2"}; years left out are 0. Checked by the service."""

    # Braces doubled: DRF formats its messages.
    # Translators: keep the doubled braces: they show the JSON to send.
    default_error_messages = {"invalid": _('Send the frequencies as {{"year": "times", ...}}, e.g. {{"2026": "2"}}.')}

    def get_attribute(self, instance: CostLine) -> CostLine:
        return instance

    def to_representation(self, line: CostLine) -> dict[str, str]:
        return {str(year.year): plain(year.frequency) for year in _years(line)}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or any(isinstance(value, dict | list | bool) for value in data.values()):
            self.fail("invalid")
        return {str(key): value for key, value in data.items()}


class ComputedLineField(serializers.Field):
    """A figure of the line computed from its years, read-only."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance: CostLine) -> CostLine:
        return instance


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string", "format": "decimal"},
        "readOnly": True,
        "example": {"2026": "1500.00", "2027": "750.00"},
    }
)
class AmountsField(ComputedLineField):
    """The line's amount in each year, in the plan's base currency (computed, never sent)."""

    def to_representation(self, line: CostLine) -> dict[str, str]:
        return {str(year.year): str(year.amount) for year in _years(line)}


@extend_schema_field({"type": "string", "format": "decimal", "readOnly": True, "example": "2250.00"})
class TotalField(ComputedLineField):
    """The line's amount over all years, in the plan's base currency."""

    def to_representation(self, line: CostLine) -> str:
        return str(sum((year.amount for year in _years(line)), ZERO).quantize(Decimal("0.01")))


def _years(line: CostLine) -> list:
    """A saved line's years (prefetched), or those a builder computed for a line not saved yet."""
    computed = getattr(line, "computed_years", None)
    return computed if computed is not None else list(line.years.all())


class CostLineSerializer(ModelSerializer):
    """A cost line. `frequencies` go in; `amounts` and `total` come out, in the plan's base currency. A line from
    the catalogue (`catalogue_item`) takes the item's unit, unit cost, currency and price year."""

    frequencies = FrequenciesField(required=False)
    amounts = AmountsField()
    total = TotalField()
    version = VersionField(required=False)

    class Meta:
        model = CostLine
        fields = [
            "id",
            "activity",
            "catalogue_item",
            "description",
            "category",
            "secondary_category",
            "unit",
            "unit_cost",
            "currency",
            "price_year",
            "unit_cost_base",
            "quantity",
            "recurrence",
            "optional",
            "assumptions",
            "technical_comment",
            "costing_comment",
            "order",
            "frequencies",
            "amounts",
            "total",
            "version",
            "updated_at",
        ]
        read_only_fields = ["unit_cost_base", "updated_at"]
        create_only_fields = ["activity"]  # a line stays with its activity
        extra_kwargs = {
            name: {"required": False} for name in ("category", "unit", "unit_cost", "currency", "price_year")
        }
        validators: list[Any] = []  # the service validates the whole line

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        plan = getattr(self.context.get("view"), "plan", None)
        if plan is not None:
            # Only what belongs to the plan can be named; anything else "does not exist".
            related_queryset(fields, "activity", Activity.objects.filter(plan=plan))
            fields["activity"].error_messages["does_not_exist"] = gettext(
                "Activity {pk_value} is not an activity of this plan."
            )
            related_queryset(fields, "catalogue_item", catalogue_items_for_plan(plan=plan))
            fields["catalogue_item"].error_messages["does_not_exist"] = gettext(
                "Catalogue item {pk_value} is not in this plan's catalogue."
            )
        return fields


LINE_FILTERS = [OpenApiParameter("activity", int, description="Only the lines of this activity.")]
VERSION_PARAMETER = OpenApiParameter(
    "version",
    {"type": "integer", "minimum": 1},
    description="The version you last read: a line changed since is not deleted (409).",
)


@extend_schema_view(list=extend_schema(parameters=LINE_FILTERS), destroy=extend_schema(parameters=[VERSION_PARAMETER]))
class CostLineViewSet(PlanScopedMixin, viewsets.ModelViewSet):
    """Cost lines of a plan's activities. Every member reads them; the secretariat, the technical lead of the
    activity's area and the focal point of its responsible organization write them."""

    serializer_class = CostLineSerializer
    lookup_url_kwarg = "cost_line_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    write_need = Permission.EDIT_COSTS

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CostLine.objects.none()
        activity_id = None
        if self.action == "list" and (raw := self.request.query_params.get("activity", "").strip()):
            if not (raw.isascii() and raw.isdigit()):
                raise serializers.ValidationError(
                    {"activity": [gettext("“%(value)s” is not an activity id.") % {"value": raw}]}
                )
            activity_id = int(raw)
        return cost_line_list_for_plan(plan=self.plan, activity_id=activity_id)

    def _activity(self, activity_id: int) -> Activity:
        """The activity, once the caller may cost it: 403 naming why not."""
        return activity_get_for_user(
            user=self.request.user, plan_id=self.plan.pk, activity_id=activity_id, need=Permission.EDIT_COSTS
        ).activity

    def get_object(self) -> CostLine:
        line = self.get_queryset().filter(pk=self.kwargs["cost_line_id"]).first()
        if line is None:
            raise Http404(gettext("No such cost line."))
        if self.request.method in SAFE_METHODS:
            line.plan = self.plan
        else:
            line.activity = self._activity(line.activity_id)
            line.plan = line.activity.plan
        return line

    def perform_create(self, serializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("version", None)
        frequencies = data.pop("frequencies", {})
        activity = self._activity(data.pop("activity").pk)
        serializer.instance = cost_line_create(
            activity=activity, by=self.request.user, fields=data, frequencies=frequencies
        )

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        data = dict(serializer.validated_data)
        data.pop("activity", None)
        frequencies = data.pop("frequencies", None)
        cost_line_update(
            line=serializer.instance, by=self.request.user, version=version, fields=data, frequencies=frequencies
        )

    def perform_destroy(self, instance: CostLine) -> None:
        raw = self.request.query_params.get("version") or (
            self.request.data.get("version") if isinstance(self.request.data, dict) else None
        )
        version = None
        if raw not in (None, ""):
            try:
                version = int(raw)
            except (TypeError, ValueError):
                raise serializers.ValidationError(
                    {"version": [gettext("Send the version as a whole number.")]}
                ) from None
        cost_line_delete(line=instance, by=self.request.user, version=version)


# --- Cost builders ----------------------------------------------------------------------------------------


class ItemSerializer(Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True)
    unit = serializers.ChoiceField(choices=Unit.choices, default=Unit.ITEM)
    quantity = DecimalField(max_digits=12, decimal_places=2, min_value=ZERO, max_value=MAX_QUANTITY)
    unit_price = DecimalField(max_digits=18, decimal_places=2, min_value=ZERO, max_value=MAX_UNIT_COST)


def _answer_field(question: Question) -> serializers.Field:
    options: dict[str, Any] = {"help_text": question.help or question.label}
    if question.required:
        options["required"] = True
    elif question.kind == "flag":
        options["default"] = False
    elif question.kind == "text":
        options.update(default="", allow_blank=True)
    elif question.default is not None:
        options["default"] = question.default
    else:
        options["required"] = False
    if question.kind == "count":
        return serializers.IntegerField(min_value=1 if question.required else 0, **options)
    if question.kind == "money":
        return DecimalField(max_digits=18, decimal_places=2, min_value=ZERO, max_value=MAX_UNIT_COST, **options)
    if question.kind == "number":
        return DecimalField(max_digits=12, decimal_places=2, min_value=ZERO, **options)
    if question.kind == "flag":
        return serializers.BooleanField(**options)
    if question.kind == "choice":
        return serializers.ChoiceField(choices=question.choices, **options)
    if question.kind == "text":
        return serializers.CharField(max_length=120, **options)
    if question.kind == "items":
        return ItemSerializer(many=True, allow_empty=False, **options)
    raise ValueError(f"No serializer field for answers of kind {question.kind}")


class BuilderAnswersSerializer(Serializer):
    """When the cost happens; each builder adds its own questions."""

    years = serializers.ListField(
        child=serializers.IntegerField(min_value=MIN_YEAR, max_value=MAX_YEAR),
        min_length=1,
        help_text=_("The years in which it happens, within the plan's period."),
    )
    times_per_year = DecimalField(
        min_value=ZERO,
        max_digits=7,
        decimal_places=2,
        default=Decimal(1),
        help_text=_("How often it happens each year."),
    )
    currency = serializers.CharField(
        max_length=3, required=False, help_text=_("ISO 4217 code; the plan's base currency when left out.")
    )
    price_year = serializers.IntegerField(required=False, help_text=_("The plan's price year when left out."))
    optional = serializers.BooleanField(default=False, help_text=_("Counted only in the total with optional costs."))
    preview = serializers.BooleanField(
        default=True,
        # Translators: "true" and "false" are values of the API; keep them in English.
        help_text=_("true: compute the lines and save nothing; false: add them to the activity."),
    )


def _answers_serializer(builder: Builder) -> type[BuilderAnswersSerializer]:
    name = "".join(part.capitalize() for part in builder.kind.split("-"))
    # No docstring of the builder's own: its label and summary are translated, so the schema hook writes them
    # into the schema in the language it is asked in.
    attributes: dict[str, Any] = {question.name: _answer_field(question) for question in builder.questions}
    return type(f"{name}BuilderAnswersSerializer", (BuilderAnswersSerializer,), attributes)


ANSWERS = {kind: _answers_serializer(builder) for kind, builder in BUILDERS.items()}


class BuiltLineSerializer(CostLineSerializer):
    """A line a builder made: in a preview, not saved yet (no id)."""

    class Meta(CostLineSerializer.Meta):
        fields = [
            name for name in CostLineSerializer.Meta.fields if name not in ("catalogue_item", "version", "updated_at")
        ]
        read_only_fields = fields

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = serializers.ModelSerializer.get_fields(self)
        fields["id"] = serializers.IntegerField(allow_null=True, read_only=True, help_text=_("None in a preview."))
        fields["activity"] = serializers.IntegerField(source="activity_id", read_only=True)
        # Read-only, a choice field would forget that the secondary category may be blank.
        fields["secondary_category"] = serializers.ChoiceField(
            choices=CostCategory.choices, allow_blank=True, read_only=True
        )
        return fields


class BuilderResultSerializer(serializers.Serializer):
    preview = serializers.BooleanField(help_text=_("true when nothing was saved."))
    lines = BuiltLineSerializer(many=True)
    total = serializers.DecimalField(max_digits=24, decimal_places=2, help_text=_("In the plan's base currency."))


def _result(previews: list[Preview], *, preview: bool) -> dict[str, Any]:
    lines = []
    for item in previews:
        item.line.computed_years = item.years  # type: ignore[attr-defined]  # read by the line serializer's amounts
        lines.append(item.line)
    return {
        "preview": preview,
        "lines": BuiltLineSerializer(lines, many=True).data,
        "total": str(sum((item.total for item in previews), ZERO).quantize(Decimal("0.01"))),
    }


class CostBuilderView(SignedInView):
    """Build an activity's cost lines from a few answers: a meeting or training, a field visit, a consultancy,
    staff, procurement. With "preview": true the lines and their amounts come back and nothing is saved; with
    false they are added, all or none. Needs the right to cost the activity."""

    activity: Activity
    builder: Builder

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if getattr(self, "swagger_fake_view", False):
            return
        need = Permission.VIEW if request.method in SAFE_METHODS else Permission.EDIT_COSTS
        self.activity = activity_get_for_user(
            user=request.user, plan_id=kwargs["plan_id"], activity_id=kwargs["activity_id"], need=need
        ).activity
        builder = BUILDERS.get(kwargs["builder_kind"])
        if builder is None:
            raise Http404(gettext("No such cost builder."))
        self.builder = builder

    @extend_schema(
        parameters=[OpenApiParameter("builder_kind", str, OpenApiParameter.PATH, enum=list(BUILDERS))],
        request=PolymorphicProxySerializer(
            component_name="CostBuilderAnswers", serializers=list(ANSWERS.values()), resource_type_field_name=None
        ),
        responses={200: BuilderResultSerializer, 201: BuilderResultSerializer},
    )
    def post(self, request, plan_id: int, activity_id: int, builder_kind: str) -> Response:
        activity, builder = self.activity, self.builder
        plan = activity.plan
        costing = plan_costing_get(plan)
        answers = ANSWERS[builder.kind](data=request.data)
        answers.is_valid(raise_exception=True)
        data = answers.validated_data
        schedule = Schedule(
            years=data["years"],
            currency=(data.get("currency") or costing.currency).upper(),
            period=range(plan.first_year, plan.last_year + 1),
            times_per_year=data["times_per_year"],
            optional=data["optional"],
            price_year=data.get("price_year") or costing.price_year,
        )
        given = {question.name: data.get(question.name) for question in builder.questions}
        if "items" in given:
            given["items"] = [Item(**item) for item in given["items"] or []]
        lines = builder.lines(schedule, given)
        previews = cost_lines_preview(activity=activity, lines=lines)
        if data["preview"]:
            return Response(_result(previews, preview=True))
        created = cost_lines_build(activity=activity, by=request.user, lines=lines)
        saved = [Preview(line, item.years) for line, item in zip(created, previews, strict=True)]
        return Response(_result(saved, preview=False), status=status.HTTP_201_CREATED)


def _builder_description(builder: Builder) -> str:
    # Translators: a cost builder in the API's documentation: its name, then what it costs.
    return gettext("%(builder)s: %(summary)s") % {"builder": builder.label, "summary": builder.summary}


def split_cost_builders(result, generator, request, public):
    """A schema hook: the builders share one route, but each takes its own answers. Documented as one operation
    with a oneOf body, a client could not tell which answers go to which kind; so each kind gets its own path,
    its own operation and its own request body."""
    paths = result["paths"]
    for template in [name for name in paths if name.endswith("/cost-builders/{builder_kind}/")]:
        shared = paths.pop(template)
        for kind, answers in ANSWERS.items():
            component = f"{answers.__name__.removesuffix('Serializer')}Request"
            if component in result["components"]["schemas"]:
                result["components"]["schemas"][component]["description"] = _builder_description(BUILDERS[kind])
            operations = copy.deepcopy(shared)
            for operation in operations.values():
                operation["operationId"] = f"{operation['operationId']}_{kind.replace('-', '_')}"
                operation["parameters"] = [p for p in operation["parameters"] if p["name"] != "builder_kind"]
                operation["description"] = _builder_description(BUILDERS[kind])
                reference = {"$ref": f"#/components/schemas/{component}"}
                for content in operation["requestBody"]["content"].values():
                    content["schema"] = reference
            paths[template.replace("{builder_kind}", kind)] = operations
    result["components"]["schemas"].pop("CostBuilderAnswersRequest", None)
    return result


# (prefix, viewset, basename) for the router; plain routes in urlpatterns.
routes: list = [(r"plans/(?P<plan_id>\d+)/cost-lines", CostLineViewSet, "cost-line")]
urlpatterns: list = [
    path(
        "plans/<int:plan_id>/activities/<int:activity_id>/cost-builders/<slug:builder_kind>/",
        CostBuilderView.as_view(),
        name="api-cost-builder",
    ),
]
