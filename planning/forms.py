"""Forms for plans (opening one, its settings) and their assessments (a new one, the score grid, uploads)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from naphs.choices import Hazard, Sector
from naphs.forms import TextWithoutDirectionControls, form_field
from naphs.models import max_length
from naphs.permissions import Role
from naphs.uploads import SPREADSHEET_TYPES, SPREADSHEET_WHAT, UploadField
from planning.models import (
    COMMENT_MAX_CHARS,
    ActionType,
    Activity,
    AreaPriority,
    Assessment,
    CapacityLevel,
    Framework,
    GuidanceDocument,
    GuidanceType,
    Indicator,
    IndicatorScore,
    Jurisdiction,
    Plan,
    PlanVersion,
    TechnicalArea,
    validate_guidance_link,
    validate_plan_placement,
)
from planning.selectors import disease_choices, technical_areas_of
from planning.shaping import priorities_digest
from stakeholders.access import (
    area_ids_editable_by,
    countries_granted_to,
    jurisdictions_openable_by,
    plan_open_check,
    plan_parent_choices,
)

if TYPE_CHECKING:
    from planning.models import BenchmarkLibrary
    from stakeholders.models import Organization, PlanMembership, User


def _plan_fields(form: forms.ModelForm, *, user: User, jurisdiction: Jurisdiction | None, data: dict) -> None:
    """Refuse a plan placed where the person may not put it (plan_open_check, beside the parent field) or where it
    cannot sit (validate_plan_placement, beside the parent and the jurisdiction)."""
    if jurisdiction is None or "parent" not in data:
        return  # a field already refused says why
    try:
        plan_open_check(user=user, jurisdiction=jurisdiction, parent=data["parent"])
    except PermissionDenied as refusal:
        form.add_error("parent", str(refusal))
        return
    if "jurisdiction" in form.fields:
        try:
            validate_plan_placement(jurisdiction=jurisdiction, parent=data["parent"])
        except ValidationError as error:
            form.add_error(None, error)


class PlanCreateForm(TextWithoutDirectionControls, forms.ModelForm):
    """A plan opened under a plan whose secretariat the person is in, for that plan's jurisdiction or one inside
    it; or, with an administrator's grant for a country, a national plan of that country."""

    class Meta:
        model = Plan
        fields = ["title", "jurisdiction", "kind", "first_year", "last_year", "parent", "framework"]

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        parent = form_field(self, "parent", forms.ModelChoiceField)
        parent.queryset = plan_parent_choices(user=user).select_related("jurisdiction")
        parent.label = _("Parent plan")
        parent.error_messages["invalid_choice"] = _("Choose a plan whose secretariat you are in.")
        jurisdiction = form_field(self, "jurisdiction", forms.ModelChoiceField)
        jurisdiction.queryset = jurisdictions_openable_by(user).select_related("parent")
        jurisdiction.error_messages["invalid_choice"] = _(
            "Choose the jurisdiction of a plan whose secretariat you are in (or one inside it), or a country an "
            "administrator granted you."
        )
        if not countries_granted_to(user).exists():
            parent.required = True
            # A required field fails before clean() runs, so the explanation is its "required" message.
            parent.error_messages["required"] = _(
                "Choose the plan this one sits under; a national plan needs an administrator's grant for its country."
            )
            parent.help_text = _(
                "A provincial plan under the national plan, or an operational plan inside a strategic plan."
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _plan_fields(self, user=self.user, jurisdiction=data.get("jurisdiction"), data=data)
        return data


class PlanSettingsForm(TextWithoutDirectionControls, forms.ModelForm):
    """The plan's settings; `version` is the plan's version when the form was opened."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    priority_diseases = forms.MultipleChoiceField(
        label=_("Priority diseases"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The benchmark actions about these diseases join the draft where the plan raises a capacity."),
    )

    class Meta:
        model = Plan
        fields = ["title", "kind", "first_year", "last_year", "parent", "priority_diseases"]

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user, self.parent_id = user, self.instance.parent_id
        diseases = form_field(self, "priority_diseases", forms.MultipleChoiceField)
        diseases.choices = disease_choices(plan=self.instance)
        if not diseases.choices:
            del self.fields["priority_diseases"]  # no library of the plan's framework knows a disease
        parent = form_field(self, "parent", forms.ModelChoiceField)
        parent.queryset = plan_parent_choices(user=user, plan=self.instance).select_related("jurisdiction")
        parent.label = _("Parent plan")
        parent.error_messages["invalid_choice"] = _("Choose a plan of %(country)s whose secretariat you are in.") % {
            "country": self.instance.jurisdiction.country.name
        }
        if not self.is_bound:
            self.initial["version"] = self.instance.version

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "parent" in data and getattr(data["parent"], "pk", None) != self.parent_id:
            _plan_fields(self, user=self.user, jurisdiction=self.instance.jurisdiction, data=data)
        return data


class AssessmentForm(forms.ModelForm):
    """A new assessment. Its purpose: a baseline (what the plan starts from; left out, an assessment is one) or a
    follow-up (a re-assessment during implementation); an endorsed plan takes follow-ups only, and `purposes`
    narrows the choice for a page that records follow-ups alone."""

    class Meta:
        model = Assessment
        fields = ["framework", "kind", "date", "source", "purpose"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, plan: Plan, purposes: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "framework", forms.ModelChoiceField).queryset = Framework.objects.all()
        if plan.framework_id and not self.is_bound:
            self.initial["framework"] = plan.framework_id
        if purposes is None:
            purposes = [Assessment.Purpose.FOLLOW_UP] if plan.is_frozen else list(Assessment.Purpose.values)
        self.purposes = purposes
        purpose = form_field(self, "purpose", forms.ChoiceField)
        purpose.choices = [(value, label) for value, label in Assessment.Purpose.choices if value in purposes]
        purpose.required = False  # left out: a baseline assessment where both are offered, as before follow-ups
        if len(purposes) == 1:
            purpose.widget = forms.HiddenInput()
        if not self.is_bound:
            self.initial["purpose"] = purposes[0]

    def clean_purpose(self) -> str:
        # Left out: the first purpose offered (a baseline where both are, a follow-up where only it is).
        purpose = self.cleaned_data.get("purpose") or self.purposes[0]
        if purpose not in self.purposes:
            raise ValidationError(
                gettext("An endorsed plan takes follow-up assessments only; its baseline is part of what was endorsed.")
            )
        return purpose


class ScoreGridForm(forms.Form):
    """A 1-5 select per indicator, with the version of each score as shown (to refuse a stale save)."""

    def __init__(
        self, *args: Any, indicators: list[Indicator], scores: dict[int, IndicatorScore], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.indicators = indicators
        for indicator in indicators:
            score = scores.get(indicator.pk)
            blank = [] if score else [("", "–")]
            self.fields[f"i{indicator.pk}"] = forms.TypedChoiceField(
                label=f"{indicator.code} {indicator.local_name}",
                choices=blank + list(CapacityLevel.choices),
                coerce=int,
                required=False,
                empty_value=None,
                initial=score.score if score else "",
            )
            # The version of each score as shown, 0 where there was none: a score someone else saves meanwhile,
            # a first one too, makes the save a conflict instead of being overwritten.
            self.fields[f"v{indicator.pk}"] = forms.IntegerField(
                widget=forms.HiddenInput, initial=score.version if score else 0, required=bool(score), min_value=0
            )

    def rows(self) -> list[tuple[Indicator, forms.BoundField]]:
        return [(indicator, self[f"i{indicator.pk}"]) for indicator in self.indicators]

    def scores(self) -> dict[str, int | None]:
        return {i.code: self.cleaned_data.get(f"i{i.pk}") for i in self.indicators}

    def versions(self) -> dict[str, int]:
        return {i.code: self.cleaned_data.get(f"v{i.pk}") or 0 for i in self.indicators}

    def conflicted(self, codes: list[str]) -> None:
        """Mark the cells someone else saved meanwhile."""
        for indicator in self.indicators:
            if indicator.code in codes:
                self.add_error(f"i{indicator.pk}", gettext("Someone else saved this score meanwhile."))


class ScoreSheetForm(forms.Form):
    file = UploadField(
        extensions=SPREADSHEET_TYPES,
        what=SPREADSHEET_WHAT,
        label=_("Score sheet (.xlsx or .csv)"),
        help_text=_(
            "Two columns: indicator code (e.g. P1.1, or C.1.1 for SPAR) and score (1 to 5). "
            "A header row is optional; scores already entered are updated."
        ),
    )


SPAR_TABLE_TYPES = (*SPREADSHEET_TYPES, ".tsv")  # WHO publishes SPAR results as any of these
SPAR_TABLE_WHAT = _("an Excel workbook (.xlsx), a CSV file (.csv) or a tab-separated file (.tsv)")


class SparTableForm(forms.Form):
    file = UploadField(
        extensions=SPAR_TABLE_TYPES,
        what=SPAR_TABLE_WHAT,
        label=_("SPAR results table (.xlsx, .csv or .tsv)"),
        help_text=_(
            "The file as WHO publishes it, regional averages above the countries included: one row per "
            "State Party, a column per indicator headed like C.1.1, values 20, 40, 60, 80 or 100; "
            "an empty cell or 0 is not reported and left unscored."
        ),
    )
    # Left out, the page lists the table's countries to pick from (assessment_import_spar_pick); given (a script,
    # a bookmarked form), that country's row is imported at once.
    country = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)


class SparCountryForm(forms.Form):
    """The country to import of a kept SPAR results table: one of the countries its table holds."""

    country = forms.ChoiceField(
        label=_("Country"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the country whose scores to import."),
            "invalid_choice": _("“%(value)s” is not a country of this table; choose one of the list."),
        },
    )

    def __init__(self, *args: Any, countries: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["country"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(name, name) for name in countries]


# Context and priorities: narratives, the ranked priority areas, functional groups, activity dependencies -------


class ContextForm(TextWithoutDirectionControls, forms.Form):
    """One narrative: the plan's (no technical area) or one technical area's, with its version as shown (0 when
    there was none yet), so a stale save is refused."""

    technical_area = forms.ModelChoiceField(
        queryset=TechnicalArea.objects.none(), required=False, widget=forms.HiddenInput
    )
    narrative = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False, label=_("Narrative"))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "technical_area", forms.ModelChoiceField).queryset = technical_areas_of(plan)


class PrioritiesForm(TextWithoutDirectionControls, forms.Form):
    """A rank and a rationale per technical area of the plan's framework; a blank rank leaves the area out.

    `move` (a button's value: up-, down-, add- or remove- and an area id) adjusts the submitted order, so the
    buttons work without JavaScript.
    """

    def __init__(
        self, *args: Any, areas: list[TechnicalArea], priorities: dict[int, AreaPriority], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.areas = areas
        for area in areas:
            priority = priorities.get(area.pk)
            self.fields[f"rank_{area.pk}"] = forms.IntegerField(
                label=gettext("Rank of %(area)s") % {"area": area.code},
                required=False,
                min_value=1,
                initial=priority.rank if priority else None,
                widget=forms.NumberInput(attrs={"class": "rank"}),
            )
            self.fields[f"rationale_{area.pk}"] = forms.CharField(
                label=gettext("Rationale for %(area)s") % {"area": area.code},
                required=False,
                initial=priority.rationale if priority else "",
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        self.fields["move"] = forms.CharField(required=False, widget=forms.HiddenInput)
        # The list as shown, so a list someone else saved meanwhile is refused instead of replaced.
        self.fields["shown"] = forms.CharField(
            widget=forms.HiddenInput,
            initial=priorities_digest(priorities.values()),
            error_messages={"required": gettext("The form lost track of the list you opened; reload the page.")},
        )

    def rows(self) -> list[tuple[TechnicalArea, forms.BoundField, forms.BoundField]]:
        """Ranked areas by rank, then the others in framework order."""
        rows = [(area, self[f"rank_{area.pk}"], self[f"rationale_{area.pk}"]) for area in self.areas]

        def rank(row: tuple[TechnicalArea, forms.BoundField, forms.BoundField]) -> tuple[int, int]:
            value = row[1].value()
            try:
                return (0, int(value))
            except (TypeError, ValueError):
                return (1, 0)

        return sorted(rows, key=rank)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        ranked = [(data[f"rank_{a.pk}"], a) for a in self.areas if data.get(f"rank_{a.pk}") is not None]
        by_rank: dict[int, list[str]] = {}
        for rank, area in ranked:
            by_rank.setdefault(rank, []).append(area.code)
        clashes = [
            # Translators: technical areas' codes given the same rank, e.g. "P1, P2 (rank 3)".
            gettext("%(codes)s (rank %(rank)d)") % {"codes": ", ".join(codes), "rank": rank}
            for rank, codes in sorted(by_rank.items())
            if len(codes) > 1
        ]
        if clashes:
            raise forms.ValidationError(
                gettext("Two technical areas cannot share a rank: %(clashes)s.") % {"clashes": "; ".join(clashes)}
            )
        order = [area for _, area in sorted(ranked, key=lambda item: item[0])]
        verb, _, area_id = (data.get("move") or "").partition("-")
        moved = next((a for a in self.areas if str(a.pk) == area_id), None)
        if moved is not None:
            index = order.index(moved) if moved in order else None
            if verb == "add" and index is None:
                order.append(moved)
            elif verb == "remove" and index is not None:
                order.pop(index)
            elif verb == "up" and index:
                order[index - 1], order[index] = order[index], order[index - 1]
            elif verb == "down" and index is not None and index < len(order) - 1:
                order[index + 1], order[index] = order[index], order[index + 1]
        data["ranking"] = [(area, data.get(f"rationale_{area.pk}", "")) for area in order]
        return data


class FunctionalGroupForm(TextWithoutDirectionControls, forms.Form):
    """A group's name and areas; when editing, `version` is the group's version as shown (to refuse a stale
    save)."""

    name = forms.CharField(label=_("Name"), max_length=120)
    technical_areas = forms.ModelMultipleChoiceField(
        label=_("Technical areas"),
        queryset=TechnicalArea.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)

    def __init__(self, *args: Any, plan: Plan, areas: list[TechnicalArea] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = form_field(self, "technical_areas", forms.ModelChoiceField)
        field.queryset = technical_areas_of(plan)
        if areas is not None:  # already loaded: the choices come from them instead of another query
            field.choices = [(area.pk, str(area)) for area in areas]


class ActivityChoiceField(forms.ModelChoiceField):
    """An activity, named by its technical area's code and its title."""

    def label_from_instance(self, obj: Activity) -> str:
        return f"{obj.technical_area.code} · {obj.title}"


class ActivityMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Activities, each named by its technical area's code and its title."""

    def label_from_instance(self, obj: Activity) -> str:
        return f"{obj.technical_area.code} · {obj.title}"


class DependencyForm(forms.Form):
    depends_on = ActivityChoiceField(
        queryset=Activity.objects.none(), label=_("Depends on"), empty_label=_("Choose an activity of this plan")
    )

    def __init__(self, *args: Any, activity: Activity, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = form_field(self, "depends_on", forms.ModelChoiceField)
        field.queryset = (
            Activity.objects.filter(plan_id=activity.plan_id).exclude(pk=activity.pk).select_related("technical_area")
        )


# Targets and draft generation ----------------------------------------------------------------------------------


class TargetForm(forms.Form):
    """One indicator's part of the targets page's form: its target level and why; `version` is the target's
    version as shown (0 when it had none). The page prefixes each indicator's part with its id and names the
    indicator in a plain `indicator` field. The level and justification as shown go along too (hidden), so that a
    save keeps only what the person changed."""

    # An indicator without a target (and without a current level to default it from) shows no level: its row is
    # not a change until the person chooses one.
    level = forms.TypedChoiceField(
        label=_("Target level"),
        choices=[("", "—"), *CapacityLevel.choices],
        coerce=int,
        empty_value=None,
        required=False,
        show_hidden_initial=True,
    )
    justification = forms.CharField(
        label=_("Justification"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        show_hidden_initial=True,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def clean_level(self) -> int | None:
        level = self.cleaned_data.get("level")
        if level is None:
            raise forms.ValidationError(_("Choose a target level."), code="required")
        return level

    def changes_target(self) -> bool:
        """Whether the person changed this indicator's level or justification from what the page showed (a
        submission without what was shown counts as a change)."""
        return bool({"level", "justification"} & set(self.changed_data))


class GenerateForm(forms.Form):
    """Which library, which technical areas (each labelled with what a generation would add to it), and who leads
    the activities added (an organization of the plan's jurisdiction, above or below it)."""

    library: forms.ModelChoiceField[BenchmarkLibrary] = forms.ModelChoiceField(
        queryset=None, empty_label=None, label=_("Benchmark library")
    )
    technical_areas: forms.ModelMultipleChoiceField[TechnicalArea] = forms.ModelMultipleChoiceField(
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        label=_("Technical areas"),
        error_messages={"required": _("Choose at least one technical area.")},
    )
    responsible_organization: forms.ModelChoiceField[Organization] = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label=_("Responsible organization"),
        empty_label=_("None yet (name one per activity later)"),
        help_text=_("Given to every activity this generation adds; each can be changed in the activity table."),
    )

    def __init__(
        self,
        *args: Any,
        libraries: Any,
        areas: Any,
        organizations: Any,
        labels: dict[int, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "library", forms.ModelChoiceField).queryset = libraries
        form_field(self, "technical_areas", forms.ModelChoiceField).queryset = areas
        form_field(self, "responsible_organization", forms.ModelChoiceField).queryset = organizations
        if labels is not None:  # the areas are already loaded: label them without another query
            form_field(self, "technical_areas", forms.ChoiceField).choices = list(labels.items())


# Activities: the table's filters and the activity editor -----------------------------------------------------


def _activity_choice_fields(plan: Plan) -> tuple[Any, Any]:
    from stakeholders.selectors import organization_list_for_plan

    areas = technical_areas_of(plan)
    return areas, organization_list_for_plan(plan=plan)


class ActivityFilterForm(forms.Form):
    """The activity table's filters and sort order, read from GET parameters so a filtered view is a link."""

    technical_area = forms.ModelChoiceField(
        label=_("Technical area"), queryset=TechnicalArea.objects.none(), required=False, empty_label=_("All")
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=[("", _("Any")), *Activity.Rating.choices], required=False
    )
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("Any")), *Activity.Status.choices], required=False)
    responsible_organization: forms.ModelChoiceField[Organization] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=_("Any"), label=_("Responsible")
    )
    no_responsible_organization = forms.BooleanField(required=False, label=_("No responsible organization"))
    action_type = forms.ChoiceField(
        label=_("Action type"), choices=[("", _("Any")), *ActionType.choices], required=False
    )
    source = forms.ChoiceField(label=_("Source"), choices=[("", _("Any")), *Activity.Source.choices], required=False)
    q = forms.CharField(required=False, max_length=200, label=_("Title contains"))
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=[])

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        from planning.selectors import ACTIVITY_SORTS

        super().__init__(*args, **kwargs)
        areas, organizations = _activity_choice_fields(plan)
        form_field(self, "technical_area", forms.ModelChoiceField).queryset = areas
        form_field(self, "responsible_organization", forms.ModelChoiceField).queryset = organizations
        sorts = [("", gettext("Technical area"))]
        for key, label in ACTIVITY_SORTS.items():
            sorts += [(key, str(label)), (f"-{key}", gettext("%(column)s, descending") % {"column": label})]
        form_field(self, "sort", forms.ChoiceField).choices = sorts

    def filters(self) -> dict[str, Any]:
        """The valid filters (a wrong value in one leaves the others working), for activity_list_for_plan."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "", False)}


class ActivityForm(TextWithoutDirectionControls, forms.ModelForm):
    """An activity's fields; technical areas are those the person edits, organizations those of the plan's
    country. `version` is the activity's version when the form was opened (a stale save is refused)."""

    sectors = forms.MultipleChoiceField(
        choices=Sector.choices, required=False, widget=forms.CheckboxSelectMultiple, label=_("One Health sectors")
    )
    hazards = forms.MultipleChoiceField(
        label=_("Hazards"), choices=Hazard.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Activity
        fields = [
            "technical_area",
            "indicators",
            "title",
            "description",
            "source",
            "action_type",
            "responsible_organization",
            "supporting_organizations",
            "implementation_level",
            "start_date",
            "end_date",
            "impact",
            "feasibility",
            "priority",
            "sectors",
            "hazards",
            "status",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "end_date": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args: Any, plan: Plan, membership: PlanMembership, **kwargs: Any) -> None:
        kwargs.setdefault("instance", Activity(plan=plan))
        super().__init__(*args, **kwargs)
        areas, organizations = _activity_choice_fields(plan)
        editable = area_ids_editable_by(membership)
        area = form_field(self, "technical_area", forms.ModelChoiceField)
        area.queryset = areas if editable is None else areas.filter(pk__in=editable)
        area.error_messages["invalid_choice"] = gettext("Choose a technical area of this plan that you may edit.")
        indicators = form_field(self, "indicators", forms.ModelChoiceField)
        indicators.queryset = Indicator.objects.filter(framework=plan.framework_id).order_by("order", "code")
        indicators.help_text = gettext(
            "Choose indicators of the activity's technical area; others are refused (Ctrl or ⌘ to choose several)."
        )
        country = plan.jurisdiction.name
        for name in ("responsible_organization", "supporting_organizations"):
            field = form_field(self, name, forms.ModelChoiceField)
            field.queryset = organizations
            refusal = gettext("Choose an organization of %(country)s.") % {"country": country}
            field.error_messages["invalid_choice"] = refusal
            field.error_messages["invalid_pk_value"] = refusal
        if self.instance.pk is not None and not self.is_bound:
            self.initial["version"] = self.instance.version

    def clean_version(self) -> int | None:
        version = self.cleaned_data.get("version")
        if self.instance.pk is not None and version is None:
            raise forms.ValidationError(gettext("The form lost track of the version you opened; reload the page."))
        return version

    def activity_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


# Strategic to operational ----------------------------------------------------------------------------------


class OperationalPlanForm(forms.Form):
    """An operational plan (12 to 24 months) inside a strategic plan, with the activities drawn into it."""

    title = forms.CharField(label=_("Title"), max_length=250)
    first_year = forms.IntegerField(label=_("First year"))
    last_year = forms.IntegerField(
        label=_("Last year"), help_text=_("The same year for a 12-month plan, the next one for 24 months.")
    )
    activities = ActivityMultipleChoiceField(
        label=_("Activities"),
        queryset=Activity.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose the strategic activities this operational plan carries out.")},
    )

    def __init__(self, *args, strategic: Plan, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "activities", forms.ModelChoiceField).queryset = (
            Activity.objects.filter(plan=strategic)
            .select_related("technical_area")
            .order_by("technical_area__order", "pk")
        )
        if not self.is_bound:
            self.initial.update({"first_year": strategic.first_year, "last_year": strategic.first_year})


# Comments ----------------------------------------------------------------------------------------------------


class CommentForm(forms.Form):
    """One comment: plain text with light formatting, checked (and its mentions found) by planning.comments."""

    body = forms.CharField(
        label=_("Comment"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
        help_text=_("Plain text: a blank line starts a paragraph; **bold**, *italic*, [text](https://…); @username."),
    )

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan = plan

    def clean_body(self) -> str:
        from planning.comments import comment_check, comment_mentions

        text = comment_check(self.cleaned_data.get("body") or "")
        comment_mentions(plan=self.plan, text=text)
        return text


class ActivityCommentForm(CommentForm):
    """A new thread from an activity's page: about the activity, or one of what the apps above planning offer on
    it (its cost lines)."""

    about = forms.ChoiceField(label=_("About"), required=False, choices=[])
    field_order = ["about", "body"]

    def __init__(self, *args: Any, plan: Plan, activity: Activity, **kwargs: Any) -> None:
        from planning import hooks

        super().__init__(*args, plan=plan, **kwargs)
        choices = [("", gettext("This activity"))]
        for offered in hooks.comment_choices.send(activity):
            choices += offered
        form_field(self, "about", forms.ChoiceField).choices = choices
        self.activity = activity


class ThreadForm(CommentForm):
    """A new thread from the plan's comments page: about the plan, its context (or an area's), its priorities or
    a technical area. Activities and cost lines are commented on from their own pages."""

    SUBJECTS = ("plan", "context", "priorities", "area")

    subject = forms.ChoiceField(label=_("About"), choices=[])
    technical_area = forms.ModelChoiceField(
        label=_("Technical area"),
        queryset=TechnicalArea.objects.none(),
        required=False,
        empty_label=_("None (the whole plan)"),
    )
    field_order = ["subject", "technical_area", "body"]

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        from planning.models import CommentThread

        super().__init__(*args, plan=plan, **kwargs)
        labels = dict(CommentThread.Subject.choices)
        form_field(self, "subject", forms.ChoiceField).choices = [(key, labels[key]) for key in self.SUBJECTS]
        form_field(self, "technical_area", forms.ModelChoiceField).queryset = technical_areas_of(plan)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        subject, area = cleaned.get("subject"), cleaned.get("technical_area")
        if subject == "area" and area is None:
            self.add_error("technical_area", gettext("Choose the technical area the comment is about."))
        if subject in ("plan", "priorities") and area is not None:
            self.add_error("technical_area", gettext("A comment on the plan or its priorities names no area."))
        return cleaned


class ThreadStateForm(forms.Form):
    """Resolving or reopening a thread, from the version the page showed."""

    version = forms.IntegerField(label=_("Version"), min_value=1, widget=forms.HiddenInput)


class ThreadFilterForm(forms.Form):
    """The plan's comment threads filtered by state, subject, technical area, author and review round (GET)."""

    state = forms.ChoiceField(label=_("State"), required=False, choices=[])
    subject = forms.ChoiceField(label=_("About"), required=False, choices=[])
    technical_area = forms.ModelChoiceField(
        label=_("Technical area"), queryset=TechnicalArea.objects.none(), required=False, empty_label=_("All")
    )
    author: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        label=_("Started by"), queryset=None, required=False, empty_label=_("Anyone")
    )
    round = forms.TypedChoiceField(label=_("Review round"), required=False, choices=[], coerce=int, empty_value=None)

    def __init__(self, *args: Any, plan: Plan, rounds: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        """`rounds` are the plan's review rounds as (id, label), which the review rounds pass; without them the
        round filter is left out."""
        from planning.models import CommentThread
        from stakeholders.models import User

        super().__init__(*args, **kwargs)
        form_field(self, "state", forms.ChoiceField).choices = [("", _("Any")), *CommentThread.State.choices]
        form_field(self, "subject", forms.ChoiceField).choices = [("", _("Anything")), *CommentThread.Subject.choices]
        form_field(self, "technical_area", forms.ModelChoiceField).queryset = technical_areas_of(plan)
        form_field(self, "author", forms.ModelChoiceField).queryset = User.objects.filter(
            plan_memberships__plan=plan
        ).order_by("first_name", "last_name", "username")
        if rounds:
            form_field(self, "round", forms.TypedChoiceField).choices = [("", _("Any")), *rounds]
        else:
            del self.fields["round"]

    def filters(self) -> dict[str, Any]:
        """The valid filters for thread_list_for_plan (a wrong value in one leaves the others working)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        names = {"round": "review_round_id"}
        return {
            names.get(name, name): value
            for name, value in self.cleaned_data.items()
            if value not in (None, "") and name not in self.errors
        }


# Review rounds ------------------------------------------------------------------------------------------------


class ReviewRoundOpenForm(forms.Form):
    """Opening a review round: the reviewers (members with the reviewer role offered first, then the other members
    but viewers), the due date and a message to them. Any member of the plan is accepted here so that the service
    refuses a viewer by name; anyone else is no choice at all."""

    reviewers: forms.ModelMultipleChoiceField[User] = forms.ModelMultipleChoiceField(
        label=_("Reviewers"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one reviewer."),
            "invalid_choice": _("%(value)s is not a member of this plan: invite members only."),
            "invalid_pk_value": _("“%(pk)s” names no member of this plan."),
        },
    )
    due_on = forms.DateField(
        label=_("Due date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The day by which reviewers give their verdict: today or later."),
    )
    message = forms.CharField(
        label=_("Message to the reviewers"),
        required=False,
        max_length=COMMENT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    plan_version: forms.ModelChoiceField[PlanVersion] = forms.ModelChoiceField(
        label=_("What is reviewed"),
        queryset=None,
        required=False,
        empty_label=_("The draft as it is now"),
        error_messages={"invalid_choice": _("No such version of this plan.")},
    )

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        from planning.reviews import reviewers_offered
        from stakeholders.models import User

        super().__init__(*args, **kwargs)
        versions = PlanVersion.objects.filter(plan=plan).exclude(kind=PlanVersion.Kind.REVIEW).order_by("-created_at")
        form_field(self, "plan_version", forms.ModelChoiceField).queryset = versions.only("pk", "label", "plan_id")
        field = form_field(self, "reviewers", forms.ModelMultipleChoiceField)
        field.queryset = User.objects.filter(plan_memberships__plan=plan)
        offered = reviewers_offered(plan=plan)
        field.widget.choices = [
            (member.user.pk, gettext("%(name)s (%(role)s)") % {"name": member.user, "role": member.get_role_display()})
            for member in offered
        ]
        self.initial.setdefault("reviewers", [m.user.pk for m in offered if m.role == Role.REVIEWER])


class ReviewVerdictForm(forms.Form):
    """A reviewer's verdict in a round, from the version of their invitation they read."""

    verdict = forms.ChoiceField(label=_("Verdict"), choices=[], widget=forms.RadioSelect)
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        max_length=COMMENT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Required when you request changes: say which."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from planning.models import ReviewInvitation

        super().__init__(*args, **kwargs)
        form_field(self, "verdict", forms.ChoiceField).choices = ReviewInvitation.Verdict.choices


class ReviewRoundCloseForm(forms.Form):
    """Closing a round: where the plan goes next, and a note."""

    outcome = forms.ChoiceField(label=_("The plan goes"), choices=[], widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("Closing note"),
        required=False,
        max_length=COMMENT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from planning.models import ReviewRound

        super().__init__(*args, **kwargs)
        form_field(self, "outcome", forms.ChoiceField).choices = ReviewRound.Outcome.choices


class GuidanceForm(TextWithoutDirectionControls, forms.Form):
    """National guidance: what it is, where it is, and the technical areas (of the plan's framework) and activities
    (of this plan) it helps with. When editing, `version` is the document's version as shown."""

    title = forms.CharField(label=_("Title"), max_length=max_length(GuidanceDocument, "title"))
    reference_type = forms.ChoiceField(label=_("Type"), choices=GuidanceType.choices)
    link = forms.CharField(
        label=_("Link"),
        max_length=max_length(GuidanceDocument, "link"),
        validators=[validate_guidance_link],
        help_text=_("Where the document opens: an address starting with https:// or http://."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    author = forms.CharField(label=_("Author"), required=False, max_length=max_length(GuidanceDocument, "author"))
    # Translators: the date of a guidance document, as published (often a year).
    date = forms.CharField(label=_("Date"), required=False, max_length=max_length(GuidanceDocument, "date"))
    relevant_pages = forms.CharField(
        label=_("Relevant pages"), required=False, max_length=max_length(GuidanceDocument, "relevant_pages")
    )
    technical_areas = forms.ModelMultipleChoiceField(
        label=_("Technical areas"),
        queryset=TechnicalArea.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Technical area %(value)s is not an area of this plan's framework.")},
    )
    activities = ActivityMultipleChoiceField(
        label=_("Activities"),
        queryset=Activity.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("Activity %(value)s is not an activity of this plan.")},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "technical_areas", forms.ModelChoiceField).queryset = technical_areas_of(plan)
        form_field(self, "activities", forms.ModelChoiceField).queryset = (
            Activity.objects.filter(plan=plan).select_related("technical_area").order_by("technical_area__order", "pk")
        )

    def guidance_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data
