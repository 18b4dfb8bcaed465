"""Forms for opening a plan and changing its settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms

from naphs.access import jurisdictions_for_user, plans_managed_by
from planning.models import Jurisdiction, Plan

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
