"""The results framework's routes in the permission walk (tests/test_permissions.py): every member reads the plan's
M&E indicators, their values and the import's template; the secretariat writes every indicator and enters every
value, a technical lead those of their own areas (P1 here, the area of the walk's indicators); focal points,
reviewers and viewers get 403, non-members 404, and an indicator or period of another plan is 404 even paired with
one's own plan. Adding the plan's capacity indicators is the secretariat's alone. All of it goes on while the plan
is endorsed (DESIGN.md: monitoring goes on against an endorsed plan)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from monitoring.models import MEIndicator, MEIndicatorTarget
from planning.models import Activity, Indicator, IndicatorTarget, TechnicalArea


def _statuses() -> tuple:
    # Read from the walk's module while it imports this one (it is already in sys.modules by then).
    from tests import test_permissions as tp

    return tp.S200, tp.S201, tp.S204, tp.S302, tp.LOGIN


S200, S201, S204, S302, LOGIN = _statuses()
READ = "GET HEAD OPTIONS"

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "indicators": {"GET HEAD":           (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "indicator_detail": {"GET HEAD":     (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "indicator_actuals_template": {"GET HEAD": (200, 200, 200, 200, 200,  200,  404,  LOGIN)},
    **{
        name: {
            "GET HEAD":                 (200,  200,  200,  403,  403,  403,  404,  LOGIN),
            "POST":                     (S302, S302, S302, 403,  403,  403,  404,  LOGIN),
        }
        for name in (
            "indicator_new", "indicator_edit",
            "indicator_delete",  # GET: the question
            "indicator_actuals_import",  # POST: the file kept, a job queued
        )
    },
    # A period's grid: every member sees the values; the writers enter those of their indicators.
    "indicator_actuals": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),
        "POST":                         (S302, S302, S302, 403,  403,  403,  404,  LOGIN),
    },
    # The plan's capacity indicators, from its framework's targets: the secretariat's (Permission.MANAGE).
    "indicator_capacity_add": {"POST":  (S302, S302, 403,  403,  403,  403,  404,  LOGIN)},
    "me-indicator-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, S201, 403,  403,  403,  404,  401),
    },
    "me-indicator-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, S200, 403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, S204, 403,  403,  403,  404,  401),
    },
    "me-indicator-actuals": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S200, S200, S200, 403,  403,  403,  404,  401),
    },
    "me-indicator-import": {
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
        # The walk speaks JSON to the API and sends no file: refused, nothing kept (tests/monitoring/
        # test_indicators.py uploads one).
        "POST":                         (400,  400,  400,  403,  403,  403,  404,  401),
    },
}
# fmt: on


def _area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


def _indicator(scene, route_name: str, persona: str, foreign: str, objects: dict) -> MEIndicator:
    """An output indicator of area P1 (the technical lead's in the walk) of the persona's plan, or of the other
    country's plan, with a target for 2026."""
    indicator = MEIndicator.objects.create(
        plan=scene.elsewhere_plan if foreign else scene.plan,
        code=f"OUT{scene.number()}",
        name="Districts with a trained rapid response team",
        kind=MEIndicator.Kind.OUTPUT,
        technical_area=_area("P1"),
        unit="%",
        frequency=MEIndicator.Frequency.QUARTERLY,
        baseline_value=Decimal("10"),
        baseline_year=2025,
    )
    MEIndicatorTarget.objects.create(indicator=indicator, year=2026, value=Decimal("30"))
    return indicator


def _open_period(s, p: str, o: dict):
    """An open period of the persona's plan: tests/monitoring/permissions_periods.py's, as for a URL's period_id."""
    from tests.monitoring.permissions_periods import FILLERS as PERIOD_FILLERS

    return PERIOD_FILLERS["period_id"](s, "me-indicator-actuals", p, "", o)


def _version(instance) -> int:
    return type(instance).objects.get(pk=instance.pk).version


def _form(s, o: dict) -> dict[str, Any]:
    """The indicator form, all fields valid: area P1, an activity of the plan, a target for two years."""
    indicator = o.get("indicator")
    return {
        "code": f"OUT{s.number()}",
        "name": f"Districts reporting within 24 hours {s.number()}",
        "kind": "outcome",
        "technical_area": _area("P1").pk,
        "activities": [s.fresh_activity(s.plan).pk],
        "definition": "Share of districts reporting a signal within a day.",
        "unit": "%",
        "data_source": "Surveillance reports",
        "frequency": "quarterly",
        "means_of_verification": "District registers",
        "baseline_value": "20",
        "baseline_year": "2025",
        "target_2026": "40",
        "target_2030": "90",
        "version": _version(indicator) if indicator else "",
    }


def _body(s, o: dict) -> dict[str, Any]:
    indicator = o.get("indicator")
    body: dict[str, Any] = {
        "code": f"OUT{s.number()}",
        "name": f"Districts reporting within 24 hours {s.number()}",
        "kind": "outcome",
        "technical_area": _area("P1").pk,
        "activities": [s.fresh_activity(s.plan).pk],
        "unit": "%",
        "frequency": "quarterly",
        "baseline_value": "20",
        "baseline_year": 2025,
        "targets": {"2026": "40", "2030": "90"},
    }
    if indicator is not None:
        body["version"] = _version(indicator)
    return body


def _grid(s, p: str, o: dict) -> dict[str, Any]:
    """A value for the one indicator of the plan (made here, in the lead's area P1) in the URL's period."""
    indicator = _indicator(s, "indicator_actuals", p, "", o)
    pk = indicator.pk
    return {f"value_{pk}": "25", f"note_{pk}": "From the district registers", f"version_{pk}": "0"}


def _capacity(s, p: str, o: dict) -> dict[str, Any]:
    """The plan aims for level 4 on P1.1: the button adds its capacity indicator."""
    IndicatorTarget.objects.get_or_create(
        plan=s.plan, indicator=Indicator.objects.get(framework__code="JEE3", code="P1.1"), defaults={"level": 4}
    )
    return {}


def _file() -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "values.csv",
        b"Indicator code,Period (name or first day),Value,Note\nOUT1,2026-01-01,25,\n",
        content_type="text/csv",
    )


PAYLOADS = {
    ("indicator_new", "POST"): lambda s, p, o: _form(s, o),
    ("indicator_edit", "POST"): lambda s, p, o: _form(s, o),
    ("indicator_delete", "POST"): lambda s, p, o: {"version": _version(o["indicator"])},
    ("indicator_actuals_import", "POST"): lambda s, p, o: {"file": _file()},
    ("indicator_actuals", "POST"): _grid,
    ("indicator_capacity_add", "POST"): _capacity,
    ("me-indicator-list", "POST"): lambda s, p, o: _body(s, o),
    ("me-indicator-detail", "PUT"): lambda s, p, o: _body(s, o),
    ("me-indicator-detail", "PATCH"): lambda s, p, o: {
        "name": f"Renamed indicator {s.number()}",
        "version": _version(o["indicator"]),
    },
    ("me-indicator-actuals", "POST"): lambda s, p, o: {
        "period": _open_period(s, p, o).pk,
        "value": "25",
        "note": "From the district registers",
        "version": 0,
    },
}

# The period of a route (period_id) is tests/monitoring/permissions_periods.py's: an open one for these routes.
FILLERS = {"indicator_id": _indicator}

# The technical lead writes the indicators of area P1, theirs in the walk.
P1_ROUTES: frozenset[str] = frozenset(TABLE)

# The form's activities are a choice of ids (the plan's activities), which no relation field declares: (URL name,
# method) -> (key, model, many) of tests/test_permissions.py's EXTRA_REFERENCES (its Reference is defined after the
# parts are imported).
EXTRA_REFERENCES: dict[tuple[str, str], list[tuple[str, type, bool]]] = {
    ("indicator_new", "POST"): [("activities", Activity, True)],
    ("indicator_edit", "POST"): [("activities", Activity, True)],
}

# Writes that take nothing but what their URL names: a deletion, a grid of values of the URL's period, a file
# whose rows the job checks against the plan, the plan's own capacity indicators.
NO_REFERENCES: frozenset[str] = frozenset(
    {"indicator_delete", "indicator_actuals", "indicator_actuals_import", "indicator_capacity_add"}
)

# Writes that go on while the plan is endorsed (tests/test_freeze.py GOES_ON): the results framework is monitored
# on the endorsed plan.
GOES_ON: frozenset[str] = frozenset(
    name for name, rows in TABLE.items() if any(method in rows for method in ("POST", "PUT PATCH", "DELETE"))
)
