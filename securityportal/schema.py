"""How the OpenAPI document describes what every endpoint shares: the bearer scheme
and the error shape."""

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
    400: "Invalid input: `invalid`, `required`, `null`, `blank`, `max_length`, `min_value`, "
    "`max_value`, `invalid_choice`, `parse_error`, `out_of_bounds`, `idle_exceeds_absolute`, "
    "`password_incorrect`, `password_too_short`, `password_too_common`, "
    "`password_entirely_numeric`, `password_too_similar`, `password_too_long`, "
    "`current_session`, `bad_request`.",
    401: "No or refused credentials: `not_authenticated`, `bad_credentials`, `token_invalid`, "
    "`token_expired`, `token_reused`, `session_expired`, `session_revoked`, `user_inactive`.",
    403: "Not allowed: `owner_only`, `reauth_required` (sign in again), `permission_denied`.",
    404: "No such object, or another user's: `not_found`.",
    405: "Method not allowed: `method_not_allowed`.",
    413: "Body over API_MAX_BODY_BYTES: `request_too_large`.",
    415: "Not JSON: `unsupported_media_type`.",
    429: "Too many requests (see Retry-After): `locked_out`, `rate_limited`, `throttled`.",
    503: "Database unavailable (see Retry-After): `service_unavailable`.",
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """The error responses an operation documents, each in the one error shape."""
    return {status: OpenApiResponse(Error, description=ERROR_CODES[status]) for status in statuses}
