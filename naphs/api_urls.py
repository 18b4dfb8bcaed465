"""The REST API under /api/: one router for every app, the schema and its browsable docs."""

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from costing.api import PARTS as COSTING_PARTS
from naphs.api import JobViewSet
from planning.api import ActivityViewSet, JurisdictionViewSet, PlanViewSet
from stakeholders.api import DirectoryExportView, MembershipViewSet, OrganizationViewSet

# The docs are HTML pages, nothing else: an OPTIONS request would render DRF's metadata through their template.
DOCS = {"url_name": "api-schema", "http_method_names": ["get", "head"]}


@csrf_exempt  # it changes nothing; a refused CSRF check would answer the site's HTML page
@login_not_required
def not_found(request, rest: str = "") -> JsonResponse:
    """An address under /api/ that names no endpoint (or an id that is not a number): 404 in JSON, as the schema
    says, not the HTML page of the site."""
    return JsonResponse({"detail": "No such endpoint.", "code": "not_found"}, status=404)


router = DefaultRouter()
router.register("jurisdictions", JurisdictionViewSet, basename="jurisdiction")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("plans", PlanViewSet, basename="plan")
router.register(r"plans/(?P<plan_id>\d+)/memberships", MembershipViewSet, basename="membership")
router.register("jobs", JobViewSet, basename="job")
router.register(r"plans/(?P<plan_id>\d+)/activities", ActivityViewSet, basename="activity")
for part in COSTING_PARTS:
    for prefix, viewset, basename in part.routes:
        router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("plans/<int:plan_id>/directory-export/", DirectoryExportView.as_view(), name="api-directory-export"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(**DOCS), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(**DOCS), name="api-redoc"),
    *(route for part in COSTING_PARTS for route in part.urlpatterns),
    *router.urls,
    re_path(r"^(?P<rest>.*)$", not_found, name="api-not-found"),
]
