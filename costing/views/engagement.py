"""Costing pages: an advocacy's pledge recorded as a funding commitment of the plan, in one step with the advocacy's
status and outcome (costing.engagement). Funding is the plan's content: the secretariat records it, and an endorsed
plan refuses it (423, the page saying so beforehand)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from costing.engagement import advocacy_get, advocacy_pledge_record, pledge_initial
from costing.funding_forms import CommitmentForm
from naphs.errors import EditConflict
from naphs.forms import form_refused
from naphs.permissions import Permission
from naphs.views import require_form_methods
from stakeholders.access import SignedInRequest, membership_need_check, plan_get_for_user
from stakeholders.models import Advocacy


class PledgeForm(CommitmentForm):
    """The commitment a pledge becomes (CommitmentForm's fields, `version` being the advocacy's), and the advocacy's
    status and outcome recorded with it."""

    advocacy_status = forms.ChoiceField(choices=Advocacy.Status.choices, label=_("Status of the advocacy"))
    outcome = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("Outcome of the advocacy")
    )

    def clean_version(self) -> int:
        version = self.cleaned_data.get("version")
        if version is None:
            raise forms.ValidationError(gettext("The form lost track of the version you opened; reload the page."))
        return version


@require_form_methods
def advocacy_pledge(request: SignedInRequest, plan_id: int, advocacy_id: int) -> HttpResponse:
    """GET: the form, proposed from the advocacy (and, on an endorsed plan, why it cannot be saved); POST: the
    commitment and the advocacy's outcome, together or not at all."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    if not membership.role_allows(Permission.EDIT_PLAN):
        raise PermissionDenied(
            gettext(
                "Funding commitments are recorded by the secretariat; your role in this plan (%(role)s) reads them."
            )
            % {"role": membership.get_role_display()}
        )
    advocacy = advocacy_get(plan, advocacy_id)
    status = 200
    if request.method == "POST":
        membership_need_check(membership, Permission.EDIT_PLAN)  # 423 on an endorsed plan
        form = PledgeForm(request.POST, plan=plan)
        status = 422
        if form.is_valid():
            data: dict[str, Any] = form.cleaned_data
            try:
                commitment = advocacy_pledge_record(
                    advocacy=advocacy,
                    by=request.user,
                    version=data["version"],
                    fields=form.commitment_fields(),
                    activities=form.chosen_activities(),
                    status=data["advocacy_status"],
                    outcome=data.get("outcome", ""),
                )
            except (EditConflict, ValidationError) as refusal:
                status = form_refused(form, refusal)
            else:
                messages.success(
                    request,
                    gettext("The pledge of %(source)s is now a funding commitment of the plan.")
                    % {"source": commitment.source_organization},
                )
                return redirect("advocacy_detail", plan_id=plan.pk, advocacy_id=advocacy.pk)
    else:
        form = PledgeForm(plan=plan, initial=pledge_initial(advocacy))
    context = {"plan": plan, "membership": membership, "advocacy": advocacy, "form": form}
    return render(request, "costing/engagement/pledge.html", context, status=status)


urlpatterns = [
    path(
        "plans/<int:plan_id>/advocacy/<int:advocacy_id>/pledge/",
        advocacy_pledge,
        name="advocacy_pledge",
    ),
]
