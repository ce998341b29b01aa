"""Starting sessions and ending several at once: the workflows every channel shares."""

import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.policy import effective_policy
from audit import events
from sessions.client import ClientInfo
from sessions.models import Session


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
        ip=client.ip,
        user_agent=client.user_agent,
        device=client.device,
        created_at=now,
        last_seen_at=now,
        idle_timeout=policy.idle_timeout,
        expire_date=now + policy.absolute_lifetime,
    )


def live_sessions_for_user(user: User, now: datetime) -> list[Session]:
    """The user's sessions that can still serve a request, most recently active first."""
    return list(Session.objects.for_user(user).live(now).order_by("-last_seen_at"))


def live_session_of(user: User, session_id: object, now: datetime) -> Session | None:
    """The user's own live session with this id, or None: another user's id (any
    tenant) is indistinguishable from one that does not exist (no existence oracle)."""
    try:
        pk = uuid.UUID(str(session_id))
    except ValueError:
        return None
    return Session.objects.for_user(user).live(now).select_related("user").filter(pk=pk).first()


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
