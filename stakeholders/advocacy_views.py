"""Pages of the plan's stakeholder engagement: advocacy. The plan's advocacy plans, filtered by status, need and
technical area, beside its largest funding gaps and the advocacy addressing each ("Draft advocacy for this gap");
an advocacy's page with the commitments its pledges became. The secretariat writes (also on an endorsed plan); every
member reads."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from naphs.errors import EditConflict
from naphs.forms import form_errors_from, form_refused, whole_number
from naphs.permissions import Permission
from naphs.views import require_form_methods
from planning.models import Plan
from planning.selectors import technical_areas_of
from stakeholders.access import SignedInRequest, plan_get_for_user
from stakeholders.advocacy import (
    advocacy_create,
    advocacy_delete,
    advocacy_filtered,
    advocacy_list_for_plan,
    advocacy_update,
    base_currency_of,
    largest_gaps,
)
from stakeholders.advocacy_forms import AdvocacyFilterForm, AdvocacyForm
from stakeholders.models import Advocacy

CHANNELS = frozenset(Advocacy.Channel.values)


def _advocacy(plan: Plan, advocacy_id: int) -> Advocacy:
    """An advocacy of this plan, with what it names loaded (404 for any other)."""
    advocacy = advocacy_list_for_plan(plan=plan).filter(pk=advocacy_id).first()
    if advocacy is None:
        raise Http404(gettext("No such advocacy in this plan."))
    advocacy.plan = plan
    return advocacy


@require_safe
def advocacy_list(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The plan's advocacy (filtered by GET parameters: status, need, technical area) and its largest funding gaps
    by technical area, each with the advocacy addressing it."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    filter_form = AdvocacyFilterForm(request.GET or None, plan=plan)
    rows = list(advocacy_filtered(advocacy_list_for_plan(plan=plan), **filter_form.filters()))
    context = {
        "plan": plan,
        "membership": membership,
        "may_write": membership.allows(Permission.ENGAGE),
        "filter_form": filter_form,
        "advocacy_rows": rows,
        "gaps": largest_gaps(plan=plan),
        "currency": base_currency_of(plan),
    }
    return render(request, "stakeholders/advocacy/list.html", context)


def _gap_initial(plan: Plan, raw_area: str) -> dict[str, Any]:
    """A new advocacy drafted for a technical area's funding gap: the need, the area, the gap as the ask in the base
    currency. The gap is read here, never taken from the link."""
    area_id = whole_number(raw_area)
    if area_id is None:
        return {}
    row = next((row for row in largest_gaps(plan=plan, limit=1000) if row.area.pk == area_id), None)
    area = row.area if row else technical_areas_of(plan).filter(pk=area_id).first()
    if area is None:
        return {}
    initial: dict[str, Any] = {
        "need": Advocacy.Need.FUNDING_GAP,
        "technical_areas": [area.pk],
        "ask": Advocacy.Ask.AMOUNT,
        "ask_currency": base_currency_of(plan),
        "title": gettext("Funding for %(area)s") % {"area": f"{area.code} {area.local_name}"},
    }
    if row is not None:
        initial["ask_amount"] = row.gap
    return initial


@require_form_methods
def advocacy_new(request: SignedInRequest, plan_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.ENGAGE)
    if request.method == "POST":
        form = AdvocacyForm(request.POST, plan=plan)
    else:
        initial = _gap_initial(plan, request.GET.get("gap_area", ""))
        initial.setdefault("ask_currency", base_currency_of(plan))
        initial.setdefault("owner", request.user.pk)
        form = AdvocacyForm(plan=plan, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                advocacy = advocacy_create(
                    plan=plan, by=request.user, fields=form.advocacy_fields(), **form.references()
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, gettext("Advocacy “%(advocacy)s” added.") % {"advocacy": advocacy})
                return redirect("advocacy_detail", plan_id=plan.pk, advocacy_id=advocacy.pk)
    context = {"plan": plan, "membership": membership, "form": form}
    return render(request, "stakeholders/advocacy/form.html", context, status=status)


@require_safe
def advocacy_detail(request: SignedInRequest, plan_id: int, advocacy_id: int) -> HttpResponse:
    """An advocacy: its audience, ask (and the ask in the base currency), messages, messengers, channels, timing,
    what it addresses, its outcome and the funding commitments its pledges became."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    advocacy = _advocacy(plan, advocacy_id)
    commitments = list(advocacy.funding_commitments.select_related("source_organization").order_by("pk"))
    context = {
        "plan": plan,
        "membership": membership,
        "advocacy": advocacy,
        "commitments": commitments,
        "channel_labels": [Advocacy.Channel(value).label for value in advocacy.channels if value in CHANNELS],
        "currency": base_currency_of(plan),
        "may_write": membership.allows(Permission.ENGAGE),
        "may_pledge": membership.role_allows(Permission.EDIT_PLAN),
    }
    return render(request, "stakeholders/advocacy/detail.html", context)


@require_form_methods
def advocacy_edit(request: SignedInRequest, plan_id: int, advocacy_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.ENGAGE)
    advocacy = _advocacy(plan, advocacy_id)
    if request.method == "POST":
        form = AdvocacyForm(request.POST, plan=plan, instance=copy.copy(advocacy))
    else:
        initial = {
            "messengers": [person.pk for person in advocacy.messengers.all()],
            "technical_areas": [area.pk for area in advocacy.technical_areas.all()],
            "activities": [activity.pk for activity in advocacy.activities.all()],
        }
        form = AdvocacyForm(plan=plan, instance=copy.copy(advocacy), initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                advocacy_update(
                    advocacy=advocacy,
                    by=request.user,
                    version=form.cleaned_data["version"],
                    fields=form.advocacy_fields(),
                    **form.references(),
                )
            except (EditConflict, ValidationError) as refusal:
                status = form_refused(form, refusal)
            else:
                messages.success(request, gettext("Advocacy “%(advocacy)s” saved.") % {"advocacy": advocacy})
                return redirect("advocacy_detail", plan_id=plan.pk, advocacy_id=advocacy.pk)
    context = {"plan": plan, "membership": membership, "form": form, "advocacy": advocacy}
    return render(request, "stakeholders/advocacy/form.html", context, status=status)


@require_form_methods
def advocacy_delete_view(request: SignedInRequest, plan_id: int, advocacy_id: int) -> HttpResponse:
    """Asks first (GET), deletes on POST; an advocacy changed since the question was asked is kept."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.ENGAGE)
    advocacy = _advocacy(plan, advocacy_id)
    error, status = "", 200
    if request.method == "POST":
        try:
            advocacy_delete(advocacy=advocacy, by=request.user, version=whole_number(request.POST.get("version", "")))
        except EditConflict as conflict:
            error, status = str(conflict), 409
        else:
            messages.success(request, gettext("Advocacy “%(advocacy)s” deleted.") % {"advocacy": advocacy})
            return redirect("advocacy_list", plan_id=plan.pk)
    context = {
        "plan": plan,
        "membership": membership,
        "advocacy": advocacy,
        "commitment_count": advocacy.funding_commitments.count(),
        "error": error,
    }
    return render(request, "stakeholders/advocacy/delete.html", context, status=status)


urlpatterns = [
    path("plans/<int:plan_id>/advocacy/", advocacy_list, name="advocacy_list"),
    path("plans/<int:plan_id>/advocacy/new/", advocacy_new, name="advocacy_new"),
    path("plans/<int:plan_id>/advocacy/<int:advocacy_id>/", advocacy_detail, name="advocacy_detail"),
    path("plans/<int:plan_id>/advocacy/<int:advocacy_id>/edit/", advocacy_edit, name="advocacy_edit"),
    path("plans/<int:plan_id>/advocacy/<int:advocacy_id>/delete/", advocacy_delete_view, name="advocacy_delete"),
]
