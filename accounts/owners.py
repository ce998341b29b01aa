"""What an account owner does to the whole account: set its session policy, and
change who may sign in to it.

Called by the owner page, the API and the admin, so each change is validated by
the same rule and audited the same way."""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Account, User
from accounts.policy import SessionPolicy, effective_policy, validate_overrides
from audit import events
from sessions.lifecycle import apply_policy_to_live_sessions, count_ended_by_policy

# For an override the caller leaves as it is (a partial API update): read under the
# same row lock as the change, so two partial updates at once cannot undo each other.
UNCHANGED: Any = object()


@dataclass(frozen=True)
class PolicyChange:
    policy: SessionPolicy
    ended: int  # sessions ended by applying the new limits now (0 unless asked)


def preview_policy(
    *, account: Account, idle_minutes: int | None, absolute_minutes: int | None
) -> int:
    """How many signed-in sessions applying these overrides now would end
    (ValidationError if they are not allowed)."""
    policy = validate_overrides(idle_minutes=idle_minutes, absolute_minutes=absolute_minutes)
    return count_ended_by_policy(account=account, policy=policy, now=timezone.now())


@transaction.atomic
def update_session_policy(
    *,
    account: Account,
    idle_minutes: int | None = UNCHANGED,
    absolute_minutes: int | None = UNCHANGED,
    actor: User | None,
    ip: str | None,
    apply_now: bool = False,
) -> PolicyChange:
    """Set ``account``'s overrides (None: the system default), or ValidationError.

    New sessions get the new limits; with ``apply_now`` the signed-in ones do too,
    and those already past them end. One ``account.session_policy_update`` audit
    row with the old, new and effective values."""
    # Two owners saving at once: each audit row's "old" is what the other left.
    stored = Account.objects.select_for_update().get(pk=account.pk)
    old = {
        "idle_minutes": stored.session_idle_minutes,
        "absolute_minutes": stored.session_absolute_minutes,
    }
    if idle_minutes is UNCHANGED:
        idle_minutes = stored.session_idle_minutes
    if absolute_minutes is UNCHANGED:
        absolute_minutes = stored.session_absolute_minutes
    policy = validate_overrides(idle_minutes=idle_minutes, absolute_minutes=absolute_minutes)
    if (
        old == {"idle_minutes": idle_minutes, "absolute_minutes": absolute_minutes}
        and not apply_now
    ):
        return PolicyChange(policy=policy, ended=0)  # nothing changed, nothing to audit
    old_effective = effective_policy(stored)
    account.session_idle_minutes = idle_minutes
    account.session_absolute_minutes = absolute_minutes
    account.save(update_fields=["session_idle_minutes", "session_absolute_minutes"])
    ended = 0
    if apply_now:
        ended = apply_policy_to_live_sessions(account=account, policy=policy, now=timezone.now())
    events.record(
        "account.session_policy_update",
        user=None,
        actor=actor,
        account=account,
        target=f"account:{account.pk}",
        details={
            "old": old,
            "new": {"idle_minutes": idle_minutes, "absolute_minutes": absolute_minutes},
            "effective_before": {
                "idle_minutes": old_effective.idle_minutes,
                "absolute_minutes": old_effective.absolute_minutes,
            },
            "effective": {
                "idle_minutes": policy.idle_minutes,
                "absolute_minutes": policy.absolute_minutes,
            },
            "applied_now": apply_now,
            "sessions_ended": ended,
        },
        ip=ip,
    )
    return PolicyChange(policy=policy, ended=ended)


# What an admin may change of who a person is, as read before the change.
ACCESS_FIELDS = ("is_active", "role", "account_id")


def access_of(user: User) -> dict[str, Any]:
    """``user``'s access as stored, before a change to it is saved."""
    return User._base_manager.filter(pk=user.pk).values(*ACCESS_FIELDS).get()


def record_access_change(
    *, user: User, before: dict[str, Any], actor: User, ip: str | None
) -> None:
    """One audit row for each change to ``user``'s access since ``before``: deactivated
    or reactivated, made owner or member, moved to another account (a row in each
    account's trail, since each one's owners see only their own). Ending the user's
    sessions, which a deactivation or a move does, writes rows of its own."""
    target = f"user:{user.pk}"
    if before["is_active"] != user.is_active:
        action = "user.reactivated" if user.is_active else "user.deactivated"
        events.record(action, user=user, actor=actor, target=target, ip=ip)
    if before["role"] != user.role:
        events.record(
            "user.role_changed",
            user=user,
            actor=actor,
            target=target,
            details={"old": before["role"], "new": user.role},
            ip=ip,
        )
    if before["account_id"] != user.account_id:
        moved = {"old": before["account_id"], "new": user.account_id}
        for account_id in {before["account_id"], user.account_id} - {None}:
            events.record(
                "user.account_changed",
                user=user,
                actor=actor,
                account=Account(pk=account_id),
                target=target,
                details=moved,
                ip=ip,
            )
