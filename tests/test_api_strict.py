"""Every request body the API reads refuses what it cannot write: a read-only, unknown or create-only field
sent is a 400 naming it, never silently dropped."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from naphs.api import StrictFieldsMixin

WRITE_METHODS = ("POST", "PUT", "PATCH")


def request_serializers():
    """(method path, serializer class) of every operation that reads a body, as the schema describes them."""
    generator = SchemaGenerator()
    generator._initialise_endpoints()
    for path, _regex, method, callback in generator.endpoints:
        if method not in WRITE_METHODS:
            continue
        view = generator.create_view(callback, method)
        # What the generator sets before it asks for an operation: a schema scoped to some methods reads it.
        view.schema.path, view.schema.method = path, method
        found = view.schema.get_request_serializer()
        if found is None:
            continue
        options = found.serializers if isinstance(found, PolymorphicProxySerializer) else [found]
        for option in options:
            cls = option if isinstance(option, type) else type(option)
            if issubclass(cls, serializers.BaseSerializer):
                yield f"{method} {path}", cls


def test_the_api_reads_bodies_through_serializers_that_refuse_what_they_cannot_write():
    found = list(request_serializers())
    assert len(found) > 20  # the walk found the API's bodies
    lax = sorted({f"{where}: {cls.__name__}" for where, cls in found if not issubclass(cls, StrictFieldsMixin)})
    assert lax == []


@pytest.fixture
def as_lead(api_client, lead):
    api_client.force_authenticate(lead)
    return api_client


def test_a_token_request_with_a_field_it_does_not_read_is_refused(api_client, lead):
    response = api_client.post("/api/auth/token/", {"username": "x", "password": "y", "expires": "never"})
    assert response.status_code == 400
    assert response.json() == {"expires": ["Unknown field: this endpoint has no field of that name."]}


@pytest.mark.parametrize(
    "body",
    [{"status": "approved"}, {"created_at": "2020-01-01T00:00:00Z"}, {"my_role": "viewer"}],
)
def test_patching_a_field_of_a_plan_that_cannot_be_written_is_refused_naming_it_and_changes_nothing(
    as_lead, plan, body
):
    response = as_lead.patch(f"/api/plans/{plan.pk}/", {**body, "version": 1}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == list(body)
    plan.refresh_from_db()
    assert (plan.status, plan.version) == ("draft", 1)
