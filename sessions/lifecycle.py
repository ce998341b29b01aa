"""Starting sessions and ending several at once: the workflows every channel shares."""

import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.policy import effective_policy
from audit import events
from securityportal.client import ClientInfo
from sessions.models import RevokedReason, Session


def open_session(
    *,
    user: User,
    kind: str,
    client: ClientInfo,
    now: datetime,
    key_hash: str | None = None,
    data: str = "",
) -> Session:
    """Insert the row for a new sign-in, snapshotting the account's limits as of now."""
    policy = effective_policy(user.account)
    return Session.objects.create(
        user=user,
        account_id=user.account_id,
        kind=kind,
        key_hash=key_hash,
        session_data=data,
        **Session.columns_for(client),
        created_at=now,
        last_seen_at=now,
        idle_timeout=policy.idle_timeout,
        expire_date=now + policy.absolute_lifetime,
    )


def live_sessions_for_user(user: User, now: datetime) -> list[Session]:
    """The user's sessions that can still serve a request, most recently active first."""
    return list(Session.objects.for_user(user).live(now).order_by("-last_seen_at"))


class NotRevocable(Exception):
    """Why ``revoke_own_session`` refused. ``code`` is NOT_FOUND (no such live session
    of this user: unknown, someone else's, or already ended) or CURRENT (the session
    making the request; it signs out instead)."""

    NOT_FOUND = "not_found"
    CURRENT = "current_session"

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@transaction.atomic
def revoke_own_session(
    *, user: User, session_id: uuid.UUID, current: Session | None, ip: str | None
) -> Session:
    """End one of ``user``'s own live sessions, other than ``current``; audited once.

    The page and the API both call this. Another user's id (any tenant) is
    refused exactly like one that does not exist (no existence oracle)."""
    session = (
        Session.objects.for_user(user)
        .live(timezone.now())
        .select_related("user")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        raise NotRevocable(NotRevocable.NOT_FOUND)
    if current is not None and session.pk == current.pk:
        raise NotRevocable(NotRevocable.CURRENT)
    # A second tab may have ended it since it was read: one winner, one audit row.
    if not session.revoke(reason=RevokedReason.USER, actor=user, ip=ip):
        raise NotRevocable(NotRevocable.NOT_FOUND)
    return session


@transaction.atomic
def revoke_other_sessions(
    *, user: User, keep: Session, reason: str, actor: User, ip: str | None = None
) -> int:
    """End every live session of ``user`` except ``keep``; one audit row for the batch.

    Sessions already past a limit keep their expiry and are not counted."""
    now = timezone.now()
    others = Session.objects.for_user(user).live(now).exclude(pk=keep.pk)
    count = others.end(reason=reason, now=now)
    if count:
        events.record(
            "session.revoked",
            user=user,
            actor=actor,
            target=f"user:{user.pk}",
            details={"reason": reason, "scope": "others", "count": count},
            ip=ip,
        )
    return count
