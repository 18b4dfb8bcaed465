"""The API's schema and its browsable docs (Swagger UI at /api/docs/, Redoc at /api/redoc/).

Both pages live under the site's Content-Security-Policy: they start from static scripts that read what the
server knows from data- attributes, never from an inline script. Redoc alone writes its styles into the page
as it renders, so its page lets styles through that carry the nonce of that one response, and nothing else.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

# The docs are HTML pages, nothing else: an OPTIONS request would render DRF's metadata through their template.
DOCS = {"url_name": "api-schema", "http_method_names": ["get", "head"]}

schema_view = SpectacularAPIView.as_view()
swagger_view = SpectacularSwaggerView.as_view(template_name="naphs/api_docs_swagger.html", **DOCS)
# Redoc's page alone: styles carrying this response's nonce (Redoc writes them as it renders), and its search
# index in a worker Redoc builds from a blob. Scripts still come from the site's static files only. Two things stay
# refused there on purpose, harmlessly: the "API docs by Redocly" logo from cdn.redoc.ly (users may be offline, and
# the page loads nothing from elsewhere), and the two style sheets Redoc writes before it is given the nonce.
REDOC_CSP = {**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.NONCE], "worker-src": [CSP.SELF, "blob:"]}
redoc_view = csp_override(REDOC_CSP)(SpectacularRedocView.as_view(template_name="naphs/api_docs_redoc.html", **DOCS))
