"""Monitoring pages: timeliness (7-1-7). The plan's health events with their detection, notification and response
intervals against the targets, filtered by year and hazard, with a summary; each event's page with its bottlenecks.
The secretariat and technical leads record events and bottlenecks (while the plan is endorsed too); a remedial
action becomes an activity of the plan, which only those who add activities to its area may do, on a plan that is
not endorsed. Everyone else reads."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from monitoring.models import Bottleneck, HealthEvent
from monitoring.timeliness import (
    INTERVALS,
    bottleneck_activity_create,
    bottleneck_create,
    bottleneck_delete,
    bottleneck_list_for_event,
    bottleneck_update,
    event_intervals,
    event_meets_all,
    events_writable_by,
    events_write_check,
    health_event_create,
    health_event_delete,
    health_event_list_for_plan,
    health_event_update,
    health_events_filtered,
    timeliness_summary,
)
from monitoring.timeliness_forms import BottleneckForm, EventFilterForm, HealthEventForm, RemedialActivityForm
from naphs.errors import EditConflict
from naphs.forms import form_errors_from, form_refused, whole_number
from naphs.permissions import Permission
from naphs.views import require_form_methods
from planning.models import Plan
from stakeholders.access import PlanAccess, SignedInRequest, area_ids_editable_by, plan_get_for_user


def _access(request: SignedInRequest, plan_id: int, *, write: bool = False) -> PlanAccess:
    access = plan_get_for_user(user=request.user, plan_id=plan_id)
    if write:
        events_write_check(access.membership)
    return access


def _event(plan: Plan, event_id: int) -> HealthEvent:
    """An event of this plan (404 for any other)."""
    event = HealthEvent.objects.filter(plan=plan, pk=event_id).first()
    if event is None:
        raise Http404(gettext("No such health event in this plan."))
    event.plan = plan
    return event


def _bottleneck(event: HealthEvent, bottleneck_id: int) -> Bottleneck:
    """A bottleneck of this event (404 for any other)."""
    bottleneck = (
        Bottleneck.objects.select_related("technical_area", "activity").filter(event=event, pk=bottleneck_id).first()
    )
    if bottleneck is None:
        raise Http404(gettext("No such bottleneck of this event."))
    bottleneck.event = event
    return bottleneck


def _with_intervals(event: HealthEvent) -> HealthEvent:
    event.intervals = event_intervals(event)  # type: ignore[attr-defined]  # for the table
    event.meets_all = event_meets_all(event)  # type: ignore[attr-defined]
    return event


@require_safe
def health_events(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The plan's events, filtered by GET parameters (year of emergence, hazard), each with its three intervals and
    whether it met each target, and the summary of the events shown. htmx requests from the filters get the
    table alone."""
    plan, membership = _access(request, plan_id)
    filter_form = EventFilterForm(request.GET or None, plan=plan)
    filters = filter_form.filters()
    events = [
        _with_intervals(event) for event in health_events_filtered(health_event_list_for_plan(plan=plan), **filters)
    ]
    context = {
        "plan": plan,
        "membership": membership,
        "may_write": events_writable_by(membership),
        "filter_form": filter_form,
        "events": events,
        "intervals": INTERVALS,
        "summary": timeliness_summary([plan.pk], **filters),
    }
    template = "monitoring/timeliness/_table.html" if request.htmx else "monitoring/timeliness/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_form_methods
def health_event_new(request: SignedInRequest, plan_id: int) -> HttpResponse:
    plan, membership = _access(request, plan_id, write=True)
    form = HealthEventForm(request.POST if request.method == "POST" else None, plan=plan)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                event = health_event_create(plan=plan, by=request.user, fields=form.event_fields())
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, gettext("Health event “%(event)s” recorded.") % {"event": event})
                return redirect("health_event_detail", plan_id=plan.pk, event_id=event.pk)
    context = {"plan": plan, "membership": membership, "form": form}
    return render(request, "monitoring/timeliness/form.html", context, status=status)


@require_safe
def health_event_detail(request: SignedInRequest, plan_id: int, event_id: int) -> HttpResponse:
    """An event: its dates and intervals against the targets, and its bottlenecks with their remedial actions."""
    plan, membership = _access(request, plan_id)
    event = _with_intervals(_event(plan, event_id))
    may_write = events_writable_by(membership)
    context = {
        "plan": plan,
        "membership": membership,
        "event": event,
        "bottlenecks": list(bottleneck_list_for_event(event=event)),
        "may_write": may_write,
        "may_add_activities": _may_add_activities(membership) and not plan.is_frozen,
        "bottleneck_form": BottleneckForm(plan=plan) if may_write else None,
    }
    return render(request, "monitoring/timeliness/detail.html", context)


@require_form_methods
def health_event_edit(request: SignedInRequest, plan_id: int, event_id: int) -> HttpResponse:
    plan, membership = _access(request, plan_id, write=True)
    event = _event(plan, event_id)
    data = request.POST if request.method == "POST" else None
    form = HealthEventForm(data, plan=plan, instance=copy.copy(event))
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            version = form.cleaned_data["version"]
            try:
                health_event_update(event=event, by=request.user, version=version, fields=form.event_fields())
            except (EditConflict, ValidationError) as refusal:
                status = form_refused(form, refusal)
            else:
                messages.success(request, gettext("Health event “%(event)s” saved.") % {"event": event})
                return redirect("health_event_detail", plan_id=plan.pk, event_id=event.pk)
    context = {"plan": plan, "membership": membership, "form": form, "event": event}
    return render(request, "monitoring/timeliness/form.html", context, status=status)


@require_form_methods
def health_event_delete_view(request: SignedInRequest, plan_id: int, event_id: int) -> HttpResponse:
    """Asks first (GET), deletes on POST; an event changed since the question was asked is kept."""
    plan, membership = _access(request, plan_id, write=True)
    event = _event(plan, event_id)
    error, status = "", 200
    if request.method == "POST":
        try:
            health_event_delete(event=event, by=request.user, version=whole_number(request.POST.get("version", "")))
        except EditConflict as conflict:
            error, status = str(conflict), 409
        else:
            messages.success(request, gettext("Health event “%(event)s” deleted.") % {"event": event})
            return redirect("health_events", plan_id=plan.pk)
    context = {
        "plan": plan,
        "membership": membership,
        "event": event,
        "bottleneck_count": event.bottlenecks.count(),
        "error": error,
    }
    return render(request, "monitoring/timeliness/delete.html", context, status=status)


# --- Bottlenecks ---------------------------------------------------------------------------------------------------


@require_form_methods
def bottleneck_new(request: SignedInRequest, plan_id: int, event_id: int) -> HttpResponse:
    plan, membership = _access(request, plan_id, write=True)
    event = _event(plan, event_id)
    form = BottleneckForm(request.POST if request.method == "POST" else None, plan=plan)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                bottleneck_create(event=event, by=request.user, fields=form.bottleneck_fields())
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, gettext("Bottleneck recorded."))
                return redirect("health_event_detail", plan_id=plan.pk, event_id=event.pk)
    context = {"plan": plan, "membership": membership, "event": event, "form": form}
    return render(request, "monitoring/timeliness/bottleneck_form.html", context, status=status)


@require_form_methods
def bottleneck_edit(request: SignedInRequest, plan_id: int, event_id: int, bottleneck_id: int) -> HttpResponse:
    plan, membership = _access(request, plan_id, write=True)
    event = _event(plan, event_id)
    bottleneck = _bottleneck(event, bottleneck_id)
    data = request.POST if request.method == "POST" else None
    form = BottleneckForm(data, plan=plan, instance=copy.copy(bottleneck))
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                bottleneck_update(
                    bottleneck=bottleneck,
                    by=request.user,
                    version=form.cleaned_data["version"],
                    fields=form.bottleneck_fields(),
                )
            except (EditConflict, ValidationError) as refusal:
                status = form_refused(form, refusal)
            else:
                messages.success(request, gettext("Bottleneck saved."))
                return redirect("health_event_detail", plan_id=plan.pk, event_id=event.pk)
    context = {"plan": plan, "membership": membership, "event": event, "bottleneck": bottleneck, "form": form}
    return render(request, "monitoring/timeliness/bottleneck_form.html", context, status=status)


@require_form_methods
def bottleneck_delete_view(request: SignedInRequest, plan_id: int, event_id: int, bottleneck_id: int) -> HttpResponse:
    plan, membership = _access(request, plan_id, write=True)
    event = _event(plan, event_id)
    bottleneck = _bottleneck(event, bottleneck_id)
    error, status = "", 200
    if request.method == "POST":
        version = whole_number(request.POST.get("version", ""))
        try:
            bottleneck_delete(bottleneck=bottleneck, by=request.user, version=version)
        except EditConflict as conflict:
            error, status = str(conflict), 409
        else:
            messages.success(request, gettext("Bottleneck deleted."))
            return redirect("health_event_detail", plan_id=plan.pk, event_id=event.pk)
    context = {"plan": plan, "membership": membership, "event": event, "bottleneck": bottleneck, "error": error}
    return render(request, "monitoring/timeliness/bottleneck_delete.html", context, status=status)


def _may_add_activities(membership) -> bool:
    editable = area_ids_editable_by(membership)
    return membership.allows(Permission.EDIT_ACTIVITIES) and (editable is None or bool(editable))


@require_form_methods
def bottleneck_activity(request: SignedInRequest, plan_id: int, event_id: int, bottleneck_id: int) -> HttpResponse:
    """The remedial action made an activity of the plan: who adds activities to an area may (the secretariat, a
    technical lead in their areas), on a plan that is not endorsed (423 otherwise, the bottleneck kept)."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_ACTIVITIES)
    if not _may_add_activities(membership):
        raise PermissionDenied(
            gettext("No technical area is assigned to you in this plan; ask the secretariat for yours.")
        )
    event = _event(plan, event_id)
    bottleneck = _bottleneck(event, bottleneck_id)
    data = request.POST if request.method == "POST" else None
    form = RemedialActivityForm(data, plan=plan, membership=membership, bottleneck=bottleneck)
    status = 200
    if bottleneck.activity_id is not None:
        form.add_error(
            None,
            gettext("This remedial action is already the activity “%(activity)s”.") % {"activity": bottleneck.activity},
        )
        status = 409 if request.method == "POST" else 200
    elif request.method == "POST":
        status = 422
        if form.is_valid():
            values = form.cleaned_data
            try:
                activity = bottleneck_activity_create(
                    bottleneck=bottleneck,
                    by=request.user,
                    version=values["version"],
                    source=values["source"],
                    technical_area=values["technical_area"],
                    responsible_organization=values["responsible_organization"],
                    title=values["title"],
                    description=values["description"],
                )
            except (EditConflict, ValidationError) as refusal:
                status = form_refused(form, refusal)
            else:
                messages.success(
                    request, gettext("The remedial action is now the activity “%(activity)s”.") % {"activity": activity}
                )
                return redirect("activity_detail", plan_id=plan.pk, activity_id=activity.pk)
    context = {"plan": plan, "membership": membership, "event": event, "bottleneck": bottleneck, "form": form}
    return render(request, "monitoring/timeliness/bottleneck_activity.html", context, status=status)


urlpatterns = [
    path("plans/<int:plan_id>/monitoring/events/", health_events, name="health_events"),
    path("plans/<int:plan_id>/monitoring/events/new/", health_event_new, name="health_event_new"),
    path("plans/<int:plan_id>/monitoring/events/<int:event_id>/", health_event_detail, name="health_event_detail"),
    path("plans/<int:plan_id>/monitoring/events/<int:event_id>/edit/", health_event_edit, name="health_event_edit"),
    path(
        "plans/<int:plan_id>/monitoring/events/<int:event_id>/delete/",
        health_event_delete_view,
        name="health_event_delete",
    ),
    path(
        "plans/<int:plan_id>/monitoring/events/<int:event_id>/bottlenecks/new/", bottleneck_new, name="bottleneck_new"
    ),
    path(
        "plans/<int:plan_id>/monitoring/events/<int:event_id>/bottlenecks/<int:bottleneck_id>/",
        bottleneck_edit,
        name="bottleneck_edit",
    ),
    path(
        "plans/<int:plan_id>/monitoring/events/<int:event_id>/bottlenecks/<int:bottleneck_id>/delete/",
        bottleneck_delete_view,
        name="bottleneck_delete",
    ),
    path(
        "plans/<int:plan_id>/monitoring/events/<int:event_id>/bottlenecks/<int:bottleneck_id>/activity/",
        bottleneck_activity,
        name="bottleneck_activity",
    ),
]
