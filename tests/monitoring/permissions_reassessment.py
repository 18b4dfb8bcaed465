"""The re-assessment routes in the permission walk (tests/test_permissions.py): every member reads the capacity
progress and exports it; recording a follow-up assessment is the secretariat's (Permission.MANAGE, which goes on
while the plan is endorsed); anyone else gets 403, non-members 404."""

from __future__ import annotations

from typing import Any

from planning.models import Framework


def _statuses() -> tuple:
    # Read from the walk's module while it imports this one (it is already in sys.modules by then).
    from tests import test_permissions as tp

    return tp.S202, tp.S302, tp.LOGIN


S202, S302, LOGIN = _statuses()
READ = "GET HEAD OPTIONS"

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "capacity_progress": {"GET HEAD":    (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "capacity_assessment_new": {"POST":  (S302, S302, 403,  403,  403,  403,  404,  LOGIN)},
    "capacity_progress_export": {"POST": (S302, S302, S302, S302, S302, S302, 404,  LOGIN)},
    "api-capacity-progress": {READ:      (200,  200,  200,  200,  200,  200,  404,  401)},
    "api-capacity-progress-export": {
        "POST":                         (S202, S202, S202, S202, S202, S202, 404,  401),
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
    },
}
# fmt: on


def _follow_up(s, o: dict) -> dict[str, Any]:
    return {"framework": Framework.objects.get(code="SPAR2").pk, "kind": "spar", "date": "2025-03-01", "source": ""}


PAYLOADS = {
    ("capacity_assessment_new", "POST"): lambda s, p, o: _follow_up(s, o),
    ("capacity_progress_export", "POST"): lambda s, p, o: {},
    ("api-capacity-progress-export", "POST"): lambda s, p, o: {},
}
FILLERS: dict = {}
P1_ROUTES: set[str] = set()
