"""Error answers: JSON ``{detail, code}`` under /api/, the site's pages elsewhere.

Whatever refuses a request (Django's 400/403/404/500 handlers, the CSRF check, a
body too large), an API client gets the same shape as from a DRF view."""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.views import csrf, defaults

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


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
    if is_api(request):
        return api_error(500, "Something went wrong on our side.", "server_error")
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the API takes no cookies, so this only ever refuses a
    browser form; under /api/ it still answers in the API's shape."""
    if is_api(request):
        return api_error(403, "CSRF verification failed.", "csrf_failed")
    return csrf.csrf_failure(request, reason)


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
