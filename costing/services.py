"""Writes to a plan's costing: settings, exchange rates, cost lines. Each validated in full, saved all or
nothing, audited, and followed by one coalesced recomputation of the plan's rollups.

Who may call which is decided by the views and the API through stakeholders.access; these functions check that
the content is sound. Amounts are computed here and only here (`line_compute`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, ExpressionWrapper, F, OuterRef, Subquery, Value
from django.utils.translation import gettext, ngettext

from costing.models import MAX_FREQUENCY, CostLine, CostLineYear, ExchangeRate, FundingCommitment, PlanCosting
from naphs.services import audit_record, versioned_save, versioned_update

if TYPE_CHECKING:
    from planning.models import Activity, Plan
    from stakeholders.models import User

CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.000001")
DEFAULT_CURRENCY = "USD"
# How long a recomputation waits for more edits of the same burst before it runs.
ROLLUP_SETTLE_SECONDS = 2

# What people edit on a cost line; the frequencies per year travel beside these as {year: frequency}.
COST_LINE_FIELDS = (
    "catalogue_item",
    "description",
    "category",
    "secondary_category",
    "unit",
    "unit_cost",
    "currency",
    "price_year",
    "quantity",
    "recurrence",
    "optional",
    "assumptions",
    "technical_comment",
    "costing_comment",
    "order",
)
# A line taken from the catalogue follows the item for these; they cannot be set on the line itself.
CATALOGUE_FIELDS = ("unit", "unit_cost", "currency", "price_year")
# {year: frequency} as a caller has it: years as numbers (a workbook, a builder) or as text (a form, JSON),
# frequencies as numbers or text; frequencies_clean checks both. Mapping is invariant in its key, hence three.
type Frequencies = Mapping[int, Any] | Mapping[str, Any] | Mapping[int | str, Any]


# --- Settings and rates -----------------------------------------------------------------------------------


def plan_costing_get(plan: Plan) -> PlanCosting:
    """The plan's costing settings, created on first use: a provincial plan takes its parent's currency, any
    other plan US dollars, until the secretariat chooses; prices of the plan's first year."""
    costing = PlanCosting.objects.filter(plan=plan).first()
    if costing is not None:
        return costing
    parent = PlanCosting.objects.filter(plan_id=plan.parent_id).first() if plan.parent_id else None
    costing, _ = PlanCosting.objects.get_or_create(
        plan=plan,
        defaults={"currency": parent.currency if parent else DEFAULT_CURRENCY, "price_year": plan.first_year},
    )
    return costing


class Rates:
    """A plan's exchange rates, read once: converts an amount of any currency and year to the base currency."""

    def __init__(self, costing: PlanCosting, rates: Iterable[ExchangeRate] | None = None) -> None:
        self.base = costing.currency
        if rates is None:
            rates = ExchangeRate.objects.filter(plan_id=costing.plan_id)
        self._rates = {(rate.currency, rate.year): rate.rate for rate in rates}

    @classmethod
    def for_plan(cls, plan: Plan) -> Rates:
        return cls(plan_costing_get(plan))

    def rate(self, currency: str, year: int) -> Decimal:
        """Base-currency units per unit of `currency` in `year`; ValidationError naming the missing rate."""
        if currency == self.base:
            return Decimal(1)
        try:
            return self._rates[(currency, year)]
        except KeyError:
            raise ValidationError(
                gettext(
                    "No exchange rate from %(currency)s to %(base)s for %(year)s: the secretariat adds it on the "
                    "plan's exchange rates page."
                ),
                code="missing_rate",
                params={"currency": currency, "base": self.base, "year": year},
            ) from None

    def has(self, currency: str, year: int) -> bool:
        return currency == self.base or (currency, year) in self._rates


@transaction.atomic
def plan_costing_update(*, costing: PlanCosting, by: User, version: int, **fields: Any) -> PlanCosting:
    """Change the base currency or price year. Rates, lines and commitments are all stated against the base
    currency, so a new base currency is refused once the plan has any of them."""
    unknown = set(fields) - {"currency", "price_year"}
    if unknown:
        raise TypeError(f"Costing settings have no editable field {', '.join(sorted(unknown))}")
    plan = costing.plan
    currency = fields.get("currency", costing.currency)
    if plan.parent_id:
        parent = PlanCosting.objects.filter(plan_id=plan.parent_id).first()
        if parent is not None and parent.currency != currency:
            raise ValidationError(
                {
                    "currency": gettext(
                        "A plan under “%(parent)s” is costed in its currency, %(currency)s, so the national total "
                        "can include it."
                    )
                    % {"parent": plan.parent, "currency": parent.currency}
                }
            )
    if currency != costing.currency:
        _currency_change_check(costing)
    changes = versioned_update(costing, version=version, fields=fields)
    if changes:
        audit_record(plan=plan, by=by, action="edited", target=costing, changes=changes)
        costs_changed(plan.pk)
    return costing


def _currency_change_check(costing: PlanCosting) -> None:
    """Every rate, line and commitment is stated against the base currency: the base changes only before any."""
    plan_id = costing.plan_id
    lines = CostLine.objects.filter(plan_id=plan_id).count()
    commitments = FundingCommitment.objects.filter(plan_id=plan_id).count()
    rates = ExchangeRate.objects.filter(plan_id=plan_id).count()
    held = [
        (lines, ngettext("%(count)s cost line", "%(count)s cost lines", lines)),
        (commitments, ngettext("%(count)s funding commitment", "%(count)s funding commitments", commitments)),
        (rates, ngettext("%(count)s exchange rate", "%(count)s exchange rates", rates)),
    ]
    stated = [text % {"count": count} for count, text in held if count]
    if stated:
        raise ValidationError(
            {
                # Translators: %(held)s lists what the plan has, e.g. "3 cost lines, 1 exchange rate".
                "currency": gettext(
                    "The plan already has %(held)s stated against %(currency)s; the base currency can only change "
                    "before costing starts."
                )
                % {"held": ", ".join(stated), "currency": costing.currency}
            }
        )


def _rate_validate(rate: ExchangeRate, costing: PlanCosting) -> None:
    rate.full_clean()
    if rate.currency == costing.currency:
        raise ValidationError(
            {
                "currency": gettext("%(currency)s is the plan's base currency: its rate is always 1.")
                % {"currency": rate.currency}
            }
        )


@transaction.atomic
def exchange_rate_set(
    *, plan: Plan, by: User, currency: str, year: int, rate: Decimal, source: str = "", version: int | None = None
) -> ExchangeRate:
    """Add the rate of a currency for a year, or change it; the lines priced in that currency and year are
    converted again. `version` is the rate's version as the person read it, 0 when they saw none: a rate someone
    else saved since (a first one too) is refused with EditConflict. None (the product's own loads) skips it."""
    costing = plan_costing_get(plan)
    exchange_rate, changes = versioned_save(
        ExchangeRate,
        key={"plan": plan, "currency": currency, "year": year},
        version=version,
        fields={"rate": rate, "source": source},
        validate=lambda candidate: _rate_validate(candidate, costing),
    )
    if "rate" in changes and changes["rate"][0] is None:
        audit_record(plan=plan, by=by, action="created", target=exchange_rate)
    elif changes:
        audit_record(plan=plan, by=by, action="edited", target=exchange_rate, changes=changes)
    lines_recompute(plan=plan, currency=currency, price_year=year)
    costs_changed(plan.pk)
    return exchange_rate


@transaction.atomic
def exchange_rate_delete(*, rate: ExchangeRate, by: User) -> None:
    """Remove a rate nothing needs; a rate in use (by cost lines priced in its currency and year, or by funding
    commitments in its currency that cover its year) is refused, saying what uses it."""
    in_use = CostLine.objects.filter(plan_id=rate.plan_id, currency=rate.currency, price_year=rate.year).count()
    if in_use:
        raise ValidationError(
            ngettext(
                "%(count)s cost line is priced in %(currency)s of %(year)s; change it before removing the rate.",
                "%(count)s cost lines are priced in %(currency)s of %(year)s; change them before removing the rate.",
                in_use,
            ),
            params={"count": in_use, "currency": rate.currency, "year": rate.year},
        )
    funded = FundingCommitment.objects.filter(
        plan_id=rate.plan_id, currency=rate.currency, first_year__lte=rate.year, last_year__gte=rate.year
    ).count()
    if funded:
        raise ValidationError(
            ngettext(
                "%(count)s funding commitment in %(currency)s covers %(year)s; change it before removing the rate.",
                "%(count)s funding commitments in %(currency)s cover %(year)s; change them before removing the rate.",
                funded,
            ),
            params={"count": funded, "currency": rate.currency, "year": rate.year},
        )
    audit_record(plan=rate.plan, by=by, action="deleted", target=rate, changes={"rate": str(rate.rate)})
    rate.delete()
    costs_changed(rate.plan_id)


# --- Cost lines ---------------------------------------------------------------------------------------------


def parse_decimal(value: Any, *, label: str) -> Decimal:
    """A Decimal from a form, a JSON number or a spreadsheet cell; never through float arithmetic."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise ValidationError(gettext("%(label)s: enter a number."), params={"label": label})
    elif isinstance(value, int | float | str):
        try:
            result = Decimal(str(value).strip().replace(",", "")) if str(value).strip() else Decimal(0)
        except InvalidOperation:
            raise ValidationError(
                gettext("%(label)s: “%(value)s” is not a number."), params={"label": label, "value": value}
            ) from None
    elif value is None:
        result = Decimal(0)
    else:
        raise ValidationError(gettext("%(label)s: enter a number."), params={"label": label})
    if not result.is_finite():
        raise ValidationError(gettext("%(label)s: enter a number."), params={"label": label})
    return result


def frequencies_clean(plan: Plan, frequencies: Frequencies, *, recurrence: str) -> dict[int, Decimal]:
    """{year: frequency} for every year of the plan (absent years are 0), checked; ValidationError by year."""
    years = range(plan.first_year, plan.last_year + 1)
    cleaned = {year: Decimal(0) for year in years}
    errors: list[str] = []
    for key, value in frequencies.items():
        try:
            year = int(key)
        except (TypeError, ValueError):
            errors.append(gettext("“%(value)s” is not a year.") % {"value": key})
            continue
        if year not in cleaned:
            errors.append(
                gettext("%(year)s lies outside the plan's period (%(period)s).") % {"year": year, "period": plan.period}
            )
            continue
        try:
            frequency = parse_decimal(value, label=gettext("Frequency in %(year)s") % {"year": year})
        except ValidationError as error:
            errors.extend(error.messages)
            continue
        if frequency < 0:
            errors.append(gettext("Frequency in %(year)s cannot be negative.") % {"year": year})
        elif frequency > MAX_FREQUENCY:
            errors.append(
                gettext("Frequency in %(year)s is %(frequency)s: at most %(maximum)s times a year.")
                % {"year": year, "frequency": frequency, "maximum": MAX_FREQUENCY}
            )
        elif frequency != frequency.quantize(CENT):
            errors.append(gettext("Frequency in %(year)s: at most two decimals.") % {"year": year})
        else:
            cleaned[year] = frequency
    if not errors and recurrence == CostLine.Recurrence.ONE_OFF:
        used = [year for year, frequency in cleaned.items() if frequency]
        if len(used) > 1:
            errors.append(
                gettext(
                    "A one-off cost happens in one year only, not in %(years)s; make it recurring or keep one year."
                )
                % {"years": ", ".join(map(str, used))}
            )
    if errors:
        raise ValidationError({"frequencies": errors})
    return cleaned


def line_compute(line: CostLine, frequencies: Mapping[int, Decimal], rates: Rates) -> list[CostLineYear]:
    """Set the line's unit cost in the base currency and return its years, amounts computed."""
    rate = rates.rate(line.currency, line.price_year)
    line.unit_cost_base = (line.unit_cost * rate).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
    return [
        CostLineYear(
            cost_line=line,
            year=year,
            frequency=frequency,
            amount=(line.unit_cost_base * line.quantity * frequency).quantize(CENT, rounding=ROUND_HALF_UP),
        )
        for year, frequency in sorted(frequencies.items())
    ]


@dataclass
class LineInput:
    """What a person gives for one cost line: its fields and its frequencies per year."""

    fields: dict[str, Any]
    frequencies: Frequencies = field(default_factory=dict)


def line_prepare(
    line: CostLine, *, fields: Mapping[str, Any], frequencies: Frequencies | None, rates: Rates
) -> list[CostLineYear]:
    """Apply `fields` to an unsaved copy of a line, validate everything, and return its computed years.

    Raises one ValidationError with every problem by field. `frequencies` None keeps the line's current ones.
    """
    unknown = set(fields) - set(COST_LINE_FIELDS)
    if unknown:
        raise TypeError(f"Cost lines have no editable field {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(line, name, value)
    item = line.catalogue_item if line.catalogue_item_id else None
    errors: dict[str, list[str]] = {}
    if item is not None:
        for name in CATALOGUE_FIELDS:
            setattr(line, name, getattr(item, name))
        if line.category == "":
            line.category = item.category
        if not catalogue_item_usable(item, line.plan):
            errors.setdefault("catalogue_item", []).append(
                gettext("“%(item)s” is not in this plan's catalogue.") % {"item": item.name}
            )
    if line.price_year is None:
        line.price_year = plan_costing_get(line.plan).price_year
    try:
        line.full_clean(exclude=["unit_cost_base", "plan", "activity"])
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if line.activity_id and line.activity.plan_id != line.plan_id:
        errors.setdefault("activity", []).append(gettext("This activity belongs to another plan."))
    years: list[CostLineYear] = []
    try:
        if frequencies is None:
            frequencies = {year.year: year.frequency for year in line.years.all()} if line.pk else {}
        cleaned = frequencies_clean(line.plan, frequencies, recurrence=line.recurrence)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
        cleaned = None
    if not errors and cleaned is not None:
        try:
            years = line_compute(line, cleaned, rates)
        except ValidationError as error:
            errors.setdefault("currency", []).extend(error.messages)
    if errors:
        raise ValidationError(errors)
    return years


def catalogue_item_usable(item: Any, plan: Plan) -> bool:
    """A plan uses its own items and those of its jurisdiction and the jurisdictions above it."""
    if item.plan_id is not None:
        return item.plan_id == plan.pk
    return item.jurisdiction_id in plan.jurisdiction.ancestors_and_self_ids()


@transaction.atomic
def cost_line_create(*, activity: Activity, by: User, fields: Mapping[str, Any], frequencies: Frequencies) -> CostLine:
    plan = activity.plan
    line = CostLine(plan=plan, activity=activity, updated_by=by)
    years = line_prepare(line, fields=fields, frequencies=frequencies, rates=Rates.for_plan(plan))
    line.save()
    CostLineYear.objects.bulk_create(years)
    audit_record(
        plan=plan,
        by=by,
        action="created",
        target=line,
        changes={"activity": str(activity)},
        area_id=activity.technical_area_id,
    )
    costs_changed(plan.pk)
    return line


@transaction.atomic
def cost_line_update(
    *,
    line: CostLine,
    by: User,
    version: int,
    fields: Mapping[str, Any],
    frequencies: Frequencies | None = None,
) -> CostLine:
    """Change a line, refusing the save (EditConflict) if someone saved it since `version`."""
    candidate = copy.copy(line)
    old_years = {year.year: year.frequency for year in line.years.all()}
    years = line_prepare(candidate, fields=fields, frequencies=frequencies, rates=Rates.for_plan(line.plan))
    saved = {name: getattr(candidate, name) for name in (*COST_LINE_FIELDS, "unit_cost_base")}
    saved["updated_by"] = by
    changes = versioned_update(line, version=version, fields=saved)
    changes.pop("updated_by", None)
    new_years = {year.year: year.frequency for year in years}
    if new_years != old_years:
        changes["frequencies"] = [_frequencies_json(old_years), _frequencies_json(new_years)]
    CostLineYear.objects.filter(cost_line=line).delete()
    CostLineYear.objects.bulk_create(years)
    if changes:
        audit_record(
            plan=line.plan,
            by=by,
            action="edited",
            target=line,
            changes=changes,
            area_id=line.activity.technical_area_id,
        )
    costs_changed(line.plan_id)
    return line


def _frequencies_json(frequencies: Mapping[int, Decimal]) -> dict[str, str]:
    return {str(year): str(frequency) for year, frequency in sorted(frequencies.items()) if frequency}


@transaction.atomic
def cost_line_delete(*, line: CostLine, by: User, version: int | None = None) -> None:
    """Remove a line; with `version`, only if nobody changed it since."""
    if version is not None and not CostLine.objects.filter(pk=line.pk, version=version).exists():
        from naphs.errors import EditConflict

        raise EditConflict(line)
    audit_record(
        plan=line.plan,
        by=by,
        action="deleted",
        target=line,
        changes={"activity": str(line.activity), "description": line.description, "unit_cost": str(line.unit_cost)},
        area_id=line.activity.technical_area_id,
    )
    line.delete()
    costs_changed(line.plan_id)


def lines_recompute(*, plan: Plan, currency: str | None = None, price_year: int | None = None) -> int:
    """Convert the plan's lines again (all, or those of one currency and year) after a rate or base change.

    Done in two UPDATE statements whatever the number of lines. Lines needing a rate the plan lacks are
    refused as a whole: nothing changes and the message names the rates to add.
    """
    rates = Rates.for_plan(plan)
    lines = CostLine.objects.filter(plan=plan)
    if currency is not None:
        lines = lines.filter(currency=currency)
    if price_year is not None:
        lines = lines.filter(price_year=price_year)
    needed = set(lines.values_list("currency", "price_year").distinct())
    missing = sorted((cur, year) for cur, year in needed if not rates.has(cur, year))
    if missing:
        wanted = ", ".join(
            # Translators: a currency and a year whose exchange rate is missing, e.g. "EUR in 2026".
            gettext("%(currency)s in %(year)s") % {"currency": cur, "year": year}
            for cur, year in missing
        )
        raise ValidationError(
            gettext("Cost lines are priced in %(rates)s; add those exchange rates first."), params={"rates": wanted}
        )
    count = 0
    for cur, year in needed:
        count += lines.filter(currency=cur, price_year=year).update(
            unit_cost_base=F("unit_cost") * Value(rates.rate(cur, year))
        )
    line_total = CostLine.objects.filter(pk=OuterRef("cost_line_id")).values(
        total=ExpressionWrapper(F("unit_cost_base") * F("quantity"), output_field=DecimalField())
    )
    CostLineYear.objects.filter(cost_line__in=lines).update(
        amount=ExpressionWrapper(Subquery(line_total) * F("frequency"), output_field=DecimalField())
    )
    return count


# --- Rollups: one coalesced recomputation after a burst of changes ------------------------------------------


def costs_changed(plan_id: int) -> None:
    """Say the plan's totals moved: its rollups are stale from now on, and one recomputation is queued.

    Only the change that flips `rollup_queued` from false enqueues the task, once its transaction commits,
    to run ROLLUP_SETTLE_SECONDS later: the edits made meanwhile find it queued and join it, so a burst of
    edits triggers one recomputation even when a worker is idle, and an edit made while it runs queues the next.
    """
    PlanCosting.objects.filter(plan_id=plan_id).update(changes=F("changes") + 1)
    if PlanCosting.objects.filter(plan_id=plan_id, rollup_queued=False).update(rollup_queued=True):
        from costing.tasks import plan_rollup_task

        plan_rollup_task.apply_async_on_commit((plan_id,), countdown=ROLLUP_SETTLE_SECONDS)
