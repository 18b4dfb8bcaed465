"""The WHO benchmarks for IHR capacities (2019) as the WHO Benchmarks platform keeps them: its JSON seed files.

The platform's `db/seed-data/` folder holds the benchmark library as JSON files: technical areas, benchmark
indicators (numbered "1.1" ... "18.1" after the technical areas of the JEE 1st and 2nd editions), actions with a
level and WHO's action types by their index, and actions about one disease (influenza, cholera, Ebola) that have no
level. `platform_import` takes those files as they are, several files or one .zip of them (in a folder or not), into
a library of a framework: each benchmark indicator's actions go to the framework's indicators the mapping
(BenchmarkIndicatorLink, shipped as planning/reference/benchmark_indicator_mapping.csv, editable in the admin)
names, one action row per indicator. The platform numbers the actions in file order, the levelled ones first,
then those of influenza, cholera and Ebola; each row keeps that number (`platform_id`), which the platform's
reference library cites, and its benchmark indicator.

Importing the files again replaces the library's actions; an action still in the files (by its platform number and
indicator) is updated in place, so plans that drafted it keep it as generated. Everything is checked before anything
is saved, and saved in one transaction: files that are not the platform's
(a missing file, a wrong field, a level outside 2 to 5, an action type outside WHO's 15, an action of an indicator
the indicators file does not have) are refused with the file, the item and the field; so are files whose numbering
matches no mapping of the framework. Actions of a benchmark indicator the framework's mapping does not name are the
only ones left out, and the result lists them. Files of the folder the import does not read are named as passed
over.
"""

from __future__ import annotations

import io
import json
import posixpath
import stat
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import transaction
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext

from naphs.services import audit_record
from naphs.spreadsheets import ImportRefused, Problem, limits_for
from planning.guidance import GuidanceImported, platform_guidance_import
from planning.libraries import WHO_ACTION_TYPES, _Action, _library_save, _text
from planning.models import BenchmarkIndicatorLink, BenchmarkLibrary, Framework, Indicator, disease_name

DEFAULT_NAME = "WHO benchmarks for IHR capacities (2019)"
DEFAULT_SOURCE = "WHO benchmarks for IHR capacities (2019), seed files of the WHO Benchmarks platform"
TECHNICAL_AREAS_FILE = "benchmark_technical_areas.json"
INDICATORS_FILE = "benchmark_indicators.json"
ACTIONS_FILE = "benchmark_indicator_actions.json"
# The disease files in the order the platform numbers their actions, after the levelled ones.
DISEASE_FILES = (
    ("influenza", "influenza_actions.json"),
    ("cholera", "cholera_actions.json"),
    ("ebola", "ebola_actions.json"),
)
PLATFORM_FILES = (TECHNICAL_AREAS_FILE, INDICATORS_FILE, ACTIONS_FILE, *(name for _tag, name in DISEASE_FILES))
# The platform's reference library (documents citing actions by their platform numbers): read by the guidance import.
GUIDANCE_FILE_PREFIX = "reference_library_documents"
GUIDANCE_FILE = "reference_library_documents.json"
LEVELS = range(2, 6)
MAX_FOLDER_DEPTH = 8
ZIP_MAGIC = b"PK\x03\x04"
PACKED_FILES_NAME = "benchmark-platform-files.zip"  # several files given at once, as the one file a job reads
EMPTY_ZIP_MAGIC = b"PK\x05\x06"


def is_platform_upload(filenames: Iterable[str]) -> bool:
    """Whether files given to a library import are the platform's seed files (a .zip, or files named as the
    platform names them) rather than one file in the product's own layout."""
    names = [posixpath.basename(name.replace("\\", "/")).lower() for name in filenames]
    return len(names) > 1 or any(name.endswith(".zip") or name in PLATFORM_FILES for name in names)


@dataclass
class PlatformFiles:
    """The files given, by their name without folder (lowercase); JSON parsed on first use."""

    data: dict[str, bytes] = field(default_factory=dict)
    parsed: dict[str, Any] = field(default_factory=dict)

    def json(self, name: str) -> Any:
        """The parsed JSON of one file; ImportRefused naming the file when it is not JSON."""
        if name not in self.parsed:
            self.parsed[name] = _parse_json(name, self.data[name])
        return self.parsed[name]


@dataclass
class PlatformImported:
    """What an import of the platform's files did."""

    library: BenchmarkLibrary
    levelled: int  # levelled actions of the files imported (each once, however many indicators it went to)
    by_disease: dict[str, int]  # disease tag -> its actions imported
    rows: int  # action rows saved (an action mapped to several indicators is a row for each)
    indicators_mapped: int  # benchmark indicators of the files that the mapping names
    unmapped: list[tuple[str, int]]  # benchmark indicator -> its actions left out, in the files' order
    passed_over: list[str]  # files not read
    guidance: GuidanceImported | None = None  # the platform's reference library, when the files hold it

    def summary(self) -> str:
        """Short enough for a job's message (250 characters): the counts, and the benchmark indicators not mapped."""
        sentences = [
            ngettext("%(count)s levelled action imported.", "%(count)s levelled actions imported.", self.levelled)
            % {"count": number_format(self.levelled, force_grouping=True)}
        ]
        if self.by_disease:
            # Translators: one disease and how many of its actions were imported, e.g. "Cholera 12".
            listed = gettext(", ").join(
                gettext("%(disease)s %(count)s") % {"disease": disease_name(tag), "count": count}
                for tag, count in self.by_disease.items()
            )
            sentences.append(gettext("Diseases: %(diseases)s.") % {"diseases": listed})
        sentences.append(
            ngettext(
                "%(count)d benchmark indicator mapped.",
                "%(count)d benchmark indicators mapped.",
                self.indicators_mapped,
            )
            % {"count": self.indicators_mapped}
        )
        if self.unmapped:
            sentences.append(self.unmapped_text())
        if self.guidance is not None:
            sentences.append(
                ngettext(
                    "%(count)d reference document imported.",
                    "%(count)d reference documents imported.",
                    self.guidance.documents,
                )
                % {"count": self.guidance.documents}
            )
        return " ".join(sentences)

    def unmapped_text(self) -> str:
        """The benchmark indicators not mapped, each with its actions' count in brackets."""
        total = sum(count for _indicator, count in self.unmapped)
        listed = gettext(", ").join(f"{indicator} ({count})" for indicator, count in self.unmapped)
        return ngettext(
            "Not mapped to %(framework)s, so %(count)d action was not imported: %(indicators)s.",
            "Not mapped to %(framework)s, so %(count)d actions were not imported: %(indicators)s.",
            total,
        ) % {"framework": self.library.framework.code, "count": total, "indicators": listed}


def _too_large(name: str, limit: int) -> ImportRefused:
    return ImportRefused(
        [
            gettext("%(file)s: larger than %(size)d MB; nothing was imported.")
            % {"file": name, "size": limit // (1024 * 1024)}
        ]
    )


def _parse_json(name: str, data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise ImportRefused([gettext("%(file)s: not UTF-8 text, so not JSON.") % {"file": name}]) from error
    except RecursionError as error:
        raise ImportRefused([gettext("%(file)s: nested too deeply to be a seed file.") % {"file": name}]) from error
    except json.JSONDecodeError as error:
        message = gettext("%(file)s: not valid JSON: %(error)s (line %(line)d, column %(column)d).") % {
            "file": name,
            "error": error.msg,
            "line": error.lineno,
            "column": error.colno,
        }
        raise ImportRefused([message]) from error


def _zip_members(name: str, data: bytes) -> list[tuple[str, bytes]]:
    """The files of an archive, checked before anything is unpacked: a real zip, not too many entries, no more
    unpacked than the import's limits, no archive inside, no path that climbs out or starts at the root, no links,
    no encryption. Folders are dropped from the names; JSON members are read, each bounded."""
    limits = limits_for("library")
    if not data.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        raise ImportRefused([gettext("%(file)s: not a zip archive.") % {"file": name}])
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise ImportRefused([gettext("%(file)s: a damaged zip archive; it was not read.") % {"file": name}]) from error
    files = [member for member in members if not member.is_dir()]
    if not files:
        raise ImportRefused([gettext("%(file)s: the archive is empty.") % {"file": name}])
    if len(members) > limits.max_entries:
        raise ImportRefused(
            [
                gettext("%(file)s: %(count)s entries, more than the %(limit)s an archive here may have.")
                % {"file": name, "count": len(members), "limit": limits.max_entries}
            ]
        )
    unpacked = sum(member.file_size for member in files)
    if unpacked > limits.max_unpacked_bytes or unpacked > limits.max_compression_ratio * max(len(data), 1):
        raise ImportRefused(
            [gettext("%(file)s: unpacks to far more data than seed files hold; it was not read.") % {"file": name}]
        )
    problems = []
    for member in files:
        path = member.filename
        parts = path.replace("\\", "/").split("/")
        mode = member.external_attr >> 16
        if path.startswith(("/", "\\")) or ".." in parts or (len(parts[0]) > 1 and parts[0][1] == ":"):
            problems.append(
                gettext("%(file)s: the entry “%(entry)s” points outside the archive.") % {"file": name, "entry": path}
            )
        elif stat.S_ISLNK(mode):
            problems.append(gettext("%(file)s: the entry “%(entry)s” is a link.") % {"file": name, "entry": path})
        elif len(parts) > MAX_FOLDER_DEPTH:
            problems.append(
                gettext("%(file)s: the entry “%(entry)s” is nested more than %(depth)d folders deep.")
                % {"file": name, "entry": path, "depth": MAX_FOLDER_DEPTH}
            )
        elif path.lower().endswith((".zip", ".gz", ".tar", ".7z", ".rar")):
            problems.append(
                gettext("%(file)s: the entry “%(entry)s” is an archive inside the archive; give its files instead.")
                % {"file": name, "entry": path}
            )
        elif member.flag_bits & 0x1:
            problems.append(gettext("%(file)s: the entry “%(entry)s” is encrypted.") % {"file": name, "entry": path})
    if problems:
        raise ImportRefused(problems)
    found = []
    for member in files:
        base = posixpath.basename(member.filename.replace("\\", "/"))
        if not base.lower().endswith(".json"):
            found.append((base, b""))  # passed over unread
            continue
        if member.file_size > limits.max_bytes:
            raise _too_large(base, limits.max_bytes)
        try:
            with archive.open(member) as stream:
                content = stream.read(limits.max_bytes + 1)
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, ValueError) as error:
            raise ImportRefused(
                [gettext("%(file)s: the entry “%(entry)s” cannot be read.") % {"file": name, "entry": member.filename}]
            ) from error
        if len(content) > limits.max_bytes:  # its declared size was false
            raise _too_large(base, limits.max_bytes)
        found.append((base, content))
    return found


def platform_files_read(files: Sequence[tuple[str, IO[bytes]]]) -> PlatformFiles:
    """The files given, or those of the archives given, by name without folder; refused when a name comes twice."""
    limit = limits_for("library").max_bytes
    collected: list[tuple[str, bytes]] = []
    for filename, handle in files:
        name = posixpath.basename(filename.replace("\\", "/"))
        data = handle.read(limit + 1)
        if len(data) > limit:
            raise _too_large(name, limit)
        if name.lower().endswith(".zip"):
            collected.extend(_zip_members(name, data))
        else:
            collected.append((name, data))
    result = PlatformFiles()
    for name, data in collected:
        key = name.lower()
        if key in result.data:
            raise ImportRefused([gettext("%(file)s: given twice; give each file once.") % {"file": name}])
        result.data[key] = data
    return result


class _Items:
    """The items of one seed file, each checked field by field; every problem names the file, item and field."""

    def __init__(self, files: PlatformFiles, name: str, problems: list[Problem]) -> None:
        self.name, self.problems = name, problems
        document = files.json(name)
        limit = limits_for("library").max_rows
        self.items: list[tuple[int, dict[str, Any]]] = []
        if not isinstance(document, list):
            self.problem(None, None, gettext("must be a list of objects, as the platform's seed files are."))
            return
        if len(document) > limit:
            self.problem(None, None, gettext("more than %(limit)s items; this is not a seed file.") % {
                "limit": number_format(limit, force_grouping=True)})  # fmt: skip
            return
        for number, item in enumerate(document, start=1):
            if isinstance(item, dict):
                self.items.append((number, item))
            else:
                self.problem(number, None, gettext("must be an object."))

    def problem(self, number: int | None, field_name: str | None, message: str) -> None:
        params = {"file": self.name, "number": number, "field": field_name, "problem": message}
        if number is None:
            text = gettext("%(file)s: %(problem)s") % params
        elif field_name is None:
            text = gettext("%(file)s, item %(number)d: %(problem)s") % params
        else:
            # Translators: %(field)s is a JSON key of the seed file (text, level...); %(problem)s says what is wrong.
            text = gettext("%(file)s, item %(number)d, field %(field)s: %(problem)s") % params
        self.problems.append(Problem(text))

    def number(self, number: int, item: dict[str, Any], key: str, allowed: range | None = None) -> int | None:
        """A whole number (the platform writes numbers, or digits in a string) in `allowed`, if given."""
        if key not in item:
            self.problem(number, key, gettext("missing."))
            return None
        value = item[key]
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or (allowed is not None and value not in allowed):
            if allowed is None:
                message = gettext("“%(value)s” is not a whole number.") % {"value": value}
            else:
                message = gettext("“%(value)s” is not a whole number from %(low)d to %(high)d.") % {
                    "value": value,
                    "low": allowed.start,
                    "high": allowed.stop - 1,
                }
            self.problem(number, key, message)
            return None
        return value

    def text(self, number: int, item: dict[str, Any], key: str) -> str | None:
        if key not in item:
            self.problem(number, key, gettext("missing."))
            return None
        value = item[key]
        if not isinstance(value, str) or not _text(value):
            self.problem(number, key, gettext("must be a text that is not empty."))
            return None
        return _text(value)

    def action_types(self, number: int, item: dict[str, Any], key: str) -> list[str] | None:
        """WHO's action types by their 1-based index, as numbers or as digits in strings."""
        if key not in item:
            self.problem(number, key, gettext("missing."))
            return None
        value = item[key]
        if not isinstance(value, list):
            self.problem(number, key, gettext("must be a list of action types' numbers from 1 to 15."))
            return None
        codes: list[str] = []
        for entry in value:
            index = int(entry) if isinstance(entry, str) and entry.strip().isdigit() else entry
            if isinstance(index, bool) or not isinstance(index, int) or not 1 <= index <= len(WHO_ACTION_TYPES):
                self.problem(
                    number,
                    key,
                    gettext("“%(value)s” is not one of WHO's action types (a number from 1 to %(count)d).")
                    % {"value": entry, "count": len(WHO_ACTION_TYPES)},
                )
                return None
            code = str(WHO_ACTION_TYPES[index - 1][1])
            if code not in codes:
                codes.append(code)
        return codes


@dataclass(frozen=True)
class _PlatformAction:
    platform_id: int
    benchmark_indicator: str
    level: int | None
    hazard: str
    text: str
    action_types: list[str]


def _check_files(files: PlatformFiles) -> tuple[list[str], list[_PlatformAction], list[str]]:
    """The benchmark indicators (in the files' order), every action with its platform number, and the files
    passed over; ImportRefused with every problem."""
    missing = [name for name in (INDICATORS_FILE, ACTIONS_FILE) if name not in files.data]
    if missing:
        raise ImportRefused(
            [
                ngettext(
                    "These are not the WHO Benchmarks platform's seed files: %(missing)s is missing.",
                    "These are not the WHO Benchmarks platform's seed files: %(missing)s are missing.",
                    len(missing),
                )
                % {"missing": ", ".join(missing)}
            ]
        )
    problems: list[Problem] = []
    areas: set[int] | None = None
    if TECHNICAL_AREAS_FILE in files.data:
        items = _Items(files, TECHNICAL_AREAS_FILE, problems)
        areas = set()
        for number, item in items.items:
            sequence = items.number(number, item, "sequence")
            items.text(number, item, "text")
            if sequence is not None:
                areas.add(sequence)
    indicators: list[str] = []
    items = _Items(files, INDICATORS_FILE, problems)
    for number, item in items.items:
        area = items.number(number, item, "technical_area_sequence")
        sequence = items.number(number, item, "sequence")
        items.text(number, item, "text")
        if area is None or sequence is None:
            continue
        if areas is not None and area not in areas:
            items.problem(
                number,
                "technical_area_sequence",
                gettext("%(file)s has no technical area %(area)d.") % {"file": TECHNICAL_AREAS_FILE, "area": area},
            )
            continue
        abbreviation = f"{area}.{sequence}"
        if abbreviation in indicators:
            items.problem(number, "sequence", gettext("benchmark indicator %(indicator)s comes twice.") % {
                "indicator": abbreviation})  # fmt: skip
            continue
        indicators.append(abbreviation)
    known = set(indicators)
    actions: list[_PlatformAction] = []
    platform_id = 0
    sources = [(ACTIONS_FILE, "", "text", "action_types")] + [
        (name, tag, "action_text", "activity_types") for tag, name in DISEASE_FILES if name in files.data
    ]
    for name, tag, text_key, types_key in sources:
        items = _Items(files, name, problems)
        for number, item in items.items:
            platform_id += 1  # the platform numbers every item, whether or not it is imported
            indicator = items.text(number, item, "benchmark_indicator_display_abbreviation")
            if indicator is not None and indicator not in known:
                items.problem(
                    number,
                    "benchmark_indicator_display_abbreviation",
                    gettext("%(file)s has no benchmark indicator %(indicator)s.")
                    % {"file": INDICATORS_FILE, "indicator": indicator},
                )
                indicator = None
            level = items.number(number, item, "level", LEVELS) if not tag else None
            text = items.text(number, item, text_key)
            action_types = items.action_types(number, item, types_key)
            if indicator is None or text is None or action_types is None or (not tag and level is None):
                continue
            actions.append(_PlatformAction(platform_id, indicator, level, tag, text, action_types))
    if problems:
        raise ImportRefused(problems)
    read = {INDICATORS_FILE, ACTIONS_FILE, TECHNICAL_AREAS_FILE, *(name for _tag, name in DISEASE_FILES)}
    passed_over = sorted(name for name in files.data if name not in read)
    return indicators, actions, passed_over


def _mapping(framework: Framework) -> dict[str, list[Indicator]]:
    mapping: dict[str, list[Indicator]] = defaultdict(list)
    for link in BenchmarkIndicatorLink.objects.filter(indicator__framework=framework).select_related("indicator"):
        mapping[link.benchmark_indicator].append(link.indicator)
    return mapping


def platform_import(
    *,
    framework: Framework,
    files: Sequence[tuple[str, IO[bytes]]],
    name: str = "",
    source: str = "",
    by: Any = None,
) -> PlatformImported:
    """Import the platform's seed files (several files or .zip archives of them) into the framework's library
    named `name` (DEFAULT_NAME when empty), all or nothing; a library of that name has its actions replaced.
    Raises ImportRefused listing every problem; then nothing was saved."""
    name = " ".join((name or DEFAULT_NAME).split())
    source = " ".join((source or DEFAULT_SOURCE).split())
    parsed = platform_files_read(files)
    indicators, actions, passed_over = _check_files(parsed)
    mapping = _mapping(framework)
    mapped = [indicator for indicator in indicators if mapping.get(indicator)]
    if not mapped:
        raise ImportRefused(
            [
                gettext(
                    "The benchmark indicators of these files (%(numbers)s) match no mapping for %(framework)s: their "
                    "numbering matches no mapping. Map them in the admin (Benchmark indicator mappings) first."
                )
                % {
                    "numbers": ", ".join(indicators[:6]) + (", …" if len(indicators) > 6 else ""),
                    "framework": framework.code,
                }
            ]
        )
    rows: list[_Action] = []
    left_out: Counter[str] = Counter()
    levelled = 0
    by_disease: Counter[str] = Counter()
    for action in actions:
        targets = mapping.get(action.benchmark_indicator)
        if not targets:
            left_out[action.benchmark_indicator] += 1
            continue
        if action.level is None:
            by_disease[action.hazard] += 1
        else:
            levelled += 1
        rows.extend(
            _Action(
                indicator=indicator,
                level=action.level,
                text=action.text,
                action_types=action.action_types,
                hazard=action.hazard,
                platform_id=action.platform_id,
                benchmark_indicator=action.benchmark_indicator,
            )
            for indicator in targets
        )
    guidance_files = sorted(name for name in passed_over if name.startswith(GUIDANCE_FILE_PREFIX))
    # The platform's own name first; an older export beside it is passed over rather than read twice.
    guidance_file = next(
        (name for name in guidance_files if name == GUIDANCE_FILE), guidance_files[0] if guidance_files else ""
    )
    passed_over = [name for name in passed_over if name != guidance_file]
    with transaction.atomic():
        library = _library_save(framework=framework, name=name, source=source, actions=rows)
        # The platform's reference library (its documents cite actions by their platform numbers) goes in with the
        # actions, in this transaction: a refusal of it undoes the whole import.
        guidance = (
            platform_guidance_import(library=library, documents=parsed.json(guidance_file), filename=guidance_file)
            if guidance_file
            else None
        )
        result = PlatformImported(
            library=library,
            levelled=levelled,
            by_disease={tag: by_disease[tag] for tag, _name in DISEASE_FILES if by_disease[tag]},
            rows=len(rows),
            indicators_mapped=len(mapped),
            unmapped=[(indicator, left_out[indicator]) for indicator in indicators if indicator in left_out],
            passed_over=passed_over,
            guidance=guidance,
        )
        audit_record(
            plan=None,
            by=by,
            action="imported benchmark platform files into",
            target=library,
            changes={
                "framework": framework.code,
                "levelled_actions": levelled,
                "disease_actions": result.by_disease,
                "rows": len(rows),
                "indicators_mapped": len(mapped),
                "unmapped": dict(result.unmapped),
                "passed_over": passed_over,
                "reference_documents": guidance.documents if guidance else None,
            },
        )
    return result
