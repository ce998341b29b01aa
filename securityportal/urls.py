from django.urls import include, path
from django.views.generic import RedirectView

from accounts import views as account_views
from securityportal import errors
from sessions import views as session_views

urlpatterns = [
    path("", RedirectView.as_view(url="/settings/security/")),
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("logout/", account_views.LogoutView.as_view(), name="logout"),
    path("settings/security/", account_views.security_settings, name="security"),
    path(
        "settings/security/sessions/revoke-others/",
        session_views.revoke_others,
        name="revoke_other_sessions",
    ),
    path(
        "settings/security/sessions/<str:session_id>/revoke/",
        session_views.revoke,
        name="revoke_session",
    ),
    path("api/", include("securityportal.api_urls")),
]

handler404 = errors.not_found
handler500 = errors.server_error
