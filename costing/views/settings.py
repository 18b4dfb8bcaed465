"""Costing pages: the plan's base currency and price year, its exchange rates, and the unit-cost catalogue with
its deliberate price change.

Every member reads them; the secretariat changes the settings and rates, and the catalogue items the plan keeps
or (where they keep that jurisdiction's catalogue) those shared with its jurisdiction or one above it.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from costing.catalogue import (
    ITEM_FIELDS,
    PRICE_FIELDS,
    catalogue_item_create,
    catalogue_item_get,
    catalogue_item_reprice,
    catalogue_item_update,
    catalogue_list_for_plan,
    catalogue_owners_for,
    catalogue_reprice_preview,
    exchange_rate_create,
    rates_missing,
)
from costing.catalogue import catalogue_item_delete as catalogue_item_delete_service
from costing.models import (
    MAX_RATE,
    MAX_UNIT_COST,
    CatalogueItem,
    CostCategory,
    ExchangeRate,
    PlanCosting,
    currency_choices,
)
from costing.services import exchange_rate_delete as exchange_rate_delete_service
from costing.services import exchange_rate_set, plan_costing_get, plan_costing_update
from naphs.errors import EditConflict
from naphs.forms import TextWithoutDirectionControls, form_errors_from, form_field, form_refused
from naphs.permissions import Permission
from naphs.views import require_form_methods
from planning.models import MAX_YEAR, MIN_YEAR, Jurisdiction, Plan
from stakeholders.access import PlanAccess, SignedInRequest, plan_get_for_user

CATALOGUE_PAGE_SIZE = 100
MIN_RATE = Decimal("0.00000001")


# --- Forms --------------------------------------------------------------------------------------------------


def _currency_field(**kwargs: Any) -> forms.ChoiceField:
    return forms.ChoiceField(choices=[("", _("Choose a currency")), *currency_choices()], **kwargs)


def _year_field(**kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(min_value=MIN_YEAR, max_value=MAX_YEAR, **kwargs)


class CostingSettingsForm(forms.Form):
    """The plan's base currency and price year; `version` is the settings' version when the form was opened."""

    currency = _currency_field(label=_("Base currency"), help_text=_("Every total of the plan is shown in it."))
    price_year = _year_field(label=_("Price year"), help_text=_("The year whose prices the plan is costed in."))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, costing: PlanCosting, parent: PlanCosting | None, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial", {"currency": costing.currency, "price_year": costing.price_year, "version": costing.version}
        )
        super().__init__(*args, **kwargs)
        if parent is not None:
            self.fields["currency"].help_text = gettext(
                "A plan under “%(parent)s” is costed in its currency, %(currency)s, so that plan's total can include "
                "this one."
            ) % {"parent": parent.plan.title, "currency": parent.currency}


class ExchangeRateForm(forms.ModelForm):
    """A new rate: units of the base currency for one unit of `currency` in `year`."""

    currency = _currency_field(label=_("Currency"))
    rate = forms.DecimalField(
        max_digits=20,
        decimal_places=8,
        min_value=MIN_RATE,
        max_value=MAX_RATE,
        label=_("Rate"),
        help_text=_("Units of the base currency for one unit of this currency."),
    )

    class Meta:
        model = ExchangeRate
        fields = ["currency", "year", "rate", "source"]
        labels = {"year": _("Year"), "source": _("Source")}


class ExchangeRateEditForm(forms.Form):
    rate = forms.DecimalField(
        max_digits=20,
        decimal_places=8,
        min_value=MIN_RATE,
        max_value=MAX_RATE,
        label=_("Rate"),
        help_text=_("Units of the base currency for one unit of this currency."),
    )
    source = forms.CharField(
        max_length=250, required=False, label=_("Source"), help_text=_("Where the rate comes from.")
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class CatalogueFilterForm(forms.Form):
    category = forms.ChoiceField(
        choices=[("", _("All categories")), *CostCategory.choices], required=False, label=_("Category")
    )
    q = forms.CharField(label=_("Name"), required=False, max_length=100)

    def filters(self) -> dict[str, str]:
        if not self.is_valid():
            return {}
        return {"category": self.cleaned_data["category"], "search": self.cleaned_data["q"].strip()}


OWN_PLAN = "plan"


class CatalogueItemForm(TextWithoutDirectionControls, forms.ModelForm):
    """A new item (every field, and whose it is), or an item's description (its price changes apart)."""

    currency = _currency_field(label=_("Currency"))
    unit_cost = forms.DecimalField(
        max_digits=18, decimal_places=2, min_value=0, max_value=MAX_UNIT_COST, label=_("Unit cost")
    )
    owner = forms.ChoiceField(
        label=_("Kept by"),
        help_text=_("Shared items are offered to every plan of that jurisdiction and those under it."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = CatalogueItem
        fields = ["name", "category", "unit", "unit_cost", "currency", "price_year", "source", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        labels = {
            "name": _("Name"),
            "category": _("Category"),
            "unit": _("Unit"),
            "price_year": _("Price year"),
            "source": _("Source"),
            "notes": _("Notes"),
        }

    def __init__(self, *args: Any, plan: Plan, owners: list[Jurisdiction], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan, self.owners = plan, {str(jurisdiction.pk): jurisdiction for jurisdiction in owners}
        if self.instance.pk:
            for name in (*PRICE_FIELDS, "owner"):
                del self.fields[name]
            if not self.is_bound:
                self.initial["version"] = self.instance.version
        else:
            del self.fields["version"]
            choices = [(OWN_PLAN, gettext("This plan only"))]
            choices += [
                (key, gettext("Shared with %(place)s") % {"place": jurisdiction.name})
                for key, jurisdiction in self.owners.items()
            ]
            form_field(self, "owner", forms.ChoiceField).choices = choices

    def owner_kwargs(self) -> dict[str, Any]:
        owner = self.cleaned_data["owner"]
        return {"plan": self.plan} if owner == OWN_PLAN else {"jurisdiction": self.owners[owner]}

    def item_fields(self) -> dict[str, Any]:
        names = ITEM_FIELDS if self.instance.pk else (*ITEM_FIELDS, *PRICE_FIELDS)
        return {name: self.cleaned_data[name] for name in names}


class RepriceForm(forms.Form):
    unit_cost = forms.DecimalField(
        label=_("New unit cost"), max_digits=18, decimal_places=2, min_value=0, max_value=MAX_UNIT_COST
    )
    currency = _currency_field(label=_("Currency"))
    price_year = _year_field(label=_("Price year"))
    version = forms.IntegerField(widget=forms.HiddenInput)


# --- Settings and exchange rates ----------------------------------------------------------------------------


def _parent_costing(plan: Plan) -> PlanCosting | None:
    if not plan.parent_id:
        return None
    return PlanCosting.objects.select_related("plan").filter(plan_id=plan.parent_id).first()


def _settings_page(
    request: SignedInRequest,
    access: PlanAccess,
    costing: PlanCosting,
    *,
    settings_form: CostingSettingsForm | None = None,
    rate_form: ExchangeRateForm | None = None,
    status: int = 200,
) -> HttpResponse:
    plan, membership = access
    parent = _parent_costing(plan)
    if membership.can_edit_plan:
        settings_form = settings_form or CostingSettingsForm(costing=costing, parent=parent)
        rate_form = rate_form or ExchangeRateForm(prefix="rate", initial={"year": costing.price_year})
    rates = list(ExchangeRate.objects.filter(plan=plan).order_by("currency", "year"))
    for rate in rates:
        # 1.1, not 1.10000000, with the decimal separator of the person's language.
        rate.display = number_format(rate.rate.normalize())  # type: ignore[attr-defined]
    context = {
        "plan": plan,
        "membership": membership,
        "costing": costing,
        "parent": parent,
        "rates": rates,
        "missing": rates_missing(plan=plan, costing=costing, rates=rates),
        "settings_form": settings_form,
        "rate_form": rate_form,
    }
    return render(request, "costing/settings/settings.html", context, status=status)


@require_form_methods
def costing_settings(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Base currency, price year and exchange rates: every member reads them, the secretariat changes them."""
    need = Permission.EDIT_PLAN if request.method == "POST" else Permission.VIEW
    access = plan_get_for_user(user=request.user, plan_id=plan_id, need=need)
    plan = access.plan
    costing = plan_costing_get(plan)
    if request.method != "POST":
        return _settings_page(request, access, costing)
    if request.POST.get("form") == "rate":
        rate_form = ExchangeRateForm(request.POST, prefix="rate", instance=ExchangeRate(plan=plan))
        if rate_form.is_valid():
            try:
                rate = exchange_rate_create(plan=plan, by=request.user, **rate_form.cleaned_data)
            except ValidationError as error:
                form_errors_from(rate_form, error)
            else:
                messages.success(request, gettext("Rate added: %(rate)s.") % {"rate": rate})
                return redirect(f"{reverse('costing_settings', kwargs={'plan_id': plan.pk})}#exchange-rates")
        return _settings_page(request, access, costing, rate_form=rate_form, status=422)
    form = CostingSettingsForm(request.POST, costing=costing, parent=_parent_costing(plan))
    status = 422
    if form.is_valid():
        fields = {name: form.cleaned_data[name] for name in ("currency", "price_year")}
        try:
            plan_costing_update(costing=costing, by=request.user, version=form.cleaned_data["version"], **fields)
        except (EditConflict, ValidationError) as refusal:
            status = form_refused(form, refusal)
        else:
            messages.success(
                request,
                gettext("Costing settings saved: %(currency)s, %(year)s prices.")
                % {"currency": costing.currency, "year": costing.price_year},
            )
            return redirect("costing_settings", plan_id=plan.pk)
    return _settings_page(request, access, costing, settings_form=form, status=status)


def _rate(plan: Plan, rate_id: int) -> ExchangeRate:
    rate = ExchangeRate.objects.filter(plan=plan, pk=rate_id).first()
    if rate is None:
        raise Http404(gettext("No such exchange rate."))
    rate.plan = plan
    return rate


@require_form_methods
def exchange_rate_edit(request: SignedInRequest, plan_id: int, rate_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_PLAN)
    rate = _rate(plan, rate_id)
    initial = {"rate": rate.rate, "source": rate.source, "version": rate.version}
    form = ExchangeRateEditForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                exchange_rate_set(
                    plan=plan,
                    by=request.user,
                    currency=rate.currency,
                    year=rate.year,
                    rate=form.cleaned_data["rate"],
                    source=form.cleaned_data["source"],
                    version=form.cleaned_data["version"],
                )
            except (EditConflict, ValidationError) as refusal:
                status = form_refused(form, refusal)
            else:
                messages.success(
                    request,
                    gettext("Rate of %(currency)s for %(year)s saved.")
                    % {"currency": rate.currency, "year": rate.year},
                )
                return redirect(f"{reverse('costing_settings', kwargs={'plan_id': plan.pk})}#exchange-rates")
    costing = plan_costing_get(plan)
    context = {"plan": plan, "membership": membership, "rate": rate, "costing": costing, "form": form}
    return render(request, "costing/settings/rate_edit.html", context, status=status)


@require_POST
def exchange_rate_delete(request: SignedInRequest, plan_id: int, rate_id: int) -> HttpResponse:
    """Remove a rate; one that cost lines or funding still need is refused, saying which."""
    plan = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_PLAN).plan
    rate = _rate(plan, rate_id)
    try:
        exchange_rate_delete_service(rate=rate, by=request.user)
    except ValidationError as error:
        messages.error(
            request,
            gettext("The rate of %(currency)s for %(year)s was kept: %(reason)s")
            % {"currency": rate.currency, "year": rate.year, "reason": " ".join(error.messages)},
        )
    else:
        messages.success(
            request,
            gettext("Rate of %(currency)s for %(year)s removed.") % {"currency": rate.currency, "year": rate.year},
        )
    return redirect(f"{reverse('costing_settings', kwargs={'plan_id': plan.pk})}#exchange-rates")


# --- Catalogue ------------------------------------------------------------------------------------------------


@require_safe
def catalogue(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The unit costs the plan may use, by category, searchable by name; htmx requests get the table alone."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    filter_form = CatalogueFilterForm(request.GET or None)
    items = catalogue_list_for_plan(plan=plan, **filter_form.filters())
    page = Paginator(items, CATALOGUE_PAGE_SIZE).get_page(request.GET.get("page"))
    editable_jurisdictions: set[int] = set()
    if membership.can_edit_plan:
        editable_jurisdictions = {j.pk for j in catalogue_owners_for(user=request.user, plan=plan)}
    for item in page.object_list:
        item.may_edit = membership.can_edit_plan and (  # type: ignore[attr-defined]  # for the table
            item.plan_id == plan.pk or item.jurisdiction_id in editable_jurisdictions
        )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "plan": plan,
        "membership": membership,
        "filter_form": filter_form,
        "page": page,
        "query": query.urlencode(),
        "costing": plan_costing_get(plan),
    }
    template = "costing/settings/_catalogue_table.html" if request.htmx else "costing/settings/catalogue.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_form_methods
def catalogue_item_new(request: SignedInRequest, plan_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_PLAN)
    costing = plan_costing_get(plan)
    form = CatalogueItemForm(
        request.POST if request.method == "POST" else None,
        plan=plan,
        owners=catalogue_owners_for(user=request.user, plan=plan),
        initial={"currency": costing.currency, "price_year": costing.price_year, "owner": OWN_PLAN},
    )
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                item = catalogue_item_create(by=request.user, via=plan, **form.owner_kwargs(), **form.item_fields())
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, gettext("“%(item)s” added to the catalogue.") % {"item": item.name})
                return redirect("catalogue", plan_id=plan.pk)
    context = {"plan": plan, "membership": membership, "form": form}
    return render(request, "costing/settings/item_form.html", context, status=status)


@require_form_methods
def catalogue_item_edit(request: SignedInRequest, plan_id: int, catalogue_item_id: int) -> HttpResponse:
    """An item's name, category, unit, source and notes; its price is changed on its own page."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_PLAN)
    item = catalogue_item_get(membership=membership, user=request.user, item_id=catalogue_item_id, for_change=True)
    form = CatalogueItemForm(
        request.POST if request.method == "POST" else None, instance=copy.copy(item), plan=plan, owners=[]
    )
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                catalogue_item_update(
                    item=item, by=request.user, version=form.cleaned_data["version"], via=plan, **form.item_fields()
                )
            except (EditConflict, ValidationError) as refusal:
                status = form_refused(form, refusal)
            else:
                messages.success(request, gettext("“%(item)s” saved.") % {"item": item.name})
                return redirect("catalogue", plan_id=plan.pk)
    context = {"plan": plan, "membership": membership, "form": form, "item": item}
    return render(request, "costing/settings/item_form.html", context, status=status)


def _price_page(
    request: SignedInRequest,
    access: PlanAccess,
    item: CatalogueItem,
    form: RepriceForm,
    *,
    price: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The price form and, for a price given, the preview of every cost line it would move."""
    plan, membership = access
    preview = None
    if price is None and form.is_bound and form.is_valid():
        price = {name: form.cleaned_data[name] for name in PRICE_FIELDS}
    if price is not None:
        try:
            preview = catalogue_reprice_preview(item=item, user=request.user, **price)
        except ValidationError as error:
            form_errors_from(form, error)
            status = 422
    context = {"plan": plan, "membership": membership, "item": item, "form": form, "preview": preview}
    return render(request, "costing/settings/item_price.html", context, status=status)


@require_form_methods
def catalogue_item_price(request: SignedInRequest, plan_id: int, catalogue_item_id: int) -> HttpResponse:
    """The deliberate price change: choose the new price, see every cost line it moves (GET), then confirm (POST).

    A preview of an item someone changed since is refused on confirming (409), and so is a change that a plan
    lacking the rate for the new currency and year could not follow (422); either way nothing changes.
    """
    access = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_PLAN)
    plan, membership = access
    item = catalogue_item_get(membership=membership, user=request.user, item_id=catalogue_item_id, for_change=True)
    if request.method != "POST":
        initial = {
            "unit_cost": item.unit_cost,
            "currency": item.currency,
            "price_year": item.price_year,
            "version": item.version,
        }
        data = request.GET if "unit_cost" in request.GET else None
        return _price_page(request, access, item, RepriceForm(data, initial=initial))
    form = RepriceForm(request.POST)
    if not form.is_valid():
        return _price_page(request, access, item, form, status=422)
    try:
        result = catalogue_item_reprice(item=copy.copy(item), by=request.user, via=plan, **form.cleaned_data)
    except EditConflict as conflict:
        form.add_error(
            None, gettext("%(conflict)s The preview below shows the item as it is now.") % {"conflict": conflict}
        )
        status = 409
    except ValidationError as error:
        form_errors_from(form, error)
        status = 422
    else:
        if result.line_count:
            plans = ngettext("%(count)s plan", "%(count)s plans", result.plan_count) % {"count": result.plan_count}
            messages.success(
                request,
                # Translators: %(plans)s is a number of plans, e.g. "2 plans".
                ngettext(
                    "New price of “%(item)s”: %(cost)s %(currency)s (%(year)s prices). %(count)s cost line in "
                    "%(plans)s follows it; its totals are being recomputed.",
                    "New price of “%(item)s”: %(cost)s %(currency)s (%(year)s prices). %(count)s cost lines in "
                    "%(plans)s follow it; their totals are being recomputed.",
                    result.line_count,
                )
                % {
                    "item": item.name,
                    "cost": result.item.unit_cost,
                    "currency": result.item.currency,
                    "year": result.item.price_year,
                    "count": result.line_count,
                    "plans": plans,
                },
            )
        else:
            messages.success(
                request, gettext("New price of “%(item)s” saved; no cost line uses it.") % {"item": item.name}
            )
        return redirect("catalogue", plan_id=plan.pk)
    # Show the change again against the item as it is now, so the person can look and confirm once more.
    item = catalogue_item_get(membership=membership, user=request.user, item_id=catalogue_item_id, for_change=True)
    again = request.POST.copy()
    again["version"] = str(item.version)
    retry = RepriceForm(again)
    retry.is_valid()
    price = {name: form.cleaned_data[name] for name in PRICE_FIELDS if name in form.cleaned_data}
    for problem in form.non_field_errors():
        retry.add_error(None, problem)
    complete = len(price) == len(PRICE_FIELDS)
    return _price_page(request, access, item, retry, price=price if complete else None, status=status)


@require_POST
def catalogue_item_delete(request: SignedInRequest, plan_id: int, catalogue_item_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_PLAN)
    item = catalogue_item_get(membership=membership, user=request.user, item_id=catalogue_item_id, for_change=True)
    try:
        catalogue_item_delete_service(item=item, by=request.user, via=plan)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, gettext("“%(item)s” removed from the catalogue.") % {"item": item.name})
    return redirect("catalogue", plan_id=plan.pk)


urlpatterns = [
    path("plans/<int:plan_id>/costing/settings/", costing_settings, name="costing_settings"),
    path("plans/<int:plan_id>/costing/rates/<int:rate_id>/", exchange_rate_edit, name="exchange_rate_edit"),
    path("plans/<int:plan_id>/costing/rates/<int:rate_id>/delete/", exchange_rate_delete, name="exchange_rate_delete"),
    path("plans/<int:plan_id>/costing/catalogue/", catalogue, name="catalogue"),
    path("plans/<int:plan_id>/costing/catalogue/new/", catalogue_item_new, name="catalogue_item_new"),
    path(
        "plans/<int:plan_id>/costing/catalogue/<int:catalogue_item_id>/",
        catalogue_item_edit,
        name="catalogue_item_edit",
    ),
    path(
        "plans/<int:plan_id>/costing/catalogue/<int:catalogue_item_id>/price/",
        catalogue_item_price,
        name="catalogue_item_price",
    ),
    path(
        "plans/<int:plan_id>/costing/catalogue/<int:catalogue_item_id>/delete/",
        catalogue_item_delete,
        name="catalogue_item_delete",
    ),
]
