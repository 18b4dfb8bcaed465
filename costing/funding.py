"""Resource mapping: what government and partners commit to a plan, and the funding gap it leaves.

Writes (funding_commitment_create, _update, _delete) check a commitment whole before saving anything, refuse a
stale edit, are audited, and mark the plan's totals as moved (costs_changed). Who may call them is decided by
the views and the API: resource mapping is the secretariat's work.

Reads: the plan's commitments with their amounts in the base currency, and `funding_gap`, computed live from
the cost lines and the firm commitments. The costing dashboard reads the stored rollups instead; this live
figure is what the funding page summarises and what the stored rollups must agree with.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet, Sum
from django.utils.translation import gettext, ngettext

from costing.models import MAX_AMOUNT, CostLineYear, FundingCommitment
from costing.rollups import Allocation, activity_year_costs, commitment_years, funding_allocate
from costing.services import CENT, Rates, costs_changed, parse_decimal
from naphs.errors import EditConflict
from naphs.languages import number_text
from naphs.services import audit_record, versioned_update
from planning.models import Activity, TechnicalArea
from planning.selectors import technical_areas_of
from stakeholders.models import Organization
from stakeholders.selectors import organization_list_for_plan

if TYPE_CHECKING:
    from planning.models import Plan
    from stakeholders.models import User

ZERO = Decimal("0")

# What people edit on a commitment; what it funds travels beside these as a list of activities.
COMMITMENT_FIELDS = (
    "source_organization",
    "source_kind",
    "budget_line",
    "amount",
    "currency",
    "first_year",
    "last_year",
    "status",
    "technical_area",
    "notes",
)

# The kind of source an organization usually is, when the person does not say.
GOVERNMENT_KINDS = frozenset({Organization.Kind.MINISTRY, Organization.Kind.DEPARTMENT, Organization.Kind.AGENCY})


def source_kind_for(organization: Organization) -> str:
    if organization.kind in GOVERNMENT_KINDS:
        return FundingCommitment.SourceKind.GOVERNMENT
    if organization.kind == Organization.Kind.DONOR:
        return FundingCommitment.SourceKind.DONOR
    return FundingCommitment.SourceKind.PARTNER


# --- Writes -----------------------------------------------------------------------------------------------------


def _add(errors: dict[str, list[str]], name: str, message: str | Iterable[str]) -> None:
    errors.setdefault(name, []).extend([message] if isinstance(message, str) else message)


def commitment_prepare(
    commitment: FundingCommitment,
    *,
    fields: Mapping[str, Any],
    activities: Sequence[Activity],
    rates: Rates,
) -> list[Activity]:
    """Apply `fields` to an unsaved copy of a commitment and check it whole against its plan.

    Raises one ValidationError with every problem by field, each saying what and where; returns the
    activities it funds, without repeats.
    """
    unknown = set(fields) - set(COMMITMENT_FIELDS)
    if unknown:
        raise TypeError(f"Funding commitments have no editable field {', '.join(sorted(unknown))}")
    plan = commitment.plan
    errors: dict[str, list[str]] = {}
    for name, value in fields.items():
        setattr(commitment, name, value)
    commitment.currency = (commitment.currency or "").strip().upper()
    if commitment.source_organization_id and not commitment.source_kind:
        commitment.source_kind = source_kind_for(commitment.source_organization)

    amount = commitment.amount
    if amount is not None and not isinstance(amount, Decimal):
        try:
            amount = commitment.amount = parse_decimal(amount, label=gettext("Amount"))
        except ValidationError as error:
            _add(errors, "amount", error.messages)
            amount = None
    if amount is None:
        if "amount" not in errors:
            _add(errors, "amount", gettext("Enter the amount committed."))
    elif amount <= 0:
        _add(errors, "amount", gettext("The amount must be more than zero, not %(amount)s.") % {"amount": amount})
    elif amount > MAX_AMOUNT:
        _add(
            errors,
            "amount",
            gettext("%(amount)s is beyond any real commitment (at most %(maximum)s): check the digits.")
            % {"amount": number_text(amount), "maximum": number_text(MAX_AMOUNT)},
        )
    elif amount != amount.quantize(CENT):
        _add(errors, "amount", gettext("%(amount)s: at most two decimals.") % {"amount": amount})

    years_ok = True
    first, last = commitment.first_year, commitment.last_year
    for name, year in (("first_year", first), ("last_year", last)):
        if year is None:
            _add(errors, name, gettext("Enter a year."))
            years_ok = False
        elif not plan.first_year <= year <= plan.last_year:
            _add(
                errors,
                name,
                gettext("%(year)s lies outside the plan's period (%(period)s).")
                % {"year": year, "period": plan.period},
            )
            years_ok = False
    if years_ok and last < first:
        _add(
            errors,
            "last_year",
            gettext("The last year (%(last)s) precedes the first year (%(first)s).") % {"last": last, "first": first},
        )
        years_ok = False

    # The model's own checks: the currency code, the choices, lengths. Amount and years are checked above with
    # messages that say more, and the constraint on the years with them.
    exclude = ["plan", "amount", "first_year", "last_year"]
    if not commitment.source_organization_id:  # its kind follows from the organization: one message is enough
        exclude.append("source_kind")
    try:
        commitment.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            _add(errors, name, messages)

    organization = commitment.source_organization if commitment.source_organization_id else None
    if (
        organization is not None
        and "source_organization" not in errors
        and not organization_list_for_plan(plan=plan).filter(pk=organization.pk).exists()
    ):
        _add(
            errors,
            "source_organization",
            gettext(
                "“%(organization)s” is not an organization of %(place)s: a plan is funded by organizations of its "
                "own country."
            )
            % {"organization": organization, "place": plan.jurisdiction.name},
        )

    chosen = list({activity.pk: activity for activity in activities}.values())
    area = commitment.technical_area if commitment.technical_area_id else None
    if area is None and not chosen:
        _add(errors, "activities", gettext("Say what it funds: a whole technical area, or one or more activities."))
    elif area is not None and chosen:
        _add(
            errors,
            "technical_area",
            gettext("It funds either a whole technical area or chosen activities, not both: clear one of them."),
        )
    if area is not None and area.framework_id != plan.framework_id:
        _add(
            errors,
            "technical_area",
            gettext("%(area)s is not a technical area of this plan's framework.") % {"area": area},
        )
    foreign = [activity.pk for activity in chosen if activity.plan_id != plan.pk]
    if foreign:
        _add(
            errors,
            "activities",
            ngettext(
                "Activity %(ids)s belongs to another plan.", "Activities %(ids)s belong to another plan.", len(foreign)
            )
            % {"ids": ", ".join(map(str, foreign))},
        )

    currency_ok = "currency" not in errors and commitment.currency
    if years_ok and currency_ok:
        missing = [year for year in range(first, last + 1) if not rates.has(commitment.currency, year)]
        if missing:
            _add(
                errors,
                "currency",
                gettext(
                    "No exchange rate from %(currency)s to %(base)s for %(years)s: the secretariat adds it on the "
                    "plan's exchange rates page."
                )
                % {"currency": commitment.currency, "base": rates.base, "years": ", ".join(map(str, missing))},
            )
        elif "amount" not in errors:
            base = sum(commitment_years(commitment, rates).values(), ZERO)
            if base > MAX_AMOUNT:
                _add(
                    errors,
                    "amount",
                    gettext("%(amount)s %(currency)s comes to %(base)s %(base_currency)s: beyond any real commitment.")
                    % {
                        "amount": number_text(amount),
                        "currency": commitment.currency,
                        "base": number_text(base),
                        "base_currency": rates.base,
                    },
                )
    if errors:
        raise ValidationError(errors)
    return chosen


def _activities_json(activities: Iterable[Activity]) -> list[str]:
    return sorted(f"{activity.pk}: {activity.title}" for activity in activities)


@transaction.atomic
def funding_commitment_create(
    *, plan: Plan, by: User, fields: Mapping[str, Any], activities: Sequence[Activity] = ()
) -> FundingCommitment:
    """Record money a source puts into the plan, for a technical area or for chosen activities."""
    commitment = FundingCommitment(plan=plan)
    chosen = commitment_prepare(commitment, fields=fields, activities=activities, rates=Rates.for_plan(plan))
    commitment.save()
    commitment.activities.set(chosen)
    audit_record(
        plan=plan,
        by=by,
        action="created",
        target=commitment,
        changes={
            "amount": f"{commitment.amount} {commitment.currency}",
            "years": f"{commitment.first_year}–{commitment.last_year}",
            "status": commitment.status,
            "funds": str(commitment.technical_area) if commitment.technical_area_id else _activities_json(chosen),
        },
    )
    costs_changed(plan.pk)
    return commitment


@transaction.atomic
def funding_commitment_update(
    *,
    commitment: FundingCommitment,
    by: User,
    version: int,
    fields: Mapping[str, Any],
    activities: Sequence[Activity] | None = None,
) -> FundingCommitment:
    """Change a commitment, refusing the save (EditConflict) if someone saved it since `version`.

    `activities` None keeps what it funds; a list replaces it.
    """
    current = list(commitment.activities.all())
    candidate = copy.copy(commitment)
    chosen = commitment_prepare(
        candidate,
        fields=fields,
        activities=current if activities is None else activities,
        rates=Rates.for_plan(commitment.plan),
    )
    saved = {name: getattr(candidate, name) for name in COMMITMENT_FIELDS}
    changes = versioned_update(commitment, version=version, fields=saved)
    if {activity.pk for activity in chosen} != {activity.pk for activity in current}:
        commitment.activities.set(chosen)
        changes["activities"] = [_activities_json(current), _activities_json(chosen)]
    if changes:
        audit_record(plan=commitment.plan, by=by, action="edited", target=commitment, changes=changes)
    costs_changed(commitment.plan_id)
    return commitment


@transaction.atomic
def funding_commitment_delete(*, commitment: FundingCommitment, by: User, version: int | None = None) -> None:
    """Remove a commitment; with `version`, only if nobody changed it since."""
    if version is not None and not FundingCommitment.objects.filter(pk=commitment.pk, version=version).exists():
        raise EditConflict(commitment)
    audit_record(
        plan=commitment.plan,
        by=by,
        action="deleted",
        target=commitment,
        changes={
            "source": str(commitment.source_organization),
            "amount": f"{commitment.amount} {commitment.currency}",
            "status": commitment.status,
        },
    )
    plan_id = commitment.plan_id
    commitment.delete()
    costs_changed(plan_id)


# --- Reads ------------------------------------------------------------------------------------------------------


def funding_commitment_list_for_plan(*, plan: Plan) -> QuerySet[FundingCommitment]:
    """The plan's commitments with their source, area and activities loaded: three queries, whatever the count."""
    return (
        FundingCommitment.objects.filter(plan=plan)
        .select_related("source_organization", "technical_area")
        .prefetch_related(
            Prefetch(
                "activities",
                queryset=Activity.objects.select_related("technical_area").order_by("technical_area__order", "title"),
            )
        )
        .order_by("first_year", "source_organization__name", "pk")
    )


def commitment_base_amount(commitment: FundingCommitment, rates: Rates) -> Decimal | None:
    """The commitment in the base currency, year by year at each year's rate; None when a rate is missing."""
    try:
        return sum(commitment_years(commitment, rates).values(), ZERO)
    except ValidationError:
        return None


@dataclass
class GapFigures:
    """Cost (without optional lines), firm funding, and what is left to find, in the base currency."""

    cost: Decimal = ZERO
    funded: Decimal = ZERO

    @property
    def gap(self) -> Decimal:
        return self.cost - self.funded

    def add(self, other: GapFigures) -> None:
        self.cost += other.cost
        self.funded += other.funded


@dataclass
class AreaGap:
    area: TechnicalArea
    years: list[tuple[int, GapFigures]]
    total: GapFigures


@dataclass
class FundingGap:
    """Cost minus committed and disbursed funding, per technical area and year, in the plan's base currency.

    `cells[(area id, year)]` holds the figures; `problems` names commitments left out because an exchange
    rate they need is missing.
    """

    currency: str
    years: list[int]
    areas: dict[int, TechnicalArea]
    cells: dict[tuple[int, int], GapFigures] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def figures(self, area_id: int, year: int) -> GapFigures:
        return self.cells.get((area_id, year), GapFigures())

    def rows(self) -> list[AreaGap]:
        """One row per technical area that has a cost or funding, in the framework's order."""
        used = {area_id for area_id, _year in self.cells}
        rows = []
        for area_id, area in self.areas.items():
            if area_id not in used:
                continue
            years = [(year, self.figures(area_id, year)) for year in self.years]
            total = GapFigures()
            for _year, figures in years:
                total.add(figures)
            rows.append(AreaGap(area=area, years=years, total=total))
        return rows

    def by_year(self) -> list[tuple[int, GapFigures]]:
        totals = {year: GapFigures() for year in self.years}
        for (_area_id, year), figures in self.cells.items():
            totals[year].add(figures)
        return list(totals.items())

    @property
    def total(self) -> GapFigures:
        total = GapFigures()
        for figures in self.cells.values():
            total.add(figures)
        return total


def funding_gap(*, plan: Plan, rates: Rates | None = None) -> FundingGap:
    """The funding gap per technical area and year, computed now from the cost lines and the firm commitments
    (committed or disbursed; a pledge is still a promise). A constant number of queries, whatever the size.

    Costs leave out optional lines. Area funding counts in its area; funding of several activities is shared
    among them by their cost in each year (costing.rollups.funding_allocate, the rule the rollups use).
    """
    rates = rates or Rates.for_plan(plan)
    cells: dict[tuple[int, int], GapFigures] = defaultdict(GapFigures)
    costs = (
        CostLineYear.objects.filter(cost_line__plan=plan, cost_line__optional=False)
        .values_list("cost_line__activity__technical_area_id", "year")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for area_id, year, total in costs:
        cells[(area_id, year)].cost += total
    commitments = list(
        FundingCommitment.objects.filter(plan=plan, status__in=FundingCommitment.FIRM)
        .select_related("source_organization")
        .prefetch_related(Prefetch("activities", queryset=Activity.objects.only("pk", "technical_area_id")))
    )
    wanted = {activity.pk for commitment in commitments for activity in commitment.activities.all()}
    weights = activity_year_costs(wanted) if wanted else {}
    allocation, problems = Allocation(), []
    for commitment in commitments:
        if commitment.technical_area_id is None and not commitment.activities.all():
            problems.append(f"{commitment} is left out: the activities it funded were deleted.")
            continue
        try:
            allocation.update(funding_allocate([commitment], rates, costs=weights))
        except ValidationError as error:
            problems.append(f"{commitment} is left out: {' '.join(error.messages)}")
    for (_commitment_id, _activity_id, area_id, year), amount in allocation.items():
        cells[(area_id, year)].funded += amount
    years = sorted(set(range(plan.first_year, plan.last_year + 1)) | {year for _area, year in cells})
    areas = {area.pk: area for area in technical_areas_of(plan)}
    missing = {area_id for area_id, _year in cells} - areas.keys()
    if missing:  # an area of another framework, left from before the plan changed framework
        areas.update({area.pk: area for area in TechnicalArea.objects.filter(pk__in=missing)})
    return FundingGap(currency=rates.base, years=years, areas=areas, cells=dict(cells), problems=problems)
