"""Forms of the engagement events pages: the list's filters, an event, participants added from the register, a
participant marked, a decision, a document and an attendance sheet. Every choice is narrowed to what the plan may
use; stakeholders.events checks each reference again and names what it refuses."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from naphs.choices import Sector
from naphs.forms import TextWithoutDirectionControls, form_field
from naphs.uploads import DOCUMENT_TYPES, DOCUMENT_WHAT, UploadField
from planning.models import Activity, CommentThread, Plan
from planning.selectors import technical_areas_of
from stakeholders.events import EVENT_FIELDS, EVENT_M2M, event_years, register_for_plan
from stakeholders.models import EngagementEvent, EventDecision, Person
from stakeholders.selectors import organization_list_for_plan

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _lost_version() -> forms.ValidationError:
    return forms.ValidationError(gettext("The form lost track of the version you opened; reload the page."))


class EventFilterForm(forms.Form):
    """The list's filters, read from GET parameters so a filtered view is a link."""

    kind = forms.ChoiceField(choices=[], required=False, label=_("Type"))
    year = forms.TypedChoiceField(coerce=int, choices=[], required=False, label=_("Year"))
    area = forms.TypedChoiceField(coerce=int, choices=[], required=False, label=_("Technical area"))

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        any_choice = ("", gettext("Any"))
        form_field(self, "kind", forms.ChoiceField).choices = [any_choice, *EngagementEvent.Kind.choices]
        form_field(self, "year", forms.ChoiceField).choices = [
            any_choice,
            *((year, str(year)) for year in event_years(plan=plan)),
        ]
        form_field(self, "area", forms.ChoiceField).choices = [
            any_choice,
            *((area.pk, str(area)) for area in technical_areas_of(plan)),
        ]

    def filters(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        found = {name: data[name] for name in ("kind", "year") if data.get(name) not in (None, "")}
        if data.get("area") not in (None, ""):
            found["area_id"] = data["area"]
        return found


class EngagementEventForm(TextWithoutDirectionControls, forms.ModelForm):
    """An event: its type, title, dates, place or link, organizers, areas, agenda, outcomes, activity and cost."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = EngagementEvent
        fields = [*EVENT_FIELDS, *EVENT_M2M]
        widgets = {
            "starts_on": DATE_WIDGET,
            "ends_on": DATE_WIDGET,
            "agenda": forms.Textarea(attrs={"rows": 4}),
            "outcomes": forms.Textarea(attrs={"rows": 4}),
            "organizers": forms.CheckboxSelectMultiple,
            "technical_areas": forms.CheckboxSelectMultiple,
        }
        help_texts = {
            "cost": _("In the plan's base currency; or build it from the meeting cost builder on the event's page."),
        }

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        kwargs.setdefault("instance", EngagementEvent(plan=plan))
        super().__init__(*args, **kwargs)
        organizers = form_field(self, "organizers", forms.ModelMultipleChoiceField)
        organizers.queryset = organization_list_for_plan(plan=plan)
        organizers.error_messages["invalid_choice"] = gettext("Choose organizations of %(country)s.") % {
            "country": plan.jurisdiction.name
        }
        areas = form_field(self, "technical_areas", forms.ModelMultipleChoiceField)
        areas.queryset = technical_areas_of(plan)
        areas.error_messages["invalid_choice"] = gettext("Choose technical areas of this plan's framework.")
        activity = form_field(self, "activity", forms.ModelChoiceField)
        activity.queryset = (
            Activity.objects.filter(plan=plan).select_related("technical_area").order_by("technical_area__order", "pk")
        )
        activity.error_messages["invalid_choice"] = gettext("Choose an activity of this plan.")
        if self.instance.pk is not None and not self.is_bound:
            self.initial["version"] = self.instance.version

    def _post_clean(self) -> None:
        """The service checks the event whole (stakeholders.events)."""

    def clean_version(self) -> int | None:
        version = self.cleaned_data.get("version")
        if self.instance.pk is not None and version is None:
            raise _lost_version()
        return version

    def event_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in (*EVENT_FIELDS, *EVENT_M2M)}


class PeopleFilterForm(forms.Form):
    """Who of the register is offered: by organization and sector (GET)."""

    organization = forms.TypedChoiceField(coerce=int, choices=[], required=False, label=_("Organization"))
    sector = forms.ChoiceField(choices=[], required=False, label=_("Sector"))

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        any_choice = ("", gettext("Any"))
        form_field(self, "organization", forms.ChoiceField).choices = [
            any_choice,
            *((o.pk, str(o)) for o in organization_list_for_plan(plan=plan)),
        ]
        form_field(self, "sector", forms.ChoiceField).choices = [any_choice, *Sector.choices]

    def filters(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "organization_id": data.get("organization") or None,
            "sector": data.get("sector") or "",
        }


class ParticipantsAddForm(forms.Form):
    """People of the plan's register to add at once."""

    people: forms.ModelMultipleChoiceField[Person] = forms.ModelMultipleChoiceField(
        queryset=None, widget=forms.CheckboxSelectMultiple, label=_("People of the register")
    )
    invited = forms.BooleanField(required=False, initial=True, label=_("Invited"))

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = form_field(self, "people", forms.ModelMultipleChoiceField)
        # Anyone of the register may be submitted (the service names who is already a participant); a person of
        # another plan is not in this queryset and is refused here by number.
        people.queryset = register_for_plan(plan=plan)
        people.error_messages["invalid_choice"] = gettext(
            "Person %(value)s is not in this plan's register: add them to the register first."
        )
        people.error_messages["invalid_pk_value"] = gettext("“%(pk)s” is not a person of the register.")


ATTENDED_CHOICES = [("", _("Not recorded")), ("yes", _("Attended")), ("no", _("Did not attend"))]


class ParticipantForm(forms.Form):
    """A participant marked invited, attended (or not recorded)."""

    invited = forms.BooleanField(required=False, label=_("Invited"))
    attended = forms.ChoiceField(choices=ATTENDED_CHOICES, required=False, label=_("Attended"))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def participant_fields(self) -> dict[str, Any]:
        attended = self.cleaned_data.get("attended")
        return {"invited": self.cleaned_data["invited"], "attended": {"yes": True, "no": False}.get(attended or "")}


class DecisionForm(TextWithoutDirectionControls, forms.ModelForm):
    """A decision or outcome and what it changed: activities, priorities of technical areas, comment threads."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = EventDecision
        fields = ["text", "activities", "priority_areas", "threads"]
        widgets = {
            "text": forms.Textarea(attrs={"rows": 3}),
            "activities": forms.SelectMultiple(attrs={"size": 6}),
            "priority_areas": forms.CheckboxSelectMultiple,
            "threads": forms.SelectMultiple(attrs={"size": 4}),
        }

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        kwargs.setdefault("instance", EventDecision())
        super().__init__(*args, **kwargs)
        activities = form_field(self, "activities", forms.ModelMultipleChoiceField)
        activities.queryset = Activity.objects.filter(plan=plan).order_by("technical_area__order", "pk")
        activities.error_messages["invalid_choice"] = gettext("Choose activities of this plan.")
        areas = form_field(self, "priority_areas", forms.ModelMultipleChoiceField)
        areas.queryset = technical_areas_of(plan)
        areas.error_messages["invalid_choice"] = gettext("Choose technical areas of this plan's framework.")
        threads = form_field(self, "threads", forms.ModelMultipleChoiceField)
        threads.queryset = CommentThread.objects.filter(plan=plan).order_by("-pk")
        threads.error_messages["invalid_choice"] = gettext("Choose comment threads of this plan.")
        if self.instance.pk is not None and not self.is_bound:
            self.initial["version"] = self.instance.version

    def _post_clean(self) -> None:
        """The service checks the decision whole."""

    def clean_version(self) -> int | None:
        version = self.cleaned_data.get("version")
        if self.instance.pk is not None and version is None:
            raise _lost_version()
        return version

    def decision_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in ("text", "activities", "priority_areas", "threads")}


class DocumentForm(forms.Form):
    title = forms.CharField(max_length=250, required=False, label=_("Title"))
    file = UploadField(extensions=DOCUMENT_TYPES, what=DOCUMENT_WHAT, label=_("File"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ",".join(DOCUMENT_TYPES)


class AttendanceImportForm(forms.Form):
    file = UploadField(
        extensions=(".xlsx",),
        what=_("an Excel workbook (.xlsx)"),
        label=_("Filled attendance sheet"),
        help_text=_("The sheet downloaded from this page, filled in (.xlsx)."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ".xlsx"
