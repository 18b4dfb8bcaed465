"""The targets page and the generate page: who may do what, edits and conflicts, and constant query counts."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse

from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.assessments import assessment_create, scores_set
from planning.drafting import draft_generate
from planning.libraries import demo_library_load
from planning.models import Activity, Indicator, IndicatorTarget, TechnicalArea
from planning.targets import target_set
from stakeholders.models import Organization, PlanMembership
from tests.planning.test_drafting import area, score, small_library, target

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


def target_post(indicator: Indicator, level: int, justification: str, version: int) -> dict:
    prefix = f"t{indicator.pk}"
    return {
        "indicator": indicator.pk,
        f"{prefix}-level": level,
        f"{prefix}-justification": justification,
        f"{prefix}-version": version,
    }


def p11() -> Indicator:
    return Indicator.objects.get(framework__code="JEE3", code="P1.1")


def d11() -> Indicator:
    return Indicator.objects.get(framework__code="JEE3", code="D1.1")


# The targets page -----------------------------------------------------------------------------------------------


def test_the_targets_page_shows_current_levels_targets_and_defaults(client, plan, lead):
    score(plan, lead, {"P1.1": 2, "P1.2": 4})
    target(plan, lead, "P1.1", 3)

    response = signed_in(client, lead).get(f"/plans/{plan.pk}/targets/")

    assert response.status_code == 200
    rows = {row["indicator"].code: row for _area, rows in response.context["areas"] for row in rows}
    assert len(rows) == Indicator.objects.filter(framework=plan.framework).count()
    assert (rows["P1.1"]["current"], rows["P1.1"]["target"].level) == (2, 3)
    assert (rows["P1.2"]["current"], rows["P1.2"]["target"], rows["P1.2"]["default"]) == (4, None, 5)
    assert rows["D1.1"]["current"] is None and rows["D1.1"]["default"] is None
    assert b"Fill default targets" in response.content


def test_the_secretariat_sets_a_target_and_a_stale_edit_is_refused_with_a_conflict(client, plan, lead, people):
    score(plan, lead, {"P1.1": 2})
    client = signed_in(client, lead)

    response = client.post(f"/plans/{plan.pk}/targets/", target_post(p11(), 4, "Funded by the 2027 budget.", 0))
    assert response.status_code == 302
    stored = IndicatorTarget.objects.get(plan=plan, indicator=p11())
    assert (stored.level, stored.justification, stored.version) == (4, "Funded by the 2027 budget.", 1)

    response = client.post(f"/plans/{plan.pk}/targets/", target_post(p11(), 5, "Raised.", 1))
    assert response.status_code == 302
    # Someone else, with the page opened before that save:
    other = signed_in(type(client)(), people[Role.SECRETARIAT_MEMBER])
    response = other.post(f"/plans/{plan.pk}/targets/", target_post(p11(), 3, "Lowered.", 1))
    assert response.status_code == 409
    assert "someone else changed" in response.content.decode().lower()
    # And someone who saw no target at all, after one was set:
    response = other.post(f"/plans/{plan.pk}/targets/", target_post(p11(), 3, "Lowered.", 0))
    assert response.status_code == 409
    stored.refresh_from_db()
    assert (stored.level, stored.justification) == (5, "Raised.")


def test_target_errors_show_next_to_the_field_and_nothing_is_saved(client, plan, lead):
    response = signed_in(client, lead).post(f"/plans/{plan.pk}/targets/", target_post(p11(), 4, "  ", 0))

    assert response.status_code == 200
    row = next(row for _area, rows in response.context["areas"] for row in rows if row["indicator"] == p11())
    assert row["form"].errors["justification"] == ["Say why this target was chosen."]
    assert "Say why this target was chosen." in response.content.decode()
    response = signed_in(client, lead).post(f"/plans/{plan.pk}/targets/", target_post(p11(), 7, "Ambitious", 0))
    row = next(row for _area, rows in response.context["areas"] for row in rows if row["indicator"] == p11())
    assert "level" in row["form"].errors
    assert not IndicatorTarget.objects.exists()


def test_a_technical_lead_sets_targets_in_their_own_areas_only(client, plan, people):
    membership = PlanMembership.objects.get(plan=plan, user=people[Role.TECHNICAL_LEAD])
    membership.technical_areas.set([area("P1")])
    client = signed_in(client, people[Role.TECHNICAL_LEAD])

    page = client.get(f"/plans/{plan.pk}/targets/")
    editable = {row["indicator"].code for _a, rows in page.context["areas"] for row in rows if row["form"]}
    assert editable == set(Indicator.objects.filter(technical_area=area("P1")).values_list("code", flat=True))

    assert client.post(f"/plans/{plan.pk}/targets/", target_post(p11(), 4, "Our area", 0)).status_code == 302
    assert client.post(f"/plans/{plan.pk}/targets/", target_post(d11(), 4, "Not ours", 0)).status_code == 403
    assert client.post(f"/plans/{plan.pk}/targets/fill/").status_code == 403
    assert list(IndicatorTarget.objects.values_list("indicator__code", flat=True)) == ["P1.1"]


@pytest.mark.parametrize("role", [Role.FOCAL_POINT, Role.REVIEWER, Role.VIEWER])
def test_other_members_read_targets_but_cannot_set_them(client, plan, people, role):
    client = signed_in(client, people[role])
    page = client.get(f"/plans/{plan.pk}/targets/")
    assert page.status_code == 200
    assert not any(row["form"] for _a, rows in page.context["areas"] for row in rows)
    assert b"Fill default targets" not in page.content
    assert client.post(f"/plans/{plan.pk}/targets/", target_post(p11(), 4, "No", 0)).status_code == 403
    assert client.post(f"/plans/{plan.pk}/targets/fill/").status_code == 403
    assert not IndicatorTarget.objects.exists()


def test_an_outsider_gets_404_on_targets_and_generate(client, plan, people):
    client = signed_in(client, people["outsider"])
    for path in ("targets/", "targets/fill/", "generate/"):
        assert client.post(f"/plans/{plan.pk}/{path}").status_code == 404
    assert client.get(f"/plans/{plan.pk}/targets/").status_code == 404


def test_fill_default_targets_from_the_page(client, plan, lead):
    score(plan, lead, {"P1.1": 2, "P1.2": 4})
    response = signed_in(client, lead).post(f"/plans/{plan.pk}/targets/fill/", follow=True)
    assert dict(IndicatorTarget.objects.values_list("indicator__code", "level")) == {"P1.1": 4, "P1.2": 5}
    assert "2 default targets set" in response.content.decode()


def test_the_targets_page_runs_a_constant_number_of_queries_for_the_full_framework(
    client, plan, lead, people, django_assert_max_num_queries
):
    codes = list(Indicator.objects.filter(framework=plan.framework).values_list("code", flat=True))
    score(plan, lead, dict.fromkeys(codes, 2))
    client = signed_in(client, lead)
    client.post(f"/plans/{plan.pk}/targets/fill/")
    client.get(f"/plans/{plan.pk}/targets/")  # shows (and so clears) the message about the filled targets
    assert IndicatorTarget.objects.filter(plan=plan).count() == len(codes) == 56
    # session, user, membership, indicators, scores, targets, advice (activities, scores, targets, areas): 10
    with django_assert_max_num_queries(10):
        assert client.get(f"/plans/{plan.pk}/targets/").status_code == 200
    membership = PlanMembership.objects.get(plan=plan, user=people[Role.TECHNICAL_LEAD])
    membership.technical_areas.set(TechnicalArea.objects.filter(framework=plan.framework))
    lead_client = signed_in(type(client)(), people[Role.TECHNICAL_LEAD])
    with django_assert_max_num_queries(11):  # one more: the technical lead's areas
        assert lead_client.get(f"/plans/{plan.pk}/targets/").status_code == 200


def page_post(*rows: tuple) -> dict:
    """What the targets page's one form sends: for each (indicator, level, justification, version, shown level,
    shown justification) its fields and the values the page showed."""
    data: dict = {"indicator": [indicator.pk for indicator, *_rest in rows]}
    for indicator, level, justification, version, shown_level, shown_justification in rows:
        prefix = f"t{indicator.pk}"
        data |= {f"{prefix}-level": level, f"{prefix}-justification": justification, f"{prefix}-version": version}
        data |= {f"initial-{prefix}-level": shown_level, f"initial-{prefix}-justification": shown_justification}
    return data


def p12() -> Indicator:
    return Indicator.objects.get(framework__code="JEE3", code="P1.2")


def test_the_targets_page_sets_every_target_through_one_form_and_one_button(client, plan, lead):
    score(plan, lead, {"P1.1": 2, "P1.2": 4})

    page = signed_in(client, lead).get(f"/plans/{plan.pk}/targets/").content.decode()

    indicators = Indicator.objects.filter(framework=plan.framework).count()
    assert page.count('id="target-edits"') == 1
    assert ">Save<" not in page
    assert page.count('name="indicator"') == indicators
    form = page[page.index('id="target-edits"') : page.index("</form>", page.index('id="target-edits"'))]
    assert form.count("<select") == indicators
    assert form.count('type="submit"') == 1 and "Save targets" in form


def test_several_targets_are_saved_at_once_and_those_left_as_shown_are_not(client, plan, lead):
    score(plan, lead, {"P1.1": 2, "P1.2": 4, "D1.1": 1})
    target(plan, lead, "D1.1", 3)
    shown_d11 = IndicatorTarget.objects.get(indicator=d11())
    data = page_post(
        (p11(), 4, "Funded by the 2027 budget.", 0, 4, ""),  # the default shown, a justification added
        (p12(), 4, "Keep the network running.", 0, 5, ""),  # lowered from the default 5 to the current 4
        (d11(), 3, shown_d11.justification, 1, 3, shown_d11.justification),  # as shown: not saved again
    )

    response = signed_in(client, lead).post(f"/plans/{plan.pk}/targets/", data, follow=True)

    assert response.redirect_chain[-1][1] == 302
    assert "2 targets saved: P1.1, P1.2." in response.content.decode()
    stored = {t.indicator.code: (t.level, t.justification, t.version) for t in IndicatorTarget.objects.all()}
    assert stored == {
        "P1.1": (4, "Funded by the 2027 budget.", 1),
        "P1.2": (4, "Keep the network running.", 1),
        "D1.1": (3, shown_d11.justification, 1),
    }
    assert AuditEvent.objects.filter(plan=plan, action="set the target of").count() == 3  # D1.1's first, and two


def test_a_save_that_changes_nothing_saves_nothing(client, plan, lead):
    score(plan, lead, {"P1.1": 2})
    response = signed_in(client, lead).post(
        f"/plans/{plan.pk}/targets/", page_post((p11(), 4, "", 0, 4, "")), follow=True
    )
    assert "No target was changed, so nothing was saved." in response.content.decode()
    assert not IndicatorTarget.objects.exists()


def test_indicators_without_a_level_leave_a_save_alone_until_a_level_is_chosen_for_them(client, plan, lead):
    """An indicator with no current level and no target shows no level; sent back as shown, it is no change (the
    browser used to send the first level, so every save was refused for the justification it then asked for)."""
    score(plan, lead, {"P1.1": 2})
    page = signed_in(client, lead).get(f"/plans/{plan.pk}/targets/").content.decode()
    p12_select = page[page.index(f'name="t{p12().pk}-level"') :]
    assert p12_select[: p12_select.index("</select>")].count("selected") == 1
    assert '<option value="" selected>' in p12_select[: p12_select.index("</select>")]

    saved = signed_in(client, lead).post(
        f"/plans/{plan.pk}/targets/",
        page_post((p11(), 3, "Funded.", 0, 3, ""), (p12(), "", "", 0, "", "")),
        follow=True,
    )
    assert "Target of P1.1 saved." in saved.content.decode()
    assert list(IndicatorTarget.objects.values_list("indicator__code", "level")) == [("P1.1", 3)]

    refused = signed_in(client, lead).post(f"/plans/{plan.pk}/targets/", page_post((p12(), "", "Because.", 0, "", "")))
    assert "Choose a target level." in refused.content.decode()
    assert not IndicatorTarget.objects.filter(indicator=p12()).exists()


def test_a_target_changed_by_someone_else_refuses_the_whole_save_and_is_named(client, plan, lead, people):
    score(plan, lead, {"P1.1": 2, "P1.2": 2})
    target(plan, lead, "P1.1", 4)  # version 1, as the page showed it
    other = signed_in(type(client)(), people[Role.SECRETARIAT_MEMBER])
    assert other.post(f"/plans/{plan.pk}/targets/", target_post(p11(), 5, "Raised.", 1)).status_code == 302

    data = page_post(
        (p11(), 3, "Lowered.", 1, 4, "Agreed at the workshop."),
        (p12(), 3, "A first target.", 0, 4, ""),
    )
    response = signed_in(client, lead).post(f"/plans/{plan.pk}/targets/", data)

    assert response.status_code == 409
    page = response.content.decode()
    assert "Nothing was saved" in page
    assert "Someone else changed the target of P1.1 after you opened this page." in page
    assert "target of P1.2 after" not in page
    rows = {row["indicator"].code: row for _area, rows in response.context["areas"] for row in rows}
    assert rows["P1.2"]["form"]["justification"].value() == "A first target."  # what they typed stays
    stored = IndicatorTarget.objects.get(indicator=p11())
    assert (stored.level, stored.justification, stored.version) == (5, "Raised.", 2)
    assert not IndicatorTarget.objects.filter(indicator=p12()).exists()  # nothing half-applied


def test_an_invalid_target_refuses_the_whole_save_with_the_reason_beside_it(client, plan, lead):
    score(plan, lead, {"P1.1": 2, "P1.2": 2})
    data = page_post((p11(), 4, "Funded.", 0, 4, ""), (p12(), 5, "  ", 0, 4, ""))

    response = signed_in(client, lead).post(f"/plans/{plan.pk}/targets/", data)

    rows = {row["indicator"].code: row for _area, rows in response.context["areas"] for row in rows}
    assert rows["P1.2"]["form"].errors["justification"] == ["Say why this target was chosen."]
    assert not rows["P1.1"]["form"].errors
    assert "Nothing was saved: correct the target of P1.2." in response.content.decode()
    assert not IndicatorTarget.objects.exists()


def test_a_technical_lead_cannot_add_another_areas_target_to_a_save(client, plan, people):
    membership = PlanMembership.objects.get(plan=plan, user=people[Role.TECHNICAL_LEAD])
    membership.technical_areas.set([area("P1")])
    data = page_post((p11(), 4, "Our area", 0, 4, ""), (d11(), 4, "Not ours", 0, 3, ""))

    response = signed_in(client, people[Role.TECHNICAL_LEAD]).post(f"/plans/{plan.pk}/targets/", data)

    assert response.status_code == 403
    assert not IndicatorTarget.objects.exists()


def test_a_target_below_the_current_level_is_refused_beside_it(client, plan, lead):
    score(plan, lead, {"P1.1": 3})
    data = page_post((p11(), 2, "Cheaper.", 0, 4, ""))

    response = signed_in(client, lead).post(f"/plans/{plan.pk}/targets/", data)

    row = next(row for _area, rows in response.context["areas"] for row in rows if row["indicator"] == p11())
    assert row["form"].errors["level"] == [
        "The current level of P1.1 is 3: a target below it would plan a loss of capacity. Choose 3 to keep it, "
        "or higher."
    ]
    assert not IndicatorTarget.objects.exists()
    data = page_post((p11(), 3, "Keep what we have.", 0, 4, ""))
    assert signed_in(client, lead).post(f"/plans/{plan.pk}/targets/", data).status_code == 302


def test_a_target_the_latest_assessment_overtook_is_shown_with_a_warning(client, plan, lead):
    score(plan, lead, {"P1.1": 2, "P1.2": 2})
    target(plan, lead, "P1.1", 3)
    target(plan, lead, "P1.2", 3)
    later = assessment_create(plan=plan, by=lead, framework=plan.framework, kind="jee", date=datetime.date(2026, 6, 1))
    scores_set(assessment=later, by=lead, scores={"P1.1": 4, "P1.2": 3})

    response = signed_in(client, lead).get(f"/plans/{plan.pk}/targets/")

    page = response.content.decode()
    assert f'id="below-current-{p11().pk}"' in page
    assert "Below the current level (4): raise this target to at least 4." in page
    assert f'id="below-current-{p12().pk}"' not in page  # equal to the current level: kept, no warning


# The generate page ----------------------------------------------------------------------------------------------


@pytest.fixture
def ready(plan, lead, jee3):
    """P1.1 at 2 aiming for 4, D1.1 at 1 aiming for 3, and a small library."""
    score(plan, lead, {"P1.1": 2, "D1.1": 1})
    target(plan, lead, "P1.1", 4)
    target(plan, lead, "D1.1", 3)
    return small_library(jee3)


def test_the_generate_page_previews_what_each_area_would_get(client, plan, lead, ready):
    response = signed_in(client, lead).get(f"/plans/{plan.pk}/generate/")

    assert response.status_code == 200
    labels = dict(response.context["form"].fields["technical_areas"].choices)
    assert labels[area("P1").pk].endswith("· 2 to add")
    assert labels[area("D1").pk].endswith("· 2 to add")
    assert labels[area("R1").pk].endswith("· 0 to add")
    assert "Small library" in response.content.decode()


def test_generating_from_the_page_adds_the_selected_areas_and_redirects(client, plan, lead, ready):
    response = signed_in(client, lead).post(
        f"/plans/{plan.pk}/generate/", {"library": ready.pk, "technical_areas": [area("P1").pk]}
    )

    assert response.status_code == 302
    try:
        expected = reverse("activities", kwargs={"plan_id": plan.pk})
    except NoReverseMatch:
        expected = reverse("generate", kwargs={"plan_id": plan.pk})
    assert response.headers["Location"] == expected
    assert sorted(Activity.objects.filter(plan=plan).values_list("title", flat=True)) == [
        "P1.1 to level 3",
        "P1.1 to level 4",
    ]
    page = signed_in(client, lead).get(f"/plans/{plan.pk}/generate/")
    assert "2 draft activities added" in "".join(str(m) for m in page.context["messages"])


def test_the_page_refuses_a_library_of_another_framework_and_no_areas(client, plan, lead, ready):
    spar_library, _ = demo_library_load_spar()
    client = signed_in(client, lead)
    response = client.post(f"/plans/{plan.pk}/generate/", {"library": spar_library.pk, "technical_areas": []})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "library" in errors and errors["technical_areas"] == ["Choose at least one technical area."]
    assert not Activity.objects.exists()


def demo_library_load_spar():
    from tests.planning.test_drafting import small_library_spar

    return small_library_spar(), True


@pytest.mark.parametrize("role", [Role.TECHNICAL_LEAD, Role.FOCAL_POINT, Role.REVIEWER, Role.VIEWER])
def test_only_the_secretariat_generates(client, plan, people, ready, role):
    client = signed_in(client, people[role])
    assert client.get(f"/plans/{plan.pk}/generate/").status_code == 403
    response = client.post(f"/plans/{plan.pk}/generate/", {"library": ready.pk, "technical_areas": [area("P1").pk]})
    assert response.status_code == 403
    assert not Activity.objects.exists()


def test_the_nav_offers_targets_to_all_and_generation_to_the_secretariat(client, plan, people):
    page = signed_in(client, people[Role.VIEWER]).get(f"/plans/{plan.pk}/")
    assert f'href="/plans/{plan.pk}/targets/"' in page.content.decode()
    assert f'href="/plans/{plan.pk}/generate/"' not in page.content.decode()
    page = signed_in(client, people[Role.SECRETARIAT_MEMBER]).get(f"/plans/{plan.pk}/")
    assert f'href="/plans/{plan.pk}/generate/"' in page.content.decode()


def test_the_generate_page_runs_a_constant_number_of_queries_for_the_full_framework(
    client, plan, lead, jee3, django_assert_max_num_queries
):
    library, _ = demo_library_load(framework=jee3)
    codes = list(Indicator.objects.filter(framework=jee3).values_list("code", flat=True))
    score(plan, lead, dict.fromkeys(codes, 1))
    IndicatorTarget.objects.bulk_create(
        IndicatorTarget(plan=plan, indicator=i, level=5) for i in Indicator.objects.filter(framework=jee3)
    )
    client = signed_in(client, lead)
    # session, user, membership, libraries, areas, preview (scores, targets, indicators, actions, generated),
    # advice (activities, scores, targets, areas), organizations (who leads what is generated)
    with django_assert_max_num_queries(15):
        assert client.get(f"/plans/{plan.pk}/generate/").status_code == 200
    areas = list(TechnicalArea.objects.filter(framework=jee3).values_list("pk", flat=True))
    with django_assert_max_num_queries(30):
        response = client.post(f"/plans/{plan.pk}/generate/", {"library": library.pk, "technical_areas": areas})
    assert response.status_code == 302
    assert Activity.objects.filter(plan=plan).count() == library.actions.count()
    with django_assert_max_num_queries(15):
        assert client.get(f"/plans/{plan.pk}/generate/").status_code == 200


def test_a_target_set_by_the_service_shows_on_the_page(client, plan, lead):
    target_set(plan=plan, by=lead, indicator=p11(), level=3, justification="Slow legal reform.")
    page = signed_in(client, lead).get(f"/plans/{plan.pk}/targets/")
    assert "Slow legal reform." in page.content.decode()


# Who leads the activities a generation adds ---------------------------------------------------------------------


@pytest.fixture
def province_ready(provincial_plan, lead, jee3):
    """The provincial plan, led by the lead, with P1.1 at 2 aiming for 4 and the small library."""
    provincial_plan.framework = jee3
    provincial_plan.save(update_fields=["framework"])
    PlanMembership.objects.create(plan=provincial_plan, user=lead, role=Role.SECRETARIAT_LEAD)
    score(provincial_plan, lead, {"P1.1": 2})
    target(provincial_plan, lead, "P1.1", 4)
    return small_library(jee3)


@pytest.fixture
def provincial_health_office(province) -> Organization:
    return Organization.objects.create(name="North Provincial Health Office", kind="department", jurisdiction=province)


def test_the_secretariat_names_who_leads_the_activities_generated_for_the_province(
    client, provincial_plan, lead, province_ready, provincial_health_office
):
    client = signed_in(client, lead)
    page = client.get(f"/plans/{provincial_plan.pk}/generate/")
    offered = dict(page.context["form"].fields["responsible_organization"].choices)
    assert "North Provincial Health Office" in offered.values()

    response = client.post(
        f"/plans/{provincial_plan.pk}/generate/",
        {
            "library": province_ready.pk,
            "technical_areas": [area("P1").pk],
            "responsible_organization": provincial_health_office.pk,
        },
    )

    assert response.status_code == 302
    generated = Activity.objects.filter(plan=provincial_plan)
    assert generated.count() == 2
    assert set(generated.values_list("responsible_organization", flat=True)) == {provincial_health_office.pk}
    overview = client.get(f"/plans/{provincial_plan.pk}/").content.decode()
    assert 'id="no-responsible-organization"' not in overview


def test_activities_generated_without_a_responsible_organization_are_counted_and_listed(
    client, provincial_plan, lead, province_ready, moh
):
    client = signed_in(client, lead)
    client.post(
        f"/plans/{provincial_plan.pk}/generate/", {"library": province_ready.pk, "technical_areas": [area("P1").pk]}
    )
    owned = Activity.objects.create(
        plan=provincial_plan, technical_area=area("P1"), title="Led", responsible_organization=moh
    )

    overview = client.get(f"/plans/{provincial_plan.pk}/").content.decode()
    assert "2 activities have no responsible organization yet." in overview
    link = f"/plans/{provincial_plan.pk}/activities/?no_responsible_organization=on"
    assert f'href="{link}"' in overview
    listed = client.get(link)
    assert {activity.title for activity in listed.context["page"].object_list} == {
        "P1.1 to level 3",
        "P1.1 to level 4",
    }
    assert owned.title not in {activity.title for activity in listed.context["page"].object_list}
    advice = client.get(f"/plans/{provincial_plan.pk}/generate/").context["advice"]
    assert any("2 activities have no responsible organization" in message for message in advice)


def test_an_organization_of_another_country_is_refused_and_nothing_generated(
    client, provincial_plan, lead, province_ready, other_country
):
    foreign = Organization.objects.create(
        name="Elsewhere Ministry of Health", kind="ministry", jurisdiction=other_country
    )
    response = signed_in(client, lead).post(
        f"/plans/{provincial_plan.pk}/generate/",
        {"library": province_ready.pk, "technical_areas": [area("P1").pk], "responsible_organization": foreign.pk},
    )
    assert response.status_code == 200
    assert "responsible_organization" in response.context["form"].errors
    with pytest.raises(ValidationError, match="not an organization of North Province"):
        draft_generate(
            plan=provincial_plan,
            by=lead,
            library=province_ready,
            technical_areas=[area("P1")],
            responsible_organization=foreign,
        )
    assert not Activity.objects.filter(plan=provincial_plan).exists()
