"""The advocacy routes in the permission walk (tests/test_permissions.py): every member reads the plan's advocacy; the
secretariat writes it (Permission.ENGAGE); technical leads, focal points, reviewers and viewers get 403, non-members
404, and an advocacy of another plan is 404 even paired with one's own plan. Recording a pledge as a funding
commitment (costing's page and API) is the secretariat's funding work (Permission.EDIT_PLAN)."""

from __future__ import annotations

from typing import Any

from planning.models import Activity, TechnicalArea
from stakeholders.models import Advocacy, Organization, Person, Stakeholder


def _statuses() -> tuple:
    # Read from the walk's module while it imports this one (it is already in sys.modules by then).
    from tests import test_permissions as tp

    return tp.S200, tp.S201, tp.S204, tp.S302, tp.LOGIN


S200, S201, S204, S302, LOGIN = _statuses()
READ = "GET HEAD OPTIONS"

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "advocacy_list": {"GET HEAD":       (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "advocacy_detail": {"GET HEAD":     (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    **{
        name: {
            "GET HEAD":                 (200,  200,  403,  403,  403,  403,  404,  LOGIN),
            "POST":                     (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
        }
        for name in ("advocacy_new", "advocacy_edit", "advocacy_delete", "advocacy_pledge")
    },
    "advocacy-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
    },
    "advocacy-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, 403,  403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, 403,  403,  403,  403,  404,  401),
    },
    "advocacy-pledge-list": {
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
    },
}
# fmt: on


def _area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


def _advocacy(scene, route_name: str, persona: str, foreign: str, objects: dict) -> Advocacy:
    """An advocacy of the persona's plan (or of the other country's plan) for a policy need."""
    return Advocacy.objects.create(
        plan=scene.elsewhere_plan if foreign else scene.plan,
        need="policy",
        title=f"One Health coordination decree {scene.number()}",
        audience_group="Council of ministers",
        ask="decision",
        ask_text="Adopt the decree",
    )


def _form(s, o: dict) -> dict[str, Any]:
    advocacy = o.get("advocacy")
    return {
        "need": "policy",
        "title": f"Budget line for One Health {s.number()}",
        "audience": "",
        "audience_group": "Parliamentary budget committee",
        "ask": "decision",
        "ask_amount": "",
        "ask_currency": "",
        "ask_text": "A budget line for the One Health platform",
        "status": "planned",
        "version": advocacy.version if advocacy else "",
    }


def _body(s, o: dict) -> dict[str, Any]:
    body = _form(s, o)
    body.pop("audience")
    body["ask_amount"] = None
    if o.get("advocacy") is None:
        body.pop("version")
    return body


def _pledge(s, o: dict) -> dict[str, Any]:
    return {
        "source_organization": s.moh.pk,
        "source_kind": "",
        "amount": "25000",
        "currency": "USD",
        "first_year": "2026",
        "last_year": "2026",
        "status": "pledged",
        "technical_area": _area("P1").pk,
        "advocacy_status": "achieved",
        "outcome": "Pledged at the round table",
        "version": o["advocacy"].version,
    }


def _pledge_body(s, o: dict) -> dict[str, Any]:
    body = _pledge(s, o)
    body.pop("source_kind")
    body["first_year"] = body["last_year"] = 2026
    return body


PAYLOADS = {
    ("advocacy_new", "POST"): lambda s, p, o: _form(s, o),
    ("advocacy_edit", "POST"): lambda s, p, o: _form(s, o),
    ("advocacy_delete", "POST"): lambda s, p, o: {"version": o["advocacy"].version},
    ("advocacy_pledge", "POST"): lambda s, p, o: _pledge(s, o),
    ("advocacy-list", "POST"): lambda s, p, o: _body(s, o),
    ("advocacy-detail", "PUT"): lambda s, p, o: _body(s, o),
    ("advocacy-detail", "PATCH"): lambda s, p, o: {"status": "under_way", "version": o["advocacy"].version},
    ("advocacy-pledge-list", "POST"): lambda s, p, o: _pledge_body(s, o),
}

FILLERS = {"advocacy_id": _advocacy}

P1_ROUTES: frozenset[str] = frozenset()

# The pledge page takes the activities it funds as a choice of ids, as the funding page does.
EXTRA_REFERENCES = {("advocacy_pledge", "POST"): [("activities", Activity, True)]}
# Deleting names only the URL's advocacy.
NO_REFERENCES = frozenset({"advocacy_delete"})


def ELSEWHERE(scene, sibling) -> dict[type, list[tuple[str, Any]]]:  # the walk's name
    """Stakeholders and people the probe points an advocacy's audience and messengers at: another plan's of this
    country, and another country's."""
    result: dict[type, list[tuple[str, Any]]] = {Stakeholder: [], Person: []}
    for label, plan, organization in (
        ("of another plan they run", sibling, scene.moh),
        ("of another country's plan", scene.elsewhere_plan, scene.elsewhere_organization),
    ):
        organization = Organization.objects.get(pk=organization.pk)
        result[Stakeholder].append(
            (f"a stakeholder {label}", Stakeholder.objects.create(plan=plan, organization=organization))
        )
        result[Person].append((f"a person {label}", Person.objects.create(plan=plan, name=f"Person {label}")))
    return result


# Advocacy goes on once the plan is endorsed: the plan's funding is sought after it (the pledge page, which writes
# funding, is content: tests/test_freeze.py).
GOES_ON = frozenset(
    {
        "advocacy-detail",
        "advocacy-list",
        "advocacy_delete",
        "advocacy_edit",
        "advocacy_new",
    }
)
