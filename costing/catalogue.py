"""A plan's costing settings seen from its pages, and the unit-cost catalogue.

Which items a plan may use (its own, and those shared with its jurisdiction or one above it), who may change
them, which exchange rates the plan still lacks, and the deliberate price change: it shows every cost line it
will move, with old and new amounts in each plan's base currency, before it moves them in one transaction.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Now
from django.http import Http404
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from costing.models import CatalogueItem, CostLine, CostLineYear, ExchangeRate, FundingCommitment, PlanCosting
from costing.services import CENT, RATE_PLACES, Rates, costs_changed, exchange_rate_set, plan_costing_get
from naphs.errors import EditConflict
from naphs.permissions import SECRETARIAT_ROLES
from naphs.services import audit_record, versioned_update
from planning.models import Jurisdiction, Plan
from stakeholders.access import jurisdiction_manageable_by, plans_for_user
from stakeholders.models import PlanMembership

if TYPE_CHECKING:
    from stakeholders.models import User

# What a catalogue item's editor changes; the price travels apart, through the deliberate price change.
ITEM_FIELDS = ("name", "category", "unit", "source", "notes")
PRICE_FIELDS = ("unit_cost", "currency", "price_year")
PRICE_CHANGE_HINT = _("Change the price with “Change price”, which shows the cost lines it moves before it does.")


# --- Settings: the rates a plan still lacks ----------------------------------------------------------------


@dataclass(frozen=True)
class MissingRate:
    """A currency and year the plan's lines or funding are entered in, without a rate to the base currency."""

    currency: str
    year: int
    lines: int = 0
    commitments: int = 0


def rates_missing(*, plan: Plan, costing: PlanCosting, rates: Iterable[ExchangeRate]) -> list[MissingRate]:
    """Every (currency, year) the plan's cost lines are priced in, or its funding commitments cover, that has no
    rate: two queries whatever the plan's size."""
    known = {(rate.currency, rate.year) for rate in rates}
    lines: dict[tuple[str, int], int] = {}
    for currency, year, count in (
        CostLine.objects.filter(plan=plan)
        .exclude(currency=costing.currency)
        .values("currency", "price_year")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("currency", "price_year", "count")
    ):
        lines[currency, year] = count
    commitments: dict[tuple[str, int], int] = defaultdict(int)
    for currency, first, last in (
        FundingCommitment.objects.filter(plan=plan)
        .exclude(currency=costing.currency)
        .values_list("currency", "first_year", "last_year")
    ):
        for year in range(first, last + 1):
            commitments[currency, year] += 1
    needed = (lines.keys() | commitments.keys()) - known
    return [
        MissingRate(
            currency, year, lines=lines.get((currency, year), 0), commitments=commitments.get((currency, year), 0)
        )
        for currency, year in sorted(needed)
    ]


@transaction.atomic
def exchange_rate_create(
    *, plan: Plan, by: User, currency: str, year: int, rate: Decimal, source: str = ""
) -> ExchangeRate:
    """Add a rate the plan does not have yet; one it has is changed on its own (with its version), not twice.
    Whether the rate was there before or was added by someone at the same moment, the answer is the same."""
    duplicate = ValidationError(
        {
            "year": gettext("This plan already has a rate for %(currency)s in %(year)s; change that one instead.")
            % {"currency": currency, "year": year}
        }
    )
    if ExchangeRate.objects.filter(plan=plan, currency=currency, year=year).exists():
        raise duplicate
    try:
        return exchange_rate_set(plan=plan, by=by, currency=currency, year=year, rate=rate, source=source, version=0)
    except EditConflict:
        raise duplicate from None


# --- Catalogue: what a plan may use, and who may change it --------------------------------------------------


def catalogue_list_for_plan(*, plan: Plan, category: str = "", search: str = "") -> QuerySet[CatalogueItem]:
    """The items the plan may use: its own, and those of its jurisdiction and the jurisdictions above it, with
    the number of cost lines (in any plan) that use each. One query."""
    items = CatalogueItem.objects.filter(
        Q(plan=plan) | Q(jurisdiction_id__in=plan.jurisdiction.ancestors_and_self_ids())
    )
    if category:
        items = items.filter(category=category)
    if search:
        items = items.filter(name__icontains=search)
    return (
        items.select_related("jurisdiction", "plan")
        .annotate(line_count=Count("cost_lines"))
        .order_by("category", "name", "pk")
    )


def catalogue_owners_for(*, user: User, plan: Plan) -> list[Jurisdiction]:
    """The jurisdictions (the plan's own and those above it) whose shared catalogue the person keeps: those where,
    or above which, they are in a plan's secretariat. The rule of stakeholders.access.jurisdiction_manageable_by, for
    the whole chain in one query."""
    chain: list[Jurisdiction] = []
    node: Jurisdiction | None = plan.jurisdiction
    while node is not None:
        chain.append(node)
        node = node.parent
    managed = set(
        PlanMembership.objects.filter(
            user=user, role__in=SECRETARIAT_ROLES, plan__jurisdiction_id__in=[j.pk for j in chain]
        ).values_list("plan__jurisdiction_id", flat=True)
    )
    return [jurisdiction for index, jurisdiction in enumerate(chain) if managed & {j.pk for j in chain[index:]}]


def catalogue_item_editable_by(*, membership: PlanMembership, user: User, item: CatalogueItem) -> bool:
    """Seen from a plan, its secretariat changes the plan's own items, and a shared item when they keep that
    jurisdiction's catalogue (a plan's secretariat at that level or above it)."""
    if not membership.can_manage:
        return False
    if item.plan_id is not None:
        return item.plan_id == membership.plan_id
    return item.jurisdiction is not None and jurisdiction_manageable_by(user=user, jurisdiction=item.jurisdiction)


def catalogue_item_get(
    *, membership: PlanMembership, user: User, item_id: int, for_change: bool = False
) -> CatalogueItem:
    """An item the member's plan may use (404 otherwise); with `for_change`, one the person may change (403
    otherwise). `membership` (its plan loaded) comes from stakeholders.access.plan_get_for_user."""
    item = catalogue_list_for_plan(plan=membership.plan).filter(pk=item_id).first()
    if item is None:
        raise Http404(gettext("No such item in this plan's catalogue."))
    if for_change and not catalogue_item_editable_by(membership=membership, user=user, item=item):
        if not membership.can_manage:
            raise PermissionDenied(
                # Translators: %(role)s is a role's label (e.g. “Focal point”), put in as it is.
                gettext("Your role in this plan (%(role)s) does not allow changing the catalogue.")
                % {"role": membership.get_role_display()}
            )
        shared_with = item.jurisdiction.name if item.jurisdiction is not None else ""
        raise PermissionDenied(
            gettext(
                "“%(item)s” is shared with %(place)s; the secretariat of a plan of %(place)s (or above it) keeps it."
            )
            % {"item": item.name, "place": shared_with}
        )
    return item


def _item_owner(item: CatalogueItem) -> str:
    return f"shared with {item.jurisdiction.name}" if item.jurisdiction is not None else "this plan only"


@transaction.atomic
def catalogue_item_create(
    *,
    by: User,
    plan: Plan | None = None,
    jurisdiction: Jurisdiction | None = None,
    via: Plan | None = None,
    **fields: Any,
) -> CatalogueItem:
    """Add an item kept by one plan, or shared with a jurisdiction and the plans under it. `via` is the plan
    through which it was added, for the audit trail of a shared item."""
    unknown = set(fields) - {*ITEM_FIELDS, *PRICE_FIELDS}
    if unknown:
        raise TypeError(f"Catalogue items have no editable field {', '.join(sorted(unknown))}")
    item = CatalogueItem(plan=plan, jurisdiction=jurisdiction, **fields)
    item.full_clean()
    item.save()
    changes = {name: str(getattr(item, name)) for name in PRICE_FIELDS}
    changes["owner"] = _item_owner(item)
    audit_record(plan=plan or via, by=by, action="created", target=item, changes=changes)
    return item


@transaction.atomic
def catalogue_item_update(
    *, item: CatalogueItem, by: User, version: int, via: Plan | None = None, **fields: Any
) -> CatalogueItem:
    """Change what an item is called and how it is described. Its price changes only through
    catalogue_item_reprice; its unit not while cost lines count in it (their quantities would mean another thing)."""
    price = {
        name: [PRICE_CHANGE_HINT] for name in fields if name in PRICE_FIELDS and fields[name] != getattr(item, name)
    }
    if price:
        raise ValidationError(price)
    for name in PRICE_FIELDS:
        fields.pop(name, None)
    unknown = set(fields) - set(ITEM_FIELDS)
    if unknown:
        raise TypeError(f"Catalogue items have no editable field {', '.join(sorted(unknown))}")
    if "unit" in fields and fields["unit"] != item.unit:
        used = CostLine.objects.filter(catalogue_item=item).count()
        if used:
            raise ValidationError(
                {
                    "unit": ngettext(
                        "%(count)s cost line counts this item per %(unit)s; its quantity would mean something else "
                        "per another unit. Add a new item instead.",
                        "%(count)s cost lines count this item per %(unit)s; their quantities would mean something "
                        "else per another unit. Add a new item instead.",
                        used,
                    )
                    % {"count": used, "unit": item.get_unit_display()}
                }
            )
    changes = versioned_update(item, version=version, fields=fields)
    if changes:
        audit_record(plan=item.plan or via, by=by, action="edited", target=item, changes=changes)
    return item


@transaction.atomic
def catalogue_item_delete(*, item: CatalogueItem, by: User, via: Plan | None = None) -> None:
    """Remove an item no cost line uses; one in use is refused, saying by how many lines in how many plans."""
    usage = CostLine.objects.filter(catalogue_item=item).aggregate(
        lines=Count("pk"), plans=Count("plan_id", distinct=True)
    )
    if usage["lines"]:
        plans = ngettext("%(count)s plan", "%(count)s plans", usage["plans"]) % {"count": usage["plans"]}
        raise ValidationError(
            # Translators: %(plans)s is a number of plans, e.g. "2 plans".
            ngettext(
                "“%(item)s” is used by %(count)s cost line in %(plans)s, so it cannot be deleted. Change that line "
                "to another item or a free line first.",
                "“%(item)s” is used by %(count)s cost lines in %(plans)s, so it cannot be deleted. Change those "
                "lines to another item or a free line first.",
                usage["lines"],
            ),
            params={"item": item.name, "count": usage["lines"], "plans": plans},
        )
    audit_record(
        plan=item.plan or via,
        by=by,
        action="deleted",
        target=item,
        changes={"name": item.name, "unit_cost": str(item.unit_cost), "currency": item.currency},
    )
    item.delete()


# --- The deliberate price change ----------------------------------------------------------------------------


@dataclass
class RepriceLine:
    """A cost line the price change moves: its unit cost (in the item's currency) and its total over the plan's
    years (in its plan's base currency), before and after. `new_total` is None where a rate is missing."""

    line: CostLine
    old_unit_cost: Decimal
    old_currency: str
    new_unit_cost: Decimal
    old_total: Decimal
    new_total: Decimal | None
    base_currency: str

    @property
    def difference(self) -> Decimal | None:
        return None if self.new_total is None else self.new_total - self.old_total


@dataclass
class RepricePreview:
    """What a price change would do: the lines the person may see in full, the others only counted."""

    item: CatalogueItem
    unit_cost: Decimal
    currency: str
    price_year: int
    lines: list[RepriceLine] = field(default_factory=list)
    line_count: int = 0
    plan_count: int = 0
    hidden_line_count: int = 0
    hidden_plan_count: int = 0
    kept_line_count: int = 0  # lines of endorsed plans, which keep their price
    missing_rates: list[str] = field(default_factory=list)

    @property
    def changes_anything(self) -> bool:
        return (self.unit_cost, self.currency, self.price_year) != (
            self.item.unit_cost,
            self.item.currency,
            self.item.price_year,
        )


@dataclass
class PlanRates:
    """For the plans a price change touches: each one's costing, and the new unit cost in its base currency."""

    costings: dict[int, PlanCosting]
    unit_cost_base: dict[int, Decimal]
    missing: list[str]


def _plan_rates(plan_ids: Iterable[int], *, unit_cost: Decimal, currency: str, price_year: int) -> PlanRates:
    """Two queries for any number of plans: their settings, and their rates for the new currency and year."""
    plan_ids = set(plan_ids)
    costings = {
        costing.plan_id: costing for costing in PlanCosting.objects.filter(plan_id__in=plan_ids).select_related("plan")
    }
    for plan in Plan.objects.filter(pk__in=plan_ids - costings.keys()):  # lines without settings: not in practice
        costings[plan.pk] = plan_costing_get(plan)
    by_plan: dict[int, list[ExchangeRate]] = defaultdict(list)
    for rate in ExchangeRate.objects.filter(plan_id__in=plan_ids, currency=currency, year=price_year):
        by_plan[rate.plan_id].append(rate)
    bases, missing = {}, []
    for plan_id, costing in sorted(costings.items(), key=lambda pair: pair[1].plan.title):
        rates = Rates(costing, rates=by_plan[plan_id])
        if rates.has(currency, price_year):
            bases[plan_id] = (unit_cost * rates.rate(currency, price_year)).quantize(RATE_PLACES, ROUND_HALF_UP)
        else:
            missing.append(
                gettext(
                    "“%(plan)s” has no exchange rate from %(currency)s to %(base)s for %(year)s: its secretariat "
                    "adds it on the plan's costing settings page."
                )
                % {"plan": costing.plan.title, "currency": currency, "base": costing.currency, "year": price_year}
            )
    return PlanRates(costings=costings, unit_cost_base=bases, missing=missing)


def _price_clean(item: CatalogueItem, *, unit_cost: Any, currency: Any, price_year: Any) -> None:
    candidate = copy.copy(item)
    candidate.unit_cost, candidate.currency, candidate.price_year = unit_cost, currency, price_year
    # Only the price is new: the item's owner and description were checked when they were saved.
    candidate.full_clean(
        exclude=[*ITEM_FIELDS, "jurisdiction", "plan"], validate_unique=False, validate_constraints=False
    )


def _lines_by_plan(item: CatalogueItem) -> dict[int, int]:
    """How many of the item's cost lines each plan holds that would follow a new price: an endorsed plan's lines
    keep the price they were endorsed with."""
    return dict(
        CostLine.objects.filter(catalogue_item=item)
        .exclude(plan__status=Plan.Status.ENDORSED)
        .values("plan_id")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("plan_id", "count")
    )


def catalogue_reprice_preview(
    *, item: CatalogueItem, user: User | None, unit_cost: Decimal, currency: str, price_year: int
) -> RepricePreview:
    """Every cost line that would follow the item to its new price, read in a constant number of queries.

    Lines of plans `user` cannot see are only counted; `user` None (an administrator) sees them all. Bad values
    raise ValidationError by field; a missing rate is listed in `missing_rates` (confirming would be refused).
    """
    _price_clean(item, unit_cost=unit_cost, currency=currency, price_year=price_year)
    preview = RepricePreview(item=item, unit_cost=unit_cost, currency=currency, price_year=price_year)
    preview.kept_line_count = CostLine.objects.filter(catalogue_item=item, plan__status=Plan.Status.ENDORSED).count()
    per_plan = _lines_by_plan(item)
    if not per_plan:
        return preview
    if user is None:
        visible = set(per_plan)
    else:
        visible = set(plans_for_user(user).filter(pk__in=per_plan.keys()).values_list("pk", flat=True))
    plan_rates = _plan_rates(per_plan, unit_cost=unit_cost, currency=currency, price_year=price_year)
    preview.line_count, preview.plan_count = sum(per_plan.values()), len(per_plan)
    preview.hidden_plan_count = len(per_plan.keys() - visible)
    preview.hidden_line_count = sum(count for plan_id, count in per_plan.items() if plan_id not in visible)
    preview.missing_rates = plan_rates.missing
    lines = (
        CostLine.objects.filter(catalogue_item=item, plan_id__in=visible)
        .select_related("plan", "activity__technical_area")
        .prefetch_related("years")
        .order_by("plan__title", "activity__technical_area__order", "activity__title", "order", "pk")
    )
    for line in lines:
        years = list(line.years.all())
        base = plan_rates.unit_cost_base.get(line.plan_id)
        new_total = None
        if base is not None:
            new_total = sum(
                ((base * line.quantity * year.frequency).quantize(CENT, ROUND_HALF_UP) for year in years), Decimal(0)
            )
        preview.lines.append(
            RepriceLine(
                line=line,
                old_unit_cost=line.unit_cost,
                old_currency=line.currency,
                new_unit_cost=unit_cost,
                old_total=sum((year.amount for year in years), Decimal(0)),
                new_total=new_total,
                base_currency=plan_rates.costings[line.plan_id].currency,
            )
        )
    return preview


@dataclass
class RepriceResult:
    item: CatalogueItem
    line_count: int
    plan_count: int


@transaction.atomic
def catalogue_item_reprice(
    *,
    item: CatalogueItem,
    by: User,
    version: int,
    unit_cost: Decimal,
    currency: str,
    price_year: int,
    via: Plan | None = None,
) -> RepriceResult:
    """Give the item its new price and every cost line linked to it the same, in every plan that uses it.

    The item must still be at `version` (EditConflict otherwise: the preview was of another price). A plan that
    lacks the rate for the new currency and year refuses the whole change (ValidationError naming the plan and
    the rate), and nothing changes. The lines are updated in two statements whatever their number; each plan
    touched gets an audit event and one recomputation of its totals.
    """
    fields = {"unit_cost": unit_cost, "currency": currency, "price_year": price_year}
    changes = versioned_update(item, version=version, fields=fields)
    if not changes:
        return RepriceResult(item=item, line_count=0, plan_count=0)
    # Endorsed plans' lines keep their price; a plan endorsed after they were counted refuses the whole change
    # when its audit event below takes its row (PlanFrozen), and nothing changes.
    per_plan = _lines_by_plan(item)
    plan_rates = _plan_rates(per_plan, unit_cost=unit_cost, currency=currency, price_year=price_year)
    if plan_rates.missing:
        raise ValidationError([*plan_rates.missing, gettext("Nothing was changed.")])
    audit_record(plan=item.plan or via, by=by, action="edited", target=item, changes=changes)
    if not per_plan:
        return RepriceResult(item=item, line_count=0, plan_count=0)
    base_field = DecimalField(max_digits=24, decimal_places=6)
    # The plans read above: a line added meanwhile in yet another plan is left to its own save, never nulled.
    lines = CostLine.objects.filter(catalogue_item=item, plan_id__in=plan_rates.unit_cost_base.keys())
    count = lines.update(
        **fields,
        unit_cost_base=Case(
            *(
                When(plan_id=plan_id, then=Value(base, output_field=base_field))
                for plan_id, base in plan_rates.unit_cost_base.items()
            ),
            output_field=base_field,
        ),
        version=F("version") + 1,
        updated_by=by,
        updated_at=Now(),
    )
    line_total = CostLine.objects.filter(pk=OuterRef("cost_line_id")).values(
        total=ExpressionWrapper(F("unit_cost_base") * F("quantity"), output_field=DecimalField())
    )
    CostLineYear.objects.filter(cost_line__in=lines).update(
        amount=ExpressionWrapper(Subquery(line_total) * F("frequency"), output_field=DecimalField())
    )
    for plan_id, lines_in_plan in per_plan.items():
        audit_record(
            plan=plan_rates.costings[plan_id].plan,
            by=by,
            action="repriced",
            target=item,
            changes={**changes, "cost_lines": lines_in_plan},
        )
        costs_changed(plan_id)
    return RepriceResult(item=item, line_count=count, plan_count=len(per_plan))
