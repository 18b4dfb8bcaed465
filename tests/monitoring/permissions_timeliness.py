"""The 7-1-7 routes in the permission walk (tests/test_permissions.py): every member reads the plan's health events;
the secretariat and every technical lead record events and bottlenecks (an event crosses technical areas); focal
points, reviewers and viewers get 403, non-members 404, and an event of another plan is 404 even paired with one's
own plan. Making a remedial action an activity is adding an activity: the secretariat, or a technical lead in their
own area (P1 here)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from monitoring.models import Bottleneck, HealthEvent
from planning.models import TechnicalArea


def _statuses() -> tuple:
    # Read from the walk's module while it imports this one (it is already in sys.modules by then).
    from tests import test_permissions as tp

    return tp.S200, tp.S201, tp.S204, tp.S302, tp.LOGIN


S200, S201, S204, S302, LOGIN = _statuses()
READ = "GET HEAD OPTIONS"

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "health_events": {"GET HEAD":       (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "health_event_detail": {"GET HEAD": (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    **{
        name: {
            "GET HEAD":                 (200,  200,  200,  403,  403,  403,  404,  LOGIN),
            "POST":                     (S302, S302, S302, 403,  403,  403,  404,  LOGIN),
        }
        for name in (
            "health_event_new", "health_event_edit", "health_event_delete",
            "bottleneck_new", "bottleneck_edit", "bottleneck_delete",
            "bottleneck_activity",  # the technical lead in their own area
        )
    },
    "health-event-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, S201, 403,  403,  403,  404,  401),
    },
    "health-event-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, S200, 403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, S204, 403,  403,  403,  404,  401),
    },
    "bottleneck-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, S201, 403,  403,  403,  404,  401),
    },
    "bottleneck-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, S200, 403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, S204, 403,  403,  403,  404,  401),
    },
    "bottleneck-activity": {
        "POST":                         (S201, S201, S201, 403,  403,  403,  404,  401),
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
    },
}
# fmt: on


def _area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


def _day(days_ago: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days_ago)


def _event(scene, route_name: str, persona: str, foreign: str, objects: dict) -> HealthEvent:
    """An event of the persona's plan (or of the other country's plan), detected late, notified and responded to."""
    return HealthEvent.objects.create(
        plan=scene.elsewhere_plan if foreign else scene.plan,
        name=f"Cholera outbreak {scene.number()}",
        hazard="Cholera",
        emerged_on=_day(40),
        detected_on=_day(30),
        notified_on=_day(29),
        responded_on=_day(25),
    )


def _bottleneck(scene, route_name: str, persona: str, foreign: str, objects: dict) -> Bottleneck:
    """A bottleneck of the event the URL names, with a remedial action not yet an activity."""
    return Bottleneck.objects.create(
        event=objects["event"],
        stage="detection",
        description="District laboratories could not confirm the first cases.",
        remedial_action="Equip district laboratories for cholera culture",
        technical_area=_area("P1"),
    )


def _event_form(s, o: dict) -> dict[str, Any]:
    event = o.get("event")
    return {
        "name": f"Measles in the north {s.number()}",
        "hazard": "Measles",
        "place": "North district",
        "emerged_on": _day(20).isoformat(),
        "detected_on": _day(14).isoformat(),
        "notified_on": _day(13).isoformat(),
        "responded_on": "",
        "notes": "",
        "version": event.version if event else "",
    }


def _event_body(s, o: dict) -> dict[str, Any]:
    body = _event_form(s, o)
    body["responded_on"] = None
    if o.get("event") is None:
        body.pop("version")
    return body


def _bottleneck_form(s, o: dict) -> dict[str, Any]:
    bottleneck = o.get("bottleneck")
    return {
        "stage": "notification",
        "description": "The clinic had no way to report at weekends.",
        "remedial_action": "Set up a weekend reporting line",
        "technical_area": _area("P1").pk,
        "version": bottleneck.version if bottleneck else "",
    }


def _bottleneck_body(s, o: dict) -> dict[str, Any]:
    body = _bottleneck_form(s, o)
    if o.get("bottleneck") is None:
        body.pop("version")
    return body


def _activity_form(s, o: dict) -> dict[str, Any]:
    return {
        "source": "seven_one_seven",
        "technical_area": _area("P1").pk,
        "responsible_organization": s.moh.pk,
        "title": f"Equip district laboratories {s.number()}",
        "description": "",
        "version": o["bottleneck"].version,
    }


PAYLOADS = {
    ("health_event_new", "POST"): lambda s, p, o: _event_form(s, o),
    ("health_event_edit", "POST"): lambda s, p, o: _event_form(s, o),
    ("health_event_delete", "POST"): lambda s, p, o: {"version": o["event"].version},
    ("bottleneck_new", "POST"): lambda s, p, o: _bottleneck_form(s, o),
    ("bottleneck_edit", "POST"): lambda s, p, o: _bottleneck_form(s, o),
    ("bottleneck_delete", "POST"): lambda s, p, o: {"version": o["bottleneck"].version},
    ("bottleneck_activity", "POST"): lambda s, p, o: _activity_form(s, o),
    ("health-event-list", "POST"): lambda s, p, o: _event_body(s, o),
    ("health-event-detail", "PUT"): lambda s, p, o: _event_body(s, o),
    ("health-event-detail", "PATCH"): lambda s, p, o: {"notes": "Reviewed", "version": o["event"].version},
    ("bottleneck-list", "POST"): lambda s, p, o: _bottleneck_body(s, o),
    ("bottleneck-detail", "PUT"): lambda s, p, o: _bottleneck_body(s, o),
    ("bottleneck-detail", "PATCH"): lambda s, p, o: {"stage": "response", "version": o["bottleneck"].version},
    ("bottleneck-activity", "POST"): lambda s, p, o: _activity_form(s, o),
}

FILLERS = {"event_id": _event, "bottleneck_id": _bottleneck}

# Making an activity needs the technical lead's own area: P1, the area of the payloads.
P1_ROUTES: frozenset[str] = frozenset({"bottleneck_activity", "bottleneck-activity"})
