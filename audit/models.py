from django.conf import settings
from django.db import models
from django.utils import timezone

from securityportal.client import ClientColumns


def _owner_key(to: str, **options: str) -> models.ForeignKey:
    """Whose row it is (a user's or an account's); the row outlives them, the key
    emptied. No index of its own: the model's index of an owner's rows newest first
    leads with it (as Session.account)."""
    return models.ForeignKey(
        to,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        **options,
    )


class AuditEvent(models.Model):
    """One security action: who did what to whom, when and from where.

    ``details`` holds facts about the action (reasons, counts, old and new values);
    never a password, session key or token."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who acted; empty when the system did (expiry, replay detection).",
    )
    user = _owner_key(settings.AUTH_USER_MODEL, help_text="Whose security the event concerns.")
    account = _owner_key("accounts.Account")
    action = models.CharField(max_length=64)
    target = models.CharField(max_length=100, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-created_at"], name="audit_user_time"),
            # The account's trail in the admin's order, the id breaking ties: a page
            # and its capped count read index entries only, never sorting the trail.
            models.Index(fields=["account", "-created_at", "-id"], name="audit_account_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target}".strip()


class LoginEvent(ClientColumns):
    """One sign-in attempt, browser or API, successful or not, known user or not.

    ``username`` is the identifier as typed (so attempts on unknown names are
    visible to an operator); a password is never recorded. ``device_key`` is a
    keyed hash that recognises a device seen before, never the device cookie or
    any other value a client could replay."""

    class Channel(models.TextChoices):
        BROWSER = "browser", "Browser"
        API = "api", "API"

    class FailureReason(models.TextChoices):
        BAD_CREDENTIALS = "bad_credentials", "Wrong username or password"
        LOCKED_OUT = "locked_out", "Too many failed attempts"
        INACTIVE = "inactive", "User deactivated"
        RATE_LIMITED = "rate_limited", "Too many attempts from this network"

    user = _owner_key(settings.AUTH_USER_MODEL)
    account = _owner_key("accounts.Account")
    username = models.CharField(max_length=254)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    success = models.BooleanField()
    failure_reason = models.CharField(max_length=20, choices=FailureReason.choices, blank=True)
    new_device = models.BooleanField(default=False)
    device_key = models.CharField(max_length=64, blank=True, editable=False)
    session = models.ForeignKey(
        "user_sessions.Session",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # "This user's sign-ins, newest first", read a page at a time by keyset.
            models.Index(fields=["user", "-created_at", "-id"], name="login_user_time"),
            models.Index(fields=["account", "-created_at", "-id"], name="login_account_time"),
            # "Has this user signed in from this device before?"
            models.Index(
                fields=["user", "device_key"],
                condition=models.Q(success=True),
                name="login_user_device",
            ),
            # The retention purge deletes oldest first.
            models.Index(fields=["created_at"], name="login_created_at"),
        ]

    def __str__(self) -> str:
        outcome = "succeeded" if self.success else f"failed ({self.failure_reason})"
        return f"sign-in as {self.username} {outcome}"
