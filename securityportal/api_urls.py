"""The JSON API's routes."""

from django.urls import path

from accounts.api import MeView
from sessions import api as session_api

urlpatterns = [
    path("auth/login", session_api.LoginView.as_view()),
    path("auth/refresh", session_api.RefreshView.as_view()),
    path("auth/logout", session_api.LogoutView.as_view()),
    path("auth/me", MeView.as_view()),
    path("auth/sessions", session_api.SessionListView.as_view()),
    path("auth/sessions/revoke-others", session_api.RevokeOthersView.as_view()),
    path("auth/sessions/<str:session_id>", session_api.SessionDetailView.as_view()),
]
