"""Advocacy plans: for each funding gap or policy need of a plan, whom it speaks to, what it asks, its messages,
messengers, channels, timing, status and outcome, and the technical areas and activities whose gap it addresses.

Every write is checked whole before anything is saved (each problem named by its field, every reference one of this
plan's: a stakeholder of its map, a person of its register, a member of its secretariat, an area of its framework,
an activity of the plan), a stale edit is refused, and each change is audited. An ask of an amount is converted to
the plan's base currency through the hook `amount_in_base` (costing answers with the plan's rates): an ask in a
currency the plan has no rate for is refused, naming the currency. The funding gaps the list ranks come from the
hook `area_gaps` (costing's rollups). Advocacy goes on while the plan is endorsed (stakeholders.apps registers it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext, ngettext

from naphs.errors import EditConflict
from naphs.languages import number_text
from naphs.permissions import SECRETARIAT_ROLES
from naphs.services import audit_record, versioned_update
from planning.models import Activity, TechnicalArea
from stakeholders import hooks
from stakeholders.models import Advocacy, Person, PlanMembership, Stakeholder, User

if TYPE_CHECKING:
    from planning.models import Plan

ADVOCACY_FIELDS = (
    "need",
    "title",
    "audience",
    "audience_group",
    "ask",
    "ask_amount",
    "ask_currency",
    "ask_text",
    "key_messages",
    "channels",
    "starts_on",
    "ends_on",
    "timing",
    "status",
    "owner",
    "outcome",
)
TEXT_FIELDS = ("title", "audience_group", "ask_text", "key_messages", "timing", "outcome")
# How many of the largest gaps the advocacy list shows.
GAPS_SHOWN = 10


# --- The hooks, as stakeholders asks them --------------------------------------------------------------------------


def base_currency_of(plan: Plan) -> str:
    """The plan's base currency, or "" when no app keeps one."""
    answers = hooks.plan_base_currency.send(plan)
    return answers[0] if answers else ""


def ask_in_base(plan: Plan, amount: Decimal, currency: str, year: int) -> Decimal | None:
    """The amount in the base currency (ValidationError naming the currency when the plan has no rate); None when
    no app keeps rates."""
    answers = hooks.amount_in_base.send(plan, amount, currency, year)
    return answers[0] if answers else None


def ask_year(plan: Plan, starts_on: Any) -> int:
    """The year an ask is converted at: the year it starts, within the plan's period; else the plan's first year."""
    year = starts_on.year if starts_on is not None else plan.first_year
    return min(max(year, plan.first_year), plan.last_year)


@dataclass
class GapRow:
    """A technical area's funding gap (in the base currency) and the advocacy of this plan addressing it."""

    area: TechnicalArea
    gap: Decimal
    advocacy: list[Advocacy] = field(default_factory=list)

    @property
    def active(self) -> list[Advocacy]:
        return [advocacy for advocacy in self.advocacy if advocacy.status in Advocacy.ACTIVE]


def largest_gaps(*, plan: Plan, limit: int = GAPS_SHOWN) -> list[GapRow]:
    """The plan's largest funding gaps by technical area, largest first, each with the advocacy addressing it (linked
    to the area, or to an activity of it). A constant number of queries."""
    gaps: dict[int, Decimal] = {}
    for answer in hooks.area_gaps.send(plan):
        gaps.update(answer)
    ranked = sorted(((gap, area_id) for area_id, gap in gaps.items() if gap > 0), reverse=True)[:limit]
    if not ranked:
        return []
    ids = [area_id for _gap, area_id in ranked]
    areas = {area.pk: area for area in TechnicalArea.objects.filter(pk__in=ids)}
    by_area = advocacy_by_area(plan_ids=[plan.pk], area_ids=ids)
    return [
        GapRow(area=areas[area_id], gap=gap, advocacy=by_area.get(area_id, []))
        for gap, area_id in ranked
        if area_id in areas
    ]


def advocacy_by_area(
    *, plan_ids: Sequence[int], area_ids: Sequence[int] | None = None, active_only: bool = False
) -> dict[int, list[Advocacy]]:
    """{area id: the advocacy of the plans addressing it}: linked to the area itself or to one of its activities.
    Two queries whatever the number of rows."""
    through_areas = Advocacy.technical_areas.through.objects.filter(advocacy__plan_id__in=plan_ids)
    through_activities = Advocacy.activities.through.objects.filter(advocacy__plan_id__in=plan_ids)
    if area_ids is not None:
        through_areas = through_areas.filter(technicalarea_id__in=area_ids)
        through_activities = through_activities.filter(activity__technical_area_id__in=area_ids)
    if active_only:
        through_areas = through_areas.filter(advocacy__status__in=Advocacy.ACTIVE)
        through_activities = through_activities.filter(advocacy__status__in=Advocacy.ACTIVE)
    pairs = set(  # one query: the areas linked, and the areas of the activities linked
        through_areas.order_by()
        .values_list("technicalarea_id", "advocacy_id")
        .union(through_activities.order_by().values_list("activity__technical_area_id", "advocacy_id"))
    )
    if not pairs:
        return {}
    advocacy = Advocacy.objects.filter(pk__in={advocacy_id for _area, advocacy_id in pairs}).order_by("pk")
    rows = {row.pk: row for row in advocacy}
    result: dict[int, list[Advocacy]] = {}
    for area_id, advocacy_id in sorted(pairs, key=lambda pair: pair[1]):
        if advocacy_id in rows:
            result.setdefault(area_id, []).append(rows[advocacy_id])
    return result


# --- Reads ---------------------------------------------------------------------------------------------------------


def advocacy_list_for_plan(*, plan: Plan) -> QuerySet[Advocacy]:
    """The plan's advocacy with what each names, loaded: a constant number of queries whatever the count."""
    return (
        Advocacy.objects.filter(plan=plan)
        .select_related("audience__organization", "owner")
        .prefetch_related(
            Prefetch("technical_areas", queryset=TechnicalArea.objects.order_by("order", "code")),
            Prefetch("activities", queryset=Activity.objects.select_related("technical_area").order_by("title", "pk")),
            Prefetch("messengers", queryset=Person.objects.select_related("organization").order_by("name", "pk")),
        )
        .order_by("-pk")
    )


def advocacy_filtered(
    advocacy: QuerySet[Advocacy], *, status: str = "", need: str = "", area: TechnicalArea | None = None
) -> QuerySet[Advocacy]:
    """Advocacy of `status` and `need`, addressing `area` (linked to it or to one of its activities)."""
    if status:
        advocacy = advocacy.filter(status=status)
    if need:
        advocacy = advocacy.filter(need=need)
    if area is not None:
        advocacy = advocacy.filter(Q(technical_areas=area) | Q(activities__technical_area=area)).distinct()
    return advocacy


def audience_choices(plan: Plan) -> QuerySet[Stakeholder]:
    return Stakeholder.objects.filter(plan=plan).select_related("organization").order_by("organization__name")


def messenger_choices(plan: Plan) -> QuerySet[Person]:
    return Person.objects.filter(plan=plan, erased_at__isnull=True).select_related("organization").order_by("name")


def owner_choices(plan: Plan) -> QuerySet[User]:
    """The members of the plan's secretariat."""
    return User.objects.filter(
        pk__in=PlanMembership.objects.filter(plan=plan, role__in=SECRETARIAT_ROLES).values("user_id")
    ).order_by("first_name", "last_name", "username")


def activity_choices(plan: Plan) -> QuerySet[Activity]:
    return (
        Activity.objects.filter(plan=plan)
        .select_related("technical_area")
        .order_by("technical_area__order", "title", "pk")
    )


# --- Writes --------------------------------------------------------------------------------------------------------


def _add(errors: dict[str, list[str]], name: str, message: str | Sequence[str]) -> None:
    errors.setdefault(name, []).extend([message] if isinstance(message, str) else message)


def _ids(rows: Sequence[Any]) -> str:
    return ", ".join(str(row.pk) for row in rows)


def advocacy_prepare(
    advocacy: Advocacy,
    *,
    fields: Mapping[str, Any],
    messengers: Sequence[Person],
    technical_areas: Sequence[TechnicalArea],
    activities: Sequence[Activity],
) -> dict[str, Any]:
    """The fields as stored (with the ask in the base currency), checked whole against the advocacy's plan.

    Raises one ValidationError naming each field that is wrong; nothing is written."""
    unknown = set(fields) - set(ADVOCACY_FIELDS)
    if unknown:
        raise TypeError(f"Advocacy has no editable field {', '.join(sorted(unknown))}")
    plan = advocacy.plan
    values = {name: fields.get(name, getattr(advocacy, name)) for name in ADVOCACY_FIELDS}
    for name in TEXT_FIELDS:
        values[name] = (values[name] or "").strip()
    values["ask_currency"] = (values["ask_currency"] or "").strip().upper()
    values["channels"] = list(values["channels"] or [])
    errors: dict[str, list[str]] = {}

    audience: Stakeholder | None = values["audience"]
    if audience is not None and audience.plan_id != plan.pk:
        _add(
            errors,
            "audience",
            gettext("“%(stakeholder)s” is not in this plan's stakeholder map: choose a stakeholder of this plan.")
            % {"stakeholder": audience},
        )
    if audience is None and not values["audience_group"]:
        _add(
            errors,
            "audience",
            gettext("Say whom the advocacy speaks to: a stakeholder of the plan's map, or a group named in words."),
        )
    owner: User | None = values["owner"]
    if (
        owner is not None
        and not PlanMembership.objects.filter(plan=plan, user=owner, role__in=SECRETARIAT_ROLES).exists()
    ):
        _add(
            errors,
            "owner",
            gettext("%(person)s is not a member of this plan's secretariat: the owner is one of them.")
            % {"person": owner.get_full_name() or owner.username},
        )
    foreign_people = [person for person in messengers if person.plan_id != plan.pk]
    if foreign_people:
        _add(
            errors,
            "messengers",
            ngettext(
                "Person %(ids)s is not in this plan's register.",
                "People %(ids)s are not in this plan's register.",
                len(foreign_people),
            )
            % {"ids": _ids(foreign_people)},
        )
    erased = [person for person in messengers if person.plan_id == plan.pk and person.erased_at is not None]
    if erased:
        _add(errors, "messengers", gettext("An erased person cannot be a messenger."))
    foreign_areas = [area for area in technical_areas if area.framework_id != plan.framework_id]
    if foreign_areas:
        _add(
            errors,
            "technical_areas",
            ngettext(
                "%(areas)s is not a technical area of this plan's framework.",
                "%(areas)s are not technical areas of this plan's framework.",
                len(foreign_areas),
            )
            % {"areas": ", ".join(area.code for area in foreign_areas)},
        )
    foreign_activities = [activity for activity in activities if activity.plan_id != plan.pk]
    if foreign_activities:
        _add(
            errors,
            "activities",
            ngettext(
                "Activity %(ids)s belongs to another plan.",
                "Activities %(ids)s belong to another plan.",
                len(foreign_activities),
            )
            % {"ids": _ids(foreign_activities)},
        )
    if values["need"] == Advocacy.Need.FUNDING_GAP and not technical_areas and not activities:
        _add(
            errors,
            "technical_areas",
            gettext("Name the technical areas or activities whose funding gap it addresses."),
        )
    starts_on, ends_on = values["starts_on"], values["ends_on"]
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        _add(errors, "ends_on", gettext("The advocacy cannot end before it starts: check the dates."))

    base: Decimal | None = None
    amount: Decimal | None = values["ask_amount"]
    if values["ask"] == Advocacy.Ask.AMOUNT:
        if amount is None:
            _add(errors, "ask_amount", gettext("Enter the amount asked: the ask is an amount."))
        if not values["ask_currency"]:
            values["ask_currency"] = base_currency_of(plan)
        if not values["ask_currency"]:
            _add(errors, "ask_currency", gettext("Enter the currency of the amount asked."))
    else:
        if not values["ask_text"]:
            _add(errors, "ask_text", gettext("Say what is asked: the decision or the policy."))
        if amount is None:
            values["ask_currency"] = ""
    candidate = Advocacy(plan=plan, **{name: value for name, value in values.items()})
    try:
        candidate.full_clean(exclude=["plan", *errors], validate_constraints=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            _add(errors, name, messages)
    if amount is not None and values["ask_currency"] and not {"ask_amount", "ask_currency"} & errors.keys():
        try:
            base = ask_in_base(plan, amount, values["ask_currency"], ask_year(plan, starts_on))
        except ValidationError as missing:
            _add(errors, "ask_currency", missing.messages)
    if errors:
        raise ValidationError(errors)
    values["ask_amount_base"] = base
    return values


def _changes(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: str(value) for name, value in values.items() if value not in (None, "", [])}


def _names(rows: Sequence[Any]) -> list[str]:
    return sorted(f"{row.pk}: {row}" for row in rows)


def _unique[T: Any](rows: Sequence[T]) -> list[T]:
    return list({row.pk: row for row in rows}.values())


@transaction.atomic
def advocacy_create(
    *,
    plan: Plan,
    by: User,
    fields: Mapping[str, Any],
    messengers: Sequence[Person] = (),
    technical_areas: Sequence[TechnicalArea] = (),
    activities: Sequence[Activity] = (),
) -> Advocacy:
    advocacy = Advocacy(plan=plan)
    messengers, technical_areas, activities = _unique(messengers), _unique(technical_areas), _unique(activities)
    values = advocacy_prepare(
        advocacy, fields=fields, messengers=messengers, technical_areas=technical_areas, activities=activities
    )
    advocacy = Advocacy.objects.create(plan=plan, **values)
    advocacy.messengers.set(messengers)
    advocacy.technical_areas.set(technical_areas)
    advocacy.activities.set(activities)
    changes = _changes(values)
    for name, rows in (("messengers", messengers), ("technical_areas", technical_areas), ("activities", activities)):
        if rows:
            changes[name] = _names(rows)
    audit_record(plan=plan, by=by, action="created", target=advocacy, changes=changes)
    return advocacy


@transaction.atomic
def advocacy_update(
    *,
    advocacy: Advocacy,
    by: User,
    version: int,
    fields: Mapping[str, Any],
    messengers: Sequence[Person] | None = None,
    technical_areas: Sequence[TechnicalArea] | None = None,
    activities: Sequence[Activity] | None = None,
) -> Advocacy:
    """Change an advocacy as the person last saw it (EditConflict when someone saved it since `version`). A list left
    None keeps what it holds."""
    current: dict[str, list[Any]] = {
        "messengers": list(advocacy.messengers.all()),
        "technical_areas": list(advocacy.technical_areas.all()),
        "activities": list(advocacy.activities.all()),
    }
    wanted: dict[str, list[Any]] = {
        "messengers": current["messengers"] if messengers is None else _unique(messengers),
        "technical_areas": current["technical_areas"] if technical_areas is None else _unique(technical_areas),
        "activities": current["activities"] if activities is None else _unique(activities),
    }
    values = advocacy_prepare(advocacy, fields=fields, **wanted)
    changes = versioned_update(advocacy, version=version, fields=values)
    for name, rows in wanted.items():
        if {row.pk for row in rows} != {row.pk for row in current[name]}:
            getattr(advocacy, name).set(rows)
            changes[name] = [_names(current[name]), _names(rows)]
    if changes:
        audit_record(plan=advocacy.plan, by=by, action="edited", target=advocacy, changes=changes)
    return advocacy


@transaction.atomic
def advocacy_outcome_record(
    *, advocacy: Advocacy, by: User, version: int, status: str, outcome: str
) -> dict[str, list[Any]]:
    """Record the advocacy's status and outcome only (the pledge's step, beside the commitment it becomes)."""
    if status not in Advocacy.Status.values:
        raise ValidationError({"status": gettext("Choose a status from the list.")})
    fields = {"status": status, "outcome": outcome.strip()}
    changes = versioned_update(advocacy, version=version, fields=fields)
    if changes:
        audit_record(plan=advocacy.plan, by=by, action="edited", target=advocacy, changes=changes)
    return changes


@transaction.atomic
def advocacy_delete(*, advocacy: Advocacy, by: User, version: int | None) -> None:
    """Remove an advocacy; funding commitments recording its pledges stay, no longer linked to it."""
    if version is not None and not Advocacy.objects.filter(pk=advocacy.pk, version=version).exists():
        raise EditConflict(advocacy)
    audit_record(
        plan=advocacy.plan,
        by=by,
        action="deleted",
        target=advocacy,
        changes={"title": advocacy.title, "need": advocacy.need, "status": advocacy.status},
    )
    advocacy.delete()


def ask_text_of(advocacy: Advocacy) -> str:
    """The ask in words, for a list: the amount in its currency, or what is asked."""
    if advocacy.ask == Advocacy.Ask.AMOUNT and advocacy.ask_amount is not None:
        return gettext("%(amount)s %(currency)s") % {
            "amount": number_text(advocacy.ask_amount),
            "currency": advocacy.ask_currency,
        }
    return advocacy.ask_text
