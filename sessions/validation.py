"""Whether a session may still be used: the one rule the browser middleware and the API
authentication class both apply, so the two can never disagree."""

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings

from sessions import cache as session_cache
from sessions.models import EXPIRY_REASONS, RevokedReason, Session
from sessions.rows import api_session_row, browser_session_row

# Why a request was refused, for the API's "code" and the login page's banner.
SESSION_REVOKED = "session_revoked"
SESSION_EXPIRED = "session_expired"
USER_INACTIVE = "user_inactive"
UNKNOWN = "unknown"


def expiry_reason(session: Session, now: datetime) -> str | None:
    """Which limit a live session has passed at ``now``: absolute first, then idle.

    Idle means ``last_seen_at + idle < now`` (SPEC §4): the session still serves a
    request at the very instant its idle limit falls. Absolute expiry is Django's
    ``expire_date``, which ends a session at that instant."""
    if now >= session.expire_date:
        return RevokedReason.EXPIRED_ABSOLUTE
    if now > session.idle_expires_at:
        return RevokedReason.EXPIRED_IDLE
    return None


def validate_session(session: Session, now: datetime) -> str | None:
    """None while ``session`` may serve a request at ``now``, else why not.

    A session found past a limit is ended here with that reason, so the row
    tells afterwards why it stopped; one whose user was deactivated is
    revoked, and refused as USER_INACTIVE even when its deactivation already
    ended it. Sessions already ended stay as they are."""
    if not session.user.is_active:
        # Said first, whatever else is true of the session: signing in again, which
        # "revoked" or "expired" would invite, cannot help a deactivated user.
        if session.revoked_at is None:
            # Revoked, not just refused: reactivating a compromised account must
            # not bring back tokens and cookies stolen before it was disabled.
            session.revoke(reason=RevokedReason.ADMIN, actor=None)
        return USER_INACTIVE
    if session.revoked_at is not None:
        if session.revoked_reason in EXPIRY_REASONS:
            return SESSION_EXPIRED
        return SESSION_REVOKED
    expired = expiry_reason(session, now)
    if expired is not None:
        session.end(reason=expired, now=now)
        return SESSION_EXPIRED
    return None


def browser_session(key_hash: str, now: datetime) -> tuple[Session | None, str | None]:
    """The session of the cookie whose key hashes to ``key_hash``, with its user and
    account, and None while it may serve a request at ``now``, else why not
    (``validate_session``'s reasons, or UNKNOWN with no session)."""
    return _presented_session(session_cache.BROWSER, key_hash, browser_session_row, now)


def api_session(session_id: uuid.UUID, now: datetime) -> tuple[Session | None, str | None]:
    """The API session ``session_id``, as ``browser_session`` answers for a cookie."""
    return _presented_session(session_cache.API, str(session_id), api_session_row, now)


def _presented_session(
    kind: str, ident: str, read_row: Callable[[str], Session | None], now: datetime
) -> tuple[Session | None, str | None]:
    cached, ticket = session_cache.read(kind, ident)
    # The cache may only say yes, and only to a session it shows inside both
    # limits. Its last_seen_at can lag another process's write, so a session it
    # shows idle is judged (and, if really idle, ended) by the row.
    if cached is not None and expiry_reason(cached, now) is None and cached.user.is_active:
        return cached, None
    row = read_row(ident)
    if row is None:
        return None, UNKNOWN
    failure = validate_session(row, now)
    if failure is None:
        session_cache.fill(ticket, row)
    return row, failure


def record_activity(session: Session, now: datetime, *, force: bool = False) -> bool:
    """Bump ``last_seen_at``, but write at most once per SESSION_ACTIVITY_WRITE_SECONDS.

    True when a write happened. Idle expiry is therefore measured with up to
    that much slack, which keeps a read-only page a read-only request.

    ``force`` writes inside that interval too: "Stay signed in" promises a whole
    idle period from the click, not from up to a minute before it."""
    interval = timedelta(seconds=0 if force else settings.SESSION_ACTIVITY_WRITE_SECONDS)
    if now - session.last_seen_at < interval:
        return False
    # The condition is repeated in the UPDATE: of concurrent requests that all
    # saw a stale copy, only the first writes, and none moves the time back. A
    # revoked row is never written: it stays as it ended.
    written = Session.objects.filter(
        pk=session.pk, revoked_at__isnull=True, last_seen_at__lte=now - interval
    ).update(last_seen_at=now)
    session.last_seen_at = now
    session_cache.activity_recorded(session, written=bool(written))
    return bool(written)
