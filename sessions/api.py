"""The session endpoints of the JSON API: sign-in, refresh, sign-out and the session list."""

import uuid

from django.contrib.auth import user_logged_in
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed, NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.lockout import SignInRefused, refusal_text
from accounts.signin import API, record_stale_sign_in, sign_in, sign_in_rate_window
from securityportal.api import (
    ApiView,
    BadRequest,
    Refused,
    SessionManagementView,
    validated_input,
)
from securityportal.client import ClientInfo, client_ip
from securityportal.ratelimit import Window
from securityportal.schema import errors
from sessions.lifecycle import (
    CredentialsChanged,
    NotRevocable,
    live_sessions_for_user,
    revoke_other_sessions,
    revoke_own_session,
)
from sessions.middleware import SIGNED_OUT_CLEAR_SITE_DATA
from sessions.models import RevokedReason, Session
from sessions.refresh import rotate_refresh_token, start_api_session
from sessions.serializers import (
    LoginInput,
    RefreshInput,
    RevokedCountOutput,
    SessionOutput,
    TokenPairOutput,
)
from sessions.tokens import TokenRejected

# The answer of a real sign-in (the worked session of docs/API.md).
SESSION_EXAMPLE = {
    "id": "0f885e96-d1f6-48b9-9a49-dcdb4fc3dbc4",
    "kind": "api",
    "device": "curl 7",
    "user_agent": "curl/7.88.1",
    "ip": "127.0.0.1",
    "created_at": "2026-11-23T13:00:47.781410Z",
    "last_seen_at": "2026-11-23T13:00:47.781410Z",
    "idle_expires_at": "2026-11-23T14:00:47.781410Z",
    "absolute_expires_at": "2026-11-30T13:00:47.781410Z",
    "is_current": True,
}
TOKEN_PAIR_EXAMPLE = {
    "access": (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwic2lkIjoiMGY4ODVlOTYtZDFmNi00OGI5L"
        "TlhNDktZGNkYjRmYzNkYmM0IiwianRpIjoiM2I1ZTFjNTliZmQzNDU0ZDliYzk5YTJmMGRlOGZlZTQiLCJpYXQ"
        "iOjE3OTU0Mzg4NDcsImV4cCI6MTc5NTQzOTE0NywiYXVkIjoic2VjdXJpdHlwb3J0YWwtYXBpIiwiaXNzIjoic2"
        "VjdXJpdHlwb3J0YWwiLCJ0eXAiOiJhY2Nlc3MifQ.faR3qYLYDCT8Oonc0pPHKkLY38hEhirrhvatjkQwMSw"
    ),
    "refresh": "sprt_YEklqkwnu2ddp0nJ8OfhRjiYRi7lXPdqSqAexaJk-O8",
    "access_expires_at": "2026-11-23T13:05:47Z",
    "session": SESSION_EXAMPLE,
}


class LoginView(ApiView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def rate_window_for(self, request: Request) -> Window | None:
        # Sign-in is limited per IP (LOGIN_RATE_PER_IP), not per user: every answer
        # reports that rate, including the 400s and 429s.
        return sign_in_rate_window(client_ip(request))

    @extend_schema(
        summary="Sign in",
        description="Username or e-mail and password; opens an API session.",
        request=LoginInput,
        responses={200: TokenPairOutput, **errors(400, 401, 413, 415, 429)},
        examples=[
            OpenApiExample(
                "Sign in",
                value={"username": "alice", "password": "correct horse battery staple"},
                request_only=True,
            ),
            OpenApiExample("Signed in", value=TOKEN_PAIR_EXAMPLE, response_only=True),
        ],
    )
    def post(self, request: Request) -> Response:
        data = validated_input(LoginInput, request)
        try:
            user = sign_in(
                request._request,
                identifier=data["username"],
                password=data["password"],
                channel=API,
            )
        except SignInRefused as refused:
            raise _refusal(refused) from None
        # The session and its sign-in records commit together (as LoginView's).
        try:
            with transaction.atomic():
                pair = start_api_session(
                    user=user, client=ClientInfo.from_request(request), now=timezone.now()
                )
                # The same signal a browser sign-in sends (last_login, audit), with the
                # new API session, which has no cookie store to find it in.
                user_logged_in.send(
                    sender=type(user), request=request, user=user, session=pair.session
                )
        except CredentialsChanged:
            # The password changed while it was being checked: it is no longer the
            # password, and the answer is a wrong password's.
            stale = record_stale_sign_in(request, identifier=data["username"], channel=API)
            raise _refusal(stale) from None
        return Response(TokenPairOutput(pair).data)


def _refusal(refused: SignInRefused) -> Exception:
    if refused.retry_after is not None:
        return Refused(refusal_text(refused), refused.reason, refused.retry_after)
    # One answer for unknown users, wrong passwords and inactive users (user enumeration).
    return AuthenticationFailed("The username or password is incorrect.", code="bad_credentials")


class RefreshView(ApiView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Rotate the refresh token",
        description=(
            "Spends the refresh token for a new pair. Presented again within "
            "REFRESH_REUSE_GRACE_SECONDS it returns the same successor; later, the whole "
            "session is revoked (401 `token_reused`)."
        ),
        request=RefreshInput,
        responses={200: TokenPairOutput, **errors(400, 401, 413, 415)},
        examples=[
            OpenApiExample(
                "Refresh",
                value={"refresh": TOKEN_PAIR_EXAMPLE["refresh"]},
                request_only=True,
            ),
            OpenApiExample("Refreshed", value=TOKEN_PAIR_EXAMPLE, response_only=True),
        ],
    )
    def post(self, request: Request) -> Response:
        data = validated_input(RefreshInput, request)
        try:
            pair = rotate_refresh_token(
                token=data["refresh"], ip=client_ip(request), now=timezone.now()
            )
        except TokenRejected as error:
            raise AuthenticationFailed(error.detail, code=error.code) from None
        return Response(TokenPairOutput(pair).data)


class LogoutView(SessionManagementView):
    @extend_schema(
        summary="Sign out this session",
        request=None,
        responses={204: None, **errors(401, 429)},
    )
    def post(self, request: Request) -> Response:
        session: Session = request.auth
        session.revoke(
            reason=RevokedReason.LOGOUT,
            actor=request.user,
            ip=client_ip(request),
        )
        # A browser application calling the API forgets its cached answers too.
        return Response(
            status=status.HTTP_204_NO_CONTENT,
            headers={"Clear-Site-Data": SIGNED_OUT_CLEAR_SITE_DATA},
        )


class SessionListView(SessionManagementView):
    @extend_schema(
        summary="Your live sessions",
        responses={200: SessionOutput(many=True), **errors(401, 429)},
    )
    def get(self, request: Request) -> Response:
        sessions = live_sessions_for_user(request.user, timezone.now())
        output = SessionOutput(sessions, many=True, context={"current": request.auth})
        return Response(output.data)


class SessionDetailView(SessionManagementView):
    @extend_schema(
        summary="Sign out one of your other sessions",
        responses={204: None, **errors(400, 401, 404, 429)},
    )
    def delete(self, request: Request, session_id: uuid.UUID) -> Response:
        try:
            revoke_own_session(
                user=request.user,
                session_id=session_id,
                current=request.auth,
                ip=client_ip(request),
            )
        except NotRevocable as refused:
            if refused.code == NotRevocable.CURRENT:
                raise BadRequest(
                    "This is the current session; sign out with POST /api/auth/logout.",
                    code="current_session",
                ) from None
            raise NotFound("No such session.", code="not_found") from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class RevokeOthersView(SessionManagementView):
    @extend_schema(
        summary="Sign out all your other sessions",
        request=None,
        responses={200: RevokedCountOutput, **errors(401, 429)},
    )
    def post(self, request: Request) -> Response:
        count = revoke_other_sessions(
            user=request.user,
            keep=request.auth,
            reason=RevokedReason.USER,
            actor=request.user,
            ip=client_ip(request),
        )
        return Response(RevokedCountOutput({"revoked_count": count}).data)
