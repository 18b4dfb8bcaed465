"""Forms of the results framework's pages: the list's filters, an indicator with a target per year of the plan (one
form: all the years are saved together or none), a period's grid of actuals, and the actuals' import."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from monitoring.indicator_services import INDICATOR_FIELDS, MAX_VALUE, VALUE_PLACES
from monitoring.models import MEIndicator
from naphs.forms import TextWithoutDirectionControls, form_field
from naphs.uploads import UploadField
from planning.models import Activity, TechnicalArea
from planning.selectors import technical_areas_of

if TYPE_CHECKING:
    from monitoring.indicators import IndicatorProgress
    from monitoring.models import MEIndicatorActual
    from planning.models import Plan

TYPED_KINDS = [(value, label) for value, label in MEIndicator.Kind.choices if value != MEIndicator.Kind.CAPACITY]
SPREADSHEET_TYPES = (".xlsx", ".csv")
SPREADSHEET_WHAT = _("an Excel workbook (.xlsx) or a CSV file (.csv)")


def value_field(**kwargs: Any) -> forms.DecimalField:
    """A measured value or a target, typed as the person's language writes numbers (localize)."""
    return forms.DecimalField(
        max_digits=18,
        decimal_places=VALUE_PLACES,
        max_value=MAX_VALUE,
        min_value=-MAX_VALUE,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        **kwargs,
    )


class IndicatorFilterForm(forms.Form):
    """The list's filters, read from GET parameters so a filtered view is a link."""

    kind = forms.ChoiceField(choices=[("", _("Any")), *MEIndicator.Kind.choices], required=False, label=_("Type"))
    area: forms.ModelChoiceField[TechnicalArea] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=_("Any"), label=_("Technical area")
    )

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "area", forms.ModelChoiceField).queryset = technical_areas_of(plan)

    def filters(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        lookups = {"kind": data.get("kind"), "technical_area": data.get("area")}
        return {name: value for name, value in lookups.items() if value not in (None, "")}


class IndicatorForm(TextWithoutDirectionControls, forms.Form):
    """An indicator of the plan's own, with its target for each year of the plan. A capacity indicator's form has
    no baseline, type, area or targets: those are read from the plan's assessments and targets."""

    code = forms.CharField(max_length=30, label=_("Code"))
    name = forms.CharField(max_length=300, label=_("Name"))
    kind = forms.ChoiceField(choices=TYPED_KINDS, label=_("Type"))
    technical_area: forms.ModelChoiceField[TechnicalArea] = forms.ModelChoiceField(
        queryset=None, required=False, label=_("Technical area"), empty_label=_("– (the plan as a whole)")
    )
    activities = forms.TypedMultipleChoiceField(
        coerce=int, choices=[], required=False, widget=forms.CheckboxSelectMultiple, label=_("Activities")
    )
    definition = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, required=False, label=_("Definition")
    )
    unit = forms.CharField(max_length=60, required=False, label=_("Unit"))
    data_source = forms.CharField(max_length=300, required=False, label=_("Data source"))
    frequency = forms.ChoiceField(choices=MEIndicator.Frequency.choices, label=_("Frequency"))
    means_of_verification = forms.CharField(max_length=300, required=False, label=_("Means of verification"))
    baseline_value = value_field(required=False, label=_("Baseline value"))
    baseline_year = forms.IntegerField(required=False, label=_("Baseline year"))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        plan: Plan,
        indicator: MEIndicator | None = None,
        area_ids: frozenset[int] | None = None,
        **kwargs: Any,
    ) -> None:
        self.plan, self.indicator = plan, indicator
        self.capacity = indicator is not None and indicator.kind == MEIndicator.Kind.CAPACITY
        years = range(plan.first_year, plan.last_year + 1)
        if indicator is not None and not args and "data" not in kwargs:
            targets = {target.year: target.value for target in indicator.targets.all()}
            kwargs["initial"] = {
                **{name: getattr(indicator, name) for name in INDICATOR_FIELDS if name != "technical_area"},
                "technical_area": indicator.technical_area_id,
                "activities": [activity.pk for activity in indicator.activities.all()],
                "version": indicator.version,
                **{f"target_{year}": targets.get(year) for year in years},
            }
        super().__init__(*args, **kwargs)
        areas = technical_areas_of(plan)
        if area_ids is not None:  # a technical lead: one of their own areas
            areas = areas.filter(pk__in=area_ids)
            self.fields["technical_area"].required = True
            self.fields["technical_area"].empty_label = None  # type: ignore[attr-defined]
        form_field(self, "technical_area", forms.ModelChoiceField).queryset = areas
        activities = Activity.objects.filter(plan=plan).select_related("technical_area")
        activities = activities.order_by("technical_area__order", "technical_area__code", "title", "pk")
        self.activity_rows = {activity.pk: activity for activity in activities}
        groups: dict[int, tuple[str, list[tuple[int, str]]]] = {}
        for activity in self.activity_rows.values():
            area = activity.technical_area
            groups.setdefault(area.pk, (f"{area.code} {area.local_name}", []))[1].append((activity.pk, activity.title))
        form_field(self, "activities", forms.TypedMultipleChoiceField).choices = list(groups.values())
        self.year_names = []
        for year in years:
            name = f"target_{year}"
            self.fields[name] = value_field(required=False, label=gettext("Target %(year)s") % {"year": year})
            self.year_names.append((year, name))
        if self.capacity:
            for name in ("kind", "technical_area", "baseline_value", "baseline_year", *dict(self.year_names).values()):
                del self.fields[name]
            self.year_names = []

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.capacity and self.data:
            typed = [
                name
                for name in self.data
                if (name in ("baseline_value", "baseline_year") or name.startswith("target_")) and self.data.get(name)
            ]
            if typed:
                raise forms.ValidationError(
                    gettext(
                        "A capacity indicator's baseline and targets come from the plan's assessments and targets; "
                        "they cannot be typed."
                    )
                )
        return cleaned

    def target_fields(self) -> list[forms.BoundField]:
        return [self[name] for _year, name in self.year_names]

    def indicator_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in INDICATOR_FIELDS if name in self.fields}

    def targets(self) -> dict[int, Any] | None:
        """Every year's target (None: no target that year); None for a capacity indicator."""
        if self.capacity:
            return None
        return {year: self.cleaned_data.get(name) for year, name in self.year_names}

    def chosen_activities(self) -> list[Activity]:
        return [self.activity_rows[pk] for pk in self.cleaned_data.get("activities", []) if pk in self.activity_rows]


class ActualsGridForm(forms.Form):
    """A period's values: a value, a note and the version seen, per indicator the person enters values of."""

    def __init__(
        self,
        *args: Any,
        rows: list[tuple[IndicatorProgress, MEIndicatorActual | None]],
        **kwargs: Any,
    ) -> None:
        if not args and "data" not in kwargs:
            initial: dict[str, Any] = {}
            for progress, actual in rows:
                pk = progress.indicator.pk
                initial[f"value_{pk}"] = actual.value if actual else None
                initial[f"note_{pk}"] = actual.note if actual else ""
                initial[f"version_{pk}"] = actual.version if actual else 0
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.rows = []
        for progress, actual in rows:
            indicator = progress.indicator
            pk = indicator.pk
            self.fields[f"value_{pk}"] = value_field(
                required=False, label=gettext("Value of %(code)s") % {"code": indicator.code}
            )
            self.fields[f"note_{pk}"] = forms.CharField(
                max_length=5000, required=False, label=gettext("Note on %(code)s") % {"code": indicator.code}
            )
            self.fields[f"version_{pk}"] = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
            self.rows.append((progress, actual, self[f"value_{pk}"], self[f"note_{pk}"], self[f"version_{pk}"]))


class ActualsImportForm(forms.Form):
    file = UploadField(
        extensions=SPREADSHEET_TYPES,
        what=SPREADSHEET_WHAT,
        label=_("Indicator values (.xlsx or .csv)"),
        help_text=_(
            "Columns: indicator code, period (its name or first day), value, note; headings in your language or "
            "English. Values already entered are updated; nothing is saved unless every row is sound."
        ),
    )
