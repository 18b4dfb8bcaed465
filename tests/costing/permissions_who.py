"""Who may reach the WHO costing tool layout pages and endpoints: rows for tests/test_permissions.py.

Any member exports; only the secretariat imports and reads what an import did. This module is imported by
tests/test_permissions.py after it has defined its statuses, so they are taken from there.
"""

from __future__ import annotations

import io
from functools import cache

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from costing.models import CostingUpload
from naphs.permissions import Role
from tests.test_permissions import LOGIN, S202, S302

# fmt: off
TABLE = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "who_costing": {"GET HEAD":         (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "who_costing_export": {"POST":      (S302, S302, S302, S302, S302, S302, 404,  LOGIN)},
    "who_costing_import": {"POST":      (S302, S302, 403,  403,  403,  403,  404,  LOGIN)},
    "who_costing_upload": {"GET HEAD":  (200,  200,  403,  403,  403,  403,  404,  LOGIN)},
    "api-who-export": {
        "POST":                         (S202, S202, S202, S202, S202, S202, 404,  401),
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
    },
}
# fmt: on


@cache
def _workbook() -> bytes:
    """A small workbook in the layout: enough for the upload form; the import itself runs after the commit."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Costing Tool"
    sheet.append(["Indicator", "Summary of Key Activities", "Estimated cost (Local currency)", "2026", "CostCategory1"])
    sheet.append(["P1.1", "Revise the public health law", 1000, 1, "Meetings and workshops"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


PAYLOADS = {
    ("who_costing_import", "POST"): lambda s, p, o: {
        "file": SimpleUploadedFile(
            "who-costing.xlsx",
            _workbook(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    },
}


def _upload(scene, route_name: str, persona: str, foreign: str, objects: dict) -> CostingUpload:
    """An upload of the persona's plan, or of the other country's plan when `foreign`."""
    plan = scene.elsewhere_plan if foreign else scene.plan
    by = scene.elsewhere_lead if foreign else scene.people[Role.SECRETARIAT_LEAD]
    return CostingUpload.objects.create(
        plan=plan,
        layout=CostingUpload.Layout.WHO,
        uploaded_by=by,
        file="uploads/costing/who-costing.xlsx",
        filename="who-costing.xlsx",
        digest="0" * 64,
        status=CostingUpload.Status.REFUSED,
        problems=[{"sheet": "Costing Tool", "row": 8, "column": "Y", "message": "unknown category", "text": ""}],
    )


FILLERS = {"who_upload_id": _upload}
P1_ROUTES: set[str] = set()
