"""How the OpenAPI document describes what every endpoint shares: the bearer scheme,
the error shape, the rate-limit and challenge headers, and the links between
operations."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class AccessTokenScheme(OpenApiAuthenticationExtension):
    """sessions.authentication.AccessTokenAuthentication as an HTTP bearer scheme."""

    target_class = "sessions.authentication.AccessTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The access token from POST /api/auth/login or /api/auth/refresh.",
        }


class Error(serializers.Serializer):
    """The one error shape of every API answer that is not a success."""

    detail = serializers.CharField(help_text="What went wrong, for a person.")
    code = serializers.CharField(help_text="What went wrong, for a program (see docs/API.md).")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For field errors: each field's messages.",
    )


# The codes each status may carry; docs/API.md says what a client should do about each.
ERROR_CODES = {
    400: "Invalid input: `invalid`, `required`, `null`, `blank`, `max_length`, "
    "`max_string_length`, `min_value`, `max_value`, `invalid_choice`, "
    "`null_characters_not_allowed`, `surrogate_characters_not_allowed`, `unknown_field`, "
    "`empty`, `parse_error`, "
    "`out_of_bounds`, `idle_exceeds_absolute`, `password_incorrect`, `password_too_short`, "
    "`password_too_common`, `password_entirely_numeric`, `password_too_similar`, "
    "`password_too_long`, `current_session`, `bad_request`.",
    401: "No or refused credentials: `not_authenticated`, `bad_credentials`, `token_invalid`, "
    "`token_expired`, `token_reused`, `session_expired`, `session_revoked`, `user_inactive`.",
    403: "Not allowed: `owner_only`, `reauth_required` (sign in again), `permission_denied`, "
    "`csrf_failed`.",
    404: "No such object, or another user's: `not_found`.",
    405: "Method not allowed: `method_not_allowed`.",
    406: "The Accept header rules out JSON: `not_acceptable`.",
    413: "Body over API_MAX_BODY_BYTES: `request_too_large`.",
    415: "Not JSON: `unsupported_media_type`.",
    429: "Too many requests (see Retry-After): `locked_out`, `rate_limited`, `throttled`.",
    500: "A fault on our side, never an answer to bad input: `server_error`.",
    503: "Database unavailable (see Retry-After): `service_unavailable`.",
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """The error responses an operation documents, each in the one error shape."""
    return {status: OpenApiResponse(Error, description=ERROR_CODES[status]) for status in statuses}


# Response headers, described once under components/headers.
HEADERS = {
    "X-RateLimit-Limit": {
        "description": "Requests allowed in the current window of the rate this answer "
        "counted against.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in the current window.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-RateLimit-Reset": {
        "description": "Seconds until the current window ends and the count starts again.",
        "schema": {"type": "integer", "minimum": 1},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    },
    "WWW-Authenticate": {
        "description": 'The bearer challenge; error="invalid_token" and the reason when a '
        "credential was refused.",
        "required": True,
        "schema": {"type": "string", "pattern": "^Bearer "},
    },
}
RATE_HEADERS = ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"]
SIGN_IN = "/api/auth/login"
# Answers refused before the view counts them, so without rate headers: 413 (refused
# before the view) and, on signed-in endpoints, 401 (no user to count) and 403
# (permissions are checked first).
UNCOUNTED_SIGN_IN = {"413"}
UNCOUNTED_SIGNED_IN = {"401", "403", "413"}


def _headers_for(path: str, operation: dict[str, Any], status: str) -> list[str]:
    # Sign-in is limited per IP (LOGIN_RATE_PER_IP), session management per user
    # (SESSION_API_RATE): the signed-in operations that can answer 429. Refresh is
    # neither (it names no user until it succeeds), nor are /api/auth/me and the
    # sign-in history (securityportal.api.SessionManagementView).
    signed_in = any("bearerAuth" in needed for needed in operation.get("security", []))
    throttled = signed_in and "429" in operation.get("responses", {})
    if path == SIGN_IN:
        rated = status not in UNCOUNTED_SIGN_IN
    else:
        rated = throttled and status not in UNCOUNTED_SIGNED_IN
    names = RATE_HEADERS if rated else []
    if status in {"429", "503"}:
        names = [*names, "Retry-After"]
    if status == "401":
        names = [*names, "WWW-Authenticate"]
    return names


# Where one answer leads (OpenAPI links): each new pair can be refreshed and its
# session signed out, and each listed session can be signed out.
_REFRESH_IT = {
    "operationId": "auth_refresh_create",
    "requestBody": {"refresh": "$response.body#/refresh"},
    "description": "Rotate the refresh token of this answer.",
}
_SIGN_OUT_ITS_SESSION = {
    "operationId": "auth_sessions_destroy",
    "parameters": {"session_id": "$response.body#/session/id"},
    "description": "Sign out the session of this answer from another one.",
}
LINKS = {
    ("/api/auth/login", "post"): {"RefreshIt": _REFRESH_IT, "SignOutIt": _SIGN_OUT_ITS_SESSION},
    ("/api/auth/refresh", "post"): {"RefreshIt": _REFRESH_IT, "SignOutIt": _SIGN_OUT_ITS_SESSION},
    ("/api/auth/sessions", "get"): {
        "SignOutTheFirst": {
            "operationId": "auth_sessions_destroy",
            "parameters": {"session_id": "$response.body#/0/id"},
            "description": "Sign out the first session listed.",
        }
    },
}


def describe_shared_behaviour(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS: what every view shares and drf-spectacular cannot see (the
    headers answers carry, empty query parameters, the links between operations),
    written once here rather than on each view."""
    result.setdefault("components", {})["headers"] = HEADERS
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                # DRF reads an empty "?limit=" as not sent: the default applies.
                optional = not parameter.get("required")
                if parameter["in"] == "query" and optional and "default" in parameter["schema"]:
                    parameter["allowEmptyValue"] = True
            for status, response in operation.get("responses", {}).items():
                for name in _headers_for(path, operation, status):
                    response.setdefault("headers", {})[name] = {
                        "$ref": f"#/components/headers/{name}"
                    }
            links = LINKS.get((path, method))
            if links is not None:
                operation["responses"]["200"]["links"] = links
    return result
