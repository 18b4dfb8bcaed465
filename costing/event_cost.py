"""The cost of an engagement event from the meeting cost builder (costing.builders): the builder's questions,
prefilled from the event (participants: those invited; days: the event's; name: its title), a preview of the lines
with their total, and the total kept on the event (in the plan's base currency) with the answers it came from
(stakeholders.events.event_cost_record). The secretariat may instead type the cost on the event's form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext

from costing.builders import BUILDERS, cost_lines_preview
from costing.line_forms import BuilderForm
from costing.services import plan_costing_get
from naphs.errors import EditConflict
from naphs.forms import form_errors_from, whole_number
from naphs.permissions import Permission
from naphs.views import require_form_methods
from planning.models import Activity
from stakeholders.access import SignedInRequest, plan_get_for_user
from stakeholders.events import event_cost_record, event_get

MEETING = BUILDERS["meeting"]


def _answers_json(data: dict[str, Any]) -> dict[str, Any]:
    """The form's answers as the event keeps them: numbers as text, catalogue items by number."""
    kept: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, Model):
            kept[name] = value.pk
        elif isinstance(value, Decimal):
            kept[name] = str(value)
        elif isinstance(value, (list, tuple)):
            kept[name] = [str(item) if isinstance(item, Decimal) else item for item in value]
        else:
            kept[name] = value
    return kept


@require_form_methods
def event_cost(request: SignedInRequest, plan_id: int, engagement_event_id: int) -> HttpResponse:
    """The meeting builder's questions for the event; "Preview" shows the lines and their total, "Keep this cost"
    stores the total on the event (the secretariat, as every write to an event)."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.ENGAGE)
    event = event_get(plan=plan, event_id=engagement_event_id)
    if event is None:
        raise Http404(gettext("No such engagement event in this plan."))
    costing = plan_costing_get(plan)
    year = event.starts_on.year if plan.first_year <= event.starts_on.year <= plan.last_year else plan.first_year
    initial: dict[str, Any] = {
        "name": event.title[:120],
        "participants": event.participants.filter(invited=True).count() or None,
        "days": event.days,
        "years": [year],
    }
    initial.update({key: value for key, value in (event.cost_answers or {}).items() if key != "years"})
    data = request.POST if request.method == "POST" else None
    form = BuilderForm(data, builder=MEETING, plan=plan, costing=costing, initial=initial)
    previews, status, total = None, 200, None
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                lines = MEETING.lines(form.schedule(), form.answers())
                # The lines are priced as an activity's would be; the event's activity, or none, carries them.
                activity = event.activity or Activity(plan=plan)
                previews = cost_lines_preview(activity=activity, lines=lines)
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                status = 200
                total = sum((preview.total for preview in previews), Decimal(0))
                if request.POST.get("action") == "save":
                    version = whole_number(request.POST.get("version", ""))
                    try:
                        event_cost_record(
                            event=event,
                            by=request.user,
                            version=version if version is not None else -1,
                            cost=total,
                            answers=_answers_json(form.cleaned_data),
                        )
                    except (EditConflict, ValidationError) as refusal:
                        form.add_error(None, str(refusal) if isinstance(refusal, EditConflict) else refusal)
                        status = 409 if isinstance(refusal, EditConflict) else 422
                    else:
                        messages.success(
                            request,
                            gettext("The event's cost is now %(total)s %(currency)s.")
                            % {"total": f"{total:,.2f}", "currency": costing.currency},
                        )
                        return redirect("engagement_event_detail", plan_id=plan.pk, engagement_event_id=event.pk)
    context = {
        "plan": plan,
        "membership": membership,
        "event": event,
        "builder": MEETING,
        "form": form,
        "previews": previews,
        "preview_total": total,
        "currency": costing.currency,
    }
    return render(request, "costing/event_cost/form.html", context, status=status)


urlpatterns = [path("plans/<int:plan_id>/events/<int:engagement_event_id>/cost/", event_cost, name="event_cost")]
