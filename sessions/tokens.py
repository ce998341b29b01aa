"""API credentials: short-lived JWT access tokens and opaque rotating refresh tokens."""

import base64
import functools
import re
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

import jwt
from django.conf import settings
from django.utils.crypto import salted_hmac

from sessions.models import Session

ALGORITHM = "HS256"
ACCESS_TYPE = "access"
# A recognisable prefix lets secret scanners spot a leaked refresh token.
REFRESH_PREFIX = "sprt_"
REFRESH_PATTERN = re.compile(r"^sprt_[A-Za-z0-9_-]{43}\Z")


class TokenRejected(Exception):
    """An access or refresh token was refused; ``code`` says why, ``detail`` tells the user."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _signing_key() -> bytes:
    """JWT_SIGNING_KEY, or a key derived from SECRET_KEY for this one purpose only
    (key separation: a token signature can never double as another HMAC of ours)."""
    return _key_for(settings.JWT_SIGNING_KEY, settings.SECRET_KEY)


@functools.lru_cache(maxsize=4)
def _key_for(signing_key: str, secret_key: str) -> bytes:
    # Derived once per secret instead of on every request; keyed by the secrets
    # themselves, so a rotated key is used at once.
    if signing_key:
        return signing_key.encode()
    return salted_hmac("securityportal.jwt", "", secret=secret_key, algorithm="sha256").digest()


def issue_access_token(session: Session, now: datetime) -> tuple[str, datetime]:
    """A signed access token for ``session`` and the moment it expires."""
    expires_at = now + timedelta(seconds=settings.ACCESS_TOKEN_SECONDS)
    claims = {
        "sub": str(session.user_id),
        "sid": str(session.pk),
        "jti": uuid.uuid4().hex,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "aud": settings.JWT_AUDIENCE,
        "iss": settings.JWT_ISSUER,
        "typ": ACCESS_TYPE,
    }
    token = jwt.encode(claims, _signing_key(), algorithm=ALGORITHM)
    return token, expires_at.replace(microsecond=0)


def decode_access_token(token: str) -> dict[str, Any]:
    """The claims of a valid access token, else TokenRejected.

    The algorithm list is pinned to HS256: a token declaring "none" or an
    asymmetric algorithm (algorithm confusion) is refused before its
    signature is considered."""
    # A JWT is base64url and dots. Anything else is refused here: a lone surrogate
    # could not even be encoded for parsing (UnicodeEncodeError, not a rejection).
    if not isinstance(token, str) or not token.isascii():
        raise TokenRejected("token_invalid", "The access token is not valid.")
    try:
        claims = jwt.decode(
            token,
            _signing_key(),
            algorithms=[ALGORITHM],
            audience=settings.JWT_AUDIENCE,
            issuer=settings.JWT_ISSUER,
            options={"require": ["sub", "sid", "jti", "iat", "exp", "aud", "iss", "typ"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRejected("token_expired", "The access token has expired.") from None
    except jwt.PyJWTError:
        raise TokenRejected("token_invalid", "The access token is not valid.") from None
    # Token confusion: only access tokens authenticate requests.
    if claims["typ"] != ACCESS_TYPE or not _as_issued(claims):
        raise TokenRejected("token_invalid", "The access token is not valid.")
    return claims


def _as_issued(claims: dict[str, Any]) -> bool:
    """Whether the claims have the shape issue_access_token gives them: whole-second
    times (PyJWT would take "exp": "9999999999"), a lifetime of at most
    ACCESS_TOKEN_SECONDS (a token minted to outlive the five minutes, should the key
    leak, dies with the next lowering of the setting), and the session id spelled as
    a UUID's one canonical string."""
    issued, expires, sid = claims["iat"], claims["exp"], claims["sid"]
    if type(issued) is not int or type(expires) is not int or not isinstance(sid, str):
        return False
    if expires - issued > settings.ACCESS_TOKEN_SECONDS:
        return False
    try:
        return str(uuid.UUID(sid)) == sid
    except ValueError:
        return False


def new_refresh_token() -> str:
    """A fresh refresh token: 256 random bits behind the recognisable prefix."""
    return REFRESH_PREFIX + secrets.token_urlsafe(32)


def successor_of(token: str, secret: str | None = None) -> str:
    """The refresh token that replaces ``token`` when it is rotated, derived under
    ``secret`` (SECRET_KEY unless given).

    Derived, not drawn: a retry inside the grace window must receive the very
    same successor, and the raw successor is never stored anywhere. An HMAC
    under a server-side key cannot be computed by someone who holds only
    tokens."""
    digest = salted_hmac(
        "securityportal.refresh-successor", token, secret=secret, algorithm="sha256"
    ).digest()
    return REFRESH_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def possible_successors_of(token: str) -> list[str]:
    """What ``token`` may have been rotated to: its successor under SECRET_KEY, then
    under each of SECRET_KEY_FALLBACKS (a rotation made before the key changed)."""
    return [successor_of(token, secret) for secret in (None, *settings.SECRET_KEY_FALLBACKS)]


def looks_like_refresh_token(value: object) -> bool:
    return isinstance(value, str) and REFRESH_PATTERN.match(value) is not None
