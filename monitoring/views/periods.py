"""Monitoring pages: the monitoring home (the open periods, what is due, and how much of it has been reported) and
the reporting periods, which every member reads and the secretariat sets, opens, closes and reopens."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST, require_safe

from monitoring.period_forms import PeriodForm, PeriodsGenerateForm
from monitoring.periods import (
    monitoring_overview,
    period_close,
    period_create,
    period_delete,
    period_get,
    period_open,
    period_reopen,
    period_update,
    periods_for_plan,
    periods_generate,
)
from naphs.errors import EditConflict
from naphs.forms import form_errors_from, form_refused, whole_number
from naphs.permissions import Permission
from naphs.views import require_form_methods
from planning.models import Plan
from stakeholders.access import SignedInRequest, plan_get_for_user
from stakeholders.models import PlanMembership


@require_safe
def monitoring(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The open periods, their due dates and the days left; for a person who reports, how many of their activities
    have been reported in each; for everyone else the whole plan's."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    open_periods, own = monitoring_overview(plan=plan, membership=membership)
    context = {
        "plan": plan,
        "membership": membership,
        "open_periods": open_periods,
        "own": own,
        "may_report": membership.role_allows(Permission.REPORT_PROGRESS),
    }
    return render(request, "monitoring/home.html", context)


def _list(
    request: SignedInRequest,
    plan: Plan,
    membership: PlanMembership,
    *,
    generate_form: PeriodsGenerateForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "plan": plan,
        "membership": membership,
        "may_manage": membership.can_manage,
        "periods": list(periods_for_plan(plan=plan)),
        "generate_form": generate_form or PeriodsGenerateForm(),
        "error": error,
    }
    return render(request, "monitoring/periods/list.html", context, status=status)


@require_safe
def reporting_periods(request: SignedInRequest, plan_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    return _list(request, plan, membership)


@require_POST
def reporting_periods_generate(request: SignedInRequest, plan_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    form = PeriodsGenerateForm(request.POST)
    if form.is_valid():
        try:
            added = periods_generate(
                plan=plan, by=request.user, span=form.cleaned_data["span"], due_days=form.cleaned_data["due_days"]
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            if added:
                messages.success(
                    request,
                    ngettext("%(count)d reporting period added.", "%(count)d reporting periods added.", len(added))
                    % {"count": len(added)},
                )
            else:
                messages.info(request, gettext("The plan has all these periods already: nothing was added."))
            return redirect("reporting_periods", plan_id=plan.pk)
    return _list(request, plan, membership, generate_form=form, status=422)


def _form_page(
    request: SignedInRequest, plan: Plan, membership: PlanMembership, form: PeriodForm, period: Any, status: int
) -> HttpResponse:
    context = {"plan": plan, "membership": membership, "form": form, "period": period}
    return render(request, "monitoring/periods/form.html", context, status=status)


@require_form_methods
def reporting_period_new(request: SignedInRequest, plan_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    if request.method != "POST":
        return _form_page(request, plan, membership, PeriodForm(), None, 200)
    form = PeriodForm(request.POST)
    if form.is_valid():
        try:
            period = period_create(plan=plan, by=request.user, fields=form.period_fields())
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, gettext("Reporting period %(period)s added.") % {"period": period.label})
            return redirect("reporting_periods", plan_id=plan.pk)
    return _form_page(request, plan, membership, form, None, 422)


@require_form_methods
def reporting_period_edit(request: SignedInRequest, plan_id: int, period_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    period = period_get(plan=plan, period_id=period_id)
    if request.method != "POST":
        return _form_page(request, plan, membership, PeriodForm(period=period), period, 200)
    form = PeriodForm(request.POST, period=period)
    status = 422
    if form.is_valid():
        version = form.cleaned_data["version"]
        try:
            if version is None:
                raise ValidationError(gettext("The form lost the version it was opened at; reload the page."))
            period_update(period=period, by=request.user, version=version, fields=form.period_fields())
        except (EditConflict, ValidationError) as refusal:
            status = form_refused(form, refusal)
        else:
            messages.success(request, gettext("Reporting period %(period)s saved.") % {"period": period.label})
            return redirect("reporting_periods", plan_id=plan.pk)
    return _form_page(request, plan, membership, form, period, status)


@require_form_methods
def reporting_period_delete(request: SignedInRequest, plan_id: int, period_id: int) -> HttpResponse:
    """Asks first (GET), deletes on POST; a period changed since the question was asked is kept."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    period = period_get(plan=plan, period_id=period_id)
    error, status = "", 200
    if request.method == "POST":
        try:
            period_delete(period=period, by=request.user, version=_version(request))
        except EditConflict as conflict:
            error, status = str(conflict), 409
        except ValidationError as refusal:
            error, status = " ".join(refusal.messages), 422
        else:
            messages.success(request, gettext("Reporting period %(period)s deleted.") % {"period": period.label})
            return redirect("reporting_periods", plan_id=plan.pk)
    context = {"plan": plan, "membership": membership, "period": period, "error": error}
    return render(request, "monitoring/periods/delete.html", context, status=status)


def _version(request: SignedInRequest) -> int:
    version = whole_number(request.POST.get("version", ""))
    if version is None:
        raise ValidationError(gettext("The form lost the version it was opened at; reload the page."))
    return version


def _move(request: SignedInRequest, plan_id: int, period_id: int, move: Any, done: str) -> HttpResponse:
    """Open, close or reopen the period as the person last saw it; the list again, with the refusal, otherwise."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    period = period_get(plan=plan, period_id=period_id)
    try:
        move(period=period, by=request.user, version=_version(request))
    except EditConflict as conflict:
        return _list(request, plan, membership, error=str(conflict), status=409)
    except ValidationError as refusal:
        return _list(request, plan, membership, error=" ".join(refusal.messages), status=422)
    messages.success(request, done % {"period": period.label})
    return redirect("reporting_periods", plan_id=plan.pk)


@require_POST
def reporting_period_open(request: SignedInRequest, plan_id: int, period_id: int) -> HttpResponse:
    return _move(request, plan_id, period_id, period_open, gettext("Reporting period %(period)s is open for reports."))


@require_POST
def reporting_period_close(request: SignedInRequest, plan_id: int, period_id: int) -> HttpResponse:
    return _move(
        request, plan_id, period_id, period_close, gettext("Reporting period %(period)s is closed: no more reports.")
    )


@require_POST
def reporting_period_reopen(request: SignedInRequest, plan_id: int, period_id: int) -> HttpResponse:
    return _move(
        request, plan_id, period_id, period_reopen, gettext("Reporting period %(period)s is open for reports again.")
    )


urlpatterns = [
    path("plans/<int:plan_id>/monitoring/", monitoring, name="monitoring"),
    path("plans/<int:plan_id>/monitoring/periods/", reporting_periods, name="reporting_periods"),
    path(
        "plans/<int:plan_id>/monitoring/periods/generate/",
        reporting_periods_generate,
        name="reporting_periods_generate",
    ),
    path("plans/<int:plan_id>/monitoring/periods/new/", reporting_period_new, name="reporting_period_new"),
    path(
        "plans/<int:plan_id>/monitoring/periods/<int:period_id>/", reporting_period_edit, name="reporting_period_edit"
    ),
    path(
        "plans/<int:plan_id>/monitoring/periods/<int:period_id>/delete/",
        reporting_period_delete,
        name="reporting_period_delete",
    ),
    path(
        "plans/<int:plan_id>/monitoring/periods/<int:period_id>/open/",
        reporting_period_open,
        name="reporting_period_open",
    ),
    path(
        "plans/<int:plan_id>/monitoring/periods/<int:period_id>/close/",
        reporting_period_close,
        name="reporting_period_close",
    ),
    path(
        "plans/<int:plan_id>/monitoring/periods/<int:period_id>/reopen/",
        reporting_period_reopen,
        name="reporting_period_reopen",
    ),
]
