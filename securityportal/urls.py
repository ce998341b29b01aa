"""The project's routes: each app's pages at the root, its endpoints under /api/."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from securityportal import api_docs, errors, health, views

urlpatterns = [
    # Probes for load balancers and orchestrators: public, uncached, never rate limited.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", RedirectView.as_view(pattern_name="security")),
    path("favicon.ico", views.favicon),
    path("settings/security/", views.security_settings, name="security"),
    path("", include("accounts.urls")),
    path("", include("sessions.urls")),
    path("", include("audit.urls")),
    path("api/", include("accounts.api_urls")),
    path("api/", include("sessions.api_urls")),
    path("api/", include("audit.api_urls")),
    # The API's own description, readable without signing in.
    path("api/schema/", api_docs.schema, name="api_schema"),
    path("api/docs/", api_docs.swagger_ui, name="api_docs"),
    path("api/redoc/", api_docs.redoc, name="api_redoc"),
    # The admin: account owners (their own account only) and superusers.
    path("admin/", admin.site.urls),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.not_found
handler500 = errors.server_error
