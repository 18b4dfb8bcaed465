"""Costing API: a plan's costing settings, its exchange rates, and its unit-cost catalogue with the deliberate
price change (a preview of every cost line it moves, then the change itself)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from costing.catalogue import (
    PRICE_FIELDS,
    catalogue_item_create,
    catalogue_item_delete,
    catalogue_item_get,
    catalogue_item_reprice,
    catalogue_item_update,
    catalogue_list_for_plan,
    catalogue_reprice_preview,
    exchange_rate_create,
)
from costing.models import (
    MAX_UNIT_COST,
    CatalogueItem,
    CostCategory,
    ExchangeRate,
    PlanCosting,
    validate_currency_code,
)
from costing.services import exchange_rate_delete, exchange_rate_set, plan_costing_get, plan_costing_update
from naphs.api import DecimalField, ModelSerializer, Serializer, VersionField, related_queryset, require_version
from naphs.errors import EditConflict
from planning.models import MAX_YEAR, MIN_YEAR, Jurisdiction
from stakeholders.access import PlanScopedMixin, jurisdiction_manageable_by

# --- Settings -------------------------------------------------------------------------------------------------


class PlanCostingSerializer(ModelSerializer):
    version = VersionField(required=False)
    rollup_current = serializers.BooleanField(
        read_only=True, help_text=_("False while the stored totals wait for a recomputation after a change.")
    )

    class Meta:
        model = PlanCosting
        fields = ["plan", "currency", "price_year", "version", "rollup_current", "rollup_at", "rollup_error"]
        read_only_fields = ["plan", "rollup_at", "rollup_error"]


class PlanCostingView(PlanScopedMixin, generics.GenericAPIView):
    """A plan's base currency (ISO 4217) and price year. Every member reads them; the secretariat changes them,
    sending the version it read. A plan under another plan is costed in that plan's currency."""

    serializer_class = PlanCostingSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get(self, request, *args, **kwargs) -> Response:
        return Response(self.get_serializer(plan_costing_get(self.plan)).data)

    def patch(self, request, *args, **kwargs) -> Response:
        costing = plan_costing_get(self.plan)
        context = self.get_serializer_context()
        serializer = PlanCostingSerializer(costing, data=request.data, partial=True, context=context)
        serializer.is_valid(raise_exception=True)
        version = require_version(serializer)
        plan_costing_update(costing=costing, by=request.user, version=version, **serializer.validated_data)
        return Response(self.get_serializer(costing).data)


# --- Exchange rates ---------------------------------------------------------------------------------------------


class ExchangeRateSerializer(ModelSerializer):
    """Units of the plan's base currency for one unit of `currency` in `year`. Currency and year are set when the
    rate is added; afterwards only the rate and its source change."""

    version = VersionField(required=False)

    class Meta:
        model = ExchangeRate
        fields = ["id", "currency", "year", "rate", "source", "version"]
        create_only_fields = ["currency", "year"]
        validators: list[Any] = []  # the service refuses a second rate for the same currency and year, saying so


class ExchangeRateViewSet(PlanScopedMixin, viewsets.ModelViewSet):
    """A plan's exchange rates. Members read them; the secretariat adds, changes (with the version it read) and
    removes them. A rate that cost lines or funding commitments still need cannot be removed."""

    serializer_class = ExchangeRateSerializer
    lookup_url_kwarg = "rate_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ExchangeRate.objects.none()
        return ExchangeRate.objects.filter(plan=self.plan).order_by("currency", "year")

    def perform_create(self, serializer) -> None:
        data = serializer.validated_data
        data.pop("version", None)
        serializer.instance = exchange_rate_create(plan=self.plan, by=self.request.user, **data)

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        rate, data = serializer.instance, serializer.validated_data
        serializer.instance = exchange_rate_set(
            plan=self.plan,
            by=self.request.user,
            currency=rate.currency,
            year=rate.year,
            rate=data.get("rate", rate.rate),
            source=data.get("source", rate.source),
            version=version,
        )

    def perform_destroy(self, instance: ExchangeRate) -> None:
        instance.plan = self.plan
        exchange_rate_delete(rate=instance, by=self.request.user)


# --- Catalogue --------------------------------------------------------------------------------------------------

API_PRICE_HINT = "Change the price with POST …/reprice/, which lists the cost lines it moves before it does."


class CatalogueItemSerializer(ModelSerializer):
    """A unit cost: kept by one plan (`plan` set), or shared with a jurisdiction and every plan under it
    (`jurisdiction` set). Its price (unit cost, currency, price year) changes only through reprice."""

    version = VersionField(required=False)
    line_count = serializers.SerializerMethodField(help_text=_("Cost lines, in any plan, taken from this item."))
    create_only_hints = dict.fromkeys(PRICE_FIELDS, API_PRICE_HINT)

    class Meta:
        model = CatalogueItem
        fields = [
            "id",
            "name",
            "category",
            "unit",
            "unit_cost",
            "currency",
            "price_year",
            "source",
            "notes",
            "plan",
            "jurisdiction",
            "line_count",
            "version",
            "updated_at",
        ]
        read_only_fields = ["plan", "updated_at"]
        create_only_fields = ["jurisdiction", *PRICE_FIELDS]
        extra_kwargs = {
            "jurisdiction": {
                "help_text": "Share the item with this jurisdiction (the plan's or one above it) and the plans "
                "under it; leave empty to keep it to this plan. Set when the item is added."
            }
        }
        validators: list[Any] = []  # the service checks the whole item

    def get_line_count(self, item: CatalogueItem) -> int:
        return getattr(item, "line_count", 0)

    def get_fields(self):
        fields = super().get_fields()
        plan = getattr(self.context.get("view"), "plan", None)
        if plan is not None:
            above = plan.jurisdiction.ancestors_and_self_ids()
            related_queryset(fields, "jurisdiction", Jurisdiction.objects.filter(pk__in=above))
            fields["jurisdiction"].error_messages["does_not_exist"] = gettext(
                "Jurisdiction {pk_value} is not %(jurisdiction)s or a jurisdiction above it."
            ) % {"jurisdiction": plan.jurisdiction.name}
        return fields


class PriceChangeSerializer(Serializer):
    unit_cost = DecimalField(
        max_digits=18,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=MAX_UNIT_COST,
        help_text=_("The new unit cost."),
    )
    currency = serializers.CharField(
        required=False,
        max_length=3,
        validators=[validate_currency_code],
        help_text=_("ISO 4217; the catalogue item's currency when left out."),
    )
    price_year = serializers.IntegerField(
        required=False,
        min_value=MIN_YEAR,
        max_value=MAX_YEAR,
        help_text=_("The catalogue item's price year when left out."),
    )
    version = VersionField()
    confirm = serializers.BooleanField(
        default=False,
        # Translators: "False" and "True" are values of the API; keep them in English.
        help_text=_("False: only show what would change. True: apply the change."),
    )


class PriceChangeLineSerializer(serializers.Serializer):
    cost_line = serializers.IntegerField(source="line.pk")
    plan = serializers.IntegerField(source="line.plan_id")
    plan_title = serializers.CharField(source="line.plan.title")
    activity = serializers.IntegerField(source="line.activity_id")
    activity_title = serializers.CharField(source="line.activity.title")
    description = serializers.CharField(source="line.description")
    old_unit_cost = serializers.DecimalField(max_digits=18, decimal_places=2)
    old_currency = serializers.CharField()
    new_unit_cost = serializers.DecimalField(max_digits=18, decimal_places=2)
    old_total = serializers.DecimalField(max_digits=24, decimal_places=2, help_text=_("In the plan's base currency."))
    new_total = serializers.DecimalField(
        max_digits=24, decimal_places=2, allow_null=True, help_text=_("Null where the plan lacks the rate.")
    )
    base_currency = serializers.CharField()


class PriceChangeResultSerializer(serializers.Serializer):
    applied = serializers.BooleanField(help_text=_("Whether the change was applied (confirm) or only previewed."))
    unit_cost = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.CharField()
    price_year = serializers.IntegerField()
    line_count = serializers.IntegerField(help_text=_("Cost lines the change moves, in every plan."))
    plan_count = serializers.IntegerField()
    hidden_line_count = serializers.IntegerField(help_text=_("Of those, lines in plans you are not a member of."))
    hidden_plan_count = serializers.IntegerField()
    kept_line_count = serializers.IntegerField(help_text=_("Lines of endorsed plans, which keep their price."))
    missing_rates = serializers.ListField(
        child=serializers.CharField(), help_text=_("Plans that lack the rate for the new currency and year.")
    )
    lines = PriceChangeLineSerializer(many=True, help_text=_("The lines of plans you are a member of."))
    item = CatalogueItemSerializer()


CATALOGUE_FILTERS = [
    OpenApiParameter("category", str, enum=CostCategory.values),
    OpenApiParameter("q", str, description="Words in the item's name."),
]


@extend_schema_view(list=extend_schema(parameters=CATALOGUE_FILTERS))
class CatalogueItemViewSet(PlanScopedMixin, viewsets.ModelViewSet):
    """The unit costs a plan may use: its own and those shared with its jurisdiction or one above it. Members read
    them; the plan's secretariat adds and changes the plan's own items, and shared items where it keeps that
    jurisdiction's catalogue. An item that cost lines use cannot be deleted."""

    serializer_class = CatalogueItemSerializer
    lookup_url_kwarg = "catalogue_item_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CatalogueItem.objects.none()
        category = self.request.query_params.get("category", "")
        if "category" in self.request.query_params and category not in CostCategory.values:
            raise serializers.ValidationError(
                {"category": [gettext("“%(value)s” is not a cost category.") % {"value": category}]}
            )
        search = self.request.query_params.get("q", "").strip()
        if "\x00" in search:  # as a form field refuses it: no database stores it
            raise serializers.ValidationError({"q": [gettext("Null characters are not allowed.")]})
        return catalogue_list_for_plan(plan=self.plan, category=category, search=search)

    def get_object(self) -> CatalogueItem:
        return catalogue_item_get(
            membership=self.membership,
            user=self.request.user,
            item_id=self.kwargs["catalogue_item_id"],
            for_change=self.request.method not in SAFE_METHODS,
        )

    def perform_create(self, serializer) -> None:
        data = serializer.validated_data
        data.pop("version", None)
        jurisdiction = data.pop("jurisdiction", None)
        if jurisdiction is not None and not jurisdiction_manageable_by(
            user=self.request.user, jurisdiction=jurisdiction
        ):
            raise PermissionDenied(
                gettext("Only the secretariat of a plan of %(jurisdiction)s (or above it) shares items with it.")
                % {"jurisdiction": jurisdiction.name}
            )
        owner = {"jurisdiction": jurisdiction} if jurisdiction is not None else {"plan": self.plan}
        item = catalogue_item_create(by=self.request.user, via=self.plan, **owner, **data)
        item.line_count = 0  # type: ignore[attr-defined]  # as the list's annotation, for the serializer
        serializer.instance = item

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        data = serializer.validated_data
        catalogue_item_update(item=serializer.instance, by=self.request.user, version=version, via=self.plan, **data)

    def perform_destroy(self, instance: CatalogueItem) -> None:
        catalogue_item_delete(item=instance, by=self.request.user, via=self.plan)

    @extend_schema(request=PriceChangeSerializer, responses={200: PriceChangeResultSerializer})
    @action(detail=True, methods=["post"])
    def reprice(self, request, *args, **kwargs) -> Response:
        """Change the item's price. With confirm false, nothing changes: the answer lists every cost line that
        would follow (those of plans you are not a member of only counted) with old and new amounts, and the
        plans lacking a rate. With confirm true the change is applied to the item and all those lines at once,
        or refused whole: 409 if the item changed since `version`, 400 if a plan lacks the rate."""
        item = self.get_object()
        body = PriceChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data["version"] != item.version:
            raise EditConflict(item)
        price = {
            "unit_cost": data["unit_cost"],
            "currency": data.get("currency", item.currency),
            "price_year": data.get("price_year", item.price_year),
        }
        preview = catalogue_reprice_preview(item=item, user=request.user, **price)
        if data["confirm"]:
            catalogue_item_reprice(item=item, by=request.user, version=data["version"], via=self.plan, **price)
        answer = {
            "applied": data["confirm"],
            **price,
            "line_count": preview.line_count,
            "plan_count": preview.plan_count,
            "hidden_line_count": preview.hidden_line_count,
            "hidden_plan_count": preview.hidden_plan_count,
            "kept_line_count": preview.kept_line_count,
            "missing_rates": preview.missing_rates,
            "lines": preview.lines,
            "item": item,
        }
        return Response(PriceChangeResultSerializer(answer, context=self.get_serializer_context()).data)


# (prefix, viewset, basename) for the router; plain routes in urlpatterns.
routes: list = [
    (r"plans/(?P<plan_id>\d+)/exchange-rates", ExchangeRateViewSet, "exchange-rate"),
    (r"plans/(?P<plan_id>\d+)/catalogue", CatalogueItemViewSet, "catalogue-item"),
]
urlpatterns: list = [
    path("plans/<int:plan_id>/costing/", PlanCostingView.as_view(), name="plan-costing"),
]
