"""A person's record exported and erased on request; contact details never in the public exports."""

from __future__ import annotations

import datetime
import io
import json
import zipfile

import pytest

from naphs.models import AuditEvent
from naphs.services import audit_record
from stakeholders.mapping import person_create, person_update
from stakeholders.models import EngagementEvent, Participant, Person
from stakeholders.personal_data import ERASED_VALUE, person_erase, person_export

pytestmark = pytest.mark.django_db

EMAIL, PHONE = "amani.private@example.org", "+254 700 111 222"


@pytest.fixture
def amani(plan, lead, moh) -> Person:
    person = person_create(
        plan=plan, by=lead, fields={"name": "Amani Wekesa", "organization": moh, "email": EMAIL, "phone": PHONE}
    )
    person_update(person=person, by=lead, version=1, fields={"title": "Chief veterinary officer"})
    return person


@pytest.fixture
def participation(plan, amani, moh, lead) -> Participant:
    day = datetime.date(2026, 4, 1)
    event = EngagementEvent.objects.create(
        plan=plan, kind="consultation", title="Consultation", starts_on=day, ends_on=day
    )
    participant = Participant.objects.create(event=event, person=amani, organization=moh, sector="animal_health")
    audit_record(plan=plan, by=lead, action="added", target=participant, changes={"person": amani.name})
    return participant


def test_the_export_holds_the_record_participations_and_trail(amani, participation):
    data = person_export(person=amani)
    assert data["person"]["email"] == EMAIL and data["person"]["phone"] == PHONE
    assert data["participations"][0]["event"]["title"] == "Consultation"
    assert any(entry["action"] == "edited" for entry in data["audit_trail"])
    json.dumps(data)  # JSON-ready


def test_erasing_clears_the_record_and_the_trail_and_keeps_participations(amani, participation, lead, plan):
    person_erase(person=amani, by=lead, version=amani.version)
    amani.refresh_from_db()
    assert amani.erased_at is not None
    assert (amani.name, amani.email, amani.phone, amani.title, amani.user) == ("", "", "", "", None)
    assert str(amani) == f"Erased person {amani.pk}"
    kept = Participant.objects.get(pk=participation.pk)
    assert kept.organization_id and kept.sector == "animal_health"
    trail = json.dumps(list(AuditEvent.objects.filter(plan=plan).values("target_repr", "changes")))
    assert "Amani" not in trail and EMAIL not in trail and PHONE not in trail
    assert ERASED_VALUE in trail
    assert AuditEvent.objects.filter(target_type="person", target_id=amani.pk, action="changed").exists()


def test_the_pages_export_and_erase_for_the_secretariat_only(client, amani, people, plan):
    client.force_login(people["viewer"])
    assert client.get(f"/plans/{plan.pk}/people/{amani.pk}/export/").status_code == 403
    assert client.post(f"/plans/{plan.pk}/people/{amani.pk}/erase/", {"confirm": "yes"}).status_code == 403
    # Every member sees contact details.
    assert EMAIL in client.get(f"/plans/{plan.pk}/people/{amani.pk}/").content.decode()
    client.force_login(people["secretariat_lead"])
    response = client.get(f"/plans/{plan.pk}/people/{amani.pk}/export/")
    assert response.status_code == 200 and json.loads(response.content)["person"]["email"] == EMAIL
    assert client.post(f"/plans/{plan.pk}/people/{amani.pk}/erase/", {"version": amani.version}).status_code == 422
    response = client.post(f"/plans/{plan.pk}/people/{amani.pk}/erase/", {"version": amani.version, "confirm": "yes"})
    assert response.status_code == 302
    assert Person.objects.get(pk=amani.pk).erased_at is not None


def test_the_api_exports_and_erases(api_client, amani, lead, plan):
    api_client.force_authenticate(lead)
    assert api_client.get(f"/api/plans/{plan.pk}/people/{amani.pk}/export/").json()["person"]["phone"] == PHONE
    response = api_client.post(f"/api/plans/{plan.pk}/people/{amani.pk}/erase/", {"version": 1}, format="json")
    assert response.status_code == 409  # stale
    response = api_client.post(
        f"/api/plans/{plan.pk}/people/{amani.pk}/erase/", {"version": amani.version}, format="json"
    )
    assert response.status_code == 200 and response.json()["erased_at"]


def test_contact_details_never_reach_the_plan_document_or_the_open_data(amani, plan):
    from costing.document import document_data, document_html
    from costing.open_data import plan_open_data_build

    html = document_html(data=document_data(plan=plan))
    assert EMAIL not in html and PHONE not in html
    archive = plan_open_data_build(plan=plan)
    with zipfile.ZipFile(io.BytesIO(archive)) as files:
        contents = b"".join(files.read(name) for name in files.namelist())
    assert contents and EMAIL.encode() not in contents and PHONE.encode() not in contents
