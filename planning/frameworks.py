"""Loading another assessment framework (a future JEE or SPAR edition, a national self-assessment tool) from a
spreadsheet of its technical areas and indicators, in the layout of planning/reference/frameworks.csv."""

from __future__ import annotations

from typing import IO, Any

from django.db import transaction

from naphs.models import max_length
from naphs.spreadsheets import ImportRefused, Problem, find_header, read_spreadsheet
from planning.models import Framework, Indicator, Pillar, TechnicalArea, indicator_code_key

REQUIRED_COLUMNS = ("area_code", "area_name", "indicator_code", "indicator_name")
PILLARS = {value.lower(): value for value in Pillar.values}  # a file names pillars as the reference does
CODE_MAX_LENGTH = max_length(Indicator, "code")
NAME_MAX_LENGTH = max_length(Indicator, "name")


def _key(value: Any) -> str:
    return "_".join(str(value or "").lower().replace("-", " ").split())


def _text(value: Any) -> str:
    return " ".join(str(value if value is not None else "").split())


@transaction.atomic
def framework_import(*, code: str, name: str, upload: IO[bytes], filename: str) -> Framework:
    """Create the framework `code`, or add to it: its areas and indicators are created or renamed, never deleted
    (plans may score them). Every problem is named by sheet, row and column; nothing is saved unless all is well.

    Columns: pillar (Prevent, Detect, Respond, IHR-related hazards and points of entry, Other; optional),
    area_code, area_name, indicator_code, indicator_name. A `framework` column, if present, is ignored.
    """
    code, name = code.strip().upper(), name.strip()
    problems: list[Problem] = []
    if not code or len(code) > max_length(Framework, "code"):
        problems.append(Problem("The framework needs a short code (at most 20 characters), e.g. JEE4."))
    if not name:
        problems.append(Problem("The framework needs a name."))
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
            problems.append(sheet.problem(f"missing column(s) {', '.join(missing)}.", row=start + 1))
            continue
        for offset, row in enumerate(sheet.rows[start + 1 :], start=start + 2):
            values = {c: _text(row[i]) if i < len(row) else "" for c, i in columns.items()}
            if not any(values.values()):
                continue

            def problem(column: str, message: str, row: int = offset, sheet=sheet, columns=columns) -> None:
                problems.append(sheet.problem(message, row=row, column=columns[column] + 1))

            for column in REQUIRED_COLUMNS:
                if not values[column]:
                    problem(column, f"the {column.replace('_', ' ')} is empty.")
            pillar = values.get("pillar", "") or Pillar.OTHER.value
            if pillar.lower() not in PILLARS:
                problem("pillar", f"“{pillar}” is not a pillar; use one of: {', '.join(Pillar.values)}.")
            area_code, indicator_code = values["area_code"], values["indicator_code"]
            for column, value in (("area_code", area_code), ("indicator_code", indicator_code)):
                if len(value) > CODE_MAX_LENGTH:
                    problem(column, f"a code is at most {CODE_MAX_LENGTH} characters.")
            if len(values["indicator_name"]) > NAME_MAX_LENGTH:
                problem("indicator_name", f"a name is at most {NAME_MAX_LENGTH} characters.")
            if not area_code or not indicator_code:
                continue
            area = areas.setdefault(
                area_code, {"name": values["area_name"], "pillar": PILLARS.get(pillar.lower()), "row": offset}
            )
            if area["name"] != values["area_name"]:
                problem("area_name", f"area {area_code} is named “{area['name']}” on row {area['row']}.")
            key = indicator_code_key(indicator_code)
            if key in indicators:
                problem(
                    "indicator_code", f"indicator {indicator_code} is listed already on row {indicators[key]['row']}."
                )
                continue
            indicators[key] = {"code": indicator_code, "name": values["indicator_name"], "area": area_code,
                               "row": offset}  # fmt: skip
    if not indicators and not problems:
        problems.append(Problem(f"No indicators found: the header row needs {', '.join(REQUIRED_COLUMNS)}."))
    if problems:
        raise ImportRefused(problems)

    framework, _ = Framework.objects.update_or_create(code=code, defaults={"name": name})
    saved_areas = {}
    for order, (area_code, area) in enumerate(areas.items(), start=1):
        saved_areas[area_code], _ = TechnicalArea.objects.update_or_create(
            framework=framework, code=area_code,
            defaults={"name": area["name"], "pillar": area["pillar"], "order": order},
        )  # fmt: skip
    for order, indicator in enumerate(indicators.values(), start=1):
        Indicator.objects.update_or_create(
            framework=framework, code=indicator["code"],
            defaults={"name": indicator["name"], "technical_area": saved_areas[indicator["area"]], "order": order},
        )  # fmt: skip
    return framework
