"""The progress workbook's routes in the permission walk (tests/test_permissions.py): whoever reports progress
(the secretariat, technical leads, focal points) downloads a workbook of an open period and uploads it; reviewers
and viewers get 403 (they read progress on the plan's pages); non-members 404. An upload is seen by the person who
made it and by the secretariat; another plan's upload is 404 even paired with one's own plan."""

from __future__ import annotations

import datetime

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from monitoring.models import ProgressUpload, ReportingPeriod
from tests.planning.permissions_spar import FILLERS as EARLIER_FILLERS

earlier_upload = EARLIER_FILLERS["upload_id"]

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
    "progress_workbook": {
        "GET HEAD":                     (200,  200,  200,  200,  403,  403,  404,  LOGIN),
        "POST":                         (S302, S302, S302, S302, 403,  403,  404,  LOGIN),   # kept, a job queued
    },
    "progress_workbook_export": {"POST": (S302, S302, S302, S302, 403, 403,  404,  LOGIN)},  # a job
    "progress_upload_detail": {"GET HEAD": (200, 200,  200,  200,  403,  403,  404,  LOGIN)},  # one's own upload
    "api-progress-workbook": {
        "POST":                         (S202, S202, S202, S202, 403,  403,  404,  401),
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
    },
    "progress-upload-list": {
        READ:                           (200,  200,  200,  200,  403,  403,  404,  401),
        # The walk sends no file (it speaks JSON to the API): refused, nothing kept. Uploads are tested in
        # tests/monitoring/test_workbook.py.
        "POST":                         (400,  400,  400,  400,  403,  403,  404,  401),
    },
    "progress-upload-detail": {READ:    (200,  200,  200,  200,  403,  403,  404,  401)},
}
# fmt: on


def open_period(plan) -> ReportingPeriod:
    """The plan's open first quarter of 2026 (made once per check: each runs in a savepoint rolled back)."""
    period, _created = ReportingPeriod.objects.get_or_create(
        plan=plan,
        starts_on=datetime.date(2026, 1, 1),
        defaults={
            "label": "2026 Q1",
            "ends_on": datetime.date(2026, 3, 31),
            "due_on": datetime.date(2026, 4, 15),
            "state": ReportingPeriod.State.OPEN,
        },
    )
    return period


def _upload(scene, route_name: str, persona: str, foreign: str, objects: dict) -> ProgressUpload:
    """The persona's own upload to their plan (any upload for the anonymous visitor), or one of the other
    country's plan. Other routes' `upload_id` is the SPAR table's or the costing workbook's
    (tests/planning/permissions_spar.py)."""
    if route_name not in ("progress_upload_detail", "progress-upload-detail"):
        return earlier_upload(scene, route_name, persona, foreign, objects)
    if foreign:
        plan, user = scene.elsewhere_plan, scene.elsewhere_lead
    else:
        plan, user = scene.plan, scene.user(persona) or scene.people["secretariat_lead"]
    upload = ProgressUpload(plan=plan, uploaded_by=user, filename="progress.xlsx", digest="0" * 64)
    upload.file.save("progress.xlsx", ContentFile(b"not really a workbook"), save=False)
    upload.save()
    return upload


PAYLOADS = {
    ("progress_workbook", "POST"): lambda s, p, o: {
        "file": SimpleUploadedFile("progress.xlsx", b"PK\x03\x04 read by the job", content_type=XLSX),
    },
    ("progress_workbook_export", "POST"): lambda s, p, o: {"period": open_period(s.plan).pk},
    ("api-progress-workbook", "POST"): lambda s, p, o: {"period": open_period(s.plan).pk},
}
FILLERS = {"upload_id": _upload}
P1_ROUTES: set[str] = set()
