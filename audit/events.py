"""Writing the audit trail. Every security action calls ``record`` exactly once."""

from typing import Any

from accounts.models import Account, User
from audit.models import AuditEvent


def record(
    action: str,
    *,
    user: User | None,
    actor: User | None = None,
    account: Account | None = None,
    target: str = "",
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Write one AuditEvent. ``account`` defaults to the concerned user's account."""
    if account is not None:
        account_id = account.pk
    else:
        account_id = user.account_id if user is not None else None
    return AuditEvent.objects.create(
        action=action,
        user=user,
        actor=actor,
        account_id=account_id,
        target=target,
        details=details or {},
        ip=ip,
    )
