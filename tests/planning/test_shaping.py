"""Shaping a plan: context narratives, ranked priority areas, functional groups and activity dependencies."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from naphs.errors import EditConflict
from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.models import (
    Activity,
    ActivityDependency,
    AreaPriority,
    FunctionalGroup,
    Plan,
    PlanContext,
    TechnicalArea,
)
from planning.shaping import (
    context_set,
    dependency_add,
    dependency_remove,
    functional_group_delete,
    functional_group_save,
    functional_groups_default,
    priorities_digest,
    priorities_set,
)
from stakeholders.models import PlanMembership

pytestmark = pytest.mark.django_db

SL, SM, TL, FP, RV, VW = (role.value for role in Role)
READERS = [FP, RV, VW]


def area(code: str, framework: str = "JEE3") -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code=framework, code=code)


def activity(plan: Plan, title: str, code: str = "P1") -> Activity:
    return Activity.objects.create(plan=plan, technical_area=area(code), title=title)


@pytest.fixture
def tech_lead(people):
    """The technical lead, assigned to P1 (Legal instruments) only."""
    PlanMembership.objects.get(user=people[TL]).technical_areas.set([area("P1")])
    return people[TL]


def signed_in(client, user):
    client.force_login(user)
    return client


# Context narratives -------------------------------------------------------------------------------------------


def test_context_set_creates_then_updates_a_narrative_with_its_version(plan, lead):
    first = context_set(plan=plan, by=lead, narrative="  A country of islands.  ", version=0)
    assert (first.narrative, first.version, first.technical_area) == ("A country of islands.", 1, None)
    again = context_set(plan=plan, by=lead, narrative="A country of many islands.", version=1)
    assert again.pk == first.pk and again.version == 2
    area_context = context_set(plan=plan, by=lead, technical_area=area("P1"), narrative="Laws date from 1960.")
    assert PlanContext.objects.filter(plan=plan).count() == 2
    assert area_context.technical_area == area("P1")
    assert AuditEvent.objects.filter(plan=plan, target_type="plancontext").count() == 3


def test_a_stale_context_edit_is_refused_and_the_first_save_kept(plan, lead, people):
    context_set(plan=plan, by=lead, narrative="First", version=0)
    with pytest.raises(EditConflict):
        context_set(plan=plan, by=people[SM], narrative="Second", version=0)
    context_set(plan=plan, by=lead, narrative="Third", version=1)
    with pytest.raises(EditConflict):
        context_set(plan=plan, by=people[SM], narrative="Fourth", version=1)
    assert PlanContext.objects.get(plan=plan).narrative == "Third"


def test_context_of_an_area_of_another_framework_is_refused(plan, lead):
    with pytest.raises(ValidationError, match="C1"):
        context_set(plan=plan, by=lead, technical_area=area("C1", "SPAR2"), narrative="x")
    assert not PlanContext.objects.exists()


def test_the_context_page_shows_every_narrative_to_every_member(client, plan, lead, people):
    context_set(plan=plan, by=lead, technical_area=area("D1"), narrative="Laboratories in three cities.")
    for role in [SL, SM, TL, FP, RV, VW]:
        response = signed_in(client, people[role]).get(f"/plans/{plan.pk}/context/")
        assert response.status_code == 200
        assert "Laboratories in three cities." in response.content.decode()
        assert "D1 " in response.content.decode()


def test_the_context_and_priorities_pages_name_the_fourth_pillar_as_jee_does(client, plan, lead):
    priorities_set(plan=plan, by=lead, ranking=[(area("PoE"), "Ports")])
    signed_in(client, lead)
    for page in ("context", "priorities"):
        html = client.get(f"/plans/{plan.pk}/{page}/").content.decode()
        assert "IHR-related hazards and points of entry" in html, page
        assert "Hazards Poe" not in html, page


def test_the_secretariat_saves_a_narrative_by_plain_post_and_by_htmx(client, plan, lead):
    signed_in(client, lead)
    url = f"/plans/{plan.pk}/context/"
    response = client.post(url, {"technical_area": "", "narrative": "Plan-wide.", "version": 0})
    assert response.status_code == 302
    response = client.post(
        url, {"technical_area": area("R1").pk, "narrative": "Response plans.", "version": 0}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'id="context-' in response.content.decode() and "Saved the context" in response.content.decode()
    assert dict(PlanContext.objects.values_list("technical_area__code", "narrative")) == {
        None: "Plan-wide.",
        "R1": "Response plans.",
    }


def test_a_stale_context_post_answers_409_and_keeps_the_first_save(client, plan, lead, people):
    url = f"/plans/{plan.pk}/context/"
    signed_in(client, lead).post(url, {"technical_area": area("P1").pk, "narrative": "First", "version": 0})
    signed_in(client, people[SM])
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.post(url, {"technical_area": area("P1").pk, "narrative": "Late", "version": 0}, **headers)
        assert response.status_code == 409
        assert "someone else changed it after you opened it" in response.content.decode()
    assert PlanContext.objects.get(plan=plan, technical_area=area("P1")).narrative == "First"


def test_a_technical_lead_edits_the_context_of_their_own_areas_only(client, plan, tech_lead):
    signed_in(client, tech_lead)
    url = f"/plans/{plan.pk}/context/"
    page = client.get(url).content.decode()
    assert page.count("<textarea") == 1  # P1 only
    assert client.post(url, {"technical_area": area("P1").pk, "narrative": "Ours", "version": 0}).status_code == 302
    assert client.post(url, {"technical_area": area("P2").pk, "narrative": "No", "version": 0}).status_code == 403
    assert client.post(url, {"technical_area": "", "narrative": "No", "version": 0}).status_code == 403
    assert list(PlanContext.objects.values_list("technical_area__code", "narrative")) == [("P1", "Ours")]


@pytest.mark.parametrize("role", READERS)
def test_readers_cannot_edit_any_narrative(client, plan, people, role):
    signed_in(client, people[role])
    url = f"/plans/{plan.pk}/context/"
    assert "<textarea" not in client.get(url).content.decode()
    for area_id in ("", area("P1").pk):
        assert client.post(url, {"technical_area": area_id, "narrative": "x", "version": 0}).status_code == 403
    assert not PlanContext.objects.exists()


def test_outsiders_get_404_on_every_page_here(client, plan, people, lead):
    target = activity(plan, "Draft the law")
    group = functional_group_save(plan=plan, by=lead, name="Custom", technical_areas=[area("P1")])
    signed_in(client, people["outsider"])
    for path in (
        "context/",
        "priorities/",
        "groups/",
        f"groups/{group.pk}/",
        f"activities/{target.pk}/dependencies/",
    ):
        assert client.get(f"/plans/{plan.pk}/{path}").status_code == 404, path
        assert client.post(f"/plans/{plan.pk}/{path}", {}).status_code == 404, path


# Priorities ---------------------------------------------------------------------------------------------------


def test_priorities_set_replaces_the_ranked_list(plan, lead):
    priorities_set(plan=plan, by=lead, ranking=[(area("P1"), "Laws first"), (area("D1"), "Labs")])
    priorities_set(plan=plan, by=lead, ranking=[(area("D1"), " Labs "), (area("R1"), ""), (area("P1"), "Later")])
    assert list(AreaPriority.objects.filter(plan=plan).values_list("rank", "technical_area__code", "rationale")) == [
        (1, "D1", "Labs"),
        (2, "R1", ""),
        (3, "P1", "Later"),
    ]
    priorities_set(plan=plan, by=lead, ranking=[])
    assert not AreaPriority.objects.exists()


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        ([("P1", "JEE3"), ("P1", "JEE3")], "only once: P1"),
        ([("P1", "JEE3"), ("C1", "SPAR2")], "framework: C1"),
    ],
)
def test_priorities_set_refuses_bad_input_and_keeps_the_old_list(plan, lead, codes, message):
    priorities_set(plan=plan, by=lead, ranking=[(area("R2"), "Kept")])
    with pytest.raises(ValidationError, match=message):
        priorities_set(plan=plan, by=lead, ranking=[(area(code, fw), "") for code, fw in codes])
    assert list(AreaPriority.objects.values_list("technical_area__code", "rank")) == [("R2", 1)]


def test_the_priorities_page_reorders_adds_and_removes(client, plan, lead):
    priorities_set(plan=plan, by=lead, ranking=[(area("P1"), "a"), (area("D1"), "b")])
    signed_in(client, lead)
    url = f"/plans/{plan.pk}/priorities/"
    p1, d1, r1 = area("P1").pk, area("D1").pk, area("R1").pk
    base = {f"rank_{p1}": "1", f"rationale_{p1}": "a", f"rank_{d1}": "2", f"rationale_{d1}": "b"}

    def ranking():
        return list(AreaPriority.objects.values_list("technical_area__code", flat=True))

    def shown():
        return {"shown": priorities_digest(AreaPriority.objects.filter(plan=plan))}

    assert client.post(url, {**base, **shown(), "move": f"down-{p1}"}).status_code == 302
    assert ranking() == ["D1", "P1"]
    base = {f"rank_{d1}": "1", f"rationale_{d1}": "b", f"rank_{p1}": "2", f"rationale_{p1}": "a"}
    assert client.post(url, {**base, **shown(), f"rationale_{r1}": "c", "move": f"add-{r1}"}).status_code == 302
    assert ranking() == ["D1", "P1", "R1"]
    base = {**base, f"rank_{r1}": "3", f"rationale_{r1}": "c"}
    assert client.post(url, {**base, **shown(), "move": f"remove-{d1}"}).status_code == 302
    assert ranking() == ["P1", "R1"]
    # Rank inputs: gaps close up.
    assert client.post(url, {f"rank_{r1}": "7", f"rank_{p1}": "3", **shown()}).status_code == 302
    assert list(AreaPriority.objects.values_list("technical_area__code", "rank")) == [("P1", 1), ("R1", 2)]


def test_the_priorities_page_refuses_a_shared_rank(client, plan, lead):
    signed_in(client, lead)
    p1, d1 = area("P1").pk, area("D1").pk
    response = client.post(f"/plans/{plan.pk}/priorities/", {f"rank_{p1}": "1", f"rank_{d1}": "1", "shown": "x"})
    assert response.status_code == 422
    assert "P1, D1 (rank 1)" in response.content.decode()
    assert not AreaPriority.objects.exists()


def test_a_priority_list_saved_over_someone_elses_is_refused_with_409(client, plan, lead, people):
    priorities_set(plan=plan, by=lead, ranking=[(area("P1"), "Laws first")])
    url = f"/plans/{plan.pk}/priorities/"
    opened = {"shown": priorities_digest(AreaPriority.objects.filter(plan=plan))}
    p1, d1 = area("P1").pk, area("D1").pk
    priorities_set(plan=plan, by=people[SM], ranking=[(area("D1"), "Labs first")], shown=opened["shown"])
    signed_in(client, lead)
    response = client.post(url, {f"rank_{p1}": "1", f"rationale_{p1}": "Laws first", f"rank_{d1}": "2", **opened})
    assert response.status_code == 409
    assert "Someone else changed the priority areas after you opened this page" in response.content.decode()
    assert list(AreaPriority.objects.values_list("technical_area__code", "rationale")) == [("D1", "Labs first")]
    missing = client.post(url, {f"rank_{p1}": "1"})
    assert missing.status_code == 422 and "reload the page" in missing.content.decode()


@pytest.mark.parametrize("role", [TL, *READERS])
def test_only_the_secretariat_sets_priorities(client, plan, people, lead, role):
    priorities_set(plan=plan, by=lead, ranking=[(area("P1"), "Laws first")])
    signed_in(client, people[role])
    url = f"/plans/{plan.pk}/priorities/"
    page = client.get(url)
    assert (
        page.status_code == 200 and "Laws first" in page.content.decode() and "<textarea" not in page.content.decode()
    )
    assert client.post(url, {f"rank_{area('D1').pk}": "1"}).status_code == 403
    assert list(AreaPriority.objects.values_list("technical_area__code", flat=True)) == ["P1"]


# Functional groups --------------------------------------------------------------------------------------------


def test_default_groups_follow_the_pillars_once(plan, lead):
    groups = functional_groups_default(plan=plan, by=lead)
    assert [group.name for group in groups] == ["Prevent", "Detect", "Respond", "Hazards and points of entry"]
    codes = {group.name: sorted(group.technical_areas.values_list("code", flat=True)) for group in groups}
    assert codes["Detect"] == ["D1", "D2", "D3"]
    assert codes["Hazards and points of entry"] == ["CE", "PoE", "RE"]
    assert len(codes["Prevent"]) == 8 and len(codes["Respond"]) == 5
    assert functional_groups_default(plan=plan, by=lead) == []
    assert FunctionalGroup.objects.filter(plan=plan).count() == 4


def test_a_plan_with_groups_gets_no_default_ones(plan, lead):
    functional_group_save(plan=plan, by=lead, name="One Health", technical_areas=[area("P4")])
    assert functional_groups_default(plan=plan, by=lead) == []
    assert list(FunctionalGroup.objects.values_list("name", flat=True)) == ["One Health"]


def test_group_save_creates_edits_and_lets_an_area_sit_in_several_groups(plan, lead):
    zoonoses = functional_group_save(plan=plan, by=lead, name="Zoonoses", technical_areas=[area("P4"), area("D1")])
    labs = functional_group_save(plan=plan, by=lead, name=" Lab  network ", technical_areas=[area("D1")])
    assert labs.name == "Lab network"
    functional_group_save(
        plan=plan, by=lead, group=zoonoses, version=0, name="One Health", technical_areas=[area("P4")]
    )
    zoonoses.refresh_from_db()
    assert zoonoses.name == "One Health"
    assert list(zoonoses.technical_areas.values_list("code", flat=True)) == ["P4"]
    assert list(labs.technical_areas.values_list("code", flat=True)) == ["D1"]
    functional_group_delete(group=labs, by=lead)
    assert list(FunctionalGroup.objects.values_list("name", flat=True)) == ["One Health"]
    assert AuditEvent.objects.filter(target_type="functionalgroup").count() == 4


def test_group_save_refuses_bad_input(plan, lead):
    functional_group_save(plan=plan, by=lead, name="Detect", technical_areas=[])
    with pytest.raises(ValidationError, match="already has a group"):
        functional_group_save(plan=plan, by=lead, name="detect", technical_areas=[])
    with pytest.raises(ValidationError, match="framework: C1"):
        functional_group_save(plan=plan, by=lead, name="Mixed", technical_areas=[area("P1"), area("C1", "SPAR2")])
    with pytest.raises(ValidationError, match="name"):
        functional_group_save(plan=plan, by=lead, name="   ", technical_areas=[])
    assert FunctionalGroup.objects.count() == 1


def test_a_group_renamed_by_someone_else_since_the_page_was_shown_is_refused(client, plan, lead, people):
    group = functional_group_save(plan=plan, by=lead, name="Labs", technical_areas=[area("D1")])
    functional_group_save(plan=plan, by=people[SM], group=group, version=0, name="Laboratories", technical_areas=[])
    with pytest.raises(EditConflict):
        functional_group_save(plan=plan, by=lead, group=group, version=0, name="Lab network", technical_areas=[])
    signed_in(client, lead)
    response = client.post(f"/plans/{plan.pk}/groups/{group.pk}/", {"name": "Lab network", "version": "0"})
    assert response.status_code == 409 and "someone else changed" in response.content.decode().lower()
    response = client.post(f"/plans/{plan.pk}/groups/{group.pk}/", {"name": "Lab network"})
    assert response.status_code == 409
    group.refresh_from_db()
    assert (group.name, group.version) == ("Laboratories", 1)
    assert AuditEvent.objects.filter(target_type="functionalgroup", action="edited the functional group").count() == 1


def test_the_groups_pages_for_the_secretariat(client, plan, lead):
    signed_in(client, lead)
    url = f"/plans/{plan.pk}/groups/"
    assert client.post(url, {"defaults": "1"}).status_code == 302
    assert FunctionalGroup.objects.filter(plan=plan).count() == 4
    response = client.post(url, {"name": "Labs", "technical_areas": [area("D1").pk, area("P4").pk]})
    assert response.status_code == 302
    response = client.post(url, {"name": "Labs", "technical_areas": [area("D1").pk]})
    assert response.status_code == 422 and "already has a group named" in response.content.decode()
    labs = FunctionalGroup.objects.get(name="Labs")
    edit = client.get(f"{url}{labs.pk}/").content.decode()
    assert 'name="version" value="0"' in edit
    response = client.post(
        f"{url}{labs.pk}/", {"name": "Laboratories", "technical_areas": [area("D2").pk], "version": "0"}
    )
    assert response.status_code == 302
    assert list(FunctionalGroup.objects.get(pk=labs.pk).technical_areas.values_list("code", flat=True)) == ["D2"]
    assert client.post(f"{url}{labs.pk}/delete/").status_code == 302
    assert not FunctionalGroup.objects.filter(pk=labs.pk).exists()
    assert "Prevent" in client.get(url).content.decode()


@pytest.mark.parametrize("role", [TL, *READERS])
def test_only_the_secretariat_changes_groups(client, plan, people, lead, role):
    group = functional_group_save(plan=plan, by=lead, name="Labs", technical_areas=[area("D1")])
    signed_in(client, people[role])
    url = f"/plans/{plan.pk}/groups/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"defaults": "1"}).status_code == 403
    assert client.post(url, {"name": "Mine", "technical_areas": []}).status_code == 403
    assert client.get(f"{url}{group.pk}/").status_code == 403
    assert client.post(f"{url}{group.pk}/", {"name": "Mine", "technical_areas": []}).status_code == 403
    assert client.post(f"{url}{group.pk}/delete/").status_code == 403
    assert list(FunctionalGroup.objects.values_list("name", flat=True)) == ["Labs"]


# Dependencies -------------------------------------------------------------------------------------------------


def test_dependency_add_and_remove(plan, lead):
    law, training = activity(plan, "Draft the law"), activity(plan, "Train inspectors")
    dependency = dependency_add(activity=training, depends_on=law, by=lead)
    assert list(training.dependencies.values_list("depends_on__title", flat=True)) == ["Draft the law"]
    dependency_remove(dependency=dependency, by=lead)
    assert not ActivityDependency.objects.exists()
    assert AuditEvent.objects.filter(target_type="activity").count() == 2


def test_dependency_add_refuses_self_duplicates_and_other_plans(plan, provincial_plan, lead):
    law, training = activity(plan, "Draft the law"), activity(plan, "Train inspectors")
    elsewhere = activity(provincial_plan, "Provincial law")
    with pytest.raises(ValidationError, match="cannot depend on itself"):
        dependency_add(activity=law, depends_on=law, by=lead)
    with pytest.raises(ValidationError, match="another plan"):
        dependency_add(activity=law, depends_on=elsewhere, by=lead)
    dependency_add(activity=training, depends_on=law, by=lead)
    with pytest.raises(ValidationError, match="already depends"):
        dependency_add(activity=training, depends_on=law, by=lead)
    assert ActivityDependency.objects.count() == 1


def test_a_cycle_of_two_is_refused(plan, lead):
    a, b = activity(plan, "A"), activity(plan, "B")
    dependency_add(activity=a, depends_on=b, by=lead)
    with pytest.raises(ValidationError) as refused:
        dependency_add(activity=b, depends_on=a, by=lead)
    assert "“B” → “A” → “B”" in str(refused.value)
    assert ActivityDependency.objects.count() == 1


def test_a_cycle_of_three_is_refused_naming_its_activities(plan, lead):
    a, b, c, d = (activity(plan, title) for title in "ABCD")
    dependency_add(activity=a, depends_on=b, by=lead)
    dependency_add(activity=b, depends_on=c, by=lead)
    dependency_add(activity=a, depends_on=d, by=lead)
    dependency_add(activity=d, depends_on=c, by=lead)  # a diamond is no cycle
    with pytest.raises(ValidationError) as refused:
        dependency_add(activity=c, depends_on=a, by=lead)
    message = str(refused.value)
    assert "cycle" in message and "“C” → “A”" in message and message.count("“C”") == 2
    assert ActivityDependency.objects.count() == 4


def test_cycle_detection_reads_the_plans_dependencies_in_one_query(plan, lead):
    chain = [activity(plan, f"Step {n}") for n in range(30)]
    for later, earlier in zip(chain[1:], chain, strict=False):
        dependency_add(activity=later, depends_on=earlier, by=lead)
    with CaptureQueriesContext(connection) as queries, pytest.raises(ValidationError, match="cycle"):
        dependency_add(activity=chain[0], depends_on=chain[-1], by=lead)
    reads = [q["sql"] for q in queries if "planning_activitydependency" in q["sql"]]
    assert len(reads) == 1


def test_the_dependencies_page_adds_lists_and_removes(client, plan, lead):
    law, training, drill = activity(plan, "Draft the law"), activity(plan, "Train inspectors"), activity(plan, "Drill")
    dependency_add(activity=drill, depends_on=training, by=lead)
    signed_in(client, lead)
    url = f"/plans/{plan.pk}/activities/{training.pk}/dependencies/"
    assert client.post(url, {"depends_on": law.pk}).status_code == 302
    page = client.get(url).content.decode()
    assert "Draft the law" in page and "Drill" in page
    response = client.post(url, {"depends_on": drill.pk})
    assert response.status_code == 422 and "cycle" in response.content.decode()
    dependency = ActivityDependency.objects.get(activity=training, depends_on=law)
    assert client.post(f"{url}{dependency.pk}/remove/").status_code == 302
    assert list(ActivityDependency.objects.values_list("activity__title", flat=True)) == ["Drill"]


def test_the_dependencies_page_refuses_an_activity_of_another_plan(client, plan, provincial_plan, lead):
    law, elsewhere = activity(plan, "Draft the law"), activity(provincial_plan, "Provincial law")
    signed_in(client, lead)
    response = client.post(f"/plans/{plan.pk}/activities/{law.pk}/dependencies/", {"depends_on": elsewhere.pk})
    assert response.status_code == 422
    assert client.get(f"/plans/{plan.pk}/activities/{elsewhere.pk}/dependencies/").status_code == 404
    assert not ActivityDependency.objects.exists()


@pytest.mark.parametrize("role", [TL, *READERS])
def test_only_the_secretariat_changes_dependencies(client, plan, people, lead, role):
    law, training = activity(plan, "Draft the law"), activity(plan, "Train inspectors")
    dependency = dependency_add(activity=training, depends_on=law, by=lead)
    signed_in(client, people[role])
    url = f"/plans/{plan.pk}/activities/{training.pk}/dependencies/"
    page = client.get(url)
    assert page.status_code == 200 and "Draft the law" in page.content.decode()
    assert client.post(url, {"depends_on": law.pk}).status_code == 403
    assert client.post(f"{url}{dependency.pk}/remove/").status_code == 403
    assert ActivityDependency.objects.count() == 1


# Query counts -------------------------------------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_pages_run_a_constant_number_of_queries(client, plan, lead, tech_lead):
    all_areas = list(TechnicalArea.objects.filter(framework=plan.framework))
    training = activity(plan, "Train inspectors")
    pages = {
        "context": f"/plans/{plan.pk}/context/",
        "priorities": f"/plans/{plan.pk}/priorities/",
        "groups": f"/plans/{plan.pk}/groups/",
        "dependencies": f"/plans/{plan.pk}/activities/{training.pk}/dependencies/",
    }
    # Start with one of each, then grow.
    context_set(plan=plan, by=lead, technical_area=all_areas[0], narrative="About P1")
    priorities_set(plan=plan, by=lead, ranking=[(all_areas[0], "why")])
    functional_group_save(plan=plan, by=lead, name="First", technical_areas=all_areas[:1])
    dependency_add(activity=training, depends_on=activity(plan, "Before"), by=lead)
    secretariat = signed_in(client, lead)
    small = {name: _count(secretariat, url) for name, url in pages.items()}
    # Grow everything: every narrative, every area ranked, more groups, many dependencies both ways.
    for each in all_areas[1:]:
        context_set(plan=plan, by=lead, technical_area=each, narrative=f"About {each.code}")
    context_set(plan=plan, by=lead, narrative="The plan")
    priorities_set(plan=plan, by=lead, ranking=[(each, "why") for each in all_areas])
    for n in range(5):
        functional_group_save(plan=plan, by=lead, name=f"Group {n}", technical_areas=all_areas[n:])
    for n in range(15):
        dependency_add(activity=training, depends_on=activity(plan, f"Before {n}"), by=lead)
        dependency_add(activity=activity(plan, f"After {n}", code="R1"), depends_on=training, by=lead)
    big = {name: _count(secretariat, url) for name, url in pages.items()}
    assert big == small
    # Pinned: the user (1; the session comes from the cache), the membership with its plan (1), then per page.
    assert big == {"context": 4, "priorities": 4, "groups": 5, "dependencies": 6}
    lead_client = signed_in(client, tech_lead)
    assert _count(lead_client, pages["context"]) == 5  # plus the technical lead's areas
