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
from django.utils.translation import gettext, ngettext, ngettext_lazy, pgettext, pgettext_lazy
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
from naphs.languages import number_text

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
        if len(years) == 1:
            return str(years[0])
        # Translators: a list of years, e.g. "2026, 2027 and 2028": %(years)s are all but the last, comma-separated.
        return gettext("%(years)s and %(last)s") % {"years": ", ".join(map(str, years[:-1])), "last": years[-1]}

    def when(self) -> str:
        """In words: "Once in 2026.", "2 times a year in 2026, 2027 and 2028."."""
        times, years = self.times_per_year, self.years_text()
        if times == 1:
            if len(set(self.years)) == 1:
                return gettext("Once in %(years)s.") % {"years": years}
            return gettext("Once a year in %(years)s.") % {"years": years}
        return ngettext(
            "%(count)s time a year in %(years)s.", "%(count)s times a year in %(years)s.", _plural_number(times)
        ) % {"count": _number(times), "years": years}


class Problems:
    """Collects what is wrong with the answers, by answer, and raises them together."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def count(self, name: str, value: Any, label: str, *, minimum: int = 0, maximum: int = MAX_PEOPLE) -> int:
        """`label` names the answer in the messages, translated ("Participants: give a number.")."""
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
            "value": number_text(value),
            "maximum": number_text(maximum),
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
    return number_text(value, 0) if value == value.to_integral_value() else f"{value.normalize():,f}"


def _money(value: Decimal, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def _plural_number(value: Decimal | int) -> int:
    """The number that picks a message's plural form. Gettext's plural rules take whole numbers; a fraction
    (12.5 litres) takes the form of a round hundred, the general plural in the product's languages."""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else 100


# The things the assumptions count, by the unit of a line (Unit's values) or the people and things counted:
# "%(count)s" is the number as written ("1,200", "12.5"), "n" picks the plural form.
COUNTED: dict[str, Promise] = {
    Unit.PERSON_DAY: ngettext_lazy("%(count)s person-day", "%(count)s person-days", "n"),
    Unit.PARTICIPANT: ngettext_lazy("%(count)s participant", "%(count)s participants", "n"),
    Unit.DAY: ngettext_lazy("%(count)s day", "%(count)s days", "n"),
    Unit.NIGHT: ngettext_lazy("%(count)s night", "%(count)s nights", "n"),
    Unit.SESSION: ngettext_lazy("%(count)s session", "%(count)s sessions", "n"),
    Unit.TRIP: ngettext_lazy("%(count)s trip", "%(count)s trips", "n"),
    Unit.KM: ngettext_lazy("%(count)s km", "%(count)s km", "n"),
    Unit.LITRE: ngettext_lazy("%(count)s litre", "%(count)s litres", "n"),
    Unit.VEHICLE_DAY: ngettext_lazy("%(count)s vehicle-day", "%(count)s vehicle-days", "n"),
    Unit.MONTH: ngettext_lazy("%(count)s month", "%(count)s months", "n"),
    Unit.POST_MONTH: ngettext_lazy("%(count)s post-month", "%(count)s post-months", "n"),
    Unit.HOUR: ngettext_lazy("%(count)s hour", "%(count)s hours", "n"),
    Unit.ITEM: ngettext_lazy("%(count)s item", "%(count)s items", "n"),
    Unit.KIT: ngettext_lazy("%(count)s kit", "%(count)s kits", "n"),
    Unit.COPY: ngettext_lazy("%(count)s copy", "%(count)s copies", "n"),
    Unit.ROOM_DAY: ngettext_lazy("%(count)s room-day", "%(count)s room-days", "n"),
    Unit.MEAL: ngettext_lazy("%(count)s meal", "%(count)s meals", "n"),
    Unit.LUMP_SUM: ngettext_lazy("%(count)s lump sum", "%(count)s lump sums", "n"),
    "facilitator": ngettext_lazy("%(count)s facilitator", "%(count)s facilitators", "n"),
    "travelling participant": ngettext_lazy(
        "%(count)s travelling participant", "%(count)s travelling participants", "n"
    ),
    "travelling facilitator": ngettext_lazy(
        "%(count)s travelling facilitator", "%(count)s travelling facilitators", "n"
    ),
    "staff member": ngettext_lazy("%(count)s staff member", "%(count)s staff members", "n"),
    "vehicle": ngettext_lazy("%(count)s vehicle", "%(count)s vehicles", "n"),
    "driver": ngettext_lazy("%(count)s driver", "%(count)s drivers", "n"),
    "post": ngettext_lazy("%(count)s post", "%(count)s posts", "n"),
    "national consultant": ngettext_lazy("%(count)s national consultant", "%(count)s national consultants", "n"),
    "international consultant": ngettext_lazy(
        "%(count)s international consultant", "%(count)s international consultants", "n"
    ),
}


def _counted(count: Decimal | int, what: str) -> str:
    """ "3 days", "1 participant", "12.5 litres": `what` is a key of COUNTED."""
    return COUNTED[what] % {"n": _plural_number(count), "count": _number(count)}


class Lines:
    """The lines a builder makes: each priced in the schedule's currency and happening on its schedule.

    A line of no cost (nothing to pay, or nobody to pay for) is left out; a quantity beyond what a cost line
    holds is reported against the answer that made it. `prefix` (the activity's name for the cost, e.g.
    "Training of trainers") and `what` (the part of it a line is, e.g. "venue") are translated: the descriptions
    and assumptions are written in the language of the person building.
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
                gettext("%(part)s: %(quantity)s is more than a cost line holds (%(maximum)s). Check the numbers.")
                % {"part": what, "quantity": _counted(quantity, unit), "maximum": number_text(MAX_QUANTITY)},
            )
            return
        if not quantity or not unit_cost:
            return
        schedule = self.schedule
        item = item or schedule.catalogue.get(rate)
        # Translators: a cost line's description: the name of the cost, then the part of it the line is, e.g.
        # "Training of trainers: venue".
        description = gettext("%(name)s: %(part)s") % {"name": self.prefix, "part": what}
        # Translators: a cost line's assumptions: what it counts, then when it happens (two sentences).
        written = gettext("%(assumptions)s %(when)s") % {
            "assumptions": assumptions,
            "when": schedule.when() if when is None else when,
        }
        self.lines.append(
            LineInput(
                fields={
                    **({"catalogue_item": item} if item is not None else {}),
                    "description": description[:300],
                    "category": category,
                    "unit": unit,
                    "unit_cost": unit_cost,
                    "currency": schedule.currency,
                    "price_year": schedule.price_year,
                    "quantity": quantity,
                    "recurrence": schedule.recurrence,
                    "optional": schedule.optional,
                    "assumptions": written,
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
    participants = check.count("participants", participants, gettext("Participants"), minimum=1)
    travelling = check.count("travelling", travelling, gettext("Travelling participants"))
    days = check.count("days", days, gettext("Days"), minimum=1, maximum=MAX_DAYS)
    facilitators = check.count("facilitators", facilitators, gettext("Facilitators"))
    per_diem = check.amount("per_diem", per_diem, gettext("Per diem"))
    travel = check.amount("travel_per_person", travel_per_person, gettext("Travel per person"))
    venue = check.amount("venue_per_day", venue_per_day, gettext("Venue per day"))
    meals = check.amount("meals_per_person_day", meals_per_person_day, gettext("Meals per person and day"))
    materials = check.amount(
        "materials_per_participant", materials_per_participant, gettext("Materials per participant")
    )
    fee = check.amount("facilitator_fee", facilitator_fee, gettext("Facilitator fee per day"))
    if category not in MEETING_CATEGORIES:
        check.add("category", gettext("Choose a meeting or a training."))
    if not check.errors and travelling > participants:
        check.add(
            "travelling",
            ngettext(
                "%(travelling)s travelling is more than the %(participants)s participant.",
                "%(travelling)s travelling is more than the %(participants)s participants.",
                participants,
            )
            % {"travelling": travelling, "participants": participants},
        )
    if not check.errors and fee and not facilitators:
        check.add("facilitators", gettext("A facilitator fee is given but no facilitators."))
    if not check.errors and facilitators_travelling and not facilitators:
        check.add("facilitators_travelling", gettext("No facilitators to travel."))
    check.raise_if_any()

    currency = schedule.currency
    label = gettext("Training") if category == CostCategory.TRAINING else gettext("Meeting")
    lines = Lines(schedule, check, name.strip() or label)
    event = _counted(days, Unit.DAY)
    travelling_facilitators = facilitators if facilitators_travelling else 0
    present = participants + facilitators
    lines.add(
        pgettext("part of a cost", "venue"),
        category=category,
        unit=Unit.DAY,
        unit_cost=venue,
        rate="venue_per_day",
        quantity=days,
        assumptions=gettext("Venue for %(days)s at %(price)s a day.")
        % {"days": event, "price": _money(venue, currency)},
        blame="venue_per_day",
    )
    meals_of = {
        "participants": _counted(participants, Unit.PARTICIPANT),
        "facilitators": _counted(facilitators, "facilitator"),
        "days": event,
        "person_days": _counted(present * days, Unit.PERSON_DAY),
        "price": _money(meals, currency),
    }
    lines.add(
        pgettext("part of a cost", "meals"),
        category=category,
        unit=Unit.PERSON_DAY,
        unit_cost=meals,
        rate="meals_per_person_day",
        quantity=present * days,
        assumptions=(
            gettext("Meals for %(participants)s and %(facilitators)s over %(days)s: %(person_days)s at %(price)s.")
            if facilitators
            else gettext("Meals for %(participants)s over %(days)s: %(person_days)s at %(price)s.")
        )
        % meals_of,
        blame="participants",
    )
    lines.add(
        pgettext("part of a cost", "materials"),
        category=CostCategory.COMMUNICATION,
        unit=Unit.PARTICIPANT,
        unit_cost=materials,
        rate="materials_per_participant",
        quantity=participants,
        assumptions=gettext("Materials for %(participants)s at %(price)s each.")
        % {"participants": _counted(participants, Unit.PARTICIPANT), "price": _money(materials, currency)},
        blame="participants",
    )
    lines.add(
        pgettext("part of a cost", "per diem of travelling participants"),
        category=CostCategory.PER_DIEM_TRAVEL,
        unit=Unit.PERSON_DAY,
        unit_cost=per_diem,
        rate="per_diem",
        quantity=travelling * days,
        assumptions=gettext(
            "Per diem for the %(travelling)s of %(participants)s who travel, over %(days)s: "
            "%(person_days)s at %(price)s."
        )
        % {
            "travelling": _number(travelling),
            "participants": _counted(participants, Unit.PARTICIPANT),
            "days": event,
            "person_days": _counted(travelling * days, Unit.PERSON_DAY),
            "price": _money(per_diem, currency),
        },
        blame="travelling",
    )
    travellers = travelling + travelling_facilitators
    trips_of = {
        "people": _counted(travelling, "travelling participant"),
        "facilitators": _counted(travelling_facilitators, "facilitator"),
        "price": _money(travel, currency),
    }
    lines.add(
        pgettext("part of a cost", "travel"),
        category=CostCategory.PER_DIEM_TRAVEL,
        unit=Unit.TRIP,
        unit_cost=travel,
        rate="travel_per_person",
        quantity=travellers,
        assumptions=(
            gettext("A return trip for each of %(people)s and %(facilitators)s at %(price)s.")
            if travelling_facilitators
            else gettext("A return trip for each of %(people)s at %(price)s.")
        )
        % trips_of,
        blame="travelling",
    )
    lines.add(
        pgettext("part of a cost", "facilitator fees"),
        category=CostCategory.CONSULTANCY,
        unit=Unit.PERSON_DAY,
        unit_cost=fee,
        rate="facilitator_fee",
        quantity=facilitators * days,
        assumptions=_paid_by_day(
            _counted(facilitators, "facilitator"), event, _counted(facilitators * days, Unit.PERSON_DAY), fee, currency
        ),
        blame="facilitators",
    )
    lines.add(
        pgettext("part of a cost", "per diem of facilitators"),
        category=CostCategory.PER_DIEM_TRAVEL,
        unit=Unit.PERSON_DAY,
        unit_cost=per_diem,
        rate="per_diem",
        quantity=travelling_facilitators * days,
        assumptions=_per_diem(
            _counted(travelling_facilitators, "travelling facilitator"),
            event,
            _counted(travelling_facilitators * days, Unit.PERSON_DAY),
            per_diem,
            currency,
        ),
        blame="facilitators",
    )
    return lines.done()


def _paid_by_day(people: str, days: str, person_days: str, rate: Decimal, currency: str) -> str:
    """ "2 facilitators for 3 days: 6 person-days at 300.00 USD a day.": `people`, `days` and `person_days` are
    counted already."""
    return gettext("%(people)s for %(days)s: %(person_days)s at %(price)s a day.") % {
        "people": people,
        "days": days,
        "person_days": person_days,
        "price": _money(rate, currency),
    }


def _per_diem(people: str, days: str, person_days: str, rate: Decimal, currency: str) -> str:
    return gettext("Per diem for %(people)s over %(days)s: %(person_days)s at %(price)s.") % {
        "people": people,
        "days": days,
        "person_days": person_days,
        "price": _money(rate, currency),
    }


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
    staff = check.count("staff", staff, gettext("Staff"), minimum=1)
    days = check.count("days", days, gettext("Days"), minimum=1, maximum=MAX_DAYS)
    per_diem = check.amount("per_diem", per_diem, gettext("Per diem"))
    vehicles = check.count("vehicles", vehicles, gettext("Vehicles"), maximum=MAX_VEHICLES)
    hire = check.amount("vehicle_hire_per_day", vehicle_hire_per_day, gettext("Vehicle hire per day"))
    litres = check.amount(
        "litres_per_vehicle_day", litres_per_vehicle_day, gettext("Litres per vehicle and day"), maximum=MAX_LITRES
    )
    fuel_price = check.amount("fuel_price", fuel_price, gettext("Fuel price per litre"))
    drivers = check.count("drivers", drivers, gettext("Drivers"), maximum=MAX_VEHICLES)
    driver_rate = check.amount("driver_daily_rate", driver_daily_rate, gettext("Driver's daily rate"))
    if not check.errors and not vehicles:
        for answer, value, message in (
            ("litres_per_vehicle_day", litres, gettext("Fuel given but no vehicles.")),
            ("vehicle_hire_per_day", hire, gettext("Vehicle hire given but no vehicles.")),
            ("drivers", drivers, gettext("Drivers given but no vehicles.")),
        ):
            if value:
                check.add(answer, message)
    if not check.errors and litres and not fuel_price:
        check.add("fuel_price", gettext("Give the price of a litre of fuel."))
    if not check.errors and drivers and not driver_rate:
        check.add("driver_daily_rate", gettext("Give the drivers' daily rate."))
    check.raise_if_any()

    currency = schedule.currency
    lines = Lines(schedule, check, name.strip() or gettext("Field visit"))
    event = _counted(days, Unit.DAY)
    lines.add(
        pgettext("part of a cost", "per diem of staff"),
        category=CostCategory.PER_DIEM_TRAVEL,
        unit=Unit.PERSON_DAY,
        unit_cost=per_diem,
        rate="per_diem",
        quantity=staff * days,
        assumptions=_per_diem(
            _counted(staff, "staff member"), event, _counted(staff * days, Unit.PERSON_DAY), per_diem, currency
        ),
        blame="staff",
    )
    lines.add(
        pgettext("part of a cost", "vehicle hire"),
        category=CostCategory.TRANSPORT,
        unit=Unit.VEHICLE_DAY,
        unit_cost=hire,
        rate="vehicle_hire_per_day",
        quantity=vehicles * days,
        assumptions=gettext("%(vehicles)s for %(days)s: %(vehicle_days)s at %(price)s.")
        % {
            "vehicles": _counted(vehicles, "vehicle"),
            "days": event,
            "vehicle_days": _counted(vehicles * days, Unit.VEHICLE_DAY),
            "price": _money(hire, currency),
        },
        blame="vehicles",
    )
    lines.add(
        pgettext("part of a cost", "fuel"),
        category=CostCategory.TRANSPORT,
        unit=Unit.LITRE,
        unit_cost=fuel_price,
        rate="fuel_price",
        quantity=vehicles * days * litres,
        assumptions=gettext("%(litres)s a day for each of %(vehicles)s over %(days)s: %(total)s at %(price)s a litre.")
        % {
            "litres": _counted(litres, Unit.LITRE),
            "vehicles": _counted(vehicles, "vehicle"),
            "days": event,
            "total": _counted(vehicles * days * litres, Unit.LITRE),
            "price": _money(fuel_price, currency),
        },
        blame="litres_per_vehicle_day",
    )
    lines.add(
        pgettext("part of a cost", "drivers"),
        category=CostCategory.TRANSPORT,
        unit=Unit.PERSON_DAY,
        unit_cost=driver_rate,
        rate="driver_daily_rate",
        quantity=drivers * days,
        assumptions=_paid_by_day(
            _counted(drivers, "driver"), event, _counted(drivers * days, Unit.PERSON_DAY), driver_rate, currency
        ),
        blame="drivers",
    )
    return lines.done()


class ConsultantKind:
    NATIONAL = "national"
    INTERNATIONAL = "international"
    CHOICES = ((NATIONAL, _("National")), (INTERNATIONAL, _("International")))


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
        check.add("consultant", gettext("Choose a national or an international consultant."))
    consultants = check.count("consultants", consultants, gettext("Consultants"), minimum=1, maximum=1000)
    days = check.count("days", days, gettext("Days"), minimum=1, maximum=MAX_DAYS)
    rate = check.amount("daily_rate", daily_rate, gettext("Daily rate"), positive=True)
    travel = check.amount("travel_per_trip", travel_per_trip, gettext("Travel per trip"))
    per_diem = check.amount("per_diem", per_diem, gettext("Per diem"))
    if consultant == ConsultantKind.NATIONAL:
        for answer, value, message in (
            (
                "travel_per_trip",
                travel,
                gettext("Travel is costed for an international consultant; leave it empty for a national one."),
            ),
            (
                "per_diem",
                per_diem,
                gettext("Per diem is costed for an international consultant; leave it empty for a national one."),
            ),
        ):
            if value:
                check.add(answer, message)
    check.raise_if_any()

    currency = schedule.currency
    international = consultant == ConsultantKind.INTERNATIONAL
    title = gettext("International consultancy") if international else gettext("National consultancy")
    lines = Lines(schedule, check, name.strip() or title)
    people = _counted(consultants, "international consultant" if international else "national consultant")
    event = _counted(days, Unit.DAY)
    person_days = _counted(consultants * days, Unit.PERSON_DAY)
    lines.add(
        pgettext("part of a cost", "fees"),
        category=CostCategory.CONSULTANCY,
        unit=Unit.PERSON_DAY,
        unit_cost=rate,
        rate="daily_rate",
        quantity=consultants * days,
        assumptions=_paid_by_day(people, event, person_days, rate, currency),
        blame="days",
    )
    lines.add(
        pgettext("part of a cost", "travel"),
        category=CostCategory.PER_DIEM_TRAVEL,
        unit=Unit.TRIP,
        unit_cost=travel,
        rate="travel_per_trip",
        quantity=consultants,
        assumptions=gettext("A return trip for each of %(people)s at %(price)s.")
        % {"people": people, "price": _money(travel, currency)},
        blame="consultants",
    )
    lines.add(
        pgettext("part of a cost", "per diem"),
        category=CostCategory.PER_DIEM_TRAVEL,
        unit=Unit.PERSON_DAY,
        unit_cost=per_diem,
        rate="per_diem",
        quantity=consultants * days,
        assumptions=gettext("Per diem for %(people)s over %(days)s in the country: %(person_days)s at %(price)s.")
        % {"people": people, "days": event, "person_days": person_days, "price": _money(per_diem, currency)},
        blame="days",
    )
    return lines.done()


def staff_lines(
    schedule: Schedule, *, posts: int, monthly_salary: Decimal, months_per_year: int = 12, name: str = ""
) -> list[LineInput]:
    """Staff: posts × monthly salary, paid the given months of each year (the line's frequency)."""
    check = Problems()
    check.schedule(schedule, asks_times=False)
    posts = check.count("posts", posts, gettext("Posts"), minimum=1)
    salary = check.amount("monthly_salary", monthly_salary, gettext("Monthly salary"), positive=True)
    months = check.count("months_per_year", months_per_year, gettext("Months per year"), minimum=1, maximum=12)
    check.raise_if_any()

    currency = schedule.currency
    lines = Lines(schedule, check, name.strip() or gettext("Staff"))
    lines.add(
        pgettext("part of a cost", "salaries"),
        category=CostCategory.PERSONNEL,
        unit=Unit.POST_MONTH,
        unit_cost=salary,
        rate="monthly_salary",
        quantity=posts,
        frequency=Decimal(months),
        assumptions=gettext("%(posts)s at %(price)s a month, paid %(months)s a year.")
        % {
            "posts": _counted(posts, "post"),
            "price": _money(salary, currency),
            "months": _counted(months, Unit.MONTH),
        },
        when=gettext("In %(years)s.") % {"years": schedule.years_text()},
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
        check.add(
            "category", gettext("Choose equipment, supplies, infrastructure, communication and printing, or other.")
        )
    items = list(items or [])
    if not items:
        check.add("items", gettext("List at least one item to buy."))
    if len(items) > MAX_ITEMS:
        check.add(
            "items",
            ngettext(
                "%(count)s item: at most %(maximum)s at a time.",
                "%(count)s items: at most %(maximum)s at a time.",
                len(items),
            )
            % {"count": len(items), "maximum": MAX_ITEMS},
        )
    cleaned: list[Item] = []
    for number, item in enumerate(items, start=1):
        if item.name.strip():
            # Translators: an item of a procurement's list, by its number and name, e.g. "Item 1 (Microscope)".
            where = gettext("Item %(number)s (%(name)s)") % {"number": number, "name": item.name.strip()}
        else:
            where = gettext("Item %(number)s") % {"number": number}
        item_check = Problems()
        if not item.name.strip():
            item_check.add("items", gettext("%(item)s: name the item.") % {"item": where})
        if item.unit not in Unit.values:
            item_check.add(
                "items", gettext("%(item)s: “%(unit)s” is not a unit of the list.") % {"item": where, "unit": item.unit}
            )
        quantity = item_check.amount(
            "items",
            item.quantity,
            # Translators: names the answer in a message, e.g. "Item 1 (Microscope): quantity cannot be negative."
            gettext("%(item)s: quantity") % {"item": where},
            maximum=MAX_QUANTITY,
            positive=True,
        )
        price = item_check.amount(
            "items", item.unit_price, gettext("%(item)s: unit price") % {"item": where}, positive=True
        )
        for message in item_check.errors.get("items", []):
            check.add("items", message)
        cleaned.append(Item(item.name.strip(), item.unit, quantity, price, item.catalogue_item))
    check.raise_if_any()

    currency = schedule.currency
    lines = Lines(schedule, check, name.strip() or gettext("Procurement"))
    for item in cleaned:
        lines.add(
            item.name,
            category=category,
            unit=item.unit,
            unit_cost=item.unit_price,
            quantity=item.quantity,
            assumptions=gettext("%(quantity)s at %(price)s each.")
            % {"quantity": _counted(item.quantity, item.unit), "price": _money(item.unit_price, currency)},
            blame="items",
            item=item.catalogue_item,
        )
    return lines.done()


# --- What each builder asks, for the forms and the API ------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """One answer a builder needs. `kind`: count (a whole number), money, number (decimal), flag, choice, text,
    or items (procurement's list of things to buy). `label` and `help` are translated lazily."""

    name: str
    label: str | Promise
    kind: str
    help: str | Promise = ""
    required: bool = False
    choices: tuple[tuple[str, str | Promise], ...] = ()
    default: Any = None
    # For a rate: the catalogue items it may be taken from, as (categories, unit); the plan's item of these in
    # its currency and price year is the default.
    catalogue: tuple[tuple[str, ...], str] | None = None


@dataclass(frozen=True)
class Builder:
    kind: str
    label: str | Promise
    summary: str | Promise
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
NAME = Question(
    "name", _("Name"), "text", _("Starts each line's description, e.g. “Training of rapid response teams”.")
)

BUILDERS: dict[str, Builder] = {
    builder.kind: builder
    for builder in (
        Builder(
            "meeting",
            _("Meeting or training"),
            _("Venue, meals, materials, per diem and travel of participants, facilitators and their fees."),
            meeting_lines,
            (
                NAME,
                Question(
                    "category",
                    _("Kind"),
                    "choice",
                    required=True,
                    choices=((CostCategory.MEETINGS, _("Meeting or workshop")), (CostCategory.TRAINING, _("Training"))),
                    default=CostCategory.MEETINGS,
                ),
                Question("participants", _("Participants"), "count", required=True),
                Question("travelling", _("Of whom travelling"), "count", _("They get per diem and a trip."), default=0),
                Question("days", _("Days"), "count", required=True),
                Question(
                    "per_diem", _("Per diem a day"), "money", _("For travellers."), default=ZERO, catalogue=PER_DIEM
                ),
                Question(
                    "travel_per_person", _("Travel per traveller (return)"), "money", default=ZERO, catalogue=TRIP
                ),
                Question(
                    "venue_per_day", _("Venue a day"), "money", default=ZERO, catalogue=(MEETING_CATEGORIES, Unit.DAY)
                ),
                Question(
                    "meals_per_person_day",
                    _("Meals per person and day"),
                    "money",
                    _("Everyone present."),
                    default=ZERO,
                    catalogue=(MEETING_CATEGORIES, Unit.PERSON_DAY),
                ),
                Question(
                    "materials_per_participant",
                    _("Materials per participant"),
                    "money",
                    default=ZERO,
                    catalogue=((CostCategory.COMMUNICATION,), Unit.PARTICIPANT),
                ),
                Question("facilitators", _("Facilitators"), "count", default=0),
                Question("facilitator_fee", _("Facilitator fee a day"), "money", default=ZERO, catalogue=FEE),
                Question(
                    "facilitators_travelling",
                    _("Facilitators travel"),
                    "flag",
                    _("Per diem and a trip for them too."),
                ),
            ),
        ),
        Builder(
            "field-visit",
            _("Field visit"),
            _("Per diem of the staff, vehicles, fuel and drivers."),
            field_visit_lines,
            (
                NAME,
                Question("staff", _("Staff"), "count", required=True),
                Question("days", _("Days"), "count", required=True),
                Question("per_diem", _("Per diem a day"), "money", default=ZERO, catalogue=PER_DIEM),
                Question("vehicles", _("Vehicles"), "count", default=0),
                Question(
                    "vehicle_hire_per_day",
                    _("Vehicle hire a day"),
                    "money",
                    _("Leave empty for own vehicles."),
                    default=ZERO,
                    catalogue=((CostCategory.TRANSPORT,), Unit.VEHICLE_DAY),
                ),
                Question("litres_per_vehicle_day", _("Fuel: litres per vehicle and day"), "number", default=ZERO),
                Question(
                    "fuel_price",
                    _("Fuel: price of a litre"),
                    "money",
                    default=ZERO,
                    catalogue=((CostCategory.TRANSPORT,), Unit.LITRE),
                ),
                Question("drivers", _("Drivers"), "count", default=0),
                Question(
                    "driver_daily_rate",
                    _("Driver's daily rate"),
                    "money",
                    default=ZERO,
                    catalogue=((CostCategory.TRANSPORT,), Unit.PERSON_DAY),
                ),
            ),
        ),
        Builder(
            "consultancy",
            _("Consultancy"),
            _("Fees of national or international consultants, with travel and per diem for international ones."),
            consultancy_lines,
            (
                NAME,
                Question(
                    "consultant",
                    _("Consultant"),
                    "choice",
                    required=True,
                    choices=ConsultantKind.CHOICES,
                    default=ConsultantKind.NATIONAL,
                ),
                Question("consultants", _("Consultants"), "count", default=1),
                Question("days", _("Days"), "count", required=True),
                Question("daily_rate", _("Daily rate"), "money", required=True, catalogue=FEE),
                Question(
                    "travel_per_trip",
                    _("Travel per trip (return)"),
                    "money",
                    _("International only."),
                    default=ZERO,
                    catalogue=TRIP,
                ),
                Question(
                    "per_diem",
                    _("Per diem a day"),
                    "money",
                    _("International only, for the days in the country."),
                    default=ZERO,
                    catalogue=PER_DIEM,
                ),
            ),
        ),
        Builder(
            "staff",
            _("Staff"),
            _("Posts paid a monthly salary for some months of each year."),
            staff_lines,
            (
                # Translators: the post (job) the staff are hired for.
                Question("name", pgettext_lazy("staff", "Post"), "text", _("e.g. “Data manager”.")),
                Question("posts", _("Posts"), "count", required=True),
                Question(
                    "monthly_salary",
                    _("Monthly salary"),
                    "money",
                    _("Including benefits."),
                    required=True,
                    catalogue=((CostCategory.PERSONNEL,), Unit.POST_MONTH),
                ),
                Question("months_per_year", _("Months a year"), "count", default=12),
            ),
            asks_times=False,
        ),
        Builder(
            "procurement",
            _("Procurement"),
            _("Equipment, supplies or works: one line per item bought."),
            procurement_lines,
            (
                NAME,
                Question(
                    "category",
                    _("Category"),
                    "choice",
                    required=True,
                    choices=tuple((value, CostCategory(value).label) for value in PROCUREMENT_CATEGORIES),
                    default=CostCategory.EQUIPMENT,
                ),
                Question("items", _("Items"), "items", required=True),
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
                for message in messages:
                    if answer == NON_FIELD_ERRORS:
                        # Translators: a problem of one of the lines a builder would make, after its description.
                        message = gettext("%(line)s: %(problem)s") % {
                            "line": line_input.fields.get("description") or gettext("A line"),
                            "problem": message,
                        }
                    if message not in problems.errors.get(answer, []):
                        problems.add(answer, message)
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
