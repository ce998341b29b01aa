"""The Active sessions card's actions and the expiry banner's."""

from django.urls import path

from sessions import views

urlpatterns = [
    path("settings/security/sessions/", views.session_list, name="session_list"),
    path(
        "settings/security/sessions/revoke-others/",
        views.revoke_others,
        name="revoke_other_sessions",
    ),
    path("sessions/disown/<str:token>/", views.disown, name="disown_session"),
    path(
        "settings/security/sessions/<uuid:session_id>/revoke/",
        views.revoke,
        name="revoke_session",
    ),
    path("session/status/", views.status, name="session_status"),
    path("session/keepalive/", views.keepalive, name="session_keepalive"),
]
