"""Activities: create, edit and delete in the browser and the API; the filterable, sortable table; who may
write (technical leads in their own areas only); bad input refused with nothing saved; stale edits refused."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.activities import activity_create, activity_update
from planning.models import Activity, Indicator, TechnicalArea
from stakeholders.models import Organization, PlanMembership

pytestmark = pytest.mark.django_db


def area(plan, code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework=plan.framework, code=code)


def indicator(plan, code: str) -> Indicator:
    return Indicator.objects.get(framework=plan.framework, code=code)


def make(plan, title: str, *, code: str = "P1", indicators=("P1.1",), **fields) -> Activity:
    created = Activity.objects.create(plan=plan, technical_area=area(plan, code), title=title, **fields)
    created.indicators.set([indicator(plan, c) for c in indicators])
    return created


@pytest.fixture
def legislation(plan) -> Activity:
    return make(plan, "Revise the public health law", priority="high")


@pytest.fixture
def technical_lead(plan, people):
    """The technical lead, assigned technical area P1 (Legal instruments)."""
    user = people[Role.TECHNICAL_LEAD]
    PlanMembership.objects.get(plan=plan, user=user).technical_areas.set([area(plan, "P1")])
    return user


@pytest.fixture
def foreign_organization(other_country) -> Organization:
    return Organization.objects.create(name="Elsewhere Health Agency", kind="agency", jurisdiction=other_country)


def form_data(plan, **overrides) -> dict:
    data = {
        "technical_area": area(plan, "P1").pk,
        "indicators": [indicator(plan, "P1.1").pk],
        "title": "Draft regulations under the public health law",
        "description": "",
        "source": "custom",
        "action_type": "planning",
        "responsible_organization": "",
        "supporting_organizations": [],
        "implementation_level": "national",
        "start_date": "2026-02-01",
        "end_date": "2027-06-30",
        "impact": "high",
        "feasibility": "medium",
        "priority": "high",
        "sectors": ["human_health"],
        "hazards": ["all_hazards"],
        "status": "planned",
    }
    data.update(overrides)
    return data


# The browser -------------------------------------------------------------------------------------------------


def test_the_secretariat_adds_edits_and_deletes_an_activity_in_the_browser(client, plan, lead, moh, moa):
    client.force_login(lead)
    response = client.post(
        reverse("activity_new", args=[plan.pk]),
        form_data(plan, responsible_organization=moh.pk, supporting_organizations=[moa.pk]),
    )
    activity = Activity.objects.get(plan=plan)
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("activity_detail", args=[plan.pk, activity.pk])
    assert activity.responsible_organization == moh
    assert list(activity.supporting_organizations.all()) == [moa]
    assert activity.sectors == ["human_health"] and activity.end_date == datetime.date(2027, 6, 30)
    assert AuditEvent.objects.filter(plan=plan, action="created", target_id=activity.pk).exists()

    page = client.get(reverse("activity_detail", args=[plan.pk, activity.pk]))
    assert page.status_code == 200 and b"Save activity" in page.content

    response = client.post(
        reverse("activity_detail", args=[plan.pk, activity.pk]),
        form_data(plan, title="Adopt the regulations", indicators=[], version=activity.version),
    )
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.title == "Adopt the regulations" and activity.version == 2
    assert not activity.indicators.exists()
    event = AuditEvent.objects.get(plan=plan, action="edited", target_id=activity.pk)
    assert event.actor == lead
    assert event.changes["title"] == ["Draft regulations under the public health law", "Adopt the regulations"]
    assert event.changes["indicators"] == [["P1.1"], []]

    response = client.post(reverse("activity_delete", args=[plan.pk, activity.pk]))
    assert response.status_code == 302 and response.headers["Location"] == reverse("activities", args=[plan.pk])
    assert not Activity.objects.filter(pk=activity.pk).exists()
    assert AuditEvent.objects.filter(plan=plan, action="deleted", target_id=activity.pk).exists()


def test_every_member_sees_the_activities_link_and_a_read_only_activity(client, plan, people, legislation):
    for role in (Role.REVIEWER, Role.VIEWER, Role.FOCAL_POINT):
        client.force_login(people[role])
        page = client.get(reverse("activities", args=[plan.pk]))
        assert page.status_code == 200
        assert reverse("activities", args=[plan.pk]).encode() in page.content
        assert b"Revise the public health law" in page.content
        assert b"Add activity" not in page.content
        detail = client.get(reverse("activity_detail", args=[plan.pk, legislation.pk]))
        assert detail.status_code == 200
        assert b"Save activity" not in detail.content and b"Legal instruments" in detail.content


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.VIEWER, Role.FOCAL_POINT])
def test_read_only_roles_cannot_write_activities(client, api_client, plan, people, legislation, role):
    client.force_login(people[role])
    assert client.get(reverse("activity_new", args=[plan.pk])).status_code == 403
    assert client.post(reverse("activity_new", args=[plan.pk]), form_data(plan)).status_code == 403
    edit = form_data(plan, title="Changed", version=legislation.version)
    assert client.post(reverse("activity_detail", args=[plan.pk, legislation.pk]), edit).status_code == 403
    assert client.post(reverse("activity_delete", args=[plan.pk, legislation.pk])).status_code == 403
    api_client.force_authenticate(people[role])
    url = reverse("activity-detail", args=[plan.pk, legislation.pk])
    assert api_client.patch(url, {"title": "Changed", "version": 1}, format="json").status_code == 403
    assert api_client.delete(url).status_code == 403
    body = {"technical_area": area(plan, "P1").pk, "title": "New"}
    assert api_client.post(reverse("activity-list", args=[plan.pk]), body, format="json").status_code == 403
    legislation.refresh_from_db()
    assert legislation.title == "Revise the public health law" and Activity.objects.count() == 1


def test_an_outsider_gets_404_everywhere(client, api_client, plan, people, legislation):
    outsider = people["outsider"]
    client.force_login(outsider)
    for name, args in (
        ("activities", [plan.pk]),
        ("activity_new", [plan.pk]),
        ("activity_detail", [plan.pk, legislation.pk]),
    ):
        assert client.get(reverse(name, args=args)).status_code == 404
    assert client.post(reverse("activity_delete", args=[plan.pk, legislation.pk])).status_code == 404
    api_client.force_authenticate(outsider)
    assert api_client.get(reverse("activity-list", args=[plan.pk])).status_code == 404
    assert api_client.get(reverse("activity-detail", args=[plan.pk, legislation.pk])).status_code == 404
    assert Activity.objects.filter(pk=legislation.pk).exists()


def test_an_activity_of_another_plan_is_not_found(client, lead, plan, provincial_plan, jee3):
    provincial_plan.framework = jee3
    provincial_plan.save()
    elsewhere = make(provincial_plan, "Provincial activity")
    client.force_login(lead)
    assert client.get(reverse("activity_detail", args=[plan.pk, elsewhere.pk])).status_code == 404


# Technical leads ---------------------------------------------------------------------------------------------


def test_a_technical_lead_edits_activities_of_their_area_only(client, plan, technical_lead, legislation):
    other = make(plan, "Train rapid response teams", code="R1", indicators=("R1.1",))
    client.force_login(technical_lead)

    response = client.post(
        reverse("activity_detail", args=[plan.pk, legislation.pk]),
        form_data(plan, title="Revise and publish the law", version=legislation.version),
    )
    assert response.status_code == 302
    legislation.refresh_from_db()
    assert legislation.title == "Revise and publish the law"

    page = client.get(reverse("activity_detail", args=[plan.pk, other.pk]))
    assert page.status_code == 200 and b"Save activity" not in page.content  # read-only there
    response = client.post(
        reverse("activity_detail", args=[plan.pk, other.pk]),
        form_data(plan, technical_area=area(plan, "R1").pk, indicators=[], title="Hijacked", version=other.version),
    )
    assert response.status_code == 403
    assert b"your own technical areas" in response.content
    assert client.post(reverse("activity_delete", args=[plan.pk, other.pk])).status_code == 403
    other.refresh_from_db()
    assert other.title == "Train rapid response teams"


def test_a_technical_lead_cannot_create_an_activity_in_another_area(client, api_client, plan, technical_lead):
    client.force_login(technical_lead)
    page = client.get(reverse("activity_new", args=[plan.pk]))
    assert page.status_code == 200
    assert page.context["form"].fields["technical_area"].queryset.get() == area(plan, "P1")  # only their area

    response = client.post(
        reverse("activity_new", args=[plan.pk]),
        form_data(plan, technical_area=area(plan, "R1").pk, indicators=[indicator(plan, "R1.1").pk]),
    )
    assert response.status_code == 422
    assert (
        "Choose a technical area of this plan that you may edit." in response.context["form"].errors["technical_area"]
    )

    api_client.force_authenticate(technical_lead)
    body = {"technical_area": area(plan, "R1").pk, "title": "Not my area"}
    response = api_client.post(reverse("activity-list", args=[plan.pk]), body, format="json")
    assert response.status_code == 403 and "R1" in response.json()["detail"]
    assert not Activity.objects.exists()

    body["technical_area"] = area(plan, "P1").pk
    assert api_client.post(reverse("activity-list", args=[plan.pk]), body, format="json").status_code == 201


def test_a_technical_lead_cannot_move_an_activity_out_of_their_area_through_the_api(
    api_client, plan, technical_lead, legislation
):
    api_client.force_authenticate(technical_lead)
    url = reverse("activity-detail", args=[plan.pk, legislation.pk])
    body = {"technical_area": area(plan, "R1").pk, "indicators": [], "version": legislation.version}
    assert api_client.patch(url, body, format="json").status_code == 403
    legislation.refresh_from_db()
    assert legislation.technical_area.code == "P1"


def test_a_technical_lead_without_areas_cannot_add_activities(client, plan, people):
    client.force_login(people[Role.TECHNICAL_LEAD])
    response = client.get(reverse("activity_new", args=[plan.pk]))
    assert response.status_code == 403


# Bad input ---------------------------------------------------------------------------------------------------


BAD_INPUT = [
    ({"end_date": "2031-03-31"}, "end_date", "plan's period (2026–2030)"),
    ({"start_date": "2027-05-01", "end_date": "2027-01-31"}, "end_date", "cannot end before it starts"),
    ({"priority": "urgent"}, "priority", "urgent is not one of the available choices"),
    ({"sectors": ["space"]}, "sectors", "space is not one of the available choices"),
    ({"status": "done"}, "status", "done is not one of the available choices"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUT)
def test_bad_input_in_the_browser_is_refused_next_to_its_field(client, plan, lead, overrides, field, message):
    client.force_login(lead)
    response = client.post(reverse("activity_new", args=[plan.pk]), form_data(plan, **overrides))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    assert not Activity.objects.exists()


def test_an_indicator_of_another_area_is_refused_naming_it(client, api_client, plan, lead):
    client.force_login(lead)
    response = client.post(
        reverse("activity_new", args=[plan.pk]), form_data(plan, indicators=[indicator(plan, "D1.1").pk])
    )
    assert response.status_code == 422
    assert "D1.1: not an indicator of technical area P1" in response.context["form"].errors["indicators"][0]
    api_client.force_authenticate(lead)
    body = {"technical_area": area(plan, "P1").pk, "title": "T", "indicators": [indicator(plan, "D1.1").pk]}
    response = api_client.post(reverse("activity-list", args=[plan.pk]), body, format="json")
    assert response.status_code == 400 and "D1.1" in response.json()["indicators"][0]
    assert not Activity.objects.exists()


def test_an_organization_of_another_country_is_refused(client, api_client, plan, lead, foreign_organization):
    client.force_login(lead)
    response = client.post(
        reverse("activity_new", args=[plan.pk]), form_data(plan, responsible_organization=foreign_organization.pk)
    )
    assert response.status_code == 422
    assert response.context["form"].errors["responsible_organization"] == ["Choose an organization of Testland."]
    api_client.force_authenticate(lead)
    body = {"technical_area": area(plan, "P1").pk, "title": "T", "supporting_organizations": [foreign_organization.pk]}
    response = api_client.post(reverse("activity-list", args=[plan.pk]), body, format="json")
    assert response.status_code == 400
    assert "not an organization of Testland" in response.json()["supporting_organizations"][0]
    assert not Activity.objects.exists()


def test_the_service_refuses_bad_input_with_every_problem_by_field(plan, lead, foreign_organization):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        activity_create(
            plan=plan,
            by=lead,
            technical_area=area(plan, "P1"),
            title="Bad",
            end_date=datetime.date(2031, 1, 1),
            impact="enormous",
            indicators=[indicator(plan, "R1.1")],
            responsible_organization=foreign_organization,
        )
    assert set(refused.value.message_dict) == {"end_date", "impact", "indicators", "responsible_organization"}
    assert not Activity.objects.exists() and not AuditEvent.objects.filter(action="created").exists()


def test_bad_input_in_the_api_names_the_field(api_client, plan, lead, legislation):
    api_client.force_authenticate(lead)
    url = reverse("activity-detail", args=[plan.pk, legislation.pk])
    response = api_client.patch(url, {"end_date": "2031-12-31", "version": legislation.version}, format="json")
    assert response.status_code == 400 and "plan's period" in response.json()["end_date"][0]
    response = api_client.patch(url, {"status": "done", "version": legislation.version}, format="json")
    assert response.status_code == 400 and "status" in response.json()
    response = api_client.patch(url, {"title": "No version"}, format="json")
    assert response.status_code == 400 and "version" in response.json()
    legislation.refresh_from_db()
    assert legislation.version == 1 and legislation.end_date is None and legislation.status == "draft"


# Edit conflicts ----------------------------------------------------------------------------------------------


def test_a_stale_save_in_the_browser_is_refused_with_409_keeping_the_input(client, plan, lead, people, legislation):
    activity_update(activity=legislation, by=people[Role.SECRETARIAT_MEMBER], version=1, title="First save")
    client.force_login(lead)
    response = client.post(
        reverse("activity_detail", args=[plan.pk, legislation.pk]), form_data(plan, title="Second save", version=1)
    )
    assert response.status_code == 409
    assert "Activity: someone else changed it" in response.content.decode()
    assert 'value="Second save"' in response.content.decode()  # the person's input is still there
    legislation.refresh_from_db()
    assert legislation.title == "First save" and legislation.version == 2


def test_an_edit_moves_the_activity_updated_at_and_the_api_shows_it(api_client, plan, lead, people, legislation):
    long_ago = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    Activity.objects.filter(pk=legislation.pk).update(updated_at=long_ago)
    legislation.refresh_from_db()
    activity_update(activity=legislation, by=people[Role.SECRETARIAT_MEMBER], version=1, title="Edited")
    legislation.refresh_from_db()
    assert legislation.updated_at > long_ago + datetime.timedelta(days=365)
    changes = AuditEvent.objects.filter(target_type="activity", target_id=legislation.pk).latest("pk").changes
    assert "updated_at" not in changes  # the stamp is not a change the person made
    api_client.force_authenticate(lead)
    shown = api_client.get(reverse("activity-detail", args=[plan.pk, legislation.pk])).json()["updated_at"]
    assert datetime.datetime.fromisoformat(shown) == legislation.updated_at


def test_a_stale_save_in_the_api_gets_409_and_the_first_save_stays(api_client, plan, lead, legislation):
    api_client.force_authenticate(lead)
    url = reverse("activity-detail", args=[plan.pk, legislation.pk])
    first = api_client.patch(url, {"title": "First", "version": 1}, format="json")
    assert first.status_code == 200 and first.json()["version"] == 2
    second = api_client.patch(url, {"title": "Second", "indicators": [], "version": 1}, format="json")
    assert second.status_code == 409 and second.json()["code"] == "edit_conflict"
    legislation.refresh_from_db()
    assert legislation.title == "First" and list(legislation.indicators.values_list("code", flat=True)) == ["P1.1"]


# The API -----------------------------------------------------------------------------------------------------


def test_the_api_creates_reads_replaces_and_deletes_an_activity(api_client, plan, lead, moh, moa):
    api_client.force_authenticate(lead)
    body = {
        "technical_area": area(plan, "P1").pk,
        "indicators": [indicator(plan, "P1.1").pk, indicator(plan, "P1.2").pk],
        "title": "Map legislation",
        "responsible_organization": moh.pk,
        "supporting_organizations": [moa.pk],
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "priority": "medium",
        "sectors": ["human_health", "animal_health"],
        "hazards": ["biological"],
    }
    created = api_client.post(reverse("activity-list", args=[plan.pk]), body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["plan"] == plan.pk and data["version"] == 1 and data["supporting_organizations"] == [moa.pk]
    url = reverse("activity-detail", args=[plan.pk, data["id"]])
    assert api_client.get(url).json()["title"] == "Map legislation"

    replaced = api_client.put(
        url,
        {**body, "title": "Map and review legislation", "supporting_organizations": [], "version": 1},
        format="json",
    )
    assert replaced.status_code == 200, replaced.json()
    assert replaced.json()["version"] == 2 and replaced.json()["supporting_organizations"] == []

    assert api_client.delete(url).status_code == 204
    assert not Activity.objects.filter(pk=data["id"]).exists()


def test_the_api_list_filters_and_sorts_like_the_table(api_client, plan, people, moh):
    make(plan, "Beta", priority="low", status="planned")
    make(plan, "Alpha", priority="high", responsible_organization=moh)
    make(plan, "Gamma", code="R1", indicators=("R1.1",), priority="medium", action_type="training")
    api_client.force_authenticate(people[Role.VIEWER])
    url = reverse("activity-list", args=[plan.pk])

    def titles(**params):
        response = api_client.get(url, params)
        assert response.status_code == 200, response.json()
        return [item["title"] for item in response.json()["results"]]

    assert titles() == ["Beta", "Alpha", "Gamma"]
    assert titles(sort="title") == ["Alpha", "Beta", "Gamma"]
    assert titles(sort="-priority") == ["Beta", "Gamma", "Alpha"]
    assert titles(sort="priority") == ["Alpha", "Gamma", "Beta"]
    assert titles(technical_area=area(plan, "P1").pk, sort="-title") == ["Beta", "Alpha"]
    assert titles(responsible_organization=moh.pk) == ["Alpha"]
    assert titles(action_type="training") == ["Gamma"]
    assert titles(status="planned") == ["Beta"]
    assert titles(q="amm") == ["Gamma"]
    response = api_client.get(url, {"priority": "urgent"})
    assert response.status_code == 400 and "priority" in response.json()


# The table ---------------------------------------------------------------------------------------------------


def test_the_table_filters_and_sorts_by_get_parameters(client, plan, lead, moh):
    make(plan, "Beta", priority="low", start_date=datetime.date(2027, 1, 1))
    make(plan, "Alpha", priority="high", responsible_organization=moh, start_date=datetime.date(2026, 1, 1))
    make(plan, "Gamma", code="R1", indicators=("R1.1",), source="simulation")
    client.force_login(lead)
    url = reverse("activities", args=[plan.pk])

    def titles(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        return [activity.title for activity in response.context["page"].object_list]

    assert titles() == ["Beta", "Alpha", "Gamma"]
    assert titles(sort="title") == ["Alpha", "Beta", "Gamma"]
    assert titles(sort="-start_date") == ["Beta", "Alpha", "Gamma"]  # no date: last either way
    assert titles(sort="organization") == ["Alpha", "Beta", "Gamma"]
    assert titles(priority="high") == ["Alpha"]
    assert titles(source="simulation") == ["Gamma"]
    assert titles(technical_area=area(plan, "R1").pk) == ["Gamma"]
    assert titles(q="ALP") == ["Alpha"]
    # A wrong value in one filter is shown next to it and leaves the others working.
    response = client.get(url, {"priority": "urgent", "q": "a"})
    assert response.context["filter_form"].errors["priority"]
    assert len(response.context["page"].object_list) == 3

    # Sort links keep the filters; an htmx request gets the table alone.
    response = client.get(url, {"priority": "high", "sort": "title"})
    assert "priority=high&amp;sort=-title" in response.content.decode()
    fragment = client.get(url, {"priority": "high"}, headers={"HX-Request": "true"})
    assert b"<html" not in fragment.content and b"Alpha" in fragment.content
    assert "HX-Request" in fragment.headers["Vary"]


def test_the_table_paginates_at_100_rows(client, plan, lead):
    Activity.objects.bulk_create(
        Activity(plan=plan, technical_area=area(plan, "P1"), title=f"Activity {n:03}") for n in range(130)
    )
    client.force_login(lead)
    first = client.get(reverse("activities", args=[plan.pk]), {"sort": "title"})
    assert len(first.context["page"].object_list) == 100
    second = client.get(reverse("activities", args=[plan.pk]), {"sort": "title", "page": 2})
    assert second.context["page"].object_list[0].title == "Activity 100"
    assert "sort=title&amp;page=2" in first.content.decode()


# Query counts ------------------------------------------------------------------------------------------------


def _many(plan, moh, count: int) -> Activity:
    areas = list(TechnicalArea.objects.filter(framework=plan.framework)[:5])
    activities = Activity.objects.bulk_create(
        Activity(
            plan=plan,
            technical_area=areas[n % 5],
            title=f"Activity {n}",
            responsible_organization=moh if n % 2 else None,
            priority="high",
        )
        for n in range(count)
    )
    through = Activity.indicators.through
    indicators = {a.pk: a.indicators.first() for a in areas}
    indicators = {pk: Indicator.objects.filter(technical_area_id=pk).first() for pk in indicators}
    through.objects.bulk_create(
        through(activity_id=a.pk, indicator_id=indicators[a.technical_area_id].pk) for a in activities
    )
    return activities[0]


# Measured for the secretariat: the table 9, the detail page 15, the API list 6, for 5 and for 200 activities.
QUERY_LIMIT_TABLE = 9  # with the operational plans each listed strategic activity is in, and each one's cost
# with the activity's total cost, its comment threads, its cost lines to comment on, and its guidance (the plan's
# national guidance; WHO's of its benchmark action when it has one), its progress reports and the 7-1-7 bottleneck
# it remedies, and the decisions of engagement events that changed it
QUERY_LIMIT_DETAIL = 16
QUERY_LIMIT_API = 6  # with each activity's guidance (the plan's national guidance, WHO's of the activities' actions)


@pytest.mark.parametrize("count", [5, 200])
def test_the_table_runs_a_constant_number_of_queries(client, plan, lead, moh, django_assert_max_num_queries, count):
    _many(plan, moh, count)
    client.force_login(lead)
    with django_assert_max_num_queries(QUERY_LIMIT_TABLE):
        response = client.get(reverse("activities", args=[plan.pk]), {"priority": "high", "sort": "organization"})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == min(count, 100)


@pytest.mark.parametrize("count", [5, 200])
def test_the_detail_page_and_the_api_run_a_constant_number_of_queries(
    client, api_client, plan, lead, moh, django_assert_max_num_queries, count
):
    first = _many(plan, moh, count)
    client.force_login(lead)
    with django_assert_max_num_queries(QUERY_LIMIT_DETAIL):
        assert client.get(reverse("activity_detail", args=[plan.pk, first.pk])).status_code == 200
    api_client.force_authenticate(lead)
    with django_assert_max_num_queries(QUERY_LIMIT_API):
        assert api_client.get(reverse("activity-list", args=[plan.pk])).status_code == 200
