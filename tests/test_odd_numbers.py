"""Ids and versions that pages read straight from a form or a query string: a value that only looks like a
number to Python (`"²".isdigit()` is true, `int("²")` fails) is refused or ignored, never a server error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from naphs.forms import whole_number
from tests.conftest import give_grant

ODD = ["²", "٣", "1²", " ", "-1", "1.0", "0x1"]


@pytest.mark.parametrize(("raw", "number"), [("7", 7), (" 12 ", 12), ("007", 7), *[(odd, None) for odd in ODD]])
def test_a_whole_number_is_ascii_digits_only(raw, number):
    assert whole_number(raw) == number


@pytest.mark.django_db
@pytest.mark.parametrize("odd", ODD)
def test_a_new_plan_page_ignores_a_parent_that_is_not_an_id(client, lead, country, odd):
    give_grant(lead, country)
    client.force_login(lead)
    assert client.get(reverse("plan_new"), {"parent": odd}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("odd", ODD)
def test_a_target_for_an_indicator_that_is_not_an_id_is_not_found(client, plan, lead, odd):
    client.force_login(lead)
    response = client.post(reverse("targets", args=[plan.pk]), {"indicator": odd, "level": "3"})
    assert response.status_code == 404
