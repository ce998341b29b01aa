"""What every JSON endpoint shares: the view base and the error shape ``{detail, code}``."""

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import DEFAULT_CACHE_ALIAS
from django.db import DatabaseError
from django.http import HttpResponse
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from securityportal import cache_backoff, ratelimit

logger = logging.getLogger(__name__)


class BadRequest(exceptions.APIException):
    """A 400 that is not about a field: the request is well-formed but not allowed."""

    status_code = 400
    default_code = "bad_request"
    default_detail = "This request cannot be carried out."


class Text(serializers.CharField):
    """A JSON string. DRF's CharField also takes a number or a boolean and reads it as
    text: ``{"password": 5}`` would be tried as the password "5" (and counted as a
    sign-in attempt) instead of being refused as the wrong type it is."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def validated_input(
    serializer_class: type, request: Request, context: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The request body checked by ``serializer_class``, or a 400 naming what is wrong."""
    if not isinstance(request.data, dict):
        raise exceptions.ValidationError({"non_field_errors": ["Send a JSON object."]})
    serializer = serializer_class(data=request.data, context=context or {})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class Refused(exceptions.APIException):
    """A 429 that says why (``code``) and when to come back (Retry-After)."""

    status_code = 429
    default_code = "throttled"

    def __init__(self, detail: str, code: str, wait: int) -> None:
        super().__init__(detail, code)
        self.wait = wait


class PerUserThrottle(BaseThrottle):
    """SESSION_API_RATE per signed-in user, counted in the shared cache: a stolen
    token cannot be used to hammer the session endpoints, and several server
    processes count together."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        self.retry_after = None
        if request.user is None:
            return True
        requests, seconds = settings.SESSION_API_RATE
        # A Redis outage must not turn every API call into a 500: the caller is
        # signed in (its session was just checked against the database), so the rate
        # limit is waived while the counters cannot be reached; and after they
        # failed, for a few seconds without waiting on a Redis that hangs.
        window = cache_backoff.call(
            DEFAULT_CACHE_ALIAS,
            lambda: ratelimit.hit(
                "api-user", str(request.user.pk), limit=requests, seconds=seconds
            ),
            otherwise=None,
            failure="API rate limit not counted, cache unreachable",
        )
        if window is None:
            return True
        # For the answer's X-RateLimit-* headers (ApiView.finalize_response).
        view.rate_window = window
        self.retry_after = window.retry_after
        return self.retry_after is None

    def wait(self) -> int | None:
        return self.retry_after


class ApiView(APIView):
    """An endpoint authenticated by bearer token only (no cookie, so no CSRF surface).

    LoginRequiredMiddleware knows nothing of bearer tokens; DRF's permission
    classes guard these views instead."""

    # The rate this request was counted against, once a throttle has counted it.
    rate_window: ratelimit.Window | None = None

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Callable[..., HttpResponse]:
        return login_not_required(super().as_view(**initkwargs))

    def rate_window_for(self, request: Request) -> ratelimit.Window | None:
        """The rate this answer reports in its X-RateLimit-* headers, if any."""
        return self.rate_window

    def finalize_response(
        self, request: Request, response: HttpResponse, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        response = super().finalize_response(request, response, *args, **kwargs)
        # Every answer, success or error, so a client can slow down before it is
        # refused rather than after.
        window = self.rate_window_for(request)
        if window is not None:
            for name, value in window.headers().items():
                response[name] = value
        return response

    def get_authenticate_header(self, request: Request) -> str:
        # Every endpoint speaks bearer tokens, including sign-in and refresh,
        # which have no authenticator of their own: a refused credential is a
        # 401 with this challenge, never a 403.
        return 'Bearer realm="api"'


class SessionManagementView(ApiView):
    """An endpoint that ends sessions, changes the password or the account's policy, or
    lists what could be ended: rate limited per user (SESSION_API_RATE, SPEC §7).

    A stolen token cannot hammer these (mass sign-outs, password guesses through
    ``current_password``, polling for new sessions to end). Reading who you are
    (``/api/auth/me``) and your sign-in history are not counted: they end nothing,
    and ``/api/auth/me`` is the call a client makes most."""

    throttle_classes = [PerUserThrottle]


def _first_code(errors: Any) -> str:
    if isinstance(errors, dict):
        errors = next(iter(errors.values()), None)
    if isinstance(errors, list):
        errors = errors[0] if errors else None
    if isinstance(errors, dict | list):
        return _first_code(errors)
    return getattr(errors, "code", None) or "invalid"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with every error body shaped as ``{"detail", "code"}`` and, for
    field errors, ``"fields": {name: [messages]}``. A database outage is a 503 with
    Retry-After, never a 500 page."""
    if isinstance(exc, DatabaseError):
        # Logged, as any server-side failure; the client is told to come back.
        logger.exception("Database unavailable during %s", context["request"].path)
        exc = Unavailable()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "detail": "Some fields are missing or invalid.",
            "code": _first_code(exc.detail),
            "fields": exc.detail,
        }
        return response
    detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
    code = getattr(detail, "code", None) or "error"
    response.data = {"detail": str(detail), "code": code}
    if isinstance(exc, exceptions.AuthenticationFailed):
        # RFC 6750: a credential that was presented and refused says so, and why.
        reason = str(detail).replace('"', "'")
        response["WWW-Authenticate"] = (
            f'Bearer realm="api", error="invalid_token", error_description="{reason}"'
        )
    return response


class Unavailable(exceptions.APIException):
    status_code = 503
    default_code = "service_unavailable"
    default_detail = "The service is briefly unavailable; try again in a few seconds."
    wait = 5
