"""The Recent activity card's pages."""

from django.urls import path

from audit import views

urlpatterns = [
    path("settings/security/activity/", views.activity, name="activity"),
]
