"""What the sessions app does when other apps signal: a sign-in, a password change."""

from typing import Any

from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest
from django.utils import timezone

from accounts.emails import send_security_email
from accounts.models import User
from accounts.signals import PasswordChangeOrigin
from audit import events
from sessions.models import RevokedReason, Session
from sessions.store import SessionStore


def write_session_at_sign_in(sender: type, request: HttpRequest, **kwargs: Any) -> None:
    """Insert the browser's Session row as soon as ``auth.login`` has signed the user in.

    Without this the row would appear only when the response is sent, after
    every other ``user_logged_in`` receiver has run; with it, they can link
    what they record to ``request.session.row``."""
    session = getattr(request, "session", None)
    # An API sign-in arrives here too, with the visitor's empty cookie store.
    if isinstance(session, SessionStore) and session.row is None and SESSION_KEY in session:
        session.save()


def end_sessions_on_password_change(
    sender: type, user: User, origin: PasswordChangeOrigin | None, **kwargs: Any
) -> None:
    """Whatever changed the password, every session of the user except the one that
    changed it ends (reason ``password_change``), browser and API alike, so a thief
    holding a stolen cookie or refresh token is out. Audited once; the user is told."""
    now = timezone.now()
    others = Session.objects.for_user(user).live(now)
    if origin is not None and origin.session is not None:
        others = others.exclude(pk=origin.session.pk)
    count = others.end(reason=RevokedReason.PASSWORD_CHANGE, now=now)
    if origin is not None:
        origin.revoked_count = count
    events.record(
        "password.changed",
        user=user,
        actor=user if origin is not None else None,
        target=f"user:{user.pk}",
        details={"revoked_count": count},
        ip=origin.ip if origin is not None else None,
    )
    send_security_email(
        user,
        subject="Your Security Portal password was changed",
        template="accounts/email/password_changed.txt",
        context={"changed_at": now, "ip": origin.ip if origin else None, "count": count},
    )
