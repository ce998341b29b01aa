"""The owner endpoints of the JSON API: the account's session policy, who is signed in,
and signing everyone out (SPEC §4, §6). Owners only, and always the caller's own
account: no account id is ever taken from the request, so another tenant cannot
be named, let alone reached.

Each view calls the function the owner page calls (``update_session_policy``,
``revoke_account_sessions``), so a change made here is validated and audited
exactly like one made on the page.

The page asks for the password again before these actions (sudo mode). On the
API, the sign-in is the re-authentication: a change needs an API session opened
within REAUTH_MINUTES (``SignedInRecently``), else 403 ``reauth_required``; a
client has no one to prompt mid-request."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.fields import empty, get_error_detail
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Account, User
from accounts.owners import UNCHANGED, update_session_policy
from accounts.policy import bounds, effective_policy
from securityportal.api import SessionManagementView, validated_input
from securityportal.client import client_ip
from securityportal.schema import errors
from sessions.lifecycle import Scope, revoke_account_sessions
from sessions.middleware import SIGNED_OUT_CLEAR_SITE_DATA
from sessions.serializers import RevokedCountOutput
from sessions.signed_in import (
    COUNT_CAP,
    PAGE_SIZE,
    PeopleCursor,
    count_signed_in,
    signed_in_people,
)


class IsAccountOwner(BasePermission):
    """Only an owner of an account may see or change its security; a member gets 403."""

    message = (
        "Only the owners of an account can see or change its security settings. "
        "Ask an owner of your account if something here needs to change."
    )
    code = "owner_only"

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return user is not None and user.is_owner and user.account_id is not None


class SignedInRecently(BasePermission):
    """Changes (not reads) need an API session opened within REAUTH_MINUTES: the
    sign-in is the API's re-authentication. A refresh token keeps a session going
    for days without a password; a stolen one must not be enough to loosen the
    policy or sign everyone out."""

    message = (
        "This change needs a recent sign-in: sign in again with POST /api/auth/login "
        "and retry with the new access token."
    )
    code = "reauth_required"

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return True
        window = timedelta(minutes=settings.REAUTH_MINUTES)
        return timezone.now() - request.auth.created_at <= window


OWNER_ONLY = [IsAuthenticated, IsAccountOwner, SignedInRecently]


# Input


@extend_schema_field({"type": "integer", "nullable": True, "minimum": 1})
class WholeMinutes(serializers.Field):
    """A JSON integer, or null for the system default. Nothing else: "30", 30.0
    and true are refused rather than read as numbers, so a client bug cannot
    quietly set a limit nobody meant."""

    default_error_messages = {
        "invalid": "Send a whole number of minutes (a JSON integer), or null for the "
        "system default."
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        # bool is an int in Python: without this, true would be one minute.
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return data

    def to_representation(self, value: int) -> int:
        return value


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBoolean(serializers.Field):
    """A JSON true or false; DRF's BooleanField would also take "yes", "0" and 1."""

    default_error_messages = {"invalid": "Send true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data

    def to_representation(self, value: bool) -> bool:
        return value


class PolicyInput(serializers.Serializer):
    """The shape of a PATCH only; which limits are allowed is
    ``accounts.policy.validate_overrides``'s to say."""

    idle_minutes = WholeMinutes(help_text="Idle limit in minutes; null: the system default.")
    absolute_minutes = WholeMinutes(
        help_text="Absolute limit in minutes; null: the system default."
    )
    apply_now = StrictBoolean(
        required=False,
        help_text="Also apply the limits to signed-in sessions, ending those past them.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        allowed = ", ".join(self.fields)
        # A misspelt key would otherwise be dropped and the PATCH answer 200
        # having changed nothing the client asked for.
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {key: [f"Not a field of this endpoint; send {allowed}."] for key in unknown},
                code="unknown_field",
            )
        if not attrs:
            raise serializers.ValidationError(
                {"non_field_errors": [f"Send at least one of {allowed}."]}, code="empty"
            )
        return attrs


class RevokeSessionsInput(serializers.Serializer):
    scope = serializers.ChoiceField(
        choices=Scope.CHOICES,
        error_messages={
            "invalid_choice": 'Send "others" (everyone but this session) or "all" '
            "(this session too)."
        },
    )


# Output


class AccountOutput(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "name"]


class OverridesOutput(serializers.Serializer):
    idle_minutes = serializers.IntegerField(allow_null=True)
    absolute_minutes = serializers.IntegerField(allow_null=True)


class EffectiveOutput(serializers.Serializer):
    idle_minutes = serializers.IntegerField()
    absolute_minutes = serializers.IntegerField()


class RangeOutput(serializers.Serializer):
    min = serializers.IntegerField()
    max = serializers.IntegerField()
    default = serializers.IntegerField()


class BoundsOutput(serializers.Serializer):
    idle_minutes = RangeOutput()
    absolute_minutes = RangeOutput()


class ActiveUserOutput(serializers.ModelSerializer):
    name = serializers.CharField(source="get_full_name")
    live_sessions = serializers.IntegerField()
    last_active_at = serializers.DateTimeField(
        help_text="The latest activity of any of the user's live sessions (the list's order)."
    )
    is_you = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "name",
            "last_login",
            "last_active_at",
            "live_sessions",
            "is_you",
        ]

    def get_is_you(self, user: User) -> bool:
        return user.pk == self.context["you"].pk


class SignedInOutput(serializers.Serializer):
    people = serializers.IntegerField(help_text="People with at least one live session.")
    sessions = serializers.IntegerField(help_text="Live sessions of the account.")
    exact = serializers.BooleanField(
        help_text=f"False when the account has more than {COUNT_CAP:,} live sessions: "
        "then both numbers are lower bounds (sessions is the cap)."
    )


class ActiveUsersPageOutput(serializers.Serializer):
    results = ActiveUserOutput(many=True, source="users")
    next = serializers.CharField(
        allow_null=True,
        help_text="Pass as ?after= for the next page; null on the last page.",
    )


class AccountSecurityOutput(serializers.Serializer):
    account = AccountOutput()
    overrides = OverridesOutput()
    effective = EffectiveOutput()
    bounds = BoundsOutput()
    active_users = ActiveUserOutput(
        many=True,
        help_text=f"The {PAGE_SIZE} most recently active signed-in users; the rest "
        "from GET /api/accounts/me/active-users?after=active_users_next.",
    )
    active_users_next = serializers.CharField(
        allow_null=True, help_text="Cursor of the next page of active_users; null if none."
    )
    signed_in = SignedInOutput()


class PolicyChangeOutput(AccountSecurityOutput):
    sessions_ended = serializers.IntegerField()


def _security_state(account: Account) -> dict[str, Any]:
    limits = bounds()
    now = timezone.now()
    people = signed_in_people(account, now)
    return {
        "account": account,
        "overrides": {
            "idle_minutes": account.session_idle_minutes,
            "absolute_minutes": account.session_absolute_minutes,
        },
        "effective": effective_policy(account),
        "bounds": {
            "idle_minutes": {
                "min": limits.idle_min,
                "max": limits.idle_max,
                "default": limits.idle_default,
            },
            "absolute_minutes": {
                "min": limits.absolute_min,
                "max": limits.absolute_max,
                "default": limits.absolute_default,
            },
        },
        "active_users": people.users,
        "active_users_next": people.next,
        "signed_in": count_signed_in(account, now),
    }


# Views


class AccountSecurityView(SessionManagementView):
    """GET: the account's policy, its bounds and who is signed in. PATCH: change the
    policy; omitted keys keep their override, null clears one to the default."""

    permission_classes = OWNER_ONLY

    @extend_schema(
        summary="The account's session policy and who is signed in",
        responses={200: AccountSecurityOutput, **errors(401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        state = _security_state(request.user.account)
        return Response(AccountSecurityOutput(state, context={"you": request.user}).data)

    @extend_schema(
        summary="Change the account's session policy",
        description="Omitted keys keep their override; null clears one to the default.",
        request=PolicyInput,
        responses={200: PolicyChangeOutput, **errors(400, 401, 403, 413, 415, 429)},
        examples=[
            OpenApiExample(
                "Stricter limits",
                value={"idle_minutes": 30, "absolute_minutes": 480},
                request_only=True,
            ),
            OpenApiExample(
                "Back to the system default idle limit",
                value={"idle_minutes": None},
                request_only=True,
            ),
        ],
    )
    def patch(self, request: Request) -> Response:
        data = validated_input(PolicyInput, request)
        account = request.user.account
        try:
            # Omitted keys keep the stored override (read under the change's row lock).
            change = update_session_policy(
                account=account,
                idle_minutes=data.get("idle_minutes", UNCHANGED),
                absolute_minutes=data.get("absolute_minutes", UNCHANGED),
                actor=request.user,
                ip=client_ip(request),
                apply_now=data.get("apply_now", False),
            )
        except ValidationError as error:
            # The policy rule's own messages and codes (out_of_bounds,
            # idle_exceeds_absolute), keyed by the field to change.
            raise exceptions.ValidationError(get_error_detail(error)) from None
        account.refresh_from_db()
        state = {**_security_state(account), "sessions_ended": change.ended}
        return Response(PolicyChangeOutput(state, context={"you": request.user}).data)


class CursorField(serializers.CharField):
    """A cursor in a query string. DRF reads a blank query parameter ("?after=") as
    no parameter, which would serve the first page; here blank goes on to the
    serializer's check and is refused like any other bad cursor: a cursor given is a
    cursor checked. The OpenAPI document says minLength 1."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)

    def get_value(self, dictionary: Any) -> Any:
        return dictionary.get(self.field_name, empty)

    def run_validation(self, data: Any = empty) -> Any:
        return data if data == "" else super().run_validation(data)


class ActiveUsersQuery(serializers.Serializer):
    after = CursorField(
        help_text="The cursor from active_users_next, or from next of the page before."
    )

    def validate_after(self, value: str) -> PeopleCursor:
        try:
            return PeopleCursor.parse(value)
        except ValueError:
            raise serializers.ValidationError(
                "Not a cursor: pass active_users_next or next exactly as received.",
                code="invalid_cursor",
            ) from None


class ActiveUsersView(SessionManagementView):
    """The account's signed-in users, most recently active first, a page at a time."""

    permission_classes = OWNER_ONLY

    @extend_schema(
        summary="The account's signed-in users, a page at a time",
        parameters=[ActiveUsersQuery],
        responses={200: ActiveUsersPageOutput, **errors(400, 401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        query = ActiveUsersQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = signed_in_people(
            request.user.account, timezone.now(), after=query.validated_data.get("after")
        )
        return Response(ActiveUsersPageOutput(page, context={"you": request.user}).data)


class AccountRevokeSessionsView(SessionManagementView):
    """Sign out everyone in the account but the calling session (``others``) or
    everyone including it (``all``: the caller's next request answers 401)."""

    permission_classes = OWNER_ONLY

    @extend_schema(
        summary="Sign out everyone in the account",
        request=RevokeSessionsInput,
        responses={200: RevokedCountOutput, **errors(400, 401, 403, 413, 415, 429)},
        examples=[
            OpenApiExample("Everyone else", value={"scope": "others"}, request_only=True),
            OpenApiExample(
                "Everyone, this session too", value={"scope": "all"}, request_only=True
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        data = validated_input(RevokeSessionsInput, request)
        count = revoke_account_sessions(
            account=request.user.account,
            scope=data["scope"],
            keep=request.auth,
            actor=request.user,
            ip=client_ip(request),
        )
        response = Response(RevokedCountOutput({"revoked_count": count}).data)
        if data["scope"] == "all":
            # The caller is signed out too: as POST /api/auth/logout, a browser
            # application calling the API forgets its cached answers.
            response["Clear-Site-Data"] = SIGNED_OUT_CLEAR_SITE_DATA
        return response
