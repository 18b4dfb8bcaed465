"""The stakeholder register and map's services: duplicates refused naming the existing person, merges, references
scoped to the plan, the owner of a relationship in the secretariat, stale versions, the grid and the coverage."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from naphs.errors import EditConflict
from naphs.models import AuditEvent
from planning.models import Activity, TechnicalArea
from stakeholders.mapping import (
    DuplicatePerson,
    person_create,
    person_merge,
    person_update,
    quadrant_of,
    stakeholder_coverage,
    stakeholder_create,
    stakeholder_grid,
    stakeholder_update,
)
from stakeholders.models import Advocacy, EngagementEvent, Organization, Participant, Person, Stakeholder

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign_org(other_country) -> Organization:
    return Organization.objects.create(name="Elsewhere Ministry", kind="ministry", jurisdiction=other_country)


@pytest.fixture
def jane(plan, lead, moh) -> Person:
    return person_create(
        plan=plan, by=lead, fields={"name": "Jane Achieng", "organization": moh, "email": "jane@moh.example"}
    )


def _area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


def test_a_person_is_added_and_audited(jane, plan):
    assert jane.pk and jane.version == 1
    assert AuditEvent.objects.filter(target_type="person", target_id=jane.pk, action="created").exists()


def test_the_same_email_ignoring_case_is_refused_naming_the_existing_person(jane, plan, lead, moa):
    with pytest.raises(DuplicatePerson) as refused:
        person_create(
            plan=plan, by=lead, fields={"name": "J. Achieng", "organization": moa, "email": "JANE@moh.example"}
        )
    assert refused.value.existing == jane
    assert "Jane Achieng" in refused.value.message_dict["email"][0]
    assert Person.objects.filter(plan=plan).count() == 1


def test_the_same_name_in_the_same_organization_is_refused(jane, plan, lead, moh, moa):
    with pytest.raises(DuplicatePerson) as refused:
        person_create(plan=plan, by=lead, fields={"name": "jane ACHIENG", "organization": moh})
    assert refused.value.field == "name" and refused.value.existing == jane
    # The same name in another organization is another person.
    assert person_create(plan=plan, by=lead, fields={"name": "Jane Achieng", "organization": moa}).pk


def test_an_edit_onto_another_persons_email_is_refused(jane, plan, lead, moa):
    other = person_create(plan=plan, by=lead, fields={"name": "Peter", "organization": moa})
    with pytest.raises(DuplicatePerson):
        person_update(person=other, by=lead, version=other.version, fields={"email": "jane@moh.example"})
    other.refresh_from_db()
    assert other.email == "" and other.version == 1


def test_an_organization_of_another_country_and_an_account_not_a_member_are_refused(plan, lead, foreign_org, people):
    with pytest.raises(ValidationError) as refused:
        person_create(
            plan=plan, by=lead, fields={"name": "Someone", "organization": foreign_org, "user": people["outsider"]}
        )
    assert "Elsewhere Ministry" in refused.value.message_dict["organization"][0]
    assert "user" in refused.value.message_dict
    assert not Person.objects.exists()


def test_a_stale_edit_is_refused(jane, lead):
    person_update(person=jane, by=lead, version=1, fields={"title": "Director"})
    stale = Person.objects.get(pk=jane.pk)
    stale.version = 1
    with pytest.raises(EditConflict):
        person_update(person=stale, by=lead, version=1, fields={"title": "Deputy"})
    assert Person.objects.get(pk=jane.pk).title == "Director"


def _event(plan, title: str) -> EngagementEvent:
    day = datetime.date(2026, 3, 2)
    return EngagementEvent.objects.create(plan=plan, kind="workshop", title=title, starts_on=day, ends_on=day)


def test_merging_two_records_moves_participations_advocacy_and_account_and_deletes_the_other(
    jane, plan, lead, moa, people
):
    member = people["viewer"]
    other = person_create(
        plan=plan, by=lead, fields={"name": "Jane A.", "organization": moa, "user": member, "phone": "+1 555"}
    )
    both, only_other = _event(plan, "Both"), _event(plan, "Other only")
    Participant.objects.create(event=both, person=jane, attended=True)
    Participant.objects.create(event=both, person=other, attended=False)
    Participant.objects.create(event=only_other, person=other)
    advocacy = Advocacy.objects.create(plan=plan, need="policy", title="Budget line", ask="decision")
    advocacy.messengers.add(other)
    person_merge(person=jane, by=lead, version=jane.version, fields={"phone": "+1 555"}, other=other, other_version=1)
    jane.refresh_from_db()
    assert not Person.objects.filter(pk=other.pk).exists()
    assert jane.phone == "+1 555" and jane.user == member and jane.email == "jane@moh.example"
    assert sorted(Participant.objects.filter(person=jane).values_list("event__title", flat=True)) == [
        "Both",
        "Other only",
    ]
    assert Participant.objects.get(person=jane, event=both).attended is True  # the kept record's own
    assert list(advocacy.messengers.all()) == [jane]


def test_a_merge_with_a_stale_version_changes_nothing(jane, plan, lead, moa):
    other = person_create(plan=plan, by=lead, fields={"name": "Jane A.", "organization": moa})
    with pytest.raises(EditConflict):
        person_merge(person=jane, by=lead, version=jane.version + 1, fields={"title": "X"}, other=other)
    assert Person.objects.filter(pk=other.pk).exists()
    assert Person.objects.get(pk=jane.pk).title == ""


def test_a_stakeholder_with_an_owner_outside_the_secretariat_is_refused_by_name(plan, lead, people, moh):
    techlead = people["technical_lead"]
    with pytest.raises(ValidationError) as refused:
        stakeholder_create(plan=plan, by=lead, fields={"organization": moh, "relationship_owner": techlead})
    assert str(techlead) in refused.value.message_dict["relationship_owner"][0]
    assert not Stakeholder.objects.exists()


def test_a_stakeholder_of_another_country_or_an_area_of_another_framework_is_refused(plan, lead, foreign_org, moh):
    with pytest.raises(ValidationError) as refused:
        stakeholder_create(plan=plan, by=lead, fields={"organization": foreign_org})
    assert "organization" in refused.value.message_dict
    spar = TechnicalArea.objects.filter(framework__code="SPAR2").first()
    if spar is not None:
        with pytest.raises(ValidationError) as refused:
            stakeholder_create(plan=plan, by=lead, fields={"organization": moh, "technical_areas": [spar]})
        assert "technical_areas" in refused.value.message_dict
    assert not Stakeholder.objects.exists()


def test_an_organization_is_once_in_the_map_and_a_stale_edit_is_refused(plan, lead, moh):
    stakeholder = stakeholder_create(plan=plan, by=lead, fields={"organization": moh, "influence": 4, "interest": 4})
    with pytest.raises(ValidationError):
        stakeholder_create(plan=plan, by=lead, fields={"organization": moh})
    stakeholder_update(stakeholder=stakeholder, by=lead, version=1, fields={"interest": 1})
    with pytest.raises(EditConflict):
        stakeholder_update(stakeholder=Stakeholder.objects.get(pk=stakeholder.pk), by=lead, version=1, fields={})
    assert quadrant_of(influence=4, interest=1).key == "keep_satisfied"


def test_the_grid_places_each_stakeholder_in_its_quadrant(plan, lead, moh, moa):
    a = stakeholder_create(plan=plan, by=lead, fields={"organization": moh, "influence": 4, "interest": 3})
    b = stakeholder_create(plan=plan, by=lead, fields={"organization": moa, "influence": 1, "interest": 2})
    grid = {cell.quadrant.key: cell.members for cell in stakeholder_grid([a, b])}
    assert grid["manage_closely"] == [a] and grid["monitor"] == [b]
    assert grid["keep_satisfied"] == [] and grid["keep_informed"] == []


def test_coverage_counts_only_engaged_stakeholders(plan, lead, moh, moa, django_assert_max_num_queries):
    p1, d1 = _area("P1"), _area("D1")
    Activity.objects.create(plan=plan, technical_area=d1, title="Lab network")
    stakeholder_create(
        plan=plan,
        by=lead,
        fields={"organization": moh, "relationship": "involved", "sectors": ["human_health"], "technical_areas": [p1]},
    )
    stakeholder_create(
        plan=plan,
        by=lead,
        fields={"organization": moa, "relationship": "informed", "sectors": ["animal_health"], "technical_areas": [d1]},
    )
    with django_assert_max_num_queries(3):
        coverage = stakeholder_coverage(plan=plan)
    uncovered = {row.area.code: row for row in coverage.uncovered_areas}
    assert "P1" not in uncovered and "D1" in uncovered and uncovered["D1"].has_activities
    sectors = {row.value for row in coverage.uncovered_sectors}
    assert "human_health" not in sectors and "animal_health" in sectors
