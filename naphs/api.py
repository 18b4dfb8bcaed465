"""What every API endpoint shares: error translation, the refusal of fields that cannot be written, the
schema's error responses, and how a job is answered."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Model, ProtectedError, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.relations import MANY_RELATION_KWARGS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from naphs.errors import EditConflict, JobLimitReached, PlanFrozen
from naphs.languages import bidi_controls_refuse
from naphs.models import Job

NON_FIELD_ERRORS = api_settings.NON_FIELD_ERRORS_KEY


def exception_handler(exc, context):
    """Services raise Django's ValidationError and EditConflict; the API answers 400 (409 for a deletion) and 409.
    A write to an endorsed plan answers 423 with the code `plan_endorsed`. Too many requests (throttled, sign-in
    paused, too many jobs) answer 429 with a detail and a code."""
    request = context.get("request")
    if isinstance(exc, DjangoValidationError) and request is not None and request.method == "DELETE":
        # A service refuses a deletion because of what else refers to the object: a conflict with the state of
        # other records (as a ProtectedError below), not a fault of the request.
        return Response({"detail": " ".join(exc.messages), "code": "protected"}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        detail = dict(exc.message_dict) if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
        if "__all__" in detail:  # Django's key for errors of no field; DRF clients expect DRF's
            detail[NON_FIELD_ERRORS] = detail.pop("__all__")
        exc = ValidationError(detail=detail)
    if isinstance(exc, ValidationError) and not isinstance(exc.detail, Mapping):
        # A refusal of no field in particular: the same shape as every other 400, {field: [messages]}.
        exc = ValidationError(detail={NON_FIELD_ERRORS: exc.detail})
    if isinstance(exc, EditConflict):
        return Response({"detail": str(exc), "code": "edit_conflict"}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, ProtectedError):
        return Response(
            {"detail": _("Other records still refer to this one; it cannot be deleted."), "code": "protected"},
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, PlanFrozen):
        return Response({"detail": str(exc), "code": "plan_endorsed"}, status=status.HTTP_423_LOCKED)
    elif isinstance(exc, JobLimitReached):
        return Response({"detail": str(exc), "code": "job_limit"}, status=status.HTTP_429_TOO_MANY_REQUESTS)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, APIException) and exc.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        response.data = {"detail": str(exc.detail), "code": exc.get_codes()}  # Retry-After is set already
    return response


def decimal_pattern(field: serializers.DecimalField) -> str:
    """The decimal strings a field takes, as a regular expression: its digits, its places, no sign where it takes
    no negative amount, and a maximum that is a power of ten (as the product's are) exactly."""
    places = field.decimal_places
    fraction = rf"(?:\.\d{{0,{places}}})?" if places else ""
    numbers = [rf"\d+{fraction}" if field.max_whole_digits is None else rf"\d{{1,{field.max_whole_digits}}}{fraction}"]
    if places:
        numbers.append(rf"\.\d{{1,{places}}}")
    if field.max_value is not None:
        exponent = Decimal(field.max_value).log10()
        if exponent == exponent.to_integral_value() and exponent >= 1:
            power = int(exponent)  # below 10^power, or 10^power itself
            numbers[0] = rf"\d{{1,{power}}}{fraction}"
            numbers.append(rf"10{{{power}}}(?:\.0{{0,{places}}})?" if places else rf"10{{{power}}}")
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    return rf"^{sign}(?:{'|'.join(numbers)})$"


class DecimalField(serializers.DecimalField):
    """A decimal amount, sent as a string ("1250.00") as the schema says, never as a floating point number."""

    default_error_messages = {
        "not_a_string": _('Send a decimal number as a string, e.g. "1250.00".'),
        "malformed": _("Write a decimal number with digits and a point, e.g. 1250.00."),
    }

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str):
            self.fail("not_a_string")
        if not re.fullmatch(r"-?(?:\d+(?:\.\d*)?|\.\d+)", data):  # no exponent, sign or space: digits and a point
            self.fail("malformed")
        return super().to_internal_value(data)


class VersionField(serializers.IntegerField):
    """The version the client last read; required on every change, so a stale edit is refused with 409."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("help_text", "The version you last read. A change based on an older version gets 409.")
        super().__init__(**kwargs)


# A DELETE's `version` in the query: the row as the client last read it (409 when it moved on since); without it the
# row is deleted whatever its version.
DELETE_VERSION = OpenApiParameter(
    "version", {"type": "integer", "minimum": 1}, description="The version you last read: a stale delete gets 409."
)


def delete_version(request: Request) -> int | None:
    """A DELETE's `version` from the query, None when it is not sent; 400 unless it is a whole number."""
    raw = request.query_params.get("version", "")
    if raw and not (raw.isascii() and raw.isdigit()):
        raise serializers.ValidationError({"version": [gettext("Send the version as a whole number.")]})
    return int(raw) if raw else None


def require_version(serializer: serializers.Serializer) -> int:
    version = serializer.validated_data.pop("version", None)
    if version is None:
        raise ValidationError({"version": [_("Send the version you last read, to detect conflicting edits.")]})
    return version


# Refuse a field the serializer does not write, rather than silently ignoring it: an unknown name (a typo, a
# field of another version of the API), a read-only field (an id, a computed total), and on a change (PUT,
# PATCH) a field that is set once, when the object is created (`Meta.create_only_fields`).
#
# Every serializer of a request body derives from this, through the Serializer and ModelSerializer below; the
# schema says the same (AutoSchema below): `additionalProperties: false`, and the request body of a change
# without the fields set at creation.
# (Comments, not docstrings: the schema would show a docstring as the description of every serializer.)
class StrictFieldsMixin:
    unknown_field_message = _("Unknown field: this endpoint has no field of that name.")
    read_only_field_message = _("This field cannot be written here.")
    create_only_field_message = _("This field is set when the object is created and cannot be changed.")
    change_only_field_message = _("Send the version only to change an object, as the version you last read.")
    # A better word than create_only_field_message for some of the fields set at creation: {field: message}.
    create_only_hints: dict[str, str] = {}

    @property
    def is_change(self) -> bool:
        """Whether the serializer changes an object that exists (its create-only fields are then read-only)."""
        return isinstance(self.instance, Model)  # type: ignore[attr-defined]  # a mixin of DRF's serializers

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()  # type: ignore[misc]  # a mixin of DRF's serializers
        if self.is_change:
            for name in create_only_fields(self):
                fields[name].read_only = True
        return fields

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            fields = self.fields  # type: ignore[attr-defined]  # a mixin of DRF's serializers
            create_only = create_only_fields(self) if self.is_change else ()
            change_only = () if self.is_change else change_only_fields(fields)
            refused: dict[str, Any] = {}  # field: its messages
            for name in data:
                if name not in fields:
                    refused[name] = [self.unknown_field_message]
                elif name in change_only:
                    refused[name] = [self.change_only_field_message]
                elif name in create_only:
                    refused[name] = [self.create_only_hints.get(name, self.create_only_field_message)]
                elif fields[name].read_only:
                    refused[name] = [self.read_only_field_message]
                elif isinstance(fields[name], serializers.CharField):
                    try:  # on every text field: a name, a title, a description cannot disguise itself
                        bidi_controls_refuse(data[name], field=fields[name].label or name)
                    except DjangoValidationError as error:
                        refused[name] = error.messages
            if refused:
                raise ValidationError(refused)
        return super().to_internal_value(data)  # type: ignore[misc]  # a mixin of DRF's serializers


def related_queryset(fields: Mapping[str, serializers.Field], name: str, queryset: QuerySet[Any]) -> None:
    """Narrow the rows the serializer field `name` (a reference, or the child of many) accepts to `queryset`:
    what the person may name."""
    field = fields[name]
    if isinstance(field, serializers.ManyRelatedField):
        field = field.child_relation
    if not isinstance(field, serializers.RelatedField):
        raise TypeError(f"{name} is not a reference to rows.")
    field.queryset = queryset  # type: ignore[arg-type]  # the DRF stubs type this attribute as a Manager descriptor


def create_only_fields(serializer: Any) -> tuple[str, ...]:
    return tuple(getattr(getattr(serializer, "Meta", None), "create_only_fields", ()))


def change_only_fields(fields: Mapping[str, serializers.Field]) -> tuple[str, ...]:
    """The fields sent only to change an object: the version it was read at (VersionField(required=False))."""
    return tuple(name for name, field in fields.items() if isinstance(field, VersionField) and not field.required)


class Serializer(StrictFieldsMixin, serializers.Serializer):
    pass  # the base of every API serializer that reads a request body


class PrefetchedManyRelatedField(serializers.ManyRelatedField):
    """A list of related objects (ids) read straight from the rows a list prefetched, when it did: the same list
    the related manager would give, without building a manager per object and field (a page of 78 activities
    built 300, a fifth of the page's work). Anything not prefetched is read as DRF reads it."""

    def get_attribute(self, instance: Any) -> Any:
        cache = getattr(instance, "_prefetched_objects_cache", None)
        if cache and len(self.source_attrs) == 1 and self.source_attrs[0] in cache:
            return cache[self.source_attrs[0]]
        return super().get_attribute(instance)


class PrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """DRF's, whose `many=True` form is a PrefetchedManyRelatedField."""

    @classmethod
    def many_init(cls, *args: Any, **kwargs: Any) -> PrefetchedManyRelatedField:
        list_kwargs: dict[str, Any] = {"child_relation": cls(*args, **kwargs)}
        list_kwargs |= {key: value for key, value in kwargs.items() if key in MANY_RELATION_KWARGS}
        return PrefetchedManyRelatedField(**list_kwargs)


class ModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    # The base of every API model serializer; its model's decimals are strings, as documented.
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: DecimalField,
    }
    serializer_related_field = PrimaryKeyRelatedField


# --- The schema ---------------------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """Why a request was refused (401, 403, 404, 409, 415, 429)."""

    detail = serializers.CharField(help_text=_("What went wrong, in words for a person."))
    code = serializers.CharField(required=False, help_text=_("A stable code for programs, e.g. edit_conflict."))


VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Each key names a field (`non_field_errors` for the request as a whole) with what is wrong with "
    "it: a list of messages, or for a nested object or list the same shape again. Nothing was saved.",
    "additionalProperties": {},
    "example": {"last_year": ["The last year cannot be before the first year."]},
}

# (status, description, when it applies to an operation). One set for every operation: an endpoint documents
# only its successes, AutoSchema adds these.
ERROR_RESPONSES = [
    ("400", "The request is not valid; nothing was saved.", lambda op: op.takes_input),
    ("401", "Not signed in: send `Authorization: Token <token>`, or sign in.", lambda op: op.signed_in),
    ("403", "Signed in, but your role does not allow this.", lambda op: op.signed_in),
    ("404", "No such object, or not one you may see.", lambda op: op.has_path_parameters or op.paginated),
    (
        "409",
        "Someone changed it since you read it (send the version you last read), or other records still need it.",
        lambda op: op.changes,
    ),
    ("415", "The body is not in a media type this endpoint reads.", lambda op: op.has_body),
    ("429", "Too many requests: wait for the seconds `Retry-After` says, then try again.", lambda op: True),
]


class _Operation:
    """What decides which errors an operation can answer."""

    def __init__(self, operation: dict[str, Any], method: str) -> None:
        parameters = operation.get("parameters", [])
        self.has_body = "requestBody" in operation
        self.has_path_parameters = any(parameter["in"] == "path" for parameter in parameters)
        self.paginated = any(parameter["in"] == "query" and parameter["name"] == "page" for parameter in parameters)
        self.takes_input = self.has_body or any(parameter["in"] == "query" for parameter in parameters)
        self.signed_in = any(requirement for requirement in operation.get("security", [{}]))
        self.changes = method not in SAFE_METHODS


class AutoSchema(openapi.AutoSchema):
    """The project's schema: every operation documents the errors it can answer, and a request body refuses
    fields it does not name (`additionalProperties: false`), as StrictFieldsMixin does."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["schema"] == {"type": "string", "pattern": r"^\d+$"}:
                parameter["schema"] = {"type": "integer", "minimum": 0}  # an id, matched by \d+ in the URL
        facts = _Operation(operation, self.method)
        responses = operation["responses"]
        for code, description, applies in ERROR_RESPONSES:
            if code in responses or not applies(facts):
                continue
            schema = self._validation_error_ref() if code == "400" else self._error_ref()
            response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
            if code == "429":
                response["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
                }
            responses[code] = response
        return operation

    def _error_ref(self) -> dict[str, str]:
        return self.resolve_serializer(ErrorSerializer, "response").ref

    def _validation_error_ref(self) -> dict[str, str]:
        component = ResolvedComponent(
            name="ValidationError",
            type=ResolvedComponent.SCHEMA,
            object="ValidationError",
            schema=VALIDATION_ERROR_SCHEMA,
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _is_change(self, serializer) -> bool:
        """A PUT or PATCH of a serializer whose request differs from its POST's: its own request component."""
        fields = getattr(serializer, "fields", {})
        return self.method in ("PUT", "PATCH") and bool(create_only_fields(serializer) or change_only_fields(fields))

    def map_parsers(self):
        # JSON is the API's language; where an endpoint reads JSON, forms (for the browsable API) go undocumented.
        media_types = super().map_parsers()
        return ["application/json"] if "application/json" in media_types else media_types

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and schema.get("type") == "string":
            schema["pattern"] = decimal_pattern(field)
        return schema

    def get_serializer_name(self, serializer, direction) -> str:
        name = super().get_serializer_name(serializer, direction)
        if direction == "request" and self._is_change(serializer):
            name = name.removesuffix("Serializer") + "ChangeSerializer"  # PlanChangeRequest, PatchedPlanChangeRequest
        return name

    def _postprocess_serializer_schema(self, schema, serializer, direction):
        schema = super()._postprocess_serializer_schema(schema, serializer, direction)
        strict = isinstance(serializer, serializers.Serializer) and isinstance(serializer, StrictFieldsMixin)
        if direction == "request" and strict and schema.get("type") == "object":
            schema["additionalProperties"] = False
            properties, required = schema.get("properties", {}), schema.setdefault("required", [])
            versions = change_only_fields(serializer.fields)
            if self.method in ("PUT", "PATCH"):
                for name in create_only_fields(serializer) if self._is_change(serializer) else ():
                    properties.pop(name, None)
                    if name in required:
                        required.remove(name)
                required.extend(name for name in versions if name in properties and name not in required)
            else:
                for name in versions:
                    properties.pop(name, None)
            if not required:
                del schema["required"]
        return schema


class JobSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "plan",
            "status",
            "progress",
            "message",
            "created_at",
            "started_at",
            "finished_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, job: Job) -> str | None:
        if job.status != Job.Status.SUCCEEDED or not job.result:
            return None
        return reverse("job-file", kwargs={"pk": job.pk}, request=self.context.get("request"))


def job_accepted(job: Job, request) -> Response:
    return Response(JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


job_accepted_schema = extend_schema(request=None, responses={202: JobSerializer})
