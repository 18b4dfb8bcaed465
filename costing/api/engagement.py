"""Costing API: an advocacy's pledge recorded as a funding commitment of the plan (`advocacy/{id}/pledge/`), with the
advocacy's status and outcome, in one step (costing.engagement). The commitment's fields are those of `funding/`;
`version` is the advocacy's, as last read (409 when stale). Funding is the plan's content: the secretariat records
it, and an endorsed plan refuses it with 423."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from costing.api.funding import FundingCommitmentSerializer, _fields
from costing.engagement import advocacy_get, advocacy_pledge_record
from costing.services import Rates
from naphs.api import VersionField
from stakeholders.access import PlanScopedMixin
from stakeholders.models import Advocacy


class PledgeSerializer(FundingCommitmentSerializer):
    """The commitment the pledge becomes (as `funding/` takes it), the advocacy's new `advocacy_status` and
    `outcome` (each left out: kept), and the advocacy's `version` as last read."""

    advocacy_status = serializers.ChoiceField(choices=Advocacy.Status.choices, required=False, write_only=True)
    outcome = serializers.CharField(required=False, allow_blank=True, write_only=True)
    version = VersionField(help_text=_("The advocacy's version you last read: a stale one gets 409."))

    class Meta(FundingCommitmentSerializer.Meta):
        fields = [*FundingCommitmentSerializer.Meta.fields, "advocacy", "advocacy_status", "outcome"]
        read_only_fields = [*FundingCommitmentSerializer.Meta.read_only_fields, "advocacy"]

    @property
    def is_change(self) -> bool:
        return False  # it always creates a commitment; `version` is the advocacy's


class AdvocacyPledgeViewSet(PlanScopedMixin, viewsets.GenericViewSet):
    """Record an advocacy's pledge as a funding commitment of the plan."""

    serializer_class = PledgeSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if hasattr(self, "plan"):
            context["rates"] = Rates.for_plan(self.plan)
        return context

    @extend_schema(summary="Record the pledge as a funding commitment", responses={201: PledgeSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        advocacy = advocacy_get(self.plan, kwargs["advocacy_id"])
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        commitment = advocacy_pledge_record(
            advocacy=advocacy,
            by=self.request.user,
            version=data.pop("version"),
            fields=_fields(data),
            activities=data.get("activities", []),
            status=data.get("advocacy_status"),
            outcome=data.get("outcome"),
        )
        out = self.get_serializer(commitment)
        return Response(out.data, status=status.HTTP_201_CREATED)


routes = [
    (r"plans/(?P<plan_id>\d+)/advocacy/(?P<advocacy_id>\d+)/pledge", AdvocacyPledgeViewSet, "advocacy-pledge"),
]
urlpatterns: list = []
