"""The demo, as a new user meets it: each demo person can do what README says they can."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from naphs.management.commands.demo_load import NATIONAL_PLAN, TECHNICAL_AREAS
from planning.models import Activity, Plan
from stakeholders.models import PlanMembership, User

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def demo(jee3, settings, tmp_path) -> Plan:
    settings.DEBUG = True  # the demo refuses to load in production
    call_command("demo_load", password="demo-password-for-tests", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Plan.objects.get(title=NATIONAL_PLAN)


def test_the_demo_technical_lead_edits_the_activities_of_their_areas_and_no_others(demo, api_client):
    techlead = User.objects.get(username="techlead")
    areas = set(PlanMembership.objects.get(plan=demo, user=techlead).technical_areas.values_list("code", flat=True))
    assert areas == set(TECHNICAL_AREAS["techlead"]) == {"D1", "D2"}
    own = Activity.objects.filter(plan=demo, technical_area__code="D2").first()
    other = Activity.objects.filter(plan=demo, technical_area__code="P1").first()
    api_client.force_authenticate(techlead)

    edited = api_client.patch(
        reverse("activity-detail", args=[demo.pk, own.pk]), {"title": "Edited", "version": own.version}, format="json"
    )
    refused = api_client.patch(
        reverse("activity-detail", args=[demo.pk, other.pk]), {"title": "X", "version": other.version}, format="json"
    )

    assert (edited.status_code, refused.status_code) == (200, 403)
    assert Activity.objects.get(pk=other.pk).title == other.title


def test_a_second_load_gives_the_technical_lead_their_areas_back(demo):
    membership = PlanMembership.objects.get(plan=demo, user__username="techlead")
    membership.technical_areas.clear()
    call_command("demo_load", password="demo-password-for-tests", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert set(membership.technical_areas.values_list("code", flat=True)) == {"D1", "D2"}


def test_the_readme_says_what_each_demo_person_can_do_and_names_the_technical_leads_areas():
    rows = dict(re.findall(r"^\| `(\w+)` \| (.+) \|$", README.read_text(), re.M))
    assert {"lead", "secretariat", "techlead", "focalpoint", "reviewer", "viewer", "admin"} <= set(rows)
    for code in TECHNICAL_AREAS["techlead"]:
        assert code in rows["techlead"]
