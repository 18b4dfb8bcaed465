"""Stakeholder engagement API: the register and the map. A plan's people (`people/`, with `merge/`, `export/` and
`erase/` per person) and stakeholders (`stakeholders/`), and the influence/interest grid with each quadrant's strategy
and the coverage of areas and sectors (`stakeholder-map/`).

Every member reads, contact details included; the secretariat writes (Permission.ENGAGE, also once the plan is
endorsed), with the `version` last read on every change (409 when stale). Every reference is scoped to what the plan
may use; a duplicate person is refused with 400 naming the existing person (`existing_person`: its id)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from naphs.api import (
    DELETE_VERSION,
    ModelSerializer,
    Serializer,
    VersionField,
    delete_version,
    related_queryset,
    require_version,
)
from naphs.choices import Hazard, Sector
from naphs.permissions import Permission
from planning.selectors import technical_areas_of
from stakeholders.access import PlanScopedMixin, plan_get_for_user
from stakeholders.mapping import (
    PERSON_FIELDS,
    QUADRANTS,
    STAKEHOLDER_FIELDS,
    DuplicatePerson,
    member_users,
    person_create,
    person_delete,
    person_list_for_plan,
    person_merge,
    person_update,
    quadrant_of,
    secretariat_users,
    stakeholder_coverage,
    stakeholder_create,
    stakeholder_delete,
    stakeholder_grid,
    stakeholder_list_for_plan,
    stakeholder_update,
)
from stakeholders.models import NaphsRole, Organization, Person, Stakeholder, User
from stakeholders.personal_data import person_erase, person_export
from stakeholders.selectors import organization_list_for_plan


def _scope_person_references(fields: dict[str, Any], plan: Any) -> None:
    if "organization" in fields:
        related_queryset(fields, "organization", organization_list_for_plan(plan=plan))
        fields["organization"].error_messages["does_not_exist"] = gettext(
            "Organization {pk_value} is not an organization of %(country)s."
        ) % {"country": plan.jurisdiction.name}
    if "user" in fields:
        related_queryset(fields, "user", member_users(plan=plan))
        fields["user"].error_messages["does_not_exist"] = gettext("Account {pk_value} is not a member of this plan.")


class PersonSerializer(ModelSerializer):
    """A person of the plan's register. `erased_at` is set when the record was erased on request (see `erase/`)."""

    version = VersionField(required=False)

    class Meta:
        model = Person
        fields = ["id", "plan", *PERSON_FIELDS, "erased_at", "created_at", "updated_at", "version"]
        read_only_fields = ["plan", "erased_at", "created_at", "updated_at"]
        validators: list[Any] = []  # the service checks the whole person

    def get_fields(self):
        fields = super().get_fields()
        plan = getattr(self.context.get("view"), "plan", None)
        if plan is not None:
            _scope_person_references(fields, plan)
        return fields


class PersonMergeSerializer(Serializer):
    """What the kept record holds after the merge: any field of a person (those left out keep their value), and
    optionally `other`, a second record of the same person whose participations, advocacy and account move onto
    the kept one before it is deleted."""

    version = serializers.IntegerField(min_value=1, help_text=_("The kept record's version you last read."))
    other = serializers.PrimaryKeyRelatedField(queryset=Person.objects.none(), required=False, allow_null=True)
    other_version = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text=_("The other record's version you last read.")
    )
    name = serializers.CharField(max_length=200, required=False)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.none(), required=False, allow_null=True
    )
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    sector = serializers.ChoiceField(choices=Sector.choices, required=False, allow_blank=True)
    level = serializers.ChoiceField(
        choices=Person._meta.get_field("level").choices or [], required=False, allow_blank=True
    )
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.none(), required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)

    def get_fields(self):
        fields = super().get_fields()
        plan, person = self.context.get("plan"), self.context.get("person")
        if plan is not None:
            _scope_person_references(fields, plan)
            others = Person.objects.filter(plan=plan, erased_at__isnull=True)
            related_queryset(fields, "other", others.exclude(pk=person.pk) if person is not None else others)
            fields["other"].error_messages["does_not_exist"] = gettext(
                "Person {pk_value} is not another person of this plan's register."
            )
        return fields


class PersonVersionSerializer(Serializer):
    version = serializers.IntegerField(min_value=1, help_text=_("The record's version you last read."))


class StakeholderSerializer(ModelSerializer):
    """An organization in the plan's stakeholder map. `quadrant` (read-only) is the grid's quadrant its influence and
    interest place it in (3 and 4 count as high)."""

    roles = serializers.ListField(child=serializers.ChoiceField(choices=NaphsRole.choices), required=False)
    sectors = serializers.ListField(child=serializers.ChoiceField(choices=Sector.choices), required=False)
    hazards = serializers.ListField(child=serializers.ChoiceField(choices=Hazard.choices), required=False)
    quadrant = serializers.SerializerMethodField()
    version = VersionField(required=False)

    class Meta:
        model = Stakeholder
        fields = ["id", "plan", *STAKEHOLDER_FIELDS, "quadrant", "created_at", "updated_at", "version"]
        read_only_fields = ["plan", "created_at", "updated_at"]
        validators: list[Any] = []

    @extend_schema_field(serializers.ChoiceField(choices=[q.key for q in QUADRANTS]))
    def get_quadrant(self, stakeholder: Stakeholder) -> str:
        return quadrant_of(influence=stakeholder.influence, interest=stakeholder.interest).key

    def get_fields(self):
        fields = super().get_fields()
        plan = getattr(self.context.get("view"), "plan", None)
        if plan is not None:
            related_queryset(fields, "organization", organization_list_for_plan(plan=plan))
            fields["organization"].error_messages["does_not_exist"] = gettext(
                "Organization {pk_value} is not an organization of %(country)s."
            ) % {"country": plan.jurisdiction.name}
            related_queryset(fields, "technical_areas", technical_areas_of(plan))
            areas = fields["technical_areas"]
            if isinstance(areas, serializers.ManyRelatedField):
                areas.child_relation.error_messages["does_not_exist"] = gettext(
                    "Technical area {pk_value} is not an area of this plan's framework."
                )
            related_queryset(fields, "relationship_owner", secretariat_users(plan=plan))
            fields["relationship_owner"].error_messages["does_not_exist"] = gettext(
                "Account {pk_value} is not a member of the plan's secretariat: only the secretariat owns relationships."
            )
        return fields


def _duplicate_refused(error: DuplicatePerson) -> serializers.ValidationError:
    return serializers.ValidationError({**error.message_dict, "existing_person": [str(error.existing.pk)]})


class _Engagement(PlanScopedMixin):
    write_need = Permission.ENGAGE


@extend_schema_view(destroy=extend_schema(parameters=[DELETE_VERSION]))
class PersonViewSet(_Engagement, viewsets.ModelViewSet):
    """The people of one plan's register. A duplicate (the e-mail of another person of the plan, or the same name in
    the same organization) is refused with 400, `existing_person` holding that person's id: merge instead."""

    serializer_class = PersonSerializer
    lookup_url_kwarg = "person_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Person.objects.none()
        return person_list_for_plan(plan=self.plan)

    def get_object(self) -> Person:
        person = self.get_queryset().filter(pk=self.kwargs["person_id"]).first()
        if person is None:
            raise Http404(gettext("No such person in this plan's register."))
        person.plan = self.plan
        return person

    def _fields(self, data: dict) -> dict:
        return {name: value for name, value in data.items() if name in PERSON_FIELDS}

    def perform_create(self, serializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("version", None)
        try:
            person = person_create(plan=self.plan, by=self.request.user, fields=self._fields(data))
        except DuplicatePerson as error:
            raise _duplicate_refused(error) from None
        serializer.instance = self.get_queryset().get(pk=person.pk)

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        data = dict(serializer.validated_data)
        if not serializer.partial:  # PUT: a field left out is empty
            data = {name: data.get(name, None if name in ("organization", "user") else "") for name in PERSON_FIELDS}
        try:
            person = person_update(
                person=serializer.instance, by=self.request.user, version=version, fields=self._fields(data)
            )
        except DuplicatePerson as error:
            raise _duplicate_refused(error) from None
        serializer.instance = self.get_queryset().get(pk=person.pk)

    def perform_destroy(self, instance: Person) -> None:
        person_delete(person=instance, by=self.request.user, version=delete_version(self.request))

    def _secretariat(self) -> None:
        plan_get_for_user(user=self.request.user, plan_id=self.plan.pk, need=Permission.ENGAGE)

    @extend_schema(summary="Merge into this person", request=PersonMergeSerializer, responses={200: PersonSerializer})
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        person = self.get_object()
        body = PersonMergeSerializer(data=request.data, context={"plan": self.plan, "person": person})
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        version, other, other_version = data.pop("version"), data.pop("other", None), data.pop("other_version", None)
        try:
            person_merge(
                person=person,
                by=self.request.user,
                version=version,
                fields=self._fields(data),
                other=other,
                other_version=other_version,
            )
        except DuplicatePerson as error:
            raise _duplicate_refused(error) from None
        return Response(self.get_serializer(self.get_queryset().get(pk=person.pk)).data)

    @extend_schema(
        summary="Everything the plan holds about this person (the secretariat, on the person's request)",
        responses={200: {"type": "object"}},
    )
    @action(detail=True, methods=["get"])
    def export(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._secretariat()
        return Response(person_export(person=self.get_object()))

    @extend_schema(
        summary="Erase this person's data on request",
        request=PersonVersionSerializer,
        responses={200: PersonSerializer},
    )
    @action(detail=True, methods=["post"])
    def erase(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        person = self.get_object()
        body = PersonVersionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        person_erase(person=person, by=self.request.user, version=body.validated_data["version"])
        return Response(self.get_serializer(self.get_queryset().get(pk=person.pk)).data)


@extend_schema_view(destroy=extend_schema(parameters=[DELETE_VERSION]))
class StakeholderViewSet(_Engagement, viewsets.ModelViewSet):
    """The stakeholders of one plan's map."""

    serializer_class = StakeholderSerializer
    lookup_url_kwarg = "stakeholder_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Stakeholder.objects.none()
        return stakeholder_list_for_plan(plan=self.plan)

    def get_object(self) -> Stakeholder:
        stakeholder = self.get_queryset().filter(pk=self.kwargs["stakeholder_id"]).first()
        if stakeholder is None:
            raise Http404(gettext("No such stakeholder in this plan's map."))
        stakeholder.plan = self.plan
        return stakeholder

    def _fields(self, data: dict) -> dict:
        return {name: value for name, value in data.items() if name in STAKEHOLDER_FIELDS}

    def perform_create(self, serializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("version", None)
        stakeholder = stakeholder_create(plan=self.plan, by=self.request.user, fields=self._fields(data))
        serializer.instance = self.get_queryset().get(pk=stakeholder.pk)

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        data = dict(serializer.validated_data)
        if not serializer.partial:
            for name in ("roles", "sectors", "hazards", "technical_areas"):
                data.setdefault(name, [])
            data.setdefault("relationship_owner", None)
            data.setdefault("notes", "")
        stakeholder = stakeholder_update(
            stakeholder=serializer.instance, by=self.request.user, version=version, fields=self._fields(data)
        )
        serializer.instance = self.get_queryset().get(pk=stakeholder.pk)

    def perform_destroy(self, instance: Stakeholder) -> None:
        stakeholder_delete(stakeholder=instance, by=self.request.user, version=delete_version(self.request))


class QuadrantSerializer(serializers.Serializer):
    key = serializers.CharField()
    high_influence = serializers.BooleanField()
    high_interest = serializers.BooleanField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    strategy = serializers.CharField()
    stakeholders = serializers.ListField(
        child=serializers.IntegerField(), help_text=_("The stakeholders in it, by id.")
    )


class AreaCoverageSerializer(serializers.Serializer):
    technical_area = serializers.IntegerField()
    code = serializers.CharField()
    engaged_stakeholders = serializers.IntegerField()
    has_activities = serializers.BooleanField()


class SectorCoverageSerializer(serializers.Serializer):
    sector = serializers.CharField()
    engaged_stakeholders = serializers.IntegerField()


class CoverageSerializer(serializers.Serializer):
    areas = AreaCoverageSerializer(many=True)
    sectors = SectorCoverageSerializer(many=True)
    uncovered_areas = serializers.ListField(child=serializers.IntegerField())
    uncovered_sectors = serializers.ListField(child=serializers.CharField())


class StakeholderMapSerializer(serializers.Serializer):
    quadrants = QuadrantSerializer(many=True)
    coverage = CoverageSerializer()


class StakeholderMapView(_Engagement, APIView):
    """The plan's influence/interest grid (each quadrant's strategy and stakeholders) and the coverage of its
    technical areas and sectors by engaged stakeholders."""

    @extend_schema(responses={200: StakeholderMapSerializer})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        grid = stakeholder_grid(list(stakeholder_list_for_plan(plan=self.plan)))
        coverage = stakeholder_coverage(plan=self.plan)
        body = {
            "quadrants": [
                {
                    "key": cell.quadrant.key,
                    "high_influence": cell.quadrant.high_influence,
                    "high_interest": cell.quadrant.high_interest,
                    "label": str(cell.quadrant.label),
                    "strategy": str(cell.quadrant.strategy),
                    "stakeholders": [s.pk for s in cell.members],
                }
                for cell in grid
            ],
            "coverage": {
                "areas": [
                    {
                        "technical_area": row.area.pk,
                        "code": row.area.code,
                        "engaged_stakeholders": row.engaged,
                        "has_activities": row.has_activities,
                    }
                    for row in coverage.areas
                ],
                "sectors": [{"sector": row.value, "engaged_stakeholders": row.engaged} for row in coverage.sectors],
                "uncovered_areas": [row.area.pk for row in coverage.uncovered_areas],
                "uncovered_sectors": [row.value for row in coverage.uncovered_sectors],
            },
        }
        return Response(body, status=status.HTTP_200_OK)


routes = [
    (r"plans/(?P<plan_id>\d+)/people", PersonViewSet, "person"),
    (r"plans/(?P<plan_id>\d+)/stakeholders", StakeholderViewSet, "stakeholder"),
]
urlpatterns = [
    path("plans/<int:plan_id>/stakeholder-map/", StakeholderMapView.as_view(), name="api-stakeholder-map"),
]
