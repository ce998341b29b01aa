"""GET /api/auth/login-events: the caller's own sign-in history."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from audit.activity import sign_ins_of
from audit.models import LoginEvent
from securityportal.api import ApiView
from securityportal.schema import errors


class LoginEventsQuery(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)


class LoginEventOutput(serializers.ModelSerializer):
    class Meta:
        model = LoginEvent
        fields = [
            "id",
            "username",
            "ip",
            "user_agent",
            "device",
            "channel",
            "success",
            "failure_reason",
            "new_device",
            "created_at",
        ]


class LoginEventsView(ApiView):
    @extend_schema(
        summary="Your sign-in attempts, newest first",
        parameters=[LoginEventsQuery],
        responses={200: LoginEventOutput(many=True), **errors(400, 401)},
    )
    def get(self, request: Request) -> Response:
        query = LoginEventsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = sign_ins_of(request.user, limit=query.validated_data["limit"])
        return Response(LoginEventOutput(page.events, many=True).data)
