"""Costing pages: an activity's cost lines (read by every member, edited in place by those who cost it) and the
cost builders that turn a few answers into lines."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST

from costing import services
from costing.builders import BUILDERS, Builder, cost_lines_build, cost_lines_preview
from costing.line_forms import BuilderForm, CostLineForm, ItemFormSet
from costing.models import CostLine
from costing.selectors import activity_costs as activity_costs_get
from costing.services import cost_line_create, cost_line_update, plan_costing_get
from naphs.errors import EditConflict, PlanFrozen
from naphs.forms import form_errors_from, form_refused, whole_number
from naphs.permissions import Permission, Role
from naphs.views import require_form_methods
from planning.models import Activity
from stakeholders.access import ActivityAccess, SignedInRequest, activity_costs_editable_by, activity_get_for_user
from stakeholders.models import PlanMembership


def _activity(request: SignedInRequest, plan_id: int, activity_id: int, *, edit: bool) -> ActivityAccess:
    need = Permission.EDIT_COSTS if edit else Permission.VIEW
    return activity_get_for_user(user=request.user, plan_id=plan_id, activity_id=activity_id, need=need)


def _line(activity: Activity, cost_line_id: int) -> CostLine:
    line = (
        CostLine.objects.select_related("catalogue_item")
        .prefetch_related("years")
        .filter(activity_id=activity.pk, pk=cost_line_id)
        .first()
    )
    if line is None:
        raise Http404(gettext("No such cost line."))
    line.plan, line.activity = activity.plan, activity
    return line


def _refusal(membership: PlanMembership, activity: Activity) -> str:
    """Why this member reads the costs but cannot change them."""
    if membership.plan.is_frozen:
        return str(PlanFrozen(membership.plan))
    if not membership.role_allows(Permission.EDIT_COSTS):
        # Translators: %(role)s is a role's label (e.g. “Focal point”), put in as it is.
        return gettext("Your role in this plan (%(role)s) lets you read these costs, not change them.") % {
            "role": membership.get_role_display()
        }
    if membership.role == Role.FOCAL_POINT:
        responsible = activity.responsible_organization
        if responsible:
            return gettext(
                "You cost the activities %(organization)s is responsible for; this one is %(responsible)s's "
                "responsibility. Its focal point or the secretariat changes its costs."
            ) % {"organization": membership.organization, "responsible": responsible}
        return gettext(
            "You cost the activities %(organization)s is responsible for; this one is not assigned to an "
            "organization yet. Its focal point or the secretariat changes its costs."
        ) % {"organization": membership.organization}
    area = activity.technical_area
    return gettext("You cost the activities of your own technical areas; this one is in %(code)s %(area)s.") % {
        "code": area.code,
        "area": area.local_name,
    }


def _page(
    request: SignedInRequest,
    access: ActivityAccess,
    *,
    editing: CostLine | None = None,
    edit_form: CostLineForm | None = None,
    add_form: CostLineForm | None = None,
    saved: str = "",
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    """The costs page, or for htmx its section alone (the table, totals, funding and the add form)."""
    activity, membership = access
    plan = activity.plan
    costing = plan_costing_get(plan)
    may_edit = membership.allows(Permission.EDIT_COSTS) and activity_costs_editable_by(
        membership=membership, activity=activity
    )
    if may_edit and add_form is None:
        add_form = CostLineForm(plan=plan, costing=costing)
    costs = activity_costs_get(activity=activity, costing=costing)
    context: dict[str, Any] = {
        "plan": plan,
        "membership": membership,
        "activity": activity,
        "costing": costing,
        "costs": costs,
        "columns": 4 + len(costs.years) + (1 if may_edit else 0),
        "may_edit": may_edit,
        "may_comment": membership.allows(Permission.COMMENT),
        "refusal": "" if may_edit else _refusal(membership, activity),
        "add_form": add_form if may_edit else None,
        "editing": editing.pk if editing else None,
        "edit_form": edit_form,
        "saved": saved,
        "problem": problem,
        "builders": BUILDERS.values(),
    }
    template = "costing/lines/_costs.html" if request.htmx else "costing/lines/costs.html"
    return render(request, template, context, status=status)


@require_form_methods
def activity_costs(request: SignedInRequest, plan_id: int, activity_id: int) -> HttpResponse:
    """An activity's cost lines with their amounts per year, totals, funding and gap. Every member reads it;
    those who cost the activity add lines here (POST)."""
    access = _activity(request, plan_id, activity_id, edit=request.method == "POST")
    activity = access.activity
    if request.method != "POST":
        return _page(request, access)
    plan = activity.plan
    form = CostLineForm(request.POST, plan=plan, costing=plan_costing_get(plan))
    if form.is_valid():
        try:
            line = cost_line_create(
                activity=activity,
                by=request.user,
                fields=form.service_fields(),
                frequencies=form.cleaned_data["frequencies"],
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            message = gettext("Cost line “%(line)s” added.") % {"line": line}
            if request.htmx:
                return _page(request, access, saved=message)
            messages.success(request, message)
            return redirect("activity_costs", plan_id=plan.pk, activity_id=activity.pk)
    return _page(request, access, add_form=form, status=422)


@require_form_methods
def cost_line_edit(request: SignedInRequest, plan_id: int, activity_id: int, cost_line_id: int) -> HttpResponse:
    """A line's editor: GET gives it (the row, for htmx; the page with the row open otherwise); POST saves it,
    refusing a stale edit (409) and answering with the section (htmx) or a redirect."""
    access = _activity(request, plan_id, activity_id, edit=True)
    activity = access.activity
    line = _line(activity, cost_line_id)
    plan = activity.plan
    costing = plan_costing_get(plan)
    if request.method != "POST":
        form = CostLineForm(plan=plan, costing=costing, line=line)
        if request.htmx:
            context = {
                "plan": plan,
                "activity": activity,
                "line": line,
                "form": form,
                "columns": 5 + plan.last_year - plan.first_year + 1,
            }
            return render(request, "costing/lines/_line_editor.html", context)
        return _page(request, access, editing=line, edit_form=form)
    form = CostLineForm(request.POST, plan=plan, costing=costing, line=line)
    status = 422
    if form.is_valid():
        try:
            cost_line_update(
                line=line,
                by=request.user,
                version=form.cleaned_data["version"],
                fields=form.service_fields(),
                frequencies=form.cleaned_data["frequencies"],
            )
        except (EditConflict, ValidationError) as refusal:
            status = form_refused(form, refusal)
        else:
            message = gettext("Cost line “%(line)s” saved.") % {"line": line}
            if request.htmx:
                return _page(request, access, saved=message)
            messages.success(request, message)
            return redirect("activity_costs", plan_id=plan.pk, activity_id=activity.pk)
    return _page(request, access, editing=line, edit_form=form, status=status)


@require_POST
def cost_line_delete(request: SignedInRequest, plan_id: int, activity_id: int, cost_line_id: int) -> HttpResponse:
    """Remove a line; with the version the page showed, only if nobody changed it since (409 otherwise)."""
    access = _activity(request, plan_id, activity_id, edit=True)
    activity = access.activity
    line = _line(activity, cost_line_id)
    raw = request.POST.get("version", "").strip()
    version = whole_number(raw)
    description = line.description
    try:
        services.cost_line_delete(line=line, by=request.user, version=version)
    except EditConflict as conflict:
        return _page(request, access, problem=str(conflict), status=409)
    message = gettext("Cost line “%(line)s” deleted.") % {"line": description}
    if request.htmx:
        return _page(request, access, saved=message)
    messages.success(request, message)
    return redirect("activity_costs", plan_id=plan_id, activity_id=activity_id)


def _builder_errors(form: BuilderForm, error: ValidationError) -> list[str]:
    """Put a builder's problems next to its answers; return those about the procurement items."""
    items: list[str] = []
    if hasattr(error, "error_dict"):
        items = [message for problem in error.error_dict.pop("items", []) for message in problem.messages]
        if not error.error_dict:
            return items
    form_errors_from(form, error)
    return items


@require_form_methods
def cost_builder(request: SignedInRequest, plan_id: int, activity_id: int, builder_kind: str) -> HttpResponse:
    """A builder's questions; "Preview" shows the lines they make with their amounts, "Add these lines" saves
    them all (or none)."""
    builder: Builder | None = BUILDERS.get(builder_kind)
    if builder is None:
        raise Http404(gettext("No such cost builder."))
    access = _activity(request, plan_id, activity_id, edit=True)
    activity = access.activity
    plan = activity.plan
    costing = plan_costing_get(plan)
    data = request.POST if request.method == "POST" else None
    form = BuilderForm(data, builder=builder, plan=plan, costing=costing)
    items = ItemFormSet(data, prefix="items", form_kwargs={"plan": plan}) if builder.kind == "procurement" else None
    years = list(range(plan.first_year, plan.last_year + 1))
    previews, item_errors, status = None, [], 200
    if request.method == "POST":
        status = 422
        answers_valid = form.is_valid()
        items_valid = items is None or items.is_valid()  # both checked, so every error shows at once
        if answers_valid and items_valid:
            answers = form.answers()
            if items is not None:
                answers["items"] = [item for item_form in items.forms if (item := item_form.item()) is not None]
            try:
                lines = builder.lines(form.schedule(), answers)
                previews = cost_lines_preview(activity=activity, lines=lines)
                if request.POST.get("action") == "create":
                    created = cost_lines_build(activity=activity, by=request.user, lines=lines)
                    messages.success(
                        request,
                        ngettext(
                            "%(count)s cost line added: %(builder)s.",
                            "%(count)s cost lines added: %(builder)s.",
                            len(created),
                        )
                        % {"count": len(created), "builder": builder.label},
                    )
                    return redirect("activity_costs", plan_id=plan.pk, activity_id=activity.pk)
                status = 200
            except ValidationError as error:
                previews = None
                item_errors = _builder_errors(form, error)
    context = {
        "plan": plan,
        "membership": access.membership,
        "activity": activity,
        "builder": builder,
        "builders": BUILDERS.values(),
        "form": form,
        "items": items,
        "item_errors": item_errors,
        "previews": previews,
        "preview_total": sum((preview.total for preview in previews), Decimal(0)) if previews else None,
        "preview_by_year": (
            [sum((preview.years[index].amount for preview in previews), Decimal(0)) for index in range(len(years))]
            if previews
            else None
        ),
        "years": years,
        "currency": costing.currency,
    }
    return render(request, "costing/lines/builder.html", context, status=status)


COSTS = "plans/<int:plan_id>/activities/<int:activity_id>/costs/"

urlpatterns = [
    path(COSTS, activity_costs, name="activity_costs"),
    path(f"{COSTS}<int:cost_line_id>/", cost_line_edit, name="cost_line_edit"),
    path(f"{COSTS}<int:cost_line_id>/delete/", cost_line_delete, name="cost_line_delete"),
    path(f"{COSTS}build/<slug:builder_kind>/", cost_builder, name="cost_builder"),
]
