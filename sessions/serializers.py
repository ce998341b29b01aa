from typing import TYPE_CHECKING

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.validators import PASSWORD_MAX
from securityportal.api import Text
from sessions.devices import device_of
from sessions.models import Session

if TYPE_CHECKING:
    from sessions.refresh import TokenPair


class LoginInput(serializers.Serializer):
    username = Text(max_length=254, help_text="Username or e-mail address.")
    password = Text(max_length=PASSWORD_MAX, trim_whitespace=False)


class RefreshInput(serializers.Serializer):
    refresh = Text(max_length=128, trim_whitespace=False)


class SessionOutput(serializers.ModelSerializer):
    device = serializers.SerializerMethodField(
        help_text='What the page shows too: "Chrome 131 on macOS", or an API client\'s '
        'product token ("acme-cli 2.3"), or "Unknown device".'
    )
    is_current = serializers.SerializerMethodField()
    idle_expires_at = serializers.DateTimeField()
    absolute_expires_at = serializers.DateTimeField()

    class Meta:
        model = Session
        fields = [
            "id",
            "kind",
            "device",
            "user_agent",
            "ip",
            "created_at",
            "last_seen_at",
            "idle_expires_at",
            "absolute_expires_at",
            "is_current",
        ]

    def get_device(self, session: Session) -> str:
        return device_of(session).label

    def get_is_current(self, session: Session) -> bool:
        return session.pk == self.context["current"].pk


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    access_expires_at = serializers.DateTimeField()
    session = serializers.SerializerMethodField()

    @extend_schema_field(SessionOutput)
    def get_session(self, pair: "TokenPair") -> dict:
        session = pair.session
        return SessionOutput(session, context={"current": session}).data


class RevokedCountOutput(serializers.Serializer):
    revoked_count = serializers.IntegerField()
