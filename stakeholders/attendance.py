"""The attendance sheet of an engagement event: exported to Excel for signing in, imported back once filled.

The sheet has the event's title and dates on top, then one row per participant: name, title, organization, sector,
e-mail, invited, one "Attended" column (yes or no) and a column for the signature; two hidden columns carry the
participant's number and version. Headings are in the reader's language, cells locale-free (ISO dates, yes/no
words read in any of the product's languages).

An import is all or nothing. Rows are people: a row of the sheet names its participant by the hidden number; a row
added by hand (someone who signed in without being on the list) is matched to the plan's register by e-mail when
given, else by name and organization, ignoring case and extra spaces. A name not in the register is refused, naming
its row, with the unknown names listed so they can be added to the register first; a person of another plan can
never match (only this plan's register is searched). A participant whose row changed and who was changed since the
download is a conflict. The same file twice changes nothing. A file that is not a workbook, or a hostile one, is
refused as every import is (naphs.spreadsheets).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from naphs.choices import Sector
from naphs.models import AuditEvent
from naphs.services import rows_update
from naphs.spreadsheets import (
    ImportRefused,
    Problem,
    Sheet,
    cell_text,
    find_header,
    heading_text,
    in_every_language,
    read_spreadsheet,
    yes_no,
    yes_no_label,
)
from naphs.xlsx import StreamingWorkbook
from stakeholders.events import participant_audit, participant_list_for_event, participants_add, register_for_plan
from stakeholders.models import EngagementEvent, Participant, Person

if TYPE_CHECKING:
    from stakeholders.models import User

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FILL = "1F4E79"
BLANK_ROWS = 15  # room to sign in for those not on the list

# Translators: the name of the attendance sheet's worksheet.
SHEET_TITLE = _("Attendance")
HEADINGS = {
    # Translators: heading of a hidden column of the attendance sheet holding the participant's number.
    "ref": _("Participant number"),
    # Translators: heading of a hidden column of the attendance sheet holding the participant's version.
    "version": _("Version"),
    "name": _("Name"),
    "title": pgettext_lazy("a person's position", "Title"),
    "organization": _("Organization"),
    "sector": _("Sector"),
    "email": _("E-mail"),
    "invited": _("Invited"),
    "attended": _("Attended"),
    "signature": _("Signature"),
}
KEYS = tuple(HEADINGS)
HIDDEN = ("ref", "version")
WIDTHS = {"ref": 8, "version": 6, "name": 28, "title": 22, "organization": 28, "sector": 18, "email": 28}


def heading_key(value: Any) -> str:
    headings = in_every_language("attendance.headings", lambda: [(title, key) for key, title in HEADINGS.items()])
    text = heading_text(value)
    return headings.get(text, text)


def attendance_file_name(event: EngagementEvent) -> str:
    return f"attendance-{event.pk}-{event.starts_on.isoformat()}.xlsx"


def attendance_sheet(*, event: EngagementEvent) -> bytes:
    """The event's attendance sheet: two queries whatever the number of participants."""
    participants = list(participant_list_for_event(event=event))
    book = StreamingWorkbook(title=gettext("Attendance: %(event)s") % {"event": event.title})
    s_title = book.style(bold=True)
    s_note = book.style(italic=True, color="595959")
    s_header = book.style(bold=True, color="FFFFFF", fill=HEADER_FILL, wrap=True)
    s_text = book.style(wrap=True)
    sheet = book.add_sheet(
        str(SHEET_TITLE),
        widths=[WIDTHS.get(key, 14) for key in KEYS],
        hidden_columns=[KEYS.index(key) + 1 for key in HIDDEN],
        freeze_rows=4,
    )
    first = KEYS.index("name")
    width = len(KEYS)

    def at_name(value: str) -> list[Any]:
        row: list[Any] = [None] * width
        row[first] = value
        return row

    sheet.append(at_name(event.title), s_title)
    sheet.append(
        at_name(
            gettext("From %(first)s to %(last)s")
            % {"first": event.starts_on.isoformat(), "last": event.ends_on.isoformat()}
        ),
        s_title,
    )
    sheet.append(
        at_name(
            gettext(
                "Mark each participant's attendance (yes or no) and sign. Anyone not on the list writes their name, "
                "organization and e-mail on an empty row: they must be in the plan's register."
            )
        ),
        s_note,
    )
    sheet.append([str(HEADINGS[key]) for key in KEYS], s_header)
    sectors = dict(Sector.choices)
    for participant in participants:
        person = participant.person
        organization = participant.organization or person.organization
        values = {
            "ref": participant.pk,
            "version": participant.version,
            "name": str(person),
            "title": person.title,
            "organization": str(organization or ""),
            "sector": str(sectors.get(participant.sector, "")),
            "email": person.email,
            "invited": yes_no_label(participant.invited),
            "attended": "" if participant.attended is None else yes_no_label(participant.attended),
            "signature": "",
        }
        sheet.append([values[key] for key in KEYS], s_text)
    for _blank in range(BLANK_ROWS):
        sheet.append([None] * width)
    return book.to_bytes()


# --- The import --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnknownName:
    """A name the sheet gives that is not in the register: to add there first."""

    row: int
    name: str
    organization: str
    email: str


class AttendanceRefused(ImportRefused):
    """The sheet was refused; `unknown` lists the names not in the register."""

    def __init__(self, problems: Sequence[Problem | str], unknown: Sequence[UnknownName] = ()) -> None:
        super().__init__(problems)
        self.unknown = list(unknown)


@dataclass
class AttendanceResult:
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    rows: int = 0
    changes: list[str] = field(default_factory=list)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass
class _Row:
    number: int
    person: Person
    participant: Participant | None
    version: int | None
    invited: bool | None
    attended: bool | None


def _sheet(sheets: list[Sheet]) -> Sheet:
    titles = in_every_language("attendance.sheet", lambda: [(SHEET_TITLE, True)])
    for sheet in sheets:
        if titles.get(heading_text(sheet.name)):
            return sheet
    return sheets[0]


def _match(register: list[Person], *, name: str, organization: str, email: str) -> tuple[Person | None, str]:
    """The register's person a hand-written row names, or None and why not ("unknown" or "ambiguous")."""
    if email:
        found = [person for person in register if person.email and person.email.casefold() == email.casefold()]
        return (found[0], "") if found else (None, "unknown")
    named = [person for person in register if _fold(person.name) == _fold(name)]
    if organization:
        wanted = _fold(organization)
        named = [
            person
            for person in named
            if person.organization is not None
            and wanted in (_fold(person.organization.name), _fold(person.organization.acronym or ""))
        ]
    if len(named) == 1:
        return named[0], ""
    return None, "ambiguous" if named else "unknown"


def attendance_import(*, event: EngagementEvent, by: User, file: IO[bytes], name: str) -> AttendanceResult:
    """Apply a filled attendance sheet, all or nothing (AttendanceRefused listing every problem by row)."""
    try:
        sheets = read_spreadsheet(file, name=name)
    except ImportRefused as refused:
        raise AttendanceRefused(refused.problems) from None
    if not sheets:
        raise AttendanceRefused([gettext("The workbook has no sheet.")])
    sheet = _sheet(sheets)
    header = find_header(sheet, required=("name",), key=heading_key)
    if header is None or "name" not in header[1]:
        raise AttendanceRefused(
            [
                sheet.problem(
                    gettext("No “%(heading)s” column: upload the attendance sheet of this event.")
                    % {"heading": HEADINGS["name"]}
                )
            ]
        )
    header_index, columns = header
    participants = {participant.pk: participant for participant in participant_list_for_event(event=event)}
    by_person = {participant.person_id: participant for participant in participants.values()}
    register = list(register_for_plan(plan=event.plan))
    problems: list[Problem] = []
    unknown: list[UnknownName] = []
    rows: list[_Row] = []
    seen: dict[int, int] = {}

    def cell(values: list[Any], key: str) -> Any:
        position = columns.get(key)
        return values[position] if position is not None and position < len(values) else None

    for index in range(header_index + 1, len(sheet.rows)):
        values = sheet.rows[index]
        number = index + 1
        texts = {key: cell_text(cell(values, key)) for key in ("ref", "version", "name", "organization", "email")}
        if not any(texts.values()) and not cell_text(cell(values, "attended")):
            continue
        answers: dict[str, bool | None] = {}
        for key in ("invited", "attended"):
            try:
                answers[key] = yes_no(cell(values, key))
            except ValueError:
                problems.append(
                    sheet.problem(
                        gettext("“%(value)s” is not a yes or a no.") % {"value": cell_text(cell(values, key))},
                        row=number,
                        column=columns[key] + 1,
                    )
                )
                answers[key] = None
        participant: Participant | None = None
        version: int | None = None
        if texts["ref"]:
            ref = texts["ref"]
            participant = participants.get(int(ref)) if ref.isascii() and ref.isdigit() else None
            if participant is None:
                problems.append(
                    sheet.problem(
                        gettext(
                            "Participant number %(ref)s is not a participant of this event: is this the sheet of "
                            "another event?"
                        )
                        % {"ref": ref},
                        row=number,
                        column=columns["ref"] + 1,
                    )
                )
                continue
            person = participant.person
            raw_version = texts["version"]
            version = int(raw_version) if raw_version.isascii() and raw_version.isdigit() else None
        else:
            if not texts["name"] and not texts["email"]:
                problems.append(sheet.problem(gettext("Give the person's name or e-mail address."), row=number))
                continue
            found, why = _match(register, name=texts["name"], organization=texts["organization"], email=texts["email"])
            if found is None:
                label = texts["name"] or texts["email"]
                if why == "ambiguous":
                    message = gettext(
                        "Several people of the register are named “%(name)s”: give the organization or the "
                        "e-mail address."
                    ) % {"name": label}
                else:
                    message = gettext(
                        "“%(name)s” is not in the plan's register: add the person to the register first, then import "
                        "the sheet again."
                    ) % {"name": label}
                    unknown.append(UnknownName(number, texts["name"], texts["organization"], texts["email"]))
                problems.append(sheet.problem(message, row=number, column=columns["name"] + 1))
                continue
            person = found
            participant = by_person.get(person.pk)
        if person.pk in seen:
            problems.append(
                sheet.problem(
                    gettext("%(person)s is on row %(first)s already.") % {"person": person, "first": seen[person.pk]},
                    row=number,
                )
            )
            continue
        seen[person.pk] = number
        rows.append(_Row(number, person, participant, version, answers["invited"], answers["attended"]))

    result = AttendanceResult(rows=len(rows))
    plans: list[tuple[_Row, dict[str, Any]]] = []
    for row in rows:
        if row.participant is None:
            continue
        wanted = {}
        if row.invited is not None and row.invited != row.participant.invited:
            wanted["invited"] = row.invited
        if row.attended is not None and row.attended != row.participant.attended:
            wanted["attended"] = row.attended
        if not wanted:
            result.unchanged += 1
            continue
        if row.version is not None and row.version != row.participant.version:
            problems.append(
                sheet.problem(
                    gettext(
                        "The participation of %(person)s was changed by someone else after this sheet was "
                        "downloaded: download the sheet again and copy the marks onto it."
                    )
                    % {"person": row.person},
                    row=row.number,
                )
            )
            continue
        plans.append((row, wanted))
    if problems:
        raise AttendanceRefused(problems, unknown)
    with transaction.atomic():
        result.changed = _marks_apply(event, by, plans, sheet)
        # New rows, one addition per kind of mark (at most four), each all or nothing with the rest.
        added: dict[tuple[bool, bool], list[Person]] = {}
        for row in rows:
            if row.participant is None:
                marks = (bool(row.invited), True if row.attended is None else row.attended)
                added.setdefault(marks, []).append(row.person)
        for (invited, attended), people in added.items():
            participants_add(event=event, by=by, people=people, invited=invited, attended=attended)
            result.added += len(people)
    return result


def _marks_apply(event: EngagementEvent, by: User, plans: list[tuple[_Row, dict[str, Any]]], sheet: Sheet) -> int:
    """Save the marks that changed, in a few queries whatever the sheet's length: the participants held, each
    refused as a conflict when someone saved it since it was read, then one update and one insert of their audit
    entries (the person by register number, as participant_update records them)."""
    if not plans:
        return 0
    held = {
        participant.pk: participant
        for participant in Participant.objects.select_for_update().filter(
            pk__in=[row.participant.pk for row, _ in plans if row.participant is not None]
        )
    }
    problems = []
    changed: list[Participant] = []
    entries: list[AuditEvent] = []
    for row, wanted in plans:
        participant = row.participant
        assert participant is not None
        stored = held.get(participant.pk)
        if stored is None or stored.version != participant.version:
            problems.append(
                sheet.problem(
                    gettext(
                        "The participation of %(person)s was changed by someone else after this sheet was "
                        "downloaded: download the sheet again and copy the marks onto it."
                    )
                    % {"person": row.person},
                    row=row.number,
                )
            )
            continue
        changes = {name: [getattr(participant, name), value] for name, value in wanted.items()}
        for name, value in wanted.items():
            setattr(participant, name, value)
        participant.version += 1
        changed.append(participant)
        entries.append(
            AuditEvent(
                plan_id=event.plan_id,
                actor=by,
                action="edited",
                target_type=Participant._meta.model_name or "",
                target_id=participant.pk,
                target_repr=str(participant)[:250],
                changes=participant_audit(participant, **changes),
            )
        )
    if problems:
        raise AttendanceRefused(problems, [])
    rows_update(Participant, changed, ("invited", "attended", "version"))
    AuditEvent.objects.bulk_create(entries, batch_size=2000)
    return len(changed)
