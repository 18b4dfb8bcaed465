"""The progress routes in the permission walk (tests/test_permissions.py): every member reads reports and their
evidence; the secretariat reports on every activity, a technical lead on their areas' (the walk's activities are in
P1, the lead's area), a focal point on their organization's (the walk's activities are the focal point's
organization's); reviewers and viewers get 403, non-members 404, and a period, report or evidence of another plan
is 404 even paired with one's own plan."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.files.base import ContentFile

from monitoring.models import ProgressEvidence, ProgressUpdate, ReportingPeriod


def _statuses() -> tuple:
    # Read from the walk's module while it imports this one (it is already in sys.modules by then).
    from tests import test_permissions as tp

    return tp.S200, tp.S201, tp.S204, tp.S302, tp.LOGIN


S200, S201, S204, S302, LOGIN = _statuses()
READ = "GET HEAD OPTIONS"

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "progress_period": {"GET HEAD":      (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "progress_report": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),
        "POST":                         (S302, S302, S302, S302, 403,  403,  404,  LOGIN),
    },
    "progress_evidence_add": {"POST":   (S302, S302, S302, S302, 403,  403,  404,  LOGIN)},
    "progress_evidence_file": {"GET HEAD": (200, 200, 200,  200,  200,  200,  404,  LOGIN)},
    "progress_evidence_delete": {"POST": (S302, S302, S302, S302, 403,  403,  404,  LOGIN)},
    "activity_progress": {"GET HEAD":    (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "progress-update-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, S201, S201, 403,  403,  404,  401),
    },
    "progress-update-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, S200, S200, 403,  403,  404,  401),
    },
    "progress-evidence-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, S201, S201, 403,  403,  404,  401),
    },
    "progress-evidence-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "DELETE":                       (S204, S204, S204, S204, 403,  403,  404,  401),
    },
    "progress-evidence-file": {READ:    (200,  200,  200,  200,  200,  200,  404,  401)},
}
# fmt: on


def fresh_period(scene, plan) -> ReportingPeriod:
    """An open quarter-long period of the plan, starting on a day no other period of the walk starts on."""
    starts = datetime.date(2026, 1, 1) + datetime.timedelta(days=scene.number())
    return ReportingPeriod.objects.create(
        plan=plan,
        label=f"Period {starts}",
        starts_on=starts,
        ends_on=starts + datetime.timedelta(days=89),
        due_on=starts + datetime.timedelta(days=100),
        state=ReportingPeriod.State.OPEN,
    )


def fresh_report(scene, plan, *, activity=None, period=None) -> ProgressUpdate:
    return ProgressUpdate.objects.create(
        plan=plan,
        activity=activity or scene.fresh_activity(plan),
        period=period or fresh_period(scene, plan),
        status="on_track",
        percent_complete=20,
    )


def _progress(scene, route_name: str, persona: str, foreign: str, objects: dict) -> ProgressUpdate:
    return fresh_report(scene, scene.elsewhere_plan if foreign else scene.plan)


def _evidence(scene, route_name: str, persona: str, foreign: str, objects: dict) -> ProgressEvidence:
    """A PDF added by the persona (who may then delete it), on the report the URL names or a fresh one."""
    plan = scene.elsewhere_plan if foreign else scene.plan
    report = objects.get("progress") or fresh_report(scene, plan)
    if foreign and report.plan_id != plan.pk:
        report = fresh_report(scene, plan)
    evidence = ProgressEvidence(
        update=report,
        added_by=scene.user(persona) or scene.people["secretariat_lead"],
        file_name="attendance.pdf",
        content_type="application/pdf",
        size=9,
    )
    evidence.file.save("attendance.pdf", ContentFile(b"%PDF-1.7\n"), save=False)
    evidence.save()
    return evidence


def _report_form(s, o: dict) -> dict[str, Any]:
    return {"status": "delayed", "percent_complete": "35", "amount_spent": "100", "currency": "USD", "version": "0"}


def _evidence_form(s, o: dict) -> dict[str, Any]:
    fresh_report(s, s.plan, activity=o["activity"], period=o["period"])  # evidence goes on a report that exists
    return {"link": "https://example.org/photos", "description": "Photos of the training"}


def _body(s, o: dict) -> dict[str, Any]:
    report = o.get("progress")
    body: dict[str, Any] = {"status": "delayed", "percent_complete": 45, "amount_spent": "10.00", "currency": "USD"}
    if report is None:
        body.update(activity=s.fresh_activity(s.plan).pk, period=fresh_period(s, s.plan).pk)
    else:
        body["version"] = report.version
    return body


PAYLOADS = {
    ("progress_report", "POST"): lambda s, p, o: _report_form(s, o),
    ("progress_evidence_add", "POST"): lambda s, p, o: _evidence_form(s, o),
    ("progress-update-list", "POST"): lambda s, p, o: _body(s, o),
    ("progress-update-detail", "PUT"): lambda s, p, o: _body(s, o),
    ("progress-update-detail", "PATCH"): lambda s, p, o: {"percent_complete": 55, "version": o["progress"].version},
    ("progress-evidence-list", "POST"): lambda s, p, o: {"link": "https://example.org/minutes"},
}

# The period of a route (period_id) is tests/monitoring/permissions_periods.py's: an open one for these routes.
FILLERS = {"progress_id": _progress, "evidence_id": _evidence}

# The technical lead reports on the activities of area P1, theirs in the walk.
P1_ROUTES: frozenset[str] = frozenset(TABLE)

# Writes that take nothing but what their URL names: a report's values, evidence, a deletion.
NO_REFERENCES: frozenset[str] = frozenset(
    {
        "progress_report",
        "progress_evidence_add",
        "progress_evidence_delete",
        "progress-update-detail",  # activity and period are set when the report is created
        "progress-evidence-list",
    }
)


def ELSEWHERE(scene, sibling) -> dict[type, list[tuple[str, Any]]]:
    """Periods the probe points references at: of another plan the lead runs, and of another country's plan."""
    return {
        ReportingPeriod: [
            ("a period of another plan they run", fresh_period(scene, sibling)),
            ("another country's period", fresh_period(scene, scene.elsewhere_plan)),
        ]
    }
