"""The account endpoints of the JSON API, mounted under /api/."""

from django.urls import path

from accounts import api

urlpatterns = [
    path("auth/me", api.MeView.as_view(), name="api_me"),
    path("auth/password", api.PasswordView.as_view(), name="api_password"),
]
