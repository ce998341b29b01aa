"""The API's description (drf-spectacular) and its documentation pages (files from its
sidecar package) under the portal's Content-Security-Policy, all readable without
signing in."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_not_required
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response


class JsonErrors:
    """A refusal answered in the API's JSON (``detail`` and ``code``), whatever the
    view renders when it succeeds: drf-spectacular's views would write it in YAML or
    as an HTML page (an unknown ``?format=``, a POST, an ``Accept`` they cannot
    serve), and a client of anything under /api/ reads JSON errors."""

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


class Schema(JsonErrors, SpectacularAPIView):
    pass


class SwaggerUI(JsonErrors, SpectacularSwaggerSplitView):
    pass


class Redoc(JsonErrors, SpectacularRedocView):
    pass


schema = login_not_required(Schema.as_view())

# Swagger UI's start-up script is served as a file of its own (?script), not inlined
# in the page, so the page runs under the portal's policy unchanged.
swagger_ui = login_not_required(SwaggerUI.as_view(url_name="api_schema"))

# ReDoc writes its styles into <style> elements at run time (styled-components), with
# no way to give them a nonce, and runs its search in a worker it builds from a blob:
# this page alone allows inline styles and blob: workers. Page scripts stay 'self'
# only, and the page shows nothing but the public API description: no secret on it
# for an injected style to read out.
redoc = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})(
    login_not_required(Redoc.as_view(url_name="api_schema"))
)
