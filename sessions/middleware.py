"""Moving the session between cookie and store, and refusing requests of ended sessions."""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.middleware import (
    LoginRequiredMiddleware as DjangoLoginRequiredMiddleware,
)
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.deprecation import MiddlewareMixin
from django_htmx.http import HttpResponseClientRedirect

from securityportal.client import ClientInfo
from sessions.store import SessionStore
from sessions.validation import record_activity


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's session middleware, telling the store who the client is (for the row's
    IP and device). Django's ``process_response`` saves the session and sets the
    cookie; its lifetime follows the row's absolute expiry
    (``SessionStore.get_expiry_age``)."""

    def process_request(self, request: HttpRequest) -> None:
        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        request.session = SessionStore(key, client=ClientInfo.from_request(request))


def login_redirect(request: HttpRequest, reason: str | None = None) -> HttpResponse:
    """Send the browser to the login page, saying why, and back here afterwards.

    An HTMX request gets HX-Redirect: following a plain 302 would swap the
    login page into the fragment being updated. ``next`` is the page the user
    sees (for HTMX, HX-Current-URL, not the fragment's URL); after a POST the
    action is not replayed."""
    query = {"reason": reason} if reason else {}
    here = request.htmx.current_url_abs_path if request.htmx else request.get_full_path()
    if request.method == "GET" or request.htmx:
        query["next"] = here or "/"
    login = resolve_url(settings.LOGIN_URL)
    url = f"{login}?{urlencode(query, safe='/')}" if query else login
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Django's, with HTMX requests redirected through HX-Redirect."""

    def handle_no_permission(
        self, request: HttpRequest, view_func: Callable[..., HttpResponse]
    ) -> HttpResponse:
        return login_redirect(request)


class SessionValidationMiddleware(MiddlewareMixin):
    """Enforce SPEC §4: an ended session's next request is signed out, and activity
    of a live one is recorded (at most one write a minute)."""

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponse | None:
        store: SessionStore = request.session
        row = store.current_row()
        if row is not None:
            record_activity(row, timezone.now())
            return None
        if store.ended_reason is None or not getattr(view_func, "login_required", True):
            return None
        # One answer for expired and revoked sessions (SPEC §4): a thief
        # replaying a stolen cookie learns nothing about being detected.
        return login_redirect(request, "session_expired")
