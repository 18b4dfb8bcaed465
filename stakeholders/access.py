"""The one way to reach a protected object: every HTML view and API endpoint starts here.

A person who is not a member of the plan gets 404 (the plan's existence is not revealed); a member whose
role lacks the right gets 403. Lists are querysets already scoped to what the person may see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.views import APIView

from naphs.errors import PlanFrozen
from naphs.models import Job
from naphs.permissions import FROZEN_WHEN_ENDORSED, SECRETARIAT_ROLES, Permission, Role
from planning.models import Activity, Assessment, Jurisdiction, Plan
from stakeholders.models import Organization, PlanMembership

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django_htmx.middleware import HtmxDetails
    from typing_extensions import TypeIs

    from planning.models import TechnicalArea
    from stakeholders.models import User


class SignedInRequest(HttpRequest):
    """The request of a page: LoginRequiredMiddleware lets only a signed-in person reach a view that is not marked
    login_not_required, so its user is a User; django-htmx's middleware adds `htmx`. Views are annotated with it
    (the one place the type is narrowed) instead of casting request.user."""

    user: User  # narrowed from User | AnonymousUser, as the middleware guarantees
    htmx: HtmxDetails


class SignedInApiRequest(Request):
    """The request of an API endpoint: every endpoint but the token sign-in needs an authenticated person."""

    user: User  # narrowed from User | AnonymousUser, as IsAuthenticated guarantees


class SignedInView(APIView):
    """The base of the API views that need a signed-in person (all but the token sign-in): `self.request.user`
    is a User."""

    request: SignedInApiRequest


class PlanAccess(NamedTuple):
    """A plan as one person reached it, and their membership of it (their role, organization and areas)."""

    plan: Plan
    membership: PlanMembership


class ActivityAccess(NamedTuple):
    """An activity (its plan loaded) as one person reached it, and their membership of its plan."""

    activity: Activity
    membership: PlanMembership

    @property
    def plan(self) -> Plan:
        return self.activity.plan


class JobAccess(NamedTuple):
    """A job the person asked for, and their membership of its plan (None for a job of no plan)."""

    job: Job
    membership: PlanMembership | None


def _signed_in(user: User | AnonymousUser) -> TypeIs[User]:
    return bool(user and user.is_authenticated and user.is_active)


def signed_in_user(request: HttpRequest) -> User:
    """The person of a request that only a signed-in person reaches (the admin's, say) where the request's type
    cannot say so (an overridden method of Django's): PermissionDenied for anyone else."""
    user = request.user
    if not _signed_in(user):
        raise PermissionDenied
    return user


def membership_get_for_user(
    *, user: User | AnonymousUser, plan_id: int, need: Permission = Permission.VIEW
) -> PlanMembership:
    """The person's membership of the plan, with the plan loaded, once they hold `need`."""
    membership = None
    if _signed_in(user):
        membership = (
            PlanMembership.objects.select_related("plan__jurisdiction__country", "plan__parent", "organization")
            .filter(plan_id=plan_id, user=user)
            .first()
        )
    if membership is None:
        raise Http404(_("No such plan."))
    membership_need_check(membership, need)
    return membership


def membership_need_check(membership: PlanMembership, need: Permission) -> None:
    """PermissionDenied when the member's role lacks `need`; PlanFrozen when `need` writes the plan's content and
    the plan is endorsed."""
    if not membership.role_allows(need):
        raise PermissionDenied(
            # Translators: %(role)s is a role's label (e.g. “Focal point”), put in as it is.
            _("Your role in this plan (%(role)s) does not allow this.") % {"role": membership.get_role_display()}
        )
    if need in FROZEN_WHEN_ENDORSED:
        plan_writable_check(membership.plan)


def plan_writable_check(plan: Plan) -> None:
    """PlanFrozen when the plan is endorsed: the one check every write to a plan's content passes, in a page, the
    API or a job about to apply what it was asked before the endorsement (see planning.services.plan_lock_for_write
    for the locked form, inside a write's transaction)."""
    if plan.is_frozen:
        raise PlanFrozen(plan)


def plan_get_for_user(*, user: User | AnonymousUser, plan_id: int, need: Permission = Permission.VIEW) -> PlanAccess:
    """The plan and the person's membership of it, once they hold `need`."""
    membership = membership_get_for_user(user=user, plan_id=plan_id, need=need)
    return PlanAccess(membership.plan, membership)


def assessment_write_need(assessment: Assessment) -> Permission:
    """What recording an assessment or its scores needs: a baseline assessment is the plan's content (EDIT_PLAN,
    frozen once the plan is endorsed); a follow-up re-assesses the plan being implemented, the secretariat's
    monitoring work (MANAGE), which goes on against an endorsed plan."""
    return Permission.MANAGE if assessment.is_follow_up else Permission.EDIT_PLAN


def assessment_writable_by(*, membership: PlanMembership, assessment: Assessment) -> bool:
    """Whether the member may record the assessment's scores now (pages show the controls only then)."""
    return membership.allows(assessment_write_need(assessment))


def assessment_get_for_user(
    *, user: User | AnonymousUser, plan_id: int, assessment_id: int | None, write: bool = False
) -> tuple[Assessment, PlanMembership]:
    """An assessment of the plan (its framework and plan loaded) and the person's membership of the plan: 404 for a
    non-member or an assessment of another plan. To `write` (its scores, an import into it), 403 for a role without
    assessment_write_need and 423 for a baseline assessment of an endorsed plan."""
    membership = membership_get_for_user(user=user, plan_id=plan_id)
    assessment = (
        Assessment.objects.select_related("framework").filter(plan_id=plan_id, pk=assessment_id).first()
        if assessment_id is not None
        else None
    )
    if assessment is None:
        raise Http404(_("No such assessment."))
    assessment.plan = membership.plan
    if write:
        membership_need_check(membership, assessment_write_need(assessment))
    return assessment, membership


def plans_for_user(user: User | AnonymousUser) -> QuerySet[Plan]:
    if not _signed_in(user):
        return Plan.objects.none()
    return Plan.objects.filter(memberships__user=user)


def plans_managed_by(user: User | AnonymousUser) -> QuerySet[Plan]:
    """The plans whose secretariat the person is in: where they may open plans under the plan."""
    if not _signed_in(user):
        return Plan.objects.none()
    return Plan.objects.filter(memberships__user=user, memberships__role__in=SECRETARIAT_ROLES)


def countries_granted_to(user: User | AnonymousUser) -> QuerySet[Jurisdiction]:
    """The countries an administrator granted the person: where they may open plans that sit under no other."""
    if not _signed_in(user):
        return Jurisdiction.objects.none()
    return Jurisdiction.objects.filter(grants__user=user)


def jurisdictions_openable_by(user: User | AnonymousUser) -> QuerySet[Jurisdiction]:
    """Where the person may open a plan: anywhere in a country granted to them, and the jurisdiction of a plan
    whose secretariat they are in or one below it (a plan under that plan). Nothing in any other country."""
    if not _signed_in(user):
        return Jurisdiction.objects.none()
    managed = plans_managed_by(user).values("jurisdiction_id")
    return Jurisdiction.objects.filter(
        Q(country_id__in=countries_granted_to(user).values("pk"))
        | Q(pk__in=managed)
        | Q(parent_id__in=managed)
        | Q(parent__parent_id__in=managed)
    )


def plan_parent_choices(*, user: User | AnonymousUser, plan: Plan | None = None) -> QuerySet[Plan]:
    """The plans a plan may be opened (or, for `plan`, placed) under: those whose secretariat the person is in,
    of the plan's own country; a plan keeps its current parent as a choice even when the person is not in that
    plan's secretariat."""
    choices = plans_managed_by(user)
    if plan is None:
        return choices
    choices = choices.filter(jurisdiction__country_id=plan.jurisdiction.country_id).exclude(pk=plan.pk)
    if plan.parent_id is not None:
        return Plan.objects.filter(Q(pk__in=choices.values("pk")) | Q(pk=plan.parent_id))
    return choices


def plan_open_check(*, user: User | AnonymousUser, jurisdiction: Jurisdiction, parent: Plan | None) -> None:
    """PermissionDenied unless the person may open a plan of `jurisdiction` under `parent` (or move a plan
    there): under a parent, they are in its secretariat; under none, they hold an administrator's grant for the
    jurisdiction's country. Whether the jurisdiction fits the parent is the plan's own rule (Plan.clean)."""
    if parent is not None:
        if not plans_managed_by(user).filter(pk=parent.pk).exists():
            raise PermissionDenied(
                _("Only the secretariat of “%(parent)s” opens plans under it; choose a parent plan you run.")
                % {"parent": parent}
            )
        return
    granted = countries_granted_to(user).filter(pk=jurisdiction.country_id) if jurisdiction.country_id else None
    if granted is None or not granted.exists():
        country = jurisdiction.country if jurisdiction.country_id not in (None, jurisdiction.pk) else None
        raise PermissionDenied(
            _(
                "A plan that sits under no other plan needs an administrator's grant for %(country)s; choose the "
                "parent plan to open one under it."
            )
            % {"country": (country or jurisdiction).name}
        )


def country_ids_for_user(user: User | AnonymousUser) -> QuerySet:
    return plans_for_user(user).values("jurisdiction__country_id")


def jurisdictions_for_user(user: User | AnonymousUser) -> QuerySet[Jurisdiction]:
    """Every jurisdiction in a country where the person belongs to a plan."""
    return Jurisdiction.objects.filter(country_id__in=country_ids_for_user(user))


def organizations_for_user(user: User | AnonymousUser) -> QuerySet[Organization]:
    """Every organization in a country where the person belongs to a plan."""
    return Organization.objects.filter(jurisdiction__country_id__in=country_ids_for_user(user))


def jurisdiction_manageable_by(*, user: User | AnonymousUser, jurisdiction: Jurisdiction) -> bool:
    """The secretariat of a plan manages the organizations of its jurisdiction and of those below it."""
    return (
        _signed_in(user)
        and PlanMembership.objects.filter(
            user=user, role__in=SECRETARIAT_ROLES, plan__jurisdiction_id__in=jurisdiction.ancestors_and_self_ids()
        ).exists()
    )


def organization_get_for_user(
    *, user: User | AnonymousUser, organization_id: int, need: Permission = Permission.VIEW
) -> Organization:
    organization = (
        organizations_for_user(user).select_related("jurisdiction__parent__parent").filter(pk=organization_id).first()
    )
    if organization is None:
        raise Http404(_("No such organization."))
    if need != Permission.VIEW and not jurisdiction_manageable_by(user=user, jurisdiction=organization.jurisdiction):
        raise PermissionDenied(
            _("Only the secretariat of a plan covering this organization's jurisdiction can change it.")
        )
    return organization


def jobs_for_user(user: User | AnonymousUser) -> QuerySet[Job]:
    """The jobs the person asked for, of plans they can still see (or of no plan), as job_get_for_user allows."""
    if not _signed_in(user):
        return Job.objects.none()
    return Job.objects.filter(requested_by=user).filter(Q(plan__isnull=True) | Q(plan__in=plans_for_user(user)))


def job_get_for_user(*, user: User | AnonymousUser, job_id: int) -> JobAccess:
    """A job is seen by the person who asked for it, while they can still see its plan."""
    job = Job.objects.filter(pk=job_id, requested_by_id=getattr(user, "pk", None)).first() if _signed_in(user) else None
    if job is None:
        raise Http404(_("No such job."))
    if job.plan_id is None:
        return JobAccess(job, None)
    plan, membership = plan_get_for_user(user=user, plan_id=job.plan_id)
    job.plan = plan
    return JobAccess(job, membership)


def area_ids_editable_by(membership: PlanMembership) -> frozenset[int] | None:
    """The technical areas whose content (context narrative, activities) the member edits: None meaning every
    area for the secretariat, their assigned areas for a technical lead, none for any other role."""
    if membership.is_secretariat:
        return None
    if membership.role != Role.TECHNICAL_LEAD:
        return frozenset()
    return frozenset(membership.technical_areas.values_list("pk", flat=True))


def area_editable_by(*, membership: PlanMembership, area: TechnicalArea) -> bool:
    editable = area_ids_editable_by(membership)
    return editable is None or area.pk in editable


def activities_costable_by(membership: PlanMembership) -> Q:
    """A filter on activities: those whose cost lines the member edits. The secretariat every activity, a
    technical lead the activities of their areas, a focal point those their organization is responsible for."""
    if membership.is_secretariat:
        return Q()
    if membership.role == Role.TECHNICAL_LEAD:
        return Q(technical_area_id__in=membership.technical_areas.values("pk"))
    if membership.role == Role.FOCAL_POINT and membership.organization_id is not None:
        return Q(responsible_organization_id=membership.organization_id)
    return Q(pk__in=[])


def activity_costs_editable_by(*, membership: PlanMembership, activity: Activity) -> bool:
    if membership.is_secretariat:
        return True
    if membership.role == Role.TECHNICAL_LEAD:
        return area_editable_by(membership=membership, area=activity.technical_area)
    if membership.role == Role.FOCAL_POINT:
        return membership.organization_id is not None and activity.responsible_organization_id == (
            membership.organization_id
        )
    return False


# Progress is reported by the same people, on the same activities, as costs are edited (DESIGN.md).
activities_reportable_by = activities_costable_by
activity_progress_reportable_by = activity_costs_editable_by


def activity_get_for_user(
    *, user: User | AnonymousUser, plan_id: int, activity_id: int, need: Permission = Permission.VIEW
) -> ActivityAccess:
    """An activity of the plan, with its plan loaded, and the caller's membership of the plan.

    404 for a non-member or an activity of another plan; 403 for a role without `need`, and, for
    EDIT_ACTIVITIES, for a technical lead when the activity lies outside their technical areas.
    """
    membership = membership_get_for_user(user=user, plan_id=plan_id, need=need)
    activity = (
        Activity.objects.select_related("technical_area", "responsible_organization")
        .filter(plan_id=plan_id, pk=activity_id)
        .first()
    )
    if activity is None:
        raise Http404(_("No such activity."))
    activity.plan = membership.plan
    if need == Permission.EDIT_ACTIVITIES and not area_editable_by(membership=membership, area=activity.technical_area):
        area = activity.technical_area
        raise PermissionDenied(
            _("You edit the activities of your own technical areas only; %(area)s is not one of them.")
            % {"area": f"{area.code} {area.local_name}"}
        )
    if need == Permission.EDIT_COSTS and not activity_costs_editable_by(membership=membership, activity=activity):
        if membership.role == Role.FOCAL_POINT:
            raise PermissionDenied(
                _("You edit the costs of activities your organization is responsible for; this one is not.")
            )
        area = activity.technical_area
        raise PermissionDenied(
            _("You edit the costs of your own technical areas only; %(area)s is not one of them.")
            % {"area": f"{area.code} {area.local_name}"}
        )
    if need == Permission.REPORT_PROGRESS and not activity_progress_reportable_by(
        membership=membership, activity=activity
    ):
        if membership.role == Role.FOCAL_POINT:
            raise PermissionDenied(
                _("You report progress on activities your organization is responsible for; this one is not.")
            )
        area = activity.technical_area
        raise PermissionDenied(
            _("You report progress on your own technical areas only; %(area)s is not one of them.")
            % {"area": f"{area.code} {area.local_name}"}
        )
    return ActivityAccess(activity, membership)


class PlanScopedMixin(SignedInView):
    """For API endpoints under /api/plans/{plan_id}/: reading needs `read_need`, writing `write_need` (by default
    the secretariat's right to the plan's content, refused with 423 once the plan is endorsed).

    The plan is resolved through the access helper before anything else: 404 for non-members, 403 for
    members whose role lacks the right. `plan` and `membership` are the person's, as plan_get_for_user gives.
    """

    read_need = Permission.VIEW
    write_need = Permission.EDIT_PLAN
    plan: Plan
    membership: PlanMembership

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        need = self.read_need if request.method in SAFE_METHODS else self.write_need
        if getattr(self, "swagger_fake_view", False):
            return
        self.plan, self.membership = plan_get_for_user(user=request.user, plan_id=kwargs["plan_id"], need=need)
