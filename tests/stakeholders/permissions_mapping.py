"""The register's and the map's routes in the permission walk (tests/test_permissions.py): every member reads the
people (contact details included) and the map; the secretariat writes, exports and erases; everyone else gets 403,
non-members 404, and a person or stakeholder of another plan is 404 even paired with one's own plan."""

from __future__ import annotations

from typing import Any

from planning.models import TechnicalArea
from stakeholders.models import Organization, Person, Stakeholder


def _statuses() -> tuple:
    from tests import test_permissions as tp

    return tp.S200, tp.S201, tp.S204, tp.S302, tp.LOGIN


S200, S201, S204, S302, LOGIN = _statuses()
READ = "GET HEAD OPTIONS"
SECRETARIAT_PAGE = {
    "GET HEAD": (200, 200, 403, 403, 403, 403, 404, LOGIN),
    "POST": (S302, S302, 403, 403, 403, 403, 404, LOGIN),
}

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "people": {"GET HEAD":              (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "person_detail": {"GET HEAD":       (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "stakeholder_map": {"GET HEAD":     (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "person_export": {"GET HEAD":       (200,  200,  403,  403,  403,  403,  404,  LOGIN)},
    **{
        name: SECRETARIAT_PAGE
        for name in (
            "person_new", "person_edit", "person_delete", "person_merge", "person_erase",
            "stakeholder_new", "stakeholder_edit", "stakeholder_delete",
        )
    },
    "person-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
    },
    "person-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, 403,  403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, 403,  403,  403,  403,  404,  401),
    },
    "person-merge": {
        "POST":                         (S200, S200, 403,  403,  403,  403,  404,  401),
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
    },
    "person-erase": {
        "POST":                         (S200, S200, 403,  403,  403,  403,  404,  401),
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
    },
    "person-export": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  401),
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
    },
    "stakeholder-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
    },
    "stakeholder-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, 403,  403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, 403,  403,  403,  403,  404,  401),
    },
    "api-stakeholder-map": {READ:       (200,  200,  200,  200,  200,  200,  404,  401)},
}
# fmt: on


def _person(scene, route_name: str, persona: str, foreign: str, objects: dict) -> Person:
    number = scene.number()
    return Person.objects.create(
        plan=scene.elsewhere_plan if foreign else scene.plan,
        name=f"Register person {number}",
        email=f"register{number}@example.org",
        phone="+1 555 0100",
    )


def _stakeholder(scene, route_name: str, persona: str, foreign: str, objects: dict) -> Stakeholder:
    if foreign:
        organization = scene.elsewhere_organization
        plan = scene.elsewhere_plan
    else:
        organization, plan = scene.fresh_organization(), scene.plan
    return Stakeholder.objects.create(plan=plan, organization=organization, influence=3, interest=3)


def _area() -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code="P1")


def _person_form(s, o: dict) -> dict[str, Any]:
    number = s.number()
    person = o.get("person")
    return {
        "name": f"Walk person {number}",
        "title": "Officer",
        "organization": s.moh.pk,
        "email": f"walk{number}@example.org",
        "phone": "+1 555 0199",
        "sector": "human_health",
        "level": "country",
        "user": "",
        "notes": "",
        "version": person.version if person else "",
    }


def _person_body(s, o: dict) -> dict[str, Any]:
    body = _person_form(s, o)
    body["user"] = None
    if o.get("person") is None:
        body.pop("version")
    return body


def _stakeholder_form(s, o: dict) -> dict[str, Any]:
    stakeholder = o.get("stakeholder")
    organization = stakeholder.organization if stakeholder else s.fresh_organization()
    return {
        "organization": organization.pk,
        "roles": ["implementer"],
        "sectors": ["human_health"],
        "hazards": [],
        "technical_areas": [_area().pk],
        "influence": 4,
        "interest": 2,
        "relationship": "consulted",
        "relationship_owner": s.people["secretariat_lead"].pk,
        "notes": "",
        "version": stakeholder.version if stakeholder else "",
    }


def _stakeholder_body(s, o: dict) -> dict[str, Any]:
    body = _stakeholder_form(s, o)
    if o.get("stakeholder") is None:
        body.pop("version")
    return body


def _merge_form(s, o: dict) -> dict[str, Any]:
    return {
        "version": o["person"].version,
        "entered_title": "Director",
        "entered_organization": s.moh.pk,
        "entered_user": "",
        "keep_title": "entered",
        "keep_organization": "entered",
    }


PAYLOADS = {
    ("person_new", "POST"): lambda s, p, o: _person_form(s, o),
    ("person_edit", "POST"): lambda s, p, o: _person_form(s, o),
    ("person_delete", "POST"): lambda s, p, o: {"version": o["person"].version},
    ("person_merge", "POST"): lambda s, p, o: _merge_form(s, o),
    ("person_erase", "POST"): lambda s, p, o: {"version": o["person"].version, "confirm": "yes"},
    ("stakeholder_new", "POST"): lambda s, p, o: _stakeholder_form(s, o),
    ("stakeholder_edit", "POST"): lambda s, p, o: _stakeholder_form(s, o),
    ("stakeholder_delete", "POST"): lambda s, p, o: {"version": o["stakeholder"].version},
    ("person-list", "POST"): lambda s, p, o: _person_body(s, o),
    ("person-detail", "PUT"): lambda s, p, o: _person_body(s, o),
    ("person-detail", "PATCH"): lambda s, p, o: {"title": "Adviser", "version": o["person"].version},
    ("person-merge", "POST"): lambda s, p, o: {"version": o["person"].version, "organization": s.moh.pk},
    ("person-erase", "POST"): lambda s, p, o: {"version": o["person"].version},
    ("stakeholder-list", "POST"): lambda s, p, o: _stakeholder_body(s, o),
    ("stakeholder-detail", "PUT"): lambda s, p, o: _stakeholder_body(s, o),
    ("stakeholder-detail", "PATCH"): lambda s, p, o: {"interest": 4, "version": o["stakeholder"].version},
}

FILLERS = {"person_id": _person, "stakeholder_id": _stakeholder}
P1_ROUTES: frozenset[str] = frozenset()
NO_REFERENCES: frozenset[str] = frozenset({"person_delete", "person_erase", "person-erase", "stakeholder_delete"})


def ELSEWHERE(scene, sibling) -> dict[type, list[tuple[str, Any]]]:  # the walk's name
    """People of another plan the lead runs, and of another country's plan, for `other` of a merge."""
    return {
        Person: [
            ("a person of another plan they run", Person.objects.create(plan=sibling, name="Sibling's person")),
            ("another country's person", Person.objects.create(plan=scene.elsewhere_plan, name="Far person")),
        ],
        Organization: [("another country's organization", scene.elsewhere_organization)],
    }


# The register and the stakeholder map go on once the plan is endorsed: engagement is not the plan's content.
GOES_ON = frozenset(
    {
        "person-detail",
        "person-erase",
        "person-list",
        "person-merge",
        "person_delete",
        "person_edit",
        "person_erase",
        "person_merge",
        "person_new",
        "stakeholder-detail",
        "stakeholder-list",
        "stakeholder_delete",
        "stakeholder_edit",
        "stakeholder_new",
    }
)
