"""The launch's routes in the permission walk (tests/test_permissions.py): every member reads the launch checklist
and the launches; the secretariat launches (Permission.ENGAGE, on the endorsed plan); other members get 403,
non-members 404, anonymous visitors the login page (pages) or 401 (API). A launch of another plan is 404 even paired
with one's own plan."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from stakeholders.launch import ITEM_ORDER
from stakeholders.models import EngagementEvent, Launch


def _statuses() -> tuple:
    # Read from the walk's module while it imports this one (it is already in sys.modules by then).
    from tests import test_permissions as tp

    return tp.S201, tp.S302, tp.LOGIN, tp.READ


S201, S302, LOGIN, READ = _statuses()

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "plan_launch": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "api-launch-checklist": {READ:      (200,  200,  200,  200,  200,  200,  404,  401)},
    "launch-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
    },
    "launch-detail": {READ:             (200,  200,  200,  200,  200,  200,  404,  401)},
}
# fmt: on


def _endorsed(scene) -> None:
    """The walk's plan endorsed as version 1, as the lead would have left it (its launch may then be recorded)."""
    from naphs.permissions import Role
    from tests.planning.permissions_endorsement import _endorsed as endorsed

    endorsed(scene.plan, scene.people[Role.SECRETARIAT_LEAD])


def _event(plan) -> EngagementEvent:
    today = timezone.localdate()
    return EngagementEvent.objects.create(plan=plan, kind="launch", title="Launch", starts_on=today, ends_on=today)


def _launch(scene, route_name: str, persona: str, foreign: str, objects: dict) -> Launch:
    """A launch of the persona's plan (or of the other country's plan)."""
    return Launch.objects.create(
        plan=scene.elsewhere_plan if foreign else scene.plan, number=scene.number(), launched_on=timezone.localdate()
    )


def _form(s, p, o) -> dict[str, Any]:
    _endorsed(s)
    data: dict[str, Any] = {"launched_on": timezone.localdate().isoformat(), "event": _event(s.plan).pk, "notes": ""}
    for key in ITEM_ORDER:  # whichever are not met
        data[f"confirm_{key}"] = "on"
        data[f"note_{key}"] = ""
    return data


def _body(s, p, o) -> dict[str, Any]:
    _endorsed(s)
    from stakeholders.launch import launch_checklist, unmet_keys

    return {
        "launched_on": timezone.localdate().isoformat(),
        "event": _event(s.plan).pk,
        "notes": "",
        "confirm": unmet_keys(launch_checklist(s.plan)),
    }


PAYLOADS = {
    ("plan_launch", "POST"): _form,
    ("launch-list", "POST"): _body,
}

FILLERS = {"launch_id": _launch}
P1_ROUTES: frozenset[str] = frozenset()


def ELSEWHERE(scene, sibling) -> dict[type, list[tuple[str, Any]]]:
    """Events the probe points a launch's event at: another plan's of this country, and another country's."""
    return {
        EngagementEvent: [
            ("an event of another plan they run", _event(sibling)),
            ("another country's event", _event(scene.elsewhere_plan)),
        ]
    }


# The launch comes after the endorsement: it is of an endorsed version.
GOES_ON = frozenset(
    {
        "launch-list",
        "plan_launch",
    }
)
