"""The project's own checks, run as CI would: lint and formatting, migrations, deployment checks, API schema.

Each runs in a subprocess with this virtualenv's Python, from the project folder.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
# Settings a deployment could use to switch off a security default, and the test suite's own
# DJANGO_ALLOW_ASYNC_UNSAFE (tests/conftest.py): a production-like run leaves them all unset.
RELAXING_SETTINGS = (
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "EMAIL_BACKEND",
)


@dataclass
class Run:
    command: str
    returncode: int
    output: str  # stdout and stderr

    def __str__(self) -> str:  # what a failed assertion shows: the command and everything it printed
        return f"\n$ {self.command} (exit {self.returncode})\n{self.output}"


def run(*args: str, env: dict[str, str] | None = None) -> Run:
    result = subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_DIR,
        env=env if env is not None else os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return Run(command=" ".join(["python", *args]), returncode=result.returncode, output=result.stdout + result.stderr)


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """The environment, with the files Django would create (SQLite, media, broker) kept in a temporary folder."""
    return {**os.environ, "VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "naphs.settings"}


def test_ruff_finds_nothing_to_fix():
    result = run("-m", "ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, str(result)


def test_the_code_is_formatted_with_ruff():
    result = run("-m", "ruff", "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, str(result)


def test_every_model_change_has_a_migration(env):
    env.pop("DATABASE_URL", None)  # an empty SQLite database: nothing to compare the history with
    result = run("manage.py", "makemigrations", "--check", "--dry-run", env=env)
    assert result.returncode == 0, str(result)
    assert "No changes detected" in result.output, str(result)


def test_the_deployment_checks_pass_with_production_settings(env):
    for name in RELAXING_SETTINGS:
        env.pop(name, None)
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),  # 86 characters, as .env.example suggests
        ALLOWED_HOSTS="naphs.example.org",
    )
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, str(result)
    assert "System check identified no issues" in result.output, str(result)
    assert "WARNING" not in result.output.upper(), str(result)


def test_the_api_schema_is_valid_and_generated_without_warnings(env, tmp_path):
    schema = tmp_path / "schema.yml"
    result = run("manage.py", "spectacular", "--fail-on-warn", "--validate", "--file", str(schema), env=env)
    assert result.returncode == 0, str(result)
    assert "warning" not in result.output.lower(), str(result)
    assert "error" not in result.output.lower(), str(result)
    text = schema.read_text()
    assert text.startswith("openapi: 3"), text[:200]
    for path in ("/api/plans/", "/api/jobs/{id}/", "/api/plans/{plan_id}/directory-export/"):
        assert f"  {path}:" in text, path
