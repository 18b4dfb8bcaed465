"""Forms of the stakeholder register and map: the register's filters, a person, a merge of two records, a
stakeholder. What each reference may be (an organization of the country, an account of a member, an owner of the
secretariat, an area of the framework) is checked by stakeholders.mapping; its messages land beside these fields."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from naphs.choices import Hazard, Sector
from naphs.forms import TextWithoutDirectionControls, form_field
from planning.models import Jurisdiction, TechnicalArea
from stakeholders.mapping import PERSON_FIELDS, STAKEHOLDER_FIELDS
from stakeholders.models import NaphsRole, Organization, Person, Stakeholder, User

if TYPE_CHECKING:
    from planning.models import Plan


class PersonFilterForm(forms.Form):
    """The register's filters, read from GET parameters so a filtered view is a link."""

    organization = forms.ModelChoiceField(queryset=Organization.objects.none(), required=False, label=_("Organization"))
    sector = forms.ChoiceField(choices=[], required=False, label=_("Sector"))
    level = forms.ChoiceField(choices=[], required=False, label=_("Level"))
    text = forms.CharField(required=False, max_length=200, label=_("Name, title or e-mail contains"))

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        any_choice = ("", gettext("Any"))
        form_field(self, "organization", forms.ModelChoiceField).queryset = organizations
        form_field(self, "organization", forms.ModelChoiceField).empty_label = gettext("Any")
        form_field(self, "sector", forms.ChoiceField).choices = [any_choice, *Sector.choices]
        form_field(self, "level", forms.ChoiceField).choices = [any_choice, *Jurisdiction.Level.choices]

    def filters(self) -> dict[str, Any]:
        """The valid filters (a wrong value leaves the others working)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data[name] for name in ("organization", "sector", "level", "text") if data.get(name)}


class _Versioned(forms.BaseForm):
    def clean_version(self) -> int | None:
        version = self.cleaned_data.get("version")
        instance = getattr(self, "instance", None)
        if instance is not None and instance.pk is not None and version is None:
            raise forms.ValidationError(gettext("The form lost track of the version you opened; reload the page."))
        return version


class PersonForm(TextWithoutDirectionControls, _Versioned, forms.ModelForm):
    """A person of the register: name, title, organization, contact, sector, level, account, notes."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Person
        fields = list(PERSON_FIELDS)
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, plan: Plan, organizations: Any, members: Any, **kwargs: Any) -> None:
        kwargs.setdefault("instance", Person(plan=plan))
        super().__init__(*args, **kwargs)
        # Every id is accepted here and checked by the service, whose message names what was refused.
        form_field(self, "organization", forms.ModelChoiceField).queryset = Organization.objects.all()
        form_field(self, "organization", forms.ModelChoiceField).widget.choices = [
            ("", "---------"),
            *((o.pk, str(o)) for o in organizations),
        ]
        form_field(self, "user", forms.ModelChoiceField).queryset = User.objects.all()
        form_field(self, "user", forms.ModelChoiceField).widget.choices = [
            ("", "---------"),
            *((u.pk, str(u)) for u in members),
        ]
        if self.instance.pk is not None and not self.is_bound:
            self.initial["version"] = self.instance.version

    def _post_clean(self) -> None:
        """The service checks the person whole (stakeholders.mapping): the model's checks are not run twice."""

    def person_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in PERSON_FIELDS}


class StakeholderForm(TextWithoutDirectionControls, _Versioned, forms.ModelForm):
    """An organization in the map: its roles, sectors, hazards and areas of interest, influence and interest, the
    relationship and its owner in the secretariat."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    roles = forms.MultipleChoiceField(
        choices=NaphsRole.choices, required=False, widget=forms.CheckboxSelectMultiple, label=_("Roles in the NAPHS")
    )
    sectors = forms.MultipleChoiceField(
        choices=Sector.choices, required=False, widget=forms.CheckboxSelectMultiple, label=_("One Health sectors")
    )
    hazards = forms.MultipleChoiceField(
        choices=Hazard.choices, required=False, widget=forms.CheckboxSelectMultiple, label=_("Hazards")
    )

    class Meta:
        model = Stakeholder
        fields = list(STAKEHOLDER_FIELDS)
        widgets = {"notes": forms.Textarea(attrs={"rows": 3}), "technical_areas": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, plan: Plan, organizations: Any, areas: Any, owners: Any, **kwargs: Any) -> None:
        kwargs.setdefault("instance", Stakeholder(plan=plan))
        super().__init__(*args, **kwargs)
        form_field(self, "organization", forms.ModelChoiceField).queryset = Organization.objects.all()
        form_field(self, "organization", forms.ModelChoiceField).widget.choices = [
            ("", "---------"),
            *((o.pk, str(o)) for o in organizations),
        ]
        areas_field = form_field(self, "technical_areas", forms.ModelMultipleChoiceField)
        areas_field.queryset = TechnicalArea.objects.all()
        areas_field.widget.choices = [(a.pk, f"{a.code} {a.local_name}") for a in areas]
        owner = form_field(self, "relationship_owner", forms.ModelChoiceField)
        owner.queryset = User.objects.all()
        owner.widget.choices = [("", "---------"), *((u.pk, str(u)) for u in owners)]
        if self.instance.pk is not None and not self.is_bound:
            self.initial["version"] = self.instance.version

    def _post_clean(self) -> None:
        """The service checks the stakeholder whole (stakeholders.mapping)."""

    def stakeholder_fields(self) -> dict[str, Any]:
        fields = {name: self.cleaned_data.get(name) for name in STAKEHOLDER_FIELDS}
        fields["technical_areas"] = list(fields["technical_areas"] or [])
        return fields


MERGE_KEEP = (("existing", _("Keep the record's value")), ("entered", _("Take the other value")))
_MERGE_REFERENCES = ("organization", "user")


class PersonMergeForm(forms.Form):
    """For each field of a person, which value the merged record keeps: the record's own, or the value entered (or
    the other record's, when two records are merged). The entered values travel as hidden `entered_<field>` inputs,
    each reference checked against what the plan may use."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    other = forms.ModelChoiceField(queryset=Person.objects.none(), required=False, widget=forms.HiddenInput)
    other_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self, *args: Any, person: Person, organizations: Any, members: Any, candidates: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.person = person
        form_field(self, "other", forms.ModelChoiceField).queryset = candidates
        form_field(self, "other", forms.ModelChoiceField).error_messages["invalid_choice"] = gettext(
            "Choose another person of this plan's register to merge."
        )
        for name in PERSON_FIELDS:
            model_field = Person._meta.get_field(name)
            label = model_field.verbose_name  # type: ignore[union-attr]
            if name == "organization":
                entered: forms.Field = forms.ModelChoiceField(queryset=organizations, required=False)
                entered.error_messages["invalid_choice"] = gettext("That organization is not one this plan may use.")
            elif name == "user":
                entered = forms.ModelChoiceField(queryset=members, required=False)
                entered.error_messages["invalid_choice"] = gettext("That account is not a member of this plan.")
            else:
                entered = forms.CharField(required=False, strip=True)
            entered.widget = forms.HiddenInput()
            entered.label = label
            self.fields[f"entered_{name}"] = entered
            self.fields[f"keep_{name}"] = forms.ChoiceField(
                choices=MERGE_KEEP, initial="existing", widget=forms.RadioSelect, label=label, required=False
            )
            entered_value = self.initial.get(f"entered_{name}")
            # The record has nothing there and something was entered: take it.
            if not self.is_bound and entered_value not in (None, "") and getattr(person, name) in (None, ""):
                self.initial.setdefault(f"keep_{name}", "entered")

    def chosen_fields(self) -> dict[str, Any]:
        """The values the record is to hold where the secretariat took the other value."""
        data = self.cleaned_data
        return {name: data.get(f"entered_{name}") for name in PERSON_FIELDS if data.get(f"keep_{name}") == "entered"}

    def rows(self) -> list[dict[str, Any]]:
        """Field by field: the label, the record's value, the other value, and the choice (only where they differ)."""
        rows = []
        for name in PERSON_FIELDS:
            model_field = Person._meta.get_field(name)
            existing = getattr(self.person, name)
            raw = self[f"entered_{name}"].value()
            other: Any = raw
            if name in _MERGE_REFERENCES and raw not in (None, ""):
                field = form_field(self, f"entered_{name}", forms.ModelChoiceField)
                queryset = field.queryset
                other = queryset.filter(pk=raw).first() if queryset is not None and str(raw).isdigit() else None
            elif getattr(model_field, "choices", None) and raw:
                other = dict(model_field.choices).get(raw, raw)  # type: ignore[union-attr, arg-type]
            if getattr(model_field, "choices", None) and existing:
                existing = dict(model_field.choices).get(existing, existing)  # type: ignore[union-attr, arg-type]
            same = str(existing or "") == str(other or "")
            rows.append(
                {
                    "label": model_field.verbose_name,  # type: ignore[union-attr]
                    "existing": existing,
                    "other": other,
                    "same": same,
                    "choice": self[f"keep_{name}"],
                    "entered": self[f"entered_{name}"],
                }
            )
        return rows
