"""An advocacy's pledge becomes a funding commitment in one step, with the advocacy's outcome: through costing's own
funding checks, refused whole on an endorsed plan or a stale advocacy; and the costing dashboard names the active
advocacy beside the gap it addresses."""

from __future__ import annotations

import pytest

from costing.models import FundingCommitment
from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.models import Plan
from stakeholders.advocacy import advocacy_create
from stakeholders.models import Advocacy
from tests.stakeholders.advocacy_fixtures import area, costed_plan, fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(plan, lead, moh):
    return costed_plan(plan, lead, moh)


@pytest.fixture
def advocacy(plan, lead, scene) -> Advocacy:
    return advocacy_create(
        plan=plan,
        by=lead,
        fields=fields(audience=scene["stakeholder"]),
        technical_areas=[area("P1")],
    )


def _form(advocacy: Advocacy, **overrides) -> dict:
    data = {
        "source_organization": advocacy.audience.organization_id,
        "source_kind": "",
        "amount": "40000",
        "currency": "EUR",
        "first_year": "2026",
        "last_year": "2026",
        "status": "pledged",
        "technical_area": area("P1").pk,
        "advocacy_status": "achieved",
        "outcome": "The ministry pledged 40,000 EUR at the round table.",
        "version": str(advocacy.version),
    }
    data.update(overrides)
    return data


def test_the_pledge_page_proposes_the_audience_and_the_ask(client, plan, lead, advocacy):
    client.force_login(lead)
    form = client.get(f"/plans/{plan.pk}/advocacy/{advocacy.pk}/pledge/").context["form"]
    assert form.initial["source_organization"] == advocacy.audience.organization_id
    assert form.initial["amount"] == advocacy.ask_amount and form.initial["currency"] == "EUR"
    assert form.initial["status"] == FundingCommitment.Status.PLEDGED
    assert form.initial["technical_area"] == area("P1").pk


def test_a_pledge_becomes_a_commitment_and_the_advocacy_its_outcome_in_one_step(client, plan, lead, advocacy):
    client.force_login(lead)
    response = client.post(f"/plans/{plan.pk}/advocacy/{advocacy.pk}/pledge/", _form(advocacy))
    assert response.status_code == 302, response.content.decode()[:2000]
    commitment = FundingCommitment.objects.get()
    assert commitment.advocacy_id == advocacy.pk and commitment.technical_area == area("P1")
    assert commitment.status == "pledged" and str(commitment.amount) == "40000.00"
    advocacy.refresh_from_db()
    assert advocacy.status == "achieved" and "pledged 40,000" in advocacy.outcome
    assert AuditEvent.objects.filter(target_type="fundingcommitment", target_id=commitment.pk).count() == 2
    page = client.get(f"/plans/{plan.pk}/advocacy/{advocacy.pk}/").content.decode()
    assert "Ministry of Health" in page and "40,000.00 EUR" in page


def test_a_bad_commitment_saves_neither_it_nor_the_outcome(client, plan, lead, advocacy):
    client.force_login(lead)
    response = client.post(
        f"/plans/{plan.pk}/advocacy/{advocacy.pk}/pledge/", _form(advocacy, currency="GBP", last_year="2040")
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "last_year" in errors
    assert not FundingCommitment.objects.exists()
    advocacy.refresh_from_db()
    assert advocacy.status == "planned" and advocacy.outcome == "" and advocacy.version == 1


def test_a_stale_advocacy_saves_no_commitment(client, plan, lead, advocacy):
    client.force_login(lead)
    response = client.post(f"/plans/{plan.pk}/advocacy/{advocacy.pk}/pledge/", _form(advocacy, version="7"))
    assert response.status_code == 409
    assert not FundingCommitment.objects.exists()


def test_an_endorsed_plan_says_so_and_refuses_the_pledge_with_nothing_half_saved(client, plan, lead, advocacy):
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    client.force_login(lead)
    page = client.get(f"/plans/{plan.pk}/advocacy/{advocacy.pk}/pledge/")
    assert page.status_code == 200 and 'id="pledge-frozen"' in page.content.decode()
    response = client.post(f"/plans/{plan.pk}/advocacy/{advocacy.pk}/pledge/", _form(advocacy))
    assert response.status_code == 423
    assert not FundingCommitment.objects.exists()
    advocacy.refresh_from_db()
    assert advocacy.status == "planned" and advocacy.version == 1
    # The advocacy itself goes on while the plan is endorsed.
    edit = client.post(f"/plans/{plan.pk}/advocacy/{advocacy.pk}/delete/", {"version": advocacy.version})
    assert edit.status_code == 302 and not Advocacy.objects.exists()


def test_the_service_refuses_an_endorsed_plan_inside_its_transaction(plan, lead, advocacy):
    from costing.engagement import advocacy_pledge_record
    from naphs.errors import PlanFrozen

    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    advocacy.plan.refresh_from_db()
    with pytest.raises(PlanFrozen):
        advocacy_pledge_record(
            advocacy=advocacy,
            by=lead,
            version=1,
            fields={
                "source_organization": advocacy.audience.organization,
                "amount": advocacy.ask_amount,
                "currency": "EUR",
                "first_year": 2026,
                "last_year": 2026,
                "status": "pledged",
                "technical_area": area("P1"),
            },
            status="achieved",
            outcome="Pledged",
        )
    assert not FundingCommitment.objects.exists()
    advocacy.refresh_from_db()
    assert advocacy.status == "planned" and advocacy.version == 1


def test_the_api_records_the_pledge_and_refuses_others_and_the_endorsed_plan(api_client, plan, lead, people, advocacy):
    url = f"/api/plans/{plan.pk}/advocacy/{advocacy.pk}/pledge/"
    body = {
        "source_organization": advocacy.audience.organization_id,
        "amount": "40000.00",
        "currency": "EUR",
        "first_year": 2026,
        "last_year": 2026,
        "status": "pledged",
        "technical_area": area("P1").pk,
        "advocacy_status": "achieved",
        "outcome": "Pledged",
        "version": 1,
    }
    api_client.force_authenticate(people[Role.TECHNICAL_LEAD])
    assert api_client.post(url, body, format="json").status_code == 403
    api_client.force_authenticate(lead)
    assert api_client.post(url, {**body, "version": 5}, format="json").status_code == 409
    assert api_client.post(url, {**body, "advocacy": 1}, format="json").status_code == 400
    created = api_client.post(url, body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["advocacy"] == advocacy.pk
    assert FundingCommitment.objects.get().advocacy_id == advocacy.pk
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    refused = api_client.post(url, {**body, "version": 2}, format="json")
    assert refused.status_code == 423
    assert FundingCommitment.objects.count() == 1
    listed = api_client.get(f"/api/plans/{plan.pk}/advocacy/{advocacy.pk}/").json()
    assert listed["funding_commitments"] == [FundingCommitment.objects.get().pk]


def test_the_dashboard_names_the_active_advocacy_beside_the_gap(client, plan, lead, scene, advocacy):
    dropped = advocacy_create(
        plan=plan, by=lead, fields=fields(title="Dropped idea", status="dropped"), technical_areas=[area("P1")]
    )
    by_activity = advocacy_create(plan=plan, by=lead, fields=fields(title="Lab donors"), activities=[scene["d1"]])
    client.force_login(lead)
    response = client.get(f"/plans/{plan.pk}/costing/")
    rows = {row.code: row.advocacy for row in response.context["dashboard"].by_area}
    assert rows["P1"] == [advocacy] and rows["D1"] == [by_activity]
    page = response.content.decode()
    assert f'href="/plans/{plan.pk}/advocacy/{advocacy.pk}/"' in page
    assert dropped.title not in page
