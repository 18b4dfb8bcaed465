"""The forms of the progress pages: a report on one activity for one period, its evidence, and the list's filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from costing.models import ExchangeRate
from costing.services import Rates
from monitoring.evidence import EVIDENCE_TYPES
from monitoring.models import ProgressStatus, ProgressUpdate
from naphs.forms import TextWithoutDirectionControls, form_field
from planning.models import Plan, TechnicalArea
from planning.selectors import technical_areas_of
from stakeholders.models import Organization
from stakeholders.selectors import organization_list_for_plan

NOT_REPORTED = "none"


def currency_choices(plan: Plan, rates: Rates) -> list[tuple[str, str]]:
    """The plan's base currency first, then every currency it has a rate for (in some year)."""
    others = (
        ExchangeRate.objects.filter(plan=plan)
        .exclude(currency=rates.base)
        .order_by("currency")
        .values_list("currency", flat=True)
        .distinct()
    )
    return [(rates.base, rates.base), *((code, code) for code in others)]


class ProgressForm(TextWithoutDirectionControls, forms.Form):
    """One report, as typed: checked by monitoring.progress when saved (period open, percent, currency rate)."""

    status = forms.ChoiceField(choices=ProgressStatus.choices, label=_("Status"))
    percent_complete = forms.IntegerField(
        label=_("Percent complete"), widget=forms.NumberInput(attrs={"min": 0, "max": 100, "step": 1})
    )
    amount_spent = forms.DecimalField(
        label=_("Amount spent"),
        required=False,
        max_digits=18,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"min": 0, "step": "0.01"}),
        help_text=_("In this period, in the currency chosen; leave empty when nothing was spent or it is not known."),
    )
    currency = forms.ChoiceField(label=_("Currency"), required=False)
    narrative = forms.CharField(
        label=_("What was done"), required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 3})
    )
    blockers = forms.CharField(
        label=_("Blockers"), required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, plan: Plan, rates: Rates, update: ProgressUpdate | None = None, **kwargs: Any
    ) -> None:
        if update is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = {
                "status": update.status,
                "percent_complete": update.percent_complete,
                "amount_spent": update.amount_spent,
                "currency": update.currency or rates.base,
                "narrative": update.narrative,
                "blockers": update.blockers,
                "version": update.version,
            }
        kwargs.setdefault("initial", {"version": 0, "currency": rates.base, "percent_complete": 0})
        super().__init__(*args, **kwargs)
        choices = currency_choices(plan, rates)
        if update is not None and update.currency and update.currency not in dict(choices):
            choices.append((update.currency, update.currency))  # reported before its rate was removed
        form_field(self, "currency", forms.ChoiceField).choices = choices


class EvidenceForm(TextWithoutDirectionControls, forms.Form):
    """A file or a link (one of the two) with what it shows."""

    file = forms.FileField(
        label=_("File"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(EVIDENCE_TYPES)}),
        help_text=_("PDF, PNG or JPEG images, Word, Excel or PowerPoint files, CSV or text."),
    )
    link = forms.CharField(label=_("Or a link"), required=False, max_length=1000, widget=forms.URLInput)
    description = forms.CharField(label=_("What it shows"), required=False, max_length=300)


class ProgressFilterForm(forms.Form):
    """The progress list's filters, read from GET parameters so a filtered view is a link."""

    area: forms.ModelChoiceField[TechnicalArea] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=_("Any"), label=_("Technical area")
    )
    organization: forms.ModelChoiceField[Organization] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=_("Any"), label=_("Responsible organization")
    )
    status = forms.ChoiceField(
        choices=[("", _("Any")), (NOT_REPORTED, _("Not reported yet")), *ProgressStatus.choices],
        required=False,
        label=_("Status"),
    )

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "area", forms.ModelChoiceField).queryset = technical_areas_of(plan)
        form_field(self, "organization", forms.ModelChoiceField).queryset = organization_list_for_plan(plan=plan)

    def choices(self) -> dict[str, Any]:
        """The valid filters (a wrong value leaves the others working)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}
