"""The account endpoints of the JSON API: who am I, and changing my password."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.lockout import SignInRefused, refusal_text
from accounts.models import Account, User
from accounts.passwords import change_password
from accounts.signin import confirm_password
from accounts.validators import PASSWORD_MAX
from securityportal.api import ApiView, Refused, validated_input
from securityportal.client import client_ip
from sessions.serializers import RevokedCountOutput


class AccountOutput(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "name"]


class MeOutput(serializers.ModelSerializer):
    account = AccountOutput(allow_null=True)

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "role", "account"]


class MeView(ApiView):
    def get(self, request: Request) -> Response:
        return Response(MeOutput(request.user).data)


class PasswordInput(serializers.Serializer):
    current_password = serializers.CharField(max_length=PASSWORD_MAX, trim_whitespace=False)
    new_password = serializers.CharField(max_length=PASSWORD_MAX, trim_whitespace=False)

    def validate_new_password(self, value: str) -> str:
        try:
            validate_password(value, self.context["user"])
        except ValidationError as error:
            raise serializers.ValidationError(
                list(error.messages), code=error.error_list[0].code or "invalid"
            ) from None
        return value


class PasswordView(ApiView):
    def put(self, request: Request) -> Response:
        data = validated_input(PasswordInput, request, context={"user": request.user})
        try:
            confirm_password(
                request._request, user=request.user, password=data["current_password"]
            )
        except SignInRefused as refused:
            if refused.retry_after is not None:
                raise Refused(refusal_text(refused), refused.reason, refused.retry_after) from None
            raise exceptions.ValidationError(
                {"current_password": ["Your current password is not correct."]},
                code="password_incorrect",
            ) from None
        count = change_password(
            user=request.user,
            new_password=data["new_password"],
            session=request.auth,
            ip=client_ip(request),
        )
        return Response(RevokedCountOutput({"revoked_count": count}).data)
