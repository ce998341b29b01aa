"""API sign-in and refresh-token rotation (SPEC §6)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from accounts.models import User
from audit import events
from securityportal.client import ClientInfo
from sessions.digest import sha256_hex
from sessions.lifecycle import open_session
from sessions.models import RefreshToken, RevokedReason, Session
from sessions.tokens import (
    TokenRejected,
    issue_access_token,
    looks_like_refresh_token,
    new_refresh_token,
    possible_successors_of,
    successor_of,
)
from sessions.validation import record_activity, validate_session


@dataclass(frozen=True)
class TokenPair:
    session: Session
    access: str
    access_expires_at: datetime
    refresh: str


def _store_refresh_token(session: Session, token: str, now: datetime) -> None:
    RefreshToken.objects.create(
        session=session,
        token_hash=sha256_hex(token),
        issued_at=now,
    )


def _pair(session: Session, refresh: str, now: datetime) -> TokenPair:
    access, expires_at = issue_access_token(session, now)
    return TokenPair(session=session, access=access, access_expires_at=expires_at, refresh=refresh)


@transaction.atomic
def start_api_session(*, user: User, client: ClientInfo, now: datetime) -> TokenPair:
    """Open an API session for a signed-in user and hand out its first tokens."""
    session = open_session(user=user, kind=Session.Kind.API, client=client, now=now)
    refresh = new_refresh_token()
    _store_refresh_token(session, refresh, now)
    return _pair(session, refresh, now)


def _token_held_after(row: RefreshToken, token: str) -> str | None:
    """The token the session holds now that ``token`` was rotated: its successor, or
    the successor's own successor if that was rotated too, and so on. Each step is
    derived under every key the rotation may have used, and found among the tokens
    the session was issued since ``row`` (``token``'s) was rotated; None if the chain
    breaks (a key since dropped)."""
    stored = {
        issued.token_hash: issued
        for issued in RefreshToken.objects.filter(
            session_id=row.session_id, issued_at__gte=row.rotated_at
        )
    }
    for _ in range(len(stored)):
        found = [
            (successor, stored[digest])
            for successor in possible_successors_of(token)
            if (digest := sha256_hex(successor)) in stored
        ]
        if not found:
            return None
        token, row = found[0]
        if row.rotated_at is None:
            return token
    return None


def rotate_refresh_token(*, token: object, ip: str | None, now: datetime) -> TokenPair:
    """Exchange a refresh token for a new pair, or raise TokenRejected.

    Rotation never branches: the token's session row is locked, so every
    presentation of any of the session's tokens queues; the first rotates and
    the rest, inside the grace window, are handed the same derived successor (or,
    if the client has rotated that one since, the token the session holds now).
    A presentation after the window is a replay of a stolen token (or of a
    leaked old one): the whole session is revoked, since we cannot tell the
    thief from the owner, and refreshes queued behind it are refused."""
    if not looks_like_refresh_token(token):
        raise TokenRejected("token_invalid", "The refresh token is not valid.")
    grace = timedelta(seconds=settings.REFRESH_REUSE_GRACE_SECONDS)
    token_hash = sha256_hex(token)
    # Each branch commits before answering: an expiry or a replay found here
    # must stay recorded although the caller receives 401.
    with transaction.atomic():
        # Lock the session, not the presented token: a replay of an old token
        # and a refresh with its successor are different rows, and locking only
        # those let the successor be rotated while the replay was revoking the
        # session. Every refresh takes this one lock first, so two refreshes of
        # a session cannot deadlock, and the row it returns is read after any
        # revoke that held it, so a refresh queued behind a replay sees the revoke.
        session = (
            Session.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(refresh_tokens__token_hash=token_hash)
            .first()
        )
        # Read the token only now, under the session lock: a copy read before
        # it could miss a rotation committed while this refresh waited.
        row = None if session is None else session.refresh_tokens.get(token_hash=token_hash)
        failure = "token_invalid" if session is None else validate_session(session, now)
        successor = None
        if failure is None and row.rotated_at is None:
            row.rotated_at = now
            row.save(update_fields=["rotated_at"])
            successor = successor_of(token)
            _store_refresh_token(session, successor, now)
        elif failure is None and row.in_grace(now, grace):
            # A retry of a refresh that went through: it gets what the first answer
            # gave, or, when the client has rotated that since, the token it holds
            # now. The first successor is dead then, and its next use would end the
            # session as a replay.
            successor = _token_held_after(row, token)
            if successor is None:
                failure = "token_invalid"
        elif failure is None:
            failure = "token_reused"
            if session.revoke(reason=RevokedReason.REFRESH_REUSE, actor=None, ip=ip):
                events.record(
                    "refresh_token.reuse_detected",
                    user=session.user,
                    target=f"session:{session.pk}",
                    details={"rotated_at": row.rotated_at.isoformat()},
                    ip=ip,
                )
        if failure is None:
            record_activity(session, now)
    if failure == "token_invalid":
        raise TokenRejected(failure, "The refresh token is not valid.")
    if failure == "token_reused":
        raise TokenRejected(failure, "This refresh token was already used; the session is ended.")
    if failure is not None:
        raise TokenRejected(failure, "The session of this refresh token has ended.")
    return _pair(session, successor, now)
