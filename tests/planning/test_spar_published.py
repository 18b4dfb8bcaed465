"""WHO's SPAR results as WHO publishes them (.xlsx and .tsv): a title, a block of regional averages with its own
header row, blank rows, then the countries' table; 0 or empty is "not reported". The files are built here in
that shape, with invented percentages; real WHO data is never used."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from naphs.spreadsheets import ImportRefused
from planning.assessments import assessment_create, scores_import_spar_table, spar_table_countries
from planning.models import Assessment, Framework, Indicator, IndicatorScore

pytestmark = pytest.mark.django_db

PERCENTS = (20, 40, 60, 80, 100)
# Pakistan's invented row: a level per indicator, and these left unreported (0, or an empty cell).
UNREPORTED = {"C3.2": 0, "C9.3": 0, "C12.1": None, "C15.1": None}
NEIGHBOURS = [
    ("EMR", "Afghanistan"),
    ("EMR", "Iran (Islamic Republic of)"),
    ("SEAR", "Korea, Democratic People's Republic of"),
]


def published(code: str) -> str:
    """C1.1 as WHO's table heads it: C.1.1."""
    return code.replace("C", "C.", 1)


def pakistan_percent(position: int, code: str) -> object:
    return UNREPORTED[code] if code in UNREPORTED else PERCENTS[position % 5]


def spar_published(
    *,
    indicator_codes: list[str] | None = None,
    pakistan: dict[str, object] | None = None,
    country_heading: str = "State Party",
) -> list[list[object]]:
    """The rows of WHO's published SPAR results: title, regional block, blank rows, the countries' table."""
    codes = indicator_codes or list(Indicator.objects.filter(framework__code="SPAR2").values_list("code", flat=True))
    capacities = list(dict.fromkeys(code.split(".")[0] for code in codes))  # C1 ... C15
    headings = [*capacities, *(published(code) for code in codes)]
    rows: list[list[object]] = [
        ["States Parties Self-Assessment Annual Reporting (SPAR), 2024: average of capacity scores (%)"],
        [],
        ["Region", *headings],
    ]
    for number, region in enumerate(("AFR", "AMR", "EMR", "EUR", "SEAR", "WPR")):
        rows.append([region, *(round(41.5 + number * 3.7 + i % 7, 1) for i in range(len(headings)))])
    rows += [[], [], ["WHO Region", country_heading, *headings]]
    given = pakistan if pakistan is not None else {c: pakistan_percent(p, c) for p, c in enumerate(codes)}
    for offset, (region, name) in enumerate(NEIGHBOURS[:2]):
        rows.append([region, name, *([60] * len(capacities)), *(PERCENTS[(i + offset) % 5] for i in range(len(codes)))])
    averages = [None] * len(capacities)  # WHO's averages; ignored by the import
    rows.append(["EMR", "Pakistan", *averages, *(given.get(code) for code in codes)])
    region, name = NEIGHBOURS[2]
    rows.append([region, name, *([40] * len(capacities)), *([80] * len(codes))])
    return rows


def xlsx(rows: list[list[object]], title: str = "SPAR 2024") -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def tsv(rows: list[list[object]]) -> io.BytesIO:
    text = io.StringIO()
    writer = csv.writer(text, delimiter="\t", lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return io.BytesIO(text.getvalue().encode("utf-8"))


def as_file(rows: list[list[object]], kind: str) -> io.BytesIO:
    return xlsx(rows) if kind == "xlsx" else tsv(rows)


@pytest.fixture
def spar(db) -> Framework:
    return Framework.objects.get(code="SPAR2")


@pytest.fixture
def spar_assessment(plan, lead, spar) -> Assessment:
    return assessment_create(
        plan=plan, by=lead, framework=spar, kind="spar", date=datetime.date(2025, 3, 1), source="SPAR 2024"
    )


def scores_of(assessment: Assessment) -> dict[str, int]:
    return dict(assessment.scores.values_list("indicator__code", "score"))


@pytest.mark.parametrize("kind", ["xlsx", "tsv"])
def test_pakistans_row_goes_in_unchanged_and_the_unreported_indicators_are_named(spar_assessment, lead, kind):
    codes = list(Indicator.objects.filter(framework__code="SPAR2").values_list("code", flat=True))
    imported = scores_import_spar_table(
        assessment=spar_assessment,
        by=lead,
        upload=as_file(spar_published(), kind),
        filename=f"SPAR_2024.{kind}",
        country="Pakistan",
    )
    expected = {code: position % 5 + 1 for position, code in enumerate(codes) if code not in UNREPORTED}
    assert scores_of(spar_assessment) == expected
    assert imported.unreported == ["C3.2", "C9.3", "C12.1", "C15.1"]
    assert imported.scored == [code for code in codes if code not in UNREPORTED]
    assert len(imported.changes) == len(codes) - 4


@pytest.mark.parametrize("kind", ["xlsx", "tsv"])
def test_the_country_list_of_a_published_table_holds_its_countries_not_its_regions(spar, kind):
    countries = spar_table_countries(upload=as_file(spar_published(), kind), filename=f"SPAR_2024.{kind}")
    assert countries == [
        "Afghanistan",
        "Iran (Islamic Republic of)",
        "Pakistan",
        "Korea, Democratic People's Republic of",
    ]


@pytest.mark.parametrize("heading", ["Country", "COUNTRY NAME", "state party", "States Parties", "Member State"])
def test_the_country_column_is_found_under_its_usual_spellings(spar_assessment, lead, heading):
    rows = spar_published(country_heading=heading)
    scores_import_spar_table(
        assessment=spar_assessment, by=lead, upload=xlsx(rows), filename="spar.xlsx", country="pakistan"
    )
    assert scores_of(spar_assessment)["C1.1"] == 1


def test_the_summary_through_the_page_says_what_was_scored_and_what_was_not(
    client, spar_assessment, lead, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    url = f"/plans/{spar_assessment.plan_id}/assessments/{spar_assessment.pk}/"
    upload = SimpleUploadedFile("SPAR_2024.tsv", tsv(spar_published()).getvalue())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{url}import-spar/", {"file": upload, "country": "Pakistan"})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "Imported SPAR_2024.tsv: 31 scores added or changed." in page
    summary = "Pakistan: 31 of 35 indicators scored. Not reported (empty or 0), so not scored: C3.2, C9.3, C12.1, C15.1"
    assert summary in page
    assert len(scores_of(spar_assessment)) == 31


def test_a_country_with_no_scores_at_all_is_refused_naming_its_row(spar_assessment, lead):
    codes = list(Indicator.objects.filter(framework__code="SPAR2").values_list("code", flat=True))
    rows = spar_published(pakistan={code: (0 if n % 2 else None) for n, code in enumerate(codes)})
    with pytest.raises(ImportRefused) as refused:
        scores_import_spar_table(
            assessment=spar_assessment, by=lead, upload=xlsx(rows), filename="spar.xlsx", country="Pakistan"
        )
    [problem] = refused.value.problems
    assert (problem.sheet, problem.row, problem.column) == ("SPAR 2024", 15, "B")
    assert "“Pakistan” reported no indicator in this table (every score is empty or 0)" in problem.message
    assert not IndicatorScore.objects.exists()


def test_a_bad_percentage_in_the_published_table_is_named_by_sheet_row_and_column(spar_assessment, lead):
    codes = list(Indicator.objects.filter(framework__code="SPAR2").values_list("code", flat=True))
    rows = spar_published(pakistan={**{code: 60 for code in codes}, "C1.2": 50})
    with pytest.raises(ImportRefused) as refused:
        scores_import_spar_table(
            assessment=spar_assessment, by=lead, upload=xlsx(rows), filename="spar.xlsx", country="Pakistan"
        )
    column = get_column_letter(rows[11].index("C.1.2") + 1)
    assert [(p.sheet, p.row, p.column) for p in refused.value.problems] == [("SPAR 2024", 15, column)]
    assert not IndicatorScore.objects.exists()


# SPAR's 1st edition (2018): 13 capacities, 24 indicators numbered like some of the 2nd edition's.
SPAR1_CODES = [
    *("C1.1", "C1.2", "C2.1", "C2.2", "C3.1", "C4.1", "C5.1", "C5.2", "C5.3", "C6.1", "C6.2", "C7.1"),
    *("C8.1", "C8.2", "C8.3", "C9.1", "C9.2", "C9.3", "C10.1", "C11.1", "C11.2", "C12.1", "C13.1"),
]


@pytest.mark.parametrize("kind", ["xlsx", "tsv"])
def test_a_table_of_spars_first_edition_is_refused_naming_what_it_holds(spar_assessment, lead, kind):
    pakistan = {code: 60 for code in SPAR1_CODES}
    rows = spar_published(indicator_codes=SPAR1_CODES, pakistan=pakistan)
    with pytest.raises(ImportRefused) as refused:
        scores_import_spar_table(
            assessment=spar_assessment, by=lead, upload=as_file(rows, kind), filename=f"spar.{kind}", country="Pakistan"
        )
    edition, *headings = refused.value.problems
    assert edition.row == 12 and not edition.column
    assert "no column for capacities C14, C15 of SPAR2" in edition.message
    assert "(it holds C.1.1, C.1.2, C.2.1," in edition.message and "another edition of SPAR" in edition.message
    header = rows[11]
    assert [(p.row, p.column) for p in headings] == [(12, get_column_letter(header.index("C.5.3") + 1))]
    assert not IndicatorScore.objects.exists()


def test_a_jee_sheet_is_refused_naming_the_codes_it_holds(spar_assessment, lead):
    rows = [["Country", "P.1.1", "P.1.2", "D.1.1"], ["Pakistan", 60, 80, 40]]
    with pytest.raises(ImportRefused) as refused:
        scores_import_spar_table(
            assessment=spar_assessment, by=lead, upload=xlsx(rows), filename="jee.xlsx", country="Pakistan"
        )
    [problem] = refused.value.problems
    assert (problem.sheet, problem.row) == ("SPAR 2024", 1)
    assert "none of the table's indicator columns (P.1.1, P.1.2, D.1.1) is an indicator of" in problem.message
    assert not IndicatorScore.objects.exists()


def test_a_heading_of_another_edition_among_spar_2s_is_named_by_its_column(spar_assessment, lead):
    codes = list(Indicator.objects.filter(framework__code="SPAR2").values_list("code", flat=True))
    rows = spar_published(indicator_codes=[*codes, "C16.1"])
    with pytest.raises(ImportRefused) as refused:
        scores_import_spar_table(
            assessment=spar_assessment, by=lead, upload=xlsx(rows), filename="spar.xlsx", country="Pakistan"
        )
    [problem] = refused.value.problems
    assert (problem.row, problem.column) == (12, get_column_letter(rows[11].index("C.16.1") + 1))
    assert "“C.16.1” is not an indicator of SPAR2" in problem.message


def test_a_row_of_percentage_formatted_cells_reads_as_percentages(spar_assessment, lead):
    codes = list(Indicator.objects.filter(framework__code="SPAR2").values_list("code", flat=True))
    fractions = {code: pakistan_percent(p, code) for p, code in enumerate(codes)}
    fractions = {code: value / 100 if isinstance(value, int) else value for code, value in fractions.items()}
    scores_import_spar_table(
        assessment=spar_assessment,
        by=lead,
        upload=xlsx(spar_published(pakistan=fractions)),
        filename="spar.xlsx",
        country="Pakistan",
    )
    expected = {code: position % 5 + 1 for position, code in enumerate(codes) if code not in UNREPORTED}
    assert scores_of(spar_assessment) == expected


def test_a_fraction_among_percentages_is_not_a_spar_score(spar_assessment, lead):
    codes = list(Indicator.objects.filter(framework__code="SPAR2").values_list("code", flat=True))
    with pytest.raises(ImportRefused, match="expected 20, 40, 60, 80 or 100"):
        scores_import_spar_table(
            assessment=spar_assessment,
            by=lead,
            upload=xlsx(spar_published(pakistan={**{code: 60 for code in codes}, "C2.1": 1})),
            filename="spar.xlsx",
            country="Pakistan",
        )
    assert not IndicatorScore.objects.exists()


def test_a_country_not_in_the_published_table_is_refused_naming_the_sheet_and_column(spar_assessment, lead):
    with pytest.raises(ImportRefused) as refused:
        scores_import_spar_table(
            assessment=spar_assessment, by=lead, upload=tsv(spar_published()), filename="SPAR.tsv", country="Pakistn"
        )
    [problem] = refused.value.problems
    assert (problem.sheet, problem.column) == ("SPAR.tsv", "B")
    assert "no row for “Pakistn”" in problem.message and "Did you mean “Pakistan”?" in problem.message


def test_a_short_name_is_offered_the_name_as_who_writes_it(spar_assessment, lead):
    with pytest.raises(ImportRefused, match=r"Did you mean “Iran \(Islamic Republic of\)”\?"):
        scores_import_spar_table(
            assessment=spar_assessment, by=lead, upload=xlsx(spar_published()), filename="spar.xlsx", country="Iran"
        )


def test_a_name_like_none_of_the_table_is_answered_with_the_tables_countries(spar_assessment, lead):
    with pytest.raises(ImportRefused) as refused:
        scores_import_spar_table(
            assessment=spar_assessment, by=lead, upload=xlsx(spar_published()), filename="spar.xlsx", country="Atlantis"
        )
    [problem] = refused.value.problems
    assert problem.message.endswith(
        "The table's countries: Afghanistan, Iran (Islamic Republic of), Pakistan, "
        "Korea, Democratic People's Republic of."
    )
