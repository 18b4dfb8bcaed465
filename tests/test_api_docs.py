"""The API schema and its docs: behind sign-in when they are not public (production's default), open to anyone
when they are (the embedded mode, or API_DOCS_PUBLIC=true). Token clients fetch the schema with their token."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from naphs.permissions import Role

pytestmark = pytest.mark.django_db

DOCS_PAGES = ("/api/docs/", "/api/redoc/")


@pytest.fixture
def private(settings):
    settings.API_DOCS_PUBLIC = False


def test_private_docs_send_a_visitor_who_is_not_signed_in_to_the_login_page(client, private):
    for url in DOCS_PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"] == f"/accounts/login/?next={url}"
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 401
    assert "openapi" not in schema.content.decode()
    assert schema.headers["WWW-Authenticate"] == "Token"


def test_private_docs_are_open_to_a_signed_in_member(client, private, people):
    client.force_login(people[Role.VIEWER])
    for url in DOCS_PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"NAPHS Planner API" in response.content
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "NAPHS Planner API"


def test_a_token_client_fetches_the_private_schema_with_its_token(api_client, private, people):
    assert api_client.get("/api/schema/?format=json").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert api_client.get("/api/schema/?format=json").status_code == 401
    token = Token.objects.create(user=people["outsider"])  # a member of no plan: the schema is the same for all
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    schema = api_client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert "/api/plans/" in schema.json()["paths"]


def test_public_docs_are_open_to_anyone(client, settings):
    settings.API_DOCS_PUBLIC = True
    for url in DOCS_PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "NAPHS Planner API"


def test_the_docs_pages_start_from_static_scripts(client, settings):
    settings.API_DOCS_PUBLIC = True
    swagger = client.get("/api/docs/").content.decode()
    assert '<script src="/static/js/api-docs-swagger.js"></script>' in swagger
    redoc = client.get("/api/redoc/")
    policy = redoc.headers["Content-Security-Policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f"style-src 'self' 'nonce-{nonce}';" in policy
    assert "script-src 'self';" in policy  # scripts are not let through by the nonce
    assert f'<script src="/static/js/api-docs-redoc.js" nonce="{nonce}"></script>' in redoc.content.decode()
