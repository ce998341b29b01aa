"""What the sessions app does when other apps signal: a sign-in, a password change, a
user or an account saved or deleted."""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.emails import send_security_email
from accounts.models import Account, User
from accounts.signals import PasswordChangeOrigin
from audit import events
from sessions import cache as session_cache
from sessions.lifecycle import end_sessions_if_access_ends
from sessions.models import RevokedReason, Session
from sessions.store import SessionStore


def write_session_at_sign_in(
    sender: type, request: HttpRequest, user: User, **kwargs: Any
) -> None:
    """Insert the browser's Session row as soon as ``auth.login`` has signed the user in.

    Without this the row would appear only when the response is sent, after
    every other ``user_logged_in`` receiver has run; with it, they can link
    what they record to ``request.session.row``."""
    session = getattr(request, "session", None)
    # An API sign-in arrives here too, with the visitor's empty cookie store.
    if isinstance(session, SessionStore) and session.row is None and SESSION_KEY in session:
        session.open_row(user)


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
        actor=(origin.actor or user) if origin is not None else None,
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


def forget_cached_sessions_of_user(
    sender: type,
    instance: User,
    created: bool = False,
    update_fields: Iterable[str] | None = None,
    **kwargs: Any,
) -> None:
    """The session cache holds each session's user (name, role, account, whether active):
    once a change to those commits, every process reads them again. A deactivated
    user's next request therefore reaches the row, and ``validate_session`` revokes it."""
    if created or not session_cache.enabled():
        return
    if update_fields is not None and session_cache.CACHED_USER_FIELDS.isdisjoint(update_fields):
        return  # last_login at sign-in, a password hash upgrade: nothing cached changed
    user_id = instance.pk
    # Looked up after the commit: a session signed in while the change was being
    # made is found as well.
    transaction.on_commit(
        lambda: session_cache.forget(
            Session.objects.filter(user_id=user_id, revoked_at__isnull=True).values_list(
                "pk", "key_hash"
            )
        ),
        robust=True,
    )


def forget_cached_sessions_of_deleted_user(sender: type, instance: User, **kwargs: Any) -> None:
    """A deleted user's sessions go with it (CASCADE); their cache entries must too.
    Read before the rows are deleted, invalidated once the deletion commits."""
    if session_cache.enabled():
        session_cache.forget(
            Session.objects.filter(user_id=instance.pk, revoked_at__isnull=True).values_list(
                "pk", "key_hash"
            )
        )


def forget_cached_sessions_of_account(
    sender: type, instance: Account, update_fields: Iterable[str] | None = None, **kwargs: Any
) -> None:
    """An account's name is cached with its users' sessions; its session policy is not
    (sessions keep the limits they signed in with, and "apply now" invalidates them
    itself), so a policy change leaves the cache alone."""
    if not session_cache.enabled() or kwargs.get("created"):
        return
    if update_fields is not None and "name" not in update_fields:
        return
    account_id = instance.pk
    transaction.on_commit(
        lambda: session_cache.forget(
            Session.objects.filter(account_id=account_id, revoked_at__isnull=True).values_list(
                "pk", "key_hash"
            )
        ),
        robust=True,
    )


def end_sessions_when_access_ends(
    sender: type, instance: User, update_fields: Any = None, **kwargs: Any
) -> None:
    """A user deactivated, or moved to another account, is signed out everywhere
    before the change is stored, whichever code saves it; by whom and from where if
    the code that saves it says so (the admin: ``access_change_origin``)."""
    if instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and not {"is_active", "account"} & set(update_fields):
        return
    origin = getattr(instance, "access_change_origin", None)
    end_sessions_if_access_ends(
        user=instance,
        now=timezone.now(),
        actor=origin.actor if origin is not None else None,
        ip=origin.ip if origin is not None else None,
    )
