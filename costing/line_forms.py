"""Forms of an activity's costs page: a cost line (from the catalogue or free), and the cost builders' answers.

The forms read values; what makes them sound is decided by costing.services (a line) and costing.builders
(the answers), whose ValidationErrors land next to the fields they name.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from costing.builders import Builder, Item, Question, Schedule
from costing.models import CatalogueItem, CostCategory, CostLine, Unit, currency_choices
from costing.selectors import catalogue_items_for_plan
from naphs.forms import form_field
from naphs.languages import number_text

if TYPE_CHECKING:
    from costing.models import PlanCosting
    from planning.models import Plan


def plain(value: Any) -> str:
    """A Decimal as a person types it: 2, 2.5 (never 2.00 or 2E+1)."""
    if value is None or value == "":
        return ""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value else "0"
    return str(value)


CURRENCY_MESSAGE = {"invalid_choice": _("“%(value)s” is not an ISO 4217 currency code.")}


class FrequenciesWidget(forms.MultiWidget):
    """One number per year of the plan."""

    def __init__(self, years: list[int]) -> None:
        self.years = years
        widgets = [
            forms.NumberInput(
                attrs={
                    "min": "0",
                    "step": "any",
                    "inputmode": "decimal",
                    "aria-label": gettext("Times in %(year)s") % {"year": year},
                }
            )
            for year in years
        ]
        super().__init__(widgets)

    def decompress(self, value: Any) -> list[str]:
        if isinstance(value, dict):
            return [plain(value.get(year, "")) for year in self.years]
        return [""] * len(self.years)


class FrequenciesField(forms.MultiValueField):
    """How often a cost happens in each year of the plan: {year: text}, checked by costing.services."""

    def __init__(self, years: list[int], **kwargs: Any) -> None:
        self.years = years
        fields = [forms.CharField(required=False) for _ in years]
        super().__init__(
            fields=fields, widget=FrequenciesWidget(years), require_all_fields=False, required=False, **kwargs
        )

    def compress(self, data_list: list[str]) -> dict[int, str]:
        return {year: value.strip() for year, value in zip(self.years, data_list or [], strict=False) if value}


class CatalogueChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, item) -> str:
        return gettext("%(category)s · %(name)s — %(cost)s %(currency)s per %(unit)s (%(year)s)") % {
            "category": item.get_category_display(),
            "name": item.name,
            "cost": number_text(item.unit_cost, 2),
            "currency": item.currency,
            "unit": item.get_unit_display(),
            "year": item.price_year,
        }


class CostLineForm(forms.Form):
    """A cost line: a catalogue item (its unit, unit cost, currency and price year come with it) or a free item."""

    catalogue_item = CatalogueChoiceField(
        queryset=None,
        required=False,
        empty_label=_("— a free item —"),
        label=_("From the catalogue"),
        help_text=_("A line from the catalogue takes the item's unit, unit cost, currency and price year."),
    )
    description = forms.CharField(max_length=300, required=False, label=_("Description"))
    category = forms.ChoiceField(
        choices=[("", _("— the catalogue item's —")), *CostCategory.choices], required=False, label=_("Category")
    )
    unit = forms.ChoiceField(choices=[("", "—"), *Unit.choices], required=False, label=_("Unit"))
    unit_cost = forms.DecimalField(max_digits=18, decimal_places=2, required=False, label=_("Unit cost"))
    currency = forms.ChoiceField(choices=(), required=False, error_messages=CURRENCY_MESSAGE, label=_("Currency"))
    price_year = forms.IntegerField(required=False, label=_("Price year"))
    quantity = forms.DecimalField(max_digits=12, decimal_places=2, label=_("Quantity"))
    frequencies = FrequenciesField(years=[], label=_("Times a year"))
    recurrence = forms.ChoiceField(
        choices=CostLine.Recurrence.choices, initial=CostLine.Recurrence.RECURRING, label=_("Recurrence")
    )
    optional = forms.BooleanField(
        required=False, label=_("Optional"), help_text=_("Counted only in the total with optional costs.")
    )
    assumptions = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label=_("Assumptions"))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    SERVICE_FIELDS = (
        "catalogue_item",
        "description",
        "category",
        "unit",
        "unit_cost",
        "currency",
        "price_year",
        "quantity",
        "recurrence",
        "optional",
        "assumptions",
    )

    def __init__(
        self, *args: Any, plan: Plan, costing: PlanCosting, line: CostLine | None = None, **kwargs: Any
    ) -> None:
        self.line = line
        if line is not None:
            initial = {name: getattr(line, name) for name in self.SERVICE_FIELDS if name != "catalogue_item"}
            initial["catalogue_item"] = line.catalogue_item_id
            initial["quantity"] = plain(line.quantity)
            initial["frequencies"] = {year.year: year.frequency for year in line.years.all()}
            initial["version"] = line.version
            kwargs.setdefault("auto_id", f"id_line{line.pk}_%s")
        else:
            initial = {"currency": costing.currency, "price_year": costing.price_year}
            kwargs.setdefault("auto_id", "id_new_%s")
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        years = list(range(plan.first_year, plan.last_year + 1))
        self.fields["frequencies"] = FrequenciesField(
            years, label=gettext("Times a year"), help_text=gettext("How often it happens in each year of the plan.")
        )
        form_field(self, "catalogue_item", forms.ModelChoiceField).queryset = catalogue_items_for_plan(plan=plan)
        form_field(self, "currency", forms.ChoiceField).choices = [("", "—"), *currency_choices()]
        if line is not None:
            self.fields["version"].required = True

    def frequency_inputs(self) -> list[dict[str, Any]]:
        """Each year's input (name, id, value), for a layout that puts them side by side."""
        bound = self["frequencies"]
        widget = form_field(self, "frequencies", FrequenciesField).widget
        value = bound.value()
        if not isinstance(value, list):
            value = widget.decompress(value)
        return [
            {
                "year": year,
                "name": f"{bound.html_name}_{index}",
                "id": f"{bound.auto_id}_{index}",
                "value": value[index],
            }
            for index, year in enumerate(widget.years)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        item = data.get("catalogue_item")
        if item is not None:
            if not data.get("description"):
                data["description"] = item.name
            return data
        if "description" in data and not data["description"]:
            self.add_error("description", gettext("Describe the cost, or pick a catalogue item."))
        for name, message in (
            ("category", gettext("Choose the category, or pick a catalogue item.")),
            ("unit", gettext("Choose the unit, or pick a catalogue item.")),
            ("currency", gettext("Choose the currency, or pick a catalogue item.")),
        ):
            if name in data and not data[name]:
                self.add_error(name, message)
        if "unit_cost" in data and data["unit_cost"] is None:
            self.add_error("unit_cost", gettext("Give the unit cost, or pick a catalogue item."))
        return data

    def service_fields(self) -> dict[str, Any]:
        """The line's fields for costing.services; a catalogue line leaves its price fields to the item."""
        data = self.cleaned_data
        fields = {name: data[name] for name in self.SERVICE_FIELDS}
        if data["catalogue_item"] is not None:
            for name in ("unit", "unit_cost", "currency", "price_year"):
                fields.pop(name)
        return fields


# --- The builders' answers ----------------------------------------------------------------------------------


def _answer_field(question: Question) -> forms.Field:
    common: dict[str, Any] = {"label": question.label, "help_text": question.help, "required": question.required}
    if question.default is not None and question.kind != "flag":
        common["initial"] = plain(question.default) if isinstance(question.default, Decimal) else question.default
    if question.kind == "count":
        return forms.IntegerField(**common)
    if question.kind == "money":
        return forms.DecimalField(max_digits=18, decimal_places=2, **common)
    if question.kind == "number":
        return forms.DecimalField(max_digits=12, decimal_places=2, **common)
    if question.kind == "flag":
        return forms.BooleanField(**{**common, "required": False})
    if question.kind == "choice":
        return forms.ChoiceField(choices=question.choices, **common)
    if question.kind == "text":
        return forms.CharField(max_length=120, **{**common, "required": False})
    raise ValueError(f"No form field for answers of kind {question.kind}")


class BuilderForm(forms.Form):
    """A builder's answers, then when the cost happens: the years, how often, in what currency."""

    years = forms.TypedMultipleChoiceField(
        coerce=int, choices=(), widget=forms.CheckboxSelectMultiple, label=_("In the years")
    )
    times_per_year = forms.DecimalField(
        max_digits=7,
        decimal_places=2,
        initial="1",
        label=_("Times a year"),
        help_text=_("How often it happens each year."),
    )
    currency = forms.ChoiceField(choices=(), error_messages=CURRENCY_MESSAGE, label=_("Currency"))
    price_year = forms.IntegerField(label=_("Price year"), help_text=_("The year whose prices these are."))
    optional = forms.BooleanField(
        required=False, label=_("Optional"), help_text=_("Counted only in the total with optional costs.")
    )

    SCHEDULE_FIELDS = ("years", "times_per_year", "currency", "price_year", "optional")

    def __init__(self, *args: Any, builder: Builder, plan: Plan, costing: PlanCosting, **kwargs: Any) -> None:
        initial = {"currency": costing.currency, "price_year": costing.price_year, "years": [plan.first_year]}
        catalogue = list(catalogue_items_for_plan(plan=plan))
        # Each rate starts from the plan's catalogue: its item of that category and unit in the plan's currency
        # and price year, picked in the rate's drop-down (a line of that item, not a free item).
        for question in builder.questions:
            if question.catalogue is not None:
                found = catalogue_default(catalogue, question, currency=costing.currency, year=costing.price_year)
                if found is not None:
                    initial[question.name] = plain(found.unit_cost)
                    initial[catalogue_answer(question)] = found.pk
        kwargs["initial"] = {**initial, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        self.builder, self.plan = builder, plan
        schedule_fields = {name: self.fields.pop(name) for name in self.SCHEDULE_FIELDS}
        for question in builder.questions:
            if question.kind != "items":
                self.fields[question.name] = _answer_field(question)
            if question.catalogue is not None:
                categories, unit = question.catalogue
                self.fields[catalogue_answer(question)] = CatalogueChoiceField(
                    queryset=catalogue_items_for_plan(plan=plan).filter(category__in=categories, unit=unit),
                    required=False,
                    empty_label=gettext("— type the rate —"),
                    label=gettext("{rate}: from the catalogue").format(rate=question.label),
                )
        self.fields.update(schedule_fields)
        years = [(year, str(year)) for year in range(plan.first_year, plan.last_year + 1)]
        form_field(self, "years", forms.ChoiceField).choices = years
        form_field(self, "currency", forms.ChoiceField).choices = currency_choices()
        if not builder.asks_times:
            del self.fields["times_per_year"]

    def answer_names(self) -> list[str]:
        names = []
        for question in self.builder.questions:
            if question.catalogue is not None:
                names.append(catalogue_answer(question))
            if question.kind != "items":
                names.append(question.name)
        return names

    def clean(self) -> dict[str, Any]:
        """A rate taken from a catalogue item is the item's price, in the currency and year of the lines: a
        different rate typed beside it, or an item priced in another currency or year, is refused."""
        super().clean()
        data = self.cleaned_data
        for question in self.builder.questions:
            item = data.get(catalogue_answer(question)) if question.catalogue is not None else None
            if item is None:
                continue
            if question.name in data and data[question.name] not in (None, item.unit_cost):
                message = gettext("“{item}” costs {price} {currency}; choose “type the rate” to give another rate.")
                self.add_error(
                    question.name, message.format(item=item.name, price=plain(item.unit_cost), currency=item.currency)
                )
            elif (data.get("currency"), data.get("price_year")) != (item.currency, item.price_year):
                message = gettext(
                    "“{item}” is priced in {currency} of {year}; cost these lines in {currency} of {year}, "
                    "or type the rate."
                )
                self.add_error(
                    catalogue_answer(question),
                    message.format(item=item.name, currency=item.currency, year=item.price_year),
                )
            else:
                data[question.name] = item.unit_cost
        return data

    def schedule(self) -> Schedule:
        data = self.cleaned_data
        return Schedule(
            years=data["years"],
            currency=data["currency"],
            period=range(self.plan.first_year, self.plan.last_year + 1),
            times_per_year=data.get("times_per_year") or Decimal(1),
            optional=data["optional"],
            price_year=data["price_year"],
            catalogue={
                question.name: data[catalogue_answer(question)]
                for question in self.builder.questions
                if question.catalogue is not None and data.get(catalogue_answer(question)) is not None
            },
        )

    def answers(self) -> dict[str, Any]:
        names = (question.name for question in self.builder.questions if question.kind != "items")
        return {name: self.cleaned_data.get(name) for name in names}


def catalogue_answer(question: Question) -> str:
    """The name of the drop-down beside a rate that takes it from a catalogue item."""
    return f"{question.name}_item"


def catalogue_default(
    items: list[CatalogueItem], question: Question, *, currency: str, year: int
) -> CatalogueItem | None:
    """The plan's catalogue item a rate starts from: the first (by category and name) of the rate's categories
    and unit, priced in the plan's currency and price year."""
    if question.catalogue is None:
        return None
    categories, unit = question.catalogue
    for item in items:
        if item.category in categories and item.unit == unit and (item.currency, item.price_year) == (currency, year):
            return item
    return None


class ItemForm(forms.Form):
    """One thing to buy, from the catalogue or free; a row left empty is skipped."""

    catalogue_item = CatalogueChoiceField(
        queryset=None,
        required=False,
        empty_label=_("— a free item —"),
        label=_("From the catalogue"),
    )
    name = forms.CharField(max_length=200, required=False, label=_("Name"))
    unit = forms.ChoiceField(choices=Unit.choices, initial=Unit.ITEM, required=False, label=_("Unit"))
    quantity = forms.DecimalField(max_digits=12, decimal_places=2, required=False, label=_("Quantity"))
    unit_price = forms.DecimalField(max_digits=18, decimal_places=2, required=False, label=_("Unit price"))

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "catalogue_item", forms.ModelChoiceField).queryset = catalogue_items_for_plan(plan=plan)

    def clean(self) -> dict[str, Any]:
        """An item bought from the catalogue is bought at its price and in its unit: another one typed beside it
        is refused; left empty, they are the item's."""
        super().clean()
        data = self.cleaned_data
        item = data.get("catalogue_item")
        if item is None:
            return data
        for name, value in (("unit", item.unit), ("unit_price", item.unit_cost)):
            if data.get(name) not in (None, "", value) and name in self.changed_data:
                message = gettext(
                    "“{item}” is bought per {unit} at {price} {currency}; choose “a free item” to change it."
                )
                self.add_error(
                    name,
                    message.format(
                        item=item.name,
                        unit=item.get_unit_display(),
                        price=plain(item.unit_cost),
                        currency=item.currency,
                    ),
                )
        data["unit"], data["unit_price"] = item.unit, item.unit_cost
        data["name"] = data.get("name") or item.name
        return data

    def item(self) -> Item | None:
        data = self.cleaned_data
        if not data or not (data.get("name") or data.get("quantity") or data.get("unit_price")):
            return None
        return Item(
            name=data.get("name") or "",
            unit=data.get("unit") or Unit.ITEM,
            quantity=data.get("quantity") or Decimal(0),
            unit_price=data.get("unit_price") or Decimal(0),
            catalogue_item=data.get("catalogue_item"),
        )


ItemFormSet = forms.formset_factory(ItemForm, extra=6, max_num=30, validate_max=True)
