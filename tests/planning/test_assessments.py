"""Assessments and their scores: the grid, one score's edit, the two imports, and the crosswalk."""

from __future__ import annotations

import datetime
import io
import random
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from naphs.errors import EditConflict
from naphs.jobs import job_run
from naphs.models import AuditEvent, Job, Upload
from naphs.spreadsheets import ImportRefused
from planning.assessments import (
    assessment_create,
    indicator_code_key,
    score_update,
    scores_import,
    scores_import_spar_table,
    scores_set,
    spar_table_countries,
)
from planning.job_kinds import PlanningJob
from planning.models import Assessment, Framework, Indicator, IndicatorScore
from planning.selectors import plan_current_levels
from stakeholders.models import PlanMembership

pytestmark = pytest.mark.django_db

REGIONS = ("AFR", "AMR", "EMR", "EUR", "SEAR", "WPR")


def xlsx(rows: list[list[object]], title: str = "Sheet1") -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def csv_file(text: str, *, bom: bool = False) -> io.BytesIO:
    return io.BytesIO(("\ufeff" if bom else "").encode() + text.encode())


def spar_table(countries: dict[str, dict[str, object]] | None = None, *, seed: int = 7) -> list[list[object]]:
    """A table shaped like WHO's published SPAR results, with invented numbers: region, country, then for each
    capacity its average column (`C.1`) followed by its indicators (`C.1.1`, ...), in percent.

    `countries` gives rows to include, {name: {indicator heading: value}}; other indicators of those rows, and
    three invented neighbours, get random levels. Real WHO data is never used here.
    """
    rng = random.Random(seed)
    indicators = list(Indicator.objects.filter(framework__code="SPAR2").select_related("technical_area"))
    header: list[object] = ["WHO region", "Country"]
    layout: list[tuple[str, list[str]]] = []
    for indicator in indicators:
        capacity = indicator.technical_area.code.replace("C", "C.", 1)
        heading = indicator.code.replace("C", "C.", 1)
        if not layout or layout[-1][0] != capacity:
            layout.append((capacity, []))
            header.append(capacity)
        layout[-1][1].append(heading)
        header.append(heading)
    rows = [header]
    chosen = {"Ruritania": {}, "Freedonia": {}, "Elbonia": {}, **(countries or {})}
    for name, given in chosen.items():
        row: list[object] = [rng.choice(REGIONS), name]
        for _capacity, headings in layout:
            values = [given[h] if h in given else rng.choice((20, 40, 60, 80, 100)) for h in headings]
            numbers = [v for v in values if isinstance(v, int)]
            row.append(round(sum(numbers) / len(numbers)) if numbers else None)  # the capacity's average
            row.extend(values)
        rows.append(row)
    return rows


@pytest.fixture
def jee(db) -> Framework:
    return Framework.objects.get(code="JEE3")


@pytest.fixture
def spar(db) -> Framework:
    return Framework.objects.get(code="SPAR2")


@pytest.fixture
def assessment(plan, lead, jee) -> Assessment:
    return assessment_create(
        plan=plan, by=lead, framework=jee, kind="jee", date=datetime.date(2024, 5, 1), source="JEE mission report"
    )


@pytest.fixture
def spar_assessment(plan, lead, spar) -> Assessment:
    return assessment_create(
        plan=plan, by=lead, framework=spar, kind="spar", date=datetime.date(2025, 3, 1), source="SPAR 2024"
    )


def scores_of(assessment: Assessment) -> dict[str, int]:
    return dict(assessment.scores.values_list("indicator__code", "score"))


# Creating an assessment


def test_creating_an_assessment_records_it_and_who_added_it(assessment, plan, lead):
    assert (assessment.plan, assessment.kind, assessment.source) == (plan, "jee", "JEE mission report")
    event = AuditEvent.objects.get(target_type="assessment", target_id=assessment.pk)
    assert (event.actor, event.action, event.plan) == (lead, "added assessment", plan)


def test_an_assessment_of_an_unknown_kind_is_refused(plan, lead, jee):
    with pytest.raises(ValidationError) as refused:
        assessment_create(plan=plan, by=lead, framework=jee, kind="guess", date=datetime.date(2024, 1, 1), source="")
    assert "kind" in refused.value.message_dict
    assert not Assessment.objects.exists()


# The grid


def test_the_grid_sets_scores_and_records_what_changed(assessment, lead):
    changes = scores_set(assessment=assessment, by=lead, scores={"P1.1": 3, "p1.2": "4", "D1.1": ""})
    assert scores_of(assessment) == {"P1.1": 3, "P1.2": 4}
    assert changes == {"P1.1": [None, 3], "P1.2": [None, 4]}
    event = AuditEvent.objects.filter(action="set scores of").get()
    assert event.changes == {"P1.1": [None, 3], "P1.2": [None, 4]}


def test_setting_scores_again_updates_them_without_duplicates(assessment, lead):
    scores_set(assessment=assessment, by=lead, scores={"P1.1": 3, "P1.2": 4})
    before = IndicatorScore.objects.get(indicator__code="P1.1").version
    changes = scores_set(assessment=assessment, by=lead, scores={"P1.1": 2, "P1.2": 4})
    assert changes == {"P1.1": [3, 2]}
    assert assessment.scores.count() == 2
    assert scores_of(assessment) == {"P1.1": 2, "P1.2": 4}
    assert IndicatorScore.objects.get(indicator__code="P1.1").version == before + 1


@pytest.mark.parametrize("bad", [0, 6, "high", 2.5, "2.5", True, -1])
def test_a_score_outside_whole_numbers_1_to_5_is_refused_naming_the_indicator_and_nothing_is_saved(
    assessment, lead, bad
):
    with pytest.raises(ValidationError) as refused:
        scores_set(assessment=assessment, by=lead, scores={"P1.1": 3, "P2.1": bad})
    assert list(refused.value.message_dict) == ["P2.1"]
    assert "P2.1" in refused.value.message_dict["P2.1"][0]
    assert not IndicatorScore.objects.exists()


def test_an_unknown_indicator_code_is_refused_and_nothing_is_saved(assessment, lead):
    with pytest.raises(ValidationError) as refused:
        scores_set(assessment=assessment, by=lead, scores={"P1.1": 3, "C1.1": 2, "Z9.9": 4})
    assert set(refused.value.message_dict) == {"C1.1", "Z9.9"}  # a SPAR code is not a JEE 3 indicator
    assert "not an indicator of JEE3" in refused.value.message_dict["Z9.9"][0]
    assert not IndicatorScore.objects.exists()


def test_the_grid_refuses_a_score_someone_changed_since_it_was_shown(assessment, lead, people):
    scores_set(assessment=assessment, by=lead, scores={"P1.1": 3})
    shown = {"P1.1": IndicatorScore.objects.get().version}
    scores_set(assessment=assessment, by=people["secretariat_member"], scores={"P1.1": 4}, versions=shown)
    with pytest.raises(EditConflict):
        scores_set(assessment=assessment, by=lead, scores={"P1.1": 2, "P1.2": 5}, versions=shown)
    assert scores_of(assessment) == {"P1.1": 4}


# One score


def test_a_stale_score_update_is_refused_and_the_first_value_kept(assessment, lead, people):
    scores_set(assessment=assessment, by=lead, scores={"P1.1": 3})
    first, second = IndicatorScore.objects.get(), IndicatorScore.objects.get()
    score_update(score=first, by=lead, version=first.version, value=4)
    with pytest.raises(EditConflict):
        score_update(score=second, by=people["secretariat_member"], version=second.version, value=2)
    stored = IndicatorScore.objects.get()
    assert (stored.score, stored.version) == (4, 2)
    event = AuditEvent.objects.get(action="changed score of")
    assert (event.actor, event.changes) == (lead, {"P1.1": [3, 4]})


def test_a_score_update_to_a_bad_value_is_refused(assessment, lead):
    scores_set(assessment=assessment, by=lead, scores={"P1.1": 3})
    score = IndicatorScore.objects.get()
    with pytest.raises(ValidationError, match=r"P1\.1"):
        score_update(score=score, by=lead, version=score.version, value=6)
    assert IndicatorScore.objects.get().score == 3


# Importing a two-column sheet


def test_a_two_column_xlsx_with_a_header_imports(assessment, lead):
    upload = xlsx([["Indicator", "Score"], ["P1.1", 2], ["p1.2", 3], [" D1.1 ", "4"], [None, None], ["R1.1", 5]])
    imported = scores_import(assessment=assessment, by=lead, upload=upload, filename="scores.xlsx")
    assert scores_of(assessment) == {"P1.1": 2, "P1.2": 3, "D1.1": 4, "R1.1": 5}
    assert imported.changes["R1.1"] == [None, 5]
    assert imported.skipped == []  # an empty row is no score row
    assert AuditEvent.objects.filter(action="imported scores into", changes__file="scores.xlsx").count() == 1


def test_a_csv_without_header_with_spar_codes_in_either_form_imports(spar_assessment, lead):
    upload = csv_file("C.1.1,2\nc1.2,3\nC.15.1,4\n")
    scores_import(assessment=spar_assessment, by=lead, upload=upload, filename="spar.csv")
    assert scores_of(spar_assessment) == {"C1.1": 2, "C1.2": 3, "C15.1": 4}


def test_a_csv_with_semicolons_and_a_byte_order_mark_imports(assessment, lead):
    upload = csv_file("indicator;score\r\nP1.1;2\r\nP1.2;3\r\n", bom=True)
    scores_import(assessment=assessment, by=lead, upload=upload, filename="Scores.CSV")
    assert scores_of(assessment) == {"P1.1": 2, "P1.2": 3}


def test_importing_again_updates_the_scores_without_duplicates(assessment, lead):
    scores_import(assessment=assessment, by=lead, upload=csv_file("P1.1,2\nP1.2,3\n"), filename="a.csv")
    imported = scores_import(assessment=assessment, by=lead, upload=csv_file("P1.1,3\nP1.2,3\n"), filename="a.csv")
    assert imported.changes == {"P1.1": [2, 3]}
    assert assessment.scores.count() == 2
    assert scores_of(assessment) == {"P1.1": 3, "P1.2": 3}


def test_every_bad_row_of_a_sheet_is_named_and_nothing_is_saved(assessment, lead):
    scores_set(assessment=assessment, by=lead, scores={"P1.1": 1})
    upload = xlsx(
        [
            ["code", "score"],
            ["P1.1", 4],
            ["P1.2", 0],
            ["P2.1", 6],
            ["P3.1", "high"],
            ["X9.9", 3],
            ["P3.2", 2.5],
            ["p1.1", 2],
            [None, 3],
        ],
        title="Scores",
    )
    with pytest.raises(ImportRefused) as refused:
        scores_import(assessment=assessment, by=lead, upload=upload, filename="scores.xlsx")
    where = [(p.sheet, p.row, p.column) for p in refused.value.problems]
    assert where == [
        ("Scores", 3, "B"),
        ("Scores", 4, "B"),
        ("Scores", 5, "B"),
        ("Scores", 6, "A"),
        ("Scores", 7, "B"),
        ("Scores", 8, "A"),
        ("Scores", 9, "A"),
    ]
    messages = [str(p) for p in refused.value.problems]
    assert messages[0].startswith("Sheet “Scores”, row 3, column B: P1.2: 0 is outside 1 to 5")
    assert "“X9.9” is not an indicator of JEE3" in messages[3]
    assert "already scored in row 2" in messages[5]
    assert scores_of(assessment) == {"P1.1": 1}
    assert not AuditEvent.objects.filter(action__startswith="imported").exists()


def test_a_formula_in_a_score_sheet_is_refused(assessment, lead):
    upload = xlsx([["P1.1", "=1+2"]])
    with pytest.raises(ImportRefused, match="row 1, column B: a formula"):
        scores_import(assessment=assessment, by=lead, upload=upload, filename="scores.xlsx")
    assert not IndicatorScore.objects.exists()


def test_a_file_that_is_not_a_spreadsheet_is_refused(assessment, lead):
    with pytest.raises(ImportRefused, match="not an Excel workbook"):
        scores_import(assessment=assessment, by=lead, upload=io.BytesIO(b"%PDF-1.7 ..."), filename="scores.xlsx")
    assert not IndicatorScore.objects.exists()


# Importing WHO's SPAR results table


def test_the_countries_of_a_spar_table_are_listed_in_its_order(spar):
    upload = xlsx(spar_table({"Testland": {}}))
    assert spar_table_countries(upload=upload, filename="spar.xlsx") == [
        "Ruritania",
        "Freedonia",
        "Elbonia",
        "Testland",
    ]


def test_a_countrys_row_of_a_spar_table_imports_as_levels_and_capacity_averages_are_ignored(spar_assessment, lead):
    given = {"C.1.1": 20, "C.1.2": 40, "C.2.1": 60.0, "C.2.2": "80", "C.2.3": "100%", "C.3.1": None, "C.3.2": ""}
    upload = xlsx(spar_table({"Testland": given}))
    scores_import_spar_table(
        assessment=spar_assessment, by=lead, upload=upload, filename="spar.xlsx", country="  TESTLAND "
    )
    scores = scores_of(spar_assessment)
    assert {code: scores[code] for code in ("C1.1", "C1.2", "C2.1", "C2.2", "C2.3")} == {
        "C1.1": 1,
        "C1.2": 2,
        "C2.1": 3,
        "C2.2": 4,
        "C2.3": 5,
    }
    assert "C3.1" not in scores and "C3.2" not in scores  # empty: not reported
    assert len(scores) == 33
    assert set(scores.values()) <= {1, 2, 3, 4, 5}


def test_a_spar_table_as_csv_imports(spar_assessment, lead):
    rows = spar_table({"Testland": {"C.1.1": 60}})
    text = "\n".join(",".join("" if v is None else f'"{v}"' for v in row) for row in rows)
    scores_import_spar_table(
        assessment=spar_assessment, by=lead, upload=csv_file(text), filename="spar.csv", country="testland"
    )
    assert scores_of(spar_assessment)["C1.1"] == 3


def test_a_spar_table_without_the_chosen_country_is_refused_naming_it(spar_assessment, lead):
    with pytest.raises(ImportRefused, match="no row for “Atlantis”"):
        scores_import_spar_table(
            assessment=spar_assessment, by=lead, upload=xlsx(spar_table()), filename="spar.xlsx", country="Atlantis"
        )
    assert not IndicatorScore.objects.exists()


def test_a_value_that_is_not_a_spar_percentage_is_named_by_row_and_column_and_nothing_is_saved(spar_assessment, lead):
    rows = spar_table({"Testland": {"C.1.1": 50, "C.1.2": "high"}})
    with pytest.raises(ImportRefused) as refused:
        scores_import_spar_table(
            assessment=spar_assessment, by=lead, upload=xlsx(rows, "SPAR"), filename="spar.xlsx", country="Testland"
        )
    headings = rows[0]
    columns = [chr(ord("A") + headings.index(h)) for h in ("C.1.1", "C.1.2")]
    assert [(p.sheet, p.row, p.column) for p in refused.value.problems] == [("SPAR", 5, c) for c in columns]
    assert "expected 20, 40, 60, 80 or 100" in str(refused.value)
    assert not IndicatorScore.objects.exists()


def test_a_spar_table_does_not_fit_a_jee_assessment(assessment, lead):
    with pytest.raises(ImportRefused, match="fits an assessment that follows SPAR"):
        scores_import_spar_table(
            assessment=assessment, by=lead, upload=xlsx(spar_table()), filename="spar.xlsx", country="Ruritania"
        )


def test_a_sheet_without_indicator_columns_is_not_a_spar_table(spar):
    with pytest.raises(ImportRefused, match="not a SPAR results table"):
        spar_table_countries(upload=xlsx([["Country", "Score"], ["Testland", 20]]), filename="t.xlsx")


# Codes


@pytest.mark.parametrize(
    ("code", "key"), [("C.1.1", "C1.1"), ("c1.1", "C1.1"), (" C.15.1 ", "C15.1"), ("p1.1", "P1.1"), ("PoE.1", "POE1")]
)
def test_indicator_codes_match_whatever_their_case_and_dots(code, key):
    assert indicator_code_key(code) == key


# The crosswalk


def test_current_levels_come_from_the_most_recent_score_of_each_indicator(plan, lead, jee):
    older = assessment_create(plan=plan, by=lead, framework=jee, kind="jee", date=datetime.date(2020, 1, 1))
    scores_set(assessment=older, by=lead, scores={"P1.1": 1, "P1.2": 1})
    newer = assessment_create(plan=plan, by=lead, framework=jee, kind="self", date=datetime.date(2024, 1, 1))
    scores_set(assessment=newer, by=lead, scores={"P1.1": 4})
    plan.framework = jee
    levels = plan_current_levels(plan=plan)
    # P1.1 from the newer; P1.2, which the newer does not score, from the older.
    assert levels == {
        Indicator.objects.get(framework=jee, code="P1.1").pk: 4,
        Indicator.objects.get(framework=jee, code="P1.2").pk: 1,
    }


def test_jee_scores_carry_over_to_a_spar_plan_and_the_lowest_counts(plan, lead, jee, spar, django_assert_num_queries):
    plan.framework = spar
    plan.save()
    assessment = assessment_create(plan=plan, by=lead, framework=jee, kind="jee", date=datetime.date(2024, 1, 1))
    # C6.1 has three JEE 3 sources; P3.3 maps to both C2.3 and C7.1; P4.1 (AMR) has no counterpart.
    links = Indicator.objects.get(framework=spar, code="C6.1").crosswalk_in.filter(source__framework=jee)
    sources = {link.source.code for link in links}
    assert len(sources) == 3
    given = dict(zip(sorted(sources), (4, 2, 5), strict=True)) | {"P3.3": 3, "P4.1": 1}
    scores_set(assessment=assessment, by=lead, scores=given)
    with django_assert_num_queries(2):
        levels = plan_current_levels(plan=plan)
    by_code = dict(Indicator.objects.filter(pk__in=levels).values_list("code", "pk"))
    named = {code: levels[pk] for code, pk in by_code.items()}
    assert named["C6.1"] == 2
    assert named["C2.3"] == 3 and named["C7.1"] <= 3
    assert all(code.startswith("C") for code in named)


def test_spar_scores_carry_over_to_a_jee_plan_and_the_lowest_counts(plan, lead, jee, spar):
    plan.framework = jee
    assessment = assessment_create(plan=plan, by=lead, framework=spar, kind="spar", date=datetime.date(2024, 1, 1))
    scores_set(assessment=assessment, by=lead, scores={"C2.3": 4, "C7.1": 2, "C1.1": 5})
    levels = plan_current_levels(plan=plan)
    named = {i.code: levels[i.pk] for i in Indicator.objects.filter(pk__in=levels)}
    assert named["P3.3"] == 2  # from C2.3 (4) and C7.1 (2): the lowest
    assert named["P1.1"] == 5
    assert "P4.1" not in named


def test_a_plan_without_assessments_has_no_current_levels(plan, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert plan_current_levels(plan=plan) == {}


def test_a_misspelt_country_is_refused_with_the_likely_name(spar_assessment, lead):
    with pytest.raises(ImportRefused, match=r"no row for “Freedoniaa”.*Did you mean “Freedonia”"):
        scores_import_spar_table(
            assessment=spar_assessment, by=lead, upload=xlsx(spar_table()), filename="spar.xlsx", country="Freedoniaa"
        )


# The pages


def test_the_secretariat_adds_an_assessment_and_saves_the_grid(client, plan, lead, jee):
    client.force_login(lead)
    response = client.post(
        f"/plans/{plan.pk}/assessments/", {"framework": jee.pk, "kind": "jee", "date": "2024-05-01", "source": "JEE"}
    )
    assessment = Assessment.objects.get()
    assert response.headers["Location"] == f"/plans/{plan.pk}/assessments/{assessment.pk}/"
    p11, p12 = (Indicator.objects.get(framework=jee, code=code) for code in ("P1.1", "P1.2"))
    response = client.post(response.headers["Location"], {f"i{p11.pk}": "3", f"i{p12.pk}": ""})
    assert response.status_code == 302
    assert scores_of(assessment) == {"P1.1": 3}


def test_a_grid_saved_over_someone_elses_change_is_refused_with_409(client, assessment, lead, people):
    scores_set(assessment=assessment, by=lead, scores={"P1.1": 3})
    score = IndicatorScore.objects.get()
    shown = {f"i{score.indicator_id}": "2", f"v{score.indicator_id}": str(score.version)}
    score_update(score=score, by=people["secretariat_member"], version=score.version, value=4)
    client.force_login(lead)
    response = client.post(f"/plans/{assessment.plan_id}/assessments/{assessment.pk}/", shown)
    assert response.status_code == 409
    assert "someone else changed" in response.content.decode().lower()
    assert IndicatorScore.objects.get().score == 4


def test_a_refused_import_shows_every_problem_and_saves_nothing(
    client, assessment, lead, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(lead)
    upload = SimpleUploadedFile("scores.csv", b"P1.1;0\nQ7.7;3\n")
    url = f"/plans/{assessment.plan_id}/assessments/{assessment.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{url}import/", {"file": upload})
    # Answered at once (a job checks it), opening the page at the import's outcome rather than the grid's top.
    assert response.status_code == 302 and response.headers["Location"] == f"{url}#import-job"
    job = Job.objects.get(kind=PlanningJob.SCORES_IMPORT)
    assert (
        job.status == Job.Status.FAILED
        and job.message == "Nothing was saved: the file has 2 problems, each listed with where it is."
    )
    for page in (client.get(url).content.decode(), client.get(f"/jobs/{job.pk}/").content.decode()):
        assert "Sheet “scores.csv”, row 1, column B: P1.1: 0 is outside 1 to 5" in page
        assert "row 2, column A: “Q7.7” is not an indicator of JEE3" in page
    assert not IndicatorScore.objects.exists()
    upload = Upload.objects.get()
    assert (upload.status, upload.problem_count, upload.filename, upload.size) == ("refused", 2, "scores.csv", 14)
    assert not upload.file and not any(p.is_file() for p in Path(settings.MEDIA_ROOT).rglob("*"))


def test_a_score_sheet_imports_through_the_page_in_a_job(client, assessment, lead, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(lead)
    url = f"/plans/{assessment.plan_id}/assessments/{assessment.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{url}import/", {"file": SimpleUploadedFile("scores.csv", b"P1.1,3\nP1.2,4\n")})
    assert response.status_code == 302
    assert scores_of(assessment) == {"P1.1": 3, "P1.2": 4}
    job = Job.objects.get(kind=PlanningJob.SCORES_IMPORT)
    assert job.status == Job.Status.SUCCEEDED
    assert "Imported scores.csv: 2 scores added or changed." in client.get(url).content.decode()
    upload = Upload.objects.get()
    assert upload.status == "applied" and not upload.file
    assert not list((Path(settings.MEDIA_ROOT) / "uploads").rglob("*.*"))
    event = AuditEvent.objects.get(action="applied upload")
    assert event.changes["sha256"] == upload.digest and event.changes["outcome"] == "applied"


def test_the_import_outcome_and_its_problems_come_before_the_long_grid(
    client, assessment, lead, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(lead)
    url = f"/plans/{assessment.plan_id}/assessments/{assessment.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{url}import/", {"file": SimpleUploadedFile("scores.csv", b"Q7.7;3\n")})
    page = client.get(url).content.decode()
    problem = page.index("“Q7.7” is not an indicator of JEE3")
    assert page.index('id="import-job"') < problem < page.index('id="score-grid"')
    assert f'action="{url}import/#import-sheet"' in page  # a refused form opens at itself


def test_a_refused_import_form_opens_focused_on_the_field_in_error(client, assessment, lead):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(lead)
    url = f"/plans/{assessment.plan_id}/assessments/{assessment.pk}/"
    response = client.post(f"{url}import/", {"file": SimpleUploadedFile("scores.pdf", b"%PDF-1.7")})
    assert response.status_code == 422
    page = response.content.decode()
    start = page.index('id="import-sheet"')
    form = page[start : page.index("</form>", start)]
    assert 'type="file"' in form and "autofocus" in form
    assert "autofocus" not in page[: page.index('id="import-sheet"')]  # nothing above it takes the focus
    assert not Job.objects.exists()


def test_a_blank_score_row_is_reported_as_skipped(client, assessment, lead, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    imported = scores_import(
        assessment=assessment, by=lead, upload=csv_file("indicator,score\nP1.1,3\nP1.2,\n,\nD1.1,\n"), filename="a.csv"
    )
    assert imported.changes == {"P1.1": [None, 3]} and imported.skipped == [3, 5]
    client.force_login(lead)
    url = f"/plans/{assessment.plan_id}/assessments/{assessment.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{url}import/", {"file": SimpleUploadedFile("one.csv", b"P1.1,2\nP1.2,\n")})
    page = client.get(url).content.decode()
    assert "Imported one.csv: 1 score added or changed. Row 2: blank, skipped (1 row without a score)." in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{url}import/", {"file": SimpleUploadedFile("two.csv", b"P1.2,\nD1.1,4\nR1.1,\n")})
    page = client.get(url).content.decode()
    assert "Rows 1, 3: blank, skipped (2 rows without a score)." in page


def test_an_htmx_import_answers_with_the_jobs_progress(client, assessment, lead):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(lead)
    url = f"/plans/{assessment.plan_id}/assessments/{assessment.pk}/import/"
    response = client.post(url, {"file": SimpleUploadedFile("scores.csv", b"P1.1,3\n")}, headers={"HX-Request": "true"})
    job = Job.objects.get(kind=PlanningJob.SCORES_IMPORT)
    assert response.status_code == 200 and f'id="job-{job.pk}"' in response.content.decode()
    assert job.status == Job.Status.QUEUED and not IndicatorScore.objects.exists()


def test_a_spar_table_imports_through_the_page(client, spar_assessment, lead, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(lead)
    upload = SimpleUploadedFile("spar.xlsx", xlsx(spar_table({"Testland": {"C.1.1": 80}})).getvalue())
    url = f"/plans/{spar_assessment.plan_id}/assessments/{spar_assessment.pk}/import-spar/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": upload, "country": "testland"})
    assert response.status_code == 302
    assert scores_of(spar_assessment)["C1.1"] == 4


def test_an_import_queued_by_someone_no_longer_in_the_secretariat_saves_nothing(
    client, assessment, lead, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(lead)
    url = f"/plans/{assessment.plan_id}/assessments/{assessment.pk}/import/"
    client.post(url, {"file": SimpleUploadedFile("scores.csv", b"P1.1,3\n")})
    PlanMembership.objects.filter(plan_id=assessment.plan_id, user=lead).update(role="viewer")
    job = Job.objects.get(kind=PlanningJob.SCORES_IMPORT)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "no longer manage" in job.message
    assert not IndicatorScore.objects.exists()


def test_a_reviewer_reads_the_grid_without_forms(client, assessment, lead, people):
    scores_set(assessment=assessment, by=lead, scores={"P1.1": 3})
    client.force_login(people["reviewer"])
    page = client.get(f"/plans/{assessment.plan_id}/assessments/{assessment.pk}/").content.decode()
    content = page[page.index("<main ") : page.index("</main>")]  # the header's language chooser is a select
    assert "P1.1 Legal instruments" in content
    assert "<select" not in content and "Import scores" not in content


def test_the_pages_run_a_constant_number_of_queries(client, assessment, lead, django_assert_max_num_queries):
    scores_set(assessment=assessment, by=lead, scores={code: 3 for code in ("P1.1", "P1.2", "D1.1", "R1.1")})
    client.force_login(lead)
    with django_assert_max_num_queries(10):
        assert client.get(f"/plans/{assessment.plan_id}/assessments/{assessment.pk}/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"/plans/{assessment.plan_id}/assessments/").status_code == 200


def test_a_grid_saved_after_someone_entered_a_first_score_is_refused_whole_naming_the_cells(
    client, assessment, lead, people
):
    """The page showed P1.1 and P1.2 unscored (version 0); meanwhile someone scored P1.1. Saving the grid with
    P1.1 and P1.2 is refused as a whole: P1.1 named and marked, P1.2 not saved either, their P1.1 kept."""
    p11, p12 = (Indicator.objects.get(framework=assessment.framework, code=code) for code in ("P1.1", "P1.2"))
    grid = {f"i{p11.pk}": "2", f"v{p11.pk}": "0", f"i{p12.pk}": "5", f"v{p12.pk}": "0"}
    scores_set(assessment=assessment, by=people["secretariat_member"], scores={"P1.1": 4}, versions={"P1.1": 0})
    client.force_login(lead)
    response = client.post(f"/plans/{assessment.plan_id}/assessments/{assessment.pk}/", grid)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone else changed the score of P1.1 after you opened this page; nothing was saved." in page
    assert page.count("Someone else saved this score meanwhile.") == 1
    assert scores_of(assessment) == {"P1.1": 4}


def test_a_first_score_entered_twice_from_the_same_page_is_refused_the_second_time(assessment, lead, people):
    scores_set(assessment=assessment, by=lead, scores={"P1.1": 3}, versions={"P1.1": 0})
    with pytest.raises(EditConflict) as conflict:
        scores_set(assessment=assessment, by=people["secretariat_member"], scores={"P1.1": 2}, versions={})
    assert conflict.value.names == ["P1.1"]
    assert scores_of(assessment) == {"P1.1": 3}
