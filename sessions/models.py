import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models, transaction
from django.utils import timezone

from accounts.models import User
from audit import events
from securityportal.client import ClientColumns


class RevokedReason(models.TextChoices):
    LOGOUT = "logout", "Signed out"
    USER = "user", "Signed out by the user"
    PASSWORD_CHANGE = "password_change", "Password changed"
    OWNER_BULK = "owner_bulk", "Signed out by an account owner"
    ADMIN = "admin", "Signed out by an administrator"
    REFRESH_REUSE = "refresh_reuse", "Refresh token replayed"
    EXPIRED_IDLE = "expired_idle", "Idle too long"
    EXPIRED_ABSOLUTE = "expired_absolute", "Reached its maximum age"


EXPIRY_REASONS = frozenset({RevokedReason.EXPIRED_IDLE, RevokedReason.EXPIRED_ABSOLUTE})


def _idle_deadline() -> models.Expression:
    return models.ExpressionWrapper(
        models.F("last_seen_at") + models.F("idle_timeout"),
        output_field=models.DateTimeField(),
    )


class SessionQuerySet(models.QuerySet):
    def live(self, now: datetime) -> "SessionQuerySet":
        """Sessions that can still serve a request at ``now``: not ended, before
        their absolute expiry and within their idle limit (the same limits as
        ``validate_session``, for rows not yet presented since they lapsed)."""
        return (
            self.filter(revoked_at__isnull=True, expire_date__gt=now)
            .alias(idle_deadline=_idle_deadline())
            .filter(idle_deadline__gte=now)
        )

    def ended(self, now: datetime) -> "SessionQuerySet":
        """Every session ``live`` leaves out: revoked, or past a limit at ``now``."""
        return self.alias(idle_deadline=_idle_deadline()).filter(
            models.Q(revoked_at__isnull=False)
            | models.Q(expire_date__lte=now)
            | models.Q(idle_deadline__lt=now)
        )

    def for_user(self, user: User) -> "SessionQuerySet":
        return self.filter(user=user)

    def end(self, *, reason: str, now: datetime | None = None) -> int:
        """Mark every unended row in the set ended for ``reason``; how many were.

        One UPDATE however many rows; with the session cache on, the rows it ended
        are then found by their end (``revoked_at`` and reason, indexed) in the same
        transaction, and their cache entries invalidated when it commits."""
        from sessions import cache as session_cache

        now = now or timezone.now()
        count = self._mark_ended(reason=reason, now=now)
        if count and session_cache.enabled():
            # Rows another action ended with the same reason in the same microsecond
            # are ended too: invalidating them as well is harmless.
            session_cache.forget(
                Session.objects.filter(revoked_at=now, revoked_reason=reason).values_list(
                    "pk", "key_hash"
                )
            )
        return count

    def _mark_ended(self, *, reason: str, now: datetime) -> int:
        return self.filter(revoked_at__isnull=True).update(
            revoked_at=now, revoked_reason=reason, session_data=""
        )


class Session(ClientColumns, AbstractBaseSession):
    """One sign-in, by a browser or an API client, from creation until revoked or expired.

    The browser's cookie key is stored only as its SHA-256 (``key_hash``): a
    leaked database backup holds no usable session. ``expire_date`` is the
    absolute expiry; it and ``idle_timeout`` are snapshotted at sign-in, so a
    policy change applies to the next sign-in."""

    class Kind(models.TextChoices):
        BROWSER = "browser", "Browser"
        API = "api", "API"

    # AbstractBaseSession's primary key is the raw cookie key; ours is a public
    # id that can be shown, linked and put in a token's "sid" claim.
    session_key = None
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # NULL for API sessions, which have no cookie: NULLs never collide in the
    # unique index, where empty strings would.
    key_hash = models.CharField(  # noqa: DJ001
        max_length=64, unique=True, null=True, editable=False
    )
    session_data = models.TextField(blank=True, default="")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="security_sessions"
    )
    # Denormalised from user.account so an owner's bulk operations touch one index.
    # No index of its own: session_account_recent leads with it and serves every
    # lookup by account. A second, narrower one costs every insert, and a plan made
    # once for any account (a prepared statement's generic plan) picked it, reading
    # and sorting all of a large account's sessions to count up to a cap.
    account = models.ForeignKey(
        "accounts.Account",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    idle_timeout = models.DurationField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=20, choices=RevokedReason.choices, blank=True)

    objects = SessionQuerySet.as_manager()

    class Meta(AbstractBaseSession.Meta):
        indexes = [
            # The session list (per user) and the owner's "who is signed in" (per
            # account) read only unrevoked rows, newest activity first.
            models.Index(
                fields=["user", "-last_seen_at"],
                condition=models.Q(revoked_at__isnull=True),
                name="session_user_live",
            ),
            models.Index(
                fields=["account", "-last_seen_at"],
                condition=models.Q(revoked_at__isnull=True),
                name="session_account_live",
            ),
            models.Index(fields=["revoked_at"], name="session_revoked_at"),
            # The admin's list of an account's sessions, live or ended, in its order
            # (most recent activity first, the id breaking ties): a page of it reads
            # a hundred index entries instead of sorting every session of the account.
            models.Index(
                fields=["account", "-last_seen_at", "-id"], name="session_account_recent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} session {self.pk}"

    @classmethod
    def get_session_store_class(cls) -> type:
        from sessions.store import SessionStore

        return SessionStore

    @property
    def idle_expires_at(self) -> datetime:
        return self.last_seen_at + self.idle_timeout

    @property
    def absolute_expires_at(self) -> datetime:
        return self.expire_date

    def end(self, *, reason: str, now: datetime | None = None) -> bool:
        """Mark the row ended unless it already is. True when this call ended it.

        The conditional UPDATE makes concurrent ends (two tabs, a revoke racing
        an expiry) settle on exactly one winner and one reason."""
        from sessions import cache as session_cache

        now = now or timezone.now()
        ended = Session.objects.filter(pk=self.pk)._mark_ended(reason=reason, now=now)
        if ended:
            self.revoked_at, self.revoked_reason, self.session_data = now, reason, ""
            # Every process refuses it on its next request, not when its entry expires.
            session_cache.forget_row(self.pk, self.key_hash)
        return bool(ended)

    @transaction.atomic
    def revoke(self, *, reason: str, actor: User | None, ip: str | None = None) -> bool:
        """End this session for ``reason`` and audit it. Every channel (page, API,
        admin, replay detection) revokes through here. True when it was live."""
        if not self.end(reason=reason):
            return False
        events.record(
            "session.revoked",
            user=self.user,
            actor=actor,
            target=f"session:{self.pk}",
            details={"reason": reason, "kind": self.kind, "device": self.device},
            ip=ip,
        )
        return True


class RefreshToken(models.Model):
    """One refresh token of an API session, stored only as its SHA-256.

    It expires with its session (``session.expire_date``): validating the
    session is validating the token's lifetime, so no second date is kept."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="refresh_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    issued_at = models.DateTimeField()
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token of {self.session_id}"

    def in_grace(self, now: datetime, grace: timedelta) -> bool:
        return self.rotated_at is not None and now - self.rotated_at <= grace
