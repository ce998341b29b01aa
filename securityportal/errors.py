"""Error answers: JSON ``{detail, code}`` under /api/, the site's pages elsewhere.

Whatever refuses a request (Django's 400/403/404/500 handlers, the CSRF check, a
method a view does not take, a rate limit, a body too large, a database outage), an
API client gets the same shape as from a DRF view, and a person gets a page on the
site's layout that says what happened and offers a way back.

The 500 and 503 pages are rendered from a plain context, without the request: no
context processor runs, so they read neither the session nor the user, and render
while the database is down."""

import math
import sys
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render
from django.template import loader
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults

from securityportal.api import Unavailable
from securityportal.routing import API_PREFIX, is_api


def api_error(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def _without_slash(path: str) -> str | None:
    """``path`` without its trailing slash, if that is a route: the API's paths
    have none, and a client that adds one is told the right path."""
    if not path.endswith("/") or path == API_PREFIX:
        return None
    try:
        resolve(path.rstrip("/"))
    except Resolver404:
        return None
    return path.rstrip("/")


@login_not_required
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return api_error(400, "The request could not be understood.", "bad_request")
    return defaults.bad_request(request, exception)


@login_not_required
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return api_error(403, "You do not have permission to do this.", "permission_denied")
    return defaults.permission_denied(request, exception)


@login_not_required
def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        right = _without_slash(request.path)
        if right is not None:
            return api_error(
                404, f"Not found. The path has no trailing slash: {right}", "not_found"
            )
        return api_error(404, "Not found.", "not_found")
    return defaults.page_not_found(request, exception)


@login_not_required
def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. Django calls it while the exception is being handled, so
    ``sys.exc_info()`` names it: a database that cannot be reached is an outage to
    wait out (503), not a fault in the page (500). This catches it wherever it was
    raised, in a view or in a middleware reading the session row."""
    if isinstance(sys.exc_info()[1], DatabaseError):
        return service_unavailable(request)
    if is_api(request):
        return api_error(500, "Something went wrong on our side.", "server_error")
    return defaults.server_error(request)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: the API's ``service_unavailable`` (as DRF views answer
    it) or the page, which reads nothing from the database."""
    if is_api(request):
        response = api_error(503, Unavailable.default_detail, Unavailable.default_code)
    else:
        page = loader.render_to_string("503.html", {"retry_seconds": Unavailable.wait})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(Unavailable.wait)
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the API takes no cookies, so this only ever refuses a
    browser form; under /api/ it still answers in the API's shape.

    A person meets it when a form was loaded before a sign-in or sign-out (in this
    tab or another) rotated the token: reloading the form fixes it."""
    if is_api(request):
        return api_error(403, "CSRF verification failed.", "csrf_failed")
    context = {
        "way_back": _page_of_the_form(request),
        "no_cookie": reason == REASON_NO_CSRF_COOKIE,
    }
    return render(request, "403_csrf.html", context, status=403)


def _page_of_the_form(request: HttpRequest) -> str:
    """The page the refused form was on (its Referer), when it is a page of this
    site; otherwise the security page. Never another site's address: the Referer
    is the sender's to write, and a link to it would be an open redirect."""
    referer = request.META.get("HTTP_REFERER", "")
    if url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return reverse("security")


class TooManyRequests(Exception):
    """Raised by a view that refuses a client for rate; ``retry_after`` (seconds) is
    when it may come back, if known. ErrorPageMiddleware answers 429."""

    def __init__(self, retry_after: int | None = None) -> None:
        super().__init__("Too many requests.")
        self.retry_after = retry_after


def too_many_requests(request: HttpRequest, retry_after: int | None) -> HttpResponse:
    """429, saying when to come back: Retry-After when known, and in words on the page."""
    if is_api(request):
        response = api_error(429, "Too many requests. Slow down and retry.", "throttled")
    else:
        minutes = math.ceil(retry_after / 60) if retry_after else None
        response = render(request, "429.html", {"retry_minutes": minutes}, status=429)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


class ErrorPageMiddleware:
    """The refusals Django has no handler for: a method a view does not take (405,
    from ``require_POST`` and friends or a class view) and TooManyRequests (429).
    The 405 keeps its Allow header. Last in MIDDLEWARE, so the answers it makes
    pass through the others (no-store, frame and security headers)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if isinstance(response, HttpResponseNotAllowed):
            return self._not_allowed(request, allow=response["Allow"])
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, TooManyRequests):
            return too_many_requests(request, exception.retry_after)
        return None

    def _not_allowed(self, request: HttpRequest, allow: str) -> HttpResponse:
        if is_api(request):
            response = api_error(
                405, f'Method "{request.method}" not allowed.', "method_not_allowed"
            )
        else:
            response = render(request, "405.html", status=405)
        response["Allow"] = allow
        return response


class BodySizeLimitMiddleware:
    """Refuse an API request body over API_MAX_BODY_BYTES with 413 before anything
    reads it: DRF's parsers read the stream directly, past Django's own limit, so a
    multi-megabyte body would otherwise be parsed in full."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api(request):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return api_error(400, "Content-Length is not a number.", "bad_request")
            if length > settings.API_MAX_BODY_BYTES:
                return api_error(
                    413,
                    f"The request body is larger than {settings.API_MAX_BODY_BYTES} bytes.",
                    "request_too_large",
                )
        return self.get_response(request)
