import uuid

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts.models import User
from sessions.models import Session
from sessions.tokens import TokenRejected, decode_access_token
from sessions.validation import SESSION_REVOKED, USER_INACTIVE, api_session, record_activity

_FAILURE_DETAILS = {
    SESSION_REVOKED: "This session was signed out.",
    USER_INACTIVE: "This user is deactivated.",
}


class AccessTokenAuthentication(BaseAuthentication):
    """Bearer access tokens, each valid only while its server-side session is.

    The token's signature proves who issued it; the session row decides
    whether it still counts, so a revoke takes effect on the next request
    instead of when the token expires. ``request.auth`` is the Session."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[User, Session] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(
                "Send the header as 'Authorization: Bearer <access token>'.",
                code="token_invalid",
            )
        try:
            claims = decode_access_token(parts[1].decode("latin-1"))
        except TokenRejected as error:
            raise AuthenticationFailed(error.detail, code=error.code) from None
        now = timezone.now()
        # The row with its user and account, in one statement (or none, from the
        # session cache): request.user needs nothing more. The claim is a canonical
        # UUID (decode_access_token checked it).
        session, failure = api_session(uuid.UUID(claims["sid"]), now)
        if session is None or str(session.user_id) != claims["sub"]:
            raise AuthenticationFailed("The access token is not valid.", code="token_invalid")
        if failure is not None:
            detail = _FAILURE_DETAILS.get(failure, "This session has expired.")
            raise AuthenticationFailed(detail, code=failure)
        record_activity(session, now)
        return session.user, session
