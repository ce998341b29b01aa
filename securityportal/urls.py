"""The project's routes: each app's pages at the root, its endpoints under /api/."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from securityportal import errors, views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="security")),
    path("settings/security/", views.security_settings, name="security"),
    path("", include("accounts.urls")),
    path("", include("sessions.urls")),
    path("", include("audit.urls")),
    path("api/", include("accounts.api_urls")),
    path("api/", include("sessions.api_urls")),
    path("api/", include("audit.api_urls")),
    # The admin: account owners (their own account only) and superusers.
    path("admin/", admin.site.urls),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.not_found
handler500 = errors.server_error
