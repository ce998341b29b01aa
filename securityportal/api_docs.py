"""The API's documentation pages (drf-spectacular, files from its sidecar package)
under the portal's Content-Security-Policy."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_not_required
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

# Swagger UI's start-up script is served as a file of its own (?script), not inlined
# in the page, so the page runs under the portal's policy unchanged.
swagger_ui = login_not_required(SpectacularSwaggerSplitView.as_view(url_name="api_schema"))

# ReDoc writes its styles into <style> elements at run time (styled-components), with
# no way to give them a nonce, and runs its search in a worker it builds from a blob:
# this page alone allows inline styles and blob: workers. Page scripts stay 'self'
# only, and the page shows nothing but the public API description: no secret on it
# for an injected style to read out.
redoc = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})(
    login_not_required(SpectacularRedocView.as_view(url_name="api_schema"))
)
