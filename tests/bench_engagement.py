"""`make bench`, stakeholder engagement part: one plan, first small (20 stakeholders in its map, 50 people in its
register, an event of 10 participants), then large (300 stakeholders, 2,000 people, an event of 300 participants),
and the response time and query count of the stakeholder map (grid and coverage), the register, the event page and
the participation summary at each size, beside the plan's overview page measured in the same run; then the
attendance sheet of the 300 participants exported, marked attended by everyone and imported back, beside openpyxl
reading the same file. Figures, not assertions."""

from __future__ import annotations

import datetime
import io
import statistics
import time

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from naphs.choices import Hazard, Sector
from planning.models import TechnicalArea
from stakeholders.events import event_create, participants_add
from stakeholders.models import EngagementEvent, NaphsRole, Organization, Participant, Person, Stakeholder

ORGANIZATIONS = 300
STAKEHOLDERS = (20, 300)
PEOPLE = (50, 2_000)
PARTICIPANTS = (10, 300)
REPEAT = 5
KINDS = [kind for kind, _label in Organization.Kind.choices]
SECTORS = list(Sector.values)
HAZARDS = list(Hazard.values)
ROLES = list(NaphsRole.values)
RELATIONSHIPS = list(Stakeholder.Relationship.values)


def organizations_add(country) -> list[Organization]:
    return Organization.objects.bulk_create(
        Organization(
            name=f"Organization {n:03}",
            acronym=f"O{n:03}",
            kind=KINDS[n % len(KINDS)],
            sectors=[SECTORS[n % len(SECTORS)]],
            jurisdiction=country,
        )
        for n in range(ORGANIZATIONS)
    )


def stakeholders_add(plan, organizations, areas, owner, numbers: range) -> None:
    """Stakeholders spread over the grid's sixteen cells and the five relationships, two technical areas each."""
    stakeholders = Stakeholder.objects.bulk_create(
        Stakeholder(
            plan=plan,
            organization=organizations[n],
            roles=[ROLES[n % len(ROLES)]],
            sectors=sorted({SECTORS[n % len(SECTORS)], SECTORS[(n + 3) % len(SECTORS)]}),
            hazards=[HAZARDS[n % len(HAZARDS)]],
            influence=1 + n % 4,
            interest=1 + (n // 4) % 4,
            relationship=RELATIONSHIPS[n % len(RELATIONSHIPS)],
            relationship_owner=owner,
        )
        for n in numbers
    )
    Stakeholder.technical_areas.through.objects.bulk_create(
        Stakeholder.technical_areas.through(stakeholder_id=s.pk, technicalarea_id=areas[(n + k) % len(areas)].pk)
        for n, s in enumerate(stakeholders)
        for k in (0, 7)
    )


def people_add(plan, organizations, numbers: range) -> list[Person]:
    return Person.objects.bulk_create(
        Person(
            plan=plan,
            name=f"Person {n:04}",
            title=("Director", "Officer", "Adviser")[n % 3],
            organization=organizations[n % len(organizations)],
            email=f"person{n:04}@example.org",
            phone=f"+1 555 {n:04}",
            sector=SECTORS[n % len(SECTORS)],
            level="country",
        )
        for n in numbers
    )


def event_add(plan, lead, organizer, areas, people: list[Person], title: str) -> EngagementEvent:
    event = event_create(
        plan=plan,
        by=lead,
        fields={
            "kind": "consultation",
            "title": title,
            "starts_on": datetime.date(2026, 3, 2),
            "ends_on": datetime.date(2026, 3, 4),
            "place": "Capital city",
            "agenda": "Opening; priorities by technical area; validation.",
            "organizers": [organizer],
            "technical_areas": areas[:3],
        },
    )
    participants_add(event=event, by=lead, people=people)
    return event


def measure(call, statuses: list[int], repeat: int = REPEAT, before=None) -> tuple[float, int]:
    """Median time (ms) of `repeat` calls and the queries of the last one; `before` runs untimed before each. The
    query log is emptied before each capture: it keeps the last 9,000 queries only, and CaptureQueriesContext
    (which keeps the test client from emptying it) would count wrong once it is full (an import runs thousands)."""
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = call()
            times.append(time.perf_counter() - started)
        statuses.append(response.status_code)
    return statistics.median(times) * 1000, len(queries)


def openpyxl_read(content: bytes) -> float:
    """What reading the file alone costs: openpyxl, read-only, every value of every row (ms)."""
    started = time.perf_counter()
    for _row in openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0].iter_rows(values_only=True):
        pass
    return (time.perf_counter() - started) * 1000


def everyone_attended(content: bytes) -> tuple[bytes, int]:
    """The exported sheet with "yes" under Attended on every participant's row (those with a participant number)."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    headings = [cell.value for cell in sheet[4]]
    ref, attended = headings.index("Participant number") + 1, headings.index("Attended") + 1
    marked = 0
    for row in range(5, sheet.max_row + 1):
        if sheet.cell(row=row, column=ref).value:
            sheet.cell(row=row, column=attended, value="yes")
            marked += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), marked


@pytest.mark.django_db
def test_bench_engagement(client, capsys, plan, lead, country, moh):
    started = time.perf_counter()
    areas = list(TechnicalArea.objects.filter(framework=plan.framework).order_by("order", "code"))
    organizations = organizations_add(country)
    client.force_login(lead)
    statuses: list[int] = [client.get(reverse("plan_detail", args=[plan.pk])).status_code]  # untimed: templates load
    rows: dict[str, dict[str, tuple[str, float, int]]] = {}
    events: dict[str, EngagementEvent] = {}
    setup = 0.0

    for stage, (stakeholders, people, participants) in (
        ("small", (STAKEHOLDERS[0], PEOPLE[0], PARTICIPANTS[0])),
        ("large", (STAKEHOLDERS[1], PEOPLE[1], PARTICIPANTS[1])),
    ):
        built = time.perf_counter()
        have_stakeholders = Stakeholder.objects.filter(plan=plan).count()
        stakeholders_add(plan, organizations, areas, lead, range(have_stakeholders, stakeholders))
        have_people = Person.objects.filter(plan=plan).count()
        people_add(plan, organizations, range(have_people, people))
        register = list(Person.objects.filter(plan=plan).order_by("pk")[:participants])
        event = event_add(plan, lead, moh, areas, register, f"Consultation of {participants} participants")
        events[stage] = event
        setup += time.perf_counter() - built
        for name, (label, url) in {
            "plan overview (reference)": ("", reverse("plan_detail", args=[plan.pk])),
            "stakeholder map (grid + coverage)": (
                f"{stakeholders} stakeholders",
                reverse("stakeholder_map", args=[plan.pk]),
            ),
            "register of people": (f"{people:,} people", reverse("people", args=[plan.pk])),
            "event page": (
                f"{participants} participants",
                reverse("engagement_event_detail", args=[plan.pk, event.pk]),
            ),
            "participation summary": (
                f"{Participant.objects.filter(event__plan=plan).count()} participations",
                reverse("participation_summary", args=[plan.pk]),
            ),
        }.items():
            rows.setdefault(name, {})[stage] = (label, *measure(lambda url=url: client.get(url), statuses))

    # The attendance sheet of the 300 participants: out, marked, back in (each import from the same marks: the
    # participants are put back as downloaded, untimed, before each of the five).
    event = events["large"]
    sheet_url = reverse("engagement_attendance_sheet", args=[plan.pk, event.pk])
    import_url = reverse("engagement_attendance_import", args=[plan.pk, event.pk])
    exported, export_queries = measure(lambda: client.get(sheet_url), statuses)
    content = client.get(sheet_url).content
    filled, marked = everyone_attended(content)
    reading = statistics.median(openpyxl_read(filled) for _ in range(REPEAT))

    def as_downloaded() -> None:
        Participant.objects.filter(event=event).update(attended=None, version=1)

    imported, import_queries = measure(
        lambda: client.post(import_url, {"file": SimpleUploadedFile("attendance.xlsx", filled)}),
        statuses,
        before=as_downloaded,
    )
    attended = Participant.objects.filter(event=event, attended=True).count()

    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\n\nEngagement bench ({connection.vendor}), median of {REPEAT}; one plan (JEE 3, {len(areas)} areas), "
            f"{ORGANIZATIONS} organizations; data built in {setup:.1f} s, all in {elapsed:.0f} s"
        )
        overview = rows["plan overview (reference)"]
        print(f"{'':34} {'small':>35}   {'large':>35}   large ÷ small")
        for name, by_stage in rows.items():
            cells = []
            for stage in ("small", "large"):
                label, ms, queries = by_stage[stage]
                ratio = ms / overview[stage][1]
                cells.append(f"{label:>17} {ms:6.1f} ms {queries:3} q {ratio:4.1f}×")
            ratio = by_stage["large"][1] / by_stage["small"][1]
            print(f"{name:34} {cells[0]}   {cells[1]}   {ratio:5.2f}x time")
        print("  (× = time ÷ the plan overview measured at the same size)")
        print(f"Attendance sheet, {PARTICIPANTS[1]} participants ({len(content) / 1024:.0f} KiB out)")
        figures = [
            ("export (GET, .xlsx)", f"{exported:.1f} ms, {export_queries} queries"),
            (
                f"import of {marked} marks (POST, validated and applied)",
                f"{imported:.1f} ms, {import_queries} queries ({attended} of {PARTICIPANTS[1]} attended after)",
            ),
            ("openpyxl reading the same file (values only)", f"{reading:.1f} ms"),
            ("import ÷ openpyxl reading", f"{imported / reading:.2f}"),
            ("export ÷ openpyxl reading", f"{exported / reading:.2f}"),
        ]
        width = max(len(name) for name, _ in figures)
        for name, value in figures:
            print(f"  {name:<{width}}  {value}")

    # A loose sanity check: every page answered, every import was accepted (a redirect to the event). No times.
    assert set(statuses) <= {200, 302}, statuses
