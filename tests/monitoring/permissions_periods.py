"""The reporting period routes and the monitoring home in the permission walk (tests/test_permissions.py): every
member reads them; setting, opening, closing and reopening periods is the secretariat's (Permission.MANAGE), so
anyone else gets 403, non-members 404, and a period of another plan is 404 even paired with one's own plan."""

from __future__ import annotations

import datetime
from typing import Any

from monitoring.models import ReportingPeriod


def _statuses() -> tuple:
    # Read from the walk's module while it imports this one (it is already in sys.modules by then).
    from tests import test_permissions as tp

    return tp.S200, tp.S201, tp.S204, tp.S302, tp.LOGIN


S200, S201, S204, S302, LOGIN = _statuses()
READ = "GET HEAD OPTIONS"

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "monitoring": {"GET HEAD":           (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "reporting_periods": {"GET HEAD":    (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "reporting_periods_generate": {"POST": (S302, S302, 403, 403,  403,  403,  404,  LOGIN)},
    "reporting_period_new": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "reporting_period_edit": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "reporting_period_delete": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),   # the question
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "reporting_period_open": {"POST":   (S302, S302, 403,  403,  403,  403,  404,  LOGIN)},
    "reporting_period_close": {"POST":  (S302, S302, 403,  403,  403,  403,  404,  LOGIN)},
    "reporting_period_reopen": {"POST": (S302, S302, 403,  403,  403,  403,  404,  LOGIN)},
    "reporting-period-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
    },
    "reporting-period-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, 403,  403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, 403,  403,  403,  403,  404,  401),
    },
    "reporting-period-generate": {
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
    },
    "reporting-period-open": {
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S200, S200, 403,  403,  403,  403,  404,  401),
    },
    "reporting-period-close": {
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S200, S200, 403,  403,  403,  403,  404,  401),
    },
    "reporting-period-reopen": {
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S200, S200, 403,  403,  403,  403,  404,  401),
    },
}
# fmt: on

# The state a period must be in for the route to move it on.
STATE_FOR = {
    "reporting_period_close": ReportingPeriod.State.OPEN,
    "reporting-period-close": ReportingPeriod.State.OPEN,
    "reporting_period_reopen": ReportingPeriod.State.CLOSED,
    "reporting-period-reopen": ReportingPeriod.State.CLOSED,
}


def _period(scene, route_name: str, persona: str, foreign: str, objects: dict) -> ReportingPeriod:
    """A quarter of the persona's plan, or of the other country's plan, starting on a day no other period of the
    walk starts on. For a route of this part, in the state the route moves on from (planned by default); for the
    other parts' routes (reporting progress, entering indicator values), open."""
    starts = datetime.date(2026, 1, 1) + datetime.timedelta(days=scene.number())
    if route_name in TABLE:
        state = STATE_FOR.get(route_name, ReportingPeriod.State.PLANNED)
    else:
        state = ReportingPeriod.State.OPEN
    return ReportingPeriod.objects.create(
        plan=scene.elsewhere_plan if foreign else scene.plan,
        label=f"Period {starts}",
        starts_on=starts,
        ends_on=starts + datetime.timedelta(days=89),
        due_on=starts + datetime.timedelta(days=100),
        state=state,
    )


def _form(o: dict) -> dict[str, Any]:
    period = o.get("period")
    return {
        "label": "Second quarter" if period is None else "First quarter",
        "starts_on": "2026-04-01" if period is None else "2026-01-01",
        "ends_on": "2026-06-30" if period is None else "2026-03-31",
        "due_on": "2026-07-30" if period is None else "2026-05-15",
        "version": period.version if period else "",
    }


def _body(o: dict) -> dict[str, Any]:
    body = _form(o)
    if not o.get("period"):
        body.pop("version")
    return body


def _version(o: dict) -> dict[str, Any]:
    return {"version": o["period"].version}


PAYLOADS = {
    ("reporting_periods_generate", "POST"): lambda s, p, o: {"span": "quarter", "due_days": "30"},
    ("reporting_period_new", "POST"): lambda s, p, o: _form(o),
    ("reporting_period_edit", "POST"): lambda s, p, o: _form(o),
    ("reporting_period_delete", "POST"): lambda s, p, o: _version(o),
    ("reporting_period_open", "POST"): lambda s, p, o: _version(o),
    ("reporting_period_close", "POST"): lambda s, p, o: _version(o),
    ("reporting_period_reopen", "POST"): lambda s, p, o: _version(o),
    ("reporting-period-list", "POST"): lambda s, p, o: _body(o),
    ("reporting-period-detail", "PUT"): lambda s, p, o: _body(o),
    ("reporting-period-detail", "PATCH"): lambda s, p, o: {"label": "Q1 of the first year", **_version(o)},
    ("reporting-period-generate", "POST"): lambda s, p, o: {"span": "half", "due_days": 20},
    ("reporting-period-open", "POST"): lambda s, p, o: _version(o),
    ("reporting-period-close", "POST"): lambda s, p, o: _version(o),
    ("reporting-period-reopen", "POST"): lambda s, p, o: _version(o),
}

FILLERS = {"period_id": _period}

# Nothing here depends on the technical lead's areas: periods are the secretariat's.
P1_ROUTES: frozenset[str] = frozenset()

# Writes whose only references are what their URL names (tests/test_permissions.py NO_REFERENCES).
NO_REFERENCES = frozenset(name for name in TABLE if name not in ("monitoring", "reporting_periods"))
# Writes that go on while the plan is endorsed (tests/test_freeze.py GOES_ON): monitoring an endorsed plan.
GOES_ON = NO_REFERENCES
