"""Costing pages: the plan's stored versions, saving a named one, and the comparison of any two (or of one with the
current draft). Every member reads them; the secretariat saves named versions."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from costing.comparison import DRAFT, plan_versions_compare
from costing.versions import plan_version_list
from naphs.forms import form_errors_from
from naphs.permissions import Permission
from naphs.views import require_form_methods
from planning.models import PlanVersion
from planning.versions import VERSION_LABEL_MAX, plan_version_save
from stakeholders.access import SignedInRequest, plan_get_for_user, plan_writable_check


class VersionSaveForm(forms.Form):
    label = forms.CharField(
        label=_("Name of the version"),
        max_length=VERSION_LABEL_MAX,
        help_text=_("For example “before the validation workshop”."),
    )


class CompareForm(forms.Form):
    """Which two sides to compare: the current draft or a stored version of the plan, each."""

    before = forms.ChoiceField(label=_("Before"))
    after = forms.ChoiceField(label=_("After"))

    def __init__(self, *args, versions: list[PlanVersion], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [(DRAFT, gettext("Current draft")), *((str(version.pk), version.label) for version in versions)]
        for name in ("before", "after"):
            self.fields[name].choices = choices  # type: ignore[attr-defined]  # ChoiceField


@require_form_methods
def plan_versions(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Every stored version of the plan; the secretariat saves a named version of the draft here (POST). An endorsed
    plan's content is its endorsed version: saving another copy of it is refused, as every write is."""
    need = Permission.MANAGE if request.method == "POST" else Permission.VIEW
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=need)
    form = VersionSaveForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        plan_writable_check(plan)
        status = 422
        if form.is_valid():
            try:
                version = plan_version_save(plan=plan, by=request.user, label=form.cleaned_data["label"])
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, gettext("Version “%(label)s” saved.") % {"label": version.label})
                return redirect("plan_versions", plan_id=plan.pk)
    versions = list(plan_version_list(plan))
    context = {
        "plan": plan,
        "membership": membership,
        "versions": versions,
        "form": form,
        "may_save": membership.can_manage and not plan.is_frozen,
        "frozen_note": plan.is_frozen and membership.role_allows(Permission.MANAGE),
        "compare_form": CompareForm(versions=versions, initial={"before": versions[0].pk if versions else DRAFT}),
        "draft": DRAFT,
    }
    return render(request, "costing/versions/list.html", context, status=status)


@require_safe
def version_compare(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Two sides of the plan compared (?before=<id|draft>&after=<id|draft>): any member reads it. A version of
    another plan, or an id that names none, is 404; a side left out is a 400 that says which."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    before, after = (request.GET.get(name, "").strip() for name in ("before", "after"))
    context: dict[str, object] = {"plan": plan, "membership": membership}
    missing = [name for name, value in (("before", before), ("after", after)) if not value]
    if missing:
        context["problem"] = (
            gettext("Choose the version to compare from (“before”) and the one to compare with (“after”).")
            if len(missing) == 2
            else gettext("Choose the version to compare from (“before”).")
            if missing == ["before"]
            else gettext("Choose the version to compare with (“after”).")
        )
        return render(request, "costing/versions/compare.html", context, status=400)
    context["comparison"] = plan_versions_compare(plan=plan, before=before, after=after)
    return render(request, "costing/versions/compare.html", context)


urlpatterns = [
    path("plans/<int:plan_id>/versions/", plan_versions, name="plan_versions"),
    path("plans/<int:plan_id>/versions/compare/", version_compare, name="version_compare"),
]
