"""Moving the session between cookie and store, refusing requests of ended sessions, and
the request's user from the session row."""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.middleware import (
    AuthenticationMiddleware as DjangoAuthenticationMiddleware,
)
from django.contrib.auth.middleware import (
    LoginRequiredMiddleware as DjangoLoginRequiredMiddleware,
)
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.deprecation import MiddlewareMixin
from django.utils.functional import SimpleLazyObject
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import User
from securityportal.client import ClientInfo
from securityportal.htmx import current_page_path
from securityportal.routing import is_api
from sessions.store import SessionStore
from sessions.validation import record_activity


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's session middleware, telling the store who the client is (for the row's
    IP and device). Django's ``process_response`` saves the session and sets the
    cookie; its lifetime follows the row's absolute expiry
    (``SessionStore.get_expiry_age``)."""

    def process_request(self, request: HttpRequest) -> None:
        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        # Lazy: only a sign-in (a new row) or a sign-out (its audit row) reads the
        # client, not the requests in between.
        client = SimpleLazyObject(lambda: ClientInfo.from_request(request))
        request.session = SessionStore(key, client=client)


# Sent with every sign-out (page, owner's sign-out of everyone, API): the browser
# drops cached pages (the back button shows nothing private) and the site's storage
# (the expiry banner's state). Not "cookies": that clears every cookie of the whole
# registrable domain, other applications' sign-ins on sibling hosts included, and
# this browser's device cookie, so each later sign-in would be mailed as a new
# device. The session cookie itself is deleted by Set-Cookie and its row revoked.
SIGNED_OUT_CLEAR_SITE_DATA = '"cache", "storage"'


def login_url(reason: str) -> str:
    """The login page, with the banner that says why the user is there."""
    return f"{resolve_url(settings.LOGIN_URL)}?reason={reason}"


def not_activity(view_func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view whose requests do not count as the user's activity.

    The session is still validated as always (an ended one is signed out), but
    ``last_seen_at`` is not bumped. For requests the page makes on its own, such
    as the expiry banner's poll: if they counted, a tab left open would keep its
    session alive forever and the idle limit would mean nothing."""
    view_func.counts_as_activity = False
    return view_func


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, taking ``request.user`` from the session row the store has already
    loaded (with its user) instead of reading the user a second time."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _get_user(request))


def _get_user(request: HttpRequest) -> Any:
    if not hasattr(request, "_cached_user"):
        request._cached_user = _user_of_session_row(request) or auth.get_user(request)
    return request._cached_user


def _user_of_session_row(request: HttpRequest) -> User | None:
    """The live session row's user, when Django's ``auth.get_user`` would accept it
    too; None leaves the decision (and its query) to Django."""
    store = request.session
    row = store.current_row() if isinstance(store, SessionStore) else None
    if row is None:
        return None
    try:
        user_id = User._meta.pk.to_python(store[SESSION_KEY])
        backend_path = store[BACKEND_SESSION_KEY]
    except (KeyError, ValidationError):
        return None
    # The request acts as the user its session data names, never as a different
    # one that happens to own the row.
    if user_id != row.user_id:
        return None
    # A session signed in through a backend the operator has since removed is
    # not honoured (Django's rule: removing a backend signs its users out).
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    # An inactive user never gets here: loading the row (validate_session) has
    # already revoked the sessions of a deactivated user.
    user = row.user
    # The session auth hash ties the session to the user under the current
    # SECRET_KEY: a forged or outdated hash, or one made under a retired key, is
    # not accepted here. Django then decides: a hash under a key in
    # SECRET_KEY_FALLBACKS re-keys the session, anything else flushes it.
    session_hash = store.get(HASH_SESSION_KEY)
    if not session_hash or not constant_time_compare(session_hash, user.get_session_auth_hash()):
        return None
    return user


def login_redirect(request: HttpRequest, reason: str | None = None) -> HttpResponse:
    """Send the browser to the login page, saying why, and back here afterwards.

    An HTMX request gets HX-Redirect: following a plain 302 would swap the
    login page into the fragment being updated. ``next`` is the page the user
    sees (for HTMX, HX-Current-URL, not the fragment's URL); after a POST the
    action is not replayed."""
    query = {"reason": reason} if reason else {}
    here = current_page_path(request) if request.htmx else request.get_full_path()
    if request.method == "GET" or request.htmx:
        query["next"] = here or "/"
    login = resolve_url(settings.LOGIN_URL)
    url = f"{login}?{urlencode(query, safe='/')}" if query else login
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Django's, with HTMX requests redirected through HX-Redirect, and asking the
    view before the session: the API's views, open to everyone (the bearer token
    decides), read no session cookie sent along."""

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponse | None:
        if not getattr(view_func, "login_required", True):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)

    def handle_no_permission(
        self, request: HttpRequest, view_func: Callable[..., HttpResponse]
    ) -> HttpResponse:
        # An HTMX request comes from a page drawn signed in: with no session now, this
        # browser was signed out since (another tab's sign-out deleted the cookie).
        return login_redirect(request, "signed_out" if request.htmx else None)


class SessionValidationMiddleware(MiddlewareMixin):
    """Enforce SPEC §4: an ended session's next request is signed out, and activity
    of a live one is recorded (at most one write a minute) unless the view is
    marked ``not_activity``."""

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponse | None:
        if is_api(request):
            # The API signs a request in by its bearer token alone (SPEC §6): a
            # browser's cookie sent along (Swagger UI's "Try it out" in a signed-in
            # tab) is neither read nor kept alive by it, so API calls that answer
            # 401 cannot hold an idle browser session open.
            return None
        store: SessionStore = request.session
        row = store.current_row()
        if row is not None:
            if getattr(view_func, "counts_as_activity", True):
                record_activity(row, timezone.now())
            return None
        if store.ended_reason is None or not getattr(view_func, "login_required", True):
            return None
        # One answer for expired and revoked sessions (SPEC §4): a thief
        # replaying a stolen cookie learns nothing about being detected.
        return login_redirect(request, "session_expired")
