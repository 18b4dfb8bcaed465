"""The open-data export's routes in the permission walk (tests/test_permissions.py): every member may export the
plan as open data, as every member reads all of it; non-members get 404, anonymous visitors the login page (401
from the API)."""

from __future__ import annotations

from tests.test_permissions import LOGIN, S202, S302

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

PAYLOADS: dict = {}
FILLERS: dict = {}
P1_ROUTES: set[str] = set()
