"""The session endpoints of the JSON API, mounted under /api/."""

from django.urls import path

from sessions import api

urlpatterns = [
    path("auth/login", api.LoginView.as_view(), name="api_login"),
    path("auth/refresh", api.RefreshView.as_view(), name="api_refresh"),
    path("auth/logout", api.LogoutView.as_view(), name="api_logout"),
    path("auth/sessions", api.SessionListView.as_view(), name="api_sessions"),
    path(
        "auth/sessions/revoke-others",
        api.RevokeOthersView.as_view(),
        name="api_revoke_other_sessions",
    ),
    path(
        "auth/sessions/<uuid:session_id>",
        api.SessionDetailView.as_view(),
        name="api_session",
    ),
]
