"""What production (DEBUG=false) refuses or closes by itself: a weak SECRET_KEY stops it at start, and the API
schema and docs are for signed-in people unless API_DOCS_PUBLIC=true.

Each case starts Django in a subprocess with this virtualenv's Python, as a deployment would.
"""

from __future__ import annotations

import os
import re
import secrets

import pytest

from tests.test_project_checks import PROJECT_DIR, RELAXING_SETTINGS, run

# The placeholder a fresh copy of .env.example carries: read from the file, so the two cannot drift apart.
PLACEHOLDER = re.search(r"^SECRET_KEY=(.*)$", (PROJECT_DIR / ".env.example").read_text(), re.MULTILINE)[1]
SETUP = "import django; django.setup(); from django.conf import settings; "


@pytest.fixture
def production(tmp_path) -> dict[str, str]:
    """A production environment with a good key; each test spoils what it checks."""
    env = {**os.environ, "VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "naphs.settings"}
    for name in (*RELAXING_SETTINGS, "API_DOCS_PUBLIC"):
        env.pop(name, None)
    env.update(DEBUG="false", SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="naphs.example.org")
    return env


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (None, "must be set"),
        ("", "must be set"),
        (PLACEHOLDER, "placeholder of .env.example"),
        ("a-short-key", "11 characters long; it needs at least 50"),
        (secrets.token_urlsafe(64)[:49], "49 characters long; it needs at least 50"),
        ("abab" * 20, "only 2 different characters"),
        ("django-insecure-" + secrets.token_urlsafe(64), "development key"),
    ],
    ids=["unset", "empty", "placeholder", "short", "49 characters", "2 distinct characters", "django-insecure"],
)
def test_production_refuses_to_start_with_a_weak_secret_key(production, key, reason):
    if key is None:
        production.pop("SECRET_KEY")
    else:
        production["SECRET_KEY"] = key
    result = run("-c", SETUP + "print('started')", env=production)
    assert result.returncode != 0, str(result)
    assert "started" not in result.output.splitlines(), str(result)
    assert "ImproperlyConfigured" in result.output, str(result)
    assert reason in result.output, str(result)
    # The message says how to make a good one.
    assert 'python3 -c "import secrets; print(secrets.token_urlsafe(64))"' in result.output, str(result)


def test_production_starts_with_a_generated_secret_key(production):
    result = run("-c", SETUP + "print('started')", env=production)
    assert result.returncode == 0, str(result)
    assert "started" in result.output.splitlines(), str(result)


def test_the_embedded_mode_still_starts_on_the_placeholder_or_without_a_key(production):
    production["DEBUG"] = "true"
    for key in (PLACEHOLDER, ""):
        production["SECRET_KEY"] = key
        result = run("-c", SETUP + "print('started')", env=production)
        assert result.returncode == 0, str(result)


@pytest.mark.parametrize(
    ("debug", "docs_public", "expected"),
    [("false", None, False), ("false", "false", False), ("false", "true", True), ("true", None, True)],
)
def test_the_api_docs_are_private_in_production_unless_configured_public(production, debug, docs_public, expected):
    production["DEBUG"] = debug
    if docs_public is not None:
        production["API_DOCS_PUBLIC"] = docs_public
    result = run("-c", SETUP + "print('public:', settings.API_DOCS_PUBLIC)", env=production)
    assert result.returncode == 0, str(result)
    assert f"public: {expected}" in result.output, str(result)
