"""The stakeholder register and map of a plan: the people (`Person`), the organizations in the map (`Stakeholder`),
the influence/interest grid with the strategy each quadrant implies (the one place they are written, for the pages
and the API alike), and the coverage of the plan's technical areas and sectors by engaged stakeholders.

Every write is checked whole before anything is saved, each problem named by its field; every reference is one the
plan may use (an organization of its country, an account of a member, an area of its framework, an owner of its
secretariat); a stale edit is refused (version); every write is audited. A duplicate person (the e-mail of another
person of the plan, or the same name in the same organization, ignoring case) is refused with DuplicatePerson, which
names the existing person so the page and the API can offer to merge (`person_merge`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from naphs.choices import Sector
from naphs.errors import EditConflict
from naphs.permissions import SECRETARIAT_ROLES
from naphs.services import audit_record, row_insert, versioned_update
from planning.models import Activity, TechnicalArea
from planning.selectors import technical_areas_of
from stakeholders.models import Advocacy, Organization, Participant, Person, PlanMembership, Stakeholder, User
from stakeholders.selectors import organization_list_for_plan

if TYPE_CHECKING:
    from planning.models import Plan


PERSON_FIELDS = ("name", "title", "organization", "email", "phone", "sector", "level", "user", "notes")
STAKEHOLDER_FIELDS = (
    "organization",
    "roles",
    "sectors",
    "hazards",
    "technical_areas",
    "influence",
    "interest",
    "relationship",
    "relationship_owner",
    "notes",
)
_PERSON_TEXT = ("name", "title", "email", "phone", "notes")


# --- The influence/interest grid -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quadrant:
    """One quadrant of the influence/interest grid and the strategy it implies."""

    key: str
    high_influence: bool
    high_interest: bool
    label: Any
    strategy: Any


QUADRANTS = (
    Quadrant(
        "manage_closely",
        True,
        True,
        _("Manage closely"),
        _(
            "High influence, high interest: engage them fully. Involve them in drafting and validating the plan, "
            "consult them before each decision, and give them a role in its governance and its launch."
        ),
    ),
    Quadrant(
        "keep_satisfied",
        True,
        False,
        _("Keep satisfied"),
        _(
            "High influence, low interest: keep them satisfied without overloading them. Brief them on what matters "
            "to them (budget, mandate, risks), ask for their decisions in time, and raise their interest where the "
            "plan needs them."
        ),
    ),
    Quadrant(
        "keep_informed",
        False,
        True,
        _("Keep informed"),
        _(
            "Low influence, high interest: keep them informed and listen to them. Share progress regularly, invite "
            "them to consultations, and draw on their knowledge and their networks."
        ),
    ),
    Quadrant(
        "monitor",
        False,
        False,
        _("Monitor"),
        _(
            "Low influence, low interest: monitor them with little effort. Share general information, and watch for "
            "changes in their influence or interest."
        ),
    ),
)
QUADRANT_KEYS = tuple(quadrant.key for quadrant in QUADRANTS)


def quadrant_of(*, influence: int, interest: int) -> Quadrant:
    """The quadrant of a stakeholder with this influence and interest (3 and 4 count as high)."""
    high_influence, high_interest = influence >= Stakeholder.HIGH_FROM, interest >= Stakeholder.HIGH_FROM
    return next(q for q in QUADRANTS if (q.high_influence, q.high_interest) == (high_influence, high_interest))


@dataclass
class GridQuadrant:
    quadrant: Quadrant
    members: list[Stakeholder]


def stakeholder_grid(stakeholders: list[Stakeholder]) -> list[GridQuadrant]:
    """The four quadrants in QUADRANTS' order, each with its stakeholders (most influential, most interested first)."""
    grid = {quadrant.key: GridQuadrant(quadrant, []) for quadrant in QUADRANTS}
    for stakeholder in stakeholders:
        grid[quadrant_of(influence=stakeholder.influence, interest=stakeholder.interest).key].members.append(
            stakeholder
        )
    for cell in grid.values():
        cell.members.sort(key=lambda s: (-s.influence, -s.interest, str(s.organization).casefold()))
    return list(grid.values())


# --- Reads ---------------------------------------------------------------------------------------------------------


def person_list_for_plan(*, plan: Plan) -> QuerySet[Person]:
    return (
        Person.objects.filter(plan=plan)
        .select_related("organization", "user")
        .annotate(participation_count=Count("participations", distinct=True))
        .order_by("name", "pk")
    )


def people_filtered(
    people: QuerySet[Person],
    *,
    organization: Organization | None = None,
    sector: str = "",
    level: str = "",
    text: str = "",
) -> QuerySet[Person]:
    if organization is not None:
        people = people.filter(organization=organization)
    if sector:
        people = people.filter(sector=sector)
    if level:
        people = people.filter(level=level)
    if text := text.strip():
        people = people.filter(
            Q(name__icontains=text) | Q(title__icontains=text) | Q(email__icontains=text) | Q(notes__icontains=text)
        )
    return people


def stakeholder_list_for_plan(*, plan: Plan) -> QuerySet[Stakeholder]:
    return (
        Stakeholder.objects.filter(plan=plan)
        .select_related("organization", "relationship_owner")
        .prefetch_related(Prefetch("technical_areas", queryset=TechnicalArea.objects.order_by("order", "code")))
        .order_by("organization__name", "pk")
    )


def secretariat_users(*, plan: Plan) -> QuerySet[User]:
    """The accounts that may own a relationship: the plan's secretariat."""
    return User.objects.filter(plan_memberships__plan=plan, plan_memberships__role__in=SECRETARIAT_ROLES).order_by(
        "first_name", "last_name", "username"
    )


def member_users(*, plan: Plan) -> QuerySet[User]:
    """The accounts a person of the register may be linked to: the plan's members."""
    return User.objects.filter(plan_memberships__plan=plan).order_by("first_name", "last_name", "username")


@dataclass(frozen=True)
class AreaCoverage:
    area: TechnicalArea
    engaged: int  # engaged stakeholders interested in the area
    has_activities: bool


@dataclass(frozen=True)
class SectorCoverage:
    value: str
    label: Any
    engaged: int


@dataclass(frozen=True)
class Coverage:
    areas: list[AreaCoverage]
    sectors: list[SectorCoverage]

    @property
    def uncovered_areas(self) -> list[AreaCoverage]:
        return [row for row in self.areas if not row.engaged]

    @property
    def uncovered_sectors(self) -> list[SectorCoverage]:
        return [row for row in self.sectors if not row.engaged]


def stakeholder_coverage(*, plan: Plan) -> Coverage:
    """Which technical areas of the plan's framework (with whether the plan has activities in each) and which sectors
    have engaged stakeholders, and how many: two queries whatever the plan's size."""
    engaged = Stakeholder.objects.filter(plan=plan, relationship__in=Stakeholder.ENGAGED)
    counts = (
        Stakeholder.technical_areas.through.objects.filter(
            stakeholder__plan=plan, stakeholder__relationship__in=Stakeholder.ENGAGED, technicalarea_id=OuterRef("pk")
        )
        .order_by()
        .values("technicalarea_id")
        .annotate(n=Count("stakeholder_id", distinct=True))
        .values("n")  # type: ignore[misc]  # the annotation above
    )
    areas = technical_areas_of(plan).annotate(
        engaged_count=Coalesce(Subquery(counts, output_field=IntegerField()), 0),
        has_activities=Exists(Activity.objects.filter(plan=plan, technical_area_id=OuterRef("pk"))),
    )
    area_rows = [AreaCoverage(area, area.engaged_count, area.has_activities) for area in areas]
    if connection.vendor == "postgresql":
        totals = engaged.aggregate(
            **{sector.value: Count("pk", filter=Q(sectors__contains=[sector.value])) for sector in Sector}
        )
    else:  # SQLite (the embedded mode) has no JSON containment: count the lists the one query reads
        totals = dict.fromkeys(Sector.values, 0)
        for sectors in engaged.values_list("sectors", flat=True):
            for value in set(sectors or ()):
                if value in totals:
                    totals[value] += 1
    sector_rows = [SectorCoverage(sector.value, sector.label, totals.get(sector.value) or 0) for sector in Sector]
    return Coverage(area_rows, sector_rows)


# --- Duplicates ----------------------------------------------------------------------------------------------------


class DuplicatePerson(ValidationError):
    """A person refused as another of the plan's register: `existing` is that person, `field` the field they share
    ("email", or "name" for the same name in the same organization)."""

    def __init__(self, existing: Person, field: str) -> None:
        if field == "email":
            message = gettext(
                "%(person)s already has this e-mail address in the plan's register: merge the two records instead."
            )
        else:
            message = gettext(
                "%(person)s of %(organization)s is already in the plan's register: merge the two records instead."
            )
        text = message % {"person": existing.name, "organization": existing.organization}
        super().__init__({field: [ValidationError(text, code="duplicate_person")]})
        self.existing = existing
        self.field = field


def person_duplicate_of(
    *, plan: Plan, values: Mapping[str, Any], exclude: tuple[int | None, ...] = ()
) -> DuplicatePerson | None:
    """The refusal a person with these values gets as another of the plan's register, if any (one query)."""
    email = (values.get("email") or "").strip()
    name = (values.get("name") or "").strip()
    organization = values.get("organization")
    match = Q(pk__in=[])
    if email:
        match |= Q(email__iexact=email)
    if name and organization is not None:
        match |= Q(name__iexact=name, organization=organization, erased_at__isnull=True)
    found = (
        Person.objects.filter(match, plan=plan)
        .exclude(pk__in=[pk for pk in exclude if pk is not None])
        .select_related("organization")
        .order_by("pk")
    )
    for person in found:
        if email and person.email.casefold() == email.casefold():
            return DuplicatePerson(person, "email")
    for person in found:
        return DuplicatePerson(person, "name")
    return None


# --- Writes to people ----------------------------------------------------------------------------------------------


def _person_prepare(
    plan: Plan, person: Person, fields: Mapping[str, Any], *, exclude: tuple[int | None, ...] = ()
) -> dict[str, Any]:
    """The fields as stored, checked whole: references the plan may use, the model's rules, no duplicate."""
    unknown = set(fields) - set(PERSON_FIELDS)
    if unknown:
        raise TypeError(f"People have no editable field {', '.join(sorted(unknown))}")
    if person.erased_at is not None:
        raise ValidationError(gettext("This person's record was erased on request; it cannot be changed."))
    values = {name: fields.get(name, getattr(person, name)) for name in PERSON_FIELDS}
    for name in _PERSON_TEXT:
        values[name] = (values[name] or "").strip()
    values["sector"] = values["sector"] or ""
    values["level"] = values["level"] or ""
    errors: dict[str, list[str]] = {}
    organization: Organization | None = values["organization"]
    if organization is not None and not organization_list_for_plan(plan=plan).filter(pk=organization.pk).exists():
        errors["organization"] = [
            gettext("%(organization)s is not an organization of %(country)s.")
            % {"organization": organization, "country": plan.jurisdiction.name}
        ]
    user: User | None = values["user"]
    if user is not None and not PlanMembership.objects.filter(plan=plan, user=user).exists():
        errors["user"] = [gettext("%(user)s is not a member of this plan.") % {"user": user}]
    if user is not None and "user" not in errors:
        other = Person.objects.filter(plan=plan, user=user).exclude(pk__in=[p for p in (person.pk, *exclude) if p])
        if taken := other.first():
            errors["user"] = [
                gettext("This account is already linked to %(person)s in the register.") % {"person": taken}
            ]
    candidate = Person(plan=plan, **values)
    try:
        candidate.full_clean(exclude=["plan", *errors], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    duplicate = person_duplicate_of(plan=plan, values=values, exclude=(person.pk, *exclude))
    if duplicate is not None:
        raise duplicate
    return values


def _person_changes(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: str(value) for name, value in values.items() if value not in (None, "")}


@transaction.atomic
def person_create(*, plan: Plan, by: User, fields: Mapping[str, Any]) -> Person:
    values = _person_prepare(plan, Person(plan=plan), fields)
    person = Person(plan=plan, **values)

    def refused() -> Exception | None:  # someone saved the same person a moment earlier
        return person_duplicate_of(plan=plan, values=values)

    row_insert(person, refused=refused)
    audit_record(plan=plan, by=by, action="created", target=person, changes=_person_changes(values))
    return person


@transaction.atomic
def person_update(*, person: Person, by: User, version: int, fields: Mapping[str, Any]) -> Person:
    """Change a person as the secretariat last saw them (EditConflict when someone saved since `version`)."""
    plan = person.plan
    values = _person_prepare(plan, person, fields)
    try:
        changes = versioned_update(person, version=version, fields=values)
    except EditConflict:
        raise
    except ValidationError:
        if duplicate := person_duplicate_of(plan=plan, values=values, exclude=(person.pk,)):
            raise duplicate from None
        raise
    if changes:
        audit_record(plan=plan, by=by, action="edited", target=person, changes=changes)
    return person


@transaction.atomic
def person_delete(*, person: Person, by: User, version: int | None) -> None:
    """Remove a person from the register. Someone who took part in an event is kept (their participation counts in
    the event's summaries): erase their record instead."""
    if version is not None and not Person.objects.filter(pk=person.pk, version=version).exists():
        raise EditConflict(person)
    taken_part = person.participations.count()
    if taken_part:
        raise ValidationError(
            gettext(
                "%(person)s took part in events: their participations count in the events' summaries. Erase the "
                "record instead, which keeps the participations without the name."
            )
            % {"person": person},
            code="has_participations",
        )
    audit_record(
        plan=person.plan,
        by=by,
        action="deleted",
        target=person,
        changes={"name": person.name, "organization": str(person.organization or "")},
    )
    person.delete()


@transaction.atomic
def person_merge(
    *,
    person: Person,
    by: User,
    version: int,
    fields: Mapping[str, Any],
    other: Person | None = None,
    other_version: int | None = None,
) -> Person:
    """Make `person` (the record kept) hold `fields` (what the secretariat chose, field by field; those left out keep
    their value), all or nothing. With `other` (a second record of the same person), its participations (one per
    event: the kept record's own where both took part), its advocacy as messenger and its account link move onto
    `person`, and `other` is deleted. Either record changed since its version: EditConflict, nothing changed."""
    plan = person.plan
    held = {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=[person.pk, getattr(other, "pk", None)])}
    if held.get(person.pk) is None or held[person.pk].version != version:
        raise EditConflict(held.get(person.pk) or person)
    if other is not None:
        if other.pk == person.pk or other.plan_id != plan.pk:
            raise ValidationError({"other": [gettext("Choose another person of this plan's register to merge.")]})
        stored = held.get(other.pk)
        if stored is None or (other_version is not None and stored.version != other_version):
            raise EditConflict(stored or other)
        if other.erased_at is not None:
            raise ValidationError({"other": [gettext("An erased record cannot be merged.")]})
    chosen = dict(fields)
    if other is not None and "user" not in chosen and person.user_id is None and other.user_id is not None:
        chosen["user"] = other.user
    values = _person_prepare(plan, person, chosen, exclude=(getattr(other, "pk", None),))
    moved: dict[str, Any] = {}
    if other is not None:
        already = set(Participant.objects.filter(person=person).values_list("event_id", flat=True))
        doubles = Participant.objects.filter(person=other, event_id__in=already)
        moved["participations dropped"] = doubles.count()
        doubles.delete()
        moved["participations moved"] = Participant.objects.filter(person=other).update(person=person)
        through = Advocacy.messengers.through
        has = set(through.objects.filter(person=person).values_list("advocacy_id", flat=True))
        through.objects.filter(person=other, advocacy_id__in=has).delete()
        moved["advocacy moved"] = through.objects.filter(person=other).update(person=person)
        audit_record(
            plan=plan,
            by=by,
            action="deleted",
            target=other,
            changes={"name": other.name, "merged into": person.pk},
        )
        other.delete()  # its e-mail, name and account are free for the kept record now
    changes = versioned_update(person, version=version, fields=values)
    audit_record(plan=plan, by=by, action="edited", target=person, changes={**changes, **moved})
    return person


# --- Writes to the map ---------------------------------------------------------------------------------------------


def _stakeholder_prepare(plan: Plan, stakeholder: Stakeholder, fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(STAKEHOLDER_FIELDS)
    if unknown:
        raise TypeError(f"Stakeholders have no editable field {', '.join(sorted(unknown))}")
    values = {
        name: fields[name] if name in fields else getattr(stakeholder, name)
        for name in STAKEHOLDER_FIELDS
        if name != "technical_areas"
    }
    areas = list(
        fields["technical_areas"]
        if "technical_areas" in fields
        else (stakeholder.technical_areas.all() if stakeholder.pk else [])
    )
    values["notes"] = (values["notes"] or "").strip()
    for name in ("roles", "sectors", "hazards"):
        values[name] = list(dict.fromkeys(values[name] or []))
    errors: dict[str, list[str]] = {}
    organization: Organization | None = values["organization"]
    if organization is None:
        errors["organization"] = [gettext("Choose the organization.")]
    elif not organization_list_for_plan(plan=plan).filter(pk=organization.pk).exists():
        errors["organization"] = [
            gettext("%(organization)s is not an organization of %(country)s.")
            % {"organization": organization, "country": plan.jurisdiction.name}
        ]
    elif Stakeholder.objects.filter(plan=plan, organization=organization).exclude(pk=stakeholder.pk).exists():
        errors["organization"] = [
            gettext("%(organization)s is already in the plan's stakeholder map.") % {"organization": organization}
        ]
    owner: User | None = values["relationship_owner"]
    if owner is not None and not secretariat_users(plan=plan).filter(pk=owner.pk).exists():
        errors["relationship_owner"] = [
            gettext("%(user)s is not a member of the plan's secretariat: only the secretariat owns relationships.")
            % {"user": owner}
        ]
    foreign = [area for area in areas if area.framework_id != plan.framework_id]
    if foreign:
        errors["technical_areas"] = [
            ngettext(
                "%(areas)s is not a technical area of this plan's framework.",
                "%(areas)s are not technical areas of this plan's framework.",
                len(foreign),
            )
            % {"areas": ", ".join(str(area) for area in foreign)}
        ]
    candidate = Stakeholder(plan=plan, **values)
    try:
        candidate.full_clean(exclude=["plan", *errors], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    values["technical_areas"] = areas
    return values


def _area_codes(areas: list[TechnicalArea]) -> list[str]:
    return sorted(area.code for area in areas)


@transaction.atomic
def stakeholder_create(*, plan: Plan, by: User, fields: Mapping[str, Any]) -> Stakeholder:
    values = _stakeholder_prepare(plan, Stakeholder(plan=plan), fields)
    areas = values.pop("technical_areas")
    stakeholder = Stakeholder(plan=plan, **values)

    def refused() -> Exception | None:
        if Stakeholder.objects.filter(plan=plan, organization=values["organization"]).exists():
            return ValidationError(
                {
                    "organization": [
                        gettext("%(organization)s is already in the plan's stakeholder map.")
                        % {"organization": values["organization"]}
                    ]
                }
            )
        return None

    row_insert(stakeholder, refused=refused)
    stakeholder.technical_areas.set(areas)
    changes = {name: value if isinstance(value, list) else str(value) for name, value in values.items() if value}
    if areas:
        changes["technical_areas"] = _area_codes(areas)
    audit_record(plan=plan, by=by, action="created", target=stakeholder, changes=changes)
    return stakeholder


@transaction.atomic
def stakeholder_update(*, stakeholder: Stakeholder, by: User, version: int, fields: Mapping[str, Any]) -> Stakeholder:
    plan = stakeholder.plan
    before = list(stakeholder.technical_areas.all())
    values = _stakeholder_prepare(plan, stakeholder, fields)
    areas = values.pop("technical_areas")
    changes = versioned_update(stakeholder, version=version, fields=values)
    if {a.pk for a in areas} != {a.pk for a in before}:
        stakeholder.technical_areas.set(areas)
        changes["technical_areas"] = [_area_codes(before), _area_codes(areas)]
    if changes:
        audit_record(plan=plan, by=by, action="edited", target=stakeholder, changes=changes)
    return stakeholder


@transaction.atomic
def stakeholder_delete(*, stakeholder: Stakeholder, by: User, version: int | None) -> None:
    """Remove an organization from the map; one that advocacy speaks to is kept (change the advocacy first)."""
    if version is not None and not Stakeholder.objects.filter(pk=stakeholder.pk, version=version).exists():
        raise EditConflict(stakeholder)
    advocacy = list(Advocacy.objects.filter(audience=stakeholder).values_list("title", flat=True)[:5])
    if advocacy:
        raise ValidationError(
            gettext("Advocacy speaks to this stakeholder (%(advocacy)s): change its audience first.")
            % {"advocacy": ", ".join(advocacy)},
            code="has_advocacy",
        )
    audit_record(
        plan=stakeholder.plan,
        by=by,
        action="deleted",
        target=stakeholder,
        changes={"organization": str(stakeholder.organization), "relationship": stakeholder.relationship},
    )
    stakeholder.delete()
