"""The API's schema and its browsable docs (Swagger UI at /api/docs/, Redoc at /api/redoc/).

In production (DEBUG=false) they are for signed-in people only, unless API_DOCS_PUBLIC=true: the schema maps
every endpoint and field, which nobody outside needs. A token client fetches the schema with its token; a
visitor who is not signed in gets 401 from the schema and is sent to the login page by the docs pages.

Both pages live under the site's Content-Security-Policy: they start from static scripts that read what the
server knows from data- attributes, never from an inline script. Redoc alone writes its styles into the page
as it renders, so its page lets styles through that carry the nonce of that one response, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import BasePermission


class DocsAccess(BasePermission):
    """Anyone when the docs are public (the embedded mode, or API_DOCS_PUBLIC=true); else the signed-in."""

    def has_permission(self, request, view) -> bool:
        return settings.API_DOCS_PUBLIC or bool(request.user and request.user.is_authenticated)


def _signed_in_unless_public(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A docs page turns away a visitor who is not signed in as every other page does: to the login page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not settings.API_DOCS_PUBLIC and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


# The docs are HTML pages, nothing else: an OPTIONS request would render DRF's metadata through their template.
DOCS = {"url_name": "api-schema", "http_method_names": ["get", "head"], "permission_classes": [DocsAccess]}

schema_view = SpectacularAPIView.as_view(permission_classes=[DocsAccess])
swagger_view = _signed_in_unless_public(
    SpectacularSwaggerView.as_view(template_name="naphs/api_docs_swagger.html", **DOCS)
)
# Redoc's page alone: styles carrying this response's nonce (Redoc writes them as it renders), and its search
# index in a worker Redoc builds from a blob. Scripts still come from the site's static files only. Two things stay
# refused there on purpose, harmlessly: the "API docs by Redocly" logo from cdn.redoc.ly (users may be offline, and
# the page loads nothing from elsewhere), and the two style sheets Redoc writes before it is given the nonce.
REDOC_CSP: dict[str, Any] = {
    **settings.SECURE_CSP,
    "style-src": [CSP.SELF, CSP.NONCE],
    "worker-src": [CSP.SELF, "blob:"],
}
redoc_view = _signed_in_unless_public(
    csp_override(REDOC_CSP)(SpectacularRedocView.as_view(template_name="naphs/api_docs_redoc.html", **DOCS))
)
