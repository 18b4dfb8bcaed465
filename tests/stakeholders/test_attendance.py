"""The attendance sheet: exported with the event's title and dates and one row per participant, imported back all
or nothing: marks applied, hand-written rows matched to the register (by e-mail, else by name and organization,
ignoring case and spaces), unknown names refused by row and listed, a person of another plan never matched, the
same file twice changing nothing, a participant changed since the download a conflict, and a file that is not a
workbook refused."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from planning.models import Plan
from stakeholders.attendance import AttendanceRefused, attendance_import, attendance_sheet
from stakeholders.events import participant_update, participants_add
from stakeholders.models import EngagementEvent, Participant, Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(plan) -> EngagementEvent:
    return EngagementEvent.objects.create(
        plan=plan,
        kind="consultation",
        title="Provincial consultation",
        starts_on=datetime.date(2026, 3, 2),
        ends_on=datetime.date(2026, 3, 4),
        place="Northtown",
    )


@pytest.fixture
def register(plan, moh, moa) -> dict[str, Person]:
    return {
        "amina": Person.objects.create(plan=plan, name="Amina Diallo", organization=moh, email="amina@example.org"),
        "bertrand": Person.objects.create(plan=plan, name="Bertrand Okafor", organization=moa, email=""),
        "chen": Person.objects.create(plan=plan, name="Chen Wei", organization=moh, email="chen@example.org"),
    }


def sheet_rows(content: bytes):
    book = load_workbook(io.BytesIO(content))
    return book, book.worksheets[0]


def filled(content: bytes, marks: dict[str, str], extra: list[list] = ()) -> bytes:
    """The sheet with "Attended" marked per name, and hand-written rows added below."""
    book, sheet = sheet_rows(content)
    headings = [cell.value for cell in sheet[4]]
    name_col, attended_col = headings.index("Name") + 1, headings.index("Attended") + 1
    row = 5
    while sheet.cell(row=row, column=name_col).value:
        name = sheet.cell(row=row, column=name_col).value
        if name in marks:
            sheet.cell(row=row, column=attended_col, value=marks[name])
        row += 1
    for values in extra:
        for key, value in zip(("Name", "Organization", "E-mail", "Attended"), values, strict=False):
            sheet.cell(row=row, column=headings.index(key) + 1, value=value)
        row += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(content: bytes) -> io.BytesIO:
    return io.BytesIO(content)


def test_the_sheet_has_the_event_on_top_and_a_row_per_participant(event, register, lead):
    participants_add(event=event, by=lead, people=[register["amina"], register["bertrand"]])
    _book, sheet = sheet_rows(attendance_sheet(event=event))
    values = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=1, max_row=6)]
    assert "Provincial consultation" in values[0]
    assert any("2026-03-02" in str(value) and "2026-03-04" in str(value) for value in values[1])
    assert [v for v in values[3] if v][:10] == [
        "Participant number", "Version", "Name", "Title", "Organization", "Sector", "E-mail", "Invited", "Attended",
        "Signature",
    ]  # fmt: skip
    assert "Amina Diallo" in values[4] and "amina@example.org" in values[4]


def test_marks_and_hand_written_rows_are_applied_and_the_same_file_twice_changes_nothing(event, register, lead):
    participants_add(event=event, by=lead, people=[register["amina"], register["bertrand"]])
    content = filled(
        attendance_sheet(event=event),
        {"Amina Diallo": "yes", "Bertrand Okafor": "no"},
        extra=[["  chen   WEI ", "ministry of health", "", "yes"]],
    )
    result = attendance_import(event=event, by=lead, file=upload(content), name="sheet.xlsx")
    assert (result.added, result.changed) == (1, 2)
    marks = {p.person.name: (p.invited, p.attended) for p in Participant.objects.select_related("person")}
    assert marks == {"Amina Diallo": (True, True), "Bertrand Okafor": (True, False), "Chen Wei": (False, True)}
    again = attendance_import(event=event, by=lead, file=upload(content), name="sheet.xlsx")
    assert (again.added, again.changed) == (0, 0)
    assert Participant.objects.count() == 3


def test_unknown_names_are_refused_by_row_and_nothing_is_saved(client, plan, event, register, lead):
    participants_add(event=event, by=lead, people=[register["amina"]])
    content = filled(
        attendance_sheet(event=event), {"Amina Diallo": "yes"}, extra=[["Zoe Unknown", "Red Cross", "", "yes"]]
    )
    with pytest.raises(AttendanceRefused) as refused:
        attendance_import(event=event, by=lead, file=upload(content), name="sheet.xlsx")
    assert [name.name for name in refused.value.unknown] == ["Zoe Unknown"]
    assert "row 6" in str(refused.value.problems[0]).lower()
    assert Participant.objects.get().attended is None
    client.force_login(lead)
    response = client.post(
        reverse("engagement_attendance_import", args=[plan.pk, event.pk]),
        {"file": SimpleUploadedFile("sheet.xlsx", content)},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Zoe Unknown" in page and reverse("person_new", args=[plan.pk]) in page


def test_a_person_of_another_plan_never_matches(event, register, lead, other_country, jee3):
    elsewhere = Plan.objects.create(
        framework=jee3, jurisdiction=other_country, title="Elsewhere", kind="strategic", first_year=2026, last_year=2030
    )
    Person.objects.create(plan=elsewhere, name="Outsider Person", email="outsider@example.org")
    content = filled(attendance_sheet(event=event), {}, extra=[["Outsider Person", "", "outsider@example.org", "yes"]])
    with pytest.raises(AttendanceRefused) as refused:
        attendance_import(event=event, by=lead, file=upload(content), name="sheet.xlsx")
    assert refused.value.unknown and not Participant.objects.exists()


def test_a_participant_changed_since_the_download_is_a_conflict(event, register, lead):
    (participant,) = participants_add(event=event, by=lead, people=[register["amina"]])
    content = filled(attendance_sheet(event=event), {"Amina Diallo": "yes"})
    participant_update(participant=participant, by=lead, version=1, fields={"attended": False})
    with pytest.raises(AttendanceRefused) as refused:
        attendance_import(event=event, by=lead, file=upload(content), name="sheet.xlsx")
    assert "after this sheet was downloaded" in str(refused.value.problems[0])
    participant.refresh_from_db()
    assert participant.attended is False


def test_a_file_that_is_not_a_workbook_is_refused(client, plan, event, lead):
    client.force_login(lead)
    response = client.post(
        reverse("engagement_attendance_import", args=[plan.pk, event.pk]),
        {"file": SimpleUploadedFile("sheet.xlsx", b"this is not a workbook")},
    )
    assert response.status_code == 422
    assert not Participant.objects.exists()


def test_the_api_exports_and_imports_the_sheet(api_client, plan, event, register, lead):
    participants_add(event=event, by=lead, people=[register["amina"]])
    api_client.force_authenticate(lead)
    url = f"/api/plans/{plan.pk}/engagement-events/{event.pk}/attendance-sheet/"
    response = api_client.get(url)
    assert response.status_code == 200
    content = filled(response.content, {"Amina Diallo": "yes"}, extra=[["Nobody Known", "", "", "yes"]])
    response = api_client.post(url, {"file": SimpleUploadedFile("sheet.xlsx", content)}, format="multipart")
    assert response.status_code == 400 and response.json()["unknown"][0]["name"] == "Nobody Known"
    content = filled(attendance_sheet(event=event), {"Amina Diallo": "yes"})
    response = api_client.post(url, {"file": SimpleUploadedFile("sheet.xlsx", content)}, format="multipart")
    assert response.status_code == 200 and response.json()["changed"] == 1
