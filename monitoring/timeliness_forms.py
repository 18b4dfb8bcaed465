"""Forms of the 7-1-7 pages: the events list's filters, an event, a bottleneck, and a remedial action made an
activity. The dates' order and the references are checked by monitoring.timeliness; its messages land beside these
fields."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from monitoring.models import Bottleneck, HealthEvent
from monitoring.timeliness import (
    BOTTLENECK_FIELDS,
    EVENT_FIELDS,
    REMEDIAL_SOURCES,
    health_event_hazards,
    health_event_years,
    remedial_activity_description,
    remedial_activity_title,
)
from naphs.forms import TextWithoutDirectionControls, form_field
from planning.models import Activity, TechnicalArea
from planning.selectors import technical_areas_of
from stakeholders.access import area_ids_editable_by
from stakeholders.selectors import organization_list_for_plan

if TYPE_CHECKING:
    from planning.models import Plan
    from stakeholders.models import Organization, PlanMembership


class EventFilterForm(forms.Form):
    """The list's filters, read from GET parameters so a filtered view is a link."""

    year = forms.TypedChoiceField(coerce=int, choices=[], required=False, label=_("Year of emergence"))
    hazard = forms.ChoiceField(choices=[], required=False, label=_("Hazard or disease"))

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        any_choice = ("", gettext("Any"))
        form_field(self, "year", forms.ChoiceField).choices = [
            any_choice,
            *((year, str(year)) for year in health_event_years(plan=plan)),
        ]
        form_field(self, "hazard", forms.ChoiceField).choices = [
            any_choice,
            *((hazard, hazard) for hazard in health_event_hazards(plan=plan)),
        ]

    def filters(self) -> dict[str, Any]:
        """The valid filters (a wrong value leaves the others working)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data[name] for name in ("year", "hazard") if data.get(name) not in (None, "")}


DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class HealthEventForm(TextWithoutDirectionControls, forms.ModelForm):
    """A health event's name, place, hazard, its four dates (each as it becomes known) and notes."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = HealthEvent
        fields = list(EVENT_FIELDS)
        widgets = {
            "emerged_on": DATE_WIDGET,
            "detected_on": DATE_WIDGET,
            "notified_on": DATE_WIDGET,
            "responded_on": DATE_WIDGET,
            "notes": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "emerged_on": _("When the event began: the first case, or the first sign in animals or the environment."),
            "detected_on": _("When the event was first recorded by any source; leave empty while it is not."),
            "notified_on": _("When it was reported to the public health authority that acts on it."),
            "responded_on": _("When the seven early response actions were all completed."),
        }

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        kwargs.setdefault("instance", HealthEvent(plan=plan))
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and not self.is_bound:
            self.initial["version"] = self.instance.version

    def _post_clean(self) -> None:
        """The service checks the event whole (monitoring.timeliness): the model's checks are not run twice."""

    def clean_version(self) -> int | None:
        version = self.cleaned_data.get("version")
        if self.instance.pk is not None and version is None:
            raise forms.ValidationError(gettext("The form lost track of the version you opened; reload the page."))
        return version

    def event_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in EVENT_FIELDS}


class BottleneckForm(TextWithoutDirectionControls, forms.ModelForm):
    """What slowed the event at one stage, and the remedial action for it, in a technical area of the plan."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Bottleneck
        fields = list(BOTTLENECK_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "remedial_action": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        kwargs.setdefault("instance", Bottleneck())
        super().__init__(*args, **kwargs)
        area = form_field(self, "technical_area", forms.ModelChoiceField)
        area.queryset = technical_areas_of(plan)
        area.error_messages["invalid_choice"] = gettext("Choose a technical area of this plan's framework.")
        if self.instance.pk is not None and not self.is_bound:
            self.initial["version"] = self.instance.version

    def _post_clean(self) -> None:
        """The service checks the bottleneck whole."""

    def clean_version(self) -> int | None:
        version = self.cleaned_data.get("version")
        if self.instance.pk is not None and version is None:
            raise forms.ValidationError(gettext("The form lost track of the version you opened; reload the page."))
        return version

    def bottleneck_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in BOTTLENECK_FIELDS}


class RemedialActivityForm(TextWithoutDirectionControls, forms.Form):
    """The activity a remedial action becomes: its source, technical area (one the person adds activities to),
    responsible organization (of the plan's country), and its title and description, proposed from the action."""

    source = forms.ChoiceField(
        label=_("Source"),
        choices=[(value, Activity.Source(value).label) for value in REMEDIAL_SOURCES],
        help_text=_("What found the need for it: the event's 7-1-7 review, an after-action review or an exercise."),
    )
    technical_area: forms.ModelChoiceField[TechnicalArea] = forms.ModelChoiceField(
        queryset=None, label=_("Technical area")
    )
    responsible_organization: forms.ModelChoiceField[Organization] = forms.ModelChoiceField(
        queryset=None, required=False, label=_("Responsible organization")
    )
    title = forms.CharField(max_length=300, label=_("Title of the activity"))
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False, label=_("Description"))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, plan: Plan, membership: PlanMembership, bottleneck: Bottleneck, **kwargs: Any):
        super().__init__(*args, **kwargs)
        editable = area_ids_editable_by(membership)
        areas = technical_areas_of(plan)
        area = form_field(self, "technical_area", forms.ModelChoiceField)
        area.queryset = areas if editable is None else areas.filter(pk__in=editable)
        area.error_messages["invalid_choice"] = gettext("Choose a technical area of this plan that you may edit.")
        organization = form_field(self, "responsible_organization", forms.ModelChoiceField)
        organization.queryset = organization_list_for_plan(plan=plan)
        refusal = gettext("Choose an organization of %(country)s.") % {"country": plan.jurisdiction.name}
        organization.error_messages["invalid_choice"] = refusal
        if not self.is_bound:
            self.initial.update(
                {
                    "source": Activity.Source.SEVEN_ONE_SEVEN,
                    "technical_area": bottleneck.technical_area_id,
                    "title": remedial_activity_title(bottleneck),
                    "description": remedial_activity_description(bottleneck),
                    "version": bottleneck.version,
                }
            )
