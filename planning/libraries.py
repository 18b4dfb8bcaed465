"""Benchmark action libraries: importing one from a spreadsheet (xlsx or CSV) or a JSON file.

A library lists, for each indicator of a framework, the actions that help reach a capacity level (2 to 5).
The file layout is documented in the README ("Benchmark action libraries"); a sample is in
planning/reference/sample_benchmark_library.csv. A file is checked whole before anything is saved: every problem is
reported with where it is, and a file with any problem changes nothing.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext

from naphs.models import max_length
from naphs.spreadsheets import ImportRefused, Problem, Sheet, find_header, limits_for, read_spreadsheet
from planning.crosswalks import crosswalk_links_touching, crosswalk_route
from planning.frameworks import codes_of_another_framework
from planning.models import ActionType, BenchmarkAction, BenchmarkLibrary, Framework, Indicator, indicator_code_key

REQUIRED_COLUMNS = ("indicator", "level", "action", "action_types")
OPTIONAL_COLUMNS = ("hazard",)
# Other spellings of the column names a library file may use (compared after _header_key()).
COLUMN_ALIASES = {
    "indicator_code": "indicator",
    "action_text": "action",
    "action_type": "action_types",
    "type": "action_types",
    "types": "action_types",
    "disease": "hazard",
    "hazard_tag": "hazard",
}
LEVELS = ("2", "3", "4", "5")
HAZARD_MAX_LENGTH = max_length(BenchmarkAction, "hazard")
NAME_MAX_LENGTH = max_length(BenchmarkLibrary, "name")
SOURCE_MAX_LENGTH = max_length(BenchmarkLibrary, "source")
DEMO_LIBRARY_PATH = Path(__file__).resolve().parent / "reference" / "demo_library.json"
DEMO_LIBRARY_NAME = "NAPHS Planner demo library"
# WHO's action types as the benchmarks write them, in WHO's order (the WHO Benchmarks platform's seed files refer to
# them by their 1-based index in this list), with the product's action type for each. Recognised in every import.
WHO_ACTION_TYPES: tuple[tuple[str, ActionType], ...] = (
    ("Advocacy", ActionType.ADVOCACY),
    ("Assessment and Data Use", ActionType.ASSESSMENT),
    ("Coordination", ActionType.COORDINATION),
    ("Designation", ActionType.DESIGNATION),
    ("Dissemination", ActionType.DISSEMINATION),
    ("Financing", ActionType.FINANCING),
    ("Monitoring and Evaluation", ActionType.MONITORING),
    ("Planning and Strategy", ActionType.PLANNING),
    ("Procurement", ActionType.PROCUREMENT),
    ("Program Implementation", ActionType.PROGRAMME),
    ("SimEx and AAR", ActionType.SIMULATION),
    ("SOPs", ActionType.SOP),
    ("Surveillance", ActionType.SURVEILLANCE),
    ("Tool Development", ActionType.TOOLS),
    ("Training", ActionType.TRAINING),
)


def _type_key(text: str) -> str:
    return " ".join(text.lower().replace("&", " and ").replace("-", " ").split())


@functools.cache
def _action_type_names() -> dict[str, str]:
    """An action type is recognised by its code ("sop") or its English label ("Standard operating procedures"), in
    any case: a library file reads the same whatever the language of the person importing it."""
    with translation.override(None):
        labels = {_type_key(str(label)): code for code, label in ActionType.choices}
    return {
        **labels,
        **{_type_key(code): code for code in ActionType.values},
        **{_type_key(label): code for label, code in WHO_ACTION_TYPES},
        "simulation exercises and after action reviews": ActionType.SIMULATION,
        "standard operating procedures": ActionType.SOP,
        "m and e": ActionType.MONITORING,
    }


@dataclass(frozen=True)
class _Action:
    """One checked action of the file, ready to save."""

    indicator: Indicator
    level: int | None  # None only for an action about a disease (its hazard tag)
    text: str
    action_types: list[str]
    hazard: str
    where: _Place | None = None
    platform_id: int | None = None  # where the WHO Benchmarks platform's files put it (benchmark_platform.py)
    benchmark_indicator: str = ""


@dataclass(frozen=True)
class _Place:
    """Where an action is in the file, for the message that names it when a later action repeats it: a row (and
    its sheet, when the file has several), or a JSON action's number."""

    row: int | None = None
    sheet: str = ""
    number: int | None = None

    def duplicate_message(self, *, indicator: str, level: int) -> str:
        params = {"indicator": indicator, "level": level, "row": self.row, "sheet": self.sheet, "number": self.number}
        if self.number is not None:
            return gettext("the same action for %(indicator)s level %(level)d is in action %(number)d.") % params
        if self.sheet:
            return (
                gettext("the same action for %(indicator)s level %(level)d is in row %(row)d of sheet “%(sheet)s”.")
                % params
            )
        return gettext("the same action for %(indicator)s level %(level)d is in row %(row)d.") % params

    def problem(self, message: str) -> Problem:
        """A problem at this place: its sheet and row, or the JSON action's number."""
        if self.number is not None:
            # Translators: %(problem)s is a sentence about a library's action, e.g. that it maps to nothing.
            return Problem(gettext("Action %(number)d: %(problem)s") % {"number": self.number, "problem": message})
        return Problem(message, self.sheet, self.row)


def _header_key(value: Any) -> str:
    key = "_".join(str(value or "").lower().replace("-", " ").split())
    return COLUMN_ALIASES.get(key, key)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


class _Checker:
    """Checks the fields of one action after another against a framework, collecting every problem."""

    def __init__(self, framework: Framework) -> None:
        self.framework = framework
        self.indicators = {indicator_code_key(i.code): i for i in Indicator.objects.filter(framework=framework)}
        self.problems: list[Problem] = []
        self.actions: list[_Action] = []
        self.seen: dict[tuple[int, int, str], _Place] = {}
        self.codes: list[str] = []  # every indicator code of the file, as written
        self.unknown = False  # whether one of them is not the framework's

    def check(self, fields: dict[str, Any], *, where: _Place, locate: Callable[[str, str], Problem]) -> None:
        """`locate(field, message)` makes the Problem for one field; `where` names the action for duplicates."""
        before = len(self.problems)
        indicator = self._indicator(fields.get("indicator"), locate)
        level = self._level(fields.get("level"), locate)
        text = _text(fields.get("action"))
        if not text:
            self.problems.append(locate("action", gettext("the action text is empty.")))
        action_types = self._action_types(fields.get("action_types"), locate)
        hazard = _text(fields.get("hazard"))
        if len(hazard) > HAZARD_MAX_LENGTH:
            message = ngettext(
                "a hazard tag has at most %(limit)d character.",
                "a hazard tag has at most %(limit)d characters.",
                HAZARD_MAX_LENGTH,
            ) % {"limit": HAZARD_MAX_LENGTH}
            self.problems.append(locate("hazard", message))
        if len(self.problems) > before or indicator is None or level is None:
            return
        key = (indicator.pk, level, text.lower())
        if key in self.seen:
            duplicate = self.seen[key].duplicate_message(indicator=indicator.code, level=level)
            self.problems.append(locate("action", duplicate))
            return
        self.seen[key] = where
        self.actions.append(_Action(indicator, level, text, action_types, hazard, where))

    def _indicator(self, value: Any, locate: Callable[[str, str], Problem]) -> Indicator | None:
        code = _text(value)
        if not code:
            self.problems.append(locate("indicator", gettext("the indicator code is empty.")))
            return None
        indicator = self.indicators.get(indicator_code_key(code))
        if indicator is None and " " in code:  # "P1.1 Legal instruments": the code, then the indicator's name
            code = code.split()[0]
            indicator = self.indicators.get(indicator_code_key(code))
        self.codes.append(code)
        if indicator is None:
            self.unknown = True
            message = gettext("“%(code)s” is not an indicator of %(framework)s (%(name)s).") % {
                "code": code,
                "framework": self.framework.code,
                "name": self.framework.local_name,
            }
            self.problems.append(locate("indicator", message))
        return indicator

    def _level(self, value: Any, locate: Callable[[str, str], Problem]) -> int | None:
        text = _text(value)
        number = re.sub(r"^level\s*", "", text, flags=re.IGNORECASE)
        if isinstance(value, bool) or number not in LEVELS:
            if text:
                message = gettext("the level is “%(level)s”; it must be a whole number from 2 to 5.") % {"level": text}
            else:
                message = gettext("the level is empty; it must be a whole number from 2 to 5.")
            self.problems.append(locate("level", message))
            return None
        return int(number)

    def _action_types(self, value: Any, locate: Callable[[str, str], Problem]) -> list[str]:
        names = value if isinstance(value, list) else re.split(r"[;,\n]", _text(value))
        codes, unknown = [], []
        for name in names:
            if not _text(name):
                continue
            code = _action_type_names().get(_type_key(_text(name)))
            if code is None:
                unknown.append(f"“{_text(name)}”")
            elif code not in codes:
                codes.append(str(code))
        if unknown:
            known = "; ".join(str(label) for _code, label in ActionType.choices)
            message = ngettext(
                "unknown action type %(unknown)s; use one or more of: %(known)s.",
                "unknown action types %(unknown)s; use one or more of: %(known)s.",
                len(unknown),
            ) % {"unknown": ", ".join(unknown), "known": known}
            self.problems.append(locate("action_types", message))
        elif not codes:
            self.problems.append(locate("action_types", gettext("no action type; give one or more, separated by “;”.")))
        return codes


def _sheet_locator(sheet: Sheet, *, row: int, columns: dict[str, int]) -> Callable[[str, str], Problem]:
    def locate(field: str, message: str) -> Problem:
        return sheet.problem(message, row=row, column=columns[field] + 1)

    return locate


def _check_sheets(sheets: list[Sheet], checker: _Checker) -> None:
    """Read every sheet that has a header row with the required columns; other sheets (notes) are skipped."""
    missing_by_sheet: list[Problem] = []
    read_any = False
    for sheet in sheets:
        header = find_header(sheet, required=REQUIRED_COLUMNS, key=_header_key)
        if header is None:
            continue
        header_index, columns = header
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if missing:
            missing_by_sheet.append(
                sheet.problem(
                    ngettext(
                        "missing column %(missing)s; the header row needs %(required)s (and optionally %(optional)s).",
                        "missing columns %(missing)s; the header row needs %(required)s (and optionally %(optional)s).",
                        len(missing),
                    )
                    % {
                        "missing": ", ".join(missing),
                        "required": ", ".join(REQUIRED_COLUMNS),
                        "optional": ", ".join(OPTIONAL_COLUMNS),
                    },
                    row=header_index + 1,
                )
            )
            continue
        read_any = True
        for index in range(header_index + 1, len(sheet.rows)):
            row = sheet.rows[index]
            if not any(_text(v) for v in row):
                continue  # blank rows are allowed between groups of actions
            fields = {
                name: row[position] if position < len(row) else None
                for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
                if (position := columns.get(name)) is not None
            }
            locate = _sheet_locator(sheet, row=index + 1, columns=columns)
            where = _Place(row=index + 1, sheet=sheet.name if len(sheets) > 1 else "")
            checker.check(fields, where=where, locate=locate)
    if not read_any:
        checker.problems.extend(missing_by_sheet or [Problem(gettext("The file has no header row and no actions."))])


def json_file_read(upload: IO[bytes]) -> Any:
    """A library's JSON file (or its reference library's), parsed, within the library import's size limit; an
    ImportRefused saying what is wrong when it is too large, not UTF-8 or not JSON."""
    limit = limits_for("library").max_bytes
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ImportRefused([gettext("The file is larger than %(size)d MB.") % {"size": limit // (1024 * 1024)}])
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise ImportRefused([gettext("This JSON file is not UTF-8 text.")]) from error
    except RecursionError as error:  # nested far deeper than any library
        raise ImportRefused([gettext("This JSON file is nested too deeply to be a library.")]) from error
    except json.JSONDecodeError as error:
        message = gettext("This is not valid JSON: %(error)s (line %(line)d, column %(column)d).") % {
            "error": error.msg,
            "line": error.lineno,
            "column": error.colno,
        }
        raise ImportRefused([message]) from error
    return document


def _read_json(upload: IO[bytes]) -> dict[str, Any]:
    document = json_file_read(upload)
    if not isinstance(document, dict):
        raise ImportRefused(
            [gettext("The JSON file must hold one object with “framework”, “name”, “source” and “actions”.")]
        )
    return document


def _check_json(document: dict[str, Any], checker: _Checker) -> None:
    actions = document.get("actions")
    if not isinstance(actions, list):
        checker.problems.append(Problem(gettext("Field “actions”: must be a list of actions.")))
        return
    limit = limits_for("library").max_rows
    if len(actions) > limit:
        message = ngettext(
            "Field “actions”: more than %(limit)s action; split the file.",
            "Field “actions”: more than %(limit)s actions; split the file.",
            limit,
        ) % {"limit": number_format(limit, force_grouping=True)}
        checker.problems.append(Problem(message))
        return
    for number, action in enumerate(actions, start=1):
        if not isinstance(action, dict):
            message = gettext("Action %(number)d: must be an object with %(fields)s, ...") % {
                "number": number,
                "fields": ", ".join(REQUIRED_COLUMNS[:3]),
            }
            checker.problems.append(Problem(message))
            continue
        fields = {str(key).lower(): value for key, value in action.items()}

        def locate(field: str, message: str, number: int = number) -> Problem:
            return Problem(
                # Translators: %(field)s is a JSON key (indicator, level...); %(problem)s, one of the problems below.
                gettext("Action %(number)d, field %(field)s: %(problem)s")
                % {
                    "number": number,
                    "field": field,
                    "problem": message,
                }
            )

        checker.check(fields, where=_Place(number=number), locate=locate)


def _json_framework(document: dict[str, Any], framework: Framework | None) -> Framework:
    code = _text(document.get("framework"))
    if framework is not None:
        if code and indicator_code_key(code) != indicator_code_key(framework.code):
            raise ImportRefused(
                [
                    gettext("Field “framework”: this library is for “%(code)s”, not for %(framework)s.")
                    % {"code": code, "framework": framework.code}
                ]
            )
        return framework
    found = Framework.objects.filter(code__iexact=code).first() if code else None
    if found is None:
        known = ", ".join(Framework.objects.values_list("code", flat=True))
        raise ImportRefused(
            [
                gettext("Field “framework”: “%(code)s” is not a framework here; choose one of %(known)s.")
                % {"code": code, "known": known}
            ]
        )
    return found


@dataclass(frozen=True)
class LibraryImported:
    """An imported library, and the actions of a file keyed by another framework's codes that no crosswalk took to
    an indicator of the library's framework (each a Problem naming its row or action), which were left out."""

    library: BenchmarkLibrary
    unmapped: list[Problem] = field(default_factory=list)
    unmapped_codes: list[str] = field(default_factory=list)  # their indicators, each once, in the file's order


def library_import(
    *,
    framework: Framework | None,
    name: str,
    source: str = "",
    upload: IO[bytes],
    filename: str,
    codes_of: Framework | None = None,
) -> BenchmarkLibrary:
    """Import a benchmark action library from an .xlsx, .csv or .json file, all or nothing: library_import_report,
    for callers that need only the library."""
    return library_import_report(
        framework=framework, name=name, source=source, upload=upload, filename=filename, codes_of=codes_of
    ).library


def library_import_report(
    *,
    framework: Framework | None,
    name: str,
    source: str = "",
    upload: IO[bytes],
    filename: str,
    codes_of: Framework | None = None,
) -> LibraryImported:
    """Import a benchmark action library from an .xlsx, .csv or .json file, all or nothing.

    For a JSON file, `framework`, `name` and `source` may be left empty to take those of the file. When the
    framework already has a library of this name, its actions are replaced by the file's in one transaction
    (a country loads an updated WHO file). Activities already generated from the old actions keep their
    text: they are copies in the plan, not references that change with the library.

    `codes_of` reads a file keyed by another framework's indicator codes (a library written for JEE 2) into a
    library of `framework` through the crosswalks: each action goes to every indicator its indicator maps to. An
    action whose indicator maps to nothing is left out and listed in the result; the file is refused only when
    nothing maps at all.

    Raises ImportRefused listing every problem (sheet, row and column, or action number and field); then
    nothing was saved.
    """
    through = codes_of if codes_of is not None and framework is not None and codes_of != framework else None
    if codes_of is not None and framework is None:
        raise ImportRefused([gettext("Choose the framework of the library the file's actions go into.")])
    if filename.lower().endswith(".json"):
        document = _read_json(upload)
        keyed_by = _json_framework(document, through or framework)
        framework = framework or keyed_by
        name = name or _text(document.get("name"))
        source = source or _text(document.get("source"))
        checker = _Checker(keyed_by)
        _check_json(document, checker)
    else:
        if framework is None:
            raise ImportRefused([gettext("Choose the framework whose indicators the library covers.")])
        sheets = read_spreadsheet(upload, name=filename, limits="library")
        checker = _Checker(through or framework)
        _check_sheets(sheets, checker)
    name, source = " ".join(name.split()), " ".join(source.split())
    if not name:
        checker.problems.insert(0, Problem(gettext("Give the library a name.")))
    elif len(name) > NAME_MAX_LENGTH:
        message = ngettext(
            "The library's name has more than %(limit)d character.",
            "The library's name has more than %(limit)d characters.",
            NAME_MAX_LENGTH,
        ) % {"limit": NAME_MAX_LENGTH}
        checker.problems.insert(0, Problem(message))
    if len(source) > SOURCE_MAX_LENGTH:
        message = ngettext(
            "The library's source has more than %(limit)d character.",
            "The library's source has more than %(limit)d characters.",
            SOURCE_MAX_LENGTH,
        ) % {"limit": SOURCE_MAX_LENGTH}
        checker.problems.insert(0, Problem(message))
    if hint := codes_of_another_framework(checker.codes, framework=checker.framework, unknown=checker.unknown):
        checker.problems.insert(0, Problem(hint))
    if not checker.problems and not checker.actions:
        checker.problems.append(Problem(gettext("The file holds no actions.")))
    if checker.problems:
        raise ImportRefused(checker.problems)
    actions, unmapped, codes = checker.actions, list[Problem](), list[str]()
    if through is not None:
        actions, unmapped, codes = _actions_through(checker.actions, start=through, end=framework)
    library = _library_save(framework=framework, name=name, source=source, actions=actions)
    return LibraryImported(library=library, unmapped=unmapped, unmapped_codes=codes)


def _actions_through(
    actions: list[_Action], *, start: Framework, end: Framework
) -> tuple[list[_Action], list[Problem], list[str]]:
    """The actions keyed by `start`'s indicators, each copied to every indicator of `end` its indicator maps to
    through the crosswalks (the same action reaching one indicator twice kept once), and a Problem for each action
    that maps to nothing. ImportRefused when none maps."""
    route = crosswalk_route(links=crosswalk_links_touching({start.pk, end.pk}), start=start.pk, end=end.pk)
    mapping = route.mapping if route is not None else {}
    targets = {i.pk: i for i in Indicator.objects.filter(pk__in={t for ts in mapping.values() for t in ts})}
    mapped: list[_Action] = []
    seen: set[tuple[int, int | None, str]] = set()
    unmapped: list[Problem] = []
    codes: list[str] = []
    for action in actions:
        reached = sorted((targets[t] for t in mapping.get(action.indicator.pk, ())), key=lambda i: (i.order, i.code))
        if not reached:
            message = gettext(
                "%(code)s of %(from)s corresponds to no indicator of %(to)s in the crosswalks; this action was "
                "left out."
            ) % {"code": action.indicator.code, "from": start.code, "to": end.code}
            unmapped.append(action.where.problem(message) if action.where else Problem(message))
            if action.indicator.code not in codes:
                codes.append(action.indicator.code)
            continue
        for indicator in reached:
            key = (indicator.pk, action.level, action.text.lower())
            if key not in seen:
                seen.add(key)
                mapped.append(dataclasses.replace(action, indicator=indicator))
    if not mapped:
        raise ImportRefused(
            [
                gettext(
                    "None of the file's indicators of %(from)s corresponds to an indicator of %(to)s in the "
                    "crosswalks, so nothing was imported."
                )
                % {"from": start.code, "to": end.code},
                *unmapped,
            ]
        )
    return mapped, unmapped, codes


ACTION_FIELDS = ("level", "text", "action_types", "hazard", "order", "benchmark_indicator")


@transaction.atomic
def _library_save(*, framework: Framework, name: str, source: str, actions: list[_Action]) -> BenchmarkLibrary:
    library, _created = BenchmarkLibrary.objects.get_or_create(framework=framework, name=name)
    # Lock the row so two imports of the same library replace its actions one after the other.
    library = BenchmarkLibrary.objects.select_for_update().get(pk=library.pk)
    library.source = source
    library.save(update_fields=["source"])
    rows = [
        BenchmarkAction(
            library=library,
            indicator=action.indicator,
            level=action.level,
            text=action.text,
            action_types=action.action_types,
            hazard=action.hazard,
            order=order,
            platform_id=action.platform_id,
            benchmark_indicator=action.benchmark_indicator,
        )
        for order, action in enumerate(actions, start=1)
    ]
    if rows and all(row.platform_id is not None for row in rows):
        _platform_rows_save(library, rows)
        return library
    library.actions.all().delete()
    BenchmarkAction.objects.bulk_create(rows)
    return library


def _platform_rows_save(library: BenchmarkLibrary, rows: list[BenchmarkAction]) -> None:
    """Actions numbered by the WHO Benchmarks platform are the same actions from one import to the next: each row
    of the library that the files still have, by its number and indicator, is updated in place, so the plans that
    turned it into an activity keep it as generated and a new draft does not bring it back twice."""
    existing = {(row.platform_id, row.indicator_id): row for row in library.actions.all()}
    kept, new = [], []
    for row in rows:
        old = existing.pop((row.platform_id, row.indicator.pk), None)
        if old is None:
            new.append(row)
        else:
            for name in ACTION_FIELDS:
                setattr(old, name, getattr(row, name))
            kept.append(old)
    BenchmarkAction.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()
    BenchmarkAction.objects.bulk_update(kept, ACTION_FIELDS, batch_size=1000)
    BenchmarkAction.objects.bulk_create(new)


def demo_library_load(*, framework: Framework) -> tuple[BenchmarkLibrary, bool]:
    """The demo library shipped with the product (written for it, not WHO text); loaded once, then left alone
    so that activities drawn from it keep their source. Returns the library and whether it was loaded now."""
    existing = BenchmarkLibrary.objects.filter(framework=framework, name=DEMO_LIBRARY_NAME).first()
    if existing is not None and existing.actions.exists():
        return existing, False
    with DEMO_LIBRARY_PATH.open("rb") as handle:
        library = library_import(
            framework=framework, name=DEMO_LIBRARY_NAME, upload=handle, filename=DEMO_LIBRARY_PATH.name
        )
    return library, True
