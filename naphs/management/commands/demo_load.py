"""Load the demo: Demoland, its national strategic plan and one provincial plan, organizations, and one
user per role. Safe to run again: it finds what exists and puts the demo users' roles and passwords back."""

from __future__ import annotations

import os

from django.contrib.auth.models import Permission as AuthPermission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from costing.demo import demo_costing_load
from naphs.permissions import Role
from planning.libraries import demo_library_load
from planning.models import CountryGrant, Framework, Jurisdiction, Plan, TechnicalArea
from planning.services import country_grant_give
from stakeholders.demo import demo_engagement_load
from stakeholders.models import Organization, PlanMembership, Sector, User

COUNTRY = ("XD", "Demoland")  # XD: an ISO 3166-1 code reserved for user assignment, so no real country
PROVINCES = {
    "Coastal Province": ["Port Amani District", "Lagoon District"],
    "Highland Province": ["Mlima District", "Tea Hills District"],
}
ORGANIZATIONS = [
    # name, acronym, kind, sectors, jurisdiction (None: the country)
    ("Ministry of Health", "MOH", "ministry", [Sector.HUMAN_HEALTH], None),
    ("Ministry of Agriculture and Livestock", "MOAL", "ministry", [Sector.ANIMAL_HEALTH, Sector.AGRICULTURE], None),
    ("National Environment Agency", "NEA", "agency", [Sector.ENVIRONMENT], None),
    ("National Public Health Institute", "NPHI", "agency", [Sector.HUMAN_HEALTH], None),
    ("National Disaster Management Authority", "NDMA", "agency", [Sector.DISASTER_MANAGEMENT], None),
    ("Ministry of Finance", "MOF", "ministry", [Sector.FINANCE], None),
    ("World Health Organization Country Office", "WHO", "who_un", [Sector.HUMAN_HEALTH], None),
    ("Demoland Red Cross Society", "DRCS", "ngo", [Sector.HUMAN_HEALTH, Sector.DISASTER_MANAGEMENT], None),
    ("Global Health Security Fund", "GHSF", "donor", [Sector.FINANCE], None),
    ("Coastal Provincial Health Department", "CPHD", "department", [Sector.HUMAN_HEALTH], "Coastal Province"),
]
NATIONAL_PLAN = "Demoland National Action Plan for Health Security 2026–2030"
PROVINCIAL_PLAN = "Coastal Province Health Security Plan 2026–2030"
# user name, first, last, role in the national plan, organization acronym, role in the provincial plan
USERS = [
    ("lead", "Amina", "Odhiambo", Role.SECRETARIAT_LEAD, "MOH", Role.SECRETARIAT_LEAD),
    ("secretariat", "Joseph", "Mwangi", Role.SECRETARIAT_MEMBER, "NPHI", None),
    ("techlead", "Grace", "Wanjiru", Role.TECHNICAL_LEAD, "NPHI", None),
    ("focalpoint", "Peter", "Kamau", Role.FOCAL_POINT, "MOAL", Role.FOCAL_POINT),
    ("reviewer", "Marie", "Dubois", Role.REVIEWER, "WHO", Role.REVIEWER),
    ("viewer", "Samuel", "Otieno", Role.VIEWER, "GHSF", None),
]
# A technical lead edits the activities and costs of their technical areas only: without areas, nothing.
# The institute's lead takes the areas it is responsible for in the demo (costing.demo.RESPONSIBLE).
TECHNICAL_AREAS = {"techlead": ("D1", "D2")}


class Command(BaseCommand):
    help = "Load the Demoland demo (idempotent) and print the demo users' names and password."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD", "naphs-demo-2026"))

    @transaction.atomic
    def handle(self, *args, password: str, **options) -> None:
        from django.conf import settings

        if not settings.DEBUG and not os.environ.get("DEMO_ALLOW_PRODUCTION"):
            raise CommandError("The demo has well-known passwords; set DEMO_ALLOW_PRODUCTION=1 to load it anyway.")
        country, _ = Jurisdiction.objects.get_or_create(
            level=Jurisdiction.Level.COUNTRY, code=COUNTRY[0], defaults={"name": COUNTRY[1]}
        )
        places: dict[str | None, Jurisdiction] = {None: country}
        for province_name, districts in PROVINCES.items():
            province, _ = Jurisdiction.objects.get_or_create(
                level=Jurisdiction.Level.PROVINCE, parent=country, name=province_name
            )
            places[province_name] = province
            for district in districts:
                Jurisdiction.objects.get_or_create(level=Jurisdiction.Level.DISTRICT, parent=province, name=district)
        organizations = {}
        for name, acronym, kind, sectors, place in ORGANIZATIONS:
            organizations[acronym], _ = Organization.objects.update_or_create(
                jurisdiction=places[place], name=name, defaults={"acronym": acronym, "kind": kind, "sectors": sectors}
            )
        jee = Framework.objects.get(code="JEE3")
        national, _ = Plan.objects.get_or_create(
            jurisdiction=country,
            title=NATIONAL_PLAN,
            defaults={"kind": Plan.Kind.STRATEGIC, "first_year": 2026, "last_year": 2030, "framework": jee},
        )
        provincial, _ = Plan.objects.get_or_create(
            jurisdiction=places["Coastal Province"],
            title=PROVINCIAL_PLAN,
            defaults={
                "kind": Plan.Kind.STRATEGIC,
                "first_year": 2026,
                "last_year": 2030,
                "parent": national,
                "framework": jee,
            },
        )
        for username, first, last, role, acronym, provincial_role in USERS:
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "email": f"{username}@demoland.example"},
            )
            user.set_password(password)
            user.is_active = True
            user.save()
            for plan, plan_role in ((national, role), (provincial, provincial_role)):
                if plan_role is None:
                    continue
                membership, _ = PlanMembership.objects.update_or_create(
                    plan=plan, user=user, defaults={"role": plan_role, "organization": organizations[acronym]}
                )
                if plan_role == Role.TECHNICAL_LEAD:
                    membership.technical_areas.set(
                        TechnicalArea.objects.filter(framework=jee, code__in=TECHNICAL_AREAS.get(username, ()))
                    )
        admin, _ = User.objects.get_or_create(
            username="admin", defaults={"email": "admin@demoland.example", "first_name": "Site", "last_name": "Admin"}
        )
        admin.is_staff = admin.is_superuser = True
        admin.set_password(password)
        admin.save()
        # The lead may open new national plans of Demoland (and of no other country), as a country's NAPHS
        # coordinator would: the administrator's grant. The global permission earlier demos gave goes.
        lead = User.objects.get(username="lead")
        lead.user_permissions.remove(
            *AuthPermission.objects.filter(codename="add_plan", content_type__app_label="planning")
        )
        if not CountryGrant.objects.filter(user=lead, country=country).exists():
            country_grant_give(by=admin, user=lead, country=country)

        library, _loaded = demo_library_load(framework=jee)
        costed = demo_costing_load(national=national, provincial=provincial, organizations=organizations, by=lead)
        demo_engagement_load(plan=national, organizations=organizations, by=lead)

        self.stdout.write(self.style.SUCCESS(f"Demo loaded: {country}, “{national}” and “{provincial}”."))
        self.stdout.write(f"Benchmark library: “{library}” ({library.actions.count()} actions).")
        if costed:
            lines = national.cost_lines.count()
            self.stdout.write(f"Costing: {national.activities.count()} activities drafted, {lines} cost lines.")
        self.stdout.write(f"Demo users (password: {password}):")
        for username, _first, _last, role, acronym, provincial_role in USERS:
            extra = f"; {provincial_role.label.lower()} in the provincial plan" if provincial_role else ""
            self.stdout.write(f"  {username:<12} {role.label} ({acronym}) in the national plan{extra}")
        self.stdout.write(f"  {'admin':<12} administrator (Django admin at /admin/)")
