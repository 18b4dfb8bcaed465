"""The funding routes in the permission walk (tests/test_permissions.py): every member reads the plan's funding
commitments; resource mapping is the secretariat's work, so only the secretariat writes; anyone else gets 403,
non-members 404, and a commitment of another plan is 404 even paired with one's own plan."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from costing.models import FundingCommitment
from planning.models import TechnicalArea


def _statuses() -> tuple:
    # Read from the walk's module while it imports this one (it is already in sys.modules by then).
    from tests import test_permissions as tp

    return tp.S200, tp.S201, tp.S204, tp.S302, tp.LOGIN


S200, S201, S204, S302, LOGIN = _statuses()
READ = "GET HEAD OPTIONS"

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "funding": {"GET HEAD":              (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "funding_new": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "funding_edit": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "funding_delete": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),   # the question
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "funding-commitment-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
    },
    "funding-commitment-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, 403,  403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, 403,  403,  403,  403,  404,  401),
    },
}
# fmt: on


def _area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


def _commitment(scene, route_name: str, persona: str, foreign: str, objects: dict) -> FundingCommitment:
    """A committed US-dollar commitment to area P1 of the persona's plan, or of the other country's plan."""
    plan = scene.elsewhere_plan if foreign else scene.plan
    return FundingCommitment.objects.create(
        plan=plan,
        source_organization=scene.elsewhere_organization if foreign else scene.moh,
        source_kind=FundingCommitment.SourceKind.GOVERNMENT,
        amount=Decimal("50000.00"),
        currency="USD",
        first_year=2026,
        last_year=2027,
        status=FundingCommitment.Status.COMMITTED,
        technical_area=_area("P1"),
    )


def _form(s, o: dict) -> dict[str, Any]:
    commitment = o.get("commitment")
    return {
        "source_organization": s.moh.pk,
        "source_kind": "government",
        "budget_line": f"Budget line {s.number()}",
        "amount": "120000",
        "currency": "USD",
        "first_year": 2026,
        "last_year": 2028,
        "status": "committed",
        "technical_area": _area("P1").pk,
        "notes": "",
        "version": commitment.version if commitment else "",
    }


def _body(s, o: dict) -> dict[str, Any]:
    commitment = o.get("commitment")
    body = {
        "source_organization": s.moa.pk,
        "source_kind": "government",
        "amount": "75000.00",
        "currency": "USD",
        "first_year": 2027,
        "last_year": 2028,
        "status": "pledged",
        "activities": [s.fresh_activity(s.plan).pk],
    }
    if commitment is not None:
        body.update(version=commitment.version, technical_area=None)
    return body


PAYLOADS = {
    ("funding_new", "POST"): lambda s, p, o: _form(s, o),
    ("funding_edit", "POST"): lambda s, p, o: _form(s, o),
    ("funding_delete", "POST"): lambda s, p, o: {"version": o["commitment"].version},
    ("funding-commitment-list", "POST"): lambda s, p, o: _body(s, o),
    ("funding-commitment-detail", "PUT"): lambda s, p, o: _body(s, o),
    ("funding-commitment-detail", "PATCH"): lambda s, p, o: {
        "status": "disbursed",
        "version": o["commitment"].version,
    },
}

FILLERS = {"commitment_id": _commitment}

# Nothing here depends on the technical lead's areas: resource mapping is the secretariat's.
P1_ROUTES: frozenset[str] = frozenset()
