"""Sign-in, sign-out and the security page."""

from django.urls import path

from accounts import owner_views, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("settings/security/password/", views.password, name="change_password"),
    path("account/security/", owner_views.account_security, name="account_security"),
    path("account/security/people/", owner_views.people, name="account_people"),
    path(
        "account/security/revoke-sessions/",
        owner_views.revoke_sessions,
        name="account_revoke_sessions",
    ),
]
