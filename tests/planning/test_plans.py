"""Opening plans and changing their settings: the rules a secretariat relies on, and bad input."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from naphs.errors import EditConflict
from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.models import Plan
from planning.services import jurisdiction_create, plan_create, plan_update
from stakeholders.models import PlanMembership
from tests.conftest import give_grant

pytestmark = pytest.mark.django_db


def test_opening_a_plan_makes_its_creator_secretariat_lead(country, people):
    user = people["outsider"]
    give_grant(user, country)
    plan = plan_create(
        by=user, jurisdiction=country, title="New plan", kind="strategic", first_year=2027, last_year=2031
    )
    assert plan.status == Plan.Status.DRAFT
    assert PlanMembership.objects.get(plan=plan, user=user).role == Role.SECRETARIAT_LEAD
    assert AuditEvent.objects.filter(plan=plan, action="created").exists()


def test_opening_a_plan_under_none_needs_a_grant_for_its_country(country, other_country, lead):
    give_grant(lead, other_country)
    with pytest.raises(PermissionDenied) as error:
        plan_create(by=lead, jurisdiction=country, title="Ungranted", kind="strategic", first_year=2027, last_year=2031)
    assert "needs an administrator's grant for Testland" in str(error.value)
    assert not Plan.objects.filter(title="Ungranted").exists()


def test_a_plan_whose_last_year_precedes_its_first_is_refused_and_nothing_saved(country, lead):
    give_grant(lead, country)
    before = Plan.objects.count()
    with pytest.raises(ValidationError) as error:
        plan_create(by=lead, jurisdiction=country, title="Backwards", kind="strategic", first_year=2030, last_year=2026)
    assert "last_year" in error.value.message_dict
    assert "precedes" in error.value.message_dict["last_year"][0]
    assert Plan.objects.count() == before
    assert not PlanMembership.objects.filter(plan__title="Backwards").exists()


def test_a_provincial_plan_under_another_countrys_plan_is_refused(plan, other_country, lead):
    elsewhere_province = jurisdiction_create(level="province", name="Far Province", parent=other_country)
    with pytest.raises(ValidationError) as error:
        plan_create(
            by=lead,
            jurisdiction=elsewhere_province,
            title="Wrong parent",
            kind="strategic",
            first_year=2026,
            last_year=2030,
            parent=plan,
        )
    assert "another country" in error.value.message_dict["parent"][0]
    assert not Plan.objects.filter(title="Wrong parent").exists()


def test_an_operational_plan_must_lie_inside_its_strategic_plan(plan, lead):
    with pytest.raises(ValidationError) as error:
        plan_create(
            by=lead,
            jurisdiction=plan.jurisdiction,
            title="Late",
            kind="operational",
            first_year=2030,
            last_year=2031,
            parent=plan,
        )
    assert "inside its strategic plan" in error.value.message_dict["parent"][0]
    operational = plan_create(
        by=lead,
        jurisdiction=plan.jurisdiction,
        title="Year one",
        kind="operational",
        first_year=2026,
        last_year=2026,
        parent=plan,
    )
    assert operational.parent == plan


def test_an_operational_plan_covers_at_most_two_years(country, lead):
    give_grant(lead, country)
    with pytest.raises(ValidationError) as error:
        plan_create(
            by=lead, jurisdiction=country, title="Too long", kind="operational", first_year=2026, last_year=2028
        )
    assert "12 to 24 months" in error.value.message_dict["last_year"][0]


def test_a_stale_settings_save_is_refused_and_the_first_save_kept(plan, lead):
    stale_version = plan.version
    plan_update(plan=Plan.objects.get(pk=plan.pk), by=lead, version=stale_version, title="First title")
    with pytest.raises(EditConflict):
        plan_update(plan=Plan.objects.get(pk=plan.pk), by=lead, version=stale_version, title="Second title")
    plan.refresh_from_db()
    assert plan.title == "First title"
    assert plan.version == stale_version + 1
    event = AuditEvent.objects.get(plan=plan, action="changed settings of")
    assert event.actor == lead
    assert event.changes == {"title": ["Testland NAPHS 2026–2030", "First title"]}


def test_a_country_needs_a_real_iso_code(db):
    with pytest.raises(ValidationError) as error:
        jurisdiction_create(level="country", name="Nowhere", code="QQQ")
    assert "ISO 3166-1" in error.value.message_dict["code"][0]
    kenya = jurisdiction_create(level="country", name="Kenya", code="ke")
    assert kenya.code == "KE"
    assert kenya.country_id == kenya.pk


def test_a_district_sits_under_a_province(country, province):
    with pytest.raises(ValidationError) as error:
        jurisdiction_create(level="district", name="Loose district", parent=country)
    assert "must be a province" in error.value.message_dict["parent"][0]
    district = jurisdiction_create(level="district", name="River District", parent=province)
    assert district.country_id == country.pk
