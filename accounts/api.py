"""The account endpoints of the JSON API: who am I, and changing my password."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.lockout import SignInRefused, refusal_text
from accounts.models import Account, User
from accounts.passwords import UNCHANGED, change_password, is_unchanged
from accounts.signin import PASSWORD_CHANGE, confirm_password
from accounts.validators import PASSWORD_MAX
from securityportal.api import ApiView, Refused, SessionManagementView, Text, validated_input
from securityportal.client import client_ip
from securityportal.schema import errors
from sessions.serializers import RevokedCountOutput


def me_output(user: User) -> dict:
    """The signed-in user as ``GET /api/auth/me`` answers.

    A plain dict: a ModelSerializer built its fields from the models on every call,
    which cost this, the most frequent API request, more than reading the session."""
    account: Account | None = user.account
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": str(user.role),
        "account": None if account is None else {"id": account.pk, "name": account.name},
    }


class AccountRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MeOutput(serializers.Serializer):
    """The shape ``me_output`` returns, as the OpenAPI document describes it."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    role = serializers.ChoiceField(choices=User.Role.choices)
    account = AccountRef(allow_null=True)


class MeView(ApiView):
    @extend_schema(summary="Who you are", responses={200: MeOutput, **errors(401)})
    def get(self, request: Request) -> Response:
        return Response(me_output(request.user))


class PasswordInput(serializers.Serializer):
    current_password = Text(max_length=PASSWORD_MAX, trim_whitespace=False)
    new_password = Text(max_length=PASSWORD_MAX, trim_whitespace=False)

    def validate_new_password(self, value: str) -> str:
        try:
            validate_password(value, self.context["user"])
        except ValidationError as error:
            raise serializers.ValidationError(
                list(error.messages), code=error.error_list[0].code or "invalid"
            ) from None
        return value


class PasswordView(SessionManagementView):
    @extend_schema(
        summary="Change your password",
        description="Every other session of yours ends; this one stays signed in.",
        request=PasswordInput,
        responses={200: RevokedCountOutput, **errors(400, 401, 413, 415, 429)},
        examples=[
            OpenApiExample(
                "Change the password",
                value={
                    "current_password": "correct horse battery staple",
                    "new_password": "a longer passphrase of my own",
                },
                request_only=True,
            )
        ],
    )
    def put(self, request: Request) -> Response:
        data = validated_input(PasswordInput, request, context={"user": request.user})
        try:
            confirm_password(
                request._request,
                user=request.user,
                password=data["current_password"],
                purpose=PASSWORD_CHANGE,
            )
        except SignInRefused as refused:
            if refused.retry_after is not None:
                raise Refused(refusal_text(refused), refused.reason, refused.retry_after) from None
            raise exceptions.ValidationError(
                {"current_password": ["Your current password is not correct."]},
                code="password_incorrect",
            ) from None
        if is_unchanged(current=data["current_password"], new=data["new_password"]):
            raise exceptions.ValidationError(
                {"new_password": [UNCHANGED]}, code="password_unchanged"
            )
        count = change_password(
            user=request.user,
            new_password=data["new_password"],
            session=request.auth,
            ip=client_ip(request),
        )
        return Response(RevokedCountOutput({"revoked_count": count}).data)
