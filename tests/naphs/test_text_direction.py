"""Text typed in one script into a page of another reads as written: inputs write it in its own direction, and the
invisible characters that force a direction (and so can disguise a name) are refused, naming the field."""

import pytest
from django.core.exceptions import ValidationError

from naphs.languages import bidi_controls_in, bidi_controls_refuse
from planning.models import FunctionalGroup, Plan

pytestmark = pytest.mark.django_db

OVERRIDE, ISOLATE, MARK = "\u202e", "\u2067", "\u200f"


def test_the_characters_that_force_a_direction_are_found_and_the_marks_are_not():
    assert bidi_controls_in(f"abc{OVERRIDE}def{OVERRIDE}\u202a{ISOLATE}") == ["U+202E", "U+202A", "U+2067"]
    assert bidi_controls_in(f"خطة{MARK} Demoland\u200e") == []
    with pytest.raises(ValidationError) as refused:
        bidi_controls_refuse(f"x{ISOLATE}y", field="organization name")
    assert refused.value.messages[0].startswith("Organization name holds invisible characters")
    assert "(U+2067)" in refused.value.messages[0]
    bidi_controls_refuse(None, field="anything")  # not text: nothing to refuse


def test_a_form_refuses_a_disguised_name_beside_its_field_and_saves_nothing(client, plan, lead):
    client.force_login(lead)
    response = client.post(f"/plans/{plan.pk}/groups/", {"name": f"Labs{OVERRIDE}sbaL"})
    page = response.content.decode()
    assert response.status_code == 422
    assert "Name holds invisible characters that change the direction text is written in (U+202E)" in page
    assert not FunctionalGroup.objects.filter(plan=plan).exists()


def test_a_name_in_arabic_with_its_marks_is_taken(client, plan, lead):
    client.force_login(lead)
    response = client.post(f"/plans/{plan.pk}/groups/", {"name": f"المختبرات{MARK} Labs"})
    assert response.status_code == 302
    assert FunctionalGroup.objects.get(plan=plan).name == f"المختبرات{MARK} Labs"


def test_the_api_refuses_a_disguised_text_naming_the_field(api_client, plan, lead):
    api_client.force_authenticate(lead)
    response = api_client.patch(f"/api/plans/{plan.pk}/", {"title": f"Plan {ISOLATE}2026", "version": 1}, format="json")
    assert response.status_code == 400
    (message,) = response.json()["title"]
    assert message.startswith("Title holds invisible characters") and "U+2067" in message
    assert Plan.objects.get(pk=plan.pk).title == "Testland NAPHS 2026–2030"


def test_the_settings_page_writes_the_title_in_its_own_direction(client, plan, lead):
    client.force_login(lead)
    page = client.get(f"/plans/{plan.pk}/settings/").content.decode()
    title = page.split('name="title"', 1)[1].split(">", 1)[0]
    assert 'dir="auto"' in title
    first_year = page.split('name="first_year"', 1)[1].split(">", 1)[0]
    assert "dir=" not in first_year
