"""Signing in and out, and the Password card of the security page."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from accounts.forms import ChangePasswordForm, SignInForm
from accounts.passwords import change_password
from accounts.signin import BROWSER, record_stale_sign_in
from audit.devices import remember_device
from securityportal.client import client_ip
from sessions.lifecycle import CredentialsChanged
from sessions.middleware import SIGNED_OUT_CLEAR_SITE_DATA, login_url

LOGIN_REASONS = {
    "session_expired": (
        "Your session has ended (it expired or was signed out). Please sign in again."
    ),
    "signed_out": "You have been signed out.",
    "revoked": "This session was signed out from another device. Please sign in again.",
}
# The pages a sign-in may return to. Anything else in ``next`` (an API URL,
# /logout/, an action that only takes POST, a URL that matches nothing) lands on
# the security page: a link can only send a user to a page made to be landed on.
RETURN_PAGES = frozenset({"security", "activity", "account_security", "revoke_other_sessions"})
# The admin sends owners here to sign in, so a sign-in may return to its pages:
# its index, an app's page, a list, an object's change or history page. Not its
# logout, autocomplete, add, delete or password pages.
ADMIN_RETURN_PAGES = frozenset({"index", "app_list"})
ADMIN_RETURN_SUFFIXES = ("_changelist", "_change", "_history")
PASSWORD_PARTIAL = "accounts/password_card.html#password-form"


def is_return_page(url: str) -> bool:
    # Only a plain local path: a browser would strip leading spaces and control
    # characters that urlsplit and resolve() would also forgive.
    if not url.startswith("/"):
        return False
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return False
    if match.namespace == "admin":
        name = match.url_name or ""
        return name in ADMIN_RETURN_PAGES or (
            name.endswith(ADMIN_RETURN_SUFFIXES) and "password" not in name
        )
    return match.view_name in RETURN_PAGES


class LoginView(auth_views.LoginView):
    """Django's LoginView (safe ``next``, key rotation via ``auth.login``) with the
    reason banner, the lockout answer and the device cookie. Unknown reasons show
    nothing: the banner text is never taken from the query string."""

    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:
        """The safe ``next`` when it is a page to land on (see RETURN_PAGES), else ""."""
        url = super().get_redirect_url()
        return url if url and is_return_page(url) else ""

    def get_context_data(self, **kwargs: object) -> dict:
        context = super().get_context_data(**kwargs)
        context["reason_message"] = LOGIN_REASONS.get(self.request.GET.get("reason", ""))
        return context

    def form_valid(self, form: SignInForm) -> HttpResponse:
        # The new session and its sign-in records (the login event, a new device's
        # audit row) commit together: a failed audit write leaves no session behind,
        # and the device stays new, so its alert goes out on the next sign-in.
        try:
            with transaction.atomic():
                response = super().form_valid(form)
        except CredentialsChanged:
            # The password changed while it was being checked: it is no longer the
            # password. Nothing of this sign-in is kept, not even the session data
            # auth.login wrote, which the response would otherwise try to save.
            self.request.session.flush()
            self.request.user = AnonymousUser()
            record_stale_sign_in(
                self.request, identifier=form.cleaned_data["username"], channel=BROWSER
            )
            form.add_error(None, form.get_invalid_login_error())
            return self.form_invalid(form)
        remember_device(self.request, response)
        return response

    def form_invalid(self, form: SignInForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.retry_after is not None:
            # Too many attempts: the status and Retry-After say so to scripts too.
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


@method_decorator(login_not_required, name="dispatch")
class LogoutView(auth_views.LogoutView):
    """POST signs out (a GET, such as an <img> on another site, cannot); GET asks
    first. Clear-Site-Data tells the browser to drop cached pages and storage of the
    signed-in user, so the back button shows nothing private."""

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(login_url("signed_out"))
        return render(request, "accounts/logout_confirm.html")

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = SIGNED_OUT_CLEAR_SITE_DATA
        return response

    def get_default_redirect_url(self) -> str:
        return login_url("signed_out")


@sensitive_post_parameters()
@require_POST
def password(request: HttpRequest) -> HttpResponse:
    """The Password card's form: on success every other session ends and this one
    stays signed in, with a new key. Errors come back in the card (HTMX) or on a
    page of their own (a plain form post)."""
    form = ChangePasswordForm(request.user, request.POST, request=request)
    if not form.is_valid():
        template = PASSWORD_PARTIAL if request.htmx else "accounts/password_page.html"
        return render(request, template, {"password_form": form})
    count = change_password(
        user=request.user,
        new_password=form.cleaned_data["new_password1"],
        session=request.session.current_row(),
        ip=client_ip(request),
    )
    # Keeps this session signed in under the new password, with a fresh key.
    update_session_auth_hash(request, request.user)
    noun = "session was" if count == 1 else "sessions were"
    messages.success(request, f"Your password was changed. {count} other {noun} signed out.")
    # The whole page reloads: the session list has changed too.
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect(reverse("security") + "#password-title")
