"""The demo's costing: Demoland's national plan drafted from its JEE scores and the demo library, costed in
US dollars at 2026 prices from a national unit-cost catalogue, with government, donor and partner funding;
the Coastal Province plan with a few costed activities of its own. Some activities of the Ministry of
Agriculture and Livestock are left uncosted: the demo focal point's work. Loaded once; run again, it
changes nothing."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from costing.funding import funding_commitment_create
from costing.models import CatalogueItem, CostLine, FundingCommitment
from costing.rollups import plan_rollup
from costing.services import cost_line_create, exchange_rate_set, plan_costing_get
from planning.activities import activity_create
from planning.assessments import assessment_create, scores_import
from planning.drafting import draft_generate
from planning.models import Activity, BenchmarkLibrary, Plan, TechnicalArea
from planning.targets import targets_fill_defaults
from stakeholders.models import Organization, User

# Who answers for each technical area's activities (acronyms of the demo's organizations).
RESPONSIBLE = {
    "P2": "MOF",
    "P4": "MOH",
    "P5": "MOAL",
    "P6": "MOAL",
    "D1": "NPHI",
    "D2": "NPHI",
    "D3": "MOH",
    "R1": "NDMA",
    "R5": "MOH",
    "CE": "NEA",
    "RE": "NEA",
}
EUR_RATES = {2026: "1.08", 2027: "1.09", 2028: "1.10", 2029: "1.10", 2030: "1.11"}
# name, category, unit, unit cost (USD unless EUR), currency, source
CATALOGUE = [
    ("Conference venue, full day", "meetings", "day", "450", "USD", "Government conference centre tariff 2026"),
    ("Meals and refreshments", "meetings", "meal", "12", "USD", "Government conference centre tariff 2026"),
    ("Per diem, national rate", "per_diem_travel", "night", "65", "USD", "Ministry of Finance circular 4/2026"),
    ("Return travel within the country", "per_diem_travel", "trip", "80", "USD", "Average bus and air fares 2026"),
    ("National consultant", "consultancy", "person-day", "250", "USD", "UN harmonized rates 2026"),
    ("International consultant", "consultancy", "person-day", "650", "EUR", "Partner framework contract 2026"),
    ("Training materials pack", "training", "participant", "25", "USD", "Printing quotes 2026"),
    ("Facilitator fee", "training", "person-day", "150", "USD", "UN harmonized rates 2026"),
    ("Vehicle hire with driver", "transport", "vehicle-day", "120", "USD", "Government fleet tariff 2026"),
    ("Fuel", "transport", "litre", "1.45", "USD", "Pump price, January 2026"),
    ("Laboratory equipment kit", "equipment", "kit", "18500", "EUR", "Supplier catalogue 2026"),
    ("Printed guideline", "communication", "copy", "6", "USD", "Printing quotes 2026"),
    ("Epidemiologist post", "personnel", "post-month", "2200", "USD", "Public service salary scale 2026"),
]
PROVINCIAL_ACTIVITIES = [
    ("D2", "Train district rapid response teams in the coastal districts"),
    ("D2", "Set up event-based surveillance at the ports of Port Amani"),
    ("R1", "Run a provincial cholera preparedness simulation"),
    ("R5", "Community radio messages on cholera prevention"),
    ("PoE", "Equip the Port Amani health desk for screening"),
]


def _pick(rng: random.Random, items: list) -> list:
    return rng.sample(items, k=rng.randint(1, 3))


def _lines_for(activity: Activity, items: dict[str, CatalogueItem], rng: random.Random) -> list[tuple[dict, dict]]:
    """A plausible costing for an activity, by its kind: a workshop, a consultancy, equipment or staff."""
    first = activity.plan.first_year
    years = {first + offset: rng.choice([1, 1, 2]) for offset in range(rng.randint(1, 3))}
    once = {first + rng.randint(0, 2): 1}
    participants = rng.choice([20, 25, 30, 40])
    days = rng.choice([2, 3, 5])
    kind = rng.choice(["workshop", "workshop", "consultancy", "equipment", "staff"])
    if kind == "workshop":
        return [
            ({"catalogue_item": items["Conference venue, full day"], "description": "Venue", "quantity": days}, years),
            (
                {
                    "catalogue_item": items["Meals and refreshments"],
                    "description": f"Meals for {participants} participants",
                    "quantity": participants * days,
                    "assumptions": f"{participants} participants × {days} days",
                },
                years,
            ),
            (
                {
                    "catalogue_item": items["Per diem, national rate"],
                    "description": "Per diem of participants from the provinces",
                    "quantity": participants // 2 * days,
                    "assumptions": f"Half of the participants travel; {days} nights",
                },
                years,
            ),
        ]
    if kind == "consultancy":
        international = rng.random() < 0.3
        item = items["International consultant" if international else "National consultant"]
        return [
            (
                {"catalogue_item": item, "description": "Technical assistance", "quantity": rng.choice([20, 30, 45])},
                once,
            )
        ]
    if kind == "equipment":
        return [
            (
                {
                    "catalogue_item": items["Laboratory equipment kit"],
                    "description": "Equipment",
                    "quantity": rng.choice([1, 2, 4]),
                    "recurrence": CostLine.Recurrence.ONE_OFF,
                },
                once,
            ),
            (
                {
                    "catalogue_item": items["Printed guideline"],
                    "description": "Standard operating procedures",
                    "quantity": 200,
                    "optional": True,
                },
                once,
            ),
        ]
    return [
        (
            {
                "catalogue_item": items["Epidemiologist post"],
                "description": "Staff",
                "quantity": rng.choice([1, 2]) * 12,
                "assumptions": "Posts × 12 months a year",
            },
            dict.fromkeys(range(first, activity.plan.last_year + 1), 1),
        )
    ]


def _line(activity: Activity, by: User, fields: dict, frequencies: dict) -> None:
    item = fields["catalogue_item"]
    values = {"category": item.category, "recurrence": CostLine.Recurrence.RECURRING, **fields}
    values["quantity"] = Decimal(values["quantity"])
    cost_line_create(activity=activity, by=by, fields=values, frequencies=frequencies)


def demo_costing_load(*, national: Plan, provincial: Plan, organizations: dict[str, Organization], by: User) -> bool:
    """Draft, cost and fund the demo plans, once. False when the national plan has cost lines already."""
    if CostLine.objects.filter(plan=national).exists():
        return False
    rng = random.Random(2026)  # noqa: S311 -- a repeatable demo, not a secret
    jee = national.framework
    if jee is None:
        raise ValueError("The demo's national plan follows JEE 3.")
    if not national.activities.exists():
        assessment = assessment_create(
            plan=national, by=by, framework=jee, kind="jee", date=datetime.date(2024, 6, 14), source="JEE mission 2024"
        )
        scores = Path(settings.BASE_DIR) / "planning" / "reference" / "demo_jee3_scores.csv"
        with scores.open("rb") as upload:
            scores_import(assessment=assessment, by=by, upload=upload, filename=scores.name)
        targets_fill_defaults(plan=national, by=by)
        library = BenchmarkLibrary.objects.filter(framework=jee).order_by("pk").first()
        if library is None:
            raise ValueError("The demo needs the demo benchmark library, loaded before it.")
        draft_generate(
            plan=national, by=by, library=library, technical_areas=TechnicalArea.objects.filter(framework=jee)
        )
    for code, acronym in RESPONSIBLE.items():
        national.activities.filter(technical_area__code=code, responsible_organization__isnull=True).update(
            responsible_organization=organizations[acronym]
        )
    national.activities.filter(responsible_organization__isnull=True).update(
        responsible_organization=organizations["MOH"]
    )

    costing = plan_costing_get(national)
    for year, rate in EUR_RATES.items():
        exchange_rate_set(plan=national, by=by, currency="EUR", year=year, rate=Decimal(rate), source="Central bank")
    items = {}
    for name, category, unit, cost, currency, source in CATALOGUE:
        items[name], _ = CatalogueItem.objects.get_or_create(
            jurisdiction=national.jurisdiction,
            name=name,
            defaults={
                "category": category,
                "unit": unit,
                "unit_cost": Decimal(cost),
                "currency": currency,
                "price_year": costing.price_year,
                "source": source,
            },
        )
    agriculture = organizations["MOAL"]
    activities = list(national.activities.select_related("plan").order_by("pk"))
    for index, activity in enumerate(activities):
        if activity.responsible_organization_id == agriculture.pk and index % 2:
            continue  # left for the focal point to cost in the workbook
        for fields, frequencies in _lines_for(activity, items, rng):
            _line(activity, by, fields, frequencies)

    by_area: dict[str, list[Activity]] = {}
    for activity in activities:
        by_area.setdefault(activity.technical_area.code, []).append(activity)
    area = {area.code: area for area in TechnicalArea.objects.filter(framework=jee)}
    d_activities = by_area.get("D1", [])[:6] + by_area.get("D2", [])[:6]
    for fields, funded in (
        (
            {
                "source_organization": organizations["MOF"],
                "source_kind": FundingCommitment.SourceKind.GOVERNMENT,
                "budget_line": "Vote 12-04: Preventive health services",
                "amount": Decimal("250000"),
                "currency": "USD",
                "first_year": 2026,
                "last_year": 2030,
                "status": FundingCommitment.Status.COMMITTED,
                "technical_area": area["P1"],
            },
            [],
        ),
        (
            {
                "source_organization": organizations["GHSF"],
                "source_kind": FundingCommitment.SourceKind.DONOR,
                "budget_line": "Grant GHSF-DL-2026-03",
                "amount": Decimal("360000"),
                "currency": "EUR",
                "first_year": 2026,
                "last_year": 2028,
                "status": FundingCommitment.Status.COMMITTED,
            },
            d_activities,
        ),
        (
            {
                "source_organization": organizations["WHO"],
                "source_kind": FundingCommitment.SourceKind.PARTNER,
                "amount": Decimal("250000"),
                "currency": "USD",
                "first_year": 2026,
                "last_year": 2027,
                "status": FundingCommitment.Status.PLEDGED,
                "technical_area": area["R1"],
            },
            [],
        ),
    ):
        funding_commitment_create(plan=national, by=by, fields=fields, activities=funded)

    plan_costing_get(provincial)
    for year, rate in EUR_RATES.items():
        exchange_rate_set(plan=provincial, by=by, currency="EUR", year=year, rate=Decimal(rate), source="Central bank")
    if not provincial.activities.exists():
        for code, title in PROVINCIAL_ACTIVITIES:
            activity = activity_create(
                plan=provincial,
                by=by,
                technical_area=area[code],
                title=title,
                responsible_organization=organizations["CPHD"],
                implementation_level=Activity.Level.PROVINCIAL,
            )
            for fields, frequencies in _lines_for(activity, items, rng):
                _line(activity, by, fields, frequencies)
    for plan in (national, provincial):
        plan_rollup(plan_id=plan.pk)
    return True
