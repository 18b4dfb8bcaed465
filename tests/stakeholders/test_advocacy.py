"""Advocacy plans: bad input refused by name with nothing saved, the ask converted at the plan's rates, the largest
gaps with the advocacy addressing them, the pages and their query counts, the API."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from naphs.errors import EditConflict
from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.models import Activity, Plan
from stakeholders.advocacy import advocacy_create, advocacy_update, largest_gaps
from stakeholders.models import Advocacy, Organization, Person, Stakeholder
from tests.stakeholders.advocacy_fixtures import area, costed_plan, fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(plan, lead, moh):
    return costed_plan(plan, lead, moh)


@pytest.fixture
def other_plan(country, jee3, moa) -> dict:
    other = Plan.objects.create(
        framework=jee3, jurisdiction=country, title="Another plan", kind="strategic", first_year=2026, last_year=2030
    )
    return {
        "plan": other,
        "stakeholder": Stakeholder.objects.create(plan=other, organization=moa),
        "person": Person.objects.create(plan=other, name="Someone Else"),
        "activity": Activity.objects.create(plan=other, technical_area=area("P1"), title="Theirs"),
    }


def refused(error: pytest.ExceptionInfo[ValidationError], field: str) -> str:
    return " ".join(error.value.message_dict[field])


# --- Services: bad input ------------------------------------------------------------------------------------------


def test_an_ask_in_a_currency_without_a_rate_is_refused_naming_the_currency_and_nothing_is_saved(plan, lead, scene):
    with pytest.raises(ValidationError) as error:
        advocacy_create(plan=plan, by=lead, fields=fields(ask_currency="GBP"), technical_areas=[area("P1")])
    message = refused(error, "ask_currency")
    assert "GBP" in message and "exchange rates page" in message
    assert not Advocacy.objects.exists()


def test_an_amount_ask_without_an_amount_is_refused(plan, lead, scene):
    with pytest.raises(ValidationError) as error:
        advocacy_create(plan=plan, by=lead, fields=fields(ask_amount=None), technical_areas=[area("P1")])
    assert "Enter the amount asked" in refused(error, "ask_amount")
    assert not Advocacy.objects.exists()


def test_an_audience_or_messenger_activity_or_owner_of_another_plan_is_refused(plan, lead, people, scene, other_plan):
    outsider = people["outsider"]
    with pytest.raises(ValidationError) as error:
        advocacy_create(
            plan=plan,
            by=lead,
            fields=fields(audience=other_plan["stakeholder"], owner=outsider),
            messengers=[other_plan["person"]],
            activities=[other_plan["activity"]],
        )
    errors = error.value.message_dict
    assert "not in this plan's stakeholder map" in " ".join(errors["audience"])
    assert "not in this plan's register" in " ".join(errors["messengers"])
    assert "belongs to another plan" in " ".join(errors["activities"])
    assert "not a member of this plan's secretariat" in " ".join(errors["owner"])
    assert not Advocacy.objects.exists()


def test_an_advocacy_needs_an_audience_and_cannot_end_before_it_starts(plan, lead, scene):
    with pytest.raises(ValidationError) as error:
        advocacy_create(
            plan=plan,
            by=lead,
            fields=fields(audience_group="", starts_on=datetime.date(2026, 5, 1), ends_on=datetime.date(2026, 4, 1)),
            technical_areas=[area("P1")],
        )
    assert "Say whom the advocacy speaks to" in refused(error, "audience")
    assert "cannot end before it starts" in refused(error, "ends_on")


def test_a_decision_ask_needs_words(plan, lead, scene):
    with pytest.raises(ValidationError) as error:
        advocacy_create(
            plan=plan,
            by=lead,
            fields=fields(need=Advocacy.Need.POLICY, ask=Advocacy.Ask.DECISION, ask_amount=None, ask_currency=""),
        )
    assert "Say what is asked" in refused(error, "ask_text")


def test_the_ask_is_kept_in_the_base_currency_and_the_creation_audited(plan, lead, scene):
    advocacy = advocacy_create(
        plan=plan,
        by=lead,
        fields=fields(audience=scene["stakeholder"], starts_on=datetime.date(2027, 2, 1)),
        messengers=[scene["person"]],
        technical_areas=[area("P1")],
    )
    assert advocacy.ask_amount_base == Decimal("48000.00")  # 40,000 EUR at 2027's 1.20
    assert AuditEvent.objects.filter(target_type="advocacy", target_id=advocacy.pk, action="created").exists()


def test_a_stale_edit_is_refused_and_the_later_one_not_lost(plan, lead, scene):
    advocacy = advocacy_create(plan=plan, by=lead, fields=fields(), technical_areas=[area("P1")])
    advocacy_update(advocacy=advocacy, by=lead, version=1, fields={"status": Advocacy.Status.UNDER_WAY})
    stale = Advocacy.objects.get(pk=advocacy.pk)
    stale.version = 1
    with pytest.raises(EditConflict):
        advocacy_update(advocacy=stale, by=lead, version=1, fields={"title": "Overwritten"})
    advocacy.refresh_from_db()
    assert advocacy.title == "Fund border veterinary training" and advocacy.status == Advocacy.Status.UNDER_WAY


# --- The gaps ----------------------------------------------------------------------------------------------------


def test_the_largest_gaps_come_from_costing_largest_first_with_the_advocacy_addressing_them(plan, lead, scene):
    advocacy = advocacy_create(plan=plan, by=lead, fields=fields(), activities=[scene["d1"]])
    gaps = largest_gaps(plan=plan)
    assert [(row.area.code, row.gap) for row in gaps] == [("P1", Decimal("50000.00")), ("D1", Decimal("20000.00"))]
    assert gaps[0].advocacy == [] and gaps[1].advocacy == [advocacy]


# --- Pages -------------------------------------------------------------------------------------------------------


def test_the_list_shows_the_gaps_and_drafting_for_a_gap_prefills_the_ask(client, plan, lead, scene):
    client.force_login(lead)
    page = client.get(f"/plans/{plan.pk}/advocacy/").content.decode()
    assert "Draft advocacy for this gap" in page and "50,000.00" in page
    new = client.get(f"/plans/{plan.pk}/advocacy/new/?gap_area={area('P1').pk}")
    form = new.context["form"]
    assert form.initial["ask_amount"] == Decimal("50000.00")
    assert form.initial["ask_currency"] == "USD"
    assert form.initial["technical_areas"] == [area("P1").pk]
    assert form.initial["need"] == Advocacy.Need.FUNDING_GAP


def _post(client, plan, **overrides):
    data = {
        "need": "funding_gap",
        "title": "Fund the laboratory",
        "audience": "",
        "audience_group": "Donor round table",
        "ask": "amount",
        "ask_amount": "15000",
        "ask_currency": "EUR",
        "channels": ["meeting"],
        "status": "planned",
        "technical_areas": [area("D1").pk],
        "version": "",
    }
    data.update(overrides)
    return client.post(f"/plans/{plan.pk}/advocacy/new/", data)


def test_the_form_refuses_a_currency_without_a_rate_naming_where_to_add_it(client, plan, lead, scene):
    client.force_login(lead)
    response = _post(client, plan, ask_currency="JPY")
    assert response.status_code == 422
    assert "JPY" in " ".join(response.context["form"].errors["ask_currency"])
    assert "Currency &amp; rates" in response.content.decode()
    assert not Advocacy.objects.exists()


def test_the_form_refuses_a_messenger_or_audience_of_another_plan(client, plan, lead, scene, other_plan):
    client.force_login(lead)
    response = _post(client, plan, audience=other_plan["stakeholder"].pk, messengers=[other_plan["person"].pk])
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "audience" in errors and "messengers" in errors
    assert not Advocacy.objects.exists()


def test_the_secretariat_adds_an_advocacy_and_its_page_shows_the_ask_in_the_base_currency(client, plan, lead, scene):
    client.force_login(lead)
    response = _post(client, plan)
    advocacy = Advocacy.objects.get()
    assert response.status_code == 302
    page = client.get(f"/plans/{plan.pk}/advocacy/{advocacy.pk}/").content.decode()
    assert "15,000.00 EUR" in page and "16,500.00 USD" in page  # at 2026's 1.10


def test_a_stale_edit_on_the_page_is_a_conflict(client, plan, lead, scene):
    advocacy = advocacy_create(plan=plan, by=lead, fields=fields(), technical_areas=[area("P1")])
    advocacy_update(advocacy=advocacy, by=lead, version=1, fields={"timing": "Now"})
    client.force_login(lead)
    response = client.post(
        f"/plans/{plan.pk}/advocacy/{advocacy.pk}/edit/",
        {
            "need": "funding_gap",
            "title": "Changed",
            "audience_group": "Committee",
            "ask": "amount",
            "ask_amount": "40000",
            "ask_currency": "EUR",
            "status": "planned",
            "technical_areas": [area("P1").pk],
            "version": "1",
        },
    )
    assert response.status_code == 409
    advocacy.refresh_from_db()
    assert advocacy.title == "Fund border veterinary training"


def test_other_members_read_but_do_not_write(client, plan, people, scene):
    client.force_login(people[Role.TECHNICAL_LEAD])
    assert client.get(f"/plans/{plan.pk}/advocacy/").status_code == 200
    assert client.get(f"/plans/{plan.pk}/advocacy/new/").status_code == 403
    client.force_login(people["outsider"])
    assert client.get(f"/plans/{plan.pk}/advocacy/").status_code == 404


def _many(plan, lead, scene, count: int, moh: Organization) -> None:
    person = scene["person"]
    for number in range(count):
        advocacy = Advocacy.objects.create(
            plan=plan,
            need="funding_gap",
            title=f"Advocacy {number}",
            audience=scene["stakeholder"],
            ask="amount",
            ask_amount=Decimal("1000"),
            ask_currency="EUR",
            ask_amount_base=Decimal("1100"),
            owner=lead,
        )
        advocacy.messengers.add(person)
        advocacy.technical_areas.add(area("P1"))
        advocacy.activities.add(scene["d1"])


@pytest.mark.parametrize("count", [2, 30])
def test_the_list_detail_dashboard_and_api_run_a_constant_number_of_queries(
    client, plan, lead, scene, moh, count, django_assert_max_num_queries
):
    _many(plan, lead, scene, count, moh)
    client.force_login(lead)
    with django_assert_max_num_queries(25):
        assert client.get(f"/plans/{plan.pk}/advocacy/").status_code == 200
    with django_assert_max_num_queries(25):
        page = client.get(f"/plans/{plan.pk}/costing/")
    assert page.content.decode().count("Advocacy 1</a>") >= 2
    with django_assert_max_num_queries(25):
        assert client.get(f"/api/plans/{plan.pk}/advocacy/").status_code == 200


# --- API ---------------------------------------------------------------------------------------------------------


def _body(**overrides):
    body = {
        "need": "funding_gap",
        "title": "Fund the laboratory",
        "audience_group": "Donor round table",
        "ask": "amount",
        "ask_amount": "15000.00",
        "ask_currency": "EUR",
        "channels": ["meeting"],
        "technical_areas": [area("D1").pk],
    }
    body.update(overrides)
    return body


def test_the_api_creates_changes_and_refuses_stale_foreign_and_unknown(api_client, plan, lead, scene, other_plan):
    api_client.force_authenticate(lead)
    url = f"/api/plans/{plan.pk}/advocacy/"
    created = api_client.post(url, _body(), format="json")
    assert created.status_code == 201, created.content
    assert created.json()["ask_amount_base"] == "16500.00"
    pk = created.json()["id"]
    for key, value in (
        ("audience", other_plan["stakeholder"].pk),
        ("messengers", [other_plan["person"].pk]),
        ("activities", [other_plan["activity"].pk]),
    ):
        response = api_client.post(url, _body(**{key: value}), format="json")
        assert response.status_code == 400 and key in response.json(), response.content
    response = api_client.post(url, _body(ask_currency="GBP"), format="json")
    assert response.status_code == 400 and "GBP" in str(response.json()["ask_currency"])
    response = api_client.post(url, _body(ask_amount_base="1.00"), format="json")
    assert response.status_code == 400 and "ask_amount_base" in response.json()
    response = api_client.post(url, _body(ends_on="2026-01-01", starts_on="2026-02-01"), format="json")
    assert response.status_code == 400 and "ends_on" in response.json()
    assert Advocacy.objects.count() == 1
    changed = api_client.patch(f"{url}{pk}/", {"status": "under_way", "version": 1}, format="json")
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = api_client.patch(f"{url}{pk}/", {"status": "dropped", "version": 1}, format="json")
    assert stale.status_code == 409
    no_version = api_client.patch(f"{url}{pk}/", {"status": "dropped"}, format="json")
    assert no_version.status_code == 400
    assert Advocacy.objects.get().status == "under_way"
    filtered = api_client.get(f"{url}?status=under_way&area={area('D1').pk}")
    assert [row["id"] for row in filtered.json()["results"]] == [pk]


def test_the_api_lets_other_members_read_only(api_client, plan, people, scene):
    api_client.force_authenticate(people[Role.REVIEWER])
    url = f"/api/plans/{plan.pk}/advocacy/"
    assert api_client.get(url).status_code == 200
    assert api_client.post(url, _body(), format="json").status_code == 403
