"""Forms of the advocacy pages: the list's filters and an advocacy's editor. Every reference is one of this plan's
(the choices are scoped, and stakeholders.advocacy checks the whole again); the service's messages land beside these
fields."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from naphs.forms import TextWithoutDirectionControls, form_field
from planning.models import TechnicalArea
from planning.selectors import technical_areas_of
from stakeholders.advocacy import (
    ADVOCACY_FIELDS,
    activity_choices,
    audience_choices,
    messenger_choices,
    owner_choices,
)
from stakeholders.models import Advocacy, Stakeholder

if TYPE_CHECKING:
    from planning.models import Plan


class AdvocacyFilterForm(forms.Form):
    """The list's filters, read from GET parameters so a filtered view is a link."""

    status = forms.ChoiceField(choices=[("", _("Any")), *Advocacy.Status.choices], required=False, label=_("Status"))
    need = forms.ChoiceField(choices=[("", _("Any")), *Advocacy.Need.choices], required=False, label=_("Need"))
    area: forms.ModelChoiceField[TechnicalArea] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=_("Any"), label=_("Technical area")
    )

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "area", forms.ModelChoiceField).queryset = technical_areas_of(plan)

    def filters(self) -> dict[str, Any]:
        """The valid filters (a wrong value leaves the others working)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data[name] for name in ("status", "need", "area") if data.get(name) not in (None, "")}


DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _PersonChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj} ({obj.organization})" if obj.organization_id else str(obj)


class _UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.username


class _ActivityChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.technical_area.code} · {obj.title}"


class AdvocacyForm(TextWithoutDirectionControls, forms.ModelForm):
    """An advocacy plan: the need, whom it speaks to, what it asks, how and when, who leads it, what it addresses and
    what came of it."""

    audience: forms.ModelChoiceField[Stakeholder] = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label=_("Audience"),
        empty_label=_("– (a group, named below)"),
        help_text=_("A stakeholder of the plan's map."),
    )
    messengers = _PersonChoice(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Messengers"),
        help_text=_("People of the plan's register who carry the message."),
    )
    channels = forms.MultipleChoiceField(
        choices=Advocacy.Channel.choices, required=False, widget=forms.CheckboxSelectMultiple, label=_("Channels")
    )
    owner = _UserChoice(
        queryset=None, required=False, label=_("Owner"), help_text=_("The member of the secretariat who leads it.")
    )
    technical_areas: forms.ModelMultipleChoiceField[TechnicalArea] = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label=_("Technical areas")
    )
    activities = _ActivityChoice(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Activities"),
        help_text=_("The activities whose gap it addresses."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Advocacy
        fields = [name for name in ADVOCACY_FIELDS if name not in ("channels",)]
        widgets = {
            "starts_on": DATE_WIDGET,
            "ends_on": DATE_WIDGET,
            "ask_currency": forms.TextInput(attrs={"maxlength": 3, "size": 4, "autocapitalize": "characters"}),
            "ask_amount": forms.TextInput(attrs={"inputmode": "decimal"}),
            "ask_text": forms.Textarea(attrs={"rows": 3}),
            "key_messages": forms.Textarea(attrs={"rows": 4}),
            "outcome": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "ask_currency": _("ISO 4217 code (USD, EUR, …); the plan needs an exchange rate for it."),
            "ask_text": _("The decision or policy asked for, or what the amount is for."),
        }

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        kwargs.setdefault("instance", Advocacy(plan=plan))
        super().__init__(*args, **kwargs)
        scoped: list[tuple[str, Any, str]] = [
            ("audience", audience_choices(plan), gettext("Choose a stakeholder of this plan's map.")),
            ("messengers", messenger_choices(plan), gettext("%(value)s is not a person of this plan's register.")),
            ("owner", owner_choices(plan), gettext("Choose a member of this plan's secretariat.")),
            (
                "technical_areas",
                technical_areas_of(plan),
                gettext("%(value)s is not a technical area of this plan's framework."),
            ),
            ("activities", activity_choices(plan), gettext("%(value)s is not an activity of this plan.")),
        ]
        for name, queryset, message in scoped:
            field = form_field(self, name, forms.ModelChoiceField)
            field.queryset = queryset
            field.error_messages["invalid_choice"] = message
            field.error_messages["invalid_pk_value"] = message
        self.fields["ask_amount"].localize = False
        instance = self.instance
        if instance.pk is not None and not self.is_bound:
            self.initial["version"] = instance.version
            self.initial["channels"] = list(instance.channels)

    def _post_clean(self) -> None:
        """The service checks the advocacy whole (stakeholders.advocacy): the model's checks are not run twice."""

    def clean_version(self) -> int | None:
        version = self.cleaned_data.get("version")
        if self.instance.pk is not None and version is None:
            raise forms.ValidationError(gettext("The form lost track of the version you opened; reload the page."))
        return version

    def advocacy_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data.get(name) for name in ADVOCACY_FIELDS}

    def references(self) -> dict[str, list[Any]]:
        data = self.cleaned_data
        return {name: list(data.get(name) or []) for name in ("messengers", "technical_areas", "activities")}
