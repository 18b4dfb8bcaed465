"""Endorsement's routes in the permission walk (tests/test_permissions.py): every member reads the endorsement
page, the endorsements and their signed documents; only the secretariat lead endorses and reopens; non-members get
404, anonymous visitors the login page (pages) or 401 (API)."""

from __future__ import annotations

import datetime

from django.core.files.base import ContentFile
from django.utils import timezone


def _statuses() -> tuple:
    # Read from the walk's module while it imports this one (it is already in sys.modules by then).
    from tests import test_permissions as tp

    return tp.S200, tp.S201, tp.S302, tp.LOGIN, tp.READ


S200, S201, S302, LOGIN, READ = _statuses()

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "plan_endorsement": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),
        "POST":                         (S302, 403,  403,  403,  403,  403,  404,  LOGIN),
    },
    "plan_reopen": {"POST":             (S302, 403,  403,  403,  403,  403,  404,  LOGIN)},
    "endorsement_document": {"GET HEAD": (200, 200,  200,  200,  200,  200,  404,  LOGIN)},
    "endorsement-list": {READ:          (200,  200,  200,  200,  200,  200,  404,  401)},
    "endorsement-detail": {READ:        (200,  200,  200,  200,  200,  200,  404,  401)},
    "endorsement-document": {READ:      (200,  200,  200,  200,  200,  200,  404,  401)},
    "api-plan-endorse": {
        "POST":                         (S201, 403,  403,  403,  403,  403,  404,  401),
        "OPTIONS":                      (200,  403,  403,  403,  403,  403,  404,  401),
    },
    "api-plan-reopen": {
        "POST":                         (S200, 403,  403,  403,  403,  403,  404,  401),
        "OPTIONS":                      (200,  403,  403,  403,  403,  403,  404,  401),
    },
}
# fmt: on


def _endorsed(plan, lead):
    """The plan endorsed as version 1 (with a signed document), as the lead would have left it."""
    from planning.models import Endorsement, Plan, PlanVersion
    from planning.versions import plan_version_store

    version = plan_version_store(plan=plan, by=lead, kind=PlanVersion.Kind.ENDORSED, label="Version 1")
    endorsement = Endorsement(
        plan=plan,
        plan_version=version,
        number=plan.edition,
        endorsed_on=datetime.date(2026, 1, 15),
        authority="Minister of Health",
        endorsed_by=lead,
    )
    endorsement.signed_document.save("signed.pdf", ContentFile(b"%PDF-1.7\n%%EOF\n"), save=False)
    endorsement.save()
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    plan.status = Plan.Status.ENDORSED
    return endorsement


def _endorsement(s, route_name, persona, foreign, objects):
    from naphs.permissions import Role

    plan = s.elsewhere_plan if foreign else s.plan
    lead = s.elsewhere_lead if foreign else s.people[Role.SECRETARIAT_LEAD]
    return _endorsed(plan, lead)


def _reopen(s, p, o):
    from naphs.permissions import Role

    _endorsed(s.plan, s.people[Role.SECRETARIAT_LEAD])
    return {"reason": "The minister asked for a costed annex."}


def _endorse(s, p, o):
    return {"endorsed_on": timezone.localdate().isoformat(), "authority": "Minister of Health"}


PAYLOADS: dict = {
    ("plan_endorsement", "POST"): _endorse,
    ("api-plan-endorse", "POST"): _endorse,
    ("plan_reopen", "POST"): _reopen,
    ("api-plan-reopen", "POST"): _reopen,
}
FILLERS: dict = {"endorsement_id": _endorsement}
P1_ROUTES: set[str] = set()
