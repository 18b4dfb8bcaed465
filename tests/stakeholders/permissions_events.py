"""The engagement events' routes in the permission walk (tests/test_permissions.py): every member reads events,
their participants, decisions, documents, attendance sheet and the participation summary; the secretariat writes
(Permission.ENGAGE); other members get 403, non-members 404, and an event of another plan is 404 even paired with
one's own plan."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from stakeholders.models import EngagementEvent, EventDecision, EventDocument, Participant, Person


def _statuses() -> tuple:
    from tests import test_permissions as tp

    return tp.S200, tp.S201, tp.S204, tp.S302, tp.LOGIN


S200, S201, S204, S302, LOGIN = _statuses()
READ = "GET HEAD OPTIONS"
WRITE_PAGE: dict[str, tuple[int, ...]] = {
    "GET HEAD": (200, 200, 403, 403, 403, 403, 404, LOGIN),
    "POST": (S302, S302, 403, 403, 403, 403, 404, LOGIN),
}
POST_ONLY: dict[str, tuple[int, ...]] = {"POST": (S302, S302, 403, 403, 403, 403, 404, LOGIN)}
READ_PAGE: dict[str, tuple[int, ...]] = {"GET HEAD": (200, 200, 200, 200, 200, 200, 404, LOGIN)}

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    "engagement_events": READ_PAGE,
    "engagement_event_detail": READ_PAGE,
    "participation_summary": READ_PAGE,
    "engagement_document_download": READ_PAGE,
    "engagement_attendance_sheet": READ_PAGE,
    **{name: WRITE_PAGE for name in (
        "engagement_event_new", "engagement_event_edit", "engagement_event_delete", "engagement_participants_add",
        "engagement_decision_new", "engagement_decision_edit", "engagement_attendance_import", "event_cost",
    )},
    **{name: POST_ONLY for name in (
        "engagement_participant_edit", "engagement_participant_remove", "engagement_decision_delete",
        "engagement_document_add", "engagement_document_delete",
    )},
    "engagement-event-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
    },
    "engagement-event-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, 403,  403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, 403,  403,  403,  403,  404,  401),
    },
    "engagement-event-attendance-sheet": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        # The walk speaks JSON to the API and sends no file: refused, nothing kept (the import is tested in
        # tests/stakeholders/test_attendance.py).
        "POST":                         (400,  400,  403,  403,  403,  403,  404,  401),
    },
    "engagement-participant-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
    },
    "engagement-participant-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, 403,  403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, 403,  403,  403,  403,  404,  401),
    },
    "engagement-decision-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
    },
    "engagement-decision-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, 403,  403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, 403,  403,  403,  403,  404,  401),
    },
}
# fmt: on


def _plan(scene, foreign: str):
    return scene.elsewhere_plan if foreign else scene.plan


def _event(scene, route_name: str, persona: str, foreign: str, objects: dict) -> EngagementEvent:
    return EngagementEvent.objects.create(
        plan=_plan(scene, foreign),
        kind="consultation",
        title=f"Consultation {scene.number()}",
        starts_on=datetime.date(2026, 3, 2),
        ends_on=datetime.date(2026, 3, 4),
        place="Northtown",
    )


def _person(scene, event: EngagementEvent) -> Person:
    number = scene.number()
    return Person.objects.create(plan_id=event.plan_id, name=f"Person {number}", email=f"p{number}@example.org")


def _participant(scene, route_name: str, persona: str, foreign: str, objects: dict) -> Participant:
    event = objects["engagement_event"]
    return Participant.objects.create(event=event, person=_person(scene, event))


def _decision(scene, route_name: str, persona: str, foreign: str, objects: dict) -> EventDecision:
    return EventDecision.objects.create(event=objects["engagement_event"], text="Decided")


def _document(scene, route_name: str, persona: str, foreign: str, objects: dict) -> EventDocument:
    document = EventDocument(
        event=objects["engagement_event"], file_name="report.txt", content_type="text/plain", size=5
    )
    document.file.save("report.txt", SimpleUploadedFile("report.txt", b"hello"), save=False)
    document.save()
    return document


def _event_form(s, o: dict) -> dict[str, Any]:
    event = o.get("engagement_event")
    return {
        "kind": "workshop",
        "title": f"Workshop {s.number()}",
        "starts_on": "2026-04-01",
        "ends_on": "2026-04-02",
        "place": "Capital",
        "agenda": "",
        "outcomes": "",
        "cost": "",
        "version": event.version if event else "",
    }


def _event_body(s, o: dict) -> dict[str, Any]:
    body = _event_form(s, o)
    body["cost"] = None
    if o.get("engagement_event") is None:
        body.pop("version")
    return body


def _sheet(s, o: dict) -> dict[str, Any]:
    """The event's sheet with one participant marked present: an import that changes something."""
    import io

    from openpyxl import load_workbook

    from stakeholders.attendance import attendance_sheet

    event = o["engagement_event"]
    Participant.objects.create(event=event, person=_person(s, event))
    book = load_workbook(io.BytesIO(attendance_sheet(event=event)))
    sheet = book.worksheets[0]
    attended = [cell.value for cell in sheet[4]].index("Attended") + 1
    sheet.cell(row=5, column=attended, value="yes")
    out = io.BytesIO()
    book.save(out)
    return {"file": SimpleUploadedFile("attendance.xlsx", out.getvalue())}


def _cost_form(s, o: dict) -> dict[str, Any]:
    from costing.services import plan_costing_get

    costing = plan_costing_get(o["engagement_event"].plan)
    return {
        "name": "Consultation",
        "category": "meetings",
        "participants": "5",
        "travelling": "0",
        "days": "3",
        "venue_per_day": "100",
        "years": ["2026"],
        "times_per_year": "1",
        "currency": costing.currency,
        "price_year": str(costing.price_year),
        "version": o["engagement_event"].version,
        "action": "save",
    }


def _new_person(s, o: dict) -> int:
    return _person(s, o["engagement_event"]).pk


PAYLOADS = {
    ("engagement_event_new", "POST"): lambda s, p, o: _event_form(s, o),
    ("engagement_event_edit", "POST"): lambda s, p, o: _event_form(s, o),
    ("engagement_event_delete", "POST"): lambda s, p, o: {"version": o["engagement_event"].version},
    ("engagement_participants_add", "POST"): lambda s, p, o: {"people": [_new_person(s, o)], "invited": "on"},
    ("engagement_participant_edit", "POST"): lambda s, p, o: {
        "invited": "on",
        "attended": "yes",
        "version": o["participant"].version,
    },
    ("engagement_participant_remove", "POST"): lambda s, p, o: {"version": o["participant"].version},
    ("engagement_decision_new", "POST"): lambda s, p, o: {"text": "Decided"},
    ("engagement_decision_edit", "POST"): lambda s, p, o: {"text": "Changed", "version": o["event_decision"].version},
    ("engagement_decision_delete", "POST"): lambda s, p, o: {"version": o["event_decision"].version},
    ("engagement_document_add", "POST"): lambda s, p, o: {
        "title": "Notes",
        "file": SimpleUploadedFile("notes.txt", b"Notes of the day"),
    },
    ("engagement_document_delete", "POST"): lambda s, p, o: {},
    ("engagement_attendance_import", "POST"): lambda s, p, o: _sheet(s, o),
    ("event_cost", "POST"): lambda s, p, o: _cost_form(s, o),
    ("engagement-event-list", "POST"): lambda s, p, o: _event_body(s, o),
    ("engagement-event-detail", "PUT"): lambda s, p, o: _event_body(s, o),
    ("engagement-event-detail", "PATCH"): lambda s, p, o: {
        "title": "Renamed",
        "version": o["engagement_event"].version,
    },
    ("engagement-participant-list", "POST"): lambda s, p, o: {"person": _new_person(s, o)},
    ("engagement-participant-detail", "PUT"): lambda s, p, o: {
        "invited": True,
        "attended": True,
        "version": o["participant"].version,
    },
    ("engagement-participant-detail", "PATCH"): lambda s, p, o: {
        "attended": False,
        "version": o["participant"].version,
    },
    ("engagement-decision-list", "POST"): lambda s, p, o: {"text": "Decided"},
    ("engagement-decision-detail", "PUT"): lambda s, p, o: {"text": "Changed", "version": o["event_decision"].version},
    ("engagement-decision-detail", "PATCH"): lambda s, p, o: {"text": "Again", "version": o["event_decision"].version},
}

FILLERS = {
    "engagement_event_id": _event,
    "participant_id": _participant,
    "event_decision_id": _decision,
    "document_id": _document,
}

P1_ROUTES: frozenset[str] = frozenset()

# Writes whose only references are what their URL names (tests/test_permissions.py NO_REFERENCES): a participant's
# person is set when added, never changed.
NO_REFERENCES: frozenset[str] = frozenset(
    {
        "engagement_event_delete",
        "engagement_participant_edit",
        "engagement_participant_remove",
        "engagement_decision_delete",
        "engagement_document_add",
        "engagement_document_delete",
        "engagement_attendance_import",
        "engagement-participant-detail",
        "engagement-event-attendance-sheet",
    }
)


def ELSEWHERE(scene, sibling) -> dict[type, list[tuple[str, Any]]]:
    """Comment threads the probe points a decision's references at: of another plan the lead runs, and of another
    country's plan."""
    from planning.models import CommentThread

    return {
        CommentThread: [
            ("a thread of another plan they run", scene.fresh_thread(sibling)),
            ("another country's thread", scene.fresh_thread(scene.elsewhere_plan)),
        ]
    }


# Engagement events, their participants, decisions and documents (and an event's cost, kept on the event) go on once
# the plan is endorsed: engagement is not the plan's content.
GOES_ON = frozenset(
    {
        "engagement-decision-detail",
        "engagement-decision-list",
        "engagement-event-attendance-sheet",
        "engagement-event-detail",
        "engagement-event-list",
        "engagement-participant-detail",
        "engagement-participant-list",
        "engagement_attendance_import",
        "engagement_decision_delete",
        "engagement_decision_edit",
        "engagement_decision_new",
        "engagement_document_add",
        "engagement_document_delete",
        "engagement_event_delete",
        "engagement_event_edit",
        "engagement_event_new",
        "engagement_participant_edit",
        "engagement_participant_remove",
        "engagement_participants_add",
        "event_cost",
    }
)
