"""The session-expiry policy in force for an account: its overrides, or the system
defaults, and the one rule that says which overrides are allowed (SPEC §4)."""

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError

if TYPE_CHECKING:
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


@dataclass(frozen=True)
class Bounds:
    idle_min: int
    idle_max: int
    absolute_min: int
    absolute_max: int
    idle_default: int
    absolute_default: int


def bounds() -> Bounds:
    """The system's limits and defaults, from the environment (settings)."""
    return Bounds(
        idle_min=settings.SESSION_IDLE_MINUTES_MIN,
        idle_max=settings.SESSION_IDLE_MINUTES_MAX,
        absolute_min=settings.SESSION_ABSOLUTE_MINUTES_MIN,
        absolute_max=settings.SESSION_ABSOLUTE_MINUTES_MAX,
        idle_default=settings.SESSION_IDLE_MINUTES_DEFAULT,
        absolute_default=settings.SESSION_ABSOLUTE_MINUTES_DEFAULT,
    )


# Presets on the owner page: Strict, Standard (no overrides: the system defaults).
PRESETS: dict[str, tuple[int | None, int | None]] = {
    "strict": (15, 480),
    "standard": (None, None),
}


def resolve(idle_minutes: int | None, absolute_minutes: int | None) -> SessionPolicy:
    """The limits in force for these overrides (None: the system default)."""
    return SessionPolicy(
        idle_minutes=settings.SESSION_IDLE_MINUTES_DEFAULT
        if idle_minutes is None
        else idle_minutes,
        absolute_minutes=(
            settings.SESSION_ABSOLUTE_MINUTES_DEFAULT
            if absolute_minutes is None
            else absolute_minutes
        ),
    )


def effective_policy(account: "Account | None") -> SessionPolicy:
    """The limits a session started now for a member of ``account`` gets."""
    if account is None:
        return resolve(None, None)
    return resolve(account.session_idle_minutes, account.session_absolute_minutes)


def out_of_bounds(
    *, idle_minutes: int | None, absolute_minutes: int | None
) -> dict[str, ValidationError]:
    """The overrides outside the system's bounds, keyed by field, each error saying
    what to choose; empty when both are within them (None is no override)."""
    limits = bounds()
    errors: dict[str, ValidationError] = {}
    if idle_minutes is not None and not limits.idle_min <= idle_minutes <= limits.idle_max:
        errors["idle_minutes"] = ValidationError(
            f"Choose an idle limit from {limits.idle_min} to {limits.idle_max} minutes.",
            code="out_of_bounds",
        )
    if absolute_minutes is not None and not (
        limits.absolute_min <= absolute_minutes <= limits.absolute_max
    ):
        errors["absolute_minutes"] = ValidationError(
            f"Choose an absolute limit from {limits.absolute_min} to "
            f"{limits.absolute_max} minutes.",
            code="out_of_bounds",
        )
    return errors


def validate_overrides(*, idle_minutes: int | None, absolute_minutes: int | None) -> SessionPolicy:
    """The effective policy for these overrides, or ValidationError keyed by
    ``idle_minutes`` / ``absolute_minutes`` saying what to change.

    The one rule for the owner page, the API and the admin: each override within
    the system's bounds, and the *effective* idle limit no longer than the
    effective absolute one (so idle=43200 with absolute left at its default of
    10080 is refused, though neither value is out of bounds)."""
    errors = out_of_bounds(idle_minutes=idle_minutes, absolute_minutes=absolute_minutes)
    if errors:
        raise ValidationError(errors)
    policy = resolve(idle_minutes, absolute_minutes)
    if policy.idle_minutes > policy.absolute_minutes:
        # Blame the value the owner set; if both are set, the idle one.
        field = "idle_minutes" if idle_minutes is not None else "absolute_minutes"
        message = (
            f"The idle limit ({policy.idle_minutes} minutes) cannot be longer than "
            f"the absolute limit ({policy.absolute_minutes} minutes): a session "
            "cannot stay idle longer than it may live."
        )
        raise ValidationError({field: ValidationError(message, code="idle_exceeds_absolute")})
    return policy
