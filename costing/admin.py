"""Administration of costing across plans: each plan's settings and rates, and the unit-cost catalogues.

Changes go through the same services as the plan pages, so they are checked, audited and followed by the
recomputation of the plans' totals; an administrator changes a catalogue price through the same preview of
the cost lines it moves.
"""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from costing.catalogue import (
    ITEM_FIELDS,
    PRICE_FIELDS,
    catalogue_item_create,
    catalogue_item_delete,
    catalogue_item_reprice,
    catalogue_item_update,
    catalogue_reprice_preview,
    exchange_rate_create,
)
from costing.models import MAX_UNIT_COST, CatalogueItem, ExchangeRate, PlanCosting, currency_choices
from costing.services import exchange_rate_delete, exchange_rate_set, plan_costing_update
from naphs.errors import EditConflict
from planning.models import MAX_YEAR, MIN_YEAR
from stakeholders.access import signed_in_user


class VersionedForm(forms.ModelForm):
    """Carries the version the administrator opened, so a change saved by someone else since is refused."""

    opened_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["opened_version"] = self.instance.version

    def version(self) -> int:
        version = self.cleaned_data.get("opened_version")
        return self.instance.version if version is None else version


class ServiceAdminMixin(admin.ModelAdmin):
    """Saves and deletions run services; what they refuse comes back as a message on the page, nothing saved."""

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, *args: Any, **kwargs: Any):
        try:
            return super().changeform_view(request, object_id, *args, **kwargs)
        except (ValidationError, EditConflict) as error:
            self.message_user(request, _message(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as error:
            self.message_user(request, _message(error), messages.ERROR)
            return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", object_id)

    def get_actions(
        self, request: HttpRequest, action_location: admin.ActionLocation = admin.ActionLocation.CHANGE_LIST
    ) -> dict:
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)  # one at a time, through the service that refuses what is in use
        return actions


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return gettext("Nothing was saved: %(reasons)s") % {"reasons": " ".join(error.messages)}
    return str(error)


class PlanCostingForm(VersionedForm):
    currency = forms.ChoiceField(label=_("Currency"), choices=currency_choices)

    class Meta:
        model = PlanCosting
        fields = ["currency", "price_year"]


@admin.register(PlanCosting)
class PlanCostingAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """A plan's base currency and price year, and the state of its stored totals (read-only)."""

    form = PlanCostingForm
    list_display = ["plan", "currency", "price_year", "rollup_current", "rollup_at"]
    list_select_related = ["plan"]
    list_filter = ["currency"]
    search_fields = ["plan__title"]
    readonly_fields = ["plan", "version", "changes", "rollup_of", "rollup_queued", "rollup_at", "rollup_error"]

    @admin.display(boolean=True, description=_("totals current"))
    def rollup_current(self, costing: PlanCosting) -> bool:
        return costing.rollup_current

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # made with the plan's first costing

    def has_delete_permission(self, request: HttpRequest, obj: PlanCosting | None = None) -> bool:
        return False  # goes with its plan

    def save_model(self, request: HttpRequest, obj: PlanCosting, form: PlanCostingForm, change: bool) -> None:
        stored = PlanCosting.objects.select_related("plan").get(pk=obj.pk)
        fields = {name: form.cleaned_data[name] for name in ("currency", "price_year")}
        plan_costing_update(costing=stored, by=signed_in_user(request), version=form.version(), **fields)


class ExchangeRateForm(VersionedForm):
    currency = forms.ChoiceField(label=_("Currency"), choices=currency_choices)

    class Meta:
        model = ExchangeRate
        fields = ["plan", "currency", "year", "rate", "source"]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = ExchangeRateForm
    list_display = ["plan", "currency", "year", "rate", "source"]
    list_select_related = ["plan"]
    list_filter = ["currency", "year"]
    search_fields = ["plan__title", "currency"]
    autocomplete_fields = ["plan"]

    def get_readonly_fields(self, request: HttpRequest, obj: ExchangeRate | None = None) -> list[str]:
        return ["plan", "currency", "year"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: ExchangeRate, form: ExchangeRateForm, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            saved = exchange_rate_create(
                plan=obj.plan,
                by=signed_in_user(request),
                currency=obj.currency,
                year=obj.year,
                rate=obj.rate,
                source=obj.source,
            )
        else:
            saved = exchange_rate_set(
                plan=obj.plan,
                by=signed_in_user(request),
                currency=obj.currency,
                year=obj.year,
                rate=data["rate"],
                source=data["source"],
                version=form.version(),
            )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: ExchangeRate) -> None:
        exchange_rate_delete(rate=obj, by=signed_in_user(request))


class CatalogueItemForm(VersionedForm):
    currency = forms.ChoiceField(label=_("Currency"), choices=currency_choices)

    class Meta:
        model = CatalogueItem
        fields = ["jurisdiction", "plan", *ITEM_FIELDS, *PRICE_FIELDS]


@admin.register(CatalogueItem)
class CatalogueItemAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Unit-cost catalogues of every jurisdiction and plan. An item's price changes on its "Change price" page,
    which lists the cost lines that follow it before applying."""

    form = CatalogueItemForm
    list_display = ["name", "owner", "category", "unit", "unit_cost", "currency", "price_year", "line_count"]
    list_select_related = ["jurisdiction", "plan"]
    list_filter = ["category", "currency", "jurisdiction"]
    search_fields = ["name", "source"]
    autocomplete_fields = ["jurisdiction", "plan"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CatalogueItem]:
        return super().get_queryset(request).annotate(line_count=Count("cost_lines"))

    @admin.display(description=_("kept by"))
    def owner(self, item: CatalogueItem) -> str:
        return f"Plan: {item.plan}" if item.plan_id else f"Shared: {item.jurisdiction}"

    @admin.display(description=_("cost lines"), ordering="line_count")
    def line_count(self, item: CatalogueItem) -> int:
        return item.line_count  # type: ignore[attr-defined]  # annotated by get_queryset

    def get_readonly_fields(self, request: HttpRequest, obj: CatalogueItem | None = None) -> list[str]:
        if obj is None:
            return []
        return ["jurisdiction", "plan", *PRICE_FIELDS, "price_change"]

    @admin.display(description=_("price change"))
    def price_change(self, item: CatalogueItem) -> str:
        url = reverse("admin:costing_catalogueitem_price", args=[item.pk])
        return format_html(
            '<a href="{}">{}</a> {}',
            url,
            gettext("Change the price…"),
            gettext("(shows the cost lines that follow it first)"),
        )

    def save_model(self, request: HttpRequest, obj: CatalogueItem, form: CatalogueItemForm, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            owner = {"plan": data["plan"]} if data.get("plan") else {"jurisdiction": data.get("jurisdiction")}
            fields = {name: data[name] for name in (*ITEM_FIELDS, *PRICE_FIELDS)}
            obj.pk = catalogue_item_create(by=signed_in_user(request), **owner, **fields).pk
            return
        stored = CatalogueItem.objects.select_related("plan", "jurisdiction").get(pk=obj.pk)
        fields = {name: data[name] for name in ITEM_FIELDS}
        catalogue_item_update(item=stored, by=signed_in_user(request), version=form.version(), **fields)

    def delete_model(self, request: HttpRequest, obj: CatalogueItem) -> None:
        catalogue_item_delete(item=obj, by=signed_in_user(request))

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.price_view)
        return [path("<int:item_id>/price/", view, name="costing_catalogueitem_price"), *super().get_urls()]

    def price_view(self, request: HttpRequest, item_id: int) -> HttpResponse:
        """The price change for administrators: every linked cost line, in every plan, before it applies."""
        item = get_object_or_404(CatalogueItem.objects.select_related("plan", "jurisdiction"), pk=item_id)
        if not self.has_change_permission(request, item):
            raise PermissionDenied
        initial = {name: getattr(item, name) for name in (*PRICE_FIELDS, "version")}
        data = request.POST if request.method == "POST" else (request.GET if "unit_cost" in request.GET else None)
        form = PriceForm(data, initial=initial)
        preview = None
        if request.method == "POST" and form.is_valid():
            try:
                result = catalogue_item_reprice(item=copy.copy(item), by=signed_in_user(request), **form.cleaned_data)
            except (ValidationError, EditConflict) as error:
                form.add_error(None, _message(error))
            else:
                self.message_user(
                    request,
                    gettext("New price of “%(item)s”: %(lines)s follow it.")
                    % {
                        "item": item.name,
                        # Translators: e.g. "3 cost lines in 2 plans".
                        "lines": ngettext(
                            "%(count)d cost line in %(plans)s", "%(count)d cost lines in %(plans)s", result.line_count
                        )
                        % {
                            "count": result.line_count,
                            "plans": ngettext("%(count)d plan", "%(count)d plans", result.plan_count)
                            % {"count": result.plan_count},
                        },
                    },
                    messages.SUCCESS,
                )
                return redirect("admin:costing_catalogueitem_change", item.pk)
        if form.is_bound and form.is_valid():
            price = {name: form.cleaned_data[name] for name in PRICE_FIELDS}
            try:
                preview = catalogue_reprice_preview(item=item, user=None, **price)
            except ValidationError as error:
                form.add_error(None, _message(error))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Change the price of %(item)s") % {"item": item.name},
            "item": item,
            "form": form,
            "preview": preview,
        }
        return TemplateResponse(request, "admin/costing/catalogueitem/price.html", context)


class PriceForm(forms.Form):
    unit_cost = forms.DecimalField(
        label=_("Unit cost"), max_digits=18, decimal_places=2, min_value=0, max_value=MAX_UNIT_COST
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=currency_choices)
    price_year = forms.IntegerField(label=_("Price year"), min_value=MIN_YEAR, max_value=MAX_YEAR)
    version = forms.IntegerField(widget=forms.HiddenInput)
