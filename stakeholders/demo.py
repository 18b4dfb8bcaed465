"""The demo's engagement: Demoland's national plan with its stakeholder map (the ten organizations, across human,
animal and environmental health, finance and disaster management), a register of the people the secretariat works
with, and the validation workshop they were invited to. Loaded once through the product's services; run again, it
changes nothing."""

from __future__ import annotations

import datetime

from naphs.choices import Hazard, Sector
from planning.models import Plan, TechnicalArea
from stakeholders.events import event_create, participants_add
from stakeholders.mapping import person_create, stakeholder_create
from stakeholders.models import EngagementEvent, NaphsRole, Organization, User

# acronym: roles, sectors, technical areas of interest, influence, interest, relationship
MAP = {
    "MOH": ([NaphsRole.LEAD, NaphsRole.IMPLEMENTER], [Sector.HUMAN_HEALTH], ("P1", "D2", "R1"), 4, 4, "collaborating"),
    "MOAL": ([NaphsRole.IMPLEMENTER], [Sector.ANIMAL_HEALTH, Sector.AGRICULTURE], ("P5", "P6"), 3, 4, "involved"),
    "NEA": ([NaphsRole.IMPLEMENTER], [Sector.ENVIRONMENT], ("CE",), 2, 3, "consulted"),
    "NPHI": (
        [NaphsRole.COORDINATOR, NaphsRole.IMPLEMENTER],
        [Sector.HUMAN_HEALTH],
        ("D1", "D2"),
        3,
        4,
        "collaborating",
    ),
    "NDMA": ([NaphsRole.IMPLEMENTER], [Sector.DISASTER_MANAGEMENT], ("R1",), 3, 2, "informed"),
    "MOF": ([NaphsRole.FUNDER], [Sector.FINANCE], ("P2",), 4, 2, "to_engage"),
    "WHO": ([NaphsRole.TECHNICAL_PARTNER], [Sector.HUMAN_HEALTH], ("D1", "D2", "R1"), 3, 4, "collaborating"),
    "DRCS": ([NaphsRole.IMPLEMENTER, NaphsRole.ADVOCATE], [Sector.HUMAN_HEALTH], ("RE",), 1, 3, "consulted"),
    "GHSF": ([NaphsRole.FUNDER], [Sector.FINANCE], ("D1", "P4"), 4, 3, "consulted"),
}
# name, title, organization acronym, e-mail, sector
PEOPLE = [
    ("Dr. Halima Said", "Director of Public Health", "MOH", "h.said@health.demoland.example", Sector.HUMAN_HEALTH),
    ("Dr. John Ochieng", "Chief Veterinary Officer", "MOAL", "j.ochieng@agri.demoland.example", Sector.ANIMAL_HEALTH),
    ("Ruth Njeri", "Head of Environmental Health", "NEA", "r.njeri@nea.demoland.example", Sector.ENVIRONMENT),
    ("David Kiptoo", "Budget Officer", "MOF", "d.kiptoo@finance.demoland.example", Sector.FINANCE),
    ("Fatuma Ali", "Emergency Operations Manager", "NDMA", "f.ali@ndma.demoland.example", Sector.DISASTER_MANAGEMENT),
    ("Dr. Paul Laurent", "Health Security Officer", "WHO", "laurentp@who.example", Sector.HUMAN_HEALTH),
]


def demo_engagement_load(*, plan: Plan, organizations: dict[str, Organization], by: User) -> bool:
    """Map the demo's stakeholders, fill the register and record the validation workshop, once: False when the
    plan has a stakeholder map already."""
    if plan.stakeholders.exists():
        return False
    areas = {area.code: area for area in TechnicalArea.objects.filter(framework=plan.framework)}
    for acronym, (roles, sectors, codes, influence, interest, relationship) in MAP.items():
        stakeholder_create(
            plan=plan,
            by=by,
            fields={
                "organization": organizations[acronym],
                "roles": roles,
                "sectors": sectors,
                "hazards": [Hazard.ALL_HAZARDS],
                "technical_areas": [areas[code] for code in codes if code in areas],
                "influence": influence,
                "interest": interest,
                "relationship": relationship,
                "relationship_owner": by,
            },
        )
    people = [
        person_create(
            plan=plan,
            by=by,
            fields={
                "name": name,
                "title": title,
                "organization": organizations[acronym],
                "email": email,
                "sector": sector,
                "level": "country",
            },
        )
        for name, title, acronym, email, sector in PEOPLE
    ]
    workshop = event_create(
        plan=plan,
        by=by,
        fields={
            "kind": EngagementEvent.Kind.VALIDATION,
            "title": "National validation workshop of the draft NAPHS",
            "starts_on": datetime.date(2026, 3, 10),
            "ends_on": datetime.date(2026, 3, 11),
            "place": "Government Conference Centre, Amani City",
            "organizers": [organizations["MOH"], organizations["WHO"]],
            "technical_areas": list(areas.values())[:6],
            "agenda": "Day 1: the draft by technical area.\nDay 2: priorities, costing and the way to endorsement.",
        },
    )
    # Everyone invited came but the budget officer.
    participants_add(event=workshop, by=by, people=people[:3] + people[4:], attended=True)
    participants_add(event=workshop, by=by, people=people[3:4], attended=False)
    return True
