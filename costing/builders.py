"""Cost builders: the common cases of an activity's cost (a meeting or training, a field visit, a consultancy,
staff, procurement) turned from a few answers into cost lines, each with its assumptions written out.

The builders are pure functions: answers in, `LineInput`s out, or one ValidationError naming the answers that
are wrong. `BUILDERS` describes each builder's questions, so the page's forms and the API ask the same things.
Two services close the module: `cost_lines_preview` computes what the lines would cost (through
costing.services, like any line) and `cost_lines_build` saves them all or none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from costing.models import (
    MAX_FREQUENCY,
    MAX_QUANTITY,
    MAX_UNIT_COST,
    CatalogueItem,
    CostCategory,
    CostLine,
    CostLineYear,
    Unit,
    validate_currency_code,
)
from costing.services import CENT, LineInput, Rates, cost_line_create, line_prepare

if TYPE_CHECKING:
    from planning.models import Activity
    from stakeholders.models import User

ZERO = Decimal(0)
MAX_PEOPLE = 10_000
MAX_VEHICLES = 1_000
MAX_DAYS = 366
MAX_LITRES = Decimal(1000)  # per vehicle and day
MAX_ITEMS = 30
MEETING_CATEGORIES = (CostCategory.MEETINGS, CostCategory.TRAINING)
PROCUREMENT_CATEGORIES = (
    CostCategory.EQUIPMENT,
    CostCategory.SUPPLIES,
    CostCategory.INFRASTRUCTURE,
    CostCategory.COMMUNICATION,
    CostCategory.OTHER,
)


# --- When and in what: the answers every builder shares -----------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """The years the cost happens in, how often each year, its currency and price year, and whether it is
    optional. `period` is the plan's years, which `years` must lie in."""

    years: Sequence[int]
    currency: str
    period: range
    times_per_year: Decimal = Decimal(1)
    optional: bool = False
    price_year: int | None = None
    # The catalogue items the rates were taken from, by answer (e.g. {"per_diem": <item>}): their lines are
    # lines of that item, which follow it when its price changes, rather than free items.
    catalogue: Mapping[str, CatalogueItem] = field(default_factory=dict)

    def frequencies(self, times: Decimal | None = None) -> dict[int, Decimal]:
        times = self.times_per_year if times is None else times
        return {year: times for year in sorted(self.years)}

    @property
    def recurrence(self) -> str:
        return CostLine.Recurrence.ONE_OFF if len(set(self.years)) == 1 else CostLine.Recurrence.RECURRING

    def years_text(self) -> str:
        years = sorted(set(self.years))
        return ", ".join(map(str, years[:-1])) + f" and {years[-1]}" if len(years) > 1 else str(years[0])

    def when(self) -> str:
        """In words: "Once in 2026.", "Twice a year in 2026, 2027 and 2028."."""
        times = self.times_per_year
        if len(set(self.years)) == 1 and times == 1:
            return f"Once in {self.years_text()}."
        often = {Decimal(1): "Once", Decimal(2): "Twice"}.get(times, f"{_number(times)} times")
        return f"{often} a year in {self.years_text()}."


class Problems:
    """Collects what is wrong with the answers, by answer, and raises them together."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def count(self, name: str, value: Any, label: str, *, minimum: int = 0, maximum: int = MAX_PEOPLE) -> int:
        if value is None:
            self.add(name, gettext("%(label)s: give a number.") % {"label": label})
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(name, gettext("%(label)s: enter a whole number.") % {"label": label})
            return 0
        if value < minimum:
            if minimum == 0:
                self.add(name, gettext("%(label)s cannot be negative.") % {"label": label})
            else:
                self.add(
                    name, gettext("%(label)s cannot be less than %(minimum)s.") % {"label": label, "minimum": minimum}
                )
        elif value > maximum:
            self.add(name, self._too_large(label, value, maximum))
        return value

    def amount(
        self, name: str, value: Any, label: str, *, maximum: Decimal = MAX_UNIT_COST, positive: bool = False
    ) -> Decimal:
        if value is None or value == "":
            value = ZERO
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.add(name, gettext("%(label)s: enter a number.") % {"label": label})
            return ZERO
        value = Decimal(value)
        if not value.is_finite():
            self.add(name, gettext("%(label)s: enter a number.") % {"label": label})
        elif value < 0:
            self.add(name, gettext("%(label)s cannot be negative.") % {"label": label})
        elif positive and value == 0:
            self.add(name, gettext("%(label)s must be more than 0.") % {"label": label})
        elif value > maximum:
            self.add(name, self._too_large(label, value, maximum))
        elif value != value.quantize(CENT):
            self.add(name, gettext("%(label)s: at most two decimals.") % {"label": label})
        else:
            return value
        return ZERO

    @staticmethod
    def _too_large(label: str, value: Decimal | int, maximum: Decimal | int) -> str:
        return gettext("%(label)s is %(value)s: at most %(maximum)s. Check the number.") % {
            "label": label,
            "value": f"{value:,}",
            "maximum": f"{maximum:,}",
        }

    def schedule(self, schedule: Schedule, *, asks_times: bool = True) -> None:
        years = list(schedule.years)
        if not years:
            self.add("years", gettext("Choose the years in which this happens."))
        outside = sorted({year for year in years if year not in schedule.period})
        if outside:
            listed = ", ".join(map(str, outside))
            if schedule.period:
                period = f"{schedule.period[0]}–{schedule.period[-1]}"
                message = gettext("%(years)s: outside the plan's period (%(period)s).") % {
                    "years": listed,
                    "period": period,
                }
            else:
                message = gettext("%(years)s: outside the plan's period.") % {"years": listed}
            self.add("years", message)
        if asks_times:
            self.amount(
                "times_per_year",
                schedule.times_per_year,
                gettext("Times per year"),
                maximum=MAX_FREQUENCY,
                positive=True,
            )
        elif schedule.times_per_year != 1:
            self.add("times_per_year", gettext("Staff are costed by months per year; leave times per year at 1."))
        try:
            validate_currency_code(schedule.currency)
        except ValidationError as error:
            self.add("currency", " ".join(error.messages))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _number(value: Decimal | int) -> str:
    """1,234 or 12.5: no trailing zeros."""
    value = Decimal(value)
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value.normalize():,f}"


def _money(value: Decimal, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def _plural_word(word: str) -> str:
    """person-day → person-days, copy → copies, lump sum → lump sums."""
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "o", "u", ""):
        return word[:-1] + "ies"
    return word + "s"


def _plural(count: Decimal | int, word: str, plural: str = "") -> str:
    return f"{_number(count)} {word if count == 1 else plural or _plural_word(word)}"


class Lines:
    """The lines a builder makes: each priced in the schedule's currency and happening on its schedule.

    A line of no cost (nothing to pay, or nobody to pay for) is left out; a quantity beyond what a cost line
    holds is reported against the answer that made it.
    """

    def __init__(self, schedule: Schedule, problems: Problems, prefix: str) -> None:
        self.schedule, self.problems, self.prefix = schedule, problems, prefix
        self.lines: list[LineInput] = []

    def add(
        self,
        what: str,
        *,
        category: str,
        unit: str,
        unit_cost: Decimal,
        quantity: Decimal | int,
        assumptions: str,
        blame: str,
        rate: str = "",
        frequency: Decimal | None = None,
        when: str | None = None,
        item: CatalogueItem | None = None,
    ) -> None:
        """`rate` names the answer the unit cost came from: a catalogue item chosen for it makes this a line of
        that item (`item` gives one directly)."""
        quantity = Decimal(quantity)
        if quantity > MAX_QUANTITY:
            self.problems.add(
                blame,
                f"{what}: {_plural(quantity, unit)} is more than a cost line holds ({MAX_QUANTITY:,}). "
                "Check the numbers.",
            )
            return
        if not quantity or not unit_cost:
            return
        schedule = self.schedule
        item = item or schedule.catalogue.get(rate)
        self.lines.append(
            LineInput(
                fields={
                    **({"catalogue_item": item} if item is not None else {}),
                    "description": f"{self.prefix}: {what}"[:300],
                    "category": category,
                    "unit": unit,
                    "unit_cost": unit_cost,
                    "currency": schedule.currency,
                    "price_year": schedule.price_year,
                    "quantity": quantity,
                    "recurrence": schedule.recurrence,
                    "optional": schedule.optional,
                    "assumptions": f"{assumptions} {schedule.when() if when is None else when}",
                },
                frequencies={year: times for year, times in schedule.frequencies(frequency).items()},
            )
        )

    def done(self) -> list[LineInput]:
        self.problems.raise_if_any()
        if not self.lines:
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: gettext(
                        "These answers cost nothing: give at least one price and a number to pay for."
                    )
                }
            )
        return self.lines


# --- The builders ---------------------------------------------------------------------------------------------


def meeting_lines(
    schedule: Schedule,
    *,
    participants: int,
    days: int,
    travelling: int = 0,
    per_diem: Decimal = ZERO,
    travel_per_person: Decimal = ZERO,
    venue_per_day: Decimal = ZERO,
    meals_per_person_day: Decimal = ZERO,
    materials_per_participant: Decimal = ZERO,
    facilitators: int = 0,
    facilitator_fee: Decimal = ZERO,
    facilitators_travelling: bool = False,
    category: str = CostCategory.MEETINGS,
    name: str = "",
) -> list[LineInput]:
    """A meeting or training: venue, meals, materials, per diem (and travel) for those who travel, and the
    facilitators' fees (and their per diem when they travel). Meals are for everyone present."""
    check = Problems()
    check.schedule(schedule)
    participants = check.count("participants", participants, "Participants", minimum=1)
    travelling = check.count("travelling", travelling, "Travelling participants")
    days = check.count("days", days, "Days", minimum=1, maximum=MAX_DAYS)
    facilitators = check.count("facilitators", facilitators, "Facilitators")
    per_diem = check.amount("per_diem", per_diem, "Per diem")
    travel = check.amount("travel_per_person", travel_per_person, "Travel per person")
    venue = check.amount("venue_per_day", venue_per_day, "Venue per day")
    meals = check.amount("meals_per_person_day", meals_per_person_day, "Meals per person and day")
    materials = check.amount("materials_per_participant", materials_per_participant, "Materials per participant")
    fee = check.amount("facilitator_fee", facilitator_fee, "Facilitator fee per day")
    if category not in MEETING_CATEGORIES:
        check.add("category", "Choose a meeting or a training.")
    if not check.errors and travelling > participants:
        check.add("travelling", f"{travelling} travelling is more than the {participants} participants.")
    if not check.errors and fee and not facilitators:
        check.add("facilitators", "A facilitator fee is given but no facilitators.")
    if not check.errors and facilitators_travelling and not facilitators:
        check.add("facilitators_travelling", "No facilitators to travel.")
    check.raise_if_any()

    currency = schedule.currency
    label = "Training" if category == CostCategory.TRAINING else "Meeting"
    lines = Lines(schedule, check, name.strip() or label)
    event = f"{_plural(days, 'day')}"
    travelling_facilitators = facilitators if facilitators_travelling else 0
    present = participants + facilitators
    lines.add(
        "venue",
        category=category,
        unit=Unit.DAY,
        unit_cost=venue,
        rate="venue_per_day",
        quantity=days,
        assumptions=f"Venue for {event} at {_money(venue, currency)} a day.",
        blame="venue_per_day",
    )
    lines.add(
        "meals",
        category=category,
        unit=Unit.PERSON_DAY,
        unit_cost=meals,
        rate="meals_per_person_day",
        quantity=present * days,
        assumptions=(
            f"Meals for {_plural(participants, 'participant')}"
            + (f" and {_plural(facilitators, 'facilitator')}" if facilitators else "")
            + f" over {event}: {_plural(present * days, 'person-day')} at {_money(meals, currency)}."
        ),
        blame="participants",
    )
    lines.add(
        "materials",
        category=CostCategory.COMMUNICATION,
        unit=Unit.PARTICIPANT,
        unit_cost=materials,
        rate="materials_per_participant",
        quantity=participants,
        assumptions=f"Materials for {_plural(participants, 'participant')} at {_money(materials, currency)} each.",
        blame="participants",
    )
    lines.add(
        "per diem of travelling participants",
        category=CostCategory.PER_DIEM_TRAVEL,
        unit=Unit.PERSON_DAY,
        unit_cost=per_diem,
        rate="per_diem",
        quantity=travelling * days,
        assumptions=(
            f"Per diem for the {travelling} of {_plural(participants, 'participant')} who travel, over {event}: "
            f"{_plural(travelling * days, 'person-day')} at {_money(per_diem, currency)}."
        ),
        blame="travelling",
    )
    travellers = travelling + travelling_facilitators
    lines.add(
        "travel",
        category=CostCategory.PER_DIEM_TRAVEL,
        unit=Unit.TRIP,
        unit_cost=travel,
        rate="travel_per_person",
        quantity=travellers,
        assumptions=(
            f"A return trip for each of {_plural(travelling, 'travelling participant')}"
            + (f" and {_plural(travelling_facilitators, 'facilitator')}" if travelling_facilitators else "")
            + f" at {_money(travel, currency)}."
        ),
        blame="travelling",
    )
    lines.add(
        "facilitator fees",
        category=CostCategory.CONSULTANCY,
        unit=Unit.PERSON_DAY,
        unit_cost=fee,
        rate="facilitator_fee",
        quantity=facilitators * days,
        assumptions=(
            f"{_plural(facilitators, 'facilitator')} for {event}: "
            f"{_plural(facilitators * days, 'person-day')} at {_money(fee, currency)} a day."
        ),
        blame="facilitators",
    )
    lines.add(
        "per diem of facilitators",
        category=CostCategory.PER_DIEM_TRAVEL,
        unit=Unit.PERSON_DAY,
        unit_cost=per_diem,
        rate="per_diem",
        quantity=travelling_facilitators * days,
        assumptions=(
            f"Per diem for {_plural(travelling_facilitators, 'travelling facilitator')} over {event}: "
            f"{_plural(travelling_facilitators * days, 'person-day')} at {_money(per_diem, currency)}."
        ),
        blame="facilitators",
    )
    return lines.done()


def field_visit_lines(
    schedule: Schedule,
    *,
    staff: int,
    days: int,
    per_diem: Decimal = ZERO,
    vehicles: int = 0,
    vehicle_hire_per_day: Decimal = ZERO,
    litres_per_vehicle_day: Decimal = ZERO,
    fuel_price: Decimal = ZERO,
    drivers: int = 0,
    driver_daily_rate: Decimal = ZERO,
    name: str = "",
) -> list[LineInput]:
    """A field visit: the staff's per diem, the vehicles (hire and fuel) and their drivers."""
    check = Problems()
    check.schedule(schedule)
    staff = check.count("staff", staff, "Staff", minimum=1)
    days = check.count("days", days, "Days", minimum=1, maximum=MAX_DAYS)
    per_diem = check.amount("per_diem", per_diem, "Per diem")
    vehicles = check.count("vehicles", vehicles, "Vehicles", maximum=MAX_VEHICLES)
    hire = check.amount("vehicle_hire_per_day", vehicle_hire_per_day, "Vehicle hire per day")
    litres = check.amount(
        "litres_per_vehicle_day", litres_per_vehicle_day, "Litres per vehicle and day", maximum=MAX_LITRES
    )
    fuel_price = check.amount("fuel_price", fuel_price, "Fuel price per litre")
    drivers = check.count("drivers", drivers, "Drivers", maximum=MAX_VEHICLES)
    driver_rate = check.amount("driver_daily_rate", driver_daily_rate, "Driver's daily rate")
    if not check.errors and not vehicles:
        for answer, value, what in (
            ("litres_per_vehicle_day", litres, "Fuel"),
            ("vehicle_hire_per_day", hire, "Vehicle hire"),
            ("drivers", drivers, "Drivers"),
        ):
            if value:
                check.add(answer, f"{what} given but no vehicles.")
    if not check.errors and litres and not fuel_price:
        check.add("fuel_price", "Give the price of a litre of fuel.")
    if not check.errors and drivers and not driver_rate:
        check.add("driver_daily_rate", "Give the drivers' daily rate.")
    check.raise_if_any()

    currency = schedule.currency
    lines = Lines(schedule, check, name.strip() or "Field visit")
    event = _plural(days, "day")
    lines.add(
        "per diem of staff",
        category=CostCategory.PER_DIEM_TRAVEL,
        unit=Unit.PERSON_DAY,
        unit_cost=per_diem,
        rate="per_diem",
        quantity=staff * days,
        assumptions=(
            f"Per diem for {_plural(staff, 'staff member')} over {event}: "
            f"{_plural(staff * days, 'person-day')} at {_money(per_diem, currency)}."
        ),
        blame="staff",
    )
    lines.add(
        "vehicle hire",
        category=CostCategory.TRANSPORT,
        unit=Unit.VEHICLE_DAY,
        unit_cost=hire,
        rate="vehicle_hire_per_day",
        quantity=vehicles * days,
        assumptions=(
            f"{_plural(vehicles, 'vehicle')} for {event}: {_plural(vehicles * days, 'vehicle-day')} "
            f"at {_money(hire, currency)}."
        ),
        blame="vehicles",
    )
    lines.add(
        "fuel",
        category=CostCategory.TRANSPORT,
        unit=Unit.LITRE,
        unit_cost=fuel_price,
        rate="fuel_price",
        quantity=vehicles * days * litres,
        assumptions=(
            f"{_plural(litres, 'litre')} a day for each of {_plural(vehicles, 'vehicle')} over {event}: "
            f"{_plural(vehicles * days * litres, 'litre')} at {_money(fuel_price, currency)} a litre."
        ),
        blame="litres_per_vehicle_day",
    )
    lines.add(
        "drivers",
        category=CostCategory.TRANSPORT,
        unit=Unit.PERSON_DAY,
        unit_cost=driver_rate,
        rate="driver_daily_rate",
        quantity=drivers * days,
        assumptions=(
            f"{_plural(drivers, 'driver')} for {event}: {_plural(drivers * days, 'person-day')} "
            f"at {_money(driver_rate, currency)} a day."
        ),
        blame="drivers",
    )
    return lines.done()


class ConsultantKind:
    NATIONAL = "national"
    INTERNATIONAL = "international"
    CHOICES = ((NATIONAL, "National"), (INTERNATIONAL, "International"))


def consultancy_lines(
    schedule: Schedule,
    *,
    consultant: str,
    days: int,
    daily_rate: Decimal,
    consultants: int = 1,
    travel_per_trip: Decimal = ZERO,
    per_diem: Decimal = ZERO,
    name: str = "",
) -> list[LineInput]:
    """A consultancy: the fees, and for an international consultant a return trip and per diem while in
    the country."""
    check = Problems()
    check.schedule(schedule)
    if consultant not in (ConsultantKind.NATIONAL, ConsultantKind.INTERNATIONAL):
        check.add("consultant", "Choose a national or an international consultant.")
    consultants = check.count("consultants", consultants, "Consultants", minimum=1, maximum=1000)
    days = check.count("days", days, "Days", minimum=1, maximum=MAX_DAYS)
    rate = check.amount("daily_rate", daily_rate, "Daily rate", positive=True)
    travel = check.amount("travel_per_trip", travel_per_trip, "Travel per trip")
    per_diem = check.amount("per_diem", per_diem, "Per diem")
    if consultant == ConsultantKind.NATIONAL:
        for answer, value, what in (("travel_per_trip", travel, "Travel"), ("per_diem", per_diem, "Per diem")):
            if value:
                check.add(
                    answer, f"{what} is costed for an international consultant; leave it empty for a national one."
                )
    check.raise_if_any()

    currency = schedule.currency
    who = "international" if consultant == ConsultantKind.INTERNATIONAL else "national"
    lines = Lines(schedule, check, name.strip() or f"{who.capitalize()} consultancy")
    people = _plural(consultants, f"{who} consultant")
    lines.add(
        "fees",
        category=CostCategory.CONSULTANCY,
        unit=Unit.PERSON_DAY,
        unit_cost=rate,
        rate="daily_rate",
        quantity=consultants * days,
        assumptions=(
            f"{people} for {_plural(days, 'day')}: {_plural(consultants * days, 'person-day')} "
            f"at {_money(rate, currency)} a day."
        ),
        blame="days",
    )
    lines.add(
        "travel",
        category=CostCategory.PER_DIEM_TRAVEL,
        unit=Unit.TRIP,
        unit_cost=travel,
        rate="travel_per_trip",
        quantity=consultants,
        assumptions=f"A return trip for each of {people} at {_money(travel, currency)}.",
        blame="consultants",
    )
    lines.add(
        "per diem",
        category=CostCategory.PER_DIEM_TRAVEL,
        unit=Unit.PERSON_DAY,
        unit_cost=per_diem,
        rate="per_diem",
        quantity=consultants * days,
        assumptions=(
            f"Per diem for {people} over {_plural(days, 'day')} in the country: "
            f"{_plural(consultants * days, 'person-day')} at {_money(per_diem, currency)}."
        ),
        blame="days",
    )
    return lines.done()


def staff_lines(
    schedule: Schedule, *, posts: int, monthly_salary: Decimal, months_per_year: int = 12, name: str = ""
) -> list[LineInput]:
    """Staff: posts × monthly salary, paid the given months of each year (the line's frequency)."""
    check = Problems()
    check.schedule(schedule, asks_times=False)
    posts = check.count("posts", posts, "Posts", minimum=1)
    salary = check.amount("monthly_salary", monthly_salary, "Monthly salary", positive=True)
    months = check.count("months_per_year", months_per_year, "Months per year", minimum=1, maximum=12)
    check.raise_if_any()

    currency = schedule.currency
    title = name.strip() or "Staff"
    lines = Lines(schedule, check, title)
    lines.add(
        "salaries",
        category=CostCategory.PERSONNEL,
        unit=Unit.POST_MONTH,
        unit_cost=salary,
        rate="monthly_salary",
        quantity=posts,
        frequency=Decimal(months),
        assumptions=(
            f"{_plural(posts, 'post')} at {_money(salary, currency)} a month, paid {_plural(months, 'month')} a year."
        ),
        when=f"In {schedule.years_text()}.",
        blame="posts",
    )
    return lines.done()


@dataclass(frozen=True)
class Item:
    """One thing to buy."""

    name: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    catalogue_item: CatalogueItem | None = None  # the item it is bought as; its line follows the item's price


def procurement_lines(
    schedule: Schedule, *, items: Sequence[Item], category: str = CostCategory.EQUIPMENT, name: str = ""
) -> list[LineInput]:
    """Procurement: one line per item bought (name, unit, quantity, unit price)."""
    check = Problems()
    check.schedule(schedule)
    if category not in PROCUREMENT_CATEGORIES:
        check.add("category", "Choose equipment, supplies, infrastructure, communication and printing, or other.")
    items = list(items or [])
    if not items:
        check.add("items", "List at least one item to buy.")
    if len(items) > MAX_ITEMS:
        check.add("items", f"{len(items)} items: at most {MAX_ITEMS} at a time.")
    cleaned: list[Item] = []
    for number, item in enumerate(items, start=1):
        where = f"Item {number}" + (f" ({item.name.strip()})" if item.name.strip() else "")
        item_check = Problems()
        if not item.name.strip():
            item_check.add("items", f"{where}: name the item.")
        if item.unit not in Unit.values:
            item_check.add("items", f"{where}: “{item.unit}” is not a unit of the list.")
        quantity = item_check.amount("items", item.quantity, f"{where}: quantity", maximum=MAX_QUANTITY, positive=True)
        price = item_check.amount("items", item.unit_price, f"{where}: unit price", positive=True)
        for message in item_check.errors.get("items", []):
            check.add("items", message)
        cleaned.append(Item(item.name.strip(), item.unit, quantity, price, item.catalogue_item))
    check.raise_if_any()

    currency = schedule.currency
    title = name.strip() or "Procurement"
    lines = Lines(schedule, check, title)
    for item in cleaned:
        lines.add(
            item.name,
            category=category,
            unit=item.unit,
            unit_cost=item.unit_price,
            quantity=item.quantity,
            assumptions=f"{_plural(item.quantity, item.unit)} at {_money(item.unit_price, currency)} each.",
            blame="items",
            item=item.catalogue_item,
        )
    return lines.done()


# --- What each builder asks, for the forms and the API ------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """One answer a builder needs. `kind`: count (a whole number), money, number (decimal), flag, choice, text,
    or items (procurement's list of things to buy)."""

    name: str
    label: str
    kind: str
    help: str = ""
    required: bool = False
    choices: tuple[tuple[str, str | Promise], ...] = ()
    default: Any = None
    # For a rate: the catalogue items it may be taken from, as (categories, unit); the plan's item of these in
    # its currency and price year is the default.
    catalogue: tuple[tuple[str, ...], str] | None = None


@dataclass(frozen=True)
class Builder:
    kind: str
    label: str
    summary: str
    build: Callable[..., list[LineInput]]
    questions: tuple[Question, ...] = field(default_factory=tuple)
    asks_times: bool = True  # staff are paid by months per year instead

    def lines(self, schedule: Schedule, answers: Mapping[str, Any]) -> list[LineInput]:
        """Build from answers by question name: a missing optional answer takes the builder's default, a
        missing required one is reported by the builder."""
        given = {}
        for question in self.questions:
            value = answers.get(question.name)
            if value is not None or question.required:
                given[question.name] = value
        return self.build(schedule, **given)


PER_DIEM = ((CostCategory.PER_DIEM_TRAVEL,), Unit.PERSON_DAY)
TRIP = ((CostCategory.PER_DIEM_TRAVEL,), Unit.TRIP)
FEE = ((CostCategory.CONSULTANCY,), Unit.PERSON_DAY)
NAME = Question("name", "Name", "text", "Starts each line's description, e.g. “Training of rapid response teams”.")

BUILDERS: dict[str, Builder] = {
    builder.kind: builder
    for builder in (
        Builder(
            "meeting",
            "Meeting or training",
            "Venue, meals, materials, per diem and travel of participants, facilitators and their fees.",
            meeting_lines,
            (
                NAME,
                Question(
                    "category",
                    "Kind",
                    "choice",
                    required=True,
                    choices=((CostCategory.MEETINGS, _("Meeting or workshop")), (CostCategory.TRAINING, _("Training"))),
                    default=CostCategory.MEETINGS,
                ),
                Question("participants", "Participants", "count", required=True),
                Question("travelling", "Of whom travelling", "count", "They get per diem and a trip.", default=0),
                Question("days", "Days", "count", required=True),
                Question("per_diem", "Per diem a day", "money", "For travellers.", default=ZERO, catalogue=PER_DIEM),
                Question("travel_per_person", "Travel per traveller (return)", "money", default=ZERO, catalogue=TRIP),
                Question(
                    "venue_per_day", "Venue a day", "money", default=ZERO, catalogue=(MEETING_CATEGORIES, Unit.DAY)
                ),
                Question(
                    "meals_per_person_day",
                    "Meals per person and day",
                    "money",
                    "Everyone present.",
                    default=ZERO,
                    catalogue=(MEETING_CATEGORIES, Unit.PERSON_DAY),
                ),
                Question(
                    "materials_per_participant",
                    "Materials per participant",
                    "money",
                    default=ZERO,
                    catalogue=((CostCategory.COMMUNICATION,), Unit.PARTICIPANT),
                ),
                Question("facilitators", "Facilitators", "count", default=0),
                Question("facilitator_fee", "Facilitator fee a day", "money", default=ZERO, catalogue=FEE),
                Question("facilitators_travelling", "Facilitators travel", "flag", "Per diem and a trip for them too."),
            ),
        ),
        Builder(
            "field-visit",
            "Field visit",
            "Per diem of the staff, vehicles, fuel and drivers.",
            field_visit_lines,
            (
                NAME,
                Question("staff", "Staff", "count", required=True),
                Question("days", "Days", "count", required=True),
                Question("per_diem", "Per diem a day", "money", default=ZERO, catalogue=PER_DIEM),
                Question("vehicles", "Vehicles", "count", default=0),
                Question(
                    "vehicle_hire_per_day",
                    "Vehicle hire a day",
                    "money",
                    "Leave empty for own vehicles.",
                    default=ZERO,
                    catalogue=((CostCategory.TRANSPORT,), Unit.VEHICLE_DAY),
                ),
                Question("litres_per_vehicle_day", "Fuel: litres per vehicle and day", "number", default=ZERO),
                Question(
                    "fuel_price",
                    "Fuel: price of a litre",
                    "money",
                    default=ZERO,
                    catalogue=((CostCategory.TRANSPORT,), Unit.LITRE),
                ),
                Question("drivers", "Drivers", "count", default=0),
                Question(
                    "driver_daily_rate",
                    "Driver's daily rate",
                    "money",
                    default=ZERO,
                    catalogue=((CostCategory.TRANSPORT,), Unit.PERSON_DAY),
                ),
            ),
        ),
        Builder(
            "consultancy",
            "Consultancy",
            "Fees of national or international consultants, with travel and per diem for international ones.",
            consultancy_lines,
            (
                NAME,
                Question(
                    "consultant",
                    "Consultant",
                    "choice",
                    required=True,
                    choices=ConsultantKind.CHOICES,
                    default=ConsultantKind.NATIONAL,
                ),
                Question("consultants", "Consultants", "count", default=1),
                Question("days", "Days", "count", required=True),
                Question("daily_rate", "Daily rate", "money", required=True, catalogue=FEE),
                Question(
                    "travel_per_trip",
                    "Travel per trip (return)",
                    "money",
                    "International only.",
                    default=ZERO,
                    catalogue=TRIP,
                ),
                Question(
                    "per_diem",
                    "Per diem a day",
                    "money",
                    "International only, for the days in the country.",
                    default=ZERO,
                    catalogue=PER_DIEM,
                ),
            ),
        ),
        Builder(
            "staff",
            "Staff",
            "Posts paid a monthly salary for some months of each year.",
            staff_lines,
            (
                Question("name", "Post", "text", "e.g. “Data manager”."),
                Question("posts", "Posts", "count", required=True),
                Question(
                    "monthly_salary",
                    "Monthly salary",
                    "money",
                    "Including benefits.",
                    required=True,
                    catalogue=((CostCategory.PERSONNEL,), Unit.POST_MONTH),
                ),
                Question("months_per_year", "Months a year", "count", default=12),
            ),
            asks_times=False,
        ),
        Builder(
            "procurement",
            "Procurement",
            "Equipment, supplies or works: one line per item bought.",
            procurement_lines,
            (
                NAME,
                Question(
                    "category",
                    "Category",
                    "choice",
                    required=True,
                    choices=tuple((value, CostCategory(value).label) for value in PROCUREMENT_CATEGORIES),
                    default=CostCategory.EQUIPMENT,
                ),
                Question("items", "Items", "items", required=True),
            ),
        ),
    )
}


# --- Services: what the lines would cost, and saving them -----------------------------------------------------


@dataclass
class Preview:
    """A line a builder would create, with its amounts computed as the saved line's would be."""

    line: CostLine
    years: list[CostLineYear]

    @property
    def total(self) -> Decimal:
        return sum((year.amount for year in self.years), ZERO)


# Problems of a computed line, told against the builder's answers.
_LINE_FIELD_TO_ANSWER = {"currency": "currency", "price_year": "price_year", "frequencies": "years"}


def cost_lines_preview(*, activity: Activity, lines: Iterable[LineInput]) -> list[Preview]:
    """Compute the lines as costing.services would save them, without saving anything.

    Raises one ValidationError, by builder answer (currency, price_year, years) or about the whole, for lines
    that could not be saved, e.g. for want of an exchange rate.
    """
    plan = activity.plan
    rates = Rates.for_plan(plan)
    previews, problems = [], Problems()
    for line_input in lines:
        line = CostLine(plan=plan, activity=activity)
        try:
            years = line_prepare(line, fields=line_input.fields, frequencies=line_input.frequencies, rates=rates)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                answer = _LINE_FIELD_TO_ANSWER.get(name, NON_FIELD_ERRORS)
                prefix = "" if answer != NON_FIELD_ERRORS else f"{line_input.fields.get('description', 'A line')}: "
                for message in messages:
                    if prefix + message not in problems.errors.get(answer, []):
                        problems.add(answer, prefix + message)
            continue
        previews.append(Preview(line, years))
    problems.raise_if_any()
    return previews


@transaction.atomic
def cost_lines_build(*, activity: Activity, by: User, lines: Iterable[LineInput]) -> list[CostLine]:
    """Create the lines a builder made, all or none (each through cost_line_create: validated and audited)."""
    return [
        cost_line_create(activity=activity, by=by, fields=line.fields, frequencies=line.frequencies) for line in lines
    ]
