"""Pages of the plan's stakeholder engagement: the register of people (filtered by organization, sector, level and
text; contact details shown to every member), duplicates refused with an offer to merge, a person's data exported
and erased on request; and the stakeholder map (the table, the influence/interest grid with each quadrant's strategy,
the coverage of areas and sectors by engaged stakeholders). Every member reads; the secretariat (Permission.ENGAGE)
writes, also once the plan is endorsed."""

from __future__ import annotations

import copy
import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import get_language_bidi, gettext
from django.views.decorators.http import require_safe

from naphs.choices import Hazard, Sector
from naphs.errors import EditConflict
from naphs.forms import form_errors_from, form_refused, whole_number
from naphs.permissions import Permission
from naphs.views import require_form_methods
from planning.models import Plan
from planning.selectors import technical_areas_of
from stakeholders.access import PlanAccess, SignedInRequest, plan_get_for_user
from stakeholders.mapping import (
    PERSON_FIELDS,
    QUADRANTS,
    DuplicatePerson,
    member_users,
    people_filtered,
    person_create,
    person_delete,
    person_list_for_plan,
    person_merge,
    person_update,
    secretariat_users,
    stakeholder_coverage,
    stakeholder_create,
    stakeholder_delete,
    stakeholder_grid,
    stakeholder_list_for_plan,
    stakeholder_update,
)
from stakeholders.mapping_forms import PersonFilterForm, PersonForm, PersonMergeForm, StakeholderForm
from stakeholders.models import Advocacy, NaphsRole, Participant, Person, Stakeholder
from stakeholders.personal_data import person_erase, person_export
from stakeholders.selectors import organization_list_for_plan


def _access(request: SignedInRequest, plan_id: int, *, write: bool = False) -> PlanAccess:
    return plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.ENGAGE if write else Permission.VIEW)


def _may_write(access: PlanAccess) -> bool:
    return access.membership.role_allows(Permission.ENGAGE)


def _person(plan: Plan, person_id: int) -> Person:
    person = Person.objects.select_related("organization", "user").filter(plan=plan, pk=person_id).first()
    if person is None:
        raise Http404(gettext("No such person in this plan's register."))
    person.plan = plan
    return person


def _stakeholder(plan: Plan, stakeholder_id: int) -> Stakeholder:
    stakeholder = Stakeholder.objects.select_related("organization").filter(plan=plan, pk=stakeholder_id).first()
    if stakeholder is None:
        raise Http404(gettext("No such stakeholder in this plan's map."))
    stakeholder.plan = plan
    return stakeholder


def _person_form(plan: Plan, data: Any = None, **kwargs: Any) -> PersonForm:
    return PersonForm(
        data,
        plan=plan,
        organizations=list(organization_list_for_plan(plan=plan)),
        members=list(member_users(plan=plan)),
        **kwargs,
    )


# --- The register --------------------------------------------------------------------------------------------------


# A national register runs to thousands of people: a page of them at a time, filtered.
PEOPLE_PAGE_SIZE = 100


@require_safe
def people(request: SignedInRequest, plan_id: int) -> HttpResponse:
    access = _access(request, plan_id)
    plan = access.plan
    organizations = organization_list_for_plan(plan=plan)
    filter_form = PersonFilterForm(request.GET or None, organizations=organizations)
    rows = people_filtered(person_list_for_plan(plan=plan), **filter_form.filters())
    page = Paginator(rows, PEOPLE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "plan": plan,
        "membership": access.membership,
        "may_write": _may_write(access),
        "filter_form": filter_form,
        "people": page.object_list,
        "page": page,
        "query": query.urlencode(),
    }
    return render(request, "stakeholders/mapping/people.html", context)


def _duplicate_offer(error: DuplicatePerson, values: dict[str, Any], editing: Person | None) -> dict[str, Any]:
    """What the refused form shows beside its message: the existing person, and the values to carry to the merge
    page (as the merge form's `entered_*` inputs)."""
    entered = {}
    for name in PERSON_FIELDS:
        value = values.get(name)
        entered[f"entered_{name}"] = getattr(value, "pk", value) if value is not None else ""
    return {"existing": error.existing, "entered": entered, "editing": editing}


@require_form_methods
def person_new(request: SignedInRequest, plan_id: int) -> HttpResponse:
    access = _access(request, plan_id, write=True)
    plan = access.plan
    form = _person_form(plan, request.POST if request.method == "POST" else None)
    status, duplicate = 200, None
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                person = person_create(plan=plan, by=request.user, fields=form.person_fields())
            except DuplicatePerson as error:
                form_errors_from(form, error)
                duplicate = _duplicate_offer(error, form.person_fields(), None)
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, gettext("%(person)s added to the register.") % {"person": person})
                return redirect("person_detail", plan_id=plan.pk, person_id=person.pk)
    context = {"plan": plan, "membership": access.membership, "form": form, "duplicate": duplicate}
    return render(request, "stakeholders/mapping/person_form.html", context, status=status)


@require_safe
def person_detail(request: SignedInRequest, plan_id: int, person_id: int) -> HttpResponse:
    access = _access(request, plan_id)
    person = _person(access.plan, person_id)
    participations = list(
        Participant.objects.filter(person=person).select_related("event", "organization").order_by("-event__starts_on")
    )
    advocacy = list(Advocacy.objects.filter(messengers=person).order_by("pk"))
    context = {
        "plan": access.plan,
        "membership": access.membership,
        "may_write": _may_write(access),
        "person": person,
        "participations": participations,
        "advocacy": advocacy,
    }
    return render(request, "stakeholders/mapping/person_detail.html", context)


@require_form_methods
def person_edit(request: SignedInRequest, plan_id: int, person_id: int) -> HttpResponse:
    access = _access(request, plan_id, write=True)
    plan = access.plan
    person = _person(plan, person_id)
    form = _person_form(plan, request.POST if request.method == "POST" else None, instance=copy.copy(person))
    status, duplicate = 200, None
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                person_update(
                    person=person, by=request.user, version=form.cleaned_data["version"], fields=form.person_fields()
                )
            except DuplicatePerson as error:
                form_errors_from(form, error)
                duplicate = _duplicate_offer(error, form.person_fields(), person)
            except (EditConflict, ValidationError) as refusal:
                status = form_refused(form, refusal)
            else:
                messages.success(request, gettext("%(person)s saved.") % {"person": person})
                return redirect("person_detail", plan_id=plan.pk, person_id=person.pk)
    context = {"plan": plan, "membership": access.membership, "form": form, "person": person, "duplicate": duplicate}
    return render(request, "stakeholders/mapping/person_form.html", context, status=status)


@require_form_methods
def person_delete_view(request: SignedInRequest, plan_id: int, person_id: int) -> HttpResponse:
    access = _access(request, plan_id, write=True)
    person = _person(access.plan, person_id)
    error, status = "", 200
    if request.method == "POST":
        try:
            person_delete(person=person, by=request.user, version=whole_number(request.POST.get("version", "")))
        except EditConflict as conflict:
            error, status = str(conflict), 409
        except ValidationError as refusal:
            error, status = " ".join(refusal.messages), 422
        else:
            messages.success(request, gettext("%(person)s removed from the register.") % {"person": person})
            return redirect("people", plan_id=access.plan.pk)
    context = {"plan": access.plan, "membership": access.membership, "person": person, "error": error}
    return render(request, "stakeholders/mapping/person_delete.html", context, status=status)


@require_form_methods
def person_merge_view(request: SignedInRequest, plan_id: int, person_id: int) -> HttpResponse:
    """The existing record beside the entered values (or another record), field by field; the secretariat chooses
    what the record keeps. GET ?other=<id> compares two records; a POST with `compare` (from a refused form) shows
    the comparison; any other POST merges."""
    access = _access(request, plan_id, write=True)
    plan = access.plan
    person = _person(plan, person_id)
    source = request.POST if request.method == "POST" else request.GET
    other = None
    other_id = whole_number(source.get("other", ""))
    if other_id is not None:
        other = Person.objects.select_related("organization", "user").filter(plan=plan, pk=other_id).first()
    organizations = organization_list_for_plan(plan=plan)
    members = member_users(plan=plan)
    candidates = Person.objects.filter(plan=plan, erased_at__isnull=True).exclude(pk=person.pk)
    form_kwargs: dict[str, Any] = {
        "person": person,
        "organizations": organizations,
        "members": members,
        "candidates": candidates,
    }
    status = 200
    if request.method == "POST" and "compare" not in request.POST:
        form = PersonMergeForm(request.POST, **form_kwargs)
        status = 422
        if form.is_valid():
            try:
                person_merge(
                    person=person,
                    by=request.user,
                    version=form.cleaned_data["version"],
                    fields=form.chosen_fields(),
                    other=form.cleaned_data.get("other"),
                    other_version=form.cleaned_data.get("other_version"),
                )
            except (EditConflict, ValidationError) as refusal:
                status = form_refused(form, refusal)
            else:
                messages.success(request, gettext("The records were merged into %(person)s.") % {"person": person})
                return redirect("person_detail", plan_id=plan.pk, person_id=person.pk)
    else:
        initial: dict[str, Any] = {"version": person.version}
        if other is not None and other.pk != person.pk:
            initial |= {"other": other.pk, "other_version": other.version}
            initial |= {
                f"entered_{n}": getattr(other, f"{n}_id" if n in ("organization", "user") else n) for n in PERSON_FIELDS
            }
        elif request.method == "POST":
            initial |= {key: request.POST.get(key, "") for key in (f"entered_{n}" for n in PERSON_FIELDS)}
            if editing := whole_number(request.POST.get("editing", "")):
                edited = candidates.filter(pk=editing).first()
                if edited is not None:
                    initial |= {"other": edited.pk, "other_version": edited.version}
                    other = edited
        form = PersonMergeForm(initial=initial, **form_kwargs)
    rows = form.rows()
    context = {
        "plan": plan,
        "membership": access.membership,
        "person": person,
        "other": other,
        "form": form,
        "rows": rows,
    }
    return render(request, "stakeholders/mapping/person_merge.html", context, status=status)


@require_safe
def person_export_view(request: SignedInRequest, plan_id: int, person_id: int) -> HttpResponse:
    """Everything the plan holds about the person, as a JSON download (the secretariat, on the person's request)."""
    access = _access(request, plan_id, write=True)
    person = _person(access.plan, person_id)
    body = json.dumps(person_export(person=person), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="person-{person.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response


@require_form_methods
def person_erase_view(request: SignedInRequest, plan_id: int, person_id: int) -> HttpResponse:
    """Asks first (GET); erases on POST with the confirmation ticked."""
    access = _access(request, plan_id, write=True)
    person = _person(access.plan, person_id)
    error, status = "", 200
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            error, status = gettext("Tick the box to confirm that the record is to be erased."), 422
        else:
            try:
                person_erase(person=person, by=request.user, version=whole_number(request.POST.get("version", "")))
            except EditConflict as conflict:
                error, status = str(conflict), 409
            except ValidationError as refusal:
                error, status = " ".join(refusal.messages), 422
            else:
                messages.success(request, gettext("The record was erased: %(person)s.") % {"person": person})
                return redirect("person_detail", plan_id=access.plan.pk, person_id=person.pk)
    context = {
        "plan": access.plan,
        "membership": access.membership,
        "person": person,
        "error": error,
        "participation_count": person.participations.count(),
    }
    return render(request, "stakeholders/mapping/person_erase.html", context, status=status)


# --- The map -------------------------------------------------------------------------------------------------------

CHART = {"size": 320, "pad": 40}


def _chart_points(grid: list[Any], *, rtl: bool) -> list[dict[str, Any]]:
    """Each stakeholder's dot on the chart: interest along, influence up (1 to 4), spread within its cell so dots of
    the same scores do not hide one another. Right to left, interest grows towards the left."""
    size, pad = CHART["size"], CHART["pad"]
    cell = (size - 2 * pad) / 4
    seen: dict[tuple[int, int], int] = {}
    points = []
    for quadrant in grid:
        for stakeholder in quadrant.members:
            key = (stakeholder.interest, stakeholder.influence)
            index = seen.get(key, 0)
            seen[key] = index + 1
            dx = (index % 3 - 1) * cell / 4
            dy = (index // 3 % 3 - 1) * cell / 4
            x = pad + (stakeholder.interest - 0.5) * cell + dx
            if rtl:
                x = size - x
            y = size - pad - (stakeholder.influence - 0.5) * cell + dy
            points.append({"x": round(x, 1), "y": round(y, 1), "stakeholder": stakeholder, "quadrant": quadrant})
    return points


def _labels(choices: Any, values: list[str]) -> list[str]:
    known = dict(choices.choices)
    return [str(known.get(value, value)) for value in values or ()]


@require_safe
def stakeholder_map(request: SignedInRequest, plan_id: int) -> HttpResponse:
    access = _access(request, plan_id)
    plan = access.plan
    stakeholders = list(stakeholder_list_for_plan(plan=plan))
    for stakeholder in stakeholders:  # the lists' labels in the reader's language
        stakeholder.role_labels = _labels(NaphsRole, stakeholder.roles)  # type: ignore[attr-defined]
        stakeholder.sector_labels = _labels(Sector, stakeholder.sectors)  # type: ignore[attr-defined]
        stakeholder.hazard_labels = _labels(Hazard, stakeholder.hazards)  # type: ignore[attr-defined]
    grid = stakeholder_grid(stakeholders)
    rtl = get_language_bidi()
    size, pad = CHART["size"], CHART["pad"]
    context = {
        "plan": plan,
        "membership": access.membership,
        "may_write": _may_write(access),
        "stakeholders": stakeholders,
        "grid": grid,
        "quadrants": QUADRANTS,
        "points": _chart_points(grid, rtl=rtl),
        "chart": {
            "size": size,
            "pad": pad,
            "mid": size / 2,
            "end": size - pad,
            "low_x": size - pad if rtl else pad,
            "high_x": pad if rtl else size - pad,
            "anchor_low": "end" if rtl else "start",
            "anchor_high": "start" if rtl else "end",
        },
        "coverage": stakeholder_coverage(plan=plan),
    }
    return render(request, "stakeholders/mapping/map.html", context)


def _stakeholder_form(plan: Plan, data: Any = None, **kwargs: Any) -> StakeholderForm:
    return StakeholderForm(
        data,
        plan=plan,
        organizations=list(organization_list_for_plan(plan=plan)),
        areas=list(technical_areas_of(plan)),
        owners=list(secretariat_users(plan=plan)),
        **kwargs,
    )


@require_form_methods
def stakeholder_new(request: SignedInRequest, plan_id: int) -> HttpResponse:
    access = _access(request, plan_id, write=True)
    plan = access.plan
    form = _stakeholder_form(plan, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                stakeholder = stakeholder_create(plan=plan, by=request.user, fields=form.stakeholder_fields())
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, gettext("%(stakeholder)s added to the map.") % {"stakeholder": stakeholder})
                return redirect("stakeholder_map", plan_id=plan.pk)
    context = {"plan": plan, "membership": access.membership, "form": form}
    return render(request, "stakeholders/mapping/stakeholder_form.html", context, status=status)


@require_form_methods
def stakeholder_edit(request: SignedInRequest, plan_id: int, stakeholder_id: int) -> HttpResponse:
    access = _access(request, plan_id, write=True)
    plan = access.plan
    stakeholder = _stakeholder(plan, stakeholder_id)
    form = _stakeholder_form(plan, request.POST if request.method == "POST" else None, instance=copy.copy(stakeholder))
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                stakeholder_update(
                    stakeholder=stakeholder,
                    by=request.user,
                    version=form.cleaned_data["version"],
                    fields=form.stakeholder_fields(),
                )
            except (EditConflict, ValidationError) as refusal:
                status = form_refused(form, refusal)
            else:
                messages.success(request, gettext("%(stakeholder)s saved.") % {"stakeholder": stakeholder})
                return redirect("stakeholder_map", plan_id=plan.pk)
    context = {"plan": plan, "membership": access.membership, "form": form, "stakeholder": stakeholder}
    return render(request, "stakeholders/mapping/stakeholder_form.html", context, status=status)


@require_form_methods
def stakeholder_delete_view(request: SignedInRequest, plan_id: int, stakeholder_id: int) -> HttpResponse:
    access = _access(request, plan_id, write=True)
    stakeholder = _stakeholder(access.plan, stakeholder_id)
    error, status = "", 200
    if request.method == "POST":
        try:
            stakeholder_delete(
                stakeholder=stakeholder, by=request.user, version=whole_number(request.POST.get("version", ""))
            )
        except EditConflict as conflict:
            error, status = str(conflict), 409
        except ValidationError as refusal:
            error, status = " ".join(refusal.messages), 422
        else:
            messages.success(request, gettext("%(stakeholder)s removed from the map.") % {"stakeholder": stakeholder})
            return redirect("stakeholder_map", plan_id=access.plan.pk)
    context = {"plan": access.plan, "membership": access.membership, "stakeholder": stakeholder, "error": error}
    return render(request, "stakeholders/mapping/stakeholder_delete.html", context, status=status)


urlpatterns = [
    path("plans/<int:plan_id>/people/", people, name="people"),
    path("plans/<int:plan_id>/people/new/", person_new, name="person_new"),
    path("plans/<int:plan_id>/people/<int:person_id>/", person_detail, name="person_detail"),
    path("plans/<int:plan_id>/people/<int:person_id>/edit/", person_edit, name="person_edit"),
    path("plans/<int:plan_id>/people/<int:person_id>/delete/", person_delete_view, name="person_delete"),
    path("plans/<int:plan_id>/people/<int:person_id>/merge/", person_merge_view, name="person_merge"),
    path("plans/<int:plan_id>/people/<int:person_id>/export/", person_export_view, name="person_export"),
    path("plans/<int:plan_id>/people/<int:person_id>/erase/", person_erase_view, name="person_erase"),
    path("plans/<int:plan_id>/stakeholders/", stakeholder_map, name="stakeholder_map"),
    path("plans/<int:plan_id>/stakeholders/new/", stakeholder_new, name="stakeholder_new"),
    path("plans/<int:plan_id>/stakeholders/<int:stakeholder_id>/edit/", stakeholder_edit, name="stakeholder_edit"),
    path(
        "plans/<int:plan_id>/stakeholders/<int:stakeholder_id>/delete/",
        stakeholder_delete_view,
        name="stakeholder_delete",
    ),
]
