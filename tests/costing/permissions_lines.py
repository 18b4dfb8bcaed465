"""The cost line routes in the permission walk (tests/test_permissions.py): every member reads an activity's
costs; the secretariat, the technical lead of the activity's area (the walk gives them P1, the area of the
activities it makes) and the focal point of its responsible organization (the walk's activities are the
Ministry of Agriculture's, theirs) write its lines and use the builders; reviewers and viewers get 403,
non-members 404, and a line or activity of another plan is 404 even paired with one's own plan."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from costing.models import CostLine
from costing.services import cost_line_create
from naphs.permissions import Role


def _statuses() -> tuple:
    # Read from the walk's module while it imports this one (it is already in sys.modules by then).
    from tests import test_permissions as tp

    return tp.S200, tp.S201, tp.S204, tp.S302, tp.LOGIN


S200, S201, S204, S302, LOGIN = _statuses()
READ = "GET HEAD OPTIONS"

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "activity_costs": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),
        "POST":                         (S302, S302, S302, S302, 403,  403,  404,  LOGIN),   # add a line
    },
    "cost_line_edit": {
        "GET HEAD":                     (200,  200,  200,  200,  403,  403,  404,  LOGIN),   # the editor
        "POST":                         (S302, S302, S302, S302, 403,  403,  404,  LOGIN),
    },
    "cost_line_delete": {"POST":        (S302, S302, S302, S302, 403,  403,  404,  LOGIN)},
    "cost_builder": {
        "GET HEAD":                     (200,  200,  200,  200,  403,  403,  404,  LOGIN),
        "POST":                         (S302, S302, S302, S302, 403,  403,  404,  LOGIN),   # add the lines
    },
    "cost-line-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, S201, S201, 403,  403,  404,  401),
    },
    "cost-line-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, S200, S200, 403,  403,  404,  401),
        "DELETE":                       (S204, S204, S204, S204, 403,  403,  404,  401),
    },
    "api-cost-builder": {
        "POST":                         (S201, S201, S201, S201, 403,  403,  404,  401),
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
    },
}
# fmt: on


def _line(scene, route_name: str, persona: str, foreign: str, objects: dict) -> CostLine:
    """A line of the activity named in the URL, or of a fresh activity of the persona's plan (or, when foreign,
    of the other country's plan); the walk's activities are the focal point's organization's, in P1."""
    plan = scene.elsewhere_plan if foreign else scene.plan
    activity = objects.get("activity") or scene.fresh_activity(plan)
    lead = scene.elsewhere_lead if activity.plan_id == scene.elsewhere_plan.pk else scene.people[Role.SECRETARIAT_LEAD]
    return cost_line_create(
        activity=activity,
        by=lead,
        fields={
            "description": f"Venue {scene.number()}",
            "category": "meetings",
            "unit": "day",
            "unit_cost": Decimal("250"),
            "currency": "USD",
            "quantity": Decimal("2"),
        },
        frequencies={2026: 1},
    )


def _builder_kind(scene, route_name: str, persona: str, foreign: str, objects: dict) -> SimpleNamespace:
    return SimpleNamespace(pk="meeting")


def _form(s, o: dict) -> dict[str, Any]:
    line = o.get("cost_line")
    form = {
        "catalogue_item": "",
        "description": f"Projector hire {s.number()}",
        "category": "equipment",
        "unit": "day",
        "unit_cost": "40",
        "currency": "USD",
        "price_year": "2026",
        "quantity": "3",
        "frequencies_0": "1",
        "frequencies_1": "2",
        "recurrence": "recurring",
        "assumptions": "One projector a day.",
    }
    if line is not None:
        form["version"] = line.version
    return form


def _body(s, o: dict) -> dict[str, Any]:
    line = o.get("cost_line")
    body = {
        "description": f"Printing {s.number()}",
        "category": "communication",
        "unit": "copy",
        "unit_cost": "2.50",
        "currency": "USD",
        "quantity": "200",
        "recurrence": "one_off",
        "frequencies": {"2027": "1"},
    }
    if line is None:
        body["activity"] = s.fresh_activity(s.plan).pk
    else:
        body["version"] = line.version
    return body


MEETING = {
    "category": "training",
    "participants": 20,
    "travelling": 5,
    "days": 2,
    "per_diem": "40",
    "venue_per_day": "150",
    "meals_per_person_day": "12",
    "years": [2026],
}

PAYLOADS = {
    ("activity_costs", "POST"): lambda s, p, o: _form(s, o),
    ("cost_line_edit", "POST"): lambda s, p, o: _form(s, o),
    ("cost_line_delete", "POST"): lambda s, p, o: {"version": o["cost_line"].version},
    ("cost_builder", "POST"): lambda s, p, o: {
        **MEETING,
        "times_per_year": "1",
        "currency": "USD",
        "price_year": "2026",
        "action": "create",
    },
    ("cost-line-list", "POST"): lambda s, p, o: _body(s, o),
    ("cost-line-detail", "PUT"): lambda s, p, o: _body(s, o),
    ("cost-line-detail", "PATCH"): lambda s, p, o: {"quantity": "5", "version": o["cost_line"].version},
    ("api-cost-builder", "POST"): lambda s, p, o: {**MEETING, "preview": False},
}

FILLERS = {"cost_line_id": _line, "builder_kind": _builder_kind}

P1_ROUTES = frozenset(TABLE)
