"""The versions' routes in the permission walk (tests/test_permissions.py): every member reads the plan's versions and
compares them; the secretariat saves named ones; non-members get 404, and a version of another plan is 404 even
paired with one's own plan."""

from __future__ import annotations

from planning.models import PlanVersion
from planning.versions import plan_version_store


def _statuses() -> tuple:
    # Read from the walk's module while it imports this one (it is already in sys.modules by then).
    from tests import test_permissions as tp

    return tp.S201, tp.S302, tp.LOGIN


S201, S302, LOGIN = _statuses()
READ = "GET HEAD OPTIONS"

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "plan_versions": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    # Without the sides to compare (the walk sends none): the page says which to choose.
    "version_compare": {"GET HEAD":     (400,  400,  400,  400,  400,  400,  404,  LOGIN)},
    "api-plan-versions": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
    },
    "api-plan-version-compare": {READ:  (200,  200,  200,  200,  200,  200,  404,  401)},
    "api-plan-version-detail": {READ:   (200,  200,  200,  200,  200,  200,  404,  401)},
}
# fmt: on


def _version(scene, route_name: str, persona: str, foreign: str, objects: dict) -> PlanVersion:
    """A named version of the persona's plan, or of the other country's plan."""
    plan = scene.elsewhere_plan if foreign else scene.plan
    return plan_version_store(plan=plan, by=None, kind=PlanVersion.Kind.NAMED, label="Walked")


def _sides(s, p, o) -> dict:
    return {"before": "draft", "after": "draft"}


PAYLOADS = {
    ("plan_versions", "POST"): lambda s, p, o: {"label": f"Version {s.number()}"},
    ("api-plan-versions", "POST"): lambda s, p, o: {"label": f"Version {s.number()}"},
    ("api-plan-version-compare", "GET"): _sides,
    ("api-plan-version-compare", "HEAD"): _sides,
}

FILLERS = {"version_id": _version}
P1_ROUTES: frozenset[str] = frozenset()
