"""The session-expiry policy in force for an account: its overrides, or the system defaults."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

from accounts.models import Account


@dataclass(frozen=True)
class SessionPolicy:
    idle_minutes: int
    absolute_minutes: int

    @property
    def idle_timeout(self) -> timedelta:
        return timedelta(minutes=self.idle_minutes)

    @property
    def absolute_lifetime(self) -> timedelta:
        return timedelta(minutes=self.absolute_minutes)


def effective_policy(account: Account | None) -> SessionPolicy:
    """The limits a session started now for a member of ``account`` gets."""
    idle = account.session_idle_minutes if account else None
    absolute = account.session_absolute_minutes if account else None
    return SessionPolicy(
        idle_minutes=idle or settings.SESSION_IDLE_MINUTES_DEFAULT,
        absolute_minutes=absolute or settings.SESSION_ABSOLUTE_MINUTES_DEFAULT,
    )
