"""Writes to assessments and their scores: creating an assessment, the browser grid, one score's edit, and the
imports (a two-column sheet of indicator code and score, and the table in which WHO publishes SPAR results).

Every write validates everything first and saves all or nothing; a problem names the indicator, or the sheet,
row and column of the file.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext, ngettext

from naphs.errors import EditConflict
from naphs.services import audit_record, row_lock, versioned_update
from naphs.spreadsheets import ImportRefused, Problem, Sheet, read_spreadsheet
from planning.frameworks import codes_of_another_framework
from planning.models import Assessment, Framework, Indicator, IndicatorScore, Plan, indicator_code_key

if TYPE_CHECKING:
    from stakeholders.models import User

# SPAR results head indicators `C.1.1` where the framework says `C1.1`: a dot right after the letters is dropped.
_INDICATOR_HEADING = re.compile(r"^([A-Za-z]+\.?\d+\.\d+)(?:\s|$)")
_CAPACITY_HEADING = re.compile(r"^[A-Za-z]+\.?\d+(?:\s|$)")
_COUNTRY_HEADINGS = ("country", "state part", "states part", "member state", "pays", "país")
SPAR_PERCENT_LEVELS = {20: 1, 40: 2, 60: 3, 80: 4, 100: 5}
SPAR_HEADER_SEARCH_ROWS = 200  # WHO's regional block, a title and notes sit above the countries' header
MAX_CODES_NAMED = 12
MAX_COUNTRIES_LISTED = 60  # a refusal naming no close match lists the table's countries to pick from


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def score_parse(value: object) -> int:
    """A capacity level from 1 to 5, from a number or its text; ValueError with the reason otherwise."""
    if isinstance(value, bool):
        raise ValueError(gettext("“%(value)s” is not a score; enter a whole number from 1 to 5.") % {"value": value})
    number: object = value
    if isinstance(value, str):
        text = value.strip()
        try:
            number = int(text)
        except ValueError:
            try:
                number = float(text.replace(",", "."))
            except ValueError:
                raise ValueError(
                    gettext("“%(value)s” is not a score; enter a whole number from 1 to 5.") % {"value": text}
                ) from None
    if isinstance(number, float):
        if not number.is_integer():
            raise ValueError(
                gettext("%(value)s is not a whole number; a score is a level from 1 to 5.") % {"value": value}
            )
        number = int(number)
    if not isinstance(number, int):
        raise ValueError(gettext("“%(value)s” is not a score; enter a whole number from 1 to 5.") % {"value": value})
    if not 1 <= number <= 5:
        raise ValueError(
            gettext("%(value)s is outside 1 to 5; a score is a capacity level from 1 to 5.") % {"value": number}
        )
    return number


def spar_percent_parse(value: object) -> int:
    """The level (1 to 5) for a SPAR percentage (20, 40, 60, 80 or 100); ValueError otherwise."""
    number: object = value
    if isinstance(value, str):
        text = value.strip().removesuffix("%").strip()
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            number = None
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if isinstance(number, int) and not isinstance(number, bool) and number in SPAR_PERCENT_LEVELS:
        return SPAR_PERCENT_LEVELS[number]
    raise ValueError(
        gettext("“%(value)s” is not a SPAR score; expected 20, 40, 60, 80 or 100 (levels 1 to 5), or empty.")
        % {"value": value}
    )


def _indicators_by_key(framework_id: int) -> dict[str, Indicator]:
    return {indicator_code_key(i.code): i for i in Indicator.objects.filter(framework=framework_id)}


def _write_scores(
    *, assessment: Assessment, levels: Mapping[Indicator, int], versions: Mapping[int, int] | None
) -> dict:
    """Save `levels` (indicator -> level) into the assessment: new scores created, changed ones updated with
    their version moved on. Returns the changes as {indicator code: [old, new]}.

    `versions` (indicator id -> the version the person saw, 0 or missing when they saw no score) refuses the
    whole save with EditConflict naming every indicator someone else scored or changed since; None (an import
    of a file, which updates what is there) checks nothing. The assessment is locked first, so two saves of its
    scores take turns and the second sees what the first saved: never a duplicate score, never an overwrite."""
    row_lock(assessment)
    existing = {
        score.indicator_id: score
        for score in IndicatorScore.objects.select_for_update().filter(
            assessment=assessment, indicator__in=[i.pk for i in levels]
        )
    }
    if versions is not None:
        stale = [
            indicator
            for indicator in levels
            if versions.get(indicator.pk, 0) != (existing[indicator.pk].version if indicator.pk in existing else 0)
        ]
        if stale:
            codes = [indicator.code for indicator in stale]
            raise EditConflict(
                existing.get(stale[0].pk) or IndicatorScore(assessment=assessment, indicator=stale[0]),
                message=ngettext(
                    "Someone else changed the score of %(codes)s after you opened this page; nothing was saved. "
                    "Reload to see their score, then enter yours again.",
                    "Someone else changed the scores of %(codes)s after you opened this page; nothing was saved. "
                    "Reload to see their scores, then enter yours again.",
                    len(codes),
                )
                % {"codes": ", ".join(codes)},
                names=codes,
            )
    created, updated, changes = [], [], {}
    for indicator, level in levels.items():
        score = existing.get(indicator.pk)
        if score is None:
            created.append(IndicatorScore(assessment=assessment, indicator=indicator, score=level))
            changes[indicator.code] = [None, level]
        elif score.score != level:
            changes[indicator.code] = [score.score, level]
            score.score, score.version = level, score.version + 1
            updated.append(score)
    IndicatorScore.objects.bulk_create(created)
    IndicatorScore.objects.bulk_update(updated, ["score", "version"])
    return changes


@transaction.atomic
def assessment_create(
    *,
    plan: Plan,
    by: User,
    framework: Framework,
    kind: str,
    date: datetime.date,
    source: str = "",
    purpose: str = Assessment.Purpose.BASELINE,
) -> Assessment:
    """Record an assessment: one the plan starts from (a baseline, the plan's content: refused with PlanFrozen once
    the plan is endorsed) or a follow-up re-assessing it during implementation (on an endorsed plan too); its scores
    are entered or imported afterwards."""
    assessment = Assessment(
        plan=plan, framework=framework, kind=kind, date=date, source=source.strip(), purpose=purpose
    )
    assessment.full_clean()
    assessment.save()
    audit_record(plan=plan, by=by, action="added assessment", target=assessment)
    return assessment


@transaction.atomic
def scores_set(
    *,
    assessment: Assessment,
    by: User,
    scores: Mapping[str, int | str | None],
    versions: Mapping[str, int] | None = None,
) -> dict[str, list[Any]]:
    """Set the scores of many indicators at once (the browser grid): {indicator code: level}.

    Every value must be a whole number from 1 to 5 and every code an indicator of the assessment's framework;
    an empty value leaves that indicator as it is. When `versions` ({code: version shown, 0 or missing where no
    score was shown}) is given, the save is refused whole with EditConflict naming the indicators someone else
    scored or changed since. Nothing is saved unless everything is valid.
    Returns the changes as {indicator code: [old, new]}.
    """
    indicators = _indicators_by_key(assessment.framework_id)
    errors: dict[str, list[str]] = {}
    levels: dict[Indicator, int] = {}
    for code, value in scores.items():
        indicator = indicators.get(indicator_code_key(code))
        if indicator is None:
            errors.setdefault(str(code), []).append(
                gettext("%(code)s: not an indicator of %(framework)s; check the code.")
                % {"code": code, "framework": assessment.framework.code}
            )
            continue
        if _is_blank(value):
            continue
        try:
            levels[indicator] = score_parse(value)
        except ValueError as error:
            errors.setdefault(indicator.code, []).append(f"{indicator.code}: {error}")
    if errors:
        raise ValidationError(errors)
    seen = None
    if versions is not None:
        seen = {}
        for code, version in versions.items():
            indicator = indicators.get(indicator_code_key(code))
            if indicator is not None:
                seen[indicator.pk] = int(version)
    changes = _write_scores(assessment=assessment, levels=levels, versions=seen)
    if changes:
        audit_record(plan=assessment.plan, by=by, action="set scores of", target=assessment, changes=changes)
    return changes


@transaction.atomic
def score_update(*, score: IndicatorScore, by: User, version: int, value: int | str) -> IndicatorScore:
    """Change one score, refusing the save (EditConflict) when someone changed it since `version`."""
    try:
        level = score_parse(value)
    except ValueError as error:
        raise ValidationError({"score": f"{score.indicator.code}: {error}"}) from error
    changes = versioned_update(score, version=version, fields={"score": level})
    if changes:
        audit_record(
            plan=score.assessment.plan,
            by=by,
            action="changed score of",
            target=score.assessment,
            changes={score.indicator.code: changes["score"]},
            area_id=score.indicator.technical_area_id,
        )
    return score


def _first_sheet_with_rows(sheets: list[Sheet]) -> Sheet:
    for sheet in sheets:
        if any(any(not _is_blank(value) for value in row) for row in sheet.rows):
            return sheet
    raise ImportRefused([gettext("The file holds no rows to import.")])


@dataclass(frozen=True)
class ScoresImported:
    """What a score sheet changed ({indicator code: [old, new]}) and the rows it skipped (1-based, as in Excel):
    an indicator without a score."""

    changes: dict[str, list[Any]]
    skipped: list[int]


@transaction.atomic
def scores_import(*, assessment: Assessment, by: User, upload: IO[bytes], filename: str) -> ScoresImported:
    """Import scores from a two-column sheet (xlsx or CSV): indicator code, score; a header row is optional.

    Codes match case-insensitively, SPAR codes as `C.1.1` or `C1.1`. A row without a score is skipped, and
    reported as skipped. Importing again updates the scores already there. Every problem is reported
    (ImportRefused) and nothing is saved unless the whole sheet is valid.
    """
    sheet = _first_sheet_with_rows(read_spreadsheet(upload, name=filename, limits="scores"))
    indicators = _indicators_by_key(assessment.framework_id)
    problems: list[Problem] = []
    levels: dict[Indicator, int] = {}
    rows_of: dict[int, int] = {}
    skipped: list[int] = []
    unmatched: list[str] = []
    for number, row in enumerate(sheet.rows, start=1):
        code, value = [*row, None, None][:2]
        if _is_blank(code) and _is_blank(value):
            continue
        indicator = indicators.get(indicator_code_key(code))
        if number == 1 and indicator is None and isinstance(value, str) and not value.strip().isdigit():
            continue  # a header row, e.g. "indicator", "score"
        if indicator is None:
            if _is_blank(code):
                message = gettext("no indicator code.")
            else:
                unmatched.append(str(code))
                message = gettext("“%(code)s” is not an indicator of %(framework)s.") % {
                    "code": code,
                    "framework": assessment.framework.code,
                }
            problems.append(sheet.problem(message, row=number, column=1))
            continue
        if indicator.pk in rows_of:
            message = gettext("%(code)s is already scored in row %(row)d.") % {
                "code": indicator.code,
                "row": rows_of[indicator.pk],
            }
            problems.append(sheet.problem(message, row=number, column=1))
            continue
        rows_of[indicator.pk] = number
        if _is_blank(value):
            skipped.append(number)
            continue
        try:
            levels[indicator] = score_parse(value)
        except ValueError as error:
            problems.append(sheet.problem(f"{indicator.code}: {error}", row=number, column=2))
    matched = set(rows_of.values())
    codes = [str(row[0]) for number, row in enumerate(sheet.rows, start=1) if number in matched] + unmatched
    if other := codes_of_another_framework(codes, framework=assessment.framework, unknown=bool(unmatched)):
        problems.insert(0, sheet.problem(other))
    if problems:
        raise ImportRefused(problems)
    if not levels:
        raise ImportRefused([sheet.problem(gettext("no scores found; expected rows of indicator code and score."))])
    changes = _write_scores(assessment=assessment, levels=levels, versions=None)
    audit_record(
        plan=assessment.plan,
        by=by,
        action="imported scores into",
        target=assessment,
        changes={"file": filename, **changes},
    )
    return ScoresImported(changes=changes, skipped=skipped)


@dataclass
class SparTable:
    """Where the parts of a SPAR results table are: the header row, the country column, the indicator columns."""

    sheet: Sheet
    header_row: int  # 1-based
    country_column: int  # 1-based
    indicator_columns: dict[int, str]  # 1-based column -> heading code, e.g. "C.1.1"
    first_score: int = 0  # 1-based: the first column of a capacity's average or an indicator's score
    region_column: int = 0  # 1-based; 0 when no column before the scores is headed like a region

    def data_rows(self) -> list[tuple[int, list[Any]]]:
        rows = self.sheet.rows[self.header_row :]
        return [(self.header_row + offset, row) for offset, row in enumerate(rows, start=1) if row]

    def country_of(self, row: list[Any]) -> str:
        return self._text(row, self.country_column)

    def region_of(self, row: list[Any]) -> str:
        return self._text(row, self.region_column) if self.region_column else ""

    @staticmethod
    def _text(row: list[Any], column: int) -> str:
        value = row[column - 1] if len(row) >= column else None
        return "" if _is_blank(value) else " ".join(str(value).split())


def _is_country_heading(heading: str) -> bool:
    words = " ".join(heading.casefold().replace("_", " ").split())
    return any(word in words for word in _COUNTRY_HEADINGS)


def _spar_header(sheet: Sheet, number: int, row: list[Any]) -> SparTable | None:
    """The table this row heads, when it has indicator columns; its country column is the one headed like a
    country, 0 when none is (e.g. the header of WHO's block of regional averages)."""
    headings = ["" if _is_blank(value) else str(value).strip() for value in row]
    indicators = {
        column: match.group(1)
        for column, heading in enumerate(headings, start=1)
        if (match := _INDICATOR_HEADING.match(heading))
    }
    if not indicators:
        return None
    first_score = min(
        column
        for column, heading in enumerate(headings, start=1)
        if column in indicators or _CAPACITY_HEADING.match(heading)
    )
    named = [c for c, heading in enumerate(headings[: first_score - 1], start=1) if _is_country_heading(heading)]
    regions = [c for c, heading in enumerate(headings[: first_score - 1], start=1) if "region" in heading.casefold()]
    country = named[0] if named else 0
    region = next((c for c in regions if c != country), 0)
    return SparTable(sheet, number, country, indicators, first_score, region)


def _spar_table(sheets: list[Sheet]) -> SparTable:
    """The table of countries in a SPAR results file, whatever sits above it.

    WHO publishes the countries' table under a block of regional averages that has a header row of its own
    ("Region", then the capacities and indicators): the countries' table is the one whose header names the
    country ("Country", "State Party", "Member State", in any case) before the indicator columns. A file
    with a single table whose country column is not so named is read with the column just before the scores.
    """
    unnamed: SparTable | None = None
    for sheet in sheets:
        for number, row in enumerate(sheet.rows[:SPAR_HEADER_SEARCH_ROWS], start=1):
            table = _spar_header(sheet, number, row)
            if table is None:
                continue
            if table.country_column:
                return table
            unnamed = unnamed or table
    if unnamed is not None:
        if unnamed.first_score == 1:
            message = gettext("no column naming the country (e.g. “Country”) before the scores.")
            raise ImportRefused([unnamed.sheet.problem(message, row=unnamed.header_row)])
        unnamed.country_column = unnamed.first_score - 1
        return unnamed
    raise ImportRefused(
        [gettext("This is not a SPAR results table: no column is headed with an indicator code like “C.1.1”.")]
    )


@dataclass(frozen=True)
class SparCountry:
    """A country's row of a SPAR results table, as the person picks it: its name as WHO writes it, its WHO region
    ("" when the table has no region column), and how many of the table's indicators it reports (neither empty
    nor 0) of how many the table has."""

    name: str
    region: str
    reported: int
    indicators: int


def spar_table_rows(*, upload: IO[bytes], filename: str, assessment: Assessment | None = None) -> list[SparCountry]:
    """The countries (States Parties) of a SPAR results table, in the table's order, each once (the first of its
    rows), for the person to pick from. With the `assessment` it is for, a table of another edition is refused
    at once (ImportRefused), as the import would."""
    table = _spar_table(read_spreadsheet(upload, name=filename, limits="spar_table"))
    if assessment is not None:
        indicators = {
            indicator_code_key(i.code): i
            for i in Indicator.objects.filter(framework=assessment.framework_id).select_related("technical_area")
        }
        _spar_edition_check(table, assessment.framework, indicators)
    countries: dict[str, SparCountry] = {}
    for _number, row in table.data_rows():
        country = table.country_of(row)
        if not country or country in countries:
            continue
        cells = [row[c - 1] if len(row) >= c else None for c in table.indicator_columns]
        countries[country] = SparCountry(
            name=country,
            region=table.region_of(row),
            reported=sum(not _spar_unreported(value) for value in cells),
            indicators=len(cells),
        )
    return list(countries.values())


def spar_table_countries(*, upload: IO[bytes], filename: str) -> list[str]:
    """The countries (States Parties) of a SPAR results table, in the table's order, for the person to pick."""
    return [country.name for country in spar_table_rows(upload=upload, filename=filename)]


def spar_country_candidates(wanted: str, names: list[str]) -> list[str]:
    """The names of a SPAR table that may be the country `wanted` (as a person or the plan writes it), best first:
    the same name whatever the case and spacing; else those starting with it (WHO writes some names longer than
    people do: "Iran (Islamic Republic of)" for Iran), then close spellings; three at most."""
    key = " ".join(wanted.split()).casefold()
    if not key:
        return []
    by_key = {name.casefold(): name for name in names}
    if key in by_key:
        return [by_key[key]]
    starting = [k for k in by_key if re.match(rf"{re.escape(key)}\b", k)]
    close = list(dict.fromkeys([*starting, *difflib.get_close_matches(key, by_key, n=3, cutoff=0.75)]))[:3]
    return [by_key[k] for k in close]


def spar_country_preselected(plan_country: str, countries: list[SparCountry]) -> str:
    """The table's name of the plan's country, when one row is plainly it (the same name, or the only one
    starting with it, as WHO writes "Iran (Islamic Republic of)"); "" otherwise."""
    names = [country.name for country in countries]
    key = " ".join(plan_country.split()).casefold()
    exact = [name for name in names if name.casefold() == key]
    if exact:
        return exact[0]
    starting = [name for name in names if key and re.match(rf"{re.escape(key)}\b", name.casefold())]
    return starting[0] if len(starting) == 1 else ""


def _spar_unreported(value: object) -> bool:
    """WHO's table leaves an indicator a country did not report empty or at 0 (also "0%", "0.0")."""
    if _is_blank(value):
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value == 0
    text = str(value).strip().removesuffix("%").strip().replace(",", ".")
    try:
        return float(text) == 0
    except ValueError:
        return False


def _codes_text(codes: list[str]) -> str:
    shown = ", ".join(codes[:MAX_CODES_NAMED])
    if len(codes) > MAX_CODES_NAMED:
        more = len(codes) - MAX_CODES_NAMED
        shown = ngettext("%(codes)s and %(count)d more", "%(codes)s and %(count)d more", more) % {
            "codes": shown,
            "count": more,
        }
    return shown


def _spar_edition_check(table: SparTable, framework: Framework, indicators: dict[str, Indicator]) -> None:
    """Refuse a table of another edition or another assessment, naming what it holds: indicator columns that
    are not the framework's, or none for whole capacities of it (SPAR's 1st edition has 13 capacities, the
    2nd 15, and numbers some indicators alike)."""
    headings = list(table.indicator_columns.items())
    unknown = [(column, heading) for column, heading in headings if indicator_code_key(heading) not in indicators]
    found = _codes_text([heading for _column, heading in headings])
    if len(unknown) == len(headings):
        raise ImportRefused(
            [
                table.sheet.problem(
                    gettext(
                        "none of the table's indicator columns (%(found)s) is an indicator of %(framework)s; "
                        "the file is of another edition or another assessment. "
                        "A SPAR results table fits an assessment that follows SPAR."
                    )
                    % {"found": found, "framework": framework},
                    row=table.header_row,
                )
            ]
        )
    present = {
        indicators[key].technical_area_id
        for _column, heading in headings
        if (key := indicator_code_key(heading)) in indicators
    }
    missing = sorted(
        {i.technical_area.code for i in indicators.values() if i.technical_area_id not in present},
        key=indicator_code_key,
    )
    problems: list[Problem] = []
    if missing:
        message = ngettext(
            "the table has no column for capacity %(capacities)s of %(framework)s (it holds %(found)s); "
            "it is of another edition of SPAR (the 1st, of 2018, has 13 capacities). "
            "Import the table of the edition the assessment follows.",
            "the table has no column for capacities %(capacities)s of %(framework)s (it holds %(found)s); "
            "it is of another edition of SPAR (the 1st, of 2018, has 13 capacities). "
            "Import the table of the edition the assessment follows.",
            len(missing),
        ) % {"capacities": ", ".join(missing), "framework": framework.code, "found": found}
        problems.append(table.sheet.problem(message, row=table.header_row))
    for column, heading in unknown:
        message = gettext(
            "the heading “%(heading)s” is not an indicator of %(framework)s; is the file of another edition of SPAR?"
        ) % {"heading": heading, "framework": framework.code}
        problems.append(table.sheet.problem(message, row=table.header_row, column=column))
    if problems:
        raise ImportRefused(problems)


@dataclass(frozen=True)
class SparImported:
    """What one country's row of a SPAR table changed ({indicator code: [old, new]}), the indicators it scored
    and those it left unreported (empty or 0), as the framework codes them, in the table's order."""

    changes: dict[str, list[Any]]
    scored: list[str]
    unreported: list[str]


@transaction.atomic
def scores_import_spar_table(
    *, assessment: Assessment, by: User, upload: IO[bytes], filename: str, country: str
) -> SparImported:
    """Import one country's scores from the table in which WHO publishes SPAR results.

    The file (.xlsx, .csv or .tsv) may hold WHO's block of regional averages above the table of countries; the
    countries' table has columns naming the WHO region and the country before the scores, and a column per
    indicator headed like `C.1.1`, with 20, 40, 60, 80 or 100 percent for levels 1 to 5. Capacity columns
    (`C1`, `C.1`) are averages and ignored; an empty cell or 0 is "not reported": skipped, and listed in what
    is returned. A table of another edition is refused naming what it holds. Nothing is saved unless the
    country's row is wholly valid.
    """
    table = _spar_table(read_spreadsheet(upload, name=filename, limits="spar_table"))
    sheet = table.sheet
    wanted = " ".join(country.split()).casefold()
    if not wanted:
        raise ImportRefused([gettext("Choose the country whose scores to import.")])
    matches = [(n, row) for n, row in table.data_rows() if table.country_of(row).casefold() == wanted]
    if not matches:
        names = {name.casefold(): name for _n, row in table.data_rows() if (name := table.country_of(row))}
        close = spar_country_candidates(wanted, list(names.values()))
        message = gettext("the table has no row for “%(country)s”; check the country's name.") % {
            "country": country.strip()
        }
        if close:
            suggestions = ", ".join(f"“{c}”" for c in close)
            message += " " + ngettext(
                "Did you mean %(countries)s?", "Did you mean one of %(countries)s?", len(close)
            ) % {"countries": suggestions}
        elif names:
            listed = ", ".join(list(names.values())[:MAX_COUNTRIES_LISTED])
            if len(names) > MAX_COUNTRIES_LISTED:
                more = len(names) - MAX_COUNTRIES_LISTED
                listed = ngettext("%(countries)s and %(count)d more", "%(countries)s and %(count)d more", more) % {
                    "countries": listed,
                    "count": more,
                }
            message += " " + gettext("The table's countries: %(countries)s.") % {"countries": listed}
        raise ImportRefused([sheet.problem(message, column=table.country_column)])
    if len(matches) > 1:
        rows = ", ".join(str(n) for n, _row in matches)
        message = gettext("“%(country)s” appears in several rows (%(rows)s); keep one.") % {
            "country": country.strip(),
            "rows": rows,
        }
        raise ImportRefused([sheet.problem(message, column=table.country_column)])
    number, row = matches[0]
    indicators = {
        indicator_code_key(i.code): i
        for i in Indicator.objects.filter(framework=assessment.framework_id).select_related("technical_area")
    }
    _spar_edition_check(table, assessment.framework, indicators)
    problems: list[Problem] = []
    levels: dict[Indicator, int] = {}
    unreported: list[str] = []
    cells: dict[int, Any] = {c: row[c - 1] if len(row) >= c else None for c in table.indicator_columns}
    # A workbook whose cells are formatted as percentages holds 0.2 for 20%: a row of such fractions is read so.
    reported = [value for value in cells.values() if not _spar_unreported(value)]
    fractions = bool(reported) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 1 for v in reported
    )
    for column, heading in table.indicator_columns.items():
        indicator = indicators[indicator_code_key(heading)]
        value = cells[column]
        if _spar_unreported(value):
            unreported.append(indicator.code)
            continue
        try:
            levels[indicator] = spar_percent_parse(round(value * 100, 6) if fractions else value)
        except ValueError as error:
            problems.append(sheet.problem(f"{heading}: {error}", row=number, column=column))
    if problems:
        raise ImportRefused(problems)
    if not levels:
        message = gettext(
            "“%(country)s” reported no indicator in this table (every score is empty or 0), so nothing was imported."
        ) % {"country": table.country_of(row)}
        raise ImportRefused([sheet.problem(message, row=number, column=table.country_column)])
    changes = _write_scores(assessment=assessment, levels=levels, versions=None)
    audit_record(
        plan=assessment.plan,
        by=by,
        action="imported SPAR scores into",
        target=assessment,
        changes={"file": filename, "country": country.strip(), **changes},
    )
    return SparImported(changes=changes, scored=[i.code for i in levels], unreported=unreported)
