"""HTML views for plans: the home page, opening a plan, its overview and its settings."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from naphs.access import plan_get_for_user, plans_for_user, plans_managed_by
from naphs.errors import EditConflict
from naphs.permissions import Permission
from naphs.views import require_form_methods
from planning.forms import PlanCreateForm, PlanSettingsForm
from planning.services import plan_create, plan_update
from stakeholders.selectors import secretariat_size


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The plans the person belongs to, with their role in each."""
    memberships = request.user.plan_memberships.select_related("plan__jurisdiction__country", "plan__parent").order_by(
        "plan__jurisdiction__country__name", "plan__parent_id", "-plan__first_year", "plan__title"
    )
    may_open = request.user.has_perm("planning.add_plan") or plans_managed_by(request.user).exists()
    return render(request, "planning/home.html", {"memberships": memberships, "may_open_plan": may_open})


@require_form_methods
def plan_new(request: HttpRequest) -> HttpResponse:
    initial = {}
    if parent_id := request.GET.get("parent", "").strip():
        parent = plans_for_user(request.user).filter(pk=parent_id if parent_id.isdigit() else None).first()
        if parent is not None:
            initial = {
                "parent": parent,
                "jurisdiction": parent.jurisdiction,
                "first_year": parent.first_year,
                "last_year": parent.last_year,
            }
    form = PlanCreateForm(request.POST if request.method == "POST" else None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            plan = plan_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Plan “{plan}” opened. You are its secretariat lead: add the other members.")
            return redirect("members", plan_id=plan.pk)
    return render(request, "planning/plan_new.html", {"form": form})


@require_safe
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, plan_id=plan_id)
    children = plans_for_user(request.user).filter(parent=plan).select_related("jurisdiction")
    context = {
        "plan": plan,
        "membership": plan.membership,
        "children": children,
        "other_children": plan.children.exclude(pk__in=children.values("pk")).count(),
        "secretariat_size": secretariat_size(plan=plan),
    }
    return render(request, "planning/plan_detail.html", context)


@require_form_methods
def plan_settings(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    form = PlanSettingsForm(
        request.POST if request.method == "POST" else None, instance=copy.copy(plan), user=request.user
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            plan_update(plan=plan, by=request.user, version=form.cleaned_data["version"], **fields)
        except EditConflict as conflict:
            form.add_error(None, str(conflict))
            status = 409
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Plan settings saved.")
            return redirect("plan_detail", plan_id=plan.pk)
    return render(
        request,
        "planning/plan_settings.html",
        {"plan": plan, "membership": plan.membership, "form": form},
        status=status,
    )
