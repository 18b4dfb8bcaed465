"""HTML views for plans: the home page, opening a plan, its overview and settings, and its assessments."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from naphs.access import plan_get_for_user, plans_for_user, plans_managed_by
from naphs.errors import EditConflict
from naphs.permissions import Permission
from naphs.spreadsheets import ImportRefused
from naphs.views import require_form_methods
from planning.assessments import assessment_create, scores_import, scores_import_spar_table, scores_set
from planning.forms import (
    AssessmentForm,
    PlanCreateForm,
    PlanSettingsForm,
    ScoreGridForm,
    ScoreSheetForm,
    SparTableForm,
)
from planning.models import Assessment, Plan
from planning.selectors import assessment_grid, assessment_list_for_plan, plan_overview, provincial_comparison
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
        "overview": plan_overview(plan=plan),
        "comparison": provincial_comparison(plan=plan) if not plan.is_provincial else None,
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


def _assessment(plan: Plan, assessment_id: int) -> Assessment:
    assessment = Assessment.objects.select_related("framework").filter(plan=plan, pk=assessment_id).first()
    if assessment is None:
        raise Http404("No such assessment.")
    assessment.plan = plan
    return assessment


@require_form_methods
def assessments(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The plan's assessments; the secretariat adds one here."""
    need = Permission.MANAGE if request.method == "POST" else Permission.VIEW
    plan = plan_get_for_user(user=request.user, plan_id=plan_id, need=need)
    form = AssessmentForm(request.POST if request.method == "POST" else None, plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            assessment = assessment_create(plan=plan, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Assessment “{assessment}” added: enter or import its scores.")
            return redirect("assessment_detail", plan_id=plan.pk, assessment_id=assessment.pk)
    context = {
        "plan": plan,
        "membership": plan.membership,
        "assessments": assessment_list_for_plan(plan=plan),
        "form": form,
    }
    return render(request, "planning/assessments.html", context)


def _detail(request: HttpRequest, plan: Plan, assessment: Assessment, **forms: object) -> HttpResponse:
    indicators, scores = assessment_grid(assessment=assessment)
    context = {
        "plan": plan,
        "membership": plan.membership,
        "assessment": assessment,
        "grid": forms.get("grid") or ScoreGridForm(indicators=indicators, scores=scores),
        "sheet_form": forms.get("sheet_form") or ScoreSheetForm(),
        "spar_form": forms.get("spar_form") or SparTableForm(initial={"country": plan.jurisdiction.country.name}),
        "scored": len(scores),
    }
    return render(request, "planning/assessment_detail.html", context, status=forms.get("status", 200))


@require_form_methods
def assessment_detail(request: HttpRequest, plan_id: int, assessment_id: int) -> HttpResponse:
    """The score grid: every indicator by technical area, a level from 1 to 5 each, one Save."""
    need = Permission.MANAGE if request.method == "POST" else Permission.VIEW
    plan = plan_get_for_user(user=request.user, plan_id=plan_id, need=need)
    assessment = _assessment(plan, assessment_id)
    if request.method != "POST":
        return _detail(request, plan, assessment)
    indicators, scores = assessment_grid(assessment=assessment)
    grid = ScoreGridForm(request.POST, indicators=indicators, scores=scores)
    status = 200
    if grid.is_valid():
        try:
            changes = scores_set(assessment=assessment, by=request.user, scores=grid.scores(), versions=grid.versions())
        except EditConflict as conflict:
            grid.add_error(None, str(conflict))
            status = 409
        except ValidationError as error:
            grid.add_error(None, error)
        else:
            messages.success(request, f"{len(changes)} score{'s' if len(changes) != 1 else ''} saved.")
            return redirect("assessment_detail", plan_id=plan.pk, assessment_id=assessment.pk)
    return _detail(request, plan, assessment, grid=grid, status=status)


@require_POST
def assessment_import(request: HttpRequest, plan_id: int, assessment_id: int) -> HttpResponse:
    """Import scores from a two-column sheet (indicator code, score)."""
    plan = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    assessment = _assessment(plan, assessment_id)
    form = ScoreSheetForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            changes = scores_import(assessment=assessment, by=request.user, upload=upload, filename=upload.name)
        except ImportRefused as refused:
            for problem in refused.problems:
                form.add_error("file", str(problem))
        else:
            messages.success(request, f"Imported {upload.name}: {len(changes)} score(s) added or changed.")
            return redirect("assessment_detail", plan_id=plan.pk, assessment_id=assessment.pk)
    return _detail(request, plan, assessment, sheet_form=form)


@require_POST
def assessment_import_spar(request: HttpRequest, plan_id: int, assessment_id: int) -> HttpResponse:
    """Import one country's scores from the table in which WHO publishes SPAR results."""
    plan = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    assessment = _assessment(plan, assessment_id)
    form = SparTableForm(request.POST, request.FILES)
    if form.is_valid():
        upload, country = form.cleaned_data["file"], form.cleaned_data["country"]
        try:
            changes = scores_import_spar_table(
                assessment=assessment, by=request.user, upload=upload, filename=upload.name, country=country
            )
        except ImportRefused as refused:
            for problem in refused.problems:
                form.add_error("file", str(problem))
        else:
            messages.success(request, f"Imported {country}'s SPAR scores: {len(changes)} score(s) added or changed.")
            return redirect("assessment_detail", plan_id=plan.pk, assessment_id=assessment.pk)
    return _detail(request, plan, assessment, spar_form=form)
