"""Forms for plans (opening one, its settings) and their assessments (a new one, the score grid, uploads)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms

from naphs.access import jurisdictions_for_user, plans_managed_by
from planning.models import Assessment, CapacityLevel, Framework, Indicator, IndicatorScore, Jurisdiction, Plan

if TYPE_CHECKING:
    from stakeholders.models import User


class PlanCreateForm(forms.ModelForm):
    """Administrators (permission "add plan") open national plans; a plan's secretariat opens plans under it."""

    class Meta:
        model = Plan
        fields = ["title", "jurisdiction", "kind", "first_year", "last_year", "parent", "framework"]

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.may_open_top_level = user.has_perm("planning.add_plan")
        self.fields["parent"].queryset = plans_managed_by(user).select_related("jurisdiction")
        self.fields["parent"].label = "Parent plan"
        jurisdictions = Jurisdiction.objects.all() if self.may_open_top_level else jurisdictions_for_user(user)
        self.fields["jurisdiction"].queryset = jurisdictions.select_related("parent")
        if not self.may_open_top_level:
            self.fields["parent"].required = True
            # A required field fails before any clean_parent() runs, so the explanation is its "required" message.
            self.fields["parent"].error_messages["required"] = (
                "Choose the plan this one sits under; only administrators open national plans."
            )
            self.fields[
                "parent"
            ].help_text = "A provincial plan under the national plan, or an operational plan inside a strategic plan."


class PlanSettingsForm(forms.ModelForm):
    """The plan's settings; `version` is the plan's version when the form was opened."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = Plan
        fields = ["title", "kind", "first_year", "last_year", "parent"]

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        managed = plans_managed_by(user).exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = managed.select_related("jurisdiction")
        self.fields["parent"].label = "Parent plan"
        if not self.is_bound:
            self.initial["version"] = self.instance.version


class AssessmentForm(forms.ModelForm):
    class Meta:
        model = Assessment
        fields = ["framework", "kind", "date", "source"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["framework"].queryset = Framework.objects.all()
        if plan.framework_id and not self.is_bound:
            self.initial["framework"] = plan.framework_id


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
                label=f"{indicator.code} {indicator.name}",
                choices=blank + list(CapacityLevel.choices),
                coerce=int,
                required=False,
                empty_value=None,
                initial=score.score if score else "",
            )
            if score:
                self.fields[f"v{indicator.pk}"] = forms.IntegerField(widget=forms.HiddenInput, initial=score.version)

    def rows(self) -> list[tuple[Indicator, forms.BoundField]]:
        return [(indicator, self[f"i{indicator.pk}"]) for indicator in self.indicators]

    def scores(self) -> dict[str, int | None]:
        return {i.code: self.cleaned_data.get(f"i{i.pk}") for i in self.indicators}

    def versions(self) -> dict[str, int]:
        return {
            i.code: self.cleaned_data[f"v{i.pk}"]
            for i in self.indicators
            if self.cleaned_data.get(f"v{i.pk}") is not None
        }


class ScoreSheetForm(forms.Form):
    file = forms.FileField(
        label="Score sheet (.xlsx or .csv)",
        help_text="Two columns: indicator code (e.g. P1.1, or C.1.1 for SPAR) and score (1 to 5). "
        "A header row is optional; scores already entered are updated.",
    )


class SparTableForm(forms.Form):
    file = forms.FileField(
        label="SPAR results table (.xlsx or .csv)",
        help_text="As WHO publishes it: one row per State Party, a column per indicator headed like C.1.1, "
        "values 20, 40, 60, 80 or 100.",
    )
    country = forms.CharField(max_length=200, help_text="The country's name as the table writes it.")
