"""The portal's Django admin site, at /admin/: account owners (staff through their role)
see their own account's rows, superusers see everything. Which rows each page shows is
each ModelAdmin's business (``accounts.admin_scope``); this site decides who gets in.

- Signing in happens on /login/ only, where the lockout, the rate limits and the
  audit trail are; the admin's own login form would bypass all three.
- A signed-in member is refused with 403.
- Every change made through the admin (a POST) needs a password entered within
  REAUTH_MINUTES, as the owner page's policy change and bulk sign-out do: a session
  cookie left behind or stolen cannot change users, the policy or sessions here.
- Signing out is the portal's own (POST only, Clear-Site-Data)."""

from collections.abc import Callable
from functools import update_wrapper
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from accounts.reauth import PasswordPrompt, password_prompt
from accounts.views import LogoutView

View = Callable[..., HttpResponse]

MEMBERS_REFUSED = (
    "The admin is for account owners. Ask an owner of your account if something "
    "there needs to change."
)


class PortalAdminSite(admin.AdminSite):
    site_header = "Security Portal administration"
    site_title = "Security Portal admin"
    index_title = "Your account"
    site_url = reverse_lazy("security")

    def admin_view(self, view: View, cacheable: bool = False) -> View:
        inner = super().admin_view(self._with_recent_password(view), cacheable)

        def refuse_members(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            # Django would send a signed-in member to its login page; ours would
            # send them straight back (they are signed in). Say no instead.
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied(MEMBERS_REFUSED)
            return inner(request, *args, **kwargs)

        return update_wrapper(refuse_members, inner)

    def _with_recent_password(self, view: View) -> View:
        def ask_for_password(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.path == reverse("admin:logout", current_app=self.name):
                return view(request, *args, **kwargs)
            prompt = password_prompt(request)
            if prompt is None:
                return view(request, *args, **kwargs)
            return self._reauth_page(request, prompt)

        return update_wrapper(ask_for_password, view)

    def _reauth_page(self, request: HttpRequest, prompt: PasswordPrompt) -> HttpResponse:
        """Asks for the password, then posts the owner's own change again."""
        context = {
            **self.each_context(request),
            "title": "Confirm it's you",
            "form": prompt.form,
            "carried": prompt.carried,
        }
        request.current_app = self.name
        return TemplateResponse(request, "admin/reauth.html", context)

    def autocomplete_view(self, request: HttpRequest) -> HttpResponse:
        # Django takes the named field for the forward side of a relation: a reverse
        # one (model_name=account&field_name=users) ended in a server error. Only a
        # field a form can hold is looked up; anything else is refused as Django
        # refuses a field that does not exist.
        try:
            model = apps.get_model(request.GET["app_label"], request.GET["model_name"])
            field = model._meta.get_field(request.GET["field_name"])
        except (KeyError, LookupError, FieldDoesNotExist):
            raise PermissionDenied from None
        if not (field.is_relation and field.concrete):
            raise PermissionDenied
        return super().autocomplete_view(request)

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Signing in is /login/'s job (lockout, rate limit, audit trail): send the
        visitor there, and back to the admin page they asked for."""
        index = reverse("admin:index", current_app=self.name)
        if self.has_permission(request):
            return HttpResponseRedirect(index)
        if request.user.is_authenticated:
            raise PermissionDenied(MEMBERS_REFUSED)
        # /login/ checks ``next`` again: only a local admin page is followed.
        return redirect_to_login(request.GET.get(REDIRECT_FIELD_NAME) or index)

    def logout(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        # The portal's sign-out, POST only as Django's admin has it: a link or an
        # <img> on another site cannot sign an owner out.
        return LogoutView.as_view(http_method_names=["post", "options"])(request)

    def password_change(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        # One way to change one's own password: the security page asks for the
        # current one under the sign-in lockout (Django's form here has no lockout,
        # so a stolen cookie could guess at it) and keeps this session signed in.
        return redirect(reverse("security") + "#password-title")

    def password_change_done(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        return redirect("security")
