"""Costing pages: funding. The plan's funding commitments (resource mapping) with totals by status and the
funding gap by technical area and year; the secretariat adds, edits and deletes commitments, members read."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from costing.funding import (
    commitment_base_amount,
    funding_commitment_create,
    funding_commitment_delete,
    funding_commitment_list_for_plan,
    funding_commitment_update,
    funding_gap,
)
from costing.funding_forms import CommitmentForm, FundingFilterForm
from costing.models import FundingCommitment
from costing.services import Rates
from naphs.errors import EditConflict
from naphs.forms import form_errors_from, form_refused, whole_number
from naphs.permissions import Permission
from naphs.views import require_form_methods
from planning.models import Plan
from stakeholders.access import SignedInRequest, plan_get_for_user

ZERO = Decimal("0")


def _commitment(plan: Plan, commitment_id: int) -> FundingCommitment:
    """A commitment of this plan (404 for any other), with what it funds loaded."""
    commitment = (
        FundingCommitment.objects.select_related("source_organization", "technical_area")
        .prefetch_related("activities")
        .filter(plan=plan, pk=commitment_id)
        .first()
    )
    if commitment is None:
        raise Http404(gettext("No such funding commitment in this plan."))
    commitment.plan = plan
    return commitment


@require_safe
def funding(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The plan's commitments, filtered by GET parameters, with totals by status in the base currency and the
    funding gap by technical area and year. htmx requests from the filters get the table alone."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    filter_form = FundingFilterForm(request.GET or None, plan=plan)
    commitments = list(funding_commitment_list_for_plan(plan=plan).filter(**filter_form.filters()))
    rates = Rates.for_plan(plan)
    totals: dict[str, Decimal] = {status: ZERO for status in FundingCommitment.Status}
    unconverted = 0
    for commitment in commitments:
        amount = commitment_base_amount(commitment, rates)
        commitment.amount_base = amount  # type: ignore[attr-defined]  # for the table
        if amount is None:
            unconverted += 1
        else:
            totals[commitment.status] += amount
    context = {
        "plan": plan,
        "membership": membership,
        "may_manage": membership.can_edit_plan,
        "filter_form": filter_form,
        "commitments": commitments,
        "base_currency": rates.base,
        "totals": [(FundingCommitment.Status(status).label, amount) for status, amount in totals.items()],
        "firm_total": sum((totals[status] for status in FundingCommitment.FIRM), ZERO),
        "unconverted": unconverted,
    }
    if request.htmx:
        response = render(request, "costing/funding/_table.html", context)
    else:
        context["gap"] = funding_gap(plan=plan, rates=rates)
        response = render(request, "costing/funding/list.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_form_methods
def funding_new(request: SignedInRequest, plan_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_PLAN)
    form = CommitmentForm(request.POST if request.method == "POST" else None, plan=plan)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                commitment = funding_commitment_create(
                    plan=plan, by=request.user, fields=form.commitment_fields(), activities=form.chosen_activities()
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(
                    request,
                    gettext("Funding commitment of %(source)s added.") % {"source": commitment.source_organization},
                )
                return redirect("funding", plan_id=plan.pk)
    context = {"plan": plan, "membership": membership, "form": form}
    return render(request, "costing/funding/form.html", context, status=status)


@require_form_methods
def funding_edit(request: SignedInRequest, plan_id: int, commitment_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_PLAN)
    commitment = _commitment(plan, commitment_id)
    if request.method != "POST":
        form = CommitmentForm(plan=plan, commitment=commitment)
        context = {"plan": plan, "membership": membership, "form": form, "commitment": commitment}
        return render(request, "costing/funding/form.html", context)
    form = CommitmentForm(request.POST, plan=plan, commitment=commitment)
    status = 422
    if form.is_valid():
        version = form.cleaned_data["version"]
        try:
            if version is None:
                raise ValidationError(gettext("The form lost the version it was opened at; reload the page."))
            funding_commitment_update(
                commitment=commitment,
                by=request.user,
                version=version,
                fields=form.commitment_fields(),
                activities=form.chosen_activities(),
            )
        except (EditConflict, ValidationError) as refusal:
            status = form_refused(form, refusal)
        else:
            messages.success(
                request, gettext("Funding commitment of %(source)s saved.") % {"source": commitment.source_organization}
            )
            return redirect("funding", plan_id=plan.pk)
    context = {"plan": plan, "membership": membership, "form": form, "commitment": commitment}
    return render(request, "costing/funding/form.html", context, status=status)


@require_form_methods
def funding_delete(request: SignedInRequest, plan_id: int, commitment_id: int) -> HttpResponse:
    """Asks first (GET), deletes on POST; a commitment changed since the question was asked is kept."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_PLAN)
    commitment = _commitment(plan, commitment_id)
    error, status = "", 200
    if request.method == "POST":
        raw = request.POST.get("version", "")
        try:
            funding_commitment_delete(commitment=commitment, by=request.user, version=whole_number(raw))
        except EditConflict as conflict:
            error, status = str(conflict), 409
        else:
            messages.success(
                request,
                gettext("Funding commitment of %(source)s deleted.") % {"source": commitment.source_organization},
            )
            return redirect("funding", plan_id=plan.pk)
    rates = Rates.for_plan(plan)
    context = {
        "plan": plan,
        "membership": membership,
        "commitment": commitment,
        "amount_base": commitment_base_amount(commitment, rates),
        "base_currency": rates.base,
        "error": error,
    }
    return render(request, "costing/funding/delete.html", context, status=status)


urlpatterns = [
    path("plans/<int:plan_id>/funding/", funding, name="funding"),
    path("plans/<int:plan_id>/funding/new/", funding_new, name="funding_new"),
    path("plans/<int:plan_id>/funding/<int:commitment_id>/", funding_edit, name="funding_edit"),
    path("plans/<int:plan_id>/funding/<int:commitment_id>/delete/", funding_delete, name="funding_delete"),
]
