"""The audit endpoints of the JSON API, mounted under /api/."""

from django.urls import path

from audit import api

urlpatterns = [
    path("auth/login-events", api.LoginEventsView.as_view(), name="api_login_events"),
]
