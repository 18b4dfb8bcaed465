"""Costing API: funding. A plan's funding commitments: every member reads them, the secretariat writes them.

Amounts travel as strings (never floats); what a commitment funds is a technical area id or a list of
activity ids. A change carries the `version` the client last read and is refused with 409 when stale.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from costing.funding import (
    COMMITMENT_FIELDS,
    commitment_base_amount,
    funding_commitment_create,
    funding_commitment_delete,
    funding_commitment_list_for_plan,
    funding_commitment_update,
)
from costing.funding_forms import FundingFilterForm
from costing.models import MAX_AMOUNT, FundingCommitment
from costing.services import Rates
from naphs.api import (
    DELETE_VERSION,
    DecimalField,
    ModelSerializer,
    VersionField,
    delete_version,
    related_queryset,
    require_version,
)
from planning.models import Activity
from planning.selectors import technical_areas_of
from stakeholders.access import PlanScopedMixin
from stakeholders.selectors import organization_list_for_plan


class FundingCommitmentSerializer(ModelSerializer):
    """A funding commitment. Give `technical_area` to fund a whole area, or `activities` (ids) to fund one or
    several activities, not both. `source_kind` left out is taken from the organization's kind."""

    amount = DecimalField(
        max_digits=18,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MAX_AMOUNT,
        error_messages={
            "min_value": _("The amount must be more than zero."),
            "max_value": _("{max_value} at most: beyond that it is beyond any real commitment; check the digits."),
        },
        help_text=_("More than zero, for all its years together, in `currency`, as a string."),
    )
    amount_base = serializers.SerializerMethodField(
        help_text=_(
            "The amount in the plan's base currency, each year's share at that year's rate; null while a "
            "rate is missing."
        )
    )
    base_currency = serializers.SerializerMethodField(help_text=_("The plan's base currency."))
    source_kind = serializers.ChoiceField(choices=FundingCommitment.SourceKind.choices, required=False)
    activities = serializers.PrimaryKeyRelatedField(many=True, queryset=Activity.objects.none(), required=False)
    version = VersionField(required=False)

    class Meta:
        model = FundingCommitment
        fields = [
            "id",
            "plan",
            "source_organization",
            "source_kind",
            "budget_line",
            "amount",
            "currency",
            "amount_base",
            "base_currency",
            "first_year",
            "last_year",
            "status",
            "technical_area",
            "activities",
            "notes",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["plan", "created_at", "updated_at"]
        validators: list[Any] = []  # the service checks the whole commitment

    def get_fields(self):
        fields = super().get_fields()
        plan = getattr(self.context.get("view"), "plan", None)
        if plan is not None:
            # Only what belongs to the plan can be named; anything else "does not exist".
            related_queryset(fields, "source_organization", organization_list_for_plan(plan=plan))
            fields["source_organization"].error_messages["does_not_exist"] = gettext(
                "Organization {pk_value} is not an organization of %(country)s."
            ) % {"country": plan.jurisdiction.name}
            related_queryset(fields, "technical_area", technical_areas_of(plan))
            fields["technical_area"].error_messages["does_not_exist"] = gettext(
                "Technical area {pk_value} is not an area of this plan's framework."
            )
            related_queryset(fields, "activities", Activity.objects.filter(plan=plan))
            activities = fields["activities"]
            if isinstance(activities, serializers.ManyRelatedField):
                activities = activities.child_relation
            activities.error_messages["does_not_exist"] = gettext(
                "Activity {pk_value} is not an activity of this plan."
            )
        return fields

    def _rates(self) -> Rates | None:
        return self.context.get("rates")

    def get_amount_base(self, commitment: FundingCommitment) -> str | None:
        rates = self._rates()
        amount = commitment_base_amount(commitment, rates) if rates else None
        return None if amount is None else f"{amount:.2f}"

    def get_base_currency(self, commitment: FundingCommitment) -> str | None:
        rates = self._rates()
        return rates.base if rates else None


STATUS_FILTERS = [
    OpenApiParameter("status", str, enum=FundingCommitment.Status.values),
    OpenApiParameter("source", int, description="Source organization id."),
    OpenApiParameter("source_kind", str, enum=FundingCommitment.SourceKind.values),
]


@extend_schema_view(
    list=extend_schema(parameters=STATUS_FILTERS),
    destroy=extend_schema(parameters=[DELETE_VERSION]),
)
class FundingCommitmentViewSet(PlanScopedMixin, viewsets.ModelViewSet):
    """Funding commitments of one plan (resource mapping): every member reads them, with filters by status and
    source; the secretariat adds, changes and deletes them."""

    serializer_class = FundingCommitmentSerializer
    lookup_url_kwarg = "commitment_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return FundingCommitment.objects.none()
        return funding_commitment_list_for_plan(plan=self.plan)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if hasattr(self, "plan"):
            if not hasattr(self, "rates"):
                self.rates = Rates.for_plan(self.plan)
            context["rates"] = self.rates
        return context

    def list(self, request, *args, **kwargs):
        form = FundingFilterForm(request.query_params, plan=self.plan)
        if not form.is_valid():
            raise serializers.ValidationError(form.errors.get_json_data())
        page = self.paginate_queryset(self.get_queryset().filter(**form.filters()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_object(self) -> FundingCommitment:
        commitment = self.get_queryset().filter(pk=self.kwargs["commitment_id"]).first()
        if commitment is None:
            raise Http404(gettext("No such funding commitment in this plan."))
        commitment.plan = self.plan
        return commitment

    def perform_create(self, serializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("version", None)
        activities = data.pop("activities", [])
        serializer.instance = funding_commitment_create(
            plan=self.plan, by=self.request.user, fields=_fields(data), activities=activities
        )

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        data = dict(serializer.validated_data)
        # PUT replaces what it funds (none given: none); PATCH keeps it unless `activities` is sent.
        activities = data.pop("activities", None if serializer.partial else [])
        commitment = funding_commitment_update(
            commitment=serializer.instance,
            by=self.request.user,
            version=version,
            fields=_fields(data),
            activities=activities,
        )
        serializer.instance = funding_commitment_list_for_plan(plan=self.plan).get(pk=commitment.pk)

    def perform_destroy(self, instance: FundingCommitment) -> None:
        funding_commitment_delete(commitment=instance, by=self.request.user, version=delete_version(self.request))


def _fields(data: dict) -> dict:
    """What the service edits, out of the serializer's data."""
    return {name: value for name, value in data.items() if name in COMMITMENT_FIELDS}


routes = [(r"plans/(?P<plan_id>\d+)/funding", FundingCommitmentViewSet, "funding-commitment")]
urlpatterns: list = []
