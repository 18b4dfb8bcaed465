"""Loading another assessment framework (a future JEE or SPAR edition, a national self-assessment tool) from a
spreadsheet of its technical areas and indicators, in the layout of planning/reference/frameworks.csv.

Besides the English names, a file may give an area's or an indicator's name in the product's other languages, in
columns named after the name and the language: `area_name_fr`, `indicator_name_ar`, `area_name_zh` (or
`area_name_zh-hans`). Pages show the name in the reader's language, the English where it has none.
"""

from __future__ import annotations

import re
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from naphs.languages import bidi_controls_refuse, name_language_of, name_languages
from naphs.models import max_length
from naphs.spreadsheets import ImportRefused, Problem, find_header, read_spreadsheet
from planning.models import Framework, Indicator, Pillar, TechnicalArea, indicator_code_key

REQUIRED_COLUMNS = ("area_code", "area_name", "indicator_code", "indicator_name")
PILLARS = {value.lower(): value for value in Pillar.values}  # a file names pillars as the reference does
CODE_MAX_LENGTH = max_length(Indicator, "code")
NAME_MAX_LENGTH = max_length(Indicator, "name")
AREA_NAME_MAX_LENGTH = max_length(TechnicalArea, "name")
# A heading of a name in another language: area_name_fr, indicator_name_zh_hans; or a bare name_fr, which does not
# say whose name it is.
NAME_COLUMN = re.compile(r"^(?:(area|indicator)_)?name_(.+)$")


def _key(value: Any) -> str:
    return "_".join(str(value or "").lower().replace("-", " ").split())


def _text(value: Any) -> str:
    return " ".join(str(value if value is not None else "").split())


def _name_columns(columns: dict[str, int], headings: list[Any]) -> tuple[dict[str, dict[str, str]], list[str]]:
    """The columns of names in other languages ({"area": {"fr": column}, "indicator": {...}}), and a message for
    each such heading that names no language the product offers, or a language given twice."""
    found: dict[str, dict[str, str]] = {"area": {}, "indicator": {}}
    refused = []
    offered = ", ".join(code.split("-")[0] for code in name_languages())
    for column, position in columns.items():
        match = NAME_COLUMN.match(column)
        if match is None or column in REQUIRED_COLUMNS:
            continue
        heading = _text(headings[position]) if position < len(headings) else column
        whose, suffix = match.groups()
        language = name_language_of(suffix)
        if whose is None:
            refused.append(
                _("Column “%(heading)s”: say whose name it is, as area_name_%(suffix)s or indicator_name_%(suffix)s.")
                % {"heading": heading, "suffix": suffix}
            )
        elif language is None:
            refused.append(
                _("Column “%(heading)s”: “%(suffix)s” is not a language of this site; name columns end in one of: "
                  "%(offered)s.") % {"heading": heading, "suffix": suffix, "offered": offered}
            )  # fmt: skip
        elif language in found[whose]:
            if whose == "area":
                message = _("Column “%(heading)s”: the area's name in this language is in column “%(other)s” already.")
            else:
                message = _(
                    "Column “%(heading)s”: the indicator's name in this language is in column “%(other)s” already."
                )
            refused.append(message % {"heading": heading, "other": found[whose][language]})
        else:
            found[whose][language] = column
    return found, refused


def _names_merged(names: dict[str, str], given: dict[str, str]) -> dict[str, str]:
    """A row's names once a file's columns are applied: a language the file has a column for takes the file's name
    (none if its cell is empty); the others keep theirs."""
    merged = {**names, **{language: name for language, name in given.items() if name}}
    return {language: name for language, name in merged.items() if given.get(language, name)}


@transaction.atomic
def framework_import(*, code: str, name: str, upload: IO[bytes], filename: str) -> Framework:
    """Create the framework `code`, or add to it: its areas and indicators are created or renamed, never deleted
    (plans may score them). Every problem is named by sheet, row and column; nothing is saved unless all is well.

    Columns: pillar (Prevent, Detect, Respond, IHR-related hazards and points of entry, Other; optional),
    area_code, area_name, indicator_code, indicator_name, and optionally the names in other languages
    (area_name_fr, indicator_name_fr, ... in any order). A `framework` column, if present, is ignored.
    """
    code, name = code.strip().upper(), name.strip()
    problems: list[Problem] = []
    if not code or len(code) > max_length(Framework, "code"):
        problems.append(
            Problem(
                ngettext(
                    "The framework needs a short code (at most %(count)s character), e.g. JEE4.",
                    "The framework needs a short code (at most %(count)s characters), e.g. JEE4.",
                    max_length(Framework, "code"),
                )
                % {"count": max_length(Framework, "code")}
            )
        )
    if not name:
        problems.append(Problem(_("The framework needs a name.")))
    try:
        bidi_controls_refuse(name, field=_("The framework's name"))
    except ValidationError as error:
        problems.extend(Problem(message) for message in error.messages)
    sheets = read_spreadsheet(upload, name=filename, limits="framework")
    areas: dict[str, dict[str, Any]] = {}
    indicators: dict[str, dict[str, Any]] = {}
    for sheet in sheets:
        header = find_header(sheet, required=REQUIRED_COLUMNS, key=_key)
        if header is None:
            continue
        start, columns = header
        missing = [column for column in REQUIRED_COLUMNS if column not in columns]
        if missing:
            problems.append(
                sheet.problem(
                    ngettext("missing column %(columns)s.", "missing columns %(columns)s.", len(missing))
                    % {"columns": ", ".join(missing)},
                    row=start + 1,
                )
            )
            continue
        name_columns, refused = _name_columns(columns, sheet.rows[start])
        problems.extend(sheet.problem(message, row=start + 1) for message in refused)
        for offset, row in enumerate(sheet.rows[start + 1 :], start=start + 2):
            values = {c: _text(row[i]) if i < len(row) else "" for c, i in columns.items()}
            if not any(values.values()):
                continue

            def problem(column: str, message: str, row: int = offset, sheet=sheet, columns=columns) -> None:
                problems.append(sheet.problem(message, row=row, column=columns[column] + 1))

            for column in REQUIRED_COLUMNS:
                if not values[column]:
                    # Translators: %(column)s is the column's heading with spaces for underscores, e.g. "area code".
                    problem(column, _("the %(column)s is empty.") % {"column": column.replace("_", " ")})
            pillar = values.get("pillar", "") or Pillar.OTHER.value
            if pillar.lower() not in PILLARS:
                problem(
                    "pillar",
                    _("“%(pillar)s” is not a pillar; use one of: %(pillars)s.")
                    % {"pillar": pillar, "pillars": ", ".join(Pillar.values)},
                )
            area_code, indicator_code = values["area_code"], values["indicator_code"]
            for column, value in (("area_code", area_code), ("indicator_code", indicator_code)):
                if len(value) > CODE_MAX_LENGTH:
                    problem(
                        column,
                        ngettext(
                            "a code is at most %(count)s character.",
                            "a code is at most %(count)s characters.",
                            CODE_MAX_LENGTH,
                        )
                        % {"count": CODE_MAX_LENGTH},
                    )
            if len(values["indicator_name"]) > NAME_MAX_LENGTH:
                problem(
                    "indicator_name",
                    ngettext(
                        "a name is at most %(count)s character.",
                        "a name is at most %(count)s characters.",
                        NAME_MAX_LENGTH,
                    )
                    % {"count": NAME_MAX_LENGTH},
                )
            area_names = {language: values[c] for language, c in name_columns["area"].items()}
            indicator_names = {language: values[c] for language, c in name_columns["indicator"].items()}
            named = [("area_name", values["area_name"]), ("indicator_name", values["indicator_name"])]
            named += [(name_columns["area"][language], text) for language, text in area_names.items()]
            named += [(name_columns["indicator"][language], text) for language, text in indicator_names.items()]
            for column, text in named:
                longest = AREA_NAME_MAX_LENGTH if column.startswith("area") else NAME_MAX_LENGTH
                if len(text) > longest and column != "indicator_name":  # checked above
                    problem(
                        column,
                        ngettext(
                            "a name is at most %(count)s character.", "a name is at most %(count)s characters.", longest
                        )
                        % {"count": longest},
                    )
                try:
                    bidi_controls_refuse(text, field=f"“{column}”")
                except ValidationError as error:
                    problem(column, error.messages[0])
            if not area_code or not indicator_code:
                continue
            area = areas.setdefault(
                area_code,
                {"name": values["area_name"], "pillar": PILLARS.get(pillar.lower()), "row": offset, "names": {},
                 "name_rows": {}, "languages": set()},
            )  # fmt: skip
            if area["name"] != values["area_name"]:
                problem(
                    "area_name",
                    _("area %(code)s is named “%(name)s” on row %(row)s.")
                    % {"code": area_code, "name": area["name"], "row": area["row"]},
                )
            area["languages"].update(area_names)
            for language, text in area_names.items():
                earlier = area["names"].get(language, "")
                if text and earlier and text != earlier:
                    problem(
                        name_columns["area"][language],
                        _("area %(code)s is named “%(name)s” on row %(row)s.")
                        % {"code": area_code, "name": earlier, "row": area["name_rows"][language]},
                    )
                elif text and not earlier:
                    area["names"][language], area["name_rows"][language] = text, offset
            key = indicator_code_key(indicator_code)
            if key in indicators:
                problem(
                    "indicator_code",
                    _("indicator %(code)s is listed already on row %(row)s.")
                    % {"code": indicator_code, "row": indicators[key]["row"]},
                )
                continue
            indicators[key] = {"code": indicator_code, "name": values["indicator_name"], "area": area_code,
                               "row": offset, "names": indicator_names}  # fmt: skip
    if not indicators and not problems:
        problems.append(
            Problem(
                _("No indicators found: the header row needs %(columns)s.") % {"columns": ", ".join(REQUIRED_COLUMNS)}
            )
        )
    if problems:
        raise ImportRefused(problems)

    framework, _created = Framework.objects.update_or_create(code=code, defaults={"name": name})
    saved_area_names: dict[str, dict[str, str]] = {
        area.code: area.names for area in TechnicalArea.objects.filter(framework=framework).only("code", "names")
    }
    saved_indicator_names: dict[str, dict[str, str]] = {
        indicator.code: indicator.names
        for indicator in Indicator.objects.filter(framework=framework).only("code", "names")
    }
    saved_areas = {}
    for order, (area_code, area) in enumerate(areas.items(), start=1):
        given = {language: area["names"].get(language, "") for language in area["languages"]}
        names = _names_merged(saved_area_names.get(area_code) or {}, given)
        saved_areas[area_code], _created = TechnicalArea.objects.update_or_create(
            framework=framework, code=area_code,
            defaults={"name": area["name"], "pillar": area["pillar"], "order": order, "names": names},
        )  # fmt: skip
    for order, indicator in enumerate(indicators.values(), start=1):
        names = _names_merged(saved_indicator_names.get(indicator["code"]) or {}, indicator["names"])
        Indicator.objects.update_or_create(
            framework=framework, code=indicator["code"],
            defaults={"name": indicator["name"], "technical_area": saved_areas[indicator["area"]], "order": order,
                      "names": names},
        )  # fmt: skip
    return framework


def _as_printed(code: object) -> str:
    return re.sub(r"\s+", "", str(code if code is not None else "")).upper()


def codes_of_another_framework(codes: list[str], *, framework: Framework, unknown: bool) -> str:
    """A message when a file's indicator codes are those of another framework than `framework`, naming it; else
    empty. Editions number their indicators alike (JEE 2 prints P.2.1 where JEE 3 prints P2.1, of another subject),
    so matching codes by their key alone would take a JEE 2 file for JEE 3: the codes are those of another
    framework when each is printed as that framework prints its own and none as `framework` does, or when some are
    `unknown` to `framework` and all are known to the other."""
    codes = [code for code in codes if _as_printed(code)]
    if not codes:
        return ""
    printed: dict[str, set[str]] = {}
    keys: dict[str, set[str]] = {}
    for code, owner in Indicator.objects.values_list("code", "framework__code").order_by("framework__code"):
        printed.setdefault(owner, set()).add(_as_printed(code))
        keys.setdefault(owner, set()).add(indicator_code_key(code))
    own = printed.get(framework.code, set())
    others = sorted(owner for owner in printed if owner != framework.code)
    matching = (
        []
        if any(_as_printed(code) in own for code in codes)
        else [owner for owner in others if all(_as_printed(code) in printed[owner] for code in codes)]
    )
    if not matching and unknown:
        matching = [owner for owner in others if all(indicator_code_key(code) in keys[owner] for code in codes)]
    if not matching:
        return ""
    return _(
        "The indicator codes are those of %(frameworks)s, not of %(framework)s (which numbers its indicators "
        "differently): choose %(frameworks)s for this file."
    ) % {"frameworks": ", ".join(matching), "framework": framework.code}
