"""The costing workbook's routes in the permission walk (tests/test_permissions.py): whoever costs activities (the
secretariat, technical leads, focal points) downloads a workbook and uploads it; reviewers and viewers get 403 (they
read costs on the plan's pages); non-members 404. An upload is seen by the person who made it and by the
secretariat; another plan's upload is 404 even paired with one's own plan."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from costing.models import CostingUpload

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _statuses() -> tuple:
    # Read from the walk's module while it imports this one (it is already in sys.modules by then).
    from tests import test_permissions as tp

    return tp.S202, tp.S302, tp.LOGIN


S202, S302, LOGIN = _statuses()
READ = "GET HEAD OPTIONS"

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "costing_upload": {
        "GET HEAD":                     (200,  200,  200,  200,  403,  403,  404,  LOGIN),
        "POST":                         (S302, S302, S302, S302, 403,  403,  404,  LOGIN),   # kept, a job queued
    },
    "costing_workbook": {"POST":        (S302, S302, S302, S302, 403,  403,  404,  LOGIN)},   # a job
    "costing_upload_detail": {"GET HEAD": (200, 200,  200,  200,  403,  403,  404,  LOGIN)},  # one's own upload
    "api-costing-workbook": {
        "POST":                         (S202, S202, S202, S202, 403,  403,  404,  401),
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
    },
    "costing-upload-list": {
        READ:                           (200,  200,  200,  200,  403,  403,  404,  401),
        # The walk sends no file (it speaks JSON to the API): refused, nothing kept. Uploads are tested in
        # tests/costing/test_workbook.py.
        "POST":                         (400,  400,  400,  400,  403,  403,  404,  401),
    },
    "costing-upload-detail": {READ:     (200,  200,  200,  200,  403,  403,  404,  401)},
}
# fmt: on


def _upload(scene, route_name: str, persona: str, foreign: str, objects: dict) -> CostingUpload:
    """The persona's own upload to their plan (any upload for the anonymous visitor), or one of the other
    country's plan."""
    if foreign:
        plan, user = scene.elsewhere_plan, scene.elsewhere_lead
    else:
        plan, user = scene.plan, scene.user(persona) or scene.people["secretariat_lead"]
    upload = CostingUpload(plan=plan, uploaded_by=user, filename="costing.xlsx", digest="0" * 64)
    upload.file.save("costing.xlsx", ContentFile(b"not really a workbook"), save=False)
    upload.save()
    return upload


PAYLOADS = {
    ("costing_upload", "POST"): lambda s, p, o: {
        "file": SimpleUploadedFile("costing.xlsx", b"PK\x03\x04 read by the job", content_type=XLSX),
    },
}
FILLERS = {"upload_id": _upload}
P1_ROUTES: set[str] = set()
