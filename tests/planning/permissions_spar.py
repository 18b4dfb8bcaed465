"""The SPAR country picker in the permission walk (tests/test_permissions.py): the secretariat picks the country of
a SPAR results table it uploaded; anyone else's kept file, or another plan's, is 404 even to the secretariat; roles
that do not edit the plan get 403, non-members 404, anonymous visitors the login page."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from naphs.models import Upload
from naphs.uploads import upload_keep
from planning.job_kinds import PlanningJob
from tests.costing.permissions_workbook import FILLERS as COSTING_FILLERS

costing_upload = COSTING_FILLERS["upload_id"]


def _statuses() -> tuple:
    # Read from the walk's module while it imports this one (it is already in sys.modules by then).
    from tests import test_permissions as tp

    return tp.S202, tp.S302, tp.LOGIN, tp.SL, tp.SM


S202, S302, LOGIN, SL, SM = _statuses()
TABLE_CSV = b"WHO region,Country,C.1,C.1.1\nAFR,Testland,60,60\nAFR,Otherland,40,40\n"

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    #                                      SL    SM    TL    FP    RV    VW    out   anon
    "assessment_import_spar_pick": {
        "GET HEAD":                       (200,  200,  403,  403,  403,  403,  404,  LOGIN),
        "POST":                           (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    # The walk speaks JSON to the API and sends no file: refused, nothing kept (tests/planning/test_spar_picker.py
    # uploads one).
    "api-spar-tables": {
        "POST":                           (400,  400,  403,  403,  403,  403,  404,  401),
        "OPTIONS":                        (200,  200,  200,  200,  200,  200,  404,  401),
    },
    "api-spar-table-import": {
        "POST":                           (S202, S202, 403,  403,  403,  403,  404,  401),
        "OPTIONS":                        (200,  200,  200,  200,  200,  200,  404,  401),
    },
}
# fmt: on


def _kept(scene, route_name: str, persona: str, foreign: str, objects: dict) -> Upload:
    """A SPAR table the persona uploaded to the plan and has still to pick a country of; foreign: one another
    member uploaded (the other country's lead, to their own plan, when the whole plan is foreign). Other routes'
    `upload_id` is the costing workbook's (tests/costing/permissions_workbook.py)."""
    if route_name not in ("assessment_import_spar_pick", "api-spar-table-import"):
        return costing_upload(scene, route_name, persona, foreign, objects)
    if foreign == "all":
        plan, by = scene.elsewhere_plan, scene.elsewhere_lead
    elif foreign:
        plan, by = scene.plan, scene.account(SM if persona == SL else SL)
    else:
        plan, by = scene.plan, scene.account(persona)
    file = SimpleUploadedFile("SPAR results.csv", TABLE_CSV)
    return upload_keep(kind=PlanningJob.SPAR_IMPORT, by=by, plan=plan, file=file)


PAYLOADS = {
    ("assessment_import_spar_pick", "POST"): lambda s, p, o: {"country": "Testland"},
    ("api-spar-table-import", "POST"): lambda s, p, o: {"country": "Testland"},
}
FILLERS = {"upload_id": _kept}
P1_ROUTES: set[str] = set()
