from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Account, User
from securityportal.api import ApiView


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
