"""Starting sessions and ending several at once: the workflows every channel shares."""

import uuid
from datetime import datetime

from django.db import models, transaction
from django.utils import timezone

from accounts.models import Account, User
from accounts.policy import SessionPolicy, effective_policy
from audit import devices, events
from securityportal.client import ClientInfo
from securityportal.compiled import SENTINEL_ID, SENTINEL_TIME, CompiledQuery
from sessions import cache as session_cache
from sessions.models import RevokedReason, Session, SessionQuerySet


class CredentialsChanged(Exception):
    """The password a sign-in checked was changed, or its user deactivated, before
    its session was opened."""


@transaction.atomic
def open_session(
    *,
    user: User,
    kind: str,
    client: ClientInfo,
    now: datetime,
    key_hash: str | None = None,
    data: str = "",
) -> Session:
    """Insert the row for a new sign-in of ``user`` (as the sign-in read it, password
    hash included), snapshotting the account's limits as of now; CredentialsChanged
    if the password changed since, or the user was deactivated.

    A sign-in reads the user, then hashes the password for a while (Argon2), then
    opens the session. A password change, a move to another account or an owner's
    "apply now" committing in between would not see the session, and it would
    outlive them: a thief's sign-in in flight surviving the victim's password change.
    So the user's row is locked and read again here (FOR NO KEY UPDATE, which a
    password change's UPDATE waits for, and which waits for it), and the account's
    under the same lock, which the policy change's FOR UPDATE conflicts with: a
    change either committed first and is seen here, or waits and then sees the row."""
    stored = (
        User._base_manager.select_for_update(no_key=True)
        .filter(pk=user.pk)
        .values_list("password", "is_active", "account_id", named=True)
        .get()
    )
    # A deactivation that committed meanwhile refuses the sign-in as a password
    # change does: its sessions have just been ended, and this one would outlive it.
    if stored.password != user.password or not stored.is_active:
        raise CredentialsChanged
    account = (
        None
        if stored.account_id is None
        else Account.objects.select_for_update(no_key=True).get(pk=stored.account_id)
    )
    policy = effective_policy(account)
    return Session.objects.create(
        user=user,
        account_id=stored.account_id,
        kind=kind,
        key_hash=key_hash,
        session_data=data,
        **Session.columns_for(client),
        created_at=now,
        last_seen_at=now,
        idle_timeout=policy.idle_timeout,
        expire_date=now + policy.absolute_lifetime,
    )


@transaction.atomic
def end_sessions_if_access_ends(
    *, user: User, now: datetime, actor: User | None = None, ip: str | None = None
) -> int:
    """End every session of ``user`` (reason ``admin``) if the change about to be
    saved deactivates them or moves them to another account; how many it ended.

    A deactivated user's sessions must not stay live until their next request, and a
    moved user's must not stay in the old account, visible to and counted by its
    owners. The ``session.revoked`` row goes to the trail of the account the sessions
    were in, whose owners see it.

    The user's row is locked first, then the sessions' account, in open_session's
    order (FOR NO KEY UPDATE both). A sign-in that already holds the user commits
    its session before this reads them, so that session is ended too; one that
    comes later waits for the change, when the save is in the same transaction (the
    admin's is), and is then refused. An owner's policy change, which locks the
    account first (and "apply now" then the sessions), is waited for instead of
    deadlocked with."""
    before = (
        User._base_manager.select_for_update(no_key=True)
        .filter(pk=user.pk)
        .values("is_active", "account_id")
        .first()
    )
    if before is None:
        return 0
    deactivated = before["is_active"] and not user.is_active
    moved = before["account_id"] != user.account_id
    if not (deactivated or moved):
        return 0
    if before["account_id"] is not None:
        list(
            Account.objects.select_for_update(no_key=True)
            .filter(pk=before["account_id"])
            .values_list("pk", flat=True)
        )
    count = Session.objects.for_user(user).end(reason=RevokedReason.ADMIN, now=now)
    if count:
        events.record(
            "session.revoked",
            user=user,
            actor=actor,
            account=None if before["account_id"] is None else Account(pk=before["account_id"]),
            target=f"user:{user.pk}",
            details={
                "reason": RevokedReason.ADMIN,
                "scope": "deactivated" if deactivated else "moved_account",
                "count": count,
            },
            ip=ip,
        )
    return count


# Every view of the sessions card and of GET /api/auth/sessions runs it.
_LIVE_FOR_USER = CompiledQuery(
    Session,
    lambda user_id, now: (
        Session.objects.filter(user_id=user_id).live(now).order_by("-last_seen_at", "-id")
    ),
    user_id=("user", SENTINEL_ID),
    now=("expire_date", SENTINEL_TIME),
)


def live_sessions_for_user(user: User, now: datetime) -> list[Session]:
    """The user's sessions that can still serve a request, most recently active first."""
    return _LIVE_FOR_USER.rows(user_id=user.pk, now=now)


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
def disown_session(*, session: Session, ip: str | None, now: datetime) -> bool:
    """The "This wasn't me" link: end ``session`` as its user's action, forget the
    device it signed in from (``audit.devices.forget_device_of``) and end the other
    sessions that device signed in (a second sign-in from a device already known
    sent no e-mail, so no link of its own). False if ``session`` had ended already
    (one winner, one audit row)."""
    if not session.revoke(reason=RevokedReason.USER, actor=session.user, ip=ip):
        return False
    same_device = devices.forget_device_of(session.pk, session.user_id)
    for other in Session.objects.for_user(session.user).live(now).filter(pk__in=same_device):
        other.revoke(reason=RevokedReason.USER, actor=session.user, ip=ip)
    return True


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


class Scope:
    """Whom an owner's "sign out everyone" ends."""

    OTHERS = "others"  # every session of the account but the owner's current one
    ALL = "all"  # the owner's current session too
    CHOICES = (OTHERS, ALL)


def live_sessions_of_account(account: Account, now: datetime) -> SessionQuerySet:
    return Session.objects.filter(account=account).live(now)


@transaction.atomic
def revoke_account_sessions(
    *, account: Account, scope: str, keep: Session | None, actor: User, ip: str | None
) -> int:
    """End every live session of ``account`` (``Scope.ALL``), or all but ``keep``
    (``Scope.OTHERS``), in one UPDATE; one audit row with the count. Refresh tokens
    of those sessions stop working at once (they are valid only with a live session)."""
    if scope not in Scope.CHOICES or (scope == Scope.OTHERS and keep is None):
        raise ValueError(f"scope must be one of {Scope.CHOICES}, and 'others' needs keep")
    now = timezone.now()
    sessions = live_sessions_of_account(account, now)
    if scope == Scope.OTHERS:
        sessions = sessions.exclude(pk=keep.pk)
    count = sessions.end(reason=RevokedReason.OWNER_BULK, now=now)
    events.record(
        "account.sessions_revoked_bulk",
        user=None,
        actor=actor,
        account=account,
        target=f"account:{account.pk}",
        details={"scope": scope, "count": count},
        ip=ip,
    )
    return count


def _past(policy: SessionPolicy, now: datetime) -> tuple[models.Q, models.Q]:
    """Which live sessions the limits of ``policy`` would have ended by ``now``: as
    ``expiry_reason`` judges them, the idle limit serving its very instant."""
    past_absolute = models.Q(created_at__lte=now - policy.absolute_lifetime)
    past_idle = models.Q(last_seen_at__lt=now - policy.idle_timeout)
    return past_absolute, past_idle


def count_ended_by_policy(*, account: Account, policy: SessionPolicy, now: datetime) -> int:
    """How many live sessions of ``account`` applying ``policy`` now would end."""
    past_absolute, past_idle = _past(policy, now)
    return live_sessions_of_account(account, now).filter(past_absolute | past_idle).count()


@transaction.atomic
def apply_policy_to_live_sessions(
    *, account: Account, policy: SessionPolicy, now: datetime
) -> int:
    """Give every live session of ``account`` the limits of ``policy``, as if it had
    signed in under them, in one UPDATE; sessions already past a new limit end with
    the matching expiry reason. How many ended."""
    past_absolute, past_idle = _past(policy, now)
    sessions = live_sessions_of_account(account, now)
    # Locked while counted, so the number reported is the number this UPDATE ends
    # (a revoke racing it waits).
    ended = len(sessions.filter(past_absolute | past_idle).select_for_update().values_list("pk"))
    sessions.update(
        idle_timeout=policy.idle_timeout,
        expire_date=models.ExpressionWrapper(
            models.F("created_at") + models.Value(policy.absolute_lifetime),
            output_field=models.DateTimeField(),
        ),
        revoked_at=models.Case(
            models.When(past_absolute | past_idle, then=models.Value(now)),
            default=None,
            output_field=models.DateTimeField(),
        ),
        revoked_reason=models.Case(
            models.When(past_absolute, then=models.Value(RevokedReason.EXPIRED_ABSOLUTE)),
            models.When(past_idle, then=models.Value(RevokedReason.EXPIRED_IDLE)),
            default=models.Value(""),
            output_field=models.CharField(),
        ),
        session_data=models.Case(
            models.When(past_absolute | past_idle, then=models.Value("")),
            default=models.F("session_data"),
            output_field=models.TextField(),
        ),
    )
    # Every live session's limits changed, and some ended: no process may go on
    # judging them by the limits it cached.
    if session_cache.enabled():
        changed = Session.objects.filter(account=account).filter(
            models.Q(revoked_at__isnull=True) | models.Q(revoked_at=now)
        )
        session_cache.forget(changed.values_list("pk", "key_hash"))
    return ended
