"""Monitoring pages: quarterly and annual reviews. The plan's reviews; recording one (the secretariat), with the
snapshot of every activity's progress it keeps; a review as it was, with its counts by status and its decisions;
a decision on one activity; and, for an annual review, carrying activities into the next operational plan. Every
member reads; the secretariat records, also while the plan is endorsed."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST, require_safe

from costing.services import plan_costing_get
from monitoring.models import ProgressStatus, Review, ReviewDecision
from monitoring.review_forms import CarryOverForm, DecisionForm, ReviewForm
from monitoring.reviews import (
    NO_REPORT,
    CarryOver,
    decision_delete,
    decision_list_for_review,
    decision_save,
    review_carry_over,
    review_create,
    review_get,
    review_list_for_plan,
    review_update,
    snapshot_counts,
    snapshot_unfinished,
    status_label,
)
from naphs.errors import EditConflict
from naphs.forms import form_errors_from, form_refused, whole_number
from naphs.permissions import Permission
from naphs.views import require_form_methods
from planning.models import Activity, Plan
from stakeholders.access import SignedInRequest, activity_get_for_user, plan_get_for_user
from stakeholders.models import PlanMembership


@require_safe
def progress_reviews(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The plan's reviews, the latest first, each with its counts by status at the time."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    reviews = list(review_list_for_plan(plan=plan))
    rows = [(review, snapshot_counts(review.snapshot), len(review.snapshot)) for review in reviews]
    context = {
        "plan": plan,
        "membership": membership,
        "rows": rows,
        "may_manage": membership.allows(Permission.MANAGE),
        "has_periods": plan.reporting_periods.exists(),
    }
    return render(request, "monitoring/reviews/list.html", context)


def _review_fields(form: ReviewForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {name: data[name] for name in ("kind", "held_on", "participants", "decisions")}


@require_form_methods
def progress_review_new(request: SignedInRequest, plan_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    form = ReviewForm(request.POST if request.method == "POST" else None, plan=plan)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                review = review_create(
                    plan=plan,
                    by=request.user,
                    period=form.cleaned_data["period"],
                    participant_members=form.cleaned_data["participant_members"],
                    **_review_fields(form),
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(review)s recorded, with the progress of %(count)d activity as it stands.",
                        "%(review)s recorded, with the progress of %(count)d activities as they stand.",
                        len(review.snapshot),
                    )
                    % {"review": review, "count": len(review.snapshot)},
                )
                return redirect("progress_review", plan_id=plan.pk, review_id=review.pk)
    context = {"plan": plan, "membership": membership, "form": form}
    return render(request, "monitoring/reviews/form.html", context, status=status)


@require_form_methods
def progress_review_edit(request: SignedInRequest, plan_id: int, review_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    review = review_get(plan=plan, review_id=review_id)
    if request.method != "POST":
        form = ReviewForm(plan=plan, review=review)
        context = {"plan": plan, "membership": membership, "form": form, "review": review}
        return render(request, "monitoring/reviews/form.html", context)
    form = ReviewForm(request.POST, plan=plan, review=review)
    status = 422
    if form.is_valid():
        version = form.cleaned_data["version"]
        try:
            if version is None:
                raise ValidationError(gettext("The form lost the version it was opened at; reload the page."))
            review_update(
                review=review,
                by=request.user,
                version=version,
                participant_members=form.cleaned_data["participant_members"],
                **_review_fields(form),
            )
        except (EditConflict, ValidationError) as refusal:
            status = form_refused(form, refusal)
        else:
            messages.success(request, gettext("%(review)s saved.") % {"review": review})
            return redirect("progress_review", plan_id=plan.pk, review_id=review.pk)
    context = {"plan": plan, "membership": membership, "form": form, "review": review}
    return render(request, "monitoring/reviews/form.html", context, status=status)


STATUS_FILTERS = [*ProgressStatus.values, NO_REPORT]


@require_safe
def progress_review(request: SignedInRequest, plan_id: int, review_id: int) -> HttpResponse:
    """A review as it was recorded: its counts by status and every activity's progress then (filtered by status
    with ?status=), each with the review's decision on it, and what is still to apply."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    review = review_get(plan=plan, review_id=review_id)
    decisions = {decision.activity_id: decision for decision in decision_list_for_review(review=review)}
    shown = request.GET.get("status")
    if shown is not None and shown not in STATUS_FILTERS and shown != "unfinished":
        shown = None
    entries = review.snapshot
    if shown == "unfinished":
        entries = [entry for entry in entries if snapshot_unfinished(entry)]
    elif shown is not None:
        entries = [entry for entry in entries if entry["status"] == shown]
    existing = set(Activity.objects.filter(plan=plan).values_list("pk", flat=True))
    rows = [
        {
            **entry,
            "status_label": status_label(entry["status"]),
            "decision": decisions.get(entry["activity"]),
            "exists": entry["activity"] in existing,
        }
        for entry in entries
    ]
    pending = [
        decision for decision in decisions.values() if decision.decision in _APPLIED and decision.applied_at is None
    ]
    unfinished = sum(1 for entry in review.snapshot if snapshot_unfinished(entry))
    context = {
        "plan": plan,
        "membership": membership,
        "review": review,
        "counts": snapshot_counts(review.snapshot),
        "total": len(review.snapshot),
        "unfinished": unfinished,
        "rows": rows,
        "shown": shown,
        "decisions": list(decisions.values()),
        "pending": pending,
        "base_currency": plan_costing_get(plan).currency,
        "may_manage": membership.allows(Permission.MANAGE),
        "may_carry_over": review.kind == Review.Kind.ANNUAL and membership.allows(Permission.MANAGE),
    }
    return render(request, "monitoring/reviews/detail.html", context)


_APPLIED = (ReviewDecision.Decision.RESCHEDULED, ReviewDecision.Decision.DROPPED)


def _decision_context(
    plan: Plan, membership: PlanMembership, review: Review, activity: Activity, **extra: Any
) -> dict[str, Any]:
    entry = next((entry for entry in review.snapshot if entry["activity"] == activity.pk), None)
    return {
        "plan": plan,
        "membership": membership,
        "review": review,
        "activity": activity,
        "entry": entry,
        "entry_status": status_label(entry["status"]) if entry else "",
        **extra,
    }


@require_form_methods
def progress_review_decision(request: SignedInRequest, plan_id: int, review_id: int, activity_id: int) -> HttpResponse:
    """The review's decision on one activity of the plan: carried over, re-scheduled (new dates) or dropped. The
    new dates or the drop reach the activity at once on a draft plan, when it is reopened on an endorsed one."""
    activity, membership = activity_get_for_user(
        user=request.user, plan_id=plan_id, activity_id=activity_id, need=Permission.MANAGE
    )
    plan = membership.plan
    review = review_get(plan=plan, review_id=review_id)
    decision = ReviewDecision.objects.filter(review=review, activity=activity).first()
    form = DecisionForm(request.POST if request.method == "POST" else None, decision=decision)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["version"] is None:
                    raise ValidationError(gettext("The form lost the version it was opened at; reload the page."))
                saved, applied = decision_save(
                    review=review,
                    activity=activity,
                    by=request.user,
                    version=data["version"],
                    decision=data["decision"],
                    new_start_date=data["new_start_date"],
                    new_end_date=data["new_end_date"],
                    note=data["note"],
                )
            except (EditConflict, ValidationError) as refusal:
                status = form_refused(form, refusal)
            else:
                text = gettext("Decision on “%(activity)s” saved.") % {"activity": activity.title}
                if saved.decision in _APPLIED and not applied and saved.applied_at is None:
                    text += " " + _waiting_message(saved)
                messages.success(request, text)
                return redirect("progress_review", plan_id=plan.pk, review_id=review.pk)
    context = _decision_context(plan, membership, review, activity, form=form, decision=decision)
    return render(request, "monitoring/reviews/decision.html", context, status=status)


def _waiting_message(decision: ReviewDecision) -> str:
    if decision.decision == ReviewDecision.Decision.RESCHEDULED:
        return gettext(
            "The plan is endorsed, so the activity keeps its dates for now: the new dates apply when the plan is "
            "reopened, and in the next operational plan it is carried into."
        )
    return gettext(
        "The plan is endorsed, so the activity is not cancelled yet: it is when the plan is reopened, and it is not "
        "carried into the next operational plan."
    )


@require_POST
def progress_review_decision_delete(
    request: SignedInRequest, plan_id: int, review_id: int, activity_id: int
) -> HttpResponse:
    """Remove the review's decision on the activity, as last seen (what it applied to the activity stays)."""
    activity, membership = activity_get_for_user(
        user=request.user, plan_id=plan_id, activity_id=activity_id, need=Permission.MANAGE
    )
    plan = membership.plan
    review = review_get(plan=plan, review_id=review_id)
    decision = decision_list_for_review(review=review).filter(activity=activity).first()
    if decision is None:
        messages.info(request, gettext("The review has no decision on “%(activity)s”.") % {"activity": activity.title})
        return redirect("progress_review", plan_id=plan.pk, review_id=review.pk)
    decision.review = review
    try:
        decision_delete(decision=decision, by=request.user, version=whole_number(request.POST.get("version", "")))
    except EditConflict as conflict:
        decision = ReviewDecision.objects.filter(pk=decision.pk).first()  # as it is now
        form = DecisionForm(decision=decision)
        context = _decision_context(
            plan, membership, review, activity, form=form, decision=decision, refused=str(conflict)
        )
        return render(request, "monitoring/reviews/decision.html", context, status=409)
    messages.success(request, gettext("Decision on “%(activity)s” removed.") % {"activity": activity.title})
    return redirect("progress_review", plan_id=plan.pk, review_id=review.pk)


def _carried_message(request: SignedInRequest, result: CarryOver) -> None:
    target = result.target
    if result.carried:
        messages.success(
            request,
            ngettext(
                "%(count)d activity carried into “%(plan)s”, with its cost lines in that plan's years.",
                "%(count)d activities carried into “%(plan)s”, with their cost lines in that plan's years.",
                len(result.carried),
            )
            % {"count": len(result.carried), "plan": target},
        )
    if result.already:
        messages.info(
            request,
            ngettext(
                "Already in “%(plan)s”, so not drawn again: %(titles)s.",
                "Already in “%(plan)s”, so not drawn again: %(titles)s.",
                len(result.already),
            )
            % {"plan": target, "titles": "; ".join(activity.title for activity, _copy in result.already)},
        )
    if result.undated:
        messages.warning(
            request,
            ngettext(
                "Drawn without dates, since its dates lay outside “%(plan)s”; schedule it there: %(titles)s.",
                "Drawn without dates, since their dates lay outside “%(plan)s”; schedule them there: %(titles)s.",
                len(result.undated),
            )
            % {"plan": target, "titles": "; ".join(activity.title for activity in result.undated)},
        )
    if result.without_origin:
        messages.warning(
            request,
            ngettext(
                "Not carried, having no activity of the strategic plan behind it (add it to “%(plan)s” by hand): "
                "%(titles)s.",
                "Not carried, having no activity of the strategic plan behind them (add them to “%(plan)s” by hand): "
                "%(titles)s.",
                len(result.without_origin),
            )
            % {"plan": target, "titles": "; ".join(activity.title for activity in result.without_origin)},
        )


@require_form_methods
def progress_review_carry_over(request: SignedInRequest, plan_id: int, review_id: int) -> HttpResponse:
    """An annual review's unfinished activities (or those chosen) drawn into a draft operational plan under the same
    strategic plan that the person manages; those already there are reported, not drawn again."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    review = review_get(plan=plan, review_id=review_id)
    form = CarryOverForm(request.POST if request.method == "POST" else None, review=review, user=request.user)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                result = review_carry_over(
                    review=review,
                    by=request.user,
                    target=form.cleaned_data["plan"],
                    activities=form.cleaned_data["activities"],
                )
            except (EditConflict, ValidationError) as refusal:
                status = form_refused(form, refusal)
            else:
                _carried_message(request, result)
                return redirect("progress_review", plan_id=plan.pk, review_id=review.pk)
    unfinished = {entry["activity"] for entry in review.snapshot if snapshot_unfinished(entry)}
    context = {
        "plan": plan,
        "membership": membership,
        "review": review,
        "form": form if review.kind == Review.Kind.ANNUAL else None,
        "unfinished": unfinished,
        "strategic": plan if plan.kind == Plan.Kind.STRATEGIC else plan.parent,
    }
    return render(request, "monitoring/reviews/carry_over.html", context, status=status)


urlpatterns = [
    path("plans/<int:plan_id>/monitoring/reviews/", progress_reviews, name="progress_reviews"),
    path("plans/<int:plan_id>/monitoring/reviews/new/", progress_review_new, name="progress_review_new"),
    path("plans/<int:plan_id>/monitoring/reviews/<int:review_id>/", progress_review, name="progress_review"),
    path(
        "plans/<int:plan_id>/monitoring/reviews/<int:review_id>/edit/",
        progress_review_edit,
        name="progress_review_edit",
    ),
    path(
        "plans/<int:plan_id>/monitoring/reviews/<int:review_id>/decisions/<int:activity_id>/",
        progress_review_decision,
        name="progress_review_decision",
    ),
    path(
        "plans/<int:plan_id>/monitoring/reviews/<int:review_id>/decisions/<int:activity_id>/delete/",
        progress_review_decision_delete,
        name="progress_review_decision_delete",
    ),
    path(
        "plans/<int:plan_id>/monitoring/reviews/<int:review_id>/carry-over/",
        progress_review_carry_over,
        name="progress_review_carry_over",
    ),
]
