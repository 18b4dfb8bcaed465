"""Monitoring pages: the results framework. The plan's M&E indicators with their baseline, this year's target, the
latest actual and whether each is on track; an indicator's page with its targets per year and actuals per period;
adding, editing and deleting indicators; adding the plan's capacity indicators; a period's grid of actuals, and
their import from a spreadsheet (a background job) with its template.

Every member reads. The secretariat writes every indicator, a technical lead those of their own technical areas
(monitoring.indicators.indicator_writable_by); this goes on while the plan is endorsed."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST, require_safe

from monitoring.indicator_forms import ActualsGridForm, ActualsImportForm, IndicatorFilterForm, IndicatorForm
from monitoring.indicator_services import (
    ActualEntry,
    capacity_indicators_add,
    import_headings,
    indicator_actuals_save,
    me_indicator_create,
    me_indicator_delete,
    me_indicator_update,
)
from monitoring.indicators import (
    indicator_area_ids_writable_by,
    indicator_list_for_plan,
    indicator_progress,
    indicator_writable_by,
    indicators_writer,
)
from monitoring.job_kinds import MonitoringJob
from monitoring.models import MEIndicator, MEIndicatorActual, ReportingPeriod
from naphs.errors import EditConflict
from naphs.forms import form_errors_from, form_refused, whole_number
from naphs.models import Job
from naphs.permissions import Permission
from naphs.uploads import upload_create
from naphs.views import require_form_methods
from naphs.xlsx import StreamingWorkbook
from planning.models import Plan
from stakeholders.access import PlanAccess, SignedInRequest, plan_get_for_user
from stakeholders.models import PlanMembership


def _writer(request: SignedInRequest, plan_id: int) -> PlanAccess:
    """The plan, for someone who writes indicators (the secretariat, a technical lead): 403 for anyone else."""
    access = plan_get_for_user(user=request.user, plan_id=plan_id)
    if not indicators_writer(access.membership):
        raise PermissionDenied(gettext("Only the secretariat and technical leads write the plan's M&E indicators."))
    return access


def _indicator(plan: Plan, indicator_id: int) -> MEIndicator:
    indicator = indicator_list_for_plan(plan=plan).filter(pk=indicator_id).first()
    if indicator is None:
        raise Http404(gettext("No such indicator in this plan."))
    indicator.plan = plan
    return indicator


def _writable_check(membership: PlanMembership, indicator: MEIndicator) -> None:
    if not indicator_writable_by(membership=membership, area_id=indicator.technical_area_id):
        raise PermissionDenied(
            gettext("You write the indicators of your own technical areas only; %(code)s is not one of them.")
            % {"code": indicator.code}
        )


def _period(plan: Plan, period_id: int) -> ReportingPeriod:
    period = ReportingPeriod.objects.filter(plan=plan, pk=period_id).first()
    if period is None:
        raise Http404(gettext("No such reporting period in this plan."))
    return period


@require_safe
def indicators(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The results framework, filtered by type and area (GET parameters): htmx requests get the table alone."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    filter_form = IndicatorFilterForm(request.GET or None, plan=plan)
    progress = indicator_progress([plan.pk])
    shown = set(MEIndicator.objects.filter(plan=plan, **filter_form.filters()).values_list("pk", flat=True))
    rows = [row for pk, row in progress.items() if pk in shown]
    periods = list(ReportingPeriod.objects.filter(plan=plan).order_by("starts_on"))
    context = {
        "plan": plan,
        "membership": membership,
        "may_write": indicators_writer(membership),
        "may_manage": membership.role_allows(Permission.MANAGE),
        "filter_form": filter_form,
        "rows": rows,
        "periods": periods,
        "year": rows[0].year if rows else None,
    }
    template = "monitoring/indicators/_table.html" if request.htmx else "monitoring/indicators/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
def indicator_detail(request: SignedInRequest, plan_id: int, indicator_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    indicator = _indicator(plan, indicator_id)
    progress = indicator_progress([plan.pk])[indicator.pk]
    actuals = list(
        MEIndicatorActual.objects.filter(indicator=indicator)
        .select_related("period", "entered_by")
        .order_by("period__starts_on")
    )
    context = {
        "plan": plan,
        "membership": membership,
        "indicator": indicator,
        "progress": progress,
        "years": [(year, progress.targets.get(year)) for year in range(plan.first_year, plan.last_year + 1)],
        "actuals": actuals,
        "may_write": indicator_writable_by(membership=membership, area_id=indicator.technical_area_id),
    }
    return render(request, "monitoring/indicators/detail.html", context)


def _form_page(request: SignedInRequest, context: dict, status: int = 200) -> HttpResponse:
    return render(request, "monitoring/indicators/form.html", context, status=status)


def _area_check(form: IndicatorForm, membership: PlanMembership) -> bool:
    area = form.cleaned_data.get("technical_area") if "technical_area" in form.fields else None
    if indicator_writable_by(membership=membership, area_id=area.pk if area else None):
        return True
    form.add_error("technical_area", gettext("Choose one of your own technical areas."))
    return False


@require_form_methods
def indicator_new(request: SignedInRequest, plan_id: int) -> HttpResponse:
    plan, membership = _writer(request, plan_id)
    areas = indicator_area_ids_writable_by(membership)
    form = IndicatorForm(request.POST if request.method == "POST" else None, plan=plan, area_ids=areas)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid() and _area_check(form, membership):
            try:
                indicator = me_indicator_create(
                    plan=plan,
                    by=request.user,
                    fields=form.indicator_fields(),
                    activities=form.chosen_activities(),
                    targets=form.targets(),
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, gettext("Indicator %(code)s added.") % {"code": indicator.code})
                return redirect("indicator_detail", plan_id=plan.pk, indicator_id=indicator.pk)
    return _form_page(request, {"plan": plan, "membership": membership, "form": form}, status)


@require_form_methods
def indicator_edit(request: SignedInRequest, plan_id: int, indicator_id: int) -> HttpResponse:
    plan, membership = _writer(request, plan_id)
    indicator = _indicator(plan, indicator_id)
    _writable_check(membership, indicator)
    areas = indicator_area_ids_writable_by(membership)
    if request.method != "POST":
        form = IndicatorForm(plan=plan, indicator=indicator, area_ids=areas)
        return _form_page(request, {"plan": plan, "membership": membership, "form": form, "indicator": indicator})
    form = IndicatorForm(request.POST, plan=plan, indicator=indicator, area_ids=areas)
    status = 422
    if form.is_valid() and _area_check(form, membership):
        try:
            version = form.cleaned_data["version"]
            if version is None:
                raise ValidationError(gettext("The form lost the version it was opened at; reload the page."))
            me_indicator_update(
                indicator=indicator,
                by=request.user,
                version=version,
                fields=form.indicator_fields(),
                activities=form.chosen_activities(),
                targets=form.targets(),
            )
        except (EditConflict, ValidationError) as refusal:
            status = form_refused(form, refusal)
        else:
            messages.success(request, gettext("Indicator %(code)s saved.") % {"code": indicator.code})
            return redirect("indicator_detail", plan_id=plan.pk, indicator_id=indicator.pk)
    context = {"plan": plan, "membership": membership, "form": form, "indicator": indicator}
    return _form_page(request, context, status)


@require_form_methods
def indicator_delete(request: SignedInRequest, plan_id: int, indicator_id: int) -> HttpResponse:
    """Asks first (GET), deletes on POST; an indicator changed since the question was asked is kept."""
    plan, membership = _writer(request, plan_id)
    indicator = _indicator(plan, indicator_id)
    _writable_check(membership, indicator)
    error, status = "", 200
    if request.method == "POST":
        try:
            me_indicator_delete(indicator=indicator, by=request.user, version=whole_number(request.POST.get("version")))
        except EditConflict as conflict:
            error, status = str(conflict), 409
        else:
            messages.success(request, gettext("Indicator %(code)s deleted.") % {"code": indicator.code})
            return redirect("indicators", plan_id=plan.pk)
    context = {
        "plan": plan,
        "membership": membership,
        "indicator": indicator,
        "actual_count": indicator.actuals.count(),
        "error": error,
    }
    return render(request, "monitoring/indicators/delete.html", context, status=status)


@require_POST
def indicator_capacity_add(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Add the plan's capacity indicators (those of its framework with a target): the secretariat's."""
    plan, _membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    added = capacity_indicators_add(plan=plan, by=request.user)
    if added:
        messages.success(
            request,
            ngettext("%(count)d capacity indicator added.", "%(count)d capacity indicators added.", len(added))
            % {"count": len(added)},
        )
    else:
        messages.info(
            request, gettext("Every indicator of the plan with a target is in the results framework already.")
        )
    return redirect("indicators", plan_id=plan.pk)


@require_form_methods
def indicator_actuals(request: SignedInRequest, plan_id: int, period_id: int) -> HttpResponse:
    """A period's values, one per indicator the person writes (capacity indicators' are their assessments' levels,
    shown, not typed); saved all together or not at all."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    period = _period(plan, period_id)
    if request.method == "POST" and not indicators_writer(membership):
        raise PermissionDenied(gettext("Only the secretariat and technical leads enter indicator values."))
    areas = indicator_area_ids_writable_by(membership) if indicators_writer(membership) else frozenset()
    progress = indicator_progress([plan.pk])
    actuals = {actual.indicator_id: actual for actual in MEIndicatorActual.objects.filter(period=period)}
    rows, shown = [], []
    for row in progress.values():
        writable = areas is None or row.indicator.technical_area_id in areas
        if row.is_capacity or not writable:
            shown.append((row, actuals.get(row.indicator.pk)))
        else:
            rows.append((row, actuals.get(row.indicator.pk)))
    form = ActualsGridForm(request.POST if request.method == "POST" else None, rows=rows)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            entries = [
                ActualEntry(
                    indicator=row.indicator,
                    value=form.cleaned_data[f"value_{row.indicator.pk}"],
                    note=form.cleaned_data[f"note_{row.indicator.pk}"],
                    version=form.cleaned_data[f"version_{row.indicator.pk}"],
                )
                for row, _actual in rows
            ]
            try:
                counts = indicator_actuals_save(plan=plan, period=period, by=request.user, entries=entries)
            except ValidationError as error:
                for code, problems in error.message_dict.items():
                    form.add_error(None, [f"{code}: {problem}" for problem in problems])
            except EditConflict as conflict:
                form.add_error(None, str(conflict))
                status = 409
            else:
                total = sum(counts.values())
                messages.success(
                    request,
                    ngettext("%(period)s: %(count)d value saved.", "%(period)s: %(count)d values saved.", total)
                    % {"period": period.label, "count": total},
                )
                return redirect("indicator_actuals", plan_id=plan.pk, period_id=period.pk)
    context = {
        "plan": plan,
        "membership": membership,
        "period": period,
        "periods": list(ReportingPeriod.objects.filter(plan=plan).order_by("starts_on")),
        "form": form,
        "shown": shown,
    }
    return render(request, "monitoring/indicators/actuals.html", context, status=status)


@require_form_methods
def indicator_actuals_import(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Upload a spreadsheet of values: kept, then checked and saved whole by a job; the page shows the latest
    import's outcome and problems."""
    plan, membership = _writer(request, plan_id)
    form = ActualsImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                upload = upload_create(
                    kind=MonitoringJob.INDICATOR_ACTUALS_IMPORT,
                    by=request.user,
                    plan=plan,
                    file=form.cleaned_data["file"],
                )
            except ValidationError as error:
                form.add_error("file", error)
            else:
                messages.info(
                    request,
                    gettext("%(file)s is being checked; its values are saved only if all of it is sound.")
                    % {"file": upload.filename},
                )
                return redirect("indicator_actuals_import", plan_id=plan.pk)
    job = (
        Job.objects.filter(plan=plan, requested_by=request.user, kind=MonitoringJob.INDICATOR_ACTUALS_IMPORT)
        .order_by("-created_at", "-pk")
        .first()
    )
    context = {"plan": plan, "membership": membership, "form": form, "job": job}
    return render(request, "monitoring/indicators/import.html", context, status=status)


@require_safe
def indicator_actuals_template(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The import's template: its headings in the person's language and a row per typed indicator and period,
    with the values already entered."""
    plan, _membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    book = StreamingWorkbook(title=gettext("Indicator values"))
    bold = book.style(bold=True)
    sheet = book.add_sheet(gettext("Values"), widths=[18, 28, 16, 50])
    sheet.append(import_headings(), bold)
    periods = list(ReportingPeriod.objects.filter(plan=plan).order_by("starts_on"))
    actuals = {
        (indicator_id, period_id): (value, note)
        for indicator_id, period_id, value, note in MEIndicatorActual.objects.filter(indicator__plan=plan).values_list(
            "indicator_id", "period_id", "value", "note"
        )
    }
    for indicator in MEIndicator.objects.filter(plan=plan).exclude(kind=MEIndicator.Kind.CAPACITY).order_by("code"):
        for period in periods:
            value, note = actuals.get((indicator.pk, period.pk), (None, ""))
            sheet.append([indicator.code, period.label, value, note])
    response = HttpResponse(
        book.to_bytes(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="indicator-values-{plan.pk}.xlsx"'
    return response


urlpatterns = [
    path("plans/<int:plan_id>/monitoring/indicators/", indicators, name="indicators"),
    path("plans/<int:plan_id>/monitoring/indicators/new/", indicator_new, name="indicator_new"),
    path("plans/<int:plan_id>/monitoring/indicators/capacity/", indicator_capacity_add, name="indicator_capacity_add"),
    path(
        "plans/<int:plan_id>/monitoring/indicators/import/", indicator_actuals_import, name="indicator_actuals_import"
    ),
    path(
        "plans/<int:plan_id>/monitoring/indicators/template.xlsx",
        indicator_actuals_template,
        name="indicator_actuals_template",
    ),
    path(
        "plans/<int:plan_id>/monitoring/indicators/actuals/<int:period_id>/",
        indicator_actuals,
        name="indicator_actuals",
    ),
    path("plans/<int:plan_id>/monitoring/indicators/<int:indicator_id>/", indicator_detail, name="indicator_detail"),
    path("plans/<int:plan_id>/monitoring/indicators/<int:indicator_id>/edit/", indicator_edit, name="indicator_edit"),
    path(
        "plans/<int:plan_id>/monitoring/indicators/<int:indicator_id>/delete/",
        indicator_delete,
        name="indicator_delete",
    ),
]
