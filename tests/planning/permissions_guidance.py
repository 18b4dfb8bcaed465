"""Guidance in the permission walk (tests/test_permissions.py): every member reads the plan's guidance; the
secretariat adds, edits and removes its national guidance; non-members get 404, anonymous visitors the login page
(401 from the API)."""

from __future__ import annotations

from typing import Any

from planning.models import GuidanceDocument, TechnicalArea
from tests.test_permissions import LOGIN, S200, S201, S204, S302

# fmt: off
TABLE = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "plan_guidance": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),   # adds one
    },
    "plan_guidance_edit": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),   # the editor
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "plan_guidance_delete": {"POST":    (S302, S302, 403,  403,  403,  403,  404,  LOGIN)},
    "guidance-list": {
        "GET HEAD OPTIONS":             (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
    },
    "guidance-detail": {
        "GET HEAD OPTIONS":             (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, 403,  403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, 403,  403,  403,  403,  404,  401),
    },
}
# fmt: on


def _area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


def _version(objects: dict) -> int:
    return GuidanceDocument.objects.get(pk=objects["guidance"].pk).version


def _form(scene: Any, objects: dict) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": f"National handbook {scene.number()}",
        "reference_type": "manual",
        "link": "https://moh.example.org/handbook.pdf",
        "description": "How to go about it.",
        "author": "Ministry of Health",
        "date": "2025",
        "relevant_pages": "1-4",
        "technical_areas": [_area("P1").pk],
        "activities": [scene.fresh_activity(scene.plan).pk],
    }
    if "guidance" in objects:
        fields["version"] = _version(objects)
    return fields


PAYLOADS = {
    ("plan_guidance", "POST"): lambda s, p, o: _form(s, o),
    ("plan_guidance_edit", "POST"): lambda s, p, o: _form(s, o),
    ("guidance-list", "POST"): lambda s, p, o: _form(s, o),
    ("guidance-detail", "PUT"): lambda s, p, o: _form(s, o),
    ("guidance-detail", "PATCH"): lambda s, p, o: {"title": "Renamed handbook", "version": _version(o)},
}


def _guidance(scene: Any, route: str, persona: str, foreign: str, objects: dict) -> GuidanceDocument:
    """A national guidance document of the plan (of the other country's plan, for a foreign one)."""
    return GuidanceDocument.objects.create(
        plan=scene.elsewhere_plan if foreign else scene.plan,
        title=f"Guidance {scene.number()}",
        reference_type="tool",
        link="https://moh.example.org/tool",
    )


FILLERS = {"guidance_id": _guidance}
P1_ROUTES: set[str] = set()
