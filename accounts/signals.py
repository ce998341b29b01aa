"""Signals the accounts app sends; apps above it (sessions, audit) receive them."""

from dataclasses import dataclass
from typing import Any

from django.dispatch import Signal

# Sent by User.save() once a changed password is stored, whatever changed it (the
# security page, the API, the admin, manage.py changepassword, a shell).
# Arguments: ``user`` and ``origin`` (a PasswordChangeOrigin, or None).
password_changed = Signal()


@dataclass(frozen=True)
class AccessChangeOrigin:
    """Who deactivated a user or moved them to another account, and from where: set on
    the user before it is saved (``access_change_origin``), for the audit row of the
    sessions the save ends."""

    actor: Any
    ip: str | None


@dataclass
class PasswordChangeOrigin:
    """Where a password change was made, when a signed-in session made it.

    ``session`` (a sessions.Session, or None) stays signed in while every other
    session of the user ends; ``actor`` is who changed it when that is not the user
    (an owner in the admin); the receiver that ends them fills in ``revoked_count``."""

    session: Any
    ip: str | None
    actor: Any = None
    revoked_count: int = 0
