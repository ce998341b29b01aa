"""The account endpoints of the JSON API, mounted under /api/."""

from django.urls import path

from accounts import api, owner_api

urlpatterns = [
    path("auth/me", api.MeView.as_view(), name="api_me"),
    path("auth/password", api.PasswordView.as_view(), name="api_password"),
    path(
        "accounts/me/security",
        owner_api.AccountSecurityView.as_view(),
        name="api_account_security",
    ),
    path(
        "accounts/me/active-users",
        owner_api.ActiveUsersView.as_view(),
        name="api_account_active_users",
    ),
    path(
        "accounts/me/security/revoke-sessions",
        owner_api.AccountRevokeSessionsView.as_view(),
        name="api_account_revoke_sessions",
    ),
]
