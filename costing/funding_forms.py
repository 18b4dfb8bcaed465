"""Forms of the funding pages: the list's filters and a commitment's editor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from costing.funding import COMMITMENT_FIELDS
from costing.models import FundingCommitment, currency_choices
from costing.services import plan_costing_get
from naphs.forms import TextWithoutDirectionControls, form_field
from planning.models import Activity
from planning.selectors import technical_areas_of
from stakeholders.selectors import organization_list_for_plan

if TYPE_CHECKING:
    from planning.models import Plan, TechnicalArea
    from stakeholders.models import Organization


class FundingFilterForm(forms.Form):
    """The list's filters, read from GET parameters so a filtered view is a link."""

    status = forms.ChoiceField(
        choices=[("", _("Any")), *FundingCommitment.Status.choices], required=False, label=_("Status")
    )
    source: forms.ModelChoiceField[Organization] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=_("Any"), label=_("Source")
    )
    source_kind = forms.ChoiceField(
        choices=[("", _("Any")), *FundingCommitment.SourceKind.choices], required=False, label=_("Kind of source")
    )

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "source", forms.ModelChoiceField).queryset = organization_list_for_plan(plan=plan)

    def filters(self) -> dict[str, Any]:
        """Lookups on the plan's commitments for the valid filters (a wrong value leaves the others working)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = self.cleaned_data
        lookups = {
            "status": data.get("status"),
            "source_organization": data.get("source"),
            "source_kind": data.get("source_kind"),
        }
        return {name: value for name, value in lookups.items() if value not in (None, "")}


def _activity_choices(plan: Plan) -> tuple[dict[int, Activity], list[tuple[str, list[tuple[int, str]]]]]:
    """The plan's activities by id, and as choices grouped by technical area in the framework's order."""
    activities = list(
        Activity.objects.filter(plan=plan)
        .select_related("technical_area")
        .order_by("technical_area__order", "technical_area__code", "title", "pk")
    )
    groups: dict[int, tuple[str, list[tuple[int, str]]]] = {}
    for activity in activities:
        area = activity.technical_area
        groups.setdefault(area.pk, (f"{area.code} {area.local_name}", []))[1].append((activity.pk, activity.title))
    return {activity.pk: activity for activity in activities}, list(groups.values())


class CommitmentForm(TextWithoutDirectionControls, forms.Form):
    """A funding commitment. It funds a whole technical area or chosen activities of the plan; the service
    checks the whole (years, rates, what it funds) and its messages land next to these fields."""

    source_organization: forms.ModelChoiceField[Organization] = forms.ModelChoiceField(
        queryset=None, label=_("Source"), empty_label=_("Choose the organization")
    )
    source_kind = forms.ChoiceField(
        choices=[("", _("From the organization's kind")), *FundingCommitment.SourceKind.choices],
        required=False,
        label=_("Kind of source"),
    )
    budget_line = forms.CharField(
        max_length=250, required=False, label=_("Budget line or grant reference"), help_text=_("Optional.")
    )
    amount = forms.CharField(
        max_length=40,
        label=_("Amount"),
        help_text=_("For all its years together; it is spread evenly over them."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    currency = forms.ChoiceField(
        choices=[], label=_("Currency"), help_text=_("Another currency than the plan's needs a rate for each year.")
    )
    first_year = forms.TypedChoiceField(coerce=int, choices=[], label=_("From"))
    last_year = forms.TypedChoiceField(coerce=int, choices=[], label=_("To"))
    status = forms.ChoiceField(
        choices=FundingCommitment.Status.choices,
        label=_("Status"),
        help_text=_("Committed and disbursed funds count against the gap; a pledge does not yet."),
    )
    technical_area: forms.ModelChoiceField[TechnicalArea] = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label=_("Funds a whole technical area"),
        empty_label=_("– (funds the activities chosen below)"),
    )
    activities = forms.TypedMultipleChoiceField(
        coerce=int,
        choices=[],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Or funds these activities"),
        help_text=_("Money for several activities is shared among them by their cost in each year."),
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("Notes"))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, plan: Plan, commitment: FundingCommitment | None = None, **kwargs: Any) -> None:
        if commitment is not None and not args and "data" not in kwargs:
            kwargs["initial"] = {
                **{name: getattr(commitment, name) for name in _PLAIN},
                "source_organization": commitment.source_organization_id,
                "technical_area": commitment.technical_area_id,
                "activities": [activity.pk for activity in commitment.activities.all()],
                "version": commitment.version,
            }
        super().__init__(*args, **kwargs)
        form_field(self, "source_organization", forms.ModelChoiceField).queryset = organization_list_for_plan(plan=plan)
        form_field(self, "technical_area", forms.ModelChoiceField).queryset = technical_areas_of(plan)
        self.activity_by_id, form_field(self, "activities", forms.ChoiceField).choices = _activity_choices(plan)
        years = set(range(plan.first_year, plan.last_year + 1))
        if commitment is not None:  # years the plan no longer covers stay visible, for the service to name
            years |= {commitment.first_year, commitment.last_year}
        for name in ("first_year", "last_year"):
            form_field(self, name, forms.ChoiceField).choices = [(year, str(year)) for year in sorted(years)]
        form_field(self, "currency", forms.ChoiceField).choices = currency_choices()
        if not self.is_bound and commitment is None:
            self.initial.setdefault("currency", plan_costing_get(plan).currency)
            self.initial.setdefault("first_year", plan.first_year)
            self.initial.setdefault("last_year", plan.last_year)
            self.initial.setdefault("status", FundingCommitment.Status.PLEDGED)

    def commitment_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data.get(name) for name in COMMITMENT_FIELDS}

    def chosen_activities(self) -> list[Activity]:
        return [self.activity_by_id[pk] for pk in self.cleaned_data.get("activities", [])]


# Fields copied as they are into the editor's initial values.
_PLAIN = ("source_kind", "budget_line", "amount", "currency", "first_year", "last_year", "status", "notes")
