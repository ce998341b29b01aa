from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.views.decorators.http import require_GET

from accounts.forms import SignInForm
from sessions.views import sessions_card_context

LOGIN_REASONS = {
    "session_expired": (
        "Your session has ended (it expired or was signed out). Please sign in again."
    ),
    "signed_out": "You have been signed out.",
    "revoked": "This session was signed out from another device. Please sign in again.",
}


class LoginView(auth_views.LoginView):
    """Django's LoginView (safe ``next``, key rotation via ``auth.login``) with the
    reason banner. Unknown reasons show nothing: the banner text is never taken
    from the query string."""

    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:
        """The safe ``next``, unless it is the login page itself: a signed-in user
        sent to /login/?next=/login/ would otherwise loop (Django raises)."""
        url = super().get_redirect_url()
        if urlsplit(url).path == resolve_url(settings.LOGIN_URL):
            return ""
        return url

    def get_context_data(self, **kwargs: object) -> dict:
        context = super().get_context_data(**kwargs)
        context["reason_message"] = LOGIN_REASONS.get(self.request.GET.get("reason", ""))
        return context


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): a GET, such as an <img> on another site, cannot sign
    anyone out. Clear-Site-Data tells the browser to drop cached pages and
    storage of the signed-in user, so the back button shows nothing private."""

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response


@require_GET
def security_settings(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/security.html", sessions_card_context(request))
