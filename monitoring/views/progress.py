"""Monitoring pages: progress. A period's reports on the activities a person reports on (every activity for the
secretariat and for those who only read), each corrected in place while the period is open; one report's page with
its evidence; an activity's reports over every period."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from costing.services import Rates
from monitoring.evidence import evidence_add, evidence_deletable_by, evidence_delete, evidence_response
from monitoring.models import ProgressUpdate, ReportingPeriod
from monitoring.progress import period_open_check, progress_save, report_from
from monitoring.progress_forms import EvidenceForm, ProgressFilterForm, ProgressForm
from monitoring.progress_selectors import (
    evidence_get,
    period_get,
    progress_activities_filter,
    progress_activities_for,
    progress_history,
    progress_report_get,
    progress_reports_for,
)
from naphs.errors import EditConflict
from naphs.forms import form_errors_from, form_refused
from naphs.permissions import Permission
from naphs.views import require_form_methods
from planning.models import Activity
from stakeholders.access import (
    SignedInRequest,
    activity_get_for_user,
    activity_progress_reportable_by,
    plan_get_for_user,
)
from stakeholders.models import PlanMembership

PAGE_SIZE = 50


def _closed_reason(period: ReportingPeriod) -> str:
    """Why reports for the period are not taken now, or "" while it is open."""
    try:
        period_open_check(period)
    except ValidationError as refusal:
        return " ".join(refusal.messages)
    return ""


def _auto_id(activity: Activity) -> str:
    """Ids of one activity's report fields: several editors (and the filters) share the period's page."""
    return f"id_report_{activity.pk}_%s"


def _may_report(membership: PlanMembership, activity: Activity, period: ReportingPeriod) -> bool:
    return (
        period.is_open
        and membership.role_allows(Permission.REPORT_PROGRESS)
        and activity_progress_reportable_by(membership=membership, activity=activity)
    )


@require_safe
def progress_period(request: SignedInRequest, plan_id: int, period_id: int) -> HttpResponse:
    """The period's reports, a page of activities at a time, filtered by GET parameters; htmx requests from the
    filters get the table alone."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    period = period_get(plan=plan, period_id=period_id)
    filter_form = ProgressFilterForm(request.GET or None, plan=plan)
    activities = progress_activities_filter(
        progress_activities_for(membership), period=period, choices=filter_form.choices()
    )
    page = Paginator(activities, PAGE_SIZE).get_page(request.GET.get("page"))
    reports = progress_reports_for(period=period, activities=page.object_list)
    rates = Rates.for_plan(plan)
    may_report = period.is_open and membership.role_allows(Permission.REPORT_PROGRESS)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "plan": plan,
        "membership": membership,
        "period": period,
        "periods": ReportingPeriod.objects.filter(plan=plan).order_by("starts_on"),
        "closed_reason": _closed_reason(period),
        "filter_form": filter_form,
        "page": page,
        "rows": [(activity, reports.get(activity.pk)) for activity in page.object_list],
        "may_report": may_report,
        "base_currency": rates.base,
        "query": query.urlencode(),
    }
    template = "monitoring/progress/_table.html" if request.htmx else "monitoring/progress/period.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _report_context(
    request: SignedInRequest,
    *,
    activity: Activity,
    membership: PlanMembership,
    period: ReportingPeriod,
    report: ProgressUpdate | None,
) -> dict:
    rates = Rates.for_plan(activity.plan)
    return {
        "plan": activity.plan,
        "membership": membership,
        "activity": activity,
        "period": period,
        "report": report,
        "base_currency": rates.base,
        "closed_reason": _closed_reason(period),
        "may_report": _may_report(membership, activity, period),
        "evidence_form": EvidenceForm(),
        "rates": rates,
    }


@require_form_methods
def progress_report(request: SignedInRequest, plan_id: int, activity_id: int, period_id: int) -> HttpResponse:
    """One activity's report for the period. GET: the report with its evidence (to htmx, the table row's editor,
    or with ?row=1 the row itself); POST: save it as the person last saw it (422 with the errors, 409 when
    someone reported meanwhile, with their report shown and the typed values kept)."""
    need = Permission.REPORT_PROGRESS if request.method == "POST" else Permission.VIEW
    activity, membership = activity_get_for_user(user=request.user, plan_id=plan_id, activity_id=activity_id, need=need)
    period = period_get(plan=activity.plan, period_id=period_id)
    report = progress_report_get(activity=activity, period=period)
    context = _report_context(request, activity=activity, membership=membership, period=period, report=report)
    rates = context["rates"]
    status = 200
    if request.method == "POST":
        form = ProgressForm(request.POST, plan=activity.plan, rates=rates, auto_id=_auto_id(activity))
        status = 422
        if form.is_valid():
            try:
                saved, _changes = progress_save(
                    activity=activity,
                    period=period,
                    by=request.user,
                    version=form.cleaned_data["version"],
                    report=report_from(form.cleaned_data),
                    rates=rates,
                )
            except (EditConflict, ValidationError) as refusal:
                status = form_refused(form, refusal)
                if status == 409:  # what the other person reported, beside what this one typed
                    current = progress_report_get(activity=activity, period=period)
                    context["report"], context["conflict"] = current, True
                    if current is not None:  # saving again replaces what they now see, knowingly
                        data = request.POST.copy()
                        data["version"] = str(current.version)
                        form.data = data
            else:
                saved.reported_by = request.user
                if request.htmx:
                    context.update(row_activity=activity, row_report=saved, may_report=context["may_report"])
                    return render(request, "monitoring/progress/_row.html", context)
                messages.success(
                    request,
                    gettext("Progress on “%(activity)s” for %(period)s saved.")
                    % {"activity": activity.title, "period": period.label},
                )
                return redirect("progress_period", plan_id=activity.plan.pk, period_id=period.pk)
    else:
        if request.htmx and request.GET.get("row"):
            context.update(row_activity=activity, row_report=report)
            return render(request, "monitoring/progress/_row.html", context)
        form = ProgressForm(plan=activity.plan, rates=rates, update=report, auto_id=_auto_id(activity))
    context["form"] = form
    template = "monitoring/progress/_editor.html" if request.htmx else "monitoring/progress/report.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
def progress_evidence_add(request: SignedInRequest, plan_id: int, activity_id: int, period_id: int) -> HttpResponse:
    """Add a file or a link to the activity's report for the period (a report must exist); 422 with the reason
    when refused, nothing kept."""
    activity, membership = activity_get_for_user(
        user=request.user, plan_id=plan_id, activity_id=activity_id, need=Permission.REPORT_PROGRESS
    )
    period = period_get(plan=activity.plan, period_id=period_id)
    report = progress_report_get(activity=activity, period=period)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            if report is None:
                raise ValidationError(
                    gettext("Report progress on this activity for %(period)s first, then add its evidence.")
                    % {"period": period.label},
                    code="evidence_without_report",
                )
            evidence = evidence_add(
                update=report,
                by=request.user,
                file=form.cleaned_data.get("file"),
                link=form.cleaned_data.get("link") or "",
                description=form.cleaned_data.get("description") or "",
            )
        except ValidationError as refusal:
            form_errors_from(form, refusal)
        else:
            messages.success(
                request, gettext("Evidence “%(evidence)s” added.") % {"evidence": evidence.file_name or evidence.link}
            )
            return redirect("progress_report", plan_id=activity.plan.pk, activity_id=activity.pk, period_id=period.pk)
    context = _report_context(request, activity=activity, membership=membership, period=period, report=report)
    context["evidence_form"] = form
    if context["may_report"]:
        context["form"] = ProgressForm(
            plan=activity.plan, rates=context["rates"], update=report, auto_id=_auto_id(activity)
        )
    return render(request, "monitoring/progress/report.html", context, status=422)


@require_safe
def progress_evidence_file(request: SignedInRequest, plan_id: int, evidence_id: int) -> FileResponse:
    """An evidence file, for every member of the plan: an attachment, never sniffed."""
    plan = plan_get_for_user(user=request.user, plan_id=plan_id).plan
    return evidence_response(evidence_get(plan=plan, evidence_id=evidence_id))


@require_POST
def progress_evidence_delete(request: SignedInRequest, plan_id: int, evidence_id: int) -> HttpResponse:
    """Delete a piece of evidence: whoever added it or the secretariat, while the period is open."""
    plan = plan_get_for_user(user=request.user, plan_id=plan_id).plan
    evidence = evidence_get(plan=plan, evidence_id=evidence_id)
    update = evidence.update
    membership = activity_get_for_user(
        user=request.user, plan_id=plan_id, activity_id=update.activity_id, need=Permission.REPORT_PROGRESS
    ).membership
    if not evidence_deletable_by(membership=membership, evidence=evidence):
        raise PermissionDenied(gettext("Evidence is deleted by whoever added it, or by the secretariat."))
    back = reverse(
        "progress_report", kwargs={"plan_id": plan.pk, "activity_id": update.activity_id, "period_id": update.period_id}
    )
    try:
        evidence_delete(evidence=evidence, by=request.user)
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
    else:
        messages.success(
            request, gettext("Evidence “%(evidence)s” deleted.") % {"evidence": evidence.file_name or evidence.link}
        )
    return redirect(back)


@require_safe
def activity_progress(request: SignedInRequest, plan_id: int, activity_id: int) -> HttpResponse:
    """The activity's reports in every period, with their evidence."""
    activity, membership = activity_get_for_user(user=request.user, plan_id=plan_id, activity_id=activity_id)
    context = {
        "plan": activity.plan,
        "membership": membership,
        "activity": activity,
        "history": progress_history(activity),
        "base_currency": Rates.for_plan(activity.plan).base,
    }
    return render(request, "monitoring/progress/history.html", context)


urlpatterns = [
    path("plans/<int:plan_id>/monitoring/periods/<int:period_id>/progress/", progress_period, name="progress_period"),
    path(
        "plans/<int:plan_id>/monitoring/periods/<int:period_id>/progress/<int:activity_id>/",
        progress_report,
        name="progress_report",
    ),
    path(
        "plans/<int:plan_id>/monitoring/periods/<int:period_id>/progress/<int:activity_id>/evidence/",
        progress_evidence_add,
        name="progress_evidence_add",
    ),
    path(
        "plans/<int:plan_id>/monitoring/evidence/<int:evidence_id>/file/",
        progress_evidence_file,
        name="progress_evidence_file",
    ),
    path(
        "plans/<int:plan_id>/monitoring/evidence/<int:evidence_id>/delete/",
        progress_evidence_delete,
        name="progress_evidence_delete",
    ),
    path("plans/<int:plan_id>/activities/<int:activity_id>/progress/", activity_progress, name="activity_progress"),
]
