"""The REST API under /api/: one router for every app, the schema and its browsable docs."""

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.urls import path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework.routers import DefaultRouter

from costing.api import PARTS as COSTING_PARTS
from monitoring.api import PARTS as MONITORING_PARTS
from naphs.api_docs import redoc_view, schema_view, swagger_view
from planning.api import ActivityViewSet, JurisdictionViewSet, PlanViewSet
from planning.comment_api import ThreadViewSet
from planning.endorsement_api import EndorsementViewSet, PlanEndorseView, PlanReopenView
from planning.guidance_api import GuidanceViewSet
from planning.review_api import ReviewRoundViewSet
from planning.spar_api import urlpatterns as spar_urlpatterns
from stakeholders.api import (
    AuditEventViewSet,
    AuditExportView,
    DirectoryExportView,
    MembershipViewSet,
    MyInvitationViewSet,
    OrganizationViewSet,
    PlanInvitationViewSet,
)
from stakeholders.api_parts import PARTS as STAKEHOLDERS_PARTS
from stakeholders.jobs import JobViewSet
from stakeholders.signin import TokenObtainView


@csrf_exempt  # it changes nothing; a refused CSRF check would answer the site's HTML page
@login_not_required
def not_found(request, rest: str = "") -> JsonResponse:
    """An address under /api/ that names no endpoint (or an id that is not a number): 404 in JSON, as the schema
    says, not the HTML page of the site."""
    return JsonResponse({"detail": _("No such endpoint."), "code": "not_found"}, status=404)


router = DefaultRouter()
router.register("jurisdictions", JurisdictionViewSet, basename="jurisdiction")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("plans", PlanViewSet, basename="plan")
router.register(r"plans/(?P<plan_id>\d+)/memberships", MembershipViewSet, basename="membership")
router.register(r"plans/(?P<plan_id>\d+)/invitations", PlanInvitationViewSet, basename="plan-invitation")
router.register("invitations", MyInvitationViewSet, basename="my-invitation")
router.register("jobs", JobViewSet, basename="job")
router.register(r"plans/(?P<plan_id>\d+)/activities", ActivityViewSet, basename="activity")
router.register(r"plans/(?P<plan_id>\d+)/audit-events", AuditEventViewSet, basename="audit-event")
router.register(r"plans/(?P<plan_id>\d+)/threads", ThreadViewSet, basename="thread")
router.register(r"plans/(?P<plan_id>\d+)/review-rounds", ReviewRoundViewSet, basename="review-round")
router.register(r"plans/(?P<plan_id>\d+)/endorsements", EndorsementViewSet, basename="endorsement")
router.register(r"plans/(?P<plan_id>\d+)/guidance", GuidanceViewSet, basename="guidance")
for part in (*STAKEHOLDERS_PARTS, *COSTING_PARTS, *MONITORING_PARTS):
    for prefix, viewset, basename in part.routes:
        router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="api-token"),
    path("plans/<int:plan_id>/directory-export/", DirectoryExportView.as_view(), name="api-directory-export"),
    path("plans/<int:plan_id>/audit-export/", AuditExportView.as_view(), name="api-audit-export"),
    path("plans/<int:plan_id>/endorse/", PlanEndorseView.as_view(), name="api-plan-endorse"),
    path("plans/<int:plan_id>/reopen/", PlanReopenView.as_view(), name="api-plan-reopen"),
    path("schema/", schema_view, name="api-schema"),
    path("docs/", swagger_view, name="api-docs"),
    path("redoc/", redoc_view, name="api-redoc"),
    *(route for part in (*STAKEHOLDERS_PARTS, *COSTING_PARTS, *MONITORING_PARTS) for route in part.urlpatterns),
    *spar_urlpatterns,
    *router.urls,
    re_path(r"^(?P<rest>(?s:.*))$", not_found, name="api-not-found"),
]
