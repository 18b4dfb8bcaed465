"""Forms of the reporting periods page: generating the plan's periods, and one period's editor."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from monitoring.models import ReportingPeriod
from monitoring.periods import DEFAULT_DUE_DAYS, MAX_DUE_DAYS, PERIOD_FIELDS, Span
from naphs.forms import TextWithoutDirectionControls


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class PeriodsGenerateForm(forms.Form):
    """Cut the plan's years into calendar periods; those the plan has already are kept as they are."""

    span = forms.ChoiceField(
        choices=Span.choices,  # called when shown: the request's language
        initial=Span.QUARTER,
        label=_("Periods of"),
    )
    due_days = forms.IntegerField(
        min_value=0,
        max_value=MAX_DUE_DAYS,
        initial=DEFAULT_DUE_DAYS,
        label=_("Reports due, days after a period ends"),
    )


class PeriodForm(TextWithoutDirectionControls, forms.Form):
    """One period: its name, first and last day and due date. The service checks it against the plan's years and
    other periods, and its messages land beside these fields."""

    label = forms.CharField(max_length=60, label=_("Name"), help_text=_("For example “2026 Q1”."))
    starts_on = forms.DateField(label=_("First day"), widget=DateInput())
    ends_on = forms.DateField(label=_("Last day"), widget=DateInput())
    due_on = forms.DateField(label=_("Reports due"), widget=DateInput())
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, period: ReportingPeriod | None = None, **kwargs: Any) -> None:
        if period is not None and not args and "data" not in kwargs:
            kwargs["initial"] = {name: getattr(period, name) for name in (*PERIOD_FIELDS, "version")}
        super().__init__(*args, **kwargs)

    def period_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in PERIOD_FIELDS}
