"""Sign-in, sign-out and the security page."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("settings/security/password/", views.password, name="change_password"),
]
