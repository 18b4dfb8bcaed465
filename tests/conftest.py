"""Shared fixtures: a country with a national and a provincial plan, organizations, and one person per role.

Services the suite needs (PostgreSQL, Redis, Chromium) are required under CI (CI=true): there a missing one
fails the run. Elsewhere the tests that need one are skipped, saying which.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.utils import translation

from naphs.celery import app as celery_app
from naphs.permissions import Role
from planning.models import CountryGrant, Framework, Jurisdiction, Plan
from stakeholders.models import Organization, PlanMembership, User

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PASSWORD = "correct-horse-battery-staple"
# Everyone the permission tests walk through: each role, a signed-in outsider, and an anonymous visitor.
ROLES = [role.value for role in Role]
PERSONAS = [*ROLES, "outsider", "anonymous"]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


def need_service(available: bool, what: str) -> None:
    """Skip a test whose service is missing, except under CI, where that fails the run."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI but is not available", pytrace=False)
    pytest.skip(f"{what} is not available")


def pytest_configure(config) -> None:
    if IN_CI and settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise pytest.UsageError("Under CI the suite runs on PostgreSQL: set DATABASE_URL.")
    if IN_CI and not os.environ.get("REDIS_URL"):
        raise pytest.UsageError("Under CI the suite runs against Redis: set REDIS_URL.")


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Real hashing costs most of a second per account; the tests create many accounts."""
    from django.contrib.auth.hashers import get_hashers

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_hashers.cache_clear()


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    """Jobs and e-mail run in-process when the transaction commits; files go to a fresh folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


def cache_empty() -> None:
    """Forget every count the limits keep in the cache. On Redis only the cache's own keys go: the Celery broker
    may share the database."""
    from django.core.cache import cache

    options = settings.CACHES["default"]
    if options["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        import redis

        client = redis.Redis.from_url(options["LOCATION"])
        keys = list(client.scan_iter(match=f"{options['KEY_PREFIX']}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    """A page served in a person's language leaves that language active in the thread (the middleware activates
    it, nothing deactivates it), where the next test would read area names in it: each test ends in English."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _empty_cache():
    """API throttles and password-reset limits count in the shared cache: each test starts from none."""
    cache_empty()
    yield


@pytest.fixture
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    need_service(os.path.exists(path), f"Chromium ({path})")
    return path


@pytest.fixture
def country(db) -> Jurisdiction:
    from planning.services import jurisdiction_create

    return jurisdiction_create(level="country", name="Testland", code="XT")


@pytest.fixture
def province(country) -> Jurisdiction:
    from planning.services import jurisdiction_create

    return jurisdiction_create(level="province", name="North Province", parent=country)


@pytest.fixture
def other_country(db) -> Jurisdiction:
    from planning.services import jurisdiction_create

    return jurisdiction_create(level="country", name="Elsewhere", code="XE")


@pytest.fixture
def moh(country) -> Organization:
    return Organization.objects.create(
        name="Ministry of Health", acronym="MOH", kind="ministry", sectors=["human_health"], jurisdiction=country
    )


@pytest.fixture
def moa(country) -> Organization:
    return Organization.objects.create(
        name="Ministry of Agriculture", acronym="MOA", kind="ministry", sectors=["animal_health"], jurisdiction=country
    )


def make_user(username: str, **extra) -> User:
    return User.objects.create_user(
        username=username,
        email=f"{username}@example.org",
        password=PASSWORD,
        first_name=username.replace("_", " ").title(),
        **extra,
    )


def give_grant(user: User, country: Jurisdiction) -> CountryGrant:
    """An administrator's grant: the person may open national plans of the country."""
    return CountryGrant.objects.create(user=user, country=country)


@pytest.fixture
def jee3(db) -> Framework:
    """JEE 3rd edition, as the migration loads it. Tests on a flushed database (transactional ones, which
    empty every table after they run) load the reference again."""
    from planning.models import CrosswalkLink, Indicator, TechnicalArea
    from planning.reference import reference_load

    if not Framework.objects.filter(code="JEE3").exists():
        from planning.models import BenchmarkIndicatorLink
        from planning.reference import benchmark_mapping_load

        reference_load(
            Framework=Framework, TechnicalArea=TechnicalArea, Indicator=Indicator, CrosswalkLink=CrosswalkLink
        )
        benchmark_mapping_load(Indicator=Indicator, BenchmarkIndicatorLink=BenchmarkIndicatorLink)
    return Framework.objects.get(code="JEE3")


@pytest.fixture
def plan(country, jee3) -> Plan:
    return Plan.objects.create(
        framework=jee3,
        jurisdiction=country,
        title="Testland NAPHS 2026–2030",
        kind="strategic",
        first_year=2026,
        last_year=2030,
    )


@pytest.fixture
def provincial_plan(plan, province) -> Plan:
    return Plan.objects.create(
        jurisdiction=province,
        title="North Province plan",
        kind="strategic",
        first_year=2026,
        last_year=2030,
        parent=plan,
    )


@pytest.fixture
def people(plan, moh, moa) -> dict[str, User]:
    """One member of `plan` per role (user name = role), plus an outsider who belongs to no plan."""
    people = {}
    for role in ROLES:
        user = make_user(role)
        organization = moa if role == Role.FOCAL_POINT else moh
        PlanMembership.objects.create(plan=plan, user=user, role=role, organization=organization)
        people[role] = user
    people["outsider"] = make_user("outsider")
    return people


@pytest.fixture
def lead(people) -> User:
    return people[Role.SECRETARIAT_LEAD]


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()
