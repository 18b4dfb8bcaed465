"""HTML views for plans: the home page, opening a plan, its overview and settings, and its assessments."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from naphs.choices import Hazard, Sector
from naphs.errors import EditConflict
from naphs.forms import form_errors_from, form_refused, whole_number
from naphs.hooks import pipe
from naphs.models import Job, Upload
from naphs.permissions import Permission, Role
from naphs.spreadsheets import ImportRefused
from naphs.uploads import upload_create, upload_job_start, upload_keep
from naphs.views import require_form_methods
from planning import hooks
from planning.activities import activity_create, activity_update
from planning.activities import activity_delete as activity_delete_service
from planning.assessments import (
    assessment_create,
    scores_set,
    spar_country_preselected,
    spar_table_rows,
)
from planning.comment_views import activity_comments_context
from planning.drafting import draft_advice, draft_generate, draft_preview
from planning.forms import (
    ActivityFilterForm,
    ActivityForm,
    AssessmentForm,
    ContextForm,
    DependencyForm,
    FunctionalGroupForm,
    GenerateForm,
    OperationalPlanForm,
    PlanCreateForm,
    PlanSettingsForm,
    PrioritiesForm,
    ScoreGridForm,
    ScoreSheetForm,
    SparCountryForm,
    SparTableForm,
    TargetForm,
)
from planning.guidance import guidance_for_activities
from planning.imports import spar_table_kept
from planning.job_kinds import PlanningJob
from planning.models import (
    ActivityDependency,
    AreaPriority,
    Assessment,
    BenchmarkLibrary,
    FunctionalGroup,
    Indicator,
    IndicatorTarget,
    Plan,
    PlanContext,
    PlanVersion,
    TechnicalArea,
)
from planning.operational import activity_placements, operational_plan_create
from planning.reviews import review_invitations_pending, review_overview
from planning.selectors import (
    ACTIVITY_SORTS,
    activities_with_open_threads,
    activity_indicator_codes,
    activity_list_for_plan,
    assessment_grid,
    assessment_list_for_plan,
    plan_baseline,
    plan_overview_with_comparison,
    technical_areas_of,
)
from planning.services import plan_create, plan_update
from planning.shaping import (
    context_set,
    dependency_add,
    dependency_remove,
    functional_group_save,
    functional_groups_default,
    priorities_set,
)
from planning.shaping import functional_group_delete as functional_group_delete_service
from planning.targets import (
    TargetChange,
    TargetsRefused,
    plan_years,
    target_below_current,
    target_default,
    targets_fill_defaults,
    targets_set,
)
from stakeholders.access import (
    PlanAccess,
    SignedInRequest,
    activity_get_for_user,
    area_editable_by,
    area_ids_editable_by,
    assessment_get_for_user,
    assessment_writable_by,
    assessment_write_need,
    countries_granted_to,
    membership_need_check,
    plan_get_for_user,
    plan_parent_choices,
    plan_writable_check,
    plans_for_user,
    plans_managed_by,
)
from stakeholders.models import EventDecision, Launch, PlanMembership
from stakeholders.selectors import organization_list_for_plan, secretariat_size


@require_safe
def home(request: SignedInRequest) -> HttpResponse:
    """The plans the person belongs to, with their role in each."""
    memberships = request.user.plan_memberships.select_related("plan__jurisdiction__country", "plan__parent").order_by(
        "plan__jurisdiction__country__name", "plan__parent_id", "-plan__first_year", "plan__title"
    )
    may_open = countries_granted_to(request.user).exists() or plans_managed_by(request.user).exists()
    context = {
        "memberships": memberships,
        "may_open_plan": may_open,
        "pending_reviews": list(review_invitations_pending(user=request.user)),
    }
    return render(request, "planning/home.html", context)


@require_form_methods
def plan_new(request: SignedInRequest) -> HttpResponse:
    initial = {}
    if parent_id := request.GET.get("parent", "").strip():
        number = whole_number(parent_id)
        parent = plan_parent_choices(user=request.user).filter(pk=number).first() if number is not None else None
        if parent is not None:
            initial = {
                "parent": parent,
                "jurisdiction": parent.jurisdiction,
                "first_year": parent.first_year,
                "last_year": parent.last_year,
            }
    form = PlanCreateForm(request.POST if request.method == "POST" else None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            plan = plan_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Plan “%(plan)s” opened. You are its secretariat lead: add the other members.") % {"plan": plan},
            )
            return redirect("members", plan_id=plan.pk)
    return render(request, "planning/plan_new.html", {"form": form})


@require_safe
def plan_detail(request: SignedInRequest, plan_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    children = plans_for_user(request.user).filter(parent=plan).select_related("jurisdiction")
    overview, comparison = plan_overview_with_comparison(plan=plan)
    context = {
        "plan": plan,
        "membership": membership,
        "children": children,
        "other_children": plan.children.exclude(pk__in=children.values("pk")).count(),
        "secretariat_size": secretariat_size(plan=plan),
        "overview": overview,
        "no_responsible_organization": sum(row.figures.no_responsible_organization for row in overview),
        "no_baseline": sum(len(row.no_baseline) for row in overview),
        "comparison": comparison,
        # What a ministry publishes: the open data export offers the endorsed versions beside the current draft.
        "endorsed_versions": PlanVersion.objects.filter(plan=plan, kind=PlanVersion.Kind.ENDORSED)
        .order_by("-edition")
        .only("pk", "label", "edition"),
        **review_overview(plan=plan, user=request.user),
        # The launch of the latest version launched (stakeholders.launch), if any: "Launched on …".
        "launch": Launch.objects.filter(plan=plan).order_by("-number").only("pk", "number", "launched_on").first(),
    }
    return render(request, "planning/plan_detail.html", context)


@require_form_methods
def plan_settings(request: SignedInRequest, plan_id: int) -> HttpResponse:
    need = Permission.EDIT_PLAN if request.method == "POST" else Permission.MANAGE
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=need)
    form = PlanSettingsForm(
        request.POST if request.method == "POST" else None, instance=copy.copy(plan), user=request.user
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields if name in form.fields}
        try:
            plan_update(plan=plan, by=request.user, version=form.cleaned_data["version"], **fields)
        except EditConflict as conflict:
            form.add_error(None, str(conflict))
            status = 409
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Plan settings saved."))
            return redirect("plan_detail", plan_id=plan.pk)
    return render(
        request,
        "planning/plan_settings.html",
        {"plan": plan, "membership": membership, "form": form},
        status=status,
    )


def _assessment(
    request: SignedInRequest, plan_id: int, assessment_id: int, *, write: bool
) -> tuple[PlanAccess, Assessment]:
    """The plan and the assessment, as the person may reach them: to `write`, a baseline assessment needs the right
    to the plan's content (refused once the plan is endorsed), a follow-up the secretariat's (it goes on)."""
    assessment, membership = assessment_get_for_user(
        user=request.user, plan_id=plan_id, assessment_id=assessment_id, write=write
    )
    return PlanAccess(membership.plan, membership), assessment


@require_form_methods
def assessments(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The plan's assessments; the secretariat adds one here: a baseline assessment while the plan is a draft, a
    follow-up (a re-assessment during implementation) at any time, the plan endorsed too."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    if request.method == "POST":
        purpose = request.POST.get("purpose") or Assessment.Purpose.BASELINE
        membership_need_check(membership, assessment_write_need(Assessment(plan=plan, purpose=purpose)))
    form = AssessmentForm(request.POST if request.method == "POST" else None, plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            assessment = assessment_create(plan=plan, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Assessment “%(assessment)s” added: enter or import its scores.") % {"assessment": assessment},
            )
            return redirect("assessment_detail", plan_id=plan.pk, assessment_id=assessment.pk)
    listed = list(assessment_list_for_plan(plan=plan))
    context = {
        "plan": plan,
        "membership": membership,
        "assessments": listed,
        # The most recent baseline assessment: where the current levels come from (follow-ups leave them).
        "current_id": next((a.pk for a in listed if not a.is_follow_up), None),
        "form": form,
    }
    return render(request, "planning/assessments.html", context)


def _country_name(plan: Plan) -> str:
    return (plan.jurisdiction.country or plan.jurisdiction).name


# The SPAR table's form sits on the score sheet's page beside the sheet's: ids of its own, so that each label and
# help text belongs to its own field (both forms have a `file`).
SPAR_IDS = "spar_%s"


def _detail(request: SignedInRequest, access: PlanAccess, assessment: Assessment, **forms: Any) -> HttpResponse:
    plan, membership = access
    indicators, scores = assessment_grid(assessment=assessment)
    context = {
        "plan": plan,
        "membership": membership,
        "assessment": assessment,
        "grid": forms.get("grid") or ScoreGridForm(indicators=indicators, scores=scores),
        "sheet_form": forms.get("sheet_form") or ScoreSheetForm(),
        "spar_form": forms.get("spar_form") or SparTableForm(auto_id=SPAR_IDS),
        "scored": len(scores),
        "import_jobs": _import_jobs(request, plan, assessment),
        "may_edit": assessment_writable_by(membership=membership, assessment=assessment),
    }
    return render(request, "planning/assessment_detail.html", context, status=forms.get("status", 200))


def _import_jobs(request: SignedInRequest, plan: Plan, assessment: Assessment) -> list[Job]:
    """The person's latest import into the assessment (a list of one, or none)."""
    return list(
        Job.objects.filter(
            plan=plan,
            requested_by=request.user,
            kind__in=[PlanningJob.SCORES_IMPORT, PlanningJob.SPAR_IMPORT],
            params__assessment=assessment.pk,
        ).select_related("import_upload")[:1]
    )


@require_form_methods
def assessment_detail(request: SignedInRequest, plan_id: int, assessment_id: int) -> HttpResponse:
    """The score grid: every indicator by technical area, a level from 1 to 5 each, one Save."""
    access, assessment = _assessment(request, plan_id, assessment_id, write=request.method == "POST")
    plan = access.plan
    if request.method != "POST" and request.GET.get("fragment") == "import-job":
        # The latest import's progress, polled by the page until it is done (planning/_import_job.html).
        jobs = _import_jobs(request, plan, assessment)
        if not jobs:
            return HttpResponse("")
        return render(request, "planning/_import_job.html", {"plan": plan, "assessment": assessment, "job": jobs[0]})
    if request.method != "POST":
        return _detail(request, access, assessment)
    indicators, scores = assessment_grid(assessment=assessment)
    grid = ScoreGridForm(request.POST, indicators=indicators, scores=scores)
    status = 200
    if grid.is_valid():
        try:
            changes = scores_set(assessment=assessment, by=request.user, scores=grid.scores(), versions=grid.versions())
        except EditConflict as conflict:
            grid.add_error(None, str(conflict))
            grid.conflicted(conflict.names)
            status = 409
        except ValidationError as error:
            grid.add_error(None, error)
        else:
            messages.success(
                request,
                ngettext("%(count)d score saved.", "%(count)d scores saved.", len(changes)) % {"count": len(changes)},
            )
            return redirect("assessment_detail", plan_id=plan.pk, assessment_id=assessment.pk)
    return _detail(request, access, assessment, grid=grid, status=status)


def _import_queued(request: SignedInRequest, plan: Plan, assessment: Assessment, upload: Upload) -> HttpResponse:
    if request.htmx:
        return render(request, "naphs/_job.html", {"job": upload.job})
    message = _("{file} is being checked; its scores are saved only if all of it is sound.")
    messages.info(request, message.format(file=upload.filename))
    # The page opens at the import's outcome (and its problems), not at the top of the grid.
    return redirect(reverse("assessment_detail", args=[plan.pk, assessment.pk]) + "#import-job")


def _focus_first_error(form: Form) -> None:
    """Put the cursor on the first field in error, which the browser scrolls into view on load."""
    for name in form.errors:
        if name in form.fields:
            form.fields[name].widget.attrs["autofocus"] = True
            return


@require_POST
def assessment_import(request: SignedInRequest, plan_id: int, assessment_id: int) -> HttpResponse:
    """Import scores from a two-column sheet (indicator code, score): kept, then checked and saved by a job."""
    access, assessment = _assessment(request, plan_id, assessment_id, write=True)
    plan = access.plan
    form = ScoreSheetForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            upload = upload_create(
                kind=PlanningJob.SCORES_IMPORT,
                by=request.user,
                plan=plan,
                file=form.cleaned_data["file"],
                params={"assessment": assessment.pk},
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            return _import_queued(request, plan, assessment, upload)
    _focus_first_error(form)
    return _detail(request, access, assessment, sheet_form=form, status=422)


@require_POST
def assessment_import_spar(request: SignedInRequest, plan_id: int, assessment_id: int) -> HttpResponse:
    """Upload the table in which WHO publishes SPAR results: the file is kept for the person, and the page lists
    its countries to pick from (assessment_import_spar_pick). With a `country` already named (a script), that
    country's row is imported at once, in a job."""
    access, assessment = _assessment(request, plan_id, assessment_id, write=True)
    plan = access.plan
    form = SparTableForm(request.POST, request.FILES, auto_id=SPAR_IDS)
    if form.is_valid():
        file, country = form.cleaned_data["file"], form.cleaned_data["country"].strip()
        try:
            if country:
                upload = upload_create(
                    kind=PlanningJob.SPAR_IMPORT,
                    by=request.user,
                    plan=plan,
                    file=file,
                    params={"assessment": assessment.pk, "country": country},
                )
                return _import_queued(request, plan, assessment, upload)
            # Read here, with the reader's limits, so that a file that is no SPAR table is refused at once.
            if not spar_table_rows(upload=file, filename=file.name or "", assessment=assessment):
                raise ImportRefused([_("The table lists no country.")])
            file.seek(0)
            kept = upload_keep(kind=PlanningJob.SPAR_IMPORT, by=request.user, plan=plan, file=file)
        except ImportRefused as refused:
            for problem in refused.problems:
                form.add_error("file", str(problem))
        except ValidationError as error:
            form.add_error("file", error)
        else:
            return redirect(
                "assessment_import_spar_pick", plan_id=plan.pk, assessment_id=assessment.pk, upload_id=kept.pk
            )
    _focus_first_error(form)
    return _detail(request, access, assessment, spar_form=form, status=422)


@require_form_methods
def assessment_import_spar_pick(
    request: SignedInRequest, plan_id: int, assessment_id: int, upload_id: int
) -> HttpResponse:
    """The countries of a kept SPAR results table, each with its WHO region and how many indicators it reports,
    the plan's country chosen when the table has it; the person picks one and its scores are imported in a job.
    The file is the uploader's, for this plan, until it is imported or expires: anyone else gets 404."""
    access, assessment = _assessment(request, plan_id, assessment_id, write=True)
    plan = access.plan
    upload, countries = spar_table_kept(by=request.user, plan=plan, upload_id=upload_id)
    form = SparCountryForm(
        request.POST if request.method == "POST" else None,
        countries=[country.name for country in countries],
        initial={"country": spar_country_preselected(_country_name(plan), countries)},
    )
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                upload_job_start(
                    upload=upload,
                    by=request.user,
                    params={"assessment": assessment.pk, "country": form.cleaned_data["country"]},
                )
            except ValidationError as error:
                form.add_error(None, error)
                status = 409
            else:
                return _import_queued(request, plan, assessment, upload)
    context = {
        "plan": plan,
        "membership": access.membership,
        "assessment": assessment,
        "upload": upload,
        "countries": countries,
        "form": form,
        "chosen": form["country"].value(),
    }
    return render(request, "planning/assessment_spar_pick.html", context, status=status)


# Context and priorities: narratives, the ranked priority areas, functional groups, activity dependencies -------


def _areas_editable(membership: PlanMembership) -> frozenset[int] | None:
    """The areas whose narratives and targets the member edits (None: all of them), none once the plan is endorsed."""
    return frozenset() if membership.plan.is_frozen else area_ids_editable_by(membership)


def _context_rows(plan: Plan, editable: frozenset[int] | None, areas: list[TechnicalArea]) -> list[dict]:
    """One row per narrative (the plan's first, then each area's), with a form where the member may edit it."""
    contexts = {context.technical_area_id: context for context in PlanContext.objects.filter(plan=plan)}
    rows = []
    for area in [None, *areas]:
        context = contexts.get(area.pk if area else None)
        may_edit = editable is None or (area is not None and area.pk in editable)
        rows.append(_context_row(plan, area, context, may_edit=may_edit))
    return rows


def _context_row(
    plan: Plan,
    area: TechnicalArea | None,
    context: PlanContext | None,
    *,
    may_edit: bool,
    form: ContextForm | None = None,
) -> dict:
    key = area.pk if area else "plan"
    if may_edit and form is None:
        initial = {
            "technical_area": area.pk if area else None,
            "narrative": context.narrative if context else "",
            "version": context.version if context else 0,
        }
        form = ContextForm(plan=plan, initial=initial, auto_id=f"id_%s_{key}")
    return {"key": key, "area": area, "context": context, "form": form if may_edit else None}


@require_form_methods
def plan_context(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The plan's country context narrative and one per technical area, each saved on its own.

    The secretariat edits every narrative; a technical lead those of their own areas; other members read.
    """
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    if request.method == "POST":
        plan_writable_check(plan)
    editable = _areas_editable(membership)
    if request.method != "POST":
        areas = list(technical_areas_of(plan))
        context = {"plan": plan, "membership": membership, "rows": _context_rows(plan, editable, areas)}
        return render(request, "planning/context.html", context)
    if editable is not None and not editable:
        raise PermissionDenied(
            # Translators: %(role)s is a role's label (e.g. “Focal point”), put in as it is.
            _("Your role in this plan (%(role)s) does not allow editing narratives.")
            % {"role": membership.get_role_display()}
        )
    form = ContextForm(request.POST, plan=plan)
    if not form.is_valid():
        area = None
        status = 422
    else:
        area = form.cleaned_data["technical_area"]
        if area is None and not membership.is_secretariat:
            raise PermissionDenied(_("Only the secretariat edits the plan's own context narrative."))
        if area is not None and not area_editable_by(membership=membership, area=area):
            raise PermissionDenied(_("You edit the narratives of the technical areas assigned to you only."))
        try:
            saved = context_set(
                plan=plan,
                by=request.user,
                technical_area=area,
                narrative=form.cleaned_data["narrative"],
                version=form.cleaned_data["version"],
            )
        except EditConflict as conflict:
            form.add_error(None, str(conflict))
            status = 409
        except ValidationError as error:
            form.add_error(None, error)
            status = 422
        else:
            if area is None:
                saved_message = _("Saved the context of the plan.")
            else:
                saved_message = _("Saved the context of %(area)s.") % {"area": f"{area.code} {area.local_name}"}
            if request.htmx:
                row = _context_row(plan, area, saved, may_edit=True)
                row["saved"] = saved_message
                return render(request, "planning/_context_form.html", {"plan": plan, "row": row})
            messages.success(request, saved_message)
            return redirect("plan_context", plan_id=plan.pk)
    key = area.pk if area else "plan"
    form.auto_id = f"id_%s_{key}"
    stored = PlanContext.objects.filter(plan=plan, technical_area=area).first()
    row = _context_row(plan, area, stored, may_edit=True, form=form)
    if request.htmx:
        return render(request, "planning/_context_form.html", {"plan": plan, "row": row}, status=status)
    areas = list(technical_areas_of(plan))
    rows = [row if r["key"] == key else r for r in _context_rows(plan, editable, areas)]
    return render(
        request, "planning/context.html", {"plan": plan, "membership": membership, "rows": rows}, status=status
    )


@require_form_methods
def plan_priorities(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The ranked list of priority technical areas with their rationale; the secretariat reorders it."""
    need = Permission.EDIT_PLAN if request.method == "POST" else Permission.VIEW
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=need)
    priorities = list(AreaPriority.objects.filter(plan=plan).select_related("technical_area"))
    status = 200
    form = None
    if membership.can_edit_plan:
        areas = list(technical_areas_of(plan))
        by_area = {priority.technical_area_id: priority for priority in priorities}
        data = request.POST if request.method == "POST" else None
        form = PrioritiesForm(data, areas=areas, priorities=by_area)
        if request.method == "POST":
            if form.is_valid():
                try:
                    priorities_set(
                        plan=plan,
                        by=request.user,
                        ranking=form.cleaned_data["ranking"],
                        shown=form.cleaned_data["shown"],
                    )
                except EditConflict as conflict:
                    form.add_error(None, str(conflict))
                    status = 409
                except ValidationError as error:
                    form.add_error(None, error.messages)
                else:
                    messages.success(request, _("Priority areas saved."))
                    return redirect("plan_priorities", plan_id=plan.pk)
            status = status if status == 409 else 422
    context = {"plan": plan, "membership": membership, "priorities": priorities, "form": form}
    return render(request, "planning/priorities.html", context, status=status)


def _groups_page(
    request: SignedInRequest, access: PlanAccess, form: FunctionalGroupForm | None, status: int = 200
) -> HttpResponse:
    plan, membership = access
    groups = FunctionalGroup.objects.filter(plan=plan).prefetch_related("technical_areas")
    context = {"plan": plan, "membership": membership, "groups": groups, "form": form}
    return render(request, "planning/groups.html", context, status=status)


@require_form_methods
def functional_groups(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The plan's functional groups of technical areas; the secretariat adds one, or the default ones."""
    need = Permission.EDIT_PLAN if request.method == "POST" else Permission.VIEW
    access = plan_get_for_user(user=request.user, plan_id=plan_id, need=need)
    plan, membership = access
    if not membership.can_edit_plan:
        return _groups_page(request, access, None)
    if request.method == "POST" and "defaults" in request.POST:
        created = functional_groups_default(plan=plan, by=request.user)
        if created:
            messages.success(
                request,
                ngettext("Created the group %(names)s.", "Created the groups %(names)s.", len(created))
                % {"names": ", ".join(group.name for group in created)},
            )
        else:
            messages.info(request, _("The plan has groups already: no default groups were added."))
        return redirect("functional_groups", plan_id=plan.pk)
    form = FunctionalGroupForm(request.POST if request.method == "POST" else None, plan=plan)
    if request.method == "POST":
        if form.is_valid():
            try:
                group = functional_group_save(plan=plan, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("Group “%(group)s” added.") % {"group": group})
                return redirect("functional_groups", plan_id=plan.pk)
        return _groups_page(request, access, form, status=422)
    return _groups_page(request, access, form)


def _group(plan: Plan, group_id: int) -> FunctionalGroup:
    group = FunctionalGroup.objects.filter(plan=plan, pk=group_id).first()
    if group is None:
        raise Http404(_("No such group."))
    group.plan = plan
    return group


@require_form_methods
def functional_group_edit(request: SignedInRequest, plan_id: int, group_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_PLAN)
    group = _group(plan, group_id)
    initial = {
        "name": group.name,
        "technical_areas": list(group.technical_areas.values_list("pk", flat=True)),
        "version": group.version,
    }
    form = FunctionalGroupForm(request.POST if request.method == "POST" else None, plan=plan, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                functional_group_save(plan=plan, by=request.user, group=group, **form.cleaned_data)
            except (ValidationError, EditConflict) as refusal:
                status = form_refused(form, refusal)
            else:
                messages.success(request, _("Group “%(group)s” saved.") % {"group": group})
                return redirect("functional_groups", plan_id=plan.pk)
        else:
            status = 422
    context = {"plan": plan, "membership": membership, "group": group, "form": form}
    return render(request, "planning/group_edit.html", context, status=status)


@require_POST
def functional_group_delete(request: SignedInRequest, plan_id: int, group_id: int) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_PLAN).plan
    group = _group(plan, group_id)
    name = group.name
    functional_group_delete_service(group=group, by=request.user)
    messages.success(request, _("Group “%(group)s” deleted.") % {"group": name})
    return redirect("functional_groups", plan_id=plan.pk)


@require_form_methods
def activity_dependencies(request: SignedInRequest, plan_id: int, activity_id: int) -> HttpResponse:
    """What the activity waits on and what waits on it; the secretariat adds and removes dependencies."""
    need = Permission.EDIT_PLAN if request.method == "POST" else Permission.VIEW
    activity, membership = activity_get_for_user(user=request.user, plan_id=plan_id, activity_id=activity_id, need=need)
    plan = activity.plan
    form = None
    status = 200
    if membership.can_edit_plan:
        form = DependencyForm(request.POST if request.method == "POST" else None, activity=activity)
        if request.method == "POST":
            if form.is_valid():
                try:
                    dependency_add(activity=activity, depends_on=form.cleaned_data["depends_on"], by=request.user)
                except ValidationError as error:
                    form_errors_from(form, error)
                else:
                    messages.success(
                        request,
                        _("“%(activity)s” now depends on “%(depends_on)s”.")
                        % {"activity": activity, "depends_on": form.cleaned_data["depends_on"]},
                    )
                    return redirect("activity_dependencies", plan_id=plan.pk, activity_id=activity.pk)
            status = 422
    related = ActivityDependency.objects.select_related("activity__technical_area", "depends_on__technical_area")
    context = {
        "plan": plan,
        "membership": membership,
        "activity": activity,
        "depends_on": related.filter(activity=activity).order_by("depends_on__title"),
        "dependents": related.filter(depends_on=activity).order_by("activity__title"),
        "form": form,
    }
    return render(request, "planning/activity_dependencies.html", context, status=status)


@require_POST
def activity_dependency_remove(
    request: SignedInRequest, plan_id: int, activity_id: int, dependency_id: int
) -> HttpResponse:
    activity = activity_get_for_user(
        user=request.user, plan_id=plan_id, activity_id=activity_id, need=Permission.EDIT_PLAN
    ).activity
    plan = activity.plan
    dependency = (
        ActivityDependency.objects.filter(activity=activity, pk=dependency_id).select_related("depends_on").first()
    )
    if dependency is None:
        raise Http404(_("No such dependency."))
    dependency.activity = activity
    dependency_remove(dependency=dependency, by=request.user)
    messages.success(
        request,
        _("“%(activity)s” no longer depends on “%(depends_on)s”.")
        % {"activity": activity, "depends_on": dependency.depends_on},
    )
    return redirect("activity_dependencies", plan_id=plan.pk, activity_id=activity.pk)


# Targets and draft generation -----------------------------------------------------------------------------------


def _target_rows(
    plan: Plan, editable: frozenset[int] | None, bound: dict[int, TargetForm] | None = None
) -> list[tuple[TechnicalArea, list[dict]]]:
    """Per technical area, each indicator with its current level, its target (or the default it would get) and,
    where the person may edit it, its part of the page's one form (`bound`: those as submitted). A constant
    number of queries, whatever the framework's size."""
    indicators = list(
        Indicator.objects.filter(framework=plan.framework_id)
        .select_related("technical_area")
        .order_by("technical_area__order", "order", "code")
    )
    baseline = plan_baseline(plan=plan)
    targets = {target.indicator_id: target for target in IndicatorTarget.objects.filter(plan=plan)}
    years = plan_years(plan)
    areas: dict[int, tuple[TechnicalArea, list[dict]]] = {}
    for indicator in indicators:
        source = baseline.get(indicator.pk)
        level = source.level if source else None
        target = targets.get(indicator.pk)
        default = target_default(current=level, years=years) if level is not None else None
        form = None
        if editable is None or indicator.technical_area_id in editable:
            form = (bound or {}).get(indicator.pk) or TargetForm(
                prefix=f"t{indicator.pk}",
                initial={
                    "level": target.level if target else default,
                    "justification": target.justification if target else "",
                    "version": target.version if target else 0,
                },
            )
        row = {
            "indicator": indicator,
            "current": level,
            "source": source,
            "target": target,
            "default": default,
            "form": form,
            "below_current": target is not None and target_below_current(level=target.level, current=level),
        }
        areas.setdefault(indicator.technical_area_id, (indicator.technical_area, []))[1].append(row)
    return list(areas.values())


def _target_forms(request: SignedInRequest, plan: Plan, editable: frozenset[int] | None) -> dict[Indicator, TargetForm]:
    """The submitted targets: each indicator named in `indicator` with its form (prefixed with its id). An
    indicator that is not of the plan's framework is not found; one outside a technical lead's areas refused."""
    numbers = [number for raw in request.POST.getlist("indicator") if (number := whole_number(raw)) is not None]
    if not numbers or len(numbers) != len(request.POST.getlist("indicator")):
        raise Http404(_("No such indicator in this plan's framework."))
    indicators = list(Indicator.objects.filter(framework=plan.framework_id, pk__in=numbers))
    if len(indicators) != len(set(numbers)):
        raise Http404(_("No such indicator in this plan's framework."))
    if editable is not None and any(indicator.technical_area_id not in editable for indicator in indicators):
        raise PermissionDenied(_("A technical lead sets targets only in their own technical areas."))
    return {indicator: TargetForm(request.POST, prefix=f"t{indicator.pk}") for indicator in indicators}


@require_form_methods
def targets(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Current level and target of every indicator; the secretariat (a technical lead in their own areas) sets
    targets with their justifications, as many as they changed in one save."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    if request.method == "POST":
        plan_writable_check(plan)
    editable = _areas_editable(membership)
    bound, status, refused = None, 200, ""
    if request.method == "POST":
        if editable is not None and not editable:
            raise PermissionDenied(_("Only the secretariat and technical leads (in their own areas) set targets."))
        forms = _target_forms(request, plan, editable)
        bound = {indicator.pk: form for indicator, form in forms.items()}
        changed = {indicator: form for indicator, form in forms.items() if form.changes_target()}
        if not changed:
            messages.info(request, _("No target was changed, so nothing was saved."))
            return redirect("targets", plan_id=plan.pk)
        if all([form.is_valid() for form in changed.values()]):
            try:
                saved = targets_set(
                    plan=plan,
                    by=request.user,
                    changes=[
                        TargetChange(
                            indicator=indicator,
                            level=form.cleaned_data["level"],
                            justification=form.cleaned_data["justification"],
                            version=form.cleaned_data["version"],  # 0: the page showed no target
                        )
                        for indicator, form in changed.items()
                    ],
                )
            except TargetsRefused as refusal:
                status = _targets_refused(refusal, forms)
            else:
                codes = ", ".join(indicator.code for indicator in changed)
                messages.success(
                    request,
                    ngettext("Target of %(codes)s saved.", "%(count)d targets saved: %(codes)s.", len(saved))
                    % {"count": len(saved), "codes": codes},
                )
                return redirect("targets", plan_id=plan.pk)
        refused = _targets_refused_summary(changed, conflict=status == 409)
    areas = _target_rows(plan, editable, bound)
    context = {
        "plan": plan,
        "membership": membership,
        "areas": areas,
        "may_set_targets": any(row["form"] for _area, rows in areas for row in rows),
        # The column of editors, for those who set targets, while the plan is not endorsed.
        "target_column": not plan.is_frozen and (membership.is_secretariat or membership.role == Role.TECHNICAL_LEAD),
        "advice": draft_advice(plan=plan),
        "refused": refused,
    }
    return render(request, "planning/targets.html", context, status=status)


def _targets_refused(refusal: TargetsRefused, forms: dict[Indicator, TargetForm]) -> int:
    """Each refused target's reason beside it; 409 when someone else saved one of them first."""
    status = 200
    for indicator, form in forms.items():
        reason = refusal.refusals.get(indicator.pk)
        if isinstance(reason, EditConflict):
            form.add_error(
                None,
                _(
                    "Someone else changed the target of %(indicator)s after you opened this page. Reload to see "
                    "their target, then set yours again."
                )
                % {"indicator": indicator.code},
            )
            status = 409
        elif reason is not None:
            form_errors_from(form, reason)
    return status


def _targets_refused_summary(forms: dict[Indicator, TargetForm], *, conflict: bool) -> str:
    """Above the table: that nothing was saved, and which indicators to look at."""
    codes = [indicator.code for indicator, form in forms.items() if form.errors]
    if conflict:
        message = ngettext(
            "Nothing was saved: someone else changed a target you changed since you opened this page (%(codes)s).",
            "Nothing was saved: someone else changed targets you changed since you opened this page (%(codes)s).",
            len(codes),
        )
    else:
        message = ngettext(
            "Nothing was saved: correct the target of %(codes)s.",
            "Nothing was saved: correct the targets of %(codes)s.",
            len(codes),
        )
    return message % {"codes": ", ".join(codes)}


@require_POST
def targets_fill(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Give every scored indicator without a target its default target."""
    plan = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_PLAN).plan
    created = targets_fill_defaults(plan=plan, by=request.user)
    if created:
        messages.success(
            request,
            ngettext(
                "%(count)d default target set; targets already set were left as they are.",
                "%(count)d default targets set; targets already set were left as they are.",
                len(created),
            )
            % {"count": len(created)},
        )
    else:
        messages.info(request, _("Every scored indicator already has a target (indicators without a score get none)."))
    return redirect("targets", plan_id=plan.pk)


def _after_generation(plan: Plan) -> str:
    try:
        return reverse("activities", kwargs={"plan_id": plan.pk})
    except NoReverseMatch:  # the activity list is not there: back to this page
        return reverse("generate", kwargs={"plan_id": plan.pk})


@require_form_methods
def generate(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Choose a library and technical areas, see what would be added per area, and generate the draft."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_PLAN)
    library_set = BenchmarkLibrary.objects.filter(framework=plan.framework_id)
    libraries = list(library_set)
    chosen = request.POST.get("library") if request.method == "POST" else request.GET.get("library")
    library = next((lib for lib in libraries if str(lib.pk) == chosen), libraries[0] if libraries else None)
    areas = list(technical_areas_of(plan))
    preview = draft_preview(plan=plan, library=library, technical_areas=areas) if library and areas else None
    to_add = {area.pk: preview.by_area.get(area.pk, 0) if preview else 0 for area in areas}
    labels = {
        # Translators: a technical area ("P1 Legal instruments") and how many draft activities a generation adds to it.
        area.pk: ngettext("%(area)s · %(count)d to add", "%(area)s · %(count)d to add", to_add[area.pk])
        % {"area": f"{area.code} {area.local_name}", "count": to_add[area.pk]}
        for area in areas
    }
    form = GenerateForm(
        request.POST if request.method == "POST" else None,
        libraries=library_set,
        areas=technical_areas_of(plan),
        organizations=organization_list_for_plan(plan=plan),
        labels=labels,
        initial={"library": library},
    )
    if request.method == "POST" and form.is_valid():
        try:
            result = draft_generate(
                plan=plan,
                by=request.user,
                library=form.cleaned_data["library"],
                technical_areas=form.cleaned_data["technical_areas"],
                responsible_organization=form.cleaned_data["responsible_organization"],
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(
                request,
                _("Draft generated from “%(library)s”: %(summary)s")
                % {"library": form.cleaned_data["library"], "summary": result.summary()},
            )
            return redirect(_after_generation(plan))
    context = {
        "plan": plan,
        "membership": membership,
        "form": form,
        "libraries": libraries,
        "library": library,
        "preview": preview,
        "advice": draft_advice(plan=plan),
    }
    return render(request, "planning/generate.html", context)


# Activities: the filterable table, the editor, deleting ------------------------------------------------------

ACTIVITY_PAGE_SIZE = 100


def _may_add_activities(membership) -> bool:
    editable = area_ids_editable_by(membership)
    return membership.allows(Permission.EDIT_ACTIVITIES) and (editable is None or bool(editable))


def _sort_links(request: SignedInRequest, current: str) -> dict[str, dict[str, str]]:
    """Per sortable column: the link that sorts by it (or reverses it), keeping the filters."""
    links = {}
    for key in ACTIVITY_SORTS:
        query = request.GET.copy()
        query.pop("page", None)
        query["sort"] = f"-{key}" if current == key else key
        state = "ascending" if current == key else "descending" if current == f"-{key}" else "none"
        links[key] = {"href": f"{request.path}?{query.urlencode()}", "state": state}
    return links


_URL_MARK = 987_654_321_987_654


def _activity_url(plan: Plan, name: str) -> Callable[[int], str]:
    """The address of the page `name` (plans/<plan>/activities/<activity>/...) of any activity of the plan, from
    one reverse: a table's rows then need none each."""
    head, tail = reverse(name, kwargs={"plan_id": plan.pk, "activity_id": _URL_MARK}).rsplit(str(_URL_MARK), 1)
    return lambda activity_id: f"{head}{activity_id}{tail}"


@require_safe
def activities(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The plan's activities in a table, filtered and sorted by GET parameters (so a view is a link to share);
    htmx requests from the filters, sort links and pages get the table alone."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id)
    filter_form = ActivityFilterForm(request.GET or None, plan=plan)
    filters = filter_form.filters()
    rows = pipe(hooks.activity_rows, activity_list_for_plan(plan=plan, **filters))  # costing's column: no extra query
    rows = activities_with_open_threads(rows)  # the open comment threads' column, in the same query
    # The table shows indicator codes only: read as values below instead of prefetched as objects.
    page = Paginator(rows.prefetch_related(None), ACTIVITY_PAGE_SIZE).get_page(request.GET.get("page"))
    codes = activity_indicator_codes(activities=page.object_list)
    detail_url, costs_url = _activity_url(plan, "activity_detail"), _activity_url(plan, "activity_costs")
    for activity in page.object_list:  # what the row shows, beside the activity's fields
        activity.indicator_codes = codes.get(activity.pk, [])  # type: ignore[attr-defined]
        activity.detail_url = detail_url(activity.pk)  # type: ignore[attr-defined]
        activity.costs_url = costs_url(activity.pk)  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    if plan.kind == Plan.Kind.STRATEGIC:
        # Which operational plans each listed activity is planned in: one query for the page.
        placements = activity_placements(plan=plan, activities=page.object_list)
        for activity in page.object_list:
            activity.placements = placements.get(activity.pk, [])  # type: ignore[attr-defined]  # for the table
    context = {
        "plan": plan,
        "membership": membership,
        "filter_form": filter_form,
        "page": page,
        "query": query.urlencode(),
        "sort": filters.get("sort", ""),
        "sort_links": _sort_links(request, filters.get("sort", "")),
        "may_add": _may_add_activities(membership),
    }
    template = "planning/_activity_table.html" if request.htmx else "planning/activities.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_form_methods
def activity_new(request: SignedInRequest, plan_id: int) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.EDIT_ACTIVITIES)
    if not _may_add_activities(membership):
        raise PermissionDenied(_("No technical area is assigned to you in this plan; ask the secretariat for yours."))
    form = ActivityForm(request.POST if request.method == "POST" else None, plan=plan, membership=membership)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                activity = activity_create(plan=plan, by=request.user, **form.activity_fields())
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("Activity “%(activity)s” added.") % {"activity": activity})
                return redirect("activity_detail", plan_id=plan.pk, activity_id=activity.pk)
    context = {"plan": plan, "membership": membership, "form": form}
    return render(request, "planning/activity_new.html", context, status=status)


@require_form_methods
def activity_detail(request: SignedInRequest, plan_id: int, activity_id: int) -> HttpResponse:
    """An activity: its editor for those who may change it, a read-only page for everyone else."""
    need = Permission.EDIT_ACTIVITIES if request.method == "POST" else Permission.VIEW
    activity, membership = activity_get_for_user(user=request.user, plan_id=plan_id, activity_id=activity_id, need=need)
    plan = activity.plan
    may_edit = membership.allows(Permission.EDIT_ACTIVITIES) and area_editable_by(
        membership=membership, area=activity.technical_area
    )
    form = None
    status = 200
    if may_edit:
        data = request.POST if request.method == "POST" else None
        form = ActivityForm(data, instance=copy.copy(activity), plan=plan, membership=membership)
        if request.method == "POST":
            status = 422
            if form.is_valid():
                try:
                    activity_update(
                        activity=activity,
                        by=request.user,
                        version=form.cleaned_data["version"],
                        **form.activity_fields(),
                    )
                except (EditConflict, ValidationError) as refusal:
                    status = form_refused(form, refusal)
                else:
                    messages.success(request, _("Activity “%(activity)s” saved.") % {"activity": activity})
                    return redirect("activity_detail", plan_id=plan.pk, activity_id=activity.pk)
    context = {
        "plan": plan,
        "membership": membership,
        "activity": activity,
        "indicators": activity.indicators.all(),
        "supporting": activity.supporting_organizations.all(),
        "sectors": [Sector(value).label for value in activity.sectors if value in Sector.values],
        "hazards": [Hazard(value).label for value in activity.hazards if value in Hazard.values],
        "form": form,
        "may_edit": may_edit,
        "guidance": guidance_for_activities(plan=plan, activities=[activity])[activity.pk],
        # What consultations and workshops decided about it (stakeholders, the same layer as planning).
        "engagement_decisions": EventDecision.objects.filter(activities=activity)
        .select_related("event")
        .order_by("-event__starts_on", "pk"),
        **activity_comments_context(request, activity=activity, membership=membership),
    }
    for part in hooks.activity_page.send(activity):  # costing's summary of the activity's costs
        context.update(part)
    return render(request, "planning/activity_detail.html", context, status=status)


@require_POST
def activity_delete(request: SignedInRequest, plan_id: int, activity_id: int) -> HttpResponse:
    activity = activity_get_for_user(
        user=request.user, plan_id=plan_id, activity_id=activity_id, need=Permission.EDIT_ACTIVITIES
    ).activity
    title = activity.title
    activity_delete_service(activity=activity, by=request.user)
    messages.success(request, _("Activity “%(activity)s” deleted.") % {"activity": title})
    return redirect("activities", plan_id=plan_id)


# Strategic to operational ----------------------------------------------------------------------------------


@require_form_methods
def operational_new(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """Open an operational plan inside this strategic plan, from the activities the secretariat picks."""
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.MANAGE)
    if plan.kind != Plan.Kind.STRATEGIC:
        raise PermissionDenied(_("Operational plans are drawn from a strategic plan."))
    form = OperationalPlanForm(request.POST if request.method == "POST" else None, strategic=plan)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                operational = operational_plan_create(strategic=plan, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                count = operational.activities.count()
                messages.success(
                    request,
                    ngettext(
                        "Operational plan “%(plan)s” opened with %(count)d activity from the strategic plan.",
                        "Operational plan “%(plan)s” opened with %(count)d activities from the strategic plan.",
                        count,
                    )
                    % {"plan": operational, "count": count},
                )
                return redirect("plan_detail", plan_id=operational.pk)
    context = {"plan": plan, "membership": membership, "form": form}
    return render(request, "planning/operational_new.html", context, status=status)
