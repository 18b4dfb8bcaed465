"""Benchmark action libraries: importing one from a spreadsheet (xlsx or CSV) or a JSON file.

A library lists, for each indicator of a framework, the actions that help reach a capacity level (2 to 5).
The file layout is documented in the README ("Benchmark action libraries"); a sample is in
planning/reference/sample_benchmark_library.csv. A file is checked whole before anything is saved: every problem is
reported with where it is, and a file with any problem changes nothing.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext

from naphs.models import max_length
from naphs.spreadsheets import ImportRefused, Problem, Sheet, find_header, limits_for, read_spreadsheet
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
        "sops": ActionType.SOP,
        "m and e": ActionType.MONITORING,
    }


@dataclass(frozen=True)
class _Action:
    """One checked action of the file, ready to save."""

    indicator: Indicator
    level: int
    text: str
    action_types: list[str]
    hazard: str


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
        self.actions.append(_Action(indicator, level, text, action_types, hazard))

    def _indicator(self, value: Any, locate: Callable[[str, str], Problem]) -> Indicator | None:
        code = _text(value)
        if not code:
            self.problems.append(locate("indicator", gettext("the indicator code is empty.")))
            return None
        indicator = self.indicators.get(indicator_code_key(code))
        if indicator is None and " " in code:  # "P1.1 Legal instruments": the code, then the indicator's name
            indicator = self.indicators.get(indicator_code_key(code.split()[0]))
        if indicator is None:
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


def library_import(
    *,
    framework: Framework | None,
    name: str,
    source: str = "",
    upload: IO[bytes],
    filename: str,
) -> BenchmarkLibrary:
    """Import a benchmark action library from an .xlsx, .csv or .json file, all or nothing.

    For a JSON file, `framework`, `name` and `source` may be left empty to take those of the file. When the
    framework already has a library of this name, its actions are replaced by the file's in one transaction
    (a country loads an updated WHO file). Activities already generated from the old actions keep their
    text: they are copies in the plan, not references that change with the library.

    Raises ImportRefused listing every problem (sheet, row and column, or action number and field); then
    nothing was saved.
    """
    if filename.lower().endswith(".json"):
        document = _read_json(upload)
        framework = _json_framework(document, framework)
        name = name or _text(document.get("name"))
        source = source or _text(document.get("source"))
        checker = _Checker(framework)
        _check_json(document, checker)
    else:
        if framework is None:
            raise ImportRefused([gettext("Choose the framework whose indicators the library covers.")])
        sheets = read_spreadsheet(upload, name=filename, limits="library")
        checker = _Checker(framework)
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
    if not checker.problems and not checker.actions:
        checker.problems.append(Problem(gettext("The file holds no actions.")))
    if checker.problems:
        raise ImportRefused(checker.problems)
    return _library_save(framework=framework, name=name, source=source, actions=checker.actions)


@transaction.atomic
def _library_save(*, framework: Framework, name: str, source: str, actions: list[_Action]) -> BenchmarkLibrary:
    library, _created = BenchmarkLibrary.objects.get_or_create(framework=framework, name=name)
    # Lock the row so two imports of the same library replace its actions one after the other.
    library = BenchmarkLibrary.objects.select_for_update().get(pk=library.pk)
    library.source = source
    library.save(update_fields=["source"])
    library.actions.all().delete()
    BenchmarkAction.objects.bulk_create(
        BenchmarkAction(
            library=library,
            indicator=action.indicator,
            level=action.level,
            text=action.text,
            action_types=action.action_types,
            hazard=action.hazard,
            order=order,
        )
        for order, action in enumerate(actions, start=1)
    )
    return library


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
