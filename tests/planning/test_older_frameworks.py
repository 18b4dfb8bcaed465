"""The older assessment frameworks (JEE 1st and 2nd editions, SPAR 1st edition) and the approximate crosswalks
that carry their scores and their libraries' actions into a plan of JEE 3 or SPAR 2."""

from __future__ import annotations

import datetime
import io

import pytest
from django.contrib.auth.models import Permission as AuthPermission
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from naphs.models import Upload
from naphs.spreadsheets import ImportRefused
from planning.assessments import assessment_create, scores_import, scores_import_spar_table, scores_set
from planning.crosswalks import crosswalk_export, crosswalk_import
from planning.drafting import draft_generate
from planning.job_kinds import PlanningJob
from planning.libraries import library_import, library_import_report
from planning.models import Activity, Crosswalk, CrosswalkLink, Framework, Indicator, IndicatorTarget, TechnicalArea
from planning.selectors import plan_baseline
from tests.conftest import make_user
from tests.planning.test_assessments import xlsx

pytestmark = pytest.mark.django_db

OLD = datetime.date(2019, 6, 1)
NEWER = datetime.date(2023, 6, 1)


def framework(code: str) -> Framework:
    return Framework.objects.get(code=code)


def indicator(framework_code: str, code: str) -> Indicator:
    return Indicator.objects.get(framework__code=framework_code, code=code)


def by_code(levels: dict[int, object]) -> dict[str, object]:
    names = dict(Indicator.objects.filter(pk__in=levels).values_list("pk", "code"))
    return {names[pk]: value for pk, value in levels.items()}


def csv_bytes(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


# --- The frameworks and the crosswalks as data -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "areas", "indicators", "first", "last"),
    [
        ("JEE1", 19, 48, "P.1.1", "RE.2"),
        ("JEE2", 19, 49, "P.1.1", "RE.2"),
        ("SPAR1", 13, 24, "C1.1", "C13.1"),
    ],
)
def test_the_older_frameworks_arrive_with_their_areas_and_indicators_as_who_prints_them(
    code, areas, indicators, first, last
):
    loaded = framework(code)
    assert (loaded.technical_areas.count(), loaded.indicators.count()) == (areas, indicators)
    codes = list(loaded.indicators.order_by("order").values_list("code", flat=True))
    assert (codes[0], codes[-1]) == (first, last)
    assert "edition" in loaded.name


def test_the_editions_differ_where_who_changed_them():
    jee1, jee2 = framework("JEE1"), framework("JEE2")
    assert set(jee2.indicators.filter(code__startswith="P.1.").values_list("code", flat=True)) == {
        "P.1.1",
        "P.1.2",
        "P.1.3",
    }
    assert jee2.indicators.filter(technical_area__code="D.4").count() == 4
    assert jee1.indicators.filter(technical_area__code="D.2").count() == 4
    assert TechnicalArea.objects.get(framework=jee2, code="R.1").name == "Emergency preparedness"
    spar1 = framework("SPAR1")
    sizes = {area.code: area.indicators.count() for area in spar1.technical_areas.all()}
    assert sizes == {
        **dict.fromkeys(["C3", "C4", "C7", "C10", "C12", "C13"], 1),
        **dict.fromkeys(["C2", "C6", "C11"], 2),
        **dict.fromkeys(["C1", "C5", "C8", "C9"], 3),
    }


@pytest.mark.parametrize(("source", "target"), [("JEE1", "JEE3"), ("JEE2", "JEE3"), ("SPAR1", "SPAR2")])
def test_each_older_framework_has_an_approximate_crosswalk_to_the_current_edition_that_reaches_every_indicator(
    source, target
):
    crosswalk = Crosswalk.objects.get(source_framework__code=source, target_framework__code=target)
    assert crosswalk.approximate and "not an official WHO table" in crosswalk.note
    assert str(crosswalk).endswith("(approximate)")
    linked = set(crosswalk.links.values_list("source__code", flat=True))
    assert linked == set(framework(source).indicators.values_list("code", flat=True))
    assert not crosswalk.links.exclude(target__framework__code=target).exists()


# --- Older assessments in a current plan ----------------------------------------------------------------------


def test_a_jee2_assessment_gives_a_jee3_plan_its_baseline_through_the_crosswalk(plan, lead, django_assert_num_queries):
    jee2 = assessment_create(plan=plan, by=lead, framework=framework("JEE2"), kind="jee", date=OLD)
    # D.2.2, D.2.3 and D.3.2 all map to D2.3: the lowest counts. P.2.1 maps to both P3.1 and P3.2.
    scores_set(assessment=jee2, by=lead, scores={"P.1.2": 4, "D.2.2": 2, "D.2.3": 4, "D.3.2": 3, "P.2.1": 3})
    with django_assert_num_queries(2):
        baseline = plan_baseline(plan=plan)
    levels = by_code({pk: source.level for pk, source in baseline.items()})
    # D.3.1 is not scored, so P3.1 (which it also reaches) keeps P.2.1's 3.
    assert levels == {"P2.1": 4, "D2.3": 2, "P3.1": 3, "P3.2": 3}
    source = baseline[indicator("JEE3", "D2.3").pk]
    assert source.carried and source.framework == "JEE2" and source.assessment_id == jee2.pk
    assert source.crosswalks == ("JEE 2 – JEE 3 (approximate)",) and source.approximate


def test_a_later_assessment_still_wins_per_indicator_over_an_older_framework(plan, lead, jee3):
    jee1 = assessment_create(plan=plan, by=lead, framework=framework("JEE1"), kind="jee", date=OLD)
    scores_set(assessment=jee1, by=lead, scores={"P.1.1": 2, "P.1.2": 1, "CE.1": 3})
    self_assessment = assessment_create(plan=plan, by=lead, framework=jee3, kind="self", date=NEWER)
    scores_set(assessment=self_assessment, by=lead, scores={"P1.1": 4})
    baseline = plan_baseline(plan=plan)
    assert by_code({pk: s.level for pk, s in baseline.items()}) == {"P1.1": 4, "CE1": 3}
    assert not baseline[indicator("JEE3", "P1.1").pk].carried
    # Recorded later, but of an earlier date: the JEE 3 self-assessment still wins on P1.1.
    older = assessment_create(plan=plan, by=lead, framework=framework("JEE2"), kind="jee", date=OLD)
    scores_set(assessment=older, by=lead, scores={"P.1.1": 1})
    assert plan_baseline(plan=plan)[indicator("JEE3", "P1.1").pk].level == 4


def test_older_assessments_reach_the_other_current_framework_through_two_crosswalks(plan, lead):
    spar2 = framework("SPAR2")
    plan.framework = spar2
    plan.save()
    jee1 = assessment_create(plan=plan, by=lead, framework=framework("JEE1"), kind="jee", date=OLD)
    scores_set(assessment=jee1, by=lead, scores={"P.1.1": 3, "P.1.2": 2, "RE.1": 4})
    baseline = plan_baseline(plan=plan)
    # P.1.1 and P.1.2 reach JEE 3 P1.1 (the lowest, 2), which reaches SPAR 2 C1.1; RE.1 reaches RE1, then C15.1.
    assert by_code({pk: s.level for pk, s in baseline.items()}) == {"C1.1": 2, "C15.1": 4}
    assert baseline[indicator("SPAR2", "C1.1").pk].crosswalks == (
        "JEE 1 – JEE 3 (approximate)",
        "JEE 3 – SPAR 2 (approximate)",
    )


def test_a_spar1_assessment_reaches_a_jee3_plan_through_spar2(plan, lead):
    spar1 = assessment_create(plan=plan, by=lead, framework=framework("SPAR1"), kind="spar", date=OLD)
    scores_set(assessment=spar1, by=lead, scores={"C11.1": 4, "C1.2": 2})
    levels = by_code({pk: s.level for pk, s in plan_baseline(plan=plan).items()})
    # C11.1 to SPAR 2 C11.1 to JEE 3 PoE1; C1.2 (financing) to C3.1 to P2.1.
    assert levels == {"PoE1": 4, "P2.1": 2}


def test_the_overview_and_the_targets_name_the_crosswalk_and_say_it_is_approximate(client, plan, lead):
    jee2 = assessment_create(plan=plan, by=lead, framework=framework("JEE2"), kind="jee", date=OLD)
    scores_set(assessment=jee2, by=lead, scores={"P.1.2": 3})
    client.force_login(lead)
    p21 = indicator("JEE3", "P2.1")
    page = client.get(f"/plans/{plan.pk}/").content.decode()
    item = page.split(f'id="overview-indicator-{p21.pk}"')[1].split("</li>")[0]
    assert "(JEE2), through the crosswalk JEE 2 – JEE 3 (approximate)" in item
    page = client.get(f"/plans/{plan.pk}/targets/").content.decode()
    row = page.split(f'id="indicator-{p21.pk}"')[1].split("</tr>")[0]
    assert "through the crosswalk JEE 2 – JEE 3 (approximate)" in row


def test_the_baseline_reads_every_framework_at_once_in_two_queries(plan, lead, django_assert_num_queries):
    """However many older assessments, of however many frameworks, and however many routes of two crosswalks."""
    for code, scores in (
        ("JEE1", {"P.1.1": 2}),
        ("JEE2", {"P.1.2": 3}),
        ("SPAR1", {"C11.1": 4}),
        ("SPAR2", {"C13.1": 2}),
    ):
        assessment = assessment_create(plan=plan, by=lead, framework=framework(code), kind="other", date=OLD)
        scores_set(assessment=assessment, by=lead, scores=scores)
    with django_assert_num_queries(2):
        baseline = plan_baseline(plan=plan)
    assert by_code({pk: s.level for pk, s in baseline.items()}) == {
        "P1.1": 2,
        "P2.1": 3,
        "PoE1": 4,
        "P6.1": 2,
        "P6.2": 2,
    }


@pytest.mark.parametrize("older", [1, 4])
def test_the_overview_runs_a_constant_number_of_queries_whatever_the_older_assessments(
    client, plan, lead, older, django_assert_max_num_queries
):
    codes = ["JEE1", "JEE2", "SPAR1", "JEE2"][:older]
    for number, code in enumerate(codes):
        assessment = assessment_create(
            plan=plan, by=lead, framework=framework(code), kind="other", date=datetime.date(2019, 1, number + 1)
        )
        first = framework(code).indicators.order_by("order").first()
        scores_set(assessment=assessment, by=lead, scores={first.code: 2})
    client.force_login(lead)
    with django_assert_max_num_queries(40):
        assert client.get(f"/plans/{plan.pk}/").status_code == 200
    with django_assert_max_num_queries(40):
        assert client.get(f"/plans/{plan.pk}/targets/").status_code == 200


def test_only_the_secretariat_records_an_older_assessment_and_another_plans_member_finds_nothing(client, plan, people):
    data = {"framework": framework("JEE2").pk, "kind": "jee", "date": "2019-06-01"}
    client.force_login(people["viewer"])
    assert client.post(f"/plans/{plan.pk}/assessments/", data).status_code == 403
    client.force_login(people["outsider"])
    assert client.post(f"/plans/{plan.pk}/assessments/", data).status_code == 404
    assert client.get(f"/plans/{plan.pk}/targets/").status_code == 404
    assert not plan.assessments.exists()


def test_a_person_without_the_admin_rights_cannot_read_or_change_crosswalks(client, people):
    crosswalk = Crosswalk.objects.get(name="JEE 2 – JEE 3")
    client.force_login(people["secretariat_lead"])
    for url in ("/admin/planning/crosswalk/import/", f"/admin/planning/crosswalk/{crosswalk.pk}/export/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_older_assessment_is_recorded_on_its_page_with_its_own_grid(client, plan, lead):
    client.force_login(lead)
    jee2 = framework("JEE2")
    response = client.post(
        f"/plans/{plan.pk}/assessments/", {"framework": jee2.pk, "kind": "jee", "date": "2019-06-01"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = plan.assessments.get()
    assert created.framework == jee2
    grid = client.get(response["Location"]).content.decode()
    assert "P.1.3" in grid and "D.4.4" in grid and "P1.3" not in grid


def test_a_score_sheet_of_jee2_codes_loaded_as_jee3_is_refused_naming_its_framework(plan, lead, jee3):
    assessment = assessment_create(plan=plan, by=lead, framework=jee3, kind="jee", date=OLD)
    sheet = "indicator,score\nP.1.1,3\nP.1.3,2\nD.4.4,4\n"
    with pytest.raises(ImportRefused) as refused:
        scores_import(assessment=assessment, by=lead, upload=csv_bytes(sheet), filename="jee2.csv")
    messages = [str(problem) for problem in refused.value.problems]
    assert messages[0].endswith(
        "The indicator codes are those of JEE2, not of JEE3 (which numbers its indicators differently): choose JEE2 "
        "for this file."
    )
    assert any("row 3, column A" in m and "P.1.3" in m for m in messages)
    assert not assessment.scores.exists()
    # Into an assessment of JEE 2, the same sheet goes in.
    older = assessment_create(plan=plan, by=lead, framework=framework("JEE2"), kind="jee", date=OLD)
    scores_import(assessment=older, by=lead, upload=csv_bytes(sheet), filename="jee2.csv")
    assert dict(older.scores.values_list("indicator__code", "score")) == {"P.1.1": 3, "P.1.3": 2, "D.4.4": 4}


def spar1_table(given: dict[str, int]) -> list[list[object]]:
    """A table shaped like WHO's published SPAR results of the 2018 edition (13 capacities), invented numbers."""
    header: list[object] = ["WHO region", "Country"]
    values: list[object] = ["AFR", "Testland"]
    for area in TechnicalArea.objects.filter(framework__code="SPAR1").prefetch_related("indicators"):
        header.append(area.code.replace("C", "C.", 1))
        values.append(60)
        for item in area.indicators.all():
            heading = item.code.replace("C", "C.", 1)
            header.append(heading)
            values.append(given.get(heading, 60))
    return [header, values, ["EUR", "Ruritania", *[40] * (len(header) - 2)]]


def test_a_spar_table_of_the_2018_edition_goes_into_a_spar1_assessment_and_not_into_spar2(plan, lead):
    table = spar1_table({"C.5.1": 80})
    spar1 = assessment_create(plan=plan, by=lead, framework=framework("SPAR1"), kind="spar", date=OLD)
    imported = scores_import_spar_table(
        assessment=spar1, by=lead, upload=xlsx(table), filename="SPAR 2018.xlsx", country="Testland"
    )
    assert len(imported.scored) == 24
    assert spar1.scores.get(indicator__code="C5.1").score == 4
    spar2 = assessment_create(plan=plan, by=lead, framework=framework("SPAR2"), kind="spar", date=OLD)
    with pytest.raises(ImportRefused, match="13 capacities"):
        scores_import_spar_table(
            assessment=spar2, by=lead, upload=xlsx(table), filename="SPAR 2018.xlsx", country="Testland"
        )
    assert not spar2.scores.exists()
    neither = [["Country", "X.1.1", "X.1.2"], ["Testland", 40, 60]]
    with pytest.raises(ImportRefused, match="another edition or another assessment"):
        scores_import_spar_table(
            assessment=spar1, by=lead, upload=xlsx(neither), filename="other.xlsx", country="Testland"
        )


# --- Older libraries in a current plan -------------------------------------------------------------------------

JEE2_LIBRARY = """indicator,level,action,action_types
P.2.1,3,Hold a quarterly meeting of the IHR committee,coordination
P.4.2,2,Train district veterinary officers,training
D.2.2,3,Move event reporting to an electronic platform,tools
D.2.3,3,Move event reporting to an electronic platform,tools
"""


def test_a_library_of_jee2_codes_goes_into_a_jee3_library_through_the_crosswalk():
    jee3, jee2 = framework("JEE3"), framework("JEE2")
    CrosswalkLink.objects.filter(crosswalk__source_framework=jee2, source__code="P.4.2").delete()
    imported = library_import_report(
        framework=jee3, codes_of=jee2, name="Old library", upload=csv_bytes(JEE2_LIBRARY), filename="old.csv"
    )
    library = imported.library
    assert library.framework == jee3
    placed = sorted(library.actions.values_list("indicator__code", "level", "text"))
    # P.2.1 reaches P3.1 and P3.2; D.2.2 and D.2.3 both reach D2.3 with the same action: kept once.
    assert placed == [
        ("D2.3", 3, "Move event reporting to an electronic platform"),
        ("P3.1", 3, "Hold a quarterly meeting of the IHR committee"),
        ("P3.2", 3, "Hold a quarterly meeting of the IHR committee"),
    ]
    assert imported.unmapped_codes == ["P.4.2"]
    assert [str(problem) for problem in imported.unmapped] == [
        "Row 3: P.4.2 of JEE2 corresponds to no indicator of JEE3 in the crosswalks; this action was left out."
    ]


def test_a_library_none_of_whose_indicators_maps_is_refused_and_saves_nothing():
    jee3, jee2 = framework("JEE3"), framework("JEE2")
    CrosswalkLink.objects.filter(crosswalk__source_framework=jee2).delete()
    with pytest.raises(ImportRefused, match="None of the file's indicators of JEE2"):
        library_import(framework=jee3, codes_of=jee2, name="Old", upload=csv_bytes(JEE2_LIBRARY), filename="o.csv")
    assert not jee3.libraries.filter(name="Old").exists()


def test_a_library_of_jee2_codes_read_as_jee3_is_refused_by_code():
    with pytest.raises(ImportRefused) as refused:
        library_import(framework=framework("JEE3"), name="Old", upload=csv_bytes(JEE2_LIBRARY), filename="o.csv")
    assert str(refused.value.problems[0]) == (
        "The indicator codes are those of JEE1, JEE2, not of JEE3 (which numbers its indicators differently): choose "
        "JEE1, JEE2 for this file."
    )


def test_the_command_imports_a_library_by_older_codes(tmp_path, capsys):
    path = tmp_path / "old.csv"
    path.write_text(JEE2_LIBRARY)
    call_command("library_import", str(path), "--framework", "JEE3", "--codes-of", "JEE2", "--name", "Old")
    assert framework("JEE3").libraries.get(name="Old").actions.count() == 4
    assert "Imported 4 actions" in capsys.readouterr().out


def test_a_draft_of_a_jee3_plan_comes_from_a_library_written_for_jee2(plan, lead, jee3):
    library = library_import(
        framework=jee3, codes_of=framework("JEE2"), name="Old", upload=csv_bytes(JEE2_LIBRARY), filename="old.csv"
    )
    jee2 = assessment_create(plan=plan, by=lead, framework=framework("JEE2"), kind="jee", date=OLD)
    scores_set(assessment=jee2, by=lead, scores={"P.2.1": 2})
    for code in ("P3.1", "P3.2"):
        IndicatorTarget.objects.create(plan=plan, indicator=indicator("JEE3", code), level=3, justification="x")
    draft_generate(
        plan=plan, by=lead, library=library, technical_areas=[TechnicalArea.objects.get(framework=jee3, code="P3")]
    )
    assert sorted(Activity.objects.filter(plan=plan).values_list("indicators__code", flat=True)) == ["P3.1", "P3.2"]


def test_the_admin_library_import_takes_the_framework_of_the_codes(client, django_capture_on_commit_callbacks):
    admin = make_user("library_admin", is_staff=True)
    admin.user_permissions.add(AuthPermission.objects.get(codename="add_benchmarklibrary"))
    client.force_login(admin)
    CrosswalkLink.objects.filter(crosswalk__source_framework__code="JEE2", source__code="P.4.2").delete()
    data = {
        "framework": framework("JEE3").pk,
        "codes_of": framework("JEE2").pk,
        "name": "Old",
        "source": "",
        "file": SimpleUploadedFile("old.csv", JEE2_LIBRARY.encode(), "text/csv"),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/planning/benchmarklibrary/import/", data)
    assert response.status_code == 302
    outcome = Upload.objects.get(job__kind=PlanningJob.LIBRARY_IMPORT).message
    assert "Imported 3 actions" in outcome and "1 action left out" in outcome and "(P.4.2)" in outcome


# --- Crosswalks as editable data -------------------------------------------------------------------------------


@pytest.fixture
def crosswalk() -> Crosswalk:
    return Crosswalk.objects.get(source_framework__code="SPAR1", target_framework__code="SPAR2")


def test_a_crosswalk_exports_and_imports_its_links_as_csv(crosswalk):
    exported = crosswalk_export(crosswalk=crosswalk)
    assert exported.decode().splitlines()[:2] == ["spar1_indicator,spar2_indicator", "C1.1,C1.1"]
    before = set(crosswalk.links.values_list("source_id", "target_id"))
    assert crosswalk_import(crosswalk=crosswalk, upload=io.BytesIO(exported), filename="x.csv") == len(before)
    assert set(crosswalk.links.values_list("source_id", "target_id")) == before
    assert crosswalk_import(crosswalk=crosswalk, upload=csv_bytes("SPAR1,SPAR2\nC.1.1,C.3.1\n"), filename="x.csv") == 1
    assert list(crosswalk.links.values_list("source__code", "target__code")) == [("C1.1", "C3.1")]


def test_a_crosswalk_file_with_problems_is_refused_by_row_and_column_and_changes_nothing(crosswalk):
    before = set(crosswalk.links.values_list("source_id", "target_id"))
    bad = "spar1_indicator,spar2_indicator\nC1.1,C1.1\nC99.1,C1.1\nC1.2,P.1.1\nC1.1,C1.1\nC1.3,C14.1\n"
    with pytest.raises(ImportRefused) as refused:
        crosswalk_import(crosswalk=crosswalk, upload=csv_bytes(bad), filename="x.csv")
    messages = [str(problem) for problem in refused.value.problems]
    assert messages == [
        "Sheet “x.csv”, row 3, column A: “C99.1” is not an indicator of SPAR1.",
        "Sheet “x.csv”, row 4, column B: “P.1.1” is an indicator of JEE1, JEE2, not of SPAR2; this column takes "
        "indicators of SPAR2.",
        "Sheet “x.csv”, row 5, column A: C1.1 → C1.1 is linked already in row 2.",
    ]
    assert set(crosswalk.links.values_list("source_id", "target_id")) == before
    with pytest.raises(ImportRefused, match="needs a column for each framework"):
        crosswalk_import(crosswalk=crosswalk, upload=csv_bytes("jee2,jee3\nP.1.1,P1.1\n"), filename="x.csv")


def test_a_link_between_indicators_of_other_frameworks_is_refused_with_a_clear_message(crosswalk):
    link = CrosswalkLink(crosswalk=crosswalk, source=indicator("JEE2", "P.1.1"), target=indicator("SPAR2", "C1.1"))
    with pytest.raises(ValidationError) as refused:
        link.full_clean()
    assert refused.value.message_dict["source"] == [
        "P.1.1 is an indicator of JEE2; this side of the crosswalk “SPAR 1 – SPAR 2” takes indicators of SPAR1."
    ]


def test_the_admin_edits_a_crosswalk_with_its_links_and_offers_each_side_its_framework(client, crosswalk):
    admin = make_user("crosswalk_admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get(f"/admin/planning/crosswalk/{crosswalk.pk}/change/").content.decode()
    assert "C13.1" in page and "P.1.1" not in page
    links = list(crosswalk.links.order_by("pk"))
    data = {
        "name": crosswalk.name,
        "source_framework": crosswalk.source_framework_id,
        "target_framework": crosswalk.target_framework_id,
        "approximate": "on",
        "note": crosswalk.note,
        "links-TOTAL_FORMS": str(len(links) + 1),
        "links-INITIAL_FORMS": str(len(links)),
        "links-MIN_NUM_FORMS": "0",
        "links-MAX_NUM_FORMS": "1000",
    }
    for number, link in enumerate(links):
        data |= {
            f"links-{number}-id": str(link.pk),
            f"links-{number}-crosswalk": str(crosswalk.pk),
            f"links-{number}-source": str(link.source_id),
            f"links-{number}-target": str(link.target_id),
        }
    extra = len(links)
    data |= {
        f"links-{extra}-crosswalk": str(crosswalk.pk),
        f"links-{extra}-source": str(indicator("JEE2", "P.1.1").pk),
        f"links-{extra}-target": str(indicator("SPAR2", "C1.2").pk),
    }
    response = client.post(f"/admin/planning/crosswalk/{crosswalk.pk}/change/", data)
    assert response.status_code == 200  # the form again, with the refusal
    assert crosswalk.links.count() == len(links)
    data[f"links-{extra}-source"] = str(indicator("SPAR1", "C1.1").pk)
    response = client.post(f"/admin/planning/crosswalk/{crosswalk.pk}/change/", data)
    assert response.status_code == 302
    assert crosswalk.links.filter(source__code="C1.1", target__code="C1.2").exists()


def test_the_admin_imports_and_exports_a_crosswalk_for_administrators_only(
    client, crosswalk, django_capture_on_commit_callbacks
):
    clerk = make_user("clerk", is_staff=True)
    client.force_login(clerk)
    assert client.get("/admin/planning/crosswalk/import/").status_code == 403
    admin = make_user("crosswalk_admin", is_staff=True)
    admin.user_permissions.add(*AuthPermission.objects.filter(codename__in=["change_crosswalk", "view_crosswalk"]))
    client.force_login(admin)
    exported = client.get(f"/admin/planning/crosswalk/{crosswalk.pk}/export/")
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    assert b"C13.1,C15.1" in exported.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/planning/crosswalk/import/",
            {"crosswalk": crosswalk.pk, "file": SimpleUploadedFile("c.csv", b"spar1,spar2\nC1.1,C1.1\nC1.2,C3.1\n")},
        )
    assert response.status_code == 302
    outcome = Upload.objects.get(job__kind=PlanningJob.CROSSWALK_IMPORT).message
    assert outcome == "“SPAR 1 – SPAR 2 (approximate)” now has 2 links."
    assert crosswalk.links.count() == 2
