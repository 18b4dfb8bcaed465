"""Forms of the review pages: a review's record, a decision on one activity, and carrying activities over."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from monitoring.models import ReportingPeriod, Review, ReviewDecision
from monitoring.reviews import carry_over_candidates, carry_over_default, carry_over_targets, review_members
from naphs.forms import TextWithoutDirectionControls, form_field
from planning.models import Activity, Plan
from stakeholders.models import User

if TYPE_CHECKING:
    from stakeholders.models import User as Person


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class MemberChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


class PeriodChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.label} ({obj.get_state_display()})"


class ReviewForm(TextWithoutDirectionControls, forms.Form):
    """What the secretariat records of a review. The period is chosen once: another period is another review."""

    kind = forms.ChoiceField(choices=Review.Kind.choices, label=_("Kind of review"))
    period: forms.ModelChoiceField[ReportingPeriod] = PeriodChoiceField(
        queryset=None,
        label=_("Reporting period"),
        empty_label=_("Choose the period reviewed"),
        help_text=_("The progress shown is each activity's latest report up to and including this period."),
    )
    held_on = forms.DateField(widget=DateInput(), label=_("Held on"))
    participant_members: forms.ModelMultipleChoiceField[User] = MemberChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Members of the plan who took part"),
    )
    participants = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=10000,
        label=_("Other participants"),
        help_text=_("Names and organizations of the others who took part."),
    )
    decisions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=10000,
        label=_("Decisions"),
        help_text=_("What the review decided; decisions on single activities are recorded on the review's page."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, plan: Plan, review: Review | None = None, **kwargs: Any) -> None:
        if review is not None and not args and "data" not in kwargs:
            kwargs["initial"] = {
                "kind": review.kind,
                "period": review.period_id,
                "held_on": review.held_on,
                "participant_members": [member.pk for member in review.participant_members.all()],
                "participants": review.participants,
                "decisions": review.decisions,
                "version": review.version,
            }
        super().__init__(*args, **kwargs)
        period = form_field(self, "period", forms.ModelChoiceField)
        period.queryset = ReportingPeriod.objects.filter(plan=plan).order_by("starts_on")
        if review is not None:
            period.disabled = True
            period.initial = review.period_id
            period.help_text = _("Set when the review was recorded; another period is another review.")
        form_field(self, "participant_members", forms.ModelMultipleChoiceField).queryset = review_members(plan=plan)


class DecisionForm(TextWithoutDirectionControls, forms.Form):
    """The review's decision on one activity."""

    decision = forms.ChoiceField(choices=ReviewDecision.Decision.choices, widget=forms.RadioSelect, label=_("Decision"))
    new_start_date = forms.DateField(
        widget=DateInput(), required=False, label=_("New start date"), help_text=_("When re-scheduled.")
    )
    new_end_date = forms.DateField(
        widget=DateInput(), required=False, label=_("New end date"), help_text=_("When re-scheduled.")
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000, label=_("Note"))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, decision: ReviewDecision | None = None, **kwargs: Any) -> None:
        if not args and "data" not in kwargs:
            kwargs["initial"] = {"version": 0}
            if decision is not None:
                kwargs["initial"] = {
                    "decision": decision.decision,
                    "new_start_date": decision.new_start_date,
                    "new_end_date": decision.new_end_date,
                    "note": decision.note,
                    "version": decision.version,
                }
        super().__init__(*args, **kwargs)


class ActivityChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.technical_area.code} · {obj.title}"


class CarryOverForm(forms.Form):
    """Which operational plan an annual review carries activities into, and which activities (those unfinished at
    the review, but those it dropped, to begin with)."""

    plan: forms.ModelChoiceField[Plan] = forms.ModelChoiceField(
        queryset=None, label=_("Operational plan"), empty_label=_("Choose the operational plan")
    )
    activities: forms.ModelMultipleChoiceField[Activity] = ActivityChoiceField(
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        label=_("Activities to carry over"),
        error_messages={"required": _("Choose at least one activity to carry over.")},
    )

    def __init__(self, *args: Any, review: Review, user: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        targets = list(carry_over_targets(review=review, user=user))
        plan = form_field(self, "plan", forms.ModelChoiceField)
        plan.queryset = carry_over_targets(review=review, user=user)
        activities = form_field(self, "activities", forms.ModelMultipleChoiceField)
        activities.queryset = (
            Activity.objects.filter(plan=review.plan)
            .select_related("technical_area")
            .order_by("technical_area__order", "technical_area__code", "pk")
        )
        self.targets = targets
        if not self.is_bound:
            default = carry_over_default(review=review, targets=targets)
            self.initial.setdefault("plan", default.pk if default else None)
            self.initial.setdefault("activities", carry_over_candidates(review=review))
