"""HTML views of review rounds: the plan's rounds and the form to open one, a round with its reviewers and
verdicts, a reviewer's verdict (htmx, in place) and closing a round."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from naphs.errors import EditConflict
from naphs.forms import form_errors_from, form_refused
from naphs.permissions import Permission
from naphs.views import require_form_methods
from planning.forms import ReviewRoundCloseForm, ReviewRoundOpenForm, ReviewVerdictForm
from planning.models import Plan, ReviewRound
from planning.reviews import (
    review_round_close,
    review_round_get,
    review_round_open,
    review_round_previous_snapshot,
    review_rounds_for_plan,
    review_verdict_give,
)
from stakeholders.access import SignedInRequest, plan_get_for_user
from stakeholders.models import PlanMembership


def _may_open(plan: Plan, membership: PlanMembership, open_round: ReviewRound | None) -> bool:
    return membership.allows(Permission.MANAGE) and open_round is None and not plan.is_frozen


@require_form_methods
def review_rounds(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The plan's review rounds; the secretariat opens the next one here (POST)."""
    need = Permission.MANAGE if request.method == "POST" else Permission.VIEW
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=need)
    form = ReviewRoundOpenForm(request.POST if request.method == "POST" else None, plan=plan)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                review_round = review_round_open(
                    plan=plan,
                    by=request.user,
                    reviewers=data["reviewers"],
                    due_on=data["due_on"],
                    message=data["message"],
                    plan_version=data.get("plan_version"),
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                count = len(data["reviewers"])
                messages.success(
                    request,
                    ngettext(
                        "%(round)s is open; %(count)d reviewer is invited by e-mail.",
                        "%(round)s is open; %(count)d reviewers are invited by e-mail.",
                        count,
                    )
                    % {"round": review_round, "count": count},
                )
                return redirect("review_round", plan_id=plan.pk, round_id=review_round.pk)
    rounds = list(review_rounds_for_plan(plan=plan))
    open_round = next((review_round for review_round in rounds if review_round.is_open), None)
    context = {
        "plan": plan,
        "membership": membership,
        "rounds": rounds,
        "open_round": open_round,
        "form": form if _may_open(plan, membership, open_round) else None,
    }
    return render(request, "planning/reviews/rounds.html", context, status=status)


def _round_context(
    request: SignedInRequest, plan: Plan, membership: PlanMembership, review_round: ReviewRound, **extra: Any
) -> dict[str, Any]:
    invitations = list(review_round.invitations.all())
    mine = next((invitation for invitation in invitations if invitation.reviewer_id == request.user.pk), None)
    may_give_verdict = mine is not None and review_round.is_open and membership.role_allows(Permission.COMMENT)
    verdict_form = extra.pop("verdict_form", None)
    if may_give_verdict and verdict_form is None and mine is not None:
        verdict_form = ReviewVerdictForm(
            initial={"verdict": mine.verdict, "summary": mine.summary, "version": mine.version}
        )
    close_form = extra.pop("close_form", None)
    if close_form is None and review_round.is_open and membership.allows(Permission.MANAGE):
        close_form = ReviewRoundCloseForm()
    comments_url = reverse("comments", kwargs={"plan_id": plan.pk})
    return {
        "plan": plan,
        "membership": membership,
        "review_round": review_round,
        "invitations": invitations,
        "silent": [invitation for invitation in invitations if not invitation.verdict],
        "mine": mine,
        "verdict_form": verdict_form if may_give_verdict else None,
        "close_form": close_form if review_round.is_open and membership.allows(Permission.MANAGE) else None,
        "comments_url": f"{comments_url}?round={review_round.pk}",
        # What the round before reviewed, for the comparison with what this one reviews (None for the first).
        "previous_snapshot": review_round_previous_snapshot(review_round),
        **extra,
    }


@require_safe
def review_round(request: SignedInRequest, plan_id: int, round_id: int) -> HttpResponse:
    """A round: what it reviews, its message and due date, its reviewers and their verdicts; the verdict form for
    a reviewer it invites and the closing form for the secretariat."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    review_round = review_round_get(plan=plan, round_id=round_id)
    context = _round_context(request, plan, membership, review_round)
    return render(request, "planning/reviews/round.html", context)


@require_POST
def review_verdict(request: SignedInRequest, plan_id: int, round_id: int) -> HttpResponse:
    """The signed-in reviewer's verdict in the round. htmx gets the verdict's part of the page back (the form,
    saved or with its errors) and the reviewers' list updated in place."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    review_round = review_round_get(plan=plan, round_id=round_id)
    form = ReviewVerdictForm(request.POST)
    status, saved = 422, False
    if form.is_valid():
        data = form.cleaned_data
        try:
            review_verdict_give(
                review_round=review_round,
                membership=membership,
                verdict=data["verdict"],
                summary=data["summary"],
                version=data["version"],
            )
        except (EditConflict, ValidationError) as refusal:
            status = form_refused(form, refusal)
        else:
            status, saved = 200, True
    else:
        # The refusal of someone not invited comes first, whatever they sent.
        from planning.reviews import review_invitation_of

        review_invitation_of(review_round=review_round, membership=membership)
    if saved and not request.htmx:
        messages.success(request, _("Your verdict is saved."))
        return redirect("review_round", plan_id=plan.pk, round_id=review_round.pk)
    review_round = review_round_get(plan=plan, round_id=round_id)
    context = _round_context(request, plan, membership, review_round, verdict_form=None if saved else form)
    context["saved"] = saved
    template = "planning/reviews/_verdict.html" if request.htmx else "planning/reviews/round.html"
    return render(request, template, context, status=status)


@require_POST
def review_round_close_view(request: SignedInRequest, plan_id: int, round_id: int) -> HttpResponse:
    """Close the round (the secretariat): the plan back to draft or on to endorsement."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    review_round = review_round_get(plan=plan, round_id=round_id)
    form = ReviewRoundCloseForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            closed = review_round_close(
                review_round=review_round,
                by=request.user,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except (EditConflict, ValidationError) as refusal:
            status = form_refused(form, refusal)
        else:
            silent = [
                str(invitation.reviewer) for invitation in review_round.invitations.all() if not invitation.verdict
            ]
            messages.success(request, _("%(round)s is closed.") % {"round": closed})
            if silent:
                messages.warning(
                    request,
                    ngettext(
                        "%(names)s gave no verdict.",
                        "%(names)s gave no verdict.",
                        len(silent),
                    )
                    % {"names": ", ".join(silent)},
                )
            return redirect("review_round", plan_id=plan.pk, round_id=review_round.pk)
    review_round = review_round_get(plan=plan, round_id=round_id)  # as it is now: closed meanwhile, say
    refused = ""
    if not review_round.is_open:  # the form is gone from the page: say why above it
        refused = " ".join(str(error) for errors in form.errors.values() for error in errors)
    context = _round_context(request, plan, membership, review_round, close_form=form, refused=refused)
    return render(request, "planning/reviews/round.html", context, status=status)
