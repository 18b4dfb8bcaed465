"""The plan document's routes in the permission walk (tests/test_permissions.py): every member reads the page, asks
for the document (a job, or the stored render when the plan is unchanged) and downloads it; non-members get 404,
anonymous visitors the login page."""

from __future__ import annotations


def _statuses() -> tuple:
    # Read from the walk's module while it imports this one (it is already in sys.modules by then).
    from tests import test_permissions as tp

    return tp.S302, tp.LOGIN


S302, LOGIN = _statuses()

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "plan_document": {"GET HEAD":        (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "plan_document_request": {"POST":    (S302, S302, S302, S302, S302, S302, 404,  LOGIN)},   # a job
    # No render of the plan as it is now in the walk's scene: nothing to download yet.
    "plan_document_download": {"GET HEAD": (404, 404,  404,  404,  404,  404,  404,  LOGIN)},
}
# fmt: on

PAYLOADS: dict = {}
FILLERS: dict = {}
P1_ROUTES: set[str] = set()
