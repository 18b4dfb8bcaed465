"""The monitoring dashboard's routes in the permission walk (tests/test_permissions.py): every member reads the
dashboard and its figures and may export them; non-members get 404, anonymous visitors the login page (401 from
the API)."""

from __future__ import annotations


def _statuses() -> tuple:
    # Read from the walk's module while it imports this one (it is already in sys.modules by then).
    from tests import test_permissions as tp

    return tp.S202, tp.S302, tp.LOGIN


S202, S302, LOGIN = _statuses()
READ = "GET HEAD OPTIONS"

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    #                                       SL    SM    TL    FP    RV    VW    out   anon
    "monitoring_dashboard": {"GET HEAD":    (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "monitoring_dashboard_status": {"GET HEAD": (200, 200, 200, 200, 200,  200,  404,  LOGIN)},
    "monitoring_dashboard_export": {"POST": (S302, S302, S302, S302, S302, S302, 404,  LOGIN)},   # a job
    "api-monitoring-dashboard": {READ:      (200,  200,  200,  200,  200,  200,  404,  401)},
    "api-monitoring-dashboard-export": {
        "POST":                            (S202, S202, S202, S202, S202, S202, 404,  401),
        "OPTIONS":                         (200,  200,  200,  200,  200,  200,  404,  401),
    },
}
# fmt: on

PAYLOADS: dict = {
    ("monitoring_dashboard_export", "POST"): lambda s, p, o: {"scope": "provinces"},
    ("api-monitoring-dashboard-export", "POST"): lambda s, p, o: {"scope": "plan"},
}
FILLERS: dict = {}
P1_ROUTES: set[str] = set()
