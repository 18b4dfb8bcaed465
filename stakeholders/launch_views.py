"""Pages of the plan's stakeholder engagement: launch. The launch checklist, computed now, each item saying what was
found and linking to where it is worked on; every member reads it. The secretariat (Permission.ENGAGE) launches the
endorsed version: the date, the event, notes, and a confirmation (with an optional note) of each item not met. Once
launched, the page shows the launch: when, at which event, by whom, the checklist as it stood and the reporting
period opened."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from naphs.forms import form_errors_from
from naphs.permissions import Permission
from naphs.views import require_form_methods
from planning.models import Plan
from stakeholders.access import SignedInRequest, plan_get_for_user
from stakeholders.hooks import LaunchCheck
from stakeholders.launch import (
    NOTE_MAX,
    launch_checklist,
    launch_events_for_plan,
    launch_list_for_plan,
    launch_of_current_version,
    plan_launch,
    unmet_keys,
)
from stakeholders.models import EngagementEvent, Launch

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class LaunchForm(forms.Form):
    """The launch: its date, its event (one of the plan's, launch events first), notes, and a confirmation with an
    optional note for each item of the checklist not met."""

    launched_on = forms.DateField(label=_("Launch date"), widget=DATE_WIDGET)
    event = forms.ModelChoiceField(
        queryset=EngagementEvent.objects.none(),
        required=False,
        label=pgettext_lazy("engagement event", "Event"),
        help_text=_("The event at which the plan was launched, among the plan's engagement events."),
        error_messages={"invalid_choice": _("Choose one of this plan's events.")},
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("Notes"))

    def __init__(self, *args: Any, plan: Plan, items: list[LaunchCheck], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"launched_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        event = self.fields["event"]
        assert isinstance(event, forms.ModelChoiceField)
        event.queryset = launch_events_for_plan(plan=plan)
        self.unmet = [item for item in items if item.key in unmet_keys(items)]
        for item in self.unmet:
            self.fields[f"confirm_{item.key}"] = forms.BooleanField(
                required=False,
                label=gettext("I confirm launching without “%(item)s”") % {"item": item.name},
            )
            self.fields[f"note_{item.key}"] = forms.CharField(
                required=False,
                max_length=NOTE_MAX,
                label=gettext("Note on “%(item)s”") % {"item": item.name},
            )

    def confirmation_rows(self) -> list[tuple[LaunchCheck, forms.BoundField, forms.BoundField]]:
        return [(item, self[f"confirm_{item.key}"], self[f"note_{item.key}"]) for item in self.unmet]

    def confirmed(self) -> dict[str, str]:
        data = self.cleaned_data
        return {item.key: data.get(f"note_{item.key}", "") for item in self.unmet if data.get(f"confirm_{item.key}")}


def _context(plan: Plan, membership: Any, form: LaunchForm | None, items: list[LaunchCheck]) -> dict[str, Any]:
    launches = launch_list_for_plan(plan=plan)
    launched = launch_of_current_version(plan, launches)
    return {
        "plan": plan,
        "membership": membership,
        "items": items,
        "met": sum(1 for item in items if item.met),
        "launched": launched,
        "launches": launches,
        "form": form if launched is None and plan.is_frozen else None,
        "may_launch": membership.role_allows(Permission.ENGAGE),
    }


@require_form_methods
def plan_launch_page(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The checklist and the launches; POST launches (the secretariat)."""
    need = Permission.ENGAGE if request.method == "POST" else Permission.VIEW
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=need)
    items = launch_checklist(plan)
    may_launch = membership.role_allows(Permission.ENGAGE)
    form = (
        LaunchForm(request.POST if request.method == "POST" else None, plan=plan, items=items) if may_launch else None
    )
    status = 200
    if request.method == "POST" and form is not None:
        status = 422
        if form.is_valid():
            try:
                launch = plan_launch(
                    plan=plan,
                    by=request.user,
                    launched_on=form.cleaned_data["launched_on"],
                    event=form.cleaned_data["event"],
                    notes=form.cleaned_data["notes"],
                    confirmed=form.confirmed(),
                )
            except ValidationError as error:  # PlanNotEndorsed too; unconfirmed items above the form
                form_errors_from(form, error)
            else:
                messages.success(request, _launched_message(launch))
                return redirect("plan_launch", plan_id=plan.pk)
        context = _context(plan, membership, form, items)
        context["form"] = form  # the refusal is shown with the form, whatever the plan's state
        return render(request, "stakeholders/launch/page.html", context, status=status)
    return render(request, "stakeholders/launch/page.html", _context(plan, membership, form, items), status=status)


def _launched_message(launch: Launch) -> str:
    period = launch.opened.get("period")
    if period and not period.get("already_open"):
        return gettext("Version %(number)d launched; the reporting period %(period)s is open for reports.") % {
            "number": launch.number,
            "period": period["label"],
        }
    return gettext("Version %(number)d launched.") % {"number": launch.number}


urlpatterns: list[URLPattern] = [
    path("plans/<int:plan_id>/launch/", plan_launch_page, name="plan_launch"),
]
