"""The open-data export's routes in the permission walk (tests/test_permissions.py): every member may export the
plan as open data, as every member reads all of it, here a stored version of it; non-members get 404, anonymous
visitors the login page (401 from the API)."""

from __future__ import annotations

from planning.models import PlanVersion
from planning.versions import plan_version_store
from tests.test_permissions import LOGIN, S202, S302


def _version_id(scene) -> int:
    return plan_version_store(plan=scene.plan, by=None, kind=PlanVersion.Kind.NAMED, label="Walked").pk


# fmt: off
TABLE = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "plan_open_data_export": {"POST":   (S302, S302, S302, S302, S302, S302, 404,  LOGIN)},   # a job
    "api-plan-open-data-export": {
        "POST":                         (S202, S202, S202, S202, S202, S202, 404,  401),
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
    },
}
# fmt: on

PAYLOADS: dict = {
    ("plan_open_data_export", "POST"): lambda s, p, o: {"version": _version_id(s)},
    ("api-plan-open-data-export", "POST"): lambda s, p, o: {"plan_version": _version_id(s)},
}
FILLERS: dict = {}
P1_ROUTES: set[str] = set()
