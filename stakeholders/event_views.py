"""Pages of the plan's engagement events: the list (filtered by type, year and technical area), an event with its
participants, decisions and documents, the attendance sheet out and back in, and the participation summary.

Every member reads; the secretariat (Permission.ENGAGE, also on an endorsed plan) writes. A refused write answers
422 with the problems beside their fields, a stale one 409; nothing is half-saved."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST, require_safe

from naphs.errors import EditConflict
from naphs.forms import form_errors_from, form_refused, whole_number
from naphs.permissions import Permission
from naphs.views import require_form_methods
from planning.models import Plan
from stakeholders.access import PlanAccess, SignedInRequest, plan_get_for_user
from stakeholders.attendance import (
    XLSX_TYPE,
    AttendanceRefused,
    attendance_file_name,
    attendance_import,
    attendance_sheet,
)
from stakeholders.event_forms import (
    AttendanceImportForm,
    DecisionForm,
    DocumentForm,
    EngagementEventForm,
    EventFilterForm,
    ParticipantForm,
    ParticipantsAddForm,
    PeopleFilterForm,
)
from stakeholders.events import (
    decision_create,
    decision_delete,
    decision_list_for_event,
    decision_update,
    document_add,
    document_delete,
    event_create,
    event_delete,
    event_document_response,
    event_get,
    event_list_for_plan,
    event_update,
    participant_list_for_event,
    participant_remove,
    participant_update,
    participants_add,
    participation_summary,
    people_to_add,
)
from stakeholders.models import EngagementEvent, EventDecision, EventDocument, Participant


def _access(request: SignedInRequest, plan_id: int, *, write: bool = False) -> PlanAccess:
    return plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.ENGAGE if write else Permission.VIEW)


def _event(plan: Plan, engagement_event_id: int) -> EngagementEvent:
    event = event_get(plan=plan, event_id=engagement_event_id)
    if event is None:
        raise Http404(gettext("No such engagement event in this plan."))
    return event


def _participant(event: EngagementEvent, participant_id: int) -> Participant:
    participant = Participant.objects.select_related("person").filter(event=event, pk=participant_id).first()
    if participant is None:
        raise Http404(gettext("No such participant of this event."))
    participant.event = event
    return participant


def _decision(event: EngagementEvent, event_decision_id: int) -> EventDecision:
    decision = EventDecision.objects.filter(event=event, pk=event_decision_id).first()
    if decision is None:
        raise Http404(gettext("No such decision of this event."))
    decision.event = event
    return decision


def _document(event: EngagementEvent, document_id: int) -> EventDocument:
    document = EventDocument.objects.filter(event=event, pk=document_id).first()
    if document is None:
        raise Http404(gettext("No such document of this event."))
    document.event = event
    return document


def _to_event(event: EngagementEvent) -> HttpResponse:
    return redirect("engagement_event_detail", plan_id=event.plan_id, engagement_event_id=event.pk)


@require_safe
def engagement_events(request: SignedInRequest, plan_id: int) -> HttpResponse:
    plan, membership = _access(request, plan_id)
    filter_form = EventFilterForm(request.GET or None, plan=plan)
    context = {
        "plan": plan,
        "membership": membership,
        "may_write": membership.allows(Permission.ENGAGE),
        "filter_form": filter_form,
        "events": list(event_list_for_plan(plan=plan, **filter_form.filters())),
    }
    template = "stakeholders/events/_table.html" if request.htmx else "stakeholders/events/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
def participation_summary_view(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Participation in all the plan's events by sector and by organization: counts, no names."""
    plan, membership = _access(request, plan_id)
    context = {"plan": plan, "membership": membership, "summary": participation_summary(plan=plan)}
    return render(request, "stakeholders/events/participation.html", context)


@require_form_methods
def engagement_event_new(request: SignedInRequest, plan_id: int) -> HttpResponse:
    plan, membership = _access(request, plan_id, write=True)
    form = EngagementEventForm(request.POST if request.method == "POST" else None, plan=plan)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                event = event_create(plan=plan, by=request.user, fields=form.event_fields())
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, gettext("Event “%(event)s” recorded.") % {"event": event})
                return _to_event(event)
    return render(
        request, "stakeholders/events/form.html", {"plan": plan, "membership": membership, "form": form}, status=status
    )


def _detail_context(plan: Plan, membership: Any, event: EngagementEvent, **extra: Any) -> dict[str, Any]:
    may_write = membership.allows(Permission.ENGAGE)
    return {
        "plan": plan,
        "membership": membership,
        "event": event,
        "may_write": may_write,
        "participants": list(participant_list_for_event(event=event)),
        "decisions": list(decision_list_for_event(event=event)),
        "documents": list(event.documents.select_related("added_by").order_by("pk")),
        "summary": participation_summary(plan=plan, event=event),
        "document_form": DocumentForm() if may_write else None,
        **extra,
    }


@require_safe
def engagement_event_detail(request: SignedInRequest, plan_id: int, engagement_event_id: int) -> HttpResponse:
    plan, membership = _access(request, plan_id)
    event = _event(plan, engagement_event_id)
    return render(request, "stakeholders/events/detail.html", _detail_context(plan, membership, event))


@require_form_methods
def engagement_event_edit(request: SignedInRequest, plan_id: int, engagement_event_id: int) -> HttpResponse:
    plan, membership = _access(request, plan_id, write=True)
    event = _event(plan, engagement_event_id)
    form = EngagementEventForm(request.POST if request.method == "POST" else None, plan=plan, instance=copy.copy(event))
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                event_update(
                    event=event, by=request.user, version=form.cleaned_data["version"], fields=form.event_fields()
                )
            except (EditConflict, ValidationError) as refusal:
                status = form_refused(form, refusal)
            else:
                messages.success(request, gettext("Event “%(event)s” saved.") % {"event": event})
                return _to_event(event)
    context = {"plan": plan, "membership": membership, "form": form, "event": event}
    return render(request, "stakeholders/events/form.html", context, status=status)


@require_form_methods
def engagement_event_delete(request: SignedInRequest, plan_id: int, engagement_event_id: int) -> HttpResponse:
    plan, membership = _access(request, plan_id, write=True)
    event = _event(plan, engagement_event_id)
    error, status = "", 200
    if request.method == "POST":
        try:
            event_delete(event=event, by=request.user, version=whole_number(request.POST.get("version", "")))
        except EditConflict as conflict:
            error, status = str(conflict), 409
        else:
            messages.success(request, gettext("Event “%(event)s” deleted.") % {"event": event})
            return redirect("engagement_events", plan_id=plan.pk)
    context = {"plan": plan, "membership": membership, "event": event, "error": error}
    return render(request, "stakeholders/events/delete.html", context, status=status)


# --- Participants --------------------------------------------------------------------------------------------------


@require_form_methods
def engagement_participants_add(request: SignedInRequest, plan_id: int, engagement_event_id: int) -> HttpResponse:
    """People of the register to add, filtered by organization and sector (GET), several at once (POST)."""
    plan, membership = _access(request, plan_id, write=True)
    event = _event(plan, engagement_event_id)
    filter_form = PeopleFilterForm(request.GET or None, plan=plan)
    form = ParticipantsAddForm(request.POST if request.method == "POST" else None, plan=plan)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                added = participants_add(
                    event=event,
                    by=request.user,
                    people=list(form.cleaned_data["people"]),
                    invited=form.cleaned_data["invited"],
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(
                    request,
                    ngettext("%(count)s participant added.", "%(count)s participants added.", len(added))
                    % {"count": len(added)},
                )
                return _to_event(event)
    context = {
        "plan": plan,
        "membership": membership,
        "event": event,
        "filter_form": filter_form,
        "form": form,
        "candidates": list(people_to_add(event=event, **filter_form.filters())),
    }
    return render(request, "stakeholders/events/participants_add.html", context, status=status)


@require_POST
def engagement_participant_edit(
    request: SignedInRequest, plan_id: int, engagement_event_id: int, participant_id: int
) -> HttpResponse:
    plan, membership = _access(request, plan_id, write=True)
    event = _event(plan, engagement_event_id)
    participant = _participant(event, participant_id)
    form = ParticipantForm(request.POST)
    status = 422
    problem = ""
    if form.is_valid():
        try:
            participant_update(
                participant=participant,
                by=request.user,
                version=form.cleaned_data["version"],
                fields=form.participant_fields(),
            )
        except EditConflict as conflict:
            problem, status = str(conflict), 409
        except ValidationError as error:
            problem = " ".join(error.messages)
        else:
            messages.success(request, gettext("%(person)s: participation saved.") % {"person": participant.person})
            return _to_event(event)
    else:
        problem = " ".join(str(message) for messages_ in form.errors.values() for message in messages_)
    return render(
        request,
        "stakeholders/events/detail.html",
        _detail_context(plan, membership, event, problem=problem),
        status=status,
    )


@require_POST
def engagement_participant_remove(
    request: SignedInRequest, plan_id: int, engagement_event_id: int, participant_id: int
) -> HttpResponse:
    plan, membership = _access(request, plan_id, write=True)
    event = _event(plan, engagement_event_id)
    participant = _participant(event, participant_id)
    try:
        participant_remove(
            participant=participant, by=request.user, version=whole_number(request.POST.get("version", ""))
        )
    except EditConflict as conflict:
        context = _detail_context(plan, membership, event, problem=str(conflict))
        return render(request, "stakeholders/events/detail.html", context, status=409)
    messages.success(request, gettext("%(person)s removed from the participants.") % {"person": participant.person})
    return _to_event(event)


# --- Decisions -----------------------------------------------------------------------------------------------------


@require_form_methods
def engagement_decision_new(request: SignedInRequest, plan_id: int, engagement_event_id: int) -> HttpResponse:
    plan, membership = _access(request, plan_id, write=True)
    event = _event(plan, engagement_event_id)
    form = DecisionForm(request.POST if request.method == "POST" else None, plan=plan)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                decision_create(event=event, by=request.user, fields=form.decision_fields())
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, gettext("Decision recorded."))
                return _to_event(event)
    context = {"plan": plan, "membership": membership, "event": event, "form": form}
    return render(request, "stakeholders/events/decision_form.html", context, status=status)


@require_form_methods
def engagement_decision_edit(
    request: SignedInRequest, plan_id: int, engagement_event_id: int, event_decision_id: int
) -> HttpResponse:
    plan, membership = _access(request, plan_id, write=True)
    event = _event(plan, engagement_event_id)
    decision = _decision(event, event_decision_id)
    form = DecisionForm(request.POST if request.method == "POST" else None, plan=plan, instance=copy.copy(decision))
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                decision_update(
                    decision=decision,
                    by=request.user,
                    version=form.cleaned_data["version"],
                    fields=form.decision_fields(),
                )
            except (EditConflict, ValidationError) as refusal:
                status = form_refused(form, refusal)
            else:
                messages.success(request, gettext("Decision saved."))
                return _to_event(event)
    context = {"plan": plan, "membership": membership, "event": event, "decision": decision, "form": form}
    return render(request, "stakeholders/events/decision_form.html", context, status=status)


@require_POST
def engagement_decision_delete(
    request: SignedInRequest, plan_id: int, engagement_event_id: int, event_decision_id: int
) -> HttpResponse:
    plan, membership = _access(request, plan_id, write=True)
    event = _event(plan, engagement_event_id)
    decision = _decision(event, event_decision_id)
    try:
        decision_delete(decision=decision, by=request.user, version=whole_number(request.POST.get("version", "")))
    except EditConflict as conflict:
        context = _detail_context(plan, membership, event, problem=str(conflict))
        return render(request, "stakeholders/events/detail.html", context, status=409)
    messages.success(request, gettext("Decision deleted."))
    return _to_event(event)


# --- Documents -----------------------------------------------------------------------------------------------------


@require_POST
def engagement_document_add(request: SignedInRequest, plan_id: int, engagement_event_id: int) -> HttpResponse:
    plan, membership = _access(request, plan_id, write=True)
    event = _event(plan, engagement_event_id)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            document = document_add(
                event=event, by=request.user, file=form.cleaned_data["file"], title=form.cleaned_data["title"]
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, gettext("Document “%(document)s” added.") % {"document": document})
            return _to_event(event)
    context = _detail_context(plan, membership, event)
    context["document_form"] = form
    return render(request, "stakeholders/events/detail.html", context, status=422)


@require_safe
def engagement_document_download(
    request: SignedInRequest, plan_id: int, engagement_event_id: int, document_id: int
) -> HttpResponseBase:
    plan, _membership = _access(request, plan_id)
    return event_document_response(_document(_event(plan, engagement_event_id), document_id))


@require_POST
def engagement_document_delete(
    request: SignedInRequest, plan_id: int, engagement_event_id: int, document_id: int
) -> HttpResponse:
    plan, _membership = _access(request, plan_id, write=True)
    event = _event(plan, engagement_event_id)
    document = _document(event, document_id)
    document_delete(document=document, by=request.user)
    messages.success(request, gettext("Document “%(document)s” deleted.") % {"document": document})
    return _to_event(event)


# --- The attendance sheet ------------------------------------------------------------------------------------------


@require_safe
def engagement_attendance_sheet(request: SignedInRequest, plan_id: int, engagement_event_id: int) -> HttpResponse:
    """The sheet to sign in on (every member may print it: it holds the contact details members see)."""
    plan, _membership = _access(request, plan_id)
    event = _event(plan, engagement_event_id)
    response = HttpResponse(attendance_sheet(event=event), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{attendance_file_name(event)}"'
    return response


@require_form_methods
def engagement_attendance_import(request: SignedInRequest, plan_id: int, engagement_event_id: int) -> HttpResponse:
    plan, membership = _access(request, plan_id, write=True)
    event = _event(plan, engagement_event_id)
    form = AttendanceImportForm(request.POST or None, request.FILES or None)
    status, refused = 200, None
    if request.method == "POST":
        status = 422
        if form.is_valid():
            file = form.cleaned_data["file"]
            try:
                result = attendance_import(event=event, by=request.user, file=file, name=file.name or "")
            except AttendanceRefused as refusal:
                refused = refusal
            except EditConflict as conflict:
                form.add_error(None, str(conflict))
                status = 409
            else:
                if result.added or result.changed:
                    messages.success(
                        request,
                        gettext(
                            "Attendance sheet imported. Added: %(added)s; changed: %(changed)s; "
                            "unchanged: %(unchanged)s."
                        )
                        % {"added": result.added, "changed": result.changed, "unchanged": result.unchanged},
                    )
                else:
                    messages.info(request, gettext("The sheet changes nothing: every mark in it is recorded already."))
                return _to_event(event)
    context = {"plan": plan, "membership": membership, "event": event, "form": form, "refused": refused}
    return render(request, "stakeholders/events/attendance_import.html", context, status=status)


EVENT = "plans/<int:plan_id>/events/<int:engagement_event_id>/"

urlpatterns = [
    path("plans/<int:plan_id>/events/", engagement_events, name="engagement_events"),
    path("plans/<int:plan_id>/events/new/", engagement_event_new, name="engagement_event_new"),
    path("plans/<int:plan_id>/events/participation/", participation_summary_view, name="participation_summary"),
    path(EVENT, engagement_event_detail, name="engagement_event_detail"),
    path(f"{EVENT}edit/", engagement_event_edit, name="engagement_event_edit"),
    path(f"{EVENT}delete/", engagement_event_delete, name="engagement_event_delete"),
    path(f"{EVENT}participants/add/", engagement_participants_add, name="engagement_participants_add"),
    path(f"{EVENT}participants/<int:participant_id>/", engagement_participant_edit, name="engagement_participant_edit"),
    path(
        f"{EVENT}participants/<int:participant_id>/remove/",
        engagement_participant_remove,
        name="engagement_participant_remove",
    ),
    path(f"{EVENT}decisions/new/", engagement_decision_new, name="engagement_decision_new"),
    path(f"{EVENT}decisions/<int:event_decision_id>/", engagement_decision_edit, name="engagement_decision_edit"),
    path(
        f"{EVENT}decisions/<int:event_decision_id>/delete/",
        engagement_decision_delete,
        name="engagement_decision_delete",
    ),
    path(f"{EVENT}documents/", engagement_document_add, name="engagement_document_add"),
    path(f"{EVENT}documents/<int:document_id>/", engagement_document_download, name="engagement_document_download"),
    path(f"{EVENT}documents/<int:document_id>/delete/", engagement_document_delete, name="engagement_document_delete"),
    path(f"{EVENT}attendance.xlsx", engagement_attendance_sheet, name="engagement_attendance_sheet"),
    path(f"{EVENT}attendance/import/", engagement_attendance_import, name="engagement_attendance_import"),
]
